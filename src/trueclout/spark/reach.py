"""Authentic reach as a DataFrame job (:func:`trueclout.score.reach.authentic_reach`).

``reach(v) = sum over followers u of v of  weight(u) · h(u) · discount(u -> v)``

with ``weight`` the detection table's audience weight (gate × activity, float32), ``h``
the trust gate of :func:`trueclout.spark.pagerank.trust` and ``discount`` the reciprocal
discount of :func:`trueclout.spark.pagerank.discounted_follows`. One join and one
aggregation by the followed account. The topical form (relevance per follower) is left
to the local backend.

Examples
--------
>>> authentic_reach  # doctest: +ELLIPSIS
<function authentic_reach at ...>
"""

from __future__ import annotations


def audience_weights(layout, trust_df, detection=None):
    """``id``, ``voter_weight`` (``weight · h``, float64, as
    :func:`trueclout.score.reach.voter_weight`) and ``audience`` (float32, 0 for
    flagged accounts, as :func:`trueclout.discover.targets.audience_weight`).

    Examples
    --------
    >>> audience_weights  # doctest: +ELLIPSIS
    <function audience_weights at ...>
    """
    from pyspark.sql import functions as F
    det = layout.detection if detection is None else detection
    x = det.join(trust_df.select("id", "gate"), "id")
    vw = F.col("weight").cast("float").cast("double") * F.col("gate")
    return x.select("id", vw.alias("voter_weight"),
                    F.when(F.col("suspicious"), F.lit(0.0)).otherwise(vw).cast("float")
                    .alias("audience"))


def authentic_reach(layout, trust_df, detection=None):
    """``id``, ``reach`` of every vertex.

    Parameters
    ----------
    layout : SparkLayout
    trust_df : DataFrame
        :func:`trueclout.spark.pagerank.trust`'s output.
    detection : DataFrame, optional
        Default ``layout.detection``.

    Examples
    --------
    >>> authentic_reach  # doctest: +ELLIPSIS
    <function authentic_reach at ...>
    """
    from pyspark.sql import functions as F
    from .pagerank import discounted_follows
    a = audience_weights(layout, trust_df, detection).select(
        F.col("id").alias("src"), "voter_weight")
    e = discounted_follows(layout, detection)
    r = (e.join(a, "src").groupBy("dst")
         .agg(F.sum(F.col("voter_weight") * F.col("w")).alias("reach"))
         .withColumnRenamed("dst", "id"))
    return (layout.vertices.select("id").join(r, "id", "left")
            .select("id", F.coalesce("reach", F.lit(0.0)).alias("reach")))
