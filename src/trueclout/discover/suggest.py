"""Who to follow: rank accounts for a user by relevance, over the authentic graph.

Twitter's WTF (Gupta et al., WWW 2013) suggests accounts from the user's neighbourhood:
a personalised PageRank walk (its "circle of trust") and the accounts that the
user's friends and followers follow (SALSA's hubs and authorities). We take the same
signals, computed per user in microseconds by :mod:`trueclout.kernels.ppr`:

- **friends of friends**: accounts followed by the accounts the user follows, each
  friend counting its authentic weight, and again with Adamic–Adar weights
  ``1 / log(2 + follows)`` (a friend who follows thousands says little about each);
- **followers' follows**: accounts followed by the user's own followers (co-followers);
- **reciprocity**: the account already follows the user;
- **personalised PageRank** from the user (forward push, ``alpha = suggest_ppr_alpha``),
  walking only through authentic accounts: each account passes on its authenticity
  weight's share of the walk, and flagged accounts pass on nothing;
- **topic similarity** (optional): the cosine of the user's and the candidate's topic
  vectors, e.g. SimClusters InterestedIn from :mod:`trueclout.score.topics`;
- the candidate's authentic follower count and how many it follows.

**The combination is learned on the graph itself** (``learn=True``, the default): fit
hides ``suggest_hide_share`` (20%) of the follows of ``suggest_train_users`` users with at
least ``suggest_train_min_follows`` follows (drawn with ``suggest_train_seed``), collects
the candidates each would get on the remaining graph, and fits an L2 logistic regression
(scikit-learn) that tells the hidden follows from the other candidates, on the
standardised features and their pairwise products (``suggest_quadratic``). Users passed
as ``exclude`` (an evaluation's users) are never drawn. Without enough held-out follows
(a small graph), or with ``learn=False``, fixed weights from config are used
(``suggest_w_*``), or the ``weights`` given.

Suspicious accounts (``ctx.suspicious``), the user and the accounts the user follows are
**never suggested**; suspicious accounts also carry no vote and pass on no walk.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> wtf = WhoToFollow().fit(g)           # too small to learn: the fixed weights
>>> wtf.learned_
False
>>> ids, scores = wtf.recommend(g.vertex("toy", "dan"), 3)
>>> [g.name(x)[1] for x in ids]     # cat and eve, whom dan follows, follow ana and fay
['ana', 'fay', 'ben']
>>> WhoToFollow().recommend(0)
Traceback (most recent call last):
...
trueclout.errors.NotFittedError: WhoToFollow is not fitted yet; call fit first
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa

from .. import config
from ..base import Estimator
from ..errors import UsageError
from ..graph.follow_graph import FollowGraph
from ..kernels.ppr import N_PHI, PHI, ScoringModel, candidate_signals, phi, recommend_users
from ..kernels.propagate import pull
from ..accounts import resolve_accounts
from .targets import read_account_specs

#: Fixed-weight settings by feature name (used when nothing is learned).
FIXED = {"aa": "suggest_w_aa", "recip": "suggest_w_recip", "ppr": "suggest_w_ppr",
         "popularity": "suggest_w_popularity", "topic": "suggest_w_topic"}


# -- inputs --------------------------------------------------------------------------------
def _unpack(data: Any) -> tuple[FollowGraph, np.ndarray | None, np.ndarray | None]:
    """(graph, vote weight or None, suspicious mask or None) of a context, data or graph."""
    if isinstance(data, FollowGraph):
        return data, None, None
    if hasattr(data, "suspicious") and hasattr(data, "weight") and hasattr(data, "graph"):
        sus = np.asarray(data.suspicious, bool)
        w = np.where(sus, np.float32(0), np.asarray(data.weight, np.float32))
        return data.graph, w.astype(np.float32), sus
    g = getattr(data, "graph", None)
    if isinstance(g, FollowGraph):
        return g, None, None
    raise UsageError("expected a ScoreContext, DetectionData or FollowGraph, got "
                     f"{type(data).__name__}")


def _topics(topics: Any, n: int):
    """Topic vectors as float32 CSR with unit rows (or None)."""
    if topics is None:
        return None
    import scipy.sparse as sp
    t = sp.csr_matrix(topics, dtype=np.float32)
    if t.shape[0] != n:
        raise UsageError(f"topic vectors have {t.shape[0]} rows for {n} accounts")
    norm = np.sqrt(np.asarray(t.multiply(t).sum(axis=1)).ravel())
    inv = np.where(norm > 0, 1.0 / np.where(norm > 0, norm, 1.0), 0.0).astype(np.float32)
    t = sp.csr_matrix(sp.diags(inv) @ t, dtype=np.float32)
    t.sort_indices()
    return t


# -- held-out follows ----------------------------------------------------------------------
@dataclass(eq=False)
class Holdout:
    """Users drawn with some of their follows hidden, and the graph without them.

    Attributes
    ----------
    users : int64 array, ascending
    hidden_indptr, hidden_indices : the hidden follows of ``users[i]`` are
        ``hidden_indices[hidden_indptr[i]:hidden_indptr[i + 1]]`` (ascending)
    graph : FollowGraph
        The graph with every hidden follow removed.
    """

    users: np.ndarray
    hidden_indptr: np.ndarray
    hidden_indices: np.ndarray
    graph: FollowGraph

    def hidden(self, i: int) -> np.ndarray:
        """The hidden follows of ``users[i]``.

        Examples
        --------
        >>> from trueclout.graph.toy import random_graph
        >>> h = hold_out(random_graph(50, 600, seed=1), 5, min_follows=10, seed=0)
        >>> h.hidden(0).size == round(0.2 * (h.graph.out_degree()[h.users[0]]
        ...                                   + h.hidden(0).size))
        True
        """
        return self.hidden_indices[self.hidden_indptr[i]:self.hidden_indptr[i + 1]]


def remove_follows(graph: FollowGraph, src: np.ndarray, dst: np.ndarray) -> FollowGraph:
    """A copy of ``graph`` without the follows ``src[i] -> dst[i]`` (absent ones ignored).

    Both CSR directions and the follow times are kept aligned; interactions are kept.
    Memory: a copy of the index arrays plus one byte per follow (the keep masks).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> h = remove_follows(g, np.array([0, 3]), np.array([2, 4]))   # ana-cat, dan-eve
    >>> h.m, h.out_neighbors(0).tolist(), h.in_neighbors(4).tolist()
    (9, [1], [5])
    >>> h.check()
    """
    src = np.asarray(src, np.int64)
    dst = np.asarray(dst, np.int64)
    n = graph.n

    def mask_of(indptr, indices, rows, cols):
        keep = np.ones(indices.shape[0], bool)
        found = np.zeros(n, np.int64)
        for r, c in zip(rows, cols):
            a, b = indptr[r], indptr[r + 1]
            pos = a + np.searchsorted(indices[a:b], c)
            if pos < b and indices[pos] == c and keep[pos]:
                keep[pos] = False
                found[r] += 1
        # row v loses found[v] entries: shift every later row start
        new_indptr = np.empty(n + 1, np.int64)
        new_indptr[0] = 0
        new_indptr[1:] = indptr[1:] - np.cumsum(found)
        return keep, new_indptr

    ko, out_indptr = mask_of(graph.out_indptr, graph.out_indices, src, dst)
    ki, in_indptr = mask_of(graph.in_indptr, graph.in_indices, dst, src)
    return FollowGraph(
        n=n, names=graph.names, uids=graph.uids,
        out_indptr=out_indptr, out_indices=graph.out_indices[ko],
        in_indptr=in_indptr, in_indices=graph.in_indices[ki],
        out_ts=None if graph.out_ts is None else graph.out_ts[ko],
        in_ts=None if graph.in_ts is None else graph.in_ts[ki],
        interactions=graph.interactions)


def hold_out(graph: FollowGraph, n_users: int, *, min_follows: int | None = None,
             share: float | None = None, seed: int = 0,
             exclude: Sequence[int] | np.ndarray | None = None) -> Holdout:
    """Draw users and hide a share of each one's follows, all at once.

    The protocol of ``trueclout eval suggest`` and of the training in
    :meth:`WhoToFollow.fit`: draw ``n_users`` users (or all, when fewer qualify) with at
    least ``min_follows`` follows, uniformly without replacement with
    ``numpy.random.default_rng(seed)``, then for each user in ascending order hide
    ``max(1, round(share · follows))`` of its follows drawn uniformly, and remove every
    hidden follow from the graph.

    Parameters
    ----------
    graph : FollowGraph
    n_users : int
    min_follows : int, optional
        Default ``suggest_train_min_follows`` (20).
    share : float, optional
        Default ``suggest_hide_share`` (0.2).
    seed : int
    exclude : vertex ids, optional
        Never drawn (for a training draw: the evaluation's users).

    Returns
    -------
    Holdout

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> g = random_graph(200, 4000, seed=0)
    >>> h = hold_out(g, 10, min_follows=15, seed=0)
    >>> h.users.size, int(g.m - h.graph.m) == h.hidden_indices.size
    (10, True)
    >>> h2 = hold_out(g, 10, min_follows=15, seed=1, exclude=h.users)
    >>> bool(np.intersect1d(h.users, h2.users).size == 0)
    True
    """
    min_follows = int(config.value("suggest_train_min_follows", min_follows))
    share = float(config.value("suggest_hide_share", share))
    if not 0.0 < share < 1.0:
        raise UsageError("the hidden share must be in (0, 1)")
    deg = graph.out_degree()
    ok = deg >= max(min_follows, 1)
    if exclude is not None:
        ex = np.asarray(exclude, np.int64)
        ok[ex[(ex >= 0) & (ex < graph.n)]] = False
    eligible = np.flatnonzero(ok)
    rng = np.random.default_rng(seed)
    take = min(int(n_users), eligible.size)
    users = np.sort(rng.choice(eligible, take, replace=False)) if take else \
        np.zeros(0, np.int64)
    indptr = np.zeros(users.size + 1, np.int64)
    parts = []
    for i, u in enumerate(users):
        row = graph.out_neighbors(u)
        h = max(1, int(round(share * row.size)))
        parts.append(np.sort(rng.choice(row, h, replace=False)).astype(np.int32))
        indptr[i + 1] = indptr[i] + h
    hidden = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    src = np.repeat(users, np.diff(indptr))
    return Holdout(users=users.astype(np.int64), hidden_indptr=indptr, hidden_indices=hidden,
                   graph=remove_follows(graph, src, hidden))


# -- the estimator -------------------------------------------------------------------------
def _expand(z: np.ndarray) -> np.ndarray:
    d = z.shape[1]
    iu, ju = np.triu_indices(d)
    return np.hstack([z, z[:, iu] * z[:, ju]])


class WhoToFollow(Estimator):
    """Who-to-follow suggestions over the authentic graph; see the module docstring.

    Parameters
    ----------
    alpha, eps : float, optional
        Personalised PageRank push; default ``suggest_ppr_alpha``, ``suggest_ppr_eps``.
        ``alpha=0`` leaves the walk out.
    learn : bool, optional
        Learn the combination on held-out follows; default ``suggest_learn``.
    weights : dict, optional
        A fixed linear combination ``{feature: weight}`` over the features
        :data:`trueclout.kernels.ppr.PHI` (``fof``, ``aa``, ``infof``, ``infof_aa``,
        ``recip``, ``ppr``, ``topic``, ``popularity``, ``following``); overrides
        ``learn``.
    authentic : bool
        Weight votes and walks by authenticity (with a ScoreContext); False treats every
        account as real, though flagged accounts are still never suggested.
    quadratic : bool, optional
        Learn pairwise products too; default ``suggest_quadratic``.
    train_users, min_follows, hide_share, seed, negative_share, C, min_positives : optional
        The training draw and fit; defaults from the ``suggest_*`` settings.

    Attributes
    ----------
    graph_ : FollowGraph
    vote_ : float32 array
        Authentic weight of each account as a voter (1 on a bare graph, 0 if flagged).
    blocked_ : bool array
        Never suggested (``ctx.suspicious``).
    popularity_ : float32 array
        Authentic follower count.
    mean_, scale_ : float64 arrays
        Standardisation of the features.
    coef_ : dict
        Linear weight of each feature (of the standardised features when learned).
    quad_ : float64 array (N_PHI, N_PHI) or None
        Weights of the pairwise products (upper triangle).
    learned_ : bool
        Whether the combination was learned (else fixed weights).
    training_ : dict
        Training users, rows, held-out follows found among candidates, seconds.
    fit_seconds_ : float
        The whole precomputation.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> ctx = toy_context(suspicious=[0])               # ana is flagged
    >>> wtf = WhoToFollow().fit(ctx)
    >>> ids, _ = wtf.recommend(ctx.graph.vertex("toy", "dan"), 5)
    >>> 0 in ids.tolist(), 3 in ids.tolist()            # never ana, never dan himself
    (False, False)
    """

    def __init__(self, *, alpha: float | None = None, eps: float | None = None,
                 learn: bool | None = None, weights: dict | None = None,
                 authentic: bool = True, quadratic: bool | None = None,
                 train_users: int | None = None, min_follows: int | None = None,
                 hide_share: float | None = None, seed: int | None = None,
                 negative_share: float | None = None, C: float | None = None,
                 min_positives: int | None = None) -> None:
        self.alpha = alpha
        self.eps = eps
        self.learn = learn
        self.weights = weights
        self.authentic = authentic
        self.quadratic = quadratic
        self.train_users = train_users
        self.min_follows = min_follows
        self.hide_share = hide_share
        self.seed = seed
        self.negative_share = negative_share
        self.C = C
        self.min_positives = min_positives

    # -- fitting ---------------------------------------------------------------------------
    def _holder(self, graph: FollowGraph, vote, blocked, topics, mean, scale, lin, quad
                ) -> ScoringModel:
        pop = pull(graph.in_indptr, graph.in_indices, vote)
        return ScoringModel(graph.out_indptr, graph.out_indices, graph.in_indptr,
                            graph.in_indices, vote=vote, blocked=blocked, popularity=pop,
                            alpha=self.alpha_, eps=self.eps_, mean=mean, scale=scale,
                            lin=lin, quad=quad, topics=topics,
                            fill_size=int(config.get("suggest_fill")))

    def _fixed(self, weights: dict | None, has_topics: bool) -> np.ndarray:
        if weights is None:
            weights = {f: float(config.get(s)) for f, s in FIXED.items()}
            if not has_topics:
                weights.pop("topic")
        lin = np.zeros(N_PHI)
        for name, w in weights.items():
            if name not in PHI:
                raise UsageError(f"unknown feature {name!r}; use one of {', '.join(PHI)}")
            lin[PHI.index(name)] = float(w)
        return lin

    def fit(self, data: Any, *, topics: Any = None, exclude: Sequence[int] | None = None,
            progress: Callable[[str], None] | None = None) -> "WhoToFollow":
        """Precompute the per-account arrays and learn (or set) the combination.

        Parameters
        ----------
        data : ScoreContext, DetectionData or FollowGraph
            With a ScoreContext the graph is authentic (votes weighted, flagged accounts
            blocked); otherwise nobody is suspicious.
        topics : array or sparse matrix (accounts × topics), optional
            Topic vectors (rows are scaled to unit length); their cosine becomes a
            feature.
        exclude : vertex ids, optional
            Users never drawn for training (an evaluation's users).
        progress : callable, optional
            Called with the name of each stage.

        Returns
        -------
        self

        Examples
        --------
        >>> from trueclout.graph.toy import random_graph
        >>> g = random_graph(300, 9000, seed=0)
        >>> wtf = WhoToFollow(train_users=100, min_positives=10).fit(g)
        >>> wtf.learned_, wtf.training_["users"]
        (True, 100)
        """
        t0 = time.perf_counter()
        say = progress or (lambda stage: None)
        graph, vote, sus = _unpack(data)
        n = graph.n
        self.alpha_ = float(config.value("suggest_ppr_alpha", self.alpha))
        self.eps_ = float(config.value("suggest_ppr_eps", self.eps))
        if not 0.0 <= self.alpha_ <= 1.0 or self.eps_ <= 0.0:
            raise UsageError("alpha must be in [0, 1] and eps positive")
        self.blocked_ = np.zeros(n, bool) if sus is None else sus.copy()
        if vote is None or not self.authentic:
            vote = np.ones(n, np.float32)
        self.vote_ = np.ascontiguousarray(vote, np.float32)
        self.graph_ = graph
        self.topics_ = _topics(topics, n)
        learn = bool(config.value("suggest_learn", self.learn)) and self.weights is None
        quad = None
        self.learned_ = False
        self.training_ = {}
        mean, scale = np.zeros(N_PHI), np.ones(N_PHI)
        lin = self._fixed(self.weights, self.topics_ is not None)
        if learn:
            say("learning the combination")
            got = self._learn(graph, exclude)
            if got is not None:
                mean, scale, lin, quad = got
                self.learned_ = True
        say("precomputing")
        self.mean_, self.scale_ = mean, np.where(scale > 0, scale, 1.0)
        self.coef_ = {name: float(w) for name, w in zip(PHI, lin)}
        self.quad_ = quad
        self.model_ = self._holder(graph, self.vote_, self.blocked_, self.topics_, mean,
                                   self.scale_, lin, quad)
        self.popularity_ = self.model_.popularity
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _learn(self, graph: FollowGraph, exclude) -> tuple | None:
        """Hold out follows of training users and fit the logistic model (or None)."""
        from sklearn.linear_model import LogisticRegression
        t0 = time.perf_counter()
        n_users = int(config.value("suggest_train_users", self.train_users))
        seed = int(config.value("suggest_train_seed", self.seed))
        neg = float(config.value("suggest_train_negative_share", self.negative_share))
        c_reg = float(config.value("suggest_train_c", self.C))
        min_pos = int(config.value("suggest_train_min_positives", self.min_positives))
        quadratic = bool(config.value("suggest_quadratic", self.quadratic))
        excl = np.flatnonzero(self.blocked_)
        if exclude is not None:
            excl = np.union1d(excl, np.asarray(exclude, np.int64))
        h = hold_out(graph, n_users, min_follows=self.min_follows, share=self.hide_share,
                     seed=seed, exclude=excl)
        holder = self._holder(h.graph, self.vote_, self.blocked_, self.topics_,
                              np.zeros(N_PHI), np.ones(N_PHI), np.zeros(N_PHI), None)
        rng = np.random.default_rng(seed)
        feats, labels = [], []
        found = hidden_total = 0
        for i, u in enumerate(h.users):
            cand, raw = candidate_signals(holder, int(u))
            y = np.isin(cand, h.hidden(i))
            found += int(y.sum())
            hidden_total += int(h.hidden(i).size)
            keep = y | (rng.random(y.size) < neg)
            if keep.any():
                feats.append(phi(holder, cand[keep], raw[keep]))
                labels.append(y[keep])
        self.training_ = {"users": int(h.users.size), "hidden": hidden_total,
                          "found_among_candidates": found, "seed": seed}
        if found < min_pos or not feats:
            self.training_["skipped"] = (f"{found} held-out follows among candidates, "
                                         f"fewer than {min_pos}: fixed weights")
            self.training_["seconds"] = round(time.perf_counter() - t0, 3)
            return None
        x = np.vstack(feats)
        y = np.concatenate(labels)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        z = (x - mean) / scale
        design = _expand(z) if quadratic else z
        # standardise the products too (well-conditioned, a few dozen L-BFGS steps), then
        # fold that scaling back into the coefficients (the shift is a constant per user)
        d_scale = design.std(axis=0)
        d_scale = np.where(d_scale > 1e-12, d_scale, 1.0)
        design = (design - design.mean(axis=0)) / d_scale
        from threadpoolctl import threadpool_limits
        # one BLAS thread: numba's worker threads still spin after the candidate kernels
        # and a multi-threaded BLAS then runs many times slower (measured: 20x)
        with threadpool_limits(limits=1, user_api="blas"):
            lr = LogisticRegression(C=c_reg, solver="newton-cholesky",
                                    max_iter=200).fit(design, y)
        coef = lr.coef_[0].astype(np.float64) / d_scale
        self.training_["iterations"] = int(np.max(lr.n_iter_))
        lin = coef[:N_PHI].copy()
        quad = None
        if quadratic:
            quad = np.zeros((N_PHI, N_PHI))
            iu, ju = np.triu_indices(N_PHI)
            quad[iu, ju] = coef[N_PHI:]
        self.training_.update({"rows": int(y.size), "positives": int(y.sum()),
                               "quadratic": quadratic,
                               "seconds": round(time.perf_counter() - t0, 3)})
        return mean, scale, lin, quad

    # -- suggestions -----------------------------------------------------------------------
    def _k(self, k: int | None) -> int:
        k = int(config.value("suggest_top", k))
        if k < 1:
            raise UsageError("k must be at least 1")
        return k

    def _check(self, v: Any) -> int:
        n = self.graph_.n
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise UsageError(f"a user is a vertex id, got {type(v).__name__}")
        if not 0 <= int(v) < n:
            raise UsageError(f"vertex {v} is not in 0..{n - 1}")
        return int(v)

    def recommend(self, v: int, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best accounts for ``v`` to follow, best first.

        Returns
        -------
        (ids int32, scores float32)
            At most ``k`` (fewer only when fewer accounts can be suggested at all).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> g = toy_graph()
        >>> ids, s = WhoToFollow().fit(g).recommend(g.vertex("toy", "cat"), 2)
        >>> [g.name(x)[1] for x in ids], bool(s[0] >= s[1])   # ben: ana follows him too
        (['ben', 'dan'], True)
        """
        ids, scores = recommend_users(self.model_, np.array([self._check(v)]), self._k(k))
        ok = ids[0] >= 0
        return ids[0][ok], scores[0][ok]

    def recommend_many(self, vs: Sequence[int] | np.ndarray, k: int | None = None, *,
                       workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Suggestions for many users at once, in parallel.

        Returns
        -------
        (ids int32 (len(vs), k), scores float32 (len(vs), k))
            Rows padded with −1 and NaN when fewer than ``k`` can be suggested.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> wtf = WhoToFollow().fit(toy_graph())
        >>> ids, s = wtf.recommend_many([0, 3], 4)
        >>> ids.shape, ids[0].tolist()   # no signal for ana: the popular ones, three left
        ((2, 4), [4, 5, 3, -1])
        """
        vs = np.asarray(vs, np.int64).ravel()
        if vs.size and (vs.min() < 0 or vs.max() >= self.graph_.n):
            raise UsageError(f"users must be vertices in 0..{self.graph_.n - 1}")
        return recommend_users(self.model_, vs, self._k(k), workers=workers)

    def explain(self, v: int, ids: Sequence[int] | np.ndarray) -> list[dict]:
        """Why each of ``ids`` is suggested to ``v``: friends who follow it, whether it
        follows ``v``, its authentic followers and the topic cosine.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> g = toy_graph()
        >>> WhoToFollow().fit(g).explain(3, [0])
        [{'followed_by_your_follows': 1, 'follows_you': False, 'followers': 2.0, 'topic': None}]
        """
        g = self.graph_
        v = self._check(v)
        mine = g.out_neighbors(v)
        back = g.in_neighbors(v)
        out = []
        for x in np.asarray(ids, np.int64):
            fol = g.in_neighbors(int(x))
            topic = None
            if self.topics_ is not None:
                a, b = self.topics_.getrow(v), self.topics_.getrow(int(x))
                topic = round(float(a.multiply(b).sum()), 4)
            out.append({"followed_by_your_follows": int(np.intersect1d(mine, fol).size),
                        "follows_you": bool(np.isin(x, back)),
                        "followers": round(float(self.popularity_[x]), 2),
                        "topic": topic})
        return out


# -- accounts and tables ---------------------------------------------------------------------
def read_user_specs(path) -> tuple[list[str], list[int]]:
    """Account specs of a users file, read by
    :func:`~trueclout.discover.targets.read_account_specs` (one per line, or a CSV with
    an ``account`` column); a missing file is a :class:`~trueclout.errors.UsageError`.

    Returns
    -------
    (specs, line numbers)

    Examples
    --------
    >>> read_user_specs("no-such-users.txt")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: users file no-such-users.txt does not exist
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"users file {path} does not exist")
    return read_account_specs(path)


def suggestion_table(wtf: WhoToFollow, data: Any, users: np.ndarray, ids: np.ndarray,
                     scores: np.ndarray, *, specs: Sequence[str] | None = None,
                     errors: Sequence[str | None] | None = None) -> pa.Table:
    """One row per suggestion: ``user`` (as given), ``user_account``, ``rank``,
    ``platform``, ``account_id``, ``handle``, ``score``, ``followed_by_your_follows``
    (how many accounts the user follows follow it), ``follows_you``, ``error``.

    ``ids[i]`` and ``scores[i]`` are the suggestions of ``users[i]`` (−1 padded). A user
    of −1 (unresolved) keeps one row with its error and nulls; a user with nothing to
    suggest one row with the error ``no account to suggest``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> wtf = WhoToFollow().fit(g)
    >>> ids, s = wtf.recommend_many([3], 2)
    >>> t = suggestion_table(wtf, g, np.array([3]), ids, s)
    >>> t.column("account_id").to_pylist(), t.column("rank").to_pylist()
    (['ana', 'fay'], [1, 2])
    >>> t.column("followed_by_your_follows").to_pylist()
    [1, 1]
    """
    from ..kernels.ppr import pair_signals
    g = data.graph if not isinstance(data, FollowGraph) else data
    profiles = getattr(data, "profiles", None)
    users = np.asarray(users, np.int64)
    m = users.size
    ids = np.asarray(ids, np.int64).reshape(m, -1)
    scores = np.asarray(scores, np.float64).reshape(m, -1)
    k = ids.shape[1]
    names = g.names
    labels_of = lambda v: [f"{p}:{a}" for p, a in zip(  # noqa: E731
        names.column("platform").take(pa.array(v)).cast(pa.string()).to_pylist(),
        names.column("account_id").take(pa.array(v)).to_pylist())]
    user_label = np.array(labels_of(np.where(users >= 0, users, 0)) if m else [], object)
    specs = np.array(list(specs) if specs is not None else
                     [lab if u >= 0 else None for u, lab in zip(users, user_label)], object)
    err_in = list(errors) if errors is not None else [None] * m
    valid = (ids >= 0) & (users[:, None] >= 0)
    count = valid.sum(axis=1)
    rows = np.maximum(count, 1)
    total = int(rows.sum())
    owner = np.repeat(np.arange(m), rows)
    start = np.cumsum(rows) - rows
    rank = np.arange(total) - start[owner] + 1
    has = count[owner] > 0
    flat = np.zeros(total, np.int64)
    flat_score = np.full(total, np.nan)
    if total:
        col = np.minimum(rank - 1, max(k - 1, 0))
        if k:
            flat[has] = ids[owner[has], col[has]]
            flat_score[has] = scores[owner[has], col[has]]
    err = [None if h else (err_in[i] or ("unknown account" if users[i] < 0
                                         else "no account to suggest"))
           for i, h in zip(owner.tolist(), has.tolist())]
    uacc = [user_label[i] if users[i] >= 0 else None for i in owner.tolist()]
    sel = np.flatnonzero(has)
    fb = np.zeros(total, np.int64)
    fy = np.zeros(total, bool)
    if sel.size:
        c, back = pair_signals(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
                               users[owner[sel]], flat[sel])
        fb[sel], fy[sel] = c, back
    take = pa.array(flat)
    plat = names.column("platform").take(take).cast(pa.string())
    acc = names.column("account_id").take(take)
    if profiles is not None and "handle" in profiles.column_names:
        handle = profiles.column("handle").take(take).cast(pa.string())
    else:
        handle = pa.nulls(total, pa.string())
    mask = pa.array(~has)
    return pa.table({
        "user": pa.array(specs[owner].tolist() if total else [], pa.string()),
        "user_account": pa.array(uacc, pa.string()),
        "rank": pa.array(np.where(has, rank, 0).astype(np.int32), mask=~has),
        "platform": _masked(plat, mask),
        "account_id": _masked(acc, mask),
        "handle": _masked(handle, mask),
        "score": pa.array(np.round(flat_score, 4), mask=~has),
        "followed_by_your_follows": pa.array(fb.astype(np.int32), mask=~has),
        "follows_you": pa.array(fy, mask=~has),
        "error": pa.array(err, pa.string()),
    })


def _masked(arr, mask):
    """``arr`` with nulls where ``mask`` is True."""
    import pyarrow.compute as pc
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pc.if_else(mask, pa.scalar(None, arr.type), arr)


def suggest_batch(wtf: WhoToFollow, data: Any, specs: Sequence[str], k: int | None = None,
                  *, chunk: int = 2000,
                  progress: Callable[[int, int], None] | None = None) -> pa.Table:
    """Suggestions for many account specs in one process (see :func:`suggestion_table`).

    Specs that name no account keep a row with the error; nothing is dropped. The users
    are ranked ``chunk`` at a time in parallel; ``progress(done, total)`` after each.

    Examples
    --------
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.graph.toy import toy_graph
    >>> d = DetectionData.from_graph(toy_graph())
    >>> t = suggest_batch(WhoToFollow().fit(d), d, ["dan", "nobody"], 1)
    >>> t.select(["user", "account_id", "error"]).to_pylist()[1]["error"][:10]
    'no account'
    >>> t.num_rows
    2
    """
    users, errs = resolve_accounts(data, specs)
    errors = [None if e is None else str(e) for e in errs]
    k = wtf._k(k)
    ok = np.flatnonzero(users >= 0)
    uniq = np.unique(users[ok])
    ids = np.full((uniq.size, k), -1, np.int32)
    scores = np.full((uniq.size, k), np.nan, np.float32)
    for a in range(0, uniq.size, max(1, chunk)):
        b = min(uniq.size, a + chunk)
        ids[a:b], scores[a:b] = wtf.recommend_many(uniq[a:b], k)
        if progress is not None:
            progress(b, uniq.size)
    pos = np.searchsorted(uniq, np.where(users >= 0, users, 0))
    full_ids = np.full((users.size, k), -1, np.int32)
    full_scores = np.full((users.size, k), np.nan, np.float32)
    if uniq.size:
        full_ids[ok] = ids[pos[ok]]
        full_scores[ok] = scores[pos[ok]]
    return suggestion_table(wtf, data, users, full_ids, full_scores, specs=specs,
                            errors=errors)
