"""Growth anomalies: bursts of followers, and who the new followers are.

This is the Social Blade view made statistical. For each account, the follower-count
series (``DetectionData.snapshots``; where an account has fewer than
``growth_min_points`` snapshots but its follows have times, weekly counts built from
``graph.in_ts``, scaled to the profile's follower count when the graph holds a sample)
is cut into intervals, and each interval's gain is compared with a **robust baseline**:

* the baseline rate ``b`` is the median of the per-day gains of all intervals, and the
  noise scale is ``1.4826 × MAD`` of those rates, floored by a counting-noise term
  ``sqrt(unit × max(expected gain, unit))`` (``unit``: the step of the counts,
  :func:`count_unit`, 1 for exact counts) and by ``growth_rel_noise × expected gain``;
* an interval whose robust z-score reaches ``growth_z`` is a burst; a one-sided **CUSUM**
  of the z-scores (allowance ``growth_cusum_k``, alarm at ``growth_cusum_h``) also finds
  sustained moderate rises that no single interval shows (a change point in the rate);
* adjacent anomalous intervals merge into one period, trimmed to intervals that gained
  more than the baseline; a period is kept when its **excess** (observed gain minus the
  baseline gain, the estimated number of followers bought) reaches ``growth_min_excess``
  and ``growth_min_rel_excess`` of the count before it.

:func:`growth_periods` runs this on one series. A burst alone is not fraud: an honest
account can go viral. The detector therefore scores each period by **who the new
followers are** (those whose follow time falls within it, from ``graph.in_ts``):

``low quality``
    per follower ``q = 1 − (1 − few·lopsided)(1 − young)``: few followers
    (``σ((ln m₀ − ln(1+followers))/w)``, ``m₀ = growth_follower_followers_mid``), far more
    following than followers (``σ((ln ratio − ln r₀)/w)``, ``r₀ = growth_follower_ratio_mid``),
    and young at the time it followed (``σ((ln a₀ − ln(1+age days))/w)``,
    ``a₀ = growth_young_days``);
``created together``
    the largest share of new followers created within ``growth_cluster_days`` of each
    other (bought accounts are made in batches);
``lockstep``
    the largest share that followed within ``growth_lockstep_hours`` of each other,
    weighted by ``growth_lockstep_weight`` (viral growth also starts steeply, so timing
    alone is weak evidence).

These combine into the suspicious share ``S = 1 − (1 − mean q)(1 − created)(1 − w·lockstep)``,
which is compared with the share of the period's gain that is excess (a popular account
that buys 1,000 followers in a week in which 4,000 real ones also arrive dilutes the
share): ``explained = min(1, S / max(excess / gain, growth_min_excess_share))`` and the
period scores ``σ((explained − s₀)/w)`` with ``s₀ = growth_suspicious_mid``. An account
scores its best period. Where the follows have no times, the composition of all the
account's followers stands in for the new ones (and the excess share is the excess over
the current count).

Viral growth brings ordinary, diverse followers whose creation dates spread over years;
bought growth brings few-follower, lopsided, batch-made accounts. So a viral account with a
larger burst than a customer still scores low.

Examples
--------
>>> import numpy as np
>>> day = 86_400
>>> ts = np.arange(27) * 7 * day
>>> counts = 1000 + 20 * np.arange(27)
>>> counts[12:] += 500                      # 500 followers bought in week 12
>>> [(int(s // day), int(e // day), round(x)) for s, e, x in growth_periods(ts, counts)]
[(77, 84, 500)]
>>> growth_periods(ts, 1000 + 20 * np.arange(27))
[]
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

import numba
import numpy as np
from numba import prange

from .. import config
from ..errors import UsageError
from ..kernels.csr import TS_UNKNOWN
from .base import BaseDetector
from .data import DetectionData

DAY = 86_400.0
_NO_TIME = np.int64(-2**63)

#: Constructor parameter -> config setting.
_SETTINGS = {
    "z": "growth_z", "cusum_k": "growth_cusum_k", "cusum_h": "growth_cusum_h",
    "min_excess": "growth_min_excess", "min_rel_excess": "growth_min_rel_excess",
    "rel_noise": "growth_rel_noise", "min_points": "growth_min_points",
    "bin_days": "growth_bin_days", "series_days": "growth_series_days",
    "follower_ratio_mid": "growth_follower_ratio_mid",
    "follower_followers_mid": "growth_follower_followers_mid",
    "follower_width": "growth_follower_width",
    "follower_ratio_width": "growth_follower_ratio_width",
    "follower_ratio_pseudo": "growth_follower_ratio_pseudo",
    "young_days": "growth_young_days", "cluster_days": "growth_cluster_days",
    "lockstep_hours": "growth_lockstep_hours", "lockstep_weight": "growth_lockstep_weight",
    "min_excess_share": "growth_min_excess_share",
    "suspicious_mid": "growth_suspicious_mid", "suspicious_width": "growth_suspicious_width",
}


def _params(given: dict[str, Any]) -> dict[str, float]:
    return {k: float(config.get(s) if given.get(k) is None else given[k])
            for k, s in _SETTINGS.items()}


# -- the series kernel -----------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _series(t, c, z_thr, cus_k, cus_h, min_excess, min_rel, rel_noise, min_points, unit,
            out_s, out_e, out_x, out_g, out_z, write):  # pragma: no cover - compiled
    """Anomalous periods of one series (times in seconds, counts); returns how many.

    Writes start/end time, excess, gain and period z into ``out_*`` when ``write``.
    """
    k = t.shape[0]
    if k < min_points:
        return 0
    m = k - 1
    dt = np.empty(m)
    d = np.empty(m)
    rate = np.empty(m)
    j = 0
    for i in range(m):
        step = (t[i + 1] - t[i]) / 86400.0
        if step <= 0.0:
            continue
        dt[j] = step
        d[j] = c[i + 1] - c[i]
        rate[j] = d[j] / step
        j += 1
    if j < min_points - 1:
        return 0
    # interval i (of the j kept) runs between times ts_lo[i] and ts_hi[i]
    lo_t = np.empty(j)
    hi_t = np.empty(j)
    start_c = np.empty(j)
    q = 0
    for i in range(m):
        if t[i + 1] - t[i] > 0:
            lo_t[q] = t[i]
            hi_t[q] = t[i + 1]
            start_c[q] = c[i]
            q += 1
    dt = dt[:j]
    d = d[:j]
    rate = rate[:j]
    b = np.median(rate)
    if b < 0.0:
        b = 0.0
    mad = 1.4826 * np.median(np.abs(rate - b))
    ex = np.empty(j)
    sd = np.empty(j)
    z = np.empty(j)
    for i in range(j):
        base = b * dt[i]
        s = mad * dt[i]
        s2 = np.sqrt(unit * max(base, unit))
        if s2 > s:
            s = s2
        s3 = rel_noise * base
        if s3 > s:
            s = s3
        sd[i] = s
        ex[i] = d[i] - base
        z[i] = ex[i] / s
    flag = np.zeros(j, np.bool_)
    for i in range(j):
        if z[i] >= z_thr:
            flag[i] = True
    # one-sided CUSUM of the sub-threshold z-scores: sustained rises (a change point in
    # the rate); a run that reaches cus_h marks its intervals up to its peak
    S = 0.0
    peak = 0.0
    peak_i = -1
    run = -1
    for i in range(j + 1):
        close = i == j
        if not close:
            if flag[i]:
                close = True
            else:
                S = max(0.0, S + z[i] - cus_k)
                if S > 0.0:
                    if run < 0:
                        run = i
                    if S > peak:
                        peak = S
                        peak_i = i
                else:
                    close = True
        if close:
            if run >= 0 and peak >= cus_h:
                for r in range(run, peak_i + 1):
                    flag[r] = True
            run = -1
            peak = 0.0
            S = 0.0
    # merge flagged intervals into periods, trim, keep large excesses
    n_out = 0
    i = 0
    while i < j:
        if not flag[i]:
            i += 1
            continue
        a = i
        while i < j and flag[i]:
            i += 1
        e = i - 1
        while a <= e and ex[a] <= 0.0:
            a += 1
        while e >= a and ex[e] <= 0.0:
            e -= 1
        if a > e:
            continue
        x = 0.0
        g = 0.0
        v = 0.0
        for r in range(a, e + 1):
            x += ex[r]
            g += d[r]
            v += sd[r] * sd[r]
        if x >= min_excess and x >= min_rel * max(start_c[a], 0.0):
            if write:
                out_s[n_out] = lo_t[a]
                out_e[n_out] = hi_t[e]
                out_x[n_out] = x
                out_g[n_out] = g
                out_z[n_out] = x / np.sqrt(v)
            n_out += 1
    return n_out


@numba.njit(cache=True, parallel=True)
def _all_series(indptr, verts, t, c, z_thr, cus_k, cus_h, min_excess, min_rel, rel_noise,
                min_points, unit, counts, offs, out_v, out_s, out_e, out_x, out_g, out_z,
                write):  # pragma: no cover - compiled
    dummy = np.empty(0)
    for s in prange(indptr.shape[0] - 1):
        a, b = indptr[s], indptr[s + 1]
        if write:
            o = offs[s]
            k = counts[s]
            if k == 0:
                continue
            ps = np.empty(k)
            pe = np.empty(k)
            px = np.empty(k)
            pg = np.empty(k)
            pz = np.empty(k)
            _series(t[a:b], c[a:b], z_thr, cus_k, cus_h, min_excess, min_rel, rel_noise,
                    min_points, unit, ps, pe, px, pg, pz, True)
            for r in range(k):
                out_v[o + r] = verts[s]
                out_s[o + r] = ps[r]
                out_e[o + r] = pe[r]
                out_x[o + r] = px[r]
                out_g[o + r] = pg[r]
                out_z[o + r] = pz[r]
        else:
            counts[s] = _series(t[a:b], c[a:b], z_thr, cus_k, cus_h, min_excess, min_rel,
                                rel_noise, min_points, unit, dummy, dummy, dummy, dummy,
                                dummy, False)


@numba.njit(cache=True, parallel=True)
def _ts_series(in_indptr, in_ts, cand, scale, t_end, bin_s, nbins, min_timed, z_thr, cus_k,
               cus_h, min_excess, min_rel, rel_noise, min_points, counts, offs, out_v, out_s,
               out_e, out_x, out_g, out_z, write):  # pragma: no cover - compiled
    # weekly follower counts built from follow times, for vertices without snapshots,
    # scaled by scale[v] (profile followers per follow in the graph) to follower units
    t0 = t_end - nbins * bin_s
    dummy = np.empty(0)
    for s in prange(cand.shape[0]):
        v = cand[s]
        if write and counts[s] == 0:
            continue
        h = np.zeros(nbins + 1)
        timed = 0
        for k in range(in_indptr[v], in_indptr[v + 1]):
            x = in_ts[k]
            if x == TS_UNKNOWN:
                continue
            if x <= t0:
                h[0] += 1.0
            else:
                bi = int(np.ceil((x - t0) / bin_s))
                if bi > nbins:
                    bi = nbins
                h[bi] += 1.0
                timed += 1
        if timed < min_timed:
            counts[s] = 0
            continue
        f = scale[v]
        c = np.cumsum(h) * f
        tt = np.empty(nbins + 1)
        for i in range(nbins + 1):
            tt[i] = t0 + i * bin_s
        if write:
            k = counts[s]
            ps = np.empty(k)
            pe = np.empty(k)
            px = np.empty(k)
            pg = np.empty(k)
            pz = np.empty(k)
            _series(tt, c, z_thr, cus_k, cus_h, min_excess, min_rel, rel_noise, min_points,
                    f, ps, pe, px, pg, pz, True)
            o = offs[s]
            for r in range(k):
                out_v[o + r] = v
                out_s[o + r] = ps[r]
                out_e[o + r] = pe[r]
                out_x[o + r] = px[r]
                out_g[o + r] = pg[r]
                out_z[o + r] = pz[r]
        else:
            counts[s] = _series(tt, c, z_thr, cus_k, cus_h, min_excess, min_rel, rel_noise,
                                min_points, f, dummy, dummy, dummy, dummy, dummy, False)


@numba.njit(cache=True, nogil=True)
def _max_in_window(x, w):  # pragma: no cover - compiled
    # x sorted; the most entries within any window of width w
    lo = 0
    best = 0
    for hi in range(x.shape[0]):
        while x[hi] - x[lo] > w:
            lo += 1
        if hi - lo + 1 > best:
            best = hi - lo + 1
    return best


@numba.njit(cache=True, parallel=True)
def _composition(pv, ps, pe, in_indptr, in_indices, in_ts, has_ts, q, young_mid, young_w,
                 created, cluster_s, lockstep_s, out_n, out_q, out_young, out_cl,
                 out_ls):  # pragma: no cover - compiled
    for p in prange(pv.shape[0]):
        v = pv[p]
        a, b = in_indptr[v], in_indptr[v + 1]
        cnt = 0
        if has_ts:
            for k in range(a, b):
                x = in_ts[k]
                if x != TS_UNKNOWN and x > ps[p] and x <= pe[p]:
                    cnt += 1
        new = cnt > 0
        if not new:
            cnt = b - a          # no timed newcomers: all followers stand in
        out_n[p] = cnt if new else 0
        if cnt == 0:
            continue
        tf = np.empty(cnt, np.int64)
        tc = np.empty(cnt, np.int64)
        sq = 0.0
        sy = 0.0
        nc = 0
        r = 0
        for k in range(a, b):
            if new:
                x = in_ts[k]
                if x == TS_UNKNOWN or x <= ps[p] or x > pe[p]:
                    continue
            u = in_indices[k]
            y = 0.0
            if created[u] != -9223372036854775808:
                when = in_ts[k] if (new and has_ts) else pe[p]
                age = max((when - created[u]) / 86400.0, 0.0)
                y = 0.5 * (1.0 + np.tanh(0.5 * (np.log(young_mid) - np.log1p(age)) / young_w))
                tc[nc] = created[u]
                nc += 1
            qu = 1.0 - (1.0 - q[u]) * (1.0 - y)
            sq += qu
            sy += y
            if new:
                tf[r] = in_ts[k]
            r += 1
        out_q[p] = sq / cnt
        out_young[p] = sy / cnt
        if nc >= 3:
            cs = np.sort(tc[:nc])
            best = _max_in_window(cs, cluster_s)
            out_cl[p] = (best - 1) / (cnt + 1.0)
        if new and r >= 3:
            fs = np.sort(tf[:r])
            best = _max_in_window(fs, lockstep_s)
            out_ls[p] = (best - 1) / (r + 1.0)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


# -- pure functions ---------------------------------------------------------------------
def growth_periods(ts, counts, **params: Any) -> list[tuple[float, float, float]]:
    """Anomalous growth periods of one follower-count series.

    Parameters
    ----------
    ts : array of epoch seconds
        Times of the observations, ascending.
    counts : array
        Follower count at each time.
    **params
        Overrides of the ``growth_*`` settings: ``z``, ``cusum_k``, ``cusum_h``,
        ``min_excess``, ``min_rel_excess``, ``rel_noise``, ``min_points``; and ``unit``,
        the step of the counts (default :func:`count_unit`).

    Returns
    -------
    list of (start, end, excess)
        Start and end (the observation times bracketing the period) and the excess gain:
        observed gain minus the baseline gain, the estimated followers bought.

    Examples
    --------
    >>> import numpy as np
    >>> day = 86_400
    >>> ts = np.arange(10) * day
    >>> c = np.array([0, 10, 20, 30, 340, 650, 660, 670, 680, 690])
    >>> [(int(s // day), int(e // day), round(x)) for s, e, x in growth_periods(ts, c)]
    [(3, 5, 600)]
    """
    t = np.asarray(ts, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if t.shape != c.shape or t.ndim != 1:
        raise UsageError("ts and counts must be 1-d arrays of the same length")
    if t.size > 1 and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, c = t[order], c[order]
    unit = params.pop("unit", None)
    p = _params(params)
    if unit is None:
        unit = count_unit(c)
    buf = [np.empty(max(t.size, 1)) for _ in range(5)]
    k = _series(t, c, p["z"], p["cusum_k"], p["cusum_h"], p["min_excess"],
                p["min_rel_excess"], p["rel_noise"], p["min_points"], float(unit), *buf, True)
    return [(float(buf[0][i]), float(buf[1][i]), float(buf[2][i])) for i in range(k)]


def count_unit(counts) -> float:
    """The step of a count series: the greatest common divisor of its values when they
    are whole numbers (platforms that round counts, like the simulator's ``count_scale``
    of 10, have steps above 1), else 1. It sets the counting-noise floor.

    Examples
    --------
    >>> count_unit([120, 130, 200]), count_unit([3, 7]), count_unit([0.5, 1.0])
    (10.0, 1.0, 1.0)
    """
    c = np.asarray(counts, dtype=np.float64)
    c = c[np.isfinite(c)]
    if c.size == 0 or np.any(c != np.round(c)) or np.abs(c).max() >= 2**62:
        return 1.0
    g = int(np.gcd.reduce(np.abs(c).astype(np.int64)))
    return float(max(g, 1))


def _run_series(indptr, verts, t, c, p, unit):
    nser = indptr.shape[0] - 1
    counts = np.zeros(nser, np.int64)
    e = np.empty(0)
    args = (p["z"], p["cusum_k"], p["cusum_h"], p["min_excess"], p["min_rel_excess"],
            p["rel_noise"], p["min_points"], float(unit))
    _all_series(indptr, verts, t, c, *args, counts, counts, np.empty(0, np.int64), e, e, e,
                e, e, False)
    offs = np.zeros(nser, np.int64)
    if nser > 1:
        np.cumsum(counts[:-1], out=offs[1:])
    tot = int(counts.sum())
    out = [np.empty(tot, np.int64)] + [np.empty(tot) for _ in range(5)]
    if tot:
        _all_series(indptr, verts, t, c, *args, counts, offs, *out, True)
    return out


def _run_ts(g, cand, scale, p):
    t_known = g.in_ts[g.in_ts != TS_UNKNOWN]
    if t_known.size == 0 or cand.size == 0:
        return [np.empty(0, np.int64)] + [np.empty(0) for _ in range(5)]
    t_end = float(t_known.max())
    bin_s = p["bin_days"] * DAY
    nbins = max(int(np.ceil(p["series_days"] / p["bin_days"])), 2)
    args = (p["z"], p["cusum_k"], p["cusum_h"], p["min_excess"], p["min_rel_excess"],
            p["rel_noise"], p["min_points"])
    counts = np.zeros(cand.size, np.int64)
    e = np.empty(0)
    min_timed = int(p["min_points"])
    _ts_series(g.in_indptr, g.in_ts, cand, scale, t_end, bin_s, nbins, min_timed, *args,
               counts, counts, np.empty(0, np.int64), e, e, e, e, e, False)
    offs = np.zeros(cand.size, np.int64)
    if cand.size > 1:
        np.cumsum(counts[:-1], out=offs[1:])
    tot = int(counts.sum())
    out = [np.empty(tot, np.int64)] + [np.empty(tot) for _ in range(5)]
    if tot:
        _ts_series(g.in_indptr, g.in_ts, cand, scale, t_end, bin_s, nbins, min_timed, *args,
                   counts, offs, *out, True)
    return out


def follower_quality(data: DetectionData, **params: Any) -> np.ndarray:
    """Per account, how much it looks like a bought follower by its counts, in [0, 1]:
    few followers *and* far more following than followers (age is added per follow).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from trueclout.graph.toy import toy_graph
    >>> prof = pa.table({"followers_count": [3, 500], "following_count": [400, 300]})
    >>> d = DetectionData.from_graph(toy_graph(), prof.take([0, 1, 1, 1, 1, 1]))
    >>> follower_quality(d).round(2).tolist()
    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    p = _params(params)
    g = data.graph
    fo = data.column("following_count")
    fr = data.column("followers_count")
    have = np.isfinite(fo) & np.isfinite(fr)
    fo = np.where(have, fo, g.out_degree())
    fr = np.where(have, fr, g.in_degree())
    k = p["follower_ratio_pseudo"]
    few = _sigmoid((np.log(p["follower_followers_mid"]) - np.log1p(fr)) / p["follower_width"])
    lopsided = _sigmoid((np.log((fo + k) / (fr + k)) - np.log(p["follower_ratio_mid"]))
                        / p["follower_ratio_width"])
    return few * lopsided


def growth_anomalies(data: DetectionData, **params: Any) -> dict[str, np.ndarray]:
    """Every candidate growth period of every account, with its composition and score.

    Returns
    -------
    dict of equal-length arrays
        ``vertex, start, end, excess, gain, z, source`` (0: snapshots, 1: follow times),
        ``new_followers`` (timed newcomers; 0 when the composition of all followers stood
        in), ``low_quality``, ``young``, ``created_together``, ``lockstep``,
        ``suspicious``, ``score``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> growth_anomalies(DetectionData.from_graph(toy_graph()))["vertex"].size
    0
    """
    p = _params(params)
    g = data.graph
    n = g.n
    parts = []
    have_snap = np.zeros(n, bool)
    snaps = data.snapshots
    if snaps is not None and snaps.num_rows:
        v = np.asarray(snaps.column("vertex").to_numpy(zero_copy_only=False), np.int64)
        t = np.asarray(snaps.column("ts").to_numpy(zero_copy_only=False), np.float64)
        c = np.asarray(snaps.column("followers_count").to_numpy(zero_copy_only=False),
                       np.float64)
        ok = np.isfinite(t) & np.isfinite(c) & (v >= 0)
        v, t, c = v[ok], t[ok], c[ok]
        order = np.lexsort((t, v))
        v, t, c = v[order], t[order], c[order]
        brk = np.flatnonzero(np.diff(v)) + 1
        indptr = np.concatenate([[0], brk, [v.size]]).astype(np.int64) if v.size else \
            np.zeros(1, np.int64)
        verts = v[indptr[:-1]] if v.size else np.empty(0, np.int64)
        # a series too short to judge (e.g. the one profile row every account has)
        # leaves the account to the series built from follow times
        have_snap[verts[np.diff(indptr) >= p["min_points"]]] = True
        out = _run_series(indptr, verts, t, c, p, count_unit(c))
        parts.append(out + [np.zeros(out[0].size, np.int8)])
    if g.in_ts is not None:
        # the graph may hold a sample of each account's follows: scale counts built from
        # follow times to the profile's follower count where it is known
        ind = g.in_degree().astype(np.float64)
        fol = data.column("followers_count")
        scale = np.where(np.isfinite(fol) & (ind > 0), fol / np.maximum(ind, 1.0), 1.0)
        scale = np.maximum(scale, 1.0)
        cand = np.flatnonzero(~have_snap & (ind * scale >= p["min_excess"]))
        out = _run_ts(g, cand.astype(np.int64), scale, p)
        parts.append(out + [np.ones(out[0].size, np.int8)])
    names = ["vertex", "start", "end", "excess", "gain", "z", "source"]
    if parts:
        res = {k: np.concatenate([pt[i] for pt in parts]) for i, k in enumerate(names)}
    else:
        res = {k: np.empty(0, np.int64 if k == "vertex" else np.float64) for k in names}
    m = res["vertex"].size
    for k in ("new_followers",):
        res[k] = np.zeros(m, np.int64)
    for k in ("low_quality", "young", "created_together", "lockstep"):
        res[k] = np.zeros(m, np.float64)
    if m:
        q = follower_quality(data, **params)
        created = data.column("created_at")
        cr = np.where(np.isfinite(created), created, 0).astype(np.int64)
        cr[~np.isfinite(created)] = _NO_TIME
        has_ts = g.in_ts is not None
        in_ts = g.in_ts if has_ts else np.empty(0, np.int32)
        _composition(res["vertex"], res["start"], res["end"], g.in_indptr, g.in_indices,
                     in_ts, has_ts, q, p["young_days"], p["follower_width"], cr,
                     np.int64(p["cluster_days"] * DAY), np.int64(p["lockstep_hours"] * 3600),
                     res["new_followers"], res["low_quality"], res["young"],
                     res["created_together"], res["lockstep"])
    s = 1.0 - ((1.0 - res["low_quality"]) * (1.0 - res["created_together"])
               * (1.0 - p["lockstep_weight"] * res["lockstep"]))
    # the share of the gain that is excess; with all followers standing in, the share
    # of the current count
    share = np.where(res["new_followers"] > 0,
                     res["excess"] / np.maximum(res["gain"], 1.0), 0.0)
    if m:
        fol = data.column("followers_count")
        fol = np.where(np.isfinite(fol), fol, g.in_degree())
        stand = res["new_followers"] == 0
        tot = np.bincount(res["vertex"], weights=res["excess"], minlength=n)
        share[stand] = tot[res["vertex"][stand]] / np.maximum(fol[res["vertex"][stand]], 1.0)
    explained = np.minimum(1.0, s / np.maximum(share, p["min_excess_share"]))
    res["suspicious"] = s
    res["score"] = _sigmoid((explained - p["suspicious_mid"]) / p["suspicious_width"]) \
        if m else np.zeros(0)
    return res


def _date(t: float) -> str:
    return _dt.datetime.fromtimestamp(float(t), tz=_dt.timezone.utc).strftime("%Y-%m-%d")


class GrowthDetector(BaseDetector):
    """Bought-follower bursts in follower growth; see the module docstring.

    Parameters
    ----------
    threshold : float, optional
        Default ``growth_threshold``.
    z, cusum_k, cusum_h, min_excess, min_rel_excess, rel_noise, min_points, bin_days, \
series_days, follower_ratio_mid, follower_followers_mid, follower_width, \
follower_ratio_width, follower_ratio_pseudo, young_days, cluster_days, \
lockstep_hours, lockstep_weight, min_excess_share, suspicious_mid, suspicious_width : \
float, optional
        Overrides of the ``growth_*`` settings of the same names.

    Attributes
    ----------
    decision_scores_ : float array
        Best period score per vertex (0.0 without an anomalous period).
    periods_ : dict
        Flagged vertex -> list of ``(start, end, excess)`` of its suspicious periods
        (epoch seconds; excess = estimated followers bought; a series built from
        follow times is scaled to the profile's follower count where the graph holds only
        a sample of the follows).
    candidates_ : dict of arrays
        Every anomalous period found, suspicious or not (:func:`growth_anomalies`).
    active_ : bool
        False when there are neither snapshots nor follow times (every score 0.0).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from trueclout.graph.build import from_edges
    >>> # account 0 has 60 followers: 10 old, and 50 few-follower accounts in one hour
    >>> day, t0 = 86_400, 1_700_000_000
    >>> src = list(range(1, 61)); dst = [0] * 60
    >>> ts = [t0 - 300 * day + i * day for i in range(10)] + [t0 + 60 * i for i in range(50)]
    >>> g = from_edges(src, dst, ts=ts, n=61)
    >>> prof = pa.table({"followers_count": [60] + [200] * 10 + [2] * 50,
    ...                  "following_count": [10] + [150] * 10 + [400] * 50,
    ...                  "created_at": [t0 - 900 * day] * 11 + [t0 - 30 * day] * 50})
    >>> det = GrowthDetector(min_excess=20).fit(DetectionData.from_graph(g, prof))
    >>> det.labels_.nonzero()[0].tolist(), [round(x) for _, _, x in det.periods_[0]]
    ([0], [50])
    >>> print(det.reasons_[0])
    gained 50 followers between 2023-11-07 and 2023-11-14, 50 more than its usual pace; 100% of the new followers have few followers and follow far more accounts; 96% of them were created within 7 days of each other; 96% followed within 1 hour of each other
    """

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        """The ``growth_threshold`` setting, used when ``threshold`` is None.

        Examples
        --------
        >>> GrowthDetector().default_threshold
        0.5
        """
        return float(config.get("growth_threshold"))

    def __init__(self, *, threshold: float | None = None, z: float | None = None,
                 cusum_k: float | None = None, cusum_h: float | None = None,
                 min_excess: float | None = None, min_rel_excess: float | None = None,
                 rel_noise: float | None = None, min_points: float | None = None,
                 bin_days: float | None = None, series_days: float | None = None,
                 follower_ratio_mid: float | None = None,
                 follower_followers_mid: float | None = None,
                 follower_width: float | None = None,
                 follower_ratio_width: float | None = None,
                 follower_ratio_pseudo: float | None = None,
                 young_days: float | None = None, cluster_days: float | None = None,
                 lockstep_hours: float | None = None, lockstep_weight: float | None = None,
                 min_excess_share: float | None = None, suspicious_mid: float | None = None,
                 suspicious_width: float | None = None) -> None:
        self.threshold = threshold
        self.z = z
        self.cusum_k = cusum_k
        self.cusum_h = cusum_h
        self.min_excess = min_excess
        self.min_rel_excess = min_rel_excess
        self.rel_noise = rel_noise
        self.min_points = min_points
        self.bin_days = bin_days
        self.series_days = series_days
        self.follower_ratio_mid = follower_ratio_mid
        self.follower_followers_mid = follower_followers_mid
        self.follower_width = follower_width
        self.follower_ratio_width = follower_ratio_width
        self.follower_ratio_pseudo = follower_ratio_pseudo
        self.young_days = young_days
        self.cluster_days = cluster_days
        self.lockstep_hours = lockstep_hours
        self.lockstep_weight = lockstep_weight
        self.min_excess_share = min_excess_share
        self.suspicious_mid = suspicious_mid
        self.suspicious_width = suspicious_width

    def _fit(self, data: DetectionData, **kwargs: Any) -> None:
        if not isinstance(data, DetectionData):
            raise UsageError("GrowthDetector.fit needs a DetectionData")
        given = {k: getattr(self, k) for k in _SETTINGS}
        self._p = _params(given)
        has_snap = data.snapshots is not None and data.snapshots.num_rows > 0
        self.active_ = bool(has_snap or data.graph.in_ts is not None)
        res = growth_anomalies(data, **given)
        self.candidates_ = res
        scores = np.zeros(data.n, np.float64)
        if res["vertex"].size:
            np.maximum.at(scores, res["vertex"], res["score"])
        self.decision_scores_ = scores
        thr = self.default_threshold if self.threshold is None else self.threshold
        sel = np.flatnonzero(res["score"] >= thr)
        periods: dict[int, list[tuple[float, float, float]]] = {}
        for i in sel[np.lexsort((res["start"][sel], res["vertex"][sel]))]:
            periods.setdefault(int(res["vertex"][i]), []).append(
                (float(res["start"][i]), float(res["end"][i]), float(res["excess"][i])))
        self.periods_ = periods
        self._sel = sel

    def _reasons(self, indices: np.ndarray) -> Sequence[str]:
        res = self.candidates_
        p = self._p
        best: dict[int, int] = {}
        for i in self._sel:
            v = int(res["vertex"][i])
            if v not in best or res["score"][i] > res["score"][best[v]]:
                best[v] = int(i)
        out = []
        for v in indices:
            i = best.get(int(v))
            if i is None:
                out.append(f"unusual follower growth (score {self.decision_scores_[v]:.2f})")
                continue
            txt = (f"gained {res['gain'][i]:,.0f} followers between {_date(res['start'][i])} and "
                   f"{_date(res['end'][i])}, {res['excess'][i]:,.0f} more than its usual pace")
            who = "of the new followers" if res["new_followers"][i] > 0 else \
                "of all its followers"
            parts = [txt]
            if res["low_quality"][i] >= 0.2:
                parts.append(f"{res['low_quality'][i]:.0%} {who} have few followers and "
                             "follow far more accounts" if res["young"][i] < 0.5 * res[
                                 "low_quality"][i] else
                             f"{res['low_quality'][i]:.0%} {who} are new or have few "
                             "followers and follow far more accounts")
            if res["created_together"][i] >= 0.2:
                parts.append(f"{res['created_together'][i]:.0%} of them were created within "
                             f"{p['cluster_days']:g} days of each other")
            if res["lockstep"][i] >= 0.2:
                h = p["lockstep_hours"]
                parts.append(f"{res['lockstep'][i]:.0%} followed within {h:g} hour"
                             f"{'' if h == 1 else 's'} of each other")
            n_more = len(self.periods_.get(int(v), [])) - 1
            if n_more > 0:
                parts.append(f"and {n_more} more such period{'s' if n_more > 1 else ''}")
            out.append("; ".join(parts))
        return out
