"""One crawled page as domain rows: loose parsing, merging, and the one place ids are mapped.

A :class:`Page` gathers what one page of a crawl says (accounts, follows, posts,
interactions, and the raw JSON of each item), merging repeats as it goes: an account
seen twice on a page (a follower entry, then its full profile) becomes one row whose
fields are the union, a follow or an interaction seen twice is kept once. Rows are keyed
by ``(platform, id)`` and ``(src, dst, kind)``, the natural keys of the store.

:meth:`Page.chunks` turns the page into :class:`trueclout.ingest.base.Chunk` batches in
the ingest schemas, built with :func:`trueclout.model.conform` and checked by
:func:`trueclout.ingest.validate.validate`, so crawled rows go through exactly the same
loading path as files do. Items that cannot be mapped are still yielded, with ``_error``
set, so the store keeps them in ``rejects``.

Every account id and handle passes through :func:`map_ids` (the only place), so a
privacy layer can wrap it (for example to store keyed hashes instead of ids).
:func:`pseudonym_id_map` is that layer for ``--pseudonymize``: it maps each column to the
same keyed pseudonym as :class:`trueclout.privacy.Pseudonymizer` (so crawled and ingested
rows join), and :meth:`Page.chunks` with ``pseudonymizer=`` also drops what the
pseudonymizer drops (names, descriptions, URLs, locations, ``extra``; post text per its
``text`` setting), through :func:`scrub_batch`.

Examples
--------
>>> p = Page("bluesky", observed_at=0.0, source="t")
>>> p.account("did:plc:a", handle="a.test")
>>> p.account("did:plc:a", followers_count=3)
>>> p.follow("did:plc:b", "did:plc:a")
>>> [(c.table, c.batch.num_rows) for c in p.chunks()]
[('accounts', 1), ('follows', 1)]
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from ..ingest.base import Chunk
from ..ingest.validate import validate
from ..model import conform, data_columns

log = logging.getLogger("trueclout.crawl")

#: Columns of each table that hold an account id (mapped by :func:`map_ids`).
ID_COLUMNS = {"accounts": ("account_id",), "follows": ("src", "dst"), "posts": ("author",),
              "interactions": ("src", "dst")}

#: Every column that names an account or embeds its id (at:// post URIs embed the
#: author's DID, profile URLs the handle): what an id map sees. List columns are mapped
#: element by element.
MAPPED_COLUMNS = {"accounts": ("account_id", "handle", "url"), "follows": ("src", "dst"),
                  "posts": ("post_id", "author", "mentions", "reply_to", "quote_of"),
                  "interactions": ("src", "dst", "post_id")}

#: Signature of an id mapper: ``id_map(column, value) -> value`` (None drops the value).
IdMap = Callable[[str, str], "str | None"]

#: The kind of pseudonym (:meth:`trueclout.privacy.Pseudonymizer.pseudonym`) each mapped
#: column gets, as the pseudonymizer maps the same columns of an ingested file. ``target``
#: is a crawl's target as the user named it (a handle, a DID, ``user@server``); ``url`` is
#: dropped (None), as the pseudonymizer drops it.
PSEUDONYM_KINDS = {"account_id": "account", "src": "account", "dst": "account",
                   "author": "account", "handle": "handle", "mentions": "handle",
                   "target": "handle", "post_id": "post", "reply_to": "post",
                   "quote_of": "post", "url": None}


def pseudonym_id_map(pseudonymizer, platform: str) -> IdMap:
    """An :data:`IdMap` that gives each value the keyed pseudonym ``pseudonymizer`` gives
    the same column of an ingested file (see :data:`PSEUDONYM_KINDS`).

    Examples
    --------
    >>> from trueclout.privacy import Pseudonymizer
    >>> pz = Pseudonymizer(b"k" * 32)
    >>> m = pseudonym_id_map(pz, "bluesky")
    >>> m("src", "did:plc:a") == m("account_id", "did:plc:a") == pz.account("bluesky", "did:plc:a")
    True
    >>> m("handle", "@Alice.test") == pz.handle("bluesky", "alice.test"), m("url", "https://x")
    (True, None)
    """
    def mapped(column: str, value: str) -> str | None:
        kind = PSEUDONYM_KINDS.get(column, "account")
        return None if kind is None else pseudonymizer.pseudonym(kind, platform, str(value))
    return mapped


def scrub_batch(pseudonymizer, table: str, batch):
    """Drop from one batch what ``pseudonymizer`` drops besides ids: the columns of
    :data:`trueclout.privacy.DROP_COLUMNS` (names, descriptions, URLs, locations,
    ``extra``), and post text (dropped, or scrubbed with ``text = "scrub"``). The ids are
    already mapped (by :func:`map_ids`), so they are left alone.

    Examples
    --------
    >>> from trueclout.privacy import Pseudonymizer
    >>> from trueclout.model import conform
    >>> b = conform("posts", {"platform": ["x"], "post_id": ["p"], "author": ["a"],
    ...                       "text": ["hi @bob https://ex.test"]}, 1)
    >>> scrub_batch(Pseudonymizer(b"k" * 32, text="drop"), "posts", b).column("text")[0].as_py()
    >>> pz = Pseudonymizer(b"k" * 32, text="scrub")
    >>> t = scrub_batch(pz, "posts", b).column("text")[0].as_py()
    >>> t == "hi @" + pz.handle("x", "bob") + " <url>"
    True
    """
    import pyarrow as pa
    from ..privacy import DROP_COLUMNS
    names = batch.schema.names
    cols = {c: batch.column(c) for c in names}
    n = batch.num_rows
    for c in DROP_COLUMNS.get(table, ()):
        if c in cols:
            cols[c] = pa.nulls(n, batch.schema.field(c).type)
    if table == "posts" and "text" in cols:
        if pseudonymizer.text == "drop":
            cols["text"] = pa.nulls(n, pa.string())
        else:
            plats = cols["platform"].to_pylist() if "platform" in cols else [""] * n
            cols["text"] = pa.array([pseudonymizer.scrub_text(p or "", t) for p, t in
                                     zip(plats, cols["text"].to_pylist())], pa.string())
    return pa.RecordBatch.from_arrays([cols[c] for c in names], schema=batch.schema)


def map_ids(table: str, row: dict, id_map: IdMap | None) -> dict:
    """Apply ``id_map(column, value)`` to every column of one row that names an account
    (:data:`MAPPED_COLUMNS`); the one place ids are mapped before they are written.

    Examples
    --------
    >>> map_ids("follows", {"src": "a", "dst": "b"}, lambda col, v: v.upper())
    {'src': 'A', 'dst': 'B'}
    >>> map_ids("posts", {"post_id": "p", "mentions": ["x", "y"]}, lambda c, v: c + ":" + v)
    {'post_id': 'post_id:p', 'mentions': ['mentions:x', 'mentions:y']}
    >>> map_ids("follows", {"src": "a"}, None)
    {'src': 'a'}
    """
    if id_map is None:
        return row
    out = dict(row)
    for col in MAPPED_COLUMNS.get(table, ()):
        v = out.get(col)
        if isinstance(v, list):
            out[col] = [id_map(col, x) if x is not None else None for x in v]
        elif v is not None:
            out[col] = id_map(col, v)
    return out


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from an ISO 8601 text (``Z`` allowed), or None when it is missing
    or unreadable: loose, never raises.

    Examples
    --------
    >>> parse_time("2024-01-02T03:04:05.678Z").isoformat()
    '2024-01-02T03:04:05.678000+00:00'
    >>> parse_time("2024-01-02T03:04:05"), parse_time("0000-01-01T00:00:00Z"), parse_time(5)
    (datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), None, None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def as_count(value: Any) -> int | None:
    """A non-negative integer count, or None (loose: strings of digits are read).

    Examples
    --------
    >>> as_count(5), as_count("7"), as_count(-1), as_count("x"), as_count(True)
    (5, 7, None, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def extra_json(obj: dict, known: set[str] | frozenset[str]) -> str | None:
    """The JSON text of the fields of ``obj`` that are not in ``known`` (or None).

    Examples
    --------
    >>> extra_json({"did": 1, "pronouns": "she/her"}, {"did"})
    '{"pronouns": "she/her"}'
    >>> extra_json({"did": 1}, {"did"}) is None
    True
    """
    rest = {k: v for k, v in obj.items() if k not in known}
    return json.dumps(rest, sort_keys=True, default=str) if rest else None


class Page:
    """The rows of one crawled page, merged by natural key.

    Parameters
    ----------
    platform : str
        ``bluesky`` or ``mastodon``.
    observed_at : float
        Epoch seconds of the fetch; stamped on account rows (which makes profile
        snapshots) and follows.
    source : str
        A name for ``rejects`` and ``ingests`` (the task and page).

    Examples
    --------
    >>> p = Page("mastodon", 1.7e9, "t")
    >>> p.interaction("a@x", "b@x", "like", post_id="u1")
    >>> p.interaction("a@x", "b@x", "like", post_id="u1")
    >>> p.reject("accounts", "account_id: missing required value", handle="?")
    >>> [(c.table, c.batch.num_rows) for c in p.chunks()]
    [('accounts', 1), ('interactions', 1)]
    """

    def __init__(self, platform: str, observed_at: float, source: str) -> None:
        self.platform = platform
        self.observed_at = datetime.fromtimestamp(observed_at, timezone.utc)
        self.source = source
        self.rows: dict[str, dict[Any, dict]] = {t: {} for t in ID_COLUMNS}
        self.bad: dict[str, list[dict]] = {}
        self.raw: list[tuple[str, str, str]] = []
        self.items = 0
        self.failed = 0
        self.unknown_types: Counter = Counter()
        self.partial = False
        self.note: str | None = None
        #: The cursor of the next page (None: this was the last page).
        self.next_cursor: str | None = None
        #: Set by a fetcher when the task is complete without paging further.
        self.done = False
        #: A value the task keeps in its cursor column once done (e.g. a resolved id).
        self.result: str | None = None

    # -- rows ----------------------------------------------------------------------------
    def account(self, account_id: str, **fields: Any) -> None:
        """Add or merge an account row (later non-null values win)."""
        row = self.rows["accounts"].setdefault(account_id, {"account_id": account_id})
        for k, v in fields.items():
            if v is not None:
                row[k] = v

    def follow(self, src: str, dst: str, created_at: datetime | None = None) -> None:
        """Add a follow ``src -> dst`` (created_at only when a record says it)."""
        row = self.rows["follows"].setdefault((src, dst), {"src": src, "dst": dst})
        if created_at is not None:
            row["created_at"] = created_at

    def post(self, post_id: str, author: str, **fields: Any) -> None:
        """Add or merge a post."""
        row = self.rows["posts"].setdefault(post_id, {"post_id": post_id, "author": author})
        for k, v in fields.items():
            if v is not None:
                row[k] = v

    def interaction(self, src: str, dst: str, kind: str, post_id: str | None = None,
                    created_at: datetime | None = None) -> None:
        """Add an interaction; one per (src, dst, kind, post_id)."""
        key = (src, dst, kind, post_id)
        row = self.rows["interactions"].setdefault(
            key, {"src": src, "dst": dst, "kind": kind, "post_id": post_id})
        if created_at is not None:
            row["created_at"] = created_at

    def reject(self, table: str, reason: str, **values: Any) -> None:
        """Keep an item that cannot be used, with its reason (it goes to ``rejects``)."""
        self.failed += 1
        self.bad.setdefault(table, []).append({**values, "_error": reason})

    def keep_raw(self, kind: str, record_id: Any, body: Any) -> None:
        """Keep the raw JSON of one item."""
        self.raw.append((kind, str(record_id if record_id is not None else ""),
                         json.dumps(body, sort_keys=True, default=str)))

    def unknown(self, record_type: str) -> None:
        """Count a record of a type this crawler does not know (kept raw, not mapped)."""
        self.unknown_types[str(record_type)] += 1
        log.info("%s: unknown record type %s kept raw, not mapped", self.source, record_type)

    def fail(self, what: str, item: Any, exc: BaseException) -> None:
        """Log an item that raised while being mapped, keep it raw and go on."""
        self.failed += 1
        log.warning("%s: skipped one %s: %s: %s", self.source, what, type(exc).__name__, exc)
        self.keep_raw(f"failed:{what}", "", item)

    # -- out -----------------------------------------------------------------------------
    def chunks(self, id_map: IdMap | None = None, pseudonymizer=None) -> list[Chunk]:
        """The page's rows as validated chunks of the domain tables (accounts first), ids
        mapped by ``id_map`` and, with a ``pseudonymizer``, scrubbed by
        :func:`scrub_batch`.

        Examples
        --------
        >>> p = Page("bluesky", 1.7e9, "t")
        >>> p.follow("a", "a")
        >>> p.chunks()[0].batch.column("_error").to_pylist()
        ['dst: self-follow (src == dst)']
        """
        out = []
        for table in ("accounts", "follows", "posts", "interactions"):
            rows = [map_ids(table, r, id_map) for r in self.rows[table].values()]
            rows += [map_ids(table, r, id_map) for r in self.bad.get(table, [])]
            if not rows:
                continue
            cols = data_columns(table) + ["_error"]
            columns: dict[str, list] = {c: [r.get(c) for r in rows] for c in cols}
            columns["platform"] = [self.platform] * len(rows)
            if table in ("accounts", "follows"):
                columns["observed_at"] = [r.get("observed_at", self.observed_at)
                                          for r in rows]
            columns = {c: v for c, v in columns.items() if any(x is not None for x in v)}
            batch = validate(table, conform(table, columns, len(rows)))
            if pseudonymizer is not None:
                batch = scrub_batch(pseudonymizer, table, batch)
            out.append(Chunk(table, batch, self.source))
        return out
