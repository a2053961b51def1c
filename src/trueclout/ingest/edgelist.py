"""SNAP-style edge lists: ``src dst [created_at]`` per line.

Fields are separated by white space (spaces or tabs, any number); lines starting with
``#`` and blank lines are skipped; the file may be gzipped (found by its magic bytes, not
its name). A third field is the follow's ``created_at``: epoch seconds or ISO 8601 (a
date and a time separated by a space count as one field). ``src`` follows ``dst``.

The parser works on blocks of about 16 MB: the block becomes one Arrow string array of
lines (no copy), :func:`pyarrow.compute.ascii_split_whitespace` splits it, and the fields
are taken with numpy indexes, so a file of millions of lines is read at several million
lines per second.

Bad input is kept as rows with ``_error`` set: a line with the wrong number of fields
(``"record: expected 2 or 3 fields (src dst [created_at]), got 1"``), a field that is not
UTF-8, an unparseable date, and a truncated or corrupt gzip stream (one extra row at the
line where it broke, after every line read before it).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import REGISTRY, ReadOptions
>>> p = Path(tempfile.mkdtemp()) / "g.txt"
>>> _ = p.write_text("# comment\\n1 2\\n2\\t3 1420070400\\n4\\n")
>>> b = next(iter(REGISTRY["edgelist"].read(p, ReadOptions()))).batch
>>> b.column("src").to_pylist(), b.column("_line").to_pylist()
(['1', '2', '4'], [2, 3, 4])
>>> b.column("_error").to_pylist()[2]
'record: expected 2 or 3 fields (src dst [created_at]), got 1'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import conform
from ._io import Batcher, StreamBroken, error_row, iter_line_blocks
from .base import Chunk, ReadOptions, Reader, register
from .labels import LABEL_LIST_SHARE, label_column_share
from .normalize import constant, decode_utf8, first_error, parse_timestamps


class Fields:
    """The white-space separated fields of a block of lines.

    ``tokens`` is a flat string array of all fields; line ``i`` has ``counts[i]`` fields
    starting at ``tokens[starts[i]]``. Comment lines (first field starts with ``#``) have
    ``comment[i]`` set. ``ascii`` tells whether the block had only ASCII bytes (no need
    to check UTF-8).

    Examples
    --------
    >>> f = Fields.split(b"a b\\n# x\\n\\nc  d  e\\n")
    >>> f.counts.tolist(), f.comment.tolist()
    ([2, 2, 0, 3], [False, True, False, False])
    >>> f.field(np.array([0, 3]), 1).to_pylist()
    ['b', 'd']
    """

    def __init__(self, tokens: pa.Array, starts: np.ndarray, counts: np.ndarray,
                 comment: np.ndarray, ascii: bool) -> None:
        self.tokens = tokens
        self.starts = starts
        self.counts = counts
        self.comment = comment
        self.ascii = ascii

    @classmethod
    def split(cls, block: bytes) -> "Fields":
        """Split a block of whole lines."""
        buf = np.frombuffer(block, dtype=np.uint8)
        nl = np.flatnonzero(buf == 10)
        ends = nl + 1
        if len(block) and block[-1:] != b"\n":
            ends = np.append(ends, len(block))
        offsets = np.concatenate([[0], ends]).astype(np.int64)
        n = len(offsets) - 1
        if offsets[-1] < 2**31:
            lines = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)),
                                                pa.py_buffer(block))
        else:  # pragma: no cover - blocks are far smaller
            lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                                     pa.py_buffer(block))
        ascii = not bool((buf >= 128).any())
        parts = pc.ascii_split_whitespace(lines)
        loff = parts.offsets.to_numpy()
        counts = np.diff(loff).astype(np.int64)
        starts = loff[:-1].astype(np.int64)
        tokens = parts.values
        # leading or trailing white space (the newline included) gives an empty first or
        # last field: step over it
        tl = pc.binary_length(tokens).to_numpy()
        if len(tl):
            has = counts > 0
            fe = has & (tl[np.where(has, starts, 0)] == 0)
            starts = starts + fe
            counts = counts - fe
            has = counts > 0
            le = has & (tl[np.where(has, starts + counts - 1, 0)] == 0)
            counts = counts - le
        first = buf[offsets[:-1][counts > 0]] if n else np.array([], np.uint8)
        comment = np.zeros(n, dtype=bool)
        # fast: the line starts with '#'; slow (rare): white space before the '#'
        has = counts > 0
        comment[has] = first == ord("#")
        lead_ws = has & ~comment
        lead_ws[has] &= np.isin(first, (32, 9))
        if lead_ws.any():
            idx = np.flatnonzero(lead_ws)
            firsts = pc.take(tokens, pa.array(starts[idx]))
            comment[idx] = np.asarray(pc.starts_with(firsts, "#").to_numpy(
                zero_copy_only=False), dtype=bool)
        return cls(tokens, starts, counts, comment, ascii)

    def field(self, rows: np.ndarray, k: int) -> pa.Array:
        """Field ``k`` of lines ``rows`` (null where a line has fewer fields)."""
        idx = self.starts[rows] + k
        missing = self.counts[rows] <= k
        if missing.any():
            return pc.take(self.tokens, pa.array(np.where(missing, 0, idx), mask=missing))
        return pc.take(self.tokens, pa.array(idx))


def parse_block(block: bytes, first_line: int, platform: str,
                ) -> pa.RecordBatch:
    """Parse a block of whole lines of an edge list into a ``follows`` batch.

    Parameters
    ----------
    block : bytes
        Whole lines.
    first_line : int
        Line number of the block's first line.
    platform : str
        Platform of the accounts.

    Examples
    --------
    >>> b = parse_block(b"1 2 2020-01-02 03:04:05\\n3 4 x\\n", 10, "x")
    >>> b.column("created_at").to_pylist()[0].isoformat(), b.column("_line").to_pylist()
    ('2020-01-02T03:04:05+00:00', [10, 11])
    >>> b.column("_error").to_pylist()[1]
    "created_at: unparseable date 'x'"
    """
    f = Fields.split(block)
    rows = np.flatnonzero((f.counts > 0) & ~f.comment)
    n = len(rows)
    if n == 0:
        return conform("follows", {}, 0)
    cnt = f.counts[rows]
    src = f.field(rows, 0)
    dst = f.field(rows, 1)
    errors: list[pa.Array | None] = [None]
    if not f.ascii:
        src, e1 = decode_utf8(src.cast(pa.binary()), "src")
        dst, e2 = decode_utf8(dst.cast(pa.binary()), "dst")
        errors += [e1, e2]
    created = None
    wrong = (cnt < 2) | (cnt > 4)
    if (cnt >= 3).any():
        raw = f.field(rows, 2)
        four = cnt == 4
        if four.any():
            fourth = f.field(rows, 3)
            raw = pc.if_else(pa.array(four), pc.binary_join_element_wise(raw, fourth, " "),
                             raw)
        created, terr = parse_timestamps(raw, "created_at")
        if four.any():
            # four fields are fine only if the last two are a date and a time
            bad4 = four & np.asarray(pc.is_valid(terr).to_numpy(zero_copy_only=False), bool)
            if bad4.any():
                wrong |= bad4
                terr = pc.if_else(pa.array(bad4), pa.scalar(None, pa.string()), terr)
        errors.append(terr)
    if wrong.any():
        msg = np.where(wrong, np.char.add(
            "record: expected 2 or 3 fields (src dst [created_at]), got ",
            cnt.astype(str)), None)
        errors[0] = pa.array(msg.tolist(), pa.string())
    err = first_error(*[e for e in errors if e is not None]) if any(
        e is not None for e in errors) else None
    cols = {"platform": constant(platform, n), "src": src, "dst": dst,
            "created_at": created,
            "_line": pa.array(rows.astype(np.int64) + first_line), "_error": err}
    return conform("follows", {k: v for k, v in cols.items() if v is not None}, n)


def sniff_edges(head: bytes) -> float:
    """How much ``head`` looks like an edge list (0 to 1).

    Examples
    --------
    >>> sniff_edges(b"# x\\n1 2\\n3 4\\n"), sniff_edges(b"a,b\\n1,2\\n")
    (0.7, 0.0)
    """
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", head):
        return 0.0  # binary data
    text = head.decode("utf-8", "replace")
    lines = [ln for ln in text.split("\n")[:-1] if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines and "\n" not in text and text.strip() and not text.lstrip().startswith("#"):
        lines = [text]
    lines = lines[:50]
    if not lines:
        return 0.0
    if label_column_share(head)[0] > 0:
        return 0.0  # a label list, or a file that mixes ids and labels: never an edge list
    numeric = True
    for ln in lines:
        parts = ln.split()
        if not 2 <= len(parts) <= 4 or any(c in ln for c in ',{}[]"'):
            return 0.0
        if not (parts[0].isdigit() and parts[1].isdigit()):
            numeric = False
    return 0.7 if numeric else 0.4


class EdgelistReader(Reader):
    """SNAP-style edge list ``src dst [created_at]``, optionally gzipped.

    Examples
    --------
    >>> import gzip, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "g.txt.gz"
    >>> data = gzip.compress(b"1 2\\n2 3\\n3 4\\n" * 1000)
    >>> _ = p.write_bytes(data[: len(data) // 2])  # cut the file in half
    >>> rows = [c.batch for c in EdgelistReader().read(p, ReadOptions())]
    >>> errs = [e for b in rows for e in b.column("_error").to_pylist() if e]
    >>> errs[0].startswith("file: truncated gzip")
    True
    """

    name = "edgelist"
    description = "SNAP-style edge list: 'src dst [created_at]' per line, '#' comments, gzip"
    default_platform = "default"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        score = sniff_edges(head)
        name = path.name.lower().removesuffix(".gz")
        if score and name.endswith((".edges", ".edgelist", ".el", ".txt", ".tsv")):
            score += 0.15
        return score

    def refusal(self, path: Path, head: bytes) -> str | None:
        share, lines = label_column_share(head)
        if 0 < share < LABEL_LIST_SHARE:
            return (f"{round(100 * share)}% of the first {lines} lines have a label word "
                    "(bot, human, fake, ...) in the second column and the others do not: "
                    "neither an edge list nor a label list; give --format")
        return None

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        platform = options.platform or self.default_platform
        out = Batcher("follows", str(path), options.batch_rows)
        block_bytes = int(min(max(options.batch_rows * 24, 1 << 16), 1 << 24))
        try:
            for block, first in iter_line_blocks(path, block_bytes):
                yield from out.add(parse_block(block, first, platform))
        except StreamBroken as exc:
            yield from out.add(error_row(
                "follows", exc.line, f"file: {exc.reason}; line {exc.line} and everything "
                                     "after it could not be read", platform=platform))
        yield from out.flush()


register(EdgelistReader())
