"""The live stream: Bluesky Jetstream events into the store, and incremental re-scoring.

See ``README.md`` in this folder. Public names are imported on first use.

Examples
--------
>>> from trueclout.stream import parse_collections
>>> parse_collections("app.bsky.graph.follow,app.bsky.feed.like")
['app.bsky.graph.follow', 'app.bsky.feed.like']
"""

from ..exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "watch": ".jetstream",
    "parse_event": ".apply",
    "parse_collections": ".jetstream",
    "jetstream_url": ".jetstream",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
