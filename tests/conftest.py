"""Shared fixtures: a small simulated platform and the SNAP ego-Twitter store, each built
once per test session, with their score contexts (detection fitted once); the live AT
Protocol peer of ``tests/live`` and its seeded scenario."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SNAP_DIR = DATA / "snap-ego-twitter"


def simulated_store(folder: Path, accounts: int, seed: int):
    """Simulate a platform into ``folder/platform`` and load it into ``folder/s.duckdb``."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store
    simulate(folder / "platform", accounts=accounts, seed=seed)
    store = Store(folder / "s.duckdb")
    ingest(store, [folder / "platform"])
    return store


@pytest.fixture(scope="session")
def sim_score_store(tmp_path_factory):
    """A simulated platform of 6,000 accounts (seed 3) in a store."""
    store = simulated_store(tmp_path_factory.mktemp("simscore"), 6000, 3)
    yield store
    store.close()


@pytest.fixture(scope="session")
def sim_ctx(sim_score_store):
    """ScoreContext of :func:`sim_score_store` (detection fitted)."""
    from trueclout.score.context import score_context
    return score_context(sim_score_store)


@pytest.fixture(scope="session")
def snap_store(tmp_path_factory):
    """SNAP ego-Twitter in a store; skips when ../shared/data lacks it."""
    if not SNAP_DIR.exists():
        pytest.skip("../shared/data/snap-ego-twitter is absent")
    from trueclout.ingest.run import ingest
    from trueclout.store import Store
    d = tmp_path_factory.mktemp("snap")
    store = Store(d / "snap.duckdb")
    ingest(store, [SNAP_DIR])
    yield store
    store.close()


@pytest.fixture(scope="session")
def snap_ctx(snap_store):
    """ScoreContext of SNAP ego-Twitter (detection fitted)."""
    from trueclout.score.context import score_context
    return score_context(snap_store)


@pytest.fixture
def held_scores(monkeypatch):
    """Hold every score-context build (:func:`trueclout.score.saved.load_context`) until
    the returned event is set: a server's start-up that has not finished."""
    import threading

    import trueclout.score.saved as saved
    release = threading.Event()
    real = saved.load_context

    def held(*a, **k):
        release.wait(120)
        return real(*a, **k)
    monkeypatch.setattr(saved, "load_context", held)
    yield release
    release.set()


def start_serve(db, env: dict | None = None):
    """``trueclout serve`` on ``db`` in a subprocess on a free loopback port, once its
    ``/api/v1/health`` answers: ``(process, base URL)``."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = ("import sys\nfrom trueclout.cli import main\n"
            "sys.exit(main(['serve', '--port', sys.argv[2], '--db', sys.argv[1]]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(port)],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        assert time.monotonic() < deadline, "serve did not start"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)


# -- the live AT Protocol peer (tests/live; see its README) ---------------------------------
# Here rather than in tests/live/conftest.py: two modules named conftest would shadow each
# other for the tests that import helpers from this one.
LIVE_DIR = Path(__file__).resolve().parent / "live"


def _live_module(name: str):
    if str(LIVE_DIR) not in sys.path:
        sys.path.insert(0, str(LIVE_DIR))
    return __import__(name)


def _live_unavailable(reason: str):
    """Skip, or fail with ``TRUECLOUT_LIVE=require`` (``make test-live``)."""
    if os.environ.get("TRUECLOUT_LIVE") == "require":
        pytest.fail(f"the live peer is required: {reason}", pytrace=False)
    pytest.skip(f"the live peer is not available: {reason}")


@pytest.fixture(scope="session")
def live():
    """The running ``LiveStack`` (``tests/live/live_stack.py``), stopped at the end of the
    session; without what ``make live-deps`` installs, the live tests skip."""
    stack = _live_module("live_stack")
    why = stack.missing()
    if why:
        _live_unavailable("missing " + "; ".join(why))
    s = stack.LiveStack(log=lambda text: print(f"[live] {text}", file=sys.stderr))
    try:
        s.start()
    except RuntimeError as exc:
        _live_unavailable(str(exc))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def seeded(live):
    """The scenario of ``tests/live/live_scenario.py`` seeded on the peer:
    ``{"dids", "handles", "posts"}``."""
    scenario = _live_module("live_scenario")
    out = {}
    for batch, parallel in zip(scenario.seed_ops(), scenario.PARALLEL):
        out = live.ops(batch, parallel=parallel)
    return out


@pytest.fixture
def live_env(live, monkeypatch):
    """trueclout pointed at the peer (in this process and in subprocesses)."""
    for k, v in live.env.items():
        monkeypatch.setenv(k, v)
    return {**os.environ, **live.env}
