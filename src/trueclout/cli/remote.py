"""Commands beside a running server: talk to it through its API.

``trueclout serve`` holds its store for as long as it runs (DuckDB lets no other process
open the file meanwhile, not even to read), and writes ``<store>.server.json``
(:mod:`trueclout.store.holder`) with its address and a key that lives only in its
memory. The commands that read (``audit``, ``find``, ``overlap``, ``plan``, ``rank``,
``topics``, ``suggest``, ``stats``) and ``keys`` find it there and ask the server instead
of the store, so they answer at once from the server's ready scores; the answers are the
ones the command computes itself (the API and the command call the same library with
the same settings). Commands that write the store (``ingest``, ``detect``, ``forget``,
...) say which server holds it instead of waiting ``lock_wait_s``.

Examples
--------
>>> server_for(":memory:") is None
True
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..errors import StoreError, UsageError


class Remote:
    """A client of the running server described by its lock file ``info``.

    Examples
    --------
    >>> r = Remote({"url": "http://127.0.0.1:1", "key": "k", "pid": 1})
    >>> r.url, r.describe()
    ('http://127.0.0.1:1', 'the running trueclout server (pid 1, http://127.0.0.1:1)')
    """

    def __init__(self, info: dict, timeout: float = 600.0) -> None:
        self.info = info
        self.url = str(info["url"]).rstrip("/")
        self.key = str(info["key"])
        self.timeout = timeout

    def describe(self) -> str:
        """The server in words, for messages."""
        return f"the running trueclout server (pid {self.info.get('pid')}, {self.url})"

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx
        try:
            r = httpx.request(method, f"{self.url}/api/v1{path}", timeout=self.timeout,
                              headers={"Authorization": f"Bearer {self.key}"}, **kw)
        except httpx.HTTPError as exc:
            raise StoreError(f"the store is held by {self.describe()}, which did not "
                             f"answer: {exc}") from None
        if r.status_code >= 400:
            raise _error(r)
        return r.json()

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/api/v1<path>`` with ``params`` (None values left out)."""
        return self._call("GET", path, params={k: v for k, v in params.items()
                                               if v is not None})

    def post(self, path: str, body: dict) -> Any:
        """POST a JSON ``body`` to ``/api/v1<path>``."""
        return self._call("POST", path, json=body)

    def delete(self, path: str) -> Any:
        """DELETE ``/api/v1<path>``."""
        return self._call("DELETE", path)

    def pages(self, path: str, total: int | None = None, limit: int = 1000,
              **params: Any) -> list:
        """Every item of a paginated list (``total`` rows at most), page by page."""
        items: list = []
        offset = 0
        while True:
            page = self.get(path, offset=offset, limit=limit, **params)
            items.extend(page["items"])
            offset += len(page["items"])
            want = page["total"] if total is None else min(total, page["total"])
            if not page["items"] or offset >= want:
                return items[:want]


def _error(r) -> Exception:
    """The command's error for an API error answer: usage errors (400, 404, 422) exit 2,
    everything else 1."""
    try:
        e = r.json()["error"]
        msg, field = e.get("message") or r.reason_phrase, e.get("field")
    except Exception:  # noqa: BLE001 - not our error shape
        msg, field = f"HTTP {r.status_code} {r.reason_phrase}", None
    if r.status_code in (400, 404, 409, 422):
        return UsageError(msg, field=field)
    return StoreError(f"the server answered {r.status_code}: {msg}")


def server_for(db: str) -> Remote | None:
    """A client of the server holding the store ``db`` when one runs (its lock file names
    a live process that answers ``/health``), else None.

    Examples
    --------
    >>> server_for("/nonexistent/x.duckdb") is None
    True
    """
    from ..store.holder import read_holder
    info = read_holder(db)
    if info is None or not info.get("url") or not info.get("key"):
        return None
    remote = Remote(info)
    try:
        import httpx
        httpx.get(f"{remote.url}/api/v1/health", timeout=2.0).raise_for_status()
    except Exception:  # noqa: BLE001 - a server that does not answer is not used
        return None
    return remote


def account_path(spec: str) -> str:
    """An account spec as a path segment.

    Examples
    --------
    >>> account_path("@ana/b")
    '%40ana%2Fb'
    """
    return quote(spec.strip(), safe="")


def only_local(remote: Remote | None, what: str, given: bool) -> None:
    """Refuse an option the server cannot honour (``what``: the option in words).

    Examples
    --------
    >>> only_local(None, "--model", True)
    """
    if remote is not None and given:
        raise UsageError(f"{what} needs the store, which {remote.describe()} holds; stop "
                         "it first, or leave the option out")
