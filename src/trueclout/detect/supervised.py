"""The authenticity classifier as a detector over a whole :class:`DetectionData`.

:class:`SupervisedDetector` computes every account's features, asks the classifier
(:class:`~trueclout.detect.classifier.AuthenticityClassifier`; the shipped default model
unless another is given, :mod:`trueclout.detect.default`) for its authenticity and
verdict, and exposes them in the detector contract: ``decision_scores_ = 1 -
authenticity`` (higher is more suspicious), ``labels_`` and ``reasons_``.

Three kinds of accounts:

* **judged**: a field set can decide it; flagged when its authenticity is at or below the
  classifier's threshold (or the prior's, see ``prior``);
* **uncertain**: it has profile fields, but too few for any field set, or values unlike
  anything the model was trained on. It keeps its authenticity (so it still ranks) but is
  never flagged by the classifier alone; ``uncertain_`` and ``uncertain_reasons_`` say so;
* **unknown**: no profile at all (an edge list): authenticity NaN, score 0; the graph
  detectors judge it.

Examples
--------
>>> import pyarrow as pa
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.classifier import AuthenticityClassifier, toy_training_set
>>> from trueclout.detect.data import DetectionData
>>> m = AuthenticityClassifier(max_iter=5).fit(*toy_training_set())
>>> prof = pa.table({"handle": ["ana", "ben", "cat", "dan", "eve", "fay"],
...                  "description": ["about ana", "b", "c", None, "e", "f"],
...                  "followers_count": [200, 210, 190, 17, 300, 250],
...                  "following_count": [344, 312, 380, 344, 340, 200],
...                  "posts_count": [900] * 6,
...                  "url": ["https://a.example", "https://b.example",
...                          "https://c.example", None, "https://e.example",
...                          "https://f.example"]})
>>> d = SupervisedDetector(model=m).fit(DetectionData.from_graph(toy_graph(), prof))
>>> d.labels_.tolist()
[0, 0, 0, 1, 0, 0]
>>> d.reasons_[3].split("; ")[0]
'follows 344 accounts but has 17 followers (ratio 0.05)'
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import UsageError
from .base import BaseDetector
from .classifier import AuthenticityClassifier, judgeable, prior_threshold
from .data import DetectionData
from .features import FEATURES, account_features


def has_profile(X: np.ndarray) -> np.ndarray:
    """Rows with at least one known profile feature (a count, the age, a text field or a
    flag): accounts that are more than a name in an edge list.

    Examples
    --------
    >>> from trueclout.detect.features import FEATURE_NAMES
    >>> X = np.full((2, len(FEATURE_NAMES)), np.nan, np.float32)
    >>> X[0, FEATURE_NAMES.index("has_url")] = 1.0
    >>> has_profile(X).tolist()
    [True, False]
    """
    cols = [j for j, f in enumerate(FEATURES) if f.kind in ("profile", "text")]
    return ~np.isnan(np.asarray(X)[:, cols]).all(axis=1)


def classifier_scores(clf: AuthenticityClassifier, X: np.ndarray, threshold: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The classifier's part of detection for rows of a feature matrix: authenticity
    (NaN without a profile), the decision score (``1 - authenticity`` where a field set
    decides, 0 elsewhere; an uncertain row held just under ``threshold``), the uncertain
    mask and the reasons for abstaining.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> clf = AuthenticityClassifier(max_iter=5).fit(X, y)
    >>> auth, score, unsure, why = classifier_scores(clf, X[[0, -1]], 0.5)
    >>> bool(score[1] > 0.5), unsure.tolist()
    (True, [False, False])
    """
    n = X.shape[0]
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, bool), []
    auth = clf.authenticity(X)
    decided = judgeable(X, clf)
    profiled = has_profile(X)
    verdict, why = clf.verdict(X, auth)
    uncertain = profiled & (verdict == "uncertain")
    score = np.where(decided, 1.0 - auth, 0.0)
    # an uncertain profile keeps its rank but never crosses the threshold alone
    score = np.where(uncertain, np.minimum(score, np.nextafter(threshold, 0)), score)
    return np.where(profiled, auth, np.nan), score, uncertain, why


class SupervisedDetector(BaseDetector):
    """The classifier as a detector.

    Sets ``authenticity_`` (P(real); NaN for accounts without a profile),
    ``decision_scores_``, ``features_`` (the feature matrix), ``judged_`` (a field set
    decides the account), ``uncertain_`` with ``uncertain_reasons_``, ``field_set_``
    (the deciding field set's name, "" for none) and ``model_``.

    Parameters
    ----------
    model : AuthenticityClassifier, path or name, optional
        Default: the shipped default model (see
        :func:`~trueclout.detect.default.resolve_model` for names).
    prior : float, optional
        Expected share of fake accounts in the data. Authenticity is P(real) under equal
        priors; with ``prior`` an account is flagged only when it is more likely fake than
        real in a population with that share of fakes. None: equal priors.
    threshold : float, optional
        On ``decision_scores_`` (1 - authenticity); overrides ``prior``.
    """

    default_threshold = 0.5

    def __init__(self, *, model: AuthenticityClassifier | str | os.PathLike | None = None,
                 prior: float | None = None, threshold: float | None = None) -> None:
        self.model = model
        self.prior = prior
        self.threshold = threshold

    def _fit(self, data: DetectionData) -> None:
        from .default import resolve_model
        if not isinstance(data, DetectionData):
            raise UsageError("SupervisedDetector.fit takes a DetectionData")
        clf = resolve_model(self.model)
        X, _ = account_features(data)
        n = data.n
        self.default_threshold = 1.0 - prior_threshold(clf.threshold_, self.prior)
        thr = self.default_threshold if self.threshold is None else float(self.threshold)
        auth, score, uncertain, why = classifier_scores(clf, X, thr)
        self.model_ = clf
        self.features_ = X
        self.judged_ = judgeable(X, clf)
        self.field_set_ = clf.field_sets_of(X) if n else np.zeros(0, object)
        self.uncertain_ = uncertain
        self.uncertain_reasons_ = np.where(uncertain, np.asarray(why, dtype=object), "") \
            if n else np.zeros(0, object)
        self.authenticity_ = auth
        self.decision_scores_ = score

    def _reasons(self, indices: np.ndarray) -> list[str]:
        # in chunks: the explanation holds rows x feature groups at once, which at a
        # million flagged accounts would take gigabytes
        out: list[str] = []
        step = 20_000
        for a in range(0, len(indices), step):
            part = self.model_.explain(self.features_[indices[a:a + step]], top=3,
                                       towards="fake")
            out.extend("; ".join(r) for r in part)
        return out


__all__ = ["SupervisedDetector", "classifier_scores", "has_profile"]
