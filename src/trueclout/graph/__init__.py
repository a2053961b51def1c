"""The graph stage: the store's accounts and follows as CSR arrays.

=================  ==============================  =========================================
module             input                           output
=================  ==============================  =========================================
follow_graph.py    arrays                          :class:`FollowGraph` (CSR out and in,
                                                   timestamps, names, interaction CSRs)
build.py           a Store, or edge arrays         a FollowGraph (:func:`build_graph`,
                                                   :func:`from_edges`)
stats.py           a FollowGraph                   a JSON-ready dict (:func:`graph_stats`)
toy.py             -                               small hand-made and random graphs
=================  ==============================  =========================================

Examples
--------
>>> from trueclout.graph import toy_graph, graph_stats
>>> graph_stats(toy_graph())["edges"]
11
"""

from .build import build_graph, from_edges
from .follow_graph import TS_UNKNOWN, FollowGraph
from .stats import graph_stats
from .toy import random_graph, toy_graph

__all__ = ["FollowGraph", "TS_UNKNOWN", "build_graph", "from_edges", "graph_stats",
           "random_graph", "toy_graph"]
