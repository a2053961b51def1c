"""Degrees, reciprocity and account features as DataFrame jobs.

:func:`degrees` gives each vertex's in- and out-degree and its reciprocated out-edges
(``u -> v`` with ``v -> u``; self-loops never count), as
:func:`trueclout.kernels.reciprocity.reciprocated_out_edges`; :func:`reciprocity` the
global share. :func:`account_features` computes the columns of
:data:`trueclout.detect.features.FEATURES` listed in :data:`SPARK_FEATURES` with the same
definitions (and the same NaN for unknown values), as float32: the profile counts, ages
and rates, the text features (trimmed like Arrow's ``utf8_trim_whitespace`` with Java's
Unicode ``\\s``; the regex counts use the same ASCII classes), the graph features
(degrees, reciprocity, follow bursts by a range window, suspicious followees, unfollow
share), the post activity (from the layout's ``posts``) and the missing-value
indicators: every feature of the local table.

Examples
--------
>>> from trueclout.detect.features import FEATURE_NAMES
>>> sorted(SPARK_FEATURES) == sorted(FEATURE_NAMES)
True
"""

from __future__ import annotations

from .. import config

DAY_S = 86_400

#: The feature columns the Spark backend computes (a subset of ``FEATURE_NAMES``).
SPARK_FEATURES: tuple[str, ...] = (
    "log_followers", "log_following", "log_posts", "log_listed", "log_likes",
    "log_age_days", "follower_ratio", "likes_per_post", "listed_share", "posts_per_day",
    "followers_per_day", "following_per_day", "likes_per_day", "listed_per_day",
    "default_profile_image", "protected", "posts_are_media",
    "has_description", "has_url", "has_location", "has_name", "completeness",
    "name_length", "name_digits", "name_words", "handle_length", "handle_digits",
    "handle_upper", "handle_underscore", "description_length", "missing_text",
    "graph_log_in_degree", "graph_log_out_degree", "graph_follower_ratio",
    "graph_reciprocity", "graph_in_burst", "graph_out_burst", "graph_followee_suspicious",
    "graph_unfollow_share",
    "missing_counts", "missing_age", "missing_likes", "missing_listed", "missing_image",
    "missing_graph", "activity_posts_per_day", "activity_tagged_share", "missing_activity",
)


def degrees(layout):
    """``id``, ``in_degree``, ``out_degree``, ``reciprocated`` (longs) of every vertex.

    Examples
    --------
    >>> degrees  # doctest: +ELLIPSIS
    <function degrees at ...>
    """
    from pyspark.sql import functions as F
    f = layout.follows.select("src", "dst")
    back = f.select(F.col("dst").alias("src"), F.col("src").alias("dst"))
    rec = (f.where(F.col("src") != F.col("dst")).join(back, ["src", "dst"])
           .groupBy("src").agg(F.count("*").alias("reciprocated")))
    dout = f.groupBy("src").agg(F.count("*").alias("out_degree"))
    din = f.groupBy("dst").agg(F.count("*").alias("in_degree"))
    v = layout.vertices.select("id")
    out = (v.join(din.withColumnRenamed("dst", "id"), "id", "left")
           .join(dout.withColumnRenamed("src", "id"), "id", "left")
           .join(rec.withColumnRenamed("src", "id"), "id", "left"))
    return out.select("id", *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c)
                              for c in ("in_degree", "out_degree", "reciprocated")])


def reciprocity(layout) -> float:
    """Global reciprocity: reciprocated follows / follows (NaN without follows), as
    :func:`trueclout.kernels.reciprocity.reciprocity`.

    Examples
    --------
    >>> reciprocity  # doctest: +ELLIPSIS
    <function reciprocity at ...>
    """
    from pyspark.sql import functions as F
    r = degrees(layout).agg(F.sum("reciprocated"), F.sum("out_degree")).first()
    return float(r[0]) / float(r[1]) if r[1] else float("nan")


def _burst(follows, key: str, window: int):
    """Per ``key`` vertex: the most follows within one window, and those with a time."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    known = follows.where(F.col("ts").isNotNull())
    w = Window.partitionBy(key).orderBy("ts").rangeBetween(-(int(window) - 1), 0)
    inwin = known.select(key, F.count("*").over(w).alias("k"))
    return inwin.groupBy(key).agg(F.max("k").alias("best"), F.count("*").alias("known"))


#: The text features (profile completeness, names, handles, descriptions).
TEXT_FEATURES = ("has_description", "has_url", "has_location", "has_name", "completeness",
                 "name_length", "name_digits", "name_words", "handle_length",
                 "handle_digits", "handle_upper", "handle_underscore", "description_length",
                 "missing_text")


def _trim(col):
    # Arrow's utf8_trim_whitespace trims Unicode white space; Java's \s does with (?U)
    from pyspark.sql import functions as F
    return F.regexp_replace(col, r"(?U)^\s+|\s+$", "")


def _count(col, pattern: str):
    from pyspark.sql import functions as F
    return F.coalesce(F.regexp_count(col, F.lit(pattern)), F.lit(0)).cast("double")


def _text_features(a):
    """The :data:`TEXT_FEATURES` columns added to the accounts table, with the rules of
    :func:`trueclout.detect.features.account_features`: a field counts as unknown (NaN)
    where no account of the platform with a profile has it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    nan = F.lit(None).cast("double")
    t = a.select("*", *[_trim(F.col(c)).alias(f"_t_{c}")
                        for c in ("handle", "name", "description", "url", "location")])
    known = (F.col("_t_handle").isNotNull() | F.col("_t_name").isNotNull()
             | F.col("_t_description").isNotNull())
    for c in ("followers_count", "following_count", "posts_count", "created_at"):
        known = known | F.col(c).isNotNull()
    t = t.withColumn("_known", known)
    plat = Window.partitionBy(F.coalesce(F.col("platform"), F.lit("")))

    def present(c):
        return (F.col(f"_t_{c}").isNotNull() & (F.length(F.col(f"_t_{c}")) > 0)).cast("double")

    for c in ("description", "url", "location", "name"):
        has = F.max(present(c) * F.col("_known").cast("double")).over(plat) > 0
        t = t.withColumn(f"_p_{c}", F.when(has & F.col("_known"), present(c)).otherwise(nan))
    parts = [F.col(f"_p_{c}") for c in ("description", "url", "location")]
    nknown = sum((p.isNotNull().cast("int") for p in parts), F.lit(0))
    total = sum((F.coalesce(p, F.lit(0.0)) for p in parts), F.lit(0.0))
    name_ok = F.col("_p_name") == 1.0
    h_ok = present("handle") == 1.0
    name, handle = F.col("_t_name"), F.col("_t_handle")
    length = F.length
    return t.select(
        "*",
        F.col("_p_description").alias("has_description"), F.col("_p_url").alias("has_url"),
        F.col("_p_location").alias("has_location"), F.col("_p_name").alias("has_name"),
        F.when(nknown > 0, total / nknown).otherwise(nan).alias("completeness"),
        F.when(name_ok, length(name).cast("double")).otherwise(nan).alias("name_length"),
        F.when(name_ok, _count(name, "[0-9]")).otherwise(nan).alias("name_digits"),
        F.when(name_ok, _count(name, r"\S+")).otherwise(nan).alias("name_words"),
        F.when(h_ok, length(handle).cast("double")).otherwise(nan).alias("handle_length"),
        F.when(h_ok, _count(handle, "[0-9]")).otherwise(nan).alias("handle_digits"),
        F.when(h_ok, _count(handle, "[A-Z]")).otherwise(nan).alias("handle_upper"),
        F.when(h_ok, _count(handle, "_")).otherwise(nan).alias("handle_underscore"),
        F.when(F.col("_p_description").isNull(), nan)
        .otherwise(F.coalesce(length(F.col("_t_description")), F.lit(0)).cast("double"))
        .alias("description_length"),
        F.when(F.col("_p_description").isNull() & F.col("_p_url").isNull()
               & F.col("_p_location").isNull(), F.lit(1.0)).otherwise(F.lit(0.0))
        .alias("missing_text"))


def account_features(layout):
    """The :data:`SPARK_FEATURES` columns of every vertex (float32, NaN where unknown).

    Returns
    -------
    DataFrame ``id``, ``platform``, ``account_id`` and one column per feature

    Examples
    --------
    >>> account_features  # doctest: +ELLIPSIS
    <function account_features at ...>
    """
    from pyspark.sql import functions as F
    nan = F.lit(None).cast("double")
    min_age = float(config.get("detect_min_age_days"))
    a = layout.accounts
    followers, following = F.col("followers_count"), F.col("following_count")
    posts, listed, likes = F.col("posts_count"), F.col("listed_count"), F.col("likes_count")
    age = (F.col("observed_at") - F.col("created_at")) / F.lit(float(DAY_S))
    # numpy's maximum keeps NaN; Spark's greatest would skip a null
    age_days = F.when(age.isNull(), nan).otherwise(F.greatest(age, F.lit(min_age)))

    def log_ratio(x, y):
        return F.log((x + F.lit(1.0)) / (y + F.lit(1.0)))

    c = {
        "log_followers": F.log1p(followers), "log_following": F.log1p(following),
        "log_posts": F.log1p(posts), "log_listed": F.log1p(listed),
        "log_likes": F.log1p(likes),
        "log_age_days": F.when(age.isNull(), nan).otherwise(
            F.log1p(F.greatest(age, F.lit(0.0)))),
        "follower_ratio": log_ratio(followers, following),
        "likes_per_post": log_ratio(likes, posts),
        "listed_share": listed / (listed + followers / F.lit(100.0) + F.lit(1.0)),
        "posts_per_day": F.log1p(posts / age_days),
        "followers_per_day": F.log1p(followers / age_days),
        "following_per_day": F.log1p(following / age_days),
        "likes_per_day": F.log1p(likes / age_days),
        "listed_per_day": F.log1p(F.lit(1000.0) * listed / age_days),
        "default_profile_image": F.col("default_profile_image"),
        "protected": F.col("protected"),
        "posts_are_media": F.when(F.lower(F.col("platform")).isin(
            [p.strip().lower() for p in config.get("media_platforms").split(",") if p.strip()]), F.lit(1.0))
        .otherwise(F.lit(0.0)),
        "missing_counts": (followers.isNull() | following.isNull()).cast("double"),
        "missing_age": age.isNull().cast("double"),
        "missing_likes": likes.isNull().cast("double"),
        "missing_listed": listed.isNull().cast("double"),
        "missing_image": F.col("default_profile_image").isNull().cast("double"),
    }
    text = _text_features(a)
    c.update({k: F.col(k) for k in TEXT_FEATURES})
    base = text.select("id", "followers_count", "following_count",
                       *[e.alias(k) for k, e in c.items()])

    f = layout.follows
    has_graph = f.limit(1).count() > 0
    graph_cols = ("graph_log_in_degree", "graph_log_out_degree", "graph_follower_ratio",
                  "graph_reciprocity", "graph_in_burst", "graph_out_burst",
                  "graph_followee_suspicious", "graph_unfollow_share")
    if not has_graph:
        out = base.select("id", *c.keys(), *[nan.alias(k) for k in graph_cols],
                          F.lit(1.0).alias("missing_graph"))
        return _finish(layout, out)
    deg = degrees(layout)
    din, dout = F.col("in_degree").cast("double"), F.col("out_degree").cast("double")
    g = deg.select(
        "id", "in_degree", "out_degree",
        F.log1p(din).alias("graph_log_in_degree"), F.log1p(dout).alias("graph_log_out_degree"),
        log_ratio(din, dout).alias("graph_follower_ratio"),
        F.when(dout > 0, F.col("reciprocated").cast("double") / F.greatest(dout, F.lit(1.0)))
        .otherwise(nan).alias("graph_reciprocity"))
    x = base.join(g, "id")
    # follow bursts: only when some follow has a time, as the graph's timestamps
    window = int(config.get("detect_burst_window_s"))
    prior = float(config.get("detect_burst_prior"))
    has_ts = f.where(F.col("ts").isNotNull()).limit(1).count() > 0
    for key, col in (("dst", "graph_in_burst"), ("src", "graph_out_burst")):
        if has_ts:
            b = _burst(f, key, window).withColumnRenamed(key, "id")
            x = x.join(b, "id", "left").withColumn(
                col, F.when(F.col("known") > 0, F.col("best").cast("double")
                            / (F.col("known").cast("double") + F.lit(prior))).otherwise(nan)
            ).drop("best", "known")
        else:
            x = x.withColumn(col, nan)
    # suspicious followees: profile counts where known, else graph degrees
    ratio = float(config.get("detect_suspicious_ratio"))
    fo = F.coalesce(F.col("following_count"), dout)
    fr = F.coalesce(F.col("followers_count"), din)
    flag = x.select(F.col("id").alias("dst"),
                    ((fo + F.lit(1.0)) > F.lit(ratio) * (fr + F.lit(1.0))).cast("double")
                    .alias("flag"))
    sus = (f.select("src", "dst").join(flag, "dst").groupBy("src")
           .agg(F.avg("flag").alias("graph_followee_suspicious"))
           .withColumnRenamed("src", "id"))
    x = x.join(sus, "id", "left")
    rem = layout.removed
    if rem.limit(1).count() > 0:
        unf = rem.groupBy("src").agg(F.count("*").cast("double").alias("_unf")) \
            .withColumnRenamed("src", "id")
        x = x.join(unf, "id", "left").withColumn("_unf", F.coalesce("_unf", F.lit(0.0)))
        x = x.withColumn("graph_unfollow_share",
                         F.when(dout + F.col("_unf") > 0, F.col("_unf") / (dout + F.col("_unf")))
                         .otherwise(nan))
    else:
        x = x.withColumn("graph_unfollow_share", nan)
    out = x.select("id", *c.keys(), *graph_cols, F.lit(0.0).alias("missing_graph"))
    return _finish(layout, out)


def _activity(layout, df):
    """Add the post-activity features (as :func:`trueclout.detect.features.
    account_features` from the store's ``post_activity``)."""
    from pyspark.sql import functions as F
    nan = F.lit(None).cast("double")
    p = layout.posts
    if p is None or p.limit(1).count() == 0:
        return df.select("*", nan.alias("activity_posts_per_day"),
                         nan.alias("activity_tagged_share"),
                         F.lit(1.0).alias("missing_activity"))
    per = p.groupBy("author").agg(
        F.count("*").cast("double").alias("_posts"), F.min("ts").alias("_first"),
        F.max("ts").alias("_last"),
        F.avg(F.when(F.col("tagged"), F.lit(1.0)).otherwise(F.lit(0.0))).alias("_tag"))
    r = per.agg(F.max("_last"), F.min("_first")).first()
    span = (float(r[0]) - float(r[1])) / DAY_S if r[1] is not None else 1.0
    span = max(span, 1.0)
    x = df.join(per.withColumnRenamed("author", "id"), "id", "left")
    posts = F.coalesce(F.col("_posts"), F.lit(0.0))
    return x.select(*df.columns,
                    F.log1p(posts / F.lit(span)).alias("activity_posts_per_day"),
                    F.when(posts > 0, F.coalesce(F.col("_tag"), F.lit(0.0))).otherwise(nan)
                    .alias("activity_tagged_share"), F.lit(0.0).alias("missing_activity"))


def _finish(layout, df):
    from pyspark.sql import functions as F
    df = _activity(layout, df)
    cols = [F.coalesce(F.col(k).cast("double"), F.lit(float("nan"))).cast("float").alias(k)
            for k in SPARK_FEATURES]
    return layout.names(df.select("id", *cols)).select("id", "platform", "account_id",
                                                        *SPARK_FEATURES)
