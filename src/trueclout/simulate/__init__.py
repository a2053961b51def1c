"""The simulated social platform: accounts, follows, posts and interactions with planted
fraud (bought followers, follow-back farms, engagement pods) and honest viral growth,
written as a trueclout folder of Parquet files with ground-truth labels.

See ``README.md`` in this folder for the model, its sources and the parameters.

Examples
--------
>>> import tempfile, os
>>> from trueclout.simulate import simulate, SimParams
>>> s = simulate(os.path.join(tempfile.mkdtemp(), "p"), accounts=500, seed=0)
>>> s["rows"]["accounts"], s["ground_truth"]["labels"]["fake"] > 0
(500, True)
"""

from .calibration import calibration_report, format_report
from .core import simulate
from .params import SimParams

__all__ = ["simulate", "SimParams", "calibration_report", "format_report"]
