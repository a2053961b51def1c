"""Small hand-made graphs for doctests and tests, and random graphs for benchmarks.

The toy graph (platform ``toy``)::

    ana <-> ben        ana <-> cat        eve <-> fay
    ben -> cat   dan -> cat   eve -> cat   fay -> cat   dan -> eve

``cat`` is popular (5 followers); ``ana``/``ben``, ``ana``/``cat`` and ``eve``/``fay`` are
mutual; ``dan`` has no followers; the follow ``dan -> eve`` has no known time.
Interactions: ``ben`` likes ``cat`` twice, ``dan`` likes ``cat`` once, ``ana`` likes
``ben``; ``eve`` replies to ``fay``.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> [g.name(v)[1] for v in range(g.n)]
['ana', 'ben', 'cat', 'dan', 'eve', 'fay']
>>> int(g.in_degree()[g.vertex("toy", "cat")])
5
"""

from __future__ import annotations

import numpy as np

from .build import from_edges
from .follow_graph import FollowGraph

TOY_NAMES = ["ana", "ben", "cat", "dan", "eve", "fay"]
_T0 = 1_704_067_200  # 2024-01-01T00:00:00Z
_DAY = 86_400

#: The toy follows as (src, dst, epoch seconds or None), by name.
TOY_FOLLOWS: list[tuple[str, str, int | None]] = [
    ("ana", "ben", _T0), ("ben", "ana", _T0 + _DAY), ("ana", "cat", _T0 + 2 * _DAY),
    ("ben", "cat", _T0 + 3 * _DAY), ("dan", "cat", _T0 + 4 * _DAY),
    ("eve", "cat", _T0 + 5 * _DAY), ("fay", "cat", _T0 + 6 * _DAY),
    ("cat", "ana", _T0 + 7 * _DAY), ("eve", "fay", _T0 + 8 * _DAY),
    ("fay", "eve", _T0 + 9 * _DAY), ("dan", "eve", None),
]

#: The toy interactions as kind -> [(src, dst, epoch seconds)], by name.
TOY_INTERACTIONS: dict[str, list[tuple[str, str, int]]] = {
    "like": [("ben", "cat", _T0 + 10 * _DAY), ("ben", "cat", _T0 + 11 * _DAY),
             ("dan", "cat", _T0 + 10 * _DAY), ("ana", "ben", _T0 + 12 * _DAY)],
    "reply": [("eve", "fay", _T0 + 13 * _DAY)],
}


def toy_graph() -> FollowGraph:
    """The six-account toy graph described in the module docstring.

    Examples
    --------
    >>> g = toy_graph()
    >>> g
    FollowGraph(n=6, follows=11, timestamps=yes, interactions={like=4, reply=1}, nbytes=...)
    >>> g.interactions["like"][1].tolist()
    [1, 2, 2, 2]
    """
    pos = {name: i for i, name in enumerate(TOY_NAMES)}
    src = [pos[s] for s, _, _ in TOY_FOLLOWS]
    dst = [pos[d] for _, d, _ in TOY_FOLLOWS]
    ts = [t for _, _, t in TOY_FOLLOWS]
    inter = {kind: ([pos[s] for s, _, _ in rows], [pos[d] for _, d, _ in rows],
                    [t for _, _, t in rows]) for kind, rows in TOY_INTERACTIONS.items()}
    return from_edges(src, dst, ts=ts, names=TOY_NAMES, platform="toy", interactions=inter)


def random_edges(n: int, m: int, *, seed: int = 0, skew: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random directed edges over ``n`` vertices (int32; repeats and self-loops
    possible). With ``skew > 0`` targets follow a Zipf-like law (popular accounts).

    Examples
    --------
    >>> s, d = random_edges(10, 5, seed=1)
    >>> s.shape, d.dtype.name
    ((5,), 'int32')
    """
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m, dtype=np.int32)
    if skew > 0:
        w = 1.0 / np.arange(1, n + 1) ** skew
        dst = rng.choice(n, size=m, p=w / w.sum()).astype(np.int32)
        dst = rng.permutation(n).astype(np.int32)[dst]
    else:
        dst = rng.integers(0, n, m, dtype=np.int32)
    return src, dst


def random_graph(n: int, m: int, *, seed: int = 0, timestamps: bool = False,
                 skew: float = 0.0) -> FollowGraph:
    """A random follow graph (repeats merged), optionally with random follow times.

    Examples
    --------
    >>> g = random_graph(100, 500, seed=3, timestamps=True)
    >>> g.n, g.m <= 500, g.has_timestamps
    (100, True, True)
    """
    src, dst = random_edges(n, m, seed=seed, skew=skew)
    ts = None
    if timestamps:
        ts = np.random.default_rng(seed + 1).integers(_T0 - 365 * _DAY, _T0, m, dtype=np.int64)
    return from_edges(src, dst, ts=ts, n=n)
