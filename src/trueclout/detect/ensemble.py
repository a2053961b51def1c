"""The ensemble: every detector's evidence combined into one authenticity per account.

Members and what they say about an account:

============  =======================================  ==============================
member        detector                                 flags the account as
============  =======================================  ==============================
classifier    :class:`~.supervised.SupervisedDetector`  fake (or bot if declared)
lockstep      :class:`~.lockstep.LockstepDetector`      fake (a bought follower)
farm          :class:`~.farm.FarmDetector`              farm (follow-back farming)
pods          :class:`~.pods.PodDetector`               pod (engagement pod)
sybilrank     :class:`~.sybilrank.SybilRankDetector`    soft evidence only
growth        :class:`~.growth.GrowthDetector`          bought followers (a customer:
                                                       says nothing of the account's
                                                       own authenticity)
============  =======================================  ==============================

Combination. Each member's score is first mapped so that its own threshold sits at 0.5
(piecewise linear: ``[0, t] -> [0, 0.5]`` and ``[t, 1] -> [0.5, 1]``), so members with
different scales speak the same language. Suspicion is then a weighted noisy-OR,
``1 - prod_i (1 - w_i * s_i)`` over the members that judge the account itself, and
``authenticity_ = 1 - suspicion``. A member of weight 1 past its threshold is enough to
flag an account; two members half-way there together also flag it. Weights are in config
(``ensemble_weight_<member>``); SybilRank's is low (0.15), so that it can tip a doubtful
case but never flag on its own: trust that does not reach an account is weak evidence,
and none at all for an account nobody follows. The classifier weighs 1 for accounts
known only by their profile (a profile dump, the hidden case of another population) and
``ensemble_weight_classifier_with_graph`` (0.45) where the graph knows the account's
follows: there a profile that merely looks like a bought follower needs a graph
detector's corroboration. Measured on the simulator (8,000 and 20,000 accounts): with
weight 1 the classifier alone flagged 0.7-1.0% of humans (near-empty accounts that look
exactly like near-empty fakes) and fraud precision was 0.49-0.59; with 0.45 no human was
flagged and every fraudulent account still was.

Categories. A flagged account takes the category of the most specific member that
flagged it (pods, then farm, then lockstep and the classifier), else of its strongest
member. An account
whose profile the classifier abstained on (``uncertain``: unlike anything it was trained
on, or too few fields) and that no member flags is ``uncertain``. Another account
that is not flagged is ``mass_follower`` when it follows at least
``mass_follower_min_following`` accounts with a following/followers ratio of at least
``mass_follower_min_ratio``, ``inactive`` when it has not posted in
``inactive_days`` days (or never, where posts are known), and ``real`` otherwise.

Examples
--------
>>> import numpy as np
>>> from trueclout.detect.base import BaseDetector
>>> class Const(BaseDetector):
...     def __init__(self, *, values=None):
...         self.values = values
...     def _fit(self, data):
...         self.decision_scores_ = np.asarray(self.values, float)
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> data = DetectionData.from_graph(toy_graph())
>>> e = EnsembleDetector(members={"a": (Const(values=[0, 0, 0, .9, .3, .3]), "fake"),
...                               "b": (Const(values=[0, 0, 0, 0, .4, 0]), "farm")}).fit(data)
>>> e.labels_.tolist(), list(e.category_[3:5])
([0, 0, 0, 1, 1, 0], ['fake', 'farm'])
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .. import config
from ..errors import UsageError
from .base import BaseDetector
from .data import DetectionData

#: The default members: name -> (module:class, category, judges the account itself).
DEFAULT_MEMBERS: dict[str, tuple[str, str | None, bool]] = {
    "classifier": ("trueclout.detect.supervised:SupervisedDetector", "fake", True),
    "lockstep": ("trueclout.detect.lockstep:LockstepDetector", "fake", True),
    "farm": ("trueclout.detect.farm:FarmDetector", "farm", True),
    "pods": ("trueclout.detect.pods:PodDetector", "pod", True),
    "sybilrank": ("trueclout.detect.sybilrank:SybilRankDetector", None, True),
    "growth": ("trueclout.detect.growth:GrowthDetector", "customer", False),
}


#: Higher is more specific: it names how an account is inauthentic, not only that it is.
_SPECIFICITY = {"fake": 1, "farm": 2, "pod": 3}


def _load(path: str) -> type:
    module, cls = path.split(":")
    return getattr(importlib.import_module(module), cls)


def align_to_threshold(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Map scores piecewise linearly so that ``threshold`` lands on 0.5.

    Examples
    --------
    >>> align_to_threshold(np.array([0.0, 0.2, 0.6, 1.0]), 0.2).round(2).tolist()
    [0.0, 0.5, 0.75, 1.0]
    """
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    t = float(np.clip(threshold, 1e-9, 1 - 1e-9))
    return np.where(s < t, 0.5 * s / t, 0.5 + 0.5 * (s - t) / (1 - t))


def noisy_or(aligned: dict, judges: dict, weight, in_graph: np.ndarray,
             followed: np.ndarray) -> np.ndarray:
    """Suspicion of each account: the weighted noisy-OR of the members' aligned scores.

    Parameters
    ----------
    aligned : dict
        member -> scores aligned to its threshold (:func:`align_to_threshold`).
    judges : dict
        member -> whether it judges the account itself (others are left out).
    weight : callable
        member name -> weight (also asked for ``"classifier_with_graph"``); clipped to
        [0, 1].
    in_graph, followed : bool arrays
        Accounts whose follows the graph knows (the classifier weighs
        ``classifier_with_graph`` there) and accounts somebody follows (SybilRank weighs
        0 elsewhere).

    Examples
    --------
    >>> s = noisy_or({"a": np.array([0.5, 1.0]), "b": np.array([0.5, 0.0])},
    ...              {"a": True, "b": True}, lambda m: 1.0, np.ones(2, bool), np.ones(2, bool))
    >>> s.round(2).tolist()
    [0.75, 1.0]
    """
    n = np.asarray(in_graph).shape[0]
    log_keep = np.zeros(n)
    for name, s in aligned.items():
        if judges[name]:
            w = np.full(n, min(max(weight(name), 0.0), 1.0))
            if name == "classifier":
                # where the graph knows the account's follows, the profile alone
                # needs the graph's corroboration to flag it
                w[in_graph] = min(max(weight("classifier_with_graph"), 0.0), 1.0)
            elif name == "sybilrank":
                # no trust reaching an account nobody follows is no evidence
                w[~followed] = 0.0
            log_keep += np.log1p(-np.clip(w * s, 0.0, 1 - 1e-12))
    return 1.0 - np.exp(log_keep)


def categorize(suspicion: np.ndarray, threshold: float, aligned: dict, cats: dict,
               judges: dict, labels: dict, *, declared: np.ndarray, following: np.ndarray,
               followers: np.ndarray, inactive: np.ndarray,
               uncertain: np.ndarray | None = None) -> np.ndarray:
    """The category of each account (module docstring, "Categories").

    Parameters
    ----------
    suspicion : array
        From :func:`noisy_or`; flagged at ``threshold``.
    aligned, cats, judges, labels : dict
        Per member: aligned scores, category (or None), whether it judges the account
        itself, and its own ``labels_``.
    declared, following, followers, inactive : arrays
        Declared bots, profile following and followers counts (0 where unknown), and
        the inactive mask (:meth:`EnsembleDetector._inactive`).
    uncertain : bool array, optional
        Accounts whose profile the classifier abstained on; unless another member flags
        them they are ``uncertain``, not ``real``.

    Examples
    --------
    >>> categorize(np.array([0.9, 0.1, 0.1]), 0.5, {"a": np.array([0.9, 0.1, 0.1])},
    ...            {"a": "farm"}, {"a": True}, {"a": np.array([1, 0, 0])},
    ...            declared=np.zeros(3, bool), following=np.array([0, 5000, 0]),
    ...            followers=np.array([0, 10, 0]), inactive=np.array([0, 0, 1], bool)).tolist()
    ['farm', 'mass_follower', 'inactive']
    """
    n = np.asarray(suspicion).shape[0]
    cat = np.full(n, "real", dtype=object)
    flagged = suspicion >= threshold
    names = [m for m in aligned if judges[m] and cats[m]]
    if names and flagged.any():
        stack = np.vstack([aligned[m] for m in names])
        best = np.asarray(names, dtype=object)[np.argmax(stack, axis=0)]
        lab = np.asarray([cats[m] for m in best], dtype=object)
        cat[flagged] = lab[flagged]
        # the most specific member that flagged the account on its own wins
        for m in sorted(names, key=lambda m: _SPECIFICITY.get(cats[m], 0)):
            own = flagged & (labels[m] > 0)
            cat[own] = cats[m]
    elif flagged.any():
        cat[flagged] = "fake"
    if uncertain is not None:
        cat[~flagged & np.asarray(uncertain, bool)] = "uncertain"
    cat[flagged & declared] = "bot"
    cat[declared & ~flagged] = "bot"
    mass = ((following >= config.get("mass_follower_min_following"))
            & (following / np.maximum(followers, 1) >= config.get("mass_follower_min_ratio")))
    cat[(cat == "real") & mass] = "mass_follower"
    cat[(cat == "real") & inactive] = "inactive"
    return cat


class EnsembleDetector(BaseDetector):
    """All detectors combined into ``authenticity_``, ``category_`` and reasons.

    Parameters
    ----------
    members : dict, optional
        name -> ``(detector, category)`` or ``(detector, category, judges_self)``; the
        default runs :data:`DEFAULT_MEMBERS` (members whose detector cannot run on the
        data, such as pods without interactions, are skipped and listed in
        ``skipped_``).
    model : AuthenticityClassifier, path or name, optional
        The classifier's model (default: the shipped model trained on the public
        labelled data sets; ``"simulator"`` for the simulator's).
    weights : dict, optional
        Member weights; default from config ``ensemble_weight_<name>``.
    threshold : float, optional
        On ``decision_scores_ = 1 - authenticity_`` (default 0.5).

    Attributes
    ----------
    authenticity_ : array
        1 means real.
    category_ : array of str
        real, fake, bot, farm, pod, mass_follower, inactive or uncertain.
    members_ : dict
        name -> fitted detector.
    aligned_ : dict
        name -> member scores aligned to their thresholds.
    bought_ : array
        Customer evidence (0 to 1): the account's own followers look bought.
    """

    default_threshold = 0.5

    def __init__(self, *, members: dict | None = None, model: Any = None,
                 weights: dict | None = None, threshold: float | None = None) -> None:
        self.members = members
        self.model = model
        self.weights = weights
        self.threshold = threshold

    def _members(self) -> dict[str, tuple[BaseDetector, str | None, bool]]:
        if self.members is not None:
            out = {}
            for name, spec in self.members.items():
                det, cat, *rest = spec
                out[name] = (det, cat, rest[0] if rest else True)
            return out
        out = {}
        for name, (path, cat, judges) in DEFAULT_MEMBERS.items():
            try:
                cls = _load(path)
            except (ImportError, AttributeError):
                continue
            det = cls(model=self.model) if name == "classifier" else cls()
            out[name] = (det, cat, judges)
        return out

    def _weight(self, name: str) -> float:
        if self.weights and name in self.weights:
            return float(self.weights[name])
        key = f"ensemble_weight_{name}"
        try:
            return float(config.get(key))
        except UsageError:
            return 1.0

    def _fit(self, data: DetectionData, progress=None) -> None:
        if not isinstance(data, DetectionData):
            raise UsageError("EnsembleDetector.fit takes a DetectionData")
        n = data.n
        fitted: dict[str, BaseDetector] = {}
        aligned: dict[str, np.ndarray] = {}
        cats: dict[str, str | None] = {}
        judges: dict[str, bool] = {}
        skipped: dict[str, str] = {}
        for name, (det, cat, self_judge) in self._members().items():
            if progress:
                progress(name)
            try:
                det.fit(data)
            except UsageError as exc:  # a member that cannot run on this data
                skipped[name] = str(exc)
                continue
            fitted[name] = det
            aligned[name] = align_to_threshold(det.decision_scores_, det.threshold_)
            cats[name] = cat
            judges[name] = self_judge
        g = data.graph
        followed = g.in_degree() > 0
        in_graph = followed | (g.out_degree() > 0)
        suspicion = noisy_or(aligned, judges, self._weight, in_graph, followed)
        self.members_ = fitted
        self.aligned_ = aligned
        self.skipped_ = skipped
        self.authenticity_ = 1.0 - suspicion
        self.decision_scores_ = suspicion
        self.bought_ = np.zeros(n)
        for name, s in aligned.items():
            if cats[name] == "customer":
                self.bought_ = np.maximum(self.bought_, s)
        lock = fitted.get("lockstep")
        if lock is not None and hasattr(lock, "customer_scores_"):
            self.bought_ = np.maximum(self.bought_, np.asarray(lock.customer_scores_, float))
        self._cats = cats
        self._judges = judges
        self.category_ = self._categories(data, suspicion)

    def _categories(self, data: DetectionData, suspicion: np.ndarray) -> np.ndarray:
        thr = self.default_threshold if self.threshold is None else self.threshold
        return categorize(suspicion, thr, self.aligned_, self._cats, self._judges,
                          {m: d.labels_ for m, d in self.members_.items()},
                          declared=data.column("declared_bot", fill=0) > 0,
                          following=data.column("following_count", fill=0),
                          followers=data.column("followers_count", fill=0),
                          inactive=self._inactive(data),
                          uncertain=getattr(self.members_.get("classifier"), "uncertain_",
                                            None))

    @staticmethod
    def _inactive(data: DetectionData) -> np.ndarray:
        n = data.n
        days = float(config.get("inactive_days"))
        observed = data.column("observed_at")
        posts_count = data.column("posts_count")
        out = np.zeros(n, dtype=bool)
        if data.activity is not None:
            last = np.asarray(data.activity.column("last_post").to_numpy(zero_copy_only=False),
                              dtype=np.float64)
            ref = np.where(np.isfinite(observed), observed, np.nanmax(last)
                           if np.isfinite(last).any() else np.nan)
            never = ~np.isfinite(last)
            stale = np.isfinite(last) & np.isfinite(ref) & (ref - last > days * 86400)
            out |= stale | (never & ~(posts_count > 0))
        else:
            out |= posts_count == 0
        return out

    def _reasons(self, indices: np.ndarray) -> list[str]:
        out = []
        for i in indices:
            parts = sorted(((self.aligned_[m][i], m) for m in self.aligned_
                            if self._judges[m] and self.members_[m].labels_[i]),
                           reverse=True)
            texts = [self.members_[m].reasons_[i] for _, m in parts if self.members_[m].reasons_[i]]
            if not texts:
                texts = ["several detectors are moderately suspicious at once: "
                         + ", ".join(f"{m} {self.aligned_[m][i]:.2f}"
                                     for m in self.aligned_ if self.aligned_[m][i] > 0.25)]
            out.append("; ".join(texts[:3]))
        return out

    def top_reasons(self, v: int, k: int = 3, *, self_only: bool = False) -> list[str]:
        """Up to ``k`` plain-words reasons for account ``v``, strongest first, from every
        member past its threshold (also for accounts the ensemble did not flag); with
        ``self_only``, only members that judge the account itself (not its growth).

        Examples
        --------
        >>> EnsembleDetector().top_reasons  # doctest: +ELLIPSIS
        <bound method EnsembleDetector.top_reasons of EnsembleDetector(...)>
        """
        parts = sorted(((self.aligned_[m][v], m) for m in self.aligned_
                        if self.members_[m].labels_[v]
                        and (self._judges[m] or not self_only)), reverse=True)
        return [self.members_[m].reasons_[v] for _, m in parts
                if self.members_[m].reasons_[v]][:k]


#: The label ``detect`` prints for each category.
_PREDICTED = {"fake": "fake", "bot": "bot", "farm": "farm", "pod": "pod",
              "uncertain": "uncertain"}


def predicted_labels(labels: np.ndarray, category: np.ndarray) -> np.ndarray:
    """The label ``trueclout detect`` gives each account: a flagged account's category
    (fake, bot, farm, pod), ``bot`` for a declared bot, ``uncertain`` where the
    classifier abstained and nothing flagged the account, else ``real`` (inactive
    accounts and mass followers are real people).

    Examples
    --------
    >>> predicted_labels(np.array([1, 0, 0, 0]),
    ...                  np.array(["farm", "uncertain", "inactive", "bot"])).tolist()
    ['farm', 'uncertain', 'real', 'bot']
    """
    cat = np.asarray(category, dtype=object)
    flagged = np.asarray(labels) > 0
    out = np.full(len(cat), "real", dtype=object)
    for c, label in _PREDICTED.items():
        out[cat == c] = label
    out[flagged & (out == "real")] = "fake"
    return out


class _FlagsNobody(BaseDetector):
    """A member that scores every account 0 (real)."""

    def __init__(self) -> None:
        pass

    def _fit(self, data) -> None:
        self.decision_scores_ = np.zeros(data.n)


def neutral_ensemble() -> EnsembleDetector:
    """An ensemble that flags nobody: every account real. For examples, tests and bare
    graphs without profiles, where the detectors have nothing to read.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> ens = neutral_ensemble().fit(DetectionData.from_graph(toy_graph()))
    >>> ens.authenticity_.tolist(), int(ens.labels_.sum())
    ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0)
    """
    return EnsembleDetector(members={"none": (_FlagsNobody(), "fake")})

