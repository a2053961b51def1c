"""Summary statistics of degree arrays.

Examples
--------
>>> import numpy as np
>>> from trueclout.kernels.summary import degree_quantiles
>>> degree_quantiles(np.arange(101))
{'p50': 50.0, 'p90': 90.0, 'p99': 99.0, 'max': 100}
>>> count_self_loops(np.array([0, 2, 3]), np.array([0, 1, 0], np.int32))
1
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .csr import TS_UNKNOWN

#: Quantiles reported by :func:`degree_quantiles`, as (name, q).
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


def degree_quantiles(degrees: np.ndarray,
                     quantiles: tuple[tuple[str, float], ...] = QUANTILES) -> dict:
    """Quantiles (linear interpolation, as :func:`numpy.quantile`) and maximum of
    ``degrees``; all zero for an empty array.

    Parameters
    ----------
    degrees : int array
        One degree per vertex.
    quantiles : tuple of (name, q)
        Which quantiles to report.

    Returns
    -------
    dict
        ``{name: float, ..., "max": int}``.

    Examples
    --------
    >>> degree_quantiles(np.array([0, 0, 1, 5]))
    {'p50': 0.5, 'p90': 3.8, 'p99': 4.88, 'max': 5}
    >>> degree_quantiles(np.array([], np.int64))
    {'p50': 0.0, 'p90': 0.0, 'p99': 0.0, 'max': 0}
    """
    d = np.asarray(degrees)
    if d.size == 0:
        return {**{name: 0.0 for name, _ in quantiles}, "max": 0}
    qs = np.quantile(d, [q for _, q in quantiles])
    out = {name: round(float(v), 6) for (name, _), v in zip(quantiles, qs)}
    out["max"] = int(d.max())
    return out


def zero_share(degrees: np.ndarray) -> float:
    """Share of vertices with degree zero (0.0 for an empty array).

    Examples
    --------
    >>> zero_share(np.array([0, 3, 0, 1]))
    0.5
    """
    d = np.asarray(degrees)
    return float(np.count_nonzero(d == 0) / d.size) if d.size else 0.0


@numba.njit(cache=True, parallel=True)
def _self_loops(indptr, indices):
    n = indptr.shape[0] - 1
    total = 0
    for v in prange(n):
        c = 0
        for k in range(indptr[v], indptr[v + 1]):
            if indices[k] == v:
                c += 1
        total += c
    return total


def count_self_loops(indptr: np.ndarray, indices: np.ndarray) -> int:
    """Number of CSR entries ``v -> v``, without a per-edge temporary.

    Examples
    --------
    >>> count_self_loops(np.array([0, 1, 2]), np.array([1, 1], np.int32))
    1
    """
    return int(_self_loops(indptr, indices))


@numba.njit(cache=True, parallel=True)
def _known(ts):
    total = 0
    for i in prange(ts.shape[0]):
        if ts[i] != TS_UNKNOWN:
            total += 1
    return total


def count_known(ts: np.ndarray | None) -> int:
    """Number of known timestamps (entries other than ``TS_UNKNOWN``); 0 for None.

    Examples
    --------
    >>> count_known(np.array([5, TS_UNKNOWN, 7], np.int32)), count_known(None)
    (2, 0)
    """
    return 0 if ts is None else int(_known(ts))
