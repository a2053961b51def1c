"""The live stream's SQL: applying a batch of record events, its cursor and its key map.

A live stream (Bluesky Jetstream) delivers record events: a ``create`` (or ``update``) of a
record carries its subject, a ``delete`` only the record's key ``(repo, collection,
rkey)``. The store keeps every record it has seen in ``record_subjects`` (the key, the
``src``/``dst`` uids and the post it names, and ``removed_at`` once deleted), so a delete
is resolved through the key, and ``stream_state`` keeps each source's cursor (Jetstream's
``time_us``) and its event counts.

:meth:`StreamStore.apply_stream_batch` applies one batch (an Arrow table, see
:data:`EVENT_SCHEMA`) in one transaction, by set-wise statements over the whole batch
(bulk inserts from Arrow, never row by row):

1. Accounts named by a create that the store does not know get a ``uid``.
2. Creates whose key is new go to ``record_subjects``; a follow becomes a row of
   ``follows`` unless the pair is already followed, a like or repost a row of
   ``interactions`` (``kind`` ``like`` or ``repost``, ``post_id`` the subject's URI)
   unless the store holds it already.
3. Deletes whose key is known and not yet deleted mark the record removed; a follow pair
   is unfollowed (``follows.removed_at`` set) when no other live record still follows it,
   a like or repost row is deleted.
4. The cursor and counts are saved, in the same transaction.

Replaying events is harmless: a create whose key is known, and a delete whose record is
already removed, change nothing. Returns the follow pairs it added and removed, for the
incremental re-scoring (:mod:`trueclout.score.incremental`).

:meth:`StreamStore.save_stream_run` saves a watch's incremental scores as one run of kind
``stream``, replaced in place at each later save, so a long watch keeps one row in
``runs`` whose scores are those of its last save.

Examples
--------
>>> import pyarrow as pa
>>> from trueclout.store import Store
>>> ev = events_table([
...     dict(seq=0, time_us=10, repo="did:a", collection=FOLLOW, rkey="1", op="create",
...          subject="did:b", post_id=None, created_at="2024-01-01T00:00:00Z")])
>>> s = Store(":memory:")
>>> r = s.apply_stream_batch(ev, source="t", cursor=10)
>>> r["follows_added"], s.stream_cursor("t"), s.edge_count()
(1, 10, 1)
>>> s.apply_stream_batch(ev, source="t", cursor=10)["follows_added"]   # a replay
0
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import StoreError

FOLLOW = "app.bsky.graph.follow"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
#: Interaction kind of each engagement collection.
INTERACTION_KINDS = {LIKE: "like", REPOST: "repost"}

#: Columns of one batch of record events (``op``: create, update or delete; ``subject``:
#: the followed DID, or the author DID of the liked or reposted post; ``post_id``: that
#: post's at:// URI; ``created_at``: the record's createdAt as written).
EVENT_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("time_us", pa.int64()), ("repo", pa.string()),
    ("collection", pa.string()), ("rkey", pa.string()), ("op", pa.string()),
    ("subject", pa.string()), ("post_id", pa.string()), ("created_at", pa.string()),
])

_EMPTY_PAIRS = np.zeros((0, 2), np.int64)


def events_table(rows: list[dict]) -> pa.Table:
    """A batch of events (dicts with the :data:`EVENT_SCHEMA` keys) as an Arrow table.

    Examples
    --------
    >>> events_table([]).num_rows
    0
    """
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def _pairs(rows: list[tuple]) -> np.ndarray:
    if not rows:
        return _EMPTY_PAIRS.copy()
    return np.unique(np.asarray(rows, dtype=np.int64).reshape(-1, 2), axis=0)


class StreamStore:
    """Live-stream methods of :class:`~trueclout.store.Store` (mixed in)."""

    def stream_cursor(self, source: str) -> int | None:
        """The saved cursor (``time_us``) of stream ``source``, or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").stream_cursor("jetstream") is None
        True
        """
        rows = self.con.execute("SELECT cursor FROM stream_state WHERE source = ?",
                                [source]).fetchall()
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def stream_status(self, source: str) -> dict[str, Any]:
        """Cursor, events applied, events skipped and last update of stream ``source``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").stream_status("jetstream")["events"]
        0
        """
        rows = self.con.execute("SELECT cursor, events, skipped, updated_at FROM stream_state "
                                "WHERE source = ?", [source]).fetchall()
        if not rows:
            return {"source": source, "cursor": None, "events": 0, "skipped": 0,
                    "updated_at": None}
        c, e, s, u = rows[0]
        return {"source": source, "cursor": c, "events": int(e), "skipped": int(s),
                "updated_at": u.isoformat() if u is not None else None}

    def save_stream_cursor(self, source: str, cursor: int | None, *, events: int = 0,
                           skipped: int = 0) -> None:
        """Save ``cursor`` of ``source`` and add to its counts (its own transaction unless
        one is open).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> s.save_stream_cursor("j", 5, events=2); s.save_stream_cursor("j", 7, skipped=1)
        >>> s.stream_status("j")["cursor"], s.stream_status("j")["events"]
        (7, 2)
        """
        if self.read_only:
            raise StoreError("the store is open read-only; cannot save the stream cursor")
        self.con.execute(
            "INSERT INTO stream_state AS s (source, cursor, events, skipped, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
            "cursor = coalesce(excluded.cursor, s.cursor), events = s.events + excluded.events, "
            "skipped = s.skipped + excluded.skipped, updated_at = excluded.updated_at",
            [source, cursor, int(events), int(skipped), datetime.now(timezone.utc)])

    def record_subject(self, repo: str, collection: str, rkey: str, *,
                       platform: str = "bluesky") -> dict | None:
        """The stored subject of one record key (src, dst, post_id, created_at,
        removed_at), or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").record_subject("did:a", FOLLOW, "1") is None
        True
        """
        cur = self.con.execute(
            "SELECT src, dst, post_id, created_at, removed_at FROM record_subjects "
            "WHERE platform = ? AND repo = ? AND collection = ? AND rkey = ?",
            [platform, repo, collection, rkey])
        rows = cur.fetchall()
        if not rows:
            return None
        return dict(zip([c[0] for c in cur.description], rows[0]))

    def save_stream_run(self, run_id: int | None, params: dict, summary: dict,
                        uids: np.ndarray, scores: dict[str, np.ndarray], *,
                        kind: str = "stream", started_at: datetime | None = None) -> int:
        """Save a watch's current scores: the first call (``run_id`` None) saves a new run
        (:meth:`~trueclout.store.Store.save_run`); later calls replace that run's scores,
        summary and ``finished_at`` in place, in one transaction. Returns the run id.

        A long watch thus keeps one run in ``runs``, whose scores are those of its last
        save, instead of adding a run per save. Its ``status`` is ``running`` until a
        save whose summary says ``final`` (the watch's last), then ``ok``: a killed
        watch's run stays ``running``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> u = np.array([0, 1], np.int32)
        >>> rid = s.save_stream_run(None, {}, {"saves": 1}, u, {"x": np.array([1.0, 2.0])})
        >>> s.save_stream_run(rid, {}, {"saves": 2}, u, {"x": np.array([3.0, 4.0])}) == rid
        True
        >>> s.runs_table().num_rows, s.sql_rows("SELECT value FROM scores ORDER BY uid")
        (1, [(3.0,), (4.0,)])
        >>> _ = s.save_stream_run(rid, {}, {"final": True}, u, {"x": np.array([3.0, 4.0])})
        >>> s.sql_rows("SELECT status FROM runs")
        [('ok',)]
        """
        if self.read_only:
            raise StoreError("the store is open read-only; cannot save the scores")
        known = run_id is not None and self.con.execute(
            "SELECT count(*) FROM runs WHERE run_id = ?", [int(run_id)]).fetchall()[0][0]
        status = "ok" if summary.get("final", False) else "running"
        if not known:
            rid = self.save_run(kind, params, summary, uids, scores, started_at=started_at)
            self.con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, rid])
            return rid
        uids = np.asarray(uids, dtype=np.int32)
        for name, v in scores.items():
            if np.asarray(v).shape != uids.shape:
                raise ValueError(f"scores {name!r} must have one value per uid")
        rid = int(run_id)
        names = list(scores)
        tab = pa.table({
            "run_id": pa.array(np.full(uids.size * len(names), rid, np.int32)),
            "uid": pa.array(np.tile(uids, len(names))),
            "name": pa.array([n for n in names for _ in range(uids.size)], pa.string()),
            "value": pa.array(np.concatenate([np.asarray(scores[n], np.float64)
                                              for n in names]) if names
                              else np.zeros(0), pa.float64())})
        con = self.con
        con.register("_stream_run_scores", tab)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM scores WHERE run_id = ?", [rid])
            con.execute("INSERT INTO scores SELECT * FROM _stream_run_scores")
            con.execute("UPDATE runs SET finished_at = ?, summary = ?, status = ? "
                        "WHERE run_id = ?", [datetime.now(timezone.utc),
                                             json.dumps(summary, default=str), status, rid])
            con.execute("COMMIT")
        except BaseException:  # Ctrl-C included: the last save stays whole
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_stream_run_scores")
        return rid

    def apply_stream_batch(self, events: pa.Table, *, source: str, cursor: int | None,
                           platform: str = "bluesky", skipped: int = 0) -> dict[str, Any]:
        """Apply one batch of record events in one transaction (see the module docstring).

        Parameters
        ----------
        events : pyarrow.Table
            With the columns of :data:`EVENT_SCHEMA`; collections other than follow,
            like and repost are ignored.
        source : str
            The stream's name in ``stream_state``.
        cursor : int or None
            The cursor to save with the batch (the last ``time_us`` applied).
        platform : str
            Platform of the accounts the events name.
        skipped : int
            Events the caller skipped (malformed, other kinds), added to the counts.

        Returns
        -------
        dict
            ``accounts_new``, ``follows_added``, ``follows_removed``,
            ``interactions_added``, ``interactions_removed``, ``records_new``,
            ``records_removed``, ``replayed`` (creates whose key was known, deletes of
            removed records), ``unresolved`` (deletes of keys never seen),
            ``added``/``removed``: int64 arrays of ``(src_uid, dst_uid)`` follow pairs,
            and ``new_uids``: the uids given to new accounts.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> mk = lambda seq, op: dict(seq=seq, time_us=seq, repo="did:a", collection=FOLLOW,
        ...     rkey="k", op=op, subject="did:b" if op == "create" else None,
        ...     post_id=None, created_at=None)
        >>> _ = s.apply_stream_batch(events_table([mk(0, "create")]), source="t", cursor=0)
        >>> r = s.apply_stream_batch(events_table([mk(1, "delete")]), source="t", cursor=1)
        >>> r["follows_removed"], r["removed"].tolist(), s.edge_count()
        (1, [[0, 1]], 0)
        """
        if self.read_only:
            raise StoreError("the store is open read-only; cannot apply stream events")
        ev = events.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
        con = self.con
        result: dict[str, Any] = {
            "events": ev.num_rows, "accounts_new": 0, "follows_added": 0,
            "follows_removed": 0, "interactions_added": 0, "interactions_removed": 0,
            "records_new": 0, "records_removed": 0, "replayed": 0, "unresolved": 0,
            "added": _EMPTY_PAIRS.copy(), "removed": _EMPTY_PAIRS.copy(),
            "new_uids": np.zeros(0, np.int64)}
        con.register("_stream_ev", ev)
        con.execute("BEGIN TRANSACTION")
        try:
            if ev.num_rows:
                self._apply_events(platform, result)
            self.save_stream_cursor(source, cursor, events=ev.num_rows, skipped=skipped)
            con.execute("COMMIT")
        except BaseException:  # Ctrl-C included: the batch is all or nothing
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_stream_ev")
            for t in ("_st_ev", "_st_dids", "_st_cr", "_st_fadd", "_st_del"):
                con.execute(f"DROP TABLE IF EXISTS {t}")
        return result

    def _apply_events(self, platform: str, result: dict[str, Any]) -> None:
        con = self.con
        kinds = ", ".join(f"('{c}', '{k}')" for c, k in INTERACTION_KINDS.items())
        colls = ", ".join(f"'{c}'" for c in (FOLLOW, *INTERACTION_KINDS))
        # the batch's last event per key and operation class (creates and updates are one
        # class: a key is created once); other collections are ignored
        con.execute(f"""
            CREATE TEMP TABLE _st_ev AS
            SELECT seq, time_us, repo, collection, rkey,
                   CASE WHEN op = 'delete' THEN 'delete' ELSE 'create' END AS op,
                   subject, post_id, TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at
            FROM _stream_ev
            WHERE collection IN ({colls}) AND repo IS NOT NULL AND rkey IS NOT NULL
              AND op IN ('create', 'update', 'delete')
              AND (op = 'delete' OR subject IS NOT NULL)
            QUALIFY row_number() OVER (PARTITION BY repo, collection, rkey,
                                       op = 'delete' ORDER BY seq) = 1""")
        # 1. accounts: every DID a create names, the unknown ones get new uids
        con.execute("""
            CREATE TEMP TABLE _st_dids AS
            SELECT DISTINCT did FROM (
                SELECT repo AS did FROM _st_ev WHERE op = 'create'
                UNION ALL SELECT subject FROM _st_ev WHERE op = 'create')""")
        base = con.execute("SELECT coalesce(max(uid), -1) FROM accounts").fetchall()[0][0]
        new = con.execute(f"""
            INSERT INTO accounts (uid, platform, account_id)
            SELECT {int(base)} + row_number() OVER (ORDER BY d.did), ?, d.did
            FROM _st_dids d ANTI JOIN (SELECT account_id FROM accounts WHERE platform = ?) a
                 ON a.account_id = d.did""", [platform, platform]).fetchall()
        result["accounts_new"] = int(new[0][0]) if new else 0
        result["new_uids"] = np.arange(int(base) + 1, int(base) + 1 + result["accounts_new"],
                                       dtype=np.int64)
        # 2. creates of keys the store has not seen
        con.execute("""
            CREATE TEMP TABLE _st_cr AS
            SELECT e.repo, e.collection, e.rkey, s.uid AS src, d.uid AS dst,
                   CASE WHEN e.collection = ? THEN NULL ELSE e.post_id END AS post_id,
                   e.created_at, e.time_us
            FROM (SELECT * FROM _st_ev WHERE op = 'create') e
            JOIN (SELECT uid, account_id FROM accounts WHERE platform = ?) s
                 ON s.account_id = e.repo
            JOIN (SELECT uid, account_id FROM accounts WHERE platform = ?) d
                 ON d.account_id = e.subject
            ANTI JOIN (SELECT repo, collection, rkey FROM record_subjects
                       WHERE platform = ?) r
                 ON r.repo = e.repo AND r.collection = e.collection AND r.rkey = e.rkey""",
                    [FOLLOW, platform, platform, platform])
        n_create = con.execute("SELECT count(*) FROM _st_ev WHERE op = 'create'").fetchall()[0][0]
        n_new = con.execute("SELECT count(*) FROM _st_cr").fetchall()[0][0]
        result["records_new"] = int(n_new)
        result["replayed"] += int(n_create - n_new)
        con.execute("""
            INSERT INTO record_subjects
            SELECT ?, repo, collection, rkey, src, dst, post_id, created_at, NULL FROM _st_cr""",
                    [platform])
        con.execute(f"""
            CREATE TEMP TABLE _st_fadd AS
            SELECT src, dst, min(created_at) AS created_at, min(time_us) AS time_us
            FROM _st_cr c WHERE collection = '{FOLLOW}'
            GROUP BY src, dst""")
        added = con.execute("""
            INSERT INTO follows (src, dst, created_at, removed_at, observed_at)
            SELECT c.src, c.dst, c.created_at, NULL, to_timestamp(c.time_us / 1e6)
            FROM _st_fadd c
            ANTI JOIN (SELECT src, dst FROM follows WHERE removed_at IS NULL) f
                 ON f.src = c.src AND f.dst = c.dst
            RETURNING src, dst""").fetchall()
        result["added"] = _pairs(added)
        result["follows_added"] = len(added)
        got = con.execute(f"""
            INSERT INTO interactions (src, dst, kind, post_id, created_at)
            SELECT DISTINCT ON (c.src, k.kind, c.post_id) c.src, c.dst, k.kind, c.post_id,
                   c.created_at
            FROM _st_cr c JOIN (VALUES {kinds}) k(collection, kind) USING (collection)
            ANTI JOIN interactions i
                 ON i.src = c.src AND i.kind = k.kind AND i.post_id = c.post_id""").fetchall()
        result["interactions_added"] = int(got[0][0]) if got else 0
        # 3. deletes of live records; the rest are replays or keys never seen
        con.execute("""
            CREATE TEMP TABLE _st_del AS
            SELECT r.repo, r.collection, r.rkey, r.src, r.dst, r.post_id, e.time_us,
                   r.removed_at IS NOT NULL AS gone
            FROM (SELECT * FROM _st_ev WHERE op = 'delete') e
            JOIN (SELECT * FROM record_subjects WHERE platform = ?) r
                 ON r.repo = e.repo AND r.collection = e.collection AND r.rkey = e.rkey""",
                    [platform])
        n_del = con.execute("SELECT count(*) FROM _st_ev WHERE op = 'delete'").fetchall()[0][0]
        known, gone = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE gone) FROM _st_del").fetchall()[0]
        result["unresolved"] = int(n_del - known)
        result["replayed"] += int(gone or 0)
        result["records_removed"] = int(known - (gone or 0))
        con.execute("DELETE FROM _st_del WHERE gone")
        con.execute("""
            UPDATE record_subjects r SET removed_at = to_timestamp(d.time_us / 1e6)
            FROM _st_del d
            WHERE r.platform = ? AND r.repo = d.repo AND r.collection = d.collection
              AND r.rkey = d.rkey""", [platform])
        removed = con.execute(f"""
            UPDATE follows f SET removed_at = to_timestamp(d.time_us / 1e6)
            FROM (SELECT x.src, x.dst, max(x.time_us) AS time_us FROM _st_del x
                  ANTI JOIN (SELECT src, dst FROM record_subjects
                             WHERE platform = ? AND collection = '{FOLLOW}'
                               AND removed_at IS NULL) r
                       ON r.src = x.src AND r.dst = x.dst
                  WHERE x.collection = '{FOLLOW}' GROUP BY x.src, x.dst) d
            WHERE f.src = d.src AND f.dst = d.dst AND f.removed_at IS NULL
            RETURNING f.src, f.dst""", [platform]).fetchall()
        result["removed"] = _pairs(removed)
        result["follows_removed"] = int(result["removed"].shape[0])
        gone_i = con.execute(f"""
            DELETE FROM interactions i USING
                (SELECT d.src, d.dst, k.kind, d.post_id FROM _st_del d
                 JOIN (VALUES {kinds}) k(collection, kind) USING (collection)) d
            WHERE i.src = d.src AND i.dst = d.dst AND i.kind = d.kind
              AND i.post_id = d.post_id""").fetchall()
        result["interactions_removed"] = int(gone_i[0][0]) if gone_i else 0
