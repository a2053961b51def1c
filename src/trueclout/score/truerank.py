"""TrueRank: PageRank over the authentic follow and interaction graph.

TrueRank is the stationary mass of a random walk that moves along follows (from a
follower to whom it follows) and interactions (from the one who replies, reposts,
mentions, quotes or likes to the author), with three changes to plain PageRank, each
smooth and each with its constants in :mod:`trueclout.config`:

1. **Votes are weighted.** Account ``u`` passes on ``voter(u) = gate(authenticity) · h``
   of its mass (:mod:`trueclout.score.trust`): fakes, bots, farms, pod members and
   accounts no trust reaches pass on nothing; what they hold returns to the teleport.
2. **Prior mass** (after Tweepcred's UserMass): the teleport goes to accounts in
   proportion to ``voter(u)``, not uniformly, so new accounts created by the thousand
   hold nothing to pass on.
3. **Follow-back penalty**: follows returned to a follow-back farmer weigh
   ``1 − penalty``; the withheld share teleports instead of flowing to the follower's
   other follows (normalisation is by the undiscounted out-weight).
4. **Smoothed votes**: an account's out-weight ``W`` is divided as ``W + k``
   (``truerank_vote_prior`` pseudo-follows, :func:`vote_norm`): it passes ``W / (W + k)``
   of its vote along its edges and the rest through the prior. This is the posterior
   mean of where its next vote goes under a Dirichlet prior of strength ``k`` centred on
   the prior mass: an account seen to follow one account says little about where its
   attention goes, so one follow of a big account, or a mutual pair passing its mass
   back and forth, cannot carry the whole of it. Ego-network samples and partial crawls
   are full of such accounts (SNAP ego-Twitter: a 4-follower account was #2 of 81,306
   through the one observed follow of a 3,383-follower account).

Each follow weighs 1; each interaction weighs ``interaction_weight_like`` (likes) or
``interaction_weight_other`` (the rest), times ``truerank_interaction_scale``.

Topical TrueRank (after TwitterRank, Weng et al. WSDM 2010): given each account's interest
in a topic ``r`` (:func:`trueclout.score.topics.topic_relevance`), the teleport goes in
proportion to ``voter · r`` and what an account receives along edges is multiplied by its
own ``r``, so mass stays among on-topic accounts.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> tr = TrueRank(seeds=[0, 1, 4, 5]).fit(DetectionData.from_graph(toy_graph()))
>>> [toy_graph().name(v)[1] for v in np.argsort(-tr.scores_)[:2]]
['cat', 'ana']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import config
from ..base import Estimator
from ..detect.data import DetectionData
from ..errors import NotFittedError
from ..kernels.csr import csr_from_edges
from ..kernels.pagerank import pagerank
from .trust import TrustModel


def interaction_weight(kind: str) -> float:
    """Weight of one interaction of ``kind`` as a vote.

    Examples
    --------
    >>> interaction_weight("like"), interaction_weight("repost")
    (0.2, 1.0)
    """
    key = "interaction_weight_like" if kind == "like" else "interaction_weight_other"
    return float(config.get(key))


def vote_norm(out_weight: np.ndarray, prior: float | None = None) -> np.ndarray:
    """What each account's votes are divided by in TrueRank: its out-weight (follows
    plus weighted interactions) plus ``prior`` pseudo-follows (default
    ``truerank_vote_prior``), so an account passes ``W / (W + prior)`` of its vote along
    its edges and the rest returns through the teleport.

    Examples
    --------
    >>> vote_norm(np.array([0.0, 1.0, 95.0]), prior=5).tolist()
    [5.0, 6.0, 100.0]
    """
    k = float(config.value("truerank_vote_prior", prior))
    if k < 0:
        raise ValueError("truerank_vote_prior must not be negative")
    return np.asarray(out_weight, dtype=np.float64) + k


def interaction_layers(graph, scale: float = 1.0) -> list[tuple]:
    """Receiving CSRs (author ← interactor) of each interaction kind, weighted per kind.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> [(len(l), l[3]) for l in interaction_layers(toy_graph())]
    [(4, 0.2), (4, 1.0)]
    """
    layers = []
    for kind in sorted(graph.interactions):
        indptr, indices, _ = graph.interactions[kind]
        src = np.repeat(np.arange(graph.n, dtype=np.int32), np.diff(indptr))
        ip, ii, _ = csr_from_edges(indices, src, graph.n)
        layers.append((ip, ii, None, scale * interaction_weight(kind)))
    return layers


class TrueRank(Estimator):
    """TrueRank of every account (see the module docstring).

    Parameters
    ----------
    seeds : optional
        Trust seeds for :class:`~trueclout.score.trust.TrustModel` (default: its rule).
    trust : TrustModel, optional
        An already fitted trust model (then ``seeds`` is ignored).

    Attributes
    ----------
    scores_ : float64 array
        TrueRank mass, summing to 1.
    trust_model_ : TrustModel
    prior_ : float64 array
        The teleport distribution (UserMass).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> tr = TrueRank(seeds=[0]).fit(DetectionData.from_graph(toy_graph()))
    >>> round(float(tr.scores_.sum()), 6)
    1.0
    """

    def __init__(self, *, seeds: Any = None, trust: TrustModel | None = None) -> None:
        self.seeds = seeds
        self.trust = trust

    def fit(self, data: DetectionData, authenticity: np.ndarray | None = None,
            ensemble: Any = None) -> "TrueRank":
        data = DetectionData.coerce(data)
        g = data.graph
        tm = self.trust if self.trust is not None else \
            TrustModel(seeds=self.seeds).fit(data, authenticity, ensemble)
        self.trust_model_ = tm
        scale = float(config.get("truerank_interaction_scale"))
        self.layers_ = [tm.layer(g)] + (interaction_layers(g, scale) if scale > 0 else [])
        norm = g.out_degree().astype(np.float64)
        for _ip, ii, _, s in self.layers_[1:]:
            norm += s * np.bincount(ii, minlength=g.n)[:g.n]
        self.norm_ = vote_norm(norm)
        self.prior_ = np.asarray(tm.voter_, dtype=np.float64)
        self.scores_ = self._run(self.prior_, None)
        return self

    def _run(self, prior: np.ndarray, row_scale: np.ndarray | None) -> np.ndarray:
        n = prior.shape[0]
        if n == 0:
            return np.zeros(0)
        if prior.sum() <= 0:
            return np.zeros(n)
        return pagerank(layers=self.layers_, prior=prior, give=self.trust_model_.voter_,
                        norm=self.norm_, row_scale=row_scale, n=n)

    def topical(self, relevance: np.ndarray) -> np.ndarray:
        """Topical TrueRank for each account's interest ``relevance`` (in [0, 1]) in a topic.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> tr = TrueRank(seeds=[0, 1]).fit(DetectionData.from_graph(toy_graph()))
        >>> r = np.array([1, 1, 0, 1, 1, 1.0])
        >>> float(tr.topical(r)[2])          # cat is off the topic
        0.0
        """
        if not hasattr(self, "scores_"):
            raise NotFittedError("TrueRank is not fitted; call fit first")
        r = np.clip(np.asarray(relevance, dtype=np.float64), 0.0, 1.0)
        if r.shape != self.prior_.shape:
            raise ValueError(f"relevance must have {self.prior_.shape[0]} entries")
        return self._run(self.prior_ * r, r)
