"""Follow-back farms: accounts that mass-follow to be followed back (link farming).

Ghosh et al. (WWW 2012, "Understanding and combating link farming in the Twitter social
network") found that link farmers follow many accounts hoping to be followed back, and
that the accounts which do follow back are mostly "social capitalists": real users who
follow back anyone who follows them. Farms then unfollow those who did not follow back,
so that their following count stays below the platform's limits. The evidence this
detector weighs, each as a smooth curve with its constants in :mod:`trueclout.config`:

``churn``
    Follows undone quickly (within ``farm_churn_days``) whose target had not followed
    back, from ``DetectionData.removed``. Strong evidence: ordinary users rarely unfollow
    in bulk days after following. ``churn = σ((ln(1+q) − ln(1+q₀))/w) · σ((q/f − s₀)/w_s)``
    with ``q`` such unfollows, ``f`` all follows the account made (kept and removed).
``ratio``
    The following/followers ratio penalty, a logistic curve in the log-ratio::

        ratio = σ((ln((following + k) / (followers + k)) − ln r₀) / w)

    with ``r₀ = farm_ratio_mid`` (half penalty), ``w = farm_ratio_width`` and the
    pseudo-count ``k = farm_ratio_pseudo``. It is smooth everywhere: unlike Twitter's
    Tweepcred, there is no cliff at 500 or 2,500 follows. Profile counts are used when the
    store has them, graph degrees otherwise.
``burst``
    Follows (kept and removed) made within any ``farm_burst_days`` window, where follow
    times are known: ``σ((ln(1+b) − ln(1+b₀))/w)``.
``capitalists``
    The share of the accounts it follows that are social capitalists (accounts with
    enough followers that follow back nearly all of them), ``σ((L − L₀)/w)``.
``followback``
    The share of its followers the account follows back, shrunk towards 0 for accounts
    with few followers: ``σ((rec/(in + k) − f₀)/w)``.
``volume``
    A smooth gate on the number of accounts followed: ``σ((ln following − ln v₀)/w)``.

The score combines them as "churn, or (follows back its followers *and* follows many
*and* (follows far more than follow it, *or* in a burst, *or* social capitalists))"::

    structure = followback · volume · (1 − (1 − ratio)(1 − burst)(1 − capitalists))
    score     = 1 − (1 − churn)(1 − structure)

Without unfollow data (real SNAP data, most crawls) ``churn`` is 0 and the score rests on
structure alone; its curves are set so that an ordinary reciprocal human, who follows
back friends and follows two or three times as many accounts as follow it, stays well
below the threshold (measured in ``detect/README.md``).

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> det = FarmDetector().fit(DetectionData.from_graph(toy_graph()))
>>> det.labels_.tolist()
[0, 0, 0, 0, 0, 0]
>>> float(ratio_penalty(1000, 100).round(3)), float(ratio_penalty(100, 100).round(3))
(0.613, 0.001)
"""

from __future__ import annotations

from typing import Any, Sequence

import numba
import numpy as np
from numba import prange

from .. import config
from ..errors import UsageError
from ..kernels.csr import TS_UNKNOWN
from ..kernels.csr import row_contains as _has
from ..kernels.propagate import pull
from ..kernels.reciprocity import reciprocated_out_edges
from .base import BaseDetector
from .data import DetectionData

DAY = 86_400

#: Constructor parameter -> config setting.
_SETTINGS = {
    "ratio_mid": "farm_ratio_mid", "ratio_width": "farm_ratio_width",
    "ratio_pseudo": "farm_ratio_pseudo", "volume_mid": "farm_volume_mid",
    "volume_width": "farm_volume_width", "followback_mid": "farm_followback_mid",
    "followback_width": "farm_followback_width", "followback_pseudo": "farm_followback_pseudo",
    "churn_days": "farm_churn_days", "churn_mid": "farm_churn_mid",
    "churn_width": "farm_churn_width", "churn_share_mid": "farm_churn_share_mid",
    "churn_share_width": "farm_churn_share_width", "burst_days": "farm_burst_days",
    "burst_mid": "farm_burst_mid", "burst_width": "farm_burst_width",
    "capitalist_min_followers": "farm_capitalist_min_followers",
    "capitalist_mid": "farm_capitalist_mid", "capitalist_width": "farm_capitalist_width",
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def ratio_penalty(following, followers, *, mid: float | None = None,
                  width: float | None = None, pseudo: float | None = None) -> np.ndarray:
    """The smooth following/followers penalty, in [0, 1].

    ``σ((ln((following + k) / (followers + k)) − ln mid) / width)``; defaults from config
    (``farm_ratio_mid``, ``farm_ratio_width``, ``farm_ratio_pseudo``). It depends on the
    ratio only through its logarithm and has no step anywhere.

    Examples
    --------
    >>> ratio_penalty([100, 499, 501, 2499, 2501], 100).round(3).tolist()
    [0.001, 0.139, 0.14, 0.97, 0.971]
    >>> float(ratio_penalty(300, 90, mid=3.0).round(2))
    0.53
    """
    mid = config.get("farm_ratio_mid") if mid is None else mid
    width = config.get("farm_ratio_width") if width is None else width
    k = config.get("farm_ratio_pseudo") if pseudo is None else pseudo
    fo = np.asarray(following, dtype=np.float64)
    fr = np.asarray(followers, dtype=np.float64)
    return _sigmoid((np.log((fo + k) / (fr + k)) - np.log(mid)) / width)


# -- kernels ---------------------------------------------------------------------------
@numba.njit(cache=True, parallel=True)
def _followed_back(src, dst, in_indptr, in_indices, out):  # pragma: no cover - compiled
    # out[i] = dst[i] follows src[i] now
    for i in prange(src.shape[0]):
        s = src[i]
        out[i] = _has(in_indices, in_indptr[s], in_indptr[s + 1], dst[i])


@numba.njit(cache=True, parallel=True)
def _max_window(out_indptr, out_ts, rm_indptr, rm_ts, window, best):  # pragma: no cover
    # per vertex: the most follow times (kept and removed) within any `window` seconds
    n = out_indptr.shape[0] - 1
    for v in prange(n):
        a0, a1 = out_indptr[v], out_indptr[v + 1]
        b0, b1 = rm_indptr[v], rm_indptr[v + 1]
        m = 0
        for k in range(a0, a1):
            if out_ts[k] != TS_UNKNOWN:
                m += 1
        m += b1 - b0
        if m < 2:
            best[v] = m
            continue
        t = np.empty(m, np.int64)
        j = 0
        for k in range(a0, a1):
            if out_ts[k] != TS_UNKNOWN:
                t[j] = out_ts[k]
                j += 1
        for k in range(b0, b1):
            t[j] = rm_ts[k]
            j += 1
        t.sort()
        lo = 0
        b = 1
        for hi in range(m):
            while t[hi] - t[lo] > window:
                lo += 1
            if hi - lo + 1 > b:
                b = hi - lo + 1
        best[v] = b


def _group(src: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Order of rows grouped by ``src`` and the CSR pointer over it."""
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return order, indptr


# -- the pure function -------------------------------------------------------------------
def farm_evidence(data: DetectionData, **params: Any) -> dict[str, np.ndarray]:
    """Per-vertex farm evidence and the combined score.

    Parameters
    ----------
    data : DetectionData
    **params
        Overrides of the ``farm_*`` settings, by the names of :class:`FarmDetector`.

    Returns
    -------
    dict of arrays
        ``score`` and its parts ``churn``, ``ratio``, ``burst``, ``capitalists``,
        ``followback``, ``volume``, ``structure``, and the raw figures ``following``,
        ``followers``, ``reciprocated``, ``in_degree``, ``follows_made``, ``unfollows``,
        ``quick_unfollows`` (quick unfollows of accounts that had not followed back),
        ``burst_follows``, ``capitalist_share``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> ev = farm_evidence(DetectionData.from_graph(toy_graph()))
    >>> ev["reciprocated"].tolist(), float(ev["churn"].max())
    ([2, 1, 1, 0, 1, 1], 0.0)
    """
    p = {k: (config.get(s) if params.get(k) is None else params[k])
         for k, s in _SETTINGS.items()}
    g = data.graph
    n = g.n
    outd = g.out_degree().astype(np.float64)
    ind = g.in_degree().astype(np.float64)
    rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)

    # counts: the profile's where known (the whole platform), else the graph's
    fo_p = data.column("following_count")
    fr_p = data.column("followers_count")
    have = np.isfinite(fo_p) & np.isfinite(fr_p)
    following = np.where(have, fo_p, outd)
    followers = np.where(have, fr_p, ind)

    ratio = ratio_penalty(following, followers, mid=p["ratio_mid"], width=p["ratio_width"],
                          pseudo=p["ratio_pseudo"])
    volume = _sigmoid((np.log(np.maximum(following, 1.0)) - np.log(p["volume_mid"]))
                      / p["volume_width"])
    fb_rate = rec / (ind + p["followback_pseudo"])
    followback = _sigmoid((fb_rate - p["followback_mid"]) / p["followback_width"])

    # churn: quick unfollows of accounts that had not followed back
    unfollows = np.zeros(n, np.int64)
    quick = np.zeros(n, np.int64)
    rm_indptr = np.zeros(n + 1, np.int64)
    rm_ts = np.zeros(0, np.int64)
    rem = data.removed
    if rem is not None and rem.num_rows:
        src = np.ascontiguousarray(rem.column("src").to_numpy(), dtype=np.int32)
        dst = np.ascontiguousarray(rem.column("dst").to_numpy(), dtype=np.int32)
        created = rem.column("created").to_numpy(zero_copy_only=False)
        removed = rem.column("removed").to_numpy(zero_copy_only=False)
        created = np.asarray(created, dtype=np.float64)
        removed = np.asarray(removed, dtype=np.float64)
        back = np.zeros(src.shape[0], np.bool_)
        _followed_back(src, dst, g.in_indptr, g.in_indices, back)
        delay = removed - created
        is_quick = (np.isfinite(delay) & (delay >= 0) & (delay <= p["churn_days"] * DAY)
                    & ~back)
        unfollows = np.bincount(src, minlength=n).astype(np.int64)
        quick = np.bincount(src[is_quick], minlength=n).astype(np.int64)
        known = np.isfinite(created)
        order, rm_indptr = _group(src[known], n)
        rm_ts = created[known][order].astype(np.int64)
    made = outd + unfollows
    q_share = quick / np.maximum(made, 1.0)
    churn = (_sigmoid((np.log1p(quick) - np.log1p(p["churn_mid"])) / p["churn_width"])
             * _sigmoid((q_share - p["churn_share_mid"]) / p["churn_share_width"]))
    churn[quick == 0] = 0.0

    # burst of follows
    burst_n = np.zeros(n, np.int64)
    if g.out_ts is not None or rm_ts.shape[0]:
        ots = g.out_ts if g.out_ts is not None else np.full(g.m, TS_UNKNOWN, np.int32)
        _max_window(g.out_indptr, ots, rm_indptr, rm_ts, np.int64(p["burst_days"] * DAY),
                    burst_n)
    burst = _sigmoid((np.log1p(burst_n) - np.log1p(p["burst_mid"])) / p["burst_width"])
    burst[burst_n == 0] = 0.0

    # links to social capitalists: followers enough, and follows back nearly all of them
    capitalist = (followback * (ind >= p["capitalist_min_followers"])).astype(np.float32)
    cap_sum = pull(g.out_indptr, g.out_indices, capitalist).astype(np.float64)
    cap_share = cap_sum / np.maximum(outd, 1.0)
    capitalists = _sigmoid((cap_share - p["capitalist_mid"]) / p["capitalist_width"])
    capitalists[outd == 0] = 0.0

    structure = followback * volume * (1.0 - (1.0 - ratio) * (1.0 - burst)
                                       * (1.0 - capitalists))
    score = 1.0 - (1.0 - churn) * (1.0 - structure)
    return {"score": np.clip(score, 0.0, 1.0), "churn": churn, "ratio": ratio,
            "burst": burst, "capitalists": capitalists, "followback": followback,
            "volume": volume, "structure": structure, "following": following,
            "followers": followers, "reciprocated": rec, "in_degree": ind.astype(np.int64),
            "follows_made": made.astype(np.int64), "unfollows": unfollows,
            "quick_unfollows": quick, "burst_follows": burst_n,
            "capitalist_share": cap_share}


def _days(seconds: float) -> str:
    d = max(1, int(round(seconds / DAY)))
    return f"{d} day" if d == 1 else f"{d} days"


class FarmDetector(BaseDetector):
    """Follow-back farm detector (Ghosh et al., WWW 2012); see the module docstring.

    Parameters
    ----------
    threshold : float, optional
        Score at or above which an account is flagged; default ``farm_threshold``.
    ratio_mid, ratio_width, ratio_pseudo, volume_mid, volume_width, followback_mid, \
followback_width, followback_pseudo, churn_days, churn_mid, churn_width, \
churn_share_mid, churn_share_width, burst_days, burst_mid, burst_width, \
capitalist_min_followers, capitalist_mid, capitalist_width : float, optional
        Overrides of the ``farm_*`` settings of the same names.

    Attributes
    ----------
    decision_scores_ : float array
        Farm score per vertex in [0, 1].
    evidence_ : dict of arrays
        The parts of the score and the raw figures (:func:`farm_evidence`).
    labels_, reasons_, threshold_
        From :class:`~trueclout.detect.base.BaseDetector`.

    Examples
    --------
    >>> import numpy as np
    >>> from trueclout.graph.build import from_edges
    >>> from trueclout.detect.data import DetectionData
    >>> import pyarrow as pa
    >>> # vertex 0 followed 1..300 on day 0-2, 60 followed back, it unfollowed 200 others
    >>> t0, day = 1_700_000_000, 86_400
    >>> kept = list(range(1, 61)) + list(range(261, 301))
    >>> src = [0] * 100 + list(range(1, 61))
    >>> dst = kept + [0] * 60
    >>> ts = [t0 + 3600 * i % (2 * day) for i in range(100)] + [t0 + day] * 60
    >>> rem = pa.table({"src": pa.array([0] * 200, pa.int32()),
    ...                 "dst": pa.array(list(range(61, 261)), pa.int32()),
    ...                 "created": [t0] * 200, "removed": [t0 + 5 * day] * 200})
    >>> g = from_edges(src, dst, ts=ts, n=301)
    >>> det = FarmDetector().fit(DetectionData.from_graph(g, removed=rem))
    >>> det.labels_.nonzero()[0].tolist()
    [0]
    >>> print(det.reasons_[0])
    followed 300 accounts in 2 days and unfollowed 200 who did not follow back (within 5 days); follows back 100% of its followers
    """

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        """The ``farm_threshold`` setting, used when ``threshold`` is None.

        Examples
        --------
        >>> FarmDetector().default_threshold
        0.5
        """
        return float(config.get("farm_threshold"))

    def __init__(self, *, threshold: float | None = None, ratio_mid: float | None = None,
                 ratio_width: float | None = None, ratio_pseudo: float | None = None,
                 volume_mid: float | None = None, volume_width: float | None = None,
                 followback_mid: float | None = None, followback_width: float | None = None,
                 followback_pseudo: float | None = None, churn_days: float | None = None,
                 churn_mid: float | None = None, churn_width: float | None = None,
                 churn_share_mid: float | None = None,
                 churn_share_width: float | None = None, burst_days: float | None = None,
                 burst_mid: float | None = None, burst_width: float | None = None,
                 capitalist_min_followers: float | None = None,
                 capitalist_mid: float | None = None,
                 capitalist_width: float | None = None) -> None:
        self.threshold = threshold
        self.ratio_mid = ratio_mid
        self.ratio_width = ratio_width
        self.ratio_pseudo = ratio_pseudo
        self.volume_mid = volume_mid
        self.volume_width = volume_width
        self.followback_mid = followback_mid
        self.followback_width = followback_width
        self.followback_pseudo = followback_pseudo
        self.churn_days = churn_days
        self.churn_mid = churn_mid
        self.churn_width = churn_width
        self.churn_share_mid = churn_share_mid
        self.churn_share_width = churn_share_width
        self.burst_days = burst_days
        self.burst_mid = burst_mid
        self.burst_width = burst_width
        self.capitalist_min_followers = capitalist_min_followers
        self.capitalist_mid = capitalist_mid
        self.capitalist_width = capitalist_width

    def _fit(self, data: DetectionData, **kwargs: Any) -> None:
        if not isinstance(data, DetectionData):
            raise UsageError("FarmDetector.fit needs a DetectionData")
        params = {k: getattr(self, k) for k in _SETTINGS}
        self.evidence_ = farm_evidence(data, **params)
        self._data = data
        self._burst_days = float(config.get("farm_burst_days") if self.burst_days is None
                                 else self.burst_days)
        self._churn_s = DAY * float(config.get("farm_churn_days") if self.churn_days is None
                                    else self.churn_days)
        self.decision_scores_ = self.evidence_["score"]

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        ev = self.evidence_
        rem = self._data.removed
        if rem is not None and rem.num_rows:
            src = rem.column("src").to_numpy()
            created = np.asarray(rem.column("created").to_numpy(zero_copy_only=False),
                                 dtype=np.float64)
            gone = np.asarray(rem.column("removed").to_numpy(zero_copy_only=False),
                              dtype=np.float64)
            order, indptr = _group(src, self._data.n)
        g = self._data.graph
        out = []
        for v in indices:
            parts = []
            if ev["churn"][v] >= 0.3 and rem is not None and rem.num_rows:
                rows = order[indptr[v]:indptr[v + 1]]
                c, r = created[rows], gone[rows]
                ok = np.isfinite(c)
                lo = hi = np.nan
                made = int(ok.sum())
                if ok.any():
                    # the campaign: the removed follows and the kept follows made within
                    # churn_days of them
                    lo, hi = np.nanmin(c), np.nanmax(c)
                    if g.out_ts is not None:
                        t = g.out_ts[g.out_indptr[v]:g.out_indptr[v + 1]].astype(np.float64)
                        t = t[(t != TS_UNKNOWN) & (t >= lo - self._churn_s)
                              & (t <= hi + self._churn_s)]
                        if t.size:
                            made += int(t.size)
                            lo, hi = min(lo, t.min()), max(hi, t.max())
                span = f" in {_days(hi - lo)}" if ok.any() else ""
                delay = np.nanmedian(r - c) if ok.any() else np.nan
                within = f" (within {_days(delay)})" if np.isfinite(delay) else ""
                parts.append(f"followed {made:,} accounts{span} and unfollowed "
                             f"{int(ev['quick_unfollows'][v]):,} who did not follow back"
                             f"{within}")
            if ev["structure"][v] >= 0.3 or not parts:
                fo, fr = int(ev["following"][v]), int(ev["followers"][v])
                if ev["ratio"][v] >= 0.3:
                    parts.append(f"follows {fo:,} accounts but only {fr:,} follow it "
                                 f"({(fo + 1) / (fr + 1):.1f} times as many)")
                if ev["burst"][v] >= 0.3:
                    parts.append(f"followed {int(ev['burst_follows'][v]):,} accounts "
                                 f"within {_days(self._burst_days * DAY)}")
                if ev["capitalists"][v] >= 0.3:
                    parts.append(f"{ev['capitalist_share'][v]:.0%} of the accounts it "
                                 "follows are social capitalists who follow back anyone")
            if ev["followback"][v] >= 0.3:
                share = ev["reciprocated"][v] / max(int(ev["in_degree"][v]), 1)
                parts.append(f"follows back {share:.0%} of its followers")
            out.append("; ".join(parts) if parts else
                       f"follow-back farm score {self.decision_scores_[v]:.2f}")
        return out
