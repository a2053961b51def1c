"""Out-of-core CSR build: both CSR directions of a huge edge stream in bounded memory.

The in-memory builders (:func:`trueclout.kernels.csr.csr_from_edges`,
:func:`trueclout.graph.rmat.rmat_graph`) hold every edge twice in RAM. Here the edge
arrays live in files of a work folder (``np.memmap``), and RAM holds only per-vertex
arrays, one batch of edges and one *window*: a range of rows whose edges fit the memory
budget. The build is a counting sort done in passes, and its per-row sort is free: a
CSR transposed in row order comes out with sorted rows (a radix sort on the row key),
so no row is ever sorted by comparisons.

1. **Count** (one pass over the source): validate ids, drop self-loops (unless
   ``loops``), count out- and in-degrees. A regenerable source (a callable returning
   batches) is spilled to an edge file during this pass by default, so later passes
   read the disk rather than regenerate; an edge file is read as it is.
2. **Place** (one pass over the edges per window): edges go to their target's row
   of a window buffer in RAM, which is then appended to the *raw in-CSR* file
   (rows unsorted, repeats kept).
3. **Transpose to out** (one sequential read of the raw in-CSR per window): reading the
   in-rows from the last to the first and filling each out-row from its end leaves every
   out-row sorted; repeats are adjacent and dropped as the window is written to the
   out-CSR file (with ``dedupe``).
4. **Transpose to in**: the same from the final out-CSR gives the sorted, repeat-free
   in-CSR. The raw in-CSR and the spill are deleted as soon as they are read for the last
   time.

Each pass splits the window's rows into one part per thread; a thread reads the whole
input and writes only its part, so writes never race and need no atomics.

Optional ``order="degree"`` relabels vertices once, by total degree, descending (ties by
in-degree: :func:`trueclout.graph.reorder.degree_permutation`), as the
edges are placed (hubs first: the values a PageRank pull gathers most often sit together
in cache). The result's ``perm[old] = new`` maps ids.

Memory: about 48 bytes per vertex (six int64 arrays; 8 more with ``order``) plus 24 bytes
per batch entry plus the window, at most the budget (config ``outofcore_memory_gb``).
Disk: 8 bytes per edge for the spill, 4 for the raw in-CSR, 4 + 4 for the result; at most
12 bytes per edge at once with the spill (8 without), checked before starting.

Examples
--------
>>> import numpy as np
>>> from trueclout.graph.outofcore import build_csr
>>> src, dst = np.array([0, 0, 2, 2, 1], np.int32), np.array([2, 1, 0, 0, 1], np.int32)
>>> with build_csr(lambda: [(src, dst)], 3) as g:       # a repeat and a self-loop
...     g.m, g.out_indptr.tolist(), g.out_indices.tolist(), g.in_indices.tolist()
(3, [0, 2, 2, 3], [1, 2, 0], [2, 0, 0])
"""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numba
import numpy as np
from numba import prange

from .. import config
from ..errors import InputError, UsageError

Progress = Callable[[str, int], None] | None
Batches = Iterable[tuple[np.ndarray, np.ndarray]]
Source = Callable[[], Batches] | str | os.PathLike

_GB = 1 << 30
_PER_VERTEX = 48  # bytes per vertex of the per-vertex arrays (six int64)
_PER_BATCH = 24   # bytes per batch entry: two int32 read buffers, two mapped, spill pair
_EMPTY_I32 = np.empty(0, np.int32)


# -- kernels ---------------------------------------------------------------------------
@numba.njit(cache=True, parallel=True)
def _prepare(src, dst, lut, n, loops, rows, cols, stats, T):  # pragma: no cover - compiled
    # validate, relabel and mark dropped edges with row -1; stats: [out of range, loops]
    k = src.shape[0]
    use_lut = lut.shape[0] > 0
    acc = np.zeros((T, 2), np.int64)
    step = (k + T - 1) // T
    for t in prange(T):
        bad = 0
        selfl = 0
        for i in range(t * step, min(k, (t + 1) * step)):
            s = src[i]
            d = dst[i]
            if s < 0 or s >= n or d < 0 or d >= n:
                rows[i] = -1
                cols[i] = -1
                bad += 1
            else:
                if use_lut:
                    s = lut[s]
                    d = lut[d]
                if s == d and not loops:
                    rows[i] = -1
                    cols[i] = -1
                    selfl += 1
                else:
                    rows[i] = s
                    cols[i] = d
        acc[t, 0] = bad
        acc[t, 1] = selfl
    for t in range(T):
        stats[0] += acc[t, 0]
        stats[1] += acc[t, 1]


@numba.njit(cache=True, parallel=True)
def _count(rows, cols, out_c, in_c):  # pragma: no cover - compiled
    # one thread counts the rows, another the columns: no test per edge, no race
    for t in prange(2):
        ids = rows if t == 0 else cols
        counts = out_c if t == 0 else in_c
        for i in range(ids.shape[0]):
            r = ids[i]
            if r >= 0:
                counts[r] += 1


@numba.njit(cache=True, parallel=True)
def _count_entries(indices, bounds, counts):  # pragma: no cover - compiled
    for t in prange(bounds.shape[0] - 1):
        a = bounds[t]
        b = bounds[t + 1]
        for i in range(indices.shape[0]):
            c = indices[i]
            if a <= c < b:
                counts[c] += 1


@numba.njit(cache=True, parallel=True)
def _place(rows, cols, lo, parts, cursor, first, buf):  # pragma: no cover - compiled
    # edge rows[i] -> cols[i] goes to the end of row rows[i] of the window at lo
    T = parts.shape[0] - 1
    acc = np.zeros(T, np.int64)
    for t in prange(T):
        a = parts[t]
        b = parts[t + 1]
        o = 0
        for i in range(rows.shape[0]):
            r = rows[i]
            if r < a or r >= b:
                continue
            j = r - lo
            p = cursor[j] - 1
            if p < first[j]:
                o += 1
                continue
            cursor[j] = p
            buf[p] = cols[i]
        acc[t] = o
    return acc.sum()


@numba.njit(cache=True, parallel=True)
def _transpose(indptr, indices, base, v0, v1, lo, parts, cursor, first,
               buf):  # pragma: no cover - compiled
    # rows v1-1 .. v0 of a CSR (entries from offset base): each entry u of row v puts v
    # at the end of row u of the window; later rows first, so window rows come out sorted
    T = parts.shape[0] - 1
    acc = np.zeros(T, np.int64)
    for t in prange(T):
        a = parts[t]
        b = parts[t + 1]
        o = 0
        for v in range(v1 - 1, v0 - 1, -1):
            for k in range(indptr[v] - base, indptr[v + 1] - base):
                u = indices[k]
                if u < a or u >= b:
                    continue
                j = u - lo
                p = cursor[j] - 1
                if p < first[j]:
                    o += 1
                    continue
                cursor[j] = p
                buf[p] = v
        acc[t] = o
    return acc.sum()


@numba.njit(cache=True, parallel=True)
def _kept(buf, cursor, first, dedupe, counts):  # pragma: no cover - compiled
    # entries each window row keeps: [cursor[j], first[j+1]) minus adjacent repeats
    for j in prange(counts.shape[0]):
        a = cursor[j]
        b = first[j + 1]
        c = b - a
        if dedupe:
            for k in range(a + 1, b):
                if buf[k] == buf[k - 1]:
                    c -= 1
        counts[j] = c


@numba.njit(cache=True, parallel=True)
def _write(buf, cursor, first, dedupe, starts, out):  # pragma: no cover - compiled
    # row j of the window goes to out[starts[j]:starts[j+1]]
    for j in prange(starts.shape[0] - 1):
        w = starts[j]
        a = cursor[j]
        for k in range(a, first[j + 1]):
            if dedupe and k > a and buf[k] == buf[k - 1]:
                continue
            out[w] = buf[k]
            w += 1


# -- helpers ---------------------------------------------------------------------------
def _threads() -> int:
    return max(1, int(numba.get_num_threads()))


def _split(ends: np.ndarray, lo: int, hi: int, parts: int) -> np.ndarray:
    """Row bounds cutting rows ``lo..hi`` into ``parts`` pieces of about equal entries
    (``ends`` is an indptr).

    Examples
    --------
    >>> _split(np.array([0, 5, 6, 10, 12]), 0, 4, 2).tolist()
    [0, 2, 4]
    """
    a, b = int(ends[lo]), int(ends[hi])
    goals = a + (b - a) * np.arange(1, parts) / parts
    mid = np.searchsorted(ends[lo:hi + 1], goals, side="left") + lo
    return np.concatenate([[lo], np.clip(mid, lo, hi), [hi]]).astype(np.int64)


def plan_windows(indptr: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Cut the rows of a CSR (given by ``indptr``) into consecutive windows of at most
    ``budget`` entries each (a longer row makes a window of its own).

    Examples
    --------
    >>> plan_windows(np.array([0, 3, 4, 9, 10]), 5)
    [(0, 2), (2, 3), (3, 4)]
    >>> plan_windows(np.array([0, 0, 0]), 5)
    [(0, 2)]
    """
    n = int(indptr.shape[0]) - 1
    budget = max(int(budget), 1)
    out = []
    lo = 0
    while lo < n:
        hi = int(np.searchsorted(indptr, int(indptr[lo]) + budget, side="right")) - 1
        hi = min(max(hi, lo + 1), n)
        out.append((lo, hi))
        lo = hi
    return out or [(0, 0)]


def write_edges(batches: Batches, path: str | os.PathLike) -> int:
    """Write ``(src, dst)`` batches to an edge file: int32 pairs, native byte order,
    8 bytes per edge (the format :func:`read_edges` and :func:`build_csr` read).

    Returns the number of edges written.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "e.bin")
    >>> write_edges([(np.array([0, 1]), np.array([1, 2]))], p), os.path.getsize(p)
    (2, 16)
    """
    total = 0
    with open(path, "wb") as f:
        for src, dst in batches:
            _pairs(src, dst).tofile(f)
            total += len(src)
    return total


def _pairs(src: np.ndarray, dst: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    k = len(src)
    if len(dst) != k:
        raise UsageError("a batch's src and dst differ in length")
    pairs = np.empty((k, 2), np.int32) if out is None or out.shape[0] < k else out[:k]
    pairs[:, 0] = src
    pairs[:, 1] = dst
    return pairs


def read_edges(path: str | os.PathLike, batch: int | None = None
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream an edge file as ``(src, dst)`` int32 batches of at most ``batch`` edges
    (config ``rmat_batch``); only one batch is in memory at a time.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "e.bin")
    >>> _ = write_edges([(np.arange(5), np.arange(5) + 1)], p)
    >>> [s.tolist() for s, _ in read_edges(p, batch=2)]
    [[0, 1], [2, 3], [4]]
    """
    batch = int(config.value("rmat_batch", batch))
    if batch < 1:
        raise UsageError(f"the batch size must be positive, got {batch}")
    size = os.path.getsize(path)
    if size % 8:
        raise InputError(f"{path}: an edge file holds int32 pairs (8 bytes each), "
                         f"but it has {size} bytes")
    with open(path, "rb") as f:
        left = size // 8
        while left > 0:
            k = min(batch, left)
            pairs = np.fromfile(f, dtype=np.int32, count=2 * k).reshape(k, 2)
            left -= k
            yield pairs[:, 0], pairs[:, 1]


def _drop_pages(arr: np.memmap, start: int, stop: int) -> None:
    """Tell the OS this process is done with elements ``start:stop`` of a memmap (its
    resident set shrinks; the page cache keeps the data)."""
    mm = getattr(arr, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or stop <= start:
        return
    item = arr.dtype.itemsize
    page = mmap.PAGESIZE
    a = (start * item + int(arr.offset)) // page * page
    b = stop * item + int(arr.offset)
    try:
        mm.madvise(mmap.MADV_DONTNEED, a, b - a)
    except (OSError, ValueError):  # pragma: no cover - best effort
        pass


def _available_memory() -> int:
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except Exception:  # pragma: no cover - psutil is a dependency
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _dir_bytes(path: Path) -> int:
    total = 0
    for p in path.iterdir():
        try:
            total += os.stat(p).st_blocks * 512
        except OSError:  # pragma: no cover - deleted meanwhile
            pass
    return total


# -- the result ------------------------------------------------------------------------
class OutOfCoreCSR:
    """Both CSR directions of a graph, their edge arrays mapped from files.

    Made by :func:`build_csr`. ``out_indices[out_indptr[v]:out_indptr[v + 1]]`` are the
    vertices ``v`` points to and ``in_indices[...]`` those pointing to ``v``, rows
    sorted. The arrays are plain views of read-only ``np.memmap`` files (the indptrs
    are in RAM); :meth:`close` (or leaving a ``with`` block) deletes the work folder.

    Attributes
    ----------
    n, m : int
        Vertices and edges.
    drawn : int
        Edges read, after self-loops were dropped and before repeats were merged.
    self_loops, duplicates : int
        Self-loops dropped and repeated edges merged.
    perm : int32 array or None
        ``perm[old id] = new id`` when built with ``order="degree"``.
    workdir : Path
        Folder of the files (deleted by :meth:`close`).
    seconds : dict
        Seconds per build phase.
    disk_peak : int
        Most bytes the work folder held at a phase's end.
    windows : dict
        Windows per phase (1 each when the budget holds everything).

    Examples
    --------
    >>> src, dst = np.array([0, 1], np.int32), np.array([1, 0], np.int32)
    >>> g = build_csr(lambda: [(src, dst)], 2)
    >>> g.out_degree().tolist(), g.in_degree().tolist(), g.workdir.exists()
    ([1, 1], [1, 1], True)
    >>> g.close(); g.workdir.exists()
    False
    """

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)

    def out_degree(self) -> np.ndarray:
        """Out-degree of every vertex (int64).

        Examples
        --------
        >>> with build_csr(lambda: [(np.array([0]), np.array([1]))], 2) as g:
        ...     g.out_degree().tolist()
        [1, 0]
        """
        return np.diff(self.out_indptr)

    def in_degree(self) -> np.ndarray:
        """In-degree of every vertex (int64).

        Examples
        --------
        >>> with build_csr(lambda: [(np.array([0]), np.array([1]))], 2) as g:
        ...     g.in_degree().tolist()
        [0, 1]
        """
        return np.diff(self.in_indptr)

    def close(self) -> None:
        """Unmap the arrays and delete the work folder.

        Examples
        --------
        >>> g = build_csr(lambda: [], 1); g.close(); g.out_indices is None
        True
        """
        self.out_indices = self.in_indices = None
        if getattr(self, "_owned", False) and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "OutOfCoreCSR":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OutOfCoreCSR(n={self.n}, m={self.m}, workdir={str(self.workdir)!r})"


# -- the builder -----------------------------------------------------------------------
class _Builder:
    def __init__(self, source, n, *, workdir, dedupe, loops, order, memory_gb, spill,
                 batch, edges, progress):
        self.n = int(n)
        if self.n < 0 or self.n > 2**31 - 1:
            raise UsageError(f"the number of vertices must be within 0..2**31-1, got {n}")
        if order not in (None, "degree"):
            raise UsageError(f"order must be None or 'degree', got {order!r}")
        self.batch = int(config.value("rmat_batch", batch))
        if self.batch < 1:
            raise UsageError(f"the batch size must be positive, got {self.batch}")
        self.chunk = max(int(config.get("outofcore_chunk")), 1)
        mem = float(config.value("outofcore_memory_gb", memory_gb))
        if not mem > 0:
            raise UsageError(f"the memory budget must be positive, got {mem} GB")
        self.budget = int(mem * _GB)
        self.file = None
        if callable(source):
            self.factory = source
            self.spill = True if spill is None else bool(spill)
        elif isinstance(source, (str, os.PathLike)):
            self.file = Path(source)
            if not self.file.is_file():
                raise UsageError(f"no edge file at {self.file}")
            self.factory = lambda: read_edges(self.file, self.batch)
            self.spill = False
            edges = os.path.getsize(self.file) // 8
        else:
            raise UsageError("source must be a callable returning (src, dst) batches "
                             "or the path of an edge file")
        self.dedupe, self.loops, self.order = bool(dedupe), bool(loops), order
        self.progress = progress
        self.fixed = _PER_VERTEX * (self.n + 1) + (8 * self.n if order else 0) \
            + _PER_BATCH * self.batch
        if self.fixed >= self.budget:
            raise UsageError(f"a memory budget of {mem:g} GB is too small for {self.n:,} "
                             f"vertices and batches of {self.batch:,} edges: it needs more "
                             f"than {self.fixed / _GB:.2f} GB (outofcore_memory_gb)")
        avail = _available_memory()
        if self.fixed > avail:
            raise UsageError(f"not enough free memory: {self.n:,} vertices need "
                             f"{self.fixed / _GB:.2f} GB, {avail / _GB:.2f} GB are available")
        self.budget = min(self.budget, int(avail * 0.9))
        base = str(config.value("outofcore_workdir", workdir) or "") or tempfile.gettempdir()
        if not os.path.isdir(base):
            raise UsageError(f"work folder {base} does not exist")
        self.base = base
        if edges is not None:
            self._check_disk(int(edges), with_spill=self.spill)
        self.dir = Path(tempfile.mkdtemp(prefix="trueclout-csr-", dir=base))
        self.seconds: dict[str, float] = {}
        self.windows: dict[str, int] = {}
        self.disk_peak = 0

    # - checks -
    def _need(self, edges: int, with_spill: bool) -> int:
        return (12 if with_spill else 8) * edges + 24 * (self.n + 1)

    def _check_disk(self, edges: int, with_spill: bool, have: int = 0) -> None:
        need = self._need(edges, with_spill) - have
        free = shutil.disk_usage(self.base).free
        if need > free:
            raise UsageError(f"not enough disk in the work folder {self.base}: {edges:,} "
                             f"edges need {need / _GB:.1f} GB more, {free / _GB:.1f} GB are "
                             f"free (set outofcore_workdir to a larger disk)")

    def _tick(self, stage: str, done: int) -> None:
        if self.progress:
            self.progress(stage, int(done))

    def _disk(self) -> None:
        self.disk_peak = max(self.disk_peak, _dir_bytes(self.dir))

    def _window_entries(self) -> int:
        return max((self.budget - self.fixed) // 4, 1)

    def _memmap(self, name: str, size: int, mode: str = "w+") -> np.memmap:
        path = self.dir / name
        if mode == "w+" and size == 0:
            path.write_bytes(b"")
            return np.zeros(0, np.int32)
        return np.memmap(path, dtype=np.int32, mode=mode, shape=(size,))

    # - 1. count -
    def count(self) -> None:
        t0 = time.perf_counter()
        n = self.n
        self.out_c = np.zeros(n + 1, np.int64)
        self.in_c = np.zeros(n + 1, np.int64)
        stats = np.zeros(2, np.int64)
        self.read = 0
        rows = np.empty(self.batch, np.int32)
        cols = np.empty(self.batch, np.int32)
        spill_f = open(self.dir / "spill.bin", "wb") if self.spill else None
        pairs = np.empty((self.batch, 2), np.int32) if self.spill else None
        try:
            for src, dst in self.factory():
                src = np.asarray(src)
                dst = np.asarray(dst)
                if len(src) != len(dst):
                    raise InputError("a batch's src and dst differ in length")
                for a in range(0, len(src), self.batch):
                    s = src[a:a + self.batch]
                    d = dst[a:a + self.batch]
                    k = len(s)
                    _prepare(s, d, _EMPTY_I32, n, self.loops, rows[:k], cols[:k], stats,
                             _threads())
                    _count(rows[:k], cols[:k], self.out_c, self.in_c)
                    if spill_f is not None:
                        _pairs(s, d, pairs).tofile(spill_f)
                    self.read += k
                    self._tick("counting", self.read)
        finally:
            if spill_f is not None:
                spill_f.close()
        if stats[0]:
            raise InputError(f"{int(stats[0]):,} of {self.read:,} edges name a vertex "
                             f"outside 0..{n - 1}")
        self.self_loops = int(stats[1])
        self.drawn = int(self.out_c.sum())
        if self.spill:
            self.factory = lambda: read_edges(self.dir / "spill.bin", self.batch)
        self._check_disk(self.drawn, self.spill, have=_dir_bytes(self.dir))
        self.lut = _EMPTY_I32
        self.perm = None
        if self.order == "degree":
            from .reorder import degree_permutation
            self.perm = degree_permutation(self.out_c[:n], self.in_c[:n]).astype(np.int32)
            self.lut = self.perm
            order = np.empty(n, np.int64)          # new id -> old id
            order[self.perm] = np.arange(n, dtype=np.int64)
            self.out_c[:n] = self.out_c[order]
            self.in_c[:n] = self.in_c[order]
            del order
        self._disk()
        self.seconds["count"] = time.perf_counter() - t0

    # - windows -
    def _windows(self, ends: np.ndarray, phase: str) -> list[tuple[int, int]]:
        cap = self._window_entries()
        big = int(np.diff(ends).max(initial=0))
        if big > cap:
            raise UsageError(f"a row of {big:,} entries does not fit the memory budget "
                             f"({cap:,} entries after the per-vertex arrays); raise "
                             f"outofcore_memory_gb")
        wins = plan_windows(ends, cap)
        self.windows[phase] = len(wins)
        self.cap = min(cap, int(ends[-1]) or 1)
        return wins

    def _flush_window(self, buf, cursor, first, dedupe, out, starts, offset) -> int:
        """Write the window's rows to ``out`` from ``offset``; ``starts`` (one more than
        the rows) receives their start positions. Returns the end position."""
        _kept(buf, cursor, first, dedupe, starts[1:])
        np.cumsum(starts[1:], out=starts[1:])
        starts += offset
        starts[0] = offset
        _write(buf, cursor, first, dedupe, starts, np.asarray(out))
        end = int(starts[-1])
        _drop_pages(out, offset, end)
        return end

    # - 2. place: raw in-CSR -
    def _window_arrays(self, ends, lo, hi):
        base = int(ends[lo])
        first = ends[lo:hi + 1] if base == 0 else ends[lo:hi + 1] - base
        return base, first, first[1:].copy(), _split(ends, lo, hi, _threads())

    def place(self) -> None:
        t0 = time.perf_counter()
        n = self.n
        ends = np.zeros(n + 1, np.int64)   # in-CSR indptr of the drawn edges
        np.cumsum(self.in_c[:n], out=ends[1:])
        self.in_c = None
        raw = self._memmap("raw_in.i32", self.drawn)
        wins = self._windows(ends, "place")
        buf = np.empty(self.cap, np.int32)
        rows = np.empty(self.batch, np.int32)
        cols = np.empty(self.batch, np.int32)
        stats = np.zeros(2, np.int64)
        for lo, hi in wins:
            base, first, cursor, parts = self._window_arrays(ends, lo, hi)
            done = 0
            for src, dst in self.factory():
                src = np.asarray(src)
                dst = np.asarray(dst)
                for a in range(0, len(src), self.batch):
                    s = src[a:a + self.batch]
                    d = dst[a:a + self.batch]
                    k = len(s)
                    _prepare(s, d, self.lut, n, self.loops, rows[:k], cols[:k], stats,
                             _threads())
                    # the in-CSR: row = target, entry = source
                    if _place(cols[:k], rows[:k], lo, parts, cursor, first, buf):
                        raise InputError("the edge stream gave more edges on a later pass "
                                         "than on the first; it must be regenerable")
                    done += k
                    self._tick("placing", done)
            if int((cursor - first[:-1]).sum()):
                raise InputError("the edge stream gave fewer edges on a later pass than "
                                 "on the first; it must be regenerable")
            starts = np.empty(hi - lo + 1, np.int64)
            self._flush_window(buf, cursor, first, False, raw, starts, base)
            del starts, cursor, first
        del buf, rows, cols
        self._disk()
        if self.spill:
            os.unlink(self.dir / "spill.bin")
        self.raw, self.raw_ptr = raw, ends
        self.seconds["place"] = time.perf_counter() - t0

    # - 3./4. transposes -
    def _transpose(self, src_ptr, src_idx, ends, dedupe, name, stage):
        """Transpose the CSR (src_ptr, src_idx) into file ``name``; ``ends`` is the
        result's indptr before dedupe. Returns (indptr, memmap, entries)."""
        n = self.n
        wins = self._windows(ends, stage)
        out = self._memmap(name, int(ends[-1]))
        buf = np.empty(self.cap, np.int32)
        ptr = np.zeros(n + 1, np.int64)
        # source rows cut into chunks of about `chunk` entries, read from the last
        chunks = plan_windows(src_ptr, self.chunk)[::-1]
        offset = 0
        for lo, hi in wins:
            base, first, cursor, parts = self._window_arrays(ends, lo, hi)
            for v0, v1 in chunks:
                a, b = int(src_ptr[v0]), int(src_ptr[v1])
                over = _transpose(src_ptr, np.asarray(src_idx[a:b]), a, v0, v1, lo, parts,
                                  cursor, first, buf)
                _drop_pages(src_idx, a, b)
                if over:  # pragma: no cover - counts come from the same arrays
                    raise RuntimeError("transpose overflow")
            offset = self._flush_window(buf, cursor, first, dedupe, out, ptr[lo:hi + 1],
                                        offset)
            del cursor, first
            self._tick(stage, offset)
        del buf
        return ptr, out, offset

    def to_out(self) -> None:
        t0 = time.perf_counter()
        n = self.n
        ends = np.zeros(n + 1, np.int64)
        np.cumsum(self.out_c[:n], out=ends[1:])
        self.out_c = None
        ptr, out, m = self._transpose(self.raw_ptr, self.raw, ends, self.dedupe,
                                      "out.i32", "transposing")
        del ends
        self._disk()
        self.raw = self.raw_ptr = None
        os.unlink(self.dir / "raw_in.i32")
        del out
        if m < self.drawn:
            os.truncate(self.dir / "out.i32", 4 * m)
        self.m = m
        self.out_ptr = ptr
        self.out = self._memmap("out.i32", m, mode="r") if m else np.zeros(0, np.int32)
        self.seconds["out"] = time.perf_counter() - t0

    def to_in(self) -> None:
        t0 = time.perf_counter()
        n = self.n
        ends = np.zeros(n + 1, np.int64)
        bounds = _split(np.arange(n + 1, dtype=np.int64), 0, n, _threads())
        for v0, v1 in plan_windows(self.out_ptr, self.chunk):
            a, b = int(self.out_ptr[v0]), int(self.out_ptr[v1])
            _count_entries(np.asarray(self.out[a:b]), bounds, ends[1:])
        np.cumsum(ends, out=ends)
        ptr, out, m = self._transpose(self.out_ptr, self.out, ends, False, "in.i32",
                                      "transposing in")
        del out, ends
        self.in_ptr = ptr
        self.inn = self._memmap("in.i32", m, mode="r") if m else np.zeros(0, np.int32)
        self._disk()
        self.seconds["in"] = time.perf_counter() - t0

    def result(self) -> OutOfCoreCSR:
        return OutOfCoreCSR(
            n=self.n, m=self.m, drawn=self.drawn, self_loops=self.self_loops,
            duplicates=self.drawn - self.m, perm=self.perm, workdir=self.dir,
            out_indptr=self.out_ptr, out_indices=np.asarray(self.out),
            in_indptr=self.in_ptr, in_indices=np.asarray(self.inn),
            seconds=dict(self.seconds), disk_peak=self.disk_peak,
            windows=dict(self.windows), memory_budget=self.budget, _owned=True)


def build_csr(source: Source, n: int, *, workdir: str | os.PathLike | None = None,
              dedupe: bool = True, loops: bool = False, order: str | None = None,
              memory_gb: float | None = None, spill: bool | None = None,
              batch: int | None = None, edges: int | None = None,
              progress: Progress = None) -> OutOfCoreCSR:
    """Build the out- and in-CSR of an edge stream out of core (see the module notes).

    Parameters
    ----------
    source : callable or path
        A callable returning an iterable of ``(src, dst)`` int32 batches, the same edges
        each call (e.g. ``lambda: rmat_edges(...)``), or the path of an edge file
        (:func:`write_edges`).
    n : int
        Number of vertices; ids must be within ``0..n-1``.
    workdir : path, optional
        Folder in which a fresh sub-folder holds the files (config
        ``outofcore_workdir``; empty means the system temp folder).
    dedupe : bool
        Merge repeated edges.
    loops : bool
        Keep self-loops (dropped by default).
    order : {None, "degree"}
        Relabel vertices by total degree, descending (``perm`` maps old to new ids).
    memory_gb : float, optional
        Memory budget of the build (config ``outofcore_memory_gb``); it is lowered to
        90% of the memory available when that is less.
    spill : bool, optional
        Write a callable source to an edge file while counting, so it is read only
        once (default True); False calls it again for each window.
    batch : int, optional
        Most edges handled at a time (config ``rmat_batch``); longer batches are split.
    edges : int, optional
        Expected number of edges, to check the disk before the first pass (it is
        checked again after it).
    progress : callable, optional
        Called with ``(stage, edges so far)``.

    Returns
    -------
    OutOfCoreCSR

    Raises
    ------
    UsageError
        Bad parameters, or too little memory or disk.
    InputError
        Ids outside ``0..n-1``, or a stream that changes between passes.

    Examples
    --------
    >>> from trueclout.graph.rmat import rmat_edges
    >>> with build_csr(lambda: rmat_edges(8, 4000, seed=1), 256, batch=1000) as g:
    ...     g.m < g.drawn == 4000 - g.self_loops, bool((g.in_degree() >= 0).all())
    (True, True)
    >>> build_csr(lambda: [], 10, memory_gb=1e-9)
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: a memory budget of 1e-09 GB is too small ...
    """
    b = _Builder(source, n, workdir=workdir, dedupe=dedupe, loops=loops, order=order,
                 memory_gb=memory_gb, spill=spill, batch=batch, edges=edges,
                 progress=progress)
    try:
        b.count()
        b.place()
        b.to_out()
        b.to_in()
        return b.result()
    except BaseException:
        shutil.rmtree(b.dir, ignore_errors=True)
        raise


__all__ = ["OutOfCoreCSR", "build_csr", "plan_windows", "read_edges", "write_edges"]
