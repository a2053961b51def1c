"""Public names imported on first use: what the package and its stages export without
loading numba, DuckDB or scikit-learn at ``import``.

Examples
--------
>>> getattr_, dir_ = lazy_exports("trueclout", {"UsageError": ".errors"})
>>> getattr_("UsageError").__name__, "UsageError" in dir_()
('UsageError', True)
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``, whose public
    name ``n`` lives in the module ``exports[n]`` (relative to the package): imported on
    first use, then kept in the package.

    Examples
    --------
    >>> getattr_, _ = lazy_exports("trueclout", {})
    >>> getattr_("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'trueclout' has no attribute 'nothing'
    """
    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
