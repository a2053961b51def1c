"""The store's schema and its forward migrations.

The schema version lives in the ``meta`` table. :data:`MIGRATIONS` is an ordered list;
migration ``i`` takes a store from version ``i`` to ``i + 1``. Opening a store applies the
missing migrations in one transaction; a store newer than this code is refused.

Accounts get a dense integer key, ``uid``, when they are first seen. Every other table
refers to accounts by ``uid``, which keeps the follow table small (two INTEGER columns per
edge) and lets the graph builder read edges without a join.

Examples
--------
>>> from trueclout.store.schema import SCHEMA_VERSION, MIGRATIONS
>>> SCHEMA_VERSION == len(MIGRATIONS)
True
"""

from __future__ import annotations

_V1 = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE accounts (
    uid INTEGER NOT NULL,
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    handle VARCHAR, name VARCHAR, description VARCHAR, url VARCHAR, location VARCHAR,
    lang VARCHAR, created_at TIMESTAMPTZ,
    verified BOOLEAN, protected BOOLEAN, default_profile_image BOOLEAN, declared_bot BOOLEAN,
    followers_count BIGINT, following_count BIGINT, posts_count BIGINT, listed_count BIGINT,
    likes_count BIGINT, observed_at TIMESTAMPTZ, extra VARCHAR, ingest_id INTEGER
);
CREATE TABLE profile_snapshots (
    uid INTEGER NOT NULL, observed_at TIMESTAMPTZ NOT NULL,
    followers_count BIGINT, following_count BIGINT, posts_count BIGINT, listed_count BIGINT,
    likes_count BIGINT, ingest_id INTEGER
);
CREATE TABLE follows (
    src INTEGER NOT NULL, dst INTEGER NOT NULL,
    created_at TIMESTAMPTZ, removed_at TIMESTAMPTZ, observed_at TIMESTAMPTZ, ingest_id INTEGER
);
CREATE TABLE posts (
    platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, author INTEGER NOT NULL,
    created_at TIMESTAMPTZ, text VARCHAR, lang VARCHAR, hashtags VARCHAR[], mentions VARCHAR[],
    reply_to VARCHAR, quote_of VARCHAR, ingest_id INTEGER
);
CREATE TABLE interactions (
    src INTEGER NOT NULL, dst INTEGER NOT NULL, kind VARCHAR NOT NULL, post_id VARCHAR,
    created_at TIMESTAMPTZ, ingest_id INTEGER
);
CREATE TABLE labels (
    uid INTEGER NOT NULL, label VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_id INTEGER
);
CREATE TABLE account_terms (
    uid INTEGER NOT NULL, term VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_id INTEGER
);
CREATE TABLE ingests (
    ingest_id INTEGER PRIMARY KEY, source VARCHAR NOT NULL, format VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL, options VARCHAR, started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ, rows_read BIGINT, rows_accepted BIGINT, rows_rejected BIGINT,
    details VARCHAR
);
CREATE TABLE rejects (
    ingest_id INTEGER NOT NULL, source VARCHAR, tbl VARCHAR, line BIGINT, field VARCHAR,
    reason VARCHAR NOT NULL, raw VARCHAR
);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, params VARCHAR, code_version VARCHAR,
    started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR, summary VARCHAR
);
CREATE TABLE scores (
    run_id INTEGER NOT NULL, uid INTEGER NOT NULL, name VARCHAR NOT NULL, value DOUBLE
);
CREATE VIEW follows_named AS
    SELECT s.platform, s.account_id AS src, d.account_id AS dst, f.created_at, f.removed_at,
           f.observed_at
    FROM follows f JOIN accounts s ON s.uid = f.src JOIN accounts d ON d.uid = f.dst;
CREATE VIEW labels_named AS
    SELECT a.platform, a.account_id, l.label, l.source
    FROM labels l JOIN accounts a USING (uid);
"""

# Version 2: the API's keys (only a salted hash of each key is kept) and its
# background jobs (their records outlive a restart of the server).
_V2 = """
CREATE TABLE api_keys (
    key_id INTEGER PRIMARY KEY, prefix VARCHAR NOT NULL UNIQUE, hash VARCHAR NOT NULL,
    scope VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, params VARCHAR,
    status VARCHAR NOT NULL, progress DOUBLE, message VARCHAR, created_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, result VARCHAR
);
"""

# Version 3: live data. Crawls save their cursor per task after every page, in
# the same transaction as the page's rows, so a killed crawl resumes exactly; raw JSON is
# kept beside the parsed rows; the live stream keeps its cursor and the map from a
# record's key to its subject (a delete event names only the key).
_V3 = """
CREATE TABLE crawls (
    crawl_id INTEGER PRIMARY KEY, platform VARCHAR NOT NULL, target VARCHAR NOT NULL,
    params VARCHAR, status VARCHAR NOT NULL, message VARCHAR,
    started_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, summary VARCHAR
);
CREATE TABLE crawl_cursors (
    crawl_id INTEGER NOT NULL, task VARCHAR NOT NULL, cursor VARCHAR,
    done BOOLEAN NOT NULL DEFAULT false, pages BIGINT NOT NULL DEFAULT 0,
    items BIGINT NOT NULL DEFAULT 0, seen_cursors VARCHAR, updated_at TIMESTAMPTZ,
    partial BOOLEAN NOT NULL DEFAULT false, note VARCHAR,
    PRIMARY KEY (crawl_id, task)
);
CREATE TABLE raw_records (
    platform VARCHAR NOT NULL, kind VARCHAR NOT NULL, record_id VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ, body VARCHAR, crawl_id INTEGER, task VARCHAR
);
CREATE TABLE stream_state (
    source VARCHAR PRIMARY KEY, cursor BIGINT, events BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0, updated_at TIMESTAMPTZ
);
CREATE TABLE record_subjects (
    platform VARCHAR NOT NULL, repo VARCHAR NOT NULL, collection VARCHAR NOT NULL,
    rkey VARCHAR NOT NULL, src INTEGER, dst INTEGER, post_id VARCHAR,
    created_at TIMESTAMPTZ, removed_at TIMESTAMPTZ,
    PRIMARY KEY (platform, repo, collection, rkey)
);
"""

# Version 4: re-crawls that see change. A crawl records every follow and post it lists
# (``crawl_sightings``), so a complete list that no longer shows one settles it: a follow
# gets ``removed_at`` (logged in ``follow_changes`` with the last crawl that saw it as the
# lower bound, and ``restored`` when it comes back), a post gets ``deleted_at``. A profile
# whose handle or name changes keeps the old value in ``account_changes``.
_V4 = """
ALTER TABLE posts ADD COLUMN deleted_at TIMESTAMPTZ;
CREATE TABLE crawl_sightings (
    crawl_id INTEGER NOT NULL, kind VARCHAR NOT NULL, src INTEGER NOT NULL, dst INTEGER,
    post_id VARCHAR, seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE follow_changes (
    src INTEGER NOT NULL, dst INTEGER NOT NULL, change VARCHAR NOT NULL,
    happened_after TIMESTAMPTZ, noticed_at TIMESTAMPTZ NOT NULL, crawl_id INTEGER
);
CREATE TABLE account_changes (
    uid INTEGER NOT NULL, observed_at TIMESTAMPTZ, field VARCHAR NOT NULL,
    old_value VARCHAR, new_value VARCHAR, ingest_id INTEGER
);
"""

#: Ordered forward migrations; entry ``i`` upgrades version ``i`` to ``i + 1``.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]

SCHEMA_VERSION = len(MIGRATIONS)

#: Domain tables counted by ``trueclout stats``.
COUNTED_TABLES = ("accounts", "profile_snapshots", "follows", "posts", "interactions",
                  "labels", "account_terms", "ingests", "rejects")
