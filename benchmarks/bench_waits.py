"""What a marketer waits for: the commands, the dashboard's first page, and a command
beside a running server.

Usage::

    python benchmarks/bench_waits.py [--quick] [--db STORE] [--repeat N]

``run(quick)`` returns the figures as a dict (``benchmarks/run.py`` collects it).

On the demo platform (50,000 simulated accounts, seed 0; 10,000 with ``--quick``), each
command runs as a user runs it, ``python -m trueclout.cli ... --json`` in a fresh
process, and its wall time is measured from start to exit:

1. **Commands.** ``audit``, ``audit`` of an unknown account, ``find --topic``, ``rank``,
   ``overlap``, ``plan``, ``topics`` and ``suggest``. *Cold*: the store's saved contexts
   (``<store>.cache``) are deleted first, so the command reads the store and fits
   detection, as every command did before contexts were saved. *Warm*: the same command
   again (the median of ``repeat`` runs). Goals: a warm command under 2 s, an unknown
   account refused under 1 s.
2. **The dashboard's first page.** ``trueclout serve`` on the store without a saved
   context: the seconds until ``/api/v1/health`` says ready, the slowest ``/health``
   answer meanwhile (it must never wait for the build), and when the first
   ``/discover?topic=...`` page answers 200 (the progress page answers 503 before). Then
   the same after a restart, with the context the first run saved.
3. **Beside a running server.** With the server up, the commands of phase 1 and ``keys
   create``, which before waited ``lock_wait_s`` (30 s) for the store and failed with
   StoreBusyError.

The machine's other work shares the same cores; the figures are wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load  # noqa: E402  (the demo store and server helpers)

GOAL_WARM_S = 2.0
GOAL_UNKNOWN_S = 1.0


def _cli(db: Path, *args: str) -> tuple[float, int]:
    """Run one command in a fresh process; (wall seconds, exit code)."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "trueclout.cli", *args, "--db", str(db),
                        "--json"], capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "80"})
    return round(time.perf_counter() - t, 2), r.returncode


def _commands(db: Path, folder: Path) -> dict[str, list[str]]:
    """The commands to time, with accounts of this store."""
    from trueclout.score.saved import load_context
    from trueclout.score.topics import list_topics
    from trueclout.store import Store
    with Store(db, read_only=True) as store:
        ctx = load_context(store)
        deg = ctx.graph.in_degree()
        top = [f"{p}:{a}" for p, a in (ctx.graph.name(int(v)) for v in
                                      deg.argsort()[::-1][:3])]
        topic = list_topics(ctx, 1, store=store)[0]["topic"]
    costs = folder / "costs.csv"
    costs.write_text("account,cost\n" + "".join(f"{a},{100 + 10 * i}\n"
                                                for i, a in enumerate(top)))
    return {"audit": ["audit", top[1]], "audit unknown account": ["audit", "sim:nobody"],
            "find --topic": ["find", "--topic", topic], "rank": ["rank", "--no-save"],
            "overlap": ["overlap", top[0], top[1]],
            "plan": ["plan", "--budget", "250", "--costs", str(costs), "--topic", topic],
            "topics": ["topics"], "suggest": ["suggest", top[2]]}


def commands(db: Path, folder: Path, repeat: int = 3) -> dict:
    """Phase 1: cold and warm wall seconds of each command."""
    from trueclout.score.saved import forget_saved
    cmds = _commands(db, folder)
    out = {}
    for name, args in cmds.items():
        forget_saved(db)
        cold, code = _cli(db, *args)
        warm = [_cli(db, *args)[0] for _ in range(repeat)]
        out[name] = {"cold_s": cold, "warm_s": statistics.median(warm), "exit": code}
    return out


def _get(base: str, path: str, timeout: float = 600) -> tuple[float, int]:
    import httpx
    t = time.perf_counter()
    r = httpx.get(base + path, timeout=timeout)
    return time.perf_counter() - t, r.status_code


def first_page(db: Path, topic: str) -> dict:
    """Phase 2: start-up without and with a saved context."""
    from trueclout.score.saved import forget_saved
    forget_saved(db)
    out = {}
    for run in ("no saved context", "saved context"):
        port = bench_load._free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "trueclout.cli", "serve", "--db",
                                 str(db), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            bench_load._wait_up(proc, base)
            up = time.perf_counter() - t0
            slowest, ready, page = 0.0, None, None
            while time.perf_counter() - t0 < 600:
                dt, _ = _get(base, "/api/v1/health", 30)
                slowest = max(slowest, dt)
                if ready is None and _health(base)["ready"]:
                    ready = time.perf_counter() - t0
                if page is None:
                    _, status = _get(base, f"/discover?topic={topic}")
                    if status == 200:
                        page = time.perf_counter() - t0
                if ready is not None and page is not None:
                    break
                time.sleep(0.2)
            out[run] = {"server_up_s": round(up, 2),
                        "ready_s": round(ready, 2) if ready else None,
                        "first_discover_page_s": round(page, 2) if page else None,
                        "slowest_health_ms": round(1000 * slowest, 1)}
        finally:
            proc.terminate()
            proc.wait(30)
    return out


def _health(base: str) -> dict:
    import httpx
    return httpx.get(base + "/api/v1/health", timeout=30).json()


def beside_server(db: Path, folder: Path, repeat: int = 2) -> dict:
    """Phase 3: the commands while a server holds the store."""
    port = bench_load._free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "trueclout.cli", "serve", "--db", str(db),
                             "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {}
    try:
        bench_load._wait_up(proc, base)
        while not _health(base)["ready"]:
            time.sleep(0.2)
        cmds = {**_commands_remote(db, folder), "keys create": ["keys", "create", "--scope",
                                                                "read"]}
        for name, args in cmds.items():
            runs = [_cli(db, *args) for _ in range(repeat)]
            out[name] = {"s": statistics.median(r[0] for r in runs), "exit": runs[-1][1]}
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def _commands_remote(db: Path, folder: Path) -> dict[str, list[str]]:
    costs = folder / "costs.csv"
    lines = costs.read_text().splitlines()[1:]
    top = [line.split(",")[0] for line in lines]
    return {"audit": ["audit", top[1]], "audit unknown account": ["audit", "sim:nobody"],
            "find --topic": ["find", "--topic", _topic(folder)], "rank": ["rank"],
            "overlap": ["overlap", top[0], top[1]],
            "plan": ["plan", "--budget", "250", "--costs", str(costs), "--topic",
                     _topic(folder)], "topics": ["topics"], "stats": ["stats"]}


def _topic(folder: Path) -> str:
    return (folder / "topic.txt").read_text().strip()


def run(quick: bool = False, *, db: str | os.PathLike | None = None,
        repeat: int | None = None) -> dict:
    """The three phases on the demo store (or a copy of ``db``); a JSON-ready dict.

    Examples
    --------
    >>> callable(run)
    True
    """
    repeat = repeat or (2 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="trueclout-bench-waits-") as tmp:
        folder = Path(tmp)
        path, built = bench_load.demo_store(folder, 10_000 if quick else 50_000, db)
        cmds = _commands(path, folder)
        (folder / "topic.txt").write_text(cmds["find --topic"][2])
        res = {**built, "commands": commands(path, folder, repeat)}
        res["first_page"] = first_page(path, cmds["find --topic"][2])
        res["beside_server"] = beside_server(path, folder)
        warm = [v["warm_s"] for k, v in res["commands"].items() if k != "audit unknown account"]
        res["goals"] = {"warm_s": GOAL_WARM_S, "unknown_s": GOAL_UNKNOWN_S,
                        "warm_max_s": max(warm),
                        "unknown_warm_s": res["commands"]["audit unknown account"]["warm_s"],
                        "unknown_cold_s": res["commands"]["audit unknown account"]["cold_s"]}
        return res


def rows(res: dict) -> list[tuple[str, str, str]]:
    """Lines of ``benchmarks/run.py``'s summary table.

    Examples
    --------
    >>> rows({"commands": {"rank": {"cold_s": 9.0, "warm_s": 1.1}}, "first_page": {},
    ...       "beside_server": {}})[0][:2]
    ('CLI rank, warm (cold)', '1.10 s')
    """
    out = [(f"CLI {k}, warm (cold)", f"{v['warm_s']:.2f} s", f"cold {v['cold_s']:.2f} s")
           for k, v in res["commands"].items()]
    for k, v in res["first_page"].items():
        out.append((f"dashboard first page, {k}", f"{v['first_discover_page_s']} s",
                    f"ready {v['ready_s']} s; slowest /health {v['slowest_health_ms']} ms"))
    for k, v in res["beside_server"].items():
        out.append((f"CLI {k} beside a server", f"{v['s']:.2f} s", f"exit {v['exit']}"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 accounts")
    ap.add_argument("--db", default=None, help="an existing store (copied)")
    ap.add_argument("--repeat", type=int, default=None, help="warm runs per command")
    args = ap.parse_args(argv)
    res = run(args.quick, db=args.db, repeat=args.repeat)
    print(json.dumps(res, indent=2, default=str))
    for name, t, note in rows(res):
        print(f"{name:<45} {t:>10}  {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
