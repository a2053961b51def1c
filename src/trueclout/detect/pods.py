"""Engagement pods: small closed groups that like, repost and reply to each other within
minutes of every post, and follow each other.

A pod (Instagram's "engagement pods", Twitter's "retweet rooms") trades engagement: every
member engages with every post of every other member, quickly, to push the posts into
recommendations. Honest friends engage with each other too, but sparsely, slowly, and not
as a closed group that takes up most of their engagement. Per account ``u``:

* **partners**: accounts ``v`` with at least ``min_pair`` interactions from ``u`` to ``v``
  *and* from ``v`` to ``u`` (like, repost, reply and quote; mentions are not engagement
  with a post), who also follow ``u`` and are followed by ``u``;
* **size**: the number of partners, from ``min_partners`` (no evidence) to
  ``full_partners`` (full evidence) — pods have 10-30 members;
* **closed**: the share of pairs of ``u``'s partners that are partners themselves (the
  local clustering coefficient of the partner graph), full at ``closed_full``;
* **inside**: the share of ``u``'s engagement given to and received from its partners
  (the mean of the two), full at ``inside_full``;
* **quick**: the share of ``u``'s interactions with partners that come within
  ``window_s`` seconds of at least ``quick_min`` other partners' interactions with the
  same author, full at ``quick_full`` — pods engage within minutes of a post, so their
  engagement on a post bunches up. Without interaction times this factor is 1.

The score is the product of the four, each a linear ramp to 1 (smooth, no hidden
cliffs). Pods are the connected groups of flagged accounts in the partner graph.

Examples
--------
>>> import numpy as np
>>> from trueclout.graph.build import from_edges
>>> m = 12                                      # a pod of 12 plus 40 ordinary accounts
>>> pi, pj = np.meshgrid(np.arange(m), np.arange(m)); off = pi != pj
>>> fs, fd = pi[off], pj[off]                   # every member follows every other one
>>> rng = np.random.default_rng(0)
>>> s = np.repeat(fs, 4); d = np.repeat(fd, 4)  # 4 likes each way per pair
>>> post = rng.integers(0, 3, s.size) * 86400   # 3 posts each; likes come within minutes
>>> t = 1_700_000_000 + post + d * 7 * 86400 + rng.integers(0, 300, s.size)
>>> os_ = rng.integers(12, 52, 200); od = rng.integers(0, 52, 200)
>>> g = from_edges(np.r_[fs, os_], np.r_[fd, od], n=52,
...                interactions={"like": (np.r_[s, os_], np.r_[d, od],
...                                       np.r_[t, 1_700_000_000 + od * 999])})
>>> det = PodDetector().fit(g)
>>> bool(det.labels_[:m].all()), int(det.labels_[m:].sum()), [p["size"] for p in det.pods_]
(True, 0, [12])
>>> print(det.reasons_[0])
trades engagement with a closed group of 11 accounts (mutual follows; 100% of their pairs
trade too): 96% of the likes, reposts and replies it gives and gets, 100% of them within 15
minutes of the group's others
"""

from __future__ import annotations

from typing import Any, Sequence

import numba
import numpy as np

from .. import config
from ..graph.follow_graph import FollowGraph
from ..kernels.csr import TS_UNKNOWN, csr_from_edges
from ..kernels.csr import row_contains as _find
from .base import BaseDetector
from .data import DetectionData

#: Interaction kinds that are engagement with a post.
ENGAGEMENT_KINDS = ("like", "repost", "reply", "quote")


@numba.njit(cache=True, nogil=True)
def _closed(indptr, indices, out):
    """Local clustering coefficient of each vertex of an undirected CSR (sorted rows)."""
    n = indptr.shape[0] - 1
    for u in range(n):
        a = indptr[u]
        b = indptr[u + 1]
        k = b - a
        if k < 2:
            out[u] = 0.0
            continue
        tri = 0
        for x in range(a, b):
            v = indices[x]
            for y in range(x + 1, b):
                if _find(indices, indptr[v], indptr[v + 1], indices[y]):
                    tri += 1
        out[u] = tri / (k * (k - 1) / 2.0)


@numba.njit(cache=True, nogil=True)
def _pair_counts(indptr, indices, ptr_out, dst_out, cnt_out, fill):
    """Runs of equal targets in each sorted row: the distinct pairs and their counts.
    With ``fill`` False only ``ptr_out`` (pairs per row, cumulative) is computed."""
    n = indptr.shape[0] - 1
    j = 0
    for u in range(n):
        a = indptr[u]
        b = indptr[u + 1]
        k = a
        while k < b:
            v = indices[k]
            e = k + 1
            while e < b and indices[e] == v:
                e += 1
            if fill:
                dst_out[j] = v
                cnt_out[j] = e - k
            j += 1
            k = e
        ptr_out[u + 1] = j


@numba.njit(cache=True, parallel=True)
def _strong_pairs(pair_ptr, pair_dst, pair_cnt, out_indptr, out_indices, min_pair, rcnt,
                  keep):
    """Per pair (u, v): the count of v -> u, and whether the pair is strong (enough
    engagement both ways, and mutual follows)."""
    n = pair_ptr.shape[0] - 1
    for u in numba.prange(n):
        for j in range(pair_ptr[u], pair_ptr[u + 1]):
            v = pair_dst[j]
            r = 0
            lo = pair_ptr[v]
            hi = pair_ptr[v + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                y = pair_dst[mid]
                if y < u:
                    lo = mid + 1
                elif y > u:
                    hi = mid
                else:
                    r = pair_cnt[mid]
                    break
            rcnt[j] = r
            c = pair_cnt[j]
            keep[j] = (v != u and r >= 1 and c + r >= 2 * min_pair
                       and _find(out_indices, out_indptr[u], out_indptr[u + 1], v)
                       and _find(out_indices, out_indptr[v], out_indptr[v + 1], u))


@numba.njit(cache=True, parallel=True)
def _quick(in_indptr, in_src, in_ts, p_indptr, p_indices, cand, window, quick_min, unknown,
           is_part, is_quick):
    """Interactions by author (in-CSR). Per interaction of a candidate source with one of
    its partners (``is_part``), whether at least ``quick_min`` other partners of the
    source engaged the same author within ``window`` seconds (``is_quick``)."""
    n = in_indptr.shape[0] - 1
    for v in numba.prange(n):
        a = in_indptr[v]
        b = in_indptr[v + 1]
        any_cand = False
        for j in range(a, b):
            if cand[in_src[j]]:
                any_cand = True
                break
        if not any_cand:
            continue
        t = in_ts[a:b].astype(np.int64)
        order = np.argsort(t, kind="mergesort")
        st = t[order]
        m = b - a
        for x in range(m):
            j = a + order[x]
            u = in_src[j]
            tu = st[x]
            if not cand[u] or tu == unknown:
                continue
            pa = p_indptr[u]
            pb = p_indptr[u + 1]
            if not _find(p_indices, pa, pb, v):
                continue
            is_part[j] = 1
            c = 0
            y = x - 1
            while y >= 0 and st[y] >= tu - window and c < quick_min:
                w = in_src[a + order[y]]
                if w != u and _find(p_indices, pa, pb, w):
                    c += 1
                y -= 1
            y = x + 1
            while y < m and st[y] <= tu + window and c < quick_min:
                w = in_src[a + order[y]]
                if w != u and _find(p_indices, pa, pb, w):
                    c += 1
                y += 1
            if c >= quick_min:
                is_quick[j] = 1


@numba.njit(cache=True, nogil=True)
def _compact(pair_ptr, pair_dst, keep, p_indptr, p_indices):
    n = pair_ptr.shape[0] - 1
    j = 0
    for u in range(n):
        for k in range(pair_ptr[u], pair_ptr[u + 1]):
            if keep[k]:
                p_indices[j] = pair_dst[k]
                j += 1
        p_indptr[u + 1] = j


def _data(data: Any) -> DetectionData:
    return DetectionData.coerce(data)


def _opt(given: Any, name: str) -> Any:
    return config.value(name, given)


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


def _merged(graph: FollowGraph, kinds: Sequence[str]):
    """All engagement interactions as (src, dst, ts) arrays (ts TS_UNKNOWN if unknown)."""
    srcs, dsts, tss = [], [], []
    for kind in kinds:
        if kind not in graph.interactions:
            continue
        p, i, t = graph.interactions[kind]
        srcs.append(np.repeat(np.arange(graph.n, dtype=np.int32), np.diff(p)))
        dsts.append(i.astype(np.int32))
        tss.append(t if t is not None else np.full(i.shape[0], TS_UNKNOWN, np.int32))
    if not srcs:
        e = np.empty(0, np.int32)
        return e, e, e
    return np.concatenate(srcs), np.concatenate(dsts), np.concatenate(tss)


def pod_scores(graph: FollowGraph, *, kinds: Sequence[str] = ENGAGEMENT_KINDS,
               min_pair: int | None = None, min_partners: float | None = None,
               full_partners: float | None = None, closed_full: float | None = None,
               inside_full: float | None = None, window_s: int | None = None,
               quick_min: int | None = None, quick_full: float | None = None
               ) -> dict[str, Any]:
    """Score every account for engagement-pod membership (the pure function behind
    :class:`PodDetector`). Parameters left as None come from config (``pod_*``).

    Returns
    -------
    dict
        Per vertex arrays ``scores``, ``partners`` (count), ``closed``, ``inside``,
        ``quick`` (NaN where no timed interaction with partners), and the partner graph
        as ``partner_indptr``, ``partner_indices`` (undirected CSR).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> r = pod_scores(toy_graph())
    >>> r["scores"].tolist(), r["partners"].tolist()
    ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0, 0, 0])
    """
    min_pair = int(_opt(min_pair, "pod_min_pair"))
    lo_p = float(_opt(min_partners, "pod_min_partners"))
    hi_p = float(_opt(full_partners, "pod_full_partners"))
    closed_full = float(_opt(closed_full, "pod_closed_full"))
    inside_full = float(_opt(inside_full, "pod_inside_full"))
    window = int(_opt(window_s, "pod_window_s"))
    quick_min = int(_opt(quick_min, "pod_quick_min"))
    quick_full = float(_opt(quick_full, "pod_quick_full"))
    n = graph.n
    src, dst, ts = _merged(graph, kinds)
    zeros = np.zeros(n)
    empty = {"scores": zeros.copy(), "partners": np.zeros(n, np.int64), "closed": zeros.copy(),
             "inside": zeros.copy(), "quick": np.full(n, np.nan),
             "partner_indptr": np.zeros(n + 1, np.int64),
             "partner_indices": np.empty(0, np.int32)}
    if src.shape[0] == 0:
        return empty
    # interactions by source, each row sorted by target: runs are the pairs
    op, oi, _ = csr_from_edges(src, dst, n)
    pair_ptr = np.zeros(n + 1, np.int64)
    _pair_counts(op, oi, pair_ptr, np.empty(0, np.int32), np.empty(0, np.int64), False)
    pair_dst = np.empty(int(pair_ptr[-1]), np.int32)
    pair_cnt = np.empty(int(pair_ptr[-1]), np.int64)
    _pair_counts(op, oi, pair_ptr, pair_dst, pair_cnt, True)
    give = np.diff(op).astype(np.float64)
    get = np.bincount(oi, minlength=n).astype(np.float64)
    del op, oi
    rcnt = np.empty(pair_dst.shape[0], np.int64)
    keep = np.empty(pair_dst.shape[0], np.bool_)
    _strong_pairs(pair_ptr, pair_dst, pair_cnt, graph.out_indptr, graph.out_indices,
                  np.int64(min_pair), rcnt, keep)
    if not keep.any():
        return empty
    p_indptr = np.zeros(n + 1, np.int64)
    p_indices = np.empty(int(keep.sum()), np.int32)
    _compact(pair_ptr, pair_dst, keep, p_indptr, p_indices)
    partners = np.diff(p_indptr)
    owner = np.repeat(np.arange(n), np.diff(pair_ptr))[keep]
    inside = 0.5 * (np.bincount(owner, weights=pair_cnt[keep], minlength=n)
                    / np.maximum(give, 1)
                    + np.bincount(owner, weights=rcnt[keep], minlength=n) / np.maximum(get, 1))
    del owner, pair_ptr, pair_dst, pair_cnt, rcnt, keep
    closed = np.zeros(n)
    _closed(p_indptr, p_indices, closed)
    cand = partners >= max(lo_p, 1)
    quick = np.full(n, np.nan)
    if (ts != TS_UNKNOWN).any() and cand.any():
        ip, isrc, its = csr_from_edges(dst, src, n, ts)
        is_part = np.zeros(isrc.shape[0], np.uint8)
        is_quick = np.zeros(isrc.shape[0], np.uint8)
        _quick(ip, isrc, its, p_indptr, p_indices, cand, np.int64(window),
               np.int64(quick_min), np.int64(TS_UNKNOWN), is_part, is_quick)
        n_part = np.bincount(isrc, weights=is_part, minlength=n)
        n_quick = np.bincount(isrc, weights=is_quick, minlength=n)
        has = n_part > 0
        quick[has] = n_quick[has] / n_part[has]
    quick_ev = np.where(np.isnan(quick), 1.0, _ramp(np.nan_to_num(quick), 0.0, quick_full))
    scores = (_ramp(partners.astype(np.float64), lo_p, hi_p) * _ramp(closed, 0.0, closed_full)
              * _ramp(inside, 0.0, inside_full) * quick_ev)
    return {"scores": scores, "partners": partners, "closed": closed, "inside": inside,
            "quick": quick, "partner_indptr": p_indptr, "partner_indices": p_indices}


class PodDetector(BaseDetector):
    """Members of engagement pods: closed groups that trade quick engagement.

    See the module docstring for the method.

    Parameters
    ----------
    kinds : sequence of str
        Interaction kinds that count as engagement (default like, repost, reply, quote).
    min_pair, min_partners, full_partners, closed_full, inside_full, window_s, quick_min,
    quick_full : optional
        Defaults from config (``pod_*``).
    threshold : float, optional
        Default config ``pod_threshold``.

    Attributes
    ----------
    decision_scores_ : float array
        Per vertex, in [0, 1].
    partners_, closed_, inside_, quick_ : arrays
        The evidence per vertex (``quick_`` is NaN where unknown).
    pods_ : list of dict
        Connected groups of flagged accounts in the partner graph: ``members`` (vertex
        ids), ``size``, ``density`` (share of member pairs that are partners).

    Raises UsageError when the graph has none of the engagement ``kinds`` (the ensemble
    then skips the detector).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> det = PodDetector().fit(toy_graph())
    >>> det.labels_.tolist(), det.pods_
    ([0, 0, 0, 0, 0, 0], [])
    >>> from trueclout.graph.build import from_edges
    >>> PodDetector().fit(from_edges([0], [1]))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: the graph has no engagement interactions (like, repost,
    reply, quote): pods cannot be detected
    """

    def __init__(self, *, kinds: Sequence[str] = ENGAGEMENT_KINDS, min_pair: int | None = None,
                 min_partners: float | None = None, full_partners: float | None = None,
                 closed_full: float | None = None, inside_full: float | None = None,
                 window_s: int | None = None, quick_min: int | None = None,
                 quick_full: float | None = None, threshold: float | None = None) -> None:
        self.kinds = kinds
        self.min_pair = min_pair
        self.min_partners = min_partners
        self.full_partners = full_partners
        self.closed_full = closed_full
        self.inside_full = inside_full
        self.window_s = window_s
        self.quick_min = quick_min
        self.quick_full = quick_full
        self.threshold = threshold

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        return float(config.get("pod_threshold"))

    def _fit(self, data: Any, **kwargs: Any) -> None:
        g = _data(data).graph
        if not any(k in g.interactions for k in self.kinds):
            from ..errors import UsageError
            raise UsageError("the graph has no engagement interactions "
                             f"({', '.join(self.kinds)}): pods cannot be detected")
        r = pod_scores(g, kinds=tuple(self.kinds), min_pair=self.min_pair,
                       min_partners=self.min_partners, full_partners=self.full_partners,
                       closed_full=self.closed_full, inside_full=self.inside_full,
                       window_s=self.window_s, quick_min=self.quick_min,
                       quick_full=self.quick_full)
        self.decision_scores_ = r["scores"]
        self.partners_ = r["partners"]
        self.closed_ = r["closed"]
        self.inside_ = r["inside"]
        self.quick_ = r["quick"]
        self._window = int(_opt(self.window_s, "pod_window_s"))
        thr = float(self.default_threshold if self.threshold is None else self.threshold)
        self.pods_ = _groups(r["partner_indptr"], r["partner_indices"], r["scores"] >= thr)

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        out = []
        for v in indices:
            k = int(self.partners_[v])
            text = (f"trades engagement with a closed group of {k:,} accounts (mutual "
                    f"follows; {self.closed_[v]:.0%} of their pairs trade too): "
                    f"{self.inside_[v]:.0%} of the likes, reposts and replies it gives "
                    f"and gets")
            q = self.quick_[v]
            if not np.isnan(q):
                text += (f", {q:.0%} of them within {_minutes(self._window)} of the "
                         f"group's others")
            out.append(text)
        return out


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"


def _groups(indptr: np.ndarray, indices: np.ndarray, flagged: np.ndarray) -> list[dict]:
    """Connected groups of flagged vertices in the partner graph."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    idx = np.flatnonzero(flagged)
    if idx.size == 0:
        return []
    n = indptr.shape[0] - 1
    a = csr_matrix((np.ones(indices.shape[0], np.int8), indices, indptr), shape=(n, n))
    sub = a[idx][:, idx]
    k, lab = connected_components(sub, directed=False)
    out = []
    for c in range(k):
        mem = idx[lab == c]
        s = mem.shape[0]
        edges = int(sub[lab == c][:, lab == c].nnz) // 2
        out.append({"members": mem, "size": int(s),
                    "density": float(edges / (s * (s - 1) / 2)) if s > 1 else 0.0})
    out.sort(key=lambda p: -p["size"])
    return out


__all__ = ["PodDetector", "pod_scores", "ENGAGEMENT_KINDS"]
