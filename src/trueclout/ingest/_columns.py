"""Turning raw columns into a batch of an ingest schema (private).

Examples
--------
>>> import pyarrow as pa
>>> from trueclout.ingest._columns import to_batch
>>> b = to_batch("follows", {"src": pa.array([b"a"]), "dst": pa.array([b" b "]),
...                          "created_at": pa.array([b"2020-01-02"])}, 1, platform="x")
>>> b.column("dst").to_pylist(), b.column("platform").to_pylist()
(['b'], ['x'])
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import INGEST_SCHEMAS, conform
from .normalize import (as_array, clean_strings, constant, decode_utf8, first_error, parse_bools,
                        parse_ints, parse_lists, parse_timestamps)


def fill_platform(values: pa.Array | None, n: int, platform: str) -> pa.Array:
    """The platform column: given values with missing ones set to ``platform``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> fill_platform(pa.array(["x", None]), 2, "d").to_pylist()
    ['x', 'd']
    >>> fill_platform(None, 2, "d").to_pylist()
    ['d', 'd']
    """
    if values is None:
        return constant(platform, n)
    values = as_array(values)
    if values.null_count == 0 and not pc.any(pc.equal(values, "")).as_py():
        return values
    empty = pc.fill_null(pc.equal(values, ""), True)
    return pc.if_else(empty, platform, values)


def convert_column(name: str, values: pa.Array, type: pa.DataType, *,
                   null_tokens: Iterable[str] = ("",), empty_false: bool = False,
                   strip: bool = True) -> tuple[pa.Array, list[pa.Array]]:
    """Convert one raw column (bytes, text or typed) to ``type``; return it and errors.

    Examples
    --------
    >>> import pyarrow as pa
    >>> v, errs = convert_column("followers_count", pa.array([b"5", b"x"]), pa.int64())
    >>> v.to_pylist(), errs[-1].to_pylist()
    ([5, None], [None, "followers_count: not an integer 'x'"])
    """
    errors: list[pa.Array] = []
    values = as_array(values)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_large_binary(values.type) or pa.types.is_binary_view(values.type):
        values = values.cast(pa.binary())
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        values = values.cast(pa.string())
    text = pa.types.is_binary(values.type) or pa.types.is_string(values.type)
    if pa.types.is_binary(values.type):
        values, err = decode_utf8(values, name)
        errors.append(err)
    tokens = tuple(null_tokens)
    if pa.types.is_string(type):
        if text:
            if strip or tokens != ("",):
                values = clean_strings(values, tokens, strip=strip)
        else:
            values = values.cast(pa.string())
        return values, errors
    if pa.types.is_timestamp(type):
        out, err = parse_timestamps(values, name, tokens)
    elif pa.types.is_boolean(type):
        out, err = parse_bools(values, name, empty_false=empty_false, null_tokens=tokens)
    elif pa.types.is_integer(type):
        out, err = parse_ints(values, name, tokens)
    elif pa.types.is_list(type):
        out, err = parse_lists(values, name, tokens)
    else:  # pragma: no cover - the schemas use only these types
        out, err = values.cast(type), None
    if err is not None:
        errors.append(err)
    return out, errors


def to_batch(table: str, columns: dict[str, pa.Array], n: int, *,
             lines: np.ndarray | pa.Array | Sequence | None = None,
             platform: str = "default", null_tokens: Iterable[str] = ("",),
             empty_false: bool = False, strip: bool = True,
             errors: Sequence[pa.Array | None] = ()) -> pa.RecordBatch:
    """Build a batch of ``table`` from raw columns named as the schema's columns.

    Parameters
    ----------
    table : str
        A domain table.
    columns : dict
        Schema column name to raw values (bytes, text or typed); missing ones are null.
        ``platform`` gets ``platform`` where missing; ``extra`` is passed through.
    n : int
        Number of rows.
    lines : array of int, optional
        ``_line`` values.
    platform : str
        Platform for rows without one.
    null_tokens, empty_false, strip
        How text values are read (see :mod:`trueclout.ingest.normalize`).
    errors : sequence of arrays
        Errors found earlier; they come before the errors of conversion.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = to_batch("accounts", {"account_id": pa.array(["1"]),
    ...                           "verified": pa.array([""])}, 1, empty_false=True)
    >>> b.column("verified").to_pylist(), b.column("platform").to_pylist()
    ([False], ['default'])
    """
    schema = INGEST_SCHEMAS[table]
    out: dict[str, pa.Array] = {}
    errs: list[pa.Array | None] = list(errors)
    for name, values in columns.items():
        if name in ("_line", "_error"):
            continue
        f = schema.field(name)
        if name == "extra":
            out[name] = as_array(values).cast(pa.string())
            continue
        arr, e = convert_column(name, values, f.type, null_tokens=null_tokens,
                                empty_false=empty_false, strip=strip)
        out[name] = arr
        errs.extend(e)
    out["platform"] = fill_platform(out.get("platform"), n, platform)
    if lines is not None:
        out["_line"] = lines if isinstance(lines, pa.Array) else pa.array(
            np.asarray(lines, dtype=np.int64))
    errs = [e for e in errs if e is not None]
    if errs:
        out["_error"] = first_error(*errs)
    return conform(table, out, n)
