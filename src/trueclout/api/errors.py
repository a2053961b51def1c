"""Errors of the API and the one JSON error shape of every response that is not a success.

Every error answer has the body ``{"error": {"type", "message", "path", "line",
"field"}}``, the shape of :meth:`trueclout.errors.TruecloutError.to_dict`. The classes
here add an HTTP status to trueclout's errors; :func:`status_of` maps any error to one.

Examples
--------
>>> status_of(NotFoundError("no account 'x'"))
404
>>> error_body(RateLimitedError("slow down", retry_after=2.0))["error"]["type"]
'RateLimitedError'
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError, StoreBusyError, TruecloutError, UsageError


class NotFoundError(UsageError):
    """The thing asked for does not exist (HTTP 404).

    Examples
    --------
    >>> NotFoundError("no job 3").status
    404
    """

    status = 404


class AuthError(UsageError):
    """No API key, or an unknown or revoked one (HTTP 401).

    Examples
    --------
    >>> AuthError("no key").status
    401
    """

    status = 401


class ForbiddenError(UsageError):
    """The key's scope does not allow this request (HTTP 403).

    Examples
    --------
    >>> ForbiddenError("read key").status
    403
    """

    status = 403


class RateLimitedError(UsageError):
    """Too many requests for this key (HTTP 429); ``retry_after`` in seconds.

    Examples
    --------
    >>> RateLimitedError("slow", retry_after=1.5).retry_after
    1.5
    """

    status = 429

    def __init__(self, message: str, *, retry_after: float = 1.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class JobQueueFullError(RateLimitedError):
    """The job queue is full (HTTP 429 with ``Retry-After``): setting ``api_job_queue``.

    Examples
    --------
    >>> JobQueueFullError("full", retry_after=10).status
    429
    """


class ValidationError(UsageError):
    """The request does not match its schema (HTTP 422); ``field`` names the part.

    Examples
    --------
    >>> ValidationError("must be >= 1", field="limit").to_dict()["field"]
    'limit'
    """

    status = 422


class TooLargeError(InputError):
    """The request body is over the size limit (HTTP 413).

    Examples
    --------
    >>> TooLargeError("too big").status
    413
    """

    status = 413


class HTTPError(TruecloutError):
    """Another HTTP error (405 and the like), carrying its status; the type is its
    reason phrase without spaces and ``Error``, e.g. ``MethodNotAllowedError``.

    Examples
    --------
    >>> HTTPError(405, "method not allowed").to_dict()["type"]
    'MethodNotAllowedError'
    """

    def __init__(self, status: int, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        from http import HTTPStatus
        d = super().to_dict()
        try:
            d["type"] = (HTTPStatus(self.status).phrase.replace(" ", "").replace("-", "")
                         + "Error")
        except ValueError:
            d["type"] = "HTTPError"
        return d


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error: its own ``status``, 503 for a busy store, 400 for
    other usage and input errors, 500 for anything else.

    Examples
    --------
    >>> status_of(UsageError("bad")), status_of(StoreBusyError("busy")), status_of(KeyError())
    (400, 503, 500)
    """
    s = getattr(exc, "status", None)
    if isinstance(s, int):
        return s
    if isinstance(exc, StoreBusyError):
        return 503
    if isinstance(exc, (UsageError, InputError)):
        return 400
    if isinstance(exc, TruecloutError):
        return 500
    return 500


def excerpt(value: Any, limit: int | None = None) -> Any:
    """``value`` cut to ``limit`` characters (setting ``api_error_excerpt``) when it is a
    longer string, saying how long it was; other values as they are.

    Examples
    --------
    >>> excerpt("no topic " + "x" * 1000, 20)
    'no topic xxxxxxxxxxx… (1,009 characters; cut)'
    >>> excerpt(3, 20)
    3
    """
    if not isinstance(value, str):
        return value
    if limit is None:
        from .. import config
        limit = int(config.get("api_error_excerpt"))
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters; cut)"


def error_body(exc: BaseException) -> dict[str, Any]:
    """The one error shape; an unexpected exception becomes ``InternalError`` with its
    class name only (no internals leak).

    Examples
    --------
    >>> error_body(KeyError("x"))["error"]["message"]
    'internal error (KeyError); it has been logged'
    """
    if isinstance(exc, TruecloutError):
        return {"error": {k: excerpt(v) for k, v in exc.to_dict().items()}}
    return {"error": {"type": "InternalError",
                      "message": f"internal error ({type(exc).__name__}); it has been logged",
                      "path": None, "line": None, "field": None}}
