"""Building a :class:`~trueclout.graph.follow_graph.FollowGraph` from the store or from arrays.

:func:`build_graph` streams edges from the store twice and never holds them all:

1. Read the account index (ordered by (platform, account_id)): vertex ``v`` is the
   ``v``-th account; an int32 lookup array maps store uids to vertex ids.
2. Pass 1 counts out- and in-degrees batch by batch (and whether any follow has a time).
3. Exact CSR arrays are allocated: int32 indices out and in (8 bytes per edge) and, only
   when some follow has a time, int32 timestamps out and in (8 more bytes per edge).
4. Pass 2 scatters each batch into both CSRs (:func:`trueclout.kernels.csr.scatter`; the
   degree counts double as cursors, so no per-edge temporary is made).
5. Each row is sorted in parallel, carrying timestamps; repeated edges (possible only from
   :func:`from_edges`) are dropped, keeping the earliest known time.

Peak memory is the final arrays plus per-vertex arrays plus one batch of edges: at most
16 bytes per follow edge with timestamps, 8 without (merging repeats, which only
:func:`from_edges` meets, briefly copies the merged arrays). Interactions add an out-direction
CSR per kind (8 bytes per interaction with times). The store must not be written to
while a graph is built from it.

:func:`from_edges` is the in-memory path over the same kernels, for toy graphs and tests.

Examples
--------
>>> from trueclout.graph.build import from_edges
>>> g = from_edges([0, 1, 1], [1, 0, 2], names=["a", "b", "c"], platform="x")
>>> g.out_indices.tolist(), g.in_indices.tolist(), g.name(2)
([1, 0, 2], [1, 0, 1], ('x', 'c'))
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreError, UsageError
from ..kernels import csr as K
from ..model import INTERACTION_KINDS
from .follow_graph import FollowGraph

Progress = Callable[[str, int], None] | None
#: One batch of edges: src keys, dst keys (int32), times (Arrow int64 with nulls) or None.
EdgeBatch = tuple[np.ndarray, np.ndarray, "pa.Array | None"]


# -- shared core -----------------------------------------------------------------------
def _arrow_ts(ts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Zero-copy views of an Arrow int64 array: values, validity bitmap, bit offset."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if ts.type != pa.int64():
        ts = ts.cast(pa.int64())
    validity, values = ts.buffers()
    vals = np.frombuffer(values, dtype=np.int64)[ts.offset:ts.offset + len(ts)]
    if validity is None or ts.null_count == 0:
        return vals, None, 0
    return vals, np.frombuffer(validity, dtype=np.uint8), ts.offset


def _known(ts: pa.Array | pa.ChunkedArray | None) -> int:
    return 0 if ts is None else len(ts) - ts.null_count


def _build_csr(batches: Callable[[], Iterable[EdgeBatch]], n: int, lut: np.ndarray | None,
               *, both: bool, dedupe: bool, label: str, progress: Progress) -> tuple:
    """Two passes over ``batches()``: out-CSR (and in-CSR when ``both``), sorted rows.

    Returns ``(out_indptr, out_indices, out_ts, in_indptr, in_indices, in_ts)`` (the
    in-arrays None unless ``both``).
    """
    out_c = np.zeros(n + 1, np.int64)
    in_c = np.zeros(n + 1, np.int64) if both else None
    m = known = bad = 0
    it = iter(batches())
    while (item := next(it, None)) is not None:
        src, dst, ts = item
        del item
        bad += K.count_degrees(src, out_c, lut)
        if both:
            bad += K.count_degrees(dst, in_c, lut)
        m += len(src)
        known += _known(ts)
        del src, dst, ts
        if progress:
            progress(f"counting {label}", m)
    if bad:
        raise StoreError(f"{bad} {label} edge ends name accounts that have no vertex")
    K.row_ends(out_c)
    if m == 0 and not both:  # nothing to place: skip the second pass
        return out_c, np.empty(0, np.int32), None, None, None, None
    out_idx = np.empty(m, np.int32)
    out_ts = np.empty(m, np.int32) if known else None
    if both:
        K.row_ends(in_c)
        in_idx = np.empty(m, np.int32)
        in_ts = np.empty(m, np.int32) if known else None
    placed = 0
    it = iter(batches())
    while (item := next(it, None)) is not None:
        src, dst, ts = item
        del item  # hold no batch while the next one is fetched
        if known and ts is not None and ts.null_count < len(ts):
            vals, bits, off = _arrow_ts(ts)
            placed += K.scatter_ts64(src, dst, out_c, out_idx, vals, out_ts, bits, off, lut)
            if both:
                K.scatter_ts64(dst, src, in_c, in_idx, vals, in_ts, bits, off, lut)
            del vals, bits
        else:  # no times in this batch: TS_UNKNOWN is written where times are kept
            placed += K.scatter(src, dst, out_c, out_idx, None, out_ts, lut)
            if both:
                K.scatter(dst, src, in_c, in_idx, None, in_ts, lut)
        del src, dst, ts
        if progress:
            progress(f"placing {label}", placed)
    if placed != m or out_c[0] != 0 or (both and in_c[0] != 0):
        raise StoreError(f"the {label} changed while the graph was built; build it again")
    if progress:
        progress(f"sorting {label}", m)
    K.sort_rows(out_c, out_idx, out_ts)
    if both:
        K.sort_rows(in_c, in_idx, in_ts)
    if dedupe and K.count_duplicates(out_c, out_idx):
        k = K.dedupe_rows(out_c, out_idx, out_ts)
        out_idx = out_idx[:k].copy()
        out_ts = None if out_ts is None else out_ts[:k].copy()
        if both:
            K.dedupe_rows(in_c, in_idx, in_ts)
            in_idx = in_idx[:k].copy()
            in_ts = None if in_ts is None else in_ts[:k].copy()
    if both:
        return out_c, out_idx, out_ts, in_c, in_idx, in_ts
    return out_c, out_idx, out_ts, None, None, None


def _names_table(platform: pa.ChunkedArray | pa.Array,
                 account_id: pa.ChunkedArray | pa.Array) -> pa.Table:
    """Normalise names: platform dictionary-encoded (one shared dictionary), ids string."""
    plat = platform if isinstance(platform, pa.ChunkedArray) else pa.chunked_array([platform])
    acc = account_id if isinstance(account_id, pa.ChunkedArray) else pa.chunked_array(
        [account_id])
    if pa.types.is_dictionary(plat.type):
        plat = plat.cast(pa.string())
    plat = plat.cast(pa.string())
    acc = acc.cast(pa.string())
    t = pa.table({"platform": pc.dictionary_encode(plat), "account_id": acc})
    return t.unify_dictionaries()


def _emit(progress: Progress, stage: str, rows: int) -> None:
    if progress:
        progress(stage, rows)


# -- from the store --------------------------------------------------------------------
def build_graph(store, *, include_removed: bool = False, interactions: bool = True,
                progress: Progress = None, batch_rows: int | None = None) -> FollowGraph:
    """Build the follow graph (and interaction CSRs) of a store.

    Parameters
    ----------
    store : trueclout.store.Store
        An open store; it must not be written to during the build.
    include_removed : bool
        Keep follows that were later removed (unfollows). Default: only current follows.
    interactions : bool
        Also build an out-direction CSR per interaction kind present in the store.
    progress : callable, optional
        Called as ``progress(stage, rows)``, e.g. ``("counting follows", 4000000)``.
    batch_rows : int, optional
        Edges per batch read from the store; default from config ``graph_batch_rows``.

    Returns
    -------
    FollowGraph
        One vertex per account of the store, ordered by (platform, account_id).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> from trueclout.model import conform
    >>> from trueclout.ingest.base import Chunk
    >>> b = conform("follows", {"platform": ["x"] * 3, "src": ["b", "a", "c"],
    ...                         "dst": ["a", "b", "a"]}, 3)
    >>> s = Store(":memory:")
    >>> _ = s.load([Chunk("follows", b, "f")], source="f", fmt="edgelist", content_hash="h")
    >>> g = build_graph(s)
    >>> g
    FollowGraph(n=3, follows=3, timestamps=no, interactions={}, nbytes=...)
    >>> g.in_degree().tolist(), round(float(g.out_degree().mean()), 2)
    ([2, 1, 0], 1.0)
    """
    index = store.account_index()
    n = index.num_rows
    uids = np.ascontiguousarray(index.column("uid").to_numpy(), dtype=np.int32)
    names = _names_table(index.column("platform"), index.column("account_id"))
    del index
    _emit(progress, "accounts", n)
    # every edge end is an account uid; a uid beyond the lut is counted as unknown
    lut = np.full(int(uids.max()) + 1 if n else 0, -1, np.int32)
    lut[uids] = np.arange(n, dtype=np.int32)

    def edges(kind: str) -> Callable[[], Iterator[EdgeBatch]]:
        def gen() -> Iterator[EdgeBatch]:
            for b in store.iter_edges(kind, include_removed=include_removed,
                                      batch_rows=batch_rows):
                item = (b.column("src").to_numpy(), b.column("dst").to_numpy(),
                        b.column("ts"))
                del b
                yield item
                del item  # let the consumer free the batch before the next is read
        return gen

    op, oi, ot, ip, ii, it = _build_csr(edges("follows"), n, lut, both=True, dedupe=True,
                                        label="follows", progress=progress)
    inter = {}
    if interactions:
        for kind in INTERACTION_KINDS:
            p, i, t, *_ = _build_csr(edges(kind), n, lut, both=False, dedupe=False,
                                     label=kind, progress=progress)
            if i.shape[0]:
                inter[kind] = (p, i, t)
    return FollowGraph(n=n, names=names, uids=uids, out_indptr=op, out_indices=oi,
                       in_indptr=ip, in_indices=ii, out_ts=ot, in_ts=it, interactions=inter)


# -- from arrays -----------------------------------------------------------------------
def _keys(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise UsageError(f"{what} must be a 1-d array of integers")
    return arr.astype(np.int64, copy=False)


def _ts_array(ts, m: int) -> pa.Array | None:
    """Times as Arrow int64 with nulls (None, masked entries, and TS_UNKNOWN are null)."""
    if ts is None:
        return None
    if isinstance(ts, (pa.Array, pa.ChunkedArray)):
        arr = ts.cast(pa.int64())
    elif isinstance(ts, np.ma.MaskedArray):
        arr = pa.array(ts.data.astype(np.int64), mask=np.ma.getmaskarray(ts))
    elif isinstance(ts, np.ndarray) and np.issubdtype(ts.dtype, np.integer):
        v = ts.astype(np.int64)
        arr = pa.array(v, mask=v == int(K.TS_UNKNOWN))
    else:
        arr = pa.array(list(ts), pa.int64())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) != m:
        raise UsageError(f"ts has {len(arr)} entries for {m} edges")
    return arr


def _names_from(names, n: int | None, platform: str) -> pa.Table:
    if isinstance(names, pa.Table):
        missing = {"platform", "account_id"} - set(names.column_names)
        if missing:
            raise UsageError(f"names lacks columns {sorted(missing)}")
        t = names.select(["platform", "account_id"])
    else:
        ids = [str(x) for x in names]
        t = pa.table({"platform": pa.array([platform] * len(ids), pa.string()),
                      "account_id": pa.array(ids, pa.string())})
    if t.column("platform").null_count or t.column("account_id").null_count:
        raise UsageError("names must not be null")
    if n is not None and n != t.num_rows:
        raise UsageError(f"n={n} but {t.num_rows} names were given")
    return t


def from_edges(src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray,
               ts=None, n: int | None = None, names=None, *, platform: str = "default",
               interactions: dict | None = None) -> FollowGraph:
    """Build a FollowGraph from in-memory edge arrays, with the kernels of
    :func:`build_graph`.

    Parameters
    ----------
    src, dst : int arrays
        Edge ``src[i]`` follows ``dst[i]``: positions in ``names`` (or vertex ids when no
        names are given).
    ts : array, optional
        Follow times in epoch seconds; ``None`` entries, masked entries and
        ``TS_UNKNOWN`` mean unknown.
    n : int, optional
        Number of vertices; default ``len(names)``, else ``max(src, dst) + 1``.
    names : list of str or pyarrow.Table, optional
        Account ids (on ``platform``) or a table with ``platform`` and ``account_id``.
        Vertices are renumbered by the rank of (platform, account_id), as in the store
        path, and ``uids`` holds each vertex's position in ``names``. Default: ids
        ``"0", "1", ...`` zero-padded so that vertex ids equal the given ids.
    platform : str
        Platform of names given as plain strings.
    interactions : dict, optional
        Interaction kind to ``(src, dst)`` or ``(src, dst, ts)``, in the same ids.

    Returns
    -------
    FollowGraph
        Repeated follows are merged (keeping the earliest known time); repeated
        interactions are kept.

    Examples
    --------
    >>> g = from_edges([2, 0], [0, 1], ts=[100, None], names=["c", "b", "a"])
    >>> [g.name(v)[1] for v in range(g.n)], g.uids.tolist()
    (['a', 'b', 'c'], [2, 1, 0])
    >>> g.out_indices.tolist(), g.out_ts.tolist()
    ([2, 1], [100, -2147483648])
    """
    s = _keys(src, "src")
    d = _keys(dst, "dst")
    if s.shape != d.shape:
        raise UsageError(f"src has {s.size} entries but dst has {d.size}")
    inter_in = {}
    for kind, spec in (interactions or {}).items():
        if kind not in INTERACTION_KINDS:
            raise UsageError(f"unknown interaction kind {kind!r}; use one of "
                             f"{', '.join(INTERACTION_KINDS)}")
        isrc, idst, *rest = spec
        a, b = _keys(isrc, f"{kind} src"), _keys(idst, f"{kind} dst")
        if a.shape != b.shape:
            raise UsageError(f"{kind}: src and dst differ in length")
        inter_in[kind] = (a, b, _ts_array(rest[0] if rest else None, a.size))
    keys = [s, d] + [x for a, b, _ in inter_in.values() for x in (a, b)]
    top = max((int(k.max()) for k in keys if k.size), default=-1)
    low = min((int(k.min()) for k in keys if k.size), default=0)
    if names is not None:
        table = _names_from(names, n, platform)
        n = table.num_rows
    else:
        if n is None:
            n = top + 1
        width = len(str(max(n - 1, 0)))
        table = _names_from([str(i).zfill(width) for i in range(n)], n, platform)
    if low < 0 or top >= n:
        raise UsageError(f"edge ends must be in 0..{n - 1}")
    order = pc.sort_indices(table, sort_keys=[("platform", "ascending"),
                                              ("account_id", "ascending")]).to_numpy()
    table = table.take(order)
    if n > 1:
        p, a = table.column("platform"), table.column("account_id")
        same = pc.and_(pc.equal(p.slice(1), p.slice(0, n - 1)),
                       pc.equal(a.slice(1), a.slice(0, n - 1)))
        if pc.any(same).as_py():
            raise UsageError("names must be unique")
    uids = order.astype(np.int32)
    identity = bool(np.array_equal(order, np.arange(n)))
    lut = None
    if not identity:
        lut = np.empty(n, np.int32)
        lut[order] = np.arange(n, dtype=np.int32)
    names_t = _names_table(table.column("platform"), table.column("account_id"))
    s32, d32 = s.astype(np.int32), d.astype(np.int32)
    t_arr = _ts_array(ts, s.size)
    op, oi, ot, ip, ii, it = _build_csr(lambda: [(s32, d32, t_arr)], n, lut, both=True,
                                        dedupe=True, label="follows", progress=None)
    inter = {}
    for kind, (a, b, t) in inter_in.items():
        if a.size == 0:
            continue
        a32, b32 = a.astype(np.int32), b.astype(np.int32)
        p, i, tt, *_ = _build_csr(lambda a32=a32, b32=b32, t=t: [(a32, b32, t)], n, lut,
                                  both=False, dedupe=False,
                                  label=kind, progress=None)
        inter[kind] = (p, i, tt)
    return FollowGraph(n=n, names=names_t, uids=uids, out_indptr=op, out_indices=oi,
                       in_indptr=ip, in_indices=ii, out_ts=ot, in_ts=it, interactions=inter)
