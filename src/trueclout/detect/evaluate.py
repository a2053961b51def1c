"""``trueclout eval detection``: every detection figure the project promises, measured.

1. Cresci 2015, E13 humans against INT bought fakes: 10-fold stratified CV of the
   classifier (:func:`~.evaluate_supervised.cresci_cv`).
2. Cross-source: train on the simulator, test on Cresci, and the reverse
   (:func:`~.evaluate_supervised.cross_source`).
3. The simulator at 1% fraudulent accounts and 1:1 camouflage: the ensemble's F1 per
   attack type (bought-follower fakes, follow-back farms, engagement pods) and its false
   positives among the honest fast-growing accounts.
4. SNAP ego-Twitter with a Fraudar-style block injected (2,000 new accounts, each
   following 30 of 100 customers plus 30 random real accounts): the ensemble's F1 on the
   block and the share of real accounts it flags; the lockstep detector alone as well.

Real data is read from ``$TRUECLOUT_DATA`` or ``../shared/data`` (beside the working
folder or the source tree); a missing data set is reported as skipped.

Examples
--------
>>> md = markdown_report({"simulator": {"attacks": {"fake": {"precision": 1.0,
...       "recall": 0.9, "f1": 0.947, "n": 10}}, "fast_growth_fp": 0.0}})
>>> "| fake |" in md
True
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

#: Attack label -> the ensemble category that detects it.
ATTACKS = {"fake": "fake", "farm": "farm", "pod": "pod"}


def shared_data_dir() -> Path | None:
    """Where the real data sets are: ``$TRUECLOUT_DATA``, else ``../shared/data`` beside
    the working folder or the source tree; None if neither exists.

    Examples
    --------
    >>> d = shared_data_dir()
    >>> d is None or d.name == "data" or "TRUECLOUT_DATA" in os.environ
    True
    """
    env = os.environ.get("TRUECLOUT_DATA")
    if env:
        return Path(env) if Path(env).exists() else None
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        cand = base.parent / "shared" / "data"
        if cand.exists():
            return cand
    return None


def prf(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of boolean predictions.

    Examples
    --------
    >>> prf(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'n': 2}
    """
    tp = int(np.sum(flagged & truth))
    p = tp / max(int(flagged.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "n": int(truth.sum())}


def _simulated_store(accounts: int, seed: int, **params):
    from ..ingest.run import ingest
    from ..simulate import simulate
    from ..store import Store
    tmp = tempfile.mkdtemp(prefix="trueclout-eval-")
    simulate(Path(tmp) / "platform", accounts=accounts, seed=seed, **params)
    store = Store(":memory:")
    ingest(store, [Path(tmp) / "platform"])
    return store


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
    from .data import DetectionData
    from .ensemble import EnsembleDetector
    t0 = time.perf_counter()
    store = store if store is not None else _simulated_store(accounts, seed)
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
    from .data import DetectionData
    from .ensemble import EnsembleDetector
    from .inject import evaluate_snap_injection, inject_block
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
    from .evaluate_supervised import cresci_cv, cross_source
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
