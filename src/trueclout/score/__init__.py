"""Scores of relevant influence: reach, engagement, TrueRank and topics.

See ``README.md`` in this folder. Public names are imported on first use.

Examples
--------
>>> from trueclout.score import TrueRank, rank_all
>>> TrueRank().get_params()
{'seeds': None, 'trust': None}
"""

from ..exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "ScoreContext": ".context",
    "score_context": ".context",
    "rank_all": ".rank",
    "ranking_table": ".rank",
    "TrustModel": ".trust",
    "TrueRank": ".truerank",
    "authentic_reach": ".reach",
    "voter_weight": ".reach",
    "engagement_influence": ".engagement",
    "SimClusters": ".communities",
    "TopicModel": ".topics",
    "topic_relevance": ".topics",
    "list_topics": ".topics",
    "IncrementalScores": ".incremental",
    "load_context": ".saved",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
