"""Evaluations of the supervised classifier: Cresci 2015 cross-validation and
cross-source transfer between the simulator and Cresci 2015.

* :func:`cresci_cv`: E13 humans against INT bought followers, 10-fold stratified
  cross-validation (targets: MCC >= 0.99, AUC >= 0.999).
* :func:`cross_source`: train on the simulator, test on Cresci; train on Cresci, test on
  the simulator; and train on the simulator, test on Cresci with its fakes made older
  and larger (a stress test of "fakes bought years later"). Each direction reports AUC,
  MCC, F1 and accuracy at the model's own threshold, beside a plain random forest on the
  same data with the default threshold 0.5 (the baseline).

Fakes are the positive class of every metric.

Examples
--------
>>> metrics(np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.3, 0.6]), 0.5)["mcc"]
0.5774
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..detect.classifier import AuthenticityClassifier, predicted_fake
from ..detect.data import DetectionData
from ..detect.features import (FEATURE_NAMES, account_features,  # noqa: F401 (doctests)
                               profile_counts, with_counts)


#: Both Cresci 2015 and the simulator carry full profiles: only the ``profile`` field set
#: decides their accounts, so the others are not trained here.
_PROFILE = {"field_sets": ["profile"]}


def metrics(y: np.ndarray, authenticity: np.ndarray, threshold: float) -> dict[str, float]:
    """AUC, MCC, F1, accuracy, precision and recall of fakes (``y == 1``).

    Parameters
    ----------
    y : array of int
        1 = fake.
    authenticity : array
        P(real) per account.
    threshold : float
        Fake where authenticity is at or below it.

    Examples
    --------
    >>> metrics(np.array([0, 1]), np.array([0.9, 0.1]), 0.5)["auc"]
    1.0
    """
    from sklearn.metrics import (accuracy_score, f1_score, matthews_corrcoef,
                                 precision_score, recall_score, roc_auc_score)

    y = np.asarray(y).astype(int)
    pred = predicted_fake(authenticity, threshold).astype(int)
    both = 0 < y.sum() < len(y)
    return {
        "auc": round(float(roc_auc_score(y, 1.0 - authenticity)), 4) if both else None,
        "mcc": round(float(matthews_corrcoef(y, pred)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "n_fake": int(y.sum()), "n_real": int(len(y) - y.sum()),
    }


def _cresci_folder(data_dir: str | os.PathLike) -> Path | None:
    d = Path(data_dir)
    for cand in (d, d / "cresci-2015"):
        if (cand / "E13_users.csv").is_file() and (cand / "INT_users.csv").is_file():
            return cand
    return None


def labelled_from_paths(paths: list[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray,
                                                                 DetectionData]:
    """Ingest ``paths`` into an in-memory store; return the features and classes of the
    labelled accounts (1 = fake) and the :class:`DetectionData`.

    Examples
    --------
    >>> labelled_from_paths(["/nonexistent"])[0].shape[0]
    0
    """
    from ..ingest.run import ingest
    from ..store import Store

    from ..detect.training import training_labels

    with Store(":memory:") as store:
        ingest(store, paths)
        data = DetectionData.from_store(store)
        lab = training_labels(store, data)
    X, _ = account_features(data)
    return X[lab.vertices], lab.y, data


def cresci_data(data_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray] | None:
    """Features and classes of E13 humans (0) and INT fakes (1); None when absent.

    Examples
    --------
    >>> cresci_data("/nonexistent") is None
    True
    """
    folder = _cresci_folder(data_dir)
    if folder is None:
        return None
    X, y, _ = labelled_from_paths([folder / "E13_users.csv", folder / "INT_users.csv"])
    return X, y


def simulator_data(accounts: int | None = None, seed: int | None = None,
                   fraud_share: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and classes (human 0; fake and farm 1) of the simulator model's
    training platforms (:func:`~trueclout.detect.default.simulator_training_data`).

    Examples
    --------
    >>> X, y = simulator_data(accounts=2000, seed=3)  # doctest: +SKIP
    """
    from ..detect.default import simulator_training_data

    X, y, _, _ = simulator_training_data(accounts, seed, fraud_share)
    return X, y


def cresci_cv(data_dir: str | os.PathLike, *, folds: int = 10, seed: int = 0,
              **params: Any) -> dict[str, Any] | None:
    """10-fold stratified cross-validation on E13 humans against INT fakes.

    Parameters
    ----------
    data_dir : path
        The ``cresci-2015`` folder (``E13_users.csv``, ``INT_users.csv``) or its parent.
    folds, seed : int
    **params
        Passed to :class:`~trueclout.detect.classifier.AuthenticityClassifier`.

    Returns
    -------
    dict or None
        Pooled out-of-fold ``auc, mcc, f1, accuracy, precision, recall``, the per-fold
        minimum MCC and AUC, and ``seconds``; None when the files are absent.

    Examples
    --------
    >>> cresci_cv("/nonexistent") is None
    True
    """
    from sklearn.model_selection import StratifiedKFold

    got = cresci_data(data_dir)
    if got is None:
        return None
    X, y = got
    t0 = time.perf_counter()
    auth = np.zeros(len(y))
    thr = 0.5
    per_fold = []
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(X, y):
        m = AuthenticityClassifier(random_state=seed, **{**_PROFILE, **params}).fit(X[tr], y[tr])
        auth[te] = m.authenticity(X[te])
        thr = m.threshold_
        per_fold.append(metrics(y[te], auth[te], thr))
    out = metrics(y, auth, thr)
    out["min_fold_mcc"] = min(f["mcc"] for f in per_fold)
    out["min_fold_auc"] = min(f["auc"] for f in per_fold)
    out["folds"] = folds
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _random_forest(X: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    rf.fit(np.nan_to_num(X, nan=-1.0), y)
    return lambda Z: rf.predict_proba(np.nan_to_num(Z, nan=-1.0))[:, 0]


def age_and_grow(X: np.ndarray, y: np.ndarray, *, seed: int = 0,
                 years: tuple[float, float] = (2.0, 8.0),
                 growth: tuple[float, float] = (3.0, 30.0)) -> np.ndarray:
    """A stress copy of ``X`` whose fakes are older and larger, as fakes bought years
    later are (older, with more followers and more posts): each fake's age
    grows by ``years`` (uniform) and its followers, following and posts counts ``c``
    become ``(c + 1) g - 1`` for one factor ``g`` (log-uniform in ``growth``), so its
    follower ratio stays and its rates per day change. Likes and lists stay.

    Examples
    --------
    >>> X = np.zeros((2, len(FEATURE_NAMES)), np.float32)
    >>> Z = age_and_grow(X, np.array([0, 1]))
    >>> j = FEATURE_NAMES.index("log_followers")
    >>> float(Z[0, j]), bool(Z[1, j] > 1)
    (0.0, True)
    """
    rng = np.random.default_rng(seed)
    f = np.flatnonzero(y == 1)
    c = profile_counts(X[f])
    g = np.exp(rng.uniform(np.log(growth[0]), np.log(growth[1]), len(f)))
    changes = {k: (c[k] + 1.0) * g - 1.0 for k in ("followers", "following", "posts")}
    changes["age"] = c["age"] + 365.25 * rng.uniform(*years, len(f))
    Z = np.array(X, dtype=np.float32, copy=True)
    Z[f] = with_counts(X[f], **changes)
    return Z


def cross_source(data_dir: str | os.PathLike, *, accounts: int | None = None,
                 seed: int | None = None, baseline: bool = True,
                 **params: Any) -> dict[str, Any] | None:
    """Train on one source, test on the other: simulator and Cresci 2015 (E13 vs INT).

    The simulator side is the simulator model's training data: the platforms of
    :data:`~trueclout.detect.default.SIMULATOR_PLATFORMS`.

    Parameters
    ----------
    data_dir : path
        The ``cresci-2015`` folder or its parent.
    accounts, seed : int, optional
        Of the simulated platforms (the simulator model's settings by default).
    baseline : bool
        Also report a random forest on all features with threshold 0.5.
    **params
        Passed to :class:`~trueclout.detect.classifier.AuthenticityClassifier`.

    Returns
    -------
    dict or None
        ``sim_to_cresci``, ``cresci_to_sim`` (all platforms together),
        ``cresci_to_sim_platforms`` (one entry per platform) and ``sim_to_cresci_aged``
        (Cresci with its fakes aged 2-8 years and grown 3-30 times, see
        :func:`age_and_grow`), each with the metrics of :func:`metrics`; with
        ``baseline``, the random forest's under ``rf_*`` keys. None when the Cresci files
        are absent.

    Examples
    --------
    >>> cross_source("/nonexistent") is None
    True
    """
    from .. import config
    from ..detect.default import SIMULATOR_PLATFORMS, simulator_training_data

    got = cresci_data(data_dir)
    if got is None:
        return None
    Xc, yc = got
    t0 = time.perf_counter()
    seed0 = int(config.get("simulator_model_seed") if seed is None else seed)
    total = int(accounts or config.get("simulator_model_accounts"))
    parts = [simulator_training_data(total // len(SIMULATOR_PLATFORMS), seed0 + i, None, [p])
             for i, p in enumerate(SIMULATOR_PLATFORMS)]
    Xs = np.vstack([p[0] for p in parts])
    ys = np.concatenate([p[1] for p in parts])
    params = {**_PROFILE, **params}
    m_sim = AuthenticityClassifier(**params).fit(Xs, ys)
    m_cre = AuthenticityClassifier(**params).fit(Xc, yc)
    Xc_aged = age_and_grow(Xc, yc)
    out: dict[str, Any] = {
        "sim_to_cresci": metrics(yc, m_sim.authenticity(Xc), m_sim.threshold_),
        "sim_to_cresci_aged": metrics(yc, m_sim.authenticity(Xc_aged), m_sim.threshold_),
        "cresci_to_sim": metrics(ys, m_cre.authenticity(Xs), m_cre.threshold_),
        "cresci_to_sim_platforms": [
            {"platform": p[3][0]["name"],
             **metrics(p[1], m_cre.authenticity(p[0]), m_cre.threshold_)}
            for p in parts],
    }
    if baseline:
        rf_sim = _random_forest(Xs, ys, 0)
        rf_cre = _random_forest(Xc, yc, 0)
        out["rf_sim_to_cresci"] = metrics(yc, rf_sim(Xc), 0.5)
        out["rf_sim_to_cresci_aged"] = metrics(yc, rf_sim(Xc_aged), 0.5)
        out["rf_cresci_to_sim"] = metrics(ys, rf_cre(Xs), 0.5)
        out["rf_cresci_to_sim_platforms"] = [
            {"platform": p[3][0]["name"], **metrics(p[1], rf_cre(p[0]), 0.5)} for p in parts]
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


__all__ = ["metrics", "cresci_cv", "cross_source", "cresci_data", "simulator_data",
           "labelled_from_paths", "age_and_grow"]
