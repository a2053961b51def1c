"""The shared base of every detector.

A detector follows scikit-learn's conventions: ``__init__`` only stores keyword arguments,
``fit`` validates its input, does the work and returns ``self``, and fitted results end in
``_``. Reading a fitted result before ``fit`` raises
:class:`~trueclout.errors.NotFittedError`.

Every detector sets ``decision_scores_`` (one float per vertex, higher means more
suspicious, in [0, 1] for the built-in detectors) and the raw evidence behind it. The base
derives ``threshold_``, ``labels_`` (1 = flagged) and ``reasons_`` (a plain-words reason for
each flagged vertex, ``""`` otherwise). Detectors over a whole graph are transductive:
they score the vertices of the graph they were fitted on (PyOD's ``BaseDetector``).

Examples
--------
>>> import numpy as np
>>> class Big(BaseDetector):
...     '''Flags vertices whose value is large.'''
...     default_threshold = 0.5
...     def __init__(self, *, threshold=None):
...         self.threshold = threshold
...     def _fit(self, data):
...         self.decision_scores_ = np.asarray(data, dtype=float)
...     def _reasons(self, idx):
...         return [f"value {self.decision_scores_[i]:.1f} is large" for i in idx]
>>> d = Big().fit([0.1, 0.9, 0.7])
>>> d.labels_.tolist(), d.reasons_[1]
([0, 1, 1], 'value 0.9 is large')
>>> Big().labels_
Traceback (most recent call last):
...
trueclout.errors.NotFittedError: Big is not fitted yet; call fit first
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..base import Estimator
from ..errors import UsageError


class BaseDetector(Estimator):
    """Base class of detectors: derives threshold, labels and reasons from scores.

    Subclasses implement ``_fit(data, **kwargs)``, which must set ``decision_scores_``,
    and ``_reasons(indices)``, which returns one plain-words reason per flagged vertex.
    They set the class attribute ``default_threshold`` (used when the ``threshold``
    parameter is None).

    Examples
    --------
    >>> BaseDetector.default_threshold
    0.5
    """

    default_threshold: float = 0.5
    threshold: float | None = None

    def __repr__(self) -> str:
        # a detector shows every parameter, defaults included
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data: Any, **kwargs: Any) -> "BaseDetector":
        """Score every vertex of ``data``, then derive threshold, labels and reasons.

        Returns
        -------
        self
        """
        self._fit(data, **kwargs)
        scores = np.asarray(self.decision_scores_, dtype=np.float64)
        if scores.ndim != 1:
            raise UsageError(f"{type(self).__name__} produced scores of shape {scores.shape}")
        if np.isnan(scores).any():
            raise UsageError(f"{type(self).__name__} produced NaN scores")
        self.decision_scores_ = scores
        self.threshold_ = float(self.default_threshold if self.threshold is None
                                else self.threshold)
        self.labels_ = (scores >= self.threshold_).astype(np.int8)
        flagged = np.flatnonzero(self.labels_)
        reasons = np.full(scores.shape[0], "", dtype=object)
        if flagged.size:
            reasons[flagged] = list(self._reasons(flagged))
        self.reasons_ = reasons
        return self

    def _fit(self, data: Any, **kwargs: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        return [f"{type(self).__name__} score {self.decision_scores_[i]:.2f}" for i in indices]
