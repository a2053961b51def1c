"""Arrow schemas of the domain tables.

Readers yield record batches in the *ingest* schema of a table (:data:`INGEST_SCHEMAS`):
accounts are named by ``(platform, account_id)`` strings, every batch carries the meta
columns ``_line`` (1-based line or record number in its source, or null) and ``_error``
(null for a good row, else the reason the row is refused, naming its field). The store
turns account names into integer keys; algorithms later see only contiguous int32 ids.

Columns (all nullable unless listed in :data:`REQUIRED`):

========================  ============================================================
table                     columns
========================  ============================================================
accounts                  platform, account_id, handle, name, description, url,
                          location, lang, created_at, verified, protected,
                          default_profile_image, declared_bot, followers_count,
                          following_count, posts_count, listed_count, likes_count,
                          observed_at, extra (JSON text of fields we do not model)
profile_snapshots         platform, account_id, observed_at, followers_count,
                          following_count, posts_count, listed_count, likes_count
follows                   platform, src, dst, created_at, removed_at, observed_at
posts                     platform, post_id, author, created_at, text, lang,
                          hashtags (list), mentions (list), reply_to, quote_of
interactions              platform, src, dst, kind, post_id, created_at
labels                    platform, account_id, label, source
account_terms             platform, account_id, term, source
========================  ============================================================

Examples
--------
>>> from trueclout.model import INGEST_SCHEMAS, empty_batch
>>> sorted(INGEST_SCHEMAS)[:3]
['account_terms', 'accounts', 'follows']
>>> empty_batch("follows").schema.names
['platform', 'src', 'dst', 'created_at', 'removed_at', 'observed_at', '_line', '_error']
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
I64 = pa.int64()

#: Meta columns every ingest batch carries after its data columns.
META_FIELDS = [pa.field("_line", I64), pa.field("_error", STR)]

COUNT_COLUMNS = ["followers_count", "following_count", "posts_count", "listed_count",
                 "likes_count"]

INTERACTION_KINDS = ("like", "repost", "reply", "mention", "quote")

#: Known labels. ``human``, ``fake``, ``bot`` and ``farm`` are the classes every detector reports;
#: the rest are ground-truth roles the simulator plants for evaluation.
LABELS = ("human", "fake", "bot", "farm", "pod", "customer", "fast_growth")

#: Other words labelled data sets use for the same classes, mapped to :data:`LABELS`
#: (case-insensitive): the Botometer bot repository writes ``bot``/``human``, the MIB
#: sets ``genuine``, the social honeypot (Lee et al. 2011) ``polluter``/``legitimate``,
#: InstaFake ``real``/``fake``.
LABEL_SYNONYMS = {
    "real": "human", "genuine": "human", "legitimate": "human", "legit": "human",
    "polluter": "bot", "content_polluter": "bot", "spambot": "bot", "spammer": "bot",
    "fake_follower": "fake", "bought": "fake",
}

_DATA_FIELDS: dict[str, list[pa.Field]] = {
    "accounts": [
        pa.field("platform", STR), pa.field("account_id", STR), pa.field("handle", STR),
        pa.field("name", STR), pa.field("description", STR), pa.field("url", STR),
        pa.field("location", STR), pa.field("lang", STR), pa.field("created_at", TS),
        pa.field("verified", pa.bool_()), pa.field("protected", pa.bool_()),
        pa.field("default_profile_image", pa.bool_()), pa.field("declared_bot", pa.bool_()),
        *[pa.field(c, I64) for c in COUNT_COLUMNS],
        pa.field("observed_at", TS), pa.field("extra", STR),
    ],
    "profile_snapshots": [
        pa.field("platform", STR), pa.field("account_id", STR), pa.field("observed_at", TS),
        *[pa.field(c, I64) for c in COUNT_COLUMNS],
    ],
    "follows": [
        pa.field("platform", STR), pa.field("src", STR), pa.field("dst", STR),
        pa.field("created_at", TS), pa.field("removed_at", TS), pa.field("observed_at", TS),
    ],
    "posts": [
        pa.field("platform", STR), pa.field("post_id", STR), pa.field("author", STR),
        pa.field("created_at", TS), pa.field("text", STR), pa.field("lang", STR),
        pa.field("hashtags", pa.list_(STR)), pa.field("mentions", pa.list_(STR)),
        pa.field("reply_to", STR), pa.field("quote_of", STR),
    ],
    "interactions": [
        pa.field("platform", STR), pa.field("src", STR), pa.field("dst", STR),
        pa.field("kind", STR), pa.field("post_id", STR), pa.field("created_at", TS),
    ],
    "labels": [
        pa.field("platform", STR), pa.field("account_id", STR), pa.field("label", STR),
        pa.field("source", STR),
    ],
    "account_terms": [
        pa.field("platform", STR), pa.field("account_id", STR), pa.field("term", STR),
        pa.field("source", STR),
    ],
}

#: Ingest schema per table: data columns, then ``_line`` and ``_error``.
INGEST_SCHEMAS: dict[str, pa.Schema] = {
    t: pa.schema(fields + META_FIELDS) for t, fields in _DATA_FIELDS.items()
}

#: Data columns that must be present and non-null for a row to be accepted.
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("platform", "account_id"),
    "profile_snapshots": ("platform", "account_id", "observed_at"),
    "follows": ("platform", "src", "dst"),
    "posts": ("platform", "post_id", "author"),
    "interactions": ("platform", "src", "dst", "kind"),
    "labels": ("platform", "account_id", "label"),
    "account_terms": ("platform", "account_id", "term"),
}

#: Natural keys: two rows with the same key are the same fact.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("platform", "account_id"),
    "profile_snapshots": ("platform", "account_id", "observed_at"),
    "follows": ("platform", "src", "dst"),
    "posts": ("platform", "post_id"),
    "interactions": ("platform", "src", "dst", "kind", "post_id", "created_at"),
    "labels": ("platform", "account_id", "label", "source"),
    "account_terms": ("platform", "account_id", "term", "source"),
}

TABLES = tuple(_DATA_FIELDS)


def data_columns(table: str) -> list[str]:
    """Names of the data columns of ``table`` (without the meta columns).

    Examples
    --------
    >>> data_columns("labels")
    ['platform', 'account_id', 'label', 'source']
    """
    return [f.name for f in _DATA_FIELDS[table]]


def empty_batch(table: str) -> pa.RecordBatch:
    """An empty record batch in the ingest schema of ``table``.

    Examples
    --------
    >>> empty_batch("labels").num_rows
    0
    """
    schema = INGEST_SCHEMAS[table]
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def conform(table: str, columns: dict[str, pa.Array | list], num_rows: int) -> pa.RecordBatch:
    """Build a batch in the ingest schema of ``table`` from the columns given.

    Missing columns are filled with nulls; given columns are cast to the schema's type.

    Parameters
    ----------
    table : str
        A key of :data:`INGEST_SCHEMAS`.
    columns : dict
        Column name to array (or list). Unknown names raise ``KeyError``.
    num_rows : int
        Length of the batch.

    Examples
    --------
    >>> b = conform("follows", {"src": ["a"], "dst": ["b"], "platform": ["x"]}, 1)
    >>> b.column("created_at").null_count, b.num_rows
    (1, 1)
    """
    schema = INGEST_SCHEMAS[table]
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise KeyError(f"{table} has no columns {sorted(unknown)}")
    arrays = []
    for f in schema:
        col = columns.get(f.name)
        if col is None:
            arrays.append(pa.nulls(num_rows, f.type))
        else:
            arr = col if isinstance(col, (pa.Array, pa.ChunkedArray)) else pa.array(col)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if arr.type != f.type:
                arr = arr.cast(f.type)
            arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
