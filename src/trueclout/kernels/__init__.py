"""numba kernels over CSR arrays: pure functions from arrays to arrays.

===============  ===========================================  ==============================
module           input                                        output
===============  ===========================================  ==============================
csr.py           edge batches (int32 keys, int32 times)       CSR indptr/indices/ts, sorted
                                                              rows, repeats dropped
reciprocity.py   out-CSR (and in-CSR)                         reciprocated out-edges per
                                                              vertex; global reciprocity
stats.py         degree arrays, CSR, timestamps               quantiles, zero share, self
                                                              loops, known times
===============  ===========================================  ==============================

Examples
--------
>>> from trueclout.kernels import csr_from_edges, reciprocity
>>> p, i, _ = csr_from_edges([0, 1], [1, 0], 2)
>>> reciprocity(p, i)
1.0
"""

from .csr import TS_UNKNOWN, csr_from_edges, sort_rows
from .reciprocity import reciprocated_out_edges, reciprocity
from .summary import degree_quantiles

__all__ = ["TS_UNKNOWN", "csr_from_edges", "sort_rows", "reciprocated_out_edges",
           "reciprocity", "degree_quantiles"]
