"""Authentic reach: followers weighted by their authenticity, activity and trust.

``reach(v) = sum over followers u of v of  weight(u) · h(u) · discount(u → v)``

with ``weight = gate(authenticity) · activity`` (:mod:`trueclout.detect.weights`), ``h``
the trust gate and ``discount`` the follow-back penalty (:mod:`trueclout.score.trust`).
A real, active, reachable follower counts 1; a bought one about 0. With a topic, each
follower also counts its interest ``r(u)`` in the topic: *relevant* authentic reach.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> from trueclout.score.trust import TrustModel
>>> g = toy_graph()
>>> tm = TrustModel(seeds=[0, 1, 4, 5]).fit(DetectionData.from_graph(g))
>>> reach = authentic_reach(g, np.ones(g.n), tm)
>>> g.in_degree().tolist(), reach.round(1).tolist()
([2, 1, 5, 0, 2, 1], [2.0, 1.0, 3.9, 0.0, 1.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from ..kernels.pagerank import in_sum


def voter_weight(weight: np.ndarray, trust) -> np.ndarray:
    """What each account is worth as a voter in reach and engagement: ``weight · h`` (its
    authenticity gate × activity times its trust gate). Smooth on purpose: a flagged
    account keeps the little weight its gates leave it, so a score never jumps when one
    follower crosses a threshold. Discovery's :func:`~trueclout.discover.targets.audience_weight`
    is this with flagged accounts set to 0, because a marketer pays for followers,
    and a flagged follower is no part of an audience they buy.

    Examples
    --------
    >>> class T:
    ...     gate_ = np.array([1.0, 0.5])
    >>> voter_weight(np.array([1.0, 1.0]), T()).tolist()
    [1.0, 0.5]
    """
    return np.asarray(weight, dtype=np.float64) * np.asarray(trust.gate_, dtype=np.float64)


def authentic_reach(graph, weight: np.ndarray, trust,
                    relevance: np.ndarray | None = None) -> np.ndarray:
    """Authentic (or, with ``relevance``, relevant authentic) reach of every account.

    Parameters
    ----------
    graph : FollowGraph
    weight : array
        ``gate(authenticity) · activity`` of each account (``ScoreContext.weight``).
    trust : TrustModel (fitted)
    relevance : array, optional
        Each account's interest in a topic, in [0, 1].

    Returns
    -------
    float64 array

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.score.trust import TrustModel
    >>> g = toy_graph()
    >>> tm = TrustModel(seeds=[0, 1, 4, 5]).fit(DetectionData.from_graph(g))
    >>> r = np.array([1, 1, 1, 1, 0, 0.0])
    >>> authentic_reach(g, np.ones(g.n), tm, r).round(1).tolist()
    [2.0, 1.0, 2.0, 0.0, 0.0, 0.0]
    """
    a = voter_weight(weight, trust)
    if relevance is not None:
        r = np.clip(np.asarray(relevance, dtype=np.float64), 0.0, 1.0)
        if r.shape != a.shape:
            raise ValueError(f"relevance must have {a.shape[0]} entries")
        a = a * r
    return in_sum(graph.in_indptr, graph.in_indices, a, trust.edge_weights_)
