"""Injected dense blocks: the Fraudar evaluation on a real graph, and the simulator check.

Real follow graphs carry no labels of bought followers, so Fraudar (Hooi et al., KDD 2016,
section 5) plants one: new accounts that each follow some of a small set of *customers*
(real accounts) plus a few random real accounts as camouflage. :func:`inject_block` does
that on any :class:`~trueclout.graph.FollowGraph`; :func:`evaluate_snap_injection` runs
:class:`~trueclout.detect.lockstep.LockstepDetector` on the result and reports how well
the fakes are found and how many real accounts are flagged on the way.
:func:`evaluate_simulator` measures the lockstep and pod detectors against the
simulator's ground truth (F1 per attack type, false positives among honest viral
accounts).

Examples
--------
>>> from trueclout.graph.toy import random_graph
>>> g = random_graph(2000, 20000, seed=0)
>>> g2, fakes, customers = inject_block(g, n_fakes=200, n_customers=20,
...                                    per_fake_customers=10, per_fake_camouflage=10)
>>> g2.n, fakes.size, customers.size, g2.m - g.m   # a camouflage follow may hit a customer
(2200, 200, 20, 3987)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UsageError
from ..graph.build import from_edges
from ..graph.follow_graph import FollowGraph

#: Platform of the injected accounts (their account ids are ``injected-<k>``).
INJECTED_PLATFORM = "injected"


def _edges(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int32), np.diff(indptr))
    return src, indices


def inject_block(graph: FollowGraph, n_fakes: int = 2000, n_customers: int = 100,
                 per_fake_customers: int = 30, per_fake_camouflage: int = 30,
                 seed: int = 0, *, camouflage: str = "random"
                 ) -> tuple[FollowGraph, np.ndarray, np.ndarray]:
    """Add a Fraudar-style block of bought followers to ``graph``.

    ``n_fakes`` new accounts each follow ``per_fake_customers`` accounts drawn without
    replacement from ``n_customers`` real accounts (the customers, drawn uniformly from
    the graph), plus ``per_fake_camouflage`` real accounts as camouflage, drawn uniformly
    (``camouflage="random"``) or in proportion to their followers (``"popular"``, the
    biased camouflage of Fraudar's section 5).

    Parameters
    ----------
    graph : FollowGraph
    n_fakes, n_customers, per_fake_customers, per_fake_camouflage : int
    seed : int
    camouflage : {"random", "popular"}

    Returns
    -------
    new_graph : FollowGraph
        The graph with the injected accounts (platform ``"injected"``) and follows; the
        original follows keep their times, the injected ones have unknown times.
        Vertex ids are renumbered by name, as always.
    fake_vertices, customer_vertices : int32 arrays
        Vertex ids in ``new_graph``.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> g2, f, c = inject_block(random_graph(500, 3000, seed=1), n_fakes=50, n_customers=10,
    ...                        per_fake_customers=5, per_fake_camouflage=5, seed=2)
    >>> bool(np.isin(g2.out_neighbors(f[0]), c).sum() == 5)
    True
    >>> g3, f3, _ = inject_block(g2, n_fakes=50, n_customers=10, per_fake_customers=5,
    ...                         per_fake_camouflage=5, seed=3)   # a second block
    >>> g3.n, len(set(g3.names.column("account_id").to_pylist())), g3.name(int(f3[0]))
    (600, 600, ('injected', 'injected-50'))
    """
    n = graph.n
    if n_customers > n or per_fake_customers > n_customers or per_fake_camouflage > n:
        raise UsageError("the block does not fit: need per_fake_customers <= n_customers "
                         "<= accounts and per_fake_camouflage <= accounts")
    if camouflage not in ("random", "popular"):
        raise UsageError(f"camouflage must be 'random' or 'popular', got {camouflage!r}")
    rng = np.random.default_rng(seed)
    customers = np.sort(rng.choice(n, size=n_customers, replace=False)).astype(np.int64)
    fakes = np.arange(n, n + n_fakes, dtype=np.int64)
    # each fake: per_fake_customers distinct customers (argsort of random keys per row)
    pick = np.argsort(rng.random((n_fakes, n_customers)), axis=1)[:, :per_fake_customers]
    c_dst = customers[pick].ravel()
    extra = 2 * per_fake_camouflage + 8  # spare draws, so that k distinct ones remain
    if camouflage == "random":
        cand = rng.integers(0, n, (n_fakes, extra))
    else:
        p = graph.in_degree().astype(np.float64) + 1.0
        cand = rng.choice(n, size=(n_fakes, extra), p=p / p.sum())
    k_dst = _distinct_per_row(cand, per_fake_camouflage)
    src = np.concatenate([np.repeat(fakes, per_fake_customers),
                          np.repeat(fakes, per_fake_camouflage)])
    dst = np.concatenate([c_dst, k_dst.ravel()])
    # follows the fakes make are distinct; camouflage may hit a customer already followed
    key = src * (n + n_fakes) + dst
    _, first = np.unique(key, return_index=True)
    src, dst = src[np.sort(first)], dst[np.sort(first)]
    o_src, o_dst = _edges(graph.out_indptr, graph.out_indices)
    all_src = np.concatenate([o_src.astype(np.int64), src])
    all_dst = np.concatenate([o_dst.astype(np.int64), dst])
    ts = None
    if graph.out_ts is not None:
        ts = np.concatenate([graph.out_ts.astype(np.int64),
                             np.full(src.shape[0], np.iinfo(np.int32).min, np.int64)])
    # ids continue after accounts injected before, so that repeated injections (several
    # blocks) keep every name distinct
    first = int(pc.sum(pc.equal(graph.names.column("platform").cast(pa.string()),
                                INJECTED_PLATFORM)).as_py() or 0)
    width = len(str(max(first + n_fakes - 1, 0)))
    names = pa.concat_tables([
        graph.names.select(["platform", "account_id"]).cast(
            pa.schema([("platform", pa.string()), ("account_id", pa.string())])),
        pa.table({"platform": pa.array([INJECTED_PLATFORM] * n_fakes, pa.string()),
                  "account_id": pa.array([f"injected-{first + i:0{width}d}"
                                                    for i in range(n_fakes)],
                                         pa.string())})])
    inter = {kind: (*_edges(p, i), t) for kind, (p, i, t) in graph.interactions.items()}
    g2 = from_edges(all_src, all_dst, ts=ts, names=names, interactions=inter or None)
    # from_edges renumbers by name: uids hold each vertex's position in ``names``
    pos_to_vertex = np.empty(g2.n, np.int64)
    pos_to_vertex[g2.uids] = np.arange(g2.n)
    return (g2, pos_to_vertex[fakes].astype(np.int32),
            np.sort(pos_to_vertex[customers]).astype(np.int32))


def _distinct_per_row(cand: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` distinct values of each row of ``cand`` (rows have enough)."""
    out = np.empty((cand.shape[0], k), np.int64)
    for i in range(cand.shape[0]):
        u, idx = np.unique(cand[i], return_index=True)
        out[i] = cand[i][np.sort(idx)[:k]] if u.size >= k else np.resize(u, k)
    return out


def _prf(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


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
    from .data import DetectionData
    from .lockstep import LockstepDetector

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
    out: dict[str, Any] = _prf(flagged, truth)
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
    from .data import DetectionData
    from .lockstep import LockstepDetector
    from .pods import PodDetector

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
        res = _prf(flagged, data.label_mask(label))
        res["seconds"] = round(secs, 3)
        res["fast_growth_fp"] = round(float(flagged[fast].mean()) if fast.any() else 0.0, 4)
        out[label] = res
        if hasattr(det, "customer_scores_"):
            cflag = det.customer_scores_ >= det.threshold_
            out["customers"] = _prf(cflag, data.label_mask("customer"))
    out["fast_growth_fp"] = round(float(any_flag[fast].mean()) if fast.any() else 0.0, 4)
    out["human_fp"] = round(float(any_flag[human].mean()) if human.any() else 0.0, 6)
    out["labels"] = {k: int(v.size) for k, v in data.labels.items()}
    return out


__all__ = ["inject_block", "evaluate_snap_injection", "evaluate_simulator"]
