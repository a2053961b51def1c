"""Greedy peeling for dense blocks of a bipartite graph (Fraudar, Hooi et al., KDD 2016).

The follow graph is read as a biadjacency matrix: rows are followers (the out-CSR),
columns are followees (the in-CSR). A *block* is a set of rows ``R`` and columns ``C``;
its density is Fraudar's average weighted degree

    g(R, C) = f(R, C) / (|R| + |C|),    f(R, C) = sum of w(c) over edges r -> c in R x C.

Column weights resist camouflage: ``w(c) = 1 / log(d(c) + 5)`` where ``d(c)`` is the
in-degree of column ``c`` (Fraudar's logarithmic weighting, with the paper's constant 5).
Camouflage edges from a fraudulent row to outside columns do not count in ``f`` at all,
and popular columns, which honest rows follow en masse, weigh little.

The greedy (Fraudar's Algorithm 1) starts from every row and column with a live edge and
repeatedly removes the node (row or column) whose weighted degree within the remaining
set is smallest, updating the degrees of its neighbours; the densest set met along this
removal sequence is the block (within a factor 2 of the optimum). The nodes sit in an
indexed 4-ary min-heap of ``(priority, node id)`` pairs, keys stored in heap order (one
memory access less per comparison than keys indexed by node; 2.4x faster than a binary
heap over node-indexed keys on 12M edges): priorities only decrease, so a neighbour update
is one sift-up, and the whole peel costs ``O(E log V)``. Ties are broken by node id (rows
``0..n-1`` before columns ``n..2n-1``), so the result is deterministic.

:func:`dense_blocks` finds several blocks in sequence: the edges of a found block are
killed (Fraudar's code zeroes the block in the matrix) and the peel repeats, until ``k``
blocks are found or a block's density falls below ``min_ratio`` times the density of the
whole graph. Before each peel the graph can be reduced to its ``floor``-core (nodes of
weighted degree below the floor removed until none is left); the densest block, whose
every node has weighted degree at least its density, lies inside that core whenever its
density reaches the floor, so the reduction only removes work.

:func:`synchronized_edges` is the time filter of the CopyCatch variant (Beutel et al.,
WWW 2013): a follow ``r -> c`` at time ``t`` is synchronized when at least ``min_count``
follows of ``c`` (itself included) fall within ``[t - window, t + window]``.

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.csr import csr_from_edges
>>> from trueclout.kernels.peel import densest_block
>>> # rows 0-3 all follow columns 4 and 5; row 6 follows 4 only
>>> src = np.array([0, 0, 1, 1, 2, 2, 3, 3, 6]); dst = np.array([4, 5] * 4 + [4])
>>> op, oi, _ = csr_from_edges(src, dst, 7)
>>> ip, ii, _ = csr_from_edges(dst, src, 7)
>>> rows, cols, g = densest_block(op, oi, ip, ii)
>>> rows.tolist(), cols.tolist(), round(g, 3)
([0, 1, 2, 3], [4, 5], 0.593)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .csr import row_contains


#: Fraudar's constant in the column weight 1 / log(d + c) (Hooi et al. 2016, section 4.3).
FRAUDAR_C = 5.0


# -- indexed 4-ary min-heap of (key, node) pairs, keys stored in heap order ------------
@numba.njit(cache=True, nogil=True, inline="always")
def _lt(ka, a, kb, b):
    return ka < kb or (ka == kb and a < b)


@numba.njit(cache=True, nogil=True)
def _sift_up(hk, hn, pos, i):
    k = hk[i]
    node = hn[i]
    while i > 0:
        p = (i - 1) >> 2
        if _lt(k, node, hk[p], hn[p]):
            hk[i] = hk[p]
            hn[i] = hn[p]
            pos[hn[i]] = i
            i = p
        else:
            break
    hk[i] = k
    hn[i] = node
    pos[node] = i


@numba.njit(cache=True, nogil=True)
def _sift_down(hk, hn, pos, i, size):
    k = hk[i]
    node = hn[i]
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        bk = hk[c]
        bn = hn[c]
        end = min(c + 4, size)
        for j in range(c + 1, end):
            if _lt(hk[j], hn[j], bk, bn):
                best = j
                bk = hk[j]
                bn = hn[j]
        if _lt(bk, bn, k, node):
            hk[i] = bk
            hn[i] = bn
            pos[bn] = i
            i = best
        else:
            break
    hk[i] = k
    hn[i] = node
    pos[node] = i


# -- the peel -----------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _priorities(out_indptr, out_indices, out_live, in_indptr, in_live, col_w, alive):
    """Weighted degree of every row (sum of live edge weights, in CSR order) and column
    (weight times live in-degree); ``alive`` marks nodes with a live edge."""
    n = out_indptr.shape[0] - 1
    key = np.zeros(2 * n, np.float64)
    for r in range(n):
        s = 0.0
        cnt = 0
        for k in range(out_indptr[r], out_indptr[r + 1]):
            if out_live[k]:
                s += col_w[out_indices[k]]
                cnt += 1
        key[r] = s
        alive[r] = 1 if cnt > 0 else 0
    for c in range(n):
        cnt = 0
        for k in range(in_indptr[c], in_indptr[c + 1]):
            if in_live[k]:
                cnt += 1
        key[n + c] = col_w[c] * cnt
        alive[n + c] = 1 if cnt > 0 else 0
    return key


@numba.njit(cache=True, nogil=True)
def _remove(u, n, key, alive, out_indptr, out_indices, out_live, in_indptr, in_indices,
            in_live, col_w):
    """Remove node ``u`` before the heap exists: lower its live neighbours' priorities."""
    alive[u] = 0
    if u < n:
        for k in range(out_indptr[u], out_indptr[u + 1]):
            if out_live[k]:
                c = out_indices[k]
                if alive[n + c]:
                    key[n + c] -= col_w[c]
    else:
        c = u - n
        w = col_w[c]
        for k in range(in_indptr[c], in_indptr[c + 1]):
            if in_live[k]:
                r = in_indices[k]
                if alive[r]:
                    key[r] -= w


@numba.njit(cache=True, nogil=True)
def _peel(out_indptr, out_indices, out_live, in_indptr, in_indices, in_live, col_w, floor):
    """Fraudar's greedy. Returns (order of removal, index of the densest suffix, its
    density, density of the start set, number of nodes in the start set)."""
    n = out_indptr.shape[0] - 1
    alive = np.zeros(2 * n, np.uint8)
    key = _priorities(out_indptr, out_indices, out_live, in_indptr, in_live, col_w, alive)
    size0 = 0
    f0 = 0.0
    for u in range(2 * n):
        if alive[u]:
            size0 += 1
    for r in range(n):
        if alive[r]:
            f0 += key[r]
    g0 = f0 / size0 if size0 > 0 else 0.0
    pos = np.full(2 * n, -1, np.int32)
    # floor-core: drop nodes of weighted degree below ``floor`` until none is left
    if floor > 0.0:
        stack = np.empty(2 * n, np.int32)
        top = 0
        for u in range(2 * n):
            if alive[u] and key[u] < floor:
                stack[top] = u
                top += 1
                pos[u] = 0  # queued
        while top > 0:
            top -= 1
            u = stack[top]
            _remove(u, n, key, alive, out_indptr, out_indices, out_live, in_indptr,
                    in_indices, in_live, col_w)
            # neighbours that fell below the floor join the stack
            if u < n:
                for k in range(out_indptr[u], out_indptr[u + 1]):
                    if out_live[k]:
                        v = n + out_indices[k]
                        if alive[v] and pos[v] < 0 and key[v] < floor:
                            pos[v] = 0
                            stack[top] = v
                            top += 1
            else:
                c = u - n
                for k in range(in_indptr[c], in_indptr[c + 1]):
                    if in_live[k]:
                        v = in_indices[k]
                        if alive[v] and pos[v] < 0 and key[v] < floor:
                            pos[v] = 0
                            stack[top] = v
                            top += 1
        pos[:] = -1
    size = 0
    for u in range(2 * n):
        if alive[u]:
            size += 1
    hk = np.empty(size, np.float64)
    hn = np.empty(size, np.int32)
    j = 0
    for u in range(2 * n):
        if alive[u]:
            hk[j] = key[u]
            hn[j] = u
            pos[u] = j
            j += 1
    f = 0.0
    for i in range(size):
        if hn[i] < n:
            f += hk[i]
    order = np.empty(size, np.int32)
    if size == 0:
        return order, 0, 0.0, g0, size0
    for i in range((size - 2) // 4, -1, -1):
        _sift_down(hk, hn, pos, i, size)
    best_g = f / size
    best_t = 0
    hsize = size
    for t in range(size):
        u = hn[0]
        ku = hk[0]
        hsize -= 1
        if hsize > 0:
            hk[0] = hk[hsize]
            hn[0] = hn[hsize]
            pos[hn[0]] = 0
            _sift_down(hk, hn, pos, 0, hsize)
        pos[u] = -1
        order[t] = u
        f -= ku
        # lower the live neighbours still in the heap (pos >= 0)
        if u < n:
            for k in range(out_indptr[u], out_indptr[u + 1]):
                if out_live[k]:
                    c = out_indices[k]
                    i = pos[n + c]
                    if i >= 0:
                        hk[i] -= col_w[c]
                        _sift_up(hk, hn, pos, i)
        else:
            c = u - n
            w = col_w[c]
            for k in range(in_indptr[c], in_indptr[c + 1]):
                if in_live[k]:
                    i = pos[in_indices[k]]
                    if i >= 0:
                        hk[i] -= w
                        _sift_up(hk, hn, pos, i)
        rest = size - t - 1
        if rest > 0:
            g = f / rest
            if g > best_g:
                best_g = g
                best_t = t + 1
    return order, best_t, best_g, g0, size0


@numba.njit(cache=True, nogil=True)
def _background(out_indptr, out_indices, out_live, in_indptr, in_live, col_w):
    """Average weighted degree of every row and column with a live edge."""
    n = out_indptr.shape[0] - 1
    f = 0.0
    size = 0
    for r in range(n):
        cnt = 0
        for k in range(out_indptr[r], out_indptr[r + 1]):
            if out_live[k]:
                f += col_w[out_indices[k]]
                cnt += 1
        if cnt > 0:
            size += 1
    for c in range(n):
        for k in range(in_indptr[c], in_indptr[c + 1]):
            if in_live[k]:
                size += 1
                break
    return f / size if size > 0 else 0.0


@numba.njit(cache=True, nogil=True)
def _kill_block(out_indptr, out_indices, out_live, in_indptr, in_indices, in_live,
                row_in, col_in):
    """Mark dead every edge from a block row to a block column (both CSRs)."""
    n = out_indptr.shape[0] - 1
    killed = 0
    for r in range(n):
        if row_in[r]:
            for k in range(out_indptr[r], out_indptr[r + 1]):
                if out_live[k] and col_in[out_indices[k]]:
                    out_live[k] = 0
                    killed += 1
    for c in range(n):
        if col_in[c]:
            for k in range(in_indptr[c], in_indptr[c + 1]):
                if in_live[k] and row_in[in_indices[k]]:
                    in_live[k] = 0
    return killed


@numba.njit(cache=True, nogil=True)
def _block_edges(out_indptr, out_indices, rows, col_in, out):
    """Per block row, the number of its follows that land in the block's columns."""
    for i in range(rows.shape[0]):
        r = rows[i]
        c = 0
        for k in range(out_indptr[r], out_indptr[r + 1]):
            if col_in[out_indices[k]]:
                c += 1
        out[i] = c


@numba.njit(cache=True, parallel=True)
def _sync_edges(in_indptr, in_ts, window, min_count, rate_factor, min_span, unknown, out):
    """Per in-CSR edge, 1 when the follows of the same column within ``window`` seconds
    of it (itself included) number at least ``min_count`` and at least ``rate_factor``
    times what the column's average rate (known follows over their time span, the span
    at least ``min_span``) predicts for a window of that width."""
    n = in_indptr.shape[0] - 1
    for c in numba.prange(n):
        a = in_indptr[c]
        b = in_indptr[c + 1]
        for k in range(a, b):
            out[k] = 0
        if b - a < min_count:
            continue
        t = in_ts[a:b].astype(np.int64)
        order = np.argsort(t, kind="mergesort")
        st = t[order]
        m = b - a
        first = 0
        while first < m and st[first] == unknown:
            first += 1
        known = m - first
        if known < min_count:
            continue
        span = st[m - 1] - st[first]
        if span < min_span:
            span = min_span
        need = rate_factor * known * (2.0 * window) / span
        if need < min_count:
            need = min_count
        lo = first
        hi = first
        for j in range(first, m):
            while st[lo] < st[j] - window:
                lo += 1
            if hi < j:
                hi = j
            while hi + 1 < m and st[hi + 1] <= st[j] + window:
                hi += 1
            if hi - lo + 1 >= need:
                out[a + order[j]] = 1


@numba.njit(cache=True, nogil=True)
def _in_to_out(out_indptr, out_indices, in_indptr, in_indices, in_mask, out_mask):
    """Carry a mask of in-CSR entries over to the out-CSR: a linear scan of the in-CSR,
    and a binary search in the follower's out-row for each set entry."""
    n = out_indptr.shape[0] - 1
    for c in range(n):
        for k in range(in_indptr[c], in_indptr[c + 1]):
            val = in_mask[k]
            if val == 0:
                continue
            r = in_indices[k]
            lo = out_indptr[r]
            hi = out_indptr[r + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                y = out_indices[mid]
                if y < c:
                    lo = mid + 1
                elif y > c:
                    hi = mid
                else:
                    out_mask[mid] = val
                    break


# -- public API ---------------------------------------------------------------------------
def log_weights(in_degree: np.ndarray, c: float = FRAUDAR_C) -> np.ndarray:
    """Fraudar's camouflage-resistant column weights ``1 / log(d + c)``.

    Parameters
    ----------
    in_degree : int array
        Number of followers of each column.
    c : float
        Smoothing constant (Fraudar uses 5), so that ``log(d + c) > 1``.

    Returns
    -------
    float64 array

    Examples
    --------
    >>> np.round(log_weights(np.array([0, 10, 1000])), 3).tolist()
    [0.621, 0.369, 0.145]
    """
    return 1.0 / np.log(np.asarray(in_degree, dtype=np.float64) + c)


def average_density(out_indptr: np.ndarray, out_indices: np.ndarray,
                    in_indptr: np.ndarray, col_weight: np.ndarray, *,
                    out_live: np.ndarray | None = None, in_live: np.ndarray | None = None
                    ) -> float:
    """Fraudar density of the whole graph: the weight of the live edges over the number
    of rows and columns that have one.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> average_density(g.out_indptr, g.out_indices, g.in_indptr, np.ones(g.n))
    1.0
    """
    op = np.ascontiguousarray(out_indptr, dtype=np.int64)
    oi = np.ascontiguousarray(out_indices, dtype=np.int32)
    m = oi.shape[0]
    return float(_background(op, oi, _live(m, out_live),
                             np.ascontiguousarray(in_indptr, dtype=np.int64),
                             _live(m, in_live),
                             np.ascontiguousarray(col_weight, dtype=np.float64)))


def _live(m: int, live: np.ndarray | None) -> np.ndarray:
    if live is None:
        return np.ones(m, np.uint8)
    live = np.ascontiguousarray(live, dtype=np.uint8)
    if live.shape != (m,):
        raise ValueError(f"live mask has shape {live.shape}, expected ({m},)")
    return live


def _check(out_indptr, out_indices, in_indptr, in_indices):
    if out_indptr.shape != in_indptr.shape:
        raise ValueError("out- and in-CSR have different numbers of vertices")
    if out_indices.shape != in_indices.shape:
        raise ValueError("out- and in-CSR have different numbers of edges")
    return (np.ascontiguousarray(out_indptr, dtype=np.int64),
            np.ascontiguousarray(out_indices, dtype=np.int32),
            np.ascontiguousarray(in_indptr, dtype=np.int64),
            np.ascontiguousarray(in_indices, dtype=np.int32))


def peel_order(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
               in_indices: np.ndarray, col_weight: np.ndarray | None = None, *,
               out_live: np.ndarray | None = None, in_live: np.ndarray | None = None,
               floor: float = 0.0) -> tuple[np.ndarray, int, float]:
    """Run Fraudar's greedy once and return the whole removal sequence.

    Parameters
    ----------
    out_indptr, out_indices, in_indptr, in_indices : arrays
        The graph as out-CSR (rows) and in-CSR (columns) of the same edges.
    col_weight : float array, optional
        Weight of an edge into each column; default :func:`log_weights` of the in-degree.
    out_live, in_live : uint8 arrays, optional
        1 for the edges that take part (aligned with out- and in-CSR); default all.
    floor : float
        Reduce to the ``floor``-core of weighted degree first (0: no reduction).

    Returns
    -------
    order : int32 array
        Nodes in the order removed: row ``r`` is ``r``, column ``c`` is ``n + c``.
    best : int
        The block is ``order[best:]``.
    density : float
        Its average weighted degree.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> order, best, dens = peel_order(g.out_indptr, g.out_indices, g.in_indptr,
    ...                                g.in_indices, np.ones(g.n))
    >>> order.tolist(), best, dens   # the whole graph (11 follows, 11 nodes) is densest
    ([2, 6, 1, 7, 0, 11, 4, 3, 8, 5, 10], 0, 1.0)
    """
    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    n = op.shape[0] - 1
    w = log_weights(np.diff(ip)) if col_weight is None else np.ascontiguousarray(
        col_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"col_weight has shape {w.shape}, expected ({n},)")
    order, best, dens, _, _ = _peel(op, oi, _live(oi.shape[0], out_live), ip, ii,
                                    _live(ii.shape[0], in_live), w, float(floor))
    return order, int(best), float(dens)


def densest_block(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                  in_indices: np.ndarray, col_weight: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """The densest block found by Fraudar's greedy: ``(rows, cols, density)``.

    Parameters
    ----------
    out_indptr, out_indices, in_indptr, in_indices : arrays
        Out-CSR (followers as rows) and in-CSR (followees as columns).
    col_weight : float array, optional
        Default :func:`log_weights` of the in-degree.

    Returns
    -------
    rows, cols : int32 arrays (sorted vertex ids)
    density : float

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> r, c, d = densest_block(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    >>> r.tolist(), c.tolist(), round(d, 3)
    ([0, 1, 2, 3, 4, 5], [0, 1, 2, 4, 5], 0.486)
    """
    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    order, best, dens = peel_order(op, oi, ip, ii, col_weight)
    n = op.shape[0] - 1
    rows, cols = _split(order[best:], n)
    return rows, cols, dens


def _split(nodes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes = np.sort(nodes)
    k = int(np.searchsorted(nodes, n))
    return nodes[:k].astype(np.int32), (nodes[k:] - n).astype(np.int32)


@dataclass
class Block:
    """One dense block: its rows (followers), columns (followees) and statistics.

    Attributes
    ----------
    rows, cols : int32 arrays
        Sorted vertex ids.
    density : float
        Average weighted degree ``f / (|rows| + |cols|)``.
    edges : int
        Live follows from ``rows`` to ``cols`` when the block was found.
    row_edges : int64 array
        Per row (aligned with ``rows``), its follows into ``cols``.

    Examples
    --------
    >>> b = Block(np.array([0, 1], np.int32), np.array([2], np.int32), 0.5, 2,
    ...           np.array([1, 1]))
    >>> b.fill
    1.0
    """

    rows: np.ndarray
    cols: np.ndarray
    density: float
    edges: int
    row_edges: np.ndarray

    @property
    def fill(self) -> float:
        """Share of the ``rows x cols`` pairs that are follows."""
        cells = self.rows.shape[0] * self.cols.shape[0]
        return self.edges / cells if cells else 0.0


@dataclass
class PeelResult:
    """The blocks found in sequence, and the density of the whole graph.

    Attributes
    ----------
    blocks : list of Block
        In the order found (densest first, up to the greedy's approximation).
    background : float
        Average weighted degree of the whole graph (every row and column with an edge).

    Examples
    --------
    >>> PeelResult([], 1.0).ratios()
    []
    """

    blocks: list
    background: float

    def ratios(self) -> list[float]:
        """Density of each block relative to the background."""
        bg = self.background if self.background > 0 else 1.0
        return [b.density / bg for b in self.blocks]


def dense_blocks(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                 in_indices: np.ndarray, col_weight: np.ndarray | None = None, *,
                 k: int = 10, min_ratio: float = 2.0, out_live: np.ndarray | None = None,
                 in_live: np.ndarray | None = None, core: bool = True,
                 min_size: int = 2, background: float | None = None) -> PeelResult:
    """Find up to ``k`` dense blocks in sequence (Fraudar, with block edges removed).

    Parameters
    ----------
    out_indptr, out_indices, in_indptr, in_indices : arrays
        Out-CSR (followers as rows) and in-CSR (followees as columns).
    col_weight : float array, optional
        Default :func:`log_weights` of the full in-degree.
    k : int
        Most blocks to return.
    min_ratio : float
        Stop when a block's density is below ``min_ratio`` times the density of the whole
        graph (the density of the live edges before the first peel).
    out_live, in_live : uint8 arrays, optional
        Edges that take part (default all); not modified.
    core : bool
        Reduce each peel to the core of weighted degree ``min_ratio * background`` first
        (same densest block above that floor, much less work).
    min_size : int
        Stop at a block of fewer nodes (rows plus columns) than this.
    background : float, optional
        The density ``min_ratio`` refers to; default :func:`average_density` of the live
        edges.

    Returns
    -------
    PeelResult

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> from trueclout.graph.build import from_edges
    >>> g0 = random_graph(300, 1500, seed=1)
    >>> s = np.repeat(np.arange(250, 300), 10); d = np.tile(np.arange(10), 50)
    >>> src = np.concatenate([np.repeat(np.arange(300), np.diff(g0.out_indptr)), s])
    >>> g = from_edges(src, np.concatenate([g0.out_indices, d]), n=300)
    >>> res = dense_blocks(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, k=3,
    ...                    min_ratio=1.2)
    >>> [(int(b.rows.min()), b.rows.size, b.cols.tolist()) for b in res.blocks]
    [(250, 50, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]
    >>> [round(r, 2) for r in res.ratios()]
    [1.64]
    """
    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    n = op.shape[0] - 1
    m = oi.shape[0]
    w = log_weights(np.diff(ip)) if col_weight is None else np.ascontiguousarray(
        col_weight, dtype=np.float64)
    olive = _live(m, out_live).copy()
    ilive = _live(m, in_live).copy()
    blocks: list[Block] = []
    if background is None:
        background = _background(op, oi, olive, ip, ilive, w)
    floor = float(min_ratio) * background if core else 0.0
    row_in = np.zeros(n, np.uint8)
    col_in = np.zeros(n, np.uint8)
    for _ in range(max(int(k), 0)):
        order, best, dens, _, _ = _peel(op, oi, olive, ip, ii, ilive, w, floor)
        nodes = order[best:]
        if nodes.shape[0] < min_size or dens < min_ratio * background or dens <= 0:
            break
        rows, cols = _split(nodes, n)
        if rows.shape[0] == 0 or cols.shape[0] == 0:
            break
        row_in[rows] = 1
        col_in[cols] = 1
        row_edges = np.zeros(rows.shape[0], np.int64)
        _block_edges_live(op, oi, olive, rows, col_in, row_edges)
        _kill_block(op, oi, olive, ip, ii, ilive, row_in, col_in)
        row_in[rows] = 0
        col_in[cols] = 0
        blocks.append(Block(rows, cols, float(dens), int(row_edges.sum()), row_edges))
    return PeelResult(blocks, background)


@numba.njit(cache=True, nogil=True)
def _block_edges_live(out_indptr, out_indices, out_live, rows, col_in, out):
    for i in range(rows.shape[0]):
        r = rows[i]
        c = 0
        for k in range(out_indptr[r], out_indptr[r + 1]):
            if out_live[k] and col_in[out_indices[k]]:
                c += 1
        out[i] = c


def block_row_edges(out_indptr: np.ndarray, out_indices: np.ndarray, rows: np.ndarray,
                    cols: np.ndarray) -> np.ndarray:
    """Per row of ``rows``, how many of its follows land in ``cols`` (all edges).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> block_row_edges(g.out_indptr, g.out_indices, np.array([0, 3]), np.array([2, 4])).tolist()
    [1, 2]
    """
    n = out_indptr.shape[0] - 1
    col_in = np.zeros(n, np.uint8)
    col_in[np.asarray(cols, dtype=np.int64)] = 1
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.zeros(rows.shape[0], np.int64)
    _block_edges(np.ascontiguousarray(out_indptr, dtype=np.int64),
                 np.ascontiguousarray(out_indices, dtype=np.int32), rows, col_in, out)
    return out


def synchronized_edges(in_indptr: np.ndarray, in_ts: np.ndarray, window: int,
                       min_count: int, *, rate_factor: float = 0.0, min_span: int = 1
                       ) -> np.ndarray:
    """CopyCatch's time filter: 1 for each in-CSR follow that arrived in a burst of the
    followed account's follows.

    A follow of ``c`` at time ``t`` is synchronized when the follows of ``c`` within
    ``[t - window, t + window]`` (itself included) number at least ``min_count`` and at
    least ``rate_factor`` times the count ``c``'s average rate predicts for such a window
    (its known follows divided by their time span, the span at least ``min_span``
    seconds). Unknown times (:data:`~trueclout.kernels.csr.TS_UNKNOWN`) are never
    synchronized.

    Parameters
    ----------
    in_indptr : int64 array
    in_ts : int32 array
        Follow times aligned with the in-CSR.
    window : int
        Half-width of the window, seconds.
    min_count : int
    rate_factor : float
        How many times the average rate a burst must reach (0: no rate test).
    min_span : int
        Smallest time span (seconds) used for an account's average rate.

    Returns
    -------
    uint8 array aligned with the in-CSR

    Examples
    --------
    >>> ip = np.array([0, 4]); ts = np.array([100, 10_000, 130, 160], np.int32)
    >>> synchronized_edges(ip, ts, window=60, min_count=3).tolist()
    [1, 0, 1, 1]
    >>> synchronized_edges(ip, ts, window=60, min_count=3, rate_factor=200).tolist()
    [0, 0, 0, 0]
    """
    from .csr import TS_UNKNOWN
    ip = np.ascontiguousarray(in_indptr, dtype=np.int64)
    ts = np.ascontiguousarray(in_ts, dtype=np.int32)
    out = np.zeros(ts.shape[0], np.uint8)
    _sync_edges(ip, ts, np.int64(window), np.int64(min_count), float(rate_factor),
                np.int64(max(min_span, 1)), np.int64(TS_UNKNOWN), out)
    return out


def in_mask_to_out(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                   in_indices: np.ndarray, in_mask: np.ndarray) -> np.ndarray:
    """The same edge mask, aligned with the out-CSR instead of the in-CSR.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> m = (g.in_indices == 0).astype(np.uint8)   # the follows made by ana
    >>> in_mask_to_out(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, m).tolist()
    [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    """
    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    out = np.zeros(oi.shape[0], np.uint8)
    _in_to_out(op, oi, ip, ii, np.ascontiguousarray(in_mask, dtype=np.uint8), out)
    return out




@numba.njit(cache=True, parallel=True)
def _one_way(out_indptr, out_indices, in_indptr, in_indices, out_mask, in_mask):
    n = out_indptr.shape[0] - 1
    for r in numba.prange(n):
        # out-edges r -> c: one-way unless c is among r's followers
        b0 = in_indptr[r]
        b1 = in_indptr[r + 1]
        for k in range(out_indptr[r], out_indptr[r + 1]):
            found = row_contains(in_indices, b0, b1, out_indices[k])
            out_mask[k] = 0 if found else 1
        # in-CSR entries of column r (its followers f): one-way unless r follows f
        a0 = out_indptr[r]
        a1 = out_indptr[r + 1]
        for k in range(in_indptr[r], in_indptr[r + 1]):
            found = row_contains(out_indices, a0, a1, in_indices[k])
            in_mask[k] = 0 if found else 1


def one_way_edges(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                  in_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Live masks of the follows that are not returned (``r -> c`` without ``c -> r``),
    aligned with the out-CSR and the in-CSR. Rows must be sorted.

    Bought follows are one-way: the customer does not follow its fakes back, while the
    follows inside a real community are largely mutual.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> o, i = one_way_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    >>> int(o.sum()), int(i.sum())
    (5, 5)
    """
    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    out_mask = np.empty(oi.shape[0], np.uint8)
    in_mask = np.empty(ii.shape[0], np.uint8)
    _one_way(op, oi, ip, ii, out_mask, in_mask)
    return out_mask, in_mask



def split_block(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                in_indices: np.ndarray, rows: np.ndarray, cols: np.ndarray, *,
                out_live: np.ndarray | None = None, in_live: np.ndarray | None = None,
                max_parts: int = 20, min_rows: int = 2
                ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Split a block into its densest parts by unweighted peeling inside it.

    The weighted greedy can return the union of two blocks of similar weighted density
    (say a lockstep block whose popular targets weigh little, next to a community). Inside
    the block, the unweighted greedy (average degree ``edges / (rows + cols)``) separates
    them: it takes the densest part, whose edges are then set aside, and repeats on the
    rest, ``max_parts`` times at most or until a part has fewer than ``min_rows`` rows.
    The block's connected components are split separately (disjoint blocks of equal
    density would otherwise come out as one), and the parts are returned densest first.
    The peels run on the block's live edges copied out as a small graph, so their cost is
    that of the block, not of the whole graph.

    Returns
    -------
    list of (rows, cols, average degree)

    Examples
    --------
    >>> from trueclout.kernels.csr import csr_from_edges
    >>> # rows 0-5 follow all of 10, 11, 12; rows 6-8 and columns 13-14 are looser
    >>> s = np.r_[np.repeat(np.arange(6), 3), 6, 6, 7, 8]
    >>> d = np.r_[np.tile([10, 11, 12], 6), 13, 14, 13, 14]
    >>> op, oi, _ = csr_from_edges(s, d, 15); ip, ii, _ = csr_from_edges(d, s, 15)
    >>> parts = split_block(op, oi, ip, ii, np.arange(9), np.arange(10, 15), min_rows=3)
    >>> [(r.tolist(), c.tolist(), round(g, 2)) for r, c, g in parts]
    [([0, 1, 2, 3, 4, 5], [10, 11, 12], 2.0), ([6, 7, 8], [13, 14], 0.8)]
    """
    from .csr import csr_from_edges

    op, oi, ip, ii = _check(out_indptr, out_indices, in_indptr, in_indices)
    n = op.shape[0] - 1
    m = oi.shape[0]
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    cols = np.unique(np.asarray(cols, dtype=np.int64))
    # the block's live edges as a small graph: row i is rows[i], column j is cols[j]
    col_pos = np.full(n, -1, np.int64)
    col_pos[cols] = np.arange(cols.shape[0])
    size = max(rows.shape[0], cols.shape[0])
    cnt = np.zeros(rows.shape[0], np.int64)
    _gather(op, oi, _live(m, out_live), rows, col_pos, cnt, np.empty(0, np.int32), False)
    lp = np.zeros(size + 1, np.int64)
    np.cumsum(cnt, out=lp[1:rows.shape[0] + 1])
    lp[rows.shape[0] + 1:] = lp[rows.shape[0]]
    li = np.empty(int(lp[-1]), np.int32)
    _gather(op, oi, _live(m, out_live), rows, col_pos, cnt, li, True)
    lrow = np.repeat(np.arange(rows.shape[0], dtype=np.int32), np.diff(lp[:rows.shape[0] + 1]))
    lip, lii, _ = csr_from_edges(li, lrow, size)
    del in_live, ip, ii  # the block's edges come from the out-CSR alone
    # connected components first: disjoint blocks of equal density would stay together
    comp_r, comp_c = _components(lp, li, rows.shape[0], cols.shape[0])
    row_in = np.zeros(size, np.uint8)
    col_in = np.zeros(size, np.uint8)
    ones = np.ones(size, np.float64)
    parts = []
    for comp in np.unique(comp_r):
        if np.sum(comp_r == comp) < min_rows:
            continue
        # only this component's edges are live
        osub = (comp_r[lrow] == comp).astype(np.uint8)
        isub = (comp_r[lii] == comp).astype(np.uint8)
        for _ in range(max(int(max_parts), 0)):
            order, best, dens, _, _ = _peel(lp, li, osub, lip, lii, isub, ones, 0.0)
            r, c = _split(order[best:], size)
            if r.shape[0] < min_rows or c.shape[0] == 0 or dens <= 0:
                break
            parts.append((rows[r].astype(np.int32), cols[c].astype(np.int32), float(dens)))
            row_in[:] = 0
            col_in[:] = 0
            row_in[r] = 1
            col_in[c] = 1
            _kill_block(lp, li, osub, lip, lii, isub, row_in, col_in)
    parts.sort(key=lambda p: -p[2])
    return parts[:max(int(max_parts), 0)]


def _components(lp: np.ndarray, li: np.ndarray, nr: int, nc: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Connected component of each local row and column of a bipartite block."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rows_of = np.repeat(np.arange(nr), np.diff(lp[:nr + 1]))
    a = csr_matrix((np.ones(li.shape[0], np.int8), (rows_of, nr + li.astype(np.int64))),
                   shape=(nr + nc, nr + nc))
    _, lab = connected_components(a, directed=False)
    comp_r = lab[:nr]
    comp_c = np.full(max(nr, nc), -1, np.int64)
    comp_c[:nc] = lab[nr:]
    return comp_r, comp_c


@numba.njit(cache=True, nogil=True)
def _gather(out_indptr, out_indices, out_live, rows, col_pos, cnt, out, fill):
    """Live edges from ``rows`` to columns with ``col_pos >= 0``, as local column ids
    (counted per row, then written when ``fill``)."""
    j = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        c = 0
        for k in range(out_indptr[r], out_indptr[r + 1]):
            if out_live[k]:
                p = col_pos[out_indices[k]]
                if p >= 0:
                    if fill:
                        out[j] = p
                        j += 1
                    c += 1
        cnt[i] = c



@numba.njit(cache=True, nogil=True)
def _hits(indptr, indices, live, cols, weights, counts):
    for i in range(cols.shape[0]):
        c = cols[i]
        w = weights[i]
        for k in range(indptr[c], indptr[c + 1]):
            if live[k]:
                counts[indices[k]] += w


def count_hits(indptr: np.ndarray, indices: np.ndarray, cols: np.ndarray,
               live: np.ndarray | None = None, weights: np.ndarray | None = None
               ) -> np.ndarray:
    """For every vertex, how many of the rows ``cols`` of this CSR list it (live edges),
    or the sum of their ``weights`` (aligned with ``cols``).

    With the in-CSR, ``count_hits(in_indptr, in_indices, C)[r]`` is the number of accounts
    of ``C`` that ``r`` follows; with the out-CSR it is the number of accounts of ``C``
    that follow ``r``.

    Returns
    -------
    int64 array (float64 with ``weights``)

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> count_hits(g.in_indptr, g.in_indices, np.array([2, 4])).tolist()
    [1, 1, 0, 2, 1, 2]
    >>> count_hits(g.in_indptr, g.in_indices, np.array([2, 4]), weights=[0.5, 2.0]).tolist()
    [0.5, 0.5, 0.0, 2.5, 0.5, 2.5]
    """
    ip = np.ascontiguousarray(indptr, dtype=np.int64)
    ii = np.ascontiguousarray(indices, dtype=np.int32)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    w = np.ones(cols.shape[0]) if weights is None else np.ascontiguousarray(
        weights, dtype=np.float64)
    counts = np.zeros(ip.shape[0] - 1, np.float64)
    _hits(ip, ii, _live(ii.shape[0], live), cols, w, counts)
    return counts.astype(np.int64) if weights is None else counts



@numba.njit(cache=True, nogil=True)
def _live_degree(indptr, live, out):
    for r in range(indptr.shape[0] - 1):
        c = 0
        for k in range(indptr[r], indptr[r + 1]):
            if live[k]:
                c += 1
        out[r] = c


def live_degree(indptr: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Per row of a CSR, its number of live entries (int64).

    Examples
    --------
    >>> live_degree(np.array([0, 2, 3]), np.array([1, 0, 1], np.uint8)).tolist()
    [1, 1]
    """
    out = np.empty(indptr.shape[0] - 1, np.int64)
    _live_degree(np.ascontiguousarray(indptr, dtype=np.int64),
                 np.ascontiguousarray(live, dtype=np.uint8), out)
    return out


@numba.njit(cache=True, nogil=True)
def _drop_rows(out_indptr, out_live, in_indptr, in_indices, in_live, bad):
    n = out_indptr.shape[0] - 1
    for r in range(n):
        if bad[r]:
            for k in range(out_indptr[r], out_indptr[r + 1]):
                out_live[k] = 0
    for c in range(n):
        for k in range(in_indptr[c], in_indptr[c + 1]):
            if bad[in_indices[k]]:
                in_live[k] = 0


def drop_rows(out_indptr: np.ndarray, out_indices: np.ndarray, out_live: np.ndarray,
              in_indptr: np.ndarray, in_indices: np.ndarray, in_live: np.ndarray,
              bad: np.ndarray) -> None:
    """Mark dead, in place, every follow made by a vertex where ``bad`` is true (in both
    the out-CSR and the in-CSR masks).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> o = np.ones(g.m, np.uint8); i = np.ones(g.m, np.uint8)
    >>> drop_rows(g.out_indptr, g.out_indices, o, g.in_indptr, g.in_indices, i,
    ...           np.arange(g.n) == 0)
    >>> int(o.sum()), int(i.sum())
    (9, 9)
    """
    del out_indices  # the rows are enough on the out side
    _drop_rows(np.ascontiguousarray(out_indptr, dtype=np.int64), out_live,
               np.ascontiguousarray(in_indptr, dtype=np.int64),
               np.ascontiguousarray(in_indices, dtype=np.int32), in_live,
               np.ascontiguousarray(bad, dtype=np.bool_))


__all__ = ["FRAUDAR_C", "Block", "PeelResult", "log_weights", "peel_order", "densest_block",
           "dense_blocks", "block_row_edges", "synchronized_edges",
           "one_way_edges", "split_block",
           "in_mask_to_out", "count_hits",
           "live_degree", "drop_rows", "average_density"]
