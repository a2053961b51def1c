"""Summary statistics of a follow graph.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.graph.stats import graph_stats
>>> s = graph_stats(toy_graph())
>>> s["vertices"], s["edges"], s["reciprocity"], s["edges_with_timestamps"]
(6, 11, 0.545455, 10)
"""

from __future__ import annotations

from ..kernels.reciprocity import reciprocated_out_edges
from ..kernels.summary import count_known, count_self_loops, degree_quantiles, zero_share
from .follow_graph import FollowGraph


def graph_stats(g: FollowGraph) -> dict:
    """JSON-ready summary of ``g``.

    Returns
    -------
    dict
        ``vertices``, ``edges``, ``edges_with_timestamps``, ``self_loops``,
        ``reciprocated_edges``, ``reciprocity`` (reciprocated / edges, rounded to 6
        places; None without edges), ``zero_in_share`` and ``zero_out_share`` (share of
        vertices with no followers / following nobody), ``in_degree`` and ``out_degree``
        (p50, p90, p99, max), ``interactions`` (kind to count) and ``nbytes``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> s = graph_stats(toy_graph())
    >>> s["in_degree"]
    {'p50': 1.5, 'p90': 3.5, 'p99': 4.85, 'max': 5}
    >>> s["zero_in_share"], s["interactions"]
    (0.166667, {'like': 4, 'reply': 1})
    """
    out_deg = g.out_degree()
    in_deg = g.in_degree()
    recip = int(reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr,
                                       g.in_indices).sum())
    with_ts = count_known(g.out_ts)
    loops = count_self_loops(g.out_indptr, g.out_indices)
    return {
        "vertices": g.n,
        "edges": g.m,
        "edges_with_timestamps": with_ts,
        "self_loops": loops,
        "reciprocated_edges": recip,
        "reciprocity": round(recip / g.m, 6) if g.m else None,
        "zero_in_share": round(zero_share(in_deg), 6),
        "zero_out_share": round(zero_share(out_deg), 6),
        "in_degree": degree_quantiles(in_deg),
        "out_degree": degree_quantiles(out_deg),
        "interactions": {k: int(v[1].shape[0]) for k, v in sorted(g.interactions.items())},
        "nbytes": g.nbytes(),
    }


def compute_stats(store) -> dict:
    """What ``trueclout stats`` prints (and ``GET /stats`` answers): counts per table,
    labels, degree quantiles and reciprocity of the store's follow graph.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> compute_stats(Store(":memory:"))["follows"]
    0
    """
    from .build import build_graph
    stats: dict = dict(store.counts())
    stats["label_counts"] = store.label_counts()
    graph = build_graph(store, interactions=False)
    stats["graph"] = graph_stats(graph)
    # the graph is built without its interaction layers (not needed here): count them in
    # the store
    stats["graph"]["interactions"] = store.interaction_counts()
    return stats
