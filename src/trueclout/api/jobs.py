"""Background jobs: long work (ingest, detection runs) in a thread pool, with its record in
the store's ``jobs`` table.

A job's record is written when it is submitted (``queued``), when it starts
(``running``), as it progresses (``progress`` in [0, 1] and a message, at most every
``api_job_progress_s`` seconds, but always when the work reports a new stage) and when it ends: ``done`` with its result, or ``failed``
with the reason in ``message``. The records live in the store, so a restart of the server
keeps them; a job found queued or running when a :class:`JobManager` starts had its thread
killed with the old process and is marked ``failed: server restarted``.

Jobs that write to the store run one at a time (``Service.write_lock``), each on its own
cursor of the server's one connection; a job's record is written through yet another
cursor, so progress shows while the work holds a transaction open.

Examples
--------
>>> from trueclout.api.service import Service
>>> jm = JobManager(Service(":memory:"), workers=1)
>>> job = jm.submit("echo", {"x": 1}, lambda progress: {"x": 1})
>>> jm.wait(job["job_id"])["status"]
'done'
>>> bad = jm.submit("boom", {}, lambda progress: 1 / 0)
>>> jm.wait(bad["job_id"])["message"]
'ZeroDivisionError: division by zero'
>>> jm.shutdown()
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .. import config
from ..errors import TruecloutError
from .errors import NotFoundError

log = logging.getLogger("trueclout.api")

RESTARTED = "server restarted"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TruecloutError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class JobManager:
    """Runs jobs in a thread pool and keeps their records in the service's store.

    Parameters
    ----------
    service : Service
    workers : int, optional
        Threads (default config ``api_job_workers``).

    Examples
    --------
    >>> from trueclout.api.service import Service
    >>> jm = JobManager(Service(":memory:"))
    >>> jm.list()["total"]
    0
    >>> jm.get(9)
    Traceback (most recent call last):
    ...
    trueclout.api.errors.NotFoundError: job_id: no job 9
    """

    def __init__(self, service, *, workers: int | None = None) -> None:
        self.service = service
        n = int(workers or config.get("api_job_workers"))
        self.workers = max(1, n)
        self._pool: ThreadPoolExecutor | None = None   # made on the first submit
        self._lock = threading.Lock()
        self._done: dict[int, threading.Event] = {}
        if not service.store.read_only:
            n = service.cursor_store().fail_unfinished_jobs(RESTARTED)
            if n:
                log.warning("%d unfinished jobs marked failed: %s", n, RESTARTED)

    def submit(self, kind: str, params: dict, fn: Callable[[Callable], Any], *,
               cleanup: Path | None = None) -> dict:
        """Record a job and run ``fn(progress)`` in the pool, where
        ``progress(fraction, message, force=False)`` reports progress (written at most
        every ``api_job_progress_s`` seconds unless ``force``; it never goes back); ``fn``
        returns the result (a JSON-ready dict). ``cleanup``: a folder removed when the
        job ends. The threads are made on the first submit (and again after a
        :meth:`shutdown`).

        Examples
        --------
        >>> JobManager.submit  # doctest: +ELLIPSIS
        <function JobManager.submit at ...>
        """
        with self._lock:
            if self._pool is None:       # first job, or the first since a shutdown
                self._pool = ThreadPoolExecutor(max_workers=self.workers,
                                                thread_name_prefix="tc-job")
            pool = self._pool
            job_id = self.service.cursor_store().create_job(kind, params)
            self._done[job_id] = threading.Event()
        pool.submit(self._run, job_id, fn, cleanup)
        return self.get(job_id)

    def _run(self, job_id: int, fn: Callable, cleanup: Path | None) -> None:
        store = self.service.open_cursor()  # the record's own cursor, outside the work's
        every = float(config.get("api_job_progress_s"))
        last = [float("-inf"), 0.0]          # time of the last write, progress written

        def progress(fraction: float, message: str | None = None, *,
                     force: bool = False) -> None:
            now = time.monotonic()
            if not force and now - last[0] < every:
                return
            frac = max(float(min(max(fraction, 0.0), 1.0)), last[1])  # never backwards
            last[0], last[1] = now, frac
            store.update_job(job_id, progress=frac, message=message)

        try:
            store.update_job(job_id, status="running", started_at=_now(), progress=0.0)
            result = fn(progress)
            store.update_job(job_id, status="done", progress=1.0, message=None,
                             finished_at=_now(), result=result)
        except Exception as exc:  # a failed job says why, and the server goes on
            if not isinstance(exc, TruecloutError):
                log.exception("job %d failed", job_id)
            try:
                store.update_job(job_id, status="failed", message=_reason(exc),
                                 finished_at=_now())
            except Exception:  # the store itself failed: nothing more to record
                log.exception("could not record the failure of job %d", job_id)
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
            store.con.close()
            ev = self._done.pop(job_id, None)
            if ev is not None:
                ev.set()

    def get(self, job_id: int) -> dict:
        """One job's record; :class:`NotFoundError` when there is none.

        Examples
        --------
        >>> JobManager.get  # doctest: +ELLIPSIS
        <function JobManager.get at ...>
        """
        job = self.service.cursor_store().get_job(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id}", field="job_id")
        return job

    def list(self, offset: int = 0, limit: int = 50) -> dict:
        """One page of job records, newest first.

        Examples
        --------
        >>> JobManager.list  # doctest: +ELLIPSIS
        <function JobManager.list at ...>
        """
        rows, total = self.service.cursor_store().list_jobs(offset, limit)
        return {"total": total, "offset": offset, "limit": limit, "items": rows}

    def wait(self, job_id: int, timeout: float | None = None) -> dict:
        """Wait for a job of this manager to end and return its record.

        Examples
        --------
        >>> JobManager.wait  # doctest: +ELLIPSIS
        <function JobManager.wait at ...>
        """
        ev = self._done.get(job_id)
        if ev is not None:
            ev.wait(timeout)
        return self.get(job_id)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the job threads; with ``wait``, let the running jobs finish, else cancel
        the queued ones. A later :meth:`submit` starts new threads (an app whose
        lifespan ended once, as each ``with TestClient(app)`` does, still runs jobs).

        Examples
        --------
        >>> from trueclout.api.service import Service
        >>> jm = JobManager(Service(":memory:"), workers=1)
        >>> jm.shutdown()
        >>> jm.wait(jm.submit("again", {}, lambda progress: {})["job_id"])["status"]
        'done'
        >>> jm.shutdown()
        """
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)
