"""trueclout: measure real, relevant influence instead of follower counts.

The public Python API, one name per step of the data flow (each imported on first use):

=========================  =================================================================
step                       names
=========================  =================================================================
load                       :class:`Store` (and :func:`trueclout.ingest.run.ingest`,
                           :func:`trueclout.simulate.simulate`)
graph                      :func:`build_graph`, :class:`FollowGraph`
detect                     :class:`DetectionData`, :class:`EnsembleDetector`,
                           :class:`AuthenticityClassifier`
score                      :func:`score_context`, :class:`ScoreContext`, :func:`rank_all`
audit                      :func:`audit_account`, :func:`resolve_account`
discover                   :func:`find_creators`, :func:`audience_overlap`,
                           :func:`plan_budget`, :class:`WhoToFollow`
serve                      :func:`create_app`
errors                     :class:`TruecloutError`, :class:`UsageError`,
                           :class:`InputError`, :class:`UnknownAccountError`
=========================  =================================================================

Examples
--------
>>> import tempfile, os
>>> import trueclout
>>> trueclout.__version__
'0.1.0'
>>> from trueclout.ingest.run import ingest
>>> from trueclout.simulate import simulate
>>> d = tempfile.mkdtemp()
>>> _ = simulate(os.path.join(d, "p"), accounts=800, seed=0)
>>> with trueclout.Store(":memory:") as store:
...     _ = ingest(store, [os.path.join(d, "p")])
...     ctx = trueclout.score_context(store)
...     top = trueclout.rank_all(ctx)["truerank"].argmax()
>>> ctx.n, 0 <= int(top) < ctx.n
(800, True)
"""

from importlib.metadata import PackageNotFoundError, version

from .exports import lazy_exports

try:
    __version__ = version("trueclout")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"


#: Public name -> the module that defines it.
_EXPORTS = {
    "Store": ".store",
    "build_graph": ".graph", "FollowGraph": ".graph",
    "DetectionData": ".detect.data", "EnsembleDetector": ".detect.ensemble",
    "AuthenticityClassifier": ".detect.classifier",
    "score_context": ".score.context", "ScoreContext": ".score.context",
    "rank_all": ".score.rank",
    "audit_account": ".audit", "resolve_account": ".accounts",
    "find_creators": ".discover.find", "audience_overlap": ".discover.overlap",
    "plan_budget": ".discover.plan", "WhoToFollow": ".discover.suggest",
    "create_app": ".api",
    "TruecloutError": ".errors", "UsageError": ".errors", "InputError": ".errors",
    "UnknownAccountError": ".errors",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
