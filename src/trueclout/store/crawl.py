"""Crawl checkpoints: the ``crawls``, ``crawl_cursors`` and ``raw_records`` tables.

A crawl is one row of ``crawls`` (platform, target, parameters, status ``running``,
``done`` or ``stopped``, a message and a JSON summary). Each of its tasks (one paged list,
such as the followers of one account) has one row of ``crawl_cursors``: the cursor of the
next page, whether the task is done, pages and items so far, the cursors already seen (a
JSON list, so a crawl stops on a repeated cursor), a partial flag and a note.

:meth:`CrawlCheckpoints.save_crawl_page` loads a page's rows through
:meth:`trueclout.store.load.Loader.load` and writes the task's cursor and the page's raw
JSON **in the same transaction** (from the loader's in-transaction ``progress`` callback,
stage ``"moving"``): after a crash the store holds the page's rows and its cursor, or
neither, so ``--resume`` continues exactly where the crawl stopped. Each page is one
load, so one ``ingests`` row (see :mod:`trueclout.crawl.checkpoint` for why).

For pseudonymised crawls: :meth:`CrawlCheckpoints.clear_crawl_cursors` empties a finished
crawl's cursors (they may embed ids), and :meth:`CrawlCheckpoints.text_columns_containing`
checks that no text column of any table holds a given value.

Examples
--------
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> cid = s.create_crawl("bluesky", "alice.test", {"followers": True})
>>> _ = s.save_crawl_page(cid, "followers", [], cursor="c1", seen=["c1"], pages=1, items=0)
>>> s.crawl_tasks(cid)["followers"]["cursor"], s.get_crawl(cid)["status"]
('c1', 'running')
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import pyarrow as pa

from ..errors import StoreError

CRAWL_STATUSES = ("running", "done", "stopped", "failed")

#: What a complete list settles (:meth:`CrawlCheckpoints.save_crawl_page`): the follows
#: into (``in``) or out of (``out``) one account, or its posts (``posts``).
SETTLE_KINDS = ("in", "out", "posts")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(x: Any) -> Any:
    return x.isoformat() if hasattr(x, "isoformat") else x


class CrawlCheckpoints:
    """Crawl checkpoint methods of :class:`~trueclout.store.Store` (mixed in)."""

    def create_crawl(self, platform: str, target: str, params: dict | None = None,
                     started_at: datetime | None = None) -> int:
        """Record a new ``running`` crawl; returns its ``crawl_id``. ``started_at`` (default
        now) is the crawl's time: its profile snapshots and sightings carry it.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").create_crawl("mastodon", "a@b.test")
        1
        """
        self._require_writable()
        row = self.con.execute(
            "INSERT INTO crawls SELECT coalesce(max(crawl_id), 0) + 1, ?, ?, ?, 'running', "
            "NULL, ?, ?, NULL FROM crawls RETURNING crawl_id",
            [platform, target, json.dumps(params or {}, sort_keys=True),
             started_at or _now(), _now()]
        ).fetchall()
        return int(row[0][0])

    def get_crawl(self, crawl_id: int) -> dict | None:
        """The crawl's row as a dict (``params`` and ``summary`` decoded), or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").get_crawl(3) is None
        True
        """
        cur = self.con.execute("SELECT * FROM crawls WHERE crawl_id = ?", [int(crawl_id)])
        rows = cur.fetchall()
        if not rows:
            return None
        d = {c[0]: _iso(v) for c, v in zip(cur.description, rows[0])}
        for k in ("params", "summary"):
            d[k] = json.loads(d[k]) if d.get(k) else {}
        return d

    def open_crawl(self, platform: str, target: str) -> dict | None:
        """The latest crawl of ``target`` that did not finish (``running`` after a kill,
        or ``stopped``), or None. A ``failed`` crawl (its target was not found) is never
        resumed.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> cid = s.create_crawl("bluesky", "a.test")
        >>> s.open_crawl("bluesky", "a.test")["crawl_id"], s.open_crawl("bluesky", "b") is None
        (1, True)
        """
        row = self.con.execute(
            "SELECT max(crawl_id) FROM crawls WHERE platform = ? AND target = ? "
            "AND status IN ('running', 'stopped')", [platform, target]).fetchall()[0][0]
        return None if row is None else self.get_crawl(int(row))

    def crawls(self) -> list[dict]:
        """Every crawl, newest first.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").crawls()
        []
        """
        ids = [r[0] for r in self.con.execute(
            "SELECT crawl_id FROM crawls ORDER BY crawl_id DESC").fetchall()]
        return [self.get_crawl(i) for i in ids]

    def set_crawl_status(self, crawl_id: int, status: str, message: str | None = None,
                         summary: dict | None = None) -> None:
        """Set a crawl's status (``running``, ``done``, ``stopped``), message and summary.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> cid = s.create_crawl("bluesky", "a.test")
        >>> s.set_crawl_status(cid, "stopped", "interrupted")
        >>> s.get_crawl(cid)["message"]
        'interrupted'
        """
        self._require_writable()
        if status not in CRAWL_STATUSES:
            raise StoreError(f"unknown crawl status {status!r}")
        self.con.execute(
            "UPDATE crawls SET status = ?, message = ?, updated_at = ?, "
            "summary = coalesce(?, summary) WHERE crawl_id = ?",
            [status, message, _now(),
             None if summary is None else json.dumps(summary, sort_keys=True, default=str),
             int(crawl_id)])

    def crawl_tasks(self, crawl_id: int) -> dict[str, dict]:
        """The checkpoint of every task of a crawl, by task name.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").crawl_tasks(1)
        {}
        """
        cur = self.con.execute(
            "SELECT task, cursor, done, pages, items, seen_cursors, partial, note "
            "FROM crawl_cursors WHERE crawl_id = ? ORDER BY task", [int(crawl_id)])
        out = {}
        for task, cursor, done, pages, items, seen, partial, note in cur.fetchall():
            out[task] = {"cursor": cursor, "done": bool(done), "pages": int(pages),
                         "items": int(items), "seen": json.loads(seen) if seen else [],
                         "partial": bool(partial), "note": note}
        return out

    def _write_checkpoint(self, crawl_id: int, task: str, cursor: str | None,
                          seen: Sequence[str], pages: int, items: int, done: bool,
                          partial: bool, note: str | None,
                          raw: Sequence[tuple[str, str, str]], platform: str | None) -> None:
        con = self.con
        now = _now()
        con.execute("INSERT OR REPLACE INTO crawl_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [int(crawl_id), task, cursor, bool(done), int(pages), int(items),
                     json.dumps(list(seen)), now, bool(partial), note])
        con.execute("UPDATE crawls SET updated_at = ? WHERE crawl_id = ?", [now, int(crawl_id)])
        if raw and platform:
            tbl = pa.table({
                "platform": pa.array([platform] * len(raw), pa.string()),
                "kind": pa.array([r[0] for r in raw], pa.string()),
                "record_id": pa.array([r[1] for r in raw], pa.string()),
                "fetched_at": pa.array([now] * len(raw), pa.timestamp("us", tz="UTC")),
                "body": pa.array([r[2] for r in raw], pa.string()),
                "crawl_id": pa.array([int(crawl_id)] * len(raw), pa.int32()),
                "task": pa.array([task] * len(raw), pa.string())})
            con.register("_raw_page", tbl)
            try:
                con.execute("INSERT INTO raw_records SELECT * FROM _raw_page")
            finally:
                con.unregister("_raw_page")

    def save_crawl_page(self, crawl_id: int, task: str, chunks: Iterable, *,
                        cursor: str | None, seen: Sequence[str] = (), pages: int = 0,
                        items: int = 0, done: bool = False, partial: bool = False,
                        note: str | None = None,
                        raw: Sequence[tuple[str, str, str]] = (),
                        platform: str | None = None, hash_content: bool = False,
                        seen_at: datetime | None = None,
                        settle: tuple[str, str] | None = None,
                        settled_at: datetime | None = None):
        """Load one page's ``chunks`` and save the task's checkpoint and the page's
        ``raw`` JSON ``(kind, record_id, body)`` in one transaction.

        The page's load is recorded (``ingests``) with the content hash
        ``crawl:<id>:<task>:page:<n>:<cursor>``, or its SHA-256 with ``hash_content``
        (a pseudonymised crawl: the cursor may embed ids).

        **Sightings.** With ``seen_at`` (the crawl's time) every follow and post of the
        page is recorded in ``crawl_sightings`` for this crawl, in the same transaction.
        A crawl lists only what is live, so a listed follow whose every row in
        ``follows`` is removed comes back as a new live row (logged ``restored`` in
        ``follow_changes``), and a listed post marked deleted is live again.

        **Settling.** ``settle=(kind, account_id)`` says that this page ends a complete
        list (:data:`SETTLE_KINDS`: the account's followers ``in``, its follows ``out``,
        or its ``posts``): what the store holds as live there and this crawl did not
        list is gone, as of ``settled_at`` (default now). A follow gets ``removed_at``
        and a ``removed`` row in ``follow_changes`` whose ``happened_after`` is the last earlier
        crawl that listed it (else the follow's ``observed_at``): the unfollow happened
        between the two. A post gets ``deleted_at``.

        Returns the :class:`~trueclout.store.load.LoadResult` of the page.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> from trueclout.model import conform
        >>> from trueclout.ingest.base import Chunk
        >>> s = Store(":memory:")
        >>> cid = s.create_crawl("x", "a")
        >>> b = conform("follows", {"platform": ["x"], "src": ["b"], "dst": ["a"]}, 1)
        >>> r = s.save_crawl_page(cid, "followers:a", [Chunk("follows", b, "p1")], cursor="c",
        ...                       pages=1, items=1, raw=[("follower", "b", "{}")], platform="x")
        >>> r.tables["follows"]["new"], s.con.execute("SELECT count(*) FROM raw_records").fetchone()
        (1, (1,))
        """
        self._require_writable()
        if settle is not None and (settle[0] not in SETTLE_KINDS or not platform):
            raise StoreError(f"cannot settle {settle!r}: kinds are {SETTLE_KINDS}, and a "
                             "platform is needed")
        written = []

        def after_move() -> None:
            if seen_at is not None:
                self._record_sightings(int(crawl_id), seen_at)
            if settle is not None:
                self._settle(int(crawl_id), str(platform), settle[0], settle[1],
                             settled_at or _now())

        def in_transaction(stage: str, rows: int) -> None:
            # Loader.load calls progress("moving") and ("moved") inside its transaction
            # (after BEGIN, before COMMIT): the checkpoint, the sightings and what a
            # complete list settles commit or roll back with the page's rows.
            if stage == "moving" and not written:
                self._write_checkpoint(crawl_id, task, cursor, seen, pages, items, done,
                                       partial, note, raw, platform)
                written.append(True)
            elif stage == "moved":
                after_move()

        content = f"crawl:{int(crawl_id)}:{task}:page:{int(pages)}:{cursor}"
        if hash_content:
            content = "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()
        result = self.load(chunks, source=f"crawl {crawl_id} {task} page {pages}",
                           fmt=f"crawl-{platform or 'unknown'}", content_hash=content,
                           options={"crawl_id": int(crawl_id), "task": task},
                           progress=in_transaction)
        if not written:  # the page was loaded before (same content hash): rows are there
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._write_checkpoint(crawl_id, task, cursor, seen, pages, items, done,
                                       partial, note, raw, platform)
                if settle is not None:
                    self._settle(int(crawl_id), str(platform), settle[0], settle[1],
                                 settled_at or _now())
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        return result

    def _staged(self) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary "
            "AND table_name IN ('stg_follows', 'stg_posts')").fetchall()}

    def _record_sightings(self, crawl_id: int, seen_at: datetime) -> None:
        """Inside a page's load, after its rows moved: its follows and posts go to
        ``crawl_sightings`` (once per crawl), listed follows with no live row come back,
        listed posts marked deleted are live again."""
        con = self.con
        staged = self._staged()
        good = "r._error IS NULL AND NOT r._dup"
        if "stg_follows" in staged:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _seen_f AS
                SELECT DISTINCT s.uid AS src, d.uid AS dst, r.created_at
                FROM stg_follows r
                JOIN accounts s ON s.platform = r.platform AND s.account_id = r.src
                JOIN accounts d ON d.platform = r.platform AND d.account_id = r.dst
                WHERE {good}""")
            con.execute("""
                INSERT INTO crawl_sightings
                SELECT DISTINCT ?, 'follow', n.src, n.dst, NULL, ? FROM _seen_f n
                ANTI JOIN (SELECT src, dst FROM crawl_sightings
                           WHERE crawl_id = ? AND kind = 'follow') c
                     ON c.src = n.src AND c.dst = n.dst""", [crawl_id, seen_at, crawl_id])
            # listed, but every row of the pair is removed: the follow is back
            con.execute("""
                CREATE OR REPLACE TEMP TABLE _back AS
                SELECT n.src, n.dst, any_value(n.created_at) AS created_at,
                       max(f.removed_at) AS removed_at
                FROM _seen_f n JOIN follows f ON f.src = n.src AND f.dst = n.dst
                GROUP BY n.src, n.dst HAVING bool_and(f.removed_at IS NOT NULL)""")
            con.execute("INSERT INTO follows (src, dst, created_at, removed_at, observed_at) "
                        "SELECT src, dst, created_at, NULL, ? FROM _back", [seen_at])
            con.execute("INSERT INTO follow_changes SELECT src, dst, 'restored', removed_at, "
                        "?, ? FROM _back", [seen_at, crawl_id])
            con.execute("DROP TABLE _back")
            con.execute("DROP TABLE _seen_f")
        if "stg_posts" in staged:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _seen_p AS
                SELECT DISTINCT p.author, p.platform, p.post_id FROM stg_posts r
                JOIN posts p ON p.platform = r.platform AND p.post_id = r.post_id
                WHERE {good}""")
            con.execute("""
                INSERT INTO crawl_sightings
                SELECT ?, 'post', n.author, NULL, n.post_id, ? FROM _seen_p n
                ANTI JOIN (SELECT src, post_id FROM crawl_sightings
                           WHERE crawl_id = ? AND kind = 'post') c
                     ON c.src = n.author AND c.post_id = n.post_id""",
                        [crawl_id, seen_at, crawl_id])
            con.execute("UPDATE posts p SET deleted_at = NULL FROM _seen_p n "
                        "WHERE p.platform = n.platform AND p.post_id = n.post_id "
                        "AND p.deleted_at IS NOT NULL")
            con.execute("DROP TABLE _seen_p")

    def _settle(self, crawl_id: int, platform: str, kind: str, account_id: str,
                at: datetime) -> None:
        """What the complete list ``kind`` of ``account_id`` did not show is gone."""
        con = self.con
        me = con.execute("SELECT uid FROM accounts WHERE platform = ? AND account_id = ?",
                         [platform, account_id]).fetchall()
        if not me:
            return
        uid = int(me[0][0])
        if kind == "posts":
            con.execute("""
                UPDATE posts p SET deleted_at = ?
                WHERE p.platform = ? AND p.author = ? AND p.deleted_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM crawl_sightings c WHERE c.crawl_id = ?
                                  AND c.kind = 'post' AND c.src = p.author
                                  AND c.post_id = p.post_id)""",
                        [at, platform, uid, crawl_id])
            return
        end = "dst" if kind == "in" else "src"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _gone AS
            SELECT f.src, f.dst,
                   coalesce((SELECT max(c.seen_at) FROM crawl_sightings c
                             WHERE c.kind = 'follow' AND c.src = f.src AND c.dst = f.dst
                               AND c.crawl_id < ?), min(f.observed_at)) AS happened_after
            FROM follows f
            WHERE f.{end} = ? AND f.removed_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM crawl_sightings c WHERE c.crawl_id = ?
                              AND c.kind = 'follow' AND c.src = f.src AND c.dst = f.dst)
            GROUP BY f.src, f.dst""", [crawl_id, uid, crawl_id])
        con.execute("INSERT INTO follow_changes SELECT src, dst, 'removed', happened_after, ?, ? "
                    "FROM _gone", [at, crawl_id])
        con.execute("UPDATE follows f SET removed_at = ? FROM _gone g WHERE f.src = g.src "
                    "AND f.dst = g.dst AND f.removed_at IS NULL", [at])
        con.execute("DROP TABLE _gone")

    def follow_changes(self, platform: str | None = None) -> list[dict]:
        """The unfollows and returns that re-crawls noticed, oldest first: ``src``,
        ``dst`` (account ids), ``change`` (``removed`` or ``restored``),
        ``happened_after`` (the last crawl that listed the follow, or when it was
        removed), ``noticed_at`` (the time of the crawl that noticed) and ``crawl_id``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").follow_changes()
        []
        """
        rows = self.con.execute(
            "SELECT s.account_id, d.account_id, c.change, c.happened_after, c.noticed_at, "
            "c.crawl_id "
            "FROM follow_changes c JOIN accounts s ON s.uid = c.src "
            "JOIN accounts d ON d.uid = c.dst WHERE ? IS NULL OR s.platform = ? "
            "ORDER BY c.noticed_at, s.account_id, d.account_id", [platform, platform]
        ).fetchall()
        return [dict(zip(("src", "dst", "change", "happened_after", "noticed_at", "crawl_id"),
                         r))
                for r in rows]

    def clear_crawl_cursors(self, crawl_id: int) -> None:
        """Empty the cursors (``cursor``, ``seen_cursors``) of a crawl's tasks, keeping
        their counts, flags and notes; a pseudonymised crawl does this once it is done.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> cid = s.create_crawl("bluesky", "a.test")
        >>> _ = s.save_crawl_page(cid, "followers", [], cursor="c1", seen=["c1"], pages=1)
        >>> s.clear_crawl_cursors(cid)
        >>> t = s.crawl_tasks(cid)["followers"]; t["cursor"], t["seen"], t["pages"]
        (None, [], 1)
        """
        self._require_writable()
        self.con.execute("UPDATE crawl_cursors SET cursor = NULL, seen_cursors = '[]' "
                         "WHERE crawl_id = ?", [int(crawl_id)])

    def known_interactions(self, platform: str, keys: Sequence[tuple[str, str, str, str]]
                           ) -> list[tuple[str, str, str, str]]:
        """Those of ``keys`` ``(src account_id, dst account_id, kind, post_id)`` that the
        store holds as interactions (with any time).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> from trueclout.model import conform
        >>> from trueclout.ingest.base import Chunk
        >>> s = Store(":memory:")
        >>> b = conform("interactions", {"platform": ["x"], "src": ["a"], "dst": ["b"],
        ...                              "kind": ["repost"], "post_id": ["p"]}, 1)
        >>> _ = s.load([Chunk("interactions", b, "i")], source="i", fmt="t", content_hash="h")
        >>> s.known_interactions("x", [("a", "b", "repost", "p"), ("a", "b", "like", "p")])
        [('a', 'b', 'repost', 'p')]
        """
        if not keys:
            return []
        tbl = pa.table({n: pa.array([k[i] for k in keys], pa.string())
                        for i, n in enumerate(("src", "dst", "kind", "post_id"))})
        self.con.register("_keys", tbl)
        try:
            rows = self.con.execute(
                "SELECT DISTINCT k.src, k.dst, k.kind, k.post_id FROM _keys k "
                "JOIN accounts s ON s.platform = ? AND s.account_id = k.src "
                "JOIN accounts d ON d.platform = ? AND d.account_id = k.dst "
                "JOIN interactions i ON i.src = s.uid AND i.dst = d.uid AND i.kind = k.kind "
                "AND i.post_id = k.post_id ORDER BY ALL", [platform, platform]).fetchall()
        finally:
            self.con.unregister("_keys")
        return [tuple(r) for r in rows]

    def text_columns_containing(self, needles: Sequence[str]) -> dict[str, int]:
        """For every text column (``VARCHAR``, ``VARCHAR[]``, ``JSON``) of every table of
        the store: how many rows hold any of ``needles`` as a substring. Only columns with
        such rows are listed, as ``"table.column"``. A privacy check: after a
        pseudonymised crawl no handle or id of the crawled accounts is anywhere.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> cid = s.create_crawl("bluesky", "alice.test")
        >>> s.text_columns_containing(["alice"]), s.text_columns_containing(["bob"])
        ({'crawls.target': 1}, {})
        """
        needles = [str(n) for n in needles if n]
        if not needles:
            return {}
        cols = self.con.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name WHERE c.table_schema = 'main' "
            "AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('VARCHAR', 'VARCHAR[]', 'JSON') "
            "ORDER BY c.table_name, c.ordinal_position").fetchall()
        self.con.register("_needles", pa.table({"n": pa.array(needles, pa.string())}))
        out: dict[str, int] = {}
        try:
            for table, col in cols:
                n = self.con.execute(
                    f'SELECT count(*) FROM "{table}" WHERE EXISTS (SELECT 1 FROM _needles '
                    f'WHERE contains(CAST("{col}" AS VARCHAR), _needles.n))').fetchall()[0][0]
                if n:
                    out[f"{table}.{col}"] = int(n)
        finally:
            self.con.unregister("_needles")
        return out

    # -- what later tasks work from --------------------------------------------------------
    def crawl_neighbours(self, platform: str, account_id: str, direction: str
                         ) -> list[tuple[str, bool]]:
        """``(account_id, follow time known)`` of the followers (``direction="in"``) or
        the follows (``"out"``) of one account, sorted by account id.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").crawl_neighbours("bluesky", "did:plc:a", "in")
        []
        """
        if direction not in ("in", "out"):
            raise StoreError(f"direction must be 'in' or 'out', not {direction!r}")
        me, other = ("dst", "src") if direction == "in" else ("src", "dst")
        rows = self.con.execute(
            f"SELECT o.account_id, bool_or(f.created_at IS NOT NULL) FROM follows f "
            f"JOIN accounts m ON m.uid = f.{me} JOIN accounts o ON o.uid = f.{other} "
            f"WHERE m.platform = ? AND m.account_id = ? AND f.removed_at IS NULL "
            f"GROUP BY 1 ORDER BY 1", [platform, account_id]).fetchall()
        return [(r[0], bool(r[1])) for r in rows]

    def crawl_posts(self, platform: str, author: str) -> list[str]:
        """Post ids by ``author``, newest first (ties by id).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").crawl_posts("bluesky", "did:plc:a")
        []
        """
        rows = self.con.execute(
            "SELECT p.post_id FROM posts p JOIN accounts a ON a.uid = p.author "
            "WHERE p.platform = ? AND a.platform = ? AND a.account_id = ? "
            "ORDER BY p.created_at DESC NULLS LAST, p.post_id", [platform, platform, author]
        ).fetchall()
        return [r[0] for r in rows]

    def raw_record(self, platform: str, kind: str, record_id: str) -> Any:
        """The latest raw JSON kept for one item (decoded), or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").raw_record("mastodon", "status", "u") is None
        True
        """
        rows = self.con.execute(
            "SELECT body FROM raw_records WHERE platform = ? AND kind = ? AND record_id = ? "
            "ORDER BY fetched_at DESC LIMIT 1", [platform, kind, record_id]).fetchall()
        return json.loads(rows[0][0]) if rows and rows[0][0] else None
