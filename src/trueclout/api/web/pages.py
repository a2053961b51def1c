"""The dashboard's pages: a FastAPI router of server-rendered Jinja2 pages under ``/``.

Every page asks the same :class:`~trueclout.api.service.Service` as the API (found at
``request.app.state.service``) and renders its JSON-ready dicts with the templates of
``web/templates`` (autoescaped; an undefined name is an error). Charts are Plotly figures
given to the page as JSON; Plotly's own JavaScript (``plotly.offline.get_plotlyjs``) is
served once at ``/static/plotly.min.js`` with a long cache lifetime, so the pages work
offline. The pages:

============  =========================================================================
``/``         search an account by handle; links to its audit
``/audit``    one account's audit: composition with intervals, growth with the bought
              periods shaded, engagement authenticity, reasons, influence
``/discover`` a topic, an audience or a lookalike account → ranked creators, follower
              count and TrueRank side by side; pick creators to compare or plan
``/overlap``  heat map of the chosen creators' shared authentic audiences
``/plan``     a budget slider and the chosen set with its unique reach
``/upload``   a file sent to the API's ingest endpoint, with a progress bar polling the
              job endpoint (the upload is a write: it takes an admin API key)
============  =========================================================================

An error of the library (:class:`~trueclout.errors.TruecloutError`) is shown on the page
that asked, with the HTTP status the API would give it. Each answer carries a
``Server-Timing`` header with the server's time.

Examples
--------
>>> from fastapi.testclient import TestClient
>>> from trueclout.api.app import create_app
>>> client = TestClient(create_app(":memory:"))
>>> r = client.get("/")
>>> r.status_code, "Find an account" in r.text
(200, True)
>>> client.get("/audit", params={"account": "@nobody"}).status_code
404
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import jinja2
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from ... import __version__, config
from ...errors import TruecloutError

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: The navigation bar: (page, label), in order; a page's route is named ``web_<page>``
#: (the API's routes have the short names).
NAV = (("search", "Search"), ("discover", "Discover"), ("overlap", "Overlap"),
       ("plan", "Plan"), ("upload", "Upload"))

#: Where the upload page sends files and asks for job progress when the app lacks the
#: API's routes named ``ingest`` and ``job`` (:mod:`trueclout.api.app`), and the key's
#: header.
UPLOAD_URL = "/api/v1/ingest"
JOB_URL = "/api/v1/jobs/{id}"
KEY_HEADER = "X-API-Key"


#: The cookie that keeps a signed-in user's sign-in token (pages only: the API never
#: reads it). The token is random and lives in the server's memory; the key never
#: leaves the sign-in form.
COOKIE = "tc_session"
#: The cookie holding the CSRF token that the POST forms (sign in, sign out) repeat.
CSRF_COOKIE = "tc_csrf"
#: The Content-Security-Policy of the pages: scripts only from this site or inline with
#: the page's nonce; styles inline too (Plotly writes style attributes); no framing.
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

#: Routes open without a key even when the pages need one.
_OPEN = ("web_static", "web_login", "web_login_post", "web_logout")


class LoginRequired(Exception):
    """A page was asked for without a valid key while the pages need one: the answer is
    a redirect to the login form (see :func:`install`).

    Examples
    --------
    >>> LoginRequired("/discover?topic=x").next
    '/discover?topic=x'
    """

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next = next_url


def is_loopback(host: str) -> bool:
    """Whether ``host`` (what ``serve --host`` got) is a loopback address, the only case
    where the pages are open without a key.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.5"), is_loopback("example.com")
    (False, False, False)
    """
    import ipaddress
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _safe_next(url: str | None) -> str:
    """Only a path of this site (never ``//host`` or ``scheme:``) may follow a login."""
    url = url or "/"
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


class Sessions:
    """Sign-ins of the pages, in memory: a random token (the cookie's value) to the
    key row that signed in, until ``max_age`` seconds pass, the user signs out or the
    key is revoked. A restart signs everyone out.

    Examples
    --------
    >>> s = Sessions(max_age=10)
    >>> t = s.create({"key_id": 1, "prefix": "ab12cd34", "scope": "read"}, now=0.0)
    >>> s.get(t, now=5.0)["prefix"], s.get(t, now=11.0), s.get("forged", now=1.0)
    ('ab12cd34', None, None)
    """

    def __init__(self, max_age: float | None = None, size: int | None = None) -> None:
        self.max_age = float(config.value("web_login_max_age_s", max_age))
        self.size = int(config.value("api_rate_max_clients", size))
        self._rows: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def create(self, row: dict, *, now: float | None = None) -> str:
        """A new token for the key ``row``.

        Examples
        --------
        >>> len(Sessions().create({"key_id": 1, "prefix": "ab12cd34", "scope": "read"}))
        43
        """
        now = time.monotonic() if now is None else now
        token = secrets.token_urlsafe(32)
        with self._lock:
            if len(self._rows) >= self.size:
                for t in [t for t, (until, _) in self._rows.items() if until <= now]:
                    del self._rows[t]
                while len(self._rows) >= self.size:
                    del self._rows[next(iter(self._rows))]
            self._rows[token] = (now + self.max_age, dict(row))
        return token

    def get(self, token: str | None, *, now: float | None = None) -> dict | None:
        """The key row of a live token, else None.

        Examples
        --------
        >>> Sessions().get("no-such-token") is None
        True
        """
        hit = self._rows.get(token or "")
        now = time.monotonic() if now is None else now
        if hit is None or hit[0] <= now:
            return None
        return hit[1]

    def drop(self, token: str | None) -> None:
        """End the sign-in of ``token``.

        Examples
        --------
        >>> s = Sessions(); t = s.create({"key_id": 1, "prefix": "p", "scope": "read"})
        >>> s.drop(t); s.get(t) is None
        True
        """
        with self._lock:
            self._rows.pop(token or "", None)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _start(request: Request) -> None:
    request.state.t0 = time.perf_counter()
    state = request.app.state
    if not getattr(state, "web_auth", False):
        return
    route = request.scope.get("route")
    if getattr(route, "name", None) in _OPEN:
        return
    from ..auth import key_from_headers
    from ..errors import AuthError
    token = request.cookies.get(COOKIE)
    row = state.sessions.get(token)
    if row is not None and state.keys.active(row["prefix"]) is None:
        state.sessions.drop(token)      # the key was revoked: its sign-ins end
        row = None
    if row is None:
        key = key_from_headers(request.headers)
        try:
            row = state.keys.check(key, client=_client(request)) if key else None
        except AuthError:
            row = None
    if row is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt)
    state.limiter.take(row["key_id"])
    request.state.signed_in = True


router = APIRouter(include_in_schema=False, dependencies=[Depends(_start)])


def toy_request(app, headers: Sequence[tuple[str, str]] = ()) -> Request:
    """A GET request of ``/`` to ``app`` from loopback, made without a server: what the
    examples of the page helpers take.

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> toy_request(create_app(":memory:")).url.path
    '/'
    """
    return Request({"type": "http", "app": app, "router": app.router, "method": "GET",
                    "scheme": "http", "server": ("127.0.0.1", 8000), "path": "/",
                    "root_path": "", "query_string": b"",
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})


def install(app) -> None:
    """Add the pages to ``app`` (the API's FastAPI app, with ``state.service``,
    ``state.keys``, ``state.limiter`` and ``state.web_auth``), and the redirect of
    :class:`LoginRequired` to the login form.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:", web=False)
    >>> install(app)
    >>> TestClient(app).get("/").status_code
    200
    """
    from fastapi.responses import RedirectResponse

    async def _login_required(request: Request, exc: LoginRequired):
        from urllib.parse import urlencode
        url = request.url_for("web_login").path + "?" + urlencode({"next": exc.next})
        return RedirectResponse(url, status_code=303)

    app.add_exception_handler(LoginRequired, _login_required)
    app.state.sessions = Sessions()
    app.include_router(router)


# -- formatting helpers, the templates' globals --------------------------------------------
def num(x: Any, digits: int = 0) -> str:
    """A number with thousands separators; ``–`` for None.

    Examples
    --------
    >>> num(1234567), num(2.345, 2), num(None)
    ('1,234,567', '2.35', '–')
    """
    if x is None:
        return "–"
    return f"{float(x):,.{digits}f}"


def pct(x: Any) -> str:
    """A share in [0, 1] as a percentage with one decimal; ``–`` for None.

    Examples
    --------
    >>> pct(0.1234), pct(None)
    ('12.3%', '–')
    """
    return "–" if x is None else f"{100 * float(x):.1f}%"


def place(x: Any) -> str:
    """A place in a ranking: ``#1,234``; ``–`` for None.

    Examples
    --------
    >>> place(1234), place(None)
    ('#1,234', '–')
    """
    return "–" if x is None else f"#{int(x):,}"


def who(row: dict) -> Markup:
    """An account as ``@handle`` with its ``platform:id`` beside it, escaped.

    Examples
    --------
    >>> str(who({"handle": "ana", "account": "toy:1"}))
    '@ana <span class="id">toy:1</span>'
    >>> str(who({"handle": None, "account": "<b>"}))
    '&lt;b&gt;'
    """
    acc = escape(row.get("account") or "")
    h = row.get("handle")
    if h:
        return Markup('@{} <span class="id">{}</span>').format(h, acc)
    return Markup(acc)


def split_accounts(values: list[str] | None) -> list[str]:
    """Account specs from repeated form fields, each possibly holding several separated
    by commas or white space; duplicates dropped, order kept.

    Examples
    --------
    >>> split_accounts(["@ana, @ben", "@ana", "sim:3"])
    ['@ana', '@ben', 'sim:3']
    >>> split_accounts(None)
    []
    """
    out: list[str] = []
    for v in values or []:
        for tok in re.split(r"[\s,]+", v or ""):
            if tok and tok not in out:
                out.append(tok)
    return out


def _figures_json(figures: dict) -> str:
    """Figures as JSON that is safe inside a ``<script>`` element."""
    return json.dumps(figures, separators=(",", ":")).replace("<", "\\u003c")


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals.update(num=num, pct=pct, place=place, who=who, nav=NAV, version=__version__)
    return env


# -- static files: our CSS and Plotly's JavaScript, fingerprinted and cached ----------------
@functools.lru_cache(maxsize=None)
def _asset(name: str) -> tuple[bytes, str, str]:
    """(body, media type, short content hash) of a static asset; KeyError if unknown."""
    if name == "plotly.min.js":
        from plotly.offline import get_plotlyjs
        body, media = get_plotlyjs().encode("utf-8"), "text/javascript; charset=utf-8"
    elif name == "web.css":
        body, media = (STATIC / name).read_bytes(), "text/css; charset=utf-8"
    else:
        raise KeyError(name)
    return body, media, hashlib.sha256(body).hexdigest()[:12]


def static_url(request: Request, name: str) -> str:
    """The URL of a static asset, with its content hash so it can be cached for good.

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:")
    >>> static_url(toy_request(app), "web.css")  # doctest: +ELLIPSIS
    '/static/web.css?v=...'
    """
    return f"{request.url_for('web_static', name=name).path}?v={_asset(name)[2]}"


@router.get("/static/{name}", name="web_static")
def static(name: str, request: Request) -> Response:
    """Serve ``web.css`` or ``plotly.min.js`` with long caching and an ETag."""
    try:
        body, media, tag = _asset(name)
    except KeyError:
        return Response("not found", status_code=404, media_type="text/plain")
    etag = f'"{tag}"'
    headers = {"Cache-Control": f"public, max-age={int(config.get('web_static_max_age'))}",
               "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


# -- rendering -------------------------------------------------------------------------------
def service(request: Request):
    """The :class:`~trueclout.api.service.Service` the app was created with.

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:")
    >>> service(toy_request(app)) is app.state.service
    True
    """
    return request.app.state.service


def render(request: Request, template: str, page: str, *, title: str,
           figures: dict | None = None, error: TruecloutError | None = None,
           status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` as a full page; an ``error`` is shown in an alert.

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:")
    >>> page = render(toy_request(app), "login.html.j2", "login", title="Sign in", next="/")
    >>> page.status_code, b"Sign in" in page.body
    (200, True)
    """
    t0 = request.state.t0 if hasattr(request.state, "t0") else time.perf_counter()
    err = None
    if error is not None:
        from ..errors import status_of
        status = status_of(error)
        err = {"title": "Not found" if status == 404 else "Cannot do that",
               "message": str(getattr(error, "message", error))}
    svc = service(request)
    nonce = secrets.token_urlsafe(16)
    csrf, new_csrf = _csrf_token(request)
    html = _env().get_template(template).render(
        request=request, page=page, title=title, figures=figures or {},
        auth=bool(getattr(request.app.state, "web_auth", False)),
        figures_json=_figures_json(figures or {}), error=err, csp_nonce=nonce, csrf=csrf,
        store=Path(svc.db).name if getattr(svc, "db", None) else None,
        url=lambda name: request.url_for("web_" + name).path,
        static=lambda name: static_url(request, name), **context)
    ms = 1000 * (time.perf_counter() - t0)
    headers = {"Server-Timing": f"app;dur={ms:.1f}",
               "Content-Security-Policy": CSP.format(nonce=nonce)}
    retry = getattr(error, "retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(int(retry))
    resp = HTMLResponse(html, status_code=status, headers=headers)
    if new_csrf:
        resp.set_cookie(CSRF_COOKIE, csrf, max_age=int(config.get("web_csrf_max_age_s")),
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return resp


def _csrf_token(request: Request) -> tuple[str, bool]:
    """The CSRF token of this browser (its cookie's, when well-formed) and whether it is
    new (then the answer sets the cookie)."""
    tok = request.cookies.get(CSRF_COOKIE) or ""
    if re.fullmatch(r"[A-Za-z0-9_-]{43}", tok):
        return tok, False
    return secrets.token_urlsafe(32), True


def check_form_origin(request: Request, form: Any) -> None:
    """Refuse (403) a POST form of the pages that another site could have sent: an
    ``Origin`` (else ``Referer``) header naming another site, or a ``csrf`` field that
    is not this browser's CSRF cookie (double-submit: a page of another site can make
    the browser send the cookie, but cannot read it to fill the field).

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:")
    >>> check_form_origin(toy_request(app, [("Origin", "https://evil.example")]), {})
    Traceback (most recent call last):
    ...
    trueclout.api.errors.ForbiddenError: this form was sent from another site; open the sign-in page of this site and try again
    """
    from urllib.parse import urlsplit

    from ..errors import ForbiddenError
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent and sent != "null":
        u = urlsplit(sent)
        if (u.scheme, u.netloc) != (request.url.scheme, request.url.netloc):
            raise ForbiddenError("this form was sent from another site; open the sign-in "
                                 "page of this site and try again")
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    field = str(form.get("csrf") or "")
    if not cookie or not hmac.compare_digest(cookie.encode(), field.encode()):
        raise ForbiddenError("this form has expired or was not sent by this site's page; "
                             "reload the page and try again")


def preparing(request: Request) -> HTMLResponse | None:
    """While the server builds its scores in the background (at start-up, see
    :meth:`~trueclout.api.service.Service.warm_up`), the progress page (it reloads
    itself, 503 with ``Retry-After``) after waiting ``web_ready_wait_s`` for it; None
    when the scores are ready, or when no build runs (the page then builds them itself,
    as a library caller would).

    Examples
    --------
    >>> from trueclout.api.app import create_app
    >>> app = create_app(":memory:")
    >>> preparing(toy_request(app)) is None      # the scores are ready: no progress page
    True
    """
    svc = service(request)
    if not hasattr(svc, "wait_ready") or svc.wait_ready(float(config.get("web_ready_wait_s"))):
        return None
    st = svc.status()
    if st["ready"] or not st["building"]:
        return None
    refresh = int(config.get("web_refresh_s"))
    resp = render(request, "preparing.html.j2", "search", title="Preparing the scores",
                  status=503, status_info=st, refresh_s=refresh)
    resp.headers["Retry-After"] = str(refresh)
    return resp


# -- pages -----------------------------------------------------------------------------------
@router.get("/", name="web_search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "") -> HTMLResponse:
    """Search an account by handle or id; each hit links to its audit."""
    wait = preparing(request)
    if wait is not None:
        return wait
    svc = service(request)
    rows, err, top, topics = [], None, [], []
    try:
        if q.strip():
            rows = svc.search(q, limit=int(config.get("web_search_limit")))["items"]
        else:                       # where to start: the top accounts and topics
            k = int(config.get("web_examples"))
            top = svc.rankings(by="truerank", limit=k)["items"]
            topics = svc.topics(k=k) if top else []
    except TruecloutError as exc:
        err = exc
    return render(request, "search.html.j2", "search", title="Search", q=q, rows=rows,
                  error=err, top=top, topics=topics)


@router.get("/audit", name="web_audit", response_class=HTMLResponse)
def audit_page(request: Request, account: str = "") -> HTMLResponse:
    """One account's audience audit."""
    from ...report.html import audit_figures
    wait = preparing(request)
    if wait is not None:
        return wait
    svc = service(request)
    if not account.strip():
        return search_page(request)
    try:
        a = svc.audit(account.strip())
    except TruecloutError as exc:
        return render(request, "search.html.j2", "search", title="Search", q=account,
                      rows=[], error=exc, top=[], topics=[])
    acc = a["account"]
    return render(request, "audit.html.j2", "audit",
                  title=f"Audit @{acc.get('handle') or acc.get('account_id')}",
                  figures=audit_figures(a), a=a, inf=a.get("influence"), spec=account.strip())


@router.get("/discover", name="web_discover", response_class=HTMLResponse)
def discover_page(request: Request, topic: str = "", audience: str = "", like: str = "",
                  top: int | None = None) -> HTMLResponse:
    """Creators for a topic, a target audience or a lookalike account."""
    wait = preparing(request)
    if wait is not None:
        return wait
    svc = service(request)
    top = int(config.value("web_discover_top", top))
    kw = {k: v.strip() for k, v in (("topic", topic), ("audience", audience),
                                     ("like", like)) if v and v.strip()}
    rows, target, err = None, "", None
    try:
        topics = svc.topics()
        if kw:
            res = svc.find(limit=top, **kw)
            rows, target = res["items"], res["target"]
    except TruecloutError as exc:
        err, rows, topics = exc, None, []
    return render(request, "discover.html.j2", "discover", title="Discover", error=err,
                  topics=topics, examples=topics[:int(config.get("web_examples"))],
                  topic=kw.get("topic", ""), audience=audience, like=like,
                  top=top, max_top=getattr(svc, "max_limit", 1000), rows=rows,
                  target=target, preselect=int(config.get("web_discover_preselect")))


@router.get("/overlap", name="web_overlap", response_class=HTMLResponse)
def overlap_page(request: Request, creators: list[str] | None = Query(None),
                 topic: str = "") -> HTMLResponse:
    """Heat map of the chosen creators' shared authentic audiences."""
    from urllib.parse import urlencode

    from ...report.influence import influence_figures, overlap_figures
    wait = preparing(request)
    if wait is not None:
        return wait
    svc = service(request)
    names = split_accounts(creators)
    ov, figs, err = None, {}, None
    if names:
        try:
            ov = overlap_figures(svc.overlap(names, topic=topic.strip() or None))
            empty = {"x": [], "y": [], "bought": [], "account": []}
            f = influence_figures({"scatter": empty, "accounts": 1, "overlap": ov})
            figs = {k: f[k] for k in ("overlap-chart", "unique-chart")}
        except TruecloutError as exc:
            err = exc
    q = [("creators", " ".join(names))] + ([("topic", topic)] if topic else [])
    return render(request, "overlap.html.j2", "overlap", title="Overlap", error=err,
                  figures=figs, ov=ov, creators_text=" ".join(names), topic=topic,
                  plan_query=urlencode(q))


def _sample_prices(svc, names: list[str]) -> str:
    """The price box's starting text: sample prices per post of ``names``, as the
    demo's campaign sets them (:func:`trueclout.report.influence.sample_cost`)."""
    from ...report.influence import sample_cost
    lines = ["account,cost"]
    for n in names:
        row = svc.account(n)
        cost = sample_cost(row["followers_count"], row["followers_known"])
        lines.append(f"{row['account']},{cost:g}")
    return "\n".join(lines) + "\n"


def _default_creators(svc) -> list[str]:
    rows = svc.rankings(by="truerank", limit=min(4 * int(config.get("web_plan_creators")),
                                                 getattr(svc, "max_limit", 1000)))["items"]
    return [f"{r['platform']}:{r['account_id']}" for r in rows
            if r.get("category") == "real"][:int(config.get("web_plan_creators"))]


@router.get("/plan", name="web_plan", response_class=HTMLResponse)
def plan_page(request: Request, creators: list[str] | None = Query(None),
              budget: str = "", topic: str = "", prices: str = "") -> HTMLResponse:
    """The chosen set of creators for a budget, with its unique reach. Prices come from
    the price box (CSV ``account,cost`` per post, or ``account,cpm`` per 1,000
    followers; a file can be loaded into it), else sample prices; a budget out of range
    is explained, never cut."""
    from ...discover.plan import parse_cost_text
    from ...errors import UsageError
    wait = preparing(request)
    if wait is not None:
        return wait
    svc = service(request)
    plan, err, names, unit = None, None, split_accounts(creators), "post"
    value = None
    try:
        if budget.strip():
            try:
                given = float(budget.replace(",", ""))
            except ValueError:
                raise UsageError(f"{budget!r} is not a number", field="budget") from None
            if not math.isfinite(given) or given < 0:
                raise UsageError("must be a finite number, not negative", field="budget")
            value = given
        if not prices.strip():
            names = names or _default_creators(svc)
            prices = _sample_prices(svc, names) if names else ""
            sample = True
        else:
            sample = False
        if prices.strip():
            specs, vals, _, unit = parse_cost_text(prices, "prices")
            if len(set(specs)) < len(specs):
                raise UsageError("a creator is listed twice; give each creator one price",
                                 field="prices")
            costs = dict(zip(specs, vals))
            names = names or specs
            if value is None:       # the demo's share of what the candidates cost
                probe = svc.plan(0.0, costs, price=unit)
                value = float(round(float(config.get("demo_budget_share"))
                                    * probe["candidates_cost"]))
            plan = svc.plan(value, costs, topic=topic.strip() or None, price=unit)
            plan["sample_prices"] = sample
    except TruecloutError as exc:
        err = exc
    total = float(plan["candidates_cost"]) if plan else 0.0
    top = max(total, value or 0.0)
    return render(request, "plan.html.j2", "plan", title="Plan", error=err, plan=plan,
                  creators_text=" ".join(names), budget=value if value is not None else "",
                  total_cost=total, slider_max=round(top) if top else 1,
                  step=max(1.0, round(top / 200)) if top else 1.0, topic=topic,
                  prices=prices, unit=unit,
                  config_price=float(config.get("demo_cost_per_follower")))


@router.get("/upload", name="web_upload", response_class=HTMLResponse)
def upload_page(request: Request) -> HTMLResponse:
    """A file sent to the API's ingest endpoint, with a progress bar."""
    from starlette.routing import NoMatchFound
    try:
        upload_url = request.app.url_path_for("ingest")
        job_url = request.app.url_path_for("job", job_id="{id}")
    except NoMatchFound:
        upload_url, job_url = UPLOAD_URL, JOB_URL
    return render(request, "upload.html.j2", "upload", title="Upload",
                  poll_ms=int(config.get("web_upload_poll_ms")), upload_url=upload_url,
                  job_url=job_url, key_header=KEY_HEADER)


# -- sign in (only when the pages need a key) ----------------------------------------------
@router.get("/login", name="web_login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form: an API key (read or admin), kept in a cookie for the pages."""
    return render(request, "login.html.j2", "login", title="Sign in", next=_safe_next(next))


@router.post("/login", name="web_login_post", response_class=HTMLResponse)
async def login_post(request: Request) -> Response:
    """Check the form's origin and CSRF token (403), then the key; on success start a
    sign-in (:class:`Sessions`) kept in an HttpOnly, SameSite=Strict cookie and go on to
    ``next``; else show the form again with the reason (401, or 429 once the failed
    attempts of this address or key are over their limit)."""
    from fastapi.responses import RedirectResponse
    form = await request.form()
    key = str(form.get("key") or "").strip()
    nxt = _safe_next(str(form.get("next") or "/"))
    state = request.app.state
    try:
        check_form_origin(request, form)
        row = await run_in_threadpool(state.keys.check, key or None, client=_client(request))
        state.limiter.take(row["key_id"])
    except TruecloutError as exc:
        return render(request, "login.html.j2", "login", title="Sign in", next=nxt,
                      error=exc)
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(COOKIE, state.sessions.create(row),
                    max_age=int(config.get("web_login_max_age_s")), httponly=True,
                    samesite="strict", path="/", secure=request.url.scheme == "https")
    return resp


@router.post("/logout", name="web_logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    """End the sign-in (its token is forgotten by the server) and go back to the sign-in
    form; 403 for a form another site sent."""
    from fastapi.responses import RedirectResponse
    form = await request.form()
    try:
        check_form_origin(request, form)
    except TruecloutError as exc:
        return render(request, "login.html.j2", "login", title="Sign in", next="/",
                      error=exc)
    request.app.state.sessions.drop(request.cookies.get(COOKIE))
    resp = RedirectResponse(request.url_for("web_login").path, status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp
