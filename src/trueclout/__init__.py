"""trueclout: measure real, relevant influence instead of follower counts.

The public Python API. Data flows from sources through :mod:`trueclout.ingest` into the
DuckDB store (:mod:`trueclout.store`), then into a CSR graph (:mod:`trueclout.graph`).

Examples
--------
>>> import trueclout
>>> trueclout.__version__
'0.1.0'
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trueclout")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"

__all__ = ["__version__"]
