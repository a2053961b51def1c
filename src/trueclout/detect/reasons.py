"""Plain words for the classifier's reasons: one small phrase function per feature group.

The classifier finds which feature groups push an account's prediction most (group
replacement, see :mod:`trueclout.detect.classifier`); :func:`phrase` words a group from
the account's own values: "follows 344 accounts but has 18 followers (ratio 0.05)", "has
never liked a post", "handle has 6 digits". A group the account has no value for gives
an empty string (never a reason).

Each entry of :data:`PHRASES` takes ``(row, fake)``: a :class:`Row` (the account's
feature values by name) and whether the reason explains a fake verdict.

Examples
--------
>>> import numpy as np
>>> from trueclout.detect.features import FEATURE_NAMES, with_counts
>>> X = with_counts(np.zeros((1, len(FEATURE_NAMES)), np.float32),
...                 followers=np.array([18.0]), following=np.array([344.0]))
>>> phrase("follow_ratio", X[0], fake=True)
'follows 344 accounts but has 18 followers (ratio 0.05)'
>>> phrase("handle", np.full(len(FEATURE_NAMES), np.nan), fake=True)
''
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import config
from .features import FEATURE_NAMES

_COL = {name: j for j, name in enumerate(FEATURE_NAMES)}


class Row:
    """One account's feature values by name (NaN where unknown).

    Examples
    --------
    >>> r = Row(np.arange(len(FEATURE_NAMES), dtype=float))
    >>> r["log_followers"], r.count("log_followers")
    (0.0, 0.0)
    """

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __getitem__(self, name: str) -> float:
        return float(self.values[_COL[name]])

    def count(self, name: str) -> float:
        """The count behind a ``log1p`` feature."""
        return float(np.expm1(self[name]))


def _int(x: float) -> str:
    return f"{int(round(float(x))):,}"


def _plural(x: float, word: str) -> str:
    return f"{_int(x)} {word}{'' if int(round(float(x))) == 1 else 's'}"


def _nan(x: float) -> bool:
    return bool(np.isnan(x))


def follow_ratio(r: Row, fake: bool) -> str:
    fr, fo = r.count("log_followers"), r.count("log_following")
    if _nan(fr) or _nan(fo):
        return ""
    ratio = fr / max(fo, 1.0)
    if fo > fr:
        return (f"follows {_plural(fo, 'account')} but has {_plural(fr, 'follower')} "
                f"(ratio {ratio:.2f})")
    return f"has {_plural(fr, 'follower')} and follows {_plural(fo, 'account')} (ratio {ratio:.1f})"


def posts(r: Row, fake: bool) -> str:
    n, rate = r.count("log_posts"), r.count("posts_per_day")
    if _nan(n):
        return ""
    if _nan(rate):
        return f"has posted {_plural(n, 'time')}"
    return f"has posted {_plural(n, 'time')} ({rate:.2f} a day)"


def likes(r: Row, fake: bool) -> str:
    n, p = r.count("log_likes"), r.count("log_posts")
    if _nan(n):
        return ""
    if n < 0.5:
        return "has never liked a post"
    if not _nan(p):
        return f"has liked {_plural(n, 'post')} and written {_int(p)}"
    return f"has liked {_plural(n, 'post')}"


def listed(r: Row, fake: bool) -> str:
    n, fr = r.count("log_listed"), r.count("log_followers")
    if _nan(n):
        return ""
    if n < 0.5:
        return ("is on nobody's lists" if _nan(fr)
                else f"is on nobody's lists despite {_plural(fr, 'follower')}")
    return f"is on {_plural(n, 'list')}"


def age(r: Row, fake: bool) -> str:
    days = r.count("log_age_days")
    return "" if _nan(days) else f"account is {_plural(days, 'day')} old"


def description(r: Row, fake: bool) -> str:
    has = r["has_description"]
    if _nan(has):
        return ""
    if has < 0.5:
        return "no description"
    parts = [w for w, f in (("no link", "has_url"), ("no location", "has_location"))
             if r[f] < 0.5]
    length = r["description_length"]
    text = f"description of {_int(length)} characters"
    return f"{text}, {' and '.join(parts)}" if fake and parts else text


def url(r: Row, fake: bool) -> str:
    has = r["has_url"]
    if _nan(has):
        return ""
    return "no link in the profile" if has < 0.5 else "links a website in the profile"


def location(r: Row, fake: bool) -> str:
    has = r["has_location"]
    if _nan(has):
        return ""
    return "no location in the profile" if has < 0.5 else "gives a location"


def image(r: Row, fake: bool) -> str:
    v = r["default_profile_image"]
    if _nan(v):
        return ""
    return "keeps the default profile image" if v > 0.5 else "has its own profile image"


def private(r: Row, fake: bool) -> str:
    v = r["protected"]
    if _nan(v):
        return ""
    return "the account is private" if v > 0.5 else "the account is public"


def name(r: Row, fake: bool) -> str:
    has = r["has_name"]
    if _nan(has):
        return ""
    if has < 0.5:
        return "no display name"
    d = r["name_digits"]
    if d >= 1:
        return f"display name has {_plural(d, 'digit')}"
    w = r["name_words"]
    return (f"display name of {_int(w)} word{'s' if w != 1 else ''}, "
            f"{_int(r['name_length'])} characters")


def handle(r: Row, fake: bool) -> str:
    length = r["handle_length"]
    if _nan(length):
        return ""
    d, u, us = r["handle_digits"], r["handle_upper"], r["handle_underscore"]
    if d >= 1:
        return f"handle has {_plural(d, 'digit')}"
    if _nan(u) or _nan(us):
        return f"handle of {_plural(length, 'character')}, no digits"
    if u < 0.5 and us < 0.5:
        return f"handle is {_int(length)} lower-case letters"
    bits = [_plural(u, "capital") if u >= 0.5 else "", _plural(us, "underscore")
            if us >= 0.5 else ""]
    return f"handle has {' and '.join(b for b in bits if b)}"


def graph_degree(r: Row, fake: bool) -> str:
    i, o = r.count("graph_log_in_degree"), r.count("graph_log_out_degree")
    if _nan(i):
        return ""
    return (f"in the follow graph it follows {_plural(o, 'account')} and has "
            f"{_plural(i, 'follower')}")


def reciprocity(r: Row, fake: bool) -> str:
    x = r["graph_reciprocity"]
    if _nan(x):
        return ""
    if x <= 0:
        return "none of the accounts it follows follows it back"
    return f"{x:.0%} of the accounts it follows follow it back"


def burst(r: Row, fake: bool) -> str:
    b_in, b_out = r["graph_in_burst"], r["graph_out_burst"]
    if not _nan(b_out) and (_nan(b_in) or b_out >= b_in):
        return f"made up to {b_out:.0%} of its follows within one day"
    if not _nan(b_in):
        return f"gained up to {b_in:.0%} of its followers within one day"
    return ""


def followees(r: Row, fake: bool) -> str:
    s = r["graph_followee_suspicious"]
    if _nan(s):
        return ""
    ratio = config.get("detect_suspicious_ratio")
    return f"{s:.0%} of the accounts it follows follow over {ratio:g} times as many as follow them"


def churn(r: Row, fake: bool) -> str:
    s = r["graph_unfollow_share"]
    if _nan(s):
        return ""
    return (f"unfollowed {s:.0%} of the accounts it had followed" if s > 0
            else "never unfollowed anyone")


def activity(r: Row, fake: bool) -> str:
    t, rate = r["activity_tagged_share"], r.count("activity_posts_per_day")
    if _nan(rate):
        return ""
    if rate <= 0:
        return "wrote no posts in the period observed"
    text = f"wrote {rate:.2f} posts a day in the period observed"
    return text + (f", {t:.0%} with hashtags or mentions" if not _nan(t) else "")


#: Feature group -> its phrase function.
PHRASES: dict[str, Callable[[Row, bool], str]] = {
    "follow_ratio": follow_ratio, "posts": posts, "likes": likes, "listed": listed,
    "age": age, "description": description, "url": url, "location": location,
    "image": image, "private": private, "name": name, "handle": handle,
    "graph_degree": graph_degree, "reciprocity": reciprocity, "burst": burst,
    "followees": followees, "churn": churn, "activity": activity,
}


def phrase(group: str, values: np.ndarray, fake: bool) -> str:
    """Plain words for feature ``group`` of one account (its feature row ``values``);
    empty when the group is unknown for it.

    Examples
    --------
    >>> v = np.full(len(FEATURE_NAMES), np.nan); v[_COL["default_profile_image"]] = 1
    >>> phrase("image", v, fake=True)
    'keeps the default profile image'
    """
    fn = PHRASES.get(group)
    return fn(Row(np.asarray(values, dtype=np.float64)), bool(fake)) if fn else ""


__all__ = ["PHRASES", "Row", "phrase"]
