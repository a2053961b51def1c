"""The influence report: follower count against TrueRank, audience overlap and a budget plan.

:func:`influence_report` gathers, as one JSON-ready dict:

``rankings``
    The top accounts by follower count with their TrueRank place, and the top by TrueRank
    with their follower place. Accounts that bought followers and rank within the top
    ``report_influence_window`` % are listed too (below the top, with the number of
    accounts skipped), so the buyers are seen where they land.
``fall``
    Every account that bought followers: its place by followers and by TrueRank, the
    median top-% of each and the median fall, next to a control: for each buyer, the
    honest (unflagged, not bought) account closest to it by follower place.
``scatter``
    Each account's top-% by followers against its top-% by TrueRank, for a sample of at
    most ``report_scatter_points`` accounts plus every buyer and the top of both rankings.
``overlap``, ``plan``
    Given the dicts of :func:`trueclout.discover.overlap.audience_overlap` and
    :func:`trueclout.discover.plan.plan_budget` (see :func:`sample_campaign`): the
    pairwise share of each creator's authentic audience also in another's, each creator's
    unique reach, and the chosen creators with cost and marginal unique reach.

**Who bought followers.** The ground-truth label ``customer`` when the store has labels
(the simulator's), else the ensemble's evidence: ``bought_ >= report_bought_threshold``.

**Places.** An account's place in a ranking is 1 + the number of accounts that score
strictly higher (ties share the best place); its top-% is ``100 (place − 1) / n``, as
:func:`trueclout.score.rank.top_percent`. A fall is ``place by TrueRank − place by
followers`` (positive: ranked lower by TrueRank).

:func:`render_influence_html` writes the dict as one self-contained page (Plotly's
JavaScript inlined, no network) and :func:`account_influence` gives one account's figures
for the audit page's optional "Influence" section.

Examples
--------
>>> import tempfile, os
>>> rep = influence_report(example_context(), example_scores(), top=3)
>>> [r["account"] for r in rep["rankings"]["followers"]["rows"]]
['toy:cat', 'toy:ana', 'toy:eve']
>>> rep["bought"]["source"], rep["fall"]["rows"][0]["place_followers"]
('labels', 1)
>>> p = render_influence_html(rep, os.path.join(tempfile.mkdtemp(), "i.html"))
>>> "<script src=" in p.read_text(encoding="utf-8")
False
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, config
from ..errors import TruecloutError, UsageError

#: Rankings the report needs from :func:`trueclout.score.rank.rank_all`.
NEEDED = ("followers", "truerank", "reach")


# -- places and buyers ---------------------------------------------------------------------
def places(scores: np.ndarray) -> np.ndarray:
    """Place of each account in a ranking (higher score first): 1 + the number of accounts
    that score strictly higher; ties share the best place.

    Examples
    --------
    >>> places(np.array([3.0, 1.0, 2.0, 2.0])).tolist()
    [1, 4, 2, 2]
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return np.zeros(0, np.int64)
    srt = np.sort(s)
    return (s.size - np.searchsorted(srt, s, side="right") + 1).astype(np.int64)


def bought_accounts(ctx, *, threshold: float | None = None) -> tuple[np.ndarray, dict]:
    """Which accounts bought followers, and how that was decided.

    The ground-truth label ``customer`` when the store has it; else the ensemble's
    ``bought_`` evidence at least ``threshold`` (default ``report_bought_threshold``);
    else none.

    Returns
    -------
    mask : bool array
    info : dict
        ``source`` (``labels``, ``detector`` or ``none``), ``rule`` in words, ``count``.

    Examples
    --------
    >>> mask, info = bought_accounts(example_context())
    >>> np.flatnonzero(mask).tolist(), info["source"]
    ([2], 'labels')
    """
    n = ctx.n
    labels = getattr(ctx.data, "labels", None) or {}
    mask = np.zeros(n, bool)
    if "customer" in labels:
        idx = np.asarray(labels["customer"], dtype=np.int64)
        mask[idx[(idx >= 0) & (idx < n)]] = True
        info = {"source": "labels", "rule": "ground truth: accounts labelled 'customer' "
                                            "(they bought followers)"}
    else:
        thr = float(config.value("report_bought_threshold", threshold))
        ev = getattr(ctx.ensemble, "bought_", None)
        if ev is not None and np.asarray(ev).shape == (n,):
            mask = np.asarray(ev, dtype=np.float64) >= thr
            info = {"source": "detector",
                    "rule": f"the detectors' bought-follower evidence is at least {thr:g}"}
        else:
            info = {"source": "none", "rule": "no labels and no bought-follower evidence"}
    info["count"] = int(mask.sum())
    return mask, info


def _labels(ctx, idx: np.ndarray) -> list[str]:
    names = ctx.graph.names
    plat = names.column("platform").cast("string").take(idx).to_pylist()
    acc = names.column("account_id").take(idx).to_pylist()
    return [f"{p}:{a}" for p, a in zip(plat, acc)]


def _handles(ctx, idx: np.ndarray) -> list:
    prof = ctx.data.profiles
    if "handle" not in prof.column_names:
        return [None] * idx.shape[0]
    return prof.column("handle").take(idx).to_pylist()


def _full_scores(ctx, scores: dict | None) -> dict:
    have = dict(scores or {})
    missing = tuple(k for k in NEEDED if k not in have)
    if missing:
        from ..score.rank import rank_all
        have.update(rank_all(ctx, which=missing))
    for k in NEEDED:
        if np.asarray(have[k]).shape != (ctx.n,):
            raise UsageError(f"scores[{k!r}] must have one value per account ({ctx.n})")
    return have


class _Figures:
    """Per-account arrays the report's sections share."""

    def __init__(self, ctx, scores: dict):
        self.ctx = ctx
        self.n = n = ctx.n
        self.s = scores
        self.place_f = places(scores["followers"])
        self.place_t = places(scores["truerank"])
        self.pct_f = 100.0 * (self.place_f - 1) / max(n, 1)
        self.pct_t = 100.0 * (self.place_t - 1) / max(n, 1)
        self.count, self.seen = ctx.data.follower_counts()
        self.bought, self.bought_info = bought_accounts(ctx)
        self.suspicious = np.asarray(ctx.suspicious, bool)
        cat = getattr(ctx.ensemble, "category_", None)
        self.category = (np.asarray(cat).astype(str) if cat is not None
                         else np.full(n, "real", dtype=object))

    def rows(self, idx: np.ndarray) -> list[dict]:
        idx = np.asarray(idx, dtype=np.int64)
        names, hs = _labels(self.ctx, idx), _handles(self.ctx, idx)
        tr = np.asarray(self.s["truerank"], np.float64)
        reach = np.asarray(self.s["reach"], np.float64)
        return [{"account": names[j], "handle": hs[j],
                 "followers_count": (int(self.count[v]) if np.isfinite(self.count[v])
                                     else None),
                 "followers_known": int(self.seen[v]),
                 "authentic_reach": round(float(reach[v]), 1),
                 "truerank": round(float(tr[v]) * self.n, 3),
                 "place_followers": int(self.place_f[v]),
                 "place_truerank": int(self.place_t[v]),
                 "top_pct_followers": round(float(self.pct_f[v]), 3),
                 "top_pct_truerank": round(float(self.pct_t[v]), 3),
                 "fall": int(self.place_t[v] - self.place_f[v]),
                 "bought": bool(self.bought[v]), "flagged": bool(self.suspicious[v]),
                 "category": str(self.category[v])}
                for j, v in enumerate(idx.tolist())]


# -- sections ------------------------------------------------------------------------------
def _ranking_section(f: _Figures, by: str, top: int, window: float) -> dict:
    key = np.asarray(f.s[by], dtype=np.float64)
    order = np.lexsort((np.arange(f.n), -key))
    head = order[:top]
    limit = max(int(np.ceil(f.n * window / 100.0)), top)
    # the top, then the buyers further down within the window, by position in the ranking
    pos = np.concatenate([np.arange(head.size),
                          top + np.flatnonzero(f.bought[order[top:limit]])]).astype(np.int64)
    rows = f.rows(order[pos])
    prev = 0
    for p, r in zip(pos.tolist(), rows):
        r["gap_before"] = p - prev
        prev = p + 1
    return {"by": by, "top": int(head.size), "window_pct": window,
            "window_places": int(min(limit, f.n)),
            "bought_in_top": int(f.bought[head].sum()),
            "bought_in_window": int(f.bought[order[:limit]].sum()),
            "rows": rows}


def _median(x: np.ndarray) -> float | None:
    return round(float(np.median(x)), 3) if x.size else None


def _fall_section(f: _Figures, rows: int) -> dict:
    b = np.flatnonzero(f.bought)
    b = b[np.lexsort((b, f.place_f[b]))]
    fall = (f.place_t[b] - f.place_f[b]).astype(np.float64)
    # control: for each buyer the honest account nearest to it by follower place
    honest = np.flatnonzero(~f.bought & ~f.suspicious)
    ctrl = np.zeros(0, np.int64)
    if b.size and honest.size:
        hp = f.place_f[honest]
        o = np.argsort(hp, kind="stable")
        hs, hp = honest[o], hp[o]
        j = np.clip(np.searchsorted(hp, f.place_f[b]), 0, hp.size - 1)
        jm = np.clip(j - 1, 0, hp.size - 1)
        better = np.abs(hp[jm] - f.place_f[b]) <= np.abs(hp[j] - f.place_f[b])
        ctrl = hs[np.where(better, jm, j)]
    cfall = (f.place_t[ctrl] - f.place_f[ctrl]).astype(np.float64)
    return {
        "count": int(b.size), "shown": int(min(rows, b.size)),
        "median_top_pct_followers": _median(f.pct_f[b]),
        "median_top_pct_truerank": _median(f.pct_t[b]),
        "median_places_fallen": _median(fall),
        "share_fell": round(float((fall > 0).mean()), 4) if b.size else None,
        "control": {"what": "for each buyer, the honest (unflagged) account nearest to it "
                            "by follower place",
                    "median_top_pct_followers": _median(f.pct_f[ctrl]),
                    "median_top_pct_truerank": _median(f.pct_t[ctrl]),
                    "median_places_fallen": _median(cfall),
                    "share_fell": round(float((cfall > 0).mean()), 4) if ctrl.size else None},
        "rows": f.rows(b[:rows]),
    }


def _scatter_section(f: _Figures, top: int, max_points: int, seed: int) -> dict:
    keep = f.bought.copy()
    keep[np.lexsort((np.arange(f.n), -np.asarray(f.s["followers"], float)))[:top]] = True
    keep[np.lexsort((np.arange(f.n), -np.asarray(f.s["truerank"], float)))[:top]] = True
    rest = np.flatnonzero(~keep)
    room = max(int(max_points) - int(keep.sum()), 0)
    sampled = rest.size > room
    if sampled:
        rest = np.random.default_rng(seed).choice(rest, size=room, replace=False)
    idx = np.sort(np.concatenate([np.flatnonzero(keep), rest])).astype(np.int64)
    # plotted top-% is 100·place/n so that the best account sits at 100/n on log axes
    scale = 100.0 / max(f.n, 1)
    return {"points": int(idx.size), "of": int(f.n), "sampled": bool(sampled),
            "account": _labels(f.ctx, idx),
            "x": np.round(f.place_f[idx] * scale, 4).tolist(),
            "y": np.round(f.place_t[idx] * scale, 4).tolist(),
            "bought": f.bought[idx].tolist(),
            "axis_note": "top-% = 100 × place / accounts (log scale)"}


# -- the adapter to trueclout.discover ----------------------------------------------------
# Everything this module knows of the discover stage's API and result shapes is in the
# three functions below; if that stage changes, fix them here.
def sample_campaign(ctx, *, creators: int | None = None,
                    cost_per_follower: float | None = None,
                    budget_share: float | None = None, target=None) -> dict:
    """A sample campaign for the demo: a target, its top creators, their audience overlap
    and a budget plan.

    The target is the biggest topic community (:func:`trueclout.score.topics.list_topics`)
    when the topics stage finds one, else the followers of the most-followed honest
    account, else everyone. Each creator's sample cost is ``cost_per_follower`` (default
    ``demo_cost_per_follower``) × its reported follower count, as influencer prices go
    by the follower count (bought followers included); the budget is ``budget_share``
    (default ``demo_budget_share``) of the candidates' summed cost.

    Parameters
    ----------
    ctx : ScoreContext
    creators : int, optional
        How many creators to find (default ``demo_creators``).
    cost_per_follower, budget_share : float, optional
    target : Target, optional
        Use this target instead of picking one.

    Returns
    -------
    dict
        ``target`` (kind, label, how it was picked, ``option``: the options of ``trueclout
        plan`` that name it, None when given), ``candidates`` (the creators found,
        with their cost), ``pricing`` (in words), ``budget``, ``overlap`` (the dict of
        :func:`~trueclout.discover.overlap.audience_overlap`, or None with fewer than two
        creators) and ``plan`` (of :func:`~trueclout.discover.plan.plan_budget`, or None).

    Examples
    --------
    >>> from trueclout.discover.targets import resolve_target
    >>> ctx = example_context()
    >>> c = sample_campaign(ctx, creators=3, cost_per_follower=1, budget_share=0.5,
    ...                     target=resolve_target(ctx, allow_none=True))
    >>> [(r["account"], r["cost"]) for r in c["candidates"]], c["budget"]
    ([('toy:cat', 5.0), ('toy:ana', 2.0), ('toy:eve', 2.0)], 4.0)
    >>> [r["account"] for r in c["plan"]["creators"]], c["plan"]["reach"]
    (['toy:ana', 'toy:eve'], 4.0)
    >>> sample_campaign(ctx)["target"]["picked"]  # the toy graph has no topic communities
    'the followers of the most-followed honest account (no topic community)'

    """
    from ..discover.find import find
    from ..discover.overlap import audience_overlap
    from ..discover.plan import plan_budget
    k = int(config.value("demo_creators", creators))
    price = float(config.value("demo_cost_per_follower", cost_per_follower))
    share = float(config.value("demo_budget_share", budget_share))
    if k < 1 or price < 0 or not 0 < share <= 1:
        raise UsageError("sample campaign: creators must be >= 1, cost per follower >= 0 "
                         "and budget share in (0, 1]")
    t, how, option = ((target, "given", None) if target is not None
                      else _sample_target(ctx))
    table = find(ctx, t, top=k)
    cand = table.to_pylist()
    for r in cand:
        r["cost"] = sample_cost(r.get("followers_count"), r["followers_known"], price)
    total = sum(r["cost"] for r in cand)
    budget = float(round(share * total)) if cand else 0.0
    accounts = [r["account"] for r in cand]
    overlap = audience_overlap(ctx, accounts) if len(accounts) >= 2 else None
    if overlap is not None:
        overlap["target"] = t.label
    plan = (plan_budget(ctx, {a: r["cost"] for a, r in zip(accounts, cand)}, budget,
                        relevance=t.relevance, target_label=t.label) if cand else None)
    pricing = (f"sample prices: {price:g} per reported follower per post (about "
               f"{1000 * price:g} per 1,000 followers); budget {100 * share:g}% of the "
               f"{len(cand)} candidates' summed cost")
    if plan is not None:
        plan["pricing"] = pricing
    return {"target": {"kind": t.kind, "label": t.label, "picked": how, "option": option},
            "candidates": [{"account": r["account"], "handle": r.get("handle"),
                            "followers_count": r.get("followers_count"),
                            "followers_known": r["followers_known"], "cost": r["cost"],
                            "authentic_reach": r.get("authentic_reach"),
                            "relevant_reach": r.get("relevant_reach")} for r in cand],
            "pricing": pricing, "budget": budget, "overlap": overlap, "plan": plan}


def sample_cost(followers_count: int | None, followers_known: int,
                price: float | None = None) -> float:
    """A creator's sample price per post: ``price`` (default
    ``demo_cost_per_follower``) × its follower count on the platform (the followers
    known to the store where the platform gives none), rounded, at least 1. The demo's
    campaign and the dashboard's plan page price creators the same way.

    Examples
    --------
    >>> sample_cost(19_610, 1_961), sample_cost(None, 40), sample_cost(10, 10)
    (196.0, 1.0, 1.0)
    """
    p = float(config.value("demo_cost_per_follower", price))
    n = followers_count if followers_count is not None else followers_known
    return float(max(round(p * n), 1))


def _sample_target(ctx):
    """The demo's target: the biggest topic community, else the audience of the
    most-followed honest account, else everyone; with how it was picked and the options
    of `trueclout find` and `plan` that name it."""
    from ..discover.targets import audience_target, resolve_target, topic_target
    why = "no topic community"
    try:
        from ..score.topics import list_topics
        # the store's terms too, as `trueclout find --topic` reads them: the same top
        # creators and plan from the command line as in the report
        store = ctx.live_store() if hasattr(ctx, "live_store") else None
        best = list_topics(ctx, 1, store=store)
        if best:
            t = topic_target(ctx, best[0]["topic"], store)
            if float(np.max(t.relevance, initial=0.0)) > 0:
                terms = ", ".join(best[0].get("terms", [])[:3])
                return t, ("the biggest topic community" + (f" ({terms})" if terms
                                                             else "")), \
                    ["--topic", str(best[0]["topic"])]
    except (TruecloutError, ImportError, ValueError) as exc:
        why = f"topics: {exc}"
    bought, _ = bought_accounts(ctx)
    deg = ctx.graph.in_degree().astype(np.float64)
    deg[bought | np.asarray(ctx.suspicious, bool)] = -1
    if ctx.n and deg.max() > 0:
        v = int(np.argmax(deg))
        try:
            spec = _labels(ctx, np.array([v]))[0]
            return (audience_target(ctx, spec),
                    f"the followers of the most-followed honest account ({why})",
                    ["--audience", spec])
        except TruecloutError as exc:
            why = f"{why}; audience: {exc}"
    return resolve_target(ctx, allow_none=True), f"everyone ({why})", []


def overlap_figures(ov: dict) -> dict:
    """The heatmap and bars of an :func:`audience_overlap` dict.

    Examples
    --------
    >>> overlap_figures({"creators": [], "pairs": []}) is not None
    True
    """
    creators = ov.get("creators", [])
    names = [c["account"] for c in creators]
    pos = {a: i for i, a in enumerate(names)}
    k = len(names)
    share: list[list[float | None]] = [[None] * k for _ in range(k)]
    for p in ov.get("pairs", []):
        i, j = pos[p["a"]], pos[p["b"]]
        share[i][j] = p.get("share_a_in_b")
        share[j][i] = p.get("share_b_in_a")
    shown = [f"@{c['handle']}" if c.get("handle") else c["account"] for c in creators]
    if len(set(shown)) < k:
        shown = names
    rows = [{"account": c["account"], "handle": c.get("handle"),
             "followers_count": c.get("followers_count"),
             "followers_known": c.get("followers_known"),
             "authentic_reach": c.get("authentic_reach"),
             "unique_reach": c.get("unique_reach"), "unique_share": c.get("unique_share")}
            for c in creators]
    summed = sum(float(c.get("authentic_reach") or 0) for c in creators)
    union = ov.get("union", {})
    return {"target": ov.get("target"), "method": ov.get("method"), "labels": shown,
            "relevant": bool(ov.get("relevant")),
            "share": share, "creators": rows, "union": union,
            "reach_if_summed": round(summed, 2),
            "note": (ov.get("error") or {}).get("note")}


def _plan_section(plan: dict) -> dict:
    """The chosen creators and totals of a :func:`plan_budget` dict."""
    keys = ("rank", "account", "handle", "cost", "followers_count", "followers_known",
            "relevant_reach", "marginal_reach", "cumulative_reach", "cumulative_cost")
    rows = []
    for c in plan.get("creators", []):
        r = {k: c.get(k) for k in keys}
        m = float(c.get("marginal_reach") or 0)
        r["cost_per_1000_reach"] = round(1000 * float(c["cost"]) / m, 2) if m > 0 else None
        rows.append(r)
    return {"target": plan.get("target"), "budget": plan.get("budget"),
            "spent": plan.get("spent"), "left": plan.get("left"),
            "reach": plan.get("reach"), "reach_if_summed": plan.get("reach_if_summed"),
            "guarantee": plan.get("guarantee"), "mode": plan.get("mode"),
            "candidates": plan.get("candidates"), "excluded": plan.get("excluded", []),
            "pricing": plan.get("pricing"), "creators": rows}


# -- the report ----------------------------------------------------------------------------
def influence_report(ctx, scores: dict | None = None, *, top: int | None = None,
                     overlap: dict | None = None, plan: dict | None = None,
                     campaign: dict | None = None, window: float | None = None,
                     max_points: int | None = None, fall_rows: int | None = None,
                     seed: int | None = None) -> dict:
    """The influence report of a scored context, JSON-ready.

    Parameters
    ----------
    ctx : ScoreContext
    scores : dict, optional
        :func:`trueclout.score.rank.rank_all`'s result; the rankings it lacks
        (``followers``, ``truerank``, ``reach``) are computed.
    top : int, optional
        Accounts at the top of each ranking table (default ``report_influence_top``).
    overlap : dict, optional
        :func:`trueclout.discover.overlap.audience_overlap`'s result (an optional
        ``target`` key names the target).
    plan : dict, optional
        :func:`trueclout.discover.plan.plan_budget`'s result (an optional ``pricing``
        key says how costs were set).
    campaign : dict, optional
        :func:`sample_campaign`'s result: its overlap and plan (unless given) and its
        target and candidates (with their costs).
    window, max_points, fall_rows, seed : optional
        Default ``report_influence_window``, ``report_scatter_points``,
        ``report_fall_rows`` and ``report_sample_seed``.

    Returns
    -------
    dict
        ``accounts``, ``followers_sampled`` (the store holds only some of the reported
        followers), ``bought`` (source, rule, count), ``rankings`` (``followers`` and
        ``truerank``: rows with both places), ``fall``, ``scatter``, ``overlap``,
        ``plan`` and ``campaign`` (None when not given), ``meta``.

    Examples
    --------
    >>> rep = influence_report(example_context(), example_scores(), top=2)
    >>> [(r["account"], r["place_followers"], r["place_truerank"])
    ...  for r in rep["rankings"]["truerank"]["rows"]]
    [('toy:ana', 2, 1), ('toy:cat', 1, 2)]
    >>> rep["fall"]["median_places_fallen"], rep["overlap"] is None
    (1.0, True)
    """
    top = int(config.value("report_influence_top", top))
    window = float(config.value("report_influence_window", window))
    max_points = int(config.value("report_scatter_points", max_points))
    fall_rows = int(config.value("report_fall_rows", fall_rows))
    seed = int(config.value("report_sample_seed", seed))
    if top < 1 or max_points < 0 or fall_rows < 0 or not 0 <= window <= 100:
        raise UsageError("influence report: top must be >= 1, window in [0, 100], "
                         "points and rows not negative")
    f = _Figures(ctx, _full_scores(ctx, scores))
    if campaign:
        overlap = overlap if overlap is not None else campaign.get("overlap")
        plan = plan if plan is not None else campaign.get("plan")
    return {
        "accounts": int(ctx.n),
        "followers_sampled": bool(np.any(np.isfinite(f.count) & (f.count != f.seen))),
        "bought": f.bought_info,
        "rankings": {by: _ranking_section(f, by, top, window)
                     for by in ("followers", "truerank")},
        "fall": _fall_section(f, fall_rows),
        "scatter": _scatter_section(f, top, max_points, seed),
        "overlap": overlap_figures(overlap) if overlap else None,
        "plan": _plan_section(plan) if plan else None,
        "campaign": ({k: campaign.get(k) for k in ("target", "candidates", "pricing",
                                                   "budget")} if campaign else None),
        "meta": {"version": __version__,
                 "generated_at": _dt.datetime.now(_dt.timezone.utc)
                 .strftime("%Y-%m-%dT%H:%M:%SZ")},
    }


def account_influence(ctx, account: int, scores: dict | None = None) -> dict:
    """One account's influence figures, for the audit page's "Influence" section.

    Returns
    -------
    dict
        ``accounts``, ``place_followers``, ``place_truerank``, ``top_pct_followers``,
        ``top_pct_truerank``, ``fall``, ``followers_count`` (the platform's count, None
        where unknown), ``followers_known`` (in the store),
        ``authentic_reach``, ``truerank`` (multiples of the average account).

    Examples
    --------
    >>> d = account_influence(example_context(), 2, example_scores())
    >>> d["place_followers"], d["place_truerank"], d["fall"]
    (1, 2, 1)
    """
    v = int(account)
    if not 0 <= v < ctx.n:
        raise UsageError(f"vertex {v} is not in 0..{ctx.n - 1}")
    s = _full_scores(ctx, scores)
    pf = int(places(s["followers"])[v])
    pt = int(places(s["truerank"])[v])
    n = ctx.n
    from ..discover.targets import follower_fields
    return {"accounts": int(n), "place_followers": pf, "place_truerank": pt,
            "top_pct_followers": round(100.0 * (pf - 1) / n, 3),
            "top_pct_truerank": round(100.0 * (pt - 1) / n, 3), "fall": pt - pf,
            **follower_fields(ctx.data, np.array([v]))[0],
            "authentic_reach": round(float(s["reach"][v]), 1),
            "truerank": round(float(s["truerank"][v]) * n, 3)}


# -- HTML ----------------------------------------------------------------------------------
_RED, _GREY, _BLUE, _GREEN = "#c62828", "#90a4ae", "#1565c0", "#2e7d32"


def influence_figures(rep: dict) -> dict:
    """The Plotly figures of the influence page (the scatter, the overlap) from its dict.

    Examples
    --------
    >>> empty = {"x": [], "y": [], "bought": [], "account": []}
    >>> isinstance(influence_figures({"scatter": empty, "accounts": 1}), dict)
    True
    """
    figs: dict[str, Any] = {}
    sc = rep["scatter"]
    n = max(rep["accounts"], 1)
    xs, ys, bs, acc = sc["x"], sc["y"], sc["bought"], sc["account"]
    traces = []
    for flag, name, color, size in ((False, "other accounts", _GREY, 4),
                                    (True, "bought followers", _RED, 7)):
        ii = [i for i, b in enumerate(bs) if b == flag]
        traces.append({"type": "scatter", "mode": "markers", "name": name,
                       "x": [xs[i] for i in ii], "y": [ys[i] for i in ii],
                       "text": [acc[i] for i in ii],
                       "hovertemplate": "%{text}<br>top %{x:.3g}% by followers<br>"
                                        "top %{y:.3g}% by TrueRank<extra></extra>",
                       "marker": {"color": color, "size": size,
                                  "opacity": 0.45 if not flag else 0.9}})
    lo = 100.0 / n
    ticks = [t for t in (0.001, 0.01, 0.1, 1, 10, 100) if t >= lo / 10]
    axis = {"type": "log", "range": [np.log10(lo) - 0.1, 2.05], "tickvals": ticks,
            "ticktext": [f"{t:g}%" for t in ticks]}
    figs["fall-chart"] = {
        "data": traces,
        "layout": {"xaxis": {**axis, "title": {"text": "top-% by followers (log)"}},
                   "yaxis": {**axis, "title": {"text": "top-% by TrueRank (log)"}},
                   "shapes": [{"type": "line", "x0": lo, "y0": lo, "x1": 100, "y1": 100,
                               "line": {"color": "#37474f", "dash": "dash", "width": 1}}],
                   "legend": {"orientation": "h"}, "margin": {"t": 20}}}
    ov = rep.get("overlap")
    if ov:
        z = [[None if v is None else round(100 * v, 1) for v in row] for row in ov["share"]]
        text = [["" if v is None else f"{v:.0f}%" for v in row] for row in z]
        figs["overlap-chart"] = {
            "data": [{"type": "heatmap", "z": z, "x": ov["labels"], "y": ov["labels"],
                      "text": text, "texttemplate": "%{text}",
                      "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
                      "zmin": 0, "zmax": 100, "colorbar": {"title": {"text": "%"}},
                      "hovertemplate": "%{z:.1f}% of %{y}'s authentic audience also "
                                       "follows %{x}<extra></extra>"}],
            "layout": {"yaxis": {"autorange": "reversed", "title": {"text": "audience of"},
                                 "automargin": True},
                       "xaxis": {"title": {"text": "also follows"}, "automargin": True,
                                 "tickangle": -30},
                       "margin": {"t": 20, "l": 140}}}
        uniq = [c["unique_reach"] or 0 for c in ov["creators"]]
        shared = [max((c["authentic_reach"] or 0) - (c["unique_reach"] or 0), 0)
                  for c in ov["creators"]]
        figs["unique-chart"] = {
            "data": [{"type": "bar", "name": "unique reach", "x": ov["labels"], "y": uniq,
                      "marker": {"color": _GREEN}},
                     {"type": "bar", "name": "shared with another creator",
                      "x": ov["labels"], "y": shared, "marker": {"color": _GREY}}],
            "layout": {"barmode": "stack", "margin": {"t": 50},
                       "yaxis": {"title": {"text": "relevant reach" if ov.get("relevant")
                                           else "authentic reach"}},
                       "xaxis": {"automargin": True, "tickangle": -30},
                       # above the plot: below it, the legend ran into the creators' names
                       "legend": {"orientation": "h", "x": 0, "xanchor": "left",
                                  "y": 1.02, "yanchor": "bottom"}}}
    return figs


def _num(x: Any, digits: int = 0) -> str:
    if x is None:
        return "–"
    return f"{float(x):,.{digits}f}"


def _pct(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return f"{x:.2f}%" if x < 10 else f"{x:.1f}%"


def render_influence_html(report: dict, path: str | Path, *, aggregate_only: bool = False,
                          db: str | Path | None = None) -> Path:
    """Write ``report`` (the dict of :func:`influence_report`) as one self-contained page.

    Parameters
    ----------
    report : dict
    path : path
        Where to write; the folder is created if needed.
    aggregate_only : bool
        Leave out every ranked account (rows, scatter points, overlap, plan, campaign) and
        keep the counts, medians and shares (:func:`trueclout.privacy.aggregate_only`).
    db : path, optional
        The store the report came from: the page is recorded in its report index
        (:func:`trueclout.privacy.record_report`), so that ``trueclout forget`` finds it.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, os
    >>> rep = influence_report(example_context(), example_scores())
    >>> p = render_influence_html(rep, os.path.join(tempfile.mkdtemp(), "x", "i.html"))
    >>> html = p.read_text(encoding="utf-8")
    >>> 'id="fall-chart"' in html, "Plotly.newPlot" in html, len(html) > 1_000_000
    (True, True, True)
    """
    from ..privacy import aggregate_only as _aggregate, record_report
    from .html import write_page
    if aggregate_only:
        report = _aggregate(report)
    page = write_page("influence.html.j2", path, influence_figures(report),
                      helpers={"num": _num, "pct": _pct}, r=report)
    record_report(db, page, report)
    return page


# -- examples ------------------------------------------------------------------------------
def example_context():
    """The toy graph (:mod:`trueclout.graph.toy`) as a score context without detection,
    where ``cat`` is labelled as having bought followers; for examples and tests.

    Examples
    --------
    >>> ctx = example_context()
    >>> ctx.n, ctx.data.labels["customer"].tolist()
    (6, [2])
    """
    from ..detect.data import DetectionData
    from ..graph.toy import toy_graph
    from ..score.context import ScoreContext
    data = DetectionData.from_graph(toy_graph())
    data.labels = {"customer": np.array([2], np.int64)}
    n = data.n
    return ScoreContext(data=data, ensemble=None, authenticity=np.ones(n),
                        weight=np.ones(n, np.float32), suspicious=np.zeros(n, bool))


def example_scores() -> dict:
    """Made-up scores for :func:`example_context`: ``cat`` has the most followers but
    ``ana`` the best TrueRank.

    Examples
    --------
    >>> sorted(example_scores())
    ['followers', 'reach', 'truerank']
    """
    return {"followers": np.array([2.0, 1.0, 5.0, 0.0, 2.0, 1.0]),
            "truerank": np.array([0.3, 0.1, 0.25, 0.05, 0.2, 0.1]),
            "reach": np.array([2.0, 1.0, 3.0, 0.0, 1.5, 1.0])}
