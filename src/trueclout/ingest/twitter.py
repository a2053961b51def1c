"""Twitter / X JSON: API v1.1 user and tweet objects, and X API v2 users and tweets.

The file is JSON Lines, a JSON array, or pretty-printed objects one after another
(gzip allowed). Each record is one of:

* a v1.1 **user** object (``id_str``, ``screen_name``, ``followers_count``, ...);
* a v1.1 **tweet** object, or any record that holds a user under ``"user"`` (research
  dumps). The user becomes an account row whose ``observed_at`` is the tweet's
  ``created_at`` (the profile as it was when the tweet was made). A tweet with an id and
  a text also gives a ``posts`` row and ``interactions`` rows: a ``mention`` for each
  user mention, a ``reply`` to ``in_reply_to_user_id_str``, a ``repost`` to
  ``retweeted_status.user`` and a ``quote`` to ``quoted_status.user``; ``post_id`` of an
  interaction is the tweet that makes it. A retweet's mentions are the original tweet's,
  so a retweet gives only its ``repost``;
* an X API v2 **user** (``username``, ``public_metrics``), or a v2 envelope
  ``{"data": [...]}`` / ``{"data": {...}}`` with users, or tweets (``author_id``) whose
  users come in ``includes.users``.

Mapping of v1.1 user fields (:data:`V1_FIELDS`): ``id_str`` (else ``id``) → account_id,
``screen_name`` → handle, ``friends_count`` → following_count, ``statuses_count`` →
posts_count, ``favourites_count`` → likes_count; name, description, url, location, lang,
created_at, verified, protected, default_profile_image, followers_count and listed_count
keep their names. Every other field is kept as JSON text in ``extra``. For v2 users
(:data:`V2_FIELDS`), ``username`` → handle and ``public_metrics`` gives the counts
(``tweet_count`` → posts_count, ``like_count`` → likes_count); v2 has no ``lang`` or
``default_profile_image``, and older v2 responses no ``like_count``: those stay null.

Platform: the ``platform`` option, else ``"twitter"``.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import REGISTRY, ReadOptions
>>> p = Path(tempfile.mkdtemp()) / "users.jsonl"
>>> _ = p.write_text(json.dumps({"id_str": "12", "screen_name": "jack", "friends_count": 3,
...                              "created_at": "Tue Mar 21 20:50:14 +0000 2006"}) + "\\n{oops\\n")
>>> b = next(iter(REGISTRY["twitter"].read(p, ReadOptions()))).batch
>>> b.column("handle").to_pylist(), b.column("following_count").to_pylist()
(['jack', None], [3, None])
>>> b.column("_error").to_pylist()[1][:28]
'record: invalid JSON (Expect'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from ..model import data_columns
from ._columns import to_batch
from ._io import Batcher, iter_json_values
from .base import Chunk, ReadOptions, Reader, register
from .generic import py_column

#: Twitter API v1.1 user field → accounts column.
V1_FIELDS = {
    "id_str": "account_id", "screen_name": "handle", "name": "name",
    "description": "description", "url": "url", "location": "location", "lang": "lang",
    "created_at": "created_at", "verified": "verified", "protected": "protected",
    "default_profile_image": "default_profile_image", "followers_count": "followers_count",
    "friends_count": "following_count", "statuses_count": "posts_count",
    "listed_count": "listed_count", "favourites_count": "likes_count",
}

#: X API v2 user field → accounts column (``public_metrics`` is unpacked separately).
V2_FIELDS = {
    "id": "account_id", "username": "handle", "name": "name", "description": "description",
    "url": "url", "location": "location", "created_at": "created_at",
    "verified": "verified", "protected": "protected",
}

#: X API v2 ``public_metrics`` field → accounts column.
V2_METRICS = {"followers_count": "followers_count", "following_count": "following_count",
              "tweet_count": "posts_count", "listed_count": "listed_count",
              "like_count": "likes_count"}

_ACCOUNT_COLS = data_columns("accounts")
_POST_COLS = data_columns("posts")
_INTER_COLS = data_columns("interactions")


def _sid(obj: dict, str_key: str, int_key: str) -> str | None:
    v = obj.get(str_key)
    if v is None:
        v = obj.get(int_key)
    return None if v is None else str(v)


def v1_user(user: dict, observed_at: Any = None) -> dict[str, Any]:
    """An accounts row (dict) from a Twitter API v1.1 user object.

    Examples
    --------
    >>> row = v1_user({"id": 7, "screen_name": "a", "friends_count": 2, "time_zone": "UTC"})
    >>> row["account_id"], row["following_count"], row["extra"]
    ('7', 2, '{"time_zone": "UTC"}')
    """
    row: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for k, v in user.items():
        col = V1_FIELDS.get(k)
        if col is not None:
            row[col] = v
        elif k != "id":
            rest[k] = v
    if row.get("account_id") is None and user.get("id") is not None:
        row["account_id"] = user["id"]
    if row.get("account_id") is not None:
        row["account_id"] = str(row["account_id"])
    row["observed_at"] = observed_at
    row["extra"] = json.dumps(rest, ensure_ascii=False) if rest else None
    return row


#: Part of the address of Twitter's default avatar (the egg, later the silhouette):
#: ``https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png``.
DEFAULT_AVATAR = "default_profile_images"


def v2_user(user: dict) -> dict[str, Any]:
    """An accounts row (dict) from an X API v2 user object. v2 has no
    ``default_profile_image`` flag: it is read from ``profile_image_url`` (Twitter's
    default avatar lives under ``default_profile_images/``) when the response has it.

    Examples
    --------
    >>> row = v2_user({"id": "7", "username": "a",
    ...                "public_metrics": {"followers_count": 5, "tweet_count": 9}})
    >>> row["handle"], row["followers_count"], row["posts_count"], row.get("likes_count")
    ('a', 5, 9, None)
    >>> v2_user({"id": "8", "profile_image_url": "https://abs.twimg.com/sticky/"
    ...          "default_profile_images/default_profile_normal.png"})["default_profile_image"]
    True
    """
    row: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for k, v in user.items():
        col = V2_FIELDS.get(k)
        if col is not None:
            row[col] = v
        elif k == "public_metrics" and isinstance(v, dict):
            other = {}
            for mk, mv in v.items():
                if mk in V2_METRICS:
                    row[V2_METRICS[mk]] = mv
                else:
                    other[mk] = mv
            if other:
                rest["public_metrics"] = other
        else:
            rest[k] = v
    if row.get("account_id") is not None:
        row["account_id"] = str(row["account_id"])
    # v2 has no default_profile_image flag, but the default avatar has a known address
    image = user.get("profile_image_url")
    if "default_profile_image" not in row and isinstance(image, str) and image:
        row["default_profile_image"] = DEFAULT_AVATAR in image
    row["extra"] = json.dumps(rest, ensure_ascii=False) if rest else None
    return row


def _is_v2_user(obj: dict) -> bool:
    return "username" in obj or "public_metrics" in obj


def _is_v1_user(obj: dict) -> bool:
    return "screen_name" in obj or "followers_count" in obj or "friends_count" in obj


def _text(tweet: dict) -> str | None:
    ext = tweet.get("extended_tweet")
    if isinstance(ext, dict) and ext.get("full_text"):
        return ext["full_text"]
    return tweet.get("full_text") or tweet.get("text")


def _entities(tweet: dict) -> dict:
    ext = tweet.get("extended_tweet")
    if isinstance(ext, dict) and isinstance(ext.get("entities"), dict):
        return ext["entities"]
    ent = tweet.get("entities")
    return ent if isinstance(ent, dict) else {}


class Rows:
    """Rows of one record: lists of dicts per table.

    Examples
    --------
    >>> Rows().accounts
    []
    """

    def __init__(self) -> None:
        self.accounts: list[dict] = []
        self.posts: list[dict] = []
        self.interactions: list[dict] = []


def v1_tweet(tweet: dict, rows: Rows) -> None:
    """Add the account, post and interactions of a v1.1 tweet (or a record with a user).

    Examples
    --------
    >>> r = Rows()
    >>> v1_tweet({"id_str": "9", "text": "@b hi #x", "created_at": "2020-01-02",
    ...           "user": {"id_str": "1", "screen_name": "a"},
    ...           "entities": {"hashtags": [{"text": "x"}],
    ...                        "user_mentions": [{"id_str": "2", "screen_name": "b"}]}}, r)
    >>> r.posts[0]["hashtags"], r.posts[0]["mentions"], r.interactions[0]["kind"]
    (['x'], ['2'], 'mention')
    """
    user = tweet["user"]
    created = tweet.get("created_at")
    rows.accounts.append(v1_user(user, observed_at=created))
    author = _sid(user, "id_str", "id")
    post_id = _sid(tweet, "id_str", "id")
    text = _text(tweet)
    if post_id is None or text is None:
        return
    ent = _entities(tweet)
    tags = [h.get("text") for h in ent.get("hashtags") or [] if isinstance(h, dict)]
    mentions = [m for m in ent.get("user_mentions") or [] if isinstance(m, dict)]
    mention_ids = [_sid(m, "id_str", "id") for m in mentions]
    quoted = tweet.get("quoted_status")
    rows.posts.append({
        "post_id": post_id, "author": author, "created_at": created, "text": text,
        "lang": tweet.get("lang"), "hashtags": [t for t in tags if t is not None],
        "mentions": [m for m in mention_ids if m is not None],
        "reply_to": _sid(tweet, "in_reply_to_status_id_str", "in_reply_to_status_id"),
        "quote_of": _sid(tweet, "quoted_status_id_str", "quoted_status_id"),
    })

    def inter(dst: str | None, kind: str) -> None:
        if dst is not None:
            rows.interactions.append({"src": author, "dst": dst, "kind": kind,
                                      "post_id": post_id, "created_at": created})

    rt = tweet.get("retweeted_status")
    if isinstance(rt, dict):
        rt_user = rt.get("user")
        inter(_sid(rt_user, "id_str", "id") if isinstance(rt_user, dict) else None, "repost")
        return
    for m in mention_ids:
        inter(m, "mention")
    inter(_sid(tweet, "in_reply_to_user_id_str", "in_reply_to_user_id"), "reply")
    if isinstance(quoted, dict) and isinstance(quoted.get("user"), dict):
        inter(_sid(quoted["user"], "id_str", "id"), "quote")


def v2_tweet(tweet: dict, rows: Rows) -> None:
    """Add the post and interactions of an X API v2 tweet.

    Examples
    --------
    >>> r = Rows()
    >>> v2_tweet({"id": "9", "author_id": "1", "text": "hi", "in_reply_to_user_id": "2",
    ...           "referenced_tweets": [{"type": "replied_to", "id": "8"}]}, r)
    >>> r.posts[0]["reply_to"], r.interactions[0]["kind"]
    ('8', 'reply')
    """
    post_id = _sid(tweet, "id", "id")
    author = _sid(tweet, "author_id", "author_id")
    created = tweet.get("created_at")
    ent = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
    tags = [h.get("tag") for h in ent.get("hashtags") or [] if isinstance(h, dict)]
    mention_ids = [_sid(m, "id", "id") for m in ent.get("mentions") or []
                   if isinstance(m, dict)]
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []
            if isinstance(r, dict) and r.get("id") is not None}
    rows.posts.append({
        "post_id": post_id, "author": author, "created_at": created,
        "text": tweet.get("text"), "lang": tweet.get("lang"),
        "hashtags": [t for t in tags if t is not None],
        "mentions": [m for m in mention_ids if m is not None],
        "reply_to": refs.get("replied_to"), "quote_of": refs.get("quoted"),
    })
    if "retweeted" in refs:
        return
    for m in mention_ids:
        if m is not None:
            rows.interactions.append({"src": author, "dst": m, "kind": "mention",
                                      "post_id": post_id, "created_at": created})
    reply_user = _sid(tweet, "in_reply_to_user_id", "in_reply_to_user_id")
    if reply_user is not None:
        rows.interactions.append({"src": author, "dst": reply_user, "kind": "reply",
                                  "post_id": post_id, "created_at": created})


def record_rows(obj: Any) -> tuple[Rows, str | None]:
    """The rows of one JSON record, or an error message.

    Examples
    --------
    >>> record_rows({"data": [{"id": "1", "username": "a"}]})[0].accounts[0]["handle"]
    'a'
    >>> record_rows({"foo": 1})[1]
    'record: not a Twitter user or tweet object (fields: foo)'
    """
    rows = Rows()
    if not isinstance(obj, dict):
        return rows, f"record: expected a JSON object, got {type(obj).__name__}"
    if "data" in obj and isinstance(obj["data"], (list, dict)) and not _is_v1_user(obj):
        data = obj["data"]
        items = data if isinstance(data, list) else [data]
        inc = obj.get("includes") if isinstance(obj.get("includes"), dict) else {}
        for item in items:
            if not isinstance(item, dict):
                return Rows(), "record: 'data' holds something other than objects"
            if "author_id" in item or ("text" in item and not _is_v2_user(item)):
                v2_tweet(item, rows)
            else:
                rows.accounts.append(v2_user(item))
        for u in inc.get("users") or []:
            if isinstance(u, dict):
                rows.accounts.append(v2_user(u))
        return rows, None
    if isinstance(obj.get("user"), dict):
        v1_tweet(obj, rows)
        return rows, None
    if _is_v2_user(obj) and "screen_name" not in obj:
        rows.accounts.append(v2_user(obj))
        return rows, None
    if "author_id" in obj and "text" in obj:
        v2_tweet(obj, rows)
        return rows, None
    if _is_v1_user(obj) or "id_str" in obj:
        rows.accounts.append(v1_user(obj))
        return rows, None
    keys = ", ".join(list(obj)[:8])
    return rows, f"record: not a Twitter user or tweet object (fields: {keys})"


class _Table:
    """Rows of one table gathered as dicts, turned into batches."""

    def __init__(self, table: str, cols: list[str], source: str, options: ReadOptions,
                 platform: str) -> None:
        self.table = table
        self.cols = [c for c in cols if c != "platform"]
        self.rows: list[dict] = []
        self.lines: list[int | None] = []
        self.errors: list[str | None] = []
        self.platform = platform
        self.out = Batcher(table, source, options.batch_rows)

    def add(self, row: dict, line: int | None, error: str | None = None) -> None:
        self.rows.append(row)
        self.lines.append(line)
        self.errors.append(error)

    def flush(self, final: bool = False) -> Iterator[Chunk]:
        n = len(self.rows)
        if n:
            cols: dict[str, Any] = {}
            for c in self.cols:
                vals = [r.get(c) for r in self.rows]
                if any(v is not None for v in vals):
                    cols[c] = py_column(vals) if c != "extra" else pa.array(vals, pa.string())
            batch = to_batch(self.table, cols, n, lines=pa.array(self.lines, pa.int64()),
                             platform=self.platform,
                             errors=[pa.array(self.errors, pa.string())])
            self.rows, self.lines, self.errors = [], [], []
            yield from self.out.add(batch)
        if final:
            yield from self.out.flush()


def sniff_twitter_json(head: bytes) -> float:
    """How much ``head`` looks like Twitter / X JSON (0 to 1).

    Examples
    --------
    >>> sniff_twitter_json(b'{"id_str": "1", "screen_name": "a"}')
    0.9
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"[")):
        return 0.0
    markers = (b'"screen_name"', b'"followers_count"', b'"public_metrics"', b'"username"',
               b'"user"', b'"author_id"', b'"friends_count"')
    hits = sum(m in text for m in markers)
    if hits == 0:
        return 0.0
    return 0.9 if hits >= 2 or b'"screen_name"' in text or b'"public_metrics"' in text \
        else 0.6


class TwitterJsonReader(Reader):
    """Twitter API v1.1 and X API v2 JSON (users, tweets), as JSON Lines or an array.

    Examples
    --------
    >>> import json, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "tweets.json"
    >>> tweet = {"id_str": "9", "text": "hi @b", "created_at": "Fri Apr 06 10:58:22 +0000 2007",
    ...          "user": {"id_str": "1", "screen_name": "a", "followers_count": 4},
    ...          "entities": {"user_mentions": [{"id_str": "2"}]}}
    >>> _ = p.write_text(json.dumps([tweet]))
    >>> [(c.table, c.batch.num_rows) for c in TwitterJsonReader().read(p, ReadOptions())]
    [('accounts', 1), ('posts', 1), ('interactions', 1)]
    """

    name = "twitter"
    description = "Twitter API v1.1 / X API v2 JSON: user objects, tweets, v2 envelopes"
    default_platform = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        return sniff_twitter_json(head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        src = str(path)
        platform = options.platform or self.default_platform
        acc = _Table("accounts", _ACCOUNT_COLS, src, options, platform)
        posts = _Table("posts", _POST_COLS, src, options, platform)
        inter = _Table("interactions", _INTER_COLS, src, options, platform)
        tables = (acc, posts, inter)
        for line, obj, err in iter_json_values(path):
            if err is None:
                rows, err = record_rows(obj)
            if err is not None:
                acc.add({}, line, err)
            else:
                for r in rows.accounts:
                    acc.add(r, line)
                for r in rows.posts:
                    posts.add(r, line)
                for r in rows.interactions:
                    inter.add(r, line)
            for t in tables:
                if len(t.rows) >= options.batch_rows:
                    yield from t.flush()
        for t in tables:
            yield from t.flush(final=True)


register(TwitterJsonReader())
