"""The Spark backend: the graph operations of trueclout as PySpark DataFrame jobs.

Degrees, reciprocity and account features (:mod:`.features`), PageRank and TrueRank
(:mod:`.pagerank`), authentic reach (:mod:`.reach`) and exact audience overlap
(:mod:`.overlap`) over the Parquet layout the simulator and ``trueclout export`` write
(:mod:`.layout`), in a session built from the ``spark_*`` settings (:mod:`.session`).
PySpark is an optional dependency (``pip install 'trueclout[spark]'``) and is imported
only inside the functions; GraphFrames is never required.

Examples
--------
>>> from trueclout.spark import SPARK_FEATURES
>>> len(SPARK_FEATURES) > 20
True
"""

from .features import SPARK_FEATURES

__all__ = ["SPARK_FEATURES"]
