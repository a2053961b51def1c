"""Per-account features for the authenticity classifier: profile, graph and activity.

:func:`account_features` turns a :class:`~trueclout.detect.data.DetectionData` into a
float32 matrix, one row per vertex, one column per entry of :data:`FEATURES` (in that
order). The table documents each feature: its group (used to word the reasons), the
direction in which it points when it has one, and how it is computed.

Sources
-------
* Profile features after Cresci et al. 2015 ("Fame for sale", the "Class A" profile
  features) and Yang et al. 2020 (BotometerLite: counts, counts per day of account age,
  lengths and digit counts of the name and handle, description length).
* Graph features after Ghosh et al. 2012 (reciprocity of follows, following far above
  followers, unfollow churn) and the follow-time view of CopyCatch (Beutel et al. 2013:
  followers that arrive together).

Design for other populations
----------------------------
Bought followers of later years are older and larger than the 2013 accounts of Cresci
et al., and the humans of other sources differ too. Every count therefore also appears as
a scale-free form (a ratio, a rate per day of age); the classifier's field sets
(:mod:`trueclout.detect.fieldsets`) leave out the absolute account age, which tells data
sets and years apart (see ``detect/README.md``).

Missing values
--------------
A value the source does not provide is NaN, never 0, and an indicator column
(``missing_*``) says so. A text field (description, URL, location, name) counts as
unknown, not as empty, when no account of the same platform has it (the source does
not carry the field). Graph features are NaN when the graph has no follows; timing
features are NaN when follow times are unknown; activity features are NaN when the
store holds no posts; the unfollow share is NaN when the store records no unfollow.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> X, names = account_features(DetectionData.from_graph(toy_graph()))
>>> X.shape == (6, len(FEATURES)), X.dtype.name
(True, 'float32')
>>> round(float(X[2, names.index("graph_log_in_degree")]), 3)  # cat: 5 followers
1.792
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import config
from ..kernels.csr import TS_UNKNOWN
from ..kernels.reciprocity import reciprocated_out_edges
from .data import DetectionData

DAY_S = 86_400


@dataclass(frozen=True)
class Feature:
    """One column of the feature matrix.

    Attributes
    ----------
    name : str
    group : str
        The reason group it belongs to (:mod:`trueclout.detect.classifier` words one
        reason per group).
    kind : str
        ``profile``, ``text``, ``context`` (what the platform is, not the account),
        ``graph``, ``activity`` or ``indicator``.
    direction : int
        +1 when larger values make an account more likely real, -1 more likely fake,
        0 when there is no fixed direction. Used as a monotonic constraint.
    help : str
        How it is computed.

    Examples
    --------
    >>> FEATURES[0].name, FEATURES[0].kind
    ('log_followers', 'profile')
    """

    name: str
    group: str
    kind: str
    direction: int
    help: str


#: Every feature, in column order.
FEATURES: tuple[Feature, ...] = (
    # -- profile counts ---------------------------------------------------------------
    Feature("log_followers", "follow_ratio", "profile", 0, "log1p(followers_count)"),
    Feature("log_following", "follow_ratio", "profile", 0, "log1p(following_count)"),
    Feature("log_posts", "posts", "profile", 0, "log1p(posts_count)"),
    Feature("log_listed", "listed", "profile", 0, "log1p(listed_count)"),
    Feature("log_likes", "likes", "profile", 0, "log1p(likes_count)"),
    Feature("log_age_days", "age", "profile", 0,
            "log1p(account age in days), age = observed_at - created_at"),
    # -- ratios: scale-free ---------------------------------------------------------
    Feature("follower_ratio", "follow_ratio", "profile", +1,
            "log((followers + 1) / (following + 1)): smooth, no cliff at any count"),
    Feature("likes_per_post", "likes", "profile", 0,
            "log((likes + 1) / (posts + 1))"),
    Feature("listed_share", "listed", "profile", 0,
            "listed / (listed + followers / 100 + 1): lists per hundred followers, "
            "shrunk towards 0 for small accounts"),
    # -- rates per day of age (BotometerLite's growth rates) -------------------------
    Feature("posts_per_day", "posts", "profile", 0, "log1p(posts_count / age_days)"),
    Feature("followers_per_day", "follow_ratio", "profile", 0,
            "log1p(followers_count / age_days)"),
    Feature("following_per_day", "follow_ratio", "profile", 0,
            "log1p(following_count / age_days)"),
    Feature("likes_per_day", "likes", "profile", 0, "log1p(likes_count / age_days)"),
    Feature("listed_per_day", "listed", "profile", 0,
            "log1p(1000 * listed_count / age_days)"),
    # -- completeness ---------------------------------------------------------------
    Feature("has_description", "description", "text", +1, "description is not empty"),
    Feature("has_url", "url", "text", +1, "profile URL is not empty"),
    Feature("has_location", "location", "text", 0, "location is not empty"),
    Feature("has_name", "name", "text", 0, "display name is not empty"),
    Feature("default_profile_image", "image", "profile", -1,
            "the account kept the default avatar (1) or not (0)"),
    Feature("protected", "private", "profile", +1,
            "the account is private (protected) (1) or public (0)"),
    Feature("posts_are_media", "platform", "context", 0,
            "the platform's posts are photos or videos (media_platforms: Instagram, TikTok, "
            "...; 1), so a real account has tens of them, not thousands; 0 elsewhere"),
    Feature("completeness", "description", "text", +1,
            "mean of has_description, has_url, has_location"),
    # -- name, handle, description ----------------------------------------------------
    Feature("name_length", "name", "text", 0, "characters in the display name"),
    Feature("name_digits", "name", "text", 0, "digits in the display name"),
    Feature("name_words", "name", "text", 0, "words (space-separated) in the display name"),
    Feature("handle_length", "handle", "text", 0,
            "characters in the handle (or extra.handle_length where the source gives "
            "only the length)"),
    Feature("handle_digits", "handle", "text", 0,
            "digits in the handle (or extra.handle_digits)"),
    Feature("handle_upper", "handle", "text", 0, "capital letters in the handle"),
    Feature("handle_underscore", "handle", "text", 0, "underscores in the handle"),
    Feature("description_length", "description", "text", 0,
            "characters in the description (0 when empty; or extra.description_length)"),
    # -- graph ----------------------------------------------------------------------
    Feature("graph_log_in_degree", "graph_degree", "graph", 0,
            "log1p(followers in the follow graph)"),
    Feature("graph_log_out_degree", "graph_degree", "graph", 0,
            "log1p(accounts followed in the follow graph)"),
    Feature("graph_follower_ratio", "graph_degree", "graph", 0,
            "log((in-degree + 1) / (out-degree + 1)) in the follow graph"),
    Feature("graph_reciprocity", "reciprocity", "graph", 0,
            "share of the accounts it follows that follow it back (NaN: follows nobody)"),
    Feature("graph_in_burst", "burst", "graph", 0,
            "largest number of followers gained within one window (detect_burst_window_s) "
            "/ (followers with a known time + detect_burst_prior)"),
    Feature("graph_out_burst", "burst", "graph", 0,
            "the same for the accounts it follows"),
    Feature("graph_followee_suspicious", "followees", "graph", 0,
            "share of the accounts it follows that follow more than "
            "detect_suspicious_ratio times as many accounts as follow them"),
    Feature("graph_unfollow_share", "churn", "graph", 0,
            "unfollows / (current follows + unfollows) of the account"),
    # -- activity ---------------------------------------------------------------------
    Feature("activity_posts_per_day", "activity", "activity", 0,
            "log1p(posts in the store / days the store's posts span)"),
    Feature("activity_tagged_share", "activity", "activity", 0,
            "share of its posts with hashtags or mentions (NaN: no posts)"),
    # -- missing-value indicators ---------------------------------------------------
    Feature("missing_counts", "missing", "indicator", 0,
            "followers or following count unknown"),
    Feature("missing_age", "missing", "indicator", 0, "creation or observation time unknown"),
    Feature("missing_likes", "missing", "indicator", 0,
            "likes count unknown (for example X API v2)"),
    Feature("missing_listed", "missing", "indicator", 0,
            "listed count unknown (platforms without lists)"),
    Feature("missing_text", "missing", "indicator", 0,
            "description, URL and location unknown (the source has none)"),
    Feature("missing_image", "missing", "indicator", 0, "default-avatar flag unknown"),
    Feature("missing_graph", "missing", "indicator", 0, "no follow graph"),
    Feature("missing_activity", "missing", "indicator", 0, "no posts in the store"),
)

#: Column names, in order.
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)

#: Version of the feature schema: a saved model records it and refuses to load under
#: another one. Bump ``_SCHEMA_REVISION`` when a computation changes without a rename.
_SCHEMA_REVISION = 3
FEATURE_SCHEMA: str = hashlib.sha256(
    (str(_SCHEMA_REVISION) + "|" + "|".join(FEATURE_NAMES)).encode()).hexdigest()[:16]

#: Profile features read from each text column.
_TEXT_COLUMNS = ("description", "url", "location", "name")


def feature_table() -> str:
    """The :data:`FEATURES` table as markdown (for the README).

    Examples
    --------
    >>> feature_table().splitlines()[0]
    '| feature | group | kind | direction | computed as |'
    """
    lines = ["| feature | group | kind | direction | computed as |",
             "|---|---|---|---|---|"]
    for f in FEATURES:
        d = {1: "real +", -1: "fake +", 0: ""}[f.direction]
        lines.append(f"| `{f.name}` | {f.group} | {f.kind} | {d} | {f.help} |")
    return "\n".join(lines)


# -- kernels --------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _burst_rows(indptr, ts, window):  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    best = np.zeros(n, np.int64)
    known = np.zeros(n, np.int64)
    for v in range(n):
        a = indptr[v]
        b = indptr[v + 1]
        k = 0
        for j in range(a, b):
            if ts[j] != TS_UNKNOWN:
                k += 1
        known[v] = k
        if k == 0:
            continue
        t = np.empty(k, np.int64)
        k = 0
        for j in range(a, b):
            if ts[j] != TS_UNKNOWN:
                t[k] = ts[j]
                k += 1
        t.sort()
        lo = 0
        m = 0
        for hi in range(k):
            while t[hi] - t[lo] >= window:
                lo += 1
            if hi - lo + 1 > m:
                m = hi - lo + 1
        best[v] = m
    return best, known


@numba.njit(cache=True, nogil=True)
def _row_mean(indptr, indices, flag):  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    out = np.full(n, np.nan)
    for v in range(n):
        a = indptr[v]
        b = indptr[v + 1]
        if b > a:
            s = 0.0
            for j in range(a, b):
                s += flag[indices[j]]
            out[v] = s / (b - a)
    return out


def burst_counts(indptr: np.ndarray, ts: np.ndarray, window: int) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Per CSR row: the most entries whose times fall within one ``window``, and the
    number of entries with a known time.

    Examples
    --------
    >>> import numpy as np
    >>> best, known = burst_counts(np.array([0, 3, 4]),
    ...                            np.array([0, 10, 500, TS_UNKNOWN], np.int32), 100)
    >>> best.tolist(), known.tolist()
    ([2, 0], [3, 0])
    """
    return _burst_rows(np.asarray(indptr, np.int64), np.asarray(ts), int(window))


# -- helpers --------------------------------------------------------------------------
def _text(data: DetectionData, name: str) -> pa.Array | None:
    if name not in data.profiles.column_names:
        return None
    col = data.profiles.column(name)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = col.cast(pa.string())
    return pc.utf8_trim_whitespace(col)


def _present(col: pa.Array) -> np.ndarray:
    ok = pc.and_(pc.is_valid(col), pc.greater(pc.utf8_length(col), 0))
    return pc.fill_null(ok, False).to_numpy(zero_copy_only=False).astype(np.float64)


def _count(col: pa.Array, pattern: str) -> np.ndarray:
    c = pc.count_substring_regex(col, pattern)
    return pc.fill_null(c, 0).to_numpy(zero_copy_only=False).astype(np.float64)


def _length(col: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.utf8_length(col), 0).to_numpy(zero_copy_only=False
                                                          ).astype(np.float64)


#: Keys of ``extra`` that give a length or count where a source has no text (the social
#: honeypot's and InstaFake's handle and description lengths).
EXTRA_LENGTHS = ("handle_length", "handle_digits", "description_length")


def extra_lengths(data: DetectionData) -> dict[str, np.ndarray]:
    """Per account, the :data:`EXTRA_LENGTHS` found in its ``extra`` JSON (NaN where
    absent), for sources that publish lengths instead of texts.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from trueclout.graph.toy import toy_graph
    >>> prof = pa.table({"extra": ['{"handle_length": 8, "description_length": 0}'] + [None] * 5})
    >>> L = extra_lengths(DetectionData.from_graph(toy_graph(), prof))
    >>> L["handle_length"][:2].tolist(), float(L["description_length"][0])
    ([8.0, nan], 0.0)
    """
    out = {k: np.full(data.n, np.nan) for k in EXTRA_LENGTHS}
    if "extra" not in data.profiles.column_names:
        return out
    col = data.profiles.column("extra")
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.null_count == len(col):
        return out
    col = col.cast(pa.string())
    for k in EXTRA_LENGTHS:
        m = pc.extract_regex(col, rf'"{k}":\s*(?P<v>\d+)')
        v = pc.struct_field(m, "v")
        out[k] = pc.cast(v, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return out


def media_platform(data: DetectionData) -> np.ndarray:
    """1.0 for accounts of a platform whose posts are photos or videos (the setting
    ``media_platforms``), else 0.0.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from trueclout.graph.toy import toy_graph
    >>> prof = pa.table({"platform": ["instagram", "twitter"] + ["toy"] * 4})
    >>> media_platform(DetectionData.from_graph(toy_graph(), prof))[:3].tolist()
    [1.0, 0.0, 0.0]
    """
    media = [p.strip().lower() for p in config.get("media_platforms").split(",") if p.strip()]
    if "platform" in data.profiles.column_names:
        col = data.profiles.column("platform").combine_chunks().cast(pa.string())
        hit = pc.is_in(pc.utf8_lower(col), value_set=pa.array(media, pa.string()))
        return pc.fill_null(hit, False).to_numpy(zero_copy_only=False).astype(np.float64)
    return np.zeros(data.n)


def _platform_codes(data: DetectionData) -> np.ndarray:
    if "platform" in data.profiles.column_names:
        col = data.profiles.column("platform").combine_chunks()
        enc = pc.dictionary_encode(pc.fill_null(col.cast(pa.string()), ""))
        return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return np.zeros(data.n, np.int64)


def _source_has(present: np.ndarray, codes: np.ndarray, profile_known: np.ndarray
                ) -> np.ndarray:
    """Per account: whether any account of its platform with a profile has the field."""
    if codes.size == 0:
        return np.zeros(0, bool)
    k = int(codes.max()) + 1
    has = np.bincount(codes, weights=present * profile_known, minlength=k) > 0
    return has[codes] & profile_known.astype(bool)


def log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log((a + 1) / (b + 1))``: a ratio of two counts that zero cannot break.

    Examples
    --------
    >>> log_ratio(np.array([0.0, 99.0]), np.array([0.0, 9.0])).round(3).tolist()
    [0.0, 2.303]
    """
    return np.log((a + 1.0) / (b + 1.0))


def count_features(followers, following, posts, listed, likes, age) -> dict[str, np.ndarray]:
    """The count-based feature columns (logs, ratios, rates per day) from the profile
    counts and the age in days; shared by the batch features and the incremental ones.

    Examples
    --------
    >>> one = np.array([10.0])
    >>> cols = count_features(one, one, one, one * 0, one, np.array([100.0]))
    >>> float(cols["follower_ratio"][0]), round(float(cols["posts_per_day"][0]), 2)
    (0.0, 0.1)
    """
    cols = {}
    age_days = np.maximum(age, config.get("detect_min_age_days"))
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["log_followers"] = np.log1p(followers)
        cols["log_following"] = np.log1p(following)
        cols["log_posts"] = np.log1p(posts)
        cols["log_listed"] = np.log1p(listed)
        cols["log_likes"] = np.log1p(likes)
        cols["log_age_days"] = np.log1p(np.maximum(age, 0.0))
        cols["follower_ratio"] = log_ratio(followers, following)
        cols["likes_per_post"] = log_ratio(likes, posts)
        cols["listed_share"] = listed / (listed + followers / 100.0 + 1.0)
        cols["posts_per_day"] = np.log1p(posts / age_days)
        cols["followers_per_day"] = np.log1p(followers / age_days)
        cols["following_per_day"] = np.log1p(following / age_days)
        cols["likes_per_day"] = np.log1p(likes / age_days)
        cols["listed_per_day"] = np.log1p(1000.0 * listed / age_days)
    return cols


#: The profile counts that :func:`with_counts` reads and rewrites.
COUNTS = ("followers", "following", "posts", "listed", "likes")


def profile_counts(X: np.ndarray) -> dict[str, np.ndarray]:
    """The profile counts and age (days) behind rows of a feature matrix.

    Examples
    --------
    >>> X = np.zeros((1, len(FEATURES)), np.float32)
    >>> X[0, FEATURE_NAMES.index("log_followers")] = np.log1p(18)
    >>> round(float(profile_counts(X)["followers"][0]))
    18
    """
    X = np.asarray(X)
    out = {c: np.expm1(X[:, FEATURE_NAMES.index(f"log_{c}")].astype(np.float64))
           for c in COUNTS}
    out["age"] = np.expm1(X[:, FEATURE_NAMES.index("log_age_days")].astype(np.float64))
    return out


def with_counts(X: np.ndarray, **changes: np.ndarray) -> np.ndarray:
    """A copy of ``X`` with some profile counts (or ``age`` in days) replaced and every
    feature derived from them recomputed. Used to build shifted populations.

    Examples
    --------
    >>> X = np.zeros((1, len(FEATURES)), np.float32)
    >>> Z = with_counts(X, followers=np.array([99.0]))
    >>> round(float(Z[0, FEATURE_NAMES.index("follower_ratio")]), 3)  # log(100 / 1)
    4.605
    """
    unknown = set(changes) - set(COUNTS) - {"age"}
    if unknown:
        raise ValueError(f"unknown counts: {sorted(unknown)}")
    c = profile_counts(X)
    c.update({k: np.asarray(v, np.float64) for k, v in changes.items()})
    cols = count_features(c["followers"], c["following"], c["posts"], c["listed"],
                           c["likes"], c["age"])
    Z = np.array(X, dtype=np.float32, copy=True)
    for name, v in cols.items():
        Z[:, FEATURE_NAMES.index(name)] = v
    return Z


def account_features(data: DetectionData) -> tuple[np.ndarray, list[str]]:
    """Compute every feature of :data:`FEATURES` for every vertex of ``data``.

    Parameters
    ----------
    data : DetectionData
        Profiles (any subset of the account columns), and optionally the follow graph,
        unfollows and post activity.

    Returns
    -------
    X : numpy.ndarray, float32, shape (n, len(FEATURES))
        NaN where a value is unknown (see the module docstring); the ``missing_*``
        columns say which.
    names : list of str
        :data:`FEATURE_NAMES`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> prof = pa.table({"handle": ["ana", "ben", "cat", "dan1234", "eve", "fay"],
    ...                  "followers_count": [20, 10, 500, 18, 30, 25],
    ...                  "following_count": [30, 12, 80, 344, 40, 20]})
    >>> X, names = account_features(DetectionData.from_graph(g, prof))
    >>> int(X[3, names.index("handle_digits")])
    4
    >>> round(float(X[3, names.index("follower_ratio")]), 2)  # log(19 / 345)
    -2.9
    >>> float(X[3, names.index("missing_age")]), bool(np.isnan(X[3, names.index("posts_per_day")]))
    (1.0, True)
    """
    n = data.n
    cols: dict[str, np.ndarray] = {}
    nan = np.full(n, np.nan)

    # -- counts and age -----------------------------------------------------------------
    followers = data.column("followers_count")
    following = data.column("following_count")
    posts = data.column("posts_count")
    listed = data.column("listed_count")
    likes = data.column("likes_count")
    created = data.column("created_at")
    observed = data.column("observed_at")
    age = (observed - created) / DAY_S
    cols.update(count_features(followers, following, posts, listed, likes, age))

    # -- text ------------------------------------------------------------------------------
    codes = _platform_codes(data)
    texts = {c: _text(data, c) for c in (*_TEXT_COLUMNS, "handle")}
    profile_known = np.zeros(n, bool)
    for c in ("handle", "name", "description"):
        if texts[c] is not None:
            profile_known |= pc.is_valid(texts[c]).to_numpy(zero_copy_only=False)
    for c in ("followers_count", "following_count", "posts_count", "created_at"):
        profile_known |= ~np.isnan(data.column(c))
    known_f = profile_known.astype(np.float64)
    present: dict[str, np.ndarray] = {}
    for c in _TEXT_COLUMNS:
        col = texts[c]
        if col is None:
            present[c] = nan.copy()
            continue
        p = _present(col)
        p[~_source_has(p, codes, known_f)] = np.nan
        present[c] = p
    lengths = extra_lengths(data)
    only_len = np.isnan(present["description"]) & ~np.isnan(lengths["description_length"])
    present["description"] = np.where(only_len, lengths["description_length"] > 0,
                                      present["description"])
    cols["has_description"] = present["description"]
    cols["has_url"] = present["url"]
    cols["has_location"] = present["location"]
    cols["has_name"] = present["name"]
    cols["default_profile_image"] = data.column("default_profile_image")
    cols["protected"] = data.column("protected")
    cols["posts_are_media"] = media_platform(data)
    stack = np.vstack([present["description"], present["url"], present["location"]])
    known_parts = (~np.isnan(stack)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["completeness"] = np.where(known_parts > 0, np.nansum(stack, axis=0)
                                        / np.maximum(known_parts, 1), np.nan)
    name, handle, desc = texts["name"], texts["handle"], texts["description"]
    name_ok = present["name"] == 1
    for key, fn in (("name_length", _length), ("name_digits", lambda c: _count(c, "[0-9]")),
                    ("name_words", lambda c: _count(c, r"\S+"))):
        cols[key] = np.where(name_ok, fn(name), np.nan) if name is not None else nan.copy()
    if handle is not None:
        h_ok = _present(handle) == 1
        cols["handle_length"] = np.where(h_ok, _length(handle), np.nan)
        cols["handle_digits"] = np.where(h_ok, _count(handle, "[0-9]"), np.nan)
        cols["handle_upper"] = np.where(h_ok, _count(handle, "[A-Z]"), np.nan)
        cols["handle_underscore"] = np.where(h_ok, _count(handle, "_"), np.nan)
    else:
        for key in ("handle_length", "handle_digits", "handle_upper", "handle_underscore"):
            cols[key] = nan.copy()
    for key in ("handle_length", "handle_digits"):
        cols[key] = np.where(np.isnan(cols[key]), lengths[key], cols[key])
    cols["description_length"] = (np.where(np.isnan(present["description"]), np.nan,
                                           _length(desc)) if desc is not None else nan.copy())
    cols["description_length"] = np.where(only_len, lengths["description_length"],
                                          cols["description_length"])

    # -- graph -----------------------------------------------------------------------------
    g = data.graph
    has_graph = g.m > 0
    graph_cols = ("graph_log_in_degree", "graph_log_out_degree", "graph_follower_ratio",
                  "graph_reciprocity", "graph_in_burst", "graph_out_burst",
                  "graph_followee_suspicious", "graph_unfollow_share")
    for key in graph_cols:
        cols[key] = nan.copy()
    if has_graph:
        din = g.in_degree().astype(np.float64)
        dout = g.out_degree().astype(np.float64)
        cols["graph_log_in_degree"] = np.log1p(din)
        cols["graph_log_out_degree"] = np.log1p(dout)
        cols["graph_follower_ratio"] = log_ratio(din, dout)
        rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["graph_reciprocity"] = np.where(dout > 0, rec / np.maximum(dout, 1), np.nan)
        window = config.get("detect_burst_window_s")
        prior = config.get("detect_burst_prior")
        for key, indptr, ts in (("graph_in_burst", g.in_indptr, g.in_ts),
                                ("graph_out_burst", g.out_indptr, g.out_ts)):
            if ts is None:
                continue
            best, known = burst_counts(indptr, ts, window)
            cols[key] = np.where(known > 0, best / (known + prior), np.nan)
        # suspicious followees: profile counts where known, else graph degrees
        fo = np.where(np.isnan(following), dout, following)
        fr = np.where(np.isnan(followers), din, followers)
        flag = ((fo + 1.0) > config.get("detect_suspicious_ratio") * (fr + 1.0)
                ).astype(np.float64)
        cols["graph_followee_suspicious"] = _row_mean(g.out_indptr, g.out_indices, flag)
        if data.removed is not None and data.removed.num_rows:
            src = data.removed.column("src").to_numpy(zero_copy_only=False)
            src = src[src >= 0]
            unf = np.bincount(src, minlength=n).astype(np.float64)[:n]
            with np.errstate(invalid="ignore", divide="ignore"):
                cols["graph_unfollow_share"] = np.where(dout + unf > 0, unf / (dout + unf),
                                                        np.nan)

    # -- activity ---------------------------------------------------------------------------
    act = data.activity
    cols["activity_posts_per_day"] = nan.copy()
    cols["activity_tagged_share"] = nan.copy()
    has_act = act is not None and act.num_rows == n and n > 0
    if has_act:
        p = np.asarray(act.column("posts").to_numpy(zero_copy_only=False), np.float64)
        first = np.asarray(act.column("first_post").to_numpy(zero_copy_only=False), np.float64)
        last = np.asarray(act.column("last_post").to_numpy(zero_copy_only=False), np.float64)
        if np.isfinite(first).any():
            span = (np.nanmax(last) - np.nanmin(first)) / DAY_S
        else:
            span = 1.0
        span = max(span, 1.0)
        cols["activity_posts_per_day"] = np.log1p(p / span)
        tag = np.asarray(act.column("tagged_share").to_numpy(zero_copy_only=False), np.float64)
        cols["activity_tagged_share"] = np.where(p > 0, tag, np.nan)

    # -- indicators --------------------------------------------------------------------------
    cols["missing_counts"] = (np.isnan(followers) | np.isnan(following)).astype(np.float64)
    cols["missing_age"] = np.isnan(age).astype(np.float64)
    cols["missing_likes"] = np.isnan(likes).astype(np.float64)
    cols["missing_listed"] = np.isnan(listed).astype(np.float64)
    cols["missing_text"] = (np.isnan(present["description"]) & np.isnan(present["url"])
                            & np.isnan(present["location"])).astype(np.float64)
    cols["missing_image"] = np.isnan(cols["default_profile_image"]).astype(np.float64)
    cols["missing_graph"] = np.full(n, 0.0 if has_graph else 1.0)
    cols["missing_activity"] = np.full(n, 0.0 if has_act else 1.0)

    X = np.empty((n, len(FEATURES)), dtype=np.float32)
    for j, f in enumerate(FEATURES):
        X[:, j] = cols[f.name]
    return X, list(FEATURE_NAMES)


__all__ = ["Feature", "FEATURES", "FEATURE_NAMES", "FEATURE_SCHEMA",
           "COUNTS", "EXTRA_LENGTHS", "account_features", "extra_lengths", "burst_counts", "feature_table", "profile_counts",
           "with_counts"]
