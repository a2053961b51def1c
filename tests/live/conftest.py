"""Fixtures of the live tests: the AT Protocol peer (started once per session, stopped at
its end) and the seeded scenario of ``live_scenario.py``.

The peer needs what ``make live-deps`` installs. When it is missing, or the peer does not
start, the live tests skip, unless ``TRUECLOUT_LIVE=require`` (``make test-live``): then
they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parent.parent))      # tests/: crawl_contents

import live_scenario as scenario  # noqa: E402
import live_stack as stack  # noqa: E402


def _unavailable(reason: str):
    if os.environ.get("TRUECLOUT_LIVE") == "require":
        pytest.fail(f"the live peer is required: {reason}", pytrace=False)
    pytest.skip(f"the live peer is not available: {reason}")


@pytest.fixture(scope="session")
def live():
    """The running :class:`live_stack.LiveStack`."""
    why = stack.missing()
    if why:
        _unavailable("missing " + "; ".join(why))
    s = stack.LiveStack(log=lambda text: print(f"[live] {text}", file=sys.stderr))
    try:
        s.start()
    except RuntimeError as exc:
        _unavailable(str(exc))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def seeded(live):
    """The scenario seeded on the peer: ``{"dids", "handles", "posts"}``."""
    out = {}
    for batch in scenario.seed_ops():
        out = live.ops(batch, parallel=8)
    return out


@pytest.fixture
def live_env(live, monkeypatch):
    """trueclout pointed at the peer (in this process and in subprocesses)."""
    for k, v in live.env.items():
        monkeypatch.setenv(k, v)
    return {**os.environ, **live.env}
