"""``trueclout eval detection``: every detection figure the project promises, measured.

1. Cresci 2015, E13 humans against INT bought fakes: 10-fold stratified CV of the
   classifier (:func:`~trueclout.evaluate.supervised.cresci_cv`).
2. Cross-source: train on the simulator, test on Cresci, and the reverse
   (:func:`~trueclout.evaluate.supervised.cross_source`).
3. The simulator at 1% fraudulent accounts and 1:1 camouflage: the ensemble's F1 per
   attack type (bought-follower fakes, follow-back farms, engagement pods) and its false
   positives among the honest fast-growing accounts.
4. SNAP ego-Twitter with a Fraudar-style block injected (2,000 new accounts, each
   following 30 of 100 customers plus 30 random real accounts): the ensemble's F1 on the
   block and the share of real accounts it flags; the lockstep detector alone as well.
5. The lockstep and pod detectors alone: on the simulator
   (:func:`evaluate_simulator`) and on SNAP with the block injected
   (:func:`evaluate_snap_injection`).

Real data is read from :func:`~trueclout.evaluate.datasets.shared_data_dir`; a missing
data set is reported as skipped.

Examples
--------
>>> md = markdown_report({"simulator": {"attacks": {"fake": {"precision": 1.0,
...       "recall": 0.9, "f1": 0.947, "n": 10}}, "fast_growth_fp": 0.0}})
>>> "| fake |" in md
True
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from .datasets import shared_data_dir, simulated_store

#: Attack label -> the ensemble category that detects it.
ATTACKS = {"fake": "fake", "farm": "farm", "pod": "pod"}


def prf(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of boolean predictions.

    Examples
    --------
    >>> prf(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'n': 2, 'tp': 1, 'fp': 1, 'fn': 1}
    """
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "n": tp + fn, "tp": tp, "fp": fp, "fn": fn}


def evaluate_simulator_ensemble(*, accounts: int = 20_000, seed: int = 7, model: Any = None,
                                store=None) -> dict[str, Any]:
    """The ensemble on a simulated platform (defaults: 1% fraud, 1:1 camouflage).

    Returns per attack type precision/recall/F1 (an account counts as detected for an
    attack when the ensemble flags it with that attack's category), the recall of any
    flag, ``fast_growth_fp`` and ``human_fp`` (share flagged), and seconds.

    Examples
    --------
    >>> r = evaluate_simulator_ensemble(accounts=3000, seed=1)  # doctest: +SKIP
    >>> r["attacks"]["fake"]["f1"] > 0.9  # doctest: +SKIP
    True
    """
    from ..detect.data import DetectionData
    from ..detect.ensemble import EnsembleDetector
    t0 = time.perf_counter()
    store = store if store is not None else simulated_store(accounts, seed)
    data = DetectionData.from_store(store)
    t1 = time.perf_counter()
    ens = EnsembleDetector(model=model).fit(data)
    t2 = time.perf_counter()
    flagged = ens.labels_.astype(bool)
    attacks = {}
    for label, cat in ATTACKS.items():
        truth = data.label_mask(label)
        if not truth.any():
            continue
        res = prf(flagged & (ens.category_ == cat), truth)
        res["flagged_recall"] = round(float(flagged[truth].mean()), 4)
        attacks[label] = res
    fraud = data.label_mask(*ATTACKS)
    honest_fast = data.label_mask("fast_growth") & ~fraud
    humans = data.label_mask("human") & ~fraud
    out = {"accounts": data.n, "follows": int(data.graph.m), "attacks": attacks,
           "any_fraud": prf(flagged, fraud),
           "fast_growth_fp": round(float(flagged[honest_fast].mean()), 4)
           if honest_fast.any() else None,
           "fast_growth_bought_fp": round(float((ens.bought_[honest_fast] >= 0.5).mean()), 4)
           if honest_fast.any() else None,
           "human_fp": round(float(flagged[humans].mean()), 5) if humans.any() else None,
           "members": sorted(ens.members_), "skipped": ens.skipped_,
           "read_s": round(t1 - t0, 2), "detect_s": round(t2 - t1, 2)}
    cust = data.label_mask("customer")
    if cust.any():
        out["customers"] = prf(ens.bought_ >= 0.5, cust)
    return out


def evaluate_snap_ensemble(snap_dir: Path, *, seed: int = 0, model: Any = None
                           ) -> dict[str, Any]:
    """Inject a Fraudar block into SNAP ego-Twitter and run the whole ensemble.

    Examples
    --------
    >>> evaluate_snap_ensemble(Path("/nonexistent"))["skipped"]
    'SNAP ego-Twitter data not found'
    """
    if not snap_dir.exists():
        return {"skipped": "SNAP ego-Twitter data not found"}
    from ..ingest.run import ingest
    from ..store import Store
    from ..detect.data import DetectionData
    from ..detect.ensemble import EnsembleDetector
    from .attacks import inject_block
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trueclout-eval-") as tmp:
        with Store(Path(tmp) / "snap.duckdb") as store:
            ingest(store, [snap_dir])
            base = DetectionData.from_store(store)
    t1 = time.perf_counter()
    g2, fakes, customers = inject_block(base.graph, seed=seed)
    # new accounts have no profile, like every SNAP account
    extra = g2.n - base.n
    profiles = pa.concat_tables([base.profiles, pa.Table.from_pylist(
        [{}] * extra, schema=base.profiles.schema)]) if extra else base.profiles
    data = DetectionData.from_graph(g2, profiles=profiles)
    ens = EnsembleDetector(model=model).fit(data)
    t2 = time.perf_counter()
    truth = np.zeros(g2.n, bool)
    truth[fakes] = True
    flagged = ens.labels_.astype(bool)
    out: dict[str, Any] = {"ensemble": prf(flagged, truth)}
    out["ensemble"]["real_flagged_share"] = round(float(flagged[~truth].mean()), 6)
    out["lockstep_only"] = evaluate_snap_injection(base.graph, seed=seed)
    out.update({"accounts": int(g2.n), "follows": int(g2.m), "fakes": int(fakes.size),
                "customers": int(customers.size), "members": sorted(ens.members_),
                "read_s": round(t1 - t0, 2), "detect_s": round(t2 - t1, 2)})
    return out


def evaluate_detection(*, quick: bool = False, progress: Callable[[str], None] | None = None,
                       model: Any = None) -> dict[str, Any]:
    """Run every evaluation of the module docstring and return the figures.

    Examples
    --------
    >>> callable(evaluate_detection)
    True
    """
    from .supervised import cresci_cv, cross_source
    say = progress or (lambda stage: None)
    data = shared_data_dir()
    result: dict[str, Any] = {"data_dir_found": data is not None}
    cresci = data / "cresci-2015" if data else None
    say("Cresci 2015 cross-validation")
    result["cresci_cv"] = (cresci_cv(cresci) if cresci and cresci.exists()
                           else {"skipped": "Cresci 2015 data not found"})
    say("cross-source")
    result["cross_source"] = (cross_source(cresci, accounts=5000 if quick else None)
                              if cresci and cresci.exists()
                              else {"skipped": "Cresci 2015 data not found"})
    say("simulator")
    result["simulator"] = evaluate_simulator_ensemble(accounts=5000 if quick else 20_000,
                                                      model=model)
    say("SNAP with an injected block")
    snap = data / "snap-ego-twitter" if data else Path("/nonexistent")
    result["snap_injection"] = evaluate_snap_ensemble(snap, model=model)
    return result


def evaluate_snap_injection(store_or_graph: Any, *, seed: int = 0,
                            detector: Any = None, **inject_kwargs: Any) -> dict[str, Any]:
    """Inject a Fraudar block into a real graph and measure the lockstep detector.

    Parameters
    ----------
    store_or_graph : Store or FollowGraph
        The real graph (e.g. SNAP ego-Twitter, ingested into a store).
    seed : int
        Seed of the injection.
    detector : LockstepDetector, optional
        Default ``LockstepDetector()``.
    **inject_kwargs
        Passed to :func:`inject_block` (defaults: 2,000 fakes, 100 customers, 30 + 30).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` of the fake accounts (flagged = ``labels_``),
        ``real_flagged_share`` (share of the original accounts flagged),
        ``customers_found`` (share of customers in ``customers_``), sizes and seconds.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> r = evaluate_snap_injection(random_graph(5000, 20000, seed=0), n_fakes=200,
    ...                             n_customers=20, per_fake_customers=10,
    ...                             per_fake_camouflage=10)
    >>> r["f1"] >= 0.9, r["real_flagged_share"] <= 0.005
    (True, True)
    """
    from ..detect.data import DetectionData
    from ..detect.lockstep import LockstepDetector
    from ..graph.follow_graph import FollowGraph
    from .attacks import inject_block

    graph = store_or_graph if isinstance(store_or_graph, FollowGraph) else None
    if graph is None:
        from ..graph.build import build_graph
        graph = build_graph(store_or_graph, interactions=False)
    t0 = time.perf_counter()
    g2, fakes, customers = inject_block(graph, seed=seed, **inject_kwargs)
    t1 = time.perf_counter()
    det = detector if detector is not None else LockstepDetector()
    det.fit(DetectionData.from_graph(g2))
    t2 = time.perf_counter()
    truth = np.zeros(g2.n, bool)
    truth[fakes] = True
    flagged = det.labels_.astype(bool)
    out: dict[str, Any] = prf(flagged, truth)
    real = ~truth
    out["real_flagged"] = int(np.sum(flagged & real))
    out["real_flagged_share"] = round(float(np.sum(flagged & real) / max(real.sum(), 1)), 6)
    cust = np.zeros(g2.n, bool)
    cust[customers] = True
    cflag = det.customer_scores_ >= det.threshold_
    out["customers_found"] = round(float(np.sum(cflag & cust) / max(cust.sum(), 1)), 4)
    out["customers_false"] = int(np.sum(cflag & ~cust))
    out.update({"accounts": int(g2.n), "follows": int(g2.m), "fakes": int(fakes.size),
                "customers": int(customers.size), "blocks": len(det.blocks_),
                "inject_s": round(t1 - t0, 3), "detect_s": round(t2 - t1, 3)})
    return out


def evaluate_simulator(store_or_data: Any, *, detectors: dict | None = None
                       ) -> dict[str, Any]:
    """F1 per attack type of the lockstep (label ``fake``) and pod (label ``pod``)
    detectors on a simulated platform, and their false-positive rates among the honest
    viral accounts (label ``fast_growth``) and the humans.

    Parameters
    ----------
    store_or_data : Store or DetectionData
        A simulated platform with ground-truth labels.
    detectors : dict, optional
        ``{"fake": detector, "pod": detector}``; default the lockstep detector (time
        variant when follow times exist) and the pod detector.

    Returns
    -------
    dict
        Per attack type: precision, recall, f1, seconds; ``fast_growth_fp`` (share of
        fast_growth accounts any of the detectors flags); ``human_fp``; ``customers``
        (the lockstep detector's customers against the ``customer`` label).

    Examples
    --------
    >>> import tempfile, os
    >>> from trueclout.simulate import simulate
    >>> from trueclout.ingest.run import ingest
    >>> from trueclout.store import Store
    >>> d = tempfile.mkdtemp()
    >>> _ = simulate(os.path.join(d, "p"), accounts=3000, seed=0)
    >>> with Store(os.path.join(d, "s.duckdb")) as s:
    ...     _ = ingest(s, [os.path.join(d, "p")])
    ...     r = evaluate_simulator(s)
    >>> r["fake"]["f1"] >= 0.9 and r["pod"]["f1"] >= 0.9
    True
    """
    from ..detect.data import DetectionData
    from ..detect.lockstep import LockstepDetector
    from ..detect.pods import PodDetector

    data = store_or_data if isinstance(store_or_data, DetectionData) \
        else DetectionData.from_store(store_or_data)
    dets = detectors or {"fake": LockstepDetector(), "pod": PodDetector()}
    out: dict[str, Any] = {"accounts": int(data.n), "follows": int(data.graph.m)}
    fast = data.label_mask("fast_growth")
    human = data.label_mask("human") & ~fast
    any_flag = np.zeros(data.n, bool)
    for label, det in dets.items():
        t = time.perf_counter()
        det.fit(data)
        secs = time.perf_counter() - t
        flagged = det.labels_.astype(bool)
        any_flag |= flagged
        res = prf(flagged, data.label_mask(label))
        res["seconds"] = round(secs, 3)
        res["fast_growth_fp"] = round(float(flagged[fast].mean()) if fast.any() else 0.0, 4)
        out[label] = res
        if hasattr(det, "customer_scores_"):
            cflag = det.customer_scores_ >= det.threshold_
            out["customers"] = prf(cflag, data.label_mask("customer"))
    out["fast_growth_fp"] = round(float(any_flag[fast].mean()) if fast.any() else 0.0, 4)
    out["human_fp"] = round(float(any_flag[human].mean()) if human.any() else 0.0, 6)
    out["labels"] = {k: int(v.size) for k, v in data.labels.items()}
    return out


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4f}" if x < 1 else f"{x:.3f}"
    return str(x)


def markdown_report(r: dict[str, Any]) -> str:
    """The figures of :func:`evaluate_detection` as markdown tables.

    Examples
    --------
    >>> markdown_report({}).startswith("# Detection")
    True
    """
    lines = ["# Detection evaluation", ""]
    cv = r.get("cresci_cv")
    if cv:
        lines += ["## Cresci 2015 (E13 humans vs INT fakes), 10-fold CV", ""]
        if "skipped" in cv:
            lines += [f"skipped: {cv['skipped']}", ""]
        else:
            lines += ["| MCC | AUC | F1 | accuracy | min fold MCC |", "|---|---|---|---|---|",
                      f"| {_fmt(cv.get('mcc'))} | {_fmt(cv.get('auc'))} | {_fmt(cv.get('f1'))} "
                      f"| {_fmt(cv.get('accuracy'))} | {_fmt(cv.get('min_fold_mcc'))} |", ""]
    cs = r.get("cross_source")
    if cs:
        lines += ["## Cross-source", ""]
        if "skipped" in cs:
            lines += [f"skipped: {cs['skipped']}", ""]
        else:
            lines += ["| train → test | AUC | MCC | F1 |", "|---|---|---|---|"]
            for k, v in cs.items():
                if isinstance(v, dict) and "auc" in v:
                    lines.append(f"| {k.replace('_', ' ')} | {_fmt(v.get('auc'))} | "
                                 f"{_fmt(v.get('mcc'))} | {_fmt(v.get('f1'))} |")
            lines.append("")
    sim = r.get("simulator")
    if sim:
        lines += [f"## Simulator ({sim.get('accounts', '?')} accounts, 1% fraud, 1:1 "
                  "camouflage), ensemble", "",
                  "| attack | precision | recall | F1 | flagged at all | accounts |",
                  "|---|---|---|---|---|---|"]
        for k, v in sim.get("attacks", {}).items():
            lines.append(f"| {k} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | "
                         f"{_fmt(v['f1'])} | {_fmt(v.get('flagged_recall'))} | {v['n']} |")
        lines += ["", f"fast-growing honest accounts flagged: {_fmt(sim.get('fast_growth_fp'))}"
                  f"; humans flagged: {_fmt(sim.get('human_fp'))}", ""]
    sn = r.get("snap_injection")
    if sn:
        lines += ["## SNAP ego-Twitter with an injected block (2,000 fakes, 30 of 100 "
                  "customers + 30 camouflage)", ""]
        if "skipped" in sn:
            lines += [f"skipped: {sn['skipped']}", ""]
        else:
            e, lo = sn["ensemble"], sn.get("lockstep_only", {})
            lines += ["| detector | precision | recall | F1 | real accounts flagged |",
                      "|---|---|---|---|---|",
                      f"| ensemble | {_fmt(e['precision'])} | {_fmt(e['recall'])} | "
                      f"{_fmt(e['f1'])} | {_fmt(e['real_flagged_share'])} |",
                      f"| lockstep alone | {_fmt(lo.get('precision'))} | {_fmt(lo.get('recall'))}"
                      f" | {_fmt(lo.get('f1'))} | {_fmt(lo.get('real_flagged_share'))} |", ""]
    return "\n".join(lines)
