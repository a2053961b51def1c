"""What detectors read: the follow graph plus per-vertex arrays, all in vertex order.

:class:`DetectionData` gathers, once, everything the detectors of this stage need from the
store: the :class:`~trueclout.graph.FollowGraph`, the profile of each vertex (a pyarrow
table aligned to vertex ids), profile snapshots, post activity, removed follows
(unfollows) and ground-truth labels. Detectors take it and return arrays.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> d = DetectionData.from_graph(toy_graph())
>>> d.n, d.profiles.num_rows, d.column("followers_count").shape
(6, 6, (6,))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..graph.follow_graph import FollowGraph


@dataclass(eq=False)
class DetectionData:
    """The graph and per-vertex tables a detector reads.

    Attributes
    ----------
    graph : FollowGraph
    profiles : pyarrow.Table
        One row per vertex, in vertex order: the account columns of the store (times in
        epoch seconds; nulls where unknown).
    snapshots : pyarrow.Table or None
        ``vertex, ts, followers_count, following_count, ...`` sorted by vertex, ts.
    activity : pyarrow.Table or None
        One row per vertex: posts, first_post, last_post, tagged_share (zeros/nulls for
        accounts without posts).
    removed : pyarrow.Table or None
        Unfollows: ``src, dst`` (vertex ids), ``created``, ``removed`` (epoch seconds).
    labels : dict
        label -> int array of the vertices that carry it (any source).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> DetectionData.from_graph(toy_graph()).labels
    {}
    """

    graph: FollowGraph
    profiles: pa.Table
    snapshots: pa.Table | None = None
    activity: pa.Table | None = None
    removed: pa.Table | None = None
    labels: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.graph.n

    def column(self, name: str, fill: float = np.nan) -> np.ndarray:
        """A profile column as a float64 array, nulls filled with ``fill``.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> float(DetectionData.from_graph(toy_graph()).column("posts_count", fill=0).sum())
        0.0
        """
        if name not in self.profiles.column_names:
            return np.full(self.n, fill, dtype=np.float64)
        col = self.profiles.column(name)
        if pa.types.is_boolean(col.type):
            col = col.cast(pa.int8())
        arr = col.to_numpy(zero_copy_only=False)
        out = np.asarray(arr, dtype=np.float64)
        mask = col.is_null().to_numpy(zero_copy_only=False)
        if mask.any():
            out = out.copy()
            out[mask] = fill
        return out

    def follower_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """The two follower counts of every account, which differ when the store holds
        only a sample of the followers (a crawl, an ego network, the simulator's
        reported counts): ``(count, known)``, the platform's own count from the profile
        (float, NaN where the source gives none) and the followers known to the store
        (its follow graph's in-degree, int64). Reports name them ``followers_count`` and
        ``followers_known``.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> count, known = DetectionData.from_graph(toy_graph()).follower_counts()
        >>> count.tolist() == known.tolist(), known.dtype
        (True, dtype('int64'))
        """
        return self.column("followers_count"), self.graph.in_degree().astype(np.int64)

    def label_mask(self, *labels: str) -> np.ndarray:
        """Boolean mask of vertices carrying any of ``labels``.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> int(DetectionData.from_graph(toy_graph()).label_mask("fake").sum())
        0
        """
        mask = np.zeros(self.n, dtype=bool)
        for lab in labels:
            idx = self.labels.get(lab)
            if idx is not None:
                mask[idx] = True
        return mask

    @classmethod
    def coerce(cls, data: "DetectionData | FollowGraph") -> "DetectionData":
        """``data`` itself, or a bare :class:`FollowGraph` wrapped by :meth:`from_graph`.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> DetectionData.coerce(toy_graph()).n
        6
        >>> DetectionData.coerce("x")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: expected DetectionData or FollowGraph, got str
        """
        if isinstance(data, FollowGraph):
            return cls.from_graph(data)
        if not isinstance(data, DetectionData):
            from ..errors import UsageError
            raise UsageError(f"expected DetectionData or FollowGraph, got {type(data).__name__}")
        return data

    @classmethod
    def from_graph(cls, graph: FollowGraph, profiles: pa.Table | None = None,
                   **kwargs) -> "DetectionData":
        """Wrap a graph built in memory; profiles default to counts from the graph.

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> DetectionData.from_graph(toy_graph()).column("following_count").tolist()
        [2.0, 2.0, 1.0, 2.0, 2.0, 2.0]
        """
        if profiles is None:
            profiles = pa.table({
                "followers_count": pa.array(graph.in_degree().astype(np.int64)),
                "following_count": pa.array(graph.out_degree().astype(np.int64)),
            })
        return cls(graph=graph, profiles=profiles, **kwargs)

    @classmethod
    def from_store(cls, store, *, graph: FollowGraph | None = None,
                   progress=None) -> "DetectionData":
        """Read the graph and every per-vertex table from ``store``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> DetectionData.from_store(Store(":memory:")).n
        0
        """
        from ..graph.build import build_graph
        g = graph if graph is not None else build_graph(store, progress=progress)
        acc = store.account_table()
        vert = g.vertices_of_uids(acc.column("uid").to_numpy())
        order = np.argsort(vert, kind="stable")
        profiles = acc.take(pa.array(order))
        snaps = store.snapshot_table()
        if snaps.num_rows:
            v = g.vertices_of_uids(snaps.column("uid").to_numpy())
            snaps = snaps.drop(["uid"]).add_column(0, "vertex", pa.array(v.astype(np.int32)))
            o = np.lexsort((snaps.column("ts").to_numpy(zero_copy_only=False), v))
            snaps = snaps.take(pa.array(o))
        else:
            snaps = None
        act = store.post_activity()
        activity = None
        if act.num_rows:
            v = g.vertices_of_uids(act.column("uid").to_numpy())
            posts = np.zeros(g.n, np.int64)
            posts[v] = act.column("posts").to_numpy()
            first = np.full(g.n, np.nan)
            last = np.full(g.n, np.nan)
            first[v] = act.column("first_post").to_numpy(zero_copy_only=False)
            last[v] = act.column("last_post").to_numpy(zero_copy_only=False)
            tagged = np.zeros(g.n)
            tagged[v] = act.column("tagged_share").to_numpy(zero_copy_only=False)
            activity = pa.table({"posts": posts, "first_post": first, "last_post": last,
                                 "tagged_share": tagged})
        rem = store.removed_follows()
        removed = None
        if rem.num_rows:
            removed = pa.table({
                "src": g.vertices_of_uids(rem.column("src").to_numpy()).astype(np.int32),
                "dst": g.vertices_of_uids(rem.column("dst").to_numpy()).astype(np.int32),
                "created": rem.column("created"), "removed": rem.column("removed")})
        labels: dict[str, np.ndarray] = {}
        lt = store.label_table()
        if lt.num_rows:
            v = g.vertices_of_uids(lt.column("uid").to_numpy())
            lab = np.asarray(lt.column("label").to_pylist(), dtype=object)
            for name in np.unique(lab):
                labels[str(name)] = np.unique(v[lab == name])
        return cls(graph=g, profiles=profiles, snapshots=snaps, activity=activity,
                   removed=removed, labels=labels)
