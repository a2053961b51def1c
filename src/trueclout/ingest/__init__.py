"""Ingest: readers that turn sources into Arrow record batches of the domain tables.

Every reader is a registered :class:`Reader` (see :mod:`trueclout.ingest.base`); the
built-in ones are imported here so that they register. :func:`iter_chunks` reads one
source and checks every row with :func:`validate`; the store then loads the chunks.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import iter_chunks, detect_format
>>> p = Path(tempfile.mkdtemp()) / "edges.txt"
>>> _ = p.write_text("1 2\\n2 2\\n")
>>> detect_format(p)
'edgelist'
>>> [c.batch.column("_error").to_pylist() for c in iter_chunks(p)]
[[None, 'dst: self-follow (src == dst)']]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from . import (botrepo, edgelist, generic, honeypot, instafake,  # noqa: F401  (register)
               labels, snap, twitter, twitter_csv)
from ._io import check_readable, is_empty
from .base import REGISTRY, Chunk, ReadOptions, Reader, register
from .sniff import Source, content_hash, detect_format, expand_sources
from .validate import validate

__all__ = ["REGISTRY", "register", "Reader", "Chunk", "ReadOptions", "Source",
           "detect_format", "expand_sources", "validate", "iter_chunks", "content_hash"]


def iter_chunks(path: Path | str, fmt: str | None = None,
                options: ReadOptions | None = None) -> Iterator[Chunk]:
    """Read one source and yield its validated chunks.

    Parameters
    ----------
    path : str or Path
        A file or a folder that one reader reads as a whole.
    fmt : str, optional
        Name of the reader (see :data:`REGISTRY`); detected from the content if omitted.
    options : ReadOptions, optional
        Platform, batch size, table.

    Raises
    ------
    InputError
        For problems with the whole source (missing, unreadable, empty, unknown format,
        missing columns). Problems with single rows are reported in their ``_error``
        column.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("account_id,label\\n1,human\\n2,alien\\n")
    >>> c = next(iter_chunks(p, options=ReadOptions(platform="x")))
    >>> c.table, c.batch.column("_error").to_pylist()[1][:30]
    ('labels', "label: unknown label 'alien' (")
    """
    path = Path(path)
    options = options or ReadOptions()
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in REGISTRY:
        raise InputError(f"unknown format {fmt!r}; known formats: "
                         f"{', '.join(sorted(REGISTRY))}", path=str(path))
    reader = REGISTRY[fmt]
    check_readable(path)
    if path.is_file() and is_empty(path):
        raise InputError("empty file", path=str(path))
    try:
        for chunk in reader.read(path, options):
            yield Chunk(chunk.table, validate(chunk.table, chunk.batch), chunk.source)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})",
                         path=str(getattr(exc, "filename", None) or path)) from None
