"""Vectorised parsing of raw column values into the types of the ingest schemas.

Every parser takes an Arrow array (or a list) of raw values, usually strings, and returns
a pair ``(values, errors)``: the parsed array, and a string array that is null where the
value was fine and holds ``"<field>: <reason> '<value>'"`` where it was not. A missing
value (null, ``""`` or a null token such as ``NULL``) is null in the output and is *not*
an error: whether a column may be missing is decided later by
:func:`trueclout.ingest.validate.validate`.

The work is done with :mod:`pyarrow.compute` over whole arrays; Python loops run only on
the rare values that need a slow path (for example a date Arrow refuses to cast, or a
byte string that is not UTF-8), never on the good rows of a large file.

Examples
--------
>>> from trueclout.ingest.normalize import parse_timestamps, parse_ints
>>> ts, err = parse_timestamps(["Fri Apr 06 10:58:22 +0000 2007", "2020-01-02", "xyz"])
>>> [str(v) for v in ts.to_pylist()[:2]]
['2007-04-06 10:58:22+00:00', '2020-01-02 00:00:00+00:00']
>>> err.to_pylist()
[None, None, "created_at: unparseable date 'xyz'"]
>>> parse_ints(["12", "NULL", "x"], "followers_count")[1].to_pylist()
[None, None, "followers_count: not an integer 'x'"]
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import LABEL_SYNONYMS, LABELS, TS

#: Tokens that mean "no value" in text sources, compared after stripping whitespace.
NULL_TOKENS: tuple[str, ...] = ("", "NULL", "null", "None", "none", "NaN", "nan", "\\N")

# "1.0"/"0.0": flags that went through a float column (the rebuilt Cresci 2015 BAS set)
_TRUE = ["1", "1.0", "true", "t", "yes", "y"]
_FALSE = ["0", "0.0", "false", "f", "no", "n"]

_TWITTER_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_RE_TWITTER = r"^[A-Za-z]{3} [A-Za-z]{3} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}$"
_RE_EPOCH = r"^[+-]?\d{1,12}(\.\d*)?$"
#: Epoch milliseconds: 13 digits, optionally with a Java ``long`` suffix ``L`` (the MIB
#: dumps of Cresci et al. 2017 write ``1183552203000L``). 13 digits of seconds would be
#: past the year 33,000, so the two cannot be confused.
_RE_EPOCH_MS = r"^[+-]?\d{13}L?$"
_RE_ISO = (r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
           r"\s*(Z|z|UTC|GMT|[+-]\d{2}(:?\d{2})?)?$")
_RE_ZONE = r"(Z|z|UTC|GMT|[+-]\d{2}(:?\d{2})?)$"
_RE_INT = r"^[+-]?\d+(\.0*)?$"
_INT64_MAX = 2**63 - 1
#: Control characters: C0, DEL and C1 (what a terminal may act on; never in an id).
_RE_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
#: Control characters cleaned out of free text: C0 but tab, newline and carriage return,
#: and DEL.
_RE_CONTROL_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

_SHOW = 60  # characters of a bad value quoted in an error message


def as_array(values: pa.Array | pa.ChunkedArray | Sequence | np.ndarray,
             type: pa.DataType | None = None) -> pa.Array:
    """Return ``values`` as one contiguous :class:`pyarrow.Array`.

    Parameters
    ----------
    values : Array, ChunkedArray, numpy array or sequence
        The values.
    type : DataType, optional
        Type for building an array from Python values.

    Examples
    --------
    >>> as_array(["a", None]).type
    DataType(string)
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=type)
    return values


def constant(value: str, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value`` (faster than ``pa.repeat``).

    Examples
    --------
    >>> constant("x", 2).to_pylist()
    ['x', 'x']
    """
    return pc.fill_null(pa.nulls(n, pa.string()), pa.scalar(value, pa.string()))


def no_errors(n: int) -> pa.Array:
    """An all-null error column of length ``n``.

    Examples
    --------
    >>> no_errors(2).null_count
    2
    """
    return pa.nulls(n, pa.string())


def error_messages(mask: pa.Array, field: str, reason: str,
                   values: pa.Array | None = None, suffix: str = "",
                   quote: bool = True) -> pa.Array:
    """Error strings ``"<field>: <reason> '<value>'"`` where ``mask`` is true, else null.

    Parameters
    ----------
    mask : BooleanArray
        Where the error applies (null counts as false).
    field, reason : str
        The field named in the message, and what is wrong with it.
    values : Array, optional
        The offending values, quoted (cut to 60 characters) after the reason.
    suffix : str
        Text after the quoted value (for example the values that would be allowed).
    quote : bool
        Put the value in single quotes (text) or not (numbers).

    Examples
    --------
    >>> import pyarrow as pa
    >>> error_messages(pa.array([True, False]), "lang", "too long",
    ...                pa.array(["xxxx", "en"])).to_pylist()
    ["lang: too long 'xxxx'", None]
    """
    mask = pc.fill_null(as_array(mask), False)
    n = len(mask)
    if not pc.any(mask).as_py():
        return no_errors(n)
    if values is None:
        msg = constant(f"{field}: {reason}{suffix}", n)
    else:
        shown = as_array(values)
        if not pa.types.is_string(shown.type):
            shown = shown.cast(pa.string()) if not pa.types.is_binary(shown.type) \
                else _binary_to_text(shown)
        shown = pc.fill_null(pc.utf8_slice_codeunits(shown, 0, _SHOW), "")
        q = "'" if quote else ""
        msg = pc.binary_join_element_wise(f"{field}: {reason} {q}", shown, q + suffix, "")
    return pc.if_else(mask, msg, pa.scalar(None, pa.string()))


def first_error(*errors: pa.Array | None) -> pa.Array:
    """Element-wise the first non-null error of the arrays given (``None`` is skipped).

    Examples
    --------
    >>> import pyarrow as pa
    >>> first_error(pa.array([None, "a: x"]), pa.array(["b: y", "b: z"])).to_pylist()
    ['b: y', 'a: x']
    """
    arrs = [as_array(e) for e in errors if e is not None]
    arrs = [e for e in arrs if e.null_count < len(e)] or arrs[:1]
    if not arrs:
        raise ValueError("first_error needs at least one array")
    if len(arrs) == 1:
        return arrs[0]
    return pc.coalesce(*arrs)


def _binary_to_text(values: pa.Array) -> pa.Array:
    """Binary → string, replacing invalid UTF-8 (only used to show values in messages)."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([None if v is None else v.decode("utf-8", "replace")
                         for v in values.to_pylist()], pa.string())


def decode_utf8(values, field: str = "record") -> tuple[pa.Array, pa.Array]:
    """Decode binary values as UTF-8 text.

    Values that are not valid UTF-8 become null, with the error
    ``"<field>: invalid UTF-8 (byte 0x.. at offset n)"``.

    Parameters
    ----------
    values : Array of binary or string
        Raw bytes.
    field : str
        Field named in error messages.

    Returns
    -------
    (StringArray, StringArray)
        Text and errors.

    Examples
    --------
    >>> import pyarrow as pa
    >>> text, err = decode_utf8(pa.array([b"caf\\xc3\\xa9", b"\\xff"]), "name")
    >>> text.to_pylist(), err.to_pylist()
    (['café', None], [None, 'name: invalid UTF-8 (byte 0xff at offset 0)'])
    """
    values = as_array(values)
    n = len(values)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values.cast(pa.string()), no_errors(n)
    try:
        return values.cast(pa.string()), no_errors(n)
    except pa.ArrowInvalid:
        pass
    text: list[str | None] = []
    errs: list[str | None] = []
    for v in values.to_pylist():
        if v is None:
            text.append(None)
            errs.append(None)
            continue
        try:
            text.append(v.decode("utf-8"))
            errs.append(None)
        except UnicodeDecodeError as exc:
            text.append(None)
            errs.append(f"{field}: invalid UTF-8 (byte 0x{v[exc.start]:02x} at offset "
                        f"{exc.start})")
    return pa.array(text, pa.string()), pa.array(errs, pa.string())


def clean_strings(values, null_tokens: Iterable[str] = ("",), strip: bool = True) -> pa.Array:
    """Strip whitespace and turn null tokens into nulls.

    Parameters
    ----------
    values : Array or sequence of str
        Text values (binary input must be decoded first, see :func:`decode_utf8`).
    null_tokens : iterable of str
        Values (after stripping) that mean "missing"; Cresci's CSVs write ``NULL``.
    strip : bool
        Strip leading and trailing white space.

    Examples
    --------
    >>> clean_strings([" a ", "NULL", "", None], null_tokens=("", "NULL")).to_pylist()
    ['a', None, None, None]
    """
    values = as_array(values, pa.string())
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    if strip:
        values = pc.utf8_trim_whitespace(values)
    tokens = list(null_tokens)
    if tokens:
        hit = pc.is_in(values, value_set=pa.array(tokens, pa.string()))
        if pc.any(hit).as_py():
            values = pc.if_else(hit, pa.scalar(None, pa.string()), values)
    return values


def parse_bools(values, field: str, empty_false: bool = False,
                null_tokens: Iterable[str] = NULL_TOKENS) -> tuple[pa.Array, pa.Array]:
    """Parse booleans: ``1/0`` (also ``1.0/0.0``), ``true/false``, ``t/f``, ``yes/no`` in
    any case.

    Parameters
    ----------
    values : Array or sequence
        Raw values (strings, booleans or integers).
    field : str
        Field named in error messages.
    empty_false : bool
        If true, an empty string means ``False`` (Twitter CSV dumps such as Cresci's write
        ``"1"`` or nothing); otherwise it means missing (null).
    null_tokens : iterable of str
        Values that mean missing (compared case-sensitively after stripping).

    Returns
    -------
    (BooleanArray, StringArray)

    Examples
    --------
    >>> v, e = parse_bools(["1", "", "FALSE", "NULL", "maybe"], "verified", empty_false=True)
    >>> v.to_pylist()
    [True, False, False, None, None]
    >>> e.to_pylist()[4]
    "verified: not a boolean 'maybe'"
    """
    values = as_array(values)
    n = len(values)
    if pa.types.is_boolean(values.type):
        return values, no_errors(n)
    if pa.types.is_null(values.type):
        return pa.nulls(n, pa.bool_()), no_errors(n)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        ok = pc.is_in(values, value_set=pa.array([0, 1], values.type))
        bad = pc.and_(pc.invert(ok), pc.is_valid(values))
        out = pc.if_else(ok, pc.not_equal(values, pa.scalar(0, values.type)),
                         pa.scalar(None, pa.bool_()))
        return out, error_messages(bad, field, "not a boolean", values)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    raw = pc.utf8_trim_whitespace(values)
    low = pc.utf8_lower(raw)
    is_true = pc.is_in(low, value_set=pa.array(_TRUE))
    is_false = pc.is_in(low, value_set=pa.array(_FALSE))
    tokens = [t for t in null_tokens if not (empty_false and t == "")]
    missing = pc.or_(pc.is_null(raw), pc.is_in(raw, value_set=pa.array(tokens, pa.string())))
    if empty_false:
        is_false = pc.or_(is_false, pc.fill_null(pc.equal(raw, ""), False))
    out = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    bad = pc.invert(pc.or_(pc.or_(is_true, is_false), missing))
    return out, error_messages(bad, field, "not a boolean", values)


def parse_ints(values, field: str,
               null_tokens: Iterable[str] = NULL_TOKENS) -> tuple[pa.Array, pa.Array]:
    """Parse integers (counts). Negative values are kept: validation rejects them.

    Parameters
    ----------
    values : Array or sequence
        Raw values: strings (``"12"``, ``"12.0"``), integers or floats.
    field : str
        Field named in error messages.
    null_tokens : iterable of str
        Values that mean missing.

    Returns
    -------
    (Int64Array, StringArray)

    Examples
    --------
    >>> v, e = parse_ints(["5", " 7 ", "", "-3", "1.5", "abc"], "posts_count")
    >>> v.to_pylist()
    [5, 7, None, -3, None, None]
    >>> e.to_pylist()[-2:]
    ["posts_count: not an integer '1.5'", "posts_count: not an integer 'abc'"]
    """
    values = as_array(values)
    n = len(values)
    if pa.types.is_integer(values.type):
        return values.cast(pa.int64()), no_errors(n)
    if pa.types.is_null(values.type):
        return pa.nulls(n, pa.int64()), no_errors(n)
    if pa.types.is_boolean(values.type):
        return values.cast(pa.int64()), no_errors(n)
    if pa.types.is_floating(values.type):
        finite = pc.and_(pc.is_finite(values), pc.less(pc.abs(values), 9.2e18))
        integral = pc.and_(finite, pc.equal(pc.floor(values), values))
        out = pc.if_else(integral, values, pa.scalar(None, values.type)).cast(pa.int64())
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(integral, False)))
        return out, error_messages(bad, field, "not an integer", values)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    raw = pc.utf8_trim_whitespace(values)
    missing = pc.or_(pc.is_null(raw), pc.is_in(raw, value_set=pa.array(list(null_tokens),
                                                                         pa.string())))
    ok = pc.match_substring_regex(raw, _RE_INT)
    good = pc.and_(ok, pc.invert(missing))
    digits = pc.replace_substring_regex(raw, r"\.0*$", "")
    digits = pc.if_else(good, digits, pa.scalar(None, pa.string()))
    # more than 18 digits may not fit in 64 bits: those few are checked in Python
    long = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_ltrim(digits, "+-0")), 18), False)
    huge = pa.nulls(n, pa.bool_())
    if pc.any(long).as_py():
        big = [v is not None and flag and not -_INT64_MAX - 1 <= int(v) <= _INT64_MAX
               for v, flag in zip(digits.to_pylist(), long.to_pylist())]
        huge = pa.array(big, pa.bool_())
        digits = pc.if_else(huge, pa.scalar(None, pa.string()), digits)
    out = digits.cast(pa.int64())
    bad = pc.and_(pc.invert(pc.fill_null(ok, False)), pc.invert(missing))
    return out, first_error(error_messages(bad, field, "not an integer", values),
                            error_messages(huge, field, "integer out of range", values))


def control_characters(values, *, text: bool = False) -> pa.Array | None:
    r"""Where text values hold control characters: C0, DEL and C1 (or with ``text``, the
    ones cleaned out of free text: C0 but tab, newline and carriage return, and DEL);
    None when no value has any (checked first on the raw bytes, so clean columns cost
    one pass of numpy over their data).

    Examples
    --------
    >>> control_characters(["ana", "b\x1b[31m", None]).to_pylist()
    [False, True, None]
    >>> control_characters(["plain", "two\nlines"], text=True) is None
    True
    """
    values = as_array(values, pa.string())
    raw = _raw_bytes(values)
    if raw is None or not raw.size or (raw.min() >= 0x20 and raw.max() < 0x7F):
        return None             # printable ASCII only (C1 would be 0xC2 0x80-0x9F)
    mask = pc.match_substring_regex(values, _RE_CONTROL_TEXT if text else _RE_CONTROL)
    return mask if pc.any(mask).as_py() else None


def _raw_bytes(values: pa.Array) -> np.ndarray | None:
    """The bytes of a string array's values (of its slice, when it is one: a reader's
    batches are often slices of one big array), for quick "could any value hold X"
    checks; None when there are none."""
    if not pa.types.is_string(values.type) or len(values) == values.null_count:
        return None
    _, offsets, data = values.buffers()
    if data is None:
        return None
    ends = np.frombuffer(offsets, dtype=np.int32, count=values.offset + len(values) + 1)
    return np.frombuffer(data, dtype=np.uint8)[ends[values.offset]:ends[-1]]


def not_scalar(values) -> pa.Array | None:
    """Where an id reads as a list or an object (``['x']``, ``{"a": 1}``: a reader that
    turned a container into text); None when none does (checked first on the raw bytes).

    Examples
    --------
    >>> not_scalar(["12", "['x']", ' {"id": 1} ', None]).to_pylist()
    [False, True, True, None]
    >>> not_scalar(["a", "b"]) is None
    True
    """
    values = as_array(values, pa.string())
    raw = _raw_bytes(values)
    if raw is None or not ((raw == 0x5B).any() or (raw == 0x7B).any()):
        return None
    mask = pc.match_substring_regex(values, r"^\s*(\[.*\]|\{.*\})\s*$")
    return mask if pc.any(mask).as_py() else None


def clean_control(values) -> pa.Array:
    r"""Free text with its control characters (C0 but tab, newline and carriage return,
    and DEL) replaced by U+FFFD, so stored text cannot drive a terminal.

    Examples
    --------
    >>> out = clean_control(["bio\x1b]0;title\x07", "two\nlines", None]).to_pylist()
    >>> out == ["bio\ufffd]0;title\ufffd", "two\nlines", None]
    True
    """
    values = as_array(values, pa.string())
    if control_characters(values, text=True) is None:
        return values
    return pc.replace_substring_regex(values, _RE_CONTROL_TEXT, "\ufffd")


def _scatter(n: int, mask: pa.Array, parts: pa.Array, type: pa.DataType) -> pa.Array:
    """An array of ``n`` nulls with ``parts`` put where ``mask`` is true."""
    return pc.replace_with_mask(pa.nulls(n, type), mask, parts)


def _iso_slow(text: str) -> _dt.datetime | None:
    """Python's parser for the few ISO strings Arrow refuses (e.g. month 13 → None)."""
    s = text.strip().replace(" UTC", "Z").replace("UTC", "Z").replace("GMT", "Z")
    s = re.sub(r"\s+([+-]\d)", r"\1", s)
    s = re.sub(r"(\.\d{6})\d+", r"\1", s)
    try:
        d = _dt.datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d.astimezone(_dt.timezone.utc)


def _parse_iso(s: pa.Array) -> pa.Array:
    """ISO 8601 strings (already matched by ``_RE_ISO``) → timestamp[us, UTC]."""
    s = pc.replace_substring_regex(s, r"\s*(UTC|GMT|z)$", "Z")
    s = pc.replace_substring_regex(s, r"\s+([+-]\d{2}(:?\d{2})?)$", r"\1")
    s = pc.replace_substring_regex(s, r"(\.\d{6})\d+", r"\1")
    date_only = pc.equal(pc.binary_length(s), 10)
    s = pc.if_else(date_only, pc.binary_join_element_wise(s, "T00:00:00", ""), s)
    zoned = pc.match_substring_regex(s, _RE_ZONE)
    s = pc.if_else(zoned, s, pc.binary_join_element_wise(s, "Z", ""))
    try:
        return s.cast(TS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        vals = [None if v is None else _iso_slow(v) for v in s.to_pylist()]
        return pa.array(vals, TS)


def parse_timestamps(values, field: str = "created_at",
                     null_tokens: Iterable[str] = NULL_TOKENS) -> tuple[pa.Array, pa.Array]:
    """Parse dates and times into ``timestamp[us, tz=UTC]``.

    Accepted: the Twitter v1.1 format (``"Fri Apr 06 10:58:22 +0000 2007"``); ISO 8601
    (``"2015-02-14 10:54:49"``, ``"2020-01-02T03:04:05Z"``, ``"...+02:00"``,
    ``"2020-01-02"``; a time without a zone is UTC); epoch seconds (``"1420070400"``,
    integers or floats); and Arrow timestamps (a naive one is taken as UTC) or dates.

    Parameters
    ----------
    values : Array or sequence
        Raw values.
    field : str
        Field named in error messages, e.g. ``"created_at: unparseable date 'xyz'"``.
    null_tokens : iterable of str
        Values that mean missing.

    Returns
    -------
    (TimestampArray, StringArray)

    Examples
    --------
    >>> v, e = parse_timestamps(["2020-01-02T03:04:05+02:00", "1420070400", "", "soon"],
    ...                         "observed_at")
    >>> [None if x is None else x.isoformat() for x in v.to_pylist()]
    ['2020-01-02T01:04:05+00:00', '2015-01-01T00:00:00+00:00', None, None]
    >>> e.to_pylist()[3]
    "observed_at: unparseable date 'soon'"
    >>> parse_timestamps(["1183552203000L"])[0].to_pylist()[0].isoformat()
    '2007-07-04T12:30:03+00:00'
    """
    values = as_array(values)
    n = len(values)
    t = values.type
    if pa.types.is_null(t):
        return pa.nulls(n, TS), no_errors(n)
    if pa.types.is_timestamp(t):
        return values.cast(TS), no_errors(n)  # a naive timestamp is taken as UTC
    if pa.types.is_date(t):
        return values.cast(pa.timestamp("us")).cast(TS), no_errors(n)
    if pa.types.is_integer(t):
        return pc.multiply_checked(values.cast(pa.int64()), 1_000_000).cast(TS), no_errors(n)
    if pa.types.is_floating(t):
        ok = pc.and_(pc.is_finite(values), pc.less(pc.abs(values), 1e13))
        us = pc.round(pc.multiply(pc.if_else(ok, values, pa.scalar(None, t)), 1e6))
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False)))
        return us.cast(pa.int64()).cast(TS), error_messages(bad, field, "unparseable date",
                                                            values)
    if not pa.types.is_string(t):
        values = values.cast(pa.string())
    raw = pc.utf8_trim_whitespace(values)
    missing = pc.or_(pc.is_null(raw), pc.is_in(raw, value_set=pa.array(list(null_tokens),
                                                                         pa.string())))
    present = pc.invert(missing)
    out = pa.nulls(n, TS)
    # one pass per format, each over the values that look like that format
    for pattern, parse in ((_RE_ISO, _parse_iso), (_RE_TWITTER, _parse_twitter),
                           (_RE_EPOCH, _parse_epoch), (_RE_EPOCH_MS, _parse_epoch_ms)):
        mask = pc.and_(present, pc.fill_null(pc.match_substring_regex(raw, pattern), False))
        k = pc.sum(mask).as_py() or 0
        if not k:
            continue
        parsed = parse(raw.filter(mask))
        if k == n and parsed.null_count == 0:
            return parsed, no_errors(n)
        out = pc.replace_with_mask(out, mask, parsed)
    bad = pc.and_(present, pc.is_null(out))
    return out, error_messages(bad, field, "unparseable date", values)


def _parse_twitter(s: pa.Array) -> pa.Array:
    return pc.strptime(s, format=_TWITTER_FORMAT, unit="us", error_is_null=True).cast(TS)


def _parse_epoch_ms(s: pa.Array) -> pa.Array:
    digits = pc.utf8_rtrim(s, characters="L")
    return pc.multiply(digits.cast(pa.int64()), 1_000).cast(TS)


def _parse_epoch(s: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring(s, ".")).as_py():
        return pc.multiply(s.cast(pa.int64()), 1_000_000).cast(TS)
    us = pc.round(pc.multiply(s.cast(pa.float64()), 1e6))
    return us.cast(pa.int64()).cast(TS)


def canonical_labels(values) -> pa.Array:
    """Labels in the project's words: lower-cased, trimmed, synonyms of
    :data:`trueclout.model.LABEL_SYNONYMS` mapped (``genuine`` -> ``human``, ``polluter``
    -> ``bot``); unknown words are kept as they are, for validation to refuse.

    Examples
    --------
    >>> canonical_labels(["Bot", " genuine", "alien", None]).to_pylist()
    ['bot', 'human', 'alien', None]
    """
    text = pc.utf8_lower(pc.utf8_trim_whitespace(as_array(values).cast(pa.string())))
    keys = pa.array(list(LABEL_SYNONYMS))
    idx = pc.index_in(text, value_set=keys)
    mapped = pc.take(pa.array(list(LABEL_SYNONYMS.values())), idx)
    return pc.if_else(pc.is_valid(idx), mapped, text)


def is_label_word(word: str) -> bool:
    """Whether ``word`` names a label (:data:`~trueclout.model.LABELS` or a synonym).

    Examples
    --------
    >>> is_label_word("Human"), is_label_word("12345")
    (True, False)
    """
    w = word.strip().lower()
    return w in LABELS or w in LABEL_SYNONYMS


def parse_lists(values, field: str,
                null_tokens: Iterable[str] = NULL_TOKENS) -> tuple[pa.Array, pa.Array]:
    """Parse list columns (``hashtags``, ``mentions``) into ``list<string>``.

    A text value is either a JSON array (``'["a", "b"]'``) or items separated by commas,
    semicolons, ``|`` or white space (``"a b"``, ``"a;b"``). Lists pass through.

    Examples
    --------
    >>> parse_lists(['["a","b"]', "c;d", "", None], "hashtags")[0].to_pylist()
    [['a', 'b'], ['c', 'd'], None, None]
    """
    values = as_array(values)
    n = len(values)
    ltype = pa.list_(pa.string())
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        return values.cast(ltype), no_errors(n)
    if pa.types.is_null(values.type):
        return pa.nulls(n, ltype), no_errors(n)
    values = clean_strings(values.cast(pa.string()), null_tokens)
    is_json = pc.fill_null(pc.starts_with(values, "["), False)
    split = pc.split_pattern_regex(values, r"[,;|\s]+")
    # drop empty items that leading/trailing separators leave
    flat = pc.list_flatten(split)
    keep = pc.not_equal(flat, "")
    if not pc.all(keep).as_py():
        lengths = pc.list_value_length(split).to_numpy(zero_copy_only=False)
        lengths = np.nan_to_num(lengths.astype(float)).astype(np.int64)
        kept = np.asarray(keep.to_numpy(zero_copy_only=False), bool)
        row = np.repeat(np.arange(n), lengths)
        counts = np.bincount(row[kept], minlength=n)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        split = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(keep),
                                         mask=pc.is_null(values))
    errs = no_errors(n)
    if pc.any(is_json).as_py():
        idx = np.flatnonzero(is_json.to_numpy(zero_copy_only=False))
        py = split.to_pylist()
        emsg: list[str | None] = [None] * n
        texts = values.to_pylist()
        for i in idx:
            try:
                items = json.loads(texts[i])
                if not isinstance(items, list):
                    raise ValueError("not a list")
                py[i] = [None if x is None else str(x) for x in items]
            except ValueError:
                py[i] = None
                emsg[i] = f"{field}: not a list '{texts[i][:_SHOW]}'"
        split = pa.array(py, ltype)
        errs = pa.array(emsg, pa.string())
    return split.cast(ltype), errs


_JSON_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                 ("\b", "\\b"), ("\f", "\\f")]


def _json_string(values: pa.Array) -> pa.Array:
    """JSON string literals of text values (vectorised; rare control characters in Python)."""
    s = values
    for a, b in _JSON_ESCAPES:
        s = pc.replace_substring(s, a, b)
    ctrl = pc.fill_null(pc.match_substring_regex(s, r"[\x00-\x1f\x7f]"), False)
    if pc.any(ctrl).as_py():
        py = values.to_pylist()
        fixed = [json.dumps(py[i], ensure_ascii=False)[1:-1]
                 for i in np.flatnonzero(ctrl.to_numpy(zero_copy_only=False))]
        s = pc.replace_with_mask(s, ctrl, pa.array(fixed, pa.string()))
    return pc.binary_join_element_wise('"', s, '"', "")


def json_objects(columns: dict[str, pa.Array], num_rows: int) -> pa.Array:
    """One JSON object per row from named text columns; null values are left out.

    Rows where every value is null give null (not ``"{}"``). This builds the ``extra``
    column of accounts from columns trueclout does not model.

    Parameters
    ----------
    columns : dict of str to Array
        Column name to values (strings; other types are cast to strings).
    num_rows : int
        Number of rows.

    Examples
    --------
    >>> import pyarrow as pa
    >>> json_objects({"tz": pa.array(["Rome", None]), "q": pa.array(['say "hi"', None])}, 2
    ...              ).to_pylist()
    ['{"tz": "Rome", "q": "say \\\\"hi\\\\""}', None]
    """
    if not columns:
        return pa.nulls(num_rows, pa.string())
    pieces = []
    for name, col in columns.items():
        col = as_array(col)
        if not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        key = json.dumps(name, ensure_ascii=False) + ": "
        pieces.append(pc.fill_null(
            pc.binary_join_element_wise(key, _json_string(col), ", ", ""), ""))
    # (binary_join_element_wise with null_handling="skip" drops all-null rows in some
    # pyarrow versions, so every piece carries its own ", " and the last one is cut)
    body = pc.binary_join_element_wise(*pieces, "") if len(pieces) > 1 else pieces[0]
    empty = pc.equal(body, "")
    body = pc.utf8_slice_codeunits(body, 0, -2)
    obj = pc.binary_join_element_wise("{", body, "}", "")
    return pc.if_else(empty, pa.scalar(None, pa.string()), obj)
