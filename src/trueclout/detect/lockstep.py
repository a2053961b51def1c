"""Lockstep follows: dense blocks of accounts that follow the same targets (bought followers).

Sellers of followers own pools of fake accounts, and every purchase makes many of them
follow the same customer; every fake serves many customers. In the follower x followee
matrix this is a dense block: many rows (fakes) on few columns (customers). The detector:

1. **Edges.** Only one-way follows take part: a customer does not follow its fakes back,
   while the follows inside a real community are largely mutual. Accounts whose own
   follows are returned more often than ``max_row_reciprocity`` take no part as
   followers (they belong to a community; bought fakes are not followed back). With
   follow times (``use_time``), only follows that arrived in a *burst* of the followed
   account's follows take part, as in CopyCatch (Beutel et al., WWW 2013: accounts that
   follow the same targets within the same time window); see
   :func:`trueclout.kernels.peel.synchronized_edges`.
2. **Blocks.** Fraudar's greedy peeling (Hooi et al., KDD 2016) with its camouflage-
   resistant column weights ``1 / log(followers + 5)`` extracts up to ``blocks`` dense
   blocks in sequence (:func:`trueclout.kernels.peel.dense_blocks`), stopping below
   ``min_ratio`` times the average density of the one-way follows.
3. **Split.** The weighted greedy can merge a lockstep block with a real community of
   similar weighted density; an unweighted peel inside each block separates them
   (:func:`trueclout.kernels.peel.split_block`). Blocks whose follows their degrees
   explain (under ``lockstep_split_min_lift`` times the degree-preserving expectation)
   are skipped.
4. **Test.** A part's *strength* in [0, 1] is the product of three pieces of evidence,
   and 0 unless the part is itself ``min_ratio`` times denser than average:

   * *density*: its follows over the number a degree-preserving random graph predicts
     (sum of the followers' out-degrees times sum of the targets' in-degrees over all
     follows), rising linearly from 1x to ``full_lift``;
   * *one-way*: real communities are dense too (SNAP ego-Twitter is made of ego
     networks), but there most members are followed by the community (84-97% of the
     followers of SNAP's dense blocks), while bought followers are followed by none of
     their customers; the evidence falls linearly from 1 at no follow-back to 0 at
     ``max_back_share``;
   * *unrelated targets*: a seller's customers have nothing in common, while the targets
     of a real fan group are a community that follows itself; the evidence falls
     linearly from 1 to 0 as the share of ordered pairs of targets that follow one
     another rises to ``lockstep_max_target_cohesion``.
5. **Scores.** Every account that follows at least ``min_hits`` of a part's targets (live
   edges) and is followed by none of them scores ``strength x fit``. Fit compares its
   follows into the targets, each weighted by how much of that target's audience the part
   makes up (customers' audiences are mostly the block, popular camouflage targets'
   are not), with the part's median (full at ``hits_full`` of it), times the share of its
   own following that goes to the targets (full at ``share_full``). The targets are the
   *customers*: ``customer_scores_`` is ``strength`` times their share of the members'
   follows relative to the median target, times the share of their followers that are
   members (full at ``lockstep_customer_share_full``).

Examples
--------
>>> import numpy as np
>>> from trueclout.graph.build import from_edges
>>> from trueclout.graph.toy import random_graph
>>> from trueclout.kernels.csr import csr_edges
>>> g0 = random_graph(5000, 20000, seed=0)
>>> src, dst = csr_edges(g0.out_indptr, g0.out_indices)
>>> # 200 new accounts, each following 10 of the same 20 customers
>>> rng = np.random.default_rng(0)
>>> fakes, customers = np.arange(5000, 5200), np.arange(0, 5000, 250)
>>> fd = np.concatenate([rng.choice(customers, 10, replace=False) for _ in fakes])
>>> g = from_edges(np.r_[src, np.repeat(fakes, 10)], np.r_[dst, fd], n=5200)
>>> det = LockstepDetector().fit(g)
>>> bool(det.labels_[fakes].all()), int(det.labels_.sum())
(True, 200)
>>> sorted(det.customers_.tolist()) == sorted(customers.tolist())
True
>>> print(det.reasons_[fakes[0]])
follows 10 of the same 20 accounts as 199 other accounts (dense block: 11x the follows their
numbers of followers and followings predict, density 2.1x the graph average; none of those
accounts follows them back)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import config
from ..graph.follow_graph import FollowGraph
from ..kernels import peel as P
from ..kernels.csr import TS_UNKNOWN
from .base import BaseDetector
from .data import DetectionData


def _data(data: Any) -> DetectionData:
    return DetectionData.coerce(data)


def _opt(given: Any, name: str) -> Any:
    return config.value(name, given)


def lockstep_scores(graph: FollowGraph, *, use_time: bool = False, blocks: int | None = None,
                    min_ratio: float | None = None, full_lift: float | None = None,
                    max_back_share: float | None = None, min_rows: int | None = None,
                    min_cols: int | None = None, min_hits: int | None = None,
                    hits_full: float | None = None, share_full: float | None = None,
                    window_s: int | None = None, min_count: int | None = None,
                    rate_factor: float | None = None, min_span_days: float | None = None,
                    max_row_reciprocity: float | None = None) -> dict[str, Any]:
    """Score every account of ``graph`` for lockstep following (the pure function behind
    :class:`LockstepDetector`). Parameters left as None come from config
    (``lockstep_*``, ``copycatch_*``).

    Returns
    -------
    dict
        ``scores`` (float per vertex), ``customer_scores``, ``hits`` (follows into the
        block the score came from), ``block_of`` (index into ``blocks``, -1 if none),
        ``customer_block_of``, ``customer_hits`` (follows a customer received from the
        block's members), ``blocks`` (list of dicts), ``background`` (weighted density of
        the one-way follows examined).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> r = lockstep_scores(toy_graph())
    >>> r["scores"].tolist(), r["blocks"]
    ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [])
    """
    k = int(_opt(blocks, "lockstep_blocks"))
    min_ratio = float(_opt(min_ratio, "lockstep_min_ratio"))
    full_lift = float(_opt(full_lift, "lockstep_full_lift"))
    max_back = float(_opt(max_back_share, "lockstep_max_back_share"))
    min_rows = int(_opt(min_rows, "lockstep_min_rows"))
    min_cols = int(_opt(min_cols, "lockstep_min_cols"))
    min_hits = int(_opt(min_hits, "lockstep_min_hits"))
    hits_full = float(_opt(hits_full, "lockstep_hits_full"))
    share_full = float(_opt(share_full, "lockstep_share_full"))
    conc_full = float(config.get("lockstep_customer_share_full"))
    split_min_lift = float(config.get("lockstep_split_min_lift"))
    max_cohesion = float(config.get("lockstep_max_target_cohesion"))
    g = graph
    n = g.n
    op, oi, ip, ii = g.out_indptr, g.out_indices, g.in_indptr, g.in_indices
    out_live, in_live = P.one_way_edges(op, oi, ip, ii)
    out_deg = g.out_degree()
    # accounts whose follows are largely returned are community members, not fakes
    max_recip = float(_opt(max_row_reciprocity, "lockstep_max_row_reciprocity"))
    returned = out_deg - P.live_degree(op, out_live)
    P.drop_rows(op, oi, out_live, ip, ii, in_live, returned > max_recip * out_deg)
    in_deg = g.in_degree()
    weights = P.log_weights(in_deg)
    # the reference density: one-way follows of accounts outside communities (the time
    # filter below keeps a sliver of edges whose own average would be no reference)
    background = P.average_density(op, oi, ip, weights, out_live=out_live, in_live=in_live)
    window = 0
    if use_time and g.in_ts is not None:
        window = int(_opt(window_s, "copycatch_window_s"))
        span = int(float(_opt(min_span_days, "copycatch_min_span_days")) * 86400)
        sync_in = P.synchronized_edges(ip, g.in_ts, window,
                                       int(_opt(min_count, "copycatch_min_count")),
                                       rate_factor=float(_opt(rate_factor,
                                                              "copycatch_rate_factor")),
                                       min_span=span)
        in_live &= sync_in
        out_live &= P.in_mask_to_out(op, oi, ip, ii, sync_in)
        del sync_in
    res = P.dense_blocks(op, oi, ip, ii, weights, k=k, min_ratio=min_ratio,
                         out_live=out_live, in_live=in_live, background=background)
    bg = background if background > 0 else 1.0
    scores = np.zeros(n, np.float64)
    hits_of = np.zeros(n, np.int64)
    block_of = np.full(n, -1, np.int64)
    cscores = np.zeros(n, np.float64)
    cblock_of = np.full(n, -1, np.int64)
    chits_of = np.zeros(n, np.int64)
    found: list[dict[str, Any]] = []
    for b in res.blocks:
        blift = b.edges * g.m / max(float(out_deg[b.rows].sum()) * float(in_deg[b.cols].sum()),
                                    1.0)
        if blift < split_min_lift:  # follows their degrees explain: nothing to split
            continue
        parts = P.split_block(op, oi, ip, ii, b.rows, b.cols, out_live=out_live,
                              in_live=in_live, min_rows=min_rows)
        for rows, cols, avg_deg in parts:
            if rows.shape[0] < min_rows or cols.shape[0] < min_cols:
                continue
            # follows into the part's targets (live edges), and follows back from them
            hits = P.count_hits(ip, ii, cols, in_live)
            back = P.count_hits(op, oi, cols)
            row_hits = hits[rows]
            wdens = _weighted_density(op, oi, rows, cols, weights, out_live)
            ratio = wdens / bg
            back_share = float(np.mean(back[rows] > 0))
            # per target: the share of its followers that are the part's followers; the
            # customers' audience is mostly the block, a popular target's is not
            from_rows = P.count_hits(op, oi, rows, out_live)[cols]
            conc = from_rows / np.maximum(in_deg[cols], 1)
            # targets of bought follows are unrelated customers; a real fan group's
            # targets are a community that follows itself
            nc = cols.shape[0]
            cohesion = _follows_among(ip, ii, cols) / max(nc * (nc - 1), 1)
            expected = float(out_deg[rows].sum()) * float(in_deg[cols].sum()) / max(g.m, 1)
            lift = float(row_hits.sum()) / max(expected, 1e-9)
            ev_density = float(np.clip((lift - 1.0) / max(full_lift - 1.0, 1e-9), 0, 1))
            ev_oneway = float(np.clip(1.0 - back_share / max(max_back, 1e-9), 0, 1))
            ev_unrelated = float(np.clip(1.0 - cohesion / max(max_cohesion, 1e-9), 0, 1))
            # a part of a block may itself be sparse: it must still be denser than average
            strength = ev_density * ev_oneway * ev_unrelated if ratio >= min_ratio else 0.0
            info = {"followers": rows, "targets": cols, "density": wdens, "ratio": ratio,
                    "cohesion": cohesion,
                    "avg_degree": float(avg_deg), "edges": int(row_hits.sum()),
                    "fill": float(row_hits.sum() / (rows.shape[0] * cols.shape[0])),
                    "back_share": back_share, "lift": lift,
                    "target_share": float(from_rows.sum() / max(in_deg[cols].sum(), 1)),
                    "strength": strength, "median_hits": float(np.median(row_hits)),
                    "timed": bool(window), "window_s": window, "members": 0}
            idx = len(found)
            found.append(info)
            if strength <= 0:
                continue
            # every account that follows enough of the targets and is not followed by
            # them; follows count by how much the target's audience is the block
            cand = np.flatnonzero((hits >= min_hits) & (back == 0))
            whits = P.count_hits(ip, ii, cols, in_live, weights=conc)
            medw = float(np.median(whits[rows]))
            h = hits[cand].astype(np.float64)
            fit = np.minimum(1.0, whits[cand] / max(hits_full * medw, 1e-9))
            fit *= np.minimum(1.0, h / np.maximum(out_deg[cand], 1) / share_full)
            s = strength * fit
            better = s > scores[cand]
            upd = cand[better]
            scores[upd] = s[better]
            hits_of[upd] = hits[upd]
            block_of[upd] = idx
            members = cand[s >= 0.5 * strength]
            info["members"] = int(members.size)
            # customers: targets whose audience the members make up, relative to the
            # part's typical target
            col_hits = P.count_hits(op, oi, members, out_live)[cols]
            cconc = col_hits / np.maximum(in_deg[cols], 1)
            cmed = float(np.median(col_hits))
            cs = strength * np.minimum(1.0, col_hits / max(hits_full * cmed, 1.0)) \
                * np.minimum(1.0, cconc / conc_full)
            cs[col_hits < min_hits] = 0.0
            cbetter = cs > cscores[cols]
            cscores[cols[cbetter]] = cs[cbetter]
            cblock_of[cols[cbetter]] = idx
            chits_of[cols[cbetter]] = col_hits[cbetter]
    return {"scores": scores, "customer_scores": cscores, "hits": hits_of,
            "block_of": block_of, "customer_block_of": cblock_of,
            "customer_hits": chits_of, "blocks": found,
            "background": float(res.background)}


def _follows_among(ip, ii, cols) -> float:
    """Follows among the accounts ``cols``."""
    return float(P.count_hits(ip, ii, cols)[cols].sum())


def _weighted_density(op, oi, rows, cols, weights, out_live) -> float:
    """Fraudar density of the block rows x cols over the live edges."""
    col_in = np.zeros(op.shape[0] - 1, bool)
    col_in[cols] = True
    total = 0.0
    # vectorised over the rows' edges
    starts, ends = op[rows], op[rows + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return 0.0
    idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
    c = oi[idx]
    ok = col_in[c] & (out_live[idx] > 0)
    total = float(weights[c[ok]].sum())
    return total / (rows.shape[0] + cols.shape[0])


class LockstepDetector(BaseDetector):
    """Accounts that follow the same targets as many others: bought followers.

    Fraudar's greedy over the follower x followee matrix (one-way follows, camouflage-
    resistant weights), with CopyCatch's time windows when follow times are known; see
    the module docstring for the method.

    Parameters
    ----------
    use_time : bool or "auto"
        Keep only follows that arrived in bursts (CopyCatch). "auto" uses times when at
        least ``copycatch_min_known_ts`` of the follows have one.
    blocks, min_ratio, full_lift, max_back_share, min_rows, min_cols, min_hits,
    hits_full, share_full : optional
        Defaults from config (``lockstep_*``).
    window_s, min_count, rate_factor, min_span_days : optional
        The time variant's settings; defaults from config (``copycatch_*``).
    max_row_reciprocity : float, optional
        Accounts whose follows are returned more often than this take no part as
        followers; default config ``lockstep_max_row_reciprocity``.
    threshold : float, optional
        Default config ``lockstep_threshold``.

    Attributes
    ----------
    decision_scores_ : float array
        Per vertex, in [0, 1]: strength of its block times its fit to the block.
    blocks_ : list of dict
        Each part found: ``followers``, ``targets`` (vertex ids), ``density`` (Fraudar
        weighted density), ``ratio`` (over the graph average), ``back_share``, ``fill``,
        ``strength``, ``members``, ``timed``.
    customer_scores_ : float array
        Per vertex, how strongly it received block follows (bought followers).
    customers_ : int array
        Vertices whose customer score reaches the threshold.
    customer_hits_ : int array
        Per vertex, the follows it received from the members of its block.
    hits_, block_of_ : int arrays
        Per vertex, its follows into the targets of the block its score came from, and
        that block's index in ``blocks_`` (-1 if none).
    use_time_ : bool
        Whether the time variant ran.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> det = LockstepDetector().fit(toy_graph())
    >>> det.labels_.tolist(), det.customers_.tolist(), det.use_time_
    ([0, 0, 0, 0, 0, 0], [], True)
    """

    def __init__(self, *, use_time: bool | str = "auto", blocks: int | None = None,
                 min_ratio: float | None = None, full_lift: float | None = None,
                 max_back_share: float | None = None, min_rows: int | None = None,
                 min_cols: int | None = None, min_hits: int | None = None,
                 hits_full: float | None = None, share_full: float | None = None,
                 window_s: int | None = None, min_count: int | None = None,
                 rate_factor: float | None = None, min_span_days: float | None = None,
                 max_row_reciprocity: float | None = None,
                 threshold: float | None = None) -> None:
        self.use_time = use_time
        self.blocks = blocks
        self.min_ratio = min_ratio
        self.full_lift = full_lift
        self.max_back_share = max_back_share
        self.min_rows = min_rows
        self.min_cols = min_cols
        self.min_hits = min_hits
        self.hits_full = hits_full
        self.share_full = share_full
        self.window_s = window_s
        self.min_count = min_count
        self.rate_factor = rate_factor
        self.min_span_days = min_span_days
        self.max_row_reciprocity = max_row_reciprocity
        self.threshold = threshold

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        return float(config.get("lockstep_threshold"))

    def _use_time(self, g: FollowGraph) -> bool:
        if self.use_time == "auto":
            if g.in_ts is None or g.m == 0:
                return False
            known = float(np.mean(g.in_ts != TS_UNKNOWN))
            return known >= float(config.get("copycatch_min_known_ts"))
        if self.use_time not in (True, False):
            from ..errors import UsageError
            raise UsageError(f"use_time must be True, False or 'auto', got {self.use_time!r}")
        return bool(self.use_time) and g.in_ts is not None

    def _fit(self, data: Any, **kwargs: Any) -> None:
        d = _data(data)
        g = d.graph
        self.use_time_ = self._use_time(g)
        r = lockstep_scores(
            g, use_time=self.use_time_, blocks=self.blocks, min_ratio=self.min_ratio,
            full_lift=self.full_lift, max_back_share=self.max_back_share,
            min_rows=self.min_rows, min_cols=self.min_cols, min_hits=self.min_hits,
            hits_full=self.hits_full, share_full=self.share_full, window_s=self.window_s,
            min_count=self.min_count, rate_factor=self.rate_factor,
            min_span_days=self.min_span_days, max_row_reciprocity=self.max_row_reciprocity)
        self.decision_scores_ = r["scores"]
        self.customer_scores_ = r["customer_scores"]
        self.hits_ = r["hits"]
        self.block_of_ = r["block_of"]
        self.customer_block_of_ = r["customer_block_of"]
        self.customer_hits_ = r["customer_hits"]
        self._followers = g.in_degree()
        self.blocks_ = r["blocks"]
        self.background_ = r["background"]
        thr = float(self.default_threshold if self.threshold is None else self.threshold)
        self.customers_ = np.flatnonzero(self.customer_scores_ >= thr)

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        out = []
        for v in indices:
            b = self.blocks_[int(self.block_of_[v])]
            others = b["members"] - 1 if b["members"] else b["followers"].shape[0] - 1
            when = (f" within the same {_window(b['window_s'])} bursts"
                    if b["timed"] else "")
            out.append(f"follows {int(self.hits_[v])} of the same {b['targets'].shape[0]:,} "
                       f"accounts as {others:,} other accounts{when} (dense block: "
                       f"{b['lift']:.0f}x the follows their numbers of followers and "
                       f"followings predict, density {b['ratio']:.1f}x the graph average; "
                       f"none of those accounts follows them back)")
        return out

    def customer_reasons(self, indices: np.ndarray | None = None) -> list[str]:
        """Plain-words reasons for accounts that received block follows (default: every
        vertex in ``customers_``).

        Examples
        --------
        >>> from trueclout.graph.toy import toy_graph
        >>> LockstepDetector().fit(toy_graph()).customer_reasons()
        []
        """
        idx = self.customers_ if indices is None else np.asarray(indices)
        out = []
        for v in idx:
            bi = int(self.customer_block_of_[v])
            if bi < 0:
                out.append("")
                continue
            b = self.blocks_[bi]
            out.append(f"{int(self.customer_hits_[v]):,} of its {int(self._followers[v]):,} "
                       f"followers are accounts that follow the same "
                       f"{b['targets'].shape[0]:,} accounts in lockstep ({b['lift']:.0f}x the "
                       f"follows their degrees predict): likely bought followers")
        return out


class CopyCatchDetector(LockstepDetector):
    """The time-window variant: :class:`LockstepDetector` with ``use_time=True``.

    Only follows that arrived in a burst of the followed account's follows take part
    (CopyCatch, Beutel et al. WWW 2013: the same targets within the same time window).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> CopyCatchDetector().fit(toy_graph()).use_time_
    True
    """

    def __init__(self, *, window_s: int | None = None, min_count: int | None = None,
                 rate_factor: float | None = None, min_span_days: float | None = None,
                 blocks: int | None = None, min_ratio: float | None = None,
                 max_back_share: float | None = None, min_rows: int | None = None,
                 min_hits: int | None = None, threshold: float | None = None) -> None:
        super().__init__(use_time=True, blocks=blocks, min_ratio=min_ratio,
                         max_back_share=max_back_share, min_rows=min_rows,
                         min_hits=min_hits, window_s=window_s, min_count=min_count,
                         rate_factor=rate_factor, min_span_days=min_span_days,
                         threshold=threshold)

    def get_params(self) -> dict[str, Any]:
        keys = ("window_s", "min_count", "rate_factor", "min_span_days", "blocks",
                "min_ratio", "max_back_share", "min_rows", "min_hits", "threshold")
        return {k: getattr(self, k) for k in keys}


def _window(seconds: int) -> str:
    if seconds % 86400 == 0:
        d = seconds // 86400 * 2
        return f"{d}-day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600 * 2}-hour"
    return f"{seconds * 2}-second"


__all__ = ["LockstepDetector", "CopyCatchDetector", "lockstep_scores"]
