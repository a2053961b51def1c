"""The supervised authenticity classifier: calibrated P(real) per account, with reasons.

:class:`AuthenticityClassifier` is gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, which takes NaN natively) inside
``CalibratedClassifierCV``. It learns from the columns :data:`MODEL_FEATURES` of the
matrix that :func:`~trueclout.detect.features.account_features` computes, and returns
``authenticity`` = P(real).

Choices that make it hold on other populations (see ``detect/README.md``):

* **Equal priors.** Both classes get the same total weight in training and calibration,
  so ``authenticity`` is P(real) for an account drawn from a population that is half
  real and half fake, a function of the likelihood ratio only. The threshold (0.5 by
  default, ``classifier_threshold``) is then the likelihood ratio 1 and does not depend
  on the share of fakes of the training set. With a known share ``pi`` of fakes in a
  population, P(real) there is ``a(1-pi) / (a(1-pi) + (1-a)pi)``.
* **Monotonic constraints** from the ``direction`` column of the feature table: more
  followers per following, a description, a URL can never make an account look *more*
  fake. A model cannot learn a data set's quirks against them.
* **Missing-view copy.** Each training row is also seen with the graph and activity
  features removed and each optional profile field (likes, listed, age, text, avatar)
  removed with probability 1/4, as sources without them look.
* **"Later" copy.** Each training row is also seen as if observed 0-8 years later: real
  accounts grow in proportion (their ratios stay), fakes gain followers and posts faster
  than followings, as fakes sold years later do (issue 3).
* **Sigmoid calibration** (``classifier_calibration``): isotonic's flat ends tie the
  accounts of another source at 0 or 1 and lose their order.

The copies of a row always fall into the same calibration fold, and the original rows
carry half of the training weight.

Reasons (:meth:`AuthenticityClassifier.explain`) are computed by *group replacement*:
for each group of features (follow ratio, description, handle, ...) the group's values
are replaced by those of the median training human (for an account predicted fake) or of
the median training fake (for an account predicted real), and the change of the model's
log-odds is that group's contribution. The groups with the largest contributions, in the
direction of the prediction, are worded from the account's own values.

Examples
--------
>>> X, y = toy_training_set()        # 20 real accounts, then 20 bought followers
>>> clf = AuthenticityClassifier(max_iter=20, folds=2).fit(X, y)
>>> a = clf.authenticity(X)
>>> bool(a[:20].min() > 0.5 and a[20:].max() < 0.5)
True
>>> sorted(clf.explain(X[-1:])[0])
['follows 344 accounts but has 17 followers (ratio 0.05)', 'no link in the profile']
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from .. import __version__, config
from ..errors import InputError, NotFittedError, UsageError
from .base import BaseDetector
from .data import DetectionData
from .features import (COUNTS, FEATURE_NAMES, FEATURE_SCHEMA, FEATURES, MODEL_FEATURES,
                       account_features, profile_counts, with_counts)

#: Labels that train the classifier as fake (positive) and as real (negative).
POSITIVE_LABELS = ("fake", "bot", "farm")
NEGATIVE_LABELS = ("human",)

#: Format tag and version of a saved model file.
MODEL_FORMAT = "trueclout-authenticity"
MODEL_FORMAT_VERSION = 1

#: Feature groups for which the reasons are worded; others (missing-value indicators)
#: are never a reason.
_SILENT_GROUPS = ("missing",)
#: Feature groups dropped together with the graph in the augmented copy.
_GRAPH_KINDS = ("graph", "activity")
#: Optional profile fields dropped at random in the augmented copy: features, indicator.
_DROPPABLE = {
    "likes": (("log_likes", "likes_per_post", "likes_per_day"), "missing_likes"),
    "listed": (("log_listed", "listed_share", "listed_per_day"), "missing_listed"),
    "age": (("log_age_days", "posts_per_day", "followers_per_day", "following_per_day",
             "likes_per_day", "listed_per_day"), "missing_age"),
    "text": (("has_description", "has_url", "has_location", "completeness",
              "description_length"), "missing_text"),
    "image": (("default_profile_image",), "missing_image"),
}
_DROP_PROBABILITY = 0.25
#: Share of the training weight on the rows as they are; the copies share the rest.
_ORIGINAL_SHARE = 0.5
#: The "later" copy: years added to every account's age; growth of the counts of real
#: accounts (one factor per account); growth of the fakes' counts, per count.
_LATER_YEARS = (0.0, 8.0)
_LATER_REAL_GROWTH = (0.5, 10.0)
_LATER_FAKE_GROWTH = {"followers": (1.0, 30.0), "posts": (1.0, 30.0), "following": (1.0, 3.0)}


def _fmt_int(x: float) -> str:
    return f"{int(round(float(x))):,}"


def _plural(x: float, word: str) -> str:
    return f"{_fmt_int(x)} {word}{'' if int(round(float(x))) == 1 else 's'}"


def _predict_threads():
    """Limit the trees' OpenMP threads while predicting (``classifier_fit_threads``).

    Measured: on two shared cores, per-call thread start-up made many small predictions
    (the reasons) 5 to 50 times slower than one thread.
    """
    import contextlib
    threads = int(config.get("classifier_fit_threads"))
    if threads <= 0:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=threads, user_api="openmp")


def _column_medians(X: np.ndarray) -> np.ndarray:
    """Median of each column over its known values (NaN for an all-unknown column)."""
    out = np.full(X.shape[1], np.nan)
    for j in range(X.shape[1]):
        v = X[:, j]
        v = v[~np.isnan(v)]
        if v.size:
            out[j] = float(np.median(v))
    return out


class AuthenticityClassifier:
    """Calibrated gradient-boosted trees that give P(real) per account.

    Parameters
    ----------
    features : sequence of str, optional
        Names of the feature columns the model learns from; default
        :data:`~trueclout.detect.features.MODEL_FEATURES`. The matrix given to
        :meth:`fit` always holds every column of
        :data:`~trueclout.detect.features.FEATURE_NAMES`.
    calibration : {"isotonic", "sigmoid"}, optional
        Setting ``classifier_calibration`` by default.
    folds : int, optional
        Calibration folds (``classifier_folds``); fewer when a class is smaller.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : optional
        Of the boosted trees (settings ``classifier_*``).
    max_features : float, optional
        Share of the features each split may choose from (``classifier_max_features``);
        below 1 the trees must spread over many features instead of the one that
        separates the training set best.
    monotonic : bool
        Constrain the features that have a direction in the feature table.
    augment : bool
        Train on the missing-view copy too (see the module docstring).
    later : bool
        Train on the "later" copy too (see the module docstring).
    threshold : float, optional
        Authenticity at or below which an account is predicted fake
        (``classifier_threshold``).
    random_state : int

    Attributes
    ----------
    calibrated_ : CalibratedClassifierCV
    features_ : list of str
        Names of the columns used.
    threshold_ : float
    reference_ : dict
        ``real`` and ``fake``: the median training row of each class (all columns).
    n_real_, n_fake_ : int
        Training accounts of each class.
    feature_schema_ : str
        :data:`~trueclout.detect.features.FEATURE_SCHEMA` at training time.

    Examples
    --------
    >>> AuthenticityClassifier(folds=3).get_params()["folds"]
    3
    >>> AuthenticityClassifier().threshold_
    Traceback (most recent call last):
    ...
    trueclout.errors.NotFittedError: AuthenticityClassifier is not fitted yet; call fit first
    """

    def __init__(self, *, features: Sequence[str] | None = None,
                 calibration: str | None = None, folds: int | None = None,
                 max_iter: int | None = None, learning_rate: float | None = None,
                 max_leaf_nodes: int | None = None, min_samples_leaf: int | None = None,
                 max_features: float | None = None, monotonic: bool = True,
                 augment: bool = True, later: bool = True, threshold: float | None = None,
                 random_state: int = 0) -> None:
        self.features = features
        self.calibration = calibration
        self.folds = folds
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.monotonic = monotonic
        self.augment = augment
        self.later = later
        self.threshold = threshold
        self.random_state = random_state

    # -- sklearn plumbing --------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's keyword arguments.

        Examples
        --------
        >>> sorted(AuthenticityClassifier().get_params())[:3]
        ['augment', 'calibration', 'features']
        """
        import inspect
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def set_params(self, **params: Any) -> "AuthenticityClassifier":
        """Set constructor arguments (scikit-learn's ``clone`` uses it).

        Examples
        --------
        >>> AuthenticityClassifier().set_params(folds=4).folds
        4
        """
        for k, v in params.items():
            if k not in self.get_params():
                raise UsageError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v is not None and not (k in ("monotonic", "augment") and v)
                   and not (k == "random_state" and v == 0)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("__"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        raise AttributeError(name)

    def _cfg(self, name: str) -> Any:
        v = getattr(self, name)
        return config.get(f"classifier_{name}") if v is None else v

    # -- fitting -----------------------------------------------------------------------
    def _check_X(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise UsageError(f"expected a matrix of {len(FEATURE_NAMES)} feature columns "
                             f"(account_features), got shape {X.shape}")
        return X

    def _augmented(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        A = X.copy()
        col = {nm: j for j, nm in enumerate(FEATURE_NAMES)}
        for f in FEATURES:
            if f.kind in _GRAPH_KINDS:
                A[:, col[f.name]] = np.nan
        A[:, col["missing_graph"]] = 1.0
        A[:, col["missing_activity"]] = 1.0
        for feats, indicator in _DROPPABLE.values():
            drop = rng.random(len(A)) < _DROP_PROBABILITY
            for nm in feats:
                A[drop, col[nm]] = np.nan
            A[drop, col[indicator]] = 1.0
        return A

    def _later(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The rows as if observed years later: every account is older; real accounts
        grow in proportion (their ratios stay); fakes gain followers and posts faster
        than followings, as fakes sold years later do."""
        c = profile_counts(X)
        n = len(y)
        fake = y == 1
        years = rng.uniform(*_LATER_YEARS, n)

        def grow(lo, hi):
            return np.exp(rng.uniform(np.log(lo), np.log(hi), n))

        common = grow(*_LATER_REAL_GROWTH)
        changes = {"age": c["age"] + 365.25 * years}
        for k in COUNTS:
            changes[k] = (c[k] + 1.0) * common - 1.0
        for k, (lo, hi) in _LATER_FAKE_GROWTH.items():
            changes[k] = np.where(fake, (c[k] + 1.0) * grow(lo, hi) - 1.0, changes[k])
        return with_counts(X, **changes)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "AuthenticityClassifier":
        """Train and calibrate on feature matrix ``X`` and labels ``y`` (1 = fake).

        Parameters
        ----------
        X : array, shape (n, len(FEATURE_NAMES))
            From :func:`~trueclout.detect.features.account_features`.
        y : array of int
            1 for fake (or bot, farm), 0 for real.
        sample_weight : array, optional
            Multiplies the equal-prior class weights.

        Returns
        -------
        self
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.model_selection import StratifiedKFold

        X = self._check_X(X)
        y = np.asarray(y).astype(np.int64).ravel()
        if y.shape[0] != X.shape[0]:
            raise UsageError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        if not np.isin(y, (0, 1)).all():
            raise UsageError("y must hold 0 (real) and 1 (fake) only")
        n_fake, n_real = int((y == 1).sum()), int((y == 0).sum())
        if min(n_fake, n_real) < 2:
            raise UsageError(f"training needs at least 2 real and 2 fake accounts, got "
                             f"{n_real} real and {n_fake} fake")
        feats = list(MODEL_FEATURES if self.features is None else self.features)
        unknown = [f for f in feats if f not in FEATURE_NAMES]
        if unknown:
            raise UsageError(f"unknown features: {', '.join(unknown)}")
        method = self._cfg("calibration")
        if method not in ("isotonic", "sigmoid"):
            raise UsageError(f"calibration must be isotonic or sigmoid, got {method!r}")
        folds = int(min(self._cfg("folds"), n_fake, n_real))
        folds = max(folds, 2)
        # a column never known in training carries nothing (and trips the tree binner)
        feats = [f for f in feats if not np.isnan(X[:, FEATURE_NAMES.index(f)]).all()]
        if not feats:
            raise UsageError("every feature the model would use is unknown in training")
        cols = np.array([FEATURE_NAMES.index(f) for f in feats])
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        w = w * np.where(y == 1, 0.5 / max(w[y == 1].sum(), 1e-12),
                         0.5 / max(w[y == 0].sum(), 1e-12)) * len(y)
        rng = np.random.default_rng(self.random_state)
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        base_splits = list(skf.split(np.zeros(len(y)), y))
        views = [X]
        if self.augment:
            views.append(self._augmented(X, rng))
        if self.later:
            views.append(self._later(X, y, rng))
        k, n = len(views), len(y)
        Xa = np.vstack(views)
        ya = np.tile(y, k)
        share = [1.0] if k == 1 else [_ORIGINAL_SHARE] + [(1 - _ORIGINAL_SHARE) / (k - 1)] * (k - 1)
        wa = np.concatenate([w * s for s in share])
        splits = [(np.concatenate([tr + i * n for i in range(k)]),
                   np.concatenate([te + i * n for i in range(k)])) for tr, te in base_splits]
        direction = {f.name: f.direction for f in FEATURES}
        cst = [-direction[f] if self.monotonic else 0 for f in feats]
        est = HistGradientBoostingClassifier(
            max_iter=int(self._cfg("max_iter")), learning_rate=float(self._cfg("learning_rate")),
            max_leaf_nodes=int(self._cfg("max_leaf_nodes")),
            min_samples_leaf=int(self._cfg("min_samples_leaf")),
            max_features=float(self._cfg("max_features")), monotonic_cst=cst,
            early_stopping=False, random_state=self.random_state)
        cal = CalibratedClassifierCV(estimator=est, method=method, cv=splits, ensemble=True)
        threads = int(config.get("classifier_fit_threads"))
        if threads > 0:
            from threadpoolctl import threadpool_limits
            with threadpool_limits(limits=threads, user_api="openmp"):
                cal.fit(Xa[:, cols], ya, sample_weight=wa)
        else:
            cal.fit(Xa[:, cols], ya, sample_weight=wa)
        self.calibrated_ = cal
        self.features_ = feats
        self.columns_ = cols
        self.threshold_ = float(config.get("classifier_threshold") if self.threshold is None
                                else self.threshold)
        self.reference_ = {"real": _column_medians(X[y == 0]),
                           "fake": _column_medians(X[y == 1])}
        self.n_real_, self.n_fake_ = n_real, n_fake
        self.feature_schema_ = FEATURE_SCHEMA
        self.folds_ = folds
        self.splits_ = base_splits
        return self

    # -- prediction --------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated ``[P(real), P(fake)]`` per row, under equal priors.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> p = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y).predict_proba(X)
        >>> p.shape, bool(np.allclose(p.sum(axis=1), 1))
        ((40, 2), True)
        """
        X = self._check_X(X)
        with _predict_threads():
            p = self.calibrated_.predict_proba(X[:, self.columns_])
        classes = list(self.calibrated_.classes_)
        out = np.empty((X.shape[0], 2))
        out[:, 0] = p[:, classes.index(0)]
        out[:, 1] = p[:, classes.index(1)]
        return out

    def authenticity(self, X: Any) -> np.ndarray:
        """P(real) per row, in [0, 1].

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> a = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y).authenticity(X)
        >>> bool(a[0] > a[-1])
        True
        """
        return np.clip(self.predict_proba(X)[:, 0], 0.0, 1.0)

    def predict(self, X: Any) -> np.ndarray:
        """1 (fake) where authenticity is at or below ``threshold_``, else 0.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> AuthenticityClassifier(max_iter=5, folds=2).fit(X, y).predict(X)[[0, -1]].tolist()
        [0, 1]
        """
        return predicted_fake(self.authenticity(X), self.threshold_).astype(np.int8)

    def decision_function(self, X: Any) -> np.ndarray:
        """Uncalibrated log-odds of fake, averaged over the calibration folds' models.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> d = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y).decision_function(X)
        >>> bool(d[-1] > d[0])
        True
        """
        X = self._check_X(X)
        return self._raw(X[:, self.columns_])

    def _raw(self, Xm: np.ndarray) -> np.ndarray:
        total = np.zeros(Xm.shape[0])
        ccs = self.calibrated_.calibrated_classifiers_
        with _predict_threads():
            for cc in ccs:
                total += cc.estimator.decision_function(Xm)
        return total / len(ccs)

    # -- reasons -----------------------------------------------------------------------
    def contributions(self, X: Any, towards: str = "auto") -> tuple[np.ndarray, list[str]]:
        """Per row and feature group: how much the group pushes the prediction.

        Parameters
        ----------
        X : array
            Feature matrix (all columns).
        towards : {"auto", "fake", "real"}
            ``fake``: log-odds lost when the group takes the median real account's values
            (positive = evidence of fake). ``real``: log-odds gained when it takes the
            median fake's values (positive = evidence of real). ``auto``: ``fake`` for
            rows predicted fake, ``real`` for the others.

        Returns
        -------
        C : array, shape (n, len(groups))
            NaN where the row knows none of the group's features.
        groups : list of str

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y)
        >>> C, groups = clf.contributions(X[-1:])
        >>> groups[int(np.nanargmax(C[0]))]
        'follow_ratio'
        """
        X = self._check_X(X)
        feats = self.features_
        group_of = {f.name: f.group for f in FEATURES}
        groups: list[str] = []
        for f in feats:
            g = group_of[f]
            if g not in groups and g not in _SILENT_GROUPS:
                groups.append(g)
        Xm = X[:, self.columns_]
        base = self._raw(Xm)
        if towards == "auto":
            fake = predicted_fake(self.authenticity(X), self.threshold_)
        elif towards in ("fake", "real"):
            fake = np.full(X.shape[0], towards == "fake")
        else:
            raise UsageError(f"towards must be auto, fake or real, got {towards!r}")
        ref_real = self.reference_["real"][self.columns_]
        ref_fake = self.reference_["fake"][self.columns_]
        C = np.full((X.shape[0], len(groups)), np.nan)
        # every group's replacement in one matrix, so the trees run once over all of them
        parts, where = [], []
        for gi, g in enumerate(groups):
            js = [j for j, f in enumerate(feats) if group_of[f] == g]
            known = ~np.isnan(Xm[:, js]).all(axis=1)
            if not known.any():
                continue
            alt = Xm[known].copy()
            fk = fake[known]
            for j in js:
                alt[:, j] = np.where(fk, ref_real[j], ref_fake[j])
            parts.append(alt)
            where.append((gi, known))
        if parts:
            raw = self._raw(np.concatenate(parts))
            at = 0
            for gi, known in where:
                k = int(known.sum())
                delta = raw[at:at + k] - base[known]
                at += k
                C[known, gi] = np.where(fake[known], -delta, delta)
        return C, groups

    def explain(self, X: Any, top: int = 3, towards: str = "auto") -> list[list[str]]:
        """The ``top`` reasons per row, in plain words, strongest first.

        Reasons point the way of the prediction (``towards="auto"``): why an account
        looks fake, or why it looks real. See :meth:`contributions` for the method.

        Returns
        -------
        list of list of str
            At least one reason per row.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y)
        >>> clf.explain(X[-1:])[0][0]
        'follows 344 accounts but has 17 followers (ratio 0.05)'
        """
        X = self._check_X(X)
        C, groups = self.contributions(X, towards=towards)
        if towards == "auto":
            fake = predicted_fake(self.authenticity(X), self.threshold_)
        else:
            fake = np.full(X.shape[0], towards == "fake")
        col = {nm: j for j, nm in enumerate(FEATURE_NAMES)}
        out: list[list[str]] = []
        Cz = np.where(np.isnan(C), -np.inf, C)
        order = np.argsort(-Cz, axis=1, kind="stable")[:, :max(top, 1)]
        for i in range(X.shape[0]):
            row = X[i]
            reasons: list[str] = []
            for gi in order[i]:
                if not Cz[i, gi] > 1e-6:
                    break
                text = _phrase(groups[gi], row, col, bool(fake[i]))
                if text and text not in reasons:
                    reasons.append(text)
            if not reasons:
                reasons.append("its profile as a whole resembles bought or automated accounts"
                               if fake[i] else
                               "its profile as a whole resembles genuine accounts")
            out.append(reasons[:top])
        return out

    # -- persistence -------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` (joblib), stamped with its feature schema.

        Only load model files you trust: they are pickles.

        Examples
        --------
        >>> import os, tempfile
        >>> AuthenticityClassifier().save(os.path.join(tempfile.mkdtemp(), "m.joblib"))
        Traceback (most recent call last):
        ...
        trueclout.errors.NotFittedError: AuthenticityClassifier is not fitted yet; call fit first
        """
        import joblib
        import sklearn

        self.calibrated_  # raises NotFittedError before fit
        payload = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
                   "feature_schema": self.feature_schema_, "features": list(FEATURE_NAMES),
                   "trueclout": __version__, "sklearn": sklearn.__version__,
                   "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "model": self}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump(payload, tmp, compress=3)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AuthenticityClassifier":
        """Read a model written by :meth:`save`; refuse one of another feature schema.

        Examples
        --------
        >>> AuthenticityClassifier.load("/nonexistent/model.joblib")
        Traceback (most recent call last):
        ...
        trueclout.errors.InputError: /nonexistent/model.joblib: no such model file
        """
        import joblib

        p = Path(path)
        if not p.is_file():
            raise InputError("no such model file", path=str(p))
        try:
            payload = joblib.load(p)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is bad input
            raise InputError(f"not a trueclout model file ({type(exc).__name__}: {exc})",
                             path=str(p)) from exc
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise InputError("not a trueclout authenticity model file", path=str(p))
        if payload.get("format_version") != MODEL_FORMAT_VERSION:
            raise InputError(f"model file format version {payload.get('format_version')} is "
                             f"not {MODEL_FORMAT_VERSION}; retrain with this trueclout",
                             path=str(p))
        if payload.get("feature_schema") != FEATURE_SCHEMA:
            raise InputError(
                f"model was trained on feature schema {payload.get('feature_schema')} "
                f"(trueclout {payload.get('trueclout')}), this trueclout computes "
                f"{FEATURE_SCHEMA}; retrain it with `trueclout train`", path=str(p))
        model = payload["model"]
        if not isinstance(model, cls):
            raise InputError("model file holds no AuthenticityClassifier", path=str(p))
        return model


#: The reason given for an account the classifier does not judge.
NO_PROFILE_REASON = "no profile data: the classifier does not judge it"


def judgeable(X: np.ndarray) -> np.ndarray:
    """Rows with at least one known profile feature (count, age, text or avatar).

    The classifier judges profiles; graph features only add to them. An account known
    only from follows (an edge list such as SNAP ego-Twitter) gets no verdict from it:
    on a sampled graph, few followers and no follow-back are no sign of a fake.

    Examples
    --------
    >>> X = np.full((2, len(FEATURE_NAMES)), np.nan, np.float32)
    >>> X[0, FEATURE_NAMES.index("has_url")] = 1.0
    >>> judgeable(X).tolist()
    [True, False]
    """
    cols = [j for j, f in enumerate(FEATURES) if f.kind in ("profile", "text")]
    return ~np.isnan(np.asarray(X)[:, cols]).all(axis=1)


def toy_training_set() -> tuple[np.ndarray, np.ndarray]:
    """A toy training set for examples: 20 real accounts (200 followers, 344 following,
    a URL) and 20 bought followers (17 followers, 344 following, no URL); y = 1 for fake.

    Examples
    --------
    >>> X, y = toy_training_set()
    >>> X.shape[0], int(y.sum())
    (40, 20)
    """
    from .features import with_counts

    y = np.r_[np.zeros(20, np.int64), np.ones(20, np.int64)]
    X = np.zeros((40, len(FEATURE_NAMES)), np.float32)
    X[:, FEATURE_NAMES.index("has_url")] = 1.0 - y
    X[:, FEATURE_NAMES.index("log_age_days")] = np.log1p(1000.0)
    X = with_counts(X, followers=np.where(y == 1, 17.0, 200.0), following=np.full(40, 344.0))
    return X, y


def prior_threshold(threshold: float, prior: float | None) -> float:
    """The equal-prior authenticity threshold that flags the same accounts as
    ``threshold`` on the posterior P(real) in a population with a share ``prior`` of fakes.

    An account of equal-prior authenticity ``a`` has posterior P(real) =
    ``a(1-prior) / (a(1-prior) + (1-a)prior)``; it is at most ``t`` exactly when
    ``a <= t prior / (t prior + (1-t)(1-prior))``.

    Examples
    --------
    >>> prior_threshold(0.5, None), prior_threshold(0.5, 0.1)
    (0.5, 0.1)
    >>> round(prior_threshold(0.3, 0.5), 6)
    0.3
    """
    if prior is None:
        return float(threshold)
    p = float(prior)
    if not 0.0 < p < 1.0:
        raise UsageError(f"prior must be within (0, 1), got {prior}")
    t = float(threshold)
    return t * p / (t * p + (1.0 - t) * (1.0 - p))


def predicted_fake(authenticity: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean: authenticity at or below ``threshold`` (the same rule as the detector's
    ``labels_``, which flags ``1 - authenticity >= 1 - threshold``).

    Examples
    --------
    >>> predicted_fake(np.array([0.2, 0.5, 0.9]), 0.5).tolist()
    [True, True, False]
    """
    a = np.asarray(authenticity, dtype=np.float64)
    return (1.0 - a) >= (1.0 - float(threshold))


# -- wording ------------------------------------------------------------------------------
def _v(row: np.ndarray, col: dict[str, int], name: str) -> float:
    return float(row[col[name]])


def _count_of(row, col, name) -> float:
    return float(np.expm1(_v(row, col, name)))


def _phrase(group: str, row: np.ndarray, col: dict[str, int], fake: bool) -> str:
    """Plain words for one feature group of one account, from its own values."""
    nan = np.isnan
    if group == "follow_ratio":
        fr, fo = _count_of(row, col, "log_followers"), _count_of(row, col, "log_following")
        if nan(fr) or nan(fo):
            return ""
        ratio = (fr + 0.0) / max(fo, 1.0)
        if fo > fr:
            return (f"follows {_plural(fo, 'account')} but has {_plural(fr, 'follower')} "
                    f"(ratio {ratio:.2f})")
        return (f"has {_plural(fr, 'follower')} and follows {_plural(fo, 'account')} "
                f"(ratio {ratio:.1f})")
    if group == "posts":
        posts = _count_of(row, col, "log_posts")
        rate = _count_of(row, col, "posts_per_day")
        if nan(posts):
            return ""
        if nan(rate):
            return f"has posted {_plural(posts, 'time')}"
        return f"has posted {_plural(posts, 'time')} ({rate:.2f} a day)"
    if group == "likes":
        likes, posts = _count_of(row, col, "log_likes"), _count_of(row, col, "log_posts")
        if nan(likes):
            return ""
        if likes < 0.5:
            return "has never liked a post"
        if not nan(posts):
            return f"has liked {_plural(likes, 'post')} and written {_fmt_int(posts)}"
        return f"has liked {_plural(likes, 'post')}"
    if group == "listed":
        listed, fr = _count_of(row, col, "log_listed"), _count_of(row, col, "log_followers")
        if nan(listed):
            return ""
        if listed < 0.5:
            return ("is on nobody's lists" if nan(fr) else
                    f"is on nobody's lists despite {_plural(fr, 'follower')}")
        return f"is on {_plural(listed, 'list')}"
    if group == "age":
        age = _count_of(row, col, "log_age_days")
        if nan(age):
            return ""
        return f"account is {_plural(age, 'day')} old"
    if group == "description":
        has = _v(row, col, "has_description")
        if nan(has):
            return ""
        if has < 0.5:
            return "no description"
        parts = []
        if _v(row, col, "has_url") < 0.5:
            parts.append("no link")
        if _v(row, col, "has_location") < 0.5:
            parts.append("no location")
        length = _v(row, col, "description_length")
        text = f"description of {_fmt_int(length)} characters"
        if fake and parts:
            return f"{text}, {' and '.join(parts)}"
        return text
    if group == "url":
        has = _v(row, col, "has_url")
        if nan(has):
            return ""
        return "no link in the profile" if has < 0.5 else "links a website in the profile"
    if group == "location":
        has = _v(row, col, "has_location")
        if nan(has):
            return ""
        return "no location in the profile" if has < 0.5 else "gives a location"
    if group == "image":
        v = _v(row, col, "default_profile_image")
        if nan(v):
            return ""
        return "keeps the default profile image" if v > 0.5 else "has its own profile image"
    if group == "name":
        has = _v(row, col, "has_name")
        if nan(has):
            return ""
        if has < 0.5:
            return "no display name"
        d = _v(row, col, "name_digits")
        if d >= 1:
            return f"display name has {_plural(d, 'digit')}"
        w = _v(row, col, "name_words")
        return (f"display name of {_fmt_int(w)} word{'s' if w != 1 else ''}, "
                f"{_fmt_int(_v(row, col, 'name_length'))} characters")
    if group == "handle":
        length = _v(row, col, "handle_length")
        if nan(length):
            return ""
        d, u = _v(row, col, "handle_digits"), _v(row, col, "handle_upper")
        us = _v(row, col, "handle_underscore")
        if d >= 1:
            return f"handle has {_fmt_int(d)} digit{'s' if d != 1 else ''}"
        if u < 0.5 and us < 0.5:
            return f"handle is {_fmt_int(length)} lower-case letters"
        bits = []
        if u >= 0.5:
            bits.append(f"{_fmt_int(u)} capital{'s' if u != 1 else ''}")
        if us >= 0.5:
            bits.append(f"{_fmt_int(us)} underscore{'s' if us != 1 else ''}")
        return f"handle has {' and '.join(bits)}"
    if group == "graph_degree":
        i, o = _count_of(row, col, "graph_log_in_degree"), _count_of(row, col,
                                                                     "graph_log_out_degree")
        if nan(i):
            return ""
        return (f"in the follow graph it follows {_plural(o, 'account')} and has "
                f"{_plural(i, 'follower')}")
    if group == "reciprocity":
        r = _v(row, col, "graph_reciprocity")
        if nan(r):
            return ""
        if r <= 0:
            return "none of the accounts it follows follows it back"
        return f"{r:.0%} of the accounts it follows follow it back"
    if group == "burst":
        b_in, b_out = _v(row, col, "graph_in_burst"), _v(row, col, "graph_out_burst")
        if not nan(b_out) and (nan(b_in) or b_out >= b_in):
            return f"made up to {b_out:.0%} of its follows within one day"
        if not nan(b_in):
            return f"gained up to {b_in:.0%} of its followers within one day"
        return ""
    if group == "followees":
        s = _v(row, col, "graph_followee_suspicious")
        if nan(s):
            return ""
        ratio = config.get("detect_suspicious_ratio")
        return (f"{s:.0%} of the accounts it follows follow over {ratio:g} times as many "
                f"as follow them")
    if group == "churn":
        s = _v(row, col, "graph_unfollow_share")
        if nan(s):
            return ""
        return (f"unfollowed {s:.0%} of the accounts it had followed" if s > 0
                else "never unfollowed anyone")
    if group == "activity":
        t = _v(row, col, "activity_tagged_share")
        r = _count_of(row, col, "activity_posts_per_day")
        if nan(r):
            return ""
        if r <= 0:
            return "wrote no posts in the period observed"
        text = f"wrote {r:.2f} posts a day in the period observed"
        if not nan(t):
            text += f", {t:.0%} with hashtags or mentions"
        return text
    return ""


# -- training and detection on a store ---------------------------------------------------
def training_labels(store, data: DetectionData,
                    label_sources: Iterable[str] | None = None) -> tuple[np.ndarray,
                                                                         np.ndarray, dict]:
    """Vertices with a training label and their class (1 = fake) from the labels table.

    Positives carry ``fake``, ``bot`` or ``farm``; negatives carry ``human``; role labels
    of the simulator (customer, fast_growth, pod) count only through ``human``. An
    account labelled both human and fake (conflicting sources) is left out.

    Returns
    -------
    vertices, y, counts

    Examples
    --------
    >>> from trueclout.store import Store
    >>> from trueclout.detect.data import DetectionData
    >>> s = Store(":memory:")
    >>> v, y, c = training_labels(s, DetectionData.from_store(s))
    >>> len(v), c["conflicting"]
    (0, 0)
    """
    lt = store.label_table()
    if label_sources:
        wanted = set(label_sources)
        keep = np.array([s in wanted for s in lt.column("source").to_pylist()], dtype=bool)
        lt = lt.filter(pa.array(keep))
    v = data.graph.vertices_of_uids(lt.column("uid").to_numpy()) if lt.num_rows else \
        np.zeros(0, np.int32)
    lab = np.asarray(lt.column("label").to_pylist(), dtype=object)
    pos = np.zeros(data.n, bool)
    neg = np.zeros(data.n, bool)
    ok = v >= 0
    pos[v[ok & np.isin(lab, POSITIVE_LABELS)]] = True
    neg[v[ok & np.isin(lab, NEGATIVE_LABELS)]] = True
    both = pos & neg
    verts = np.flatnonzero((pos | neg) & ~both)
    y = pos[verts].astype(np.int64)
    counts = {"fake": int(y.sum()), "real": int((y == 0).sum()),
              "conflicting": int(both.sum())}
    return verts, y, counts


def train_model(store, label_sources: Iterable[str] | None = None,
                model_out: str | os.PathLike | None = None, *,
                data: DetectionData | None = None,
                **params: Any) -> tuple[AuthenticityClassifier, dict]:
    """Train the classifier on the store's ``labels`` table (``trueclout train``).

    Parameters
    ----------
    store : trueclout.store.Store
    label_sources : iterable of str, optional
        Use only labels of these sources (the ``source`` column); all by default.
    model_out : path, optional
        Where to save the model.
    data : DetectionData, optional
        Already read from ``store``.
    **params
        Passed to :class:`AuthenticityClassifier`.

    Returns
    -------
    model : AuthenticityClassifier
    report : dict
        ``accounts`` (real, fake, conflicting), ``sources``, ``features``,
        ``threshold``, ``cv`` (out-of-fold AUC and MCC of the calibration folds),
        ``feature_schema``, ``seconds`` and ``model_out``.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> train_model(Store(":memory:"))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: training needs at least 2 real and 2 fake accounts, got 0 real and 0 fake
    """
    t0 = time.perf_counter()
    if data is None:
        data = DetectionData.from_store(store)
    verts, y, counts = training_labels(store, data, label_sources)
    if min(counts["fake"], counts["real"]) < 2:
        raise UsageError(f"training needs at least 2 real and 2 fake accounts, got "
                         f"{counts['real']} real and {counts['fake']} fake")
    X, _ = account_features(data)
    X = X[verts]
    model = AuthenticityClassifier(**params).fit(X, y)
    report = {"accounts": counts,
              "sources": sorted(set(label_sources)) if label_sources else "all",
              "features": list(model.features_), "threshold": model.threshold_,
              "feature_schema": model.feature_schema_, "cv": out_of_fold(model, X, y),
              "seconds": round(time.perf_counter() - t0, 2), "model_out": None}
    if model_out is not None:
        model.save(model_out)
        report["model_out"] = str(model_out)
    return model, report


def out_of_fold(model: AuthenticityClassifier, X: np.ndarray, y: np.ndarray) -> dict:
    """AUC, MCC and F1 of each calibration fold's model on its own held-out fold.

    The fold's calibrator was fitted on that fold, so the MCC is a little optimistic;
    the AUC (of the uncalibrated scores) is not.

    Examples
    --------
    >>> import numpy as np
    >>> from trueclout.detect.features import FEATURE_NAMES
    >>> X, y = toy_training_set()
    >>> m = AuthenticityClassifier(max_iter=5, folds=2).fit(X, y)
    >>> out_of_fold(m, X, y)["auc"]
    1.0
    """
    from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score

    raw = np.zeros(len(y))
    auth = np.zeros(len(y))
    Xm = np.asarray(X, np.float32)[:, model.columns_]
    for (tr, te), cc in zip(model.splits_, model.calibrated_.calibrated_classifiers_):
        raw[te] = cc.estimator.decision_function(Xm[te])
        p = cc.predict_proba(Xm[te])
        auth[te] = p[:, list(model.calibrated_.classes_).index(0)]
    pred = predicted_fake(auth, model.threshold_).astype(int)
    return {"auc": round(float(roc_auc_score(y, raw)), 4),
            "mcc": round(float(matthews_corrcoef(y, pred)), 4),
            "f1": round(float(f1_score(y, pred)), 4), "folds": model.folds_}


def _resolve_model(model: AuthenticityClassifier | str | os.PathLike | None
                   ) -> AuthenticityClassifier:
    if model is None:
        return default_model()
    if isinstance(model, AuthenticityClassifier):
        model.calibrated_  # NotFittedError when unfitted
        return model
    return AuthenticityClassifier.load(model)


def detect_accounts(store, model: AuthenticityClassifier | str | os.PathLike | None = None,
                    *, data: DetectionData | None = None,
                    reasons: str = "flagged") -> pa.Table:
    """Score every account of ``store`` (``trueclout detect``).

    Parameters
    ----------
    store : trueclout.store.Store
    model : AuthenticityClassifier or path, optional
        Default: :func:`default_model`, trained on the simulator's ground truth.
    data : DetectionData, optional
        Already read from ``store``.
    reasons : {"flagged", "all", "none"}
        Which accounts get their top three reasons (others get empty strings). Reasons
        cost about one model evaluation per feature group and account.

    Returns
    -------
    pyarrow.Table
        ``platform, account_id, authenticity, predicted_label`` ("real" or "fake") and
        ``reason_1, reason_2, reason_3``, one row per account in vertex order. An account
        without any profile field (see :func:`judgeable`) has a null authenticity, the
        label "unknown" and :data:`NO_PROFILE_REASON`: the graph detectors judge it.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> import numpy as np
    >>> from trueclout.detect.features import FEATURE_NAMES
    >>> m = AuthenticityClassifier(max_iter=5, folds=2).fit(*toy_training_set())
    >>> detect_accounts(Store(":memory:"), m).column_names
    ['platform', 'account_id', 'authenticity', 'predicted_label', 'reason_1', 'reason_2', 'reason_3']
    """
    if reasons not in ("flagged", "all", "none"):
        raise UsageError(f"reasons must be flagged, all or none, got {reasons!r}")
    clf = _resolve_model(model)
    if data is None:
        data = DetectionData.from_store(store)
    X, _ = account_features(data)
    n = data.n
    auth = clf.authenticity(X) if n else np.zeros(0)
    ok = judgeable(X)
    fake = predicted_fake(auth, clf.threshold_) & ok
    rs = [np.full(n, "", dtype=object) for _ in range(3)]
    rs[0][~ok] = NO_PROFILE_REASON
    idx = {"flagged": np.flatnonzero(fake), "all": np.flatnonzero(ok),
           "none": np.zeros(0, np.int64)}[reasons]
    chunk = 100_000
    for a in range(0, len(idx), chunk):
        part = idx[a:a + chunk]
        for i, r in zip(part, clf.explain(X[part], top=3)):
            for k, text in enumerate(r[:3]):
                rs[k][i] = text
    names = data.graph.names
    return pa.table({
        "platform": names.column("platform").cast(pa.string()),
        "account_id": names.column("account_id"),
        "authenticity": pa.array(auth, pa.float64(), mask=~ok),
        "predicted_label": pa.array(np.where(~ok, "unknown", np.where(fake, "fake", "real")
                                             ).astype(object), pa.string()),
        "reason_1": pa.array(rs[0], pa.string()), "reason_2": pa.array(rs[1], pa.string()),
        "reason_3": pa.array(rs[2], pa.string()),
    })


# -- the default model -------------------------------------------------------------------
def _cache_dir() -> Path:
    c = config.get("cache")
    return Path(c) if c else Path.home() / ".cache" / "trueclout"


def default_model_key() -> str:
    """The cache key of the default model: code version, feature schema, scikit-learn
    version, the source of this stage and of the simulator, and the settings used.

    Examples
    --------
    >>> len(default_model_key())
    16
    """
    import sklearn

    h = hashlib.sha256()
    for part in (__version__, FEATURE_SCHEMA, sklearn.__version__, str(MODEL_FORMAT_VERSION)):
        h.update(part.encode())
    here = Path(__file__).resolve().parent
    files = [here / "features.py", here / "classifier.py", here / "data.py",
             *sorted((here.parent / "simulate").glob("*.py"))]
    for f in files:
        if f.is_file():
            h.update(f.read_bytes())
    for name in sorted(config.SETTINGS):
        if name.startswith(("classifier_", "default_model_", "detect_")):
            h.update(f"{name}={config.get(name)!r}".encode())
    return h.hexdigest()[:16]


def default_model(*, retrain: bool = False, progress=None) -> AuthenticityClassifier:
    """The classifier trained on the simulator's ground truth, cached per code version.

    The platforms of :data:`DEFAULT_PLATFORMS` (``default_model_accounts`` accounts in
    all, seeds from ``default_model_seed``, a share ``default_model_fraud_share`` of
    fraudulent accounts) are simulated into a temporary folder, ingested into in-memory
    stores and trained on (:func:`default_training_data`); the model is cached under
    ``$TRUECLOUT_CACHE`` (default ``~/.cache/trueclout``) as
    ``authenticity-<key>.joblib``, where the key changes with the code.

    Examples
    --------
    >>> m = default_model()  # doctest: +SKIP
    >>> m.n_fake_ > 1000  # doctest: +SKIP
    True
    """
    path = _cache_dir() / f"authenticity-{default_model_key()}.joblib"
    if path.is_file() and not retrain:
        try:
            return AuthenticityClassifier.load(path)
        except InputError:
            pass  # a broken or stale cache file: train again
    model, _ = train_default(progress=progress)
    try:
        model.save(path)
    except OSError:
        pass  # a read-only cache still gives a working model
    return model


#: The simulated platforms of the default model: one of each kind of bought follower
#: and of human population (simulator parameters; each gets its own seed). Training on
#: several kinds keeps the model from learning one seller's look (see the README).
DEFAULT_PLATFORMS: tuple[tuple[str, dict[str, Any]], ...] = (
    # INT-like fakes (the simulator's defaults, calibrated on Cresci 2015): 344
    # following, 18 followers
    ("int-like", {}),
    # near-empty fakes (INT's low tail: under 40 following, no followers) among many
    # young humans, so that "new and small" alone is no evidence
    ("small-fakes", {"fake_following": 4.0, "fake_followers": 0.3,
                     "new_account_share": 0.3}),
    # large fakes (about 900 following, 200 followers) among many inactive humans
    ("large-fakes", {"fake_following": 120.0, "fake_followers": 20.0,
                     "inactive_share": 0.5}),
    # egg-avatar fakes with heavy camouflage (half keep the default image, as many of
    # Cresci's FSF and TWT fakes do)
    ("egg-fakes", {"fake_following": 15.0, "fake_followers": 5.0,
                   "fake_default_image_share": 0.5, "camouflage_ratio": 3.0}),
)


def default_training_data(accounts: int | None = None, seed: int | None = None,
                          fraud_share: float | None = None,
                          platforms: Sequence[tuple[str, dict[str, Any]]] = DEFAULT_PLATFORMS,
                          progress=None) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Simulate the default model's training platforms; return features and classes.

    Each platform ``(name, simulator parameters)`` of ``platforms`` gets
    ``accounts / len(platforms)`` accounts, seed ``seed + i`` and ``fraud_share``; it
    is simulated into a temporary folder and ingested into its own in-memory store
    (the platforms' account ids overlap).

    Returns
    -------
    X : float32 array
        Features of the labelled accounts of every platform, stacked.
    y : int array
        1 = fake or farm, 0 = human.
    info : list of dict
        Per platform: its name, parameters and class counts.

    Examples
    --------
    >>> X, y, info = default_training_data(accounts=2000, platforms=[("plain", {})])
    >>> X.shape[0] == len(y), info[0]["fake"] > 50
    (True, True)
    """
    from ..ingest.run import ingest
    from ..simulate import simulate
    from ..store import Store

    total = int(accounts or config.get("default_model_accounts"))
    seed0 = int(config.get("default_model_seed") if seed is None else seed)
    share = float(config.get("default_model_fraud_share") if fraud_share is None
                  else fraud_share)
    Xs, ys, info = [], [], []
    with tempfile.TemporaryDirectory(prefix="trueclout-train-") as tmp:
        for i, (name, params) in enumerate(platforms):
            out = Path(tmp) / f"platform{i}"
            each = max(2, total // max(1, len(platforms)))
            simulate(out, accounts=each, seed=seed0 + i, fraud_share=share, **params)
            if progress is not None:
                progress("simulate", i + 1, len(platforms))
            with Store(":memory:") as store:
                ingest(store, [out])
                data = DetectionData.from_store(store)
                verts, y, counts = training_labels(store, data)
            X, _ = account_features(data)
            Xs.append(X[verts])
            ys.append(y)
            info.append({"name": name, "accounts": each, "seed": seed0 + i,
                         "fraud_share": share, "params": dict(params), **counts})
    return np.vstack(Xs), np.concatenate(ys), info


def train_default(progress=None, **params: Any) -> tuple[AuthenticityClassifier, dict]:
    """Simulate the default training platforms and train on them (uncached).

    Returns
    -------
    model, report

    Examples
    --------
    >>> m, r = train_default()  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    X, y, info = default_training_data(progress=progress)
    model = AuthenticityClassifier(**params).fit(X, y)
    report = {"accounts": {"fake": int(y.sum()), "real": int((y == 0).sum())},
              "trained_on": {"simulator": info}, "features": list(model.features_),
              "threshold": model.threshold_, "feature_schema": model.feature_schema_,
              "cv": out_of_fold(model, X, y),
              "seconds": round(time.perf_counter() - t0, 2)}
    return model, report


class SupervisedDetector(BaseDetector):
    """The classifier as a detector over a whole :class:`DetectionData`.

    Sets ``authenticity_`` (P(real)), ``decision_scores_ = 1 - authenticity_``,
    ``features_`` (the feature matrix), ``judged_`` and ``model_``; the flag threshold is
    ``1 - model.threshold_`` unless ``threshold`` is given. Accounts without any profile
    field (``judged_`` False, see :func:`judgeable`) score 0 (no evidence) and have a NaN
    ``authenticity_``: the graph detectors judge them.

    Parameters
    ----------
    model : AuthenticityClassifier or path, optional
        Default: :func:`default_model`.
    prior : float, optional
        Expected share of fake accounts in the data. Authenticity is P(real) under equal
        priors; with ``prior`` an account is flagged only when it is more likely fake than
        real in a population with that share of fakes (for the model's threshold 0.5:
        authenticity at or below ``prior``). None: equal priors. On a whole platform, where
        fakes are a minority, about 0.1 (Varol et al. 2017 estimated 9-15% of active
        Twitter accounts to be bots) flags far fewer ordinary small accounts.
    threshold : float, optional
        On ``decision_scores_`` (1 - authenticity); overrides ``prior``.

    Examples
    --------
    >>> import numpy as np
    >>> import pyarrow as pa
    >>> from trueclout.graph.toy import toy_graph
    >>> m = AuthenticityClassifier(max_iter=5, folds=2).fit(*toy_training_set())
    >>> prof = pa.table({"followers_count": [20, 10, 500, 1, 30, 25],
    ...                  "following_count": [30, 12, 80, 344, 40, 20],
    ...                  "url": ["https://a.example", "https://b.example",
    ...                          "https://c.example", None, "https://e.example",
    ...                          "https://f.example"]})
    >>> d = SupervisedDetector(model=m).fit(DetectionData.from_graph(toy_graph(), prof))
    >>> d.labels_.tolist()
    [0, 0, 0, 1, 0, 0]
    >>> d.reasons_[3]
    'follows 344 accounts but has 1 follower (ratio 0.00); no link in the profile'
    """

    default_threshold = 0.5

    def __init__(self, *, model: AuthenticityClassifier | str | os.PathLike | None = None,
                 prior: float | None = None, threshold: float | None = None) -> None:
        self.model = model
        self.prior = prior
        self.threshold = threshold

    def _fit(self, data: DetectionData) -> None:
        if not isinstance(data, DetectionData):
            raise UsageError("SupervisedDetector.fit takes a DetectionData")
        clf = _resolve_model(self.model)
        X, _ = account_features(data)
        auth = clf.authenticity(X) if data.n else np.zeros(0)
        ok = judgeable(X)
        self.model_ = clf
        self.features_ = X
        self.judged_ = ok
        self.authenticity_ = np.where(ok, auth, np.nan)
        self.decision_scores_ = np.where(ok, 1.0 - auth, 0.0)
        self.default_threshold = 1.0 - prior_threshold(clf.threshold_, self.prior)

    def _reasons(self, indices: np.ndarray) -> list[str]:
        # in chunks: the explanation holds rows × feature groups × ... at once, which
        # at a million flagged accounts would take gigabytes
        out: list[str] = []
        step = 20_000
        for a in range(0, len(indices), step):
            part = self.model_.explain(self.features_[indices[a:a + step]], top=3,
                                       towards="fake")
            out.extend("; ".join(r) for r in part)
        return out


__all__ = ["AuthenticityClassifier", "SupervisedDetector", "train_model", "detect_accounts",
           "default_model", "train_default", "default_model_key", "default_training_data",
           "DEFAULT_PLATFORMS", "training_labels",
           "out_of_fold", "predicted_fake", "prior_threshold", "judgeable", "toy_training_set", "POSITIVE_LABELS",
           "NEGATIVE_LABELS", "NO_PROFILE_REASON"]
