"""Follow edges: the organic graph, one block of sources at a time, and the attacks.

Every generator returns an :class:`Edges` of int64 numpy arrays. The sets of edges the
generators produce are disjoint by construction, so no global de-duplication (and no
graph in memory) is needed:

* :func:`organic_block` draws the follows of the honest accounts and pod members whose
  index lies in one block of :data:`BLOCK` accounts: local follows from the account's
  community and global follows, both proportional to attractiveness; viral follows towards
  fast-growing accounts; and mutual follows. Reciprocity is decided per unordered pair by
  a seeded symmetric hash, and a mutual pair is emitted (both directions) only from the
  block of its smaller index, so the two ends never emit the same edge twice. Fakes and
  farms are never organic targets, and members of one pod never draw each other.
* :func:`seller_edges` (bought followers), :func:`farm_edges` (follow-back campaigns) and
  :func:`pod_edges` (engagement pods) produce the edges of the planted attacks, one unit
  (seller, farm or pod) at a time.

Examples
--------
>>> from trueclout.simulate.params import SimParams
>>> from trueclout.simulate.population import build_population
>>> from trueclout.simulate.follows import organic_block
>>> pop = build_population(SimParams(accounts=1000, seed=3))
>>> e = organic_block(pop, 0)
>>> bool((e.src != e.dst).all()), len(set(zip(e.src.tolist(), e.dst.tolist()))) == len(e)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import DAY_US, HOUR_US
from .population import Population
from .rng import block_rng, pair_uniform, unique_first, unique_sorted

#: Accounts per generation block. Fixed: results depend on it, never on the part size.
BLOCK = 8192
#: Rounds of drawing per block: later rounds refill what duplicates and rejections took.
ROUNDS = 3


@dataclass
class Edges:
    """Follow edges as parallel arrays; ``removed`` is -1 for a follow still in place.

    Examples
    --------
    >>> import numpy as np
    >>> e = Edges.empty()
    >>> len(e), e.src.dtype
    (0, dtype('int64'))
    """

    src: np.ndarray
    dst: np.ndarray
    created: np.ndarray
    removed: np.ndarray
    n_mutual: int = 0   # mutual pairs planted (organic blocks)
    n_viral: int = 0    # viral follows (organic blocks)

    def __len__(self) -> int:
        return len(self.src)

    @staticmethod
    def empty() -> "Edges":
        """No edges.

        Examples
        --------
        >>> len(Edges.empty())
        0
        """
        z = np.zeros(0, dtype=np.int64)
        return Edges(z, z.copy(), z.copy(), z.copy())

    @staticmethod
    def concat(parts: list["Edges"]) -> "Edges":
        """Concatenate edge sets.

        Examples
        --------
        >>> len(Edges.concat([Edges.empty(), Edges.empty()]))
        0
        """
        parts = [p for p in parts if len(p)]
        if not parts:
            return Edges.empty()
        return Edges(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("src", "dst", "created", "removed")))

    def take(self, idx: np.ndarray) -> "Edges":
        """The edges at positions ``idx``.

        Examples
        --------
        >>> len(Edges.empty().take(np.zeros(0, dtype=np.int64)))
        0
        """
        return Edges(self.src[idx], self.dst[idx], self.created[idx], self.removed[idx])


def _uniform_time(rng: np.random.Generator, lo: np.ndarray, hi: int) -> np.ndarray:
    lo = np.minimum(lo, hi)
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def _draw(pop: Population, s: np.ndarray, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one target per entry of ``s``; return kept (src, dst, mutual)."""
    p = pop.params
    m = len(s)
    if m == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0, dtype=bool)
    u = rng.random((3, m))
    local = u[0] < p.local_share
    dst = np.empty(m, dtype=np.int64)
    dst[local] = pop.local.draw(u[1, local], u[2, local], pop.comm[s[local]])
    dst[~local] = pop.glob.draw(u[1, ~local], u[2, ~local])
    keep = (dst != s) & (pop.w[dst] > 0)
    ps, pd = pop.pod[s], pop.pod[dst]
    keep &= ~((ps >= 0) & (ps == pd))
    peer = (pop.peer_ok[s] & pop.peer_ok[dst] & (pop.comm[s] == pop.comm[dst])
            & (pair_uniform(s, dst, p.seed) < p.reciprocity))
    keep &= ~(peer & (s > dst))
    return s[keep], dst[keep], peer[keep]


def _viral(pop: Population, srcs: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follows of this block's sources towards viral accounts, in each burst window."""
    nf = len(pop.fast_ids)
    z = np.zeros(0, dtype=np.int64)
    if nf == 0 or len(srcs) == 0:
        return z, z.copy(), z.copy()
    n_org = max(1, pop.n_organic)
    counts = rng.binomial(len(srcs), np.minimum(1.0, pop.viral_n / n_org))
    who = np.repeat(np.arange(nf), counts)
    s = srcs[rng.integers(0, len(srcs), len(who))]
    d = pop.fast_ids[who]
    t = pop.viral_start[who] + (rng.random(len(who)) ** 2 * pop.viral_len[who]).astype(np.int64)
    end = pop.params.end_us()
    t = np.maximum(t, np.maximum(pop.created[s], pop.created[d]))
    keep = (s != d) & (t <= end)
    return s[keep], d[keep], t[keep]


def organic_block(pop: Population, block: int) -> Edges:
    """The organic follows whose source lies in block ``block`` (plus the reverse halves
    of its mutual pairs, whose source may lie elsewhere).

    Parameters
    ----------
    pop : Population
    block : int
        Block index: sources ``block * BLOCK`` to ``(block + 1) * BLOCK - 1``.

    Returns
    -------
    Edges
        Sorted by (src, dst) within the block's own sources; no duplicates, no self-loops.

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=500, seed=0))
    >>> e1, e2 = organic_block(pop, 0), organic_block(pop, 0)
    >>> bool((e1.dst == e2.dst).all() and (e1.created == e2.created).all())
    True
    """
    p = pop.params
    n = pop.n
    rng = block_rng(p.seed, "follows", block)
    lo, hi = block * BLOCK, min(n, (block + 1) * BLOCK)
    if lo >= hi:
        return Edges.empty()
    srcs = np.arange(lo, hi, dtype=np.int64)[pop.organic_src[lo:hi]]
    d = pop.out_target[srcs]
    end = p.end_us()

    vs, vd, vt = _viral(pop, srcs, rng)
    ss, ds, ms = [vs], [vd], [np.zeros(len(vs), dtype=bool)]
    need = d
    for round_ in range(ROUNDS):
        s1, d1, m1 = _draw(pop, np.repeat(srcs, need), rng)
        ss.append(s1)
        ds.append(d1)
        ms.append(m1)
        if round_ == ROUNDS - 1:
            break
        drawn = unique_sorted(np.concatenate(ss[1:]) * n + np.concatenate(ds[1:]))
        got = np.bincount(drawn // n - lo, minlength=hi - lo)[srcs - lo]
        need = np.maximum(d - got, 0)
        if not need.any():
            break
    src = np.concatenate(ss)
    dst = np.concatenate(ds)
    mutual = np.concatenate(ms)
    keys, first = unique_first(src * n + dst)
    src, dst, mutual = keys // n, keys % n, mutual[first]
    nv = len(vs)
    t = np.empty(len(keys), dtype=np.int64)
    is_viral = first < nv
    t[is_viral] = vt[first[is_viral]]
    org = ~is_viral
    t[org] = _uniform_time(rng, np.maximum(pop.created[src[org]], pop.created[dst[org]]), end)

    # mutual pairs: the reverse follow comes after a delay; half the time it came first
    mi = np.flatnonzero(mutual)
    delay = rng.exponential(p.followback_delay_hours * HOUR_US, len(mi)).astype(np.int64)
    t_fwd = t[mi]
    t_rev = np.minimum(t_fwd + delay, end)
    swap = rng.random(len(mi)) < 0.5
    t[mi] = np.where(swap, t_rev, t_fwd)
    t_back = np.where(swap, t_fwd, t_rev)
    src = np.concatenate([src, dst[mi]])
    dst = np.concatenate([dst, src[mi]])
    t = np.concatenate([t, t_back])
    keys, first = unique_first(src * n + dst)
    return Edges(keys // n, keys % n, t[first], np.full(len(keys), -1, dtype=np.int64),
                 n_mutual=len(mi), n_viral=int(is_viral.sum()))


def seller_edges(pop: Population, seller: int) -> Edges:
    """Edges of one seller's fakes: bursts of purchased follows to its customers,
    camouflage follows to real accounts, and follows among the fakes.

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=3000, seed=0))
    >>> e = seller_edges(pop, 0)
    >>> bool(pop.customer[e.dst].any()) and bool((pop.seller[e.src] == 0).all())
    True
    """
    p = pop.params
    rng = block_rng(p.seed, "fakes", seller)
    fakes = pop.sellers[seller]
    nf = len(fakes)
    end, start = p.end_us(), p.start_us()
    parts: list[Edges] = []
    # purchased follows, delivered in 1-3 bursts per customer
    for c_i in np.flatnonzero(pop.customer_seller == seller):
        c = pop.customers[c_i]
        b = int(min(pop.buy[c_i], nf))
        who = fakes[rng.choice(nf, size=b, replace=False)]
        n_bursts = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        n_bursts = max(1, min(n_bursts, b))
        burst = np.sort(rng.integers(0, n_bursts, b))
        lo = max(start, int(pop.created[c]) + DAY_US)
        hi = end - int(p.burst_hours * HOUR_US) - 1
        t0 = (lo + rng.random(n_bursts) * max(hi - lo, 1)).astype(np.int64)
        length = (rng.uniform(0.3, 1.0, n_bursts) * p.burst_hours * HOUR_US).astype(np.int64)
        t = t0[burst] + (rng.random(b) * length[burst]).astype(np.int64)
        t = np.minimum(np.maximum(t, pop.created[who] + HOUR_US), end)
        parts.append(Edges(who, np.full(b, c, dtype=np.int64), t, np.full(b, -1, np.int64)))
    fraud = Edges.concat(parts)
    # camouflage: follows of real accounts, popular ones or uniformly at random
    organic_ids = pop.organic_ids
    mean_camo = p.fake_following * p.camouflage_ratio / (1.0 + p.camouflage_ratio)
    k = rng.poisson(mean_camo, nf)
    cs = np.repeat(fakes, k)
    popular = rng.random(len(cs)) < p.camouflage_popular_share
    cd = np.empty(len(cs), dtype=np.int64)
    u = rng.random((2, int(popular.sum())))
    cd[popular] = pop.glob.draw(u[0], u[1])
    cd[~popular] = organic_ids[rng.integers(0, len(organic_ids), int((~popular).sum()))]
    ct = _uniform_time(rng, np.maximum(pop.created[cs], pop.created[cd]), end)
    # fakes follow a few fakes of the same pool
    k2 = rng.poisson(p.fake_followers, nf) if nf > 1 else np.zeros(nf, dtype=np.int64)
    fs = np.repeat(fakes, k2)
    fd = fakes[rng.integers(0, nf, len(fs))] if nf else fs
    ft = _uniform_time(rng, np.maximum(pop.created[fs], pop.created[fd]), end)
    e = Edges.concat([fraud, Edges(cs, cd, ct, np.full(len(cs), -1, np.int64)),
                      Edges(fs, fd, ft, np.full(len(fs), -1, np.int64))])
    return _dedup(pop, e)


def _dedup(pop: Population, e: Edges) -> Edges:
    keep = e.src != e.dst
    e = e.take(np.flatnonzero(keep))
    keys, first = unique_first(e.src * pop.n + e.dst)
    return e.take(first)


def farm_edges(pop: Population, farm_no: int) -> Edges:
    """Edges of one follow-back campaign: the farm mass-follows targets over a few weeks,
    some follow back within hours, and most of the others are unfollowed days later
    (``removed`` set).

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=3000, seed=0))
    >>> e = farm_edges(pop, 0)
    >>> f = pop.farms[0]
    >>> int((e.src == f).sum()) > int((e.dst == f).sum()) > 0, bool((e.removed > 0).any())
    (True, True)
    """
    p = pop.params
    rng = block_rng(p.seed, "farms", farm_no)
    f = int(pop.farms[farm_no])
    end, start = p.end_us(), p.start_us()
    organic_ids = pop.organic_ids
    t_n = min(p.num_farm_targets(), len(organic_ids))
    targets = np.sort(rng.choice(organic_ids, size=t_n, replace=False))
    camp_len = int(rng.uniform(14, 56) * DAY_US)
    camp_len = min(camp_len, end - start - DAY_US)
    lo = max(start, int(pop.created[f]) + DAY_US)
    cs = lo + int(rng.random() * max(end - camp_len - lo, 1))
    t = cs + (rng.random(t_n) * camp_len).astype(np.int64)
    t = np.minimum(np.maximum(t, pop.created[targets] + HOUR_US), end)
    p_fb = p.followback_rate * np.where(pop.peer_ok[targets], 1.2, 0.2)
    fb = rng.random(t_n) < np.minimum(p_fb, 1.0)
    t_fb = t + rng.exponential(12 * HOUR_US, t_n).astype(np.int64)
    fb &= t_fb <= end
    lo_d, hi_d = p.farm_unfollow_days
    t_rm = t + (rng.uniform(lo_d, hi_d, t_n) * DAY_US).astype(np.int64)
    unf = ~fb & (rng.random(t_n) < p.farm_unfollow_share) & (t_rm <= end)
    removed = np.where(unf, t_rm, -1)
    out = Edges(np.full(t_n, f, dtype=np.int64), targets, t, removed)
    back = np.flatnonzero(fb)
    inn = Edges(targets[back], np.full(len(back), f, dtype=np.int64), t_fb[back],
                np.full(len(back), -1, dtype=np.int64))
    return _dedup(pop, Edges.concat([out, inn]))


def pod_edges(pop: Population, pod_no: int) -> Edges:
    """All follows within one engagement pod, formed within a day or two of each other.

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=3000, seed=0))
    >>> m = len(pop.pods[0])
    >>> len(pod_edges(pop, 0)) == m * (m - 1)
    True
    """
    p = pop.params
    rng = block_rng(p.seed, "pods", pod_no)
    members = pop.pods[pod_no]
    m = len(members)
    end = p.end_us()
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    off = i != j
    s, d = members[i[off]], members[j[off]]
    t0 = min(int(pop.pod_start[pod_no]), end - DAY_US)
    t = t0 + rng.exponential(12 * HOUR_US, len(s)).astype(np.int64)
    t = np.minimum(np.maximum(t, np.maximum(pop.created[s], pop.created[d])), end)
    return _dedup(pop, Edges(s, d, t, np.full(len(s), -1, dtype=np.int64)))
