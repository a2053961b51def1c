"""Seeding: one independent random stream per (seed, stage, block).

Every random draw of the simulator comes from a generator returned by :func:`block_rng`,
keyed by the user's seed, a stage number from :data:`STREAMS` and the index of a fixed-size
block of accounts (or of an attack unit). The output therefore does not depend on how rows
are grouped into Parquet parts, nor on the order in which blocks are processed.
:func:`pair_uniform` gives a symmetric, seeded pseudo-random number per unordered pair of
accounts, used to decide reciprocity consistently from either end of a pair.

Examples
--------
>>> import numpy as np
>>> from trueclout.simulate.rng import block_rng, pair_uniform
>>> a = block_rng(7, "follows", 3).random(2)
>>> b = block_rng(7, "follows", 3).random(2)
>>> bool((a == b).all())
True
>>> x = pair_uniform(np.array([1, 5]), np.array([5, 1]), 7)
>>> bool(x[0] == x[1] and 0 <= x[0] < 1)
True
"""

from __future__ import annotations

import numpy as np

#: Stage numbers of the random streams. Never renumber: results depend on them.
STREAMS = {
    "population": 1, "profiles": 2, "posts": 3, "follows": 4, "fakes": 5, "farms": 6,
    "pods": 7, "handles": 8, "customers": 9, "viral": 10, "pair": 11, "sample": 12,
    "interactions": 13, "pod_interactions": 14, "counts": 15,
}

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def block_rng(seed: int, stream: str, block: int = 0) -> np.random.Generator:
    """A numpy generator for one block of one stage.

    Parameters
    ----------
    seed : int
        The simulation's seed.
    stream : str
        A key of :data:`STREAMS`.
    block : int
        Index of the block (or attack unit) within the stage.

    Examples
    --------
    >>> int(block_rng(0, "posts", 1).integers(1000)) == int(block_rng(0, "posts", 1).integers(1000))
    True
    """
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, STREAMS[stream], int(block)])
    return np.random.Generator(np.random.PCG64(ss))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, applied elementwise to a uint64 array.

    Examples
    --------
    >>> int(splitmix64(np.array([0], dtype=np.uint64))[0]) != 0
    True
    """
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def unique_first(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the position of each one's first occurrence.

    Like ``np.unique(keys, return_index=True)``, by a stable sort (numpy's hash-based
    path is slower on the sizes used here).

    Examples
    --------
    >>> k, first = unique_first(np.array([5, 3, 5, 1]))
    >>> k.tolist(), first.tolist()
    ([1, 3, 5], [3, 1, 0])
    """
    keys = np.asarray(keys)
    if len(keys) == 0:
        return keys.copy(), np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    head = np.empty(len(sk), dtype=bool)
    head[0] = True
    np.not_equal(sk[1:], sk[:-1], out=head[1:])
    return sk[head], order[head]


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys (``np.unique`` by sorting).

    Examples
    --------
    >>> unique_sorted(np.array([3, 1, 3])).tolist()
    [1, 3]
    """
    sk = np.sort(np.asarray(keys))
    if len(sk) == 0:
        return sk
    head = np.empty(len(sk), dtype=bool)
    head[0] = True
    np.not_equal(sk[1:], sk[:-1], out=head[1:])
    return sk[head]


def pair_uniform(a: np.ndarray, b: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in ``[0, 1)`` per unordered pair ``{a, b}``, the same both ways.

    Parameters
    ----------
    a, b : numpy.ndarray of int
        Account indices (non-negative, below 2**32).
    seed : int
        The simulation's seed.

    Examples
    --------
    >>> import numpy as np
    >>> bool(pair_uniform(np.array([2]), np.array([9]), 1)[0]
    ...      == pair_uniform(np.array([9]), np.array([2]), 1)[0])
    True
    """
    lo = np.minimum(a, b).astype(np.uint64)
    hi = np.maximum(a, b).astype(np.uint64)
    key = (lo << np.uint64(32)) | hi
    salt = splitmix64(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    h = splitmix64(key ^ salt ^ np.uint64(STREAMS["pair"]))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
