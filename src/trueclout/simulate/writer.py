"""Arrow building blocks and the streaming Parquet writer of the simulator.

:class:`PartWriter` streams record batches of one domain table into
``<table>/part-00000.parquet``, ``part-00001.parquet``, ... (or one file), buffering rows
into row groups and writing on a background thread, so generating the next block overlaps
with compressing the last one. The helpers build Arrow arrays from numpy without Python
loops: id strings (:func:`id_strings`), constant strings, timestamps.

Examples
--------
>>> import tempfile, numpy as np, pyarrow.parquet as pq
>>> from trueclout.simulate.writer import PartWriter, id_strings, const_strings
>>> id_strings("u", np.array([1000000, 42])).to_pylist()
['u1000000', 'u42']
>>> d = tempfile.mkdtemp()
>>> w = PartWriter(d, "labels", part_rows=10)
>>> w.write({"platform": const_strings("sim", 2), "account_id": id_strings("u", np.arange(2)),
...          "label": const_strings("human", 2), "source": const_strings("simulator", 2)})
>>> w.close()
2
>>> pq.read_table(d + "/labels").num_rows
2
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Mapping

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..model import INGEST_SCHEMAS, TS, data_columns

#: Columns written with dictionary encoding (few distinct values).
DICT_COLUMNS = ("platform", "kind", "lang", "label", "source")


def data_schema(table: str) -> pa.Schema:
    """The Arrow schema of the data columns of ``table`` (no ``_line`` / ``_error``).

    Examples
    --------
    >>> data_schema("follows").names
    ['platform', 'src', 'dst', 'created_at', 'removed_at', 'observed_at']
    """
    cols = set(data_columns(table))
    return pa.schema([f for f in INGEST_SCHEMAS[table] if f.name in cols])


@numba.njit(cache=True, nogil=True)
def _format_ids(values, prefix):  # pragma: no cover - compiled
    n = values.shape[0]
    plen = prefix.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        v = values[i]
        w = 1
        while v >= 10:
            v //= 10
            w += 1
        offsets[i + 1] = offsets[i] + plen + w
    data = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        o = offsets[i]
        for j in range(plen):
            data[o + j] = prefix[j]
        v = values[i]
        p = offsets[i + 1] - 1
        while True:
            data[p] = 48 + v % 10
            v //= 10
            p -= 1
            if v == 0:
                break
    return offsets, data


def id_strings(prefix: str, values: np.ndarray) -> pa.Array:
    """Strings ``prefix + str(v)`` for non-negative integers, built without Python loops.

    Examples
    --------
    >>> id_strings("p", np.array([0, 7, 120])).to_pylist()
    ['p0', 'p7', 'p120']
    """
    vals = np.ascontiguousarray(values, dtype=np.int64)
    offsets, data = _format_ids(vals, np.frombuffer(prefix.encode(), dtype=np.uint8))
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(len(vals), pa.py_buffer(offsets.astype(np.int32)),
                                           pa.py_buffer(data)).cast(pa.string())
    return pa.LargeStringArray.from_buffers(len(vals), pa.py_buffer(offsets),
                                            pa.py_buffer(data)).cast(pa.string())


def const_strings(value: str, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value``.

    Examples
    --------
    >>> const_strings("sim", 3).to_pylist()
    ['sim', 'sim', 'sim']
    """
    b = value.encode()
    offsets = np.arange(0, len(b) * (n + 1), len(b), dtype=np.int32)[: n + 1]
    if len(b) == 0:
        offsets = np.zeros(n + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n))


def timestamps(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A UTC microsecond timestamp array from int64 microseconds (``valid`` False = null).

    Examples
    --------
    >>> timestamps(np.array([0, 1]), np.array([True, False])).null_count
    1
    """
    arr = np.ascontiguousarray(us, dtype=np.int64)
    if valid is None or bool(np.all(valid)):
        return pa.array(arr, type=TS)
    return pa.array(arr, type=TS, mask=~np.asarray(valid, dtype=bool))


def strings_from_codes(vocab: pa.Array, codes: np.ndarray) -> pa.Array:
    """``vocab[codes]`` as a plain string array.

    Examples
    --------
    >>> strings_from_codes(pa.array(["a", "b"]), np.array([1, 1, 0])).to_pylist()
    ['b', 'b', 'a']
    """
    return vocab.take(pa.array(np.asarray(codes, dtype=np.int64)))


def list_of_strings(values: pa.Array, offsets: np.ndarray,
                    valid: np.ndarray | None = None) -> pa.Array:
    """A ``list<string>`` array from flat values and int offsets (``valid`` False = null).

    Examples
    --------
    >>> list_of_strings(pa.array(["a", "b", "c"]), np.array([0, 2, 2, 3])).to_pylist()
    [['a', 'b'], [], ['c']]
    """
    off = pa.array(np.asarray(offsets, dtype=np.int32))
    arr = pa.ListArray.from_arrays(off, values)
    if valid is not None and not bool(np.all(valid)):
        arr = pa.ListArray.from_arrays(off, values, mask=pa.array(~np.asarray(valid, bool)))
    return arr


class PartWriter:
    """Stream rows of one table into Parquet part files on a background thread.

    Parameters
    ----------
    folder : str or Path
        The output folder of the simulation.
    table : str
        A domain table name (a key of :data:`trueclout.model.INGEST_SCHEMAS`).
    part_rows : int
        Rows per part file; a new ``part-NNNNN.parquet`` starts after that many.
    row_group_rows : int
        Rows buffered before a row group is written.
    single_file : bool
        Write ``<table>.parquet`` instead of a folder of parts.
    executor : ThreadPoolExecutor, optional
        A shared single-thread executor (writes stay in submission order).

    Examples
    --------
    >>> import tempfile
    >>> w = PartWriter(tempfile.mkdtemp(), "follows", single_file=True)
    >>> w.close()  # an empty table still gets a file with the schema
    0
    """

    def __init__(self, folder: str | os.PathLike, table: str, part_rows: int = 4_000_000,
                 row_group_rows: int = 1_000_000, single_file: bool = False,
                 executor: ThreadPoolExecutor | None = None) -> None:
        self.folder = Path(folder)
        self.table = table
        self.schema = data_schema(table)
        self.part_rows = int(part_rows)
        self.row_group_rows = int(row_group_rows)
        self.single_file = single_file
        self.rows = 0
        self.parts: list[str] = []
        self._buf: list[pa.RecordBatch] = []
        self._buf_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._part_rows_written = 0
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future] = []
        self._lock = threading.Lock()
        if not single_file:
            (self.folder / table).mkdir(parents=True, exist_ok=True)

    def write(self, columns: Mapping[str, pa.Array] | pa.RecordBatch) -> None:
        """Queue rows: a record batch, or a mapping of column name to Arrow array.

        Missing nullable columns are filled with nulls; arrays are cast to the schema.

        Examples
        --------
        >>> import tempfile
        >>> w = PartWriter(tempfile.mkdtemp(), "labels", single_file=True)
        >>> w.write({"platform": const_strings("sim", 1), "account_id": const_strings("u1", 1),
        ...          "label": const_strings("fake", 1)})
        >>> w.close()
        1
        """
        batch = columns if isinstance(columns, pa.RecordBatch) else self._batch(columns)
        if batch.num_rows == 0:
            return
        self._buf.append(batch)
        self._buf_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._buf_rows >= self.row_group_rows:
            self._flush()

    def _batch(self, columns: Mapping[str, pa.Array]) -> pa.RecordBatch:
        unknown = set(columns) - set(self.schema.names)
        if unknown:
            raise KeyError(f"{self.table} has no columns {sorted(unknown)}")
        n = len(next(iter(columns.values())))
        arrays = []
        for f in self.schema:
            col = columns.get(f.name)
            if col is None:
                arrays.append(pa.nulls(n, f.type))
                continue
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            if col.type != f.type:
                col = col.cast(f.type)
            arrays.append(col)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _flush(self) -> None:
        if not self._buf:
            return
        table = pa.Table.from_batches(self._buf, schema=self.schema)
        self._buf, self._buf_rows = [], 0
        self._pending.append(self._executor.submit(self._write_table, table))
        while len(self._pending) > 2:
            self._pending.pop(0).result()

    def _path(self) -> Path:
        if self.single_file:
            return self.folder / f"{self.table}.parquet"
        return self.folder / self.table / f"part-{len(self.parts):05d}.parquet"

    def _open(self) -> None:
        path = self._path()
        self.parts.append(str(path.relative_to(self.folder)))
        dict_cols = [c for c in DICT_COLUMNS if c in self.schema.names]
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd",
                                        use_dictionary=dict_cols)
        self._part_rows_written = 0

    def _write_table(self, table: pa.Table) -> None:
        with self._lock:
            offset = 0
            while offset < table.num_rows:
                if self._writer is None:
                    self._open()
                room = table.num_rows - offset
                if not self.single_file:
                    room = min(room, self.part_rows - self._part_rows_written)
                piece = table.slice(offset, room)
                self._writer.write_table(piece, row_group_size=self.row_group_rows)
                self._part_rows_written += piece.num_rows
                offset += piece.num_rows
                if not self.single_file and self._part_rows_written >= self.part_rows:
                    self._writer.close()
                    self._writer = None

    def close(self) -> int:
        """Write what is buffered, close the files and return the number of rows.

        Examples
        --------
        >>> import tempfile
        >>> PartWriter(tempfile.mkdtemp(), "posts").close()
        0
        """
        self._flush()
        for f in self._pending:
            f.result()
        self._pending = []
        with self._lock:
            if self._writer is None and not self.parts:
                self._open()  # an empty table still gets a file carrying the schema
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self._own_executor:
            self._executor.shutdown()
        return self.rows
