"""The social honeypot data set's profile counts (Lee, Eoff and Caverlee, ICWSM 2011).

``content_polluters.txt`` and ``legitimate_users.txt`` hold one Twitter account per line,
eight tab-separated fields and no header:

=====  ==================================  =========================================
field  meaning                             becomes
=====  ==================================  =========================================
1      UserID                              account_id
2      CreatedAt                           created_at
3      CollectedAt                         observed_at (age and rates at collection)
4      NumberOfFollowings                  following_count
5      NumberOfFollowers                   followers_count
6      NumberOfTweets                      posts_count
7      LengthOfScreenName                  ``extra.handle_length``
8      LengthOfDescriptionInUserProfile    ``extra.description_length``
=====  ==================================  =========================================

The data set has no handle or description text, only their lengths, which the account
features read from ``extra`` (:mod:`trueclout.detect.features`). The file name gives
every row its label (``content_polluters`` -> ``bot``, ``legitimate_users`` -> ``human``),
with the data set's name as source (:func:`~trueclout.ingest.base.set_name`). A folder
holding the files is one source, so that an id listed in both files (44 in the
published set) is refused as a conflicting label rather than kept twice.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import detect_format, iter_chunks
>>> d = Path(tempfile.mkdtemp()) / "caverlee-2011"; d.mkdir()
>>> _ = (d / "legitimate_users.txt").write_text(
...     "6301\\t2006-09-18 01:07:50\\t2010-01-17 20:38:25\\t3269\\t3071\\t861\\t8\\t132\\n")
>>> detect_format(d)
'honeypot'
>>> a, l = [c.batch for c in iter_chunks(d)]
>>> a.column("followers_count").to_pylist(), a.column("extra").to_pylist()
([3071], ['{"handle_length": 8, "description_length": 132}'])
>>> l.column("label").to_pylist(), l.column("source").to_pylist()
(['human'], ['caverlee-2011'])
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from ._columns import to_batch
from ._io import Batcher, StreamBroken, error_row, iter_line_blocks, read_head
from .base import Chunk, ReadOptions, Reader, register, set_name
from .generic import label_rows
from .normalize import constant

#: File stem -> label of every row.
HONEYPOT_FILES = {"content_polluters": "bot", "legitimate_users": "human"}
#: The eight fields of a line.
FIELDS = ("account_id", "created_at", "observed_at", "following_count", "followers_count",
          "posts_count", "handle_length", "description_length")
_LINE = re.compile(rb"^\d+\t\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\t"
                   rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\t-?\d+){5}\r?$")


def sniff_honeypot(head: bytes) -> float:
    """How much ``head`` looks like a honeypot profile file.

    Examples
    --------
    >>> sniff_honeypot(b"1\\t2006-09-18 01:07:50\\t2010-01-17 20:38:25\\t1\\t2\\t3\\t4\\t5\\n")
    0.9
    >>> sniff_honeypot(b"1 2\\n")
    0.0
    """
    lines = [ln for ln in head.split(b"\n")[:50] if ln.strip()]
    if len(head.split(b"\n")) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]
    if not lines:
        return 0.0
    # a damaged line or two still make the file one of these (they become error rows)
    hits = sum(1 for ln in lines if _LINE.match(ln))
    return 0.9 if hits >= max(1, 0.6 * len(lines)) else 0.0


def _label_of(path: Path) -> str | None:
    stem = path.name.lower().removesuffix(".gz").removesuffix(".txt")
    return HONEYPOT_FILES.get(stem)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and _label_of(p) is not None
                  and sniff_honeypot(read_head(p)) > 0)


def _parse(lines: list[str], first: int, platform: str) -> pa.RecordBatch:
    raw: dict[str, list] = {f: [] for f in FIELDS[:6]}
    extra, line_no, errors = [], [], []
    for i, text in enumerate(lines):
        if not text.strip():
            continue
        parts = text.rstrip("\r").split("\t")
        line_no.append(first + i)
        err = None
        if len(parts) != len(FIELDS):
            err = f"record: expected {len(FIELDS)} tab-separated fields, got {len(parts)}"
            parts = (parts + [""] * len(FIELDS))[:len(FIELDS)]
        for f, v in zip(FIELDS[:6], parts[:6]):
            raw[f].append(v)
        lengths = {}
        for f, v in zip(FIELDS[6:], parts[6:]):
            if v.strip().isdigit():
                lengths[f] = int(v)
            elif err is None and v.strip():
                err = f"{f}: not a length {v.strip()[:40]!r}"
        extra.append(json.dumps(lengths) if lengths else None)
        errors.append(err)
    n = len(line_no)
    cols = {f: pa.array(v, pa.string()) for f, v in raw.items()}
    cols["extra"] = pa.array(extra, pa.string())
    return to_batch("accounts", cols, n, lines=line_no, platform=platform,
                    errors=[pa.array(errors, pa.string())])


class HoneypotReader(Reader):
    """Social honeypot profile counts (``content_polluters.txt``,
    ``legitimate_users.txt``), a file or the folder that holds them.

    Examples
    --------
    >>> HoneypotReader().sniff(Path("legitimate_users.txt"),
    ...     b"1\\t2006-09-18 01:07:50\\t2010-01-17 20:38:25\\t1\\t2\\t3\\t4\\t5\\n")
    0.9
    """

    name = "honeypot"
    description = ("social honeypot (Lee et al. 2011): content_polluters.txt / "
                   "legitimate_users.txt profile counts")
    default_platform = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.9 if _files(path) else 0.0
        return sniff_honeypot(head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        platform = options.platform or self.default_platform
        source = set_name(path, options)
        for f in (_files(path) if path.is_dir() else [path]):
            out = Batcher("accounts", str(f), options.batch_rows)
            labels = Batcher("labels", str(f), options.batch_rows)
            label = _label_of(f)
            try:
                for block, first in iter_line_blocks(f, 1 << 22):
                    lines = block.decode("utf-8", "replace").split("\n")
                    batch = _parse(lines, first, platform)
                    yield from out.add(batch)
                    if label is not None and batch.num_rows:
                        n = batch.num_rows
                        yield from labels.add(label_rows(
                            batch.column("account_id"), constant(label, n),
                            batch.column("_line"), batch.column("platform"), source))
            except StreamBroken as exc:
                yield from out.add(error_row(
                    "accounts", exc.line, f"file: {exc.reason}; line {exc.line} and "
                                          "everything after it could not be read",
                    platform=platform))
            yield from out.flush()
            yield from labels.flush()


register(HoneypotReader())
