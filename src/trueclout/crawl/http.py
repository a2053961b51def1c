"""A polite HTTP client for crawls: rate limits per endpoint, retries, clear errors.

:class:`HttpClient` wraps ``httpx.Client``. Every request names an *endpoint* (an XRPC
method such as ``app.bsky.graph.getFollowers``, or a Mastodon route such as
``accounts/followers``); the limits a server announces are tracked per endpoint, because
servers count them per route.

What happens when a response is not a success, in this order of precedence:

1. **429 (or 503) with ``Retry-After``**: wait exactly that long (seconds, or an HTTP date).
2. **Rate-limit reset headers**: ``ratelimit-reset`` (Bluesky; IETF draft
   ``RateLimit-Reset``) or ``X-RateLimit-Reset`` (Mastodon: an ISO 8601 time; Twitter:
   epoch seconds). A value above 10^9 is an epoch time, a smaller number is seconds from
   now, anything else is tried as a date. On a 429 without ``Retry-After``, wait until the
   reset. A success with ``remaining == 0`` also makes the *next* request to the same
   endpoint wait until the reset, so the client never spends a request on a known 429.
3. **Capped exponential backoff with jitter** on a 429 without either header, on 5xx, on
   timeouts and on connection errors: ``min(cap, base * 2**attempt)``, scaled by a random
   factor in [0.5, 1] ("equal jitter").

At most ``max_retries`` retries follow the first try; then :class:`FetchError` is raised.
A wait longer than ``max_wait_s`` is not slept: :class:`RateLimited` is raised, so a crawl
stops early (and can be resumed) instead of hanging for hours. Any other 4xx is raised at
once as :class:`FetchError` with the server's message; it is the caller's to decide
whether that one item is skipped.

The clock and the sleep are injectable (``clock=``, ``sleep=``), as is the transport
(``transport=``, e.g. ``httpx.MockTransport``), so tests never sleep and never touch the
network. Every wait is recorded in :attr:`HttpClient.waits` as ``(endpoint, seconds,
reason)`` with reason ``"retry-after"``, ``"ratelimit-reset"`` or ``"backoff"``.

Examples
--------
>>> import httpx
>>> calls = []
>>> def handler(request):
...     calls.append(1)
...     if len(calls) == 1:
...         return httpx.Response(429, headers={"Retry-After": "7"})
...     return httpx.Response(200, json={"ok": True})
>>> clock = FakeClock()
>>> c = HttpClient(transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep)
>>> c.get_json("https://example.test/x", endpoint="x")
{'ok': True}
>>> c.waits
[('x', 7.0, 'retry-after')]
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import httpx

from .. import __version__, config
from ..errors import TruecloutError

log = logging.getLogger("trueclout.crawl")

#: Header values above this are epoch seconds, below it seconds from now.
_EPOCH_MIN = 1e9

#: Transport used when none is given (None: the network). A test seam: the CLI tests set
#: it to an ``httpx.MockTransport`` so that no test touches the network.
DEFAULT_TRANSPORT: httpx.BaseTransport | None = None


class FetchError(TruecloutError):
    """A request that failed for good: a 4xx other than 429, or retries used up.

    ``status`` is the HTTP status (None for a network error), ``retryable`` says whether
    trying later may help (network, 5xx, 429), ``endpoint`` and ``url`` say what failed.

    Examples
    --------
    >>> e = FetchError("HTTP 404: not found", status=404, url="https://h/x")
    >>> e.exit_code, e.retryable, str(e)
    (1, False, 'https://h/x: HTTP 404: not found')
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None,
                 endpoint: str | None = None, retryable: bool = False) -> None:
        super().__init__(message, path=url)
        self.status = status
        self.url = url
        self.endpoint = endpoint
        self.retryable = retryable


class RateLimited(FetchError):
    """The server asks for a wait longer than ``crawl_max_wait_s``.

    Examples
    --------
    >>> RateLimited("wait 3600 s", status=429, retryable=True).retryable
    True
    """


class FakeClock:
    """A wall clock for tests: ``clock()`` gives the time, ``sleep(s)`` advances it.

    Examples
    --------
    >>> c = FakeClock(100.0)
    >>> c.sleep(2.5); c()
    102.5
    >>> c.slept
    [2.5]
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = float(start)
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(float(seconds))
        self.now += float(seconds)


@dataclass
class _Limit:
    remaining: int | None = None
    reset_at: float | None = None


def parse_reset(value: str | None, now: float) -> float | None:
    """The wall-clock time a rate-limit reset header names, or None.

    A number above 10^9 is epoch seconds, a smaller one seconds from ``now``; anything
    else is read as an ISO 8601 or HTTP date.

    Examples
    --------
    >>> parse_reset("30", 1000.0)
    1030.0
    >>> parse_reset("1700000060", 0.0)
    1700000060.0
    >>> parse_reset("2023-11-14T22:14:20.000Z", 0.0)
    1700000060.0
    >>> parse_reset("soon", 0.0) is None
    True
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        num = float(text)
    except ValueError:
        num = None
    if num is not None:
        return num if num > _EPOCH_MIN else now + max(0.0, num)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None.

    Examples
    --------
    >>> parse_retry_after("7", 0.0)
    7.0
    >>> parse_retry_after("Tue, 14 Nov 2023 22:14:30 GMT", 1700000060.0)
    10.0
    >>> parse_retry_after("x", 0.0) is None
    True
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(text).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _header(headers: httpx.Headers, *names: str) -> str | None:
    for n in names:
        v = headers.get(n)
        if v is not None:
            return v
    return None


def _server_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except Exception:
        text = resp.text.strip()
        return text[:200] if text else resp.reason_phrase
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "message", "error_description") if body.get(k)]
        if parts:
            return ": ".join(parts)
    return resp.reason_phrase


class HttpClient:
    """An ``httpx`` client that honours rate limits and retries with backoff.

    Parameters
    ----------
    transport : httpx.BaseTransport, optional
        The transport (``httpx.MockTransport`` in tests); default: the network.
    clock : callable, optional
        Wall time in seconds (default ``time.time``).
    sleep : callable, optional
        Sleeps that many seconds (default ``time.sleep``).
    max_retries, backoff_base_s, backoff_cap_s, max_wait_s, timeout_s : optional
        Default from config (``crawl_*`` settings).
    rng : random.Random, optional
        Source of the jitter.

    Examples
    --------
    >>> import httpx
    >>> def handler(request):
    ...     return httpx.Response(200, json={"n": 1},
    ...                           headers={"ratelimit-remaining": "0", "ratelimit-reset": "60"})
    >>> clock = FakeClock(0.0)
    >>> c = HttpClient(transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep)
    >>> _ = c.get_json("https://h/a", endpoint="a"); _ = c.get_json("https://h/a", endpoint="a")
    >>> c.waits  # the second request waited for the announced reset
    [('a', 60.0, 'ratelimit-reset')]
    """

    def __init__(self, *, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None,
                 max_retries: int | None = None, backoff_base_s: float | None = None,
                 backoff_cap_s: float | None = None, max_wait_s: float | None = None,
                 timeout_s: float | None = None, rng: random.Random | None = None) -> None:
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.max_retries = int(config.value("crawl_max_retries", max_retries))
        self.backoff_base_s = float(config.value("crawl_backoff_base_s", backoff_base_s))
        self.backoff_cap_s = float(config.value("crawl_backoff_cap_s", backoff_cap_s))
        self.max_wait_s = float(config.value("crawl_max_wait_s", max_wait_s))
        self.rng = rng or random.Random()
        self.limits: dict[str, _Limit] = {}
        self.waits: list[tuple[str, float, str]] = []
        self.requests = 0
        self._client = httpx.Client(
            transport=transport or DEFAULT_TRANSPORT,
            timeout=float(config.value("crawl_timeout_s", timeout_s)),
            follow_redirects=True,
            headers={"User-Agent": f"trueclout/{__version__} (crawler)",
                     "Accept": "application/json"})

    def close(self) -> None:
        """Close the connection pool.

        Examples
        --------
        >>> HttpClient().close()
        """
        self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- waiting ----------------------------------------------------------------------------
    def _wait(self, endpoint: str, seconds: float, reason: str, url: str) -> None:
        if seconds > self.max_wait_s:
            raise RateLimited(
                f"rate limited on {endpoint}: the server asks to wait {seconds:.0f} s "
                f"({reason}), more than crawl_max_wait_s = {self.max_wait_s:g} s",
                status=429, url=url, endpoint=endpoint, retryable=True)
        if seconds > 0:
            log.info("waiting %.1f s on %s (%s)", seconds, endpoint, reason)
            self.waits.append((endpoint, float(seconds), reason))
            self.sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap_s, self.backoff_base_s * (2.0 ** attempt))
        return delay * (0.5 + 0.5 * self.rng.random())

    def _note_limits(self, endpoint: str, resp: httpx.Response) -> None:
        h = resp.headers
        remaining = _header(h, "ratelimit-remaining", "x-ratelimit-remaining")
        reset = _header(h, "ratelimit-reset", "x-ratelimit-reset")
        if remaining is None and reset is None:
            return
        lim = self.limits.setdefault(endpoint, _Limit())
        try:
            lim.remaining = int(float(remaining)) if remaining is not None else None
        except ValueError:
            lim.remaining = None
        lim.reset_at = parse_reset(reset, self.clock())

    # -- requests ---------------------------------------------------------------------------
    def get(self, url: str, params: dict | None = None, *, endpoint: str | None = None
            ) -> httpx.Response:
        """GET ``url`` with ``params``; returns the successful response.

        Raises
        ------
        FetchError
            A 4xx other than 429 (at once), or retries used up.
        RateLimited
            The server asks for a longer wait than ``max_wait_s``.

        Examples
        --------
        >>> import httpx
        >>> c = HttpClient(transport=httpx.MockTransport(
        ...     lambda r: httpx.Response(400, json={"error": "InvalidRequest",
        ...                                          "message": "Profile not found"})))
        >>> c.get("https://h/x", endpoint="x")
        Traceback (most recent call last):
        ...
        trueclout.crawl.http.FetchError: https://h/x: HTTP 400 on x: InvalidRequest: Profile not found
        """
        endpoint = endpoint or httpx.URL(url).path
        attempt = 0
        while True:
            lim = self.limits.get(endpoint)
            if lim is not None and lim.remaining is not None and lim.remaining <= 0 \
                    and lim.reset_at is not None:
                self._wait(endpoint, lim.reset_at - self.clock(), "ratelimit-reset", url)
                lim.remaining = None
            self.requests += 1
            try:
                resp = self._client.get(url, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.max_retries:
                    raise FetchError(f"{type(exc).__name__} on {endpoint} after "
                                     f"{attempt + 1} tries: {exc}", url=url,
                                     endpoint=endpoint, retryable=True) from exc
                self._wait(endpoint, self._backoff(attempt), "backoff", url)
                attempt += 1
                continue
            self._note_limits(endpoint, resp)
            status = resp.status_code
            if status < 400:
                return resp
            retryable = status == 429 or status >= 500
            if not retryable:
                raise FetchError(f"HTTP {status} on {endpoint}: {_server_message(resp)}",
                                 status=status, url=str(resp.request.url), endpoint=endpoint)
            if attempt >= self.max_retries:
                raise FetchError(f"HTTP {status} on {endpoint} after {attempt + 1} tries: "
                                 f"{_server_message(resp)}", status=status,
                                 url=str(resp.request.url), endpoint=endpoint, retryable=True)
            now = self.clock()
            wait = None
            if status in (429, 503):
                wait = parse_retry_after(resp.headers.get("retry-after"), now)
                if wait is not None:
                    self._wait(endpoint, wait, "retry-after", url)
            if wait is None and status == 429:
                lim = self.limits.get(endpoint)
                if lim is not None and lim.reset_at is not None and lim.reset_at > now:
                    wait = lim.reset_at - now
                    self._wait(endpoint, wait, "ratelimit-reset", url)
                    lim.remaining = None
            if wait is None:
                self._wait(endpoint, self._backoff(attempt), "backoff", url)
            if endpoint in self.limits:  # the wait served the announced limit
                self.limits[endpoint].remaining = None
            attempt += 1

    def get_json(self, url: str, params: dict | None = None, *, endpoint: str | None = None
                 ) -> Any:
        """GET and decode JSON; a body that is not JSON raises :class:`FetchError`.

        Examples
        --------
        >>> import httpx
        >>> c = HttpClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<")))
        >>> c.get_json("https://h/x")
        Traceback (most recent call last):
        ...
        trueclout.crawl.http.FetchError: https://h/x: /x: the response is not JSON
        """
        return self.json_of(self.get(url, params, endpoint=endpoint), endpoint)

    @staticmethod
    def json_of(resp: httpx.Response, endpoint: str | None = None) -> Any:
        """The JSON body of ``resp`` or a :class:`FetchError`.

        Examples
        --------
        >>> import httpx
        >>> HttpClient.json_of(httpx.Response(200, json=[1]))
        [1]
        """
        try:
            return resp.json()
        except ValueError as exc:
            url = str(resp.request.url) if resp._request is not None else None
            raise FetchError(f"{endpoint or httpx.URL(url or '').path}: the response is not "
                             "JSON", status=resp.status_code, url=url, endpoint=endpoint,
                             retryable=True) from exc
