"""Who-to-follow kernels: local personalised PageRank and candidate scoring over CSR.

**Personalised PageRank by forward push** (Andersen, Chung & Lang, FOCS 2006). A walk
starts at the source ``s``, and at every step stops with probability ``alpha`` or else
moves to a uniformly chosen account that the current one follows. Its stopping
distribution ``p`` is the personalised PageRank of ``s``. The push method keeps an
estimate ``p`` and a residual ``r`` (mass still walking), starting from ``r = e_s``; it
repeatedly takes a vertex ``v`` whose residual is at least ``eps · deg(v)``, keeps
``alpha · r[v]`` in ``p[v]`` and spreads the rest over ``v``'s follows. It touches only
the neighbourhood of ``s`` and does at most ``1 / (alpha · eps)`` pushes, whatever the
graph's size: a query costs microseconds to a millisecond, not a pass over every edge.
On an **authentic** graph each vertex passes on only the share ``vote[v]`` of its mass
(its authenticity weight); the rest, and the mass of accounts that follow nobody, returns
to the source, as in a walk with restart. This is the walk of Twitter's WTF (Gupta et al.,
WWW 2013), over the accounts we believe.

**Candidate signals.** For a user ``u`` with follows ``F(u)`` and followers ``B(u)``,
each candidate ``x`` gets seven raw signals (columns of :data:`RAW`):

=========== ============================================================================
``fof``      ``Σ vote[w]`` over ``w ∈ F(u)`` that follow ``x`` (friends of friends)
``aa``       the same with each ``w`` weighted ``1 / log(2 + out-degree(w))``, so an
             account that follows thousands counts less (Adamic & Adar, 2003)
``infof``    ``Σ vote[y]`` over followers ``y ∈ B(u)`` that follow ``x``
``infof_aa`` the same, Adamic–Adar weighted
``recip``    1 when ``x`` follows ``u`` (follow back: reciprocity)
``ppr``      the personalised PageRank of ``x`` from ``u`` (push estimate)
``topic``    cosine of the topic vectors of ``u`` and ``x`` (0 without topics)
=========== ============================================================================

:func:`phi` maps them, with the candidate's authentic in-degree and its out-degree, to
:data:`N_PHI` features (logarithms of counts), and :func:`recommend_users` ranks by a
quadratic form of the standardised features, ``a · z + Σ_{i≤j} B_ij z_i z_j`` with
``z = (phi − mean) / scale``: a linear model when ``B`` is 0. Accounts the user already
follows, the user, and ``blocked`` accounts are never candidates. When a user's
neighbourhood yields fewer than ``k`` candidates the rest come from ``fill``, a
precomputed list of popular accounts.

Scratch memory per worker thread: about 21 bytes per vertex (dense residual, estimate,
slot map and queue arrays, reset after every user, so a query costs only what it touches).

Examples
--------
>>> import numpy as np
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> v, p = ppr_push(g.out_indptr, g.out_indices, 3, alpha=0.5, eps=1e-6)  # from dan
>>> [g.name(x)[1] for x in v[np.argsort(-p)][:3]]
['dan', 'cat', 'eve']
>>> round(float(p.sum()), 4)
1.0
"""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import prange

from .csr import row_contains as _contains

#: Names of the raw candidate signals, in column order.
RAW = ("fof", "aa", "infof", "infof_aa", "recip", "ppr", "topic")
#: Names of the model features, in order (:func:`phi`).
PHI = ("fof", "aa", "infof", "infof_aa", "recip", "ppr", "topic", "popularity",
       "following")
N_RAW = len(RAW)
N_PHI = len(PHI)
_FOF, _AA, _IN, _IN_AA, _RECIP, _PPR, _TOPIC = range(N_RAW)
_FOLLOWED = -2
_FREE = -1


# -- scratch -------------------------------------------------------------------------------
def scratch(n: int, capacity: int = 1024) -> tuple:
    """Fresh per-worker scratch arrays for a graph of ``n`` vertices.

    Returns ``(slot, p, r, inq, queue, touched, cand, raw)``; the kernels leave them
    as they found them (``slot`` all −1, ``p`` and ``r`` zero, ``inq`` False).

    Examples
    --------
    >>> s = scratch(4)
    >>> s[0].tolist(), s[6].shape, s[7].shape
    ([-1, -1, -1, -1], (1024,), (1024, 7))
    """
    return (np.full(n, _FREE, np.int32), np.zeros(n, np.float32), np.zeros(n, np.float32),
            np.zeros(n, np.bool_), np.empty(max(n, 1), np.int32),
            np.empty(max(n, 1), np.int32), np.empty(capacity, np.int32),
            np.zeros((capacity, N_RAW), np.float32))


# -- personalised PageRank by push ---------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _push(indptr, indices, vote, s, alpha, eps, p, r, inq, queue, touched):  # pragma: no cover
    """Forward push from ``s``; returns the number of touched vertices (in ``touched``)."""
    n = indptr.shape[0] - 1
    head = 0
    size = 1
    queue[0] = s
    inq[s] = True
    r[s] = 1.0
    touched[0] = s
    nt = 1
    while size > 0:
        v = queue[head]
        head += 1
        if head == n:
            head = 0
        size -= 1
        inq[v] = False
        rv = np.float64(r[v])
        d = indptr[v + 1] - indptr[v]
        r[v] = 0.0
        p[v] = np.float32(p[v] + alpha * rv)
        rest = (1.0 - alpha) * rv
        keep = 1.0 if v == s else np.float64(vote[v])
        back = rest * (1.0 - keep) if d > 0 else rest
        if d > 0 and keep > 0.0:
            share = np.float32(rest * keep / d)
            for k in range(indptr[v], indptr[v + 1]):
                x = indices[k]
                if r[x] == 0.0 and p[x] == 0.0 and x != s and nt < touched.shape[0]:
                    touched[nt] = x
                    nt += 1
                r[x] += share
                dx = indptr[x + 1] - indptr[x]
                if not inq[x] and r[x] >= eps * max(dx, 1):
                    inq[x] = True
                    queue[(head + size) % n] = x
                    size += 1
        if back > 0.0:
            r[s] = np.float32(r[s] + back)
            ds = indptr[s + 1] - indptr[s]
            if not inq[s] and r[s] >= eps * max(ds, 1):
                inq[s] = True
                queue[(head + size) % n] = s
                size += 1
    return nt


def ppr_push(indptr: np.ndarray, indices: np.ndarray, source: int, *, alpha: float = 0.15,
             eps: float = 1e-6, vote: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Personalised PageRank of ``source`` by forward push (module docstring).

    Parameters
    ----------
    indptr, indices : int64, int32 arrays
        The out-CSR (row ``v``: the accounts ``v`` follows).
    source : int
    alpha : float
        Stopping (restart) probability per step, in (0, 1].
    eps : float
        Push threshold: residual per out-edge left unpushed. Work is at most
        ``1 / (alpha · eps)`` pushes; the error of each entry at most ``eps · deg``.
    vote : float32 array, optional
        Share of its mass each vertex passes on (authenticity); default 1 everywhere.

    Returns
    -------
    (vertices int32, ppr float32)
        The touched vertices and their estimates (the estimates sum to at most 1).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> v, p = ppr_push(g.out_indptr, g.out_indices, 0, alpha=0.15, eps=1e-8)
    >>> {g.name(int(a))[1]: round(float(b), 3) for a, b in zip(v, p)}
    {'ana': 0.492, 'ben': 0.209, 'cat': 0.298}
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    n = indptr.shape[0] - 1
    if not 0 <= int(source) < n:
        raise ValueError(f"source must be a vertex in 0..{n - 1}")
    if not 0.0 < alpha <= 1.0 or eps <= 0.0:
        raise ValueError("alpha must be in (0, 1] and eps positive")
    vote = np.ones(n, np.float32) if vote is None else np.ascontiguousarray(vote, np.float32)
    slot, p, r, inq, queue, touched, _, _ = scratch(n, 1)
    nt = _push(indptr, indices, vote, int(source), float(alpha), float(eps), p, r, inq,
               queue, touched)
    v = touched[:nt].copy()
    out = p[v].copy()
    keep = out > 0
    return v[keep], out[keep]


# -- candidates ----------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _topic_cos(t_indptr, t_indices, t_data, u, x):  # pragma: no cover - compiled
    a, a1 = t_indptr[u], t_indptr[u + 1]
    b, b1 = t_indptr[x], t_indptr[x + 1]
    s = 0.0
    while a < a1 and b < b1:
        i, j = t_indices[a], t_indices[b]
        if i < j:
            a += 1
        elif i > j:
            b += 1
        else:
            s += np.float64(t_data[a]) * np.float64(t_data[b])
            a += 1
            b += 1
    return s


@numba.njit(cache=True, nogil=True)
def _mark(u, out_indptr, out_indices, slot, value):  # pragma: no cover - compiled
    """Set the slot of ``u`` and of every account ``u`` follows to ``value``."""
    slot[u] = value
    for k in range(out_indptr[u], out_indptr[u + 1]):
        slot[out_indices[k]] = value


@numba.njit(cache=True, nogil=True)
def _claim(x, c, slot, cand, raw):  # pragma: no cover - compiled
    """Make ``x`` the ``c``-th candidate (a zeroed ``raw`` row); returns ``c + 1``."""
    slot[x] = c
    cand[c] = x
    raw[c, :] = 0.0
    return c + 1


@numba.njit(cache=True, nogil=True)
def _add_follows(w, col, col_aa, out_indptr, out_indices, vote, hub, blocked, slot, cand,
                 raw, c):  # pragma: no cover - compiled
    """Add ``w``'s vote (column ``col``) and hub weight (column ``col_aa``) to every
    account ``w`` follows that may be suggested; returns the new candidate count."""
    vw = vote[w]
    if vw <= 0.0:
        return c
    hw = hub[w]
    for q in range(out_indptr[w], out_indptr[w + 1]):
        x = out_indices[q]
        j = slot[x]
        if j == _FOLLOWED or blocked[x]:
            continue
        if j == _FREE:
            j = c
            c = _claim(x, c, slot, cand, raw)
        raw[j, col] += vw
        raw[j, col_aa] += hw
    return c


@numba.njit(cache=True, nogil=True)
def _candidates(u, out_indptr, out_indices, in_indptr, in_indices, vote, hub, blocked,
                alpha, eps, t_indptr, t_indices, t_data, slot, p, r, inq, queue, touched,
                cand, raw):  # pragma: no cover - compiled
    """Raw signals of every candidate of ``u``; returns (count, cand, raw) (the two
    arrays are reallocated when too small)."""
    use_topics = t_indptr.shape[0] > 1
    _mark(u, out_indptr, out_indices, slot, _FOLLOWED)
    nt = 0
    if alpha > 0.0:
        nt = _push(out_indptr, out_indices, vote, u, alpha, eps, p, r, inq, queue, touched)
    bound = nt
    for k in range(out_indptr[u], out_indptr[u + 1]):
        w = out_indices[k]
        bound += out_indptr[w + 1] - out_indptr[w]
    for k in range(in_indptr[u], in_indptr[u + 1]):
        y = in_indices[k]
        bound += out_indptr[y + 1] - out_indptr[y] + 1
    if bound > cand.shape[0]:
        size = max(bound, 2 * cand.shape[0])
        cand = np.empty(size, np.int32)
        raw = np.zeros((size, N_RAW), np.float32)
    c = 0
    # friends of friends: u -> w -> x
    for k in range(out_indptr[u], out_indptr[u + 1]):
        c = _add_follows(out_indices[k], _FOF, _AA, out_indptr, out_indices, vote, hub,
                         blocked, slot, cand, raw, c)
    # followers of u: reciprocity, and what they follow: y -> u, y -> x
    for k in range(in_indptr[u], in_indptr[u + 1]):
        y = in_indices[k]
        j = slot[y]
        if j != _FOLLOWED and not blocked[y]:
            if j == _FREE:
                j = c
                c = _claim(y, c, slot, cand, raw)
            raw[j, _RECIP] = 1.0
        c = _add_follows(y, _IN, _IN_AA, out_indptr, out_indices, vote, hub, blocked, slot,
                         cand, raw, c)
    # personalised PageRank
    for t in range(nt):
        x = touched[t]
        px = p[x]
        p[x] = 0.0
        r[x] = 0.0
        if px <= 0.0:
            continue
        j = slot[x]
        if j == _FOLLOWED or blocked[x]:
            continue
        if j == _FREE:
            j = c
            c = _claim(x, c, slot, cand, raw)
        raw[j, _PPR] = px
    # reset the slot map; topic similarity
    _mark(u, out_indptr, out_indices, slot, _FREE)
    for j in range(c):
        x = cand[j]
        slot[x] = _FREE
        if use_topics:
            raw[j, _TOPIC] = _topic_cos(t_indptr, t_indices, t_data, u, x)
    return c, cand, raw


@numba.njit(cache=True, nogil=True)
def _phi_row(raw, j, popularity, following, eps, out):  # pragma: no cover - compiled
    out[0] = np.log1p(raw[j, _FOF])
    out[1] = np.log1p(raw[j, _AA])
    out[2] = np.log1p(raw[j, _IN])
    out[3] = np.log1p(raw[j, _IN_AA])
    out[4] = raw[j, _RECIP]
    out[5] = np.log1p(raw[j, _PPR] / eps)
    out[6] = raw[j, _TOPIC]
    out[7] = np.log1p(popularity)
    out[8] = np.log1p(following)


@numba.njit(cache=True, nogil=True)
def _score(z, phi, mean, scale, lin, quad, use_quad):  # pragma: no cover - compiled
    d = phi.shape[0]
    for i in range(d):
        z[i] = (phi[i] - mean[i]) / scale[i]
    s = 0.0
    for i in range(d):
        s += lin[i] * z[i]
    if use_quad:
        for i in range(d):
            zi = z[i]
            if zi == 0.0:
                continue
            for j in range(i, d):
                s += quad[i, j] * zi * z[j]
    return s


@numba.njit(cache=True, nogil=True)
def _rank_one(u, k, out_indptr, out_indices, in_indptr, in_indices, vote, hub, blocked,
              popularity, following, alpha, eps, t_indptr, t_indices, t_data, mean, scale,
              lin, quad, use_quad, fill, slot, p, r, inq, queue, touched, cand, raw,
              out_ids, out_scores):  # pragma: no cover - compiled
    c, cand, raw = _candidates(u, out_indptr, out_indices, in_indptr, in_indices, vote, hub,
                               blocked, alpha, eps, t_indptr, t_indices, t_data, slot, p, r,
                               inq, queue, touched, cand, raw)
    d = mean.shape[0]
    phi = np.empty(d, np.float64)
    z = np.empty(d, np.float64)
    scores = np.empty(c, np.float64)
    for j in range(c):
        x = cand[j]
        _phi_row(raw, j, popularity[x], following[x], eps, phi)
        scores[j] = _score(z, phi, mean, scale, lin, quad, use_quad)
    # the k best, deterministic: by score, then by vertex id; with many candidates only
    # those at or above the k-th best score are sorted
    sel = np.arange(c)
    if c > 4 * k:
        kth = np.partition(scores, c - k)[c - k]
        sel = np.flatnonzero(scores >= kth)
    ns = sel.shape[0]
    ids_sel = np.empty(ns, np.int32)
    for j in range(ns):
        ids_sel[j] = cand[sel[j]]
    by_id = sel[np.argsort(ids_sel)]
    neg = np.empty(ns, np.float64)
    for j in range(ns):
        neg[j] = -scores[by_id[j]]
    order = np.argsort(neg, kind="mergesort")
    m = min(k, ns)
    for t in range(m):
        j = by_id[order[t]]
        out_ids[t] = cand[j]
        out_scores[t] = np.float32(scores[j])
    if m < k:
        # too few candidates: popular accounts, scored as having no signal, kept below
        low = np.float64(out_scores[m - 1]) if m > 0 else np.inf
        for j in range(c):
            slot[cand[j]] = _FOLLOWED
        _mark(u, out_indptr, out_indices, slot, _FOLLOWED)
        raw0 = np.zeros((1, N_RAW), np.float32)
        t = m
        for q in range(fill.shape[0]):
            if t >= k:
                break
            x = fill[q]
            if slot[x] == _FOLLOWED or blocked[x]:
                continue
            _phi_row(raw0, 0, popularity[x], following[x], eps, phi)
            s = _score(z, phi, mean, scale, lin, quad, use_quad)
            if s > low:
                s = low
            low = s
            out_ids[t] = x
            out_scores[t] = np.float32(s)
            t += 1
        for j in range(c):
            slot[cand[j]] = _FREE
        _mark(u, out_indptr, out_indices, slot, _FREE)
        for q in range(t, k):
            out_ids[q] = -1
            out_scores[q] = np.nan
    return cand, raw


@numba.njit(cache=True, parallel=True)
def _rank_many(users, k, out_indptr, out_indices, in_indptr, in_indices, vote, hub, blocked,
               popularity, following, alpha, eps, t_indptr, t_indices, t_data, mean, scale,
               lin, quad, use_quad, fill, workers, out_ids, out_scores):  # pragma: no cover
    n = out_indptr.shape[0] - 1
    m = users.shape[0]
    per = (m + workers - 1) // workers
    for w in prange(workers):
        lo = w * per
        hi = min(m, lo + per)
        if lo >= hi:
            continue
        slot = np.full(n, _FREE, np.int32)
        p = np.zeros(n, np.float32)
        r = np.zeros(n, np.float32)
        inq = np.zeros(n, np.bool_)
        queue = np.empty(max(n, 1), np.int32)
        touched = np.empty(max(n, 1), np.int32)
        cand = np.empty(1024, np.int32)
        raw = np.zeros((1024, N_RAW), np.float32)
        for i in range(lo, hi):
            cand, raw = _rank_one(users[i], k, out_indptr, out_indices, in_indptr,
                                  in_indices, vote, hub, blocked, popularity, following,
                                  alpha, eps, t_indptr, t_indices, t_data, mean, scale, lin,
                                  quad, use_quad, fill, slot, p, r, inq, queue, touched,
                                  cand, raw, out_ids[i], out_scores[i])


@numba.njit(cache=True, nogil=True)
def _phi_rows(raw, cand, popularity, following, eps, out):  # pragma: no cover - compiled
    for j in range(cand.shape[0]):
        x = cand[j]
        _phi_row(raw, j, popularity[x], following[x], eps, out[j])


# -- public wrappers -----------------------------------------------------------------------
class ScoringModel:
    """The arrays a ranking needs: graph CSRs, per-vertex weights and the model.

    A plain holder built by :class:`trueclout.discover.suggest.WhoToFollow`; every array
    is contiguous and of the kernels' dtype.

    Parameters
    ----------
    out_indptr, out_indices, in_indptr, in_indices : CSR arrays
    vote : float32 array
        Weight of each account as a voter and walker (authenticity; 0 for flagged).
    blocked : bool array
        Never a candidate.
    popularity : float32 array
        Authentic in-degree (feature and fill order).
    alpha, eps : float
        Push parameters; ``alpha = 0`` skips the walk.
    mean, scale, lin : float64 arrays of length :data:`N_PHI`
    quad : float64 array (N_PHI, N_PHI), upper triangle used, or None (linear model)
    topics : scipy CSR (accounts × topics, rows of unit length) or None
    fill_size : int
        How many popular accounts to keep for users with too few candidates.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> lin = np.zeros(N_PHI); lin[0] = 1.0
    >>> m = ScoringModel(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
    ...                  vote=np.ones(g.n, np.float32), blocked=np.zeros(g.n, bool),
    ...                  popularity=g.in_degree().astype(np.float32), alpha=0.0, eps=1e-4,
    ...                  mean=np.zeros(N_PHI), scale=np.ones(N_PHI), lin=lin)
    >>> ids, s = recommend_users(m, np.array([3]), 2)   # dan: ana and fay by friends' follows
    >>> ids.tolist()
    [[0, 5]]
    """

    def __init__(self, out_indptr, out_indices, in_indptr, in_indices, *, vote, blocked,
                 popularity, alpha, eps, mean, scale, lin, quad=None, topics=None,
                 fill_size: int = 1000) -> None:
        self.out_indptr = np.ascontiguousarray(out_indptr, np.int64)
        self.out_indices = np.ascontiguousarray(out_indices, np.int32)
        self.in_indptr = np.ascontiguousarray(in_indptr, np.int64)
        self.in_indices = np.ascontiguousarray(in_indices, np.int32)
        n = self.out_indptr.shape[0] - 1
        self.n = n
        self.vote = np.ascontiguousarray(vote, np.float32)
        self.blocked = np.ascontiguousarray(blocked, np.bool_)
        self.popularity = np.ascontiguousarray(popularity, np.float32)
        deg = np.diff(self.out_indptr)
        self.following = deg.astype(np.float32)
        self.hub = (self.vote / np.log(2.0 + deg)).astype(np.float32)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.mean = np.ascontiguousarray(mean, np.float64)
        self.scale = np.ascontiguousarray(np.where(np.asarray(scale) > 0, scale, 1.0),
                                          np.float64)
        self.lin = np.ascontiguousarray(lin, np.float64)
        self.use_quad = quad is not None
        self.quad = np.ascontiguousarray(quad if quad is not None
                                         else np.zeros((N_PHI, N_PHI)), np.float64)
        if topics is not None:
            topics = topics.tocsr(copy=True)
            topics.sort_indices()
            self.t_indptr = np.ascontiguousarray(topics.indptr, np.int64)
            self.t_indices = np.ascontiguousarray(topics.indices, np.int32)
            self.t_data = np.ascontiguousarray(topics.data, np.float32)
        else:
            self.t_indptr = np.zeros(1, np.int64)
            self.t_indices = np.zeros(0, np.int32)
            self.t_data = np.zeros(0, np.float32)
        ok = np.flatnonzero(~self.blocked)
        order = np.lexsort((ok, -self.popularity[ok]))[:max(0, int(fill_size))]
        self.fill = ok[order].astype(np.int32)
        self._scratch = None
        self.lock = threading.Lock()

    def graph_args(self) -> tuple:
        return (self.out_indptr, self.out_indices, self.in_indptr, self.in_indices,
                self.vote, self.hub, self.blocked)

    def scratch(self) -> list:
        """This holder's own scratch arrays for single queries (hold :attr:`lock` while
        using them: the kernels release the GIL)."""
        if self._scratch is None:
            self._scratch = list(scratch(self.n))
        return self._scratch


def candidate_signals(model: ScoringModel, u: int) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate of user ``u`` with its raw signals (columns :data:`RAW`).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> m = ScoringModel(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
    ...                  vote=np.ones(g.n, np.float32), blocked=np.zeros(g.n, bool),
    ...                  popularity=np.ones(g.n, np.float32), alpha=0.5, eps=1e-4,
    ...                  mean=np.zeros(N_PHI), scale=np.ones(N_PHI), lin=np.ones(N_PHI))
    >>> cand, raw = candidate_signals(m, 4)   # eve follows cat and fay; dan follows eve
    >>> [g.name(x)[1] for x in cand], raw[:, RAW.index("fof")].tolist()
    (['ana', 'dan', 'ben'], [1.0, 0.0, 0.0])
    >>> raw[:, RAW.index("recip")].tolist(), bool(raw[2, RAW.index("ppr")] > 0)
    ([0.0, 1.0, 0.0], True)
    """
    with model.lock:
        s = model.scratch()
        slot, p, r, inq, queue, touched, cand, raw = s
        c, cand, raw = _candidates(int(u), *model.graph_args(), model.alpha, model.eps,
                                   model.t_indptr, model.t_indices, model.t_data, slot, p,
                                   r, inq, queue, touched, cand, raw)
        s[6], s[7] = cand, raw
        return cand[:c].copy(), raw[:c].copy()


def phi(model: ScoringModel, cand: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """The :data:`N_PHI` model features of candidates from their raw signals.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> m = ScoringModel(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
    ...                  vote=np.ones(g.n, np.float32), blocked=np.zeros(g.n, bool),
    ...                  popularity=np.ones(g.n, np.float32), alpha=0.5, eps=1e-4,
    ...                  mean=np.zeros(N_PHI), scale=np.ones(N_PHI), lin=np.ones(N_PHI))
    >>> f = phi(m, *candidate_signals(m, 4))
    >>> f.shape, round(float(f[0, 0]), 4)        # log(1 + 1 friend-of-friend)
    ((3, 9), 0.6931)
    """
    cand = np.ascontiguousarray(cand, np.int32)
    out = np.empty((cand.shape[0], N_PHI), np.float64)
    _phi_rows(np.ascontiguousarray(raw, np.float32), cand, model.popularity,
              model.following, model.eps, out)
    return out


def recommend_users(model: ScoringModel, users: np.ndarray, k: int, *,
                    workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` suggestions for each of ``users`` (parallel over users).

    Returns
    -------
    (ids int32 (len(users), k), scores float32 (len(users), k))
        Best first; ties broken by vertex id; ``-1`` and NaN pad rows when fewer than
        ``k`` accounts can be suggested.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> lin = np.zeros(N_PHI); lin[PHI.index("popularity")] = 1.0
    >>> m = ScoringModel(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
    ...                  vote=np.ones(g.n, np.float32), blocked=np.zeros(g.n, bool),
    ...                  popularity=g.in_degree().astype(np.float32), alpha=0.5, eps=1e-4,
    ...                  mean=np.zeros(N_PHI), scale=np.ones(N_PHI), lin=lin)
    >>> recommend_users(m, np.array([2, 3]), 3)[0].tolist()   # ties by vertex id
    [[4, 1, 5], [0, 1, 5]]
    """
    users = np.ascontiguousarray(users, np.int64)
    m = users.shape[0]
    k = int(k)
    ids = np.full((m, k), -1, np.int32)
    scores = np.full((m, k), np.nan, np.float32)
    if m == 0 or k <= 0:
        return ids, scores
    if users.min() < 0 or users.max() >= model.n:
        raise ValueError(f"users must be vertices in 0..{model.n - 1}")
    if m == 1:
        with model.lock:
            s = model.scratch()
            cand, raw = _rank_one(int(users[0]), k, *model.graph_args(), model.popularity,
                                  model.following, model.alpha, model.eps, model.t_indptr,
                                  model.t_indices, model.t_data, model.mean, model.scale,
                                  model.lin, model.quad, model.use_quad, model.fill, s[0],
                                  s[1], s[2], s[3], s[4], s[5], s[6], s[7], ids[0],
                                  scores[0])
            s[6], s[7] = cand, raw
        return ids, scores
    w = int(workers or numba.get_num_threads())
    w = max(1, min(w, m))
    _rank_many(users, k, *model.graph_args(), model.popularity, model.following,
               model.alpha, model.eps, model.t_indptr, model.t_indices, model.t_data,
               model.mean, model.scale, model.lin, model.quad, model.use_quad, model.fill,
               w, ids, scores)
    return ids, scores


@numba.njit(cache=True, parallel=True)
def _pair_signals(out_indptr, out_indices, in_indptr, in_indices, users, ids, common,
                  back):  # pragma: no cover - compiled
    for i in prange(users.shape[0]):
        u = users[i]
        x = ids[i]
        a, a1 = out_indptr[u], out_indptr[u + 1]
        b, b1 = in_indptr[x], in_indptr[x + 1]
        c = 0
        while a < a1 and b < b1:
            p, q = out_indices[a], in_indices[b]
            if p < q:
                a += 1
            elif p > q:
                b += 1
            else:
                c += 1
                a += 1
                b += 1
        common[i] = c
        back[i] = _contains(out_indices, out_indptr[x], out_indptr[x + 1], u)


def pair_signals(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
                 in_indices: np.ndarray, users: np.ndarray, ids: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """For pairs ``(users[i], ids[i])``: how many accounts the user follows follow the
    candidate (a sorted-row merge), and whether the candidate follows the user.

    Returns
    -------
    (int64 counts, bool follows back)

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> c, b = pair_signals(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
    ...                     np.array([3, 4]), np.array([0, 3]))
    >>> c.tolist(), b.tolist()
    ([1, 0], [False, True])
    """
    users = np.ascontiguousarray(users, np.int64)
    ids = np.ascontiguousarray(ids, np.int64)
    common = np.zeros(users.shape[0], np.int64)
    back = np.zeros(users.shape[0], np.bool_)
    if users.shape[0]:
        _pair_signals(np.ascontiguousarray(out_indptr, np.int64),
                      np.ascontiguousarray(out_indices, np.int32),
                      np.ascontiguousarray(in_indptr, np.int64),
                      np.ascontiguousarray(in_indices, np.int32), users, ids, common, back)
    return common, back
