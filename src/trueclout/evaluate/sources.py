"""``trueclout eval sources``: how the classifier does on labelled sources it never saw.

For each labelled source of a store, a model trained on every *other* source (accounts
shared with the held-out source left out of training) and calibrated without it decides
the source's accounts, each from the field set its own fields give. The table reports
AUC, MCC at the tool's own threshold, the share of fakes caught and of humans flagged
(single-class sources: the one that applies) and the expected calibration error; beside
it, within-source cross-validation (train and test on one source), the optimistic figure
that most papers report (Hays et al. 2023; Yang et al. 2020).

Examples
--------
>>> markdown_sources({"held_out": [], "field_sets": {}, "in_set": {}, "accounts":
...                   {"real": 0, "fake": 0, "conflicting": 0}}).splitlines()[0]
'# Authenticity on labelled sources never seen in training'
"""

from __future__ import annotations

import time
from typing import Any, Iterable

import numpy as np

from ..detect.data import DetectionData
from ..detect.features import account_features
from ..detect.model_card import held_out_table, in_set_table
from ..detect.training import in_set_cv, train_model, training_labels


def evaluate_sources(store, label_sources: Iterable[str] | None = None, *,
                     in_set: bool = True, progress=None, **params: Any) -> dict:
    """The leave-one-source-out table of ``store``'s labelled sources.

    Parameters
    ----------
    store : trueclout.store.Store
    label_sources : iterable of str, optional
        Only these sources (default: all).
    in_set : bool
        Also run within-source cross-validation for contrast.
    progress : callable, optional
        ``progress(stage)``.
    **params
        Passed to :class:`~trueclout.detect.classifier.AuthenticityClassifier`.

    Returns
    -------
    dict
        ``held_out`` (one row per source), ``field_sets`` (pooled held-out figures per
        field set), ``in_set``, ``accounts``, ``threshold`` and ``seconds``.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> evaluate_sources(Store(":memory:"))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: training needs labelled accounts of both classes (human, and fake, bot or farm); the store has 0 real and 0 fake
    """
    t0 = time.perf_counter()
    data = DetectionData.from_store(store)
    cb = (lambda fs, i, n: progress(f"leave-one-source-out, {fs} {i}/{n}")) \
        if progress else None
    model, report = train_model(store, label_sources, data=data, progress=cb, **params)
    out = {"held_out": report["held_out"], "field_sets": report["field_sets"],
           "accounts": report["accounts"], "threshold": report["threshold"],
           "sources": report["sources"], "in_set": {}}
    if in_set:
        lab = training_labels(store, data, label_sources)
        X, _ = account_features(data)
        out["in_set"] = in_set_cv(model.get_params(), X[lab.vertices], lab, progress=(
            (lambda s, i, n: progress(f"in-set cross-validation, {s}")) if progress else None))
    mean = [r["auc"] for r in out["held_out"] if r.get("auc") is not None]
    out["mean_held_out_auc"] = round(float(np.mean(mean)), 4) if mean else None
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def markdown_sources(result: dict) -> str:
    """The result of :func:`evaluate_sources` as markdown.

    Examples
    --------
    >>> markdown_sources({"held_out": [], "field_sets": {}, "in_set": {},
    ...                   "accounts": {}}).count("| held-out source |")
    1
    """
    acc = result.get("accounts") or {}
    lines = ["# Authenticity on labelled sources never seen in training", "",
             f"{acc.get('real', 0):,} humans and {acc.get('fake', 0):,} fakes or bots "
             f"({acc.get('conflicting', 0):,} labelled both ways, left out); threshold "
             f"{result.get('threshold')}. Each row: trained without that source, "
             "calibrated without it.", "", held_out_table(result.get("held_out") or [])]
    if result.get("mean_held_out_auc") is not None:
        lines += ["", f"Mean held-out AUC over sources with both classes: "
                      f"{result['mean_held_out_auc']:.3f}."]
    fs = result.get("field_sets") or {}
    if fs:
        lines += ["", "| field set | humans | fakes | AUC | sensitivity | specificity |",
                  "|---|---|---|---|---|---|"]
        for name, r in fs.items():
            lines.append(f"| {name} | {r['real']:,} | {r['fake']:,} | {r.get('auc')} | "
                         f"{r.get('sensitivity')} | {r.get('specificity')} |")
    if result.get("in_set"):
        lines += ["", "For contrast, within-source cross-validation:", "",
                  in_set_table(result["in_set"])]
    return "\n".join(lines) + "\n"


__all__ = ["evaluate_sources", "markdown_sources"]
