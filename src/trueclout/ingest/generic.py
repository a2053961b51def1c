"""Generic files: CSV, Parquet and JSON Lines holding one domain table each, and the
folder layout trueclout itself writes.

A generic file has the column names of a table's ingest schema
(:func:`trueclout.model.data_columns`); ``platform`` may be left out (it defaults to the
``platform`` option, else ``"default"``). Which table a file holds comes from, in order:
the ``table`` option, the file's stem (``follows.csv``, ``accounts.parquet``,
``labels.jsonl.gz``), or its column set.

* Accounts may carry columns trueclout does not model: they are kept, as JSON text, in
  ``extra``. A ``label`` column of an accounts file also yields ``labels`` rows (source:
  the file name).
* Any other table refuses unknown columns with an :class:`~trueclout.errors.InputError`
  naming the file and the columns, except harmless ones (an unnamed pandas index,
  ``__index_level_0__``, ``_line``, ``_error``), which are ignored.
* Missing required columns are an :class:`~trueclout.errors.InputError` too.

Parquet is the bulk path: batches come from :meth:`pyarrow.parquet.ParquetFile.iter_batches`
and are cast column by column, with no Python work per row.

The ``trueclout-dir`` reader takes a folder of ``<table>.parquet`` files or
``<table>/*.parquet`` parts (what the simulator writes, possibly with a ``manifest.json``)
as one source, accounts first.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import REGISTRY, ReadOptions
>>> p = Path(tempfile.mkdtemp()) / "follows.csv"
>>> _ = p.write_text("src,dst,created_at\\na,b,2020-01-02\\nb,b,\\n")
>>> [c.batch.column("dst").to_pylist() for c in REGISTRY["generic"].read(p, ReadOptions())]
[['b', 'b']]
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..model import INGEST_SCHEMAS, REQUIRED, TABLES, conform, data_columns
from ._columns import to_batch
from ._csv import iter_csv, read_header, sniff_delimiter
from ._io import PARQUET_MAGIC, Batcher, error_row, iter_json_values, read_head
from .base import Chunk, ReadOptions, Reader, register
from .normalize import canonical_labels, clean_strings, constant, decode_utf8, json_objects

#: File name endings of generic files (after an optional ``.gz``) and their kind.
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".tab": "csv", ".parquet": "parquet",
              ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}

_HARMLESS = re.compile(r"^(__index_level_\d+__|__index__|Unnamed: \d+|_line|_error)$")


def split_name(path: Path) -> tuple[str, str | None]:
    """``(stem, kind)`` of a file name, ignoring a ``.gz`` suffix.

    Examples
    --------
    >>> split_name(Path("data/follows.csv.gz"))
    ('follows', 'csv')
    >>> split_name(Path("edges.txt"))
    ('edges', None)
    """
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    p = Path(name)
    return p.stem, EXTENSIONS.get(p.suffix.lower())


def file_kind(path: Path, head: bytes) -> str | None:
    """``"parquet"``, ``"csv"`` or ``"jsonl"`` from magic bytes, then name, then content.

    Examples
    --------
    >>> file_kind(Path("x.bin"), b"PAR1....")
    'parquet'
    >>> file_kind(Path("x.data"), b'{"src": "a"}')
    'jsonl'
    """
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    kind = split_name(path)[1]
    if kind is not None and kind != "parquet":
        return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return "jsonl"
    if b"," in text.split(b"\n", 1)[0] or b"\t" in text.split(b"\n", 1)[0]:
        return "csv"
    return None


def is_harmless(column: str) -> bool:
    """Whether an unknown column can be ignored (an index column, a meta column).

    Examples
    --------
    >>> is_harmless("Unnamed: 0"), is_harmless("weight")
    (True, False)
    """
    return bool(_HARMLESS.match(column))


def guess_table(columns: Iterable[str]) -> str | None:
    """The table whose columns best fit ``columns``, or None.

    A table fits if the columns hold its required columns (``platform`` may be missing).
    Tables without unknown columns (accounts takes any) come first, then the most
    columns in common; ties go to the first table of :data:`trueclout.model.TABLES`
    (accounts before profile_snapshots).

    Examples
    --------
    >>> guess_table(["src", "dst"]), guess_table(["src", "dst", "kind"])
    ('follows', 'interactions')
    >>> guess_table(["account_id", "label"]), guess_table(["id", "x"]) is None
    ('labels', True)
    >>> guess_table(["src", "dst", "weight"])  # the reader then names "weight"
    'follows'

    """
    cols = {c for c in columns if not is_harmless(c)}
    best: tuple[int, int, int, str] | None = None
    for i, t in enumerate(TABLES):
        known = set(data_columns(t))
        need = set(REQUIRED[t]) - {"platform"}
        if not need <= cols:
            continue
        # a table without unknown columns first; else the closest one, so that the
        # reader can name the unknown columns
        clean = t == "accounts" or not (cols - known)
        cand = (int(clean), len(cols & known), -i, t)
        if best is None or cand > best:
            best = cand
    return best[3] if best else None


def table_of(path: Path, columns: Iterable[str], options: ReadOptions) -> str:
    """The table a generic file holds: the option, the file stem, or the columns.

    Raises
    ------
    InputError
        If the option names no table, or the columns fit none.

    Examples
    --------
    >>> table_of(Path("x/labels.csv"), ["account_id", "label"], ReadOptions())
    'labels'
    """
    if options.table:
        if options.table not in INGEST_SCHEMAS:
            raise InputError(f"unknown table {options.table!r}; known tables: "
                             f"{', '.join(TABLES)}", path=str(path))
        return options.table
    stem = split_name(path)[0]
    if stem in INGEST_SCHEMAS:
        return stem
    columns = list(columns)
    t = guess_table(columns)
    if t is None:
        raise InputError(
            f"cannot tell which table the columns {', '.join(columns)} belong to; name the "
            f"file after its table ({', '.join(t + '.csv' for t in TABLES)}) or pass the "
            "table option", path=str(path))
    return t


class Plan:
    """Which columns of a file go where (see :func:`plan_columns`): ``known`` columns of
    the table, ``extra`` columns kept as JSON (accounts), the ``label`` column of an
    accounts file, and ``ignored`` harmless columns.

    Examples
    --------
    >>> Plan("accounts", ["account_id"], ["tz"], None, []).extra
    ['tz']
    """

    def __init__(self, table: str, known: list[str], extra: list[str], label: str | None,
                 ignored: list[str]) -> None:
        self.table = table
        self.known = known
        self.extra = extra
        self.label = label
        self.ignored = ignored


def plan_columns(path: Path, table: str, names: list[str]) -> Plan:
    """Check a file's columns against ``table`` and plan where each goes.

    Raises
    ------
    InputError
        Missing required columns, or unknown columns in a table other than accounts.

    Examples
    --------
    >>> plan_columns(Path("f.csv"), "follows", ["src", "dst", "Unnamed: 0"]).known
    ['src', 'dst']
    >>> plan_columns(Path("f.csv"), "follows", ["src", "dst", "weight"])
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: f.csv: unknown column weight for table follows (its columns: platform, src, dst, created_at, removed_at, observed_at)
    >>> plan_columns(Path("f.csv"), "follows", ["src"])
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: f.csv: missing required column dst for table follows
    """
    cols = data_columns(table)
    known = [n for n in names if n in cols]
    missing = [c for c in REQUIRED[table] if c != "platform" and c not in names]
    if missing:
        s = "s" if len(missing) > 1 else ""
        raise InputError(f"missing required column{s} {', '.join(missing)} for table {table}",
                         path=str(path))
    rest = [n for n in names if n not in cols]
    ignored = [n for n in rest if is_harmless(n)]
    rest = [n for n in rest if not is_harmless(n)]
    label = None
    if table == "accounts":
        if "label" in rest:
            label = "label"
            rest.remove("label")
        return Plan(table, known, rest, label, ignored)
    if rest:
        s = "s" if len(rest) > 1 else ""
        raise InputError(f"unknown column{s} {', '.join(rest)} for table {table} "
                         f"(its columns: {', '.join(cols)})", path=str(path))
    return Plan(table, known, [], None, ignored)


def label_rows(account_ids: pa.Array, labels: pa.Array, lines: pa.Array, platform: pa.Array,
               source: str) -> pa.RecordBatch:
    """``labels`` rows for the rows of an accounts file that have a label.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = label_rows(pa.array(["1", "2"]), pa.array(["human", None]), pa.array([2, 3]),
    ...                pa.array(["x", "x"]), "a.csv")
    >>> b.column("label").to_pylist(), b.column("source").to_pylist()
    (['human'], ['a.csv'])
    """
    keep = pa.compute.is_valid(labels)
    n = int(pa.compute.sum(keep).as_py() or 0)
    return conform("labels", {
        "platform": platform.filter(keep), "account_id": account_ids.filter(keep),
        "label": canonical_labels(labels.filter(keep)),
        "source": constant(source, n), "_line": lines.filter(keep)}, n)


def _extra_from_text(raw: dict[str, pa.Array], n: int) -> tuple[pa.Array, list[pa.Array]]:
    cols, errs = {}, []
    for name, values in raw.items():
        text, err = decode_utf8(values, name)
        errs.append(err)
        cols[name] = clean_strings(text, ("",))
    return json_objects(cols, n), errs


# -- CSV ----------------------------------------------------------------------------------
def _read_csv(path: Path, options: ReadOptions, table: str | None = None
              ) -> Iterator[Chunk]:
    head = read_head(path)
    delim = sniff_delimiter(path, head)
    names = read_header(path, head, delim)
    if table is None:
        table = table_of(path, names, options)
    plan = plan_columns(path, table, names)
    platform = options.platform or "default"
    src = str(path)
    out = Batcher(table, src, options.batch_rows)
    labels = Batcher("labels", src, options.batch_rows)
    for part in iter_csv(path, options.batch_rows, names, delim):
        n = part.num_rows
        lines = pa.array(part.lines)
        if n:
            cols: dict[str, Any] = {c: part.columns[c] for c in plan.known}
            errs: list[pa.Array] = []
            if plan.extra:
                cols["extra"], errs = _extra_from_text(
                    {c: part.columns[c] for c in plan.extra}, n)
            batch = to_batch(table, cols, n, lines=lines, platform=platform, errors=errs)
            yield from out.add(batch)
            if plan.label:
                text, err = decode_utf8(part.columns[plan.label], "label")
                lab = label_rows(batch.column("account_id"), clean_strings(text), lines,
                                 batch.column("platform"), options.label_source or path.name)
                yield from labels.add(lab)
        for line, msg in part.bad:
            yield from out.add(error_row(table, line, msg, platform=platform))
    yield from out.flush()
    yield from labels.flush()


# -- Parquet ------------------------------------------------------------------------------
def _extra_typed(batch: pa.RecordBatch, names: list[str]) -> pa.Array:
    """``extra`` JSON from typed columns: vectorised for text, Python for the rest."""
    if all(pa.types.is_string(batch.column(c).type) for c in names):
        return json_objects({c: batch.column(c) for c in names}, batch.num_rows)
    rows = batch.select(names).to_pylist()
    return pa.array([json.dumps({k: v for k, v in r.items() if v is not None},
                                ensure_ascii=False, default=str)
                     if any(v is not None for v in r.values()) else None for r in rows],
                    pa.string())


def _read_parquet(path: Path, options: ReadOptions, table: str | None = None
                  ) -> Iterator[Chunk]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", path=str(path)) from None
    names = pf.schema_arrow.names
    if table is None:
        table = table_of(path, names, options)
    plan = plan_columns(path, table, names)
    wanted = plan.known + plan.extra + ([plan.label] if plan.label else [])
    platform = options.platform or "default"
    src = str(path)
    out = Batcher(table, src, options.batch_rows)
    labels = Batcher("labels", src, options.batch_rows)
    line = 1
    it = pf.iter_batches(batch_size=options.batch_rows, columns=wanted, use_threads=True)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            break
        except (pa.ArrowException, OSError) as exc:
            yield from out.add(error_row(
                table, line, f"file: cannot read the rest of the Parquet file ({exc}); "
                             f"rows from {line} on are missing"))
            break
        n = batch.num_rows
        lines = pa.array(np.arange(line, line + n, dtype=np.int64))
        line += n
        cols: dict[str, Any] = {c: batch.column(c) for c in plan.known}
        if plan.extra:
            cols["extra"] = _extra_typed(batch, plan.extra)
        b = to_batch(table, cols, n, lines=lines, platform=platform, null_tokens=(),
                     strip=False)
        yield from out.add(b)
        if plan.label:
            lab = label_rows(b.column("account_id"), batch.column(plan.label).cast(pa.string()),
                             lines, b.column("platform"), path.name)
            yield from labels.add(lab)
    yield from out.flush()
    yield from labels.flush()


# -- JSON Lines ---------------------------------------------------------------------------
def py_column(values: list) -> pa.Array:
    """An Arrow array from Python values of one column; mixed types become text.

    Examples
    --------
    >>> py_column([1, None]).type, py_column([1, "2"]).to_pylist()
    (DataType(int64), ['1', '2'])
    """
    try:
        return pa.array(values)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return pa.array([None if v is None else
                         v if isinstance(v, str) else
                         ("true" if v else "false") if isinstance(v, bool) else
                         json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else
                         str(v) for v in values], pa.string())


def _read_jsonl(path: Path, options: ReadOptions, table: str | None = None
                ) -> Iterator[Chunk]:
    values = iter_json_values(path)
    pending: list[tuple[int | None, Any, str | None]] = []
    for item in values:
        pending.append(item)
        if isinstance(item[1], dict):
            break
    if table is None:
        first = pending[-1][1] if pending and isinstance(pending[-1][1], dict) else None
        if first is None:
            if not pending:
                raise InputError("empty file", path=str(path))
            line, _, err = pending[0]
            raise InputError(err or "no JSON object found", path=str(path), line=line)
        table = table_of(path, list(first), options)
    cols = data_columns(table)
    colset = set(cols)
    platform = options.platform or "default"
    src = str(path)
    out = Batcher(table, src, options.batch_rows)
    labels = Batcher("labels", src, options.batch_rows)
    accounts = table == "accounts"
    checked = False

    def records() -> Iterator[tuple[int | None, Any, str | None]]:
        yield from pending
        yield from values

    buf: dict[str, list] = {c: [] for c in cols}
    extra: list[str | None] = []
    lab: list[Any] = []
    lines: list[int | None] = []
    errors: list[str | None] = []

    def flush() -> Iterator[Chunk]:
        n = len(lines)
        if not n:
            return
        arrays: dict[str, Any] = {c: py_column(v) for c, v in buf.items()
                                  if any(x is not None for x in v)}
        if accounts:
            arrays["extra"] = pa.array(extra, pa.string())
        batch = to_batch(table, arrays, n, lines=pa.array(lines, pa.int64()),
                         platform=platform, errors=[pa.array(errors, pa.string())])
        yield from out.add(batch)
        if accounts and any(x is not None for x in lab):
            text = clean_strings(py_column(lab).cast(pa.string()))
            yield from labels.add(label_rows(batch.column("account_id"), text,
                                             batch.column("_line"),
                                             batch.column("platform"), path.name))
        for v in buf.values():
            v.clear()
        extra.clear(), lab.clear(), lines.clear(), errors.clear()

    for line, obj, err in records():
        if err is None and not isinstance(obj, dict):
            err = f"record: expected a JSON object, got {type(obj).__name__}"
        if err is None and not checked:
            plan_columns(path, table, list(obj))  # raises on missing / unknown columns
            checked = True
        rest: dict[str, Any] = {}
        unknown = []
        if err is None:
            for k, v in obj.items():
                if k not in colset:
                    if accounts and k == "label":
                        continue
                    if accounts:
                        rest[k] = v
                    elif not is_harmless(k):
                        unknown.append(k)
            if unknown:
                err = f"record: unknown field {', '.join(unknown)} for table {table}"
        for c in cols:
            buf[c].append(obj.get(c) if err is None else None)
        extra.append(json.dumps(rest, ensure_ascii=False) if rest else None)
        lab.append(obj.get("label") if err is None and accounts else None)
        lines.append(line)
        errors.append(err)
        if len(lines) >= options.batch_rows:
            yield from flush()
    yield from flush()
    yield from out.flush()
    yield from labels.flush()


def read_file(path: Path, options: ReadOptions, table: str | None = None,
              kind: str | None = None) -> Iterator[Chunk]:
    """Read one generic file (CSV, Parquet or JSON Lines; gzip allowed for text).

    Parameters
    ----------
    path : Path
        The file.
    options : ReadOptions
        ``table`` and ``platform`` are used; ``batch_rows`` sizes the chunks.
    table : str, optional
        The table, if the caller knows it (overrides the option and the file name).
    kind : str, optional
        ``"csv"``, ``"parquet"`` or ``"jsonl"``; found from the file if not given.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "labels.jsonl"
    >>> _ = p.write_text('{"account_id": "7", "label": "bot"}\\n')
    >>> [c.table for c in read_file(p, ReadOptions())]
    ['labels']
    """
    head = read_head(path)
    if not head.strip():
        raise InputError("empty file", path=str(path))
    kind = kind or file_kind(path, head)
    if kind == "parquet":
        return _read_parquet(path, options, table)
    if kind == "csv":
        return _read_csv(path, options, table)
    if kind == "jsonl":
        return _read_jsonl(path, options, table)
    raise InputError("not a CSV, Parquet or JSON Lines file", path=str(path))


def _sniff_columns(path: Path, head: bytes) -> list[str] | None:
    kind = file_kind(path, head)
    try:
        if kind == "parquet":
            return pq.ParquetFile(path).schema_arrow.names if path.is_file() else None
        if kind == "csv":
            return read_header(path, head, sniff_delimiter(path, head))
        if kind == "jsonl":
            first = head.split(b"\n", 1)[0]
            obj = json.loads(first.decode("utf-8"))
            return list(obj) if isinstance(obj, dict) else None
    except (InputError, ValueError, pa.ArrowException, OSError):
        return None
    return None


class GenericReader(Reader):
    """CSV, Parquet or JSON Lines with the columns of one domain table.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "accounts.csv"
    >>> _ = p.write_text("account_id,handle,followers_count,time_zone\\n7,ann,12,Rome\\n")
    >>> r = GenericReader()
    >>> r.sniff(p, p.read_bytes()) > 0.5
    True
    >>> b = next(iter(r.read(p, ReadOptions()))).batch
    >>> b.column("followers_count").to_pylist(), b.column("extra").to_pylist()
    ([12], ['{"time_zone": "Rome"}'])
    """

    name = "generic"
    description = ("CSV, Parquet or JSON Lines with the columns of one table "
                   "(accounts, follows, posts, interactions, labels, ...)")

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        if head.startswith(PARQUET_MAGIC):
            return 0.95
        names = _sniff_columns(path, head)
        if not names:
            return 0.0
        stem = split_name(path)[0]
        if stem in INGEST_SCHEMAS:
            return 0.85
        t = guess_table(names)
        if t is None:
            return 0.0
        known = set(data_columns(t))
        share = len([n for n in names if n in known]) / len(names)
        return 0.5 + 0.3 * share

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        return read_file(Path(path), options)


# -- the folder trueclout writes ----------------------------------------------------------
def _table_entries(folder: Path) -> dict[str, list[Path]]:
    """Table name to its files in a trueclout folder (sorted)."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name in INGEST_SCHEMAS:
            parts = [p for p in sorted(entry.iterdir())
                     if p.is_file() and split_name(p)[1] and not p.name.startswith(".")]
            if parts:
                found.setdefault(entry.name, []).extend(parts)
        elif entry.is_file():
            stem, kind = split_name(entry)
            if kind and stem in INGEST_SCHEMAS:
                found.setdefault(stem, []).append(entry)
    return found


def _is_doc(p: Path) -> bool:
    return p.suffix.lower() in (".md", ".txt", ".rst") or p.name.lower().startswith(
        ("readme", "provenance", "license"))


class TruecloutDirReader(Reader):
    """A folder of ``<table>.parquet`` files or ``<table>/*.parquet`` parts (CSV and JSON
    Lines also work), as the simulator writes it; read as one source, accounts first.

    Examples
    --------
    >>> import tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> d = Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.table({"src": ["a"], "dst": ["b"]}), d / "follows.parquet")
    >>> pq.write_table(pa.table({"account_id": ["a", "b"]}), d / "accounts.parquet")
    >>> r = TruecloutDirReader()
    >>> r.sniff(d, b"")
    0.9
    >>> [(c.table, c.batch.num_rows) for c in r.read(d, ReadOptions())]
    [('accounts', 2), ('follows', 1)]
    """

    name = "trueclout-dir"
    description = "a folder of <table>.parquet files or <table>/ folders (simulator output)"

    def sniff(self, path: Path, head: bytes) -> float:
        if not path.is_dir():
            return 0.0
        tables = _table_entries(path)
        if not tables:
            return 0.0
        if (path / "manifest.json").exists():
            return 0.95
        claimed = {p for files in tables.values() for p in files}
        for entry in path.iterdir():
            if entry.name.startswith(".") or entry.name == "manifest.json":
                continue
            if entry.is_dir():
                if entry.name not in tables:
                    return 0.0
            elif entry not in claimed and not _is_doc(entry):
                return 0.0
        return 0.9

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        tables = _table_entries(path)
        if not tables:
            raise InputError("folder holds no <table>.parquet files or <table>/ folders "
                             f"(tables: {', '.join(TABLES)})", path=str(path))
        order = ["accounts"] + [t for t in TABLES if t != "accounts"]
        for table in order:
            for f in tables.get(table, []):
                if not read_head(f, 16).strip():
                    continue  # an empty part holds no rows
                yield from read_file(f, options, table=table)


register(GenericReader())
register(TruecloutDirReader())
