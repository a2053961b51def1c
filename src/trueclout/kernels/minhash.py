"""Set overlap over CSR rows: an exact sorted-row merge, and bottom-k MinHash sketches.

Both work on a list of CSR rows (for discovery: the in-CSR rows of some creators, that
is their followers) restricted to the entries whose ``weight`` is positive, and count
each element both once and by its weight.

Exact: :func:`merge_rows` walks the sorted rows together (a ``C``-way merge that takes
the smallest head each step, ``O(D·C)`` for ``D`` entries in ``C`` rows, no extra memory
beyond the outputs). Every element met is in the union; it adds to the intersection of
every pair of rows that hold it, and to the *unique* count of a row when no other row
holds it.

MinHash: one 64-bit hash (splitmix64 of the element id, mixed with a fixed seed) and the
``k`` smallest hash values of each row: a **bottom-k sketch** (Cohen & Kaplan, PODC 2007;
Broder 1997's MinHash with one permutation). The ``k`` smallest hashes of a union are
found from the rows' sketches alone (an element among the ``k`` smallest of the union is
among the ``k`` smallest of every row that holds it), so :func:`sketch_union` returns a
uniform random sample of up to ``k`` elements of the union **with their membership in
every row**. A share of the sample estimates the same share of the union: Jaccard
``|A∩B| / |A∪B|`` by the sampled elements in both, with standard error
``sqrt(J (1 − J) / k) ≤ 1 / (2 √k)`` (sampling without replacement only lowers it), and
exactly when the union has at most ``k`` elements. Sketches cost ``O(d log k)`` per row
and ``k`` hashes (16 bytes with the ids) per row to keep.

Examples
--------
>>> import numpy as np
>>> indptr = np.array([0, 3, 6]); indices = np.array([1, 2, 3, 2, 3, 4], np.int32)
>>> w = np.ones(5, np.float32)
>>> inter, inter_w, uniq, uniq_w, union, union_w = merge_rows(indptr, indices,
...                                                           np.array([0, 1]), w)
>>> int(inter[0, 1]), uniq.tolist(), int(union)
(2, [1, 1], 4)
>>> sig, ids, size = bottom_k(indptr, indices, np.array([0, 1]), w, k=8, seed=0)
>>> size.tolist(), sorted(ids[0, :3].tolist())
([3, 3], [1, 2, 3])
>>> sample, member = sketch_union(sig, ids, np.array([0, 1]), 8)
>>> sorted(sample.tolist()), member.sum(axis=0).tolist()
([1, 2, 3, 4], [3, 3])
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

_U64_MAX = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, nogil=True)
def mix64(x):
    """splitmix64's finaliser: a bijective 64-bit hash (Steele et al., OOPSLA 2014).

    Examples
    --------
    >>> import numpy as np
    >>> int(mix64(np.uint64(1))) != int(mix64(np.uint64(2)))
    True
    """
    z = np.uint64(x) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _elem_hash(u, salt):
    return mix64(np.uint64(u) ^ salt)


# -- exact merge ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _merge(indptr, indices, rows, weight):  # pragma: no cover - compiled
    c = rows.shape[0]
    pos = np.empty(c, np.int64)
    end = np.empty(c, np.int64)
    for i in range(c):
        pos[i] = indptr[rows[i]]
        end[i] = indptr[rows[i] + 1]
    inter = np.zeros((c, c), np.int64)
    inter_w = np.zeros((c, c), np.float64)
    uniq = np.zeros(c, np.int64)
    uniq_w = np.zeros(c, np.float64)
    union = 0
    union_w = 0.0
    held = np.empty(c, np.int64)
    big = np.int64(2 ** 40)
    while True:
        # skip entries of zero weight, find the smallest head
        x = big
        for i in range(c):
            while pos[i] < end[i] and weight[indices[pos[i]]] <= 0:
                pos[i] += 1
            if pos[i] < end[i] and indices[pos[i]] < x:
                x = indices[pos[i]]
        if x == big:
            break
        r = 0
        for i in range(c):
            if pos[i] < end[i] and indices[pos[i]] == x:
                held[r] = i
                r += 1
                pos[i] += 1
        w = np.float64(weight[x])
        union += 1
        union_w += w
        if r == 1:
            uniq[held[0]] += 1
            uniq_w[held[0]] += w
        for a in range(r):
            ia = held[a]
            inter[ia, ia] += 1
            inter_w[ia, ia] += w
            for b in range(a + 1, r):
                ib = held[b]
                inter[ia, ib] += 1
                inter_w[ia, ib] += w
                inter[ib, ia] += 1
                inter_w[ib, ia] += w
    return inter, inter_w, uniq, uniq_w, union, union_w


def merge_rows(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray,
               weight: np.ndarray):
    """Exact overlap of CSR ``rows`` (sorted, no repeats), counting entries whose
    ``weight`` is positive.

    Returns
    -------
    inter : int64 (C, C)
        ``|row_a ∩ row_b|``; the diagonal holds each row's size.
    inter_w : float64 (C, C)
        The same, summing weights.
    uniq, uniq_w : (C,)
        Elements of each row held by no other listed row (count, weight).
    union, union_w : int, float
        The union of all rows.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0, 2, 4, 5]); i = np.array([0, 1, 1, 2, 1], np.int32)
    >>> r = merge_rows(p, i, np.array([0, 1, 2]), np.array([1, 2, 4], np.float32))
    >>> r[0].tolist(), r[2].tolist(), r[4], r[5]
    ([[2, 1, 1], [1, 2, 1], [1, 1, 1]], [1, 1, 0], 3, 7.0)
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    inter, inter_w, uniq, uniq_w, union, union_w = _merge(indptr, indices, rows, weight)
    return inter, inter_w, uniq, uniq_w, int(union), float(union_w)


# -- bottom-k sketches ---------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _sift_down_max(h, ids, size, i):  # pragma: no cover - compiled
    while True:
        left = 2 * i + 1
        if left >= size:
            return
        big = left
        right = left + 1
        if right < size and h[right] > h[left]:
            big = right
        if h[big] <= h[i]:
            return
        h[i], h[big] = h[big], h[i]
        ids[i], ids[big] = ids[big], ids[i]
        i = big


@numba.njit(cache=True, parallel=True)
def _bottom_k(indptr, indices, rows, weight, k, salt):  # pragma: no cover - compiled
    c = rows.shape[0]
    sig = np.full((c, k), _U64_MAX, np.uint64)
    ids = np.full((c, k), -1, np.int64)
    size = np.zeros(c, np.int64)
    for r in prange(c):
        h = np.empty(k, np.uint64)
        hid = np.empty(k, np.int64)
        fill = 0
        cnt = 0
        for p in range(indptr[rows[r]], indptr[rows[r] + 1]):
            u = indices[p]
            if weight[u] <= 0:
                continue
            cnt += 1
            x = _elem_hash(u, salt)
            if fill < k:
                # push into the max-heap
                j = fill
                h[j] = x
                hid[j] = u
                fill += 1
                while j > 0:
                    parent = (j - 1) // 2
                    if h[parent] >= h[j]:
                        break
                    h[parent], h[j] = h[j], h[parent]
                    hid[parent], hid[j] = hid[j], hid[parent]
                    j = parent
            elif x < h[0]:
                h[0] = x
                hid[0] = u
                _sift_down_max(h, hid, k, 0)
        size[r] = cnt
        order = np.argsort(h[:fill])
        for j in range(fill):
            sig[r, j] = h[order[j]]
            ids[r, j] = hid[order[j]]
    return sig, ids, size


def bottom_k(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray, weight: np.ndarray,
             *, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bottom-k MinHash sketch of each CSR row in ``rows`` (entries of positive weight).

    Parameters
    ----------
    indptr, indices : CSR arrays
    rows : int array
        Rows to sketch (for example creators, over the in-CSR: their followers).
    weight : float array
        Entries whose weight is not positive are left out of the sets.
    k : int
        Sketch size.
    seed : int
        Salt of the hash; a fixed seed makes sketches reproducible and comparable.

    Returns
    -------
    sig : uint64 (C, k)
        The ``k`` smallest hashes of each row, ascending (``2**64 − 1`` pads short rows).
    ids : int64 (C, k)
        The elements with those hashes (-1 pads).
    size : int64 (C,)
        Number of elements of each row (exact).

    Examples
    --------
    >>> import numpy as np
    >>> sig, ids, size = bottom_k(np.array([0, 4]), np.array([0, 1, 2, 3], np.int32),
    ...                           np.array([0]), np.ones(4), k=2, seed=7)
    >>> size.tolist(), bool(sig[0, 0] <= sig[0, 1]), ids.shape
    ([4], True, (1, 2))
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    salt = np.uint64(mix64(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)))
    return _bottom_k(indptr, indices, rows, weight, int(k), salt)


@numba.njit(cache=True, nogil=True)
def _union(sig, ids, rows, k):  # pragma: no cover - compiled
    c = rows.shape[0]
    kk = sig.shape[1]
    pos = np.zeros(c, np.int64)
    sample = np.empty(k, np.int64)
    member = np.zeros((k, c), np.bool_)
    got = 0
    while got < k:
        x = _U64_MAX
        for i in range(c):
            if pos[i] < kk and ids[rows[i], pos[i]] >= 0 and sig[rows[i], pos[i]] < x:
                x = sig[rows[i], pos[i]]
        if x == _U64_MAX:
            break
        first = True
        for i in range(c):
            if pos[i] < kk and ids[rows[i], pos[i]] >= 0 and sig[rows[i], pos[i]] == x:
                if first:
                    sample[got] = ids[rows[i], pos[i]]
                    first = False
                member[got, i] = True
                pos[i] += 1
        got += 1
    return sample[:got], member[:got]


def sketch_union(sig: np.ndarray, ids: np.ndarray, rows: np.ndarray, k: int):
    """The bottom-k sample of the union of the sketched rows ``rows`` (indices into
    ``sig``), with each sampled element's membership of every row.

    Returns
    -------
    sample : int64 (s,)
        Up to ``k`` elements, by ascending hash: a uniform random sample of the union
        (all of it when the union has at most ``k`` elements).
    member : bool (s, len(rows))

    Examples
    --------
    >>> import numpy as np
    >>> sig = np.array([[1, 5, 9], [2, 5, 7]], np.uint64)
    >>> ids = np.array([[10, 50, 90], [20, 50, 70]])
    >>> s, m = sketch_union(sig, ids, np.array([0, 1]), 3)
    >>> s.tolist(), m.astype(int).tolist()
    ([10, 20, 50], [[1, 0], [0, 1], [1, 1]])
    """
    k = min(int(k), sig.shape[1])
    return _union(sig, ids, np.ascontiguousarray(rows, dtype=np.int64), k)
