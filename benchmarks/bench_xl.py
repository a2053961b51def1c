"""Twitter-2010 scale on one machine: generate, build out of core, features, TrueRank.

Usage::

    python benchmarks/bench_xl.py                    # full size (make bench-xl)
    python benchmarks/bench_xl.py --scale-down 64    # 1/64 of it, a quick try

The graph has the size of Twitter-2010 (Kwak et al. 2010; the ``twitter_rv`` graph of
the COST paper): 41,652,230 vertices and 1,468,365,182 edges drawn. It is R-MAT with
a = 0.57, b = c = 0.19 (:func:`trueclout.graph.rmat.rmat_edges`) over ``2**26``
vertices, ids scrambled by the generator's seeded bijection, then *folded* into
``0..n-1`` by ``v -> floor(v * n / 2**26)``: each vertex merges one or two random R-MAT
vertices (no draw is wasted, as rejection would waste 61% of them). Self-loops (also
those the fold makes) are dropped and repeated edges merged, so the graph has fewer
edges than were drawn; both counts are reported. Edges are streamed in int32 batches
(one batch in memory), spilled to disk once while degrees are counted, and the CSR is
built by :func:`trueclout.graph.outofcore.build_csr` in the system temp folder (or
``--workdir``), relabelled by degree (hubs first), and deleted at the end.

Then, timed one by one:

- **degrees**: in- and out-degree of every vertex;
- **reciprocity**: reciprocated out-edges per vertex and the global share;
- **TrueRank**, 20 iterations of each step. A bare graph has no profiles, so the graph
  evidence stands in (the seed rule of :mod:`trueclout.score.trust` without the profile
  parts): seeds are *established people*, at least ``trust_seed_min_mutual`` mutual
  follows and at least ``trust_seed_min_followback`` of their follows returned;
  authenticity is 1 for everyone; TrustRank is the personalised PageRank from the seeds
  with norm = out-degree; the voter weight is the trust gate ``1 - exp(-trust · r /
  trust_tau)``; TrueRank is the weighted PageRank with ``give = prior = voter weight``,
  as :class:`trueclout.score.truerank.TrueRank` does with follows only;
- **PageRank**, 20 iterations, plain (uniform teleport, dangling mass spread like it),
  timed on its own.

Peak RSS is sampled every 20 ms in a thread (total, anonymous and file-backed: the
edge arrays are memory-mapped files, whose pages the OS can drop). Figures go to
``benchmarks/results/xl.json`` (full size; with ``--scale-down``, only to ``--out``) and
a table is printed. Targets (issue 6): whole run at most 15 min, PageRank at most 60 s.
References for 20 PageRank iterations on twitter_rv: 242 s single-threaded on a laptop
(McSherry et al., "Scalability! But at what COST?", HotOS 2015), 419 s GraphX on
128 cores (same paper).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np
import psutil

from trueclout import config
from trueclout.graph.outofcore import build_csr
from trueclout.graph.rmat import rmat_edges
from trueclout.kernels.pagerank import pagerank
from trueclout.kernels.reciprocity import reciprocated_out_edges
from trueclout.detect.weights import gate

TWITTER_N = 41_652_230
TWITTER_M = 1_468_365_182
ITERATIONS = 20
TARGET_TOTAL_S = 15 * 60
TARGET_PAGERANK_S = 60
REFERENCES = {"COST laptop, 1 thread (McSherry et al. 2015)": 242.0,
              "GraphX, 128 cores (McSherry et al. 2015)": 419.0}
RESULTS = Path(__file__).parent / "results" / "xl.json"


class Memory:
    """Sample this process's resident memory (total, anonymous, file-backed) in a
    thread; ``phase(name)`` records the peaks seen while a phase ran.

    Examples
    --------
    >>> with Memory() as mem, mem.phase("x"):
    ...     b = bytearray(10**6)
    >>> mem.peaks["x"]["rss"] >= mem.base["rss"] > 0
    True
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.base = self.now()
        self.peak = dict(self.base)
        self.peaks: dict[str, dict] = {}
        self._cur: dict | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> dict:
        out = {"rss": 0, "anon": 0, "file": 0}
        keys = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
        with open("/proc/self/status") as f:
            for line in f:
                k = line.split(None, 1)[0]
                if k in keys:
                    out[keys[k]] = int(line.split()[1]) * 1024
        return out

    def _sample(self) -> None:
        cur = self.now()
        for d in (self.peak, self._cur):
            if d is not None:
                for k, v in cur.items():
                    d[k] = max(d[k], v)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    @contextmanager
    def phase(self, name: str):
        self._cur = self.now()
        self.peaks[name] = self._cur
        try:
            yield
        finally:
            self._sample()
            self._cur = None

    def __enter__(self) -> "Memory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def twitter_like(n: int, m: int, seed: int, clock: dict):
    """The regenerable edge source: R-MAT over 2**scale vertices folded into 0..n-1
    (:func:`trueclout.graph.rmat.rmat_edges` with ``n``). ``clock["generate"]``
    accumulates the seconds spent generating."""
    scale = max(1, math.ceil(math.log2(max(n, 2))))

    def source():
        it = rmat_edges(scale, m, seed=seed, n=n)
        while True:
            t0 = time.perf_counter()
            try:
                src, dst = next(it)
            except StopIteration:
                clock["generate"] += time.perf_counter() - t0
                return
            clock["generate"] += time.perf_counter() - t0
            yield src, dst
    return scale, source


def trust_seeds(rec: np.ndarray, outdeg: np.ndarray, min_seeds: int = 100):
    """Graph-only trust seeds: the *established people* rule of score/trust.py (at least
    ``trust_seed_min_mutual`` mutual follows and ``trust_seed_min_followback`` of one's
    follows returned). R-MAT reciprocates far less than a social network (about 6% of
    edges), so when the rule finds fewer than ``min_seeds`` the follow-back threshold is
    lowered to the top decile of the follow-back share among those with enough mutual
    follows. Returns (mask, the rule used).

    Examples
    --------
    >>> rec, out = np.array([12, 10, 30, 0]), np.array([20, 100, 40, 5])
    >>> trust_seeds(rec, out, min_seeds=1)[0].tolist()
    [True, False, True, False]
    >>> trust_seeds(rec, out, min_seeds=5)[1]
    'mutual >= 10, follow-back >= 0.72 (top decile)'
    """
    k = int(config.get("trust_seed_min_mutual"))
    fb = float(config.get("trust_seed_min_followback"))
    ok = rec >= k
    seeds = ok & (rec >= fb * outdeg)
    if int(seeds.sum()) >= min_seeds or not ok.any():
        return seeds, f"mutual >= {k}, follow-back >= {fb}"
    share = rec[ok] / np.maximum(outdeg[ok], 1)
    q = float(np.quantile(share, 0.9))
    return ok & (rec >= q * outdeg), f"mutual >= {k}, follow-back >= {q:.3g} (top decile)"


def run(n: int, m: int, *, seed: int, workdir: str | None, order: str | None,
        memory_gb: float | None, log=print) -> dict:
    clock = {"generate": 0.0}
    scale, source = twitter_like(n, m, seed, clock)
    phases: dict[str, float] = {}
    facts: dict = {"vertices": n, "edges_drawn": m, "rmat_scale": scale,
                   "rmat_abc": [config.get("rmat_a"), config.get("rmat_b"),
                                config.get("rmat_c")],
                   "order": order or "none", "iterations": ITERATIONS,
                   "generator": "rmat_edges, folded onto n"}
    last = [0.0]

    def progress(stage: str, done: int) -> None:
        t = time.perf_counter()
        if t - last[0] > 20:
            last[0] = t
            log(f"  {stage}: {done:,}")

    t_all = time.perf_counter()
    with Memory() as mem:
        with mem.phase("build"):
            log(f"build: R-MAT scale {scale} folded to {n:,} vertices, {m:,} edges drawn")
            t0 = time.perf_counter()
            g = build_csr(source, n, workdir=workdir, order=order, memory_gb=memory_gb,
                          edges=m, progress=progress)
            phases["build"] = time.perf_counter() - t0
        try:
            b = g.seconds
            phases["build: generate R-MAT"] = clock["generate"]
            phases["build: count + spill"] = b["count"] - clock["generate"]
            phases["build: place (raw in-CSR)"] = b["place"]
            phases["build: out-CSR (transpose, dedupe)"] = b["out"]
            phases["build: in-CSR (transpose)"] = b["in"]
            facts.update(edges=g.m, self_loops_dropped=g.self_loops,
                         repeats_merged=g.duplicates, windows=g.windows,
                         memory_budget_bytes=g.memory_budget,
                         disk_peak_bytes=g.disk_peak,
                         csr_file_bytes=4 * 2 * g.m,
                         workdir_free_bytes=int(__import__("shutil").disk_usage(
                             g.workdir).free))
            log(f"  {g.m:,} edges after dropping {g.self_loops:,} self-loops and merging "
                f"{g.duplicates:,} repeats")

            with mem.phase("degrees"):
                t0 = time.perf_counter()
                outdeg = g.out_degree()
                indeg = g.in_degree()
                phases["degrees"] = time.perf_counter() - t0
            facts.update(max_in_degree=int(indeg.max()), max_out_degree=int(outdeg.max()),
                         zero_in_share=round(float((indeg == 0).mean()), 4))
            log("reciprocity")
            with mem.phase("reciprocity"):
                t0 = time.perf_counter()
                rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr,
                                             g.in_indices)
                phases["reciprocity"] = time.perf_counter() - t0
            facts["reciprocity"] = round(float(rec.sum()) / max(g.m, 1), 5)

            log("TrustRank from reciprocity seeds")
            with mem.phase("trustrank"):
                t0 = time.perf_counter()
                norm = outdeg.astype(np.float64)
                seeds, seed_rule = trust_seeds(rec, outdeg)
                del rec
                layer = [(g.in_indptr, g.in_indices)]
                trust = pagerank(layers=layer, prior=seeds.astype(np.float64), norm=norm,
                                 max_iter=ITERATIONS, tol=0.0)
                reached = max(int(np.count_nonzero(trust > 0)), 1)
                voter = float(gate(np.ones(1))[0]) * \
                    (1.0 - np.exp(-trust * reached / float(config.get("trust_tau"))))
                phases["trustrank (20 it)"] = time.perf_counter() - t0
            facts.update(seeds=int(seeds.sum()), seed_rule=seed_rule, trust_reached=reached,
                         voters_over_half=int((voter > 0.5).sum()))
            del trust, seeds
            log("TrueRank")
            with mem.phase("truerank"):
                t0 = time.perf_counter()
                tr = pagerank(layers=layer, prior=voter, give=voter, norm=norm,
                              max_iter=ITERATIONS, tol=0.0)
                phases["truerank (20 it)"] = time.perf_counter() - t0
            log("PageRank")
            with mem.phase("pagerank"):
                t0 = time.perf_counter()
                # norm = out-degree is what pagerank's default out_weight computes for
                # one unweighted layer, but that default bincounts the int32 in-CSR
                # through an int64 copy (8 bytes per edge, 11.6 GB here)
                pr = pagerank(g.in_indptr, g.in_indices, norm=norm, max_iter=ITERATIONS,
                              tol=0.0)
                phases["pagerank (20 it)"] = time.perf_counter() - t0
            top = np.argsort(-tr)[:1000]
            facts.update(truerank_sum=round(float(tr.sum()), 6),
                         pagerank_sum=round(float(pr.sum()), 6),
                         top1000_truerank_in_pagerank_top1000=int(np.isin(
                             top, np.argsort(-pr)[:1000]).sum()))
        finally:
            g.close()
        phases["total"] = time.perf_counter() - t_all
    facts["workdir_removed"] = not g.workdir.exists()
    return {"graph": facts,
            "seconds": {k: round(v, 2) for k, v in phases.items()},
            "memory": {"peak_rss_bytes": mem.peak["rss"],
                       "peak_anon_bytes": mem.peak["anon"],
                       "peak_file_bytes": mem.peak["file"],
                       "base_rss_bytes": mem.base["rss"],
                       "phases": mem.peaks},
            "targets": {"total_s": TARGET_TOTAL_S, "pagerank_s": TARGET_PAGERANK_S,
                        "total_met": phases["total"] <= TARGET_TOTAL_S,
                        "pagerank_met": phases["pagerank (20 it)"] <= TARGET_PAGERANK_S},
            "references_pagerank_20_s": REFERENCES}


def machine() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "threads": numba.get_num_threads(),
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "machine": platform.machine()}


def table(res: dict) -> str:
    gb = 2**30
    mem = res["memory"]["phases"]
    lines = [f"{'phase':38s} {'seconds':>9s} {'peak RSS GB':>12s} {'anon GB':>8s}"]
    for k, v in res["seconds"].items():
        p = mem.get(k.split(" (")[0], {})
        rss = f"{p['rss'] / gb:12.2f}" if p else " " * 12
        anon = f"{p['anon'] / gb:8.2f}" if p else ""
        lines.append(f"{k:38s} {v:9.1f} {rss} {anon}")
    g = res["graph"]
    m = res["memory"]
    lines += [f"graph: {g['vertices']:,} vertices, {g['edges_drawn']:,} drawn, "
              f"{g['edges']:,} edges, reciprocity {g['reciprocity']}",
              f"peak RSS {m['peak_rss_bytes'] / gb:.2f} GB (anon "
              f"{m['peak_anon_bytes'] / gb:.2f}, file-backed {m['peak_file_bytes'] / gb:.2f});"
              f" work folder peak {g['disk_peak_bytes'] / gb:.2f} GB",
              f"targets: total <= {TARGET_TOTAL_S} s: {res['targets']['total_met']}; "
              f"PageRank <= {TARGET_PAGERANK_S} s: {res['targets']['pagerank_met']}; "
              f"references: " + ", ".join(f"{k} {v:.0f} s"
                                          for k, v in REFERENCES.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale-down", type=int, default=1,
                    help="divide vertices and edges by this (64: a quick try)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None,
                    help="folder for the build's files (config outofcore_workdir)")
    ap.add_argument("--memory-gb", type=float, default=None,
                    help="memory budget of the build (config outofcore_memory_gb)")
    ap.add_argument("--order", choices=["degree", "none"], default="degree",
                    help="relabel vertices by degree at build (default) or keep the ids")
    ap.add_argument("--out", default=None,
                    help="JSON file for the figures (default: benchmarks/results/xl.json "
                         "at full size, none when scaled down)")
    args = ap.parse_args(argv)
    if args.scale_down < 1:
        print("--scale-down must be at least 1", file=sys.stderr)
        return 2
    n = TWITTER_N // args.scale_down
    m = TWITTER_M // args.scale_down
    res = run(n, m, seed=args.seed, workdir=args.workdir,
              order=None if args.order == "none" else args.order,
              memory_gb=args.memory_gb,
              log=lambda s: print(s, file=sys.stderr, flush=True))
    res = {"benchmark": "bench_xl", "scale_down": args.scale_down, "machine": machine(),
           "when": time.strftime("%Y-%m-%d %H:%M:%S"), **res}
    print(table(res))
    out = args.out or (str(RESULTS) if args.scale_down == 1 else None)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
