"""SimClusters: KnownFor and InterestedIn communities of the follow graph.

SimClusters (Satuluri et al., "SimClusters: community-based representations for
heterogeneous recommendations at Twitter", KDD 2020) describes every account by the
communities it is interested in, found from *who follows whom* alone:

1. **Producers.** The most-followed accounts: the top ``topic_max_producers`` by
   *authentic* follower weight (the sum of ``ctx.weight`` over their followers, so bought
   and fake followers count for nothing), with at least ``topic_min_producer_followers``
   of it. Accounts the detection flags are never producers.
2. **Producer similarity.** Two producers are similar when the same accounts follow them:
   the cosine of their follower vectors, each follower weighted by its authenticity
   weight (:func:`~trueclout.kernels.cluster.cosine_topk`). Each producer keeps its
   ``topic_sim_neighbors`` most similar producers at cosine ``topic_sim_min`` or more;
   followers that follow more than ``topic_max_follower_producers`` producers (mass
   followers) are left out of the cosine. The kept pairs, made symmetric by their larger
   cosine, are the producer-producer similarity graph.
3. **KnownFor.** Each producer is known for at most one community. The paper clusters
   the similarity graph with neighbourhood-aware Metropolis–Hastings sampling for a fixed
   number of communities; we use Louvain greedy modularity instead
   (:func:`~trueclout.kernels.cluster.louvain`, Blondel et al. 2008), which picks the
   number of communities itself and is deterministic for a seed. Communities with fewer
   than ``topic_min_community`` producers are dropped (their producers are known for
   nothing). Communities are numbered by size, largest first. A producer's KnownFor
   *score* is the share of its similarity weight that stays inside its community (1: all
   its similar producers share it).
4. **InterestedIn.** ``InterestedIn = Follows × KnownFor``: for every account, the
   KnownFor scores of the producers it follows, summed per community and normalised to
   sum 1 over communities; shares below ``topic_min_interest`` are dropped and the rest
   renormalised (the paper also keeps only the larger entries).

Examples
--------
>>> sc = SimClusters().fit(example_graph())
>>> sc.n_communities_, sc.known_for_[:12].tolist()
(2, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
>>> sc.interested_in_[12:16].toarray().astype(float).round(2).tolist()
[[1.0, 0.0], [0.22, 0.78], [0.83, 0.17], [0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import config
from ..base import Estimator
from ..errors import UsageError
from ..graph.follow_graph import FollowGraph
from ..kernels.cluster import cosine_topk, louvain, modularity
from ..kernels.propagate import pull


def example_graph(seed: int = 0) -> FollowGraph:
    """A small graph with two planted interest communities, for examples and tests.

    Producers ``0..5`` and ``6..11`` are two topics; followers ``12..51`` follow most of
    the producers of their own topic (even followers topic 0, odd ones topic 1) and, one
    time in three, one producer of the other topic.

    Examples
    --------
    >>> g = example_graph()
    >>> g.n, int(g.in_degree()[:12].min()), int(g.in_degree()[12:].max())
    (52, 12, 0)
    """
    from ..graph.build import from_edges
    rng = np.random.default_rng(seed)
    src, dst = [], []
    for u in range(12, 52):
        topic = u % 2
        for p in np.arange(6) + 6 * topic:
            if rng.random() < 0.8:
                src.append(u)
                dst.append(int(p))
        if rng.random() < 1 / 3:
            src.append(u)
            dst.append(int(rng.integers(0, 6) + 6 * (1 - topic)))
    return from_edges(np.array(src), np.array(dst), n=52)


def authentic_in_weight(graph: FollowGraph, weight: np.ndarray) -> np.ndarray:
    """Sum of the followers' weights of every account (float64).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> authentic_in_weight(toy_graph(), np.ones(6)).tolist()
    [2.0, 1.0, 5.0, 0.0, 2.0, 1.0]
    """
    w = np.ascontiguousarray(weight, np.float32)
    return pull(graph.in_indptr, graph.in_indices, w).astype(np.float64)


def select_producers(graph: FollowGraph, weight: np.ndarray, *,
                     max_producers: int | None = None, min_followers: float | None = None,
                     exclude: np.ndarray | None = None) -> np.ndarray:
    """The producers: most-followed accounts by authentic follower weight.

    Parameters
    ----------
    graph : FollowGraph
    weight : float array
        Weight of each account as a follower (``ctx.weight``).
    max_producers : int, optional
        Default ``topic_max_producers``.
    min_followers : float, optional
        Smallest authentic follower weight; default ``topic_min_producer_followers``.
    exclude : bool array, optional
        Accounts that may not be producers (the suspicious ones).

    Returns
    -------
    int32 array
        Vertex ids, most followed first (ties by vertex id).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> select_producers(toy_graph(), np.ones(6), min_followers=2).tolist()
    [2, 0, 4]
    """
    top = int(config.value("topic_max_producers", max_producers))
    floor = float(config.value("topic_min_producer_followers", min_followers))
    win = authentic_in_weight(graph, weight)
    ok = win >= floor
    if exclude is not None:
        ok &= ~np.asarray(exclude, bool)
    cand = np.flatnonzero(ok)
    order = np.lexsort((cand, -win[cand]))
    return cand[order[:max(top, 0)]].astype(np.int32)


def follow_matrix(graph: FollowGraph, producers: np.ndarray) -> sp.csr_matrix:
    """Accounts × producers: 1 where the account follows the producer (float32 CSR).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> follow_matrix(toy_graph(), np.array([2, 4])).toarray().astype(int).tolist()
    [[1, 0], [1, 0], [0, 0], [1, 1], [1, 0], [1, 1]]
    """
    n = graph.n
    pos = np.full(n, -1, np.int32)
    pos[producers] = np.arange(len(producers), dtype=np.int32)
    col = pos[graph.out_indices]
    keep = col >= 0
    counts = np.add.reduceat(keep.astype(np.int64), graph.out_indptr[:-1]) \
        if graph.m else np.zeros(n, np.int64)
    counts[np.diff(graph.out_indptr) == 0] = 0   # reduceat repeats a value for empty rows
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = col[keep]
    return sp.csr_matrix((np.ones(indices.shape[0], np.float32), indices, indptr),
                         shape=(n, len(producers)))


def producer_similarity(follows: sp.csr_matrix, weight: np.ndarray, *,
                        neighbors: int | None = None, min_sim: float | None = None,
                        max_follows: int | None = None) -> sp.csr_matrix:
    """Symmetric producer × producer similarity graph (weighted follower cosine, top-k).

    Parameters
    ----------
    follows : CSR, accounts × producers
        From :func:`follow_matrix`.
    weight : float array
        Weight of each account as a follower.
    neighbors, min_sim, max_follows : optional
        Defaults ``topic_sim_neighbors``, ``topic_sim_min``, ``topic_max_follower_producers``.

    Returns
    -------
    float32 CSR, producers × producers, zero diagonal

    Examples
    --------
    >>> f = follow_matrix(example_graph(), np.arange(12))
    >>> s = producer_similarity(f, np.ones(52), neighbors=3, min_sim=0.3)
    >>> bool(s[:6, 6:].sum() < s[:6, :6].sum() / 5), (s != s.T).nnz
    (True, 0)
    """
    k = int(config.value("topic_sim_neighbors", neighbors))
    lo = float(config.value("topic_sim_min", min_sim))
    cap = int(config.value("topic_max_follower_producers", max_follows))
    w = np.asarray(weight, np.float64).copy()
    deg = np.diff(follows.indptr)
    w[deg > cap] = 0.0
    p = follows.T.tocsr()
    nb, val = cosine_topk(p.indptr, p.indices, follows.indptr, follows.indices, w,
                          k=k, min_sim=lo)
    n_p = follows.shape[1]
    rows = np.repeat(np.arange(n_p), k)
    ok = nb.ravel() >= 0
    s = sp.csr_matrix((val.ravel()[ok], (rows[ok], nb.ravel()[ok])), shape=(n_p, n_p))
    return s.maximum(s.T).tocsr().astype(np.float32)


def known_for(similarity: sp.csr_matrix, *, resolution: float | None = None,
              min_size: int | None = None, seed: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """KnownFor: one community (or none) per producer, by Louvain on the similarity graph.

    Returns
    -------
    (labels, score)
        int64 community of each producer, ``0..C-1`` largest first, -1 for none; float32
        share of each producer's similarity weight inside its community (0 for none).

    Examples
    --------
    >>> f = follow_matrix(example_graph(), np.arange(12))
    >>> lab, score = known_for(producer_similarity(f, np.ones(52)))
    >>> lab.tolist(), bool(score.min() > 0.5)
    ([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], True)
    """
    gamma = float(config.value("topic_resolution", resolution))
    size_floor = int(config.value("topic_min_community", min_size))
    rseed = int(config.value("topic_seed", seed))
    s = similarity.tocsr()
    n_p = s.shape[0]
    if n_p == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    raw = louvain(s.indptr, s.indices, s.data, resolution=gamma, seed=rseed)
    sizes = np.bincount(raw)
    big = np.flatnonzero(sizes >= max(size_floor, 2))
    order = big[np.lexsort((big, -sizes[big]))]       # largest first, ties by number
    renum = np.full(sizes.shape[0], -1, np.int64)
    renum[order] = np.arange(order.shape[0])
    labels = renum[raw]
    rows = np.repeat(np.arange(n_p), np.diff(s.indptr))
    same = (labels[rows] == labels[s.indices]) & (labels[rows] >= 0)
    inside = np.bincount(rows, weights=np.where(same, s.data, 0.0), minlength=n_p)
    total = np.bincount(rows, weights=s.data, minlength=n_p)
    score = np.where(total > 0, inside / np.maximum(total, 1e-300), 0.0)
    labels[score <= 0] = -1
    return labels, np.where(labels >= 0, score, 0.0).astype(np.float32)


def interested_in(follows: sp.csr_matrix, labels: np.ndarray, score: np.ndarray,
                  n_communities: int, *, min_interest: float | None = None) -> sp.csr_matrix:
    """InterestedIn = Follows × KnownFor, rows normalised to sum 1 (or all zero).

    Parameters
    ----------
    follows : CSR, accounts × producers
    labels, score : arrays over producers
        From :func:`known_for`.
    n_communities : int
    min_interest : float, optional
        Shares below it are dropped before renormalising; default ``topic_min_interest``.

    Returns
    -------
    float32 CSR, accounts × communities

    Examples
    --------
    >>> f = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], float))
    >>> interested_in(f, np.array([0, 1, 1]), np.ones(3), 2).toarray().tolist()
    [[0.5, 0.5], [0.0, 1.0], [0.0, 0.0]]
    """
    floor = float(config.value("topic_min_interest", min_interest))
    n_p = follows.shape[1]
    has = np.asarray(labels) >= 0
    kf = sp.csr_matrix((np.asarray(score, np.float32)[has],
                        (np.flatnonzero(has), np.asarray(labels)[has])),
                       shape=(n_p, n_communities))
    m = (follows.astype(np.float32) @ kf).tocsr()
    m = _normalise_rows(m)
    if floor > 0 and m.nnz:
        m.data[m.data < floor] = 0.0
        m.eliminate_zeros()
        m = _normalise_rows(m)
    return m.astype(np.float32)


def _normalise_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    s = np.asarray(m.sum(axis=1)).ravel()
    inv = np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)
    return sp.csr_matrix(sp.diags(inv) @ m)


class SimClusters(Estimator):
    """KnownFor and InterestedIn communities (Satuluri et al., KDD 2020).

    Parameters
    ----------
    max_producers, min_followers, neighbors, min_sim, max_follows, resolution,
    min_size, min_interest, seed : optional
        Defaults from config: ``topic_max_producers``, ``topic_min_producer_followers``,
        ``topic_sim_neighbors``, ``topic_sim_min``, ``topic_max_follower_producers``,
        ``topic_resolution``, ``topic_min_community``, ``topic_min_interest``,
        ``topic_seed`` (module docstring).

    Attributes
    ----------
    producers_ : int32 array
        Vertex ids of the producers, most followed first.
    producer_weight_ : float64 array
        Their authentic follower weight.
    similarity_ : float32 CSR, producers × producers
    labels_ : int64 array
        KnownFor community of each producer (-1: none).
    known_for_ : int32 array of length n
        KnownFor community of every account (-1 for accounts that are not producers or
        are known for nothing).
    known_for_score_ : float32 array of length n
    n_communities_ : int
    sizes_ : int64 array
        Producers known for each community.
    interested_in_ : float32 CSR, accounts × communities
        Rows sum to 1 (accounts that follow no producer of a community: all zero).
    modularity_ : float
        Modularity of the KnownFor partition of the similarity graph.

    Examples
    --------
    >>> sc = SimClusters().fit(example_graph())
    >>> sc.known_for_[:12].tolist(), sc.sizes_.tolist()
    ([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], [6, 6])
    >>> SimClusters().labels_
    Traceback (most recent call last):
    ...
    trueclout.errors.NotFittedError: SimClusters is not fitted yet; call fit first
    """

    def __init__(self, *, max_producers: int | None = None, min_followers: float | None = None,
                 neighbors: int | None = None, min_sim: float | None = None,
                 max_follows: int | None = None, resolution: float | None = None,
                 min_size: int | None = None, min_interest: float | None = None,
                 seed: int | None = None) -> None:
        self.max_producers = max_producers
        self.min_followers = min_followers
        self.neighbors = neighbors
        self.min_sim = min_sim
        self.max_follows = max_follows
        self.resolution = resolution
        self.min_size = min_size
        self.min_interest = min_interest
        self.seed = seed

    def fit(self, data: Any, weight: np.ndarray | None = None,
            exclude: np.ndarray | None = None) -> "SimClusters":
        """Find the communities of ``data``.

        Parameters
        ----------
        data : ScoreContext or FollowGraph
            From a ScoreContext, ``weight`` defaults to ``ctx.weight`` and ``exclude``
            to ``ctx.suspicious``; from a bare graph every account weighs 1.
        weight : float array, optional
        exclude : bool array, optional
            Accounts that may not be producers.

        Returns
        -------
        self

        Examples
        --------
        >>> SimClusters(min_size=7).fit(example_graph()).n_communities_
        0
        """
        graph = data if isinstance(data, FollowGraph) else getattr(data, "graph", None)
        if not isinstance(graph, FollowGraph):
            raise UsageError(f"expected a ScoreContext or FollowGraph, got "
                             f"{type(data).__name__}")
        n = graph.n
        if weight is None:
            weight = getattr(data, "weight", None)
        weight = np.ones(n, np.float32) if weight is None else np.asarray(weight, np.float32)
        if exclude is None:
            exclude = getattr(data, "suspicious", None)
        if weight.shape != (n,):
            raise UsageError(f"weight must have {n} entries")
        prods = select_producers(graph, weight, max_producers=self.max_producers,
                                 min_followers=self.min_followers, exclude=exclude)
        follows = follow_matrix(graph, prods)
        sim = producer_similarity(follows, weight, neighbors=self.neighbors,
                                  min_sim=self.min_sim, max_follows=self.max_follows)
        labels, score = known_for(sim, resolution=self.resolution, min_size=self.min_size,
                                  seed=self.seed)
        c = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
        self.producers_ = prods
        self.producer_weight_ = authentic_in_weight(graph, weight)[prods]
        self.similarity_ = sim
        self.labels_ = labels
        kf = np.full(n, -1, np.int32)
        kf[prods] = labels
        kfs = np.zeros(n, np.float32)
        kfs[prods] = score
        self.known_for_ = kf
        self.known_for_score_ = kfs
        self.n_communities_ = c
        self.sizes_ = np.bincount(labels[labels >= 0], minlength=c).astype(np.int64)
        self.interested_in_ = interested_in(follows, labels, score, c,
                                            min_interest=self.min_interest)
        self.modularity_ = float(modularity(sim.indptr, sim.indices, sim.data,
                                            np.where(labels >= 0, labels,
                                                     c + np.arange(labels.shape[0])),
                                            resolution=1.0)) if sim.nnz else 0.0
        return self
