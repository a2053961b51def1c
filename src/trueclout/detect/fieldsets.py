"""Field sets: which profile fields a source has, and the model that decides from them.

Real inputs differ in what they carry. A Twitter v1.1 object has counts, likes, lists,
the creation date, a description, a handle and the avatar flag; a follower export of
Instagram or TikTok has counts, the avatar and privacy flags and a username; the social
honeypot data set has counts and dates only. A missing field must never count as
evidence of fakeness, so the classifier keeps one model per *field set*
(:data:`FIELD_SETS`), each trained only on the features its fields give, and decides an
account with the first field set, in the order of the table, whose required features
the account has. A model of fewer fields separates less well; its calibrated
probabilities are less extreme and its measured error rates (leave-one-source-out) are
larger, so confidence falls with the fields that are missing.

=============  ========================================  ===============================
field set      required (known)                          for
=============  ========================================  ===============================
profile        followers, following, posts,              Twitter v1.1 / X v2 objects,
               description, handle                       Bluesky and Mastodon profiles
counts-age     followers, following, posts, age          counts with creation and
                                                         observation times
export         followers, following, posts, avatar flag  follower exports (Instagram,
                                                         TikTok): counts and flags
counts         followers, following, posts               counts alone
follows        followers, following                      the two follow counts
=============  ========================================  ===============================

Within a field set, *optional* features (likes and lists, rates per day of age, the
avatar, privacy, URL and location) may be unknown: the model is trained with each
optional block removed at random from a copy of every row, so that it works without
them and their absence says nothing about the class. ``posts_are_media`` tells the
models whose fields include posts what a post is on the account's platform (a photo on
Instagram, a message on Twitter), so that a real Instagram account's 30 posts do not read
as a Twitter fake's.

Examples
--------
>>> import numpy as np
>>> from trueclout.detect.features import FEATURE_NAMES
>>> X = np.full((2, len(FEATURE_NAMES)), np.nan, np.float32)
>>> for f in ("log_followers", "log_following", "log_posts"):
...     X[:, FEATURE_NAMES.index(f)] = 1.0
>>> X[0, FEATURE_NAMES.index("default_profile_image")] = 0.0
>>> [FIELD_SETS[i].name for i in choose_field_sets(X)]
['export', 'counts']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FEATURE_NAMES, FEATURES

_COUNTS = ("log_followers", "log_following", "log_posts", "follower_ratio")
_LIKES_LISTS = ("log_likes", "log_listed", "likes_per_post", "listed_share", "likes_per_day",
                "listed_per_day")
_RATES = ("posts_per_day", "followers_per_day", "following_per_day")
_TEXT = ("has_description", "description_length", "has_url", "has_location", "has_name",
         "completeness", "name_length", "name_digits", "name_words")
_HANDLE = ("handle_length", "handle_digits", "handle_upper", "handle_underscore")
_LENGTHS = ("handle_length", "handle_digits")
_DESCRIPTION = ("has_description", "description_length")


@dataclass(frozen=True)
class FieldSet:
    """One field set: the features its model reads and the ones an account must have.

    Attributes
    ----------
    name : str
    features : tuple of str
        Columns of the feature matrix the model reads.
    required : tuple of str
        Features an account must know to be decided by this model.
    optional : tuple of tuple of str
        Blocks of features removed together at random while training.
    help : str

    Examples
    --------
    >>> FIELD_SETS[0].name, "handle_length" in FIELD_SETS[0].required
    ('profile', True)
    """

    name: str
    features: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[tuple[str, ...], ...]
    help: str

    @property
    def columns(self) -> np.ndarray:
        """Indexes of :attr:`features` in the feature matrix."""
        return np.array([FEATURE_NAMES.index(f) for f in self.features], dtype=np.int64)

    def has_fields(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` (all feature columns) that know every required feature.

        Examples
        --------
        >>> X = np.zeros((1, len(FEATURE_NAMES)), np.float32)
        >>> FIELD_SETS[-1].has_fields(X).tolist()
        [True]
        """
        cols = [FEATURE_NAMES.index(f) for f in self.required]
        return ~np.isnan(np.asarray(X)[:, cols]).any(axis=1)


#: The field sets, in the order an account is matched to them (richest first).
FIELD_SETS: tuple[FieldSet, ...] = (
    FieldSet("profile", _COUNTS + _LIKES_LISTS + _RATES + _TEXT + _HANDLE
             + ("default_profile_image", "protected", "posts_are_media"),
             required=("log_followers", "log_following", "log_posts", "has_description",
                       "handle_length"),
             optional=(_LIKES_LISTS, _RATES + ("likes_per_day", "listed_per_day"),
                       ("default_profile_image",), ("protected",),
                       ("has_url", "has_location", "completeness"),
                       ("has_name", "name_length", "name_digits", "name_words"),
                       ("handle_upper", "handle_underscore")),
             help="a full profile: counts, description and handle (likes, lists, age, "
                  "avatar optional)"),
    FieldSet("counts-age", _COUNTS + _RATES + _LENGTHS + _DESCRIPTION + ("posts_are_media",),
             required=("log_followers", "log_following", "log_posts", "posts_per_day"),
             optional=(_LENGTHS, _DESCRIPTION),
             help="follow and post counts with the account's age"),
    FieldSet("export", _COUNTS + ("default_profile_image", "protected", "posts_are_media")
             + _LENGTHS + _DESCRIPTION,
             required=("log_followers", "log_following", "log_posts",
                       "default_profile_image"),
             optional=(("protected",), _LENGTHS, _DESCRIPTION),
             help="a follower export: counts, avatar and privacy flags, username"),
    FieldSet("counts", _COUNTS + _LENGTHS + ("protected", "posts_are_media"),
             required=("log_followers", "log_following", "log_posts"),
             optional=(_LENGTHS, ("protected",)),
             help="follow and post counts"),
    FieldSet("follows", ("log_followers", "log_following", "follower_ratio") + _LENGTHS
             + ("default_profile_image", "protected"),
             required=("log_followers", "log_following"),
             optional=(_LENGTHS, ("default_profile_image",), ("protected",)),
             help="the follower and following counts"),
)

#: Field set name -> its definition.
BY_NAME = {fs.name: fs for fs in FIELD_SETS}

_KNOWN = set(FEATURE_NAMES)
for _fs in FIELD_SETS:  # a typo in the table fails at import, not at prediction
    assert set(_fs.features) <= _KNOWN and set(_fs.required) <= set(_fs.features), _fs.name
    assert all(set(b) <= set(_fs.features) for b in _fs.optional), _fs.name
    assert not any(FEATURES[FEATURE_NAMES.index(f)].kind in ("graph", "activity", "indicator")
                   for f in _fs.features), _fs.name


def choose_field_sets(X: np.ndarray, names: tuple[str, ...] | list[str] | None = None
                      ) -> np.ndarray:
    """Per row, the index (into :data:`FIELD_SETS`) of the first field set among
    ``names`` (default: all) whose required features the row knows; -1 for none.

    Examples
    --------
    >>> X = np.full((1, len(FEATURE_NAMES)), np.nan, np.float32)
    >>> choose_field_sets(X).tolist()
    [-1]
    """
    X = np.asarray(X)
    out = np.full(X.shape[0], -1, dtype=np.int64)
    allowed = set(names) if names is not None else None
    for i, fs in enumerate(FIELD_SETS):
        if allowed is not None and fs.name not in allowed:
            continue
        out[(out < 0) & fs.has_fields(X)] = i
    return out


def field_set_table() -> str:
    """:data:`FIELD_SETS` as markdown (for the README and the model card).

    Examples
    --------
    >>> field_set_table().splitlines()[0]
    '| field set | required | features | for |'
    """
    lines = ["| field set | required | features | for |", "|---|---|---|---|"]
    for fs in FIELD_SETS:
        lines.append(f"| `{fs.name}` | {', '.join(fs.required)} | {len(fs.features)} | "
                     f"{fs.help} |")
    return "\n".join(lines)


__all__ = ["FieldSet", "FIELD_SETS", "BY_NAME", "choose_field_sets", "field_set_table"]
