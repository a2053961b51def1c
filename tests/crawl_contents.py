"""What a crawl wrote to a store, without load ids and fetch times: the comparison of the
resume tests (``test_crawl.py``, ``live/test_live_crawl.py``), where a crawl killed and
resumed must leave exactly what an uninterrupted crawl leaves.

Examples
--------
>>> from trueclout.store import Store
>>> sorted(contents(Store(":memory:")))[:3]
['accounts', 'cursors', 'follows']
"""

from __future__ import annotations


def contents(store) -> dict:
    """Every row a crawl writes (accounts, follows with their state, posts, interactions,
    snapshot counts, raw JSON, cursors), sorted, without load ids and fetch times.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> contents(Store(":memory:"))["follows"]
    []
    """
    q = store.con.execute
    return {
        "accounts": q("SELECT platform, account_id, handle, name, description, created_at, "
                      "declared_bot, default_profile_image, followers_count, following_count, "
                      "posts_count, extra FROM accounts ORDER BY ALL").fetchall(),
        "follows": q("SELECT s.account_id, d.account_id, f.created_at, f.removed_at IS NULL "
                     "FROM follows f JOIN accounts s ON s.uid = f.src "
                     "JOIN accounts d ON d.uid = f.dst ORDER BY ALL").fetchall(),
        "posts": q("SELECT p.post_id, a.account_id, p.created_at, p.text, p.lang, p.hashtags, "
                   "p.mentions, p.reply_to, p.quote_of, p.deleted_at IS NULL FROM posts p "
                   "JOIN accounts a ON a.uid = p.author ORDER BY ALL").fetchall(),
        "interactions": q("SELECT s.account_id, d.account_id, i.kind, i.post_id, i.created_at "
                          "FROM interactions i JOIN accounts s ON s.uid = i.src "
                          "JOIN accounts d ON d.uid = i.dst ORDER BY ALL").fetchall(),
        "snapshots": q("SELECT a.account_id, count(*), max(p.followers_count) "
                       "FROM profile_snapshots p JOIN accounts a USING (uid) GROUP BY 1 "
                       "ORDER BY 1").fetchall(),
        "raw": q("SELECT kind, record_id, body, task, count(*) FROM raw_records "
                 "GROUP BY ALL ORDER BY ALL").fetchall(),
        "cursors": q("SELECT task, cursor, done, pages, items, seen_cursors, partial, note "
                     "FROM crawl_cursors ORDER BY ALL").fetchall(),
        "rejects": q("SELECT count(*) FROM rejects").fetchall(),
    }
