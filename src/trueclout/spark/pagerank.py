"""PageRank and TrueRank as iterated DataFrame joins (no GraphFrames needed).

The same walk as :func:`trueclout.kernels.pagerank.pagerank`, one step being::

    y[v] = sum over edges (u -> v) of  x[u] * coef[u] * w(u, v)
    coef[u] = d * give[u] / W[u]          (0 where W[u] = 0: dangling)
    y   += max(1 - sum(y), 0) * prior

with the layers of the local kernel merged into one edge table (``w`` = the layer scale
times the entry weight; repeated interaction edges stay separate rows). Everything not
passed on (the teleport, dangling mass, the share a voter withholds) returns through the
prior, so the total stays 1. The step starts from ``x = prior`` and stops when the L1
change is below ``pagerank_tol`` or after ``pagerank_max_iter`` steps, as locally.

One step is one join of the (src-partitioned, cached) edges with the rank table, one
aggregation by ``dst`` and a left join back onto the vertex table; the result is
``localCheckpoint``-ed, so the lineage stays one step long; the step's total and L1
change are observed during that same job (``DataFrame.observe``), one Spark job a step.
Edges from vertices that pass nothing on (``coef = 0``) are dropped once.

TrueRank (:func:`truerank`) follows :mod:`trueclout.score.trust` and
:mod:`trueclout.score.truerank`: the authenticity gate and the reciprocal discount are
Spark SQL expressions mirroring the Python ones, and so is the established-people rule
that chooses most trust seeds (:func:`seeds`); authenticity, the farm penalty, the
audience weight and the capped sample of labelled seeds are the detection stage's
output, read from the layout's ``detection`` table (``trueclout export`` writes it).

Examples
--------
>>> from trueclout.spark.layout import read_layout
>>> from trueclout.spark.session import spark_session
>>> callable(truerank)
True
>>> pr = pagerank(read_layout(spark_session(), "platform/"))  # doctest: +SKIP
>>> pr.columns  # doctest: +SKIP
['id', 'pagerank']
"""

from __future__ import annotations

import math
from typing import Any

from .. import config


def gate_expr(col, *, mid: float | None = None, width: float | None = None):
    """Spark column: the smooth authenticity gate of :func:`trueclout.detect.weights.gate`.

    Examples
    --------
    >>> gate_expr  # doctest: +ELLIPSIS
    <function gate_expr at ...>
    """
    from pyspark.sql import functions as F
    m = float(config.value("score_gate_mid", mid))
    w = float(config.value("score_gate_width", width))
    top = 1.0 / (1.0 + math.exp(-(1.0 - m) / w))
    g = F.lit(1.0) / (F.lit(1.0) + F.exp(-(col.cast("double") - F.lit(m)) / F.lit(w)))
    return F.least(F.greatest(g / F.lit(top), F.lit(0.0)), F.lit(1.0))


def out_degree(layout):
    """``id``, ``deg``: follows made by each vertex (0 included), as double.

    Examples
    --------
    >>> out_degree  # doctest: +ELLIPSIS
    <function out_degree at ...>
    """
    from pyspark.sql import functions as F
    d = layout.follows.groupBy("src").agg(F.count("*").cast("double").alias("deg"))
    return (layout.vertices.select("id")
            .join(d.withColumnRenamed("src", "id"), "id", "left")
            .select("id", F.coalesce("deg", F.lit(0.0)).alias("deg")))


def iterate(vertices, edges, *, damping: float | None = None, tol: float | None = None,
            max_iter: int | None = None,
            stats: dict | None = None):
    """Run the weighted PageRank walk.

    Parameters
    ----------
    vertices : DataFrame
        ``id``, ``prior`` (>= 0, any positive sum), ``give`` (clipped to [0, 1]),
        ``norm`` (``W``).
    edges : DataFrame
        ``src``, ``dst``, ``w`` (>= 0; layer scale times entry weight).
    damping, tol, max_iter : optional
        Config ``pagerank_damping``, ``pagerank_tol``, ``pagerank_max_iter``.
    stats : dict, optional
        Filled with ``iterations`` and the last ``change``.

    Returns
    -------
    DataFrame ``id``, ``x`` (sums to 1)

    Examples
    --------
    >>> iterate  # doctest: +ELLIPSIS
    <function iterate at ...>
    """
    from pyspark.sql import functions as F
    d = float(config.value("pagerank_damping", damping))
    tol = float(config.value("pagerank_tol", tol))
    max_iter = int(config.value("pagerank_max_iter", max_iter))
    if not 0.0 <= d < 1.0:
        raise ValueError("damping must be within [0, 1)")
    psum = vertices.agg(F.sum("prior")).first()[0]
    if psum is None or psum <= 0:
        raise ValueError("prior must have a positive sum")
    spark = vertices.sparkSession
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    # adaptive execution re-plans every step; off, a step took 30% less in local[2]
    aqe = spark.conf.get("spark.sql.adaptive.enabled", "true")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        return _iterate(vertices, edges, d, tol, max_iter, float(psum), parts, stats)
    finally:
        spark.conf.set("spark.sql.adaptive.enabled", aqe)


def _iterate(vertices, edges, d, tol, max_iter, psum, parts, stats):
    from pyspark.sql import Observation
    from pyspark.sql import functions as F
    give = F.least(F.greatest(F.col("give").cast("double"), F.lit(0.0)), F.lit(1.0))
    state = vertices.select(
        "id", (F.col("prior") / F.lit(float(psum))).alias("p"),
        F.when(F.col("norm") > 0, F.lit(d) * give / F.col("norm")).otherwise(F.lit(0.0))
        .alias("coef"))
    live = state.where(F.col("coef") > 0).select(F.col("id").alias("src"))
    e = (edges.where(F.col("w") > 0).join(live, "src")
         .select("src", "dst", F.col("w").cast("double").alias("w"))
         .repartition(parts, "src").cache())
    # what each vertex passes along its edges per unit of mass: the next step's total
    # is sum(x * out), so the teleport share is known before the step
    wsum = e.groupBy("src").agg(F.sum("w").alias("ws")).withColumnRenamed("src", "id")
    state = (state.join(wsum, "id", "left")
             .select("id", "p", "coef", (F.col("coef") * F.coalesce("ws", F.lit(0.0)))
                     .alias("out"), F.col("p").alias("x"), F.lit(0.0).alias("x_old"))
             .repartition(parts, "id").localCheckpoint())
    row = state.agg(F.sum(F.col("x") * F.col("out")).alias("total")).first()
    it, change = 0, float("nan")
    while True:
        if tol > 0 and it > 0:
            change = float(row["change"] or 0.0)
            if change < tol:
                break
        if it == max_iter:
            break
        leak = max(1.0 - float(row["total"] or 0.0), 0.0)
        share = state.where(F.col("coef") > 0).select(
            F.col("id").alias("src"), (F.col("x") * F.col("coef")).alias("s"))
        contrib = (e.join(share, "src").groupBy("dst")
                   .agg(F.sum(F.col("s") * F.col("w")).alias("c"))
                   .withColumnRenamed("dst", "id"))
        nxt = (state.join(contrib, "id", "left")
               .select("id", "p", "coef", "out", F.col("x").alias("x_old"),
                       (F.coalesce(F.col("c"), F.lit(0.0)) + F.lit(leak) * F.col("p"))
                       .alias("x")))
        # one job per step: the checkpoint computes the new ranks, and the observed
        # aggregates give the step's change and the mass the next step passes on
        obs = Observation(f"trueclout_pagerank_{id(nxt)}_{it}")
        nxt = nxt.observe(obs, F.sum(F.col("x") * F.col("out")).alias("total"),
                          F.sum(F.abs(F.col("x") - F.col("x_old"))).alias("change"))
        state = nxt.localCheckpoint()
        row = obs.get
        it += 1
    e.unpersist()
    if stats is not None:
        stats.update(iterations=it, change=change)
    return state.select("id", "x")


def pagerank(layout, *, stats: dict | None = None, **kw: Any):
    """Plain PageRank over the follows (uniform teleport, dangling mass spread like it).

    Examples
    --------
    >>> pagerank  # doctest: +ELLIPSIS
    <function pagerank at ...>
    """
    from pyspark.sql import functions as F
    if layout.n == 0:
        return layout.vertices.select("id", F.lit(0.0).alias("pagerank"))
    v = out_degree(layout).select("id", F.lit(1.0).alias("prior"), F.lit(1.0).alias("give"),
                                  F.col("deg").alias("norm"))
    e = layout.follows.select("src", "dst", F.lit(1.0).alias("w"))
    return iterate(v, e, stats=stats, **kw).withColumnRenamed("x", "pagerank")


def discounted_follows(layout, detection=None):
    """Follows with the reciprocal discount of :func:`trueclout.kernels.reciprocity.
    reciprocal_discount`: ``src``, ``dst``, ``w`` = float32(1 - penalty[dst]) when
    ``dst`` follows ``src`` back, else 1 (all 1 when no penalty exceeds 1e-3, as locally).

    Examples
    --------
    >>> discounted_follows  # doctest: +ELLIPSIS
    <function discounted_follows at ...>
    """
    from pyspark.sql import functions as F
    det = layout.detection if detection is None else detection
    f = layout.follows
    top = det.agg(F.max("penalty")).first()[0] if det is not None else None
    if top is None or float(top) <= 1e-3:
        return f.select("src", "dst", F.lit(1.0).alias("w"))
    back = f.select(F.col("dst").alias("src"), F.col("src").alias("dst"),
                    F.lit(True).alias("_back"))
    pen = det.select(F.col("id").alias("dst"),
                     F.least(F.greatest(F.col("penalty").cast("double"), F.lit(0.0)),
                             F.lit(1.0)).alias("_pen"))
    x = f.join(back, ["src", "dst"], "left").join(pen, "dst", "left")
    w = F.when(F.col("_back").isNotNull() & (F.col("_pen") > 0),
               (F.lit(1.0) - F.col("_pen")).cast("float").cast("double")).otherwise(1.0)
    return x.select("src", "dst", w.alias("w"))


def seeds(layout, detection=None):
    """Trust seeds: the labelled sample of the detection table, or the established-people
    rule of :func:`trueclout.score.trust.established_people` (at least
    ``trust_seed_min_mutual`` mutual follows and ``trust_seed_min_followback`` of its
    follows returned, older than ``sybilrank_fallback_min_age_days`` where known, no
    follow undone within ``farm_churn_days``, authenticity gate at least
    ``trust_seed_min_gate``).

    Returns
    -------
    DataFrame ``id``, ``seed`` (boolean), ``established`` (boolean)

    Examples
    --------
    >>> seeds  # doctest: +ELLIPSIS
    <function seeds at ...>
    """
    from pyspark.sql import functions as F
    from .features import degrees
    det = layout.detection if detection is None else detection
    day = 86_400.0
    min_mutual = float(config.get("trust_seed_min_mutual"))
    min_fb = float(config.get("trust_seed_min_followback"))
    min_age = float(config.get("sybilrank_fallback_min_age_days"))
    churn = float(config.get("farm_churn_days")) * day
    quick = (layout.removed.where((F.col("removed") - F.col("created")) <= F.lit(churn))
             .groupBy("src").agg(F.count("*").alias("_quick"))
             .withColumnRenamed("src", "id"))
    age = (F.col("observed_at") - F.col("created_at")) / F.lit(day)
    x = (det.join(degrees(layout), "id")
         .join(layout.accounts.select("id", "observed_at", "created_at"), "id")
         .join(quick, "id", "left"))
    rec = F.col("reciprocated").cast("double")
    rule = ((rec >= F.lit(min_mutual)) & (rec >= F.lit(min_fb) * F.col("out_degree"))
            & (age.isNull() | (age >= F.lit(min_age)))
            & (F.coalesce(F.col("_quick"), F.lit(0)) == 0)
            & (gate_expr(F.col("authenticity")) >= F.lit(
                float(config.get("trust_seed_min_gate")))))
    return x.select("id", (F.col("seed_labelled").cast("boolean") | rule).alias("seed"),
                    rule.alias("established"))


def trust(layout, detection=None, *, tau: float | None = None, stats: dict | None = None):
    """TrustRank from the seeds, the trust gate and the voter weight
    (:class:`trueclout.score.trust.TrustModel`).

    Returns
    -------
    DataFrame ``id``, ``trust``, ``gate`` (h), ``voter`` (gate(authenticity) · h),
    ``g_auth``, ``seed``; checkpointed.

    Examples
    --------
    >>> trust  # doctest: +ELLIPSIS
    <function trust at ...>
    """
    from pyspark.sql import functions as F
    det = layout.detection if detection is None else detection
    if det is None:
        from ..errors import InputError
        raise InputError("TrueRank on Spark needs the detection table of the layout "
                         "(detection.parquet, written by trueclout export)")
    tau = float(config.value("trust_tau", tau))
    if tau <= 0:
        raise ValueError("tau must be positive")
    base = (det.select("id", gate_expr(F.col("authenticity")).alias("g_auth"))
            .join(seeds(layout, det).select("id", "seed"), "id").localCheckpoint())
    nseeds = base.where("seed").count()
    if nseeds == 0:
        out = base.select("id", F.lit(0.0).alias("trust"), F.lit(1.0).alias("gate"),
                          "g_auth", "seed")
    else:
        v = base.join(out_degree(layout), "id").select(
            "id", F.col("seed").cast("double").alias("prior"),
            F.col("g_auth").alias("give"), F.col("deg").alias("norm"))
        t = iterate(v, discounted_follows(layout, det), stats=stats)
        reached = max(t.where(F.col("x") > 0).count(), 1)
        out = base.join(t, "id").select(
            "id", F.col("x").alias("trust"),
            (F.lit(1.0) - F.exp(-F.col("x") * F.lit(float(reached)) / F.lit(tau)))
            .alias("gate"), "g_auth", "seed")
    return out.withColumn("voter", F.col("g_auth") * F.col("gate")).localCheckpoint()


def truerank(layout, detection=None, *, trust_df=None, stats: dict | None = None):
    """TrueRank of every vertex (:class:`trueclout.score.truerank.TrueRank`).

    Parameters
    ----------
    layout : SparkLayout
    detection : DataFrame, optional
        Default ``layout.detection``.
    trust_df : DataFrame, optional
        The output of :func:`trust` (computed here when not given).

    Returns
    -------
    DataFrame ``id``, ``truerank``, ``trust``, ``gate``, ``voter``

    Examples
    --------
    >>> truerank  # doctest: +ELLIPSIS
    <function truerank at ...>
    """
    from pyspark.sql import functions as F
    from ..score.truerank import interaction_weight, vote_norm
    t = trust(layout, detection) if trust_df is None else trust_df
    scale = float(config.get("truerank_interaction_scale"))
    edges = discounted_follows(layout, detection)
    norm = out_degree(layout)
    if scale > 0:
        kinds = [r["kind"] for r in layout.interactions.select("kind").distinct().collect()]
        if kinds:
            kw = F.create_map(*[x for k in kinds
                                for x in (F.lit(k), F.lit(scale * interaction_weight(k)))])
            ix = layout.interactions.select("src", "dst", kw[F.col("kind")].alias("w"))
            edges = edges.unionByName(ix)
            extra = ix.groupBy("src").agg(F.sum("w").alias("iw"))
            norm = (norm.join(extra.withColumnRenamed("src", "id"), "id", "left")
                    .select("id", (F.col("deg") + F.coalesce("iw", F.lit(0.0))).alias("deg")))
    vsum = t.agg(F.sum("voter")).first()[0] or 0.0
    if layout.n == 0 or vsum <= 0:
        return t.select("id", F.lit(0.0).alias("truerank"), "trust", "gate", "voter")
    k = float(vote_norm(0.0))     # the pseudo-follows of each vote, as locally
    v = t.join(norm, "id").select("id", F.col("voter").alias("prior"),
                                  F.col("voter").alias("give"),
                                  (F.col("deg") + F.lit(k)).alias("norm"))
    x = iterate(v, edges, stats=stats)
    return t.join(x, "id").select("id", F.col("x").alias("truerank"), "trust", "gate",
                                  "voter")
