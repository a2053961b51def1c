"""Loading: one source into the store, as one transaction, through staging tables.

A load works in three steps:

1. **Stage.** Every chunk a reader yields is appended to a temporary staging table of its
   domain table, with its source and a sequence number (the order rows were read).
2. **Check.** Rows a reader refused (``_error`` set) and rows that repeat an earlier row
   of the same load (same natural key, see :data:`trueclout.model.NATURAL_KEYS`) go to
   ``rejects`` with their source, line and reason.
3. **Move.** New accounts get their ``uid``; a newer profile that changes a handle or a
   name keeps the old value in ``account_changes``; good rows are inserted into the domain
   tables unless the store already holds the same fact, so re-loading content adds
   nothing.

Steps 2 and 3 and the ``ingests`` row run in one transaction: a crash (even ``kill -9``)
leaves the store as it was before the load. A source whose content hash was already
loaded is skipped whole.

Examples
--------
>>> import pyarrow as pa
>>> from trueclout.store import Store
>>> from trueclout.model import conform
>>> from trueclout.ingest.base import Chunk
>>> b = conform("follows", {"platform": ["x"] * 3, "src": ["a", "a", "b"],
...                         "dst": ["b", "b", "a"], "_line": [1, 2, 3]}, 3)
>>> with Store(":memory:") as s:
...     r = s.load([Chunk("follows", b, "f.txt")], source="f.txt", fmt="edgelist",
...                content_hash="h1")
...     r.read, r.accepted, r.rejected, r.tables["follows"]["new"]
(3, 2, 1, 2)
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pyarrow as pa

from ..errors import DiskFullError, StoreError, UsageError
from ..model import COUNT_COLUMNS, INGEST_SCHEMAS, LABELS, NATURAL_KEYS, TABLES, data_columns

#: Keys that make two staged rows of one load the same row (duplicates are rejected).
#: Accounts may appear once per observation time: later rows are snapshots, not duplicates.
DEDUP_KEYS: dict[str, tuple[str, ...]] = {**NATURAL_KEYS,
                                          "accounts": ("platform", "account_id", "observed_at")}

#: Columns of each staged table that name accounts, so they can be given a ``uid``.
ACCOUNT_REFS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",), "profile_snapshots": ("account_id",),
    "follows": ("src", "dst"), "posts": ("author",), "interactions": ("src", "dst"),
    "labels": ("account_id",), "account_terms": ("account_id",),
}

#: Labels that contradict ``human`` when one source gives both to the same account.
CONFLICTING_LABELS = ("fake", "bot", "farm")

#: Rows gathered before one INSERT into a staging table.
_STAGE_ROWS = 262_144

_PROFILE_COLUMNS = [c for c in data_columns("accounts") if c not in ("platform", "account_id")]

#: Profile fields whose old value is kept in ``account_changes`` when a newer observation
#: changes it (renames).
TRACKED_CHANGES = ("handle", "name")


#: Bytes before the first block of a DuckDB file: a main header and two database headers
#: of 4 KiB each (DuckDB's storage format, ``Storage::FILE_HEADER_SIZE`` in
#: ``storage_info.hpp``).
_DUCKDB_HEADER_BYTES = 3 * 4096
_DISK_FULL = ("no space left on device", "disk quota exceeded", "file too large")


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the file size allowed) is full.

    Examples
    --------
    >>> disk_full(OSError(errno.ENOSPC, "No space left on device")), disk_full(KeyError())
    (True, False)
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(exc).lower()
    return any(t in text for t in _DISK_FULL)


def _size(n: float) -> str:
    return f"{n / 2**20:,.1f} MB"


@dataclass
class LoadResult:
    """What one load did. ``read == accepted + rejected`` always holds.

    ``tables`` maps each domain table to ``{"read", "accepted", "rejected", "new"}``;
    ``new`` counts rows the store did not hold before (accepted rows already in the
    store are kept once).

    Examples
    --------
    >>> LoadResult(source="f", format="edgelist").to_dict()["read"]
    0
    """

    source: str
    format: str
    ingest_id: int | None = None
    skipped: bool = False
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    accounts: int = 0
    new_accounts: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    first_rejects: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: totals, then per-table accepted counts as top-level keys.

        Examples
        --------
        >>> r = LoadResult(source="f", format="x", tables={"follows": {"accepted": 5}})
        >>> r.to_dict()["follows"]
        5
        """
        d = asdict(self)
        for t, c in self.tables.items():
            if t != "accounts":
                d[t] = c.get("accepted", 0)
        return d


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Loader:
    """Load methods of :class:`~trueclout.store.Store` (mixed in)."""

    def already_loaded(self, content_hash: str) -> int | None:
        """The ingest id of an earlier committed load of the same content, or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").already_loaded("nope") is None
        True
        """
        row = self.con.execute(
            "SELECT min(ingest_id) FROM ingests WHERE content_hash = ? AND details NOT LIKE "
            "'%\"failed\": true%'", [content_hash]).fetchall()[0]
        return None if row is None or row[0] is None else int(row[0])

    def _next_ingest_id(self) -> int:
        return int(self.con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")
                   .fetchall()[0][0])

    def record_failed_load(self, *, source: str, fmt: str, content_hash: str,
                           error: Exception, options: dict | None = None) -> int:
        """Record a load that could not run (empty file, unreadable source, ...).

        The ``ingests`` row has zero rows and ``"failed": true`` in its details, and one
        ``rejects`` row (without a line) holds the message. Returns the ingest id.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> s.record_failed_load(source="e.csv", fmt="csv", content_hash="h",
        ...                      error=ValueError("empty file"))
        1
        >>> s.con.execute("SELECT reason FROM rejects").fetchall()[0][0]
        'empty file'
        """
        self._require_writable()
        self.con.execute("BEGIN TRANSACTION")
        try:
            ing = self._next_ingest_id()
            msg = getattr(error, "message", None) or str(error)
            self.con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, now(), now(), 0, 0, 0, ?)",
                [ing, source, fmt, content_hash, json.dumps(options or {}),
                 json.dumps({"failed": True, "error": msg})])
            self.con.execute("INSERT INTO rejects VALUES (?, ?, NULL, ?, ?, ?, NULL)",
                             [ing, getattr(error, "path", None) or source,
                              getattr(error, "line", None), getattr(error, "field", None), msg])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return ing

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only")

    def load(self, chunks: Iterable, *, source: str, fmt: str, content_hash: str,
             options: dict | None = None, label: str | None = None,
             label_source: str | None = None,
             progress: Callable[[str, int], None] | None = None) -> LoadResult:
        """Load ``chunks`` (an iterable of :class:`trueclout.ingest.base.Chunk`) as one
        transaction.

        Parameters
        ----------
        chunks : iterable of Chunk
            Validated record batches in the ingest schemas of :mod:`trueclout.model`.
        source, fmt : str
            The source's name (file or folder) and its reader.
        content_hash : str
            Hash of the source's content; a second load of the same hash is skipped.
        options : dict, optional
            Reader options, recorded with the load.
        label, label_source : str, optional
            Tag every account that the load describes (its account rows, or else every
            account it names) with ``label`` from ``label_source`` (default: ``source``).
        progress : callable, optional
            Called as ``progress(stage, rows_staged)``; stages ``staging``, ``checking``,
            ``moving`` and ``moved``. The last two run inside the load's transaction
            (before and after the rows are moved), so what the callback writes then
            commits or rolls back with them.

        Returns
        -------
        LoadResult

        Examples
        --------
        >>> from trueclout.store import Store
        >>> from trueclout.model import conform
        >>> from trueclout.ingest.base import Chunk
        >>> b = conform("accounts", {"platform": ["x"], "account_id": ["7"]}, 1)
        >>> s = Store(":memory:")
        >>> s.load([Chunk("accounts", b, "a.csv")], source="a.csv", fmt="csv",
        ...        content_hash="h", label="human").new_accounts
        1
        >>> s.load([Chunk("accounts", b, "a.csv")], source="a.csv", fmt="csv",
        ...        content_hash="h").skipped
        True
        """
        self._require_writable()
        if label is not None and label not in LABELS:
            raise UsageError(f"unknown label {label!r}; known labels: {', '.join(LABELS)}")
        t0 = time.perf_counter()
        result = LoadResult(source=source, format=fmt)
        earlier = self.already_loaded(content_hash)
        if earlier is not None:
            result.skipped = True
            result.ingest_id = earlier
            result.seconds = time.perf_counter() - t0
            return result
        con = self.con
        size_before = self._file_size()
        sources: list[str] = []
        staged: dict[str, int] = {}
        # Staging runs outside the transaction: temporary tables are private to this
        # connection and vanish with it, and Arrow data registered inside a transaction
        # stays referenced until commit (which would hold every chunk in memory).
        in_tx = False
        try:
            seq = 0
            src_ids: dict[str, int] = {}
            pending: dict[str, list[pa.RecordBatch]] = {}
            pending_rows: dict[str, int] = {}

            def flush(table: str) -> None:
                # one INSERT per ~batch of rows, however small the readers' chunks are
                batches = pending.pop(table, [])
                pending_rows.pop(table, None)
                if not batches:
                    return
                stg = f"stg_{table}"
                con.register("_chunk", pa.Table.from_batches(batches))
                if table not in staged:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {stg} AS SELECT * FROM _chunk")
                    staged[table] = 0
                else:
                    con.execute(f"INSERT INTO {stg} SELECT * FROM _chunk")
                con.unregister("_chunk")
                staged[table] += sum(b.num_rows for b in batches)

            for chunk in chunks:
                n = chunk.batch.num_rows
                if n == 0:
                    continue
                if chunk.table not in INGEST_SCHEMAS:
                    raise StoreError(f"reader produced unknown table {chunk.table!r}")
                if chunk.source not in src_ids:
                    src_ids[chunk.source] = len(sources)
                    sources.append(chunk.source)
                batch = chunk.batch
                if batch.schema != INGEST_SCHEMAS[chunk.table]:
                    batch = batch.cast(INGEST_SCHEMAS[chunk.table])
                batch = batch.append_column(
                    "_src", pa.array(np.full(n, src_ids[chunk.source], np.int32))
                ).append_column("_seq", pa.array(np.arange(seq, seq + n, dtype=np.int64)))
                seq += n
                pending.setdefault(chunk.table, []).append(batch)
                pending_rows[chunk.table] = pending_rows.get(chunk.table, 0) + n
                if pending_rows[chunk.table] >= _STAGE_ROWS:
                    flush(chunk.table)
                if progress:
                    progress("staging", seq)
            for table in list(pending):
                flush(table)
            con.execute("BEGIN TRANSACTION")
            in_tx = True
            ing = self._next_ingest_id()
            con.execute("CREATE OR REPLACE TEMP TABLE stg_sources (id INTEGER, name VARCHAR)")
            if sources:
                con.executemany("INSERT INTO stg_sources VALUES (?, ?)",
                                [[i, s] for i, s in enumerate(sources)])
            if progress:
                progress("checking", seq)
            for table in staged:
                result.tables[table] = self._check(table, ing, staged[table])
            if progress:
                progress("moving", seq)
            result.accounts, result.new_accounts = self._resolve_accounts(ing, staged)
            for table in TABLES:
                if table in staged:
                    result.tables[table]["new"] = self._move(table, ing)
            if label is not None:
                self._apply_label(ing, staged, label, label_source or source)
            if progress:
                progress("moved", seq)
            result.read = sum(t["read"] for t in result.tables.values())
            result.rejected = sum(t["rejected"] for t in result.tables.values())
            result.accepted = result.read - result.rejected
            result.first_rejects = [
                f"{src}:{line if line is not None else '-'}: {reason}"
                for src, line, reason in con.execute(
                    "SELECT source, line, reason FROM rejects WHERE ingest_id = ? "
                    "ORDER BY source, line LIMIT 5", [ing]).fetchall()]
            result.ingest_id = ing
            result.seconds = time.perf_counter() - t0
            details = {"tables": result.tables, "accounts": result.accounts,
                       "new_accounts": result.new_accounts, "label": label,
                       "label_source": label_source if label else None,
                       "seconds": round(result.seconds, 3)}
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, to_timestamp(?), now(), ?, ?, ?, ?)",
                [ing, source, fmt, content_hash, json.dumps(options or {}, default=str),
                 time.time() - result.seconds, result.read, result.accepted, result.rejected,
                 json.dumps(details)])
            con.execute("COMMIT")
        except BaseException as exc:
            if in_tx:
                try:
                    con.execute("ROLLBACK")
                except Exception:  # the connection may already be gone
                    pass
            if not disk_full(exc):
                raise
            full = exc
        else:
            full = None
        finally:
            for table in staged:
                try:
                    con.execute(f"DROP TABLE IF EXISTS stg_{table}")
                except Exception:
                    pass
        if full is not None:
            raise self._disk_full_error(full, source, size_before) from full
        return result

    def _reclaim(self, size_before: int | None) -> None:
        """Cut the store's file back to the blocks it uses. DuckDB leaves the blocks a
        rolled-back load wrote at the end of the file, and on a full disk it cannot
        checkpoint (its WAL needs space too); reopened, it reads from the file's own
        metadata which blocks the store has, and the bytes after them belong to no one.
        Only a store that owns its connection reopens it (not a cursor's view of one:
        the API server's file shrinks at its next checkpoint once space is free)."""
        size = self._file_size()
        if size is None or size_before is None or size <= size_before:
            return
        if self.con is not getattr(self, "_own_con", None):
            return
        try:
            self.con.close()
            self.con = self._own_con = self._connect(0.0)
            block, total = self.con.execute(
                "SELECT block_size, total_blocks FROM pragma_database_size() "
                "WHERE database_name = current_database()").fetchone()
            keep = max(_DUCKDB_HEADER_BYTES + int(total) * int(block), size_before)
            if size > keep:
                os.truncate(self.path, keep)
        except Exception:  # nothing reclaimed: the message still says what to free
            pass

    def _file_size(self) -> int | None:
        path = getattr(self, "path", ":memory:")
        return os.path.getsize(path) if path != ":memory:" and os.path.isfile(path) else None

    def _disk_full_error(self, exc: BaseException, source: str,
                         size_before: int | None) -> DiskFullError:
        """After a load failed on a full disk (and was rolled back): give the space back
        (:meth:`_reclaim`) and say what to free."""
        self._reclaim(size_before)
        folder = os.path.dirname(os.path.abspath(getattr(self, "path", "."))) or "."
        free = shutil.disk_usage(folder).free
        need = os.path.getsize(source) if os.path.isfile(source) else None
        more = (f"at least {_size(need)} (the size of {os.path.basename(source)})" if need
                else "space")
        return DiskFullError(
            f"the disk holding the store is full: the load of {source} was rolled back and "
            f"the store keeps its rows as they were. {_size(free)} is free in {folder}; "
            f"free {more} there, or move the store to a bigger disk, then load again "
            f"(DuckDB: {exc})")

    # -- step 2: check ------------------------------------------------------------------
    def _check(self, table: str, ing: int, n: int) -> dict[str, int]:
        """Reject rows with reader errors and duplicates within the load."""
        con = self.con
        stg = f"stg_{table}"
        cols = data_columns(table)
        raw = "to_json(struct_pack(" + ", ".join(f"{_q(c)} := r.{_q(c)}" for c in cols) + "))"
        if table == "labels":
            self._mark_conflicting_labels()
        con.execute(f"ALTER TABLE {stg} ADD COLUMN _dup BOOLEAN DEFAULT false")
        con.execute(f"""
            INSERT INTO rejects
            SELECT {ing}, s.name, '{table}', r._line,
                   nullif(regexp_extract(r._error, '^([A-Za-z_,]+): ', 1), ''),
                   regexp_replace(r._error, '^[A-Za-z_,]+: ', ''), {raw}
            FROM {stg} r JOIN stg_sources s ON s.id = r._src
            WHERE r._error IS NOT NULL""")
        bad = con.execute(f"SELECT count(*) FROM {stg} WHERE _error IS NOT NULL").fetchall()[0][0]
        key = ", ".join(_q(c) for c in DEDUP_KEYS[table])
        # keys seen more than once (one hash aggregate); the window runs only over those
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _dupkeys AS
            SELECT {key} FROM {stg} WHERE _error IS NULL GROUP BY ALL HAVING count(*) > 1""")
        dups = 0
        if con.execute("SELECT count(*) FROM _dupkeys").fetchall()[0][0]:
            on = " AND ".join(f"k.{_q(c)} IS NOT DISTINCT FROM r.{_q(c)}"
                              for c in DEDUP_KEYS[table])
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _dups AS
                SELECT _seq, first_src, first_line FROM (
                    SELECT _seq, row_number() OVER w AS rn,
                           first_value(_src) OVER w AS first_src,
                           first_value(_line) OVER w AS first_line
                    FROM {stg} r SEMI JOIN _dupkeys k ON {on}
                    WHERE r._error IS NULL
                    WINDOW w AS (PARTITION BY {key} ORDER BY _seq
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                ) WHERE rn > 1""")
            con.execute(f"""
                INSERT INTO rejects
                SELECT {ing}, s.name, '{table}', r._line, '{",".join(DEDUP_KEYS[table])}',
                       'duplicate of ' || fs.name || ':' || coalesce(d.first_line::VARCHAR, '?'),
                       {raw}
                FROM {stg} r JOIN _dups d USING (_seq)
                JOIN stg_sources s ON s.id = r._src JOIN stg_sources fs ON fs.id = d.first_src""")
            dups = con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]
            con.execute(f"UPDATE {stg} SET _dup = true WHERE _seq IN (SELECT _seq FROM _dups)")
            con.execute("DROP TABLE _dups")
        con.execute("DROP TABLE _dupkeys")
        return {"read": n, "accepted": n - bad - dups, "rejected": bad + dups, "new": 0}

    def _mark_conflicting_labels(self) -> None:
        """An account labelled both human and inauthentic (fake, bot, farm) by one source
        within a load: every such row becomes a reject, so the set's verdict on it is
        neither guessed nor lost silently."""
        human = _lit("human")
        bad = ", ".join(_lit(x) for x in CONFLICTING_LABELS)
        self.con.execute(f"""
            UPDATE stg_labels r SET _error = 'label: conflicting labels within source '
                || k.src || ': ' || k.labels
            FROM (SELECT l.platform, l.account_id, coalesce(l.source, s.name) AS src,
                         string_agg(DISTINCT l.label, ', ' ORDER BY l.label) AS labels
                  FROM stg_labels l JOIN stg_sources s ON s.id = l._src
                  WHERE l._error IS NULL
                  GROUP BY ALL
                  HAVING bool_or(l.label = {human}) AND bool_or(l.label IN ({bad}))) k,
                 stg_sources s
            WHERE s.id = r._src AND r._error IS NULL AND r.platform = k.platform
              AND r.account_id = k.account_id AND coalesce(r.source, s.name) = k.src""")

    # -- step 3: move -------------------------------------------------------------------
    def _resolve_accounts(self, ing: int, staged: dict[str, int]) -> tuple[int, int]:
        """Give every account named by a good staged row a uid; insert the new ones.

        Returns (accounts named by the load, new accounts). New accounts take uids in
        the order of (platform, account_id), so the order rows arrive in does not matter.
        """
        con = self.con
        parts = [f"SELECT platform, {_q(c)} AS account_id FROM stg_{t} "
                 f"WHERE _error IS NULL AND NOT _dup"
                 for t in staged for c in ACCOUNT_REFS[t]]
        if not parts:
            return 0, 0
        con.execute("CREATE OR REPLACE TEMP TABLE _named AS SELECT DISTINCT platform, "
                    "account_id FROM (" + " UNION ALL ".join(parts) + ")")
        named = con.execute("SELECT count(*) FROM _named").fetchall()[0][0]
        # the latest profile row of each account in this load
        if "accounts" in staged:
            cols = ", ".join(_q(c) for c in _PROFILE_COLUMNS)
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _profile AS
                SELECT platform, account_id, {cols} FROM stg_accounts
                WHERE _error IS NULL AND NOT _dup
                QUALIFY row_number() OVER (PARTITION BY platform, account_id
                                           ORDER BY observed_at DESC NULLS LAST, _seq DESC) = 1""")
        base = con.execute("SELECT coalesce(max(uid), -1) FROM accounts").fetchall()[0][0]
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _new AS
            SELECT {base} + row_number() OVER (ORDER BY platform, account_id) AS uid,
                   platform, account_id
            FROM (SELECT n.* FROM _named n ANTI JOIN accounts a
                  ON a.platform = n.platform AND a.account_id = n.account_id)""")
        new = con.execute("SELECT count(*) FROM _new").fetchall()[0][0]
        if new and base + new >= 2**31 - 1:
            raise StoreError("the store would exceed 2^31 accounts")
        if "accounts" in staged:
            cols = ", ".join(_q(c) for c in _PROFILE_COLUMNS)
            pcols = ", ".join(f"p.{_q(c)}" for c in _PROFILE_COLUMNS)
            con.execute(f"""
                INSERT INTO accounts (uid, platform, account_id, {cols}, ingest_id)
                SELECT n.uid, n.platform, n.account_id, {pcols}, {ing}
                FROM _new n LEFT JOIN _profile p
                ON p.platform = n.platform AND p.account_id = n.account_id""")
            # a newer observation that changes the handle or the name keeps the old value
            changed = " UNION ALL ".join(f"""
                SELECT a.uid, coalesce(p.observed_at, now()), '{c}', a.{c}, p.{c}, {ing}
                FROM accounts a JOIN _profile p
                  ON a.platform = p.platform AND a.account_id = p.account_id
                WHERE a.uid <= {base} AND coalesce(p.observed_at >= a.observed_at, true)
                  AND a.{c} IS NOT NULL AND p.{c} IS NOT NULL AND a.{c} <> p.{c}"""
                                         for c in TRACKED_CHANGES)
            con.execute(f"INSERT INTO account_changes {changed}")
            sets = ", ".join(f"{_q(c)} = coalesce(p.{_q(c)}, a.{_q(c)})"
                             for c in _PROFILE_COLUMNS)
            con.execute(f"""
                UPDATE accounts a SET {sets}
                FROM _profile p
                WHERE a.platform = p.platform AND a.account_id = p.account_id
                  AND a.uid <= {base}
                  AND coalesce(p.observed_at >= a.observed_at, true)""")
        else:
            con.execute(f"INSERT INTO accounts (uid, platform, account_id, ingest_id) "
                        f"SELECT uid, platform, account_id, {ing} FROM _new")
        con.execute("DROP TABLE _new")
        con.execute("DROP TABLE _named")
        return int(named), int(new)

    def _uid_join(self, col: str, alias: str) -> str:
        # One platform at a time: a join on (platform, id) for both ends of an edge lets
        # DuckDB's optimizer join the two account scans on platform alone first.
        return (f"JOIN (SELECT uid, account_id FROM accounts WHERE platform = $platform) "
                f"{alias} ON {alias}.account_id = r.{_q(col)}")

    def _move(self, table: str, ing: int) -> int:
        """Insert the good staged rows of ``table`` that the store lacks; return how many."""
        con = self.con
        good = "r._error IS NULL AND NOT r._dup AND r.platform = $platform"
        before = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        platforms = [row[0] for row in con.execute(
            f"SELECT DISTINCT platform FROM stg_{table} WHERE _error IS NULL AND NOT _dup "
            "ORDER BY 1").fetchall()]

        def each(select: str) -> str:
            """The SELECT once per platform of the load, as one UNION ALL."""
            return " UNION ALL ".join(f"({select.replace('$platform', _lit(p))})"
                                      for p in platforms)

        if not platforms:
            return 0
        if table == "accounts":
            counts = ", ".join(f"r.{c}" for c in COUNT_COLUMNS)
            con.execute("INSERT INTO profile_snapshots " + each(f"""
                SELECT DISTINCT ON (a.uid, r.observed_at) a.uid, r.observed_at, {counts}, {ing}
                FROM stg_accounts r {self._uid_join('account_id', 'a')}
                WHERE {good} AND r.observed_at IS NOT NULL
                  AND ({' OR '.join(f'r.{c} IS NOT NULL' for c in COUNT_COLUMNS)})
                  AND NOT EXISTS (SELECT 1 FROM profile_snapshots p
                                  WHERE p.uid = a.uid AND p.observed_at = r.observed_at)"""))
            # accounts themselves were inserted or updated by _resolve_accounts
            return int(con.execute(f"SELECT count(*) FROM accounts WHERE ingest_id = {ing}")
                       .fetchall()[0][0])
        if table == "profile_snapshots":
            counts = ", ".join(f"r.{c}" for c in COUNT_COLUMNS)
            con.execute("INSERT INTO profile_snapshots " + each(f"""
                SELECT a.uid, r.observed_at, {counts}, {ing}
                FROM stg_profile_snapshots r {self._uid_join('account_id', 'a')}
                WHERE {good} AND NOT EXISTS (SELECT 1 FROM profile_snapshots p
                        WHERE p.uid = a.uid AND p.observed_at = r.observed_at)"""))
        elif table == "follows":
            select = each(f"""
                SELECT s.uid AS src, d.uid AS dst, r.created_at, r.removed_at, r.observed_at
                FROM stg_follows r {self._uid_join('src', 's')}
                {self._uid_join('dst', 'd')} WHERE {good}""")
            if before:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _f AS {select}")
                # facts the store lacked: fill in times it did not know
                con.execute("""
                    UPDATE follows f SET created_at = coalesce(f.created_at, n.created_at),
                                         removed_at = coalesce(f.removed_at, n.removed_at),
                                         observed_at = coalesce(f.observed_at, n.observed_at)
                    FROM _f n WHERE f.src = n.src AND f.dst = n.dst
                      AND ((f.created_at IS NULL AND n.created_at IS NOT NULL)
                        OR (f.removed_at IS NULL AND n.removed_at IS NOT NULL)
                        OR (f.observed_at IS NULL AND n.observed_at IS NOT NULL))""")
                con.execute(f"""INSERT INTO follows
                    SELECT n.*, {ing} FROM _f n ANTI JOIN follows f
                    ON f.src = n.src AND f.dst = n.dst""")
                con.execute("DROP TABLE _f")
            else:
                con.execute(f"INSERT INTO follows SELECT *, {ing} FROM ({select})")
        elif table == "posts":
            con.execute("INSERT INTO posts (platform, post_id, author, created_at, text, lang, "
                        "hashtags, mentions, reply_to, quote_of, ingest_id) " + each(f"""
                SELECT r.platform, r.post_id, a.uid, r.created_at, r.text, r.lang, r.hashtags,
                       r.mentions, r.reply_to, r.quote_of, {ing}
                FROM stg_posts r {self._uid_join('author', 'a')}
                WHERE {good} AND NOT EXISTS (SELECT 1 FROM posts p
                        WHERE p.platform = r.platform AND p.post_id = r.post_id)"""))
        elif table == "interactions":
            con.execute("INSERT INTO interactions " + each(f"""
                SELECT s.uid, d.uid, r.kind, r.post_id, r.created_at, {ing}
                FROM stg_interactions r {self._uid_join('src', 's')}
                {self._uid_join('dst', 'd')}
                WHERE {good} AND NOT EXISTS (SELECT 1 FROM interactions i
                        WHERE i.src = s.uid AND i.dst = d.uid AND i.kind = r.kind
                          AND i.post_id IS NOT DISTINCT FROM r.post_id
                          AND i.created_at IS NOT DISTINCT FROM r.created_at)"""))
        elif table == "labels":
            con.execute("INSERT INTO labels " + each(f"""
                SELECT a.uid, r.label, coalesce(r.source, s.name), {ing}
                FROM stg_labels r {self._uid_join('account_id', 'a')}
                JOIN stg_sources s ON s.id = r._src
                WHERE {good} AND NOT EXISTS (SELECT 1 FROM labels l
                        WHERE l.uid = a.uid AND l.source = coalesce(r.source, s.name)
                          AND l.label = r.label)"""))
        elif table == "account_terms":
            con.execute("INSERT INTO account_terms " + each(f"""
                SELECT a.uid, r.term, coalesce(r.source, s.name), {ing}
                FROM stg_account_terms r {self._uid_join('account_id', 'a')}
                JOIN stg_sources s ON s.id = r._src
                WHERE {good} AND NOT EXISTS (SELECT 1 FROM account_terms t
                        WHERE t.uid = a.uid AND t.term = r.term
                          AND t.source = coalesce(r.source, s.name))"""))
        else:  # pragma: no cover - TABLES and this list are kept in step
            raise StoreError(f"no loader for table {table}")
        after = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        return int(after - before)

    def _apply_label(self, ing: int, staged: dict[str, int], label: str, source: str) -> None:
        con = self.con
        tables = ["accounts"] if "accounts" in staged else list(staged)
        parts = [f"SELECT platform, {_q(c)} AS account_id FROM stg_{t} "
                 f"WHERE _error IS NULL AND NOT _dup" for t in tables for c in ACCOUNT_REFS[t]]
        con.execute(f"""
            INSERT INTO labels
            SELECT DISTINCT a.uid, ?, ?, {ing}
            FROM ({' UNION ALL '.join(parts)}) r JOIN accounts a
              ON a.platform = r.platform AND a.account_id = r.account_id
            WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.uid = a.uid AND l.source = ?
                              AND l.label = ?)""", [label, source, source, label])
