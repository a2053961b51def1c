"""Gradient-boosted trees as plain arrays: predicted by a numba kernel, saved as JSON.

A fitted scikit-learn ``HistGradientBoostingClassifier`` is turned into a
:class:`TreeEnsemble`: per node its feature, threshold, the side a missing value takes,
its children and, at leaves, its value. Prediction walks the same splits as
scikit-learn (``x <= threshold`` goes left, NaN goes to the side recorded at fit time)
and sums the leaves with the baseline, so the raw scores equal the estimator's
``decision_function`` exactly. The arrays go to and from JSON: a model file holds
numbers only, so loading it cannot run code (unlike a pickle).

Examples
--------
>>> import numpy as np
>>> from sklearn.ensemble import HistGradientBoostingClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.random((300, 3)); X[::5, 1] = np.nan
>>> y = (X[:, 0] + np.nan_to_num(X[:, 1]) > 0.8).astype(int)
>>> est = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
>>> t = TreeEnsemble.from_sklearn(est)
>>> bool(np.allclose(t.raw(X), est.decision_function(X)))
True
>>> t2 = TreeEnsemble.from_dict(t.to_dict())
>>> bool(np.array_equal(t2.raw(X), t.raw(X)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _predict(X, starts, feature, threshold, missing_left, left, right, value, is_leaf,
             baseline):  # pragma: no cover - compiled
    n = X.shape[0]
    out = np.full(n, baseline)
    for t in range(starts.shape[0] - 1):
        root = starts[t]
        for i in range(n):
            node = root
            while not is_leaf[node]:
                x = X[i, feature[node]]
                if np.isnan(x):
                    go_left = missing_left[node]
                else:
                    go_left = x <= threshold[node]
                node = root + (left[node] if go_left else right[node])
            out[i] += value[node]
    return out


@dataclass
class TreeEnsemble:
    """Boosted trees as flat arrays (tree ``t`` holds nodes ``starts[t]:starts[t+1]``;
    children are numbered within their tree).

    Attributes
    ----------
    starts : int64 array, shape (trees + 1,)
    feature : int32 array
        Column of the input the node splits on.
    threshold : float64 array
        ``x <= threshold`` goes left.
    missing_left : bool array
        Where a missing (NaN) value goes.
    left, right : int32 array
    value : float64 array
        Leaf values (raw log-odds contributions).
    is_leaf : bool array
    baseline : float
        Added to every prediction.

    Examples
    --------
    >>> t = TreeEnsemble.stump(feature=0, threshold=1.0, left=-1.0, right=2.0)
    >>> t.raw(np.array([[0.5], [3.0], [np.nan]])).tolist()
    [-1.0, 2.0, -1.0]
    """

    starts: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    is_leaf: np.ndarray
    baseline: float = 0.0

    @classmethod
    def stump(cls, feature: int, threshold: float, left: float, right: float
              ) -> "TreeEnsemble":
        """One split: for examples and tests.

        Examples
        --------
        >>> TreeEnsemble.stump(0, 0.0, 1.0, 2.0).n_trees
        1
        """
        return cls(starts=np.array([0, 3]), feature=np.array([feature, 0, 0], np.int32),
                   threshold=np.array([threshold, 0.0, 0.0]),
                   missing_left=np.array([True, False, False]),
                   left=np.array([1, 0, 0], np.int32), right=np.array([2, 0, 0], np.int32),
                   value=np.array([0.0, left, right]),
                   is_leaf=np.array([False, True, True]))

    @classmethod
    def from_sklearn(cls, est: Any) -> "TreeEnsemble":
        """From a fitted binary ``HistGradientBoostingClassifier`` without categorical
        features.

        Examples
        --------
        >>> TreeEnsemble.from_sklearn(object())
        Traceback (most recent call last):
        ...
        TypeError: expected a fitted HistGradientBoostingClassifier
        """
        predictors = getattr(est, "_predictors", None)
        if predictors is None:
            raise TypeError("expected a fitted HistGradientBoostingClassifier")
        nodes = [trees[0].nodes for trees in predictors]
        if any(len(trees) != 1 for trees in predictors):
            raise TypeError("only binary classifiers are supported")
        if any(nd["is_categorical"].any() for nd in nodes):
            raise TypeError("categorical splits are not supported")
        sizes = np.array([len(nd) for nd in nodes], np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        cat = np.concatenate(nodes) if nodes else np.zeros(0, dtype=[
            ("feature_idx", "u4"), ("num_threshold", "f8"), ("missing_go_to_left", "u1"),
            ("left", "u4"), ("right", "u4"), ("value", "f8"), ("is_leaf", "u1")])
        leaf = cat["is_leaf"].astype(bool)
        return cls(starts=starts, feature=cat["feature_idx"].astype(np.int32),
                   threshold=np.where(leaf, 0.0, cat["num_threshold"]).astype(np.float64),
                   missing_left=cat["missing_go_to_left"].astype(bool),
                   left=cat["left"].astype(np.int32), right=cat["right"].astype(np.int32),
                   value=np.where(leaf, cat["value"], 0.0).astype(np.float64),
                   is_leaf=leaf,
                   baseline=float(np.ravel(est._baseline_prediction)[0]))

    @property
    def n_trees(self) -> int:
        return int(len(self.starts) - 1)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds of the positive class) of the rows of ``X``.

        Examples
        --------
        >>> TreeEnsemble.stump(0, 0.0, -1.0, 1.0).raw(np.array([[1.0]])).tolist()
        [1.0]
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"expected a 2-d matrix, got shape {X.shape}")
        if X.shape[0] == 0 or self.n_trees == 0:
            return np.full(X.shape[0], self.baseline)
        if self.feature.size and int(self.feature[~self.is_leaf].max(initial=0)) >= X.shape[1]:
            raise ValueError(f"the trees read column {int(self.feature.max())} of a matrix "
                             f"with {X.shape[1]} columns")
        return _predict(X, self.starts, self.feature, self.threshold, self.missing_left,
                        self.left, self.right, self.value, self.is_leaf, self.baseline)

    def thresholds(self) -> dict[int, np.ndarray]:
        """Per input column, the sorted distinct thresholds its splits use. A row whose
        values fall on the same side of every threshold gets the same prediction.

        Examples
        --------
        >>> TreeEnsemble.stump(2, 0.5, 0.0, 1.0).thresholds()
        {2: array([0.5])}
        """
        inner = ~self.is_leaf
        out: dict[int, np.ndarray] = {}
        for f in np.unique(self.feature[inner]):
            out[int(f)] = np.unique(self.threshold[inner & (self.feature == f)])
        return out

    def to_dict(self) -> dict:
        """Plain lists and numbers (JSON-ready).

        Examples
        --------
        >>> sorted(TreeEnsemble.stump(0, 0.0, 1.0, 2.0).to_dict())[:3]
        ['baseline', 'feature', 'is_leaf']
        """
        # JSON has no infinity: a split at +inf (every known value goes left) becomes the
        # largest float, which orders every finite value the same way
        big = np.finfo(np.float64).max
        return {"starts": self.starts.tolist(), "feature": self.feature.tolist(),
                "threshold": np.clip(self.threshold, -big, big).tolist(),
                "missing_left": self.missing_left.astype(int).tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(),
                "value": self.value.tolist(), "is_leaf": self.is_leaf.astype(int).tolist(),
                "baseline": self.baseline}

    @classmethod
    def from_dict(cls, d: dict) -> "TreeEnsemble":
        """The inverse of :meth:`to_dict`; checks shapes and child indexes.

        Examples
        --------
        >>> TreeEnsemble.from_dict({"starts": [0]})
        Traceback (most recent call last):
        ...
        ValueError: tree arrays: missing 'feature'
        """
        keys = ("starts", "feature", "threshold", "missing_left", "left", "right", "value",
                "is_leaf")
        for k in keys:
            if k not in d:
                raise ValueError(f"tree arrays: missing {k!r}")
        t = cls(starts=np.asarray(d["starts"], np.int64),
                feature=np.asarray(d["feature"], np.int32),
                threshold=np.asarray(d["threshold"], np.float64),
                missing_left=np.asarray(d["missing_left"], bool),
                left=np.asarray(d["left"], np.int32), right=np.asarray(d["right"], np.int32),
                value=np.asarray(d["value"], np.float64),
                is_leaf=np.asarray(d["is_leaf"], bool), baseline=float(d.get("baseline", 0)))
        m = len(t.feature)
        if any(len(a) != m for a in (t.threshold, t.missing_left, t.left, t.right, t.value,
                                     t.is_leaf)):
            raise ValueError("tree arrays: node arrays of different lengths")
        if len(t.starts) < 1 or t.starts[0] != 0 or t.starts[-1] != m \
                or np.any(np.diff(t.starts) < 1):
            raise ValueError("tree arrays: bad tree offsets")
        sizes = np.repeat(np.diff(t.starts), np.diff(t.starts))
        local = np.arange(m) - np.repeat(t.starts[:-1], np.diff(t.starts))
        inner = ~t.is_leaf
        # children come after their parent within the tree, so every walk ends at a leaf
        if np.any((t.left[inner] <= local[inner]) | (t.left[inner] >= sizes[inner])
                  | (t.right[inner] <= local[inner]) | (t.right[inner] >= sizes[inner])
                  | (t.feature[inner] < 0)):
            raise ValueError("tree arrays: a child index points outside its tree or back")
        return t


__all__ = ["TreeEnsemble"]
