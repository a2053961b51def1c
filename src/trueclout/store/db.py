"""Opening the store: one DuckDB file, a schema version, and a write lock.

DuckDB lets one process hold a file for writing. A second process that opens the same
store waits for the lock, up to ``lock_wait_s`` seconds, and then fails with
:class:`~trueclout.errors.StoreBusyError`, so two writers never corrupt the store.

Examples
--------
>>> import tempfile, os
>>> from trueclout.store import Store
>>> from trueclout.store.schema import SCHEMA_VERSION
>>> path = os.path.join(tempfile.mkdtemp(), "t.duckdb")
>>> with Store(path) as store:
...     store.schema_version() == SCHEMA_VERSION
True
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import duckdb

from .. import config
from ..errors import StoreBusyError, StoreError, UsageError
from .crawl import CrawlCheckpoints
from .holder import read_holder
from .keys import KeysJobs
from .load import Loader
from .forget import Privacy
from .query import Queries
from .runs import Runs
from .schema import MIGRATIONS, SCHEMA_VERSION
from .events import StreamStore

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "lock on file")


def _is_lock_error(exc: Exception) -> bool:
    return any(m in str(exc) for m in _LOCK_MARKERS)


class Store(Loader, Queries, Runs, KeysJobs, StreamStore, CrawlCheckpoints, Privacy):
    """A trueclout store: a DuckDB file with the domain tables.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; default from config (``--db``, ``TRUECLOUT_DB``, else
        ``./trueclout.duckdb``). ``":memory:"`` gives an in-memory store.
    read_only : bool
        Open for reading only. A read-only store must already exist.
    lock_wait_s : float, optional
        How long to wait for another process to release the file.

    Examples
    --------
    >>> s = Store(":memory:")
    >>> s.counts()["follows"]
    0
    >>> s.close()
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False,
                 lock_wait_s: float | None = None) -> None:
        self.path = str(path if path is not None else config.get("db"))
        self.read_only = read_only
        wait = config.get("lock_wait_s") if lock_wait_s is None else lock_wait_s
        if self.path != ":memory:":
            p = Path(self.path)
            if read_only and not p.exists():
                raise StoreError(f"store {self.path} does not exist; ingest or simulate first")
            if p.exists() and p.is_dir():
                raise StoreError(f"store path {self.path} is a folder, not a DuckDB file")
            if not p.parent.is_dir():   # a typo in --db must not create folders
                raise UsageError(f"the folder {p.parent} of store {self.path} does not "
                                 "exist; create it first or give a path in an existing "
                                 "folder")
        self.con = self._own_con = self._connect(wait)   # views replace con by a cursor
        try:
            self._migrate()
        except duckdb.Error as exc:     # a truncated or overwritten file
            self.con.close()
            raise StoreError(f"store {self.path} is damaged (DuckDB cannot read it: "
                             f"{exc}); restore it from a backup or ingest again") from exc

    def _connect(self, wait: float) -> duckdb.DuckDBPyConnection:
        cfg: dict[str, Any] = {"memory_limit": config.get("duckdb_memory_limit"),
                               "preserve_insertion_order": False}
        threads = config.get("duckdb_threads")
        if threads:
            cfg["threads"] = threads
        deadline = time.monotonic() + max(0.0, wait)
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(self.path, read_only=self.read_only, config=cfg)
                # DuckDB draws a progress bar on standard output (inside --json
                # documents) for long queries; the cursors inherit this setting
                con.execute("SET enable_progress_bar = false")
                return con
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise StoreError(f"cannot open store {self.path}: {exc}") from exc
                server = read_holder(self.path)
                if server is not None:      # a running server holds it until it stops
                    raise StoreBusyError(
                        f"store {self.path} is held by a running trueclout server (pid "
                        f"{server.get('pid')}, {server.get('url')}); use its API, or stop "
                        "it first") from exc
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"store {self.path} is in use by another process (waited {wait:g} s); "
                        "retry when it finishes, or raise lock_wait_s") from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise StoreError(f"cannot open store {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta' "
            "AND table_schema = 'main'").fetchall()[0][0]
        version = 0
        if has_meta:
            rows = self.con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            version = int(rows[0][0]) if rows else 0
        else:
            others = self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()[0][0]
            if others:
                raise StoreError(f"{self.path} is a DuckDB file but not a trueclout store")
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {self.path} has schema version {version}, newer than "
                             f"this trueclout knows ({SCHEMA_VERSION}); upgrade trueclout")
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(f"store {self.path} has schema version {version} and needs "
                             f"migrating to {SCHEMA_VERSION}; open it for writing once")
        self.con.execute("BEGIN TRANSACTION")
        try:
            for sql in MIGRATIONS[version:]:
                self.con.execute(sql)
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    # -- small helpers -------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema version of this store.

        Examples
        --------
        >>> Store(":memory:").schema_version() == SCHEMA_VERSION
        True
        """
        return int(self.con.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0])

    def close(self) -> None:
        """Close the connection; the store can be reopened later."""
        if getattr(self, "con", None) is not None:
            self.con.close()
            self.con = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
