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

CRAWL_STATUSES = ("running", "done", "stopped")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(x: Any) -> Any:
    return x.isoformat() if hasattr(x, "isoformat") else x


class CrawlCheckpoints:
    """Crawl checkpoint methods of :class:`~trueclout.store.Store` (mixed in)."""

    def create_crawl(self, platform: str, target: str, params: dict | None = None) -> int:
        """Record a new ``running`` crawl; returns its ``crawl_id``.

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
            [platform, target, json.dumps(params or {}, sort_keys=True), _now(), _now()]
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
        or ``stopped``), or None.

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
            "AND status <> 'done'", [platform, target]).fetchall()[0][0]
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
                        platform: str | None = None, hash_content: bool = False):
        """Load one page's ``chunks`` and save the task's checkpoint and the page's
        ``raw`` JSON ``(kind, record_id, body)`` in one transaction.

        The page's load is recorded (``ingests``) with the content hash
        ``crawl:<id>:<task>:page:<n>:<cursor>``, or its SHA-256 with ``hash_content``
        (a pseudonymised crawl: the cursor may embed ids).

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
        written = []

        def in_transaction(stage: str, rows: int) -> None:
            # Loader.load calls progress("moving") inside its transaction (after BEGIN,
            # before COMMIT): the checkpoint commits or rolls back with the page's rows.
            if stage == "moving" and not written:
                self._write_checkpoint(crawl_id, task, cursor, seen, pages, items, done,
                                       partial, note, raw, platform)
                written.append(True)

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
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        return result

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
