"""Load test of the REST API: audit and ranking reads on loopback, under uvicorn.

Usage::

    python benchmarks/bench_load.py [--quick] [--db STORE] [--concurrency N] [--seconds T]
                                    [--rate R] [--server-opts "--http httptools ..."]

``run(quick)`` returns the figures as a dict (``benchmarks/run.py`` collects it).

What it does:

1. builds the demo platform as ``trueclout demo`` does (:func:`trueclout.simulate.simulate`
   of 50,000 accounts, seed 0; 10,000 with ``quick``, then
   :func:`trueclout.ingest.run.ingest`) into a temporary store, unless ``db`` names one
   (which is copied, so the run writes nothing to it);
2. makes one read key per client task through the store (before the server starts: the
   server is the store's single writer), and raises the per-key rate limit for the run
   (``TRUECLOUT_API_RATE_PER_S`` / ``TRUECLOUT_API_RATE_BURST``) so that 429s do not hide
   the server's own speed; the limiter still runs on every request;
3. starts ``uvicorn trueclout.api.app:create_app --factory`` (``TRUECLOUT_DB`` names the
   store) on a free loopback port in a subprocess, so the client does not share its GIL.
   One worker: the server holds the store open read-write, and DuckDB lets one process do
   that, so a second worker process cannot open the store (see ``api/README.md``);
4. warms up: the first ranking request builds the score context, then every audited
   account is audited once (its audit is computed and cached: the ``cold_audit_ms``
   figures), so the load measures the steady state of repeated reads;
5. drives the load with an asyncio client (``httpx.AsyncClient``, one pooled connection per
   task), a mix of ``GET /api/v1/accounts/{spec}/audit`` over ``audits`` accounts drawn with
   seed 0 and ``GET /api/v1/rankings?offset=&limit=50`` at random offsets:

   - ``closed``: ``concurrency`` tasks, each sending its next request when its last one
     answered, for ``seconds``: the most the server sustains (at that concurrency);
   - ``open``: requests started at a fixed ``rate`` (default the 500/s target) for
     ``seconds``, whatever the answers; a latency counts from the moment the request was
     due, so a server that falls behind shows it in the percentiles.

   Each phase reports requests/s, p50/p95/p99/max latency in ms and errors by status, per
   endpoint and overall, and the CPU seconds the server and the client used.

``concurrency`` is 4 by default: on 2 cores the client shares the machine with the server,
and httpx's pool costs about 1 ms of client CPU a request; with 16 tasks the client alone
takes a whole core (``/health`` falls from about 1,500 to about 700 requests/s and its p99
from 3 ms to over 100 ms), so the latencies measured would be the client's own queue.

Targets (issue 5), on the demo platform, on 2 cores: audit and ranking reads sustain at
least 500 requests/s with a p99 latency under 50 ms. The client runs on the same 2 cores
as the server, so the figures are a lower bound of the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
V1 = "/api/v1"
TARGET_RPS = 500.0
TARGET_P99_MS = 50.0
DEFAULT_SERVER_OPTS = ("--no-access-log",)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_store(folder: Path, accounts: int, seed: int = 0) -> Path:
    """Simulate ``accounts`` accounts and ingest them into ``folder/demo.duckdb``.

    Examples
    --------
    >>> import tempfile
    >>> p = build_store(Path(tempfile.mkdtemp()), 300)
    >>> p.name
    'demo.duckdb'
    """
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store
    simulate(folder / "platform", accounts=accounts, seed=seed)
    path = folder / "demo.duckdb"
    with Store(path) as store:
        ingest(store, [folder / "platform"])
    shutil.rmtree(folder / "platform", ignore_errors=True)
    return path


def make_keys(db: Path, n: int) -> list[str]:
    """``n`` read keys, made through the store (before the server opens it).

    Examples
    --------
    >>> import tempfile
    >>> len(make_keys(Path(tempfile.mkdtemp()) / "k.duckdb", 2))
    2
    """
    from trueclout.api.auth import create_key
    from trueclout.store import Store
    with Store(db) as store:
        return [create_key(store, "read") for _ in range(n)]


def _stats(lat_s: list[float], statuses: dict[int, int], seconds: float) -> dict:
    ok = statuses.get(200, 0)
    lat = np.asarray(lat_s) * 1000.0
    pct = (np.percentile(lat, [50, 95, 99]) if lat.size else np.full(3, np.nan))
    return {"requests": int(sum(statuses.values())), "ok": int(ok),
            "errors": {str(k): int(v) for k, v in sorted(statuses.items()) if k != 200},
            "rps": round(sum(statuses.values()) / seconds, 1),
            "ok_rps": round(ok / seconds, 1),
            "p50_ms": round(float(pct[0]), 2), "p95_ms": round(float(pct[1]), 2),
            "p99_ms": round(float(pct[2]), 2),
            "max_ms": round(float(lat.max()), 2) if lat.size else None}


class _Recorder:
    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = {"audit": [], "rankings": []}
        self.status: dict[str, dict[int, int]] = {"audit": {}, "rankings": {}}

    def add(self, kind: str, status: int, seconds: float) -> None:
        self.lat[kind].append(seconds)
        self.status[kind][status] = self.status[kind].get(status, 0) + 1

    def summary(self, seconds: float) -> dict:
        out = {k: _stats(self.lat[k], self.status[k], seconds) for k in self.lat}
        every: dict[int, int] = {}
        for st in self.status.values():
            for k, v in st.items():
                every[k] = every.get(k, 0) + v
        out["overall"] = _stats(self.lat["audit"] + self.lat["rankings"], every, seconds)
        return out


def _request_maker(specs: list[str], total: int, audit_share: float, seed: int):
    rng = random.Random(seed)
    top = max(0, total - 50)

    def next_request() -> tuple[str, str]:
        if rng.random() < audit_share:
            return "audit", f"{V1}/accounts/{rng.choice(specs)}/audit"
        return "rankings", f"{V1}/rankings?offset={rng.randint(0, top)}&limit=50"
    return next_request


async def _send(client, kind: str, url: str, key: str, rec: _Recorder, t0: float) -> None:
    import httpx
    try:
        r = await client.get(url, headers={"X-API-Key": key})
        await r.aread()
        status = r.status_code
    except httpx.HTTPError:
        status = -1                     # no answer: connection refused, reset, timeout
    rec.add(kind, status, time.perf_counter() - t0)


async def _closed(base: str, keys: list[str], next_request, seconds: float) -> dict:
    import httpx
    rec = _Recorder()
    n = len(keys)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=httpx.Limits(
            max_connections=n, max_keepalive_connections=n)) as client:
        stop = time.perf_counter() + seconds

        async def worker(key: str) -> None:
            while time.perf_counter() < stop:
                kind, url = next_request()
                await _send(client, kind, url, key, rec, time.perf_counter())
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in keys))
        took = time.perf_counter() - t0
    return {"seconds": round(took, 2), "concurrency": n, **rec.summary(took)}


async def _open(base: str, keys: list[str], next_request, seconds: float,
                rate: float) -> dict:
    import httpx
    rec = _Recorder()
    n = len(keys)
    cap = max(64, 4 * n)                # requests in flight at most; beyond: skipped
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=httpx.Limits(
            max_connections=cap, max_keepalive_connections=cap)) as client:
        tasks: set = set()
        t0 = time.perf_counter()
        count = int(rate * seconds)
        late = skipped = 0
        for i in range(count):
            due = t0 + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.005:
                late += 1               # sent more than 5 ms after it was due
            if len(tasks) >= cap:
                skipped += 1            # the server is this far behind: do not pile on
                continue
            kind, url = next_request()
            task = asyncio.create_task(_send(client, kind, url, keys[i % n], rec, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        took = time.perf_counter() - t0
    return {"seconds": round(took, 2), "target_rps": rate, "due": count,
            "skipped_over_cap": skipped, "in_flight_cap": cap, "late_sends": late,
            **rec.summary(took)}


async def _warm(base: str, key: str, specs: list[str]) -> dict:
    import httpx
    async with httpx.AsyncClient(base_url=base, timeout=600.0) as client:
        t = time.perf_counter()
        r = await client.get(f"{V1}/rankings?limit=1", headers={"X-API-Key": key})
        r.raise_for_status()
        context_s = time.perf_counter() - t
        cold = []
        for spec in specs:
            t = time.perf_counter()
            r = await client.get(f"{V1}/accounts/{spec}/audit", headers={"X-API-Key": key})
            r.raise_for_status()
            cold.append(time.perf_counter() - t)
    c = np.asarray(cold) * 1000
    return {"first_request_s": round(context_s, 2), "audits": len(specs),
            "cold_audit_ms": {"p50": round(float(np.percentile(c, 50)), 1),
                              "p95": round(float(np.percentile(c, 95)), 1),
                              "max": round(float(c.max()), 1)}}


def _pick_accounts(db: Path, n: int, seed: int) -> tuple[list[str], int]:
    """``n`` accounts with followers, drawn with ``seed``, and the number of accounts."""
    from trueclout.store import Store
    with Store(db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT a.platform, a.account_id FROM accounts a "
            "JOIN (SELECT dst, count(*) c FROM follows GROUP BY dst) f ON f.dst = a.uid "
            "ORDER BY a.uid").fetchall()
        total = store.con.execute("SELECT count(*) FROM accounts").fetchone()[0]
    rng = random.Random(seed)
    chosen = rng.sample(rows, min(n, len(rows)))
    return [f"{p}:{a}" for p, a in chosen], int(total)


def _cpu(pid: int) -> float:
    import psutil
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def start_server(db: Path, port: int, opts: tuple[str, ...] = DEFAULT_SERVER_OPTS,
                 rate: float = 1e6) -> subprocess.Popen:
    """``uvicorn trueclout.api.app:create_app --factory`` over ``db`` on loopback.

    Examples
    --------
    >>> callable(start_server)
    True
    """
    env = dict(os.environ, TRUECLOUT_DB=str(db), TRUECLOUT_API_RATE_PER_S=str(rate),
               TRUECLOUT_API_RATE_BURST=str(rate))
    cmd = [sys.executable, "-m", "uvicorn", "trueclout.api.app:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--log-level", "warning", *opts]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _wait_up(proc: subprocess.Popen, base: str, timeout: float = 120.0) -> None:
    import httpx
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{proc.stdout.read()[-4000:]}")
        try:
            if httpx.get(f"{base}{V1}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /health in time")


def load(db: Path, *, concurrency: int = 4, seconds: float = 20.0,
         rate: float = TARGET_RPS, audits: int = 300, audit_share: float = 0.5,
         server_opts: tuple[str, ...] = DEFAULT_SERVER_OPTS, seed: int = 0) -> dict:
    """Serve ``db`` and measure it (steps 2-5 of the module docstring); ``db`` is used
    as it is (keys are added to it).

    Examples
    --------
    >>> callable(load)
    True
    """
    specs, total = _pick_accounts(db, audits, seed)
    keys = make_keys(db, concurrency)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port, tuple(server_opts))
    try:
        _wait_up(proc, base)
        out: dict = {"server": "uvicorn --workers 1 " + " ".join(server_opts),
                     "accounts": total, "audited_accounts": len(specs),
                     "audit_share": audit_share, "keys": "one read key per client task; "
                     "rate limit raised to 1e6/s for the run"}
        out["warmup"] = asyncio.run(_warm(base, keys[0], specs))
        phases = {"closed": lambda nr: _closed(base, keys, nr, seconds),
                  "open": lambda nr: _open(base, keys, nr, seconds, rate)}
        for i, (name, phase) in enumerate(phases.items()):
            nr = _request_maker(specs, total, audit_share, seed + 1 + i)
            load1 = os.getloadavg()[0]
            s0, c0 = _cpu(proc.pid), time.process_time()
            res = asyncio.run(phase(nr))
            res["server_cpu_s"] = round(_cpu(proc.pid) - s0, 2)
            res["client_cpu_s"] = round(time.process_time() - c0, 2)
            res["loadavg_1min_before"] = round(load1, 2)   # others on the machine
            out[name] = res
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    op = out["open"]["overall"]
    out["meets_target"] = bool(op["ok_rps"] >= 0.98 * rate and not op["errors"]
                               and not out["open"]["skipped_over_cap"]
                               and op["p99_ms"] < TARGET_P99_MS
                               and out["closed"]["overall"]["ok_rps"] >= TARGET_RPS)
    out["targets"] = {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS}
    return out


def run(quick: bool = False, *, db: str | os.PathLike | None = None, **kw) -> dict:
    """Build (or copy) the demo store and load-test the API; a JSON-ready dict.

    Examples
    --------
    >>> callable(run)
    True
    """
    kw.setdefault("seconds", 8.0 if quick else 20.0)
    if quick:
        kw.setdefault("audits", 100)
    with tempfile.TemporaryDirectory(prefix="trueclout-bench-load-") as tmp:
        path, built = demo_store(Path(tmp), 10_000 if quick else 50_000, db)
        return {**built, **load(path, **kw)}


def demo_store(folder: Path, accounts: int,
               db: str | os.PathLike | None = None) -> tuple[Path, dict]:
    """The store to measure in ``folder``: the demo platform of ``accounts`` built there,
    or a copy of ``db``; and what it is (a JSON-ready dict).

    Examples
    --------
    >>> callable(demo_store)
    True
    """
    if db is None:
        t = time.perf_counter()
        path = build_store(folder, accounts)
        return path, {"data": f"demo platform, {accounts:,} simulated accounts, seed 0",
                      "build_s": round(time.perf_counter() - t, 1)}
    path = folder / "copy.duckdb"
    shutil.copy(db, path)
    return path, {"data": f"store {Path(db).name} (a copy)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 accounts, 8 s phases")
    ap.add_argument("--db", default=None, help="an existing store (copied)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--rate", type=float, default=TARGET_RPS, help="open-loop requests/s")
    ap.add_argument("--audit-share", type=float, default=0.5)
    ap.add_argument("--server-opts", default=" ".join(DEFAULT_SERVER_OPTS),
                    help="extra uvicorn options, e.g. '--no-access-log --http httptools "
                         "--loop uvloop'")
    args = ap.parse_args(argv)
    kw = {"concurrency": args.concurrency, "rate": args.rate,
          "audit_share": args.audit_share, "server_opts": tuple(args.server_opts.split())}
    if args.seconds is not None:
        kw["seconds"] = args.seconds
    print(json.dumps(run(args.quick, db=args.db, **kw), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
