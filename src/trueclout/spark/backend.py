"""``--backend spark`` for the commands: run the Spark jobs on a store's export.

The commands keep their local start (read the store, fit detection: the ensemble is not
ported to Spark) and hand the graph work to Spark: the store and the detection output
are exported to a Parquet folder (:func:`trueclout.spark.layout.export_layout`; a
temporary one unless ``folder`` is given), read back with the same vertex ids, and the
Spark results come back as arrays in vertex order, so the commands build the same
tables from them.

Examples
--------
>>> SPARK_RANKINGS
('followers', 'pagerank', 'truerank', 'reach')
"""

from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

from ..errors import InputError, UsageError

#: Rankings the Spark backend computes (engagement stays local).
SPARK_RANKINGS = ("followers", "pagerank", "truerank", "reach")

#: Backends of ``--backend``.
BACKENDS = ("local", "spark")


def check_backend(backend: str) -> str:
    """Validate a ``--backend`` value.

    Examples
    --------
    >>> check_backend("spark")
    'spark'
    >>> check_backend("dask")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: unknown backend 'dask'; choose local or spark
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    return backend


@contextmanager
def store_layout(store, ctx=None, folder: str | None = None) -> Iterator:
    """Export ``store`` (and ``ctx``'s detection output) and yield the Spark layout.

    Examples
    --------
    >>> store_layout  # doctest: +ELLIPSIS
    <function store_layout at ...>
    """
    from .layout import export_layout, read_layout
    from .session import require_spark, spark_session
    require_spark()
    with tempfile.TemporaryDirectory(prefix="trueclout-spark-") as tmp:
        path = folder or tmp
        export_layout(store, path, ctx)
        layout = read_layout(spark_session(), str(path))
        if ctx is not None and layout.n != ctx.n:
            raise InputError(f"the export holds {layout.n} accounts, the store {ctx.n}")
        try:
            yield layout
        finally:
            layout.unpersist()


def rank_scores(ctx, store, which: Sequence[str] = SPARK_RANKINGS,
                timings: dict | None = None) -> dict[str, np.ndarray]:
    """The rankings of :data:`SPARK_RANKINGS` in ``which``, computed by Spark, as arrays
    in ``ctx``'s vertex order (plus ``trust_gate``, the trust gate ``h``, when TrueRank or
    reach is asked for).

    Examples
    --------
    >>> rank_scores  # doctest: +ELLIPSIS
    <function rank_scores at ...>
    """
    from . import pagerank as P
    from .features import degrees
    from .layout import to_array
    from .reach import authentic_reach
    bad = [w for w in which if w not in SPARK_RANKINGS]
    if bad:
        raise UsageError(f"the Spark backend does not compute {bad[0]!r}")
    t = timings if timings is not None else {}
    out: dict[str, np.ndarray] = {}
    with store_layout(store, ctx) as L:
        n = L.n
        t0 = time.perf_counter()
        if "followers" in which:
            out["followers"] = to_array(degrees(L), "in_degree", n).astype(np.float64)
            t["followers"] = time.perf_counter() - t0
        if "pagerank" in which:
            t0 = time.perf_counter()
            out["pagerank"] = to_array(P.pagerank(L), "pagerank", n)
            t["pagerank"] = time.perf_counter() - t0
        if "truerank" in which or "reach" in which:
            t0 = time.perf_counter()
            tr = P.trust(L)
            out["trust_gate"] = to_array(tr, "gate", n)
            if "truerank" in which:
                out["truerank"] = to_array(P.truerank(L, trust_df=tr), "truerank", n)
            t["truerank"] = time.perf_counter() - t0
            if "reach" in which:
                t0 = time.perf_counter()
                out["reach"] = to_array(authentic_reach(L, tr), "reach", n)
                t["reach"] = time.perf_counter() - t0
    return {k: out[k] for k in (*which, "trust_gate") if k in out}


def rank_scores_cli(ctx) -> dict[str, np.ndarray]:
    """Every ranking of :data:`trueclout.score.rank.RANKINGS` for ``trueclout rank
    --backend spark``: :data:`SPARK_RANKINGS` from Spark, engagement locally from the
    interactions with Spark's trust gate (``ctx.store`` must be open).

    Examples
    --------
    >>> rank_scores_cli  # doctest: +ELLIPSIS
    <function rank_scores_cli at ...>
    """
    from ..score.engagement import engagement_influence
    from ..score.rank import RANKINGS, follower_counts
    scores = rank_scores(ctx, ctx.store)
    gate = scores.pop("trust_gate")
    # ranked by the count that rank prints (the profile's, where known), as locally
    scores["followers"] = follower_counts(ctx).astype(np.float64)
    scores["engagement"] = engagement_influence(
        ctx.graph, np.asarray(ctx.weight, np.float64) * gate)
    return {r: scores[r] for r in RANKINGS}


def overlap(ctx, store, creators: Sequence[str]) -> dict:
    """Exact audience overlap of ``creators`` computed by Spark, reported as
    :func:`trueclout.discover.overlap.audience_overlap` does.

    Examples
    --------
    >>> overlap  # doctest: +ELLIPSIS
    <function overlap at ...>
    """
    from ..discover.targets import account_label, follower_fields, handles, resolve_many
    from . import pagerank as P
    from .overlap import audience_overlap
    from .reach import audience_weights
    items = list(creators)
    if len(items) < 2:
        raise UsageError("give at least two creators to compare")
    v = resolve_many(ctx.data, [str(c) for c in items])
    names = [account_label(ctx.data, x) for x in v]
    with store_layout(store, ctx) as L:
        aud = audience_weights(L, P.trust(L)).localCheckpoint()
        return audience_overlap(
            L, names, aud, labels=names, handles=handles(ctx.data, v),
            counts=follower_fields(ctx.data, v),
            flagged=[bool(ctx.suspicious[x]) for x in v])


def feature_table(store, folder: str | None = None):
    """The :data:`~trueclout.spark.features.SPARK_FEATURES` table of a store (or of a
    Parquet ``folder`` when given), computed by Spark, as an Arrow table.

    Examples
    --------
    >>> feature_table  # doctest: +ELLIPSIS
    <function feature_table at ...>
    """
    from .features import account_features
    from .layout import read_layout
    from .session import require_spark, spark_session
    require_spark()
    if folder is not None:
        layout = read_layout(spark_session(), str(folder))
        return account_features(layout).orderBy("id").drop("id").toArrow()
    with store_layout(store) as layout:
        return account_features(layout).orderBy("id").drop("id").toArrow()
