"""The statistics of an audience audit: shares with confidence intervals, and the score.

Composition
    Each follower of the audited account falls in one category (real, fake, bot,
    mass_follower, farm, inactive, uncertain). The share of each category comes with a 95%
    interval from a Bayesian bootstrap with a prior (Rubin 1981): draws of the shares from
    Dirichlet(counts + a/K) for K categories (``audit_prior`` = a = 1, Perks' prior), each
    interval widened to hold the observed share. Unlike a percentile bootstrap over
    followers, it is never zero-width: 12 real followers of 12 give 78-100%, not
    100-100%, and a category nobody falls in still has an upper bound above 0.

    *All followers known.* One Dirichlet over all followers.

    *Only a sample known.* When the account reports ``N`` followers but the graph holds
    ``n < N`` of them, the known followers are treated as a sample. The design is
    stratified by follow time: strata are the quantiles of the known follow times (up to
    ``strata`` groups; one group when no times are known), and, because a crawl that lists
    followers newest-first or by pages is close to proportionate over time, each stratum
    is weighted by its share of the sample. Each stratum draws its own Dirichlet; the
    stratified estimate is the weighted sum; the interval's half-widths are shrunk by the
    finite-population correction ``sqrt((N - n) / (N - 1))``.

Fake share corrected for the classifier's error
    A classifier that catches a share ``Se`` of fakes (sensitivity) and clears a share
    ``Sp`` of humans (specificity) reports ``p = Se pi + (1 - Sp)(1 - pi)`` fakes among
    an audience whose true share is ``pi``; Rogan and Gladen (1978) invert it:
    ``pi = (p + Sp - 1) / (Se + Sp - 1)``, clipped to [0, 1]. :func:`corrected_share`
    does this per field set (each has its own error rates, measured on each labelled
    source held out of training) and carries both uncertainties: each draw takes ``Se``
    and ``Sp`` of a held-out source picked at random, drawn from the Beta posteriors of
    its counts, and ``p`` from the sample's Beta posterior; the interval is the quantiles
    of the corrected draws. Where ``Se + Sp - 1`` is too small
    (``audit_min_youden``) the classifier cannot tell the classes apart well enough to
    correct for, and the result says so instead of a number.

Audience Quality Score
    ``AQS = 100 * (w_real * real_share + w_eng * engagement + w_growth *
    (1 - bought_share))`` with weights from config (``aqs_weight_*``, summing to 1). Each
    part is reported with the score, and the score with its band (Poor, Fair, Average,
    Good, Excellent, after HypeAuditor's; cut points ``aqs_band_*``). ``real_share`` is
    the composition's real share; ``bought_share`` the estimated bought followers over
    current followers, capped at 1. ``engagement`` is how the account's *authentic
    engagement rate* (interactions from unflagged accounts, per post, per 1,000 known
    followers: :func:`engagement_rates`) stands among accounts of similar size
    (:func:`peer_percentile`: its mid-rank percentile among the accounts whose follower
    count is within a factor ``aqs_peer_factor`` of its own): authenticity alone earns
    nothing, one interaction in months scores low, and bought likes do not count. An
    account that received no interaction at all (or a store without interactions) has
    an *unknown* engagement, not a perfect one: that part is left out, the other weights
    are scaled up, and the report says so.

Engagement shares use the Jeffreys interval (the Beta(k + 1/2, n - k + 1/2) quantiles;
Brown, Cai and DasGupta 2001), never zero-width either.

Examples
--------
>>> import numpy as np
>>> cats = np.array(["real"] * 80 + ["fake"] * 20)
>>> c = composition(cats, seed=0)
>>> round(c["fake"]["share"], 2), c["fake"]["lo"] < 0.2 < c["fake"]["hi"]
(0.2, True)
>>> audience_quality_score(0.8, 1.0, 0.0)["score"]
88.0
"""

from __future__ import annotations

import numpy as np

from . import config

#: Audience categories, in report order.
CATEGORIES = ("real", "fake", "bot", "mass_follower", "farm", "inactive", "uncertain")


def _quantile_strata(ts: np.ndarray | None, n: int, strata: int) -> np.ndarray:
    """Stratum index per follower: quantile bins of the known follow times."""
    if ts is None or strata <= 1:
        return np.zeros(n, dtype=np.int64)
    ts = np.asarray(ts, dtype=np.float64)
    known = np.isfinite(ts)
    out = np.zeros(n, dtype=np.int64)
    if known.sum() < 2 * strata:
        return out
    edges = np.quantile(ts[known], np.linspace(0, 1, strata + 1)[1:-1])
    out[known] = np.searchsorted(edges, ts[known], side="right") + 1
    # unknown times form stratum 0
    return out


def composition(categories: np.ndarray, *, follow_ts: np.ndarray | None = None,
                population: int | None = None, strata: int | None = None,
                n_boot: int | None = None, level: float = 0.95,
                seed: int = 0) -> dict[str, dict]:
    """Share of each category among followers, with a Bayesian-bootstrap interval.

    Parameters
    ----------
    categories : array of str
        The category of each known follower.
    follow_ts : array of float, optional
        Follow time of each known follower (NaN where unknown); used for strata.
    population : int, optional
        The account's reported follower count. When larger than the number of known
        followers, they are treated as a stratified sample (see the module docstring).
    strata : int, optional
        Number of follow-time strata (default config ``audit_strata``).
    n_boot : int, optional
        Bootstrap replicates (default config ``audit_bootstrap``).
    level : float
        Interval level.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        category -> ``{"share", "lo", "hi", "count", "estimated"}``; ``estimated`` is the
        share times the population (or the known follower count).

    Examples
    --------
    >>> import numpy as np
    >>> cats = np.array(["real"] * 50 + ["farm"] * 50)
    >>> c = composition(cats, follow_ts=np.arange(100.0), population=1000, seed=1)
    >>> c["farm"]["share"], c["farm"]["estimated"]
    (0.5, 500)
    >>> composition(np.array([], dtype=object))["real"]["share"]
    0.0
    >>> r = composition(np.array(["real"] * 12))["real"]
    >>> r["share"], 0.7 < r["lo"] < 0.9, r["hi"] == 1.0
    (1.0, True, True)
    """
    strata = int(strata if strata is not None else config.get("audit_strata"))
    n_boot = int(n_boot if n_boot is not None else config.get("audit_bootstrap"))
    cats = np.asarray(categories, dtype=object)
    n = cats.shape[0]
    pop = int(population) if population is not None and population > n else n
    result: dict[str, dict] = {}
    if n == 0:
        return {c: {"share": 0.0, "lo": 0.0, "hi": 0.0, "count": 0, "estimated": 0}
                for c in CATEGORIES}
    k = len(CATEGORIES)
    code = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(CATEGORIES):
        code[cats == c] = i
    if (code < 0).any():
        bad = sorted(set(cats[code < 0].tolist()))
        raise ValueError(f"unknown audience categories {bad}; known: {CATEGORIES}")
    sample = pop > n
    group = _quantile_strata(follow_ts, n, strata) if sample else np.zeros(n, np.int64)
    rng = np.random.default_rng(seed)
    prior = float(config.get("audit_prior")) / k
    est = np.zeros(k)
    boot = np.zeros((n_boot, k))
    for g in np.unique(group):
        members = code[group == g]
        n_h = members.shape[0]
        w_h = n_h / n
        c_h = np.bincount(members, minlength=k)
        est += w_h * c_h / n_h
        boot += w_h * rng.dirichlet(c_h + prior, size=n_boot)
    alpha = (1 - level) / 2
    lo_q, hi_q = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    fpc = np.sqrt((pop - n) / (pop - 1)) if sample and pop > 1 else 1.0
    # the prior pulls the draws inward; the interval still holds the observed share
    lo = np.clip(est - np.maximum(est - lo_q, 0) * fpc, 0, 1)
    hi = np.clip(est + np.maximum(hi_q - est, 0) * fpc, 0, 1)
    counts = np.bincount(code, minlength=k)
    for i, c in enumerate(CATEGORIES):
        result[c] = {"share": round(float(est[i]), 6), "lo": round(float(lo[i]), 6),
                     "hi": round(float(hi[i]), 6), "count": int(counts[i]),
                     "estimated": int(round(est[i] * pop))}
    return result


def jeffreys_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Jeffreys interval of a proportion ``k / n``: quantiles of Beta(k + 1/2,
    n - k + 1/2), with the ends set to 0 and 1 when ``k`` is 0 or ``n`` (Brown, Cai and
    DasGupta 2001). Never zero-width.

    Examples
    --------
    >>> lo, hi = jeffreys_interval(0, 20)
    >>> lo, round(hi, 3)
    (0.0, 0.117)
    >>> jeffreys_interval(0, 0)
    (0.0, 1.0)
    """
    from scipy.stats import beta
    if n <= 0:
        return 0.0, 1.0
    alpha = (1 - level) / 2
    lo = 0.0 if k <= 0 else float(beta.ppf(alpha, k + 0.5, n - k + 0.5))
    hi = 1.0 if k >= n else float(beta.ppf(1 - alpha, k + 0.5, n - k + 0.5))
    return lo, hi


def share_ci(flags: np.ndarray, *, level: float = 0.95) -> dict:
    """Share of true values with its Jeffreys interval (for engagement shares).

    Examples
    --------
    >>> r = share_ci([True, False, False, False])
    >>> r["share"], r["lo"] < 0.25 < r["hi"]
    (0.25, True)
    >>> share_ci([])["hi"]
    1.0
    """
    f = np.asarray(flags, dtype=bool)
    n = f.shape[0]
    k = int(f.sum())
    lo, hi = jeffreys_interval(k, n, level)
    return {"share": round(k / n, 6) if n else 0.0, "lo": round(lo, 6), "hi": round(hi, 6),
            "n": int(n)}


def corrected_share(flagged: np.ndarray, groups: np.ndarray, rates: dict[str, dict], *,
                    weights: np.ndarray | None = None, n_draws: int | None = None,
                    level: float = 0.95, seed: int = 0) -> dict:
    """The share of fakes among classified accounts, corrected for the classifier's
    measured error (Rogan and Gladen 1978; module docstring), with an interval that
    carries the sampling and the error-rate uncertainty.

    The error rates are those the classifier showed on each labelled source held out of
    its training. Sources differ (a classifier that catches 90% of one seller's fakes may
    catch 20% of a spam network's), and nobody knows which source an audience resembles:
    the point estimate uses the mean sensitivity and specificity over the sources, and
    each draw of the interval picks a source at random for each, then draws the rate
    from the Beta posterior of its counts (a hierarchical bootstrap over sources).

    Parameters
    ----------
    flagged : bool array
        The classifier's verdict per account (True: fake).
    groups : array of str
        The field set that decided each account; ``rates`` is looked up by it.
    rates : dict
        Field set -> ``{"fakes": [[caught, fakes], ...], "humans": [[cleared, humans],
        ...]}``: per held-out source, the counts behind its sensitivity and specificity.
    weights : array, optional
        Per account weight of its stratum (default: equal).
    n_draws : int, optional
        Monte Carlo draws (default ``audit_bootstrap``).

    Returns
    -------
    dict
        ``observed`` (the raw flagged share), ``corrected`` with ``lo`` and ``hi`` (None
        where the correction is undefined, with ``reason``), ``accounts``,
        ``by_field_set`` (per group: accounts, sensitivity, specificity, sources,
        observed, corrected), and ``method``.

    Examples
    --------
    >>> f = np.array([True] * 30 + [False] * 70)
    >>> r = corrected_share(f, np.array(["p"] * 100),
    ...                     {"p": {"fakes": [[90, 100]], "humans": [[950, 1000]]}})
    >>> r["observed"], round(r["corrected"], 3), r["lo"] < r["corrected"] < r["hi"]
    (0.3, 0.295, True)
    >>> r = corrected_share(f, np.array(["p"] * 100),
    ...                     {"p": {"fakes": [[20, 100]], "humans": [[900, 1000]]}})
    >>> r["corrected"] is None, r["reason"][:31]
    (True, 'field set p: sensitivity 0.20 a')
    """
    flagged = np.asarray(flagged, dtype=bool)
    groups = np.asarray(groups, dtype=object)
    n = flagged.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    n_draws = int(n_draws if n_draws is not None else config.get("audit_bootstrap"))
    min_j = float(config.get("audit_min_youden"))
    rng = np.random.default_rng(seed)
    method = ("Rogan-Gladen: (observed + specificity - 1) / (sensitivity + specificity - 1), "
              "per field set, with sensitivity and specificity measured on labelled sources "
              "held out of the classifier's training (their mean over the sources); the "
              "interval draws a held-out source at random for each rate, the rate from its "
              "counts, and the observed share from the sample (Jeffreys priors)")
    out = {"observed": round(float(np.average(flagged, weights=w)), 6) if n else 0.0,
           "corrected": None, "lo": None, "hi": None, "accounts": int(n),
           "by_field_set": {}, "method": method}
    if n == 0:
        return out
    total = np.zeros(n_draws)
    point = 0.0
    for g in np.unique(groups):
        m = groups == g
        share = float(w[m].sum() / w.sum())
        r = rates.get(g) or {}
        fk = np.array([c for c in r.get("fakes") or [] if c[1] > 0], np.float64).reshape(-1, 2)
        hm = np.array([c for c in r.get("humans") or [] if c[1] > 0], np.float64).reshape(-1, 2)
        k, n_g = int(flagged[m].sum()), int(m.sum())
        p_obs = k / n_g
        entry: dict = {"accounts": n_g, "observed": round(p_obs, 6), "corrected": None,
                       "sources": [len(fk), len(hm)]}
        out["by_field_set"][str(g)] = entry
        if not len(fk) or not len(hm):
            out["reason"] = f"field set {g}: no held-out measurement of its error rates"
            return out
        se = float(np.mean((fk[:, 0] + 0.5) / (fk[:, 1] + 1)))
        sp = float(np.mean((hm[:, 0] + 0.5) / (hm[:, 1] + 1)))
        entry.update(sensitivity=round(se, 4), specificity=round(sp, 4))
        if se + sp - 1 < min_j:
            out["reason"] = (f"field set {g}: sensitivity {se:.2f} and specificity {sp:.2f} "
                             f"on held-out sources leave the correction undefined "
                             f"(Youden's J below {min_j})")
            return out
        corr = float(np.clip((p_obs + sp - 1) / (se + sp - 1), 0, 1))
        entry["corrected"] = round(corr, 6)
        fi = rng.integers(0, len(fk), n_draws)
        hi_ = rng.integers(0, len(hm), n_draws)
        se_d = rng.beta(fk[fi, 0] + 0.5, fk[fi, 1] - fk[fi, 0] + 0.5)
        sp_d = rng.beta(hm[hi_, 0] + 0.5, hm[hi_, 1] - hm[hi_, 0] + 0.5)
        p_d = rng.beta(k + 0.5, n_g - k + 0.5, n_draws)
        denom = se_d + sp_d - 1
        draw = np.where(denom > 1e-3, (p_d + sp_d - 1) / np.maximum(denom, 1e-3), np.nan)
        # a draw whose rates cannot tell the classes apart could put the share anywhere
        draw = np.where(np.isnan(draw), rng.random(n_draws), draw)
        total += share * np.clip(draw, 0, 1)
        point += share * corr
    alpha = (1 - level) / 2
    lo, hi = np.quantile(total, [alpha, 1 - alpha])
    out.update(corrected=round(point, 6), lo=round(float(min(lo, point)), 6),
               hi=round(float(max(hi, point)), 6))
    return out


def engagement_rates(received: np.ndarray, posts: np.ndarray | None,
                     followers: np.ndarray) -> np.ndarray:
    """Each account's engagement rate: interactions received per post (at least one:
    an account that did not post in the store's window is rated on what it received
    over the window) per 1,000 followers, the rate the trade compares, per follower so
    that a big audience does not look engaged by size alone. NaN where it is unknown:
    nothing received (no interaction is no measurement: a source may collect the
    engagement of some accounts only) or no follower.

    Examples
    --------
    >>> engagement_rates(np.array([30, 0, 5]), np.array([3, 4, 0]),
    ...                  np.array([1000, 50, 10])).tolist()
    [10.0, nan, 500.0]
    """
    r = np.asarray(received, np.float64)
    p = np.ones(r.shape[0]) if posts is None else np.maximum(np.asarray(posts, np.float64), 1)
    f = np.asarray(followers, np.float64)
    ok = (r > 0) & (f > 0)
    out = np.full(r.shape[0], np.nan)
    out[ok] = 1000.0 * r[ok] / p[ok] / f[ok]
    return out


def peer_percentile(rates: np.ndarray, followers: np.ndarray, v: int, *,
                    min_peers: int | None = None, factor: float | None = None) -> dict:
    """Where account ``v``'s engagement rate stands among accounts of similar size: the
    accounts whose follower count is within ``factor`` of ``v``'s (widened by that
    factor until at least ``min_peers`` accounts with a known rate are in; settings
    ``aqs_peer_factor``, ``aqs_min_peers``). The percentile counts ties half (mid-rank),
    so an account with the peers' median rate is at 0.5.

    Returns
    -------
    dict
        ``percentile`` (in [0, 1], None when ``v``'s rate is unknown), ``peers``,
        ``followers_from``, ``followers_to``, ``median_rate`` (the peers').

    Examples
    --------
    >>> rates = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    >>> peer_percentile(rates, np.array([100, 110, 90, 105, 100]), 3, min_peers=3)
    {'percentile': 0.875, 'peers': 4, 'followers_from': 52, 'followers_to': 210, 'median_rate': 2.5}
    """
    from . import config as _config
    min_peers = int(_config.value("aqs_min_peers", min_peers))
    factor = float(_config.value("aqs_peer_factor", factor))
    rates = np.asarray(rates, np.float64)
    fol = np.asarray(followers, np.float64)
    known = np.isfinite(rates)
    if not np.isfinite(rates[v]):
        return {"percentile": None, "peers": 0, "followers_from": None,
                "followers_to": None, "median_rate": None}
    size = max(float(fol[v]), 1.0)
    f = factor
    while True:
        lo, hi = size / f, size * f
        peers = known & (fol >= lo) & (fol <= hi)
        if peers.sum() >= min_peers or (lo <= 1 and hi >= fol.max(initial=0)):
            break
        f *= factor
    pr = rates[peers]
    pct = (float((pr < rates[v]).sum()) + 0.5 * float((pr == rates[v]).sum())) / pr.size
    return {"percentile": round(pct, 4), "peers": int(pr.size),
            "followers_from": int(np.floor(lo)), "followers_to": int(np.ceil(hi)),
            "median_rate": round(float(np.median(pr)), 4)}


def aqs_bands() -> list[dict]:
    """The score's bands, lowest first, with their ranges and colours: HypeAuditor's five
    bands from Poor to Excellent, with our cut points (settings ``aqs_band_*``).

    Examples
    --------
    >>> [b["band"] for b in aqs_bands()]
    ['Poor', 'Fair', 'Average', 'Good', 'Excellent']
    """
    cuts = [0.0] + [float(config.get(f"aqs_band_{n}")) for n in
                    ("fair", "average", "good", "excellent")] + [100.0]
    names = ("Poor", "Fair", "Average", "Good", "Excellent")
    colours = ("#b71c1c", "#bf360c", "#8a6d00", "#33691e", "#1b5e20")   # white text: 4.5:1+
    return [{"band": n, "from": cuts[i], "to": cuts[i + 1], "colour": colours[i]}
            for i, n in enumerate(names)]


def aqs_band(score: float) -> dict:
    """The band a score falls in (its lower bound included).

    Examples
    --------
    >>> aqs_band(67.8)["band"], aqs_band(92.6)["band"], aqs_band(0)["band"]
    ('Average', 'Excellent', 'Poor')
    """
    bands = aqs_bands()
    for b in reversed(bands):
        if score >= b["from"]:
            return b
    return bands[0]


def audience_quality_score(real_share: float, engaged_real_share: float | None,
                           bought_share: float) -> dict:
    """The Audience Quality Score (0 to 100) and its parts; formula in the module doc.
    ``engaged_real_share`` is the engagement part's value in [0, 1]; None when the
    account's engagement is unknown (no post, no interaction data): that part is then
    left out and the other weights scaled up to sum to 1, and the result says so.

    Examples
    --------
    >>> s = audience_quality_score(0.5, 0.5, 0.5)
    >>> s["score"], sorted(s["parts"]), s["band"]["band"]
    (50.0, ['authentic_engagement', 'organic_growth', 'real_audience'], 'Average')
    >>> audience_quality_score(0.5, None, 0.5)["parts"]["authentic_engagement"]["weight"]
    0.0
    """
    w_real = float(config.get("aqs_weight_real"))
    w_eng = float(config.get("aqs_weight_engagement"))
    w_growth = float(config.get("aqs_weight_growth"))
    unknown = engaged_real_share is None
    if unknown:
        w_eng = 0.0
    total = w_real + w_eng + w_growth
    bought = min(max(bought_share, 0.0), 1.0)
    eng = 0.0 if unknown else float(engaged_real_share)
    parts = {
        "real_audience": {"value": real_share, "weight": w_real / total,
                          "points": 100 * w_real / total * real_share},
        "authentic_engagement": {"value": None if unknown else eng,
                                 "weight": w_eng / total,
                                 "points": 100 * w_eng / total * eng},
        "organic_growth": {"value": 1 - bought, "weight": w_growth / total,
                           "points": 100 * w_growth / total * (1 - bought)},
    }
    score = sum(p["points"] for p in parts.values())
    for p in parts.values():
        p["points"] = round(p["points"], 2)
        p["value"] = None if p["value"] is None else round(float(p["value"]), 4)
        p["weight"] = round(p["weight"], 4)
    score = round(float(score), 1)
    return {"score": score, "band": aqs_band(score), "bands": aqs_bands(), "parts": parts,
            "engagement_known": not unknown,
            "formula": "100 * (w_real * real_share + w_engagement * engagement "
                       "+ w_growth * (1 - bought_share)); engagement = the percentile of "
                       "the authentic engagement rate (authentic interactions per post per "
                       "1,000 followers) among accounts of similar size"
                       + ("; engagement unknown here, so its weight goes to the other "
                          "parts" if unknown else "")}
