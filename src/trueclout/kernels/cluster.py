"""Clustering kernels: top-k cosine similarity of follower sets, and Louvain.

:func:`cosine_topk` is the similarity step of SimClusters (Satuluri et al., KDD 2020):
two producers are similar when the same accounts follow them. With the bipartite
follower -> producer relation ``A`` (row ``u``: the producers ``u`` follows, each follow
of weight ``w[u]``) the similarity of producers ``p`` and ``q`` is the weighted cosine::

    cos(p, q) = sum_u w[u]^2 A[u, p] A[u, q] / (|p| |q|),   |p|^2 = sum_u w[u]^2 A[u, p]

The kernel computes one producer's row at a time, Gustavson style: for each follower
``u`` of ``p``, every producer ``q`` that ``u`` follows gets ``w[u]^2`` in a dense
accumulator, and only the ``k`` most similar ``q`` at or above ``min_sim`` are kept. Work
is ``sum_u d(u)^2`` over the followers' producer degrees ``d(u)``; the accumulator is one
float64 array per thread, so memory stays ``O(P · threads + P · k)``.

:func:`louvain` clusters a weighted undirected graph by greedy modularity (Blondel et al.,
"Fast unfolding of communities in large networks", J. Stat. Mech. 2008): local moving,
in which every vertex in turn joins the neighbouring community with the largest gain

    gain(i -> c) = k_{i,c} - resolution * tot_c * k_i / 2m

until no move helps, then aggregation of each community into one vertex, repeated until a
level moves nothing. Vertices are visited in a seeded random order, so the result is
deterministic for a seed. The local-moving pass is sequential (its moves depend on each
other); aggregation is a sparse product.

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> # followers 0..3 follow producers 0 and 1; followers 4..7 follow producers 2 and 3
>>> fol = np.repeat(np.arange(8), 2)
>>> prod = np.array([0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3])
>>> f = sp.csr_matrix((np.ones(16), (fol, prod)), shape=(8, 4))   # follower -> producers
>>> p = f.T.tocsr()                                                # producer -> followers
>>> nb, sim = cosine_topk(p.indptr, p.indices, f.indptr, f.indices, np.ones(8), k=2,
...                       min_sim=0.1)
>>> nb.tolist(), sim.round(2).tolist()
([[1, -1], [0, -1], [3, -1], [2, -1]], [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
>>> adj = sp.csr_matrix(np.array([[0, 1, 1, 0, 0, 0], [1, 0, 1, 0, 0, 0],
...                               [1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 1],
...                               [0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 1, 0]], float))
>>> louvain(adj.indptr, adj.indices, adj.data, seed=0).tolist()
[0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
from numba import prange


@numba.njit(cache=True, parallel=True)
def _cosine_topk(p_indptr, p_indices, f_indptr, f_indices, w2, norm, k, min_sim,
                 out_idx, out_val, n_threads):  # pragma: no cover - compiled
    n_p = norm.shape[0]
    for t in prange(n_threads):
        acc = np.zeros(n_p, np.float64)
        seen = np.zeros(n_p, np.bool_)
        touched = np.empty(n_p, np.int64)
        for p in range(t, n_p, n_threads):
            if norm[p] <= 0.0:
                continue
            nt = 0
            for a in range(p_indptr[p], p_indptr[p + 1]):
                u = p_indices[a]
                wu = w2[u]
                if wu <= 0.0:
                    continue
                for b in range(f_indptr[u], f_indptr[u + 1]):
                    q = f_indices[b]
                    if q == p:
                        continue
                    if not seen[q]:
                        seen[q] = True
                        touched[nt] = q
                        nt += 1
                    acc[q] += wu
            # candidates at or above min_sim
            nc = 0
            for i in range(nt):
                q = touched[i]
                c = acc[q] / (norm[p] * norm[q])
                if c >= min_sim:
                    touched[nc] = q        # compact in place (nc <= i)
                    acc[q] = c
                    nc += 1
                else:
                    acc[q] = 0.0
                    seen[q] = False
            if nc > 0:
                vals = np.empty(nc, np.float64)
                for i in range(nc):
                    vals[i] = -acc[touched[i]]
                if nc > k:
                    # keep the candidates at or above the k-th largest (a selection,
                    # linear time), then sort only those
                    thr = -np.partition(vals, k - 1)[k - 1]
                    keep = 0
                    for i in range(nc):
                        q = touched[i]
                        if acc[q] >= thr:
                            vals[keep] = -acc[q]
                            touched[i] = touched[keep]
                            touched[keep] = q
                            keep += 1
                    sel = vals[:keep]
                else:
                    keep = nc
                    sel = vals
                order = np.argsort(sel, kind="mergesort")
                for i in range(min(k, keep)):
                    q = touched[order[i]]
                    out_idx[p, i] = q
                    out_val[p, i] = acc[q]
            for i in range(nc):
                q = touched[i]
                acc[q] = 0.0
                seen[q] = False


def cosine_topk(p_indptr: np.ndarray, p_indices: np.ndarray, f_indptr: np.ndarray,
                f_indices: np.ndarray, weight: np.ndarray, *, k: int,
                min_sim: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar producers of every producer, by weighted follower cosine.

    Parameters
    ----------
    p_indptr, p_indices : CSR, ``P`` rows
        Followers of each producer (follower ids ``0..F-1``).
    f_indptr, f_indices : CSR, ``F`` rows
        Producers each follower follows (producer ids ``0..P-1``); the transpose of the
        first CSR, restricted to the followers that take part (an empty row drops one).
    weight : float array of length ``F``
        Weight of each follower (its follows count ``weight**2`` in the cosine).
    k : int
        Neighbours kept per producer.
    min_sim : float
        Smallest cosine kept.

    Returns
    -------
    (neighbours, similarity)
        int32 ``(P, k)`` producer ids, most similar first, ``-1`` in unused slots; float32
        ``(P, k)`` cosines, 0 in unused slots.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> f = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], float))
    >>> p = f.T.tocsr()
    >>> nb, s = cosine_topk(p.indptr, p.indices, f.indptr, f.indices, np.ones(3), k=1,
    ...                     min_sim=0.0)
    >>> nb.ravel().tolist(), [round(float(x), 3) for x in s.ravel()]
    ([1, 2, 1], [0.5, 0.707, 0.707])
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    p_indptr = np.ascontiguousarray(p_indptr, np.int64)
    p_indices = np.ascontiguousarray(p_indices, np.int32)
    f_indptr = np.ascontiguousarray(f_indptr, np.int64)
    f_indices = np.ascontiguousarray(f_indices, np.int32)
    n_p = p_indptr.shape[0] - 1
    w2 = np.ascontiguousarray(weight, np.float64) ** 2
    if w2.shape[0] != f_indptr.shape[0] - 1:
        raise ValueError("weight must have one entry per follower row")
    deg = np.diff(f_indptr)
    # |p|^2: the weights of p's followers that take part
    norm = np.sqrt(np.bincount(f_indices, weights=np.repeat(w2, deg), minlength=n_p))
    out_idx = np.full((n_p, k), -1, np.int32)
    out_val = np.zeros((n_p, k), np.float32)
    if n_p:
        threads = max(1, min(numba.get_num_threads(), n_p))
        _cosine_topk(p_indptr, p_indices, f_indptr, f_indices, w2, norm.astype(np.float64),
                     int(k), float(min_sim), out_idx, out_val, threads)
    return out_idx, out_val


@numba.njit(cache=True)
def _local_moving(indptr, indices, weights, k, tot, comm, order, m2, resolution,
                  max_passes, tol):  # pragma: no cover - compiled
    """Move vertices to their best neighbouring community until no move helps.

    Returns the number of moves made.
    """
    n = k.shape[0]
    link = np.zeros(n, np.float64)         # weight from the vertex to each community
    flag = np.zeros(n, np.bool_)
    nbc = np.empty(n, np.int64)
    moves = 0
    for _ in range(max_passes):
        moved = 0
        for oi in range(n):
            i = order[oi]
            ci = comm[i]
            ki = k[i]
            nn = 0
            for a in range(indptr[i], indptr[i + 1]):
                j = indices[a]
                if j == i:
                    continue
                c = comm[j]
                if not flag[c]:
                    flag[c] = True
                    nbc[nn] = c
                    nn += 1
                link[c] += weights[a]
            tot[ci] -= ki
            scale = resolution * ki / m2
            best = ci
            best_gain = link[ci] - scale * tot[ci]
            for b in range(nn):
                c = nbc[b]
                gain = link[c] - scale * tot[c]
                if gain > best_gain + tol:
                    best_gain = gain
                    best = c
            tot[best] += ki
            if best != ci:
                comm[i] = best
                moved += 1
            for b in range(nn):
                c = nbc[b]
                link[c] = 0.0
                flag[c] = False
            link[ci] = 0.0
        moves += moved
        if moved == 0:
            break
    return moves


def modularity(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
               labels: np.ndarray, *, resolution: float = 1.0) -> float:
    """Newman's modularity of ``labels`` on a symmetric weighted graph (CSR).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1],
    ...                             [0, 0, 1, 0]], float))
    >>> modularity(a.indptr, a.indices, a.data, np.array([0, 0, 1, 1]))
    0.5
    """
    n = indptr.shape[0] - 1
    labels = np.asarray(labels)
    m2 = float(np.sum(weights))
    if m2 <= 0:
        return 0.0
    rows = np.repeat(np.arange(n), np.diff(indptr))
    same = labels[rows] == labels[indices]
    inside = float(np.sum(np.asarray(weights)[same]))
    k = np.bincount(rows, weights=weights, minlength=n)
    c = labels.max() + 1 if n else 0
    tot = np.bincount(labels, weights=k, minlength=c)
    return inside / m2 - resolution * float(np.sum((tot / m2) ** 2))


def louvain(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, *,
            resolution: float = 1.0, seed: int = 0, max_levels: int = 20,
            max_passes: int = 50, tol: float = 1e-12) -> np.ndarray:
    """Communities of a symmetric weighted graph by Louvain greedy modularity.

    Parameters
    ----------
    indptr, indices, weights : CSR of a symmetric matrix
        Non-negative weights; self-loops are allowed.
    resolution : float
        Modularity resolution ``γ``: above 1 gives more, smaller communities.
    seed : int
        Seed of the vertex visiting order.
    max_levels, max_passes : int
        Most aggregation levels, and most local-moving sweeps per level.
    tol : float
        Smallest gain that counts as an improvement.

    Returns
    -------
    int64 array
        Community of each vertex, ``0..C-1``, numbered by first appearance in vertex order.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> two = sp.csr_matrix(np.array([[0, 1], [1, 0]], float))
    >>> louvain(two.indptr, two.indices, two.data).tolist()
    [0, 0]
    >>> louvain(np.zeros(4, np.int64), np.zeros(0, np.int32), np.zeros(0)).tolist()
    [0, 1, 2]
    """
    n = int(indptr.shape[0] - 1)
    labels = np.arange(n, dtype=np.int64)
    w = np.asarray(weights, np.float64)
    if n == 0 or w.sum() <= 0:
        return labels
    a = sp.csr_matrix((w, np.asarray(indices), np.asarray(indptr)), shape=(n, n))
    rng = np.random.default_rng(seed)
    for _ in range(max_levels):
        nv = a.shape[0]
        k = np.asarray(a.sum(axis=1)).ravel()
        m2 = float(k.sum())
        comm = np.arange(nv, dtype=np.int64)
        tot = k.copy()
        order = rng.permutation(nv).astype(np.int64)
        moves = _local_moving(a.indptr.astype(np.int64), a.indices.astype(np.int64),
                              a.data.astype(np.float64), k, tot, comm, order, m2,
                              float(resolution), int(max_passes), float(tol))
        if moves == 0:
            break
        _, comm = np.unique(comm, return_inverse=True)
        labels = comm[labels]
        c = int(comm.max()) + 1
        member = sp.csr_matrix((np.ones(nv), (np.arange(nv), comm)), shape=(nv, c))
        a = (member.T @ a @ member).tocsr()
        if c == nv:
            break
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    renum = np.empty(first.shape[0], np.int64)     # by the first vertex that carries them
    renum[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    return renum[inv]
