"""The live stream: Bluesky Jetstream events into the store, and incremental re-scoring.

See ``README.md`` in this folder. Public names are imported on first use.

Examples
--------
>>> from trueclout.stream import parse_collections
>>> parse_collections("app.bsky.graph.follow,app.bsky.feed.like")
['app.bsky.graph.follow', 'app.bsky.feed.like']
"""

#: Public name -> the module that defines it.
_EXPORTS = {'watch': '.jetstream', 'parse_event': '.apply', 'parse_collections': '.jetstream', 'jetstream_url': '.jetstream'}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """The public names, imported on first use (so ``import trueclout`` stays quick)."""
    if name in _EXPORTS:
        import importlib
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
