"""R-MAT random graphs (Chakrabarti, Zhan and Faloutsos 2004), streamed in int32 batches.

Each edge picks one quadrant of the adjacency matrix per level, ``scale`` times: top-left
with probability ``a``, top-right ``b``, bottom-left ``c``, bottom-right ``d = 1 - a - b
- c``. With ``a = 0.57, b = c = 0.19`` (the Graph500 parameters) degrees are heavy-tailed
like a social network's.

Randomness is counter-based: edge ``i`` draws from a splitmix64 stream keyed by
``(seed, i)``, so the edges do not depend on the batch size or the number of threads, and
each batch is generated in parallel. Memory is bounded by one batch (two int32 arrays of
``batch`` entries); :func:`rmat_edges` yields batches, :func:`rmat_graph` builds a
deduplicated, self-loop-free :class:`~trueclout.graph.follow_graph.FollowGraph` from two
passes over them with the counting-sort kernels of :mod:`trueclout.kernels.csr`, so its
peak is the final CSR (before deduplication) plus one batch.

By default vertex ids are scrambled by a seeded bijection of ``0..2**scale - 1`` (as in
Graph500), so an id says nothing about a vertex's degree; ``scramble=False`` keeps the
raw R-MAT ids (vertex 0 is then the densest row and column).

Examples
--------
>>> from trueclout.graph.rmat import rmat_graph
>>> g = rmat_graph(10, 8000, seed=1)
>>> g.n, g.m < 8000, int(g.in_degree().max()) > 20 * g.m // g.n
(1024, True, True)
"""

from __future__ import annotations

from typing import Callable, Iterator

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import prange

from .. import config
from ..errors import UsageError
from ..kernels import csr as K
from .follow_graph import FollowGraph

Progress = Callable[[str, int], None] | None

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = 4294967296.0


@numba.njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - the splitmix64 finaliser (Steele et al. 2014)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def _scramble(x, mask, half, k1, k2, k3):  # pragma: no cover
    # a bijection of 0..mask: odd multiplies, an add and xor-shifts, all modulo 2**scale
    x = (x * k1 + k2) & mask
    x ^= x >> half
    x = (x * k3) & mask
    x ^= x >> half
    return x


@numba.njit(cache=True, parallel=True)
def _rmat(scale, first, count, key, t_a, t_ab, t_abc, scramble, loops, n_fold,
          src, dst):  # pragma: no cover
    mask = (np.uint64(1) << np.uint64(scale)) - np.uint64(1)
    half = np.uint64((scale + 1) // 2)
    k1 = _mix(key ^ np.uint64(1)) | np.uint64(1)
    k2 = _mix(key ^ np.uint64(2))
    k3 = _mix(key ^ np.uint64(3)) | np.uint64(1)
    one = np.uint64(1)
    for j in prange(count):
        state = _mix(key + np.uint64(first + j) * _GOLDEN)
        r = np.uint64(0)
        c = np.uint64(0)
        bits = np.uint64(0)
        for level in range(scale):
            if level & 1 == 0:
                state += _GOLDEN
                bits = _mix(state)
                u = np.float64(bits >> _S32) / _TWO32
            else:
                u = np.float64(bits & _LOW32) / _TWO32
            # branch-free quadrant choice, most significant bit first: the row bit is
            # set in the bottom half (u >= a + b), the column bit in the right half
            # (a <= u < a + b, or u >= a + b + c)
            ga = np.uint64(u >= t_a)
            gab = np.uint64(u >= t_ab)
            gabc = np.uint64(u >= t_abc)
            r = (r << one) | gab
            c = (c << one) | (ga ^ gab ^ gabc)
        if scramble:
            r = _scramble(r, mask, half, k1, k2, k3)
            c = _scramble(c, mask, half, k1, k2, k3)
        if n_fold > 0:
            # fold 0..2**scale-1 onto 0..n_fold-1, keeping the order of ids
            src[j] = np.int32((np.int64(r) * n_fold) >> scale)
            dst[j] = np.int32((np.int64(c) * n_fold) >> scale)
        else:
            src[j] = np.int32(r)
            dst[j] = np.int32(c)
    if loops:
        return count
    w = 0
    for j in range(count):  # drop self-loops, keeping the order
        if src[j] != dst[j]:
            src[w] = src[j]
            dst[w] = dst[j]
            w += 1
    return w


def _params(scale: int, m: int, a, b, c, batch) -> tuple[float, float, float, int]:
    if not 1 <= int(scale) <= 31:
        raise UsageError(f"scale must be within 1..31 (int32 vertex ids), got {scale}")
    if int(m) < 0:
        raise UsageError(f"the number of edges must not be negative, got {m}")
    a = float(config.value("rmat_a", a))
    b = float(config.value("rmat_b", b))
    c = float(config.value("rmat_c", c))
    if min(a, b, c) < 0 or a + b + c > 1 + 1e-12:
        raise UsageError(f"R-MAT probabilities must be >= 0 with a + b + c <= 1, got "
                         f"a={a}, b={b}, c={c}")
    batch = int(config.value("rmat_batch", batch))
    if batch < 1:
        raise UsageError(f"the batch size must be positive, got {batch}")
    return a, b, c, batch


def rmat_edges(scale: int, m: int, *, seed: int = 0, a: float | None = None,
               b: float | None = None, c: float | None = None, batch: int | None = None,
               scramble: bool = True, loops: bool = True, n: int | None = None
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream ``m`` R-MAT edges over ``2**scale`` vertices as ``(src, dst)`` int32 batches.

    Parameters
    ----------
    scale : int
        log2 of the number of vertices (1..31).
    m : int
        Number of edges drawn (repeats included; self-loops included unless ``loops``
        is False, in which case they are drawn and dropped, so fewer come out).
    seed : int
        Seed; the same seed gives the same edges whatever ``batch`` is.
    a, b, c : float, optional
        Quadrant probabilities (config ``rmat_a``, ``rmat_b``, ``rmat_c``).
    batch : int, optional
        Most edges per batch (config ``rmat_batch``).
    scramble : bool
        Relabel vertices by a seeded bijection (see the module notes).
    loops : bool
        Keep self-loops.
    n : int, optional
        Fold the ids onto ``0..n-1`` (``v -> floor(v * n / 2**scale)``, after the
        scramble), for a vertex count that is not a power of two, such as Twitter-2010's
        41,652,230 over scale 26: every draw is kept (rejection would discard the draws
        above ``n``), and each vertex merges one or two R-MAT vertices.

    Yields
    ------
    (src, dst) : int32 arrays of equal length, at most ``batch``

    Examples
    --------
    >>> parts = list(rmat_edges(4, 10, seed=3, batch=4))
    >>> [len(s) for s, _ in parts], parts[0][0].dtype.name
    ([4, 4, 2], 'int32')
    >>> whole = list(rmat_edges(4, 10, seed=3))[0][0]
    >>> whole.tolist() == np.concatenate([s for s, _ in parts]).tolist()
    True
    >>> int(next(rmat_edges(4, 1000, seed=3, n=10))[0].max()) <= 9
    True
    """
    a, b, c, batch = _params(scale, m, a, b, c, batch)
    n_fold = 0 if n is None else int(n)
    if n is not None and not 1 <= n_fold <= (1 << int(scale)):
        raise UsageError(f"n must be within 1..2**scale ({1 << int(scale)}), got {n}")
    key = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    t_a, t_ab, t_abc = a, a + b, a + b + c
    for first in range(0, int(m), batch):
        count = min(batch, int(m) - first)
        src = np.empty(count, np.int32)
        dst = np.empty(count, np.int32)
        k = _rmat(int(scale), first, count, key, t_a, t_ab, t_abc, bool(scramble),
                  bool(loops), n_fold, src, dst)
        if k < count:
            src, dst = src[:k].copy(), dst[:k].copy()
        yield src, dst


def _names(n: int) -> pa.Table:
    """Zero-padded ids ``"0000", "0001", ...`` on platform ``rmat``: sorted like the ids."""
    width = len(str(max(n - 1, 0)))
    ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string()),
                       width=width, padding="0")
    plat = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                          pa.array(["rmat"], pa.string()))
    return pa.table({"platform": pa.chunked_array([plat]),
                     "account_id": pa.chunked_array([ids])})


def rmat_graph(scale: int, m: int, *, seed: int = 0, a: float | None = None,
               b: float | None = None, c: float | None = None, batch: int | None = None,
               scramble: bool = True, order: str = "none",
               progress: Progress = None) -> FollowGraph:
    """The FollowGraph of ``m`` R-MAT draws over ``2**scale`` vertices, with repeated
    edges merged and self-loops dropped (so it has fewer than ``m`` edges).

    Two passes over :func:`rmat_edges` (count degrees, then place edges) in both
    directions, then per-row sort and dedupe; no timestamps. Peak memory is about
    8 bytes per drawn edge plus 16 per vertex plus one batch. Vertex ``v`` is named
    ``("rmat", str(v).zfill(width))``.

    Parameters
    ----------
    scale, m, seed, a, b, c, batch, scramble
        As in :func:`rmat_edges`.
    order : {"none", "degree", "bfs", "rcm"}
        Vertex order applied at build (:mod:`trueclout.graph.reorder`). ``"degree"``
        costs nothing extra: the first pass's degree counts (draws, before repeats are
        merged) give the permutation, and the second pass writes the new ids directly.
        The others relabel the built graph (a second copy of the CSRs while it runs).
        Vertex ``v``'s name stays its R-MAT id, so names are then not in vertex order.
    progress : callable, optional
        Called with ``(stage, edges so far)``.

    Examples
    --------
    >>> g = rmat_graph(6, 300, seed=0)
    >>> g.check()
    >>> g.n, g.name(5), g.has_timestamps
    (64, ('rmat', '05'), False)
    >>> h = rmat_graph(6, 300, seed=0, order="degree")
    >>> h.m == g.m, bool(h.in_degree()[0] + h.out_degree()[0] >= h.in_degree()[-1])
    (True, True)
    """
    from . import reorder
    if order not in reorder.ORDERS:
        raise UsageError(f"unknown order {order!r}; choose one of "
                         f"{', '.join(reorder.ORDERS)}")
    a, b, c, batch = _params(scale, m, a, b, c, batch)
    n = 1 << int(scale)
    kw = dict(seed=seed, a=a, b=b, c=c, batch=batch, scramble=scramble, loops=False)
    out_c = np.zeros(n + 1, np.int64)
    in_c = np.zeros(n + 1, np.int64)
    drawn = 0
    for src, dst in rmat_edges(scale, m, **kw):
        K.count_degrees(src, out_c)
        K.count_degrees(dst, in_c)
        drawn += len(src)
        if progress:
            progress("counting", drawn)
    lut = None
    names = _names(n)
    uids = np.arange(n, dtype=np.int32)
    if order == "degree":
        # new id = rank by drawn total degree; counts move to the new ids
        perm = reorder.degree_permutation(out_c[:n], in_c[:n])
        lut = perm.astype(np.int32)
        inv = np.empty(n, np.int64)
        inv[perm] = np.arange(n)
        out_c[:n] = out_c[:n][inv]
        in_c[:n] = in_c[:n][inv]
        names = names.take(pa.array(inv))
        uids = inv.astype(np.int32)
    K.row_ends(out_c)
    K.row_ends(in_c)
    out_idx = np.empty(drawn, np.int32)
    in_idx = np.empty(drawn, np.int32)
    placed = 0
    for src, dst in rmat_edges(scale, m, **kw):
        placed += K.scatter(src, dst, out_c, out_idx, lut=lut)
        K.scatter(dst, src, in_c, in_idx, lut=lut)
        if progress:
            progress("placing", placed)
    if progress:
        progress("sorting", placed)
    K.sort_rows(out_c, out_idx)
    K.sort_rows(in_c, in_idx)
    if K.count_duplicates(out_c, out_idx):
        k = K.dedupe_rows(out_c, out_idx)
        out_idx = out_idx[:k].copy()
        K.dedupe_rows(in_c, in_idx)
        in_idx = in_idx[:k].copy()
    g = FollowGraph(n=n, names=names, uids=uids,
                    out_indptr=out_c, out_indices=out_idx,
                    in_indptr=in_c, in_indices=in_idx)
    if order in ("bfs", "rcm"):
        g = reorder.relabel(g, reorder.order(g, order))
    return g


__all__ = ["rmat_edges", "rmat_graph"]
