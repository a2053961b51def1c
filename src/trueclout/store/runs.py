"""Analysis runs and their per-account scores: each run saved with its parameters and code
version, so a report can be reproduced and compared with a later run.

Examples
--------
>>> import numpy as np
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> rid = s.save_run("rank", {"by": "truerank"}, {"accounts": 0}, np.zeros(0, np.int32),
...                  {"truerank": np.zeros(0)})
>>> s.runs_table().column("kind").to_pylist()
['rank']
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from ..errors import StoreError


class Runs:
    """Run methods of :class:`~trueclout.store.Store` (mixed in)."""

    def save_run(self, kind: str, params: dict, summary: dict, uids: np.ndarray,
                 scores: dict[str, np.ndarray], *, started_at: datetime | None = None) -> int:
        """Save one run and its scores (``name -> value per uid``) in one transaction;
        returns the new ``run_id``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> s.save_run("rank", {}, {}, np.array([0], np.int32), {"x": np.array([1.5])})
        1
        """
        from .. import __version__
        if self.read_only:
            raise StoreError("the store is open read-only; cannot save a run")
        uids = np.asarray(uids, dtype=np.int32)
        for name, v in scores.items():
            if np.asarray(v).shape != uids.shape:
                raise ValueError(f"scores {name!r} must have one value per uid")
        now = datetime.now(timezone.utc)
        self.con.execute("BEGIN TRANSACTION")
        try:
            rid = int(self.con.execute(
                "SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0])
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, 'ok', ?)",
                [rid, kind, json.dumps(params, default=str, sort_keys=True), __version__,
                 started_at or now, now, json.dumps(summary, default=str)])
            for name, v in scores.items():
                tab = pa.table({"run_id": pa.array(np.full(uids.size, rid, np.int32)),
                                "uid": pa.array(uids), "name": pa.array([name] * uids.size),
                                "value": pa.array(np.asarray(v, dtype=np.float64))})
                self.con.register("_run_scores", tab)
                try:
                    self.con.execute("INSERT INTO scores SELECT * FROM _run_scores")
                finally:
                    self.con.unregister("_run_scores")
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return rid

    def runs_table(self) -> pa.Table:
        """Every saved run, newest last.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").runs_table().num_rows
        0
        """
        return self.con.sql("SELECT * FROM runs ORDER BY run_id").to_arrow_table()

    def run_scores(self, run_id: int) -> pa.Table:
        """Scores of one run with account names: platform, account_id, name, value.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").run_scores(1).num_rows
        0
        """
        return self.con.sql(
            "SELECT a.platform, a.account_id, s.name, s.value FROM scores s "
            f"JOIN accounts a ON a.uid = s.uid WHERE s.run_id = {int(run_id)} "
            "ORDER BY s.name, s.uid").to_arrow_table()
