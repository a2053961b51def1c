"""Propagation over CSR: degree-normalised power iteration (short random walks).

One step of a random walk that spreads mass ``x`` from every vertex evenly over its
edges is, for the receiving vertex ``v``::

    x_new[v] = sum over u in N(v) of x[u] / deg(u)

:func:`pull` computes one such step *pull style*: every vertex reads the shares of the
vertices in its own CSR row (``indices[indptr[v]:indptr[v + 1]]``), so rows are
independent and run in parallel without atomic writes. Over the **in**-CSR this spreads
mass along follow edges (a follower passes mass to whom it follows); over the in- and the
out-CSR together it walks the undirected graph; over :func:`mutual_csr` it walks the
graph of reciprocal follows only. Values are float32 (4 bytes per vertex and vector);
each row is summed in float64, so long rows lose no precision. Rows run in parallel in
blocks of about equal edge counts (:func:`~trueclout.kernels.csr.edge_blocks`).

:func:`propagate` runs ``iterations`` steps from a start vector (SybilRank's early
terminated power iteration, Cao et al., NSDI 2012: ``O(log n)`` steps from trusted
seeds), optionally with a restart to the start vector (personalised PageRank).

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.csr import csr_from_edges
>>> # follows 0 <-> 1 and 1 -> 2; the in-CSR (row v: the followers of v) is built
>>> # from the reversed edges
>>> ip, ii, _ = csr_from_edges([1, 0, 2], [0, 1, 1], 3)
>>> x = np.array([1, 0, 0], np.float32)
>>> inv = inverse_degree(np.array([1, 2, 0]))   # out-degrees 1, 2, 0
>>> pull(ip, ii, x * inv).tolist()
[0.0, 1.0, 0.0]
>>> propagate(ip, ii, x, inv, 2).tolist()
[0.5, 0.0, 0.5]
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .csr import edge_blocks

_EMPTY_I64 = np.empty(0, np.int64)
_EMPTY_I32 = np.empty(0, np.int32)


@numba.njit(cache=True, parallel=True)
def _pull(indptr, indices, share, out, indptr2, indices2, two,
          bounds):  # pragma: no cover - compiled
    for b in prange(bounds.shape[0] - 1):
        for v in range(bounds[b], bounds[b + 1]):
            acc = 0.0
            for k in range(indptr[v], indptr[v + 1]):
                acc += np.float64(share[indices[k]])
            if two:
                for k in range(indptr2[v], indptr2[v + 1]):
                    acc += np.float64(share[indices2[k]])
            out[v] = acc


@numba.njit(cache=True, parallel=True)
def _scale(x, inv_deg, share):  # pragma: no cover - compiled
    for i in prange(x.shape[0]):
        share[i] = np.float32(np.float64(x[i]) * np.float64(inv_deg[i]))


@numba.njit(cache=True, parallel=True)
def _restart(x, x0, alpha):  # pragma: no cover - compiled
    for i in prange(x.shape[0]):
        x[i] = np.float32((1.0 - alpha) * np.float64(x[i]) + alpha * np.float64(x0[i]))


@numba.njit(cache=True, parallel=True)
def _l1_diff(a, b):  # pragma: no cover - compiled
    s = 0.0
    for i in prange(a.shape[0]):
        s += abs(np.float64(a[i]) - np.float64(b[i]))
    return s


@numba.njit(cache=True, parallel=True)
def _mutual_count(out_indptr, out_indices, in_indptr, in_indices,
                  counts):  # pragma: no cover - compiled
    n = out_indptr.shape[0] - 1
    for u in prange(n):
        a, a1 = out_indptr[u], out_indptr[u + 1]
        b, b1 = in_indptr[u], in_indptr[u + 1]
        c = 0
        while a < a1 and b < b1:
            x, y = out_indices[a], in_indices[b]
            if x < y:
                a += 1
            elif x > y:
                b += 1
            else:
                if x != u:
                    c += 1
                a += 1
                b += 1
        counts[u] = c


@numba.njit(cache=True, parallel=True)
def _mutual_fill(out_indptr, out_indices, in_indptr, in_indices, indptr,
                 indices):  # pragma: no cover - compiled
    n = out_indptr.shape[0] - 1
    for u in prange(n):
        a, a1 = out_indptr[u], out_indptr[u + 1]
        b, b1 = in_indptr[u], in_indptr[u + 1]
        p = indptr[u]
        while a < a1 and b < b1:
            x, y = out_indices[a], in_indices[b]
            if x < y:
                a += 1
            elif x > y:
                b += 1
            else:
                if x != u:
                    indices[p] = x
                    p += 1
                a += 1
                b += 1


def inverse_degree(degree: np.ndarray) -> np.ndarray:
    """``1 / degree`` as float32, 0 where the degree is 0 (a vertex without edges keeps
    nothing and passes nothing on).

    Examples
    --------
    >>> inverse_degree(np.array([0, 1, 4])).tolist()
    [0.0, 1.0, 0.25]
    """
    d = np.asarray(degree, dtype=np.float64)
    out = np.zeros(d.shape[0], np.float32)
    np.divide(1.0, d, out=out, where=d > 0, casting="unsafe")
    return out


def check_csr(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays as the kernels take them (contiguous int64 ``indptr``, int32
    ``indices``); ValueError when they do not form a CSR.

    Examples
    --------
    >>> p, i = check_csr([0, 1, 2], [1, 0])
    >>> p.dtype, i.dtype
    (dtype('int64'), dtype('int32'))
    >>> check_csr([0, 3], [1])
    Traceback (most recent call last):
    ...
    ValueError: indptr and indices do not form a CSR
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    if indptr.ndim != 1 or indptr.shape[0] < 1 or indptr[-1] != indices.shape[0]:
        raise ValueError("indptr and indices do not form a CSR")
    return indptr, indices


def pull(indptr: np.ndarray, indices: np.ndarray, share: np.ndarray,
         out: np.ndarray | None = None, *, indptr2: np.ndarray | None = None,
         indices2: np.ndarray | None = None) -> np.ndarray:
    """One pull step: ``out[v] = sum(share[u] for u in row v)`` (float64 sums, float32 out).

    Parameters
    ----------
    indptr, indices : int64, int32 arrays
        The CSR whose row ``v`` lists the vertices ``v`` receives from (the in-CSR for
        spreading along follow edges).
    share : float32 array
        What each vertex passes along each of its edges (``x * inverse_degree``).
    out : float32 or float64 array, optional
        Written in place and returned (float32 by default; float64 keeps the sums).
    indptr2, indices2 : arrays, optional
        A second CSR whose rows are summed too (the out-CSR, for the undirected graph).

    Returns
    -------
    float32 array of length n

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> pull(g.in_indptr, g.in_indices, np.ones(g.n, np.float32)).tolist()  # in-degrees
    [2.0, 1.0, 5.0, 0.0, 2.0, 1.0]
    """
    indptr, indices = check_csr(indptr, indices)
    n = indptr.shape[0] - 1
    share = np.ascontiguousarray(share, dtype=np.float32)
    if share.shape[0] != n:
        raise ValueError(f"share has {share.shape[0]} entries for {n} vertices")
    if out is None:
        out = np.empty(n, np.float32)
    two = indptr2 is not None and indices2 is not None
    if two:
        indptr2, indices2 = check_csr(indptr2, indices2)
        if indptr2.shape[0] != indptr.shape[0]:
            raise ValueError("the two CSRs have different numbers of vertices")
    bounds = edge_blocks(indptr + indptr2 if two else indptr)
    _pull(indptr, indices, share, out, indptr2 if two else _EMPTY_I64,
          indices2 if two else _EMPTY_I32, two, bounds)
    return out


def propagate(indptr: np.ndarray, indices: np.ndarray, x0: np.ndarray,
              inv_deg: np.ndarray, iterations: int, *, restart: float = 0.0,
              indptr2: np.ndarray | None = None, indices2: np.ndarray | None = None,
              tol: float = 0.0) -> np.ndarray:
    """Run ``iterations`` degree-normalised pull steps from ``x0``.

    Each step is ``x <- pull(x * inv_deg)``, then, with ``restart > 0``,
    ``x <- (1 - restart) * x + restart * x0`` (a random walk with restart).

    Parameters
    ----------
    indptr, indices : arrays
        Receiving CSR (see :func:`pull`).
    x0 : array
        Start vector (for SybilRank: the total trust split over the seeds).
    inv_deg : float32 array
        ``1 / degree`` of each sender in the walked graph (:func:`inverse_degree`).
    iterations : int
        Number of steps (SybilRank: ``ceil(log2 n)``).
    restart : float
        Probability of jumping back to ``x0`` at each step (0: none).
    indptr2, indices2 : arrays, optional
        Second receiving CSR (the out-CSR, for walks over the undirected graph).
    tol : float
        Stop early once the L1 change of a step falls below ``tol`` (0: never).

    Returns
    -------
    float32 array of length n

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> deg = g.in_degree() + g.out_degree()
    >>> x0 = np.zeros(g.n, np.float32); x0[0] = 1.0
    >>> x = propagate(g.in_indptr, g.in_indices, x0, inverse_degree(deg), 3,
    ...               indptr2=g.out_indptr, indices2=g.out_indices)
    >>> round(float(x.sum()), 6)   # an undirected walk keeps its mass
    1.0
    """
    if iterations < 0:
        raise ValueError("iterations must not be negative")
    if not 0.0 <= restart <= 1.0:
        raise ValueError("restart must be within [0, 1]")
    x0 = np.ascontiguousarray(x0, dtype=np.float32)
    inv_deg = np.ascontiguousarray(inv_deg, dtype=np.float32)
    n = np.asarray(indptr).shape[0] - 1
    if x0.shape[0] != n or inv_deg.shape[0] != n:
        raise ValueError(f"x0 and inv_deg must have {n} entries")
    x = x0.copy()
    nxt = np.empty(n, np.float32)
    share = np.empty(n, np.float32)
    for _ in range(int(iterations)):
        _scale(x, inv_deg, share)
        pull(indptr, indices, share, nxt, indptr2=indptr2, indices2=indices2)
        if restart > 0.0:
            _restart(nxt, x0, float(restart))
        done = tol > 0.0 and _l1_diff(nxt, x) < tol
        x, nxt = nxt, x
        if done:
            break
    return x


def mutual_csr(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
               in_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric CSR of reciprocal follows: row ``u`` lists ``out(u) ∩ in(u)``.

    Rows of both inputs must be sorted and free of repeats (as built by
    :func:`~trueclout.graph.build.build_graph`); self-loops are dropped.

    Returns
    -------
    (indptr int64, indices int32)

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> p, i = mutual_csr(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    >>> np.diff(p).tolist(), i.tolist()
    ([2, 1, 1, 0, 1, 1], [1, 2, 0, 0, 5, 4])
    """
    op, oi = check_csr(out_indptr, out_indices)
    ip, ii = check_csr(in_indptr, in_indices)
    if op.shape[0] != ip.shape[0]:
        raise ValueError("in and out CSR have different numbers of vertices")
    n = op.shape[0] - 1
    counts = np.zeros(n, np.int64)
    _mutual_count(op, oi, ip, ii, counts)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), np.int32)
    _mutual_fill(op, oi, ip, ii, indptr, indices)
    return indptr, indices
