"""Low-level input helpers shared by the readers (private).

Opening files that may be gzipped (detected by magic bytes, not by name), streaming their
bytes in large blocks of whole lines with the line number of each block, reporting a
truncated or corrupt gzip stream *after* handing over every byte that could be read, and
cutting record batches to the size the options ask for.

Examples
--------
>>> import gzip, os, tempfile
>>> from trueclout.ingest._io import iter_line_blocks, read_head
>>> p = os.path.join(tempfile.mkdtemp(), "e.txt.gz")
>>> with gzip.open(p, "wb") as f:
...     _ = f.write(b"1 2\\n2 3\\n")
>>> read_head(p)
b'1 2\\n2 3\\n'
>>> [(b, line) for b, line in iter_line_blocks(p)]
[(b'1 2\\n2 3\\n', 1)]
"""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow as pa

from ..errors import InputError
from ..model import INGEST_SCHEMAS, conform
from .base import Chunk

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 65536
BLOCK_BYTES = 1 << 24


class StreamBroken(Exception):
    """The bytes of a source end badly (truncated or corrupt gzip).

    Raised after every byte that could be decoded was handed over. ``line`` is set by
    line-oriented helpers to the number of the line where the stream broke.

    Examples
    --------
    >>> str(StreamBroken("truncated gzip", line=4))
    'truncated gzip'
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def check_readable(path: Path) -> None:
    """Raise :class:`InputError` if ``path`` does not exist or cannot be read.

    Examples
    --------
    >>> check_readable(Path("/no/such/file"))
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: /no/such/file: no such file or folder
    """
    if not path.exists():
        raise InputError("no such file or folder", path=str(path))
    if path.is_dir():
        return
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=str(path)) from exc


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"ab")
    >>> is_gzip(Path(p))
    False
    """
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _gunzip(f, out_block: int) -> Iterator[bytes]:
    d = zlib.decompressobj(31)
    while True:
        comp = f.read(1 << 20)
        if not comp:
            break
        data = comp
        while data:
            if d.eof:
                if not data.strip(b"\0"):  # zero padding after the last member
                    data = b""
                    break
                d = zlib.decompressobj(31)  # a concatenated gzip member
            try:
                out = d.decompress(data, out_block)
            except zlib.error as exc:
                raise StreamBroken(f"corrupt gzip data ({exc})") from None
            if out:
                yield out
            data = d.unused_data if d.eof else d.unconsumed_tail
    if not d.eof:
        raise StreamBroken("truncated gzip (the compressed stream ends early)")


def iter_raw_blocks(path: Path, block_size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Yield the (decompressed) bytes of a file in blocks.

    A gzip stream is decoded with :mod:`zlib` so that a truncated or corrupt file yields
    all the bytes before the damage and then raises :class:`StreamBroken`.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"abc")
    >>> list(iter_raw_blocks(Path(p)))
    [b'abc']
    """
    with open(path, "rb") as f:
        if f.read(2) != GZIP_MAGIC:
            f.seek(0)
            while True:
                block = f.read(block_size)
                if not block:
                    return
                yield block
        f.seek(0)
        yield from _gunzip(f, block_size)


def iter_line_blocks(path: Path | str, block_size: int = BLOCK_BYTES,
                     raw: Iterable[bytes] | None = None) -> Iterator[tuple[bytes, int]]:
    """Yield ``(block, first_line)``: blocks of whole lines and the 1-based number of
    their first line. The last line of the file may lack its newline.

    If the stream breaks, :class:`StreamBroken` is raised after the whole lines before
    the damage were yielded, with ``line`` set to the number of the first line that is
    missing or incomplete.

    Parameters
    ----------
    path : Path
        The file (gzip detected by magic bytes).
    block_size : int
        Rough size of the blocks.
    raw : iterable of bytes, optional
        Bytes to split instead of reading ``path`` (e.g. a member of a tar archive).

    Examples
    --------
    >>> list(iter_line_blocks("-", raw=[b"a\\nb", b"c\\nd"]))
    [(b'a\\nbc\\nd', 1)]
    """
    blocks = raw if raw is not None else iter_raw_blocks(Path(path), block_size)
    line = 1
    parts: list[bytes] = []
    size = 0
    try:
        for b in blocks:
            parts.append(b)
            size += len(b)
            if size < block_size:
                continue
            buf = b"".join(parts)
            cut = buf.rfind(b"\n")
            if cut < 0:
                parts, size = [buf], len(buf)
                continue
            block = buf[:cut + 1]
            rest = buf[cut + 1:]
            parts, size = ([rest], len(rest)) if rest else ([], 0)
            yield block, line
            line += block.count(b"\n")
    except StreamBroken as exc:
        buf = b"".join(parts)
        cut = buf.rfind(b"\n")
        if cut >= 0:
            block = buf[:cut + 1]
            yield block, line
            line += block.count(b"\n")
        exc.line = line
        raise
    if parts:
        buf = b"".join(parts)
        if buf:
            yield buf, line


class StreamFile(io.RawIOBase):
    """A read-only file object over :func:`iter_raw_blocks` (for pyarrow's readers).

    It hands over whole lines only. If the stream breaks (truncated or corrupt gzip), the
    incomplete last line is dropped, reading ends as if at the end of the file, and the
    :class:`StreamBroken` error is kept in ``broken`` for the caller to report.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"a\\nbc")
    >>> f = StreamFile(Path(p)); f.read(), f.broken
    (b'a\\nbc', None)
    """

    def __init__(self, path: Path, block_size: int = 1 << 22) -> None:
        super().__init__()
        self._it = iter_raw_blocks(path, block_size)
        self._buf = memoryview(b"")
        self._hold = b""
        self._done = False
        self.broken: StreamBroken | None = None

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        while not self._done:
            try:
                block = next(self._it)
            except StopIteration:
                self._done = True
                self._buf, self._hold = memoryview(self._hold), b""
                return len(self._buf) > 0
            except StreamBroken as exc:
                self._done = True
                self.broken = exc
                self._hold = b""  # an incomplete line is not data
                return False
            data = self._hold + block
            cut = data.rfind(b"\n")
            if cut < 0:
                self._hold = data
                continue
            self._buf, self._hold = memoryview(data)[:cut + 1], data[cut + 1:]
            return True
        return False

    def readinto(self, b) -> int:  # type: ignore[override]
        if not len(self._buf) and not self._fill():
            return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def read_head(path: Path | str, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file, decompressed if it is gzipped.

    A damaged gzip stream gives the bytes that could be decoded.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"abc")
    >>> read_head(p, 2)
    b'ab'
    """
    out = bytearray()
    try:
        for block in iter_raw_blocks(Path(path), size):
            out += block
            if len(out) >= size:
                break
    except StreamBroken:
        pass
    return bytes(out[:size])


def is_empty(path: Path | str) -> bool:
    """Whether a file holds nothing but white space (after gzip decompression).

    A damaged gzip stream is not "empty": its reader reports the damage.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.gz"); _ = open(p, "wb").write(gzip.compress(b" \\n"))
    >>> is_empty(p)
    True
    """
    out = bytearray()
    try:
        for block in iter_raw_blocks(Path(path), 4096):
            out += block
            if out.strip():
                return False
    except StreamBroken:
        return False
    return True


def line_numbers(start: int, n: int) -> pa.Array:
    """``_line`` values ``start, start + 1, ...`` (n of them).

    Examples
    --------
    >>> line_numbers(2, 3).to_pylist()
    [2, 3, 4]
    """
    return pa.array(np.arange(start, start + n, dtype=np.int64))


def error_row(table: str, line: int | None, message: str, **values) -> pa.RecordBatch:
    """A one-row batch of ``table`` that only carries an error (and optional values).

    Examples
    --------
    >>> error_row("follows", 7, "file: truncated gzip").column("_error").to_pylist()
    ['file: truncated gzip']
    """
    cols = {k: [v] for k, v in values.items()}
    cols["_line"] = [line]
    cols["_error"] = [message]
    return conform(table, cols, 1)


class Batcher:
    """Collects record batches of one table and one source and yields :class:`Chunk`
    objects of about ``rows`` rows.

    Examples
    --------
    >>> from trueclout.model import conform
    >>> b = Batcher("labels", "l.csv", 3)
    >>> one = conform("labels", {"account_id": ["1", "2"]}, 2)
    >>> [c.batch.num_rows for c in b.add(one)] + [c.batch.num_rows for c in b.add(one)]
    [3]
    >>> [c.batch.num_rows for c in b.flush()]
    [1]
    """

    def __init__(self, table: str, source: str, rows: int) -> None:
        self.table = table
        self.source = source
        self.rows = max(1, int(rows))
        self._pending: list[pa.RecordBatch] = []
        self._n = 0

    def add(self, batch: pa.RecordBatch) -> Iterator[Chunk]:
        """Add a batch; yield the chunks that are full."""
        if batch.num_rows == 0:
            return
        if batch.schema != INGEST_SCHEMAS[self.table]:
            batch = batch.cast(INGEST_SCHEMAS[self.table])
        if not self._pending and batch.num_rows == self.rows:
            yield Chunk(self.table, batch, self.source)
            return
        self._pending.append(batch)
        self._n += batch.num_rows
        if self._n >= self.rows:
            whole = pa.concat_batches(self._pending) if len(self._pending) > 1 \
                else self._pending[0]
            start = 0
            while whole.num_rows - start >= self.rows:
                yield Chunk(self.table, whole.slice(start, self.rows), self.source)
                start += self.rows
            rest = whole.slice(start)
            self._pending = [rest] if rest.num_rows else []
            self._n = rest.num_rows

    def flush(self) -> Iterator[Chunk]:
        """Yield what is left."""
        if self._pending:
            whole = pa.concat_batches(self._pending) if len(self._pending) > 1 \
                else self._pending[0]
            self._pending, self._n = [], 0
            yield Chunk(self.table, whole, self.source)


def _json_error(exc: json.JSONDecodeError, column_only: bool = False) -> str:
    where = f"column {exc.colno}" if column_only else f"line {exc.lineno} column {exc.colno}"
    return f"record: invalid JSON ({exc.msg} at {where})"


def _utf8_error(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"record: invalid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"


def _has_bad_text(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _document_values(path: Path) -> Iterator[tuple[int | None, Any, str | None]]:
    """Values of a JSON document: the items of a top-level array, or a sequence of
    top-level values (pretty-printed objects one after another)."""
    parts: list[bytes] = []
    broken: StreamBroken | None = None
    try:
        for block in iter_raw_blocks(path):
            parts.append(block)
    except StreamBroken as exc:
        broken = exc
    raw = b"".join(parts)
    parts.clear()
    try:
        text = raw.decode("utf-8")
        dirty = False
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
        dirty = True
    del raw
    dec = json.JSONDecoder()
    n = len(text)
    pos = 0
    line = 1
    counted = 0

    def line_at(p: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, p)
        counted = p
        return line

    def skip(p: int) -> int:
        while p < n and text[p] in " \t\r\n\ufeff":
            p += 1
        return p

    pos = skip(pos)
    array = pos < n and text[pos] == "["
    if array:
        pos = skip(pos + 1)
        if pos < n and text[pos] == "]":
            return
    while pos < n:
        start = line_at(pos)
        try:
            value, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield start, None, (_json_error(exc) + "; the rest of the file could not be read")
            return
        if dirty and _has_bad_text(value):
            yield start, None, "record: invalid UTF-8 in this record"
        else:
            yield start, value, None
        pos = skip(end)
        if array:
            if pos < n and text[pos] == ",":
                pos = skip(pos + 1)
                continue
            if pos < n and text[pos] == "]":
                pos = skip(pos + 1)
                if pos < n:
                    yield line_at(pos), None, "record: unexpected text after the JSON array"
                return
            yield line_at(pos), None, ("record: invalid JSON (expected ',' or ']' in the "
                                       "array); the rest of the file could not be read")
            return
    if broken is not None:
        yield line_at(n), None, f"file: {broken.reason}; the end of the file is missing"
    elif array:
        yield line_at(n), None, "record: invalid JSON (the array is not closed)"


def _first_value_spans_lines(path: Path) -> bool:
    head = read_head(path, 1 << 20).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return True
    if not head.startswith("{"):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(head)
    except json.JSONDecodeError:
        first = head.split("\n", 1)[0]
        try:
            json.loads(first)
            return False
        except json.JSONDecodeError:
            return "\n" in head  # an object that goes on past its first line
    return "\n" in head[:end].rstrip()


def iter_json_values(path: Path | str) -> Iterator[tuple[int | None, Any, str | None]]:
    """Yield ``(line, value, error)`` for each JSON value of a file.

    JSON Lines files are read line by line, so a bad line costs only that line. A file
    that starts with ``[`` (a JSON array) or holds pretty-printed objects is parsed as a
    document; ``line`` is then the line where each item starts. Exactly one of ``value``
    and ``error`` is set; errors read ``"record: invalid JSON (...)"``,
    ``"record: invalid UTF-8 (...)"`` or ``"file: truncated gzip ..."``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.jsonl")
    >>> _ = open(p, "wb").write(b'{"a": 1}\\n\\n{"a": \\n{"a": "\\xff"}\\n')
    >>> for line, value, error in iter_json_values(p):
    ...     print(line, value, error)
    1 {'a': 1} None
    3 None record: invalid JSON (Expecting value at column 7)
    4 None record: invalid UTF-8 (byte 0xff at column 8)
    """
    path = Path(path)
    if _first_value_spans_lines(path):
        yield from _document_values(path)
        return
    loads = json.loads
    try:
        for block, first in iter_line_blocks(path):
            try:
                rows: list = block.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                rows = block.split(b"\n")
            if first == 1 and rows:  # a byte order mark is not data
                r0 = rows[0]
                rows[0] = r0[3:] if isinstance(r0, bytes) and r0.startswith(
                    b"\xef\xbb\xbf") else r0.lstrip("\ufeff") if isinstance(r0, str) else r0
            for i, row in enumerate(rows):
                if isinstance(row, bytes):
                    try:
                        row = row.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        yield first + i, None, _utf8_error(row, exc)
                        continue
                if not row or row.isspace():
                    continue
                try:
                    yield first + i, loads(row), None
                except json.JSONDecodeError as exc:
                    yield first + i, None, _json_error(exc, column_only=True)
    except StreamBroken as exc:
        yield exc.line, None, (f"file: {exc.reason}; line {exc.line} and everything after "
                               "it could not be read")
