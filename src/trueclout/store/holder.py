"""Who holds a store: the lock file a running server writes beside it.

DuckDB lets one process open a store file for writing, and no other process may open it
at all meanwhile, not even to read. ``trueclout serve`` holds its store for as long as it
runs, so it writes ``<store>.server.json`` (only its owner may read it: it holds a key)
saying where it listens, with a key that lives only in the server's memory. A command
that finds a live server there talks to it through its API instead of waiting for the
store, and :class:`~trueclout.store.Store` says at once which server holds the file
instead of waiting ``lock_wait_s`` for it.

Examples
--------
>>> import tempfile, os
>>> db = os.path.join(tempfile.mkdtemp(), "s.duckdb")
>>> p = write_holder(db, {"url": "http://127.0.0.1:8000", "key": "k"})
>>> read_holder(db)["url"], oct(p.stat().st_mode & 0o777)
('http://127.0.0.1:8000', '0o600')
>>> remove_holder(db); read_holder(db) is None
True
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def holder_path(db: str | os.PathLike) -> Path:
    """``<store>.server.json``.

    Examples
    --------
    >>> holder_path("/data/my.duckdb").name
    'my.duckdb.server.json'
    """
    return Path(str(db) + ".server.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # another user's live process
        return True
    except OSError:
        return False
    return True


def write_holder(db: str | os.PathLike, info: dict) -> Path:
    """Write the lock file of ``db`` (``info`` plus this process's id, the store's
    absolute path and the time), readable by its owner only; returns its path.

    Examples
    --------
    >>> import tempfile
    >>> db = Path(tempfile.mkdtemp()) / "s.duckdb"
    >>> p = write_holder(db, {"url": "http://127.0.0.1:8000"})
    >>> p.name, oct(p.stat().st_mode & 0o777), read_holder(db)["url"]
    ('s.duckdb.server.json', '0o600', 'http://127.0.0.1:8000')
    >>> remove_holder(db); read_holder(db) is None
    True
    """
    p = holder_path(db)
    doc = {**info, "pid": os.getpid(), "db": str(Path(db).resolve()), "started": time.time()}
    tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    os.replace(tmp, p)
    return p


def read_holder(db: str | os.PathLike) -> dict | None:
    """The lock file of ``db`` when the process that wrote it still runs, else None (a
    server killed without removing its file leaves a stale one, which is ignored).

    Examples
    --------
    >>> read_holder("/nonexistent/x.duckdb") is None
    True
    """
    if str(db) == ":memory:":
        return None
    try:
        doc = json.loads(holder_path(db).read_text(encoding="utf-8"))
        pid = int(doc["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return doc if _alive(pid) else None


def remove_holder(db: str | os.PathLike) -> None:
    """Remove the lock file of ``db`` if this process wrote it.

    Examples
    --------
    >>> remove_holder("/nonexistent/x.duckdb")
    """
    p = holder_path(db)
    try:
        if int(json.loads(p.read_text(encoding="utf-8")).get("pid", -1)) == os.getpid():
            p.unlink()
    except (OSError, ValueError, TypeError):
        pass
