"""The statistics of an audience audit: shares with confidence intervals, and the score.

Composition
    Each follower of the audited account falls in one category (real, fake, bot,
    mass_follower, farm, inactive). The share of each category comes with a 95% bootstrap
    interval.

    *All followers known.* Percentile bootstrap over followers (resampling with
    replacement), done exactly and fast as multinomial draws of the observed shares.

    *Only a sample known.* When the account reports ``N`` followers but the graph holds
    ``n < N`` of them, the known followers are treated as a sample. The design is
    stratified by follow time: strata are the quantiles of the known follow times (up to
    ``strata`` groups; one group when no times are known), and, because a crawl that lists
    followers newest-first or by pages is close to proportionate over time, each stratum
    is weighted by its share of the sample. Within each stratum the bootstrap resamples its
    followers; the stratified estimate is the weighted sum; the interval's half-widths are
    shrunk by the finite-population correction ``sqrt((N - n) / (N - 1))``.

Audience Quality Score
    ``AQS = 100 * (w_real * real_share + w_eng * engaged_real_share + w_growth *
    (1 - bought_share))`` with weights from config (``aqs_weight_*``, summing to 1). Each
    part is reported with the score. ``real_share`` is the composition's real share;
    ``engaged_real_share`` the share of engagement from authentic accounts (1 when the
    account received none); ``bought_share`` the estimated bought followers over current
    followers, capped at 1.

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
CATEGORIES = ("real", "fake", "bot", "mass_follower", "farm", "inactive")


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
    """Share of each category among followers, with a bootstrap interval.

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
    est = np.zeros(k)
    boot = np.zeros((n_boot, k))
    for g in np.unique(group):
        members = code[group == g]
        n_h = members.shape[0]
        w_h = n_h / n
        p_h = np.bincount(members, minlength=k) / n_h
        est += w_h * p_h
        boot += w_h * rng.multinomial(n_h, p_h, size=n_boot) / n_h
    alpha = (1 - level) / 2
    lo_q, hi_q = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    fpc = np.sqrt((pop - n) / (pop - 1)) if sample and pop > 1 else 1.0
    lo = np.clip(est - (est - lo_q) * fpc, 0, 1)
    hi = np.clip(est + (hi_q - est) * fpc, 0, 1)
    counts = np.bincount(code, minlength=k)
    for i, c in enumerate(CATEGORIES):
        result[c] = {"share": round(float(est[i]), 6), "lo": round(float(lo[i]), 6),
                     "hi": round(float(hi[i]), 6), "count": int(counts[i]),
                     "estimated": int(round(est[i] * pop))}
    return result


def share_ci(flags: np.ndarray, *, n_boot: int | None = None, level: float = 0.95,
             seed: int = 0) -> dict:
    """Share of true values with a bootstrap interval (for engagement shares).

    Examples
    --------
    >>> share_ci([True, False, False, False], seed=0)["share"]
    0.25
    >>> share_ci([])["share"]
    0.0
    """
    f = np.asarray(flags, dtype=bool)
    n = f.shape[0]
    if n == 0:
        return {"share": 0.0, "lo": 0.0, "hi": 0.0, "n": 0}
    n_boot = int(n_boot if n_boot is not None else config.get("audit_bootstrap"))
    p = f.mean()
    draws = np.random.default_rng(seed).binomial(n, p, size=n_boot) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return {"share": round(float(p), 6), "lo": round(float(lo), 6), "hi": round(float(hi), 6),
            "n": int(n)}


def audience_quality_score(real_share: float, engaged_real_share: float,
                           bought_share: float) -> dict:
    """The Audience Quality Score (0 to 100) and its parts; formula in the module doc.

    Examples
    --------
    >>> s = audience_quality_score(0.5, 0.5, 0.5)
    >>> s["score"], sorted(s["parts"])
    (50.0, ['authentic_engagement', 'organic_growth', 'real_audience'])
    """
    w_real = float(config.get("aqs_weight_real"))
    w_eng = float(config.get("aqs_weight_engagement"))
    w_growth = float(config.get("aqs_weight_growth"))
    total = w_real + w_eng + w_growth
    bought = min(max(bought_share, 0.0), 1.0)
    parts = {
        "real_audience": {"value": real_share, "weight": w_real / total,
                          "points": 100 * w_real / total * real_share},
        "authentic_engagement": {"value": engaged_real_share, "weight": w_eng / total,
                                 "points": 100 * w_eng / total * engaged_real_share},
        "organic_growth": {"value": 1 - bought, "weight": w_growth / total,
                           "points": 100 * w_growth / total * (1 - bought)},
    }
    score = sum(p["points"] for p in parts.values())
    for p in parts.values():
        p["points"] = round(p["points"], 2)
        p["value"] = round(float(p["value"]), 4)
        p["weight"] = round(p["weight"], 4)
    return {"score": round(float(score), 1), "parts": parts,
            "formula": "100 * (w_real * real_share + w_engagement * engaged_real_share "
                       "+ w_growth * (1 - bought_share))"}
