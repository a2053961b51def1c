"""Benchmark of who to follow on SNAP ego-Twitter: precompute time, per-user latency,
batch throughput, and one user's personalised PageRank against igraph and networkx.

Usage::

    python benchmarks/bench_suggest.py [--quick] [--db STORE]

``run(quick)`` returns the figures as a dict (``benchmarks/run.py`` can collect it):

- ``precompute_s``: :meth:`WhoToFollow.fit` on the SNAP graph (learning included), and
  ``detection_s``, the ensemble that makes the graph authentic;
- ``latency_ms``: median, p95 and max of one ``recommend(u, 20)`` call, over users with
  at least 20 follows drawn with seed 0 (1,000; 200 with ``quick``), after a warm-up;
- ``batch_users_per_s``: ``recommend_many`` over every account;
- ``ppr_one_user``: the personalised PageRank of one user (restart 0.15) by our push
  (``eps = 1e-6``), by igraph's ``personalized_pagerank`` (PRPACK, the whole graph) and,
  unless ``quick``, by networkx's ``pagerank`` (pure Python), with the overlap of their
  top 20 with ours. igraph and networkx are bench extras; a missing one is skipped.

Target (issue 4): at most 5 ms per user after the precomputation.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SNAP = ROOT.parent / "shared" / "data" / "snap-ego-twitter"


def _ppr_peers(g, user: int, quick: bool) -> dict:
    from trueclout.kernels.ppr import ppr_push
    t = time.perf_counter()
    v, p = ppr_push(g.out_indptr, g.out_indices, user, alpha=0.15, eps=1e-6)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    v, p = ppr_push(g.out_indptr, g.out_indices, user, alpha=0.15, eps=1e-6)
    ours_s = min(ours_s, time.perf_counter() - t)          # second call: compiled
    dense = np.zeros(g.n)
    dense[v] = p
    top = set(np.argsort(-dense, kind="stable")[:20].tolist())
    out = {"user": int(user), "ours_push_s": round(ours_s, 5), "touched": int(v.size)}
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    try:
        import igraph
        ig = igraph.Graph(n=g.n, edges=np.column_stack([src, g.out_indices]).tolist(),
                          directed=True)
        t = time.perf_counter()
        pr = np.asarray(ig.personalized_pagerank(damping=0.85, reset_vertices=[int(user)],
                                                 directed=True))
        out["igraph_s"] = round(time.perf_counter() - t, 4)
        out["igraph_top20_overlap"] = len(top & set(np.argsort(-pr, kind="stable")[:20]
                                                    .tolist())) / 20
        out["igraph_max_abs_diff"] = float(np.abs(pr - dense).max())
    except ImportError:
        out["igraph"] = "not installed"
    if not quick:
        try:
            import networkx as nx
            G = nx.DiGraph()
            G.add_nodes_from(range(g.n))
            G.add_edges_from(zip(src.tolist(), g.out_indices.tolist()))
            t = time.perf_counter()
            pr = nx.pagerank(G, alpha=0.85, personalization={int(user): 1.0}, tol=1e-10)
            out["networkx_s"] = round(time.perf_counter() - t, 3)
            arr = np.array([pr[i] for i in range(g.n)])
            out["networkx_top20_overlap"] = len(top & set(
                np.argsort(-arr, kind="stable")[:20].tolist())) / 20
        except ImportError:
            out["networkx"] = "not installed"
    return out


def _bench(store, quick: bool, label: str = "SNAP ego-Twitter") -> dict:
    from trueclout.detect.data import DetectionData
    from trueclout.discover.suggest import WhoToFollow, hold_out
    from trueclout.score.context import ScoreContext
    data = DetectionData.from_store(store)
    g = data.graph
    t = time.perf_counter()
    ctx = ScoreContext.from_data(data)
    detection_s = time.perf_counter() - t
    WhoToFollow(train_users=10).fit(g).recommend(0, 20)      # compile before the clock
    t = time.perf_counter()
    wtf = WhoToFollow().fit(ctx)
    precompute_s = time.perf_counter() - t
    users = hold_out(g, 200 if quick else 1000, seed=0).users   # the evaluation's draw
    wtf.recommend(int(users[0]), 20)
    ms = []
    for u in users:
        t = time.perf_counter()
        wtf.recommend(int(u), 20)
        ms.append((time.perf_counter() - t) * 1e3)
    ms = np.array(ms)
    everyone = np.arange(g.n)
    t = time.perf_counter()
    wtf.recommend_many(everyone, 20)
    batch_s = time.perf_counter() - t
    return {"data": label, "accounts": int(g.n), "follows": int(g.m),
            "detection_s": round(detection_s, 2), "precompute_s": round(precompute_s, 3),
            "training": wtf.training_,
            "latency_ms": {"users": int(users.size),
                           "median": round(float(np.median(ms)), 4),
                           "p95": round(float(np.percentile(ms, 95)), 4),
                           "max": round(float(ms.max()), 3)},
            "batch_users_per_s": round(g.n / batch_s, 1), "batch_s": round(batch_s, 2),
            "target_ms_per_user": 5.0,
            "ppr_one_user": _ppr_peers(g, int(users[0]), quick)}


def run(quick: bool = False, db: str | None = None) -> dict:
    """Measure everything of the module docstring; ``{"skipped": ...}`` without SNAP.

    Examples
    --------
    >>> callable(run)
    True
    """
    from trueclout.store import Store
    if db is not None:
        with Store(db, read_only=True) as store:
            return _bench(store, quick, label=f"store {Path(db).name}")
    if not SNAP.exists():
        return {"skipped": "SNAP ego-Twitter data not found"}
    from trueclout.ingest.run import ingest
    with tempfile.TemporaryDirectory(prefix="trueclout-bench-suggest-") as tmp:
        with Store(Path(tmp) / "snap.duckdb") as store:
            ingest(store, [SNAP])
            return _bench(store, quick)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 users, no networkx")
    ap.add_argument("--db", default=None, help="an existing store (default: SNAP, ingested)")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.quick, args.db), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
