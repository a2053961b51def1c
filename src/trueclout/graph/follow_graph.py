"""The follow graph: CSR arrays in both directions, timestamps, and account names.

:class:`FollowGraph` is a plain container. Vertex ids are contiguous int32 ranks of
``(platform, account_id)``, so they do not depend on the order data was loaded in; this
is the one place where names and ids meet (the algorithms see only vertex ids).

Memory per follow edge: 8 bytes for the two int32 index arrays, plus 8 bytes when
timestamps are known (``out_ts`` and ``in_ts``); per vertex: two int64 ``indptr`` slots,
the int32 uid, and the names.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> g.n, g.m
(6, 11)
>>> g.out_neighbors(g.vertex("toy", "dan")).tolist()
[2, 4]
>>> [g.name(v)[1] for v in g.in_neighbors(g.vertex("toy", "cat"))]
['ana', 'ben', 'dan', 'eve', 'fay']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UsageError
from ..kernels.csr import TS_UNKNOWN

#: A CSR of one interaction kind: (indptr int64, indices int32, ts int32 or None).
InteractionCSR = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


@dataclass(eq=False, repr=False)
class FollowGraph:
    """A directed follow graph in CSR form, with names and optional timestamps.

    Attributes
    ----------
    n : int
        Number of vertices (every account of the store, followed or not).
    names : pyarrow.Table
        Columns ``platform`` (dictionary-encoded string) and ``account_id`` (string), one
        row per vertex, in vertex order: sorted by (platform, account_id).
    uids : int32 array
        Store uid of each vertex (for :func:`~trueclout.graph.build.from_edges`: the
        position of the vertex in the names given).
    out_indptr, out_indices : int64, int32 arrays
        Out-CSR: ``v`` follows ``out_indices[out_indptr[v]:out_indptr[v + 1]]``, ascending.
    in_indptr, in_indices : int64, int32 arrays
        In-CSR: the followers of ``v``, ascending.
    out_ts, in_ts : int32 arrays or None
        Follow time (epoch seconds) of each CSR entry; :data:`TS_UNKNOWN` (``-2**31``)
        where unknown; ``None`` when no follow has a time.
    interactions : dict
        Interaction kind (like, repost, reply, mention, quote) to an out-direction CSR
        ``(indptr, indices, ts)``, src -> dst. Repeated interactions between the same pair
        are kept as repeated entries (one per interaction, ordered by time within the
        pair), so ``indptr`` differences count interactions. Only kinds with at least one
        interaction appear; ``ts`` is None when none of the kind has a time.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> g.out_degree().tolist(), g.in_degree().tolist()
    ([2, 2, 1, 2, 2, 2], [2, 1, 5, 0, 2, 1])
    >>> sorted(g.interactions)
    ['like', 'reply']
    """

    n: int
    names: pa.Table
    uids: np.ndarray
    out_indptr: np.ndarray
    out_indices: np.ndarray
    in_indptr: np.ndarray
    in_indices: np.ndarray
    out_ts: np.ndarray | None = None
    in_ts: np.ndarray | None = None
    interactions: dict[str, InteractionCSR] = field(default_factory=dict)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def m(self) -> int:
        """Number of follow edges.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().m
        11
        """
        return int(self.out_indices.shape[0])

    @property
    def has_timestamps(self) -> bool:
        """Whether follow times are stored (some may still be unknown).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().has_timestamps
        True
        """
        return self.out_ts is not None

    def out_degree(self) -> np.ndarray:
        """Number of accounts each vertex follows (int64).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().out_degree().tolist()
        [2, 2, 1, 2, 2, 2]
        """
        return np.diff(self.out_indptr)

    def in_degree(self) -> np.ndarray:
        """Number of followers of each vertex (int64).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().in_degree().tolist()
        [2, 1, 5, 0, 2, 1]
        """
        return np.diff(self.in_indptr)

    def out_neighbors(self, v: int) -> np.ndarray:
        """The accounts ``v`` follows, ascending (a view).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().out_neighbors(0).tolist()
        [1, 2]
        """
        return self.out_indices[self.out_indptr[v]:self.out_indptr[v + 1]]

    def in_neighbors(self, v: int) -> np.ndarray:
        """The followers of ``v``, ascending (a view).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().in_neighbors(0).tolist()
        [1, 2]
        """
        return self.in_indices[self.in_indptr[v]:self.in_indptr[v + 1]]

    def nbytes(self) -> int:
        """Bytes held by the arrays and the names table.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().nbytes() > 0
        True
        """
        arrays = [self.uids, self.out_indptr, self.out_indices, self.in_indptr,
                  self.in_indices, self.out_ts, self.in_ts]
        for csr in self.interactions.values():
            arrays.extend(csr)
        return int(sum(a.nbytes for a in arrays if a is not None) + self.names.nbytes)

    # -- names ---------------------------------------------------------------------------
    def name(self, v: int) -> tuple[str, str]:
        """``(platform, account_id)`` of vertex ``v``.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().name(2)
        ('toy', 'cat')
        """
        v = int(v)
        if not 0 <= v < self.n:
            raise UsageError(f"vertex {v} is not in 0..{self.n - 1}")
        return (self.names.column("platform")[v].as_py(),
                self.names.column("account_id")[v].as_py())

    def vertex(self, platform: str, account_id: str) -> int:
        """The vertex id of ``(platform, account_id)``; UsageError if unknown.

        A binary search over the sorted names, checked by a scan if the names' order
        disagrees with Python's string order.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> g = toy_graph()
        >>> g.vertex("toy", "eve")
        4
        >>> g.vertex("toy", "zed")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: unknown account toy/zed
        """
        plat = self.names.column("platform")
        acc = self.names.column("account_id")
        key = (platform, account_id)
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if (plat[mid].as_py(), acc[mid].as_py()) < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.n and (plat[lo].as_py(), acc[lo].as_py()) == key:
            return lo
        # fall back to a vectorised scan (names sorted in another collation)
        hit = pc.and_(pc.equal(plat.cast(pa.string()) if pa.types.is_dictionary(plat.type)
                               else plat, platform), pc.equal(acc, account_id))
        idx = pc.index(hit, True).as_py()
        if idx is None or idx < 0:
            raise UsageError(f"unknown account {platform}/{account_id}")
        return int(idx)

    def vertices_of_uids(self, uids: np.ndarray) -> np.ndarray:
        """Map store uids to vertex ids (int32; -1 for a uid with no vertex).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> g = toy_graph()
        >>> g.vertices_of_uids(g.uids[[3, 1]]).tolist()
        [3, 1]
        """
        u = np.asarray(uids, dtype=np.int64)
        size = int(self.uids.max()) + 1 if self.n else 0
        lut = np.full(size, -1, np.int32)
        lut[self.uids] = np.arange(self.n, dtype=np.int32)
        out = np.full(u.shape, -1, np.int32)
        ok = (u >= 0) & (u < size)
        out[ok] = lut[u[ok]]
        return out

    # -- conversions ---------------------------------------------------------------------
    def to_scipy(self, kind: str = "follows", dtype=np.float64):
        """The adjacency matrix as a ``scipy.sparse.csr_matrix`` (for cross-checks).

        ``kind`` is ``"follows"`` or an interaction kind; repeated interactions add up.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> g = toy_graph()
        >>> int(g.to_scipy().sum()), int(g.to_scipy("like").sum())
        (11, 4)
        """
        from scipy.sparse import csr_matrix

        if kind == "follows":
            indptr, indices = self.out_indptr, self.out_indices
        elif kind in self.interactions:
            indptr, indices = self.interactions[kind][:2]
        else:
            raise UsageError(f"the graph has no {kind!r} edges")
        a = csr_matrix((np.ones(indices.shape[0], dtype), indices, indptr),
                       shape=(self.n, self.n))
        a.sum_duplicates()
        return a

    # -- checks --------------------------------------------------------------------------
    def check(self) -> None:
        """Raise AssertionError unless the invariants hold: sizes, sorted rows, in-CSR
        the transpose of out-CSR, timestamps aligned. O(m log m); for tests.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> toy_graph().check()
        """
        n, m = self.n, self.m
        assert self.names.num_rows == n and self.uids.shape == (n,)
        assert self.uids.dtype == np.int32
        for p, i, t in [(self.out_indptr, self.out_indices, self.out_ts),
                        (self.in_indptr, self.in_indices, self.in_ts)]:
            assert p.dtype == np.int64 and i.dtype == np.int32 and p.shape == (n + 1,)
            assert p[0] == 0 and p[-1] == i.shape[0] == m and np.all(np.diff(p) >= 0)
            assert t is None or (t.dtype == np.int32 and t.shape == (m,))
            if m:
                assert i.min() >= 0 and i.max() < n
                row = np.repeat(np.arange(n, dtype=np.int64), np.diff(p))
                key = row * n + i
                assert np.all(np.diff(key) > 0), "rows must be sorted and without repeats"
        assert (self.out_ts is None) == (self.in_ts is None)
        if m:
            src = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.out_indptr))
            dst = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.in_indptr))
            okey = src * n + self.out_indices
            ikey = self.in_indices.astype(np.int64) * n + dst
            order = np.argsort(ikey, kind="stable")
            assert np.array_equal(okey, ikey[order]), "in-CSR must transpose out-CSR"
            if self.out_ts is not None:
                assert np.array_equal(self.out_ts, self.in_ts[order]), "timestamps misaligned"
        for kind, (p, i, t) in self.interactions.items():
            assert p.shape == (n + 1,) and p[-1] == i.shape[0], kind
            assert t is None or t.shape == i.shape, kind

    def __repr__(self) -> str:
        ts = "yes" if self.has_timestamps else "no"
        inter = ", ".join(f"{k}={v[1].shape[0]}" for k, v in sorted(self.interactions.items()))
        return (f"FollowGraph(n={self.n:,}, follows={self.m:,}, timestamps={ts}, "
                f"interactions={{{inter}}}, nbytes={self.nbytes():,})")


__all__ = ["FollowGraph", "TS_UNKNOWN"]
