"""Exact audience overlap as a DataFrame job (the ``exact`` method of
:func:`trueclout.discover.overlap.audience_overlap`).

The authentic audience of a creator is its followers with a positive audience weight
(:func:`trueclout.spark.reach.audience_weights`: gate × activity × trust gate, 0 for
flagged accounts). The followers of the listed creators are grouped by follower once;
every figure is then a sum over that grouped table:

- per creator: audience (count), authentic reach (sum of weights), unique audience and
  unique reach (followers no other listed creator has);
- per pair: followers in common and their reach (a self-join on the follower, ``i < j``);
- the union of all.

:func:`merge_counts` returns the same arrays as
:func:`trueclout.kernels.minhash.merge_rows`; :func:`audience_overlap` the same report
as the local exact method (names, handles and flags are looked up on the driver).

Examples
--------
>>> merge_counts  # doctest: +ELLIPSIS
<function merge_counts at ...>
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import UnknownAccountError, UsageError


def creator_ids(layout, creators: Sequence[str]) -> list[int]:
    """Vertex ids of ``platform:account_id`` names (or bare account ids when one
    platform holds them).

    Examples
    --------
    >>> creator_ids  # doctest: +ELLIPSIS
    <function creator_ids at ...>
    """
    from pyspark.sql import functions as F
    ids = []
    for c in creators:
        plat, sep, acc = str(c).partition(":")
        cond = ((F.col("platform") == plat) & (F.col("account_id") == acc)) if sep \
            else (F.col("account_id") == str(c))
        rows = layout.vertices.where(cond).select("id").limit(2).collect()
        if not rows:
            raise UnknownAccountError(c, where="the layout")
        if len(rows) > 1:
            raise UsageError(f"{c!r} names accounts on several platforms; "
                             "write platform:account_id")
        ids.append(int(rows[0]["id"]))
    if len(set(ids)) != len(ids):
        raise UsageError("list each creator once")
    return ids


def merge_counts(layout, rows: Sequence[int], audience):
    """Exact overlap of the creators ``rows`` (vertex ids), counting followers whose
    ``audience`` weight is positive.

    Parameters
    ----------
    layout : SparkLayout
    rows : sequence of int
    audience : DataFrame
        ``id``, ``audience`` (float32).

    Returns
    -------
    inter (C, C) int64, inter_w (C, C) float64, uniq (C,), uniq_w (C,), union, union_w
        As :func:`trueclout.kernels.minhash.merge_rows`.

    Examples
    --------
    >>> merge_counts  # doctest: +ELLIPSIS
    <function merge_counts at ...>
    """
    from pyspark.sql import functions as F
    rows = [int(r) for r in rows]
    c = len(rows)
    spark = layout.spark
    pos = spark.createDataFrame([(r, i) for i, r in enumerate(rows)], "dst long, i int")
    w = audience.where(F.col("audience") > 0).select(
        F.col("id").alias("src"), F.col("audience").cast("double").alias("w"))
    m = (layout.follows.select("src", "dst").join(F.broadcast(pos), "dst")
         .join(w, "src").select("src", "i", "w").cache())
    per_f = m.groupBy("src").agg(F.count("*").alias("k"), F.first("w").alias("w"),
                                 F.min("i").alias("i0"))
    inter = np.zeros((c, c), np.int64)
    inter_w = np.zeros((c, c), np.float64)
    uniq = np.zeros(c, np.int64)
    uniq_w = np.zeros(c, np.float64)
    for r in m.groupBy("i").agg(F.count("*").alias("n"), F.sum("w").alias("s")).collect():
        inter[r["i"], r["i"]] = r["n"]
        inter_w[r["i"], r["i"]] = r["s"]
    a, b = m.alias("a"), m.alias("b")
    pairs = (a.join(b, (F.col("a.src") == F.col("b.src")) & (F.col("a.i") < F.col("b.i")))
             .groupBy(F.col("a.i").alias("i"), F.col("b.i").alias("j"))
             .agg(F.count("*").alias("n"), F.sum("a.w").alias("s")))
    for r in pairs.collect():
        inter[r["i"], r["j"]] = inter[r["j"], r["i"]] = r["n"]
        inter_w[r["i"], r["j"]] = inter_w[r["j"], r["i"]] = r["s"]
    for r in (per_f.where(F.col("k") == 1).groupBy("i0")
              .agg(F.count("*").alias("n"), F.sum("w").alias("s")).collect()):
        uniq[r["i0"]] = r["n"]
        uniq_w[r["i0"]] = r["s"]
    tot = per_f.agg(F.count("*").alias("n"), F.sum("w").alias("s")).first()
    m.unpersist()
    return inter, inter_w, uniq, uniq_w, int(tot["n"] or 0), float(tot["s"] or 0.0)


def audience_overlap(layout, creators: Sequence[str], audience, *, labels=None,
                     handles=None, counts=None, flagged=None) -> dict:
    """The exact overlap report of :func:`trueclout.discover.overlap.audience_overlap`.

    Parameters
    ----------
    layout : SparkLayout
    creators : sequence of str
        ``platform:account_id`` names (at least two).
    audience : DataFrame
        ``id``, ``audience`` (:func:`trueclout.spark.reach.audience_weights`).
    labels, handles, counts, flagged : lists, optional
        Per creator, for the report (default: the name, no handle, the platform's
        follower count from the accounts table and the followers in the follows table as
        ``{"followers_count", "followers_known"}``, not flagged).

    Examples
    --------
    >>> audience_overlap  # doctest: +ELLIPSIS
    <function audience_overlap at ...>
    """
    from pyspark.sql import functions as F
    from ..discover.overlap import creator_overlap, pair_overlap
    items = list(creators)
    if len(items) < 2:
        raise UsageError("give at least two creators to compare")
    v = creator_ids(layout, items)
    inter, inter_w, uniq, uniq_w, union, union_w = merge_counts(layout, v, audience)
    cnt = {r["dst"]: r["n"] for r in layout.follows.where(F.col("dst").isin(v))
           .groupBy("dst").agg(F.count("*").alias("n")).collect()}
    c = len(v)
    names = labels or [str(x) for x in items]
    hs = handles or [None] * c
    if counts is None:
        reported = {}
        if "followers_count" in layout.accounts.columns:
            reported = {r["id"]: r["followers_count"] for r in layout.accounts.where(
                F.col("id").isin(v)).select("id", "followers_count").collect()}
        counts = [{"followers_count": (None if reported.get(x) is None
                                       else int(reported[x])),
                   "followers_known": int(cnt.get(x, 0))} for x in v]
    fol = [c_["followers_known"] for c_ in counts]
    flg = flagged or [False] * c
    out_c = []
    for i in range(c):
        d = creator_overlap(inter[i, i], inter_w[i, i], uniq[i], uniq_w[i])
        out_c.append({"account": names[i], "handle": hs[i], **counts[i],
                      "flagged": bool(flg[i]), **d})
    pairs = []
    for i in range(c):
        for j in range(i + 1, c):
            p = pair_overlap(i, j, inter[i, i], inter[j, j], inter[i, j], inter_w[i, i],
                      inter_w[j, j], inter_w[i, j])
            p.pop("i"), p.pop("j")
            pairs.append({"a": names[i], "b": names[j], **p})
    entries = int(sum(fol))
    return {"method": "exact", "k": None, "follower_entries": entries,
            "creators": out_c, "pairs": pairs,
            "union": {"audience": int(union), "reach": round(float(union_w), 4)}}
