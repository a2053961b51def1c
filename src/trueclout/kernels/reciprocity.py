"""Reciprocity: how many of a vertex's out-edges are returned.

An out-edge ``u -> v`` is *reciprocated* when ``v -> u`` exists too. Follow-back farms and
"social capitalists" (Ghosh et al., WWW 2012) reciprocate far more than ordinary accounts,
so the per-vertex count is a detection feature and the global share a sanity figure.

With both CSR directions the reciprocated out-edges of ``u`` are ``out(u) ∩ in(u)``: the
kernel walks the shorter of the two sorted rows and binary-searches the longer one, so it
reads only ``u``'s own rows (``O(min(d_out, d_in) · log max(d_out, d_in))``). With only the
out-CSR it binary-searches ``u`` in the out-row of each ``v``. Self-loops are never
reciprocated, which matches :func:`networkx.overall_reciprocity`. Rows must be sorted
and free of repeats (as :func:`trueclout.graph.build.build_graph` makes them).

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.csr import csr_from_edges
>>> from trueclout.kernels.reciprocity import reciprocated_out_edges, reciprocity
>>> src, dst = np.array([0, 1, 0, 2]), np.array([1, 0, 2, 2])
>>> indptr, indices, _ = csr_from_edges(src, dst, 3)
>>> reciprocated_out_edges(indptr, indices).tolist()
[1, 1, 0]
>>> reciprocity(indptr, indices)
0.5
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange
from .csr import row_contains as _contains


@numba.njit(cache=True, parallel=True)
def _recip_both(out_indptr, out_indices, in_indptr, in_indices, counts):
    n = out_indptr.shape[0] - 1
    for u in prange(n):
        a0 = out_indptr[u]
        a1 = out_indptr[u + 1]
        b0 = in_indptr[u]
        b1 = in_indptr[u + 1]
        c = 0
        if a1 - a0 <= b1 - b0:
            for k in range(a0, a1):
                v = out_indices[k]
                if v != u and _contains(in_indices, b0, b1, v):
                    c += 1
        else:
            for k in range(b0, b1):
                v = in_indices[k]
                if v != u and _contains(out_indices, a0, a1, v):
                    c += 1
        counts[u] = c


@numba.njit(cache=True, parallel=True)
def _recip_out(out_indptr, out_indices, counts):
    n = out_indptr.shape[0] - 1
    for u in prange(n):
        c = 0
        for k in range(out_indptr[u], out_indptr[u + 1]):
            v = out_indices[k]
            if v != u and _contains(out_indices, out_indptr[v], out_indptr[v + 1], u):
                c += 1
        counts[u] = c


def reciprocated_out_edges(out_indptr: np.ndarray, out_indices: np.ndarray,
                           in_indptr: np.ndarray | None = None,
                           in_indices: np.ndarray | None = None) -> np.ndarray:
    """Per vertex, the number of its out-edges ``u -> v`` for which ``v -> u`` exists.

    Parameters
    ----------
    out_indptr, out_indices : arrays
        Out-CSR with sorted rows without repeats.
    in_indptr, in_indices : arrays, optional
        In-CSR of the same graph; faster when given.

    Returns
    -------
    int64 array of length n

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices).tolist()
    [2, 1, 1, 0, 1, 1]
    """
    n = out_indptr.shape[0] - 1
    counts = np.zeros(n, np.int64)
    if in_indptr is not None and in_indices is not None:
        if in_indptr.shape[0] != out_indptr.shape[0]:
            raise ValueError("in and out CSR have different numbers of vertices")
        _recip_both(out_indptr, out_indices, in_indptr, in_indices, counts)
    else:
        _recip_out(out_indptr, out_indices, counts)
    return counts


def reciprocity(out_indptr: np.ndarray, out_indices: np.ndarray,
                in_indptr: np.ndarray | None = None,
                in_indices: np.ndarray | None = None) -> float:
    """Global reciprocity: reciprocated edges / edges (NaN for a graph without edges).

    Equals :func:`networkx.overall_reciprocity` on graphs without repeated edges.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> round(reciprocity(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices), 4)
    0.5455
    """
    m = int(out_indices.shape[0])
    if m == 0:
        return float("nan")
    return float(reciprocated_out_edges(out_indptr, out_indices, in_indptr, in_indices).sum()
                 / m)


@numba.njit(cache=True, parallel=True)
def _recip_in_weights(in_indptr, in_indices, out_indptr, out_indices, penalty,
                      weights):  # pragma: no cover - compiled
    n = in_indptr.shape[0] - 1
    for v in prange(n):
        p = penalty[v]
        if p <= 0.0:
            continue
        for k in range(in_indptr[v], in_indptr[v + 1]):
            if _contains(out_indices, out_indptr[v], out_indptr[v + 1], in_indices[k]):
                weights[k] = np.float32(weights[k] * (1.0 - p))


def reciprocal_discount(in_indptr: np.ndarray, in_indices: np.ndarray,
                        out_indptr: np.ndarray, out_indices: np.ndarray,
                        penalty: np.ndarray) -> np.ndarray:
    """Per in-CSR entry ``u -> v``, the weight ``1 - penalty[v]`` when ``v`` follows ``u``
    back, else 1: the follows a follow-back farmer got in return count less.

    Returns
    -------
    float32 array with one entry per follow (in-CSR order)

    Examples
    --------
    >>> from trueclout.kernels.csr import csr_from_edges
    >>> src, dst = np.array([0, 1, 2]), np.array([1, 0, 1])     # 0 <-> 1, 2 -> 1
    >>> op, oi, _ = csr_from_edges(src, dst, 3)
    >>> ip, ii, _ = csr_from_edges(dst, src, 3)
    >>> reciprocal_discount(ip, ii, op, oi, np.array([0.0, 0.75, 0.0])).tolist()
    [1.0, 0.25, 1.0]
    """
    penalty = np.clip(np.asarray(penalty, dtype=np.float64), 0.0, 1.0)
    n = np.asarray(in_indptr).shape[0] - 1
    if penalty.shape != (n,):
        raise ValueError(f"penalty must have {n} entries")
    weights = np.ones(np.asarray(in_indices).shape[0], np.float32)
    _recip_in_weights(np.asarray(in_indptr, np.int64), np.asarray(in_indices, np.int32),
                      np.asarray(out_indptr, np.int64), np.asarray(out_indices, np.int32),
                      penalty, weights)
    return weights
