"""Read queries over the store, returning Arrow data for the graph builder and reports.

Examples
--------
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> s.account_index().num_rows
0
>>> list(s.iter_edges())
[]
"""

from __future__ import annotations

from typing import Iterator

import pyarrow as pa

from .. import config
from ..errors import UsageError
from ..model import INTERACTION_KINDS
from .schema import COUNTED_TABLES

_EDGE_TABLES = ("follows", *INTERACTION_KINDS)


class Queries:
    """Read methods of :class:`~trueclout.store.Store` (mixed in)."""

    def data_token(self) -> tuple[int, int, int]:
        """What identifies the store's data: (number of ingests, latest ingest id, data
        generation). Any load moves the first two; ``meta.data_generation`` moves when rows
        go without an ingest (``trueclout forget``). Caches keyed by it never serve data
        the store no longer holds.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").data_token()
        (0, 0, 0)
        """
        row = self.con.execute(
            "SELECT count(*), coalesce(max(ingest_id), 0), (SELECT coalesce(max(value::BIGINT), "
            "0) FROM meta WHERE key = 'data_generation') FROM ingests").fetchall()[0]
        return (int(row[0]), int(row[1]), int(row[2]))

    def cache_token(self) -> tuple[int, int, int, int]:
        """:meth:`data_token` and the number of live-stream events applied (the stream
        adds follows and interactions without an ingest): what a result saved from the
        store's data must match to be used again.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").cache_token()
        (0, 0, 0, 0)
        """
        events = self.con.execute(
            "SELECT coalesce(sum(events), 0) FROM stream_state").fetchall()[0][0]
        return (*self.data_token(), int(events))

    def platforms(self) -> list[str]:
        """The platforms the store's accounts belong to, sorted.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").platforms()
        []
        """
        return [str(r[0]) for r in self.con.execute(
            "SELECT DISTINCT platform FROM accounts ORDER BY platform").fetchall()]

    def names_account(self, spec: str) -> bool:
        """Whether any account could be what ``spec`` names (``platform:account_id``, an
        account id or ``@handle``, as :func:`trueclout.accounts.resolve_account` reads it):
        one indexed look-up, so an unknown account is refused before the graph is read.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").names_account("@nobody")
        False
        """
        spec = spec.strip()
        want = spec[1:] if spec.startswith("@") else spec
        platform, _, account_id = spec.partition(":")
        row = self.con.execute(
            "SELECT count(*) FROM (SELECT 1 FROM accounts WHERE (platform = ? AND "
            "account_id = ?) OR (NOT ? AND account_id = ?) OR lower(handle) = lower(?) "
            "LIMIT 1)", [platform, account_id, spec.startswith("@"), spec, want]).fetchall()
        return bool(row[0][0])

    def counts(self) -> dict[str, int]:
        """Row counts of the domain tables.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> sorted(Store(":memory:").counts())[:3]
        ['account_terms', 'accounts', 'follows']
        """
        return {t: int(self.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
                for t in COUNTED_TABLES}

    def max_uid(self) -> int:
        """The largest account uid, or -1 for an empty store.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").max_uid()
        -1
        """
        return int(self.con.execute("SELECT coalesce(max(uid), -1) FROM accounts").fetchall()[0][0])

    def account_index(self, columns: tuple[str, ...] = ()) -> pa.Table:
        """Every account's uid, platform and account_id (plus ``columns``), ordered by
        (platform, account_id): the order of the graph's vertex ids.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").account_index(("handle",)).column_names
        ['uid', 'platform', 'account_id', 'handle']
        """
        extra = "".join(f", {c}" for c in columns)
        return self.con.sql(
            f"SELECT uid, platform, account_id{extra} FROM accounts "
            "ORDER BY platform, account_id").to_arrow_table()

    def iter_edges(self, kind: str = "follows", *, include_removed: bool = False,
                   batch_rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """Stream edges as record batches of ``src``, ``dst`` (int32 uids) and ``ts``
        (int64 epoch seconds of ``created_at``, null where unknown).

        Parameters
        ----------
        kind : str
            ``"follows"`` or an interaction kind (like, repost, reply, mention, quote).
        include_removed : bool
            Include follows that were later removed (unfollows).
        batch_rows : int, optional
            Rows per batch; default from config ``graph_batch_rows``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> list(Store(":memory:").iter_edges("like"))
        []
        """
        if kind not in _EDGE_TABLES:
            raise UsageError(f"unknown edge kind {kind!r}; use one of {', '.join(_EDGE_TABLES)}")
        rows = batch_rows or config.get("graph_batch_rows")
        if kind == "follows":
            where = "" if include_removed else "WHERE removed_at IS NULL"
            sql = f"SELECT src, dst, epoch(created_at)::BIGINT AS ts FROM follows {where}"
        else:
            sql = ("SELECT src, dst, epoch(created_at)::BIGINT AS ts FROM interactions "
                   f"WHERE kind = '{kind}'")
        reader = self.con.sql(sql).to_arrow_reader(rows)
        yield from reader

    def edge_count(self, kind: str = "follows", *, include_removed: bool = False) -> int:
        """Number of edges :meth:`iter_edges` would yield.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").edge_count()
        0
        """
        if kind == "follows":
            where = "" if include_removed else "WHERE removed_at IS NULL"
            return int(self.con.execute(f"SELECT count(*) FROM follows {where}").fetchall()[0][0])
        if kind not in INTERACTION_KINDS:
            raise UsageError(f"unknown edge kind {kind!r}")
        return int(self.con.execute("SELECT count(*) FROM interactions WHERE kind = ?",
                                    [kind]).fetchall()[0][0])

    def account_table(self, columns: tuple[str, ...] | None = None) -> pa.Table:
        """Accounts with ``uid`` and their profile ``columns`` (default: all), ordered by
        uid. Times come as epoch seconds (int64, null where unknown).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").account_table(("handle", "created_at")).column_names
        ['uid', 'platform', 'account_id', 'handle', 'created_at']
        """
        from ..model import data_columns
        cols = columns if columns is not None else tuple(
            c for c in data_columns("accounts") if c not in ("platform", "account_id"))
        sel = ", ".join(f"epoch({c})::BIGINT AS {c}" if c in ("created_at", "observed_at")
                        else c for c in cols)
        return self.con.sql(f"SELECT uid, platform, account_id{', ' if sel else ''}{sel} "
                            "FROM accounts ORDER BY uid").to_arrow_table()

    def snapshot_table(self) -> pa.Table:
        """Profile snapshots: uid, ts (epoch seconds) and the counts, ordered by uid, ts.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").snapshot_table().column_names[:3]
        ['uid', 'ts', 'followers_count']
        """
        return self.con.sql(
            "SELECT uid, epoch(observed_at)::BIGINT AS ts, followers_count, following_count, "
            "posts_count, listed_count, likes_count FROM profile_snapshots "
            "ORDER BY uid, observed_at").to_arrow_table()

    def post_activity(self) -> pa.Table:
        """Per author: number of posts, first and last post time (epoch seconds), and
        the share of posts that carry hashtags or mentions.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").post_activity().column_names
        ['uid', 'posts', 'first_post', 'last_post', 'tagged_share']
        """
        return self.con.sql(
            "SELECT author AS uid, count(*) AS posts, epoch(min(created_at))::BIGINT AS "
            "first_post, epoch(max(created_at))::BIGINT AS last_post, "
            "avg(CASE WHEN len(coalesce(hashtags, [])) + len(coalesce(mentions, [])) > 0 "
            "THEN 1.0 ELSE 0.0 END) AS tagged_share FROM posts GROUP BY author ORDER BY author"
        ).to_arrow_table()

    def removed_follows(self) -> pa.Table:
        """Follows that were later removed: src, dst (uids), created and removed times.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").removed_follows().num_rows
        0
        """
        return self.con.sql(
            "SELECT src, dst, epoch(created_at)::BIGINT AS created, "
            "epoch(removed_at)::BIGINT AS removed FROM follows WHERE removed_at IS NOT NULL"
        ).to_arrow_table()

    def label_table(self) -> pa.Table:
        """Labels with account names: platform, account_id, uid, label, source.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").label_table().num_rows
        0
        """
        return self.con.sql(
            "SELECT a.platform, a.account_id, l.uid, l.label, l.source FROM labels l "
            "JOIN accounts a USING (uid) ORDER BY a.platform, a.account_id, l.source, l.label"
        ).to_arrow_table()

    def label_counts(self) -> dict[str, int]:
        """Number of accounts per label (over all sources).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").label_counts()
        {}
        """
        return self._counts_by("SELECT label, count(DISTINCT uid) FROM labels "
                               "GROUP BY label ORDER BY label")

    def _counts_by(self, sql: str) -> dict[str, int]:
        return {k: int(v) for k, v in self.con.sql(sql).fetchall()}

    def interaction_counts(self) -> dict[str, int]:
        """Number of interactions per kind (like, repost, reply, mention, quote).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").interaction_counts()
        {}
        """
        return self._counts_by("SELECT kind, count(*) FROM interactions GROUP BY kind "
                               "ORDER BY kind")

    def rejects_table(self, ingest_id: int | None = None, limit: int | None = None) -> pa.Table:
        """Refused rows with their source, line, field and reason.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").rejects_table().column_names
        ['ingest_id', 'source', 'tbl', 'line', 'field', 'reason', 'raw']
        """
        where = "" if ingest_id is None else f"WHERE ingest_id = {int(ingest_id)}"
        lim = "" if limit is None else f"LIMIT {int(limit)}"
        return self.con.sql(
            f"SELECT * FROM rejects {where} ORDER BY ingest_id, source, line {lim}"
        ).to_arrow_table()

    def ingests_table(self) -> pa.Table:
        """One row per load.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").ingests_table().num_rows
        0
        """
        return self.con.sql("SELECT * FROM ingests ORDER BY ingest_id").to_arrow_table()

    def memory_usage(self) -> dict[str, int]:
        """Bytes DuckDB holds now, by tag (``BASE_TABLE`` is its cache of table blocks).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> isinstance(Store(":memory:").memory_usage(), dict)
        True
        """
        return {tag: int(b) for tag, b in self.con.execute(
            "SELECT tag, memory_usage_bytes FROM duckdb_memory() "
            "WHERE memory_usage_bytes > 0").fetchall()}

    def sql_rows(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run a read-only query (for tests and reports) and return its rows.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").sql_rows("SELECT 1 + 1")
        [(2,)]
        """
        return self.con.execute(sql, params or []).fetchall()

    def term_counts(self) -> pa.Table:
        """Terms of accounts as stored, with how often each was used: ``uid``, ``term``,
        ``source``, ``n``.

        The rows of ``account_terms`` (``n`` = 1 each), plus the hashtags of posts
        (source ``"hashtag"``; ``n`` = the author's live posts that carry the tag; posts
        a re-crawl found deleted are left out). Terms are not normalised here (see :mod:`trueclout.score.topics`).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").term_counts().column_names
        ['uid', 'term', 'source', 'n']
        """
        return self.con.sql(
            "SELECT uid, term, source, 1::BIGINT AS n FROM account_terms UNION ALL "
            "SELECT author AS uid, tag AS term, 'hashtag' AS source, count(*)::BIGINT AS n "
            "FROM (SELECT author, unnest(hashtags) AS tag FROM posts "
            "WHERE deleted_at IS NULL) "
            "WHERE tag IS NOT NULL AND tag <> '' GROUP BY author, tag"
        ).to_arrow_table()

    def post_texts(self) -> pa.Table:
        """Each author's post texts, joined by newlines: ``uid``, ``text`` (posts a
        re-crawl found deleted are left out).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").post_texts().column_names
        ['uid', 'text']
        """
        return self.con.sql(
            "SELECT author AS uid, string_agg(text, chr(10)) AS text FROM posts "
            "WHERE text IS NOT NULL AND deleted_at IS NULL GROUP BY author ORDER BY author"
        ).to_arrow_table()
