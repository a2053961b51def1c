"""Every ranking side by side, and the ranking table behind ``trueclout rank``.

Rankings (higher is better):

``followers``
    The naive follower count (the profile's count where known, else the follows seen):
    the baseline everyone games.
``pagerank``
    Plain PageRank over follows (uniform teleport), the second baseline.
``reach``
    Authentic reach (:mod:`trueclout.score.reach`).
``engagement``
    Engagement influence from authentic accounts (:mod:`trueclout.score.engagement`).
``truerank``
    TrueRank (:mod:`trueclout.score.truerank`).

With a topic, reach and engagement count each follower's interest in it, TrueRank becomes
topical TrueRank, and followers and PageRank are multiplied by the account's own interest.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> from trueclout.score.context import ScoreContext
>>> from trueclout.detect.ensemble import neutral_ensemble
>>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
...                              neutral_ensemble())
>>> sorted(rank_all(ctx))
['engagement', 'followers', 'pagerank', 'reach', 'truerank']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from ..kernels.pagerank import pagerank
from .context import ScoreContext
from .engagement import engagement_influence
from .reach import voter_weight, authentic_reach
from .truerank import TrueRank
from .trust import TrustModel

RANKINGS = ("truerank", "followers", "reach", "engagement", "pagerank")


def trust_model(ctx: ScoreContext) -> TrustModel:
    """The fitted TrustModel of ``ctx`` (computed once, cached in ``ctx.cache``): who
    gets a vote, shared by TrueRank, reach, engagement and discovery.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
    ...                              neutral_ensemble())
    >>> tm = trust_model(ctx)
    >>> tm is trust_model(ctx), tm.gate_.shape
    (True, (6,))
    """
    if "trust" not in ctx.cache:
        ctx.cache["trust"] = TrustModel().fit(ctx.data, ctx.authenticity, ctx.ensemble)
    return ctx.cache["trust"]


def truerank_model(ctx: ScoreContext) -> TrueRank:
    """The fitted TrueRank of ``ctx`` (computed once, cached in ``ctx.cache``).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
    ...                              neutral_ensemble())
    >>> tr = truerank_model(ctx)
    >>> tr is truerank_model(ctx), round(float(tr.scores_.sum()), 6)
    (True, 1.0)
    """
    if "truerank" not in ctx.cache:
        ctx.cache["truerank"] = TrueRank(trust=trust_model(ctx)).fit(
            ctx.data, ctx.authenticity, ctx.ensemble)
    return ctx.cache["truerank"]


def topic_vector(ctx: ScoreContext, topic: str | None) -> np.ndarray | None:
    """Each account's interest in ``topic`` (None without a topic).

    Examples
    --------
    >>> topic_vector(None, None) is None
    True
    """
    if topic is None:
        return None
    from .topics import topic_relevance
    return np.asarray(topic_relevance(ctx, topic), dtype=np.float64)


def follower_counts(ctx: ScoreContext) -> np.ndarray:
    """Each account's follower count as ``rank`` prints it and ``--by followers`` orders
    by: the platform's own count where the profile gives one, else the follows seen.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
    ...                              neutral_ensemble())
    >>> follower_counts(ctx).tolist() == ctx.graph.in_degree().tolist()
    True
    """
    seen = ctx.graph.in_degree().astype(np.int64)
    count = ctx.data.column("followers_count")
    return np.where(np.isfinite(count), count, seen).astype(np.int64)


def rank_all(ctx: ScoreContext, topic: str | None = None,
             which: tuple[str, ...] = RANKINGS) -> dict[str, np.ndarray]:
    """Score every account by each ranking in ``which`` (higher is better).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
    ...                              neutral_ensemble())
    >>> s = rank_all(ctx)
    >>> sorted(s), [ctx.graph.name(v)[1] for v in np.argsort(-s["followers"])[:2]]
    (['engagement', 'followers', 'pagerank', 'reach', 'truerank'], ['cat', 'ana'])
    """
    unknown = [w for w in which if w not in RANKINGS]
    if unknown:
        raise UsageError(f"unknown ranking {unknown[0]!r}; choose from {', '.join(RANKINGS)}")
    if set(which) == set(RANKINGS) or getattr(ctx, "saved", None) is not None:
        # every ranking at once, kept with the context (and beside the store when it
        # is a saved one): the next command for this topic reads it back
        from .saved import remember
        full = remember(ctx, f"rank_all:{topic}", lambda: _rank(ctx, topic, RANKINGS),
                        keep=topic is None)
        return {k: full[k] for k in which}
    return _rank(ctx, topic, which)


def _rank(ctx: ScoreContext, topic: str | None, which: tuple[str, ...]) -> dict:
    g = ctx.graph
    r = topic_vector(ctx, topic)
    out: dict[str, np.ndarray] = {}
    if "followers" in which:
        out["followers"] = follower_counts(ctx).astype(np.float64) * (1.0 if r is None else r)
    if "pagerank" in which:
        pr = pagerank(g.in_indptr, g.in_indices) if g.n else np.zeros(0)
        out["pagerank"] = pr * (1.0 if r is None else r)
    if any(w in which for w in ("truerank", "reach", "engagement")):
        tr = truerank_model(ctx)
        tm = tr.trust_model_
        if "reach" in which:
            out["reach"] = authentic_reach(g, ctx.weight, tm, r)
        if "engagement" in which:
            out["engagement"] = engagement_influence(g, voter_weight(ctx.weight, tm), r)
        if "truerank" in which:
            out["truerank"] = tr.scores_ if r is None else tr.topical(r)
    return {k: out[k] for k in which}


def top_percent(scores: np.ndarray, population: np.ndarray | None = None) -> np.ndarray:
    """"Top p%" of each account: the share (in %) of the population that scores strictly
    higher (0 is the best; ties share the best place).

    Examples
    --------
    >>> top_percent(np.array([3.0, 1.0, 2.0, 2.0])).tolist()
    [0.0, 75.0, 25.0, 25.0]
    """
    s = np.asarray(scores, dtype=np.float64)
    pop = s if population is None else np.asarray(population, dtype=np.float64)
    if pop.size == 0:
        return np.zeros(s.shape[0])
    srt = np.sort(pop)
    return 100.0 * (pop.size - np.searchsorted(srt, s, side="right")) / pop.size


def ranking_table(ctx: ScoreContext, by: str = "truerank", *, topic: str | None = None,
                  top: int | None = None, scores: dict | None = None) -> pa.Table:
    """The ranking as a table, best first: rank, account, every score and its top-%.

    Columns: ``rank``, ``platform``, ``account_id``, ``handle``, ``followers_count``
    (the platform's count, null where the source gives none; what the ``followers``
    ranking counts, with ``followers_known`` where it is null), ``followers_known`` (the
    followers the store holds),
    ``authentic_reach``, ``engagement``, ``truerank`` and ``pagerank`` (as multiples of
    the average account, so 1 is average), ``top_pct_<ranking>`` for each ranking,
    ``authenticity`` and ``category``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()),
    ...                              neutral_ensemble())
    >>> t = ranking_table(ctx, "followers", top=2)
    >>> t.column("account_id").to_pylist(), t.column("followers_known").to_pylist()
    (['cat', 'ana'], [5, 2])
    """
    if by not in RANKINGS:
        raise UsageError(f"unknown ranking {by!r}; choose from {', '.join(RANKINGS)}")
    if top is not None and top < 1:
        raise UsageError("--top must be at least 1")
    s = scores if scores is not None else rank_all(ctx, topic)
    n = ctx.n
    key = s[by]
    order = np.lexsort((np.arange(n), -key))
    if top is not None:
        order = order[:top]
    names = ctx.graph.names
    prof = ctx.data.profiles
    handle = (prof.column("handle").to_pylist() if "handle" in prof.column_names
              else [None] * n)
    count, known = ctx.data.follower_counts()
    cols: dict[str, Any] = {
        "rank": pa.array(np.arange(1, order.size + 1, dtype=np.int64)),
        "platform": names.column("platform").cast(pa.string()).take(pa.array(order)),
        "account_id": names.column("account_id").take(pa.array(order)),
        "handle": pa.array([handle[i] for i in order], pa.string()),
        "followers_count": pa.array(count[order], mask=~np.isfinite(count[order]),
                                    type=pa.float64()).cast(pa.int64()),
        "followers_known": pa.array(known[order]),
    }
    full = s if set(RANKINGS) <= set(s) else {**rank_all(ctx, topic), **s}
    cols["authentic_reach"] = pa.array(np.round(full["reach"][order], 3))
    cols["engagement"] = pa.array(np.round(full["engagement"][order], 3))
    cols["truerank"] = pa.array(np.round(full["truerank"][order] * n, 4))
    cols["pagerank"] = pa.array(np.round(full["pagerank"][order] * n, 4))
    for name in RANKINGS:
        cols[f"top_pct_{name}"] = pa.array(np.round(top_percent(full[name])[order], 3))
    cols["authenticity"] = pa.array(np.round(ctx.authenticity[order], 4))
    cat = getattr(ctx.ensemble, "category_", None)
    cols["category"] = pa.array(
        np.asarray(cat).astype(str)[order] if cat is not None else ["real"] * order.size,
        pa.string())
    return pa.table(cols)
