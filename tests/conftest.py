"""Shared fixtures: a small simulated platform and the SNAP ego-Twitter store, each built
once per test session, with their score contexts (detection fitted once)."""

from __future__ import annotations

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
