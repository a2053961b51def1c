"""Scores of relevant influence: reach, engagement, TrueRank and topics.

See ``README.md`` in this folder. Public names are imported on first use.

Examples
--------
>>> from trueclout.score import TrueRank, rank_all
>>> TrueRank().get_params()
{'seeds': None, 'trust': None}
"""

#: Public name -> the module that defines it.
_EXPORTS = {'ScoreContext': '.context', 'score_context': '.context', 'rank_all': '.rank', 'ranking_table': '.rank', 'TrustModel': '.trust', 'TrueRank': '.truerank', 'authentic_reach': '.reach', 'voter_weight': '.reach', 'engagement_influence': '.engagement', 'SimClusters': '.communities', 'TopicModel': '.topics', 'topic_relevance': '.topics', 'list_topics': '.topics', 'IncrementalScores': '.incremental', 'load_context': '.saved'}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """The public names, imported on first use (so ``import trueclout`` stays quick)."""
    if name in _EXPORTS:
        import importlib
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
