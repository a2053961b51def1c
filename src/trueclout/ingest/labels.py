"""Label lists: one ``account_id<separator>label`` per line, no other columns.

Labelled data sets ship their ground truth this way: the Botometer bot repository's
``<name>.tsv`` (``1111770704<TAB>bot``), a vendor's list of sold accounts. Each line
gives one ``labels`` row; the label is read in the project's words
(:func:`~trueclout.ingest.normalize.canonical_labels`: ``genuine`` is ``human``,
``polluter`` is ``bot``), and its source is the data set's name
(:func:`~trueclout.ingest.base.set_name`).

The separator is a tab, a comma, a semicolon or white space; a first line whose second
field is not a label (``id<TAB>label``, ``user_id,class``) is a header and is skipped;
``#`` lines and blank lines are skipped. A line with another number of fields is kept
as an error row (``record: expected 2 fields (account_id label), got 3``); an unknown
label is refused by validation with its word.

A file whose second column holds label words is never read as an edge list (the edge
list reader refuses it, see :func:`label_column_share`): ``bot`` and ``human`` would
otherwise become two accounts followed by everyone.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import detect_format, iter_chunks
>>> d = Path(tempfile.mkdtemp()) / "botwiki-2019"; d.mkdir()
>>> p = d / "botwiki-2019.tsv"
>>> _ = p.write_text("12\\tbot\\n13\\thuman\\n14\\n")
>>> detect_format(p)
'label-list'
>>> b = next(iter(iter_chunks(p))).batch
>>> b.column("label").to_pylist(), b.column("source").to_pylist()[0]
(['bot', 'human', None], 'botwiki-2019')
>>> b.column("_error").to_pylist()[2]
'record: expected 2 fields (account_id label), got 1'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from ..model import conform
from ._io import HEAD_BYTES, Batcher, StreamBroken, error_row, iter_line_blocks
from .base import Chunk, ReadOptions, Reader, register, set_name
from .normalize import canonical_labels, is_label_word

#: Share of the sampled lines whose second field must be a label word for a file to be a
#: label list; below it (and above 0) the file is ambiguous.
LABEL_LIST_SHARE = 0.8

#: Separators of a label list, tried in this order on the first lines.
_SEPARATORS = ("\t", ",", ";")


def _split(line: str, sep: str | None) -> list[str]:
    parts = line.split(sep) if sep else line.split()
    return [p.strip().strip('"') for p in parts]


def _data_lines(head: bytes, limit: int = 50) -> list[str]:
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", head):
        return []
    text = head.decode("utf-8", "replace")
    lines = text.split("\n")
    if len(lines) > 1 and (not lines[-1] or len(head) >= HEAD_BYTES):
        lines = lines[:-1]  # empty, or cut where the head ends
    return [ln.rstrip("\r") for ln in lines
            if ln.strip() and not ln.lstrip().startswith("#")][:limit]


def _separator(lines: list[str]) -> str | None:
    """The separator most lines have (a damaged line may lack it); None: white space."""
    for sep in _SEPARATORS:
        if lines and sum(sep in ln for ln in lines) >= LABEL_LIST_SHARE * len(lines):
            return sep
    return None


def _is_header(parts: list[str]) -> bool:
    second = parts[1].replace("_", "") if len(parts) == 2 else ""
    return second.isalpha() and not is_label_word(parts[1])


def label_column_share(head: bytes) -> tuple[float, int]:
    """Among the first data lines of ``head`` with two fields: the share with a label
    word in the second field, and how many there were. A header line (first line only,
    second field a word that is not a label) is not counted; lines with another number
    of fields are left out (they will be error rows).

    Examples
    --------
    >>> label_column_share(b"id\\tlabel\\n1\\tbot\\n2\\thuman\\n")
    (1.0, 2)
    >>> label_column_share(b"1 2\\n2 bot\\n")
    (0.5, 2)
    """
    lines = _data_lines(head)
    sep = _separator(lines)
    rows = [_split(ln, sep) for ln in lines]
    if rows and _is_header(rows[0]):
        rows = rows[1:]
    rows = [r for r in rows if len(r) == 2]
    if not rows:
        return 0.0, 0
    hits = sum(1 for r in rows if is_label_word(r[1]))
    return hits / len(rows), len(rows)


def parse_lines(lines: list[str], first_line: int, sep: str | None, platform: str,
                source: str, skip_header: bool) -> pa.RecordBatch:
    """``labels`` rows of a block of label-list lines (comments and blank lines skipped).

    Examples
    --------
    >>> b = parse_lines(["id\\tlabel", "7\\tGenuine", "", "8\\tbot\\tx"], 1, "\\t", "t", "s",
    ...                 skip_header=True)
    >>> b.column("account_id").to_pylist(), b.column("label").to_pylist()
    (['7', '8'], ['human', None])
    >>> b.column("_line").to_pylist()
    [2, 4]
    """
    ids, labels, line_no, errors = [], [], [], []
    for i, raw in enumerate(lines):
        ln = raw.rstrip("\r")
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        parts = _split(ln, sep)
        if skip_header and i == 0 and first_line == 1 and _is_header(parts):
            continue
        line_no.append(first_line + i)
        if len(parts) != 2:
            ids.append(parts[0] if parts else None)
            labels.append(None)
            errors.append(f"record: expected 2 fields (account_id label), got {len(parts)}")
            continue
        ids.append(parts[0] or None)
        labels.append(parts[1] or None)
        errors.append(None)
    n = len(ids)
    return conform("labels", {
        "platform": [platform] * n, "account_id": ids,
        "label": canonical_labels(pa.array(labels, pa.string())),
        "source": [source] * n, "_line": line_no, "_error": errors}, n)


class LabelListReader(Reader):
    """``account_id<separator>label`` per line: the ground truth of a labelled data set.

    Examples
    --------
    >>> LabelListReader().sniff(Path("x.tsv"), b"1\\tbot\\n2\\thuman\\n")
    0.9
    >>> LabelListReader().sniff(Path("x.txt"), b"1 2\\n2 3\\n")
    0.0
    """

    name = "label-list"
    description = "label list: account_id and label (bot, human, fake, ...) per line"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        share, lines = label_column_share(head)
        # a few unknown words are bad labels of a label list (refused row by row)
        return 0.9 if lines and share >= LABEL_LIST_SHARE else 0.0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        platform = options.platform or self.default_platform
        source = set_name(path, options)
        out = Batcher("labels", str(path), options.batch_rows)
        sep = None
        try:
            for block, first in iter_line_blocks(path, 1 << 22):
                lines = block.decode("utf-8", "replace").split("\n")
                if lines and lines[-1] == "":
                    lines = lines[:-1]
                if sep is None:
                    sep = _separator(_data_lines(block)) or ""
                yield from out.add(parse_lines(lines, first, sep or None, platform, source,
                                               skip_header=True))
        except StreamBroken as exc:
            yield from out.add(error_row(
                "labels", exc.line, f"file: {exc.reason}; line {exc.line} and everything "
                                    "after it could not be read", platform=platform))
        yield from out.flush()


register(LabelListReader())
