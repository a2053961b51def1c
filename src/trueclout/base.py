"""The estimator conventions every fitted model of trueclout shares (scikit-learn's):
detectors, trust, TrueRank, communities, topics, suggestions and the classifier.

Examples
--------
>>> from trueclout.base import Estimator
>>> Estimator().get_params()
{}
"""

from __future__ import annotations

from typing import Any

from .errors import NotFittedError


class Estimator:
    """Scikit-learn conventions shared by every fitted model (detectors, communities,
    topics, suggestions).

    ``__init__`` stores keyword-only parameters; :meth:`get_params` returns them, the
    ``repr`` shows those that differ from their defaults, and reading a fitted result
    (a name ending in ``_``) before ``fit`` raises :class:`~trueclout.errors.NotFittedError`.

    Examples
    --------
    >>> class Mean(Estimator):
    ...     def __init__(self, *, scale=None, centre=True):
    ...         self.scale = scale
    ...         self.centre = centre
    ...     def fit(self, x):
    ...         self.mean_ = sum(x) / len(x)
    ...         return self
    >>> Mean(scale=2.0), Mean(centre=False).get_params()
    (Mean(scale=2.0), {'scale': None, 'centre': False})
    >>> Mean().fit([1, 2]).mean_
    1.5
    >>> Mean().mean_
    Traceback (most recent call last):
    ...
    trueclout.errors.NotFittedError: Mean is not fitted yet; call fit first
    """

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments and their current values.

        Examples
        --------
        >>> Estimator().get_params()
        {}
        """
        import inspect
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters
                if k != "self" and sig.parameters[k].kind == inspect.Parameter.KEYWORD_ONLY}

    def __repr__(self) -> str:
        import inspect
        sig = inspect.signature(type(self).__init__)
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                           if v is not sig.parameters[k].default)
        return f"{type(self).__name__}({params})"

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("__"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        raise AttributeError(name)


__all__ = ["Estimator"]
