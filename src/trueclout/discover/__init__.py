"""Discovery for marketers: find creators, audience overlap, budget plans, who to follow.

See ``README.md`` in this folder. Public names are imported on first use.

Examples
--------
>>> from trueclout.discover import WhoToFollow, toy_context
>>> WhoToFollow().fit(toy_context()).recommend(3, 1)[0].tolist()
[0]
"""

from ..exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "resolve_target": ".targets",
    "audience_weight": ".targets",
    "toy_context": ".targets",
    "Target": ".targets",
    "find_creators": ".find",
    "lookalike_creators": ".find",
    "audience_overlap": ".overlap",
    "plan_budget": ".plan",
    "plan_table": ".plan",
    "WhoToFollow": ".suggest",
    "suggest_batch": ".suggest",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
