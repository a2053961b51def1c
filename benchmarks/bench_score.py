"""Benchmark of the scores: plain PageRank and TrueRank against igraph's PageRank.

On SNAP ego-Twitter (from ``../shared/data``, skipped when absent) and a simulated
platform: seconds of our plain PageRank kernel and of igraph's ``personalized_pagerank``
(PRPACK) on the same directed graph, their ratio and the largest difference; then the full
scoring pass (trust, TrueRank, reach, engagement) after detection.

Usage: ``python benchmarks/bench_score.py [--quick]``; ``run(quick)`` returns the dict that
``benchmarks/run.py`` stores.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SNAP = ROOT.parent / "shared" / "data" / "snap-ego-twitter"


def _pagerank_pair(g) -> dict:
    import igraph
    from trueclout.kernels.pagerank import pagerank
    pagerank(g.in_indptr, g.in_indices)               # compile outside the timing
    t0 = time.perf_counter()
    ours = pagerank(g.in_indptr, g.in_indices, tol=1e-10)
    t_ours = time.perf_counter() - t0
    src = np.repeat(np.arange(g.n, dtype=np.int64), np.diff(g.out_indptr))
    ig = igraph.Graph(n=g.n, edges=np.column_stack([src, g.out_indices]).tolist(),
                      directed=True)
    t0 = time.perf_counter()
    ref = np.asarray(ig.pagerank(damping=0.85, directed=True))
    t_ig = time.perf_counter() - t0
    return {"vertices": g.n, "edges": g.m, "ours_s": round(t_ours, 3),
            "igraph_s": round(t_ig, 3), "ratio_ours_over_igraph": round(t_ours / t_ig, 3),
            "max_abs_diff": float(np.abs(ours - ref).max())}


def _scores(store) -> dict:
    from trueclout.score.context import score_context
    from trueclout.score.rank import rank_all
    t0 = time.perf_counter()
    ctx = score_context(store)
    t1 = time.perf_counter()
    rank_all(ctx)
    t2 = time.perf_counter()
    return {"detect_s": round(t1 - t0, 2), "scores_s": round(t2 - t1, 2)}


def run(quick: bool = False) -> dict:
    """Run the score benchmarks; returns a JSON-ready dict.

    Examples
    --------
    >>> callable(run)
    True
    """
    from trueclout.graph.build import build_graph
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        if SNAP.exists():
            with Store(Path(tmp) / "snap.duckdb") as s:
                ingest(s, [SNAP])
                out["snap"] = {"pagerank": _pagerank_pair(build_graph(s, interactions=False)),
                               **_scores(s)}
        accounts = 20_000 if quick else 200_000
        simulate(Path(tmp) / "sim", accounts=accounts, seed=0)
        with Store(Path(tmp) / "sim.duckdb") as s:
            ingest(s, [Path(tmp) / "sim"])
            out["sim"] = {"accounts": accounts,
                          "pagerank": _pagerank_pair(build_graph(s, interactions=False)),
                          **_scores(s)}
    return out


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
