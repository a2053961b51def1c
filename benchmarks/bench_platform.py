"""Benchmark of full detection plus scoring on a simulated platform (issue 6).

The platform: the simulator's with about ``follows`` follows (50M; ``--quick`` 2M), as in
``benchmarks/run.py`` (about 28 follows per account: 1.79M accounts for 50M). Each step runs
in a fresh child process with its peak RSS sampled every 5 ms in a thread:

- ``simulate`` and ``ingest``: ``run.py``'s own steps (when ``run.py`` calls this module
  it passes its store and figures, so nothing is simulated twice);
- ``detect``: ``run.py``'s step: read the store into DetectionData and fit the ensemble
  (what ``trueclout detect`` does);
- ``rank``: what ``trueclout rank`` does, as one process: read the store, fit the ensemble,
  then score (trust, TrueRank, authentic reach, engagement, PageRank, followers: the
  rankings of :func:`trueclout.score.rank.rank_all`, each timed), build the ranking table
  and save the run in the store. Peak RSS is reported for the detection and the scoring
  phases apart.

In both ``detect`` and ``rank`` the classifier's default model is trained (or loaded from
its cache) before the clock starts. Reported: seconds and peak RSS per step, and for the
whole pipeline (simulate + ingest + rank: detection and scoring from raw data); targets
(issue 2) for detection: 120 s and 6 GB.

Usage: ``python benchmarks/bench_platform.py [--quick] [--follows N]``; ``run(quick)``
returns the dict that ``benchmarks/run.py`` stores under ``platform``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R  # noqa: E402  (benchmarks/run.py: its measured steps)

# The rank step, in a child; the sampler keeps one peak per phase; prints RESULT {json}.
_RANK = textwrap.dedent("""
    import json, sys, threading, time, psutil
    proc = psutil.Process()
    phase = ["detect"]
    peaks = {}
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            rss = proc.memory_info().rss
            peaks[phase[0]] = max(peaks.get(phase[0], 0), rss)
            time.sleep(0.005)
    args = json.loads(sys.argv[1])
    from trueclout.detect.default import default_model
    from trueclout.detect.data import DetectionData
    from trueclout.detect.ensemble import EnsembleDetector
    from trueclout.score.context import ScoreContext
    from trueclout.score.rank import RANKINGS, rank_all, ranking_table, trust_model
    from trueclout.store import Store
    model = default_model()  # read before the clock starts
    store = Store(args["db"], read_only=True)
    base = proc.memory_info().rss
    threading.Thread(target=sample, daemon=True).start()
    out, secs = {}, {}
    t0 = time.perf_counter()
    data = DetectionData.from_store(store)
    secs["read"] = time.perf_counter() - t0
    t = time.perf_counter()
    ens = EnsembleDetector(model=model).fit(data)
    secs["ensemble"] = time.perf_counter() - t
    phase[0] = "score"
    t = time.perf_counter()
    ctx = ScoreContext.from_data(data, ens)
    ctx.store = store
    secs["context"] = time.perf_counter() - t
    t = time.perf_counter()
    trust_model(ctx)
    secs["trust"] = time.perf_counter() - t
    scores = {}
    # truerank first (it reuses the trust model); the others reuse its cached fit
    for name in ("truerank",) + tuple(r for r in RANKINGS if r != "truerank"):
        t = time.perf_counter()
        scores.update(rank_all(ctx, which=(name,)))
        secs[name] = time.perf_counter() - t
    t = time.perf_counter()
    table = ranking_table(ctx, "truerank", scores=scores)
    secs["table"] = time.perf_counter() - t
    store.close()
    phase[0] = "save"
    t = time.perf_counter()
    with Store(args["db"]) as w:
        run_id = w.save_run("rank", {"by": "truerank", "topic": None},
                            {"accounts": ctx.n, "seconds": 0.0}, ctx.graph.uids, scores)
    secs["save"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    stop.set()
    time.sleep(0.01)
    peak = max(peaks.values()) if peaks else base
    out = {"seconds": total, "phases_s": {k: round(v, 2) for k, v in secs.items()},
           "detect_s": secs["read"] + secs["ensemble"],
           "score_s": total - secs["read"] - secs["ensemble"] - secs["save"],
           "accounts": int(ctx.n), "edges": int(ctx.graph.m),
           "flagged": int(ens.labels_.sum()), "rows": table.num_rows, "run_id": run_id,
           "peak_rss_bytes": peak, "base_rss_bytes": base,
           "peak_above_base_bytes": max(0, peak - base),
           "peak_rss_by_phase_bytes": peaks}
    print("RESULT " + json.dumps(out, default=str))
""")


def rank_step(db: Path) -> dict:
    """Run the ``rank`` step in a child process and return its figures."""
    proc = subprocess.run([sys.executable, "-c", _RANK, json.dumps({"db": str(db)})],
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"rank failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def _summary(steps: dict) -> dict:
    gib = 2 ** 30
    per = {k: {"seconds": round(v["seconds"], 1),
               "peak_rss_gib": round(v["peak_rss_bytes"] / gib, 2)}
           for k, v in steps.items() if v}
    pipe = [k for k in ("simulate", "ingest", "rank") if steps.get(k)]
    return {"per_step": per,
            "pipeline": " + ".join(pipe),
            "pipeline_seconds": round(sum(steps[k]["seconds"] for k in pipe), 1),
            "pipeline_peak_rss_gib": round(max(steps[k]["peak_rss_bytes"] for k in pipe)
                                           / gib, 2),
            "detect_plus_score_seconds": round(steps["rank"]["seconds"], 1),
            "detect_plus_score_peak_rss_gib": round(steps["rank"]["peak_rss_bytes"] / gib, 2)}


def run(quick: bool = False, *, follows: int | None = None, db: Path | None = None,
        sim: dict | None = None) -> dict:
    """Simulate (unless ``db`` and ``sim``, the store and figures of ``run.py``'s
    ``bench_sim``, are given), ingest, detect and rank; returns a JSON-ready dict.

    Examples
    --------
    >>> callable(run)
    True
    """
    steps: dict = {}
    tmp = None
    try:
        if db is None:
            follows = follows or (2_000_000 if quick else 50_000_000)
            accounts = max(1000, follows // 28)  # as run.py: ~28 follows per account
            tmp = Path(tempfile.mkdtemp(prefix="trueclout-platform-"))
            steps["simulate"] = R.run_step("simulate", out=str(tmp / "sim"), accounts=accounts)
            db = tmp / "sim.duckdb"
            steps["ingest"] = R.run_step("ingest", db=str(db), path=str(tmp / "sim"))
            shutil.rmtree(tmp / "sim", ignore_errors=True)
            steps["detect"] = R.run_step("detect", db=str(db))
            reused = False
        else:
            steps.update({k: sim[k] for k in ("simulate", "ingest", "detect") if k in sim})
            accounts = steps["ingest"]["accounts"]
            reused = True
        steps["rank"] = rank_step(db)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"data": f"simulated platform, {accounts:,} accounts, "
                    f"{steps['ingest']['follows']:,} follows",
            "reused_run_py_steps": reused, "steps": steps, "summary": _summary(steps),
            "targets": {"detect_seconds": 120, "detect_peak_gb": 6}}


def rows(res: dict) -> list[tuple[str, str, str]]:
    """Table rows for ``run.py``'s printout.

    Examples
    --------
    >>> rows({"steps": {}, "summary": {"per_step": {}, "pipeline": "", "pipeline_seconds": 0,
    ...       "pipeline_peak_rss_gib": 0, "detect_plus_score_seconds": 0,
    ...       "detect_plus_score_peak_rss_gib": 0}})[0][0]
    'platform: detection + scoring (rank)'
    """
    s = res["summary"]
    out = [("platform: detection + scoring (rank)", f"{s['detect_plus_score_seconds']:.1f} s",
            f"{s['detect_plus_score_peak_rss_gib']:.1f} GiB peak RSS")]
    rk = res["steps"].get("rank")
    if rk:
        ph = rk["phases_s"]
        out.append(("platform: rank phases", f"{rk['score_s']:.1f} s",
                    "scoring; " + ", ".join(f"{k} {v}" for k, v in ph.items())))
    for k, v in s["per_step"].items():
        out.append((f"platform: {k}", f"{v['seconds']:.1f} s", f"{v['peak_rss_gib']:.2f} GiB"))
    out.append((f"platform: {s['pipeline']}", f"{s['pipeline_seconds']:.1f} s",
                f"{s['pipeline_peak_rss_gib']:.1f} GiB peak (largest step)"))
    return out


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2M follows instead of 50M")
    ap.add_argument("--follows", type=int, default=None)
    a = ap.parse_args()
    r = run(a.quick, follows=a.follows)
    print(json.dumps(r, indent=2, default=str))
    for name, t, note in rows(r):
        print(f"{name:<40} {t:>10}  {note}", file=sys.stderr)
