"""Reverse-reachable sets under the independent cascade model (Borgs et al. 2014; IMM,
Tang et al. SIGMOD 2015), over a follow graph.

Influence flows against follow edges: when ``f`` follows ``c``, a post of ``c`` can
activate ``f``. Under the *weighted cascade* (Kempe et al. 2003) each influence edge
``c → f`` is live with probability ``1 / (accounts f follows)``: a follower's attention is
split over whom it follows, times ``relay[f]``, how readily ``f`` takes influence at all
(its authenticity: fakes take and pass on nothing). A reverse-reachable (RR) set of a root
``r`` is every account that reaches ``r`` over live edges: starting at ``r``, each account
``x`` reached keeps each of its follows ``y`` with probability ``relay[x] / outdeg(x)``. The share of RR sets that a seed set touches,
times the total root weight, estimates the seed set's expected spread.

Randomness is counter based (SplitMix64 of the seed, the set and the step), so a set's
content does not depend on what other sets drew.

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.csr import csr_from_edges
>>> # 0 follows 1, 1 follows 2: 2 can reach 0 through 1
>>> ip, ii, _ = csr_from_edges([0, 1], [1, 2], 3)
>>> p, m = rr_sets(ip, ii, np.ones(3), np.array([0, 0]), seed=1)
>>> [sorted(m[p[i]:p[i + 1]].tolist()) for i in range(2)]
[[0, 1, 2], [0, 1, 2]]
"""

from __future__ import annotations

import numba
import numpy as np

_MASK = (1 << 63) - 1


@numba.njit(cache=True, inline="always")
def _mix(x):  # pragma: no cover - compiled
    x = (x + np.uint64(0x9E3779B97F4A7C15))
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True)
def _uniform(seed, i, k):  # pragma: no cover - compiled
    x = _mix(np.uint64(seed) ^ _mix(np.uint64(i) * np.uint64(0x632BE59BD9B4E019)
                                     + np.uint64(k)))
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _rr(indptr, indices, relay, roots, seed, cap):  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    stamp = np.full(n, -1, np.int64)
    out_ptr = np.zeros(roots.shape[0] + 1, np.int64)
    members = np.empty(max(cap, 16), np.int32)
    queue = np.empty(n, np.int32)
    pos = 0
    for i in range(roots.shape[0]):
        r = roots[i]
        head = 0
        tail = 1
        queue[0] = r
        stamp[r] = i
        draw = 0
        while head < tail:
            x = queue[head]
            head += 1
            if pos >= members.shape[0]:
                grown = np.empty(members.shape[0] * 2, np.int32)
                grown[:pos] = members[:pos]
                members = grown
            members[pos] = x
            pos += 1
            a, b = indptr[x], indptr[x + 1]
            if b == a:
                continue
            p = relay[x] / (b - a)
            if p <= 0.0:
                continue
            for k in range(a, b):
                y = indices[k]
                draw += 1
                if stamp[y] == i:
                    continue
                if _uniform(seed, i, draw) < p:
                    stamp[y] = i
                    queue[tail] = y
                    tail += 1
        out_ptr[i + 1] = pos
    return out_ptr, members[:pos]


def rr_sets(out_indptr: np.ndarray, out_indices: np.ndarray, relay: np.ndarray,
            roots: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One RR set per root (roots may repeat), as a CSR ``(indptr int64, members int32)``.

    Parameters
    ----------
    out_indptr, out_indices : the follow out-CSR (whom each account follows)
    relay : float array
        How readily each account takes (and so passes on) influence, in [0, 1].
    roots : int array
        The root of each set (sample them in proportion to what an activation is worth).
    seed : int

    Examples
    --------
    >>> from trueclout.kernels.csr import csr_from_edges
    >>> ip, ii, _ = csr_from_edges([0, 1], [1, 2], 3)
    >>> p, m = rr_sets(ip, ii, np.zeros(3), np.array([0]))   # nobody takes influence
    >>> m.tolist()
    [0]
    """
    indptr = np.ascontiguousarray(out_indptr, dtype=np.int64)
    indices = np.ascontiguousarray(out_indices, dtype=np.int32)
    n = indptr.shape[0] - 1
    relay = np.clip(np.ascontiguousarray(relay, dtype=np.float64), 0.0, 1.0)
    roots = np.ascontiguousarray(roots, dtype=np.int64)
    if relay.shape != (n,):
        raise ValueError(f"relay must have {n} entries")
    if roots.size and (roots.min() < 0 or roots.max() >= n):
        raise ValueError(f"roots must be vertex ids in 0..{n - 1}")
    return _rr(indptr, indices, relay, roots, int(seed) & _MASK, 4 * roots.shape[0])
