"""The reader interface and the registry of data sources.

A reader turns one source (a file or a folder) into a stream of :class:`Chunk` objects:
record batches in the ingest schema of one domain table (see :mod:`trueclout.model`).
Built-in readers register themselves the same way a user's reader would, with
:func:`register`.

A reader never drops a row silently: a row it cannot parse is still yielded, with its
``_error`` column set to ``"<field>: <reason>"``; a problem with the whole source (empty
file, unknown layout) raises :class:`trueclout.errors.InputError`.

Examples
--------
>>> from trueclout.ingest.base import Reader, register, REGISTRY, Chunk, ReadOptions
>>> class Nothing(Reader):
...     name = "nothing"
...     description = "reads nothing"
...     def sniff(self, path, head):
...         return 0.0
...     def read(self, path, options):
...         return iter(())
>>> _ = register(Nothing())
>>> "nothing" in REGISTRY
True
>>> del REGISTRY["nothing"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa


@dataclass
class ReadOptions:
    """Options every reader receives.

    Parameters
    ----------
    platform : str or None
        Platform that scopes account ids; ``None`` lets the reader use its own default.
    batch_rows : int
        Target number of rows per yielded batch.
    table : str or None
        For generic formats: the domain table the file holds, when it cannot be guessed.
    label_source : str or None
        The ``source`` of the labels a labelled data set carries (MIB group codes, a bot
        repository's ``.tsv``, ...); ``None`` lets the reader name it after the data set:
        the folder that holds the file, or the folder a reader claims whole.

    Examples
    --------
    >>> ReadOptions().batch_rows
    262144
    """

    platform: str | None = None
    batch_rows: int = 262144
    table: str | None = None
    label_source: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Chunk:
    """Rows of one domain table from one source.

    Examples
    --------
    >>> from trueclout.model import empty_batch
    >>> Chunk("follows", empty_batch("follows"), "edges.txt").batch.num_rows
    0
    """

    table: str
    batch: pa.RecordBatch
    source: str


def set_name(path: Path | str, options: "ReadOptions") -> str:
    """The name of the data set a labelled source belongs to: ``options.label_source``,
    else the name of the folder that holds the file (or of the folder itself, for a
    reader that reads a folder whole).

    Examples
    --------
    >>> set_name("data/cresci-2017/users_fake_followers.csv", ReadOptions())
    'cresci-2017'
    >>> set_name("x/botwiki-2019", ReadOptions(label_source="mine"))
    'mine'
    """
    if options.label_source:
        return options.label_source
    p = Path(path)
    p = p if p.is_dir() else p.parent
    return p.resolve().name or str(p)


class Reader:
    """Base class of readers. Subclasses set ``name`` and ``description`` and implement
    :meth:`sniff` and :meth:`read`.

    Examples
    --------
    >>> Reader().sniff(Path("x"), b"")
    0.0
    """

    name: str = ""
    description: str = ""
    #: Platform used when the source does not name one and the user gives none.
    default_platform: str = "default"

    def sniff(self, path: Path, head: bytes) -> float:
        """Confidence in [0, 1] that ``path`` is in this reader's format.

        ``head`` holds the first bytes of the file (decompressed if gzipped), or ``b""``
        for a folder.
        """
        return 0.0

    def refusal(self, path: Path, head: bytes) -> str | None:
        """Why this reader will not guess ``path`` although it nearly fits (an ambiguous
        file), or None. Named in the error when no format is recognised."""
        return None

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        """Yield the chunks of ``path``."""
        raise NotImplementedError


#: Every registered reader by name.
REGISTRY: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    """Register ``reader`` under ``reader.name``; returns it, so it can decorate.

    Examples
    --------
    >>> r = Reader(); r.name = "demo-reader"
    >>> register(r) is r
    True
    >>> del REGISTRY["demo-reader"]
    """
    if not reader.name:
        raise ValueError("a reader needs a name")
    REGISTRY[reader.name] = reader
    return reader
