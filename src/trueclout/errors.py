"""Errors raised by trueclout.

Every error the project raises on purpose is a :class:`TruecloutError`. The CLI maps
them to exit codes: usage errors exit 2, bad data exits 1.

Examples
--------
>>> from trueclout.errors import InputError, TruecloutError
>>> err = InputError("bad date", path="a.csv", line=3, field="created_at")
>>> isinstance(err, TruecloutError), err.exit_code
(True, 1)
>>> str(err)
'a.csv:3: created_at: bad date'
>>> err.to_dict()["type"]
'InputError'
"""

from __future__ import annotations

from typing import Any


class TruecloutError(Exception):
    """Base class of every error trueclout raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in plain words.
    path, line, field : optional
        Where it went wrong, when the error is about input data.

    Examples
    --------
    >>> TruecloutError("boom").exit_code
    1
    """

    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        if self.field is not None:
            where += f"{self.field}: "
        return where + self.message

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of an error.

        Examples
        --------
        >>> UsageError("no such option").to_dict()
        {'type': 'UsageError', 'message': 'no such option', 'path': None, 'line': None, 'field': None}
        """
        return {"type": type(self).__name__, "message": self.message, "path": self.path,
                "line": self.line, "field": self.field}


class UsageError(TruecloutError):
    """A command or function was called wrongly (exit code 2).

    Examples
    --------
    >>> UsageError("x").exit_code
    2
    """

    exit_code = 2


class UnknownAccountError(UsageError):
    """An account spec names no account in the store (exit code 2; HTTP 404 in the API).

    The one place that words it: every command, page and route that takes an account
    raises this, so callers tell it apart by type, never by message.

    Examples
    --------
    >>> e = UnknownAccountError("@nobody")
    >>> e.spec, e.exit_code
    ('@nobody', 2)
    >>> str(e)
    "no account '@nobody' in the store (give platform:account_id, an account id or @handle)"
    """

    def __init__(self, spec: str, *, where: str = "the store") -> None:
        super().__init__(f"no account {spec!r} in {where} (give platform:account_id, an "
                         "account id or @handle)")
        self.spec = spec


class InputError(TruecloutError):
    """Input data could not be read or is invalid (exit code 1).

    Examples
    --------
    >>> InputError("empty file", path="f.csv").exit_code
    1
    """


class StoreError(TruecloutError):
    """The store is missing, corrupt, of an unknown schema version or unusable.

    Examples
    --------
    >>> str(StoreError("schema version 9 is newer than this trueclout knows (1)"))
    'schema version 9 is newer than this trueclout knows (1)'
    """


class StoreBusyError(StoreError):
    """Another process holds the store's write lock and did not release it in time.

    Examples
    --------
    >>> StoreBusyError("busy").exit_code
    1
    """


class DiskFullError(StoreError):
    """The disk holding the store filled up during a write; the write was rolled back.

    Examples
    --------
    >>> DiskFullError("the disk is full").exit_code
    1
    """


class NotFittedError(TruecloutError, AttributeError):
    """A fitted attribute was read before ``fit`` was called.

    Examples
    --------
    >>> isinstance(NotFittedError("call fit first"), AttributeError)
    True
    """
