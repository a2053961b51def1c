"""Self-contained HTML audit pages: one file, Plotly's JavaScript inlined, no network.

Examples
--------
>>> import tempfile, os
>>> from trueclout.report.html import render_audit_html, example_audit
>>> path = os.path.join(tempfile.mkdtemp(), "a.html")
>>> _ = render_audit_html(example_audit(), path)
>>> html = open(path, encoding="utf-8").read()
>>> "Audience Quality Score" in html, "<script src=" in html, len(html) > 1_000_000
(True, False, True)
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

_TEMPLATES = Path(__file__).parent / "templates"
_COLORS = {"real": "#2e7d32", "fake": "#c62828", "bot": "#6a1b9a", "mass_follower": "#ef6c00",
           "farm": "#ad1457", "inactive": "#78909c"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}%"


def audit_figures(a: dict) -> dict:
    """The Plotly figures of an audit page (composition, growth, ...) from an audit dict.

    Examples
    --------
    >>> "composition" in audit_figures(example_audit())
    True
    """
    comp = a["audience"]["composition"]
    cats = list(comp)
    composition = {
        "data": [{"type": "bar", "x": [c.replace("_", "-") for c in cats],
                  "y": [comp[c]["share"] * 100 for c in cats],
                  "marker": {"color": [_COLORS.get(c, "#546e7a") for c in cats]},
                  "error_y": {"type": "data", "symmetric": False,
                              "array": [(comp[c]["hi"] - comp[c]["share"]) * 100 for c in cats],
                              "arrayminus": [(comp[c]["share"] - comp[c]["lo"]) * 100
                                             for c in cats]}}],
        "layout": {"yaxis": {"title": {"text": "share of followers (%)"}},
                   "margin": {"t": 20}, "showlegend": False}}
    g = a["growth"]
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": p["start"], "x1": p["end"],
               "y0": 0, "y1": 1, "fillcolor": "#c62828", "opacity": 0.15, "line": {"width": 0}}
              for p in g["anomalous_periods"]]
    growth = {
        "data": [{"type": "scatter", "mode": "lines+markers", "x": g["series"]["time"],
                  "y": g["series"]["followers"], "name": "followers",
                  "line": {"color": "#1565c0"}}],
        "layout": {"yaxis": {"title": {"text": "followers"}}, "shapes": shapes,
                   "margin": {"t": 20}}}
    kinds = list(a["engagement"]["by_kind"])
    engagement = {
        "data": [
            {"type": "bar", "name": "authentic", "x": kinds,
             "y": [a["engagement"]["by_kind"][k]["total"]
                   * (1 - a["engagement"]["by_kind"][k]["suspicious_share"]) for k in kinds],
             "marker": {"color": "#2e7d32"}},
            {"type": "bar", "name": "from suspicious accounts", "x": kinds,
             "y": [a["engagement"]["by_kind"][k]["total"]
                   * a["engagement"]["by_kind"][k]["suspicious_share"] for k in kinds],
             "marker": {"color": "#c62828"}}],
        "layout": {"barmode": "stack", "yaxis": {"title": {"text": "interactions received"}},
                   "margin": {"t": 20}}}
    return {"composition": composition, "growth": growth, "engagement": engagement}


def render_audit_html(audit: dict, path: str | Path, *, aggregate_only: bool = False) -> Path:
    """Write ``audit`` (the dict of :func:`trueclout.audit.audit_account`) as one HTML page.

    The page is recorded in the report index beside the store named by
    ``audit["meta"]["db"]`` (:func:`trueclout.privacy.record_report`), so that
    ``trueclout forget`` finds it.

    Parameters
    ----------
    audit : dict
        An optional ``influence`` key (:func:`trueclout.report.influence.account_influence`)
        adds an "Influence" section: place by followers and by TrueRank, authentic reach.
    path : path
        Where to write; the folder is created if needed.
    aggregate_only : bool
        Leave out every per-account detail but the subject's id
        (:func:`trueclout.privacy.aggregate_only`).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, os
    >>> p = render_audit_html(example_audit(), os.path.join(tempfile.mkdtemp(), "x.html"))
    >>> p.suffix
    '.html'
    """
    from ..privacy import aggregate_only as _aggregate, record_report
    if aggregate_only:
        audit = _aggregate(audit)
    page = write_page("audit.html.j2", path, audit_figures(audit), helpers={"pct": _pct},
                      a=audit)
    record_report((audit.get("meta") or {}).get("db"), page, audit)
    return page


def write_page(template: str, path: str | Path, figures: dict, *,
               helpers: dict | None = None, **context) -> Path:
    """Render one of this package's templates into a self-contained page at ``path``.

    The template gets ``plotly_js`` (Plotly's JavaScript, inlined), ``figures`` (the
    Plotly figures as JSON, safe inside a ``<script>``), the ``helpers`` as globals and
    ``context`` as variables; autoescaped, and an undefined name is an error.

    Returns
    -------
    Path
        ``path``; its folder is created if needed.

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_page("audit.html.j2", os.path.join(tempfile.mkdtemp(), "a.html"),
    ...                audit_figures(example_audit()), helpers={"pct": _pct}, a=example_audit())
    >>> "Plotly.newPlot" in p.read_text(encoding="utf-8")
    True
    """
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    env.globals.update(helpers or {})
    page = env.get_template(template).render(
        plotly_js=get_plotlyjs(), figures=json.dumps(figures).replace("</", "<\\/"),
        **context)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def example_audit() -> dict:
    """A small audit dict with every section, for examples and tests.

    Examples
    --------
    >>> sorted(example_audit())[:3]
    ['account', 'aqs', 'audience']
    """
    from ..audit_stats import audience_quality_score, composition
    import numpy as np
    cats = np.array(["real"] * 70 + ["fake"] * 20 + ["inactive"] * 10, dtype=object)
    return {
        "account": {"platform": "toy", "account_id": "42", "handle": "example",
                    "name": "Example", "followers_count": 1000, "followers_known": 100},
        "audience": {"known_followers": 100, "population": 1000, "sampled": True,
                     "composition": composition(cats, population=1000, seed=0),
                     "method": "stratified bootstrap", "fake_share_corrected": None},
        "engagement": {"total": 10, "authentic_share": 0.9, "authentic_lo": 0.6,
                       "authentic_hi": 0.99, "rate": 30.0, "percentile": 0.42, "peers": 120,
                       "followers_from": 50, "followers_to": 200, "median_rate": 35.0,
                       "why_unknown": None, "in_pod": False,
                       "by_kind": {"like": {"total": 10, "suspicious_share": 0.1}}},
        "growth": {"series": {"time": ["2024-01-01", "2024-01-08", "2024-01-15"],
                              "followers": [500, 900, 1000]},
                   "anomalous_periods": [{"start": "2024-01-01", "end": "2024-01-08",
                                          "gained": 400, "expected": 100, "excess": 300}],
                   "bought_estimate": 300},
        "aqs": audience_quality_score(0.7, 0.42, 0.3),
        "reasons": ["20% of followers are fake (95% CI 13%-28%)"],
        "meta": {"version": "0.1.0", "generated_at": "2024-01-15T00:00:00Z", "db": "example"},
    }
