"""The service layer: the library's answers as JSON-ready dicts, shared by the API and the
web pages.

A :class:`Service` owns the server's one :class:`~trueclout.store.Store` connection (the
process is the store's single writer) and one cached
:class:`~trueclout.score.context.ScoreContext`. The context is rebuilt when the store's
data changes (a new ingest), detected by a cheap token: the number of ingests and the
latest ingest id. Everything derived from the context (the rankings, the who-to-follow
model) is computed once per context and cached with it. A lock guards each rebuild so two
requests never fit detection twice; reads of a built context run in parallel.

Reading the token costs a DuckDB query (about half a millisecond), too much for every
request. The server is the store's single writer, so the data changes only through its own
jobs (ingest, simulation, detection runs), and each of them bumps an in-memory generation
counter when it has committed (:meth:`Service.bump`): a request re-reads the token only
when the generation moved, and otherwise at most once every ``api_token_check_s`` seconds,
a time-based safety net for a write the service did not make itself (a library call on its
store in the same process). :meth:`Service.fresh` is the context when no check is due, so
the API can answer a cached page on its event loop without a query or a thread.

The hot reads keep their answers ready: each ranking ``(by, topic)`` as its rows
serialised to JSON (in chunks, on first use, :class:`RankRows`), whose pages are slices
(:meth:`Service.rankings_json`), and each audit as its JSON body
(:meth:`Service.audit_json`).

Threads never share a DuckDB connection: :meth:`Service.cursor_store` gives a thread its
own :class:`Store` view over a cursor of the one connection (same database, its own
transactions).

Examples
--------
>>> import tempfile, os
>>> from trueclout.store import Store
>>> path = os.path.join(tempfile.mkdtemp(), "svc.duckdb")
>>> Store(path).close()
>>> svc = Service(path)
>>> svc.search("", limit=5)["total"]
0
>>> svc.account("nobody")
Traceback (most recent call last):
...
trueclout.api.errors.NotFoundError: account: no account 'nobody' in the store (give platform:account_id, an account id or @handle)
>>> svc.close()
"""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import TruecloutError, UnknownAccountError, UsageError
from .errors import NotFoundError


def _py(x: Any) -> Any:
    """Make ``x`` JSON-ready: numpy scalars and arrays to Python, NaN to None.

    Examples
    --------
    >>> _py({"a": np.float32(1.5), "b": [np.int64(2), float("nan")]})
    {'a': 1.5, 'b': [2, None]}
    """
    if isinstance(x, dict):
        return {str(k): _py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_py(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_py(v) for v in x.tolist()]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if hasattr(x, "isoformat"):
        return x.isoformat()
    return x


def _page(rows: list, total: int, offset: int, limit: int, **extra: Any) -> dict:
    return {"total": int(total), "offset": int(offset), "limit": int(limit),
            "items": rows, **extra}


def _dumps(x: Any) -> bytes:
    """``x`` as compact UTF-8 JSON, as the API's JSON responses write it.

    Examples
    --------
    >>> _dumps({"a": [1, None], "b": "é"})
    b'{"a":[1,null],"b":"\xc3\xa9"}'
    """
    return json.dumps(x, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def _remember(cache: dict, key: Any, value: Any, size: int) -> None:
    """Put ``key`` in ``cache``, dropping the oldest entries beyond ``size``."""
    while len(cache) >= max(size, 1):
        cache.pop(next(iter(cache)))
    cache[key] = value


def _check_text(value: str | None, field: str) -> None:
    """Refuse a text (an account, a topic, a query) longer than ``api_max_text``: the
    pages and library callers get the limit the API's schema gives its requests.

    Examples
    --------
    >>> _check_text("@ana", "account")
    >>> _check_text("x" * 5000, "topic")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: topic: longer than 200 characters (5,000)
    """
    from .. import config
    limit = int(config.get("api_max_text"))
    if value is not None and len(value) > limit:
        raise UsageError(f"longer than {limit} characters ({len(value):,})", field=field)


def _check_page(offset: int, limit: int, max_limit: int) -> None:
    if offset < 0:
        raise UsageError("must not be negative", field="offset")
    if not 1 <= limit <= max_limit:
        raise UsageError(f"must be between 1 and {max_limit}", field="limit")


#: Stages :func:`trueclout.simulate.simulate` reports (accounts, follows, posts, attacks,
#: snapshots): a simulation job's progress counts them.
_SIM_STAGES = 5


def expected_rows(path: str | Path) -> int | None:
    """About how many rows the file ``path`` holds, cheaply: a Parquet file's row count,
    a plain text file's line count (less a header line); None for other files (a folder,
    compressed or binary data) or when it cannot be read.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "f.csv")
    >>> _ = open(p, "w").write("src,dst\\na,b\\nb,c\\n")
    >>> expected_rows(p), expected_rows(os.path.dirname(p))
    (2, None)
    """
    p = Path(path)
    try:
        if not p.is_file():
            return None
        if p.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq
            return int(pq.ParquetFile(p).metadata.num_rows)
        lines, blank = 0, True
        with open(p, "rb") as fh:
            head = fh.read(4096)
            if b"\x00" in head or head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04":
                return None
            chunk = head
            while chunk:
                lines += chunk.count(b"\n")
                blank = chunk.endswith(b"\n")
                chunk = fh.read(1 << 20)
        lines += 0 if blank else 1
        return max(lines - 1, 1)
    except Exception:  # unreadable or a damaged Parquet file: the ingest says why
        return None


class RankRows:
    """One ranking's rows serialised to JSON on demand, in chunks of ``chunk`` rows, so
    a page is a slice of ready bytes and the first page does not pay for the whole
    ranking.

    Examples
    --------
    >>> import pyarrow as pa
    >>> rr = RankRows(pa.table({"rank": [1, 2, 3], "platform": ["p"] * 3,
    ...                         "account_id": ["a", "b", "c"]}), chunk=2)
    >>> rr.page(1, 5, cached_only=True) is None     # nothing serialised yet
    True
    >>> rr.page(1, 5)
    [b'{"rank":2,"platform":"p","account_id":"b","account":"p:b"}', b'{"rank":3,"platform":"p","account_id":"c","account":"p:c"}']
    >>> len(rr), len(rr.page(2, 1, cached_only=True))
    (3, 1)
    """

    def __init__(self, table: Any, chunk: int | None = None) -> None:
        from .. import config
        self.table = table
        self.n = int(table.num_rows)
        self.chunk = max(1, int(chunk or config.get("api_ranking_chunk")))
        self.chunks: list[list[bytes] | None] = [None] * (-(-self.n // self.chunk))

    def __len__(self) -> int:
        return self.n

    def _make(self, c: int) -> list[bytes]:
        rows = []
        for r in _py(self.table.slice(c * self.chunk, self.chunk).to_pylist()):
            r["account"] = f"{r['platform']}:{r['account_id']}"
            rows.append(_dumps(r))
        self.chunks[c] = rows   # two threads making one chunk make the same bytes
        return rows

    def page(self, offset: int, limit: int, *,
             cached_only: bool = False) -> list[bytes] | None:
        """Rows ``offset`` to ``offset + limit`` as JSON; None with ``cached_only`` when
        a chunk of them is not serialised yet."""
        end = min(offset + limit, self.n)
        if offset >= end:
            return []
        k = self.chunk
        out: list[bytes] = []
        for c in range(offset // k, (end - 1) // k + 1):
            rows = self.chunks[c]
            if rows is None:
                if cached_only:
                    return None
                rows = self._make(c)
            out.extend(rows[max(offset - c * k, 0):end - c * k])
        return out


class _Derived:
    """What is computed once per context: prefix-search keys, rankings, who-to-follow."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.lock = threading.RLock()
        #: Guards the context's own store cursor (topic queries).
        self.store_lock = threading.RLock()
        self.rankings: dict[str | None, dict] = {}
        self.wtf: Any = None
        self.audits: dict[tuple, dict] = {}
        self.results: dict[tuple, list] = {}
        self.ranks: dict[str, np.ndarray] | None = None
        self.topics: list[dict] | None = None
        #: (by, topic) -> the rows of that ranking, serialised on demand.
        self.ranking_rows: dict[tuple, RankRows] = {}
        #: (account, n_boot) -> the audit's JSON body.
        self.audit_bodies: dict[tuple, bytes] = {}
        #: account spec -> its vertex (specs seen before skip the resolver's scans).
        self.vertices: dict[str, int] = {}
        g = ctx.graph
        n = ctx.n
        prof = ctx.data.profiles
        handles = (prof.column("handle").to_pylist() if "handle" in prof.column_names
                   else [None] * n)
        ids = g.names.column("account_id").to_pylist()
        self.handles = handles
        hk = np.array([(h or "").lower() for h in handles], dtype=object)
        ik = np.array([str(i).lower() for i in ids], dtype=object)
        self.h_order = np.argsort(hk, kind="stable")
        self.h_sorted = hk[self.h_order].astype(str) if n else np.zeros(0, str)
        self.i_order = np.argsort(ik, kind="stable")
        self.i_sorted = ik[self.i_order].astype(str) if n else np.zeros(0, str)
        self.count, self.known = ctx.data.follower_counts()
        #: The sort key of a search: the platform's count, else the followers known.
        self.followers = np.where(np.isfinite(self.count), self.count,
                                  self.known).astype(np.int64)
        cat = getattr(ctx.ensemble, "category_", None)
        self.category = (np.asarray(cat).astype(str) if cat is not None
                         else np.full(n, "real"))


class Service:
    """The library behind the API and the web pages, over one store.

    Parameters
    ----------
    db : str or Path
        The store. The service opens it for writing (the server is its single writer)
        unless ``read_only``.
    read_only : bool
        Open the store read-only (no ingest, runs, keys or jobs).
    max_limit : int, optional
        Largest page size (default config ``api_max_page``).

    Examples
    --------
    >>> svc = Service(":memory:")
    >>> svc.runs()["total"], svc.token()
    (0, (0, 0, 0))
    >>> svc.close()
    """

    def __init__(self, db: str | Path, *, read_only: bool = False,
                 max_limit: int | None = None) -> None:
        from .. import config
        from ..store import Store
        self.db = str(db)
        self.store = Store(self.db, read_only=read_only)
        self.max_limit = int(max_limit or config.get("api_max_page"))
        self.audit_cache = int(config.get("api_audit_cache"))
        self.ranking_cache = int(config.get("api_ranking_cache"))
        self._build_lock = threading.Lock()
        self._building = False          # a context is being built (by a job or a thread)
        self._rebuilder: threading.Thread | None = None
        self._rebuild_lock = threading.Lock()
        self._local = threading.local()
        self._derived: _Derived | None = None
        self._token: tuple | None = None
        self._gen = 0                   # bumped by this process's own writes
        self._seen_gen = -1             # the generation the last token check saw
        self._checked = float("-inf")   # time.monotonic() of the last token check
        self.token_check_s = float(config.get("api_token_check_s"))
        #: Held by every job that writes the data (ingest, detection runs): one at a time.
        self.write_lock = threading.Lock()
        #: What the context build in progress is doing (:meth:`status`).
        self._stage = {"stage": "waiting for the first request", "rows": None,
                       "started": None}
        from .jobs import JobManager
        self.jobs = JobManager(self)

    # -- store access --------------------------------------------------------------------
    def cursor_store(self):
        """This thread's own :class:`Store` view: a cursor of the service's connection.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.cursor_store().counts()["accounts"]
        0
        """
        view = getattr(self._local, "store", None)
        if view is None or view.con is None:
            view = self._local.store = self.open_cursor()
        return view

    def open_cursor(self):
        """A new :class:`Store` view over a new cursor of the service's connection (the
        caller closes ``view.con``).

        Examples
        --------
        >>> view = Service(":memory:").open_cursor()
        >>> view.counts()["accounts"]
        0
        >>> view.con.close()
        """
        view = copy.copy(self.store)
        view.con = self.store.con.cursor()
        return view

    def token(self) -> tuple:
        """What identifies the store's data: (number of ingests, latest ingest id, data
        generation). The generation (``meta.data_generation``) moves when rows go without
        an ingest (``trueclout forget``), so a forgotten account leaves every cache.

        Examples
        --------
        >>> Service(":memory:").token()
        (0, 0, 0)
        """
        return self.cursor_store().data_token()

    def bump(self) -> None:
        """Say that the store's data changed: this service's jobs call it once their
        write has committed, so the next request reads the token again (and rebuilds the
        context when it moved).

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> d = svc.context(); svc.fresh() is not None
        True
        >>> svc.bump(); svc.fresh() is None
        True
        """
        self._gen += 1

    def fresh(self) -> _Derived | None:
        """The published derived context when it may be served without a query: no write
        of this service since the last token check, which is under ``api_token_check_s``
        seconds old, or a newer context is being built (reads keep the last published
        one meanwhile); None when a check (or the first build) is due: call
        :meth:`context`.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.fresh() is None
        True
        >>> svc.context().n, svc.fresh().ctx.n
        (0, 0)
        """
        d = self._derived
        if d is not None and (self._building or (
                self._seen_gen == self._gen
                and time.monotonic() - self._checked < self.token_check_s)):
            return d
        return None

    def _ctx(self, *, wait: bool = False, force: bool = False) -> _Derived:
        """The derived context to answer from. Reads never wait for a build while one is
        published: when the data changed, they get the last published context and a
        thread builds the next (:meth:`_rebuild_soon`). ``wait`` (the jobs): build the
        current one now and return it; ``force``: build it even if the data did not
        change (a detection run)."""
        if not force:
            d = self.fresh()
            if d is not None:
                return d
        gen = self._gen             # read before the token: a later bump is seen next time
        tok = self.token()
        d = self._derived
        if not force and d is not None and self._token == tok:
            self._seen_gen, self._checked = gen, time.monotonic()
            return d
        if d is not None and not wait:
            self._rebuild_soon()
            return d
        with self._build_lock:
            if not force and self._derived is not None and self._token == tok:
                self._seen_gen, self._checked = gen, time.monotonic()
                return self._derived
            self._building = self._derived is not None
            self._stage = {"stage": "reading the store", "rows": None,
                           "started": time.monotonic()}
            try:
                from ..score.saved import load_context
                view = copy.copy(self.store)
                view.con = self.store.con.cursor()  # the context's own cursor, for topics
                # the context saved beside the store by the last build (this server's or
                # a command's) while the data are the same; else read and fitted
                new = _Derived(load_context(
                    view, read_progress=lambda stage, rows=0, *a: self._progress(
                        f"reading the store: {stage}", rows),
                    fit_progress=lambda m: self._progress(f"detecting: {m}")))
                self._warm(new)
            finally:
                self._building = False
                self._progress("ready")
            self._derived = new       # published: reads switch to it at once
            self._token = tok
            self._seen_gen, self._checked = gen, time.monotonic()
            return new

    def _warm(self, d: _Derived) -> None:
        """Compute what the first reads of a new context would wait for (TrueRank and
        the other rankings, the places, the topic list, the first page of the default
        ranking) before it is published."""
        if not d.ctx.n:
            return
        self._progress("ranking: TrueRank, authentic reach, engagement")
        self._ranks(d)
        self._progress("topics: communities and their terms")
        self._topics(d)
        self._ranking_rows(d, "truerank", None, 0, 1).page(0, 1)

    def _progress(self, stage: str, rows: Any = None) -> None:
        self._stage = {**self._stage, "stage": stage,
                       "rows": int(rows) if rows else None}

    def status(self) -> dict:
        """Whether answers are ready, and what the build of the scores is doing:
        ``ready`` (a context is published), ``stage`` (in words), ``rows`` (rows read
        so far, when reading the store), ``seconds`` (since the build began). Reads no
        store and takes no lock, so it answers at once, also during a build.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.status()["ready"]
        False
        >>> _ = svc.context(); svc.status()["ready"], svc.status()["stage"]
        (True, 'ready')
        """
        st = self._stage
        started = st.get("started")
        t = self._rebuilder       # a build started on its thread counts before it locks
        building = self._build_lock.locked() or (t is not None and t.is_alive())
        return {"ready": self._derived is not None, "building": bool(building),
                "stage": st["stage"], "rows": st["rows"],
                "seconds": (round(time.monotonic() - started, 1)
                            if started is not None else None)}

    def warm_up(self) -> None:
        """Start building the scores on a thread of their own (the server calls it at
        start-up, so the first page does not wait for detection); returns at once.

        Examples
        --------
        >>> svc = Service(":memory:"); svc.warm_up(); svc._rebuilder.join()
        >>> svc.status()["ready"]
        True
        """
        self._rebuild_soon()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a published context; whether there is one.

        Examples
        --------
        >>> Service(":memory:").wait_ready(0.0)
        False
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while self._derived is None:
            t = self._rebuilder
            left = deadline - time.monotonic()
            if t is None or not t.is_alive() or left <= 0:
                break
            t.join(min(left, 0.05))
        return self._derived is not None

    def _rebuild_soon(self) -> None:
        """Build the current context on a thread of its own (one at a time), while reads
        go on with the published one."""
        with self._rebuild_lock:
            t = self._rebuilder
            if t is not None and t.is_alive():
                return
            self._rebuilder = threading.Thread(target=self._rebuild, name="tc-context",
                                               daemon=True)
            self._rebuilder.start()

    def _rebuild(self) -> None:
        try:
            self._ctx(wait=True)
        except Exception:  # a later read tries again; the published context still serves
            import logging
            logging.getLogger("trueclout.api").exception("rebuilding the score context")

    def context(self):
        """The current :class:`~trueclout.score.context.ScoreContext` (built on first use,
        rebuilt after an ingest; this call waits for the build, where the answers to
        requests are served from the last published one meanwhile).

        Examples
        --------
        >>> Service(":memory:").context().n
        0
        """
        return self._ctx(wait=True).ctx

    def invalidate(self) -> None:
        """Forget the cached context (the next call rebuilds it).

        Examples
        --------
        >>> svc = Service(":memory:"); svc.invalidate(); svc.context().n
        0
        """
        with self._build_lock:
            self._derived = None
            self._token = None
            self._gen += 1

    def close(self) -> None:
        """Close the store.

        Examples
        --------
        >>> Service(":memory:").close()
        """
        self.jobs.shutdown(wait=True)
        t = self._rebuilder
        if t is not None:
            t.join()            # a context build holds a cursor of the store
        self._derived = None
        self.store.close()

    # -- accounts ------------------------------------------------------------------------
    def _vertex(self, d: _Derived, spec: str) -> int:
        v = d.vertices.get(spec)
        if v is not None:
            return v
        _check_text(spec, "account")
        from ..accounts import resolve_account
        try:
            v = resolve_account(d.ctx.data, spec)
        except UnknownAccountError as exc:
            raise NotFoundError(exc.message, field="account") from None
        with d.lock:
            _remember(d.vertices, spec, v, 4 * self.audit_cache)
        return v

    def _account_row(self, d: _Derived, v: int) -> dict:
        g = d.ctx.graph
        platform, account_id = g.name(v)
        prof = d.ctx.data.profiles
        def col(c):
            return prof.column(c)[v].as_py() if c in prof.column_names else None
        count = d.count[v]
        return {"account": f"{platform}:{account_id}", "platform": str(platform),
                "account_id": str(account_id), "handle": d.handles[v], "name": col("name"),
                "followers_count": int(count) if np.isfinite(count) else None,
                "followers_known": int(d.known[v]),
                "following": _py(col("following_count")),
                "authenticity": round(float(d.ctx.authenticity[v]), 4),
                "category": str(d.category[v]), "flagged": bool(d.ctx.suspicious[v])}

    def search(self, q: str, limit: int = 20, offset: int = 0) -> dict:
        """Accounts whose handle or account id starts with ``q`` (case-insensitive), most
        followed first; ``{"total", "offset", "limit", "items": [account...]}``.

        Examples
        --------
        >>> Service(":memory:").search("a")["items"]
        []
        """
        _check_page(offset, limit, self.max_limit)
        _check_text(q, "q")
        d = self._ctx()
        q = (q or "").strip().lstrip("@").lower()
        if ":" in q:
            q = q.split(":", 1)[1]
        hits = []
        for keys, order in ((d.h_sorted, d.h_order), (d.i_sorted, d.i_order)):
            if keys.size == 0:
                continue
            lo = np.searchsorted(keys, q, side="left")
            hi = np.searchsorted(keys, q + "\U0010ffff", side="left")
            if not q:
                lo, hi = 0, keys.size
            hits.append(order[lo:hi])
        idx = np.unique(np.concatenate(hits)) if hits else np.zeros(0, np.int64)
        idx = idx[np.lexsort((idx, -d.followers[idx]))] if idx.size else idx
        vs = [int(v) for v in idx[offset:offset + limit]]
        rows = self._add_ranks(d, [self._account_row(d, v) for v in vs], vs)
        return _page(rows, idx.size, offset, limit, q=q)

    def account(self, spec: str) -> dict:
        """One account's profile and scores; :class:`NotFoundError` when unknown.

        Examples
        --------
        >>> Service(":memory:").account("@x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        trueclout.api.errors.NotFoundError: account: no account '@x' in the store ...
        """
        d = self._ctx()
        return self._account_row(d, self._vertex(d, spec))

    def audit(self, spec: str, *, n_boot: int | None = None) -> dict:
        """The audit of ``spec`` (:func:`trueclout.audit.audit_account`) with an
        ``influence`` section (:func:`trueclout.report.influence.account_influence`) and
        the ``account`` row.

        Examples
        --------
        >>> Service.audit  # doctest: +ELLIPSIS
        <function Service.audit at ...>
        """
        d = self._ctx()
        return copy.deepcopy(self._audit_rep(d, self._vertex(d, spec), n_boot))

    def _audit_rep(self, d: _Derived, v: int, n_boot: int | None) -> dict:
        """The cached audit of vertex ``v`` (computed on first use); not a copy."""
        from ..audit import audit_account
        from ..report.influence import account_influence
        key = (v, n_boot)
        rep = d.audits.get(key)
        if rep is None:
            rep = audit_account(d.ctx.data, d.ctx.ensemble, v, n_boot=n_boot)
            rep["influence"] = account_influence(d.ctx, v, self._scores(d, None))
            rep["account_row"] = self._account_row(d, v)
            rep = _py(rep)
            with d.lock:
                _remember(d.audits, key, rep, self.audit_cache)
        return rep

    def audit_json(self, spec: str, *, n_boot: int | None = None,
                   cached_only: bool = False) -> bytes | None:
        """:meth:`audit` as its JSON body (UTF-8), kept per context so a repeated audit
        costs a dictionary look-up. With ``cached_only``, None instead of any work that
        could take long (a token check, a context build, an audit not computed yet):
        the API's event loop asks this way first and hands a miss to a thread.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.audit_json("@x", cached_only=True) is None   # no context yet
        True
        >>> svc.audit_json("@x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        trueclout.api.errors.NotFoundError: account: no account '@x' in the store ...
        """
        d = self.fresh() if cached_only else self._ctx()
        if d is None:
            return None
        if cached_only and spec not in d.vertices:
            return None
        v = self._vertex(d, spec)
        key = (v, n_boot)
        body = d.audit_bodies.get(key)
        if body is None:
            if cached_only:
                return None
            body = _dumps(self._audit_rep(d, v, n_boot))
            with d.lock:
                _remember(d.audit_bodies, key, body, self.audit_cache)
        return body

    # -- rankings ------------------------------------------------------------------------
    def _scores(self, d: _Derived, topic: str | None) -> dict:
        from ..score.rank import rank_all
        s = d.rankings.get(topic)
        if s is None:
            with d.lock:
                s = d.rankings.get(topic)
                if s is None:
                    with d.store_lock:
                        s = rank_all(d.ctx, topic)
                    d.rankings[topic] = s
        return s

    def _ranks(self, d: _Derived) -> dict[str, np.ndarray]:
        """Per account: TrueRank (a multiple of the average account) and the places by
        TrueRank and by followers; once per context."""
        if d.ranks is None:
            from ..report.influence import places
            s = self._scores(d, None)
            with d.lock:
                if d.ranks is None:
                    n = max(d.ctx.n, 1)
                    d.ranks = {"truerank": np.asarray(s["truerank"], np.float64) * n,
                               "place_truerank": places(s["truerank"]),
                               "place_followers": places(s["followers"])}
        return d.ranks

    def _add_ranks(self, d: _Derived, rows: list[dict], vs: Sequence[int]) -> list[dict]:
        """Add ``truerank``, ``place_truerank`` and ``place_followers`` to ``rows`` (the
        accounts ``vs``, −1 where unknown)."""
        if not rows:
            return rows
        r = self._ranks(d)
        for row, v in zip(rows, vs):
            ok = v is not None and 0 <= int(v) < d.ctx.n
            row["truerank"] = round(float(r["truerank"][v]), 4) if ok else None
            row["place_truerank"] = int(r["place_truerank"][v]) if ok else None
            row["place_followers"] = int(r["place_followers"][v]) if ok else None
        return rows

    def topics(self, k: int | None = None) -> list[dict]:
        """The topic communities, biggest audience first (at most ``k``): ``topic``
        (``community:<id>``, what ``topic=`` takes), ``terms`` (top terms), ``label``
        (the topic and its first three terms), ``producers`` and ``audience``. Cached per
        context; empty when the data has no topics.

        Examples
        --------
        >>> Service(":memory:").topics()
        []
        >>> Service(":memory:").topics(k=0)
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: k: must be at least 1
        """
        if k is not None and k < 1:
            raise UsageError("must be at least 1", field="k")
        rows = self._topics(self._ctx())
        return copy.deepcopy(rows if k is None else rows[:k])

    def _topics(self, d: _Derived) -> list[dict]:
        """The topic list of ``d`` (computed once per context)."""
        if d.topics is None:
            from ..score.topics import list_topics
            found: list = []
            if d.ctx.n:
                try:
                    with d.store_lock:
                        found = list_topics(d.ctx, None, store=d.ctx.live_store())
                except (TruecloutError, ValueError):
                    found = []
            rows = []
            for t in found:
                terms = [str(x) for x in (t.get("terms") or [])]
                rows.append({"topic": t["topic"], "terms": terms,
                             "label": (f"{t['topic']}: {', '.join(terms[:3])}" if terms
                                       else t["topic"]),
                             "producers": _py(t.get("producers")),
                             "audience": _py(t.get("audience"))})
            d.topics = rows
        return d.topics

    def rankings(self, by: str = "truerank", topic: str | None = None, offset: int = 0,
                 limit: int = 50) -> dict:
        """One page of the ranking ``by`` (truerank, followers, reach, engagement,
        pagerank), optionally within ``topic``; rows as in
        :func:`trueclout.score.rank.ranking_table`.

        Examples
        --------
        >>> Service(":memory:").rankings(by="nope")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: by: unknown ranking 'nope'; choose from truerank, followers, reach, engagement, pagerank
        """
        topic = topic or None
        rows = self._ranking_rows(self._ctx(), by, topic, offset, limit)
        items = [json.loads(r) for r in rows.page(offset, limit)]
        return _page(items, len(rows), offset, limit, by=by, topic=topic)

    def rankings_json(self, by: str = "truerank", topic: str | None = None,
                      offset: int = 0, limit: int = 50, *,
                      cached_only: bool = False) -> bytes | None:
        """:meth:`rankings` as its JSON body (UTF-8): the page is a slice of the
        ranking's rows, serialised once per context. With ``cached_only``, None instead
        of any work that could take long (a token check, a context build, a ranking not
        built yet).

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.rankings_json(cached_only=True) is None      # no context yet
        True
        >>> svc.rankings_json(limit=5)
        b'{"total":0,"offset":0,"limit":5,"items":[],"by":"truerank","topic":null}'
        """
        topic = topic or None
        d = self.fresh() if cached_only else self._ctx()
        if d is None:
            return None
        if cached_only and (by, topic) not in d.ranking_rows:
            return None
        rows = self._ranking_rows(d, by, topic, offset, limit)
        page = rows.page(offset, limit, cached_only=cached_only)
        if page is None:
            return None
        return b"".join((b'{"total":%d,"offset":%d,"limit":%d,"items":['
                         % (len(rows), offset, limit), b",".join(page),
                         b'],"by":', _dumps(by), b',"topic":', _dumps(topic), b"}"))

    def _ranking_rows(self, d: _Derived, by: str, topic: str | None, offset: int,
                      limit: int) -> RankRows:
        """The rows of the ranking ``(by, topic)`` in rank order (its table made once
        per context, its JSON on demand); checks ``by`` and the page first."""
        from ..score.rank import RANKINGS, ranking_table
        _check_text(topic, "topic")
        if by not in RANKINGS:
            raise UsageError(f"unknown ranking {by!r}; choose from {', '.join(RANKINGS)}",
                             field="by")
        _check_page(offset, limit, self.max_limit)
        key = (by, topic)
        rows = d.ranking_rows.get(key)
        if rows is None:
            scores = self._scores(d, topic)
            with d.lock:
                rows = d.ranking_rows.get(key)
                if rows is None:
                    rows = RankRows(ranking_table(d.ctx, by, topic=topic, scores=scores))
                    _remember(d.ranking_rows, key, rows, self.ranking_cache)
        return rows

    # -- discover ------------------------------------------------------------------------
    def _audience(self, d: _Derived, audience: str | None) -> str | None:
        """An audience is an account (its followers), never a file on the server."""
        if audience is None:
            return None
        spec = self._account_row(d, self._vertex(d, audience))["account"]
        if Path(spec).exists():
            raise UsageError(f"audience {audience!r} is ambiguous here; give @handle",
                             field="audience")
        return spec

    def _target(self, d: _Derived, **kw: Any):
        from ..discover.targets import resolve_target
        with d.store_lock:
            return resolve_target(d.ctx, store=d.ctx.store, **kw)

    def _label_vertex(self, d: _Derived, label: str) -> int:
        platform, _, aid = str(label).partition(":")
        try:
            return int(d.ctx.graph.vertex(platform, aid))
        except (KeyError, ValueError, TruecloutError):
            return -1

    def _cached(self, d: _Derived, key: tuple, make) -> Any:
        got = d.results.get(key)
        if got is None:
            got = make()
            with d.lock:
                if len(d.results) >= self.audit_cache:
                    d.results.pop(next(iter(d.results)))
                d.results[key] = got
        return got

    def find(self, *, topic: str | None = None, audience: str | None = None,
             like: str | None = None, offset: int = 0, limit: int = 20,
             min_followers: int = 0) -> dict:
        """Creators for exactly one of ``topic``, ``audience`` (an account whose followers
        are the audience) and ``like`` (lookalikes), best first, one page:
        ``{"total", "offset", "limit", "items", "target", "kind", ...}``. Each row has the
        follower count and TrueRank side by side (``truerank``, ``place_truerank``,
        ``place_followers``). The list is ranked once per target (at most
        ``api_result_cap`` creators, so ``total`` is at most that) and its pages are
        slices of it.

        Examples
        --------
        >>> Service(":memory:").find()
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: give exactly one of --topic, --audience and --like
        """
        from .. import config
        from ..discover.find import find
        _check_page(offset, limit, self.max_limit)
        if min_followers < 0:
            raise UsageError("must not be negative", field="min_followers")
        given = [x for x in (topic, audience, like) if x is not None]
        if len(given) != 1:
            raise UsageError("give exactly one of --topic, --audience and --like")
        _check_text(topic, "topic")
        d = self._ctx()
        if like is not None:
            self._vertex(d, like)
        cap = int(config.get("api_result_cap"))

        def make():
            t = self._target(d, topic=topic, audience=self._audience(d, audience),
                             like=like)
            rows = _py(find(d.ctx, t, top=cap, min_followers=min_followers).to_pylist())
            return {"target": t.label, "kind": t.kind, **_py(t.info)}, rows

        head, rows = self._cached(d, ("find", topic, audience, like, min_followers), make)
        page = copy.deepcopy(rows[offset:offset + limit])
        self._add_ranks(d, page, [self._label_vertex(d, r["account"]) for r in page])
        return _page(page, len(rows), offset, limit, **copy.deepcopy(head))

    def overlap(self, creators: Sequence[str], *, method: str = "auto",
                k: int | None = None, topic: str | None = None,
                audience: str | None = None) -> dict:
        """Audience overlap of two or more creators
        (:func:`trueclout.discover.overlap.audience_overlap`); with a ``topic`` or an
        ``audience`` (an account: its followers), each follower weighs its relevance to
        that target, as in :meth:`plan`, and ``target`` names it.

        Examples
        --------
        >>> Service(":memory:").overlap(["a"])
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: creators: give at least two creators to compare
        """
        from ..discover.overlap import audience_overlap
        creators = list(creators)
        if len(creators) < 2:
            raise UsageError("give at least two creators to compare", field="creators")
        if method not in ("auto", "exact", "minhash"):
            raise UsageError("must be auto, exact or minhash", field="method")
        _check_text(topic, "topic")
        if topic is not None and audience is not None:
            raise UsageError("give at most one of topic and audience")
        d = self._ctx()
        for c in creators:
            self._vertex(d, c)
        rel, label = None, None
        if topic is not None or audience is not None:
            t = self._target(d, topic=topic, audience=self._audience(d, audience))
            rel, label = t.relevance, t.label
        res = _py(audience_overlap(d.ctx, creators, method=method, k=k, relevance=rel))
        res["target"] = label
        return res

    def plan(self, budget: float, costs: dict[str, float], *, topic: str | None = None,
             audience: str | None = None, max_creators: int | None = None,
             mode: str = "auto", price: str = "post") -> dict:
        """Creators within ``budget`` for the most unique relevant authentic reach;
        ``costs`` maps a creator to its price, per post or per 1,000 followers (``price``
        ``"cpm"``) (:func:`trueclout.discover.plan.plan_budget`).

        Examples
        --------
        >>> Service(":memory:").plan(-1, {"a": 1})
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: budget: must be a finite number, not negative
        """
        import math

        from ..discover.plan import MODES, PRICES, plan_budget
        if price not in PRICES:
            raise UsageError(f"must be one of {', '.join(PRICES)}", field="price")
        if not math.isfinite(budget) or budget < 0:
            raise UsageError("must be a finite number, not negative", field="budget")
        if any(not math.isfinite(c) or c < 0 for c in costs.values()):
            raise UsageError("costs must be finite numbers, not negative", field="costs")
        _check_text(topic, "topic")
        if mode not in MODES:
            raise UsageError(f"must be one of {', '.join(MODES)}", field="mode")
        if max_creators is not None and max_creators < 1:
            raise UsageError("must be at least 1", field="max_creators")
        if not costs:
            raise UsageError("give the costs of at least one creator", field="costs")
        d = self._ctx()
        for c in costs:
            self._vertex(d, c)
        t = self._target(d, topic=topic, audience=self._audience(d, audience),
                         allow_none=True)
        res = plan_budget(d.ctx, dict(costs), float(budget), relevance=t.relevance,
                          max_creators=max_creators, mode=mode, price=price,
                          target_label="" if t.kind == "all" else t.label)
        return _py(res)

    def suggest(self, spec: str, offset: int = 0, limit: int = 20) -> dict:
        """Who ``spec`` could follow (:class:`trueclout.discover.suggest.WhoToFollow`,
        fitted once per context), best first, one page: ``{"total", "offset", "limit",
        "items", "account"}``; never a flagged account. The list is ranked once per
        account (at most ``api_result_cap`` suggestions) and its pages are slices of it.

        Examples
        --------
        >>> Service(":memory:").suggest("x", limit=0)
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: limit: must be between 1 and 1000
        """
        from .. import config
        from ..discover.suggest import WhoToFollow, suggestion_table
        _check_page(offset, limit, self.max_limit)
        d = self._ctx()
        v = self._vertex(d, spec)
        cap = int(config.get("api_result_cap"))

        def make():
            if d.wtf is None:
                with d.lock:
                    if d.wtf is None:
                        d.wtf = WhoToFollow().fit(d.ctx)
            ids, scores = d.wtf.recommend_many([v], cap)
            table = suggestion_table(d.wtf, d.ctx.data, np.array([v]), ids, scores,
                                     specs=[spec])
            keep = ("rank", "platform", "account_id", "handle", "score",
                    "followed_by_your_follows", "follows_you")
            return _py([{k: r[k] for k in keep} for r in table.to_pylist()
                        if r["rank"] is not None])

        rows = self._cached(d, ("suggest", v), make)
        page = copy.deepcopy(rows[offset:offset + limit])
        for r in page:
            r["account"] = f"{r['platform']}:{r['account_id']}"
        return _page(page, len(rows), offset, limit,
                     account=self._account_row(d, v)["account"])

    # -- runs ----------------------------------------------------------------------------
    def runs(self, offset: int = 0, limit: int = 50) -> dict:
        """Saved analysis runs, newest first.

        Examples
        --------
        >>> Service(":memory:").runs()["items"]
        []
        """
        _check_page(offset, limit, self.max_limit)
        rows = self.cursor_store().runs_table().to_pylist()[::-1]
        for r in rows:
            for k in ("params", "summary"):
                try:
                    r[k] = json.loads(r[k]) if r[k] else None
                except ValueError:
                    pass
        return _page(_py(rows[offset:offset + limit]), len(rows), offset, limit)

    def detection_run(self, *, progress=None) -> dict:
        """Fit detection and the rankings on the current data and save a ``detect`` run
        (authenticity and every ranking per account); returns ``{"run_id", ...}``.

        Examples
        --------
        >>> Service(":memory:").detection_run()["accounts"]
        0
        """
        import time
        from ..score.rank import RANKINGS
        t0 = time.perf_counter()
        if progress:
            progress(0.05, "fitting detection")
        d = self._ctx(wait=True, force=True)
        if progress:
            progress(0.6, "ranking")
        scores = self._scores(d, None) if d.ctx.n else {k: np.zeros(0) for k in RANKINGS}
        seconds = round(time.perf_counter() - t0, 3)
        summary = {"accounts": d.ctx.n, "flagged": int(d.ctx.suspicious.sum()),
                   "seconds": seconds}
        if progress:
            progress(0.9, "saving the run")
        rid = self.cursor_store().save_run(
            "detect", {"rankings": list(RANKINGS)}, summary, d.ctx.graph.uids,
            {"authenticity": d.ctx.authenticity, **scores})
        return {"run_id": rid, **summary}

    # -- jobs ----------------------------------------------------------------------------
    def _ingest(self, progress, path: Path, *, name: str, fmt: str | None, lo: float,
                hi: float, expected: int | None) -> dict:
        """Ingest ``path`` under the write lock, reporting progress in [lo, hi]: the rows
        staged so far (a share of ``expected`` rows when known), then checking and moving;
        the failures raise :class:`InputError` with ``name`` in place of the path."""
        from ..errors import InputError
        from ..ingest.run import ingest
        span = hi - lo
        stage_at = {"checking": lo + 0.85 * span, "moving": lo + 0.9 * span}
        seen = [None]

        def cb(source: str, stage: str, rows: int) -> None:
            new = stage != seen[0]
            seen[0] = stage
            if stage == "staging":
                share = min(rows / expected, 1.0) if expected else 0.0
                frac, msg = lo + 0.8 * span * share, f"reading {name}: {rows:,} rows"
                if expected:
                    msg += f" of about {expected:,}"
            else:
                frac = stage_at.get(stage, lo + 0.9 * span)
                msg = f"{stage} {name}: {rows:,} rows"
            progress(frac, msg, force=new)

        with self.write_lock:
            progress(lo, f"reading {name}", force=True)
            try:
                rep = ingest(self.cursor_store(), [path], fmt=fmt, progress=cb)
            finally:
                self.bump()     # committed (or not): the next request checks the token
        if rep.failures:
            tmp = str(path)
            why = "; ".join(
                str(f.get("error")).replace(tmp + ": ", "").replace(tmp, name)
                for f in rep.failures)
            raise InputError(why, path=name)
        out = rep.to_dict()
        for load in out.get("loads", []):
            load["source"] = name  # never the server's temporary path
        out.pop("failures", None)
        return _py(out)

    def start_ingest(self, path: str | Path, *, filename: str, fmt: str | None = None,
                     cleanup: Path | None = None) -> dict:
        """Start a job that ingests the file ``path`` (uploaded as ``filename``) and then
        refits detection; returns the job record (``job_id``, ``status``...). Its progress
        follows the rows read (a share of the file's estimated rows, see
        :func:`expected_rows`) with a message giving the rows so far. A load that fails
        makes the job fail, with the reader's reason.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> job = svc.start_ingest("/nonexistent.csv", filename="x.csv")
        >>> svc.jobs.wait(job["job_id"])["message"]
        'x.csv: no such file or folder'
        """
        path = Path(path)

        def work(progress) -> dict:
            out = self._ingest(progress, path, name=filename, fmt=fmt, lo=0.02, hi=0.8,
                               expected=expected_rows(path))
            progress(0.8, "refitting detection", force=True)
            self._ctx(wait=True)
            return out

        return self.jobs.submit("ingest", {"filename": filename, "format": fmt}, work,
                                cleanup=cleanup)

    def start_simulation(self, accounts: int, seed: int | None = None) -> dict:
        """Start a job that simulates a platform of ``accounts`` accounts (between the
        settings ``api_sim_min_accounts`` and ``api_sim_max_accounts``) with planted fraud
        (:func:`trueclout.simulate.simulate`) into a temporary folder, ingests it as the
        ingest job does, refits detection and removes the folder; returns the job record.
        Its result has the simulation's rows per table and ground truth, and the load.

        Examples
        --------
        >>> Service(":memory:").start_simulation(5)
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: accounts: must be between 100 and 200000
        """
        from .. import config
        from ..simulate import simulate
        from .jobs import temp_folder
        lo, hi = int(config.get("api_sim_min_accounts")), int(config.get("api_sim_max_accounts"))
        if not lo <= int(accounts) <= hi:
            raise UsageError(f"must be between {lo} and {hi}", field="accounts")
        seed = int(config.get("sim_seed") if seed is None else seed)
        if seed < 0:
            raise UsageError("must not be negative", field="seed")
        accounts = int(accounts)
        self.jobs.check_room()
        folder = temp_folder("sim")
        stages: list[str] = []

        def work(progress) -> dict:
            def sim_cb(stage: str, done: int, total: int) -> None:
                new = stage not in stages
                if new:
                    stages.append(stage)
                share = (len(stages) - 1 + done / max(total, 1)) / _SIM_STAGES
                progress(0.4 * min(share, 1.0), f"simulating {accounts:,} accounts: "
                         f"{stage} {done}/{total}", force=new)

            progress(0.0, f"simulating {accounts:,} accounts", force=True)
            man = simulate(folder / "platform", accounts=accounts, seed=seed,
                           progress=sim_cb)
            expected = int(sum(man.get("rows", {}).values())) or None
            load = self._ingest(progress, folder / "platform", name="simulation", fmt=None,
                                lo=0.4, hi=0.85, expected=expected)
            progress(0.85, "refitting detection", force=True)
            self._ctx(wait=True)
            return _py({"accounts": accounts, "seed": seed, "rows": man.get("rows"),
                        "ground_truth": man.get("ground_truth"), "ingest": load})

        try:
            return self.jobs.submit("simulate", {"accounts": accounts, "seed": seed}, work,
                                    cleanup=folder)
        except BaseException:
            import shutil
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def start_detection(self) -> dict:
        """Start a job that refits detection and the rankings and saves a ``detect`` run
        (:meth:`detection_run`); returns the job record.

        Examples
        --------
        >>> svc = Service(":memory:")
        >>> svc.jobs.wait(svc.start_detection()["job_id"])["result"]["accounts"]
        0
        """
        def work(progress) -> dict:
            with self.write_lock:
                return self.detection_run(progress=progress)

        return self.jobs.submit("detect", {}, work)


__all__ = ["Service", "TruecloutError"]
