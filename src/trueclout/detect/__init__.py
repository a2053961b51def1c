"""Detection: is each account authentic, and whose audience is not?

One detector per module on the shared base (:mod:`.base`); :mod:`.ensemble` combines
them into one authenticity per account with reasons. See ``README.md`` in this folder.

Examples
--------
>>> from trueclout.detect import EnsembleDetector, DetectionData
>>> EnsembleDetector().get_params()["threshold"] is None
True
"""

from .base import BaseDetector
from .data import DetectionData
from .ensemble import EnsembleDetector

__all__ = ["BaseDetector", "DetectionData", "EnsembleDetector"]
