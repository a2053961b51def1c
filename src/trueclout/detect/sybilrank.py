"""SybilRank: trust that flows from known-real accounts (Cao et al., NSDI 2012).

SybilRank gives every trusted seed an equal share of a total trust ``T``, spreads it by
``w = ceil(log2 n)`` steps of power iteration (an *early-terminated* random walk: the walk
mixes within the honest region, which is fast, but stops long before trust leaks through
the few edges into the fake region), and ranks accounts by **degree-normalised trust**
``trust(v) / deg(v)``. Accounts at the bottom of the ranking are the likely fakes.

The graph walked (setting ``sybilrank_graph``):

``follow`` (default)
    Trust flows along follow edges, from a follower to the accounts it follows, split
    evenly over its followings, and is normalised by in-degree: an account is trusted
    when trusted accounts follow it. Fakes follow real accounts as camouflage but real
    accounts do not follow fakes, so camouflage edges carry no trust *into* a fake. On the
    simulator this separates fakes from humans best (fake vs human AUC 0.99, see
    ``detect/README.md``).
``mutual``
    Only reciprocal follows, the analogue of the symmetric friendships of the paper
    (Tuenti). Accounts without any mutual follow receive nothing.
``undirected``
    Every follow as an undirected edge, as in the paper. On follow graphs camouflage
    follows become attack edges and trust leaks into the fakes; kept for comparison.

Seeds, in order of preference: the ``seeds`` given to ``fit``; else the accounts labelled
``human`` plus the verified accounts; else (no labels, nothing verified) a documented
fallback: accounts that look like ordinary, established people, namely at least
``sybilrank_fallback_min_mutual`` mutual follows, following back at least
``sybilrank_fallback_min_followback`` of their followers, older than
``sybilrank_fallback_min_age_days`` (when creation times are known) and without
follow-back churn (no quick unfollows in ``DetectionData.removed``). When even that finds
no seed, or the graph has no edges, the detector is **inactive**: ``active_`` is False,
every score is 0.0 and no reason is given.

Scores: ``decision_scores_ = 1 − r / (n − 1)``, where ``r`` counts the ranked accounts
with strictly lower degree-normalised trust (ties share the lowest rank, so every account
that no trust reaches scores 1.0). Accounts without any follow, in or out, carry no
evidence and score 0.0.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> det = SybilRankDetector(seeds=[0]).fit(DetectionData.from_graph(toy_graph()))
>>> det.decision_scores_.round(2).tolist()
[0.2, 0.0, 0.4, 1.0, 1.0, 1.0]
>>> det.reasons_[3]
'no trust reaches this account from known-real accounts: nobody trusted follows it, directly or within 3 steps'
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import config
from ..errors import UsageError
from ..kernels.propagate import inverse_degree, mutual_csr, propagate
from ..kernels.reciprocity import reciprocated_out_edges
from .base import BaseDetector
from .data import DetectionData

GRAPHS = ("follow", "mutual", "undirected")
DAY = 86_400


def capped_seeds(seeds: np.ndarray) -> np.ndarray:
    """At most ``sybilrank_seed_share`` of all accounts as seeds, a fixed random sample.

    SybilRank seeds are a small, trusted set (Cao et al. 2012 used a few hundred
    manually checked accounts); when labels mark nearly every honest account human (as a
    simulator's ground truth does), using all of them would hand the answer to the
    detector.

    Examples
    --------
    >>> int(capped_seeds(np.ones(100_000, bool)).sum()) < 100_000
    True
    """
    n = seeds.shape[0]
    cap = max(1, int(np.ceil(float(config.get("sybilrank_seed_share")) * n)))
    idx = np.flatnonzero(seeds)
    if idx.size <= cap:
        return seeds
    keep = np.random.default_rng(0).choice(idx, size=cap, replace=False)
    out = np.zeros(n, dtype=bool)
    out[keep] = True
    return out


def seed_mask(seeds: Any, n: int) -> np.ndarray:
    """A boolean mask of ``n`` accounts from seeds given as a mask or as vertex ids.

    Examples
    --------
    >>> seed_mask([0, 2], 4).tolist()
    [True, False, True, False]
    """
    s = np.asarray(seeds)
    if s.dtype == bool:
        if s.shape != (n,):
            raise UsageError(f"a seed mask must have {n} entries")
        return s.copy()
    s = s.astype(np.int64).ravel()
    if s.size and (s.min() < 0 or s.max() >= n):
        raise UsageError(f"seeds must be vertex ids in 0..{n - 1}")
    mask = np.zeros(n, bool)
    mask[s] = True
    return mask


def fallback_seeds(data: DetectionData, *, min_mutual: int | None = None,
                   min_followback: float | None = None,
                   min_age_days: float | None = None) -> np.ndarray:
    """Seeds when nothing is labelled real: established accounts with many mutual follows.

    See the module docstring; defaults from the ``sybilrank_fallback_*`` settings.

    Returns
    -------
    bool array of length n

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> fallback_seeds(DetectionData.from_graph(toy_graph()), min_mutual=1).tolist()
    [True, True, False, False, True, True]
    """
    min_mutual = config.get("sybilrank_fallback_min_mutual") if min_mutual is None \
        else min_mutual
    min_fb = config.get("sybilrank_fallback_min_followback") if min_followback is None \
        else min_followback
    min_age = config.get("sybilrank_fallback_min_age_days") if min_age_days is None \
        else min_age_days
    g = data.graph
    rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    ind = g.in_degree()
    ok = (rec >= min_mutual) & (rec >= min_fb * ind)
    created = data.column("created_at")
    seen = data.column("observed_at")
    age = (seen - created) / DAY
    known = np.isfinite(age)
    ok &= ~known | (age >= min_age)
    ok &= quick_unfollows(data) == 0
    return ok


def quick_unfollows(data: DetectionData) -> np.ndarray:
    """Per account, the follows it undid within ``farm_churn_days`` (follow-back churn),
    from ``data.removed``; zeros without unfollow data.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> quick_unfollows(DetectionData.from_graph(toy_graph())).tolist()
    [0, 0, 0, 0, 0, 0]
    """
    n = data.graph.n
    rem = data.removed
    if rem is None or not rem.num_rows:
        return np.zeros(n, np.int64)
    src = np.asarray(rem.column("src").to_numpy(), np.int64)
    c = np.asarray(rem.column("created").to_numpy(zero_copy_only=False), np.float64)
    r = np.asarray(rem.column("removed").to_numpy(zero_copy_only=False), np.float64)
    quick = (r - c) <= float(config.get("farm_churn_days")) * DAY
    return np.bincount(src[quick], minlength=n)[:n]


def sybilrank(data: DetectionData, seeds: np.ndarray, *, graph: str = "follow",
              iterations: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Degree-normalised SybilRank trust of every vertex.

    Parameters
    ----------
    data : DetectionData
    seeds : bool array or vertex ids
        Trusted accounts; the total trust ``n`` is split evenly over them.
    graph : {"follow", "mutual", "undirected"}
        The graph walked (module docstring).
    iterations : int, optional
        Power-iteration steps; default ``ceil(log2 n)``.

    Returns
    -------
    (trust, degree)
        float64 degree-normalised trust (0 where the degree is 0) and the int64 degree it
        was normalised by.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> t, deg = sybilrank(DetectionData.from_graph(toy_graph()), [0], iterations=2)
    >>> t.round(3).tolist(), deg.tolist()
    ([2.25, 0.0, 0.3, 0.0, 0.0, 0.0], [2, 1, 5, 0, 2, 1])
    """
    if graph not in GRAPHS:
        raise UsageError(f"graph must be one of {', '.join(GRAPHS)}, got {graph!r}")
    g = data.graph
    n = g.n
    mask = seed_mask(seeds, n)
    k = int(mask.sum())
    if iterations is None or iterations <= 0:
        iterations = int(np.ceil(np.log2(max(n, 2))))
    x0 = np.zeros(n, np.float32)
    if k:
        x0[mask] = np.float32(n / k)
    if graph == "follow":
        norm = g.in_degree()
        x = propagate(g.in_indptr, g.in_indices, x0, inverse_degree(g.out_degree()),
                      iterations)
    elif graph == "undirected":
        norm = g.in_degree() + g.out_degree()
        x = propagate(g.in_indptr, g.in_indices, x0, inverse_degree(norm), iterations,
                      indptr2=g.out_indptr, indices2=g.out_indices)
    else:
        mp, mi = mutual_csr(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
        norm = np.diff(mp)
        x = propagate(mp, mi, x0, inverse_degree(norm), iterations)
        del mp, mi
    trust = np.zeros(n, np.float64)
    has = norm > 0
    trust[has] = x[has].astype(np.float64) / norm[has]
    return trust, norm.astype(np.int64)


class SybilRankDetector(BaseDetector):
    """SybilRank trust propagation from trusted seeds; see the module docstring.

    Parameters
    ----------
    seeds : bool array or vertex ids, optional
        Trusted accounts. Default: labelled ``human`` plus verified, else the fallback.
    graph : {"follow", "mutual", "undirected"}, optional
        Graph walked; default ``sybilrank_graph``.
    iterations : int, optional
        Steps of power iteration; default ``sybilrank_iterations`` (0: ``ceil(log2 n)``).
    threshold : float, optional
        Default ``sybilrank_threshold`` (0.98: the bottom 2% of the trust ranking).

    Attributes
    ----------
    decision_scores_ : float array
        ``1 − normalised rank`` of degree-normalised trust (0.0 without edges or when
        inactive).
    trust_ : float array
        Degree-normalised trust.
    seeds_ : bool array
        The seeds used; ``seed_source_`` says where they came from ("given", "labels",
        "fallback" or None).
    active_ : bool
        False when there was no seed or no edge (then every score is 0.0).
    iterations_ : int

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> d = DetectionData.from_graph(toy_graph())
    >>> det = SybilRankDetector().fit(d)  # nothing labelled, no fallback seed: inactive
    >>> det.seed_source_, det.active_, float(det.decision_scores_.max())
    (None, False, 0.0)
    >>> SybilRankDetector(seeds=[0, 4]).fit(d).active_
    True
    """

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        """The ``sybilrank_threshold`` setting, used when ``threshold`` is None.

        Examples
        --------
        >>> SybilRankDetector().default_threshold
        0.98
        """
        return float(config.get("sybilrank_threshold"))

    def __init__(self, *, seeds: Any = None, graph: str | None = None,
                 iterations: int | None = None, threshold: float | None = None) -> None:
        self.seeds = seeds
        self.graph = graph
        self.iterations = iterations
        self.threshold = threshold

    def _fit(self, data: DetectionData, **kwargs: Any) -> None:
        if not isinstance(data, DetectionData):
            raise UsageError("SybilRankDetector.fit needs a DetectionData")
        graph = self.graph or config.get("sybilrank_graph")
        iters = self.iterations if self.iterations is not None \
            else config.get("sybilrank_iterations")
        n = data.n
        if iters is None or iters <= 0:
            iters = int(np.ceil(np.log2(max(n, 2))))
        self.iterations_ = int(iters)
        self.graph_ = graph
        if self.seeds is not None:
            seeds, source = seed_mask(self.seeds, n), "given"
        else:
            seeds = capped_seeds(data.label_mask("human") | (data.column("verified", fill=0) > 0))
            source = "labels"
            if not seeds.any():
                seeds, source = fallback_seeds(data), "fallback"
        self.seeds_ = seeds
        self.seed_source_ = source if seeds.any() else None
        scores = np.zeros(n, np.float64)
        self.trust_ = np.zeros(n, np.float64)
        self.rank_share_ = np.ones(n, np.float64)
        self.active_ = bool(seeds.any() and data.graph.m > 0)
        if self.active_:
            trust, norm = sybilrank(data, seeds, graph=graph, iterations=self.iterations_)
            g = data.graph
            ranked = (g.in_degree() + g.out_degree()) > 0
            t = trust[ranked]
            m = t.shape[0]
            srt = np.sort(t)
            below = np.searchsorted(srt, t, side="left")      # strictly lower trust
            upto = np.searchsorted(srt, t, side="right")      # lower or equal
            scores[ranked] = 1.0 - below / max(m - 1, 1)
            self.rank_share_[ranked] = upto / max(m, 1)
            self.trust_ = trust
        self.decision_scores_ = np.clip(scores, 0.0, 1.0)

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        if not self.active_:
            return ["" for _ in indices]
        out = []
        for v in indices:
            share = self.rank_share_[v]
            if self.trust_[v] <= 0.0:
                who = {"follow": "nobody trusted follows it",
                       "mutual": "no trusted account follows it back",
                       "undirected": "no trusted account is linked to it"}[self.graph_]
                out.append("no trust reaches this account from known-real accounts: "
                           f"{who}, directly or within {self.iterations_} steps")
            else:
                pct = max(share * 100.0, 0.1)
                out.append("little trust reaches this account from known-real accounts: "
                           f"trust rank in the bottom {pct:.1f}%")
        return out
