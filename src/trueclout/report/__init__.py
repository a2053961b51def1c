"""Reports: JSON and self-contained HTML pages with Plotly charts that work offline.

=============  =========================  ==========================================
module         input                      output
=============  =========================  ==========================================
html.py        an audit dict              one HTML file, Plotly's JS inlined
=============  =========================  ==========================================
"""

#: Public name -> the module that defines it.
_EXPORTS = {"render_audit_html": ".html", "influence_report": ".influence",
            "render_influence_html": ".influence", "account_influence": ".influence"}

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
