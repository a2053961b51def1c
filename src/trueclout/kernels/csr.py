"""Building compressed sparse row (CSR) arrays from edge lists, in bounded memory.

A CSR graph stores the neighbours of vertex ``v`` in ``indices[indptr[v]:indptr[v + 1]]``.
The builder is a two-pass counting sort (the way ``scipy.sparse`` turns COO into CSR):

1. :func:`count_degrees` counts the edges of each row, batch by batch;
   :func:`row_ends` turns the counts into the *end* of each row (an in-place cumulative
   sum), so the count array itself becomes the cursor array.
2. :func:`scatter` places each edge at ``--cursor[row]``, filling every row from its
   back. When every edge is placed the cursor array holds the row starts: it *is*
   ``indptr``. No second per-vertex array and no per-edge temporary is needed.
3. :func:`sort_rows` sorts each row (in parallel over rows), carrying timestamps along,
   so results do not depend on the order edges arrived in.

:func:`csr_from_edges` runs all three on in-memory arrays.

Timestamps are int32 epoch seconds; :data:`TS_UNKNOWN` (``-2**31``) marks an unknown time.
``lut`` arguments map input keys (store uids) to vertex ids; an empty ``lut`` means the
keys already are vertex ids. Keys the lut does not know (outside it, or mapped to -1)
are counted and skipped, never written out of bounds.

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.csr import csr_from_edges
>>> indptr, indices, ts = csr_from_edges(np.array([0, 0, 2]), np.array([2, 1, 0]), 3)
>>> indptr.tolist(), indices.tolist(), ts is None
([0, 2, 2, 3], [1, 2, 0], True)
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

#: Sentinel of an unknown timestamp in int32 timestamp arrays.
TS_UNKNOWN = np.int32(-2**31)
_TS_MIN = -2**31 + 1
_TS_MAX = 2**31 - 1
_INT64_MIN = np.iinfo(np.int64).min
_SMALL_ROW = 24  # rows up to this length are sorted by insertion sort, without allocating

_EMPTY_I32 = np.empty(0, np.int32)


def _as_i32(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.int32:
        if a.size and (a.min() < -2**31 or a.max() >= 2**31):
            raise ValueError("keys must fit in int32")
        a = a.astype(np.int32)
    return np.ascontiguousarray(a)


def _lut(lut: np.ndarray | None) -> np.ndarray:
    return _EMPTY_I32 if lut is None else _as_i32(lut)


# -- degree counting -------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _count(keys, lut, counts):
    n = counts.shape[0] - 1
    use_lut = lut.shape[0] > 0
    bad = 0
    for i in range(keys.shape[0]):
        k = keys[i]
        if use_lut:
            if k < 0 or k >= lut.shape[0]:
                bad += 1
                continue
            k = lut[k]
        if k < 0 or k >= n:
            bad += 1
            continue
        counts[k] += 1
    return bad


def count_degrees(keys: np.ndarray, counts: np.ndarray, lut: np.ndarray | None = None) -> int:
    """Add the number of occurrences of each vertex in ``keys`` to ``counts[:n]``.

    Parameters
    ----------
    keys : int32 array
        Row keys of a batch of edges (store uids if ``lut`` is given, else vertex ids).
    counts : int64 array of length n + 1
        Running counts, updated in place; the last slot is left alone.
    lut : int32 array, optional
        Key to vertex id; -1 marks an unknown key.

    Returns
    -------
    int
        Number of keys skipped because they name no vertex.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.zeros(4, np.int64)
    >>> count_degrees(np.array([0, 2, 2, 7], np.int32), c)
    1
    >>> c.tolist()
    [1, 0, 2, 0]
    """
    return int(_count(_as_i32(keys), _lut(lut), counts))


def row_ends(counts: np.ndarray) -> int:
    """Turn per-row counts into row ends, in place: ``counts[v]`` becomes the end of
    row ``v`` and ``counts[n]`` the number of edges, which is returned.

    After :func:`scatter` has placed every edge, the same array is the CSR ``indptr``.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([1, 0, 2, 0], np.int64)
    >>> row_ends(c), c.tolist()
    (3, [1, 1, 3, 3])
    """
    n = counts.shape[0] - 1
    np.cumsum(counts[:n], out=counts[:n])
    counts[n] = counts[n - 1] if n else 0
    return int(counts[n])


# -- scatter ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _scatter(rows, cols, ts, lut, cursor, indices, out_ts):
    n = cursor.shape[0] - 1
    use_lut = lut.shape[0] > 0
    has_in_ts = ts.shape[0] > 0
    has_out_ts = out_ts.shape[0] > 0
    placed = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        c = cols[i]
        if use_lut:
            if r < 0 or r >= lut.shape[0] or c < 0 or c >= lut.shape[0]:
                continue
            r = lut[r]
            c = lut[c]
        if r < 0 or r >= n or c < 0 or c >= n:
            continue
        p = cursor[r] - 1
        if p < 0:  # more edges than counted (the input changed): never write out of bounds
            continue
        cursor[r] = p
        indices[p] = c
        if has_out_ts:
            out_ts[p] = ts[i] if has_in_ts else TS_UNKNOWN
        placed += 1
    return placed


def scatter(rows: np.ndarray, cols: np.ndarray, cursor: np.ndarray, indices: np.ndarray,
            ts: np.ndarray | None = None, out_ts: np.ndarray | None = None,
            lut: np.ndarray | None = None) -> int:
    """Place a batch of edges ``rows[i] -> cols[i]`` into CSR arrays.

    Parameters
    ----------
    rows, cols : int32 arrays
        Keys of the edge ends; the row key picks the CSR row, the column key is stored.
    cursor : int64 array of length n + 1
        Row ends from :func:`row_ends`; decremented in place. When every edge has been
        placed it equals ``indptr``.
    indices : int32 array
        Column ids, written in place.
    ts, out_ts : int32 arrays, optional
        Timestamps of the batch, and the CSR timestamp array to write them to. When
        ``out_ts`` is given and ``ts`` is not, :data:`TS_UNKNOWN` is written.
    lut : int32 array, optional
        Key to vertex id, as in :func:`count_degrees`.

    Returns
    -------
    int
        Number of edges placed (edges with an unknown end are skipped).

    Examples
    --------
    >>> import numpy as np
    >>> cur = np.array([1, 1, 3, 3])           # row_ends of degrees [1, 0, 2]
    >>> idx = np.zeros(3, np.int32)
    >>> scatter(np.array([2, 0, 2]), np.array([0, 1, 1]), cur, idx)
    3
    >>> cur.tolist(), idx.tolist()
    ([0, 1, 1, 3], [1, 1, 0])
    """
    r = _as_i32(rows)
    c = _as_i32(cols)
    if r.shape != c.shape:
        raise ValueError("rows and cols differ in length")
    t = _EMPTY_I32 if ts is None else _as_i32(ts)
    if t.size and t.shape != r.shape:
        raise ValueError("ts differs in length from rows")
    o = _EMPTY_I32 if out_ts is None else out_ts
    return int(_scatter(r, c, t, _lut(lut), cursor, indices, o))


@numba.njit(cache=True, nogil=True)
def _clip_ts(t):
    if t < _TS_MIN:
        return np.int32(_TS_MIN)
    if t > _TS_MAX:
        return np.int32(_TS_MAX)
    return np.int32(t)


@numba.njit(cache=True, nogil=True)
def _scatter64(rows, cols, ts, valid, bit_offset, lut, cursor, indices, out_ts):
    n = cursor.shape[0] - 1
    use_lut = lut.shape[0] > 0
    all_valid = valid.shape[0] == 0
    placed = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        c = cols[i]
        if use_lut:
            if r < 0 or r >= lut.shape[0] or c < 0 or c >= lut.shape[0]:
                continue
            r = lut[r]
            c = lut[c]
        if r < 0 or r >= n or c < 0 or c >= n:
            continue
        p = cursor[r] - 1
        if p < 0:  # more edges than counted (the input changed): never write out of bounds
            continue
        cursor[r] = p
        indices[p] = c
        b = bit_offset + i
        if all_valid or (valid[b >> 3] >> (b & 7)) & 1:
            out_ts[p] = _clip_ts(ts[i])
        else:
            out_ts[p] = TS_UNKNOWN
        placed += 1
    return placed


def scatter_ts64(rows: np.ndarray, cols: np.ndarray, cursor: np.ndarray,
                 indices: np.ndarray, ts: np.ndarray, out_ts: np.ndarray,
                 valid: np.ndarray | None = None, bit_offset: int = 0,
                 lut: np.ndarray | None = None) -> int:
    """:func:`scatter` for int64 epoch seconds with an Arrow validity bitmap.

    Reads the times straight from an Arrow array's buffers, so no converted copy of the
    batch is made: entry ``i`` is known when bit ``bit_offset + i`` of ``valid`` (LSB
    first) is set, or always when ``valid`` is None. Known times are clipped to the
    int32 range (1901-12-13 .. 2038-01-19).

    Examples
    --------
    >>> import numpy as np
    >>> cur = np.array([2, 2, 2])                # row ends: row 0 holds both edges
    >>> idx, t = np.zeros(2, np.int32), np.zeros(2, np.int32)
    >>> valid = np.array([0b01], np.uint8)       # second time is null
    >>> scatter_ts64(np.array([0, 0]), np.array([1, 0]), cur, idx,
    ...              np.array([5, 0], np.int64), t, valid)
    2
    >>> idx.tolist(), t.tolist()
    ([0, 1], [-2147483648, 5])
    """
    r = _as_i32(rows)
    c = _as_i32(cols)
    v = np.ascontiguousarray(ts, dtype=np.int64)
    if r.shape != c.shape or v.shape != r.shape:
        raise ValueError("rows, cols and ts differ in length")
    bits = np.empty(0, np.uint8) if valid is None else valid
    return int(_scatter64(r, c, v, bits, int(bit_offset), _lut(lut), cursor, indices, out_ts))


# -- per-row sort ----------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _sorted_row(indices, ts, a, b, with_ts):
    for k in range(a + 1, b):
        if indices[k] < indices[k - 1]:
            return False
        if with_ts and indices[k] == indices[k - 1] and ts[k] < ts[k - 1]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _sort_one(indices, ts, a, b, with_ts):
    d = b - a
    if d < 2 or _sorted_row(indices, ts, a, b, with_ts):
        return
    if d <= _SMALL_ROW:
        for k in range(a + 1, b):
            x = indices[k]
            t = ts[k] if with_ts else 0
            j = k - 1
            while j >= a and (indices[j] > x or
                              (with_ts and indices[j] == x and ts[j] > t)):
                indices[j + 1] = indices[j]
                if with_ts:
                    ts[j + 1] = ts[j]
                j -= 1
            indices[j + 1] = x
            if with_ts:
                ts[j + 1] = t
        return
    if not with_ts:
        indices[a:b].sort()
        return
    # pack (index, ts) into one int64 key: index * 2**32 + (ts + 2**31)
    key = np.empty(d, np.int64)
    for k in range(d):
        key[k] = (np.int64(indices[a + k]) << 32) + (np.int64(ts[a + k]) + 2147483648)
    key.sort()
    for k in range(d):
        indices[a + k] = np.int32(key[k] >> 32)
        ts[a + k] = np.int32((key[k] & 0xFFFFFFFF) - 2147483648)


@numba.njit(cache=True, parallel=True)
def _sort_rows(indptr, indices, ts, with_ts):
    n = indptr.shape[0] - 1
    for v in prange(n):
        _sort_one(indices, ts, indptr[v], indptr[v + 1], with_ts)


def sort_rows(indptr: np.ndarray, indices: np.ndarray, ts: np.ndarray | None = None) -> None:
    """Sort every CSR row ascending, in place, in parallel over rows.

    With ``ts``, entries are ordered by (index, ts) and the timestamps move with their
    indices. Rows already in order are only checked. Short rows use insertion sort;
    longer rows allocate a temporary of their own length (8 bytes per entry with ``ts``).

    Examples
    --------
    >>> import numpy as np
    >>> indptr = np.array([0, 3, 5])
    >>> idx = np.array([4, 1, 2, 9, 3], np.int32)
    >>> ts = np.array([40, 10, 20, 90, 30], np.int32)
    >>> sort_rows(indptr, idx, ts)
    >>> idx.tolist(), ts.tolist()
    ([1, 2, 4, 3, 9], [10, 20, 40, 30, 90])
    """
    with_ts = ts is not None
    _sort_rows(indptr, indices, ts if with_ts else _EMPTY_I32, with_ts)


# -- duplicates ------------------------------------------------------------------------
@numba.njit(cache=True, parallel=True)
def _count_dups(indptr, indices):
    n = indptr.shape[0] - 1
    total = 0
    for v in prange(n):
        c = 0
        for k in range(indptr[v] + 1, indptr[v + 1]):
            if indices[k] == indices[k - 1]:
                c += 1
        total += c
    return total


def count_duplicates(indptr: np.ndarray, indices: np.ndarray) -> int:
    """Number of entries that repeat the previous entry of their (sorted) row.

    Examples
    --------
    >>> import numpy as np
    >>> count_duplicates(np.array([0, 3, 4]), np.array([1, 1, 2, 2], np.int32))
    1
    """
    return int(_count_dups(indptr, indices))


@numba.njit(cache=True, nogil=True)
def _dedupe(indptr, indices, ts, with_ts):
    n = indptr.shape[0] - 1
    w = 0
    start = indptr[0]
    for v in range(n):
        end = indptr[v + 1]
        k = start
        row_start = w
        while k < end:
            x = indices[k]
            best = TS_UNKNOWN
            while k < end and indices[k] == x:
                if with_ts and best == TS_UNKNOWN and ts[k] != TS_UNKNOWN:
                    best = ts[k]  # rows are sorted by (index, ts): first known is earliest
                k += 1
            indices[w] = x
            if with_ts:
                ts[w] = best
            w += 1
        indptr[v] = row_start
        start = end
    indptr[n] = w
    return w


def dedupe_rows(indptr: np.ndarray, indices: np.ndarray,
                ts: np.ndarray | None = None) -> int:
    """Drop repeated entries of sorted rows, in place; keep the earliest known time.

    ``indptr`` is rewritten; the first ``indptr[-1]`` (returned) entries of ``indices``
    and ``ts`` hold the result.

    Examples
    --------
    >>> import numpy as np
    >>> indptr = np.array([0, 3, 4])
    >>> idx = np.array([1, 1, 2, 2], np.int32)
    >>> ts = np.array([TS_UNKNOWN, 5, 7, 8], np.int32)
    >>> m = dedupe_rows(indptr, idx, ts)
    >>> m, indptr.tolist(), idx[:m].tolist(), ts[:m].tolist()
    (3, [0, 2, 3], [1, 2, 2], [5, 7, 8])
    """
    with_ts = ts is not None
    return int(_dedupe(indptr, indices, ts if with_ts else _EMPTY_I32, with_ts))


# -- timestamps ------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _ts32(values, out):
    known = 0
    for i in range(values.shape[0]):
        t = values[i]
        if t == _INT64_MIN:
            out[i] = TS_UNKNOWN
            continue
        known += 1
        if t < _TS_MIN:
            t = _TS_MIN
        elif t > _TS_MAX:
            t = _TS_MAX
        out[i] = np.int32(t)
    return known


def ts_to_int32(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Convert int64 epoch seconds to int32, clipping to the int32 range.

    ``INT64_MIN`` (what a null becomes after ``fill_null(INT64_MIN)``) maps to
    :data:`TS_UNKNOWN`. Clipped times are before 1901-12-13 or after 2038-01-19.

    Examples
    --------
    >>> import numpy as np
    >>> ts_to_int32(np.array([0, 2**40, np.iinfo(np.int64).min])).tolist()
    [0, 2147483647, -2147483648]
    """
    v = np.ascontiguousarray(values, dtype=np.int64)
    if out is None:
        out = np.empty(v.shape[0], np.int32)
    _ts32(v, out)
    return out


# -- all in one ------------------------------------------------------------------------
def csr_from_edges(rows: np.ndarray, cols: np.ndarray, n: int, ts: np.ndarray | None = None,
                   *, lut: np.ndarray | None = None, dedupe: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """CSR arrays (int64 ``indptr``, int32 ``indices``, int32 ``ts`` or None) of the edges
    ``rows[i] -> cols[i]`` over ``n`` vertices, rows sorted ascending.

    Parameters
    ----------
    rows, cols : int arrays
        Edge ends (vertex ids, or keys of ``lut``).
    n : int
        Number of vertices.
    ts : int32 array, optional
        Timestamps; :data:`TS_UNKNOWN` marks an unknown one.
    lut : int32 array, optional
        Key to vertex id.
    dedupe : bool
        Drop repeated edges, keeping the earliest known time.

    Examples
    --------
    >>> import numpy as np
    >>> p, i, t = csr_from_edges([1, 0, 1], [0, 1, 0], 2, ts=np.array([5, 6, 3], np.int32),
    ...                          dedupe=True)
    >>> p.tolist(), i.tolist(), t.tolist()
    ([0, 1, 2], [1, 0], [6, 3])
    """
    r = _as_i32(rows)
    c = _as_i32(cols)
    lt = _lut(lut)
    cursor = np.zeros(n + 1, np.int64)
    bad = _count(r, lt, cursor)
    if bad:
        raise ValueError(f"{bad} edges name no vertex of 0..{n - 1}")
    m = row_ends(cursor)
    indices = np.empty(m, np.int32)
    out_ts = None if ts is None else np.empty(m, np.int32)
    scatter(r, c, cursor, indices, ts=ts, out_ts=out_ts, lut=lt if lt.size else None)
    sort_rows(cursor, indices, out_ts)
    if dedupe and count_duplicates(cursor, indices):
        k = dedupe_rows(cursor, indices, out_ts)
        indices = indices[:k].copy()
        out_ts = None if out_ts is None else out_ts[:k].copy()
    return cursor, indices, out_ts


def csr_edges(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edges of a CSR as two arrays ``(rows, cols)``: the inverse of
    :func:`csr_from_edges` (rows as int32, ``cols`` is ``indices`` itself).

    Examples
    --------
    >>> r, c = csr_edges(np.array([0, 2, 2, 3]), np.array([1, 2, 0], np.int32))
    >>> r.tolist(), c.tolist()
    ([0, 0, 2], [1, 2, 0])
    """
    rows = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int32), np.diff(indptr))
    return rows, indices


@numba.njit(cache=True, nogil=True)
def row_contains(indices, lo, hi, x):
    """True when the sorted slice ``indices[lo:hi]`` holds ``x`` (binary search).

    The membership test behind reciprocity, follow-back and closed-group checks; callable
    from other numba kernels.

    Examples
    --------
    >>> import numpy as np
    >>> row = np.array([1, 3, 5, 9], np.int32)
    >>> bool(row_contains(row, 0, 4, 5)), bool(row_contains(row, 0, 4, 4))
    (True, False)
    """
    while lo < hi:
        mid = (lo + hi) >> 1
        y = indices[mid]
        if y < x:
            lo = mid + 1
        elif y > x:
            hi = mid
        else:
            return True
    return False


def edge_blocks(indptr: np.ndarray, parts: int | None = None) -> np.ndarray:
    """Split the rows of a CSR into consecutive blocks holding about equal numbers of
    entries, for parallel loops over rows (``prange`` over blocks).

    A plain ``prange`` over rows splits the *rows* evenly; in a heavy-tailed graph one
    thread can then get most of the edges (rows sorted by degree make it certain).
    Blocks of equal edge counts keep both threads busy; ``parts`` defaults to 16 blocks
    per numba thread, so a block with one huge row is balanced by the others.

    Returns
    -------
    int64 array of block bounds (row numbers), ascending, first 0, last ``n``

    Examples
    --------
    >>> edge_blocks(np.array([0, 6, 7, 8, 9, 12]), 2).tolist()
    [0, 1, 5]
    >>> edge_blocks(np.array([0]), 4).tolist()
    [0, 0]
    """
    indptr = np.asarray(indptr)
    n = indptr.shape[0] - 1
    if parts is None:
        parts = 16 * numba.get_num_threads()
    parts = max(1, int(parts))
    m = int(indptr[-1]) if n >= 0 else 0
    targets = np.linspace(0, m, parts + 1)[1:-1]
    inner = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds = np.unique(np.concatenate([[0], np.clip(inner, 0, n), [n]]).astype(np.int64))
    if bounds.shape[0] == 1:
        bounds = np.array([0, n], np.int64)
    return bounds
