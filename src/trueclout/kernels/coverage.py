"""Budgeted maximum weighted coverage: lazy greedy (CELF) and partial enumeration.

Sets are the rows of a CSR (``indptr``, ``indices``) over ``U`` elements; element ``e``
is worth ``value[e]``, set ``s`` costs ``cost[s]``. The value of a choice of sets is the
total value of the elements they cover, **each element counted once**: a monotone
submodular function. We want the most value within ``budget`` (and, optionally, at most
``max_sets`` sets).

:func:`greedy_cover` is the budgeted greedy of Khuller, Moss & Naor (IPL 1999): again and
again add the set with the largest marginal value per unit cost among those that still
fit (sets that do not fit are dropped: the budget only shrinks). Marginal values only
fall as the cover grows (submodularity), so a value computed earlier is an upper bound:
the lazy evaluation of Leskovec et al. (KDD 2007, CELF) keeps every set in a max-heap by
its last ratio and re-evaluates only the top, accepting it when its value is fresh.
Started from a *seed* of sets, the same routine completes a partial enumeration.

:func:`enumerate_cover` runs the partial enumeration of Khuller et al. and Sviridenko
(Oper. Res. Lett. 2004): every affordable choice of fewer than ``size`` sets is a
candidate answer, and every affordable choice of exactly ``size`` sets is completed by
the greedy; the best is returned. With ``size = 3`` this is a (1 − 1/e) approximation
under a budget, at ``O(S^3)`` greedy runs for ``S`` sets. We complete the smaller
choices too, and the empty one (the plain greedy): that costs ``O(S^2)`` more runs,
never lowers the value, and keeps the guarantee.

Examples
--------
>>> import numpy as np
>>> indptr = np.array([0, 3, 5, 7]); indices = np.array([0, 1, 2, 2, 3, 3, 4], np.int32)
>>> value = np.ones(5); cost = np.array([3.0, 1.0, 1.0])
>>> chosen, gains = greedy_cover(indptr, indices, value, cost, budget=2.0)
>>> chosen.tolist(), gains.tolist()
([1, 2], [2.0, 1.0])
>>> chosen, gains = enumerate_cover(indptr, indices, value, cost, budget=4.0, size=3)
>>> sorted(chosen.tolist()), float(gains.sum())
([0, 2], 5.0)
"""

from __future__ import annotations

import numba
import numpy as np

_NO_LIMIT = np.int64(2 ** 62)


@numba.njit(cache=True, nogil=True)
def _gain(indptr, indices, value, covered, s):  # pragma: no cover - compiled
    g = 0.0
    for p in range(indptr[s], indptr[s + 1]):
        e = indices[p]
        if not covered[e]:
            g += value[e]
    return g


@numba.njit(cache=True, nogil=True)
def _cover(indptr, indices, value, covered, s):  # pragma: no cover - compiled
    g = 0.0
    for p in range(indptr[s], indptr[s + 1]):
        e = indices[p]
        if not covered[e]:
            covered[e] = True
            g += value[e]
    return g


@numba.njit(cache=True, nogil=True)
def _uncover(indptr, indices, covered, chosen, nchosen):  # pragma: no cover - compiled
    for j in range(nchosen):
        s = chosen[j]
        for p in range(indptr[s], indptr[s + 1]):
            covered[indices[p]] = False


@numba.njit(cache=True, nogil=True)
def _before(ka, ia, kb, ib):  # pragma: no cover - compiled
    # heap order: larger key first, then the smaller set id
    return ka > kb or (ka == kb and ia < ib)


@numba.njit(cache=True, nogil=True)
def _push(keys, ids, size, key, s):  # pragma: no cover - compiled
    j = size
    keys[j] = key
    ids[j] = s
    while j > 0:
        parent = (j - 1) // 2
        if not _before(keys[j], ids[j], keys[parent], ids[parent]):
            break
        keys[j], keys[parent] = keys[parent], keys[j]
        ids[j], ids[parent] = ids[parent], ids[j]
        j = parent
    return size + 1


@numba.njit(cache=True, nogil=True)
def _pop(keys, ids, size):  # pragma: no cover - compiled
    size -= 1
    keys[0] = keys[size]
    ids[0] = ids[size]
    j = 0
    while True:
        left = 2 * j + 1
        if left >= size:
            break
        best = left
        if left + 1 < size and _before(keys[left + 1], ids[left + 1], keys[left], ids[left]):
            best = left + 1
        if not _before(keys[best], ids[best], keys[j], ids[j]):
            break
        keys[j], keys[best] = keys[best], keys[j]
        ids[j], ids[best] = ids[best], ids[j]
        j = best
    return size


@numba.njit(cache=True, nogil=True)
def _greedy(indptr, indices, value, cost, eff_cost, budget, max_sets, seed, upper,
            covered, chosen, gains):  # pragma: no cover - compiled
    """Seed, then CELF. ``covered`` must be all False; it is left all False.
    Returns (number chosen, total value)."""
    s_count = indptr.shape[0] - 1
    nchosen = 0
    left = budget
    total = 0.0
    in_seed = np.zeros(s_count, np.bool_)
    for j in range(seed.shape[0]):
        s = seed[j]
        in_seed[s] = True
        g = _cover(indptr, indices, value, covered, s)
        chosen[nchosen] = s
        gains[nchosen] = g
        nchosen += 1
        total += g
        left -= cost[s]
    left += 1e-12 * max(budget, 1.0)  # costs that add up to the budget exactly still fit
    if nchosen < max_sets:
        keys = np.empty(s_count, np.float64)
        ids = np.empty(s_count, np.int64)
        stamp = np.full(s_count, -1, np.int64)
        size = 0
        for s in range(s_count):
            if in_seed[s] or cost[s] > left:
                continue
            size = _push(keys, ids, size, upper[s] / eff_cost[s], s)
        rnd = 0
        while size > 0 and nchosen < max_sets:
            s = ids[0]
            if cost[s] > left:  # no longer fits, and never will
                size = _pop(keys, ids, size)
                continue
            if stamp[s] != rnd:  # stale upper bound: re-evaluate, put back
                g = _gain(indptr, indices, value, covered, s)
                stamp[s] = rnd
                size = _pop(keys, ids, size)
                size = _push(keys, ids, size, g / eff_cost[s], s)
                continue
            if keys[0] <= 0.0:
                break
            size = _pop(keys, ids, size)
            g = _cover(indptr, indices, value, covered, s)
            chosen[nchosen] = s
            gains[nchosen] = g
            nchosen += 1
            total += g
            left -= cost[s]
            rnd += 1
    _uncover(indptr, indices, covered, chosen, nchosen)
    return nchosen, total


@numba.njit(cache=True, nogil=True)
def _enumerate(indptr, indices, value, cost, eff_cost, budget, max_sets, size, upper,
               best_chosen, best_gains):  # pragma: no cover - compiled
    s_count = indptr.shape[0] - 1
    covered = np.zeros(value.shape[0], np.bool_)
    chosen = np.empty(s_count, np.int64)
    gains = np.empty(s_count, np.float64)
    best = -1.0
    best_n = 0
    comb = np.empty(size, np.int64)
    for t in range(1, size + 1):
        if t > s_count or t > max_sets:
            break
        for j in range(t):
            comb[j] = j
        while True:
            c = 0.0
            for j in range(t):
                c += cost[comb[j]]
            if c <= budget * (1 + 1e-12):
                nc, tot = _greedy(indptr, indices, value, cost, eff_cost, budget, max_sets,
                                  comb[:t], upper, covered, chosen, gains)
                if tot > best:
                    best = tot
                    best_n = nc
                    for j in range(nc):
                        best_chosen[j] = chosen[j]
                        best_gains[j] = gains[j]
            # next combination of t out of s_count
            j = t - 1
            while j >= 0 and comb[j] == s_count - t + j:
                j -= 1
            if j < 0:
                break
            comb[j] += 1
            for q in range(j + 1, t):
                comb[q] = comb[q - 1] + 1
    return best_n, best


def _prepare(indptr, indices, value, cost, budget, max_sets):
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    value = np.ascontiguousarray(value, dtype=np.float64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    s_count = indptr.shape[0] - 1
    if cost.shape != (s_count,):
        raise ValueError("one cost per set")
    if np.any(~np.isfinite(cost)) or np.any(cost < 0):
        raise ValueError("costs must be finite and not negative")
    if np.any(value < 0):
        raise ValueError("values must not be negative")
    if indices.size and (indices.min() < 0 or indices.max() >= value.shape[0]):
        raise ValueError("indices must name elements of value")
    # free sets: a tiny positive cost orders them first, by value
    pos = cost[cost > 0]
    tiny = 1e-12 * (pos.min() if pos.size else 1.0)
    eff = np.where(cost > 0, cost, tiny)
    limit = _NO_LIMIT if max_sets is None else int(max_sets)
    if limit < 0:
        raise ValueError("max_sets must not be negative")
    csum = np.zeros(indices.shape[0] + 1)
    np.cumsum(value[indices], out=csum[1:])
    upper = csum[indptr[1:]] - csum[indptr[:-1]]
    return indptr, indices, value, cost, eff, float(budget), limit, upper


def set_values(indptr: np.ndarray, indices: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Value of each set on its own (float64).

    Examples
    --------
    >>> import numpy as np
    >>> set_values(np.array([0, 2, 2, 3]), np.array([0, 1, 1]), np.array([1.0, 2.0])).tolist()
    [3.0, 0.0, 2.0]
    """
    return _prepare(indptr, indices, value, np.zeros(len(indptr) - 1), 0.0, None)[-1]


def coverage_value(indptr: np.ndarray, indices: np.ndarray, value: np.ndarray,
                   sets) -> float:
    """Total value of the elements covered by ``sets`` (each element once).

    Examples
    --------
    >>> import numpy as np
    >>> coverage_value(np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1.0, 2.0]), [0, 1])
    3.0
    """
    sets = np.asarray(list(sets), dtype=np.int64)
    if sets.size == 0:
        return 0.0
    elems = np.concatenate([indices[indptr[s]:indptr[s + 1]] for s in sets])
    return float(np.asarray(value, np.float64)[np.unique(elems)].sum())


def greedy_cover(indptr: np.ndarray, indices: np.ndarray, value: np.ndarray,
                 cost: np.ndarray, budget: float, *, max_sets: int | None = None,
                 seed=()) -> tuple[np.ndarray, np.ndarray]:
    """Lazy budgeted greedy (CELF): sets in the order chosen and their marginal values.

    Parameters
    ----------
    indptr, indices : CSR of sets over elements
    value : float array
        Value of each element (not negative).
    cost : float array
        Cost of each set (not negative; free sets come first, by value).
    budget : float
    max_sets : int, optional
        At most this many sets.
    seed : sequence of int
        Sets taken first, whatever their ratio (they must fit the budget together).

    Returns
    -------
    chosen : int64 array
    gains : float64 array
        Marginal value of each chosen set when it was added.

    Examples
    --------
    >>> import numpy as np
    >>> greedy_cover(np.array([0, 2, 4]), np.array([0, 1, 1, 2]), np.ones(3),
    ...              np.array([1.0, 1.0]), 1.0)[0].tolist()
    [0]
    """
    ip, ix, v, c, eff, b, limit, upper = _prepare(indptr, indices, value, cost, budget,
                                                  max_sets)
    seed = np.asarray(list(seed), dtype=np.int64)
    if seed.size and float(c[seed].sum()) > b:
        raise ValueError("the seed sets cost more than the budget")
    n_sets = ip.shape[0] - 1
    chosen = np.empty(n_sets, np.int64)
    gains = np.empty(n_sets, np.float64)
    covered = np.zeros(v.shape[0], np.bool_)
    k, _ = _greedy(ip, ix, v, c, eff, b, max(limit, seed.size), seed, upper, covered,
                   chosen, gains)
    return chosen[:k].copy(), gains[:k].copy()


def enumerate_cover(indptr: np.ndarray, indices: np.ndarray, value: np.ndarray,
                    cost: np.ndarray, budget: float, *, size: int = 3,
                    max_sets: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Partial enumeration: the best greedy completion of every affordable choice of at
    most ``size`` sets (the empty choice included).

    ``size = 1`` is at least as good as the best single set and the greedy from nothing
    (Khuller et al.'s modified greedy, ½(1 − 1/e)); ``size = 3`` gives (1 − 1/e) under a
    budget.

    Returns
    -------
    chosen, gains : as :func:`greedy_cover`

    Examples
    --------
    >>> import numpy as np
    >>> # greedy by ratio takes the cheap small set and can no longer afford the big one
    >>> ip, ix = np.array([0, 1, 11]), np.arange(11)
    >>> greedy_cover(ip, ix, np.ones(11), np.array([1.0, 10.0]), 10.0)[0].tolist()
    [0]
    >>> enumerate_cover(ip, ix, np.ones(11), np.array([1.0, 10.0]), 10.0, size=1)[0].tolist()
    [1]
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    ip, ix, v, c, eff, b, limit, upper = _prepare(indptr, indices, value, cost, budget,
                                                  max_sets)
    n_sets = ip.shape[0] - 1
    best_chosen = np.empty(n_sets, np.int64)
    best_gains = np.empty(n_sets, np.float64)
    k, best = _enumerate(ip, ix, v, c, eff, b, limit, int(size), upper, best_chosen,
                         best_gains)
    # the greedy from nothing is the completion of the empty seed
    g_ch, g_gain = greedy_cover(ip, ix, v, c, b, max_sets=max_sets)
    if float(g_gain.sum()) > best:
        return g_ch, g_gain
    return best_chosen[:k].copy(), best_gains[:k].copy()
