"""Vertex reordering for locality: relabel a graph once, at build, so hot data sits together.

A pull step (PageRank, propagation) reads ``share[u]`` for every entry ``u`` of every
row: random reads spread over the whole vector. When the vector is larger than the
cache, each read costs a trip to memory. Relabelling the vertices so that those read
most often get the smallest ids packs them into few cache lines that stay cached
(Balaji and Lucia, "When is graph reordering an optimization?", IISWC 2018; Wei et al.,
"Speedup graph processing by graph ordering", SIGMOD 2016).

Orders (:func:`order`):

- ``"degree"``: descending total degree (in + out), ties by descending in-degree, then
  by id (:func:`degree_permutation`). A vertex's share is read once per row it appears
  in, so the most-read shares come first; breaking ties by in-degree also groups rows
  of similar length (on R-MAT 2**22, 0.040–0.046 s per PageRank iteration against
  0.055–0.074 with ties by id, interleaved runs). O(n log n); the cheapest order that
  pays on heavy-tailed graphs.
- ``"bfs"``: breadth-first over the undirected graph, each component started at its
  highest-degree vertex; neighbours get nearby ids. O(n + m).
- ``"rcm"``: reverse Cuthill–McKee (Cuthill and McKee 1969; scipy's
  ``reverse_cuthill_mckee`` on the symmetrised pattern): minimises bandwidth, the
  classic sparse-matrix order. O(m) but needs the symmetrised copy (8 bytes per edge).
- ``"none"``: the identity.

:func:`relabel` applies a permutation to every array of a
:class:`~trueclout.graph.follow_graph.FollowGraph` (both CSRs, timestamps, interaction
CSRs, names and uids), so the new graph describes the same accounts; rows are re-sorted.

Which pays (R-MAT 2**22 vertices, 48.9M edges, 2 cores; ``benchmarks/bench_kernels.py``
measures it each run): see ``benchmarks/results/latest.json`` under ``kernels.orders``.
Graphs built from the store keep their (platform, account_id) order: their vertex
vectors fit the 32 MB last-level cache up to about 8M accounts, where reordering
changes little, and downstream tables are read in that order.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> p = order(g, "degree")
>>> h = relabel(g, p)
>>> h.name(0) == g.name(int(np.argmin(p)))    # new vertex 0 is the old best-connected one
True
>>> sorted(h.in_degree().tolist()) == sorted(g.in_degree().tolist())
True
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
from numba import prange

from ..errors import UsageError
from ..kernels import csr as K
from .follow_graph import FollowGraph

ORDERS = ("none", "degree", "bfs", "rcm")


@numba.njit(cache=True)
def _bfs(out_indptr, out_indices, in_indptr, in_indices, starts):  # pragma: no cover
    n = out_indptr.shape[0] - 1
    new = np.full(n, -1, np.int64)
    queue = np.empty(n, np.int64)
    nxt = 0
    for s in starts:
        if new[s] >= 0:
            continue
        head = nxt
        new[s] = nxt
        queue[nxt] = s
        nxt += 1
        while head < nxt:
            u = queue[head]
            head += 1
            for k in range(out_indptr[u], out_indptr[u + 1]):
                w = out_indices[k]
                if new[w] < 0:
                    new[w] = nxt
                    queue[nxt] = w
                    nxt += 1
            for k in range(in_indptr[u], in_indptr[u + 1]):
                w = in_indices[k]
                if new[w] < 0:
                    new[w] = nxt
                    queue[nxt] = w
                    nxt += 1
    return new


def degree_permutation(out_degree: np.ndarray, in_degree: np.ndarray) -> np.ndarray:
    """``p[old] = new`` for the degree order: descending total degree, ties by descending
    in-degree, then by id.

    Examples
    --------
    >>> degree_permutation(np.array([1, 3, 0, 2]), np.array([1, 0, 2, 2])).tolist()
    [3, 1, 2, 0]
    """
    out_degree = np.asarray(out_degree, dtype=np.int64)
    in_degree = np.asarray(in_degree, dtype=np.int64)
    seq = np.lexsort((-in_degree, -(out_degree + in_degree)))   # last key is primary
    p = np.empty(seq.shape[0], np.int64)
    p[seq] = np.arange(seq.shape[0], dtype=np.int64)
    return p


def order(g: FollowGraph, method: str = "degree") -> np.ndarray:
    """The new id of every vertex under ``method`` (a permutation of ``0..n-1``).

    Parameters
    ----------
    g : FollowGraph
    method : {"degree", "bfs", "rcm", "none"}

    Returns
    -------
    int64 array ``p`` with ``p[old] = new``

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> [sorted(order(g, m).tolist()) == list(range(g.n)) for m in ORDERS]
    [True, True, True, True]
    >>> order(g, "size")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: unknown order 'size'; choose one of none, degree, bfs, rcm
    """
    if method not in ORDERS:
        raise UsageError(f"unknown order {method!r}; choose one of {', '.join(ORDERS)}")
    n = g.n
    if method == "none" or n == 0:
        return np.arange(n, dtype=np.int64)
    if method == "degree":
        return degree_permutation(g.out_degree(), g.in_degree())
    by_degree = np.argsort(-(g.in_degree() + g.out_degree()), kind="stable")
    if method == "bfs":
        return _bfs(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, by_degree)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee
    a = csr_matrix((np.ones(g.m, np.int8), g.out_indices, g.out_indptr), shape=(n, n))
    seq = reverse_cuthill_mckee(a, symmetric_mode=False)   # symmetrises A + A^T
    p = np.empty(n, np.int64)
    p[seq] = np.arange(n, dtype=np.int64)
    return p


@numba.njit(cache=True, parallel=True)
def _permute_rows(indptr, indices, ts, with_ts, inv, p, new_indptr, new_indices,
                  new_ts):  # pragma: no cover - compiled
    n = new_indptr.shape[0] - 1
    for v in prange(n):
        o = inv[v]
        s = new_indptr[v]
        for k in range(indptr[o], indptr[o + 1]):
            new_indices[s] = p[indices[k]]
            if with_ts:
                new_ts[s] = ts[k]
            s += 1


def _permute_csr(indptr, indices, ts, p, inv):
    """Rows moved to their new ids and entries renamed by ``p``; rows re-sorted (carrying
    times)."""
    deg = np.diff(indptr)[inv]
    new_indptr = np.zeros(deg.shape[0] + 1, np.int64)
    np.cumsum(deg, out=new_indptr[1:])
    new_indices = np.empty(indices.shape[0], np.int32)
    with_ts = ts is not None
    new_ts = np.empty(indices.shape[0], np.int32) if with_ts else np.empty(0, np.int32)
    _permute_rows(indptr, indices, ts if with_ts else np.empty(0, np.int32), with_ts,
                  inv, p.astype(np.int32), new_indptr, new_indices, new_ts)
    K.sort_rows(new_indptr, new_indices, new_ts if with_ts else None)
    return new_indptr, new_indices, (new_ts if with_ts else None)


def relabel(g: FollowGraph, p: np.ndarray) -> FollowGraph:
    """The same graph with vertex ``v`` renamed ``p[v]`` (names and uids move along).

    Parameters
    ----------
    g : FollowGraph
    p : int array
        A permutation of ``0..n-1`` (from :func:`order`).

    Returns
    -------
    FollowGraph over the same accounts; ``relabel(g, p).name(p[v]) == g.name(v)``

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> p = np.array([5, 4, 3, 2, 1, 0])
    >>> h = relabel(g, p)
    >>> h.name(5) == g.name(0), h.out_neighbors(5).tolist() == sorted(p[g.out_neighbors(0)])
    (True, True)
    >>> relabel(g, np.zeros(6, int))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: p must be a permutation of 0..5
    """
    n = g.n
    p = np.asarray(p, dtype=np.int64)
    if p.shape != (n,) or (n and not np.array_equal(np.sort(p), np.arange(n))):
        raise UsageError(f"p must be a permutation of 0..{n - 1}")
    inv = np.empty(n, np.int64)
    inv[p] = np.arange(n, dtype=np.int64)
    oi, ox, ots = _permute_csr(g.out_indptr, g.out_indices, g.out_ts, p, inv)
    ii, ix, its = _permute_csr(g.in_indptr, g.in_indices, g.in_ts, p, inv)
    inter = {kind: _permute_csr(ip, ix_, ts, p, inv)
             for kind, (ip, ix_, ts) in g.interactions.items()}
    names = g.names.take(pa.array(inv))
    return FollowGraph(n=n, names=names, uids=np.asarray(g.uids)[inv], out_indptr=oi,
                       out_indices=ox, in_indptr=ii, in_indices=ix, out_ts=ots,
                       in_ts=its, interactions=inter)
