"""Who gets a vote: trusted seeds, TrustRank, and the weights of the authentic graph.

Detection alone cannot carry a ranking that buying followers must not move: a bought
follower that looks like a quiet new user passes every profile test. This module adds the
structural defence of TrustRank (Gyöngyi et al., VLDB 2004) and SybilRank (Cao et al.,
NSDI 2012): an account's vote counts only when trust reaches it from known-real accounts
along follow edges. Fakes follow real accounts, but real accounts do not follow fakes, so
no trust reaches bought followers, a sybil region or its camouflage, however many of them
there are and however real their profiles look.

The pieces, each with its constants in :mod:`trueclout.config`:

``seeds``
    Accounts labelled ``human`` (a fixed sample of at most ``sybilrank_seed_share``) and
    verified accounts, plus *established people*: at least ``trust_seed_min_mutual``
    mutual follows, at least ``trust_seed_min_followback`` of the accounts they follow
    following them back, no follow-back churn, older than
    ``sybilrank_fallback_min_age_days`` where creation times are known. Every seed must
    also pass the authenticity gate (``trust_seed_min_gate``). The rule reads only what an
    account does itself and who it is mutual with, not how many follow it, so camouflage
    follows pointed at an account do not change whether it is a seed.
``trust``
    Personalised PageRank from the seeds over the follow graph, each account passing on
    ``gate(authenticity)`` of its mass (:func:`trueclout.kernels.pagerank.pagerank`).
``trust gate``
    ``h = 1 − exp(−trust · r / trust_tau)``, with ``r`` the number of accounts trust
    reaches: an account holding a ``trust_tau`` share of the uniform mass ``1/r`` counts
    63%, twice that 86%; accounts no trust reaches count 0. Scaling by ``r`` rather than
    by all accounts keeps the gate of real accounts unchanged when fakes are added.
``voter weight``
    ``gate(authenticity) · h``: how much an account's follows and interactions count.
``reciprocal discount``
    A follow ``u → v`` that ``v`` returns weighs ``1 − penalty(v)``, with ``penalty`` the
    follow-back-farm evidence of ``v`` passed through the same logistic gate (near 0 for
    ordinary reciprocal people, near 1 for a flagged farm). Follow-back campaigns earn
    real followers, but only in return for following them (Ghosh et al., WWW 2012), and
    these follows stop counting.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> t = TrustModel(seeds=[0, 1]).fit(DetectionData.from_graph(toy_graph()))
>>> t.seeds_.nonzero()[0].tolist(), (t.voter_ > 0.5).tolist()
([0, 1], [True, True, True, False, False, False])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import config
from ..base import Estimator
from ..detect.data import DetectionData
from ..detect.sybilrank import DAY, capped_seeds, seed_mask, quick_unfollows
from ..errors import NotFittedError
from ..kernels.pagerank import pagerank
from ..kernels.reciprocity import reciprocal_discount, reciprocated_out_edges
from ..detect.weights import gate


def established_people(data: DetectionData, authenticity: np.ndarray | None = None, *,
                       min_mutual: int | None = None,
                       min_followback: float | None = None) -> np.ndarray:
    """Accounts that look like established people: the seed rule without labels.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> d = DetectionData.from_graph(toy_graph())
    >>> established_people(d, min_mutual=1, min_followback=0.5).tolist()
    [True, True, True, False, True, True]
    """
    g = data.graph
    min_mutual = int(config.value("trust_seed_min_mutual", min_mutual))
    min_fb = float(config.value("trust_seed_min_followback", min_followback))
    rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    ok = (rec >= min_mutual) & (rec >= min_fb * g.out_degree())
    age = (data.column("observed_at") - data.column("created_at")) / DAY
    ok &= ~np.isfinite(age) | (age >= float(config.get("sybilrank_fallback_min_age_days")))
    ok &= quick_unfollows(data) == 0
    if authenticity is not None:
        ok &= gate(authenticity) >= float(config.get("trust_seed_min_gate"))
    return ok


def farm_penalty(ensemble: Any, n: int) -> np.ndarray:
    """Follow-back-farm evidence of each account, through the logistic gate (0 to 1).

    Examples
    --------
    >>> farm_penalty(None, 3).tolist()
    [0.0, 0.0, 0.0]
    """
    aligned = getattr(ensemble, "aligned_", {}) if ensemble is not None else {}
    farm = aligned.get("farm")
    if farm is None:
        return np.zeros(n)
    return 1.0 - gate(1.0 - np.asarray(farm, dtype=np.float64))


class TrustModel(Estimator):
    """Seeds, TrustRank, the trust gate and the discounted follow weights.

    Parameters
    ----------
    seeds : array of vertex ids or bool mask, optional
        Trusted accounts; default: the seed rule of the module docstring.
    tau : float, optional
        Config ``trust_tau``.

    Attributes
    ----------
    seeds_ : bool array
    trust_ : float64 array
        TrustRank mass (sums to 1 when there are seeds).
    gate_ : float64 array
        ``h``, the trust gate (all ones when there is no seed: ``active_`` is False).
    active_ : bool
        Whether any seed exists.
    voter_ : float64 array
        ``gate(authenticity) · h``.
    edge_weights_ : float32 array or None
        Reciprocal discount per in-CSR entry; None when no account is penalised.
    penalty_ : float64 array
        Follow-back-farm penalty of each account.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> t = TrustModel(seeds=[3]).fit(DetectionData.from_graph(toy_graph()))
    >>> t.trust_.round(2).tolist()
    [0.31, 0.13, 0.3, 0.15, 0.08, 0.03]
    """

    def __init__(self, *, seeds: Any = None, tau: float | None = None) -> None:
        self.seeds = seeds
        self.tau = tau

    def fit(self, data: DetectionData, authenticity: np.ndarray | None = None,
            ensemble: Any = None) -> "TrustModel":
        data = DetectionData.coerce(data)
        g = data.graph
        n = g.n
        auth = np.ones(n) if authenticity is None else np.asarray(authenticity, np.float64)
        if auth.shape != (n,):
            raise ValueError(f"authenticity must have {n} entries")
        tau = float(config.value("trust_tau", self.tau))
        if tau <= 0:
            raise ValueError("tau must be positive")
        if self.seeds is not None:
            seeds = seed_mask(self.seeds, n)
        else:
            labelled = data.label_mask("human") | (data.column("verified", fill=0) > 0)
            labelled &= gate(auth) >= float(config.get("trust_seed_min_gate"))
            seeds = capped_seeds(labelled) | established_people(data, auth)
        self.seeds_ = seeds
        self.penalty_ = farm_penalty(ensemble, n)
        self.edge_weights_ = None
        if n and float(self.penalty_.max(initial=0.0)) > 1e-3:
            self.edge_weights_ = reciprocal_discount(g.in_indptr, g.in_indices, g.out_indptr,
                                                     g.out_indices, self.penalty_)
        g_auth = gate(auth)
        self.active_ = bool(n and seeds.any())
        if not self.active_:
            # nothing is known to be real: no trust to gate on, every vote counts
            self.trust_ = np.zeros(n)
            self.gate_ = np.ones(n)
        else:
            self.trust_ = pagerank(layers=[self.layer(g)], prior=seeds.astype(np.float64),
                                   give=g_auth, norm=g.out_degree().astype(np.float64))
            # scaled by the accounts trust reaches, not by all accounts: adding a
            # million fakes that no trust reaches must not change anyone's gate
            reached = max(int(np.count_nonzero(self.trust_ > 0)), 1)
            self.gate_ = 1.0 - np.exp(-self.trust_ * reached / tau)
        self.voter_ = g_auth * self.gate_
        return self

    def layer(self, graph) -> tuple:
        """The follow layer for :func:`~trueclout.kernels.pagerank.pagerank`: the in-CSR
        with the reciprocal discount.

        Examples
        --------
        >>> TrustModel().layer  # doctest: +ELLIPSIS
        <bound method TrustModel.layer of ...>
        """
        if not hasattr(self, "penalty_"):
            raise NotFittedError("TrustModel is not fitted; call fit first")
        return (graph.in_indptr, graph.in_indices, self.edge_weights_)
