"""Streaming CSV reading shared by the CSV readers (private).

Every column is read as raw bytes with :mod:`pyarrow.csv` (so one bad byte cannot fail a
whole block), rows with the wrong number of fields are caught by an invalid-row handler
and reported, and every row gets its ``_line``: the record number in the file, with the
header as record 1. The record number is the line number unless the file has blank lines
(skipped) or quoted values that span lines (one record).

Examples
--------
>>> import os, tempfile
>>> from pathlib import Path
>>> from trueclout.ingest._csv import iter_csv
>>> p = Path(tempfile.mkdtemp()) / "f.csv"
>>> _ = p.write_text("src,dst\\na,b\\nc\\nd,e\\n")
>>> for part in iter_csv(p, 100):
...     print(part.lines.tolist(), part.bad, part.columns["dst"].to_pylist())
[2, 4] [(3, 'record: expected 2 fields, got 1')] [b'b', b'e']
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from ..errors import InputError
from ._io import StreamBroken, StreamFile, read_head

#: Name given to an unnamed first column (the index pandas writes with ``to_csv``).
INDEX_COLUMN = "__index__"


@dataclass
class CsvPart:
    """One block of a CSV file: raw columns, line numbers of its rows, bad rows.

    ``bad`` lists ``(line, message)`` for records that could not be split into the
    header's columns, and for a broken end of file (truncated gzip, unclosed quote).

    Examples
    --------
    >>> import pyarrow as pa
    >>> CsvPart({"a": pa.array([b"1"])}, np.array([2])).num_rows
    1
    """

    columns: dict[str, pa.Array]
    lines: np.ndarray
    bad: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        """Number of good rows (bad ones are only in ``bad``)."""
        return len(self.lines)


def sniff_delimiter(path: Path, head: bytes) -> str:
    """``"\\t"`` for .tsv/.tab files or a first line with tabs and no commas, else ``","``.

    Examples
    --------
    >>> sniff_delimiter(Path("x.csv"), b"a\\tb\\n")
    '\\t'
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    first = head.split(b"\n", 1)[0]
    if b"\t" in first and b"," not in first:
        return "\t"
    return ","


def read_header(path: Path, head: bytes | None = None, delimiter: str = ",") -> list[str]:
    """Column names from the first record of a CSV file.

    Raises
    ------
    InputError
        Empty file, a header that is not UTF-8, empty or repeated column names.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "f.csv"; _ = p.write_text('"a", b\\n1,2\\n')
    >>> read_header(p)
    ['a', 'b']
    """
    if head is None:
        head = read_head(path)
    if not head.strip():
        raise InputError("empty file", path=str(path))
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    first_line = head.split(b"\n", 1)[0]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"header is not valid UTF-8 (byte 0x{first_line[exc.start]:02x})",
                         path=str(path), line=1) from None
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    names = [n.strip() for n in first]
    if not names or all(not n for n in names):
        raise InputError("no header row", path=str(path), line=1)
    if not names[0] and len(names) > 1:
        names[0] = INDEX_COLUMN  # the unnamed index column pandas writes
    if any(not n for n in names):
        raise InputError(f"empty column name in header (column {names.index('') + 1})",
                         path=str(path), line=1)
    seen: set[str] = set()
    dup = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if dup:
        raise InputError(f"repeated column name(s) in header: {', '.join(sorted(set(dup)))}",
                         path=str(path), line=1)
    return names


def iter_csv(path: Path, batch_rows: int, names: list[str] | None = None,
             delimiter: str | None = None) -> Iterator[CsvPart]:
    """Stream a CSV file (gzip detected by magic bytes) as :class:`CsvPart` blocks.

    Parameters
    ----------
    path : Path
        The file.
    batch_rows : int
        Rough number of rows per block.
    names : list of str, optional
        Header names, if already read with :func:`read_header`.
    delimiter : str, optional
        Field separator; sniffed if not given.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "f.csv"; _ = p.write_text("a\\n1\\n2\\n")
    >>> [part.lines.tolist() for part in iter_csv(p, 10)]
    [[2, 3]]
    """
    head = read_head(path)
    if delimiter is None:
        delimiter = sniff_delimiter(path, head)
    if names is None:
        names = read_header(path, head, delimiter)
    skipped: list[int] = []
    bad: list[tuple[int | None, str]] = []

    def on_invalid(row) -> str:
        if row.number is not None:
            skipped.append(row.number)
        bad.append((row.number, f"record: expected {row.expected_columns} fields, "
                                f"got {row.actual_columns}"))
        return "skip"

    # block size: rows are rarely over 2 KB; keep blocks between 1 and 64 MB
    block = int(min(max(batch_rows * 256, 1 << 20), 1 << 26))
    stream = StreamFile(path)
    reader = None
    done = 0  # accepted rows so far
    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=block,
                                          column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                            invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.binary() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            n = batch.num_rows
            base = np.arange(done + 2, done + 2 + n, dtype=np.int64)
            if skipped:
                s = np.asarray(skipped, dtype=np.int64)
                t = s - np.arange(len(s), dtype=np.int64)
                lines = base + np.searchsorted(t, base, side="right")
            else:
                lines = base
            done += n
            cols = {name: batch.column(i) for i, name in enumerate(names)}
            part = CsvPart(cols, lines, bad[:])
            bad.clear()
            if n or part.bad:
                yield part
    except (pa.ArrowInvalid, pa.ArrowException, OSError, StreamBroken) as exc:
        after = done + 2 + len(skipped)
        msg = str(exc).split("\n")[0]
        reason = (f"cannot parse the rest of the file ({msg}); records from about "
                  f"{after} on could not be read")
        if stream.broken is None:
            yield _error_part(names, bad + [(after, "file: " + reason)])
            return
    if stream.broken is not None:
        after = done + 2 + len(skipped)
        yield _error_part(names, bad + [(after, f"file: {stream.broken.reason}; record "
                                                f"{after} and everything after it could not "
                                                "be read")])


def _error_part(names: list[str], bad: list[tuple[int | None, str]]) -> CsvPart:
    cols = {name: pa.array([], pa.binary()) for name in names}
    return CsvPart(cols, np.array([], np.int64), bad)
