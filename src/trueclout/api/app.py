"""The REST API: a thin FastAPI app over :class:`~trueclout.api.service.Service`.

Every route lives under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``; no docs page
is served, since Swagger UI would load its code from a CDN: open the document in any
OpenAPI viewer). Every request but ``/api/v1/health`` and the OpenAPI document needs an
API key (``Authorization: Bearer <key>`` or ``X-API-Key``); writes need an admin key.
Every error, whatever its kind (a library error, 401/403/404/405/413/422/429, or a bug),
answers with one JSON shape, ``{"error": {"type", "message", "path", "line", "field"}}``.

Examples
--------
>>> from fastapi.testclient import TestClient
>>> client = TestClient(create_app(":memory:"))
>>> client.get("/api/v1/health").json()["status"]
'ok'
>>> r = client.get("/api/v1/accounts")
>>> r.status_code, r.json()["error"]["type"]
(401, 'AuthError')
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from .. import __version__, config
from ..errors import TruecloutError, UsageError
from .auth import Keys, RateLimiter, key_from_headers
from .errors import HTTPError, TooLargeError, ValidationError, error_body, status_of
from .service import Service

log = logging.getLogger("trueclout.api")

PREFIX = "/api/v1"

#: The largest integer a DuckDB BIGINT (job ids, counts) holds.
INT64_MAX = 2**63 - 1
#: Longest text (an account, a topic, a query) a request may give: setting api_max_text.
MAX_TEXT = int(config.get("api_max_text"))

#: A text field of a request body, at most :data:`MAX_TEXT` characters.
Text = Annotated[str, Field(max_length=MAX_TEXT)]
#: An account in a path: ``platform:account_id``, an id or ``@handle``.
Spec = Annotated[str, PathParam(max_length=MAX_TEXT,
                                description="platform:account_id, an id or @handle.")]
#: A finite cost or budget, not negative.
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


# -- request bodies ----------------------------------------------------------------------
class PlanRequest(BaseModel):
    """Body of ``POST /api/v1/plan``.

    Examples
    --------
    >>> PlanRequest(budget=10, costs={"@a": 4}).mode
    'auto'
    """

    budget: Money = Field(..., description="Total budget, in the unit of the costs.")
    costs: dict[Text, Money] = Field(..., min_length=1,
                                     max_length=int(config.get("api_max_costs")),
                                     description="Creator (platform:account_id, account id "
                                     "or @handle) to its cost (at most api_max_costs).")
    topic: Optional[Text] = Field(None, description="Target topic.")
    audience: Optional[Text] = Field(None, description="Target audience: the followers of "
                                     "this account.")
    max_creators: Optional[int] = Field(None, ge=1, le=int(config.get("api_max_costs")))
    mode: Literal["auto", "greedy", "enumerate"] = "auto"
    price: Literal["post", "cpm"] = Field("post", description="What the costs are: the "
                                          "price of a post, or per 1,000 of the creator's "
                                          "followers on its platform (CPM).")


class KeyRequest(BaseModel):
    """Body of ``POST /api/v1/keys``: a new key of this scope.

    Examples
    --------
    >>> KeyRequest(scope="read").scope
    'read'
    """

    scope: Literal["read", "admin"] = Field(..., description="read (GET requests and plan) "
                                            "or admin (also ingest, runs and keys).")


class OverlapRequest(BaseModel):
    """Body of ``POST /api/v1/overlap`` (the GET form takes ``creators`` repeated).

    Examples
    --------
    >>> OverlapRequest(creators=["@a", "@b"]).method
    'auto'
    """

    creators: list[Text] = Field(..., min_length=2, max_length=50)
    method: Literal["auto", "exact", "minhash"] = "auto"
    topic: Optional[Text] = Field(None, description="Weigh followers by their relevance "
                                  "to this topic (as plan does).")
    audience: Optional[Text] = Field(None, description="Or to this account's audience.")


class SimulationRequest(BaseModel):
    """Body of ``POST /api/v1/simulations``: a simulated platform with planted fraud,
    ingested into the store by a job.

    Examples
    --------
    >>> SimulationRequest(accounts=2000).seed
    0
    >>> SimulationRequest(accounts=5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SimulationRequest
    ...
    """

    accounts: int = Field(..., ge=int(config.get("api_sim_min_accounts")),
                          le=int(config.get("api_sim_max_accounts")),
                          description="Accounts to simulate (settings api_sim_min_accounts "
                          "to api_sim_max_accounts).")
    seed: int = Field(int(config.get("sim_seed")), ge=0, le=2**32 - 1,
                      description="Random seed: the same seed gives the same platform.")


# -- errors --------------------------------------------------------------------------------
def _error_response(exc: BaseException) -> JSONResponse:
    headers = {}
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(int(retry))
    return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)


def _validation_error(exc: RequestValidationError) -> ValidationError:
    errs = exc.errors()
    first = errs[0] if errs else {}
    loc = [str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path")]
    msg = first.get("msg", "invalid request")
    if len(errs) > 1:
        msg += f" (and {len(errs) - 1} more)"
    return ValidationError(msg, field=".".join(loc) or None)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(TruecloutError)
    async def _tc(request: Request, exc: TruecloutError):
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _val(request: Request, exc: RequestValidationError):
        return _error_response(_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.url.path}"
        if exc.status_code == 405:
            detail = f"method {request.method} is not allowed on {request.url.path}"
        err = HTTPError(exc.status_code, detail)
        resp = _error_response(err)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    app.add_middleware(CatchAll)


class CatchAll:
    """Plain ASGI middleware: an exception no handler took (a bug) is logged and answers
    500 in the one error shape, when no response has started yet. (Starlette's
    ``@app.middleware("http")`` would do the same at a cost on every request.)

    Examples
    --------
    >>> import asyncio
    >>> async def bug(scope, receive, send):
    ...     raise KeyError("x")
    >>> sent = []
    >>> async def send(message):
    ...     sent.append(message)
    >>> scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    >>> asyncio.run(CatchAll(bug)(scope, None, send))
    >>> sent[0]["status"], sent[1]["body"][:32]
    (500, b'{"error":{"type":"InternalError"')
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # a bug: log it, answer in the one shape
            log.exception("unexpected error on %s %s", scope.get("method"),
                          scope.get("path"))
            if started:
                raise
            await _error_response(exc)(scope, receive, send)


class BodyLimit:
    """Plain ASGI middleware: a request body over ``limit`` bytes answers 413 in the one
    error shape, before it is read when ``Content-Length`` says so, else as soon as the
    streamed body passes the limit. Paths in ``exempt`` (the upload, which has a limit
    of its own) pass through.

    Examples
    --------
    >>> import asyncio
    >>> async def echo(scope, receive, send):
    ...     await receive()
    >>> sent = []
    >>> async def send(message):
    ...     sent.append(message)
    >>> scope = {"type": "http", "method": "POST", "path": "/x",
    ...          "headers": [(b"content-length", b"999")]}
    >>> asyncio.run(BodyLimit(echo, 10)(scope, None, send))
    >>> sent[0]["status"], sent[1]["body"][:30]
    (413, b'{"error":{"type":"TooLargeErro')
    """

    def __init__(self, app, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = int(limit)
        self.exempt = exempt

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                if not value.isdigit():
                    err = UsageError("Content-Length is not a number", field="Content-Length")
                    await _error_response(err)(scope, receive, send)
                    return
                if int(value) > limit:
                    err = TooLargeError(f"the request body is {int(value):,} bytes; the "
                                        f"limit is {limit:,}", field="Content-Length")
                    await _error_response(err)(scope, receive, send)
                    return
        seen, over, started = 0, False, False

        async def limited():
            # past the limit the app is told the client left; its answer is dropped
            # below and the 413 sent instead
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message) -> None:
            nonlocal started
            if over and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            err = TooLargeError(f"the request body is over the limit of {limit:,} bytes")
            await _error_response(err)(scope, receive, send)


class SecurityHeaders:
    """Plain ASGI middleware: every response says ``X-Content-Type-Options: nosniff``,
    ``X-Frame-Options: DENY`` and ``Referrer-Policy: same-origin``, and, unless it set
    its own (the pages do, with a nonce for their scripts), the strictest
    ``Content-Security-Policy`` (nothing loads, no framing): right for JSON.

    Examples
    --------
    >>> import asyncio
    >>> async def ok(scope, receive, send):
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    >>> sent = []
    >>> async def send(message):
    ...     sent.append(message)
    >>> asyncio.run(SecurityHeaders(ok)({"type": "http"}, None, send))
    >>> sorted(k.decode() for k, _ in sent[0]["headers"])[:2]
    ['content-security-policy', 'referrer-policy']
    """

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"same-origin"))
    CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                headers += [h for h in self.HEADERS if h[0] not in names]
                if self.CSP[0] not in names:
                    headers.append(self.CSP)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)


# -- routes ----------------------------------------------------------------------------
async def _auth(request: Request, write: bool) -> dict:
    state = request.app.state
    key = key_from_headers(request.headers)
    client = request.client.host if request.client else None
    # on the event loop: a look-up and an HMAC; reading the key table: a thread
    row = state.keys.check_cached(key, write=write, client=client)
    if row is None:
        row = await run_in_threadpool(state.keys.check, key, write=write, client=client)
    state.limiter.take(row["key_id"])
    return row


async def read_key(request: Request) -> dict:
    """The dependency of every read route: a valid key (read or admin), within its rate.

    Examples
    --------
    >>> import asyncio
    >>> from trueclout.api.web.pages import toy_request
    >>> asyncio.run(read_key(toy_request(create_app(":memory:"))))
    Traceback (most recent call last):
    ...
    trueclout.api.errors.AuthError: an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'
    """
    return await _auth(request, False)


async def write_key(request: Request) -> dict:
    """The dependency of every write route: a valid admin key, within its rate.

    Examples
    --------
    >>> import asyncio
    >>> from trueclout.api.web.pages import toy_request
    >>> asyncio.run(write_key(toy_request(create_app(":memory:"))))
    Traceback (most recent call last):
    ...
    trueclout.api.errors.AuthError: an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'
    """
    return await _auth(request, True)


async def service(request: Request) -> Service:
    """The dependency that gives a route the app's :class:`Service` (a coroutine, so
    FastAPI resolves it on the event loop: ``/health`` never waits for a thread).

    Examples
    --------
    >>> import asyncio
    >>> from trueclout.api.web.pages import toy_request
    >>> app = create_app(":memory:")
    >>> asyncio.run(service(toy_request(app))) is app.state.service
    True
    """
    return request.app.state.service


async def key_table(request: Request) -> Keys:
    """The dependency that gives a route the app's key table (:class:`Keys`).

    Examples
    --------
    >>> import asyncio
    >>> from trueclout.api.web.pages import toy_request
    >>> app = create_app(":memory:")
    >>> asyncio.run(key_table(toy_request(app))) is app.state.keys
    True
    """
    return request.app.state.keys


#: A route's service, and its key table, as FastAPI dependencies.
ServiceDep = Annotated[Service, Depends(service)]
KeysDep = Annotated[Keys, Depends(key_table)]


#: Query parameters of paged routes, bounded by the page size the app allows.
def _pages(max_page: int) -> tuple:
    return (Query(0, ge=0, le=int(config.get("api_max_offset")), description="Rows to skip."),
            Query(50, ge=1, le=max_page, description="Rows in the page."),
            Query(20, ge=1, le=max_page, description="Rows in the page."),
            Query(None, ge=1, le=max_page, deprecated=True,
                  description="Old name of limit (with offset 0)."))


#: The OpenAPI request body of ``POST /ingest``: a multipart file or a raw body.
UPLOAD_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


R = [Depends(read_key)]
W = [Depends(write_key)]


def meta_router(max_page: int) -> APIRouter:
    """The routes of health and the store's figures.

    Examples
    --------
    >>> sorted(r.name for r in meta_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()

    @router.get(f"{PREFIX}/health", tags=["meta"])
    async def health(svc: ServiceDep) -> dict:
        """Liveness and readiness, no key needed; answered on the event loop without a
        query or a lock, so it is never held up by the scores being built: ``ready``
        says whether reads are answered at once, ``stage`` what the build is doing."""
        return {"status": "ok", "version": __version__, **svc.status()}

    @router.get(f"{PREFIX}/stats", tags=["meta"], dependencies=R)
    def stats(svc: ServiceDep) -> dict:
        """What ``trueclout stats`` prints: row counts, degree quantiles, reciprocity."""
        from ..graph.stats import compute_stats
        return compute_stats(svc.cursor_store())

    return router


def accounts_router(max_page: int) -> APIRouter:
    """The routes of accounts and their audits.

    Examples
    --------
    >>> sorted(r.name for r in accounts_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/accounts", tags=["accounts"], dependencies=R)
    def accounts(svc: ServiceDep,
                 q: str = Query("", max_length=MAX_TEXT, description="Handle or id prefix."),
                 offset: int = Offset, limit: int = Limit) -> dict:
        """Accounts whose handle or id starts with ``q``, most followed first."""
        return svc.search(q, limit=limit, offset=offset)

    @router.get(f"{PREFIX}/accounts/{{spec}}", tags=["accounts"], dependencies=R)
    def account(svc: ServiceDep, spec: Spec) -> dict:
        """One account: platform:account_id, an account id or @handle."""
        return svc.account(spec)

    # The two hot reads answer a cached body on the event loop and hand a miss (a
    # token check due, an audit or ranking not computed yet) to a thread. The
    # annotation keeps their OpenAPI schema; the body is the service's ready JSON.
    @router.get(f"{PREFIX}/accounts/{{spec}}/audit", tags=["accounts"], dependencies=R)
    async def audit(svc: ServiceDep, spec: Spec) -> dict:
        """The audit of one account, with its influence figures."""
        body = svc.audit_json(spec, cached_only=True)
        if body is None:
            body = await run_in_threadpool(svc.audit_json, spec)
        return Response(body, media_type="application/json")

    return router


def discover_router(max_page: int) -> APIRouter:
    """The routes of find, topics, overlap, plans and suggestions.

    Examples
    --------
    >>> sorted(r.name for r in discover_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/accounts/{{spec}}/suggestions", tags=["discover"],
                             dependencies=R)
    def suggest(svc: ServiceDep, spec: Spec, offset: int = Offset, limit: int = Page20,
                top: Optional[int] = OldTop) -> dict:
        """Who this account could follow, best first, one page; never a flagged account."""
        return svc.suggest(spec, offset=offset, limit=limit if top is None else top)

    @router.get(f"{PREFIX}/find", tags=["discover"], dependencies=R)
    def find(svc: ServiceDep, topic: Optional[str] = Query(None, max_length=MAX_TEXT),
             audience: Optional[str] = Query(None, max_length=MAX_TEXT,
                                             description="An account: its followers."),
             like: Optional[str] = Query(None, max_length=MAX_TEXT,
                                         description="An account: lookalike creators."),
             offset: int = Offset, limit: int = Page20, top: Optional[int] = OldTop,
             min_followers: int = Query(0, ge=0, le=INT64_MAX)) -> dict:
        """Creators for exactly one of topic, audience and like, best first, one page;
        follower count and TrueRank side by side."""
        return svc.find(topic=topic, audience=audience, like=like, offset=offset,
                        limit=limit if top is None else top, min_followers=min_followers)

    @router.get(f"{PREFIX}/topics", tags=["discover"], dependencies=R)
    def topics(svc: ServiceDep, offset: int = Offset, limit: int = Limit) -> dict:
        """The topic communities (what ``topic=`` takes), biggest audience first."""
        rows = svc.topics()
        return {"total": len(rows), "offset": offset, "limit": limit,
                "items": rows[offset:offset + limit]}

    @router.get(f"{PREFIX}/overlap", tags=["discover"], dependencies=R)
    def overlap(svc: ServiceDep, creators: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Query(
                    ..., min_length=2, max_length=50),
                method: Literal["auto", "exact", "minhash"] = "auto",
                topic: Optional[str] = Query(None, max_length=MAX_TEXT,
                                             description="Weigh followers by their "
                                             "relevance to this topic (as plan does)."),
                audience: Optional[str] = Query(None, max_length=MAX_TEXT,
                                                description="Or to this account's "
                                                "audience.")) -> dict:
        """Audience overlap of two or more creators (``creators`` repeated); with a
        target, the reach figures are relevant reach, as a plan for it counts."""
        return svc.overlap(creators, method=method, topic=topic, audience=audience)

    @router.post(f"{PREFIX}/overlap", tags=["discover"], dependencies=R)
    def overlap_post(svc: ServiceDep, body: OverlapRequest) -> dict:
        """Audience overlap, the creators in a JSON body."""
        return svc.overlap(body.creators, method=body.method, topic=body.topic,
                           audience=body.audience)

    @router.post(f"{PREFIX}/plan", tags=["discover"], dependencies=R)
    def plan(svc: ServiceDep, body: PlanRequest) -> dict:
        """Creators within a budget for the most unique, relevant, authentic reach.
        Computes only, so a read key may ask."""
        return svc.plan(body.budget, body.costs, topic=body.topic, audience=body.audience,
                        max_creators=body.max_creators, mode=body.mode, price=body.price)

    return router


def rankings_router(max_page: int) -> APIRouter:
    """The routes of rankings of every account.

    Examples
    --------
    >>> sorted(r.name for r in rankings_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/rankings", tags=["rankings"], dependencies=R)
    async def rankings(svc: ServiceDep, by: Literal["truerank", "followers", "reach", "engagement",
                             "pagerank"] = "truerank",
                 topic: Optional[str] = Query(None, max_length=MAX_TEXT),
                 offset: int = Offset, limit: int = Limit) -> dict:
        """One page of a ranking of every account."""
        body = svc.rankings_json(by, topic, offset, limit, cached_only=True)
        if body is None:
            body = await run_in_threadpool(svc.rankings_json, by, topic, offset, limit)
        return Response(body, media_type="application/json")

    return router


def runs_router(max_page: int) -> APIRouter:
    """The routes of saved analysis runs.

    Examples
    --------
    >>> sorted(r.name for r in runs_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/runs", tags=["runs"], dependencies=R)
    def runs(svc: ServiceDep, offset: int = Offset, limit: int = Limit) -> dict:
        """Saved analysis runs, newest first."""
        return svc.runs(offset=offset, limit=limit)

    @router.post(f"{PREFIX}/runs", tags=["runs"], dependencies=W, status_code=202)
    def start_run(svc: ServiceDep) -> dict:
        """Start a detection run (a job): fit detection and the rankings, save the run."""
        return svc.start_detection()

    return router


def jobs_router(max_page: int) -> APIRouter:
    """The routes of background jobs: their records, simulations and uploads.

    Examples
    --------
    >>> sorted(r.name for r in jobs_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/jobs", tags=["jobs"], dependencies=R)
    def jobs(svc: ServiceDep, offset: int = Offset, limit: int = Limit) -> dict:
        """Job records, newest first."""
        return svc.jobs.list(offset=offset, limit=limit)

    @router.get(f"{PREFIX}/jobs/{{job_id}}", tags=["jobs"], dependencies=R)
    def job(svc: ServiceDep, job_id: Annotated[int, PathParam(ge=0, le=INT64_MAX)]) -> dict:
        """One job: status, progress in [0, 1], message (why it failed), result."""
        return svc.jobs.get(job_id)

    @router.post(f"{PREFIX}/simulations", tags=["jobs"], dependencies=W, status_code=202)
    def simulation(svc: ServiceDep, body: SimulationRequest) -> dict:
        """Simulate a platform with planted fraud and ingest it (a job): the simulation is
        written to a temporary folder, loaded like an upload, and the folder removed."""
        return svc.start_simulation(body.accounts, seed=body.seed)

    @router.post(f"{PREFIX}/ingest", tags=["jobs"], dependencies=W, status_code=202,
              openapi_extra=UPLOAD_DOC)
    async def ingest(svc: ServiceDep, request: Request,
                     filename: Optional[str] = Query(None, max_length=MAX_TEXT,
                                                     description="Name of a raw upload."),
                     format: Optional[str] = Query(None, max_length=50,
                                                   description="Reader; guessed if omitted.")
                     ) -> dict:
        """Upload one data file (multipart field ``file``, or the raw body with
        ``filename``) and ingest it in a job. Bodies over the size limit get 413, before
        they are read when Content-Length says so, else as soon as they pass it."""
        svc.jobs.check_room()           # a full queue refuses before the body is read
        folder, name = await receive_upload(request, request.app.state.max_upload_bytes,
                                          filename)
        try:
            return svc.start_ingest(folder / name, filename=name, fmt=format,
                                    cleanup=folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    return router


def keys_router(max_page: int) -> APIRouter:
    """The routes of API keys.

    Examples
    --------
    >>> sorted(r.name for r in keys_router(100).routes)[:2]  # doctest: +ELLIPSIS
    [...]
    """
    router = APIRouter()
    Offset, Limit, Page20, OldTop = _pages(max_page)

    @router.get(f"{PREFIX}/keys", tags=["keys"], dependencies=W)
    def list_keys(svc: ServiceDep, offset: int = Offset, limit: int = Limit) -> dict:
        """The API keys (id, prefix, scope, created, revoked); never a key or its hash."""
        rows = svc.cursor_store().api_keys()
        return {"total": len(rows), "offset": offset, "limit": limit,
                "items": rows[offset:offset + limit]}

    @router.post(f"{PREFIX}/keys", tags=["keys"], dependencies=W, status_code=201)
    def create_key_route(svc: ServiceDep, keys: KeysDep, body: KeyRequest) -> dict:
        """Create an API key (what ``trueclout keys create`` does while the server holds
        the store): the key is in this answer only; the store keeps its hash."""
        from .auth import create_key, split_key
        key = create_key(svc.cursor_store(), body.scope)
        keys.reload()
        return {"key": key, "prefix": split_key(key), "scope": body.scope}

    @router.delete(f"{PREFIX}/keys/{{prefix}}", tags=["keys"], dependencies=W)
    def revoke_key(svc: ServiceDep, keys: KeysDep,
                   prefix: Annotated[str, PathParam(max_length=MAX_TEXT)]) -> dict:
        """Revoke the key with this prefix (the 8 hex digits after ``tc_``); it stops
        working at once in this server."""
        from .errors import NotFoundError
        store = svc.cursor_store()
        row = store.api_key(prefix) if re.fullmatch(r"[0-9a-f]{8}", prefix) else None
        if row is None:
            raise NotFoundError(f"no API key with prefix {prefix!r}", field="prefix")
        store.revoke_api_key(row["key_id"])
        keys.forget(prefix)
        return {"revoked": prefix, "key_id": row["key_id"]}


    return router


def api_routers(max_page: int) -> list[APIRouter]:
    """The API's routes, one :class:`~fastapi.APIRouter` per resource, each route taking
    the service (and the key table) as dependencies of the request; ``max_page`` bounds
    every ``limit``.

    Examples
    --------
    >>> [r.routes[0].tags[0] for r in api_routers(100)]
    ['meta', 'accounts', 'rankings', 'discover', 'runs', 'jobs', 'keys']
    """
    return [make(max_page) for make in (meta_router, accounts_router, rankings_router,
                                        discover_router, runs_router, jobs_router,
                                        keys_router)]


def all_routes(app) -> list:
    """Every route of ``app`` (a FastAPI app or router), the included routers' routes in
    place of the router (FastAPI keeps an included router as one entry).

    Examples
    --------
    >>> paths = [getattr(r, "path", None) for r in all_routes(create_app(":memory:"))]
    >>> "/api/v1/health" in paths and "/api/v1/keys/{prefix}" in paths
    True
    """
    out = []
    for r in app.routes:
        inner = getattr(r, "original_router", None)
        out.extend(all_routes(inner) if inner is not None else [r])
    return out


# -- the app -------------------------------------------------------------------------------
def create_app(db: str | os.PathLike | None = None, *, cors_origins: list[str] | None = None,
               max_upload_bytes: int | None = None,
               rate: tuple[float, float] | None = None, service: Service | None = None,
               web: bool = True, web_auth: bool = False) -> FastAPI:
    """The API (and, with ``web``, the dashboard pages of :mod:`trueclout.api.web`).

    Parameters
    ----------
    db : path, optional
        The store (default config ``db``); the app opens it for writing and is its single
        writer while it runs.
    cors_origins : list of str, optional
        Origins allowed to call the API from a browser; CORS is off without them.
    max_upload_bytes : int, optional
        Largest upload (default config ``api_max_upload_mb``).
    rate : (per_second, burst), optional
        Per-key rate limit (default config ``api_rate_per_s``, ``api_rate_burst``).
    service : Service, optional
        Use this service instead of opening ``db``.
    web : bool
        Include the dashboard's pages under ``/`` when :mod:`trueclout.api.web` is there.
    web_auth : bool
        The pages ask for an API key too (a login form keeps it in a cookie).
        ``trueclout serve`` turns it on when it listens on an address other than
        loopback.

    Examples
    --------
    >>> app = create_app(":memory:")
    >>> app.openapi()["info"]["title"]
    'trueclout'
    """
    svc = service if service is not None else Service(db if db is not None
                                                      else config.get("db"))
    limit = int(max_upload_bytes if max_upload_bytes is not None
                else float(config.get("api_max_upload_mb")) * 1024 * 1024)
    limiter = RateLimiter(*(rate or (None, None)))
    grace = float(config.get("api_shutdown_grace_s"))
    keys = Keys(svc.cursor_store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        svc.warm_up()       # the scores are built (or loaded) at once, not on a first page
        yield
        svc.jobs.shutdown(wait=False, grace=grace)
        for hook in app.state.on_shutdown:      # serve removes its lock file
            hook()

    app = FastAPI(title="trueclout", version=__version__, lifespan=lifespan,
                  description="Real, relevant influence: audits, rankings, discovery.",
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.service = svc
    app.state.max_upload_bytes = limit
    app.state.limiter = limiter
    app.state.keys = keys
    app.state.web_auth = bool(web_auth)
    #: Called when the app shuts down (before uvicorn re-raises a SIGTERM).
    app.state.on_shutdown = []
    _install_errors(app)
    app.add_middleware(BodyLimit, limit=int(float(config.get("api_max_body_kb")) * 1024),
                       exempt=(f"{PREFIX}/ingest",))
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(SecurityHeaders)

    for router in api_routers(svc.max_limit):
        app.include_router(router)

    if web:
        try:
            from .web import install as web_install
        except ImportError:  # the dashboard is optional
            web_install = None
        if web_install is not None:
            web_install(app)

    return app


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None) -> str:
    """A file name safe to create on the server (no folders, no odd characters).

    Examples
    --------
    >>> safe_name("../../etc/pass wd.csv"), safe_name(None)
    ('pass_wd.csv', 'upload')
    """
    base = Path(str(name or "")).name.replace("\\", "/").split("/")[-1]
    base = _SAFE.sub("_", base).strip("._")
    return base[:120] or "upload"


async def receive_upload(request: Request, limit: int,
                         filename: str | None = None) -> tuple[Path, str]:
    """Stream the request's file to a new temporary folder, refusing more than ``limit``
    bytes (413); returns ``(folder, name)``. The caller removes the folder.

    Examples
    --------
    >>> import asyncio, shutil
    >>> async def body():
    ...     return {"type": "http.request", "body": b"a b\\n", "more_body": False}
    >>> req = Request({"type": "http", "method": "POST", "headers": []}, body)
    >>> folder, name = asyncio.run(receive_upload(req, 100, filename="f.txt"))
    >>> name, (folder / name).read_bytes()
    ('f.txt', b'a b\\n')
    >>> shutil.rmtree(folder)
    """
    length = request.headers.get("content-length")
    if length is not None:
        try:
            n = int(length)
        except ValueError:
            raise UsageError("Content-Length is not a number",
                             field="Content-Length") from None
        if n > limit:
            raise TooLargeError(f"the upload is {n:,} bytes; the limit is {limit:,}",
                                field="Content-Length")

    async def limited():
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise TooLargeError(f"the upload is over the limit of {limit:,} bytes")
            yield chunk

    from .jobs import temp_folder
    folder = temp_folder("upload")
    try:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            try:
                form = await MultiPartParser(request.headers, limited(), max_files=1,
                                             max_fields=10).parse()
            except MultiPartException as exc:
                raise UsageError(f"malformed multipart upload: {exc.message} (send one "
                                 "file in the field 'file')", field="file") from None
            up = form.get("file")
            if up is None or isinstance(up, str):
                await form.close()
                raise UsageError("send the data file in the multipart field 'file'",
                                 field="file")
            name = safe_name(up.filename)
            with open(folder / name, "wb") as fh:
                shutil.copyfileobj(up.file, fh)
            await form.close()
        else:
            if not filename:
                raise UsageError("give ?filename= with a raw upload (its extension tells "
                                 "the format), or send multipart/form-data", field="filename")
            name = safe_name(filename)
            with open(folder / name, "wb") as fh:
                async for chunk in limited():
                    fh.write(chunk)
        if (folder / name).stat().st_size == 0:
            raise UsageError("the upload is empty", field="file")
        return folder, name
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

