"""Reading a trueclout Parquet folder into Spark DataFrames with dense vertex ids.

The folder is the layout the simulator writes (:mod:`trueclout.simulate.core`) and
``trueclout export`` writes from a store (:mod:`trueclout.store.export`)::

    accounts.parquet        platform, account_id, handle, ..., created_at, observed_at
    follows/                platform, src, dst, created_at, removed_at, observed_at
    interactions/           platform, src, dst, kind, post_id, created_at   (optional)
    posts/                  platform, post_id, author, created_at, hashtags, mentions, ...
                                                                            (optional)
    labels.parquet          platform, account_id, label, source             (optional)
    detection.parquet       platform, account_id, authenticity, weight, suspicious,
                            penalty, seed_labelled                          (export only)

Each of these may be one file or a folder of part files, on a local disk or in object
storage (``s3a://bucket/path``, with hadoop-aws on the classpath).

Vertices are every account of ``accounts`` and every end of a follow or an interaction,
numbered ``0..n-1`` in (platform, account_id) order: the order of the local graph
builder (:func:`trueclout.graph.build.build_graph`), so ids, ties and top lists agree
between the backends. The numbering is a range partitioning plus per-partition offsets
(no single-partition sort), checkpointed so it is computed once.

Examples
--------
>>> sorted(DETECTION_COLUMNS)[:2]
['authenticity', 'penalty']
>>> from trueclout.spark.session import spark_session
>>> layout = read_layout(spark_session(), "platform/")  # doctest: +SKIP
>>> layout.n, layout.follows.columns  # doctest: +SKIP
(6000, ['src', 'dst'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError

#: The detection columns the export writes, with the value an account without a row gets.
DETECTION_COLUMNS = {"authenticity": 1.0, "weight": 1.0, "suspicious": False,
                     "penalty": 0.0, "seed_labelled": False}

#: Text profile columns kept as strings (null where unknown).
TEXT_PROFILE = ("handle", "name", "description", "url", "location")

#: Profile columns read as numbers (NaN where unknown), as :class:`DetectionData` does.
NUMERIC_PROFILE = ("followers_count", "following_count", "posts_count", "listed_count",
                   "likes_count", "verified", "default_profile_image", "protected")


@dataclass
class SparkLayout:
    """The DataFrames of one Parquet folder, with dense vertex ids.

    Attributes
    ----------
    spark : SparkSession
    n : int
        Number of vertices.
    vertices : DataFrame
        ``id`` (long), ``platform``, ``account_id``.
    follows : DataFrame
        Current follows without repeats: ``src``, ``dst`` (follower -> followed), ``ts``
        (epoch seconds of the follow, null where unknown).
    removed : DataFrame
        Undone follows: ``src``, ``dst``, ``created``, ``removed`` (epoch seconds).
    interactions : DataFrame
        ``src``, ``dst``, ``kind`` (interactor -> author), one row per interaction.
    accounts : DataFrame
        ``id``, ``platform`` and the profile columns (counts as double, times as epoch
        seconds, the text columns of :data:`TEXT_PROFILE` as strings).
    labels : DataFrame or None
        ``id``, ``label``.
    detection : DataFrame or None
        ``id`` and :data:`DETECTION_COLUMNS` for every vertex.
    posts : DataFrame or None
        ``author``, ``ts`` (epoch seconds), ``tagged`` (has hashtags or mentions).
    folder : str
        Where it was read from.

    Examples
    --------
    >>> sorted(DETECTION_COLUMNS)
    ['authenticity', 'penalty', 'seed_labelled', 'suspicious', 'weight']
    """

    spark: Any
    n: int
    vertices: Any
    follows: Any
    removed: Any
    interactions: Any
    accounts: Any
    labels: Any = None
    detection: Any = None
    posts: Any = None
    folder: str = ""

    def names(self, df):
        """``df`` (with an ``id`` column) with ``platform`` and ``account_id`` added.

        Examples
        --------
        >>> SparkLayout.names  # doctest: +ELLIPSIS
        <function SparkLayout.names at ...>
        """
        return df.join(self.vertices, "id")

    def unpersist(self) -> None:
        """Drop the cached DataFrames.

        Examples
        --------
        >>> SparkLayout.unpersist  # doctest: +ELLIPSIS
        <function SparkLayout.unpersist at ...>
        """
        for df in (self.vertices, self.follows, self.interactions, self.accounts):
            df.unpersist()


def _read(spark, folder: str, name: str, required: bool):
    base = folder.rstrip("/")
    stem = name[:-len(".parquet")] if name.endswith(".parquet") else name
    last = None
    for path in (f"{base}/{stem}.parquet", f"{base}/{stem}"):
        try:
            return spark.read.parquet(path)
        except Exception as exc:  # AnalysisException: the path does not exist
            last = exc
    if required:
        raise InputError(f"{folder} has no {stem} table ({stem}.parquet or {stem}/): "
                         f"{str(last).splitlines()[0] if last else ''}")
    return None


def _epoch(col):
    """Epoch seconds of a timestamp column, rounded as the store's ``epoch(t)::BIGINT``."""
    from pyspark.sql import functions as F
    return F.round(F.unix_micros(col) / F.lit(1e6)).cast("long")


def dense_ids(names_df, partitions: int):
    """Number the distinct rows of ``names_df`` (platform, account_id) ``0..n-1`` in sort
    order, without moving all rows to one partition; checkpointed.

    Examples
    --------
    >>> dense_ids  # doctest: +ELLIPSIS
    <function dense_ids at ...>
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    spark = names_df.sparkSession
    ranged = (names_df.repartitionByRange(max(1, partitions), "platform", "account_id")
              .withColumn("_part", F.spark_partition_id()))
    local = ranged.withColumn("_k", F.row_number().over(
        Window.partitionBy("_part").orderBy("platform", "account_id")) - 1)
    local = local.localCheckpoint(eager=True)
    counts = sorted((r["_part"], r["c"]) for r in
                    local.groupBy("_part").agg(F.count("*").alias("c")).collect())
    offsets, total = [], 0
    for part, c in counts:
        offsets.append((int(part), total))
        total += int(c)
    off = spark.createDataFrame(offsets or [(0, 0)], "_part int, _off long")
    out = (local.join(F.broadcast(off), "_part")
           .select((F.col("_off") + F.col("_k")).cast("long").alias("id"),
                   "platform", "account_id"))
    return out.localCheckpoint(eager=True), total


def read_layout(spark, folder: str, *, partitions: int | None = None) -> SparkLayout:
    """Read a trueclout Parquet folder (see the module docstring).

    Parameters
    ----------
    spark : SparkSession
    folder : str
        Local path or URL (``s3a://``, ``hdfs://``, ``file://``).
    partitions : int, optional
        Partitions of the edge tables (default ``spark.sql.shuffle.partitions``).

    Returns
    -------
    SparkLayout

    Examples
    --------
    >>> read_layout  # doctest: +ELLIPSIS
    <function read_layout at ...>
    """
    from pyspark.sql import functions as F
    parts = int(partitions or int(spark.conf.get("spark.sql.shuffle.partitions")))
    acc = _read(spark, folder, "accounts.parquet", True)
    fol = _read(spark, folder, "follows", True)
    inter = _read(spark, folder, "interactions", False)
    lab = _read(spark, folder, "labels.parquet", False)
    det = _read(spark, folder, "detection.parquet", False)
    pst = _read(spark, folder, "posts", False)
    if pst is not None and not {"platform", "author"} <= set(pst.columns):
        pst = None
    for df, need, what in ((acc, ("platform", "account_id"), "accounts"),
                           (fol, ("platform", "src", "dst"), "follows"),
                           (inter, ("platform", "src", "dst", "kind"), "interactions")):
        if df is not None and not set(need) <= set(df.columns):
            raise InputError(f"{what} in {folder} lacks columns "
                             f"{sorted(set(need) - set(df.columns))}")
    names = [acc.select("platform", "account_id"),
             fol.select("platform", F.col("src").alias("account_id")),
             fol.select("platform", F.col("dst").alias("account_id"))]
    if inter is not None:
        names += [inter.select("platform", F.col("src").alias("account_id")),
                  inter.select("platform", F.col("dst").alias("account_id"))]
    if pst is not None:
        names.append(pst.select("platform", F.col("author").alias("account_id")))
    allnames = names[0]
    for df in names[1:]:
        allnames = allnames.unionByName(df)
    allnames = allnames.where(F.col("account_id").isNotNull()).distinct()
    vertices, n = dense_ids(allnames, parts)

    def keyed(df, col, alias):
        v = vertices.select(F.col("platform").alias("_p"), F.col("account_id").alias("_a"),
                            F.col("id").alias(alias))
        return df.join(v, (df["platform"] == v["_p"]) & (df[col] == v["_a"])) \
            .drop("_p", "_a")

    f = keyed(keyed(fol, "src", "_s"), "dst", "_d")
    has_removed = "removed_at" in fol.columns
    cur = f.where(F.col("removed_at").isNull()) if has_removed else f
    ts = _epoch(F.col("created_at")) if "created_at" in fol.columns else F.lit(None)
    # repeats merged, keeping the earliest known time, as the graph builder does
    follows = (cur.select(F.col("_s").alias("src"), F.col("_d").alias("dst"),
                          ts.cast("long").alias("ts"))
               .groupBy("src", "dst").agg(F.min("ts").alias("ts"))
               .repartition(parts, "src").cache())
    if has_removed:
        created = _epoch(F.col("created_at")) if "created_at" in fol.columns else F.lit(None)
        removed = f.where(F.col("removed_at").isNotNull()).select(
            F.col("_s").alias("src"), F.col("_d").alias("dst"),
            created.cast("double").alias("created"),
            _epoch(F.col("removed_at")).cast("double").alias("removed"))
    else:
        removed = spark.createDataFrame([], "src long, dst long, created double, "
                                            "removed double")
    if inter is not None:
        x = keyed(keyed(inter, "src", "_s"), "dst", "_d")
        interactions = x.select(F.col("_s").alias("src"), F.col("_d").alias("dst"),
                                F.col("kind").cast("string").alias("kind")
                                ).repartition(parts, "src").cache()
    else:
        interactions = spark.createDataFrame([], "src long, dst long, kind string").cache()
    cols = [F.col("id")]
    for c in NUMERIC_PROFILE:
        cols.append((F.col(c).cast("double") if c in acc.columns else F.lit(None)
                     .cast("double")).alias(c))
    for c in ("created_at", "observed_at"):
        cols.append((_epoch(F.col(c)).cast("double") if c in acc.columns
                     else F.lit(None).cast("double")).alias(c))
    cols.append(F.col("platform"))
    for c in TEXT_PROFILE:
        cols.append((F.col(c).cast("string") if c in acc.columns else F.lit(None)
                     .cast("string")).alias(c))
    accounts = (vertices.join(acc.drop(*[c for c in acc.columns if c in ("id",)]),
                              ["platform", "account_id"], "left").select(*cols).cache())
    labels = None
    if lab is not None and {"platform", "account_id", "label"} <= set(lab.columns):
        labels = lab.join(vertices, ["platform", "account_id"]).select("id", "label")
    detection = None
    if det is not None:
        missing = set(DETECTION_COLUMNS) - set(det.columns)
        if missing:
            raise InputError(f"detection in {folder} lacks columns {sorted(missing)}")
        d = vertices.join(det, ["platform", "account_id"], "left")
        detection = d.select("id", *[F.coalesce(d[c], F.lit(v)).alias(c)
                                     for c, v in DETECTION_COLUMNS.items()]).cache()
    posts = None
    if pst is not None:
        def size(c):
            return F.coalesce(F.size(F.col(c)), F.lit(0)) if c in pst.columns else F.lit(0)
        tagged = F.greatest(size("hashtags"), F.lit(0)) + F.greatest(size("mentions"), F.lit(0))
        p = keyed(pst, "author", "author_id")
        posts = p.select(F.col("author_id").alias("author"),
                         (_epoch(F.col("created_at")) if "created_at" in pst.columns
                          else F.lit(None)).cast("double").alias("ts"),
                         (tagged > 0).alias("tagged"))
    return SparkLayout(spark=spark, n=int(n), vertices=vertices, follows=follows,
                       removed=removed, interactions=interactions, accounts=accounts,
                       labels=labels, detection=detection, posts=posts,
                       folder=str(folder))


def detection_input_table(ctx):
    """The detection output the Spark backend reads, one row per account of ``ctx``
    (a :class:`~trueclout.score.context.ScoreContext`): ``platform``, ``account_id``,
    ``authenticity``, ``weight`` (float32, gate × activity), ``suspicious``, ``penalty``
    (follow-back-farm penalty) and ``seed_labelled``: the trust seeds that the
    established-people rule does not give (the capped sample of labelled and verified
    accounts, :class:`trueclout.score.trust.TrustModel`); Spark adds the rule's seeds
    itself (:func:`trueclout.spark.pagerank.seeds`).

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> detection_input_table(toy_context()).column_names[2:]
    ['authenticity', 'weight', 'suspicious', 'penalty', 'seed_labelled']
    """
    import numpy as np
    import pyarrow as pa
    from ..score.rank import trust_model
    from ..score.trust import established_people, farm_penalty
    tm = trust_model(ctx)
    rule = established_people(ctx.data, ctx.authenticity)
    names = ctx.graph.names
    return pa.table({
        "platform": names.column("platform").cast(pa.string()),
        "account_id": names.column("account_id").cast(pa.string()),
        "authenticity": pa.array(np.asarray(ctx.authenticity, np.float64)),
        "weight": pa.array(np.asarray(ctx.weight, np.float32)),
        "suspicious": pa.array(np.asarray(ctx.suspicious, bool)),
        "penalty": pa.array(np.asarray(farm_penalty(ctx.ensemble, ctx.n), np.float64)),
        "seed_labelled": pa.array(np.asarray(tm.seeds_, bool) & ~rule),
    })


def export_layout(store, folder, ctx=None) -> dict[str, int]:
    """Export ``store`` as a Parquet folder, with ``detection.parquet`` from ``ctx`` when
    given (TrueRank, reach and overlap on Spark need it).

    Examples
    --------
    >>> import tempfile, os
    >>> from trueclout.store import Store
    >>> d = tempfile.mkdtemp()
    >>> with Store(":memory:") as s:
    ...     sorted(export_layout(s, d))
    ['accounts', 'follows', 'interactions', 'labels', 'posts']
    """
    import os
    import pyarrow.parquet as pq
    from ..store.export import export_tables
    rows = export_tables(store, folder)
    if ctx is not None:
        t = detection_input_table(ctx)
        pq.write_table(t, os.path.join(str(folder), "detection.parquet"))
        rows["detection"] = t.num_rows
    return rows


def to_array(df, column: str, n: int, *, fill: float = 0.0, dtype=None):
    """Bring ``column`` of ``df`` (with an ``id`` column) to the driver as a numpy array
    indexed by vertex id (Arrow transfer; ``fill`` where a vertex has no row).

    Examples
    --------
    >>> to_array  # doctest: +ELLIPSIS
    <function to_array at ...>
    """
    import numpy as np
    t = df.select("id", column).toArrow()
    ids = t.column("id").to_numpy()
    vals = t.column(column).to_numpy(zero_copy_only=False)
    out = np.full(n, fill, dtype=dtype or (vals.dtype if vals.size else np.float64))
    out[ids] = vals
    return out
