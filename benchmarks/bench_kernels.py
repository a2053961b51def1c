"""Benchmark of the PageRank kernel against igraph, networkit and networkx (issue 6).

The graph: R-MAT (a = 0.57, b = c = 0.19) with 2**22 vertices and 50M draws, repeats and
self-loops removed (``--quick``: 2**18 vertices, 3M draws), from
:func:`trueclout.graph.rmat.rmat_graph`; its generation and build are timed too.

PageRank runs exactly 20 iterations (``tol=0, max_iter=20``) with damping 0.85. Peers on
the same graph, in the same run:

- networkit ``centrality.PageRank`` with ``maxIterations = 20`` and a tolerance it cannot
  reach, sinks distributed (our semantics), when networkit is installed;
- igraph ``Graph.pagerank`` with PRPACK (and ARPACK): these solve to convergence and
  cannot be capped at 20 iterations, so their figure is the time to *their* answer;
- networkx ``pagerank`` with ``max_iter=20`` on a 1M-draw R-MAT graph (2**16 vertices),
  for scale, next to ours on that graph.

The graph is built with the degree order applied at build (``rmat_graph(order="degree")``,
see :mod:`trueclout.graph.reorder`) and every library runs on that same graph; the
scrambled-id graph is timed too (ours and networkit), and each order (none, degree, BFS,
RCM) is timed for our kernel to show which pays.

Reported: seconds per iteration, the ratios ours/peer, our graph's bytes per edge and the
peak RSS growth of our PageRank run per edge (sampled every 5 ms in a thread). Targets:
at most 0.05 s per iteration; at least 4x faster than networkit and 6x faster than
igraph; at most 20 bytes per edge.

Usage: ``python benchmarks/bench_kernels.py [--quick]``; ``run(quick)`` returns the dict
that ``benchmarks/run.py`` stores under ``kernels``.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_graph import PeakRSS  # noqa: E402

ITER = 20
DAMPING = 0.85


def _edges(g) -> tuple[np.ndarray, np.ndarray]:
    src = np.repeat(np.arange(g.n, dtype=np.int32), np.diff(g.out_indptr))
    return src, g.out_indices


def _ours(g) -> dict:
    from trueclout.kernels.pagerank import pagerank
    pagerank(np.array([0, 1, 2]), np.array([1, 0], np.int32), tol=0, max_iter=1)  # compile
    gc.collect()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        x = pagerank(g.in_indptr, g.in_indices, tol=0, max_iter=ITER)
        t = time.perf_counter() - t0
    t0 = time.perf_counter()
    pagerank(g.in_indptr, g.in_indices, tol=0, max_iter=1)
    t1 = time.perf_counter() - t0
    return {"seconds": t, "s_per_iter": t / ITER,
            "s_per_iter_marginal": (t - t1) / (ITER - 1), "setup_and_one_iter_s": t1,
            "peak_rss_growth_bytes": mem.peak - mem.base,
            "peak_rss_growth_bytes_per_edge": (mem.peak - mem.base) / max(1, g.m),
            "ranks": x}


def _networkit(g, src, dst) -> dict | None:
    try:
        import networkit as nk
    except ImportError:
        return None
    t0 = time.perf_counter()
    G = nk.graph.GraphFromCoo((src, dst), n=g.n, directed=True)
    build = time.perf_counter() - t0
    pr = nk.centrality.PageRank(G, damp=DAMPING, tol=1e-300,
                                distributeSinks=nk.centrality.SinkHandling.DistributeSinks)
    pr.maxIterations = ITER
    t0 = time.perf_counter()
    pr.run()
    t = time.perf_counter() - t0
    x = np.asarray(pr.scores())
    it = int(pr.numberOfIterations())
    del G, pr
    return {"version": nk.__version__, "threads": nk.getMaxNumberOfThreads(),
            "build_s": build, "seconds": t, "iterations": it,
            "s_per_iter": t / max(1, it), "ranks": x / x.sum()}


def _igraph(g, src, dst, implementations=("prpack", "arpack")) -> dict | None:
    try:
        import igraph
    except ImportError:
        return None
    t0 = time.perf_counter()
    G = igraph.Graph(n=g.n, edges=np.column_stack([src, dst]), directed=True)
    out = {"version": igraph.__version__, "build_s": time.perf_counter() - t0,
           "note": "igraph solves to convergence; it cannot stop at 20 iterations"}
    for impl in implementations:
        t0 = time.perf_counter()
        x = np.asarray(G.pagerank(damping=DAMPING, directed=True, implementation=impl))
        out[impl] = {"seconds": time.perf_counter() - t0, "ranks": x}
    del G
    return out


def _networkx(scale: int, m: int) -> dict:
    import networkx as nx
    from trueclout.graph.rmat import rmat_graph
    g = rmat_graph(scale, m, seed=1)
    ours = _ours(g)
    src, dst = _edges(g)
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    t0 = time.perf_counter()
    try:
        nx.pagerank(G, alpha=DAMPING, max_iter=ITER, tol=1e-300)
    except nx.PowerIterationFailedConvergence:
        pass  # it ran exactly max_iter iterations, which is what we time
    t = time.perf_counter() - t0
    return {"version": nx.__version__, "scale": scale, "draws": m, "vertices": g.n,
            "edges": g.m, "seconds": t, "s_per_iter": t / ITER,
            "ours_s_per_iter": ours["s_per_iter"],
            "ratio_ours_over_networkx": ours["s_per_iter"] / (t / ITER)}


def _strip(d: dict | None, ref: np.ndarray) -> dict | None:
    """Replace rank vectors by their L1 distance to ours (JSON-ready)."""
    if d is None:
        return None
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _strip(v, ref)
        elif k == "ranks":
            out["l1_vs_ours"] = float(np.abs(v - ref).sum())
        else:
            out[k] = v
    return out


def run(quick: bool = False) -> dict:
    """Generate, build, and time PageRank (ours and peers); a JSON-ready dict."""
    import numba
    from trueclout.graph.rmat import rmat_edges, rmat_graph
    scale, draws = (18, 3_000_000) if quick else (22, 50_000_000)
    nx_scale, nx_draws = (14, 200_000) if quick else (16, 1_000_000)
    rmat_graph(4, 10)  # compile outside the timings
    t0 = time.perf_counter()
    for _ in rmat_edges(scale, draws, seed=0):
        pass
    gen = time.perf_counter() - t0
    # the vertex orders (graph.reorder) on the scrambled-id graph: which pays
    from trueclout.graph import reorder
    g0 = rmat_graph(scale, draws, seed=0)
    orders = {}
    for method in reorder.ORDERS:
        t0 = time.perf_counter()
        h = g0 if method == "none" else reorder.relabel(g0, reorder.order(g0, method))
        took = time.perf_counter() - t0
        o = _ours(h)
        orders[method] = {"order_and_relabel_s": took, "s_per_iter": o["s_per_iter"]}
        del h, o
        gc.collect()
    for method in orders:
        orders[method]["speedup_vs_none"] = (orders["none"]["s_per_iter"]
                                             / orders[method]["s_per_iter"])
    # the build path: degree order applied while the CSR is placed (no extra copy)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        g = rmat_graph(scale, draws, seed=0, order="degree")
        build = time.perf_counter() - t0
    csr_bytes = sum(a.nbytes for a in (g.out_indptr, g.out_indices, g.in_indptr,
                                       g.in_indices))
    res = {"graph": {"scale": scale, "vertices": g.n, "draws": draws, "edges": g.m,
                     "order": "degree",
                     "generate_s": gen, "generate_edges_per_s": draws / gen,
                     "build_s": build, "build_peak_rss_growth_bytes": mem.peak - mem.base,
                     "csr_bytes_per_edge": csr_bytes / g.m,
                     "graph_bytes_per_edge": g.nbytes() / g.m},
           "numba_threads": numba.get_num_threads(), "iterations": ITER,
           "orders": orders}
    ours = _ours(g)
    ref = ours["ranks"]
    res["memory_bytes_per_edge"] = (g.nbytes() + ours["peak_rss_growth_bytes"]) / g.m
    src, dst = _edges(g)
    nk = _networkit(g, src, dst)
    ig = _igraph(g, src, dst)
    del src, dst
    res["ours"] = _strip(ours, ref)
    res["networkit"] = _strip(nk, ref)
    res["igraph"] = _strip(ig, ref)
    per = ours["s_per_iter"]
    if nk:
        res["ratio_ours_over_networkit"] = per / nk["s_per_iter"]
        res["speedup_vs_networkit"] = nk["s_per_iter"] / per
    if ig:
        for impl in ("prpack", "arpack"):
            if impl in ig:
                res[f"ratio_ours20_over_igraph_{impl}"] = ours["seconds"] / ig[impl]["seconds"]
                res[f"speedup_vs_igraph_{impl}"] = ig[impl]["seconds"] / ours["seconds"]
    # the peer on the scrambled ids too: reordering helps it as well
    src0, dst0 = _edges(g0)
    nk0 = _networkit(g0, src0, dst0)
    del src0, dst0
    if nk0:
        res["scrambled"] = {"ours_s_per_iter": orders["none"]["s_per_iter"],
                            "networkit_s_per_iter": nk0["s_per_iter"],
                            "speedup_vs_networkit": nk0["s_per_iter"]
                            / orders["none"]["s_per_iter"]}
    del g0
    res["networkx"] = _networkx(nx_scale, nx_draws)
    res["targets"] = {"s_per_iter": 0.05, "speedup_vs_networkit": 4, "speedup_vs_igraph": 6,
                      "bytes_per_edge": 20}
    return res


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, default=str))
