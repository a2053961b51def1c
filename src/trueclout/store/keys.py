"""API keys and background jobs: the two tables the API server writes.

The store keeps only a salted hash of each key (:mod:`trueclout.api.auth` makes and checks
them) and a short public prefix to find the row. A job record keeps its kind, parameters,
status (``queued``, ``running``, ``done``, ``failed``, ``interrupted``), progress in
[0, 1], a message (why it failed), its times and its result as JSON, so the record
outlives the server.

Examples
--------
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> s.add_api_key("ab12cd34", "hmac_sha256$...", "read")
1
>>> [k["scope"] for k in s.api_keys()]
['read']
>>> jid = s.create_job("ingest", {"filename": "a.csv"})
>>> s.update_job(jid, status="failed", message="bad file")
>>> s.get_job(jid)["message"]
'bad file'
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..errors import StoreError, UsageError

SCOPES = ("read", "admin")
JOB_STATUSES = ("queued", "running", "done", "failed", "interrupted")
_JOB_FIELDS = ("status", "progress", "message", "started_at", "finished_at", "result")


#: Bumped by every change of an ``api_keys`` table made in this process, so that a key
#: checker in the same process (the API server) reads the table again at once.
_KEYS_CHANGED = [0]


def keys_generation() -> int:
    """How many ``api_keys`` changes this process has made (any store).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> g = keys_generation(); _ = Store(":memory:").add_api_key("ab12cd34", "h", "read")
    >>> keys_generation() - g
    1
    """
    return _KEYS_CHANGED[0]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(x: Any) -> Any:
    return x.isoformat() if hasattr(x, "isoformat") else x


class KeysJobs:
    """API key and job methods of :class:`~trueclout.store.Store` (mixed in)."""

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only; cannot write keys or jobs")

    # -- API keys -------------------------------------------------------------------------
    def add_api_key(self, prefix: str, hashed: str, scope: str) -> int:
        """Store a key's lookup ``prefix``, salted ``hashed`` value and ``scope``; returns
        the new ``key_id``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").add_api_key("p", "h", "root")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: scope: must be one of read, admin
        """
        self._writable()
        if scope not in SCOPES:
            raise UsageError(f"must be one of {', '.join(SCOPES)}", field="scope")
        row = self.con.execute(
            "INSERT INTO api_keys SELECT coalesce(max(key_id), 0) + 1, ?, ?, ?, ?, false "
            "FROM api_keys RETURNING key_id", [prefix, hashed, scope, _now()]).fetchall()
        _KEYS_CHANGED[0] += 1
        return int(row[0][0])

    def api_key(self, prefix: str) -> dict | None:
        """The key row (with its hash) of ``prefix``, or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").api_key("nope") is None
        True
        """
        cur = self.con.execute("SELECT key_id, prefix, hash, scope, created_at, revoked "
                               "FROM api_keys WHERE prefix = ?", [prefix])
        rows = cur.fetchall()
        if not rows:
            return None
        cols = [c[0] for c in cur.description]
        return {c: _iso(v) for c, v in zip(cols, rows[0])}

    def api_keys(self) -> list[dict]:
        """Every key, without its hash: key_id, prefix, scope, created_at, revoked.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").api_keys()
        []
        """
        cur = self.con.execute("SELECT key_id, prefix, scope, created_at, revoked "
                               "FROM api_keys ORDER BY key_id")
        cols = [c[0] for c in cur.description]
        return [{c: _iso(v) for c, v in zip(cols, r)} for r in cur.fetchall()]

    def api_key_rows(self) -> list[dict]:
        """Every key with its hash (key_id, prefix, hash, scope, revoked): what the API
        server holds in memory to check keys.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> _ = s.add_api_key("ab12cd34", "h", "read")
        >>> [(r["prefix"], r["hash"]) for r in s.api_key_rows()]
        [('ab12cd34', 'h')]
        """
        cur = self.con.execute("SELECT key_id, prefix, hash, scope, revoked FROM api_keys "
                               "ORDER BY key_id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def set_api_key_hash(self, key_id: int, hashed: str) -> None:
        """Replace the stored hash of a key (an older hash form rewritten on its first
        successful check).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> s.set_api_key_hash(s.add_api_key("ab12cd34", "old", "read"), "new")
        >>> s.api_key("ab12cd34")["hash"]
        'new'
        """
        self._writable()
        self.con.execute("UPDATE api_keys SET hash = ? WHERE key_id = ?",
                         [hashed, int(key_id)])
        _KEYS_CHANGED[0] += 1

    def revoke_api_key(self, key_id: int) -> bool:
        """Revoke a key; False when there is no such key.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").revoke_api_key(7)
        False
        """
        self._writable()
        rows = self.con.execute("UPDATE api_keys SET revoked = true WHERE key_id = ? "
                                "RETURNING key_id", [int(key_id)]).fetchall()
        _KEYS_CHANGED[0] += 1
        return bool(rows)

    # -- jobs -----------------------------------------------------------------------------
    def create_job(self, kind: str, params: dict | None = None) -> int:
        """Record a new ``queued`` job; returns its ``job_id``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").create_job("detect")
        1
        """
        self._writable()
        row = self.con.execute(
            "INSERT INTO jobs SELECT coalesce(max(job_id), 0) + 1, ?, ?, 'queued', 0.0, NULL, "
            "?, NULL, NULL, NULL FROM jobs RETURNING job_id",
            [kind, json.dumps(params or {}, default=str, sort_keys=True), _now()]).fetchall()
        return int(row[0][0])

    def update_job(self, job_id: int, **fields: Any) -> None:
        """Set some of status, progress, message, started_at, finished_at and result (a
        dict, stored as JSON) of a job.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> s.update_job(s.create_job("x"), colour="red")
        Traceback (most recent call last):
        ...
        ValueError: unknown job fields: colour
        """
        self._writable()
        bad = sorted(set(fields) - set(_JOB_FIELDS))
        if bad:
            raise ValueError(f"unknown job fields: {', '.join(bad)}")
        if "status" in fields and fields["status"] not in JOB_STATUSES:
            raise ValueError(f"unknown job status {fields['status']!r}")
        if "result" in fields and fields["result"] is not None:
            fields["result"] = json.dumps(fields["result"], default=str)
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.con.execute(f"UPDATE jobs SET {sets} WHERE job_id = ?",
                         [*fields.values(), int(job_id)])

    def _job_rows(self, where: str, params: list) -> list[dict]:
        cur = self.con.execute(f"SELECT * FROM jobs {where}", params)
        cols = [c[0] for c in cur.description]
        out = []
        for r in cur.fetchall():
            d = {c: _iso(v) for c, v in zip(cols, r)}
            for k in ("params", "result"):
                d[k] = json.loads(d[k]) if d[k] else None
            out.append(d)
        return out

    def get_job(self, job_id: int) -> dict | None:
        """One job record as a dict, or None.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").get_job(1) is None
        True
        """
        rows = self._job_rows("WHERE job_id = ?", [int(job_id)])
        return rows[0] if rows else None

    def list_jobs(self, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
        """One page of jobs, newest first, and the number of jobs.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").list_jobs()
        ([], 0)
        """
        total = int(self.con.execute("SELECT count(*) FROM jobs").fetchall()[0][0])
        rows = self._job_rows("ORDER BY job_id DESC LIMIT ? OFFSET ?",
                              [int(limit), int(offset)])
        return rows, total

    def fail_unfinished_jobs(self, message: str) -> int:
        """Mark every queued or running job failed with ``message`` (at server start: no
        thread runs them any more); returns how many.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> _ = s.create_job("ingest")
        >>> s.fail_unfinished_jobs("server restarted")
        1
        """
        self._writable()
        rows = self.con.execute(
            "UPDATE jobs SET status = 'failed', message = ?, finished_at = ? "
            "WHERE status IN ('queued', 'running') RETURNING job_id",
            [message, _now()]).fetchall()
        return len(rows)
