"""Writing a store's domain tables as a trueclout Parquet folder (the simulator's layout).

:func:`export_tables` writes ``accounts.parquet``, ``follows/part-00000.parquet``,
``interactions/part-00000.parquet``, ``posts/part-00000.parquet`` and ``labels.parquet`` with accounts named by
``(platform, account_id)`` strings, as the simulator does, so the Spark backend (and any
other Parquet reader) reads a store and a simulation alike. DuckDB streams each query
straight into the file (``COPY ... TO``), so the export holds no table in memory.
Unfollows are kept, with ``removed_at`` set.

Examples
--------
>>> import tempfile, os
>>> from trueclout.store import Store
>>> d = tempfile.mkdtemp()
>>> with Store(":memory:") as s:
...     export_tables(s, d)["accounts"]
0
>>> sorted(os.listdir(d))
['accounts.parquet', 'follows', 'interactions', 'labels.parquet', 'posts']
"""

from __future__ import annotations

import os
from pathlib import Path

_ACCOUNT_COLUMNS = ("handle", "name", "description", "url", "location", "lang",
                    "created_at", "verified", "protected", "default_profile_image",
                    "declared_bot", "followers_count", "following_count", "posts_count",
                    "listed_count", "likes_count", "observed_at", "extra")

_QUERIES = {
    "accounts": "SELECT platform, account_id, " + ", ".join(_ACCOUNT_COLUMNS)
                + " FROM accounts ORDER BY platform, account_id",
    "follows": "SELECT a.platform, a.account_id AS src, b.account_id AS dst, f.created_at, "
               "f.removed_at, f.observed_at FROM follows f JOIN accounts a ON f.src = a.uid "
               "JOIN accounts b ON f.dst = b.uid",
    "interactions": "SELECT a.platform, a.account_id AS src, b.account_id AS dst, i.kind, "
                    "i.post_id, i.created_at FROM interactions i "
                    "JOIN accounts a ON i.src = a.uid JOIN accounts b ON i.dst = b.uid",
    "labels": "SELECT a.platform, a.account_id, l.label, l.source FROM labels l "
              "JOIN accounts a ON l.uid = a.uid",
    "posts": "SELECT p.platform, p.post_id, a.account_id AS author, p.created_at, p.text, "
             "p.lang, p.hashtags, p.mentions, p.reply_to, p.quote_of FROM posts p "
             "JOIN accounts a ON p.author = a.uid",
}

_FILES = {"accounts": "accounts.parquet", "follows": "follows/part-00000.parquet",
          "interactions": "interactions/part-00000.parquet", "labels": "labels.parquet",
          "posts": "posts/part-00000.parquet"}


def export_tables(store, folder: str | os.PathLike) -> dict[str, int]:
    """Write the store's accounts, follows, interactions, posts and labels under ``folder``.

    Parameters
    ----------
    store : trueclout.store.Store
    folder : str or Path
        Created when missing; the five tables are overwritten.

    Returns
    -------
    dict
        Rows written per table.

    Examples
    --------
    >>> import tempfile
    >>> from trueclout.ingest.run import ingest
    >>> from trueclout.store import Store
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "f.txt").write_text("a b\\nb c\\n")
    >>> with Store(":memory:") as s:
    ...     _ = ingest(s, [d / "f.txt"])
    ...     export_tables(s, d / "out")
    {'accounts': 3, 'follows': 2, 'interactions': 0, 'labels': 0, 'posts': 0}
    """
    out = Path(folder)
    rows: dict[str, int] = {}
    for table, sql in _QUERIES.items():
        path = out / _FILES[table]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        target = str(path).replace("'", "''")
        done = store.con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, "
                                 "COMPRESSION zstd)").fetchall()
        rows[table] = int(done[0][0]) if done else 0
    return rows
