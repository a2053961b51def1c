"""Benchmark of the graph build: time, peak memory and bytes per edge.

Usage::

    python benchmarks/bench_graph.py --db PATH                  # build from a store
    python benchmarks/bench_graph.py --db PATH --make 20000000  # first make a random store

``--make M`` writes a store with about ``M`` random follows (over ``M / 20`` accounts,
targets skewed like follower counts, 80% with a follow time) through ``Store.load``, in
chunks of one million rows. The report is JSON: build seconds per phase, peak RSS growth
over the process before the build (sampled every few milliseconds in a thread), the
graph's own bytes, and both per follow edge. The target (DESIGN.md, "Scale") is at most
20 bytes per edge.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa

from trueclout.graph import build_graph, toy_graph
from trueclout.ingest.base import Chunk
from trueclout.model import TS, conform
from trueclout.store import Store


class PeakRSS:
    """Sample this process's resident set size in a thread; ``peak - base`` is the growth.

    Examples
    --------
    >>> with PeakRSS() as p:
    ...     x = bytearray(10**6)
    >>> p.peak >= p.base
    True
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.proc = psutil.Process()
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.base = self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def make_store(path: str, follows: int, *, accounts: int | None = None, seed: int = 0,
               chunk_rows: int = 1_000_000, ts_share: float = 0.8, skew: float = 0.8) -> dict:
    """Write a store at ``path`` with about ``follows`` random follows (repeats removed).

    Returns a dict with the counts and the load time.
    """
    n = accounts or max(2, follows // 20)
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, follows, dtype=np.int64)
    # Zipf-like targets: a few accounts with very many followers
    w = 1.0 / np.arange(1, n + 1) ** skew
    dst = rng.choice(n, size=follows, p=w / w.sum()).astype(np.int64)
    dst = rng.permutation(n)[dst]
    key = np.unique(src * n + dst)
    del src, dst, w
    rng.shuffle(key)
    m = key.size
    t0 = time.perf_counter()

    def chunks():
        for a in range(0, m, chunk_rows):
            k = key[a:a + chunk_rows]
            rows = k.size
            s = pa.array(k // n).cast(pa.string())
            d = pa.array(k % n).cast(pa.string())
            t = rng.integers(1_200_000_000, 1_700_000_000, rows) * 1_000_000
            mask = rng.random(rows) >= ts_share
            created = pa.array(t, mask=mask).cast(TS)
            b = conform("follows", {"platform": pa.array(["bench"] * rows), "src": s,
                                    "dst": d, "created_at": created}, rows)
            yield Chunk("follows", b, "bench")

    with Store(path) as store:
        r = store.load(chunks(), source=f"bench-{follows}-{seed}", fmt="bench",
                       content_hash=f"bench-{follows}-{n}-{seed}")
    return {"follows": m, "accounts_max": n, "load_s": round(time.perf_counter() - t0, 1),
            "accepted": r.accepted}


def bench_build(store_path: str, *, include_removed: bool = False,
                interactions: bool = True, batch_rows: int | None = None) -> dict:
    """Build the graph of the store at ``store_path`` and measure it.

    First the follows are streamed once without building anything: the RSS growth of
    that scan is the store's own cost (DuckDB's buffer pool, one Arrow batch). Then the
    graph is built, and its peak RSS growth over the state after the scan is what the
    build itself needs.

    Returns
    -------
    dict
        ``vertices``, ``edges``, ``timestamps``, ``build_s``, ``phases_s`` (seconds from
        the start to the first report of each phase), ``store_scan_s``,
        ``store_scan_rss_delta_bytes``, ``build_rss_delta_bytes`` (peak RSS growth of the
        build, DuckDB's query memory included), ``own_peak_bytes`` (peak of the build's
        own numpy and Arrow allocations, from a second build under tracemalloc),
        ``graph_nbytes``, and per follow edge ``build_rss_bytes_per_edge``,
        ``own_peak_bytes_per_edge`` and ``graph_bytes_per_edge``.
    """
    toy_graph()  # load the compiled kernels before measuring
    with Store(store_path, read_only=True) as store:
        gc.collect()
        with PeakRSS() as scan:
            t0 = time.perf_counter()
            for batch in store.iter_edges("follows", include_removed=include_removed,
                                          batch_rows=batch_rows):
                del batch
            scan_s = time.perf_counter() - t0
        gc.collect()
        phases: dict[str, float] = {}
        t0 = time.perf_counter()

        def progress(stage: str, rows: int) -> None:
            phases.setdefault(stage, round(time.perf_counter() - t0, 3))

        with PeakRSS() as rss:
            t0 = time.perf_counter()
            g = build_graph(store, include_removed=include_removed,
                            interactions=interactions, progress=progress,
                            batch_rows=batch_rows)
            build_s = time.perf_counter() - t0
        nbytes = g.nbytes()
        del g
        gc.collect()
        # second build: numpy and Python allocations only (tracemalloc sees numpy's
        # arrays, not DuckDB's buffers nor Arrow's pool), sampled with Arrow's pool
        arrow0 = pa.total_allocated_bytes()
        arrow_peak = [0]
        stop = threading.Event()

        def sample_arrow() -> None:
            while not stop.is_set():
                arrow_peak[0] = max(arrow_peak[0], pa.total_allocated_bytes() - arrow0)
                time.sleep(0.005)

        th = threading.Thread(target=sample_arrow, daemon=True)
        tracemalloc.start()
        th.start()
        try:
            g = build_graph(store, include_removed=include_removed,
                            interactions=interactions, batch_rows=batch_rows)
            own_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            stop.set()
            th.join()
    delta = rss.peak - rss.base
    m = max(g.m, 1)
    own = own_peak + arrow_peak[0]
    return {"vertices": g.n, "edges": g.m, "timestamps": g.has_timestamps,
            "build_s": round(build_s, 3), "phases_s": phases,
            "store_scan_s": round(scan_s, 3),
            "store_scan_rss_delta_bytes": int(scan.peak - scan.base),
            "build_rss_delta_bytes": int(delta), "own_peak_bytes": int(own),
            "graph_nbytes": nbytes,
            "build_rss_bytes_per_edge": round(delta / m, 2),
            "own_peak_bytes_per_edge": round(own / m, 2),
            "graph_bytes_per_edge": round(nbytes / m, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="path of the store")
    ap.add_argument("--make", type=int, default=0,
                    help="first write a random store with about this many follows")
    ap.add_argument("--accounts", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ts-share", type=float, default=0.8,
                    help="share of made follows with a follow time")
    ap.add_argument("--no-interactions", action="store_true")
    ap.add_argument("--batch-rows", type=int, default=None,
                    help="edges per batch read from the store (config graph_batch_rows)")
    args = ap.parse_args(argv)
    out: dict = {}
    if args.make:
        if Path(args.db).exists():
            print(f"{args.db} exists; remove it or drop --make", file=sys.stderr)
            return 2
        out["make"] = make_store(args.db, args.make, accounts=args.accounts, seed=args.seed,
                                 ts_share=args.ts_share)
    out["build"] = bench_build(args.db, interactions=not args.no_interactions,
                               batch_rows=args.batch_rows)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
