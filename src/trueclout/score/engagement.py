"""Engagement influence: replies, reposts, quotes, mentions and likes received from
authentic accounts (after Cha et al., ICWSM 2010, "the million follower fallacy":
retweets and mentions rank users very differently from follower counts).

``engagement(v) = sum over interactions u → v of  kind_weight · weight(u) · h(u)``

with the kind weights ``interaction_weight_like`` and ``interaction_weight_other`` and
the audience weight of :func:`trueclout.score.reach.voter_weight`. Engagement from
fakes, bots and pod members counts about nothing. With a topic, each interactor also
counts its interest in the topic.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> sorted(g.interactions)
['like', 'reply']
>>> engagement_influence(g, np.ones(g.n)).round(1).tolist()
[0.0, 0.2, 0.6, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from .truerank import interaction_weight


def engagement_influence(graph, audience: np.ndarray, relevance: np.ndarray | None = None,
                         *, kinds: tuple[str, ...] | None = None) -> np.ndarray:
    """Weighted interactions each account received.

    Parameters
    ----------
    graph : FollowGraph
    audience : array
        Each account's worth as an interactor (``voter_weight``).
    relevance : array, optional
        Each account's interest in a topic, in [0, 1].
    kinds : tuple of str, optional
        Interaction kinds to count (default: all the graph has).

    Returns
    -------
    float64 array (zeros when the graph has no interactions)

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> engagement_influence(g, np.ones(g.n), kinds=("reply",)).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    """
    a = np.asarray(audience, dtype=np.float64)
    if a.shape != (graph.n,):
        raise ValueError(f"audience must have {graph.n} entries")
    if relevance is not None:
        a = a * np.clip(np.asarray(relevance, dtype=np.float64), 0.0, 1.0)
    out = np.zeros(graph.n)
    for kind, (indptr, indices, _) in sorted(graph.interactions.items()):
        if kinds is not None and kind not in kinds:
            continue
        src = np.repeat(np.arange(graph.n), np.diff(indptr))
        out += interaction_weight(kind) * np.bincount(indices, weights=a[src],
                                                      minlength=graph.n)[:graph.n]
    return out
