"""Row checks shared by every reader, in Arrow compute.

:func:`validate` takes a record batch in the ingest schema of a table and sets ``_error``
on each row that breaks a rule, keeping an error a reader already set (the first error
wins). Messages read ``"<field>: <reason>"``:

=======================  ===============================================================
rule                     message
=======================  ===============================================================
required value           ``account_id: missing required value`` (null or empty; see
                         :data:`trueclout.model.REQUIRED`)
ids are scalars          ``account_id: not a single value '['x']'`` (an id that reads as
                         a list or an object: :data:`ID_COLUMNS`)
no control characters    ``handle: control character U+001B`` (ids, handles, platform,
                         kinds, labels, terms: :data:`NAME_COLUMNS`)
counts                   ``followers_count: negative count -5``
plausible counts         ``followers_count: count 4611686018427387904 above the plausible
                         bound 10,000,000,000`` (setting ``plausible_count_max``)
dates after founding     ``created_at: before its platform existed: 1200-01-01 (earliest
                         twitter 2006-03-21, ...)`` (settings ``founded_<platform>``, else
                         ``founded_other``)
dates not in the future  ``created_at: in the future: 2999-01-01 (after observed_at, ...
                         plus 86,400 s)`` (the row's ``observed_at``, else the time of the
                         check; setting ``plausible_skew_s``)
self-follow              ``dst: self-follow (src == dst)`` (follows)
self-interaction         ``dst: self-interaction (src == dst)`` (interactions)
interaction kind         ``kind: unknown interaction kind 'poke' (known: like, ...)``
label                    ``label: unknown label 'alien' (known: human, ...)``
removal time             ``removed_at: before created_at``
=======================  ===============================================================

Free text (:data:`TEXT_COLUMNS`: names, bios, locations, URLs, post text) is cleaned
rather than refused: its control characters (C0 but tab, newline and carriage return,
and DEL) become U+FFFD (:func:`trueclout.ingest.normalize.clean_control`), so nothing
stored can drive a terminal.

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

import datetime as _dt
import time

import pyarrow as pa
import pyarrow.compute as pc

from .. import config
from ..model import COUNT_COLUMNS, INGEST_SCHEMAS, INTERACTION_KINDS, LABELS, REQUIRED, TS
from .normalize import (clean_control, control_characters, error_messages, first_error,
                        not_scalar)

#: Columns that hold one id each (never a list or an object).
ID_COLUMNS = ("account_id", "src", "dst", "post_id", "author", "reply_to", "quote_of")
#: Columns that name things (ids, handles, platform, kinds, labels, terms): a control
#: character in them refuses the row.
NAME_COLUMNS = ID_COLUMNS + ("platform", "handle", "kind", "label", "term", "source",
                             "lang")
#: Free text: control characters in it are replaced (see the module docstring).
TEXT_COLUMNS = ("name", "description", "location", "url", "text")
#: Platforms with a founding date of their own (setting ``founded_<platform>``).
FOUNDED = ("twitter", "mastodon", "bluesky")
_DATES = ("created_at", "observed_at", "removed_at")


def _control_errors(values: pa.Array, mask: pa.Array, field: str) -> pa.Array:
    """``"<field>: control character U+001B"`` where ``mask`` (the first one named)."""
    first = pc.extract_regex(values, r"(?P<c>[\x00-\x1f\x7f-\x9f])").field("c")
    code = [None if ch is None or not hit else f"U+{ord(ch):04X}"
            for ch, hit in zip(first.to_pylist(), pc.fill_null(mask, False).to_pylist())]
    return error_messages(mask, field, "control character", pa.array(code, pa.string()),
                          quote=False)


def _missing(col: pa.Array) -> pa.Array:
    """Null, or an empty string."""
    if pa.types.is_string(col.type) or pa.types.is_binary(col.type):
        return pc.or_(pc.is_null(col), pc.fill_null(pc.equal(pc.binary_length(col), 0), True))
    return pc.is_null(col)


def _us(day: str) -> int:
    d = _dt.datetime.fromisoformat(day)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return int(d.timestamp() * 1_000_000)


def founding(platform: pa.Array) -> pa.Array:
    """Per row, the earliest plausible time (microseconds since 1970, UTC) of its
    platform: setting ``founded_<platform>`` for the platforms of :data:`FOUNDED`, else
    ``founded_other``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> [str(_dt.datetime.fromtimestamp(v / 1e6, _dt.timezone.utc).date())
    ...  for v in founding(pa.array(["twitter", "sim", None])).to_pylist()]
    ['2006-03-21', '1997-01-01', '1997-01-01']
    """
    n = len(platform)
    out = pa.array([_us(config.get("founded_other"))] * n, pa.int64())
    for name in FOUNDED:
        hit = pc.fill_null(pc.equal(platform, name), False)
        if pc.any(hit).as_py():
            out = pc.if_else(hit, _us(config.get(f"founded_{name}")), out)
    return out


def _show(ts: pa.Array) -> pa.Array:
    """Dates as ISO text for messages; the ones strftime cannot write (before year 1 or
    after 9999) as their year."""
    try:
        return pc.strftime(ts, format="%Y-%m-%d", locale="C")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in
                         pc.year(ts).to_pylist()], pa.string())


def _date_errors(batch: pa.RecordBatch, names: list[str]) -> list[pa.Array]:
    """Dates before the platform existed, or after the row's observation time (else
    now) plus ``plausible_skew_s``."""
    errors: list[pa.Array] = []
    cols = [c for c in _DATES if c in names and batch.column(c).null_count < batch.num_rows]
    if not cols:
        return errors
    skew = int(float(config.get("plausible_skew_s")) * 1_000_000)
    now = int(time.time() * 1_000_000) + skew
    floor = founding(batch.column("platform"))
    observed = (batch.column("observed_at").cast(pa.int64()) if "observed_at" in names
                else None)
    for c in cols:
        us = batch.column(c).cast(TS).cast(pa.int64())
        early = pc.fill_null(pc.less(us, floor), False)
        if pc.any(early).as_py():
            errors.append(error_messages(
                early, c, "before its platform existed:", _show(batch.column(c)),
                f" (earliest {_founding_text(batch.column('platform'))})", quote=False))
        if c == "observed_at" or observed is None:
            late, after = pc.greater(us, now), "the time of the load"
        else:
            late = pc.greater(us, pc.add(pc.fill_null(observed, now - skew), skew))
            after = "observed_at, or the time of the load without one,"
        late = pc.fill_null(late, False)
        if pc.any(late).as_py():
            errors.append(error_messages(
                late, c, "in the future:", _show(batch.column(c)),
                f" (after {after} plus {float(config.get('plausible_skew_s')):,.0f} s)",
                quote=False))
    return errors


def _founding_text(platform: pa.Array) -> str:
    known = [p for p in FOUNDED if pc.any(pc.fill_null(pc.equal(platform, p), False)).as_py()]
    parts = [f"{p} {config.get(f'founded_{p}')}" for p in known]
    parts.append(f"others {config.get('founded_other')}")
    return ", ".join(parts)


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
    for name in TEXT_COLUMNS:
        if name in schema.names:
            cleaned = clean_control(batch.column(name))
            if cleaned is not batch.column(name):
                batch = batch.set_column(schema.get_field_index(name), name, cleaned)
    col = batch.column
    errors: list[pa.Array] = [col("_error")]
    for name in REQUIRED[table]:
        errors.append(error_messages(_missing(col(name)), name, "missing required value"))
    for name in ID_COLUMNS:
        if name in schema.names:
            boxed = not_scalar(col(name))
            if boxed is not None:
                errors.append(error_messages(boxed, name, "not a single value", col(name)))
    for name in NAME_COLUMNS:
        if name in schema.names:
            bad = control_characters(col(name))
            if bad is not None:
                errors.append(_control_errors(col(name), bad, name))
    cap = int(config.get("plausible_count_max"))
    for name in COUNT_COLUMNS:
        if name in schema.names:
            c = col(name)
            if c.null_count < n:
                errors.append(error_messages(pc.less(c, 0), name, "negative count", c,
                                             quote=False))
                errors.append(error_messages(pc.greater(c, cap), name, "count", c,
                                             f" above the plausible bound {cap:,}",
                                             quote=False))
    errors.extend(_date_errors(batch, schema.names))
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
