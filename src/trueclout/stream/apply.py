"""Jetstream events into the store, in batches, idempotently.

:func:`parse_event` turns one Jetstream message (JSON text or a dict) into a row of
:data:`~trueclout.store.events.EVENT_SCHEMA`, or a reason to skip it: a message that is
not JSON or lacks its fields is ``malformed``, a commit to a collection we do not apply
is ``unknown_collection``, and ``identity``/``account`` events are ``other_kind``. Nothing
is ever raised for a bad message; it is counted.

:class:`StreamApplier` gathers rows into columns and applies them to the store as one
Arrow table per batch (:meth:`~trueclout.store.Store.apply_stream_batch`): a bulk insert,
one transaction per batch, with the cursor (the largest ``time_us`` seen, skipped
events included) saved in the same transaction. Replayed events change nothing, so a
restart may resume a few seconds before the saved cursor
(:func:`resume_cursor`, setting ``stream_resume_back_s``).

Examples
--------
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> a = StreamApplier(s, source="demo")
>>> _ = a.add('{"did": "did:plc:a", "time_us": 5, "kind": "commit", "commit": {"rev": "1", '
...       '"operation": "create", "collection": "app.bsky.graph.follow", "rkey": "3k", '
...       '"record": {"subject": "did:plc:b", "createdAt": "2024-05-01T00:00:00Z"}}}')
>>> a.add("not json")
False
>>> r = a.flush()
>>> r["follows_added"], a.skipped, s.stream_cursor("demo")
(1, {'malformed': 1}, 5)
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import pyarrow as pa

from .. import config
from ..store.events import EVENT_SCHEMA, FOLLOW, INTERACTION_KINDS

#: Collections this stage applies.
APPLIED = (FOLLOW, *INTERACTION_KINDS)

#: Name of the Jetstream source in ``stream_state``.
SOURCE = "bluesky-jetstream"


def _author_of(uri: Any) -> str | None:
    # at://did:plc:xyz/app.bsky.feed.post/3k... -> did:plc:xyz
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    did = uri[5:].split("/", 1)[0]
    return did if did.startswith("did:") else None


def parse_event(msg: str | bytes | dict) -> tuple[str, tuple | None, int | None]:
    """One Jetstream message as ``(status, row, time_us)``.

    ``status`` is ``"ok"`` (``row`` holds ``(time_us, repo, collection, rkey, op,
    subject, post_id, created_at)``) or the reason it is skipped: ``malformed``,
    ``unknown_collection`` or ``other_kind``. ``time_us`` is the event's cursor when it
    has one (skipped events still move the cursor).

    Examples
    --------
    >>> parse_event({"did": "did:plc:a", "time_us": 7, "kind": "commit", "commit": {
    ...     "operation": "delete", "collection": "app.bsky.graph.follow", "rkey": "3k"}})
    ('ok', (7, 'did:plc:a', 'app.bsky.graph.follow', '3k', 'delete', None, None, None), 7)
    >>> parse_event({"did": "did:plc:a", "time_us": 8, "kind": "identity"})[0]
    'other_kind'
    >>> parse_event(b'{"kind": "commit"')[0]
    'malformed'
    """
    if not isinstance(msg, dict):
        try:
            msg = json.loads(msg)
        except (ValueError, TypeError):
            return "malformed", None, None
        if not isinstance(msg, dict):
            return "malformed", None, None
    t = msg.get("time_us")
    t = t if isinstance(t, int) and not isinstance(t, bool) else None
    kind = msg.get("kind")
    if kind != "commit":
        return ("other_kind" if isinstance(kind, str) else "malformed"), None, t
    did, c = msg.get("did"), msg.get("commit")
    if t is None or not isinstance(did, str) or not isinstance(c, dict):
        return "malformed", None, t
    coll, op, rkey = c.get("collection"), c.get("operation"), c.get("rkey")
    if not isinstance(coll, str) or not isinstance(rkey, str) or \
            op not in ("create", "update", "delete"):
        return "malformed", None, t
    if coll not in APPLIED:
        return "unknown_collection", None, t
    if op == "delete":
        return "ok", (t, did, coll, rkey, op, None, None, None), t
    rec = c.get("record")
    if not isinstance(rec, dict):
        return "malformed", None, t
    created = rec.get("createdAt")
    created = created if isinstance(created, str) else None
    subj = rec.get("subject")
    if coll == FOLLOW:
        if not isinstance(subj, str) or not subj:
            return "malformed", None, t
        return "ok", (t, did, coll, rkey, op, subj, None, created), t
    uri = subj.get("uri") if isinstance(subj, dict) else None
    author = _author_of(uri)
    if author is None:
        return "malformed", None, t
    return "ok", (t, did, coll, rkey, op, author, uri, created), t


def resume_cursor(saved: int | None, back_s: float | None = None) -> int | None:
    """Where to resume: ``back_s`` seconds (``stream_resume_back_s``) before ``saved``.

    Examples
    --------
    >>> resume_cursor(10_000_000, 5.0), resume_cursor(None)
    (5000000, None)
    """
    if saved is None:
        return None
    back = float(config.value("stream_resume_back_s", back_s))
    return max(int(saved - back * 1_000_000), 0)


class StreamApplier:
    """Gather parsed events and apply them to ``store`` in batches.

    Parameters
    ----------
    store : Store
    source : str
        The stream's name in ``stream_state``.
    batch_events : int, optional
        Events per batch (setting ``stream_batch_events``).
    on_batch : callable, optional
        Called with each batch's result dict (for the incremental re-scoring).
    platform : str
        Platform of the accounts the events name (their DIDs are account ids).

    Attributes
    ----------
    applied : int
        Events handed to the store.
    skipped : dict
        Skipped events by reason.
    totals : dict
        Sums of the store's per-batch counts.
    cursor : int or None
        Largest ``time_us`` seen.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> StreamApplier(Store(":memory:")).flush()["events"]
    0
    """

    def __init__(self, store, *, source: str = SOURCE, batch_events: int | None = None,
                 on_batch: Callable[[dict], None] | None = None,
                 platform: str = "bluesky") -> None:
        self.store = store
        self.source = source
        self.platform = platform
        self.batch_events = int(config.value("stream_batch_events", batch_events))
        self.on_batch = on_batch
        self.applied = 0
        self.skipped: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.cursor: int | None = store.stream_cursor(source)
        self._pending_skips = 0
        self._seq = 0
        self._cols: list[list] = [[] for _ in range(8)]

    @property
    def pending(self) -> int:
        """Events waiting for the next flush.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> StreamApplier(Store(":memory:")).pending
        0
        """
        return len(self._cols[0])

    def add(self, msg: str | bytes | dict, cursor: int | None = None) -> bool:
        """Parse one message and queue it; flushes when the batch is full. Returns
        whether the event was queued (False: counted as skipped). ``cursor`` is the
        stream position to save with it when it is not the message's ``time_us`` (the
        firehose's ``seq``).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> StreamApplier(Store(":memory:")).add({"kind": "account", "time_us": 1})
        False
        """
        status, row, t = parse_event(msg)
        c = t if cursor is None else cursor
        if c is not None and (self.cursor is None or c > self.cursor):
            self.cursor = c
        if row is None:
            self.skipped[status] = self.skipped.get(status, 0) + 1
            self._pending_skips += 1
        else:
            for col, v in zip(self._cols, row):
                col.append(v)
        if self.pending + self._pending_skips >= self.batch_events:
            self.flush()
        return row is not None

    def flush_due(self) -> dict[str, Any] | None:
        """:meth:`flush` when anything is queued (events, or skipped ones whose cursor
        must be saved); None otherwise.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> StreamApplier(Store(":memory:")).flush_due() is None
        True
        """
        if self.pending or self._pending_skips:
            return self.flush()
        return None

    def flush(self) -> dict[str, Any]:
        """Apply the queued events (and save the cursor) in one transaction.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> StreamApplier(Store(":memory:")).flush()["follows_added"]
        0
        """
        n = self.pending
        seq = pa.array(range(self._seq, self._seq + n), pa.int64())
        self._seq += n
        arrays = [seq] + [pa.array(c, type=f.type)
                          for c, f in zip(self._cols, list(EVENT_SCHEMA)[1:])]
        table = pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
        t0 = time.perf_counter()
        res = self.store.apply_stream_batch(table, source=self.source, cursor=self.cursor,
                                            skipped=self._pending_skips,
                                            platform=self.platform)
        res["seconds"] = time.perf_counter() - t0
        unresolved = res.get("unresolved", 0)
        if unresolved:
            self.skipped["unresolved_delete"] = self.skipped.get("unresolved_delete", 0) + \
                unresolved
        self._cols = [[] for _ in range(8)]
        self._pending_skips = 0
        self.applied += n
        for k, v in res.items():
            if isinstance(v, int) and k != "events":
                self.totals[k] = self.totals.get(k, 0) + v
        if self.on_batch is not None:
            self.on_batch(res)
        return res

    def summary(self) -> dict[str, Any]:
        """Counts so far: events applied, skipped by reason, store totals, cursor.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> StreamApplier(Store(":memory:")).summary()["applied"]
        0
        """
        return {"applied": self.applied, "skipped": dict(self.skipped),
                "cursor": self.cursor, **self.totals}
