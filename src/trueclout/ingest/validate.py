"""Row checks shared by every reader, in Arrow compute.

:func:`validate` takes a record batch in the ingest schema of a table and sets ``_error``
on each row that breaks a rule, keeping an error a reader already set (the first error
wins). Messages read ``"<field>: <reason>"``:

=======================  ===============================================================
rule                     message
=======================  ===============================================================
required value           ``account_id: missing required value`` (null or empty; see
                         :data:`trueclout.model.REQUIRED`)
counts                   ``followers_count: negative count -5``
self-follow              ``dst: self-follow (src == dst)`` (follows)
self-interaction         ``dst: self-interaction (src == dst)`` (interactions)
interaction kind         ``kind: unknown interaction kind 'poke' (known: like, ...)``
label                    ``label: unknown label 'alien' (known: human, ...)``
removal time             ``removed_at: before created_at``
=======================  ===============================================================

Rows that repeat each other are not checked here: the store finds duplicates in SQL.

Examples
--------
>>> from trueclout.model import conform
>>> from trueclout.ingest.validate import validate
>>> b = conform("follows", {"platform": ["x", "x"], "src": ["a", "b"], "dst": ["b", "b"]}, 2)
>>> validate("follows", b).column("_error").to_pylist()
[None, 'dst: self-follow (src == dst)']
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..model import COUNT_COLUMNS, INGEST_SCHEMAS, INTERACTION_KINDS, LABELS, REQUIRED
from .normalize import error_messages, first_error


def _missing(col: pa.Array) -> pa.Array:
    """Null, or an empty string."""
    if pa.types.is_string(col.type) or pa.types.is_binary(col.type):
        return pc.or_(pc.is_null(col), pc.fill_null(pc.equal(pc.binary_length(col), 0), True))
    return pc.is_null(col)


def validate(table: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Check the rows of ``batch`` (a batch of ``table``) and set their ``_error``.

    Parameters
    ----------
    table : str
        A key of :data:`trueclout.model.INGEST_SCHEMAS`.
    batch : RecordBatch
        A batch in that ingest schema.

    Returns
    -------
    RecordBatch
        The same rows and columns, with ``_error`` set where a rule fails and the row had
        no error yet.

    Raises
    ------
    ValueError
        If ``batch`` does not have the ingest schema of ``table`` (a bug in a reader).

    Examples
    --------
    >>> from trueclout.model import conform
    >>> b = conform("accounts", {"platform": ["x", "x", "x"], "account_id": ["1", "", "3"],
    ...                          "followers_count": [5, 1, -2]}, 3)
    >>> validate("accounts", b).column("_error").to_pylist()
    [None, 'account_id: missing required value', 'followers_count: negative count -2']
    >>> b = conform("labels", {"platform": ["x"], "account_id": ["1"], "label": ["alien"],
    ...                        "_error": ["label: set by reader"]}, 1)
    >>> validate("labels", b).column("_error").to_pylist()
    ['label: set by reader']
    """
    schema = INGEST_SCHEMAS[table]
    if batch.schema.names != schema.names:
        raise ValueError(f"batch of {table} has columns {batch.schema.names}, "
                         f"expected {schema.names}")
    if batch.schema != schema:
        batch = batch.cast(schema)
    n = batch.num_rows
    if n == 0:
        return batch
    col = batch.column
    errors: list[pa.Array] = [col("_error")]
    for name in REQUIRED[table]:
        errors.append(error_messages(_missing(col(name)), name, "missing required value"))
    for name in COUNT_COLUMNS:
        if name in schema.names:
            c = col(name)
            if c.null_count < n:
                errors.append(error_messages(pc.less(c, 0), name, "negative count", c,
                                             quote=False))
    if table in ("follows", "interactions"):
        what = "self-follow" if table == "follows" else "self-interaction"
        errors.append(error_messages(pc.equal(col("src"), col("dst")), "dst",
                                     f"{what} (src == dst)"))
    if table == "follows":
        created, removed = col("created_at"), col("removed_at")
        if removed.null_count < n:
            errors.append(error_messages(pc.less(removed, created), "removed_at",
                                         "before created_at"))
    if table == "interactions":
        kind = col("kind")
        bad = pc.and_(pc.is_valid(kind),
                      pc.invert(pc.is_in(kind, value_set=pa.array(INTERACTION_KINDS))))
        errors.append(error_messages(bad, "kind", "unknown interaction kind", kind,
                                     f" (known: {', '.join(INTERACTION_KINDS)})"))
    if table == "labels":
        label = col("label")
        bad = pc.and_(pc.is_valid(label),
                      pc.invert(pc.is_in(label, value_set=pa.array(LABELS))))
        errors.append(error_messages(bad, "label", "unknown label", label,
                                     f" (known: {', '.join(LABELS)})"))
    err = first_error(*errors)
    if err is col("_error"):
        return batch
    return batch.set_column(schema.get_field_index("_error"), "_error", err)
