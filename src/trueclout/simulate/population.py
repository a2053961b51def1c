"""The accounts of the simulated platform: roles, communities, popularity, activity, ages,
and the planted attacks, as plain numpy arrays of length N (O(accounts) memory).

Model (see the README for the sources):

* Honest accounts belong to one of K topic communities of lognormal sizes.
* A latent Gaussian ``z_pop`` drives popularity: the attractiveness ``w`` (chance of being
  followed) is Pareto with tail ``popularity_alpha``; the out-degree target is lognormal
  with mean ``mean_following`` and is correlated with ``z_pop`` (Gaussian copula); young
  accounts get proportionally fewer follows in and out.
* Posting and liking activity come from a second latent, correlated with ``z_pop``.
* Fakes (grouped into sellers' pools created in batches, like the INT fakes), follow-back
  farms and engagement pods are planted at random indices; customers (who buy followers)
  and viral ("fast_growth") accounts are chosen among honest accounts.

Targets are drawn with Walker alias tables: one over all accounts (popularity-driven
global follows) and one per community (local follows), so each draw costs O(1).

Examples
--------
>>> from trueclout.simulate.params import SimParams
>>> from trueclout.simulate.population import build_population, FAKE
>>> pop = build_population(SimParams(accounts=2000, seed=1))
>>> pop.n, int((pop.role == FAKE).sum()) > 0
(2000, True)
>>> bool((pop.w[pop.role == FAKE] == 0).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
from scipy.special import ndtr

from . import names
from .params import DAY_US, SimParams
from .reference import sample_quantiles
from .rng import block_rng

HUMAN, FAKE, FARM, POD = 0, 1, 2, 3
#: Ground-truth class label of each role code.
ROLE_LABELS = {HUMAN: "human", FAKE: "fake", FARM: "farm", POD: "pod"}


@numba.njit(cache=True, nogil=True)
def _alias_segments(w, seg_start, seg_len, prob, alias):  # pragma: no cover - compiled
    for s in range(seg_start.shape[0]):
        a = seg_start[s]
        m = seg_len[s]
        if m == 0:
            continue
        total = 0.0
        for i in range(m):
            total += w[a + i]
        if total <= 0.0:
            for i in range(m):
                prob[a + i] = 1.0
                alias[a + i] = a + i
            continue
        scaled = np.empty(m, dtype=np.float64)
        small = np.empty(m, dtype=np.int64)
        large = np.empty(m, dtype=np.int64)
        ns = 0
        nl = 0
        for i in range(m):
            scaled[i] = w[a + i] * m / total
            if scaled[i] < 1.0:
                small[ns] = i
                ns += 1
            else:
                large[nl] = i
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            lo = small[ns]
            nl -= 1
            g = large[nl]
            prob[a + lo] = scaled[lo]
            alias[a + lo] = a + g
            scaled[g] = scaled[g] + scaled[lo] - 1.0
            if scaled[g] < 1.0:
                small[ns] = g
                ns += 1
            else:
                large[nl] = g
                nl += 1
        while nl > 0:
            nl -= 1
            prob[a + large[nl]] = 1.0
            alias[a + large[nl]] = a + large[nl]
        while ns > 0:
            ns -= 1
            prob[a + small[ns]] = 1.0
            alias[a + small[ns]] = a + small[ns]


class AliasSampler:
    """Walker alias tables over consecutive segments of a weight array.

    Drawing position ``i`` of segment ``s`` has probability ``w[i] / sum(w[segment s])``,
    in O(1) per draw; zero weights are never drawn (unless a whole segment is zero).

    Parameters
    ----------
    w : numpy.ndarray
        Non-negative weights, segments laid out one after another.
    seg_start, seg_len : numpy.ndarray of int, optional
        Segment bounds; one segment over everything by default.
    items : numpy.ndarray of int, optional
        What a position stands for (an account index); the identity by default.

    Examples
    --------
    >>> import numpy as np
    >>> s = AliasSampler(np.array([0.0, 1.0, 3.0]))
    >>> rng = np.random.default_rng(0)
    >>> x = s.draw(rng.random(10000), rng.random(10000))
    >>> int((x == 0).sum()), round(float((x == 2).mean()), 1)
    (0, 0.8)
    """

    def __init__(self, w: np.ndarray, seg_start: np.ndarray | None = None,
                 seg_len: np.ndarray | None = None, items: np.ndarray | None = None) -> None:
        w = np.ascontiguousarray(w, dtype=np.float64)
        if seg_start is None:
            seg_start = np.array([0], dtype=np.int64)
            seg_len = np.array([len(w)], dtype=np.int64)
        self.seg_start = np.ascontiguousarray(seg_start, dtype=np.int64)
        self.seg_len = np.ascontiguousarray(seg_len, dtype=np.int64)
        self.prob = np.zeros(len(w), dtype=np.float64)
        self.alias = np.arange(len(w), dtype=np.int64)
        if len(w):
            _alias_segments(w, self.seg_start, self.seg_len, self.prob, self.alias)
        self.items = None if items is None else np.ascontiguousarray(items, dtype=np.int64)

    def draw(self, u1: np.ndarray, u2: np.ndarray, segment: np.ndarray | int = 0) -> np.ndarray:
        """Draw one item per pair of uniforms ``(u1, u2)`` from ``segment``.

        Examples
        --------
        >>> import numpy as np
        >>> s = AliasSampler(np.ones(4), np.array([0, 2]), np.array([2, 2]))
        >>> sorted(set(s.draw(np.linspace(0, 0.99, 50), np.full(50, 0.5), 1).tolist()))
        [2, 3]
        """
        start = self.seg_start[segment]
        size = self.seg_len[segment]
        pos = start + np.minimum((u1 * size).astype(np.int64), size - 1)
        out = np.where(u2 < self.prob[pos], pos, self.alias[pos])
        return out if self.items is None else self.items[out]


@dataclass
class Population:
    """Per-account arrays of one simulated platform (see :func:`build_population`).

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> p = build_population(SimParams(accounts=600, seed=2))
    >>> p.created.dtype, len(p.post_start) == p.n + 1
    (dtype('int64'), True)
    """

    params: SimParams
    n: int
    k: int
    role: np.ndarray          # int8 role code (HUMAN, FAKE, FARM, POD)
    comm: np.ndarray          # int32 community, -1 for fakes
    pod: np.ndarray           # int32 pod id, -1 if none
    seller: np.ndarray        # int32 seller id of a fake, -1 otherwise
    customer: np.ndarray      # bool: bought followers
    fast: np.ndarray          # bool: honest viral growth
    created: np.ndarray       # int64 creation time (us)
    age_days: np.ndarray      # float64 age at the end of observation
    z_pop: np.ndarray         # float64 latent popularity
    z_act: np.ndarray         # float64 latent activity
    w: np.ndarray             # float64 attractiveness (0: never followed organically)
    out_target: np.ndarray    # int64 organic follows to draw
    act: np.ndarray           # float64 engagement propensity (likes, reposts, ...)
    n_posts: np.ndarray       # int64 posts written within the span
    post_start: np.ndarray    # int64, posts of account i are post_start[i]:post_start[i+1]
    peer_ok: np.ndarray       # bool: ordinary account that follows peers back
    expected_in: np.ndarray   # float64 expected organic in-degree
    lang: np.ndarray          # int8 index into names.LANGS
    comm_words: np.ndarray    # (k, 3) interest-word indices per community
    local: AliasSampler       # one segment per community
    glob: AliasSampler        # over all accounts
    popular: AliasSampler     # popular accounts that post, for non-follower engagement
    sellers: list[np.ndarray]         # fake indices per seller
    farms: np.ndarray                 # farm account indices
    pods: list[np.ndarray]            # member indices per pod
    pod_start: np.ndarray             # int64 formation time per pod (us)
    customers: np.ndarray             # customer indices
    buy: np.ndarray                   # graph follows bought per customer
    customer_seller: np.ndarray       # seller serving each customer
    fast_ids: np.ndarray              # viral account indices
    viral_n: np.ndarray               # new organic followers per viral account
    viral_start: np.ndarray           # burst start (us)
    viral_len: np.ndarray             # burst length (us)
    interaction_rate: float           # alpha in lambda = alpha * act[src] * n_posts[dst]

    @cached_property
    def organic_src(self) -> np.ndarray:
        """Accounts whose follows come from the organic model (humans and pod members).

        Examples
        --------
        >>> from trueclout.simulate.params import SimParams
        >>> p = build_population(SimParams(accounts=600))
        >>> bool(p.organic_src[p.role == HUMAN].all())
        True
        """
        return (self.role == HUMAN) | (self.role == POD)

    @cached_property
    def n_organic(self) -> int:
        """Number of organic accounts.

        Examples
        --------
        >>> from trueclout.simulate.params import SimParams
        >>> build_population(SimParams(accounts=100, fraud_share=0)).n_organic
        100
        """
        return int(self.organic_src.sum())

    @cached_property
    def organic_ids(self) -> np.ndarray:
        """Indices of the organic accounts.

        Examples
        --------
        >>> from trueclout.simulate.params import SimParams
        >>> len(build_population(SimParams(accounts=100, fraud_share=0)).organic_ids)
        100
        """
        return np.flatnonzero(self.organic_src)


def _counts(p: SimParams) -> tuple[int, int, int]:
    n = p.accounts
    fraud = p.fraud_share * n
    n_fake = int(round(fraud * p.fake_share_of_fraud))
    n_farm = int(round(fraud * p.farm_share_of_fraud))
    n_pod = int(round(fraud - n_fake - n_farm))
    if n >= p.min_plant_accounts and p.fraud_share > 0:
        n_fake = max(n_fake, 20) if p.fake_share_of_fraud > 0 else n_fake
        n_farm = max(n_farm, 1) if p.farm_share_of_fraud > 0 else n_farm
        if p.fake_share_of_fraud + p.farm_share_of_fraud < 1:
            n_pod = max(n_pod, p.pod_size[0])
    n_pod = max(0, n_pod)
    if n_pod and n_pod < p.pod_size[0]:
        n_pod = 0
    if n_fake + n_farm + n_pod > n // 2:
        n_fake, n_farm, n_pod = 0, 0, 0
    return n_fake, n_farm, n_pod


def _peer_draw_share(p: SimParams, rng: np.random.Generator, d: np.ndarray, comm: np.ndarray,
                     w: np.ndarray, peer: np.ndarray, local: AliasSampler,
                     glob: AliasSampler) -> float:
    """Monte Carlo estimate of the share of organic draws that land on a mutual pair."""
    from .rng import pair_uniform

    total = d.sum()
    if total <= 0 or p.reciprocity <= 0:
        return 0.0
    m = int(min(200_000, max(10_000, 20 * len(d))))
    s = rng.choice(len(d), size=m, p=d / total)
    u = rng.random((3, m))
    is_local = u[0] < p.local_share
    t = np.empty(m, dtype=np.int64)
    t[is_local] = local.draw(u[1, is_local], u[2, is_local], comm[s[is_local]])
    t[~is_local] = glob.draw(u[1, ~is_local], u[2, ~is_local])
    ok = (t != s) & (w[t] > 0)
    hit = ok & peer[s] & peer[t] & (comm[s] == comm[t]) \
        & (pair_uniform(s, t, p.seed) < p.reciprocity)
    return float(min(hit.mean(), 0.99))


def build_population(p: SimParams) -> Population:
    """Draw every per-account attribute and plant the attacks.

    Parameters
    ----------
    p : SimParams
        Validated parameters.

    Returns
    -------
    Population

    Examples
    --------
    >>> from trueclout.simulate.params import SimParams
    >>> pop = build_population(SimParams(accounts=3000, seed=0))
    >>> len(pop.customers) > 0 and len(pop.fast_ids) > 0 and len(pop.pods) > 0
    True
    """
    n = p.accounts
    rng = block_rng(p.seed, "population")
    end = p.end_us()
    start = p.start_us()
    k = p.num_communities()

    # --- roles ----------------------------------------------------------------------
    n_fake, n_farm, n_pod = _counts(p)
    perm = rng.permutation(n)
    role = np.zeros(n, dtype=np.int8)
    fakes = np.sort(perm[:n_fake])
    farms = np.sort(perm[n_fake:n_fake + n_farm])
    pod_pool = perm[n_fake + n_farm:n_fake + n_farm + n_pod]
    role[fakes] = FAKE
    role[farms] = FARM
    # pods: consecutive groups of pod_size[0]..pod_size[1] members
    sizes: list[int] = []
    left = len(pod_pool)
    lo, hi = p.pod_size
    while left >= lo:
        s = int(rng.integers(lo, hi + 1))
        s = min(s, left)
        if left - s < lo:
            s = left if left <= hi else s
        sizes.append(s)
        left -= s
    pod_pool = pod_pool[:sum(sizes)]
    role[pod_pool] = POD
    pod = np.full(n, -1, dtype=np.int32)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    pods = [np.sort(pod_pool[bounds[i]:bounds[i + 1]]) for i in range(len(sizes))]
    for i, m in enumerate(pods):
        pod[m] = i

    # --- communities and languages --------------------------------------------------
    cw = np.exp(rng.normal(0.0, p.community_sigma, k))
    cw /= cw.sum()
    comm = rng.choice(k, size=n, p=cw).astype(np.int32)
    comm[role == FAKE] = -1
    for m in pods:                       # a pod shares one topic
        comm[m] = comm[m[0]]
    comm_lang = rng.choice(len(names.LANGS), size=k,
                           p=names.LANG_WEIGHTS / names.LANG_WEIGHTS.sum())
    lang = np.where(comm >= 0, comm_lang[np.maximum(comm, 0)], 0).astype(np.int8)
    other = rng.random(n) < 0.1          # 1 in 10 speaks another language than its topic
    lang[other] = rng.choice(len(names.LANGS), size=int(other.sum()),
                             p=names.LANG_WEIGHTS / names.LANG_WEIGHTS.sum())
    lang[role == FAKE] = 0               # INT fakes: 99.9% "en"
    comm_words = names.community_words(rng, k)

    # --- ages -----------------------------------------------------------------------
    age = sample_quantiles("human", "age_days", rng.random(n)).astype(np.float64)
    young = rng.random(n) < p.new_account_share
    age[young] = rng.uniform(1.0, 730.0, int(young.sum()))
    n_sellers = max(1, int(round(n_fake / p.seller_pool))) if n_fake else 0
    seller = np.full(n, -1, dtype=np.int32)
    sellers: list[np.ndarray] = []
    if n_fake:
        sid = (np.arange(n_fake) * n_sellers) // n_fake
        fake_order = rng.permutation(fakes)
        seller[fake_order] = sid
        batch_age = sample_quantiles("fake", "age_days", rng.random(n_sellers))
        age[fake_order] = batch_age[sid] - rng.uniform(0.0, 3.0, n_fake)
        sellers = [np.sort(fake_order[sid == s]) for s in range(n_sellers)]
    age = np.maximum(age, 0.01)
    created = end - (age * DAY_US).astype(np.int64) - rng.integers(0, DAY_US // 24, n)
    maturity = np.minimum(1.0, age / p.mature_age_days)

    # --- popularity, out-degree, activity --------------------------------------------
    z_pop = rng.standard_normal(n)
    u = np.clip(ndtr(z_pop), 0.0, 1.0 - 1e-12)
    w = ((1.0 - u) ** (-1.0 / p.popularity_alpha) * maturity
         * np.exp(p.popularity_sigma * rng.standard_normal(n)))
    organic = (role == HUMAN) | (role == POD)
    w[~organic] = 0.0
    rho = p.degree_correlation
    z_out = rho * z_pop + np.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    sig = p.following_sigma
    d = np.exp(sig * z_out - sig * sig / 2.0) * maturity
    d[~organic] = 0.0
    n_org = int(organic.sum())
    if n_org:
        d *= p.mean_following * n_org / max(d.sum(), 1e-300)
    z_act = 0.6 * z_pop + 0.8 * rng.standard_normal(n)
    sa = p.activity_sigma
    alive = np.clip((end - np.maximum(created, start)) / (end - start), 0.0, 1.0)
    rate = np.zeros(n)
    active = rng.random(n) >= p.inactive_share
    rate[role == HUMAN] = (p.posts_per_account * np.exp(sa * z_act - sa * sa / 2.0))[role == HUMAN]
    rate[(role == HUMAN) & ~active] = 0.0
    rate[role == POD] = p.pod_posts
    rate[role == FARM] = p.farm_posts
    rate[role == FAKE] = p.fake_posts
    n_posts = rng.poisson(rate * alive).astype(np.int64)
    n_posts[(role == POD) & (n_posts == 0) & (alive > 0.05)] = 1
    post_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_posts, out=post_start[1:])
    act = np.exp(sa * (0.5 * z_act + 0.866 * rng.standard_normal(n)) - sa * sa / 2.0)
    act[~organic] = 0.0

    # --- samplers -------------------------------------------------------------------
    member = np.flatnonzero(comm >= 0)
    order = member[np.argsort(comm[member], kind="stable")]
    comm_size = np.bincount(comm[member], minlength=k).astype(np.int64)
    comm_start = np.concatenate([[0], np.cumsum(comm_size)[:-1]]).astype(np.int64)
    local = AliasSampler(w[order], comm_start, comm_size, items=order)
    glob = AliasSampler(w)
    q_peer = np.quantile(w[organic], p.peer_quantile) if n_org else 0.0

    # Mutual pairs add a reverse follow that the other end did not draw: shrink the
    # targets so that follows per organic account stay near mean_following.
    q_mutual = _peer_draw_share(p, rng, d, comm, w, organic & (w <= q_peer), local, glob)
    d = d / (1.0 + q_mutual / (2.0 - q_mutual))
    cap = max(0, min(p.max_following, n_org - 1))
    out_target = np.minimum(np.floor(d + rng.random(n)), cap).astype(np.int64)

    # expected organic in-degree
    d_c = np.bincount(comm[organic], weights=out_target[organic], minlength=k)
    w_c = np.bincount(comm[member], weights=w[member], minlength=k)
    ratio_c = np.divide(d_c, w_c, out=np.zeros(k), where=w_c > 0)
    total_w = w.sum()
    expected_in = w * (p.local_share * ratio_c[np.maximum(comm, 0)]
                       + (1 - p.local_share) * (out_target.sum() / max(total_w, 1e-300)))
    expected_in[~organic] = 0.0

    # --- viral accounts and customers among plain humans ------------------------------
    humans = np.flatnonzero(role == HUMAN)
    n_fast = int(round(p.fast_share * n))
    if n >= p.min_plant_accounts and p.fast_share > 0:
        n_fast = max(n_fast, 1)
    e_h = expected_in[humans]
    med = np.median(e_h) if len(e_h) else 0.0
    cand = humans[(e_h >= med) & (w[humans] <= q_peer) & (age[humans] > 60)]
    fast_ids = np.sort(rng.choice(cand, size=min(n_fast, len(cand)), replace=False)) \
        if len(cand) else np.zeros(0, dtype=np.int64)
    fast = np.zeros(n, dtype=bool)
    fast[fast_ids] = True
    n_eligible = max(1, n_org - 1)
    viral_n = np.clip(np.rint(p.viral_factor * np.maximum(expected_in[fast_ids], 10.0)),
                      50, max(50, n_eligible // 4)).astype(np.int64)
    viral_n = np.minimum(viral_n, n_eligible)
    vlen_days = rng.uniform(p.viral_days[0], p.viral_days[1], len(fast_ids))
    viral_len = (vlen_days * DAY_US).astype(np.int64)
    room = np.maximum(end - start - viral_len - DAY_US, DAY_US)
    viral_start = start + (rng.random(len(fast_ids)) * room).astype(np.int64)

    customer = np.zeros(n, dtype=bool)
    customers = np.zeros(0, dtype=np.int64)
    buy = np.zeros(0, dtype=np.int64)
    customer_seller = np.zeros(0, dtype=np.int64)
    if n_fake and len(humans):
        ranks = np.argsort(np.argsort(e_h)) / max(1, len(e_h) - 1)
        cand = humans[(ranks >= 0.5) & (ranks <= 0.995) & ~fast[humans]]
        cand = rng.permutation(cand)
        pool = np.array([len(s) for s in sellers])
        c_seller = rng.integers(0, n_sellers, len(cand))
        b = np.rint(p.buy_factor * expected_in[cand]).astype(np.int64)
        b = np.minimum(np.maximum(b, p.min_buy), pool[c_seller])
        need = n_fake * p.fake_following / (1.0 + p.camouflage_ratio)
        take = int(np.searchsorted(np.cumsum(b), need)) + 1
        take = min(take, len(cand), max(1, len(humans) // 20))
        sel = np.argsort(cand[:take])
        customers = cand[:take][sel]
        buy = b[:take][sel]
        customer_seller = c_seller[:take][sel]
        customer[customers] = True

    peer_ok = organic & ~fast & (w <= q_peer)
    pop_mask = organic & (w > q_peer) & (n_posts > 0)
    popular_ids = np.flatnonzero(pop_mask)
    popular = AliasSampler(w[popular_ids], items=popular_ids)

    # formation time of each pod: before or early in the span
    pod_start = (start + rng.uniform(-90.0, 60.0, len(pods)) * DAY_US).astype(np.int64)
    if pods:
        latest = np.array([created[m].max() for m in pods])
        pod_start = np.maximum(pod_start, latest + DAY_US)

    # interaction rate: alpha * act[src] * n_posts[dst] per follow edge
    a_mean = (out_target * act).sum() / max(out_target.sum(), 1)
    b_mean = (expected_in * n_posts).sum() / max(expected_in.sum(), 1e-300)
    interaction_rate = p.interactions_per_follow / max(a_mean * b_mean, 1e-9)

    return Population(
        params=p, n=n, k=k, role=role, comm=comm, pod=pod, seller=seller, customer=customer,
        fast=fast, created=created, age_days=age, z_pop=z_pop, z_act=z_act, w=w,
        out_target=out_target, act=act, n_posts=n_posts, post_start=post_start,
        peer_ok=peer_ok, expected_in=expected_in, lang=lang, comm_words=comm_words,
        local=local, glob=glob, popular=popular, sellers=sellers, farms=farms, pods=pods,
        pod_start=pod_start, customers=customers, buy=buy, customer_seller=customer_seller,
        fast_ids=fast_ids, viral_n=viral_n, viral_start=viral_start, viral_len=viral_len,
        interaction_rate=float(interaction_rate))
