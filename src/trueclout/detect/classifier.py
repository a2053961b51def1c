"""The supervised authenticity classifier: calibrated P(real) per account, with reasons.

:class:`AuthenticityClassifier` keeps one model per field set
(:mod:`trueclout.detect.fieldsets`): gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, stored as :class:`~trueclout.detect.trees.TreeEnsemble`
arrays) over the profile features that the field set's fields give, then a Platt
sigmoid that turns their raw score into P(fake). Each account is decided by the first
field set whose required features it knows, so a missing field is never evidence.

Choices that make it hold on sources it never saw (see ``detect/README.md``):

* **Calibrated on held-out sources.** When the training rows come from several labelled
  sources, the sigmoid is fitted to *out-of-source* scores: each source's rows are
  scored by trees trained without that source (leave-one-source-out; Hays et al. 2023
  show why in-set accuracy says little), with a slope shared by the sources and the
  mean of their own intercepts (:func:`fit_sigmoid`). Authenticity is then a
  probability for a source the model has not seen. The same held-out scores give each field set's
  measured error rates (sensitivity and specificity at the threshold, with counts),
  which the audit uses to correct its fake shares (Rogan and Gladen 1978).
* **Equal priors, balanced sources.** Both classes carry the same total weight, so
  authenticity is a function of the likelihood ratio and the threshold
  (``classifier_threshold``: 0.3, flag at P(fake) >= 0.7) does not depend on a training
  set's share of fakes. Within a class, each source's weight grows
  with the square root of its size (``classifier_source_weighting``), so 17,882 porn
  bots do not drown 469 verified volunteers.
* **Monotonic constraints** from the feature table's ``direction``: more followers per
  following, a description, a URL, a private account can never make an account look more
  fake; the default avatar never more real.
* **Optional fields removed at random** in a copy of every row, block by block, so the
  model works without them and their absence says nothing.
* **Abstaining.** A profile whose features fall outside what the field set's model was
  trained on (``classifier_ood_features`` or more features beyond the training range,
  in a direction the trees cannot extrapolate) is ``uncertain``: a third verdict with
  its reason, not a confident call.

Reasons (:meth:`AuthenticityClassifier.explain`) come by *group replacement*: each
feature group is set to the median training human's values (for an account predicted
fake) or the median fake's (for one predicted real); the change in raw score is the
group's contribution, and the strongest groups are worded from the account's own
values (:mod:`trueclout.detect.reasons`).

Examples
--------
>>> X, y = toy_training_set()        # 20 real accounts, then 20 bought followers
>>> clf = AuthenticityClassifier(max_iter=20).fit(X, y)
>>> a = clf.authenticity(X)
>>> bool(a[:20].min() > 0.5 and a[20:].max() < 0.5)
True
>>> clf.explain(X[-1:])[0][0]
'follows 344 accounts but has 17 followers (ratio 0.05)'
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import __version__, config
from ..errors import InputError, UsageError
from ..base import Estimator
from .features import FEATURE_NAMES, FEATURE_SCHEMA, FEATURES, with_counts
from .fieldsets import BY_NAME, FIELD_SETS, FieldSet, choose_field_sets
from .reasons import phrase
from .trees import TreeEnsemble

#: Labels that train the classifier as fake (positive) and as real (negative).
POSITIVE_LABELS = ("fake", "bot", "farm")
NEGATIVE_LABELS = ("human",)

#: Format tag and version of a saved model file.
MODEL_FORMAT = "trueclout-authenticity"
MODEL_FORMAT_VERSION = 2

#: The classifier's verdicts.
VERDICTS = ("real", "fake", "uncertain")

#: Feature groups never given as a reason.
_SILENT_GROUPS = ("missing",)
#: Share of the training weight on the rows as they are; the masked copy has the rest.
_ORIGINAL_SHARE = 0.5
#: Quantiles of the training values that bound a field set's known range.
_RANGE_QUANTILES = (0.001, 0.999)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _column_medians(X: np.ndarray) -> np.ndarray:
    """Median of each column over its known values (NaN for an all-unknown column)."""
    out = np.full(X.shape[1], np.nan)
    for j in range(X.shape[1]):
        v = X[:, j]
        v = v[~np.isnan(v)]
        if v.size:
            out[j] = float(np.median(v))
    return out


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


def source_weights(home: np.ndarray, y: np.ndarray, scheme: str = "sqrt") -> np.ndarray:
    """Training weights: classes weigh the same in all; within a class, a source of
    ``k`` rows weighs ``k`` (``none``), ``sqrt(k)`` (``sqrt``) or 1 (``equal``).

    Parameters
    ----------
    home : array
        Each row's source (any hashable labels).
    y : array of int
        1 fake, 0 real.
    scheme : {"sqrt", "equal", "none"}

    Examples
    --------
    >>> w = source_weights(np.array(["a"] * 9 + ["b"]), np.zeros(10, int), "sqrt")
    >>> round(float(w[:9].sum() / w[9]), 1)  # 9 rows of a weigh sqrt(9) = 3 times b's 1
    3.0
    """
    if scheme not in ("sqrt", "equal", "none"):
        raise UsageError(f"source weighting must be sqrt, equal or none, got {scheme!r}")
    home = np.asarray(home)
    y = np.asarray(y)
    w = np.ones(len(y), dtype=np.float64)
    if scheme != "none":
        keys = np.char.add(np.asarray(home, dtype=str), np.where(y == 1, "|1", "|0"))
        _, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
        k = counts[inv].astype(np.float64)
        w = 1.0 / np.sqrt(k) if scheme == "sqrt" else 1.0 / k
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= 0.5 * len(y) / w[m].sum()
    return w


def _auc(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | None:
    if len(np.unique(y)) < 2:
        return None
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, score, sample_weight=w))


def expected_calibration_error(y: np.ndarray, p_fake: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the mean gap between predicted P(fake) and the share of
    fakes over equal-width bins, weighted by the rows in each bin.

    Examples
    --------
    >>> expected_calibration_error(np.array([0, 0, 1, 1]), np.array([0.0, 0.0, 1.0, 1.0]))
    0.0
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p_fake, dtype=np.float64), 0, 1)
    if not len(y):
        return float("nan")
    b = np.minimum((p * bins).astype(int), bins - 1)
    err = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            err += m.sum() * abs(p[m].mean() - y[m].mean())
    return float(err / len(y))


def fit_sigmoid(raw: np.ndarray, y: np.ndarray, w: np.ndarray,
                groups: np.ndarray | None = None) -> tuple[float, float]:
    """Platt's sigmoid ``P(fake) = 1 / (1 + exp(-(a raw + b)))``, fitted by weighted
    logistic regression (barely regularised).

    With ``groups`` (each row's source), the fit has one intercept per source that holds
    both classes and a slope they share, with both classes weighing the same within each
    source; ``b`` is the mean of the sources' intercepts. Sources differ by an offset
    (what is normal on one platform in one year is not on another); pooling them into
    one intercept would flatten the slope towards a coin toss, while the shared slope
    keeps how strongly a score separates real from fake *within* a source, and the mean
    intercept is the best guess for a source not seen yet. Sources of one class say
    nothing about the offset and are left out of the fit.

    Examples
    --------
    >>> a, b = fit_sigmoid(np.array([-2.0, -1, 1, 2]), np.array([0, 0, 1, 1]), np.ones(4))
    >>> a > 0
    True
    >>> fit_sigmoid(np.array([2.0, 1, -1, -2]), np.array([0, 0, 1, 1]), np.ones(4))
    (1.0, 0.0)
    >>> raw = np.array([-1.0, 0, 1, 2, 2, 3, 4, 5])   # two sources, offset by 3
    >>> a, b = fit_sigmoid(raw, np.array([0, 0, 1, 1] * 2), np.ones(8),
    ...                    np.array(["s"] * 4 + ["t"] * 4))
    >>> round(b / a, 1)   # the boundary sits between the two sources' own boundaries
    -2.0
    """
    from sklearn.linear_model import LogisticRegression
    raw = np.asarray(raw, np.float64)
    y = np.asarray(y)
    w = np.asarray(w, np.float64)
    if len(np.unique(y)) < 2 or np.ptp(raw) == 0:
        return 1.0, 0.0
    both: list = []
    if groups is not None:
        groups = np.asarray(groups, dtype=object)
        both = [g for g in np.unique(groups)
                if len(np.unique(y[groups == g])) == 2]
    if len(both) >= 2:
        keep = np.isin(groups, both)
        raw, y, w, groups = raw[keep], y[keep], w[keep].copy(), groups[keep]
        design = np.zeros((len(raw), 1 + len(both)))
        design[:, 0] = raw
        for j, g in enumerate(both):
            m = groups == g
            design[m, 1 + j] = 1.0
            for c in (0, 1):
                mc = m & (y == c)
                w[mc] *= 0.5 / w[mc].sum()
        lr = LogisticRegression(C=1e4, max_iter=2000, fit_intercept=False)
        lr.fit(design, y, sample_weight=w * len(both))
        a, b = float(lr.coef_[0, 0]), float(np.mean(lr.coef_[0, 1:]))
    else:
        lr = LogisticRegression(C=1e4, max_iter=1000)
        lr.fit(raw.reshape(-1, 1), y, sample_weight=w)
        a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if not a > 0:
        # held-out scores that do not order the classes cannot calibrate (tiny training
        # sets); the trees' own log-odds stand, rather than an inverted ranking
        return 1.0, 0.0
    return a, b


@dataclass
class FieldSetModel:
    """The fitted model of one field set.

    Attributes
    ----------
    name : str
        Its field set (:data:`~trueclout.detect.fieldsets.FIELD_SETS`).
    trees : TreeEnsemble
        Over the field set's features, in their order.
    calibration : (float, float)
        ``a, b`` of ``P(fake) = sigmoid(a * raw + b)``.
    reference : dict
        ``real`` and ``fake``: median training row of each class (the field set's
        features).
    low, high : array
        The known range of each feature (training quantiles 0.1% and 99.9%).
    evaluation : dict
        How it did on data it was not trained on: ``method`` (``leave-one-source-out``
        or ``cross-validation``), ``sources`` (per held-out source: accounts, AUC,
        fakes caught, humans flagged, ECE), and pooled ``sensitivity``/``specificity``
        with the counts behind them.
    n_real, n_fake : int
    sources : dict
        Training accounts per source: ``{source: [real, fake]}``.

    Examples
    --------
    >>> X, y = toy_training_set()
    >>> m = AuthenticityClassifier(max_iter=5).fit(X, y).models_["profile"]
    >>> m.name, m.n_fake
    ('profile', 20)
    """

    name: str
    trees: TreeEnsemble
    calibration: tuple[float, float]
    reference: dict
    low: np.ndarray
    high: np.ndarray
    evaluation: dict = field(default_factory=dict)
    n_real: int = 0
    n_fake: int = 0
    sources: dict = field(default_factory=dict)

    @property
    def field_set(self) -> FieldSet:
        return BY_NAME[self.name]

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw log-odds of fake (uncalibrated) for rows of the full feature matrix."""
        return self.trees.raw(np.asarray(X)[:, self.field_set.columns])

    def p_fake(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(fake) for rows of the full feature matrix."""
        a, b = self.calibration
        return _sigmoid(a * self.raw(X) + b)

    def out_of_range(self, X: np.ndarray) -> np.ndarray:
        """Per row and feature: True where the value lies far beyond the known range
        (by more than ``classifier_ood_margin`` times its width) of a feature without a
        monotonic direction (where the trees' flat extrapolation means nothing)."""
        V = np.asarray(X)[:, self.field_set.columns].astype(np.float64)
        direction = np.array([FEATURES[FEATURE_NAMES.index(f)].direction
                              for f in self.field_set.features])
        margin = float(config.get("classifier_ood_margin")) * (self.high - self.low)
        with np.errstate(invalid="ignore"):
            out = (V < self.low - margin) | (V > self.high + margin)
        # a feature with a direction (a monotonic constraint) extrapolates safely: the
        # trees' flat ends agree with its trend, so more of a real+ feature than ever seen
        # is simply as real as the most real seen
        return out & (direction == 0)

    def to_dict(self) -> dict:
        return {"name": self.name, "features": list(self.field_set.features),
                "trees": self.trees.to_dict(), "calibration": list(self.calibration),
                "reference": {k: _nan_list(v) for k, v in self.reference.items()},
                "low": _nan_list(self.low), "high": _nan_list(self.high),
                "evaluation": self.evaluation, "n_real": self.n_real, "n_fake": self.n_fake,
                "sources": self.sources}

    @classmethod
    def from_dict(cls, d: dict) -> "FieldSetModel":
        name = d.get("name")
        if name not in BY_NAME:
            raise ValueError(f"unknown field set {name!r}")
        if list(d.get("features", [])) != list(BY_NAME[name].features):
            raise ValueError(f"field set {name!r} was trained on other features")
        k = len(BY_NAME[name].features)
        low, high = _nan_array(d["low"]), _nan_array(d["high"])
        ref = {c: _nan_array(d["reference"][c]) for c in ("real", "fake")}
        if len(low) != k or len(high) != k or any(len(v) != k for v in ref.values()):
            raise ValueError(f"field set {name!r}: arrays of the wrong length")
        trees = TreeEnsemble.from_dict(d["trees"])
        if trees.feature.size and int(trees.feature[~trees.is_leaf].max(initial=0)) >= k:
            raise ValueError(f"field set {name!r}: a tree reads a feature it does not have")
        a, b = (float(x) for x in d["calibration"])
        return cls(name=name, trees=trees, calibration=(a, b), reference=ref, low=low,
                   high=high, evaluation=dict(d.get("evaluation") or {}),
                   n_real=int(d.get("n_real", 0)), n_fake=int(d.get("n_fake", 0)),
                   sources=dict(d.get("sources") or {}))


def _nan_list(v: np.ndarray) -> list:
    return [None if not np.isfinite(x) else float(x) for x in np.asarray(v, np.float64)]


def _nan_array(v: list) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in v], dtype=np.float64)


class AuthenticityClassifier(Estimator):
    """One calibrated boosted-tree model per field set; P(real) per account.

    Parameters
    ----------
    field_sets : sequence of str, optional
        Names of the field sets to train (default: all of
        :data:`~trueclout.detect.fieldsets.FIELD_SETS`).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, max_features : optional
        Of the boosted trees (settings ``classifier_*``).
    monotonic : bool
        Constrain the features that have a direction in the feature table.
    augment : bool
        Also train on a copy of every row with optional fields removed at random.
    weighting : {"sqrt", "equal", "none"}, optional
        How sources weigh within a class (``classifier_source_weighting``).
    threshold : float, optional
        Authenticity at or below which an account is predicted fake
        (``classifier_threshold``).
    ood_features : int, optional
        Features beyond the known range that make a profile ``uncertain``
        (``classifier_ood_features``; 0 never abstains).
    random_state : int

    Attributes
    ----------
    models_ : dict
        Field set name -> :class:`FieldSetModel`, for the field sets with enough
        labelled accounts of both classes.
    threshold_ : float
    n_real_, n_fake_ : int
        Labelled accounts decided by some field set.
    sources_ : list of str
        The training sources.
    held_out_sources_ : list of str
        Labelled sources given to :meth:`fit` but left out of training (scored only).
    held_out_ : dict
        Field set name -> source -> ``(rows, p_fake)``: the training rows of that source
        and their P(fake) from trees trained without the source (calibrated without it).
        Kept in memory only (not saved); :func:`~trueclout.detect.training.source_table`
        reads it.
    feature_schema_ : str

    Examples
    --------
    >>> AuthenticityClassifier(max_iter=3).get_params()["max_iter"]
    3
    >>> AuthenticityClassifier().threshold_
    Traceback (most recent call last):
    ...
    trueclout.errors.NotFittedError: AuthenticityClassifier is not fitted yet; call fit first
    """

    def __init__(self, *, field_sets: Sequence[str] | None = None,
                 max_iter: int | None = None, learning_rate: float | None = None,
                 max_leaf_nodes: int | None = None, min_samples_leaf: int | None = None,
                 max_features: float | None = None, monotonic: bool = True,
                 augment: bool = True, weighting: str | None = None,
                 threshold: float | None = None, ood_features: int | None = None,
                 random_state: int = 0) -> None:
        self.field_sets = field_sets
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.monotonic = monotonic
        self.augment = augment
        self.weighting = weighting
        self.threshold = threshold
        self.ood_features = ood_features
        self.random_state = random_state

    def set_params(self, **params: Any) -> "AuthenticityClassifier":
        """Set constructor arguments.

        Examples
        --------
        >>> AuthenticityClassifier().set_params(max_iter=4).max_iter
        4
        """
        for k, v in params.items():
            if k not in self.get_params():
                raise UsageError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    def _cfg(self, name: str, setting: str | None = None) -> Any:
        v = getattr(self, name)
        return config.get(setting or f"classifier_{name}") if v is None else v

    # -- fitting -----------------------------------------------------------------------
    @staticmethod
    def _check_X(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise UsageError(f"expected a matrix of {len(FEATURE_NAMES)} feature columns "
                             f"(account_features), got shape {X.shape}")
        return X

    def _estimator(self, fs: FieldSet):
        from sklearn.ensemble import HistGradientBoostingClassifier
        direction = {f.name: f.direction for f in FEATURES}
        cst = [-direction[f] if self.monotonic else 0 for f in fs.features]
        return HistGradientBoostingClassifier(
            max_iter=int(self._cfg("max_iter")),
            learning_rate=float(self._cfg("learning_rate")),
            max_leaf_nodes=int(self._cfg("max_leaf_nodes")),
            min_samples_leaf=int(self._cfg("min_samples_leaf")),
            max_features=float(self._cfg("max_features")), monotonic_cst=cst,
            early_stopping=False, random_state=self.random_state)

    def _masked(self, V: np.ndarray, fs: FieldSet, rng: np.random.Generator) -> np.ndarray:
        A = V.copy()
        pos = {f: j for j, f in enumerate(fs.features)}
        for block in fs.optional:
            drop = rng.random(len(A)) < 0.5
            for f in block:
                A[drop, pos[f]] = np.nan
        return A

    def _train_trees(self, fs: FieldSet, V: np.ndarray, y: np.ndarray, w: np.ndarray,
                     rng: np.random.Generator) -> TreeEnsemble:
        views, weights = [V], [w]
        if self.augment and fs.optional:
            views.append(self._masked(V, fs, rng))
            weights = [w * _ORIGINAL_SHARE, w * (1 - _ORIGINAL_SHARE)]
        est = self._estimator(fs)
        threads = int(config.get("classifier_fit_threads"))
        Va, ya, wa = np.vstack(views), np.tile(y, len(views)), np.concatenate(weights)
        # a feature no training row knows carries nothing, and trips the trees' binner:
        # held constant, it is never split on
        Va[:, np.isnan(Va).all(axis=0)] = 0.0
        if threads > 0:
            from threadpoolctl import threadpool_limits
            with threadpool_limits(limits=threads, user_api="openmp"):
                est.fit(Va, ya, sample_weight=wa)
        else:
            est.fit(Va, ya, sample_weight=wa)
        return TreeEnsemble.from_sklearn(est)

    def fit(self, X: Any, y: Any, sources: Any = None, sample_weight: Any = None,
            progress=None, train_sources: Sequence[str] | None = None
            ) -> "AuthenticityClassifier":
        """Train every field set's model on feature matrix ``X`` and labels ``y``.

        Parameters
        ----------
        X : array, shape (n, len(FEATURE_NAMES))
            From :func:`~trueclout.detect.features.account_features`.
        y : array of int
            1 for fake (or bot, farm), 0 for real.
        sources : array of str, or (names, membership), optional
            Where each row's label comes from: one source name per row, or a pair of a
            list of ``S`` source names and an ``n x S`` boolean matrix for rows that
            several sources label. With two or more sources, calibration and the error
            rates are measured leave-one-source-out; else by 3-fold cross-validation.
        sample_weight : array, optional
            Multiplies the source weights.
        progress : callable, optional
            ``progress(field_set, step, steps)``.
        train_sources : sequence of str, optional
            Train on these sources only (a mix chosen by
            :func:`~trueclout.detect.training.select_sources`); the others are still
            scored and reported as held out, never trained on.

        Returns
        -------
        self
        """
        X = self._check_X(X)
        y = np.asarray(y).astype(np.int64).ravel()
        if y.shape[0] != X.shape[0]:
            raise UsageError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        if not np.isin(y, (0, 1)).all():
            raise UsageError("y must hold 0 (real) and 1 (fake) only")
        names, member = _membership(sources, len(y))
        if train_sources is not None:
            bad = [t for t in train_sources if t not in names]
            if bad:
                raise UsageError(f"unknown training sources: {', '.join(bad)}")
            in_mix = np.array([n in set(train_sources) for n in names], bool)
        else:
            in_mix = np.ones(len(names), bool)
        trainable = member[:, in_mix].any(axis=1)
        home = home_source(names, np.where(in_mix[None, :] | ~trainable[:, None], member, False))
        wanted = list(self.field_sets) if self.field_sets is not None else \
            [fs.name for fs in FIELD_SETS]
        unknown = [f for f in wanted if f not in BY_NAME]
        if unknown:
            raise UsageError(f"unknown field sets: {', '.join(unknown)}; known: "
                             f"{', '.join(BY_NAME)}")
        scheme = str(self._cfg("weighting", "classifier_source_weighting"))
        extra = np.ones(len(y)) if sample_weight is None else \
            np.asarray(sample_weight, np.float64)
        rng = np.random.default_rng(self.random_state)
        threshold = float(self._cfg("threshold"))
        models: dict[str, FieldSetModel] = {}
        held_out: dict[str, dict] = {}
        for fs in FIELD_SETS:
            if fs.name not in wanted:
                continue
            rows = np.flatnonzero(fs.has_fields(X))
            tr = trainable[rows]
            yf = y[rows]
            if min(int((yf[tr] == 1).sum()), int((yf[tr] == 0).sum())) < 2:
                continue
            V = X[rows][:, fs.columns]
            w = np.zeros(len(rows))
            w[tr] = source_weights(home[rows][tr], yf[tr], scheme) * extra[rows][tr]
            raw_oos, evaluation, held = self._held_out(
                fs, V, yf, w, tr, member[rows], names, home[rows], rng, threshold, progress)
            held_out[fs.name] = {s: (rows[r], p) for s, (r, p) in held.items()}
            a, b = fit_sigmoid(raw_oos[tr], yf[tr], w[tr], home[rows][tr])
            evaluation.update(_pooled_rates(yf[tr], _sigmoid(a * raw_oos[tr] + b), threshold))
            trees = self._train_trees(fs, V[tr], yf[tr], w[tr], rng)
            with warnings.catch_warnings():  # a column no training row knows: NaN range
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = (np.nanquantile(V[tr].astype(np.float64), q, axis=0)
                          for q in _RANGE_QUANTILES)
                lo, hi = np.asarray(lo), np.asarray(hi)
            per_source = {}
            for j, s in enumerate(names):
                m = member[rows, j] & tr
                if m.any() and in_mix[j]:
                    per_source[s] = [int((yf[m] == 0).sum()), int((yf[m] == 1).sum())]
            models[fs.name] = FieldSetModel(
                name=fs.name, trees=trees, calibration=(a, b),
                reference={"real": _column_medians(V[tr & (yf == 0)]),
                           "fake": _column_medians(V[tr & (yf == 1)])},
                low=np.asarray(lo, np.float64), high=np.asarray(hi, np.float64),
                evaluation=evaluation, n_real=int((yf[tr] == 0).sum()),
                n_fake=int((yf[tr] == 1).sum()), sources=per_source)
        if not models:
            raise UsageError(f"training needs at least 2 real and 2 fake accounts with the "
                             f"fields of some field set, got {int((y[trainable] == 0).sum())} "
                             f"real and {int((y[trainable] == 1).sum())} fake")
        self.models_ = models
        self.threshold_ = threshold
        decided = (choose_field_sets(X, list(models)) >= 0) & trainable
        self.n_real_ = int(((y == 0) & decided).sum())
        self.n_fake_ = int(((y == 1) & decided).sum())
        self.sources_ = [n for n, k in zip(names, in_mix) if k]
        self.held_out_sources_ = [n for n, k in zip(names, in_mix) if not k]
        self.feature_schema_ = FEATURE_SCHEMA
        self.training_ = {}
        self.held_out_ = held_out
        return self

    def _held_out(self, fs: FieldSet, V: np.ndarray, y: np.ndarray, w: np.ndarray,
                  trainable: np.ndarray, member: np.ndarray, names: list[str],
                  home: np.ndarray, rng: np.random.Generator, threshold: float, progress
                  ) -> tuple[np.ndarray, dict, dict]:
        """Out-of-source raw scores of the training rows, and per source (trained on or
        not) the scores of a model that never saw it, with the figures they give."""
        present = [j for j in range(len(names)) if member[:, j].any()]
        in_train = [j for j in present if (member[:, j] & trainable).any()]
        raw = np.full(len(y), np.nan)
        per_source: dict[str, dict] = {}
        if len(in_train) >= 2 or (in_train and len(present) > len(in_train)):
            method = "leave-one-source-out"
            # a row is scored by the fold of its smallest source; rows of several
            # sources are left out of training whenever any of them is held out
            sizes = member.sum(axis=0)
            order = sorted(present, key=lambda j: sizes[j])
            for step, j in enumerate(order):
                test = member[:, j]
                train = trainable & ~test
                if progress:
                    progress(fs.name, step + 1, len(order) + 1)
                if min(int((y[train] == 1).sum()), int((y[train] == 0).sum())) < 2:
                    continue
                trees = self._train_trees(fs, V[train], y[train], w[train], rng)
                r = trees.raw(V[test])
                todo = test & np.isnan(raw)
                raw[todo] = r[todo[test]]
                per_source[names[j]] = {"raw": r, "rows": np.flatnonzero(test)}
            missing = np.isnan(raw) & trainable
            if missing.any():  # rows no fold could score: in-set scores stand in
                raw[trainable] = np.where(missing[trainable],
                                          self._cv_raw(fs, V[trainable], y[trainable],
                                                       w[trainable], rng),
                                          raw[trainable])
        else:
            method = "cross-validation"
            raw[trainable] = self._cv_raw(fs, V[trainable], y[trainable], w[trainable], rng)
            per_source["all"] = {"raw": raw[trainable], "rows": np.flatnonzero(trainable)}
        table = {}
        for s, d in per_source.items():
            rows = d["rows"]
            others = trainable.copy()
            others[rows] = False
            # nested: the sigmoid that turns this source's scores into probabilities is
            # fitted without it
            if others.any() and len(np.unique(y[others])) == 2 and method != "cross-validation":
                a, b = fit_sigmoid(raw[others], y[others], w[others], home[others])
            else:
                a, b = fit_sigmoid(raw[trainable], y[trainable], w[trainable], home[trainable])
            d["p_fake"] = _sigmoid(a * d["raw"] + b)
            table[s] = source_metrics(y[rows], d["p_fake"], threshold)
        if progress:
            progress(fs.name, len(per_source) + 1, len(per_source) + 1)
        held = {s: (d["rows"], d["p_fake"]) for s, d in per_source.items()}
        return raw, {"method": method, "sources": table}, held

    def _cv_raw(self, fs, V, y, w, rng) -> np.ndarray:
        from sklearn.model_selection import StratifiedKFold
        folds = int(max(2, min(config.get("classifier_folds"), (y == 1).sum(), (y == 0).sum())))
        raw = np.zeros(len(y))
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for tr, te in skf.split(np.zeros(len(y)), y):
            raw[te] = self._train_trees(fs, V[tr], y[tr], w[tr], rng).raw(V[te])
        return raw

    # -- prediction --------------------------------------------------------------------
    def field_set_index(self, X: Any) -> np.ndarray:
        """Per row, the index into :data:`~trueclout.detect.fieldsets.FIELD_SETS` of the
        model that decides it; -1 where no trained field set applies.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> int(AuthenticityClassifier(max_iter=3).fit(X, y).field_set_index(X[:1])[0])
        0
        """
        return choose_field_sets(self._check_X(X), list(self.models_))

    def field_sets_of(self, X: Any) -> np.ndarray:
        """Per row, the name of the field set that decides it ("" for none).

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> AuthenticityClassifier(max_iter=3).fit(X, y).field_sets_of(X[:1]).tolist()
        ['profile']
        """
        idx = self.field_set_index(X)
        names = np.array([fs.name for fs in FIELD_SETS] + [""], dtype=object)
        return names[idx]

    def _per_model(self, X: np.ndarray, fn) -> np.ndarray:
        idx = choose_field_sets(X, list(self.models_))
        out = np.full(X.shape[0], np.nan)
        for i, fs in enumerate(FIELD_SETS):
            m = idx == i
            if m.any():
                out[m] = fn(self.models_[fs.name], X[m])
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated ``[P(real), P(fake)]`` per row under equal priors; 0.5 and 0.5 for
        a row that no field set can decide.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> p = AuthenticityClassifier(max_iter=5).fit(X, y).predict_proba(X)
        >>> p.shape, bool(np.allclose(p.sum(axis=1), 1))
        ((40, 2), True)
        """
        X = self._check_X(X)
        pf = self._per_model(X, lambda m, Z: m.p_fake(Z))
        pf = np.where(np.isnan(pf), 0.5, pf)
        return np.column_stack([1.0 - pf, pf])

    def authenticity(self, X: Any) -> np.ndarray:
        """P(real) per row, in [0, 1].

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> a = AuthenticityClassifier(max_iter=5).fit(X, y).authenticity(X)
        >>> bool(a[0] > a[-1])
        True
        """
        return np.clip(self.predict_proba(X)[:, 0], 0.0, 1.0)

    def predict(self, X: Any) -> np.ndarray:
        """1 (fake) where authenticity is at or below ``threshold_``, else 0.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> AuthenticityClassifier(max_iter=5).fit(X, y).predict(X)[[0, -1]].tolist()
        [0, 1]
        """
        return predicted_fake(self.authenticity(X), self.threshold_).astype(np.int8)

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw (uncalibrated) log-odds of fake of the model that decides each row (NaN
        where none does).

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> d = AuthenticityClassifier(max_iter=5).fit(X, y).decision_function(X)
        >>> bool(d[-1] > d[0])
        True
        """
        X = self._check_X(X)
        return self._per_model(X, lambda m, Z: m.raw(Z))

    def out_of_range(self, X: Any) -> tuple[np.ndarray, list[list[str]]]:
        """Per row: how many features lie beyond the deciding model's known range, and
        their names.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=3).fit(X, y)
        >>> Z = X[:1].copy(); Z[0, FEATURE_NAMES.index("description_length")] = 5000
        >>> n, names = clf.out_of_range(Z)
        >>> int(n[0]), names[0]
        (1, ['description_length'])
        """
        X = self._check_X(X)
        idx = choose_field_sets(X, list(self.models_))
        counts = np.zeros(X.shape[0], np.int64)
        names: list[list[str]] = [[] for _ in range(X.shape[0])]
        for i, fs in enumerate(FIELD_SETS):
            rows = np.flatnonzero(idx == i)
            if not rows.size:
                continue
            O = self.models_[fs.name].out_of_range(X[rows])
            counts[rows] = O.sum(axis=1)
            for r, o in zip(rows, O):
                if o.any():
                    names[r] = [fs.features[j] for j in np.flatnonzero(o)]
        return counts, names

    def verdict(self, X: Any, authenticity: np.ndarray | None = None
                ) -> tuple[np.ndarray, list[str]]:
        """Per row: ``real``, ``fake`` or ``uncertain``, and why an uncertain row is.

        A row is uncertain when no field set can decide it, or when at least
        ``ood_features`` of its features lie far beyond the range the deciding model was
        trained on (:meth:`FieldSetModel.out_of_range`). ``authenticity``, when given,
        saves predicting it again.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=3, ood_features=1).fit(X, y)
        >>> Z = np.vstack([X[:1], X[:1]]); Z[1, FEATURE_NAMES.index("description_length")] = 5000
        >>> v, why = clf.verdict(Z)
        >>> v.tolist(), why[1]
        (['real', 'uncertain'], 'unlike the accounts it was trained on: description length far above any seen (5e+03)')
        """
        X = self._check_X(X)
        auth = self.authenticity(X) if authenticity is None else authenticity
        v = np.where(predicted_fake(auth, self.threshold_), "fake", "real").astype(object)
        why = [""] * X.shape[0]
        idx = choose_field_sets(X, list(self.models_))
        for i in np.flatnonzero(idx < 0):
            v[i] = "uncertain"
            why[i] = "too few profile fields to judge (needs at least the follower and " \
                     "following counts)"
        k = int(self._cfg("ood_features"))
        if k > 0:
            counts, names = self.out_of_range(X)
            for i in np.flatnonzero((counts >= k) & (idx >= 0)):
                v[i] = "uncertain"
                why[i] = "unlike the accounts it was trained on: " + \
                    "; ".join(_range_phrase(self.models_[FIELD_SETS[idx[i]].name], f, X[i])
                              for f in names[i][:3])
        return v, why

    # -- reasons -----------------------------------------------------------------------
    def contributions(self, X: Any, towards: str = "auto") -> tuple[np.ndarray, list[str]]:
        """Per row and feature group: how much the group pushes the prediction.

        Parameters
        ----------
        X : array
            Feature matrix (all columns).
        towards : {"auto", "fake", "real"}
            ``fake``: raw score lost when the group takes the median real account's
            values (positive = evidence of fake). ``real``: raw score gained when it
            takes the median fake's (positive = evidence of real). ``auto``: ``fake``
            for rows predicted fake, ``real`` for the others.

        Returns
        -------
        C : array, shape (n, len(groups))
            NaN where the row knows none of the group's features (or the group is not
            in its field set).
        groups : list of str

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=5).fit(X, y)
        >>> C, groups = clf.contributions(X[-1:])
        >>> groups[int(np.nanargmax(C[0]))]
        'follow_ratio'
        """
        X = self._check_X(X)
        group_of = {f.name: f.group for f in FEATURES}
        groups: list[str] = []
        for f in FEATURES:
            if f.group not in groups and f.group not in _SILENT_GROUPS:
                groups.append(f.group)
        if towards == "auto":
            fake = predicted_fake(self.authenticity(X), self.threshold_)
        elif towards in ("fake", "real"):
            fake = np.full(X.shape[0], towards == "fake")
        else:
            raise UsageError(f"towards must be auto, fake or real, got {towards!r}")
        C = np.full((X.shape[0], len(groups)), np.nan)
        idx = choose_field_sets(X, list(self.models_))
        for i, fs in enumerate(FIELD_SETS):
            rows = np.flatnonzero(idx == i)
            if not rows.size:
                continue
            m = self.models_[fs.name]
            V = X[rows][:, fs.columns].astype(np.float64)
            base = m.trees.raw(V)
            fk = fake[rows]
            parts, where = [], []
            for gi, g in enumerate(groups):
                js = [j for j, f in enumerate(fs.features) if group_of[f] == g]
                if not js:
                    continue
                known = ~np.isnan(V[:, js]).all(axis=1)
                if not known.any():
                    continue
                alt = V[known].copy()
                for j in js:
                    alt[:, j] = np.where(fk[known], m.reference["real"][j],
                                         m.reference["fake"][j])
                parts.append(alt)
                where.append((gi, known))
            if not parts:
                continue
            raw = m.trees.raw(np.concatenate(parts))
            at = 0
            for gi, known in where:
                n = int(known.sum())
                delta = raw[at:at + n] - base[known]
                at += n
                C[rows[known], gi] = np.where(fk[known], -delta, delta)
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
        >>> X, y = toy_training_set()
        >>> clf = AuthenticityClassifier(max_iter=5).fit(X, y)
        >>> clf.explain(X[-1:])[0][0]
        'follows 344 accounts but has 17 followers (ratio 0.05)'
        """
        X = self._check_X(X)
        C, groups = self.contributions(X, towards=towards)
        if towards == "auto":
            fake = predicted_fake(self.authenticity(X), self.threshold_)
        else:
            fake = np.full(X.shape[0], towards == "fake")
        out: list[list[str]] = []
        Cz = np.where(np.isnan(C), -np.inf, C)
        order = np.argsort(-Cz, axis=1, kind="stable")[:, :max(top, 1)]
        for i in range(X.shape[0]):
            reasons: list[str] = []
            for gi in order[i]:
                if not Cz[i, gi] > 1e-6:
                    break
                text = phrase(groups[gi], X[i], bool(fake[i]))
                if text and text not in reasons:
                    reasons.append(text)
            if not reasons:
                reasons.append("its profile as a whole resembles bought or automated accounts"
                               if fake[i] else
                               "its profile as a whole resembles genuine accounts")
            out.append(reasons[:top])
        return out

    # -- measured error rates ----------------------------------------------------------
    def error_rates(self, field_set: str | None = None) -> dict:
        """The measured sensitivity and specificity (fakes caught, humans not flagged)
        on sources held out of training, with the counts behind them, of one field
        set's model (default: the first trained).

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> r = AuthenticityClassifier(max_iter=5).fit(X, y).error_rates()
        >>> sorted(r)
        ['fakes', 'humans', 'method', 'sensitivity', 'specificity']
        """
        name = field_set or next(iter(self.models_))
        if name not in self.models_:
            raise UsageError(f"no model for field set {name!r}; trained: "
                             f"{', '.join(self.models_)}")
        e = self.models_[name].evaluation
        return {k: e.get(k) for k in ("sensitivity", "specificity", "fakes", "humans",
                                      "method")}

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Everything a saved model holds, as plain JSON-ready values.

        Examples
        --------
        >>> X, y = toy_training_set()
        >>> AuthenticityClassifier(max_iter=3).fit(X, y).to_dict()["format"]
        'trueclout-authenticity'
        """
        import sklearn
        _ = self.models_  # NotFittedError before fit
        return {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
                "feature_schema": self.feature_schema_, "features": list(FEATURE_NAMES),
                "trueclout": __version__, "sklearn": sklearn.__version__,
                "params": {k: v for k, v in self.get_params().items()
                           if isinstance(v, (int, float, str, bool, type(None)))},
                "threshold": self.threshold_, "n_real": self.n_real_,
                "n_fake": self.n_fake_, "sources": self.sources_,
                "held_out_sources": list(getattr(self, "held_out_sources_", [])),
                "training": self.training_,
                "models": [m.to_dict() for m in self.models_.values()]}

    @classmethod
    def from_dict(cls, d: dict, path: str | None = None) -> "AuthenticityClassifier":
        """A classifier from :meth:`to_dict`'s values; refuses another format or feature
        schema with an :class:`~trueclout.errors.InputError` that says to retrain.

        Examples
        --------
        >>> AuthenticityClassifier.from_dict({"format": "x"})
        Traceback (most recent call last):
        ...
        trueclout.errors.InputError: not a trueclout authenticity model
        """
        if not isinstance(d, dict) or d.get("format") != MODEL_FORMAT:
            raise InputError("not a trueclout authenticity model", path=path)
        if d.get("format_version") != MODEL_FORMAT_VERSION:
            raise InputError(f"model format version {d.get('format_version')} is not "
                             f"{MODEL_FORMAT_VERSION}; retrain it with `trueclout train`",
                             path=path)
        if d.get("feature_schema") != FEATURE_SCHEMA:
            raise InputError(
                f"model was trained on feature schema {d.get('feature_schema')} (trueclout "
                f"{d.get('trueclout')}), this trueclout computes {FEATURE_SCHEMA}; retrain "
                "it with `trueclout train`", path=path)
        params = {k: v for k, v in (d.get("params") or {}).items()
                  if k in cls().get_params() and isinstance(v, (int, float, str, bool,
                                                                type(None)))}
        clf = cls(**params)
        try:
            models = [FieldSetModel.from_dict(m) for m in d["models"]]
            clf.threshold_ = float(d["threshold"])
            clf.n_real_, clf.n_fake_ = int(d.get("n_real", 0)), int(d.get("n_fake", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"broken model ({type(exc).__name__}: {exc})",
                             path=path) from None
        if not models:
            raise InputError("model holds no field set", path=path)
        clf.models_ = {m.name: m for m in models}
        clf.sources_ = [str(s) for s in d.get("sources") or []]
        clf.held_out_sources_ = [str(s) for s in d.get("held_out_sources") or []]
        clf.feature_schema_ = FEATURE_SCHEMA
        clf.training_ = dict(d.get("training") or {})
        return clf

    def save(self, path: str | os.PathLike) -> None:
        """Write the model as JSON (gzip-compressed when ``path`` ends in ``.gz``).

        The file holds numbers and names only: loading it runs no code.

        Examples
        --------
        >>> import os, tempfile
        >>> X, y = toy_training_set()
        >>> p = os.path.join(tempfile.mkdtemp(), "m.json.gz")
        >>> clf = AuthenticityClassifier(max_iter=3).fit(X, y)
        >>> clf.save(p)
        >>> bool(np.allclose(AuthenticityClassifier.load(p).authenticity(X), clf.authenticity(X)))
        True
        """
        text = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        data = text.encode()
        path = Path(path)
        if path.name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.close(fd)
        try:
            Path(tmp).write_bytes(data)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a model is not
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AuthenticityClassifier":
        """Read a model written by :meth:`save` (plain or gzip-compressed JSON).

        Examples
        --------
        >>> AuthenticityClassifier.load("/nonexistent/model.json")
        Traceback (most recent call last):
        ...
        trueclout.errors.InputError: /nonexistent/model.json: no such model file
        """
        p = Path(path)
        if not p.is_file():
            raise InputError("no such model file", path=str(p))
        raw = p.read_bytes()
        try:
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            d = json.loads(raw.decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"not a trueclout model file: neither JSON nor gzipped JSON "
                             f"({type(exc).__name__})", path=str(p)) from None
        return cls.from_dict(d, path=str(p))


def _membership(sources: Any, n: int) -> tuple[list[str], np.ndarray]:
    if sources is None:
        return ["all"], np.ones((n, 1), bool)
    if isinstance(sources, tuple) and len(sources) == 2:
        names, member = list(sources[0]), np.asarray(sources[1], bool)
        if member.shape != (n, len(names)):
            raise UsageError(f"source membership must be {n} x {len(names)}, got "
                             f"{member.shape}")
        if not member.any(axis=1).all():
            raise UsageError("every row needs at least one source")
        return [str(s) for s in names], member
    arr = np.asarray(sources, dtype=object).astype(str)
    if arr.shape != (n,):
        raise UsageError(f"sources must give one name per row ({n}), got {arr.shape}")
    names = sorted(set(arr.tolist()))
    member = np.stack([arr == s for s in names], axis=1)
    return names, member


def home_source(names: list[str], member: np.ndarray) -> np.ndarray:
    """Each row's home source: the smallest source that labels it (its weight and its
    fold go by it).

    Examples
    --------
    >>> home_source(["big", "small"], np.array([[True, True], [True, False]])).tolist()
    ['small', 'big']
    """
    sizes = member.sum(axis=0)
    big = sizes.max() + 1 if sizes.size else 1
    j = np.argmin(np.where(member, sizes, big), axis=1)
    return np.asarray(names, dtype=object)[j]


def source_metrics(y: np.ndarray, p_fake: np.ndarray, threshold: float) -> dict:
    """Figures of one held-out source at the classifier's threshold: accounts of each
    class, AUC, MCC, fakes caught, humans flagged, ECE (None where a class is absent).

    Examples
    --------
    >>> r = source_metrics(np.array([0, 1]), np.array([0.1, 0.9]), 0.5)
    >>> r["auc"], r["fakes_caught"], r["humans_flagged"]
    (1.0, 1.0, 0.0)
    """
    fake = predicted_fake(1.0 - p_fake, threshold)
    n_fake, n_real = int((y == 1).sum()), int((y == 0).sum())
    out: dict[str, Any] = {"real": n_real, "fake": n_fake,
                           "auc": _round(_auc(y, p_fake)),
                           "fakes_caught": _round(fake[y == 1].mean()) if n_fake else None,
                           "humans_flagged": _round(fake[y == 0].mean()) if n_real else None,
                           "ece": _round(expected_calibration_error(y, p_fake))}
    if n_fake and n_real:
        from sklearn.metrics import matthews_corrcoef
        out["mcc"] = _round(matthews_corrcoef(y, fake.astype(int)))
    else:
        out["mcc"] = None
    return out


def _pooled_rates(y: np.ndarray, p_fake: np.ndarray, threshold: float) -> dict:
    fake = predicted_fake(1.0 - p_fake, threshold)
    tp, fn = int((fake & (y == 1)).sum()), int((~fake & (y == 1)).sum())
    tn, fp = int((~fake & (y == 0)).sum()), int((fake & (y == 0)).sum())
    return {"sensitivity": _round(tp / max(tp + fn, 1)),
            "specificity": _round(tn / max(tn + fp, 1)),
            "fakes": [tp, tp + fn], "humans": [tn, tn + fp],
            "auc": _round(_auc(y, p_fake)), "ece": _round(expected_calibration_error(y, p_fake))}


def _round(x: float | None, k: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), k)


def _range_phrase(m: FieldSetModel, feature: str, row: np.ndarray) -> str:
    j = m.field_set.features.index(feature)
    value = float(row[FEATURE_NAMES.index(feature)])
    side = "above" if value > m.high[j] else "below"
    shown = f"{np.expm1(value):,.0f}" if feature.startswith("log_") else f"{value:.3g}"
    label = feature.removeprefix("log_").replace("_", " ")
    return f"{label} far {side} any seen ({shown})"


#: The reason given for an account the classifier does not judge.
NO_PROFILE_REASON = "no profile data: the classifier does not judge it"


def judgeable(X: np.ndarray, model: AuthenticityClassifier | None = None) -> np.ndarray:
    """Rows that some field set can decide (at least the follower and following
    counts known; with ``model``, one of its trained field sets).

    The classifier judges profiles; graph features only add to them. An account known
    only from follows (an edge list such as SNAP ego-Twitter) gets no verdict from it:
    on a sampled graph, few followers and no follow-back are no sign of a fake.

    Examples
    --------
    >>> X = np.full((2, len(FEATURE_NAMES)), np.nan, np.float32)
    >>> X[0, FEATURE_NAMES.index("log_followers")] = X[0, FEATURE_NAMES.index("log_following")] = 1
    >>> judgeable(X).tolist()
    [True, False]
    """
    names = list(model.models_) if model is not None else None
    return choose_field_sets(np.asarray(X), names) >= 0


def toy_training_set() -> tuple[np.ndarray, np.ndarray]:
    """A toy training set for examples: 20 real accounts (200 followers, 344 following,
    900 posts, a URL and a description) and 20 bought followers (17 followers, 344
    following, 900 posts, no URL, no description); y = 1 for fake.

    Examples
    --------
    >>> X, y = toy_training_set()
    >>> X.shape[0], int(y.sum())
    (40, 20)
    """
    y = np.r_[np.zeros(20, np.int64), np.ones(20, np.int64)]
    X = np.zeros((40, len(FEATURE_NAMES)), np.float32)
    X[:, FEATURE_NAMES.index("has_url")] = 1.0 - y
    X[:, FEATURE_NAMES.index("has_description")] = 1.0 - y
    X[:, FEATURE_NAMES.index("description_length")] = 60.0 * (1 - y)
    X[:, FEATURE_NAMES.index("handle_length")] = 8.0
    X[:, FEATURE_NAMES.index("log_age_days")] = np.log1p(1000.0)
    X = with_counts(X, followers=np.where(y == 1, 17.0, 200.0), following=np.full(40, 344.0),
                    posts=np.full(40, 900.0))
    return X, y


__all__ = ["AuthenticityClassifier", "FieldSetModel", "POSITIVE_LABELS", "NEGATIVE_LABELS",
           "VERDICTS", "NO_PROFILE_REASON", "MODEL_FORMAT", "MODEL_FORMAT_VERSION",
           "expected_calibration_error", "fit_sigmoid", "home_source", "judgeable",
           "predicted_fake", "source_metrics",
           "prior_threshold", "source_weights", "toy_training_set"]
