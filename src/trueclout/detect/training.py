"""Training the authenticity classifier on a store's labels, across sources.

:func:`train_model` (``trueclout train``) reads every labelled account of the store,
keeps the labels of the sources asked for (all by default), drops accounts that sources
disagree on, and trains :class:`~trueclout.detect.classifier.AuthenticityClassifier`
with each account's sources, so that the classifier calibrates and measures itself
leave-one-source-out. :func:`source_table` turns that measurement into the table of
``trueclout eval sources``: for each source held out, how a model that never saw it
does on it (AUC, MCC at the tool's threshold, fakes caught, humans flagged, ECE), with
:func:`in_set_cv` (train and test within one source) for contrast.

Positives carry ``fake``, ``bot`` or ``farm``; negatives ``human``. An account may be
labelled by several sources (Cresci 2017's fake followers hold all of Cresci 2015's
INT): it is one training row, member of each of them, and is left out of training
whenever any of its sources is held out (``../shared/data/README.md``: "dedupe by id").

Examples
--------
>>> from trueclout.store import Store
>>> from trueclout.detect.data import DetectionData
>>> s = Store(":memory:")
>>> training_labels(s, DetectionData.from_store(s)).counts["conflicting"]
0
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from .classifier import (NEGATIVE_LABELS, POSITIVE_LABELS, AuthenticityClassifier,
                         source_metrics, predicted_fake, source_weights)
from .data import DetectionData
from .features import account_features
from .fieldsets import FIELD_SETS, choose_field_sets
from .supervised import has_profile


@dataclass
class TrainingLabels:
    """The labelled vertices of a store, their class and their sources.

    Attributes
    ----------
    vertices : int array
    y : int array
        1 fake (or bot, farm), 0 human.
    sources : list of str
    member : bool array, shape (len(vertices), len(sources))
    counts : dict
        ``real``, ``fake``, ``conflicting`` (labelled both ways, left out) and
        ``per_source`` (``{source: [real, fake]}``).

    Examples
    --------
    >>> TrainingLabels(np.zeros(0, int), np.zeros(0, int), [], np.zeros((0, 0), bool)).n
    0
    """

    vertices: np.ndarray
    y: np.ndarray
    sources: list[str]
    member: np.ndarray
    counts: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(len(self.vertices))


def training_labels(store, data: DetectionData,
                    label_sources: Iterable[str] | None = None) -> TrainingLabels:
    """Vertices with a training label, their class and the sources that label them.

    An account labelled human by one source and fake (bot, farm) by another is left out
    and counted as ``conflicting``; role labels of the simulator (customer,
    fast_growth, pod) count only through ``human``.

    Parameters
    ----------
    store : trueclout.store.Store
    data : DetectionData
        Read from ``store``.
    label_sources : iterable of str, optional
        Keep only labels of these sources. An unknown name is a usage error.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> s = Store(":memory:")
    >>> training_labels(s, DetectionData.from_store(s), ["nope"])
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: no labels from source nope; the store has labels from: (none)
    """
    lt = store.label_table()
    all_sources = sorted(set(lt.column("source").to_pylist())) if lt.num_rows else []
    if label_sources:
        wanted = list(dict.fromkeys(label_sources))
        missing = [s for s in wanted if s not in all_sources]
        if missing:
            raise UsageError(f"no labels from source {', '.join(missing)}; the store has "
                             f"labels from: {', '.join(all_sources) or '(none)'}")
        keep = np.isin(np.asarray(lt.column("source").to_pylist(), dtype=object), wanted)
        lt = lt.filter(pa.array(keep))
    v = data.graph.vertices_of_uids(lt.column("uid").to_numpy()) if lt.num_rows else \
        np.zeros(0, np.int64)
    lab = np.asarray(lt.column("label").to_pylist(), dtype=object)
    src = np.asarray(lt.column("source").to_pylist(), dtype=object)
    ok = v >= 0
    v, lab, src = v[ok], lab[ok], src[ok]
    pos = np.zeros(data.n, bool)
    neg = np.zeros(data.n, bool)
    pos[v[np.isin(lab, POSITIVE_LABELS)]] = True
    neg[v[np.isin(lab, NEGATIVE_LABELS)]] = True
    both = pos & neg
    verts = np.flatnonzero((pos | neg) & ~both)
    names = sorted(set(src[np.isin(lab, POSITIVE_LABELS + NEGATIVE_LABELS)].tolist()))
    row_of = np.full(data.n, -1, np.int64)
    row_of[verts] = np.arange(len(verts))
    member = np.zeros((len(verts), len(names)), bool)
    cls = np.isin(lab, POSITIVE_LABELS + NEGATIVE_LABELS)
    r = row_of[v[cls]]
    col = {s: j for j, s in enumerate(names)}
    good = r >= 0
    member[r[good], [col[s] for s in src[cls][good]]] = True
    y = pos[verts].astype(np.int64)
    per_source = {s: [int((y[member[:, j]] == 0).sum()), int((y[member[:, j]] == 1).sum())]
                  for j, s in enumerate(names)}
    counts = {"fake": int(y.sum()), "real": int((y == 0).sum()),
              "conflicting": int(both.sum()), "per_source": per_source}
    return TrainingLabels(verts, y, names, member, counts)


def held_out_probabilities(model: AuthenticityClassifier, X: np.ndarray,
                           labels: TrainingLabels) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per training source: its accounts' classes and held-out P(fake), each account
    decided by the field set its own fields give (NaN where none can).

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> src = np.array(["a", "b"] * 20)
    >>> m = AuthenticityClassifier(max_iter=5).fit(X, y, sources=src)
    >>> lab = TrainingLabels(np.arange(40), y, ["a", "b"], np.stack([src == "a", src == "b"], 1))
    >>> sorted(held_out_probabilities(m, X, lab))
    ['a', 'b']
    """
    idx = choose_field_sets(X, list(model.models_))
    held = getattr(model, "held_out_", {})
    out = {}
    for j, s in enumerate(labels.sources):
        rows = np.flatnonzero(labels.member[:, j])
        p = np.full(len(rows), np.nan)
        for i, fs in enumerate(FIELD_SETS):
            mine = idx[rows] == i
            if not mine.any() or s not in held.get(fs.name, {}):
                continue
            hrows, hp = held[fs.name][s]
            where = {int(r): k for k, r in enumerate(hrows)}
            for k in np.flatnonzero(mine):
                at = where.get(int(rows[k]))
                if at is not None:
                    p[k] = hp[at]
        out[s] = (labels.y[rows], p)
    return out


#: Authenticity thresholds the held-out sweep reports.
SWEEP = (0.5, 0.4, 0.3, 0.25, 0.2, 0.15)


def threshold_sweep(model: AuthenticityClassifier, X: np.ndarray, labels: TrainingLabels,
                    thresholds=SWEEP) -> list[dict]:
    """For each authenticity threshold, per held-out source: humans flagged, fakes
    caught and MCC (what the choice of ``classifier_threshold`` rests on).

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> src = np.array(["a", "b"] * 20)
    >>> m = AuthenticityClassifier(max_iter=5).fit(X, y, sources=src)
    >>> lab = TrainingLabels(np.arange(40), y, ["a", "b"], np.stack([src == "a", src == "b"], 1))
    >>> [r["threshold"] for r in threshold_sweep(m, X, lab, (0.5, 0.3))]
    [0.5, 0.3]
    """
    probs = held_out_probabilities(model, X, labels)
    out = []
    for t in thresholds:
        row = {"threshold": t, "sources": {}}
        for s, (y, p) in probs.items():
            ok = ~np.isnan(p)
            row["sources"][s] = {k: v for k, v in source_metrics(y[ok], p[ok], t).items()
                                 if k in ("humans_flagged", "fakes_caught", "mcc")}
        out.append(row)
    return out


def source_table(model: AuthenticityClassifier, X: np.ndarray, labels: TrainingLabels
                 ) -> list[dict]:
    """One row per training source: how a model that never saw it does on it.

    Each account of the source is decided by the field set its own fields give (as
    ``detect`` would), with its P(fake) from that field set's trees trained without the
    source (:attr:`AuthenticityClassifier.held_out_`).

    Returns
    -------
    list of dict
        ``source``, ``real``, ``fake``, ``auc``, ``mcc``, ``fakes_caught``,
        ``humans_flagged``, ``ece``, ``field_sets`` (accounts decided by each),
        ``undecided`` (accounts with a profile that no field set can decide) and
        ``no_profile`` (labelled accounts whose profile the data does not hold).

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> src = np.array(["a", "b"] * 20)
    >>> m = AuthenticityClassifier(max_iter=5).fit(X, y, sources=src)
    >>> lab = TrainingLabels(np.arange(40), y, ["a", "b"], np.stack([src == "a", src == "b"], 1))
    >>> [r["source"] for r in source_table(m, X, lab)]
    ['a', 'b']
    """
    idx = choose_field_sets(X, list(model.models_))
    out = []
    for j, (s, (y, p)) in enumerate(held_out_probabilities(model, X, labels).items()):
        rows = np.flatnonzero(labels.member[:, j])
        used = {fs.name: int((idx[rows] == i).sum()) for i, fs in enumerate(FIELD_SETS)
                if (idx[rows] == i).any()}
        ok = ~np.isnan(p)
        known = has_profile(X[rows])
        m = source_metrics(y[ok], p[ok], model.threshold_)
        out.append({"source": s, **m, "field_sets": used,
                    "undecided": int((~ok & known).sum()),
                    "no_profile": int((~known).sum()), "trained_on": s in model.sources_})
    return out


def mix_score(clf: AuthenticityClassifier, X: np.ndarray, labels: TrainingLabels,
              mix: Iterable[str], field_set: str = "profile") -> tuple[float, dict]:
    """How well a mix of training sources generalises: for every labelled source, trees
    of ``field_set`` trained on the mix without it score its accounts; the AUC is taken
    within the source when it holds both classes, and for a source of bots only, of its
    bots against the held-out humans of every other source. Returns the mean AUC over
    all sources and the AUC of each.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> src = np.array(["a", "b"] * 20)
    >>> lab = TrainingLabels(np.arange(40), y, ["a", "b"], np.stack([src == "a", src == "b"], 1))
    >>> clf = AuthenticityClassifier(max_iter=5, min_samples_leaf=2)
    >>> score, per = mix_score(clf, X, lab, ["a", "b"])
    >>> sorted(per), score
    (['a', 'b'], 1.0)
    """
    from sklearn.metrics import roc_auc_score

    from .classifier import home_source
    from .fieldsets import BY_NAME
    fs = BY_NAME[field_set]
    rows = np.flatnonzero(fs.has_fields(X))
    V = X[rows][:, fs.columns]
    y = labels.y[rows]
    member = labels.member[rows]
    mix = set(mix)
    in_mix = np.array([s in mix for s in labels.sources])
    trainable = member[:, in_mix].any(axis=1)
    home = home_source(labels.sources, member)
    w = np.zeros(len(rows))
    scheme = str(clf._cfg("weighting", "classifier_source_weighting"))
    w[trainable] = source_weights(home[trainable], y[trainable], scheme)
    rng = np.random.default_rng(clf.random_state)
    scores: dict[str, np.ndarray] = {}
    for j, s in enumerate(labels.sources):
        test = member[:, j]
        train = trainable & ~test
        if not test.any() or min(int((y[train] == 1).sum()), int((y[train] == 0).sum())) < 2:
            continue
        scores[s] = clf._train_trees(fs, V[train], y[train], w[train], rng).raw(V[test])
    humans = np.concatenate([scores[s][y[member[:, j]] == 0]
                             for j, s in enumerate(labels.sources) if s in scores]) \
        if scores else np.zeros(0)
    per: dict[str, float] = {}
    for j, s in enumerate(labels.sources):
        if s not in scores:
            continue
        ys = y[member[:, j]]
        if len(np.unique(ys)) == 2:
            per[s] = float(roc_auc_score(ys, scores[s]))
        elif ys[0] == 1 and humans.size:
            per[s] = float(roc_auc_score(np.r_[np.zeros(humans.size), np.ones(ys.size)],
                                         np.r_[humans, scores[s]]))
    return (float(np.mean(list(per.values()))) if per else 0.0), per


def select_sources(X: np.ndarray, labels: TrainingLabels, *, field_set: str = "profile",
                   min_gain: float = 0.002, progress=None, **params: Any) -> dict:
    """Choose the mix of training sources by leave-one-source-out generalisation (Yang et
    al. 2020, "Scalable and generalizable social bot detection through data selection"):
    greedy backward elimination, each round dropping the source whose removal raises
    :func:`mix_score` most, while it rises by at least ``min_gain``. The trees compared
    have ``classifier_select_max_iter`` rounds unless ``max_iter`` is given.

    Returns
    -------
    dict
        ``chosen`` (the sources kept), ``dropped``, ``score`` (the chosen mix's mean
        held-out AUC) and ``trace`` (each mix tried with its score and per-source AUCs).

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> src = np.array(["a", "b"] * 20)
    >>> lab = TrainingLabels(np.arange(40), y, ["a", "b"], np.stack([src == "a", src == "b"], 1))
    >>> select_sources(X, lab, max_iter=5, min_samples_leaf=2)["chosen"]
    ['a', 'b']
    """
    from .. import config
    params = {"max_iter": int(config.get("classifier_select_max_iter")), **params}
    clf = AuthenticityClassifier(**params)
    mix = list(labels.sources)
    best, per = mix_score(clf, X, labels, mix, field_set)
    trace = [{"mix": list(mix), "score": round(best, 4),
              "per_source": {k: round(v, 4) for k, v in per.items()}}]
    step = 0
    while len(mix) > 2:
        tried = []
        for s in mix:
            step += 1
            if progress:
                progress(f"without {s}", step)
            cand = [m for m in mix if m != s]
            y = labels.y[labels.member[:, [labels.sources.index(c) for c in cand]].any(axis=1)]
            if min(int((y == 1).sum()), int((y == 0).sum())) < 2:
                continue
            score, per = mix_score(clf, X, labels, cand, field_set)
            trace.append({"mix": cand, "score": round(score, 4),
                          "per_source": {k: round(v, 4) for k, v in per.items()}})
            tried.append((score, s))
        if not tried:
            break
        score, drop = max(tried)
        if score < best + min_gain:
            break
        best = score
        mix.remove(drop)
    return {"chosen": mix, "dropped": [s for s in labels.sources if s not in mix],
            "score": round(best, 4), "field_set": field_set, "trace": trace}


def in_set_cv(model_params: dict, X: np.ndarray, labels: TrainingLabels, folds: int = 3,
              progress=None) -> dict[str, dict]:
    """Within-source cross-validation (train and test on one source) for each source
    with both classes: the optimistic figure that leave-one-source-out is compared with.
    Only the field set that decides most of the source's accounts is trained.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> lab = TrainingLabels(np.arange(40), y, ["a"], np.ones((40, 1), bool))
    >>> in_set_cv({"max_iter": 5, "min_samples_leaf": 2}, X, lab, folds=2)["a"]["auc"]
    1.0
    """
    from sklearn.model_selection import StratifiedKFold
    out: dict[str, dict] = {}
    for j, s in enumerate(labels.sources):
        rows = np.flatnonzero(labels.member[:, j])
        y = labels.y[rows]
        if min(int((y == 1).sum()), int((y == 0).sum())) < folds:
            continue
        if progress:
            progress(s, j + 1, len(labels.sources))
        p = np.full(len(rows), np.nan)
        # the field set that decides most of the source's accounts (the others would
        # only cost time: they decide none of its accounts)
        idx = choose_field_sets(X[rows])
        main = FIELD_SETS[int(np.bincount(idx[idx >= 0]).argmax())].name \
            if (idx >= 0).any() else None
        params = {**model_params, "field_sets": [main] if main else None}
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        for tr, te in skf.split(np.zeros(len(y)), y):
            try:
                m = AuthenticityClassifier(**params).fit(X[rows[tr]], y[tr])
            except UsageError:
                continue
            p[te] = 1.0 - m.authenticity(X[rows[te]])
        ok = ~np.isnan(p)
        thr = float(model_params.get("threshold") or 0.5)
        out[s] = source_metrics(y[ok], p[ok], thr)
    return out


def train_model(store, label_sources: Iterable[str] | None = None,
                model_out: str | os.PathLike | None = None, *,
                data: DetectionData | None = None, progress=None, select: bool = False,
                **params: Any) -> tuple[AuthenticityClassifier, dict]:
    """Train the classifier on the store's ``labels`` table (``trueclout train``).

    Parameters
    ----------
    store : trueclout.store.Store
    label_sources : iterable of str, optional
        Use only labels of these sources (the ``source`` column); all by default.
    model_out : path, optional
        Where to save the model (JSON; gzip-compressed when the name ends in ``.gz``).
    data : DetectionData, optional
        Already read from ``store``.
    progress : callable, optional
        ``progress(field_set, step, steps)``.
    select : bool
        Choose the mix of training sources first (:func:`select_sources`); the sources
        left out are still scored and reported as held out.
    **params
        Passed to :class:`~trueclout.detect.classifier.AuthenticityClassifier`.

    Returns
    -------
    model : AuthenticityClassifier
    report : dict
        ``accounts`` (real, fake, conflicting, per source), ``sources``,
        ``selection`` (with ``select``: the mix chosen and each mix tried),
        ``field_sets`` (per trained field set: accounts, features, held-out AUC,
        sensitivity and specificity), ``held_out`` (:func:`source_table`),
        ``threshold``, ``feature_schema``, ``seconds`` and ``model_out``.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> train_model(Store(":memory:"))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: training needs labelled accounts of both classes (human, and fake, bot or farm); the store has 0 real and 0 fake
    """
    t0 = time.perf_counter()
    if data is None:
        data = DetectionData.from_store(store)
    labels = training_labels(store, data, label_sources)
    c = labels.counts
    if min(c["fake"], c["real"]) < 2:
        raise UsageError(f"training needs labelled accounts of both classes (human, and "
                         f"fake, bot or farm); the store has {c['real']} real and "
                         f"{c['fake']} fake")
    X, _ = account_features(data)
    X = X[labels.vertices]
    selection = None
    if select and len(labels.sources) > 2:
        selection = select_sources(X, labels, progress=(
            (lambda what, i: progress(f"choosing sources: {what}", i, 0)) if progress else None),
            **params)
    model = AuthenticityClassifier(**params).fit(
        X, labels.y, sources=(labels.sources, labels.member), progress=progress,
        train_sources=selection["chosen"] if selection else None)
    table = source_table(model, X, labels)
    model.training_ = {"sources": c["per_source"], "conflicting": c["conflicting"],
                       "held_out": table, "thresholds": threshold_sweep(model, X, labels)}
    if selection:
        model.training_["selection"] = selection
    report = {"accounts": c, "sources": model.sources_, "selection": selection,
              "field_sets": field_set_summary(model),
              "held_out": table, "thresholds": model.training_["thresholds"],
              "threshold": model.threshold_,
              "feature_schema": model.feature_schema_,
              "seconds": round(time.perf_counter() - t0, 2), "model_out": None}
    if model_out is not None:
        model.save(model_out)
        report["model_out"] = str(model_out)
    return model, report


def field_set_summary(model: AuthenticityClassifier) -> dict[str, dict]:
    """Per trained field set: accounts, features and the pooled held-out figures.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> s = field_set_summary(AuthenticityClassifier(max_iter=5).fit(X, y))
    >>> s["profile"]["real"], s["profile"]["method"]
    (20, 'cross-validation')
    """
    out = {}
    for name, m in model.models_.items():
        e = m.evaluation
        out[name] = {"real": m.n_real, "fake": m.n_fake,
                     "features": len(m.field_set.features), "method": e.get("method"),
                     "auc": e.get("auc"), "sensitivity": e.get("sensitivity"),
                     "specificity": e.get("specificity"), "ece": e.get("ece")}
    return out


def flagged_share(model: AuthenticityClassifier, X: np.ndarray) -> float:
    """Share of rows the model predicts fake (for summaries).

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> X, y = toy_training_set()
    >>> flagged_share(AuthenticityClassifier(max_iter=5).fit(X, y), X)
    0.5
    """
    return float(predicted_fake(model.authenticity(X), model.threshold_).mean()) \
        if len(X) else 0.0


__all__ = ["TrainingLabels", "training_labels", "train_model", "source_table", "in_set_cv",
           "mix_score", "select_sources", "held_out_probabilities", "threshold_sweep",
           "field_set_summary", "flagged_share"]
