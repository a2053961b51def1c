"""The data every evaluation reads: the shared real data sets, and simulated platforms.

Real data is read from ``$TRUECLOUT_DATA`` or ``../shared/data`` (beside the working folder
or the source tree); an evaluation reports a missing data set as skipped.

Examples
--------
>>> store = simulated_store(600, seed=1)
>>> store.con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]
600
>>> store.close()
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def shared_data_dir() -> Path | None:
    """Where the real data sets are: ``$TRUECLOUT_DATA``, else ``../shared/data`` beside
    the working folder or the source tree; None if neither exists.

    Examples
    --------
    >>> d = shared_data_dir()
    >>> d is None or d.name == "data" or "TRUECLOUT_DATA" in os.environ
    True
    """
    env = os.environ.get("TRUECLOUT_DATA")
    if env:
        return Path(env) if Path(env).exists() else None
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        cand = base.parent / "shared" / "data"
        if cand.exists():
            return cand
    return None


def simulated_store(accounts: int, seed: int, **params: Any):
    """A simulated platform (:func:`trueclout.simulate.simulate` with ``params``) written
    to a temporary folder and loaded into an in-memory :class:`~trueclout.store.Store`.

    Examples
    --------
    >>> s = simulated_store(500, seed=2, fraud_share=0.1)
    >>> s.con.execute("SELECT count(DISTINCT label) > 1 FROM labels").fetchall()[0][0]
    True
    >>> s.close()
    """
    from ..ingest.run import ingest
    from ..simulate import simulate
    from ..store import Store
    tmp = tempfile.mkdtemp(prefix="trueclout-eval-")
    simulate(Path(tmp) / "platform", accounts=accounts, seed=seed, **params)
    store = Store(":memory:")
    ingest(store, [Path(tmp) / "platform"])
    return store


__all__ = ["shared_data_dir", "simulated_store"]
