"""Finding the format of a source, expanding folders into sources, hashing content.

:func:`detect_format` asks every registered reader how sure it is that a path is in its
format (:meth:`~trueclout.ingest.base.Reader.sniff`, given the first 64 KB of the file,
decompressed if gzipped) and takes the surest. :func:`expand_sources` turns the paths a
user gives into sources: a folder that a reader claims as a whole (``snap-ego``,
``trueclout-dir``) is one source; any other folder stands for its files.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import detect_format, expand_sources
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "edges.txt").write_text("# a graph\\n1 2\\n2 3\\n")
>>> _ = (d / "README.md").write_text("about")
>>> detect_format(d / "edges.txt")
'edgelist'
>>> [(p.name, f) for p, f in expand_sources([d])]
[('edges.txt', 'edgelist')]
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, NamedTuple

from ..errors import InputError
from ._io import (StreamBroken, check_readable, is_empty, is_gzip, iter_raw_blocks,
                  read_head)
from .base import REGISTRY

#: Confidence below which a format counts as unknown.
MIN_CONFIDENCE = 0.3


class Source(NamedTuple):
    """One source to load: a path and the name of its reader.

    ``format`` is None when no reader recognises the source; :func:`detect_format` on
    its path then raises the :class:`InputError` that says why. A source is path-like,
    so ``Path(source)`` and ``open(source)`` work.

    Examples
    --------
    >>> s = Source(Path("e.txt"), "edgelist")
    >>> s.format, Path(s).name
    ('edgelist', 'e.txt')
    """

    path: Path
    format: str | None

    def __fspath__(self) -> str:
        return str(self.path)


def _known() -> str:
    return ", ".join(sorted(REGISTRY))


def sniff_all(path: Path | str) -> dict[str, float]:
    """Every registered reader's confidence that ``path`` is in its format.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_text("1 2\\n")
    >>> sniff_all(p)["edgelist"] > 0.5
    True
    """
    path = Path(path)
    head = b"" if path.is_dir() else read_head(path)
    scores = {}
    for name, reader in REGISTRY.items():
        try:
            scores[name] = float(reader.sniff(path, head))
        except Exception:  # a reader that cannot tell is simply not sure
            scores[name] = 0.0
    return scores


def detect_format(path: Path | str) -> str:
    """The name of the registered reader for ``path``.

    Parameters
    ----------
    path : str or Path
        A file (gzip allowed) or a folder that one reader reads as a whole.

    Raises
    ------
    InputError
        The path does not exist or cannot be read, the file is empty, or no reader
        recognises it (the message lists the known formats).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "follows.csv").write_text("src,dst\\na,b\\n")
    >>> detect_format(d / "follows.csv")
    'generic'
    >>> _ = (d / "empty.csv").write_text("")
    >>> detect_format(d / "empty.csv")
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: ...empty.csv: empty file
    """
    path = Path(path)
    check_readable(path)
    if path.is_file() and is_empty(path):
        raise InputError("empty file", path=str(path))
    if path.is_file() and is_gzip(path):
        try:
            next(iter_raw_blocks(path, 1024), None)
        except StreamBroken as exc:
            raise InputError(f"cannot decompress: {exc.reason}", path=str(path)) from None
    scores = sniff_all(path)
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0.0))
    if best[0] is None or best[1] < MIN_CONFIDENCE:
        what = "folder layout" if path.is_dir() else "file format"
        head = b"" if path.is_dir() else read_head(path)
        why = [f"{name}: {r}" for name, reader in REGISTRY.items()
               if (r := _refusal(reader, path, head))]
        if why:
            raise InputError(f"ambiguous {what}: {'; '.join(why)}", path=str(path))
        raise InputError(f"unknown {what}; known formats: {_known()}", path=str(path))
    return best[0]


def _refusal(reader, path: Path, head: bytes) -> str | None:
    try:
        return reader.refusal(path, head)
    except Exception:  # a reader that cannot tell has no reason to give
        return None


def _is_doc(p: Path) -> bool:
    name = p.name.lower()
    return (name.endswith(".md") and name.startswith(("readme", "provenance"))) \
        or name.startswith(".")


def claims_folder(path: Path, fmt: str | None = None) -> str | None:
    """The reader that reads folder ``path`` as one source, or None.

    Examples
    --------
    >>> import tempfile
    >>> claims_folder(Path(tempfile.mkdtemp())) is None
    True
    """
    if fmt is not None:
        return fmt if REGISTRY[fmt].sniff(path, b"") >= MIN_CONFIDENCE else None
    scores = sniff_all(path)
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0.0))
    return best[0] if best[1] >= MIN_CONFIDENCE else None


def _detect_or_none(path: Path) -> str | None:
    try:
        return detect_format(path)
    except InputError:
        return None


def expand_sources(paths: Iterable[Path | str], fmt: str | None = None) -> list[Source]:
    """Turn paths into sources, each with the reader that will read it.

    A folder that a reader claims as a whole is one source. Any other folder stands for
    its files and subfolders (sorted; hidden files and README/PROVENANCE ``.md`` files
    skipped), expanded in the same way. A file that no reader recognises, or an empty
    folder, is still returned, with format None, so that the caller can report it (its
    :func:`detect_format` raises the reason) and go on with the other sources.

    Parameters
    ----------
    paths : iterable of str or Path
        Files and folders.
    fmt : str, optional
        Reader name to use for every source instead of detecting it.

    Returns
    -------
    list of Source
        ``(path, format)`` pairs; a Source is path-like.

    Raises
    ------
    InputError
        A path that does not exist or cannot be read, or an unknown ``fmt``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("1 2\\n")
    >>> _ = (d / "b.bin").write_bytes(b"\\x00\\x01")
    >>> [(s.path.name, s.format) for s in expand_sources([d])]
    [('a.txt', 'edgelist'), ('b.bin', None)]
    >>> [s.format for s in expand_sources([d / "a.txt"], fmt="generic")]
    ['generic']
    """
    if fmt is not None and fmt not in REGISTRY:
        raise InputError(f"unknown format {fmt!r}; known formats: {_known()}")
    out: list[Source] = []
    for p in paths:
        p = Path(p)
        check_readable(p)
        if p.is_dir():
            found = _expand_dir(p, fmt)
            out.extend(found or [Source(p, None)])
        else:
            out.append(Source(p, fmt or _detect_or_none(p)))
    return out


def _expand_dir(folder: Path, fmt: str | None) -> list[Source]:
    whole = claims_folder(folder, fmt)
    if whole is not None:
        return [Source(folder, whole)]
    out: list[Source] = []
    for entry in sorted(folder.iterdir()):
        if _is_doc(entry):
            continue
        if entry.is_dir():
            out.extend(_expand_dir(entry, fmt))
        else:
            out.append(Source(entry, fmt or _detect_or_none(entry)))
    return out


def content_hash(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes, or of a folder's files: sorted relative names,
    sizes and bytes. Streamed in 1 MB blocks.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_bytes(b"abc")
    >>> content_hash(d / "a.txt")[:16]
    'ba7816bf8f01cfea'
    >>> len(content_hash(d))
    64
    """
    path = Path(path)
    check_readable(path)
    h = hashlib.sha256()
    if path.is_file():
        _feed(h, path)
        return h.hexdigest()
    files = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for n in names:
            f = Path(root) / n
            files.append((f.relative_to(path).as_posix(), f))
    for rel, f in sorted(files):
        h.update(rel.encode("utf-8") + b"\0" + str(f.stat().st_size).encode() + b"\0")
        _feed(h, f)
    return h.hexdigest()


def _feed(h, f: Path) -> None:
    try:
        with open(f, "rb") as fh:
            while True:
                block = fh.read(1 << 20)
                if not block:
                    break
                h.update(block)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=str(f)) from None
