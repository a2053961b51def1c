"""Privacy in the store: the pseudonym key's id, the data generation, and forgetting an
account.

``meta`` holds two privacy keys:

``pseudonym_key_id``
    Set by the first pseudonymised load: the public id of the key
    (:func:`trueclout.privacy.key_id`), never the key. A store holds either only
    pseudonymised data under that one key or none at all.
``data_generation``
    A counter bumped by every change that no ingest records (forgetting an account). The
    API's service adds it to its cache token, so its cached score context, audits and
    rankings are rebuilt after a forget.

:meth:`Privacy.forget_accounts` deletes accounts and everything derived from them, in one
transaction, then checkpoints the file (see the method for the list of tables).

Examples
--------
>>> from trueclout.store import Store
>>> s = Store(":memory:")
>>> s.pseudonym_key_id() is None, s.data_generation()
(True, 0)
>>> s.claim_pseudonym_key("00ff00ff00ff00ff"); s.pseudonym_key_id()
'00ff00ff00ff00ff'
"""

from __future__ import annotations

import json
import re
from typing import Sequence

from ..errors import UsageError

#: JSON text columns in which a forgotten account's ids are replaced by "[forgotten]".
_SCRUBBED = (("runs", "summary"), ("runs", "params"), ("jobs", "params"), ("jobs", "result"),
             ("crawls", "params"), ("crawls", "summary"), ("crawls", "message"))

#: Columns of a rejected row's raw JSON (``rejects.raw``) that name an account.
_REJECT_FIELDS = ("account_id", "src", "dst", "author", "handle")


def _tok(value: str) -> str:
    """A JSON string token: ``"value"`` as json.dumps writes it."""
    return json.dumps(value)


class Privacy:
    """Privacy methods of :class:`~trueclout.store.Store` (mixed in)."""

    # -- meta ----------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def pseudonym_key_id(self) -> str | None:
        """The id of the key this store was pseudonymised with, or None for a plain store.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").pseudonym_key_id() is None
        True
        """
        return self._meta("pseudonym_key_id")

    def claim_pseudonym_key(self, key_id: str) -> None:
        """Mark the store as pseudonymised under the key ``key_id`` (before its first
        pseudonymised load). Refused when the store was pseudonymised with another key, or
        already holds accounts loaded without pseudonyms.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:"); s.claim_pseudonym_key("a"); s.claim_pseudonym_key("a")
        >>> s.claim_pseudonym_key("b")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: store :memory: was pseudonymised with another key (id a, not b); use that key file (TRUECLOUT_PSEUDONYM_KEY_FILE) or a new store
        """
        have = self.pseudonym_key_id()
        if have == key_id:
            return
        if have is not None:
            raise UsageError(f"store {self.path} was pseudonymised with another key (id {have}, "
                             f"not {key_id}); use that key file (TRUECLOUT_PSEUDONYM_KEY_FILE) "
                             "or a new store")
        if self.con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]:
            raise UsageError(f"store {self.path} already holds accounts loaded without "
                             "--pseudonymize; pseudonymise into a new store")
        self._require_writable()
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonym_key_id', ?)", [key_id])

    def data_generation(self) -> int:
        """The data generation counter (0 until the first forget).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").data_generation()
        0
        """
        v = self._meta("data_generation")
        return int(v) if v is not None else 0

    # -- finding accounts ----------------------------------------------------------------
    def account_platforms(self) -> list[str]:
        """The platforms of the store's accounts, sorted.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").account_platforms()
        []
        """
        return [r[0] for r in self.con.execute(
            "SELECT DISTINCT platform FROM accounts ORDER BY 1").fetchall()]

    def find_accounts(self, ids: Sequence[str] = (), handles: Sequence[str] = (),
                      pairs: Sequence[tuple[str, str]] = (),
                      platform: str | None = None) -> list[dict]:
        """Accounts whose id is in ``ids``, whose handle (case-insensitive, without ``@``) is
        in ``handles``, or whose (platform, account_id) is in ``pairs``; only on
        ``platform`` when given. Each as a dict with uid, platform, account_id, handle.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> Store(":memory:").find_accounts(["a"], ["@a"])
        []
        """
        hs = [h.strip().lstrip("@").lower() for h in handles if h]
        conds, params = [], []
        if ids:
            conds.append("account_id IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(ids))
        if hs:
            conds.append("lower(ltrim(handle, '@')) IN (SELECT unnest(?::VARCHAR[]))")
            params.append(hs)
        for p, a in pairs:
            conds.append("(platform = ? AND account_id = ?)")
            params += [p, a]
        if not conds:
            return []
        sql = ("SELECT uid, platform, account_id, handle FROM accounts WHERE ("
               + " OR ".join(conds) + ")")
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        rows = self.con.execute(sql + " ORDER BY uid", params).fetchall()
        return [{"uid": int(u), "platform": p, "account_id": a, "handle": h}
                for u, p, a, h in rows]

    def copy_to(self, target: str) -> None:
        """Copy the whole store (schema, views and rows) into a new DuckDB file ``target``.

        Deleted rows stay in a DuckDB file's free blocks until they are overwritten; a copy
        holds only live rows. ``trueclout forget`` copies the store and puts the copy in
        its place, so the forgotten bytes leave the disk file.

        Examples
        --------
        >>> import tempfile, os
        >>> from trueclout.store import Store
        >>> from trueclout.store.schema import SCHEMA_VERSION
        >>> d = tempfile.mkdtemp()
        >>> with Store(os.path.join(d, "a.duckdb")) as s:
        ...     s.copy_to(os.path.join(d, "b.duckdb"))
        >>> with Store(os.path.join(d, "b.duckdb"), read_only=True) as b:
        ...     b.counts()["accounts"], b.schema_version() == SCHEMA_VERSION
        (0, True)
        """
        con = self.con
        db = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute("ATTACH ? AS _fresh", [str(target)])
        try:
            con.execute(f'COPY FROM DATABASE "{db}" TO _fresh')
        finally:
            con.execute("DETACH _fresh")

    # -- forgetting ----------------------------------------------------------------------
    def forget_accounts(self, uids: Sequence[int]) -> dict[str, int]:
        """Delete the accounts ``uids`` and everything derived from them, in one
        transaction; return the rows deleted (or scrubbed) per table.

        What goes:

        - ``accounts``, ``profile_snapshots``, ``labels``, ``account_terms``, and
          ``scores`` of every run;
        - ``follows`` in both directions; ``posts`` they wrote; ``interactions`` they made
          or received, and those on their posts;
        - ``record_subjects`` naming them (as src, dst, repo, or one of their posts);
          ``raw_records`` whose id is theirs (account, handle, one of their posts) or
          whose body names them (their id or handle as a JSON string, their AT URI);
        - ``rejects`` rows whose raw row names them; ``crawls`` (and their
          ``crawl_cursors``) whose target is them.

        What is scrubbed: other posts' ``reply_to``/``quote_of`` pointing at their posts
        (set to null, ``posts_unlinked``), their handle in other posts' ``mentions``
        (``mentions_removed``), their ``@handle`` or ``@id`` in other posts' text (replaced by
        ``@[forgotten]``, ``texts_scrubbed``), and their ids as JSON strings in ``runs.summary``,
        ``runs.params``, ``jobs.params``, ``jobs.result`` and the other crawls' ``params``,
        ``summary`` and ``message`` (replaced by ``"[forgotten]"``). ``meta.data_generation`` is bumped. After the commit the file
        is checkpointed, so the deleted rows leave the write-ahead log.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> from trueclout.model import conform
        >>> from trueclout.ingest.base import Chunk
        >>> s = Store(":memory:")
        >>> b = conform("follows", {"platform": ["x"] * 2, "src": ["a", "b"],
        ...                         "dst": ["b", "c"]}, 2)
        >>> _ = s.load([Chunk("follows", b, "f")], source="f", fmt="edgelist",
        ...            content_hash="h")
        >>> [a] = s.find_accounts(["b"])
        >>> c = s.forget_accounts([a["uid"]])
        >>> c["accounts"], c["follows"], s.counts()["follows"], s.data_generation()
        (1, 2, 0, 1)
        """
        self._require_writable()
        uids = sorted({int(u) for u in uids})
        con = self.con
        counts: dict[str, int] = {}
        if not uids:
            return counts
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _fg AS SELECT uid, platform, account_id, "
                        "handle FROM accounts WHERE uid IN (SELECT unnest(?::INTEGER[]))",
                        [uids])
            accounts = con.execute("SELECT uid, platform, account_id, handle FROM _fg"
                                   ).fetchall()
            con.execute("CREATE OR REPLACE TEMP TABLE _fg_posts AS SELECT platform, post_id "
                        "FROM posts WHERE author IN (SELECT uid FROM _fg)")
            names: list[str] = []       # ids, handles, platform:id, as the user might see them
            for _u, p, a, h in accounts:
                names += [a, f"{p}:{a}"]
                if h:
                    names += [h, "@" + h.lstrip("@")]
            names = list(dict.fromkeys(n for n in names if n))
            ids = [a for _u, _p, a, _h in accounts]

            def run(key: str, sql: str, params: list | None = None) -> None:
                n = con.execute(sql, params or []).fetchall()
                counts[key] = counts.get(key, 0) + (int(n[0][0]) if n else 0)

            in_fg = "IN (SELECT uid FROM _fg)"
            run("interactions", f"DELETE FROM interactions WHERE src {in_fg} OR dst {in_fg} "
                "OR post_id IN (SELECT post_id FROM _fg_posts)")
            run("posts_unlinked", "UPDATE posts SET reply_to = NULL WHERE reply_to IN "
                "(SELECT post_id FROM _fg_posts) AND author NOT IN (SELECT uid FROM _fg)")
            run("posts_unlinked", "UPDATE posts SET quote_of = NULL WHERE quote_of IN "
                "(SELECT post_id FROM _fg_posts) AND author NOT IN (SELECT uid FROM _fg)")
            handles = [h.lstrip("@").lower() for _u, _p, _a, h in accounts if h]
            if handles:
                run("mentions_removed", """
                    UPDATE posts SET mentions = list_filter(
                        mentions, lambda m: NOT list_contains($1::VARCHAR[], lower(ltrim(m, '@'))))
                    WHERE len(list_filter(
                        mentions, lambda m: list_contains($1::VARCHAR[], lower(ltrim(m, '@'))))) > 0""",
                    [handles])
            for n in dict.fromkeys([h.lstrip("@") for _u, _p, _a, h in accounts if h] + ids):
                run("texts_scrubbed", "UPDATE posts SET text = regexp_replace(text, ?, "
                    "'@[forgotten]', 'gi') WHERE contains(lower(text), ?) AND author NOT "
                    f"{in_fg}", [r"@" + re.escape(n) + r"\b", "@" + n.lower()])
            run("posts", f"DELETE FROM posts WHERE author {in_fg}")
            run("follows", f"DELETE FROM follows WHERE src {in_fg} OR dst {in_fg}")
            run("follow_changes", f"DELETE FROM follow_changes WHERE src {in_fg} "
                f"OR dst {in_fg}")
            run("crawl_sightings", f"DELETE FROM crawl_sightings WHERE src {in_fg} "
                f"OR dst {in_fg} OR post_id IN (SELECT post_id FROM _fg_posts)")
            for t in ("profile_snapshots", "labels", "account_terms", "scores",
                      "account_changes"):
                run(t, f"DELETE FROM {t} WHERE uid {in_fg}")
            run("record_subjects", f"""
                DELETE FROM record_subjects WHERE src {in_fg} OR dst {in_fg}
                   OR repo IN (SELECT unnest(?::VARCHAR[]))
                   OR post_id IN (SELECT post_id FROM _fg_posts)""", [ids])
            toks = [_tok(n) for n in names] + [f"at://{a}/" for a in ids]
            body = " OR ".join(["contains(body, ?)"] * len(toks))
            run("raw_records", f"""
                DELETE FROM raw_records WHERE record_id IN (SELECT unnest(?::VARCHAR[]))
                   OR record_id IN (SELECT post_id FROM _fg_posts)
                   {'OR ' + body if toks else ''}""", [names] + toks)
            rtoks = [f'"{f}":{_tok(a)}' for f in _REJECT_FIELDS for a in ids]
            rtoks += [f'"handle":{_tok(h)}' for _u, _p, _a, h in accounts if h]
            run("rejects", "DELETE FROM rejects WHERE "
                + " OR ".join(["contains(raw, ?)"] * len(rtoks)), rtoks)
            crawl_ids = [r[0] for r in con.execute(
                "SELECT crawl_id FROM crawls WHERE target IN (SELECT unnest(?::VARCHAR[]))",
                [names]).fetchall()]
            if crawl_ids:
                run("crawl_cursors", "DELETE FROM crawl_cursors WHERE crawl_id IN "
                    "(SELECT unnest(?::INTEGER[]))", [crawl_ids])
                run("crawls", "DELETE FROM crawls WHERE crawl_id IN "
                    "(SELECT unnest(?::INTEGER[]))", [crawl_ids])
            present = {(t, c) for t, c in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'main'").fetchall()}
            for table, col in _SCRUBBED:
                if (table, col) not in present:
                    continue
                for n in names:
                    run(f"{table}_scrubbed", f"UPDATE {table} SET {col} = replace({col}, ?, "
                        f"'\"[forgotten]\"') WHERE contains({col}, ?)", [_tok(n), _tok(n)])
            run("accounts", f"DELETE FROM accounts WHERE uid {in_fg}")
            gen = self.data_generation() + 1
            con.execute("INSERT OR REPLACE INTO meta VALUES ('data_generation', ?)", [str(gen)])
            con.execute("DROP TABLE _fg")
            con.execute("DROP TABLE _fg_posts")
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # the connection may already be gone
                pass
            raise
        if self.path != ":memory:":
            con.execute("CHECKPOINT")
        return counts
