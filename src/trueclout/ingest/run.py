"""Running loads: paths on disk into the store, one source at a time.

Each source (a file, or a folder a reader claims whole) becomes one load: its format is
guessed unless given, its content hashed, its chunks read, validated and handed to
:meth:`trueclout.store.Store.load`. A source that cannot be read at all is still recorded,
as a failed load with its reason in ``rejects``; the other sources go on.

Examples
--------
>>> import os, tempfile
>>> from trueclout.store import Store
>>> d = tempfile.mkdtemp()
>>> p = os.path.join(d, "edges.txt")
>>> _ = open(p, "w").write("a b\\nb a\\na a\\n")
>>> with Store(":memory:") as s:
...     [r] = ingest_paths(s, [p], fmt="edgelist")
...     r.read, r.accepted, r.rejected
(3, 2, 1)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import config
from ..errors import DiskFullError, InputError, TruecloutError, UsageError
from ..store.load import LoadResult
from . import REGISTRY, ReadOptions, content_hash, detect_format, expand_sources, iter_chunks
from .base import Chunk


@dataclass
class IngestReport:
    """The loads of one ``ingest`` call and their totals.

    Examples
    --------
    >>> IngestReport().to_dict()["read"]
    0
    """

    loads: list[LoadResult] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    #: What a user should know about a load that went through (a platform inferred).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Totals over all loads (``read``, ``accepted``, ``rejected``, rows per table),
        then the loads and the sources that failed.

        Examples
        --------
        >>> IngestReport().to_dict()["failed"]
        0
        """
        tot: dict = {"read": 0, "accepted": 0, "rejected": 0, "accounts": 0,
                     "new_accounts": 0, "follows": 0, "posts": 0, "interactions": 0,
                     "labels": 0, "profile_snapshots": 0, "account_terms": 0}
        for r in self.loads:
            d = r.to_dict()
            for k in tot:
                tot[k] += int(d.get(k, 0) or 0)
        tot["skipped"] = sum(1 for r in self.loads if r.skipped)
        tot["failed"] = len(self.failures)
        tot["notes"] = list(self.notes)
        tot["loads"] = [r.to_dict() for r in self.loads]
        tot["failures"] = self.failures
        return tot


def unreadable(exc: BaseException, fmt: str) -> InputError | None:
    """The :class:`InputError` of a source whose reader failed with ``exc`` on data it
    could not parse (Arrow's refusals, nesting too deep for the JSON parser, bad bytes,
    impossible values), or None when ``exc`` is not of that kind (a bug, or no memory).

    Examples
    --------
    >>> str(unreadable(RecursionError("maximum recursion depth exceeded"), "twitter"))
    'cannot be read as twitter: it is nested too deeply to parse; check the format (trueclout formats, --format, --table) or the file'
    >>> unreadable(KeyError("x"), "generic") is None
    True
    """
    import csv
    import struct
    import tarfile
    import zlib

    import pyarrow as pa
    kinds = (pa.ArrowException, RecursionError, UnicodeError, ValueError, OverflowError,
             EOFError, zlib.error, tarfile.TarError, csv.Error, struct.error)
    if not isinstance(exc, kinds) or isinstance(exc, pa.ArrowMemoryError):
        return None
    if isinstance(exc, RecursionError):
        why = "it is nested too deeply to parse"
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        why = f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
    return InputError(f"cannot be read as {fmt}: {why}; check the format (trueclout formats, "
                      "--format, --table) or the file")


def _hash(source: Path, fmt: str, options: dict) -> str:
    h = hashlib.sha256()
    h.update(content_hash(source).encode())
    h.update(json.dumps({"format": fmt, **options}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def ingest_paths(store, paths: Iterable[str | Path], *, fmt: str | None = None,
                 label: str | None = None, label_source: str | None = None,
                 platform: str | None = None, table: str | None = None,
                 progress: Callable[[str, str, int], None] | None = None) -> list[LoadResult]:
    """Load every source under ``paths`` into ``store``; see :func:`ingest`.

    Returns the list of load results; sources that could not be read at all are
    recorded in the store and raise nothing here (see :func:`ingest` for the report).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> ingest_paths(Store(":memory:"), [])
    []
    """
    return ingest(store, paths, fmt=fmt, label=label, label_source=label_source,
                  platform=platform, table=table, progress=progress).loads


def _store_platform(store, source: str) -> str | None:
    """The platform a source that names none belongs to: the store's only platform, or
    None (the default platform) when the store is empty or holds only that one; a
    :class:`UsageError` when the store holds several, since a guess would load the ids
    as a separate, disconnected graph.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> _store_platform(Store(":memory:"), "f.txt") is None
    True
    """
    default = str(config.get("default_platform"))
    found = [p for p in store.platforms() if p != default]
    if not found:
        return None
    if len(found) == 1 and default not in store.platforms():
        return found[0]
    raise UsageError(f"{source} does not say which platform its ids belong to, and the store "
                     f"holds several ({', '.join(sorted(store.platforms()))}); give "
                     "--platform")


def ingest(store, paths: Iterable[str | Path], *, fmt: str | None = None,
           label: str | None = None, label_source: str | None = None,
           platform: str | None = None, table: str | None = None,
           progress: Callable[[str, str, int], None] | None = None,
           transform: Callable | None = None) -> IngestReport:
    """Load every source under ``paths`` into ``store``.

    Parameters
    ----------
    store : trueclout.store.Store
    paths : iterable of path
        Files or folders. A folder that a reader claims whole (SNAP ego networks, a
        simulator output) is one source; other folders expand to their files.
    fmt : str, optional
        Reader name (see ``trueclout ingest --help``); guessed from content if omitted.
    label, label_source : str, optional
        Tag every account described by each load with ``label``; the label's source
        defaults to the file name. ``label_source`` also names the source of the labels
        that a labelled data set carries itself (by default the data set's folder name,
        :func:`~trueclout.ingest.base.set_name`).
    platform, table : str, optional
        Passed to the readers (platform that scopes ids; the table of a generic file).
    progress : callable, optional
        ``progress(source, stage, rows)``.
    transform : callable, optional
        ``transform(table, batch) -> batch``, applied to every chunk before it is staged
        (a :class:`trueclout.privacy.Pseudonymizer`, for ``--pseudonymize``). Its ``tag``
        attribute, if any, is recorded with each load's options and hash. A store marked
        as pseudonymised accepts only loads through a pseudonymizer with its key.

    Returns
    -------
    IngestReport

    Examples
    --------
    >>> from trueclout.store import Store
    >>> ingest(Store(":memory:"), ["/nonexistent/file.csv"]).failures[0]["error"]
    'no such file or folder'
    """
    paths = [Path(p) for p in paths]
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known formats: {', '.join(sorted(REGISTRY))}")
    report = IngestReport()
    key_id = getattr(store, "pseudonym_key_id", lambda: None)()
    if key_id is not None and getattr(transform, "key_id", None) != key_id:
        raise UsageError(f"store {getattr(store, 'path', '')} is pseudonymised (key id "
                         f"{key_id}); load into it with --pseudonymize and its key file")
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        report.failures.append({"source": str(p), "error": "no such file or folder"})
    sources = expand_sources([p for p in paths if p.exists()], fmt)
    batch_rows = config.get("ingest_batch_rows")
    for src in sources:
        src = Path(src)
        options = {"platform": platform, "table": table}
        if transform is not None:
            options["transform"] = getattr(transform, "tag", None) or repr(transform)
        name = str(src)
        try:
            reader = fmt or detect_format(src)
        except InputError as exc:
            key = _hash(src, "?", options) if src.is_file() else name
            store.record_failed_load(source=name, fmt="unknown", content_hash=key, error=exc,
                                     options=options)
            report.failures.append({"source": name, "error": str(exc)})
            continue
        plat = platform
        if plat is None and getattr(REGISTRY[reader], "default_platform", None) == "default":
            plat = _store_platform(store, name)     # the source names no platform
            if plat is not None:
                options["platform"] = plat
                report.notes.append(f"{name}: its ids name no platform; loaded into the "
                                    f"store's only platform {plat!r} (--platform says "
                                    "otherwise)")
        key = _hash(src, reader, options)
        chunks = iter_chunks(src, reader, ReadOptions(platform=plat, table=table,
                                                      batch_rows=batch_rows,
                                                      label_source=label_source))
        if transform is not None:
            chunks = (Chunk(c.table, transform(c.table, c.batch), c.source) for c in chunks)
        cb = (lambda stage, rows, _n=name: progress(_n, stage, rows)) if progress else None
        try:
            result = store.load(chunks, source=name, fmt=reader, content_hash=key,
                                options=options, label=label,
                                label_source=label_source or (src.name if label else None),
                                progress=cb)
        except (UsageError, DiskFullError):
            raise
        except Exception as exc:
            err = exc if isinstance(exc, TruecloutError) else unreadable(exc, reader)
            if err is None:
                raise
            if err is not exc:
                err.path = name
            store.record_failed_load(source=name, fmt=reader, content_hash=key, error=err,
                                     options=options)
            report.failures.append({"source": name, "error": str(err)})
            continue
        report.loads.append(result)
    return report
