"""Benchmark of the lockstep detector against the public Fraudar code (issue 6).

Our detector (:class:`trueclout.detect.lockstep.LockstepDetector`, built on the numba
peeling of :mod:`trueclout.kernels.peel`) and the peer, the authors' greedy as packaged on
PyPI by ``rgmining-fraudar`` (``fraudar.export.greedy``: ``listToSparseMatrix``, then
``detectMultiple(M, logWeightedAveDegree, k)``; pure Python over scipy sparse matrices,
one thread), run on the **same** graphs with the **same** injected blocks and are asked
for the **same** number of blocks ``k`` (one per injected block).

The graphs: R-MAT backgrounds (a = 0.57, b = c = 0.19; :func:`trueclout.graph.rmat.
rmat_graph`) of about 100k and 1M follows (``--quick``: 100k only), then larger ones while
the peer finishes within ``PEER_TIMEOUT_S`` and ``PEER_MAX_RSS``; into each,
:func:`trueclout.evaluate.attacks.inject_block` plants the blocks of ``BLOCKS`` (bought
followers with random or popular camouflage, Fraudar's section 5). The peer reads the
follower x followee matrix built from the same edges; its flagged accounts are the rows
of its ``k`` blocks; ours are ``labels_``. The positives are the injected accounts (the
fakes); precision, recall and F1 of the flagged accounts are reported for both, and the
same for the block's columns (the customers: the peer's block columns, our
``customers_``). Ours also runs with its default number of blocks
(``ours_default_blocks``), for reference.

Times: ours is the fit on a graph already in memory (numba compiled beforehand); the
peer's is ``detectMultiple`` (its matrix build is reported apart). The peer runs in a
child process, stopped past a time limit or a memory cap, with its own peak RSS.

Usage: ``python benchmarks/bench_fraudar.py [--quick]``; ``run(quick)`` returns the dict
that ``benchmarks/run.py`` stores under ``fraudar``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_graph import PeakRSS  # noqa: E402

#: The planted blocks: Fraudar-style bought followers (inject_block's arguments).
BLOCKS = (
    dict(n_fakes=500, n_customers=50, per_fake_customers=20, per_fake_camouflage=20,
         camouflage="random"),
    dict(n_fakes=300, n_customers=30, per_fake_customers=15, per_fake_camouflage=15,
         camouflage="popular"),
    dict(n_fakes=200, n_customers=20, per_fake_customers=10, per_fake_camouflage=10,
         camouflage="random"),
)
#: (R-MAT scale, draws) of the backgrounds; the ones after the second run only while the
#: peer keeps within PEER_TIMEOUT_S.
SIZES = ((14, 100_000), (17, 1_000_000), (18, 2_000_000), (19, 4_000_000),
         (20, 10_000_000))
QUICK_SIZES = ((14, 100_000),)
PEER_TIMEOUT_S = 300
#: The peer is stopped beyond this resident memory (a shared 24 GB machine; the peer held
#: 3.7 GiB at 3M edges).
PEER_MAX_RSS = 8 * 2**30

# The peer, in a child: the edges come in .npy files; prints RESULT {json}.
_PEER = textwrap.dedent("""
    import contextlib, io, json, os, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[3])
    from bench_graph import PeakRSS
    from fraudar.export import greedy
    d, k = sys.argv[1], int(sys.argv[2])
    src, dst = np.load(os.path.join(d, "src.npy")), np.load(os.path.join(d, "dst.npy"))
    with PeakRSS() as mem, contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        M = greedy.listToSparseMatrix(src, dst)
        t1 = time.perf_counter()
        res = greedy.detectMultiple(M, greedy.logWeightedAveDegree, k)
        t2 = time.perf_counter()
    rows = sorted(set().union(*[b[0][0] for b in res]))
    cols = sorted(set().union(*[b[0][1] for b in res]))
    np.save(os.path.join(d, "rows.npy"), np.asarray(rows, np.int64))
    np.save(os.path.join(d, "cols.npy"), np.asarray(cols, np.int64))
    import importlib.metadata as md
    print("RESULT " + json.dumps({
        "version": md.version("rgmining-fraudar"), "matrix_s": t1 - t0, "seconds": t2 - t1,
        "peak_rss_growth_bytes": mem.peak - mem.base,
        "blocks": [{"rows": len(b[0][0]), "cols": len(b[0][1]), "density": float(b[1])}
                   for b in res]}))
""")


def _prf(flagged: np.ndarray, truth: np.ndarray) -> dict:
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn}


def planted(scale: int, draws: int, seed: int = 0):
    """An R-MAT background with the blocks of BLOCKS injected.

    Returns the graph, the truth masks of the fakes and the customers, and each fake's
    block index (-1 for real accounts).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from trueclout.evaluate.attacks import INJECTED_PLATFORM, inject_block
    from trueclout.graph.rmat import rmat_graph
    g = rmat_graph(scale, draws, seed=seed)
    customer_names: list[tuple[str, str]] = []
    for b, spec in enumerate(BLOCKS):
        g, _, cust = inject_block(g, seed=seed + 1 + b, **spec)
        customer_names += [g.name(int(v)) for v in cust]  # real accounts: names are stable
    fake = pc.equal(g.names.column("platform").cast(pa.string()),
                    INJECTED_PLATFORM).to_numpy(zero_copy_only=False)
    # injected ids run on across the calls: block b holds the next n_fakes of them
    block_of = np.full(g.n, -1, np.int64)
    ids = np.array([int(a.split("-")[1]) for a in
                    g.names.column("account_id").filter(pa.array(fake)).to_pylist()])
    ends = np.cumsum([s["n_fakes"] for s in BLOCKS])
    block_of[np.flatnonzero(fake)] = np.searchsorted(ends, ids, side="right")
    customer = np.zeros(g.n, bool)
    customer[[g.vertex(p, a) for p, a in customer_names]] = True
    return g, fake, customer, block_of


def _per_block(flagged: np.ndarray, block_of: np.ndarray) -> list[float]:
    return [round(float(flagged[block_of == b].mean()), 4) for b in range(len(BLOCKS))]


def _ours(g, k: int | None) -> dict:
    from trueclout.detect.data import DetectionData
    from trueclout.detect.lockstep import LockstepDetector
    from trueclout.graph.toy import random_graph
    LockstepDetector(blocks=k, use_time=False).fit(random_graph(300, 2000, seed=0))  # compile
    gc.collect()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        det = LockstepDetector(blocks=k, use_time=False).fit(DetectionData.from_graph(g))
        t = time.perf_counter() - t0
    return {"seconds": t, "peak_rss_growth_bytes": mem.peak - mem.base,
            "parts": len(det.blocks_),
            "flagged": det.labels_.astype(bool),
            "customers": det.customer_scores_ >= det.threshold_}


def _watch(cmd: list[str], d: Path, timeout: float, max_rss: int) -> tuple[str | None, int]:
    """Run ``cmd`` (output to files in ``d``), killing it past ``timeout`` seconds or
    ``max_rss`` bytes of resident memory. Returns why it was stopped (None when it ended
    by itself) and its peak resident memory, sampled every 0.1 s."""
    import psutil
    with open(d / "stdout", "w") as fo, open(d / "stderr", "w") as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        ps, t0, peak = psutil.Process(proc.pid), time.perf_counter(), 0
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.Error:
                pass
            why = None
            if peak > max_rss:
                why = (f"stopped at {peak / 2**30:.1f} GiB resident, over the "
                       f"{max_rss / 2**30:.0f} GiB cap, after {time.perf_counter() - t0:.0f} s")
            elif time.perf_counter() - t0 > timeout:
                why = f"timed out after {timeout:.0f} s ({peak / 2**30:.1f} GiB resident)"
            if why:
                proc.kill()
                proc.wait()
                return why, peak
            time.sleep(0.1)
    return None, peak


def _peer(g, k: int, timeout: float, max_rss: int = PEER_MAX_RSS) -> dict:
    """The Fraudar package in a child process; {"skipped": why} when it cannot run."""
    try:
        import importlib.util
        if importlib.util.find_spec("fraudar") is None:
            return {"skipped": "rgmining-fraudar is not installed (pip install -e '.[bench]')"}
    except ImportError as e:  # pragma: no cover
        return {"skipped": str(e)}
    with tempfile.TemporaryDirectory(prefix="trueclout-fraudar-") as d:
        src = np.repeat(np.arange(g.n, dtype=np.int32), np.diff(g.out_indptr))
        np.save(Path(d) / "src.npy", src)
        np.save(Path(d) / "dst.npy", g.out_indices)
        del src
        stop, peak = _watch([sys.executable, "-c", _PEER, d, str(k),
                       str(Path(__file__).resolve().parent)], Path(d), timeout, max_rss)
        if stop:
            return {"skipped": stop}
        line = [x for x in (Path(d) / "stdout").read_text().splitlines()
                if x.startswith("RESULT ")]
        if not line:
            return {"skipped": f"failed: {(Path(d) / 'stderr').read_text()[-1500:]}"}
        out = json.loads(line[-1][7:])
        out["peak_rss_bytes"] = peak
        n = g.n
        flagged = np.zeros(n, bool)
        customers = np.zeros(n, bool)
        flagged[np.load(Path(d) / "rows.npy")] = True
        cols = np.load(Path(d) / "cols.npy")
        customers[cols[cols < n]] = True
    out["flagged"], out["customers"] = flagged, customers
    return out


def bench_size(scale: int, draws: int, *, peer_timeout: float = PEER_TIMEOUT_S) -> dict:
    """Plant the blocks in one background and run both detectors; a JSON-ready dict."""
    t0 = time.perf_counter()
    g, fake, customer, block_of = planted(scale, draws)
    res: dict = {"scale": scale, "draws": draws, "vertices": int(g.n), "edges": int(g.m),
                 "fakes": int(fake.sum()), "customers": int(customer.sum()),
                 "blocks_asked": len(BLOCKS), "prepare_s": round(time.perf_counter() - t0, 2)}
    k = len(BLOCKS)
    from trueclout import config
    res["default_blocks"] = int(config.get("lockstep_blocks"))
    # the same k for both; and ours with its default k, for reference
    for name, r in (("ours", _ours(g, k)), ("fraudar", _peer(g, k, peer_timeout)),
                    ("ours_default_blocks", _ours(g, None))):
        if "flagged" in r:
            fl, cu = r.pop("flagged"), r.pop("customers")
            r["accounts"] = _prf(fl, fake)
            r["accounts"]["recall_per_block"] = _per_block(fl, block_of)
            r["customers"] = _prf(cu, customer)
            r["flagged"] = int(fl.sum())
        res[name] = r
    if "seconds" in res["fraudar"]:
        res["ratio_fraudar_over_ours_s"] = round(res["fraudar"]["seconds"]
                                                 / res["ours"]["seconds"], 1)
        res["f1_ours_minus_fraudar"] = round(res["ours"]["accounts"]["f1"]
                                             - res["fraudar"]["accounts"]["f1"], 4)
    return res


def run(quick: bool = False) -> dict:
    """Run the comparison at each size; returns a JSON-ready dict.

    In the full run the sizes after the second stop once the peer has been stopped (time
    or memory; our detector is still measured at that size).

    Examples
    --------
    >>> callable(run)
    True
    """
    import numba
    import scipy
    out: dict = {"blocks": [dict(b) for b in BLOCKS], "numba_threads": numba.get_num_threads(),
                 "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                              "numba": numba.__version__},
                 "peer": "rgmining-fraudar: fraudar.export.greedy.detectMultiple with "
                         "logWeightedAveDegree (the authors' greedy; pure Python, 1 thread)",
                 "peer_timeout_s": PEER_TIMEOUT_S, "peer_max_rss_bytes": PEER_MAX_RSS,
                 "sizes": []}
    for i, (scale, draws) in enumerate(QUICK_SIZES if quick else SIZES):
        r = bench_size(scale, draws)
        out["sizes"].append(r)
        print(json.dumps(r, default=str), file=sys.stderr, flush=True)
        if i >= 1 and "seconds" not in r["fraudar"]:
            break
    return out


def rows(res: dict) -> list[tuple[str, str, str]]:
    """Table rows for ``run.py``'s printout, one per size.

    Examples
    --------
    >>> rows({"sizes": [{"edges": 10, "ours": {"seconds": 1.0, "accounts": {"f1": 1.0}},
    ...                  "fraudar": {"skipped": "not installed"}}]})[0][2]
    'F1 1.000; fraudar: not installed'
    """
    out = []
    for r in res["sizes"]:
        o, p = r["ours"], r["fraudar"]
        if "seconds" in p:
            peer = (f"fraudar {p['seconds']:.1f} s, F1 {p['accounts']['f1']:.3f}; "
                    f"fraudar/ours = {r['ratio_fraudar_over_ours_s']:.0f}x")
        else:
            peer = f"fraudar: {p['skipped']}"
        out.append((f"lockstep vs Fraudar ({r['edges']:,} edges)", f"{o['seconds']:.2f} s",
                    f"F1 {o['accounts']['f1']:.3f}; {peer}"))
    return out


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, default=str))
