"""Reports: JSON and self-contained HTML pages with Plotly charts that work offline.

=============  =========================  ==========================================
module         input                      output
=============  =========================  ==========================================
html.py        an audit dict              one HTML file, Plotly's JS inlined
=============  =========================  ==========================================
"""

from ..exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {"render_audit_html": ".html", "influence_report": ".influence",
            "render_influence_html": ".influence", "account_influence": ".influence"}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
