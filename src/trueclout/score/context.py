"""Everything the scores and discovery read, computed once: data, detection and weights.

:func:`score_context` reads the store (or takes data already read), fits the detection
ensemble and derives the per-account arrays the scores share. The commands ``rank``,
``find``, ``overlap``, ``plan`` and ``suggest`` all start from it.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.ensemble import neutral_ensemble
>>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()), neutral_ensemble())
>>> ctx.weight.tolist(), int(ctx.suspicious.sum())
([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..detect.data import DetectionData
from ..graph.follow_graph import FollowGraph
from ..detect.weights import authentic_weights


@dataclass(eq=False)
class ScoreContext:
    """Detection results and the shared per-account arrays, in vertex order.

    Attributes
    ----------
    data : DetectionData
    ensemble : EnsembleDetector (fitted)
    authenticity : float64 array
        1 means real.
    weight : float32 array
        Weight of each account as an audience member (:func:`authentic_weights`).
    suspicious : bool array
        Flagged by the ensemble: never suggested, never returned by discovery.
    cache : dict
        Results computed on demand (TrueRank, topics), keyed by name.
    store : Store or None
        The store the data came from, for what is read on demand (topic terms); see
        :meth:`live_store`.
    saved : Saved or None
        Where derived results are kept between commands when the context is a saved
        one (:func:`trueclout.score.saved.load_context`).
    """

    data: DetectionData
    ensemble: Any
    authenticity: np.ndarray
    weight: np.ndarray
    suspicious: np.ndarray
    cache: dict = field(default_factory=dict)
    store: Any = None
    saved: Any = None

    @property
    def graph(self) -> FollowGraph:
        return self.data.graph

    @property
    def n(self) -> int:
        return self.data.n

    def live_store(self) -> Any:
        """The store the data came from while it is still open, else None.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> ScoreContext.from_data(DetectionData.from_graph(toy_graph())).live_store() is None
        True
        """
        s = self.store
        return s if s is not None and getattr(s, "con", None) is not None else None

    @classmethod
    def from_data(cls, data: DetectionData, ensemble: Any = None, *,
                  progress=None) -> "ScoreContext":
        """Fit ``ensemble`` (default :class:`EnsembleDetector`) unless already fitted.

        Examples
        --------
        >>> ScoreContext.from_data  # doctest: +ELLIPSIS
        <bound method ScoreContext.from_data of <class '...ScoreContext'>>
        """
        from ..detect.ensemble import EnsembleDetector
        data = DetectionData.coerce(data)
        ens = ensemble if ensemble is not None else EnsembleDetector()
        if not hasattr(ens, "authenticity_"):
            ens.fit(data, progress=progress)
        auth = np.asarray(ens.authenticity_, dtype=np.float64)
        return cls(data=data, ensemble=ens, authenticity=auth,
                   weight=authentic_weights(auth, getattr(ens, "category_", None)),
                   suspicious=np.asarray(ens.labels_) > 0)


def score_context(store, *, model: Any = None, progress=None) -> ScoreContext:
    """Read ``store`` and fit the detection ensemble (``model``: classifier model or path).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> score_context(Store(":memory:")).n
    0
    """
    from ..detect.ensemble import EnsembleDetector
    data = DetectionData.from_store(store, progress=progress)
    ctx = ScoreContext.from_data(data, EnsembleDetector(model=model), progress=progress)
    ctx.store = store
    return ctx
