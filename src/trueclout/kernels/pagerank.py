"""Weighted PageRank with a teleport vector and per-voter weights, pull style over CSR.

One step, for the receiving vertex ``v``::

    y[v] = d * sum over layers L, over u in L.in(v) of  x[u] * give[u] * w_L(u, v) / W[u]
    W[u] = sum over layers L, over v in L.out(u) of  w_L(u, v)
    y   += (1 - sum(y)) * prior

A *layer* is a receiving CSR (row ``v``: who passes mass to ``v``; the follow in-CSR, or
an interaction graph transposed) with optional per-entry weights (``None``: 1 each) and a
scale. ``give[u]`` in [0, 1] is how much of its mass ``u`` passes on (a fake gives
nothing); everything not passed on (the ``1 - d`` teleport, dangling vertices, the part a
voter withholds) returns through the teleport vector ``prior``, so the total stays 1.
With one unweighted layer, ``give = 1`` and a uniform prior this is plain PageRank (Page
et al. 1999) with dangling mass spread like the teleport.

Values and accumulation: what a vertex passes along each edge (``share``, the gathered
vector) is float32, so the random reads of a pull touch half the cache lines; every row
is summed in float64, and the rank vectors are float64 (teleport, change and result keep
full precision: results differ from an all-float64 run by about 1e-9 in L1). Rows are
split into blocks of about equal edge counts (:func:`~trueclout.kernels.csr.edge_blocks`)
so both threads get the same work on heavy-tailed graphs. The pull is fastest when the
vertices whose shares are read most sit together in memory: see
:mod:`trueclout.graph.reorder`.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> x = pagerank(g.in_indptr, g.in_indices)
>>> round(float(x.sum()), 6), [g.name(v)[1] for v in np.argsort(-x)[:3]]
(1.0, ['ana', 'cat', 'ben'])
"""

from __future__ import annotations

from typing import Sequence

import numba
import numpy as np
from numba import prange

from .. import config
from .csr import edge_blocks

_EMPTY_F32 = np.empty(0, np.float32)
_EMPTY_F64 = np.empty(0, np.float64)


@numba.njit(cache=True, parallel=True)
def _wpull(indptr, indices, weights, use_w, share, scale, out, assign,
           bounds):  # pragma: no cover - compiled
    # one pull over a receiving CSR, in blocks of about equal edge counts; values are
    # read as stored (float32 shares) and summed in float64
    for b in prange(bounds.shape[0] - 1):
        for v in range(bounds[b], bounds[b + 1]):
            acc = 0.0
            if use_w:
                for k in range(indptr[v], indptr[v + 1]):
                    acc += np.float64(share[indices[k]]) * np.float64(weights[k])
            else:
                for k in range(indptr[v], indptr[v + 1]):
                    acc += np.float64(share[indices[k]])
            if assign:
                out[v] = scale * acc
            else:
                out[v] += scale * acc


@numba.njit(cache=True, parallel=True)
def _share(x, coef, share):  # pragma: no cover - compiled
    for i in prange(x.shape[0]):
        share[i] = x[i] * coef[i]


@numba.njit(cache=True, parallel=True)
def _finish(y, x, p, rs, has_rs, want_diff, coef, share):  # pragma: no cover - compiled
    # scale rows, add the teleport (everything not passed on), measure the change and
    # write the next step's shares, in two parallel passes instead of numpy's several
    n = y.shape[0]
    total = 0.0
    for i in prange(n):
        if has_rs:
            y[i] *= rs[i]
        total += y[i]
    leak = max(1.0 - total, 0.0)
    diff = 0.0
    for i in prange(n):
        yi = y[i] + leak * p[i]
        y[i] = yi
        share[i] = yi * coef[i]
        if want_diff:
            diff += abs(yi - x[i])
    return diff


@numba.njit(cache=True)
def _add_out_weight(indices, weights, use_w, scale, total):  # pragma: no cover - compiled
    # one sequential pass (np.bincount would first copy the int32 indices to int64:
    # 8 bytes per edge, 12 GB on a Twitter-sized graph)
    for k in range(indices.shape[0]):
        total[indices[k]] += scale * (np.float64(weights[k]) if use_w else 1.0)


#: A receiving CSR layer: (indptr int64, indices int32, weights float32 or None, scale).
Layer = tuple


def _layers(layers: Sequence[Layer], n: int) -> list[tuple]:
    out = []
    for layer in layers:
        indptr, indices, *rest = layer
        w = rest[0] if rest else None
        scale = float(rest[1]) if len(rest) > 1 else 1.0
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        indices = np.ascontiguousarray(indices, dtype=np.int32)
        if indptr.shape[0] != n + 1 or indptr[-1] != indices.shape[0]:
            raise ValueError("every layer must be a CSR over the same vertices")
        if w is not None:
            w = np.ascontiguousarray(w, dtype=np.float32)
            if w.shape[0] != indices.shape[0]:
                raise ValueError("layer weights must have one entry per CSR entry")
            if w.size and float(w.min()) < 0:
                raise ValueError("layer weights must not be negative")
        if scale < 0:
            raise ValueError("layer scales must not be negative")
        out.append((indptr, indices, w, scale))
    return out


def out_weight(layers: Sequence[Layer], n: int) -> np.ndarray:
    """``W[u]``: the total weight of the edges ``u`` passes mass along, over all layers.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> out_weight([(g.in_indptr, g.in_indices)], g.n).tolist() == g.out_degree().tolist()
    True
    """
    total = np.zeros(n, np.float64)
    for _indptr, indices, w, scale in _layers(layers, n):
        if scale == 0 or indices.size == 0:
            continue
        _add_out_weight(indices, w if w is not None else _EMPTY_F32, w is not None,
                        scale, total)
    return total


def pagerank(in_indptr: np.ndarray | None = None, in_indices: np.ndarray | None = None, *,
             layers: Sequence[Layer] | None = None, prior: np.ndarray | None = None,
             give: np.ndarray | None = None, damping: float | None = None,
             tol: float | None = None, max_iter: int | None = None,
             n: int | None = None, norm: np.ndarray | None = None,
             row_scale: np.ndarray | None = None) -> np.ndarray:
    """Stationary mass of the weighted PageRank walk (sums to 1).

    Parameters
    ----------
    in_indptr, in_indices : arrays, optional
        One unweighted receiving CSR (the follow in-CSR); or give ``layers``.
    layers : list of (indptr, indices[, weights[, scale]])
        Receiving CSRs whose rows list who passes mass to each vertex.
    prior : array, optional
        Teleport distribution (normalised here; uniform by default). Must have a
        positive sum.
    give : array, optional
        Share of its mass each vertex passes along its edges, in [0, 1] (default 1).
    damping : float, optional
        Probability of following an edge (config ``pagerank_damping``, 0.85).
    tol : float, optional
        Stop when the L1 change of a step is below this (config ``pagerank_tol``).
    max_iter : int, optional
        At most this many steps (config ``pagerank_max_iter``).
    n : int, optional
        Number of vertices (taken from the CSR when not given).
    norm : array, optional
        What each vertex's edge weights are divided by (default :func:`out_weight`, so
        a vertex passes on all it gives). Pass the weights *before* a discount to make
        the discounted part return through the teleport instead of flowing to the
        vertex's other edges.

    Returns
    -------
    float64 array of length n

    Examples
    --------
    >>> from trueclout.kernels.csr import csr_from_edges
    >>> ip, ii, _ = csr_from_edges([1, 0], [0, 1], 2)   # 0 <-> 1
    >>> pagerank(ip, ii).round(3).tolist()
    [0.5, 0.5]
    >>> # vertex 0 withholds its vote: 1 receives only teleport mass
    >>> pagerank(ip, ii, give=np.array([0.0, 1.0])).round(3).tolist()
    [0.649, 0.351]
    """
    if layers is None:
        if in_indptr is None or in_indices is None:
            raise ValueError("give in_indptr and in_indices, or layers")
        layers = [(in_indptr, in_indices)]
    if n is None:
        n = int(np.asarray(layers[0][0]).shape[0] - 1)
    checked = _layers(layers, n)
    d = float(config.value("pagerank_damping", damping))
    tol = float(config.value("pagerank_tol", tol))
    max_iter = int(config.value("pagerank_max_iter", max_iter))
    if not 0.0 <= d < 1.0:
        raise ValueError("damping must be within [0, 1)")
    if n == 0:
        return np.zeros(0, np.float64)
    p = np.full(n, 1.0 / n) if prior is None else np.asarray(prior, dtype=np.float64)
    if p.shape != (n,) or not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
        raise ValueError(f"prior must be {n} finite non-negative values with a positive sum")
    p = p / p.sum()
    gv = np.ones(n) if give is None else np.clip(np.asarray(give, dtype=np.float64), 0, 1)
    if gv.shape != (n,):
        raise ValueError(f"give must have {n} entries")
    W = out_weight(checked, n) if norm is None else np.asarray(norm, dtype=np.float64)
    if W.shape != (n,):
        raise ValueError(f"norm must have {n} entries")
    rs = None
    if row_scale is not None:
        rs = np.clip(np.asarray(row_scale, dtype=np.float64), 0.0, 1.0)
        if rs.shape != (n,):
            raise ValueError(f"row_scale must have {n} entries")
    coef = np.zeros(n)
    np.divide(d * gv, W, out=coef, where=W > 0)
    x = p.copy()
    y = np.empty(n)
    share = np.empty(n, np.float32)
    live = [(ip, ix, w, sc, edge_blocks(ip)) for ip, ix, w, sc in checked if sc != 0]
    rs_arr = rs if rs is not None else _EMPTY_F64
    _share(x, coef, share)
    for _ in range(max_iter):
        if not live:
            y[:] = 0.0
        for j, (indptr, indices, w, scale, bounds) in enumerate(live):
            _wpull(indptr, indices, w if w is not None else _EMPTY_F32, w is not None,
                   share, scale, y, j == 0, bounds)
        diff = _finish(y, x, p, rs_arr, rs is not None, tol > 0, coef, share)
        x, y = y, x
        if tol > 0 and diff < tol:
            break
    return x


def in_sum(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray,
           weights: np.ndarray | None = None) -> np.ndarray:
    """Per row ``v``: ``sum(values[u] * weights[k])`` over the entries ``k`` of row ``v``
    (``u = indices[k]``; weights 1 when None). Over the in-CSR: what each account's
    followers are worth.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> in_sum(g.in_indptr, g.in_indices, np.ones(g.n)).tolist() == g.in_degree().tolist()
    True
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    n = indptr.shape[0] - 1
    v = np.ascontiguousarray(values, dtype=np.float64)
    if v.shape[0] != n:
        raise ValueError(f"values must have {n} entries")
    out = np.zeros(n)
    use_w = weights is not None
    w = np.ascontiguousarray(weights, dtype=np.float32) if use_w else _EMPTY_F32
    if use_w and w.shape[0] != indices.shape[0]:
        raise ValueError("weights must have one entry per CSR entry")
    _wpull(indptr, indices, w, use_w, v, 1.0, out, True, edge_blocks(indptr))
    return out
