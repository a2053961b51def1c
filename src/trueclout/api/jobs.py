"""Background jobs: long work (ingest, simulations, detection runs) on job threads, with
its record in the store's ``jobs`` table.

A job's record is written when it is submitted (``queued``), when it starts
(``running``), as it progresses (``progress`` in [0, 1] and a message, at most every
``api_job_progress_s`` seconds, but always when the work reports a new stage) and when it
ends: ``done`` with its result, ``failed`` with the reason in ``message``, or
``interrupted`` when the server stopped first. The records live in the store, so a
restart of the server keeps them; a job found queued or running when a
:class:`JobManager` starts had its thread killed with the old process (a ``kill -9``) and
is marked ``failed: server restarted``.

At most ``api_job_queue`` jobs are queued or running at once: one more is refused with
429 and ``Retry-After`` (:class:`~trueclout.api.errors.JobQueueFullError`) before its
upload is read, so a burst of uploads cannot pile up work and memory.

Stopping (:meth:`JobManager.shutdown` with ``wait=False``, the server's shutdown):
queued jobs are marked ``interrupted`` without running; running ones are asked to stop,
and stop at their next progress report (:class:`JobInterrupted` is raised there, an
ingest rolls its transaction back); a job still running after the grace period (a step
that reports no progress, such as fitting detection) is marked ``interrupted`` and left
to die with the process. Job threads are daemon threads, so they never hold the process
up. Loads are all or nothing and a file loaded twice adds nothing, so an interrupted
ingest is resumed by sending the file again.

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
0
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .. import config
from ..errors import TruecloutError
from .errors import JobQueueFullError, NotFoundError

log = logging.getLogger("trueclout.api")

RESTARTED = "server restarted"
#: The message of a job the server stopped before it ended.
INTERRUPTED = ("interrupted: the server stopped before the job ended; nothing of it was "
               "committed unless its result says so (send an upload again: rows already "
               "loaded are skipped)")


class JobInterrupted(Exception):
    """Raised inside a job, at its next progress report, when the server stops. Not a
    :class:`~trueclout.errors.TruecloutError`, so no load records it as a fault of the
    data.

    Examples
    --------
    >>> isinstance(JobInterrupted(), TruecloutError)
    False
    """


def temp_folder(kind: str) -> Path:
    """A new temporary folder for a job's files, ``trueclout-<kind>-<pid>-...`` in the
    system temp folder: the process id in its name lets a later server remove it when
    this process died without removing it (:func:`remove_stale_temp`).

    Examples
    --------
    >>> p = temp_folder("upload")
    >>> p.name.startswith(f"trueclout-upload-{os.getpid()}-"), p.is_dir()
    (True, True)
    >>> p.rmdir()
    """
    return Path(tempfile.mkdtemp(prefix=f"trueclout-{kind}-{os.getpid()}-"))


def remove_stale_temp(kinds: tuple[str, ...] = ("upload", "sim")) -> list[str]:
    """Remove the job folders (:func:`temp_folder`) of processes that no longer run,
    as a server starts (a ``kill -9`` leaves them behind); returns their names.

    Examples
    --------
    >>> import subprocess, sys
    >>> dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
    ...                       capture_output=True, text=True).stdout.strip()
    >>> p = Path(tempfile.mkdtemp(prefix=f"trueclout-upload-{dead}-"))
    >>> mine = temp_folder("upload")
    >>> p.name in remove_stale_temp(), p.exists(), mine.exists()
    (True, False, True)
    >>> mine.rmdir()
    """
    import psutil
    gone = []
    root = Path(tempfile.gettempdir())
    for kind in kinds:
        for p in root.glob(f"trueclout-{kind}-*"):
            pid = p.name[len(f"trueclout-{kind}-"):].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid() or psutil.pid_exists(int(pid)):
                continue        # another live process's, or an older name: not ours to judge
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p.name)
    return gone


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TruecloutError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class JobManager:
    """Runs jobs on daemon threads and keeps their records in the service's store.

    Parameters
    ----------
    service : Service
    workers : int, optional
        Threads (default config ``api_job_workers``).
    queue : int, optional
        Jobs queued or running at once (default config ``api_job_queue``).

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

    def __init__(self, service, *, workers: int | None = None,
                 queue: int | None = None) -> None:
        self.service = service
        self.workers = max(1, int(workers or config.get("api_job_workers")))
        self.max_jobs = max(1, int(config.value("api_job_queue", queue)))
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: collections.deque = collections.deque()
        self._threads: list[threading.Thread] = []
        self._active: dict[int, str] = {}        # job id -> "queued" | "running"
        self._cleanups: dict[int, Path | None] = {}
        self._abandoned: set[int] = set()
        self._done: dict[int, threading.Event] = {}
        self._stop = threading.Event()            # running jobs stop at their next report
        self._closing = False                     # threads end once nothing is pending
        if not service.store.read_only:
            n = service.cursor_store().fail_unfinished_jobs(RESTARTED)
            if n:
                log.warning("%d unfinished jobs marked failed: %s", n, RESTARTED)
            gone = remove_stale_temp()
            if gone:
                log.warning("removed %d job folders left by stopped servers", len(gone))

    def check_room(self) -> None:
        """:class:`JobQueueFullError` (429, ``Retry-After``) when ``api_job_queue`` jobs
        are already queued or running; the API asks before it reads an upload.

        Examples
        --------
        >>> from trueclout.api.service import Service
        >>> jm = JobManager(Service(":memory:"), queue=1)
        >>> jm.check_room()
        >>> jm._active[1] = "running"; jm.check_room()
        Traceback (most recent call last):
        ...
        trueclout.api.errors.JobQueueFullError: 1 jobs are queued or running, the most at once (setting api_job_queue); retry in 10 s
        """
        n = len(self._active)
        if n >= self.max_jobs:
            retry = int(config.get("api_job_retry_s"))
            raise JobQueueFullError(f"{n} jobs are queued or running, the most at once "
                                    f"(setting api_job_queue); retry in {retry} s",
                                    retry_after=retry)

    def submit(self, kind: str, params: dict, fn: Callable[[Callable], Any], *,
               cleanup: Path | None = None) -> dict:
        """Record a job and run ``fn(progress)`` on a job thread, where
        ``progress(fraction, message, force=False)`` reports progress (written at most
        every ``api_job_progress_s`` seconds unless ``force``; it never goes back, and it
        raises :class:`JobInterrupted` once the server stops); ``fn`` returns the result
        (a JSON-ready dict). ``cleanup``: a folder removed when the job ends. Refused
        with :class:`JobQueueFullError` when the queue is full. The threads are made on
        the first submit (and again after a :meth:`shutdown`).

        Examples
        --------
        >>> JobManager.submit  # doctest: +ELLIPSIS
        <function JobManager.submit at ...>
        """
        with self._lock:
            self.check_room()
            if self._closing or self._stop.is_set():     # the first job since a shutdown
                self._threads = [t for t in self._threads if t.is_alive()]
                self._closing = False
                self._stop.clear()
            while len(self._threads) < self.workers:
                t = threading.Thread(target=self._worker, name="tc-job", daemon=True)
                t.start()
                self._threads.append(t)
            job_id = self.service.cursor_store().create_job(kind, params)
            self._active[job_id] = "queued"
            self._cleanups[job_id] = cleanup
            self._done[job_id] = threading.Event()
            self._pending.append((job_id, fn))
            self._wake.notify()
        return self.get(job_id)

    def _worker(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closing:
                    self._wake.wait()
                if not self._pending or self._stop.is_set():
                    return
                job_id, fn = self._pending.popleft()
                self._active[job_id] = "running"
            self._run(job_id, fn)

    def _run(self, job_id: int, fn: Callable) -> None:
        store = self.service.open_cursor()  # the record's own cursor, outside the work's
        every = float(config.get("api_job_progress_s"))
        last = [float("-inf"), 0.0]          # time of the last write, progress written

        def progress(fraction: float, message: str | None = None, *,
                     force: bool = False) -> None:
            if self._stop.is_set():
                raise JobInterrupted()
            now = time.monotonic()
            if not force and now - last[0] < every:
                return
            frac = max(float(min(max(fraction, 0.0), 1.0)), last[1])  # never backwards
            last[0], last[1] = now, frac
            store.update_job(job_id, progress=frac, message=message)

        final: dict[str, Any]
        try:
            store.update_job(job_id, status="running", started_at=_now(), progress=0.0)
            result = fn(progress)
            final = {"status": "done", "progress": 1.0, "message": None, "result": result}
        except JobInterrupted:
            final = {"status": "interrupted", "message": INTERRUPTED}
        except Exception as exc:  # a failed job says why, and the server goes on
            if not isinstance(exc, TruecloutError):
                log.exception("job %d failed", job_id)
            final = {"status": "failed", "message": _reason(exc)}
        try:
            if job_id not in self._abandoned:
                store.update_job(job_id, finished_at=_now(), **final)
        except Exception:  # the store itself failed: nothing more to record
            log.exception("could not record the end of job %d", job_id)
        finally:
            store.con.close()
            self._finish(job_id)

    def _finish(self, job_id: int) -> None:
        with self._lock:
            self._active.pop(job_id, None)
            cleanup = self._cleanups.pop(job_id, None)
            ev = self._done.pop(job_id, None)
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
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

    def shutdown(self, wait: bool = True, grace: float | None = None) -> int:
        """Stop the job threads. With ``wait``, let every queued and running job finish
        first. Without: queued jobs are marked ``interrupted``, running ones stop at their
        next progress report, and after ``grace`` seconds (default config
        ``api_shutdown_grace_s``) those still running are marked ``interrupted`` and left
        to the daemon threads. Returns how many were left so. A later :meth:`submit`
        starts new threads (an app whose lifespan ended, as each ``with
        TestClient(app)`` does, still runs jobs).

        Examples
        --------
        >>> from trueclout.api.service import Service
        >>> jm = JobManager(Service(":memory:"), workers=1)
        >>> jm.shutdown()
        0
        >>> jm.wait(jm.submit("again", {}, lambda progress: {})["job_id"])["status"]
        'done'
        >>> jm.shutdown(wait=False)
        0
        """
        with self._wake:
            self._closing = True
            threads = list(self._threads)
            dropped = [] if wait else list(self._pending)
            if not wait:
                self._pending.clear()
                self._stop.set()
            self._wake.notify_all()
        if dropped:
            store = self.service.cursor_store()
            for job_id, _ in dropped:
                store.update_job(job_id, status="interrupted", message=INTERRUPTED,
                                 finished_at=_now())
                self._finish(job_id)
        deadline = None if wait else time.monotonic() + float(
            config.value("api_shutdown_grace_s", grace))
        for t in threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            left = [j for j, s in self._active.items() if s == "running"]
            self._abandoned.update(left)
        if left:
            store = self.service.cursor_store()
            for job_id in left:
                store.update_job(job_id, status="interrupted", message=INTERRUPTED,
                                 finished_at=_now())
            log.warning("%d jobs still running at shutdown were marked interrupted", len(left))
        return len(left)
