"""One account's audience audit: composition, engagement, growth, score and reasons.

:func:`audit_account` reads a fitted :class:`~trueclout.detect.ensemble.EnsembleDetector`
and its :class:`~trueclout.detect.data.DetectionData` and returns one JSON-ready dict:

- ``audience``: each follower's category (real, fake, bot, mass_follower, farm,
  inactive, uncertain; pod members count as farm) and the shares with 95% intervals (see
  :mod:`trueclout.audit_stats` for the Bayesian bootstrap and the stratified sampling
  design used when only part of the followers is known), and
  ``fake_share_corrected``: the classifier's fake share corrected for its measured
  sensitivity and specificity (Rogan-Gladen), with an interval that carries both the
  sampling and the error-rate uncertainty;
- ``engagement``: likes, reposts, replies, mentions and quotes received, the share from
  suspicious accounts, and whether the account sits in an engagement pod;
- ``growth``: the follower-count series, the anomalous periods with the estimated
  followers bought in each;
- ``aqs``: the Audience Quality Score and its parts;
- ``reasons``: the top reasons, in plain words.

Examples
--------
>>> from trueclout.detect.data import DetectionData
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.ensemble import neutral_ensemble
>>> data = DetectionData.from_graph(toy_graph())
>>> ens = neutral_ensemble().fit(data)
>>> a = audit_account(data, ens, "toy:cat", n_boot=200)
>>> a["audience"]["known_followers"], a["aqs"]["score"] > 0
(5, True)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from . import __version__
from .audit_stats import (CATEGORIES, audience_quality_score, composition, corrected_share,
                          share_ci)
from .accounts import resolve_account

_AUDIENCE_OF = {"pod": "farm", "customer": "real"}


def _iso(t: float | None) -> str | None:
    if t is None or not np.isfinite(t):
        return None
    return dt.datetime.fromtimestamp(float(t), tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _received(data, v: int) -> dict[str, np.ndarray]:
    """Sources of every interaction of each kind received by ``v``."""
    out = {}
    for kind, (indptr, indices, _ts) in data.graph.interactions.items():
        pos = np.flatnonzero(indices == v)
        out[kind] = (np.searchsorted(indptr, pos, side="right") - 1).astype(np.int64)
    return out


def _series(data, v: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Follower-count series of ``v``: snapshots if any, else cumulative follow times."""
    snaps = data.snapshots
    if snaps is not None:
        verts = snaps.column("vertex").to_numpy()
        lo, hi = np.searchsorted(verts, [v, v + 1])
        if hi - lo >= 2:
            ts = snaps.column("ts").to_numpy(zero_copy_only=False)[lo:hi].astype(float)
            c = snaps.column("followers_count").to_numpy(zero_copy_only=False)[lo:hi]
            c = np.asarray(c, dtype=float)
            ok = np.isfinite(ts) & np.isfinite(c)
            return ts[ok], c[ok], "profile snapshots"
    g = data.graph
    if g.in_ts is not None:
        t = g.in_ts[g.in_indptr[v]:g.in_indptr[v + 1]].astype(np.int64)
        known = np.sort(t[t > -2**31])
        unknown = (t <= -2**31).sum()
        if known.size >= 2:
            day = 86_400
            days = np.arange(known[0] // day, known[-1] // day + 2) * day
            counts = unknown + np.searchsorted(known, days, side="right")
            return days.astype(float), counts.astype(float), "follow times"
    return np.zeros(0), np.zeros(0), "none"


def audit_account(data, ensemble, account: str | int, *, n_boot: int | None = None,
                  seed: int = 0, db: str | None = None) -> dict[str, Any]:
    """Audit the audience of ``account``; see the module docstring for the sections.

    Parameters
    ----------
    data : DetectionData
    ensemble : EnsembleDetector
        Fitted on ``data``.
    account : str or int
        ``platform:account_id``, an account id, ``@handle``, or a vertex id.
    n_boot : int, optional
        Bootstrap replicates (default config ``audit_bootstrap``).
    seed : int
        Seed of the bootstrap.
    db : str, optional
        Store path, recorded in the report.

    Returns
    -------
    dict
    """
    from .detect.growth import growth_periods

    v = int(account) if isinstance(account, (int, np.integer)) else resolve_account(data, account)
    g = data.graph
    platform, account_id = g.name(v)
    prof = {c: data.profiles.column(c)[v].as_py() for c in data.profiles.column_names
            if c not in ("extra",)}
    followers = g.in_neighbors(v)
    known = int(followers.shape[0])
    reported = prof.get("followers_count")
    population = int(reported) if reported is not None and reported > known else known
    cats = np.asarray([_AUDIENCE_OF.get(c, c) for c in ensemble.category_[followers]],
                      dtype=object)
    fts = None
    if g.in_ts is not None:
        raw = g.in_ts[g.in_indptr[v]:g.in_indptr[v + 1]].astype(np.float64)
        fts = np.where(raw > -2**31, raw, np.nan)
    comp = composition(cats, follow_ts=fts, population=population, n_boot=n_boot, seed=seed)
    sampled = population > known
    corrected = classifier_correction(ensemble, followers, n_boot=n_boot, seed=seed)
    method = ("All followers are known: percentile bootstrap over followers."
              if not sampled else
              f"{known:,} of {population:,} followers are known: a sample, stratified by "
              "follow time (quantile strata, proportional weights), bootstrapped within "
              "strata, with the finite-population correction.")
    engagement = engagement_section(data, ensemble, v)
    # growth
    ts, counts, source = _series(data, v)
    periods = []
    if ts.size >= 3:
        for start, end, excess in growth_periods(ts, counts):
            gained = float(np.interp(end, ts, counts) - np.interp(start, ts, counts))
            periods.append({"start": _iso(start), "end": _iso(end), "gained": int(round(gained)),
                            "expected": int(round(max(gained - excess, 0))),
                            "excess": int(round(excess))})
    bought = int(sum(p["excess"] for p in periods))
    current = float(counts[-1]) if counts.size else float(population or 0)
    growth = {"series": {"time": [_iso(t) for t in ts], "followers": [int(c) for c in counts]},
              "source": source, "anomalous_periods": periods, "bought_estimate": bought,
              "bought_share": round(bought / current, 4) if current > 0 else 0.0}
    real_share = comp["real"]["share"]
    aqs = audience_quality_score(real_share, engagement["percentile"],
                                 growth["bought_share"])
    reasons = _reasons(comp, engagement, growth, ensemble, v)
    return {
        "account": {"platform": platform, "account_id": account_id, "vertex": v,
                    "handle": prof.get("handle"), "name": prof.get("name"),
                    "followers_count": reported, "followers_known": known,
                    "following_count": prof.get("following_count"),
                    "authenticity": round(float(ensemble.authenticity_[v]), 4),
                    "category": str(ensemble.category_[v]),
                    "flags": ensemble.top_reasons(v)},
        "audience": {"known_followers": known, "population": population, "sampled": sampled,
                     "composition": comp, "method": method,
                     "fake_share_corrected": corrected},
        "engagement": engagement,
        "growth": growth,
        "aqs": aqs,
        "reasons": reasons,
        "meta": {"version": __version__, "db": db,
                 "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "members": sorted(ensemble.members_), "skipped": ensemble.skipped_},
    }


def authentic_received(data, flagged: np.ndarray) -> np.ndarray:
    """Interactions of every kind each account received from accounts not flagged.

    Examples
    --------
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.graph.toy import toy_graph
    >>> authentic_received(DetectionData.from_graph(toy_graph()), np.zeros(6, bool)).tolist()
    [0.0, 1.0, 3.0, 0.0, 0.0, 1.0]
    """
    n = data.n
    out = np.zeros(n)
    for indptr, indices, _ts in data.graph.interactions.values():
        src = np.repeat(np.arange(n), np.diff(indptr))
        out += np.bincount(indices, weights=(~flagged[src]).astype(np.float64),
                           minlength=n)[:n]
    return out


def engagement_section(data, ensemble, v: int) -> dict:
    """The audit's engagement: interactions received (by kind, the share from authentic
    accounts with its Jeffreys interval), the authentic engagement rate (per post per
    1,000 known followers) and where it stands among accounts of similar size
    (:func:`~trueclout.audit_stats.peer_percentile`), pod membership. ``percentile`` is
    the AQS's engagement part; it and the shares are None when unknown (``why_unknown``
    says why: nothing received, no interactions in the store, no follower), never a
    perfect score for silence.

    Examples
    --------
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> data = DetectionData.from_graph(toy_graph())
    >>> e = engagement_section(data, neutral_ensemble().fit(data), 2)
    >>> e["total"], e["authentic_share"], e["rate"], e["percentile"]
    (3, 1.0, 600.0, 0.1667)
    >>> engagement_section(data, neutral_ensemble().fit(data), 3)["why_unknown"]
    'the account received no interaction in the store'

    """
    from .audit_stats import engagement_rates, peer_percentile
    flagged = np.asarray(ensemble.labels_).astype(bool)
    by_kind = {}
    all_src = []
    for kind, srcs in _received(data, v).items():
        all_src.append(srcs)
        by_kind[kind] = {"total": int(srcs.size),
                         "suspicious_share": float(flagged[srcs].mean()) if srcs.size else 0.0}
    srcs = np.concatenate(all_src) if all_src else np.zeros(0, np.int64)
    eng_ci = share_ci(~flagged[srcs])
    pods = ensemble.members_.get("pods")
    known_followers = data.graph.in_degree().astype(np.int64)
    posts = (np.asarray(data.activity.column("posts").to_numpy(zero_copy_only=False),
                        np.float64) if data.activity is not None else None)
    received = authentic_received(data, flagged)
    why = None
    if not data.graph.interactions:
        why = "the store holds no interactions (likes, replies, reposts, mentions)"
    elif srcs.size == 0:
        why = "the account received no interaction in the store"
    elif received[v] <= 0:
        why = "every interaction it received comes from flagged accounts"
    elif known_followers[v] <= 0:
        why = "the account has no follower in the store"
    rate, peers = None, {"percentile": None, "peers": 0, "followers_from": None,
                         "followers_to": None, "median_rate": None}
    if why is None:
        rates = engagement_rates(received, posts, known_followers)
        rate = round(float(rates[v]), 4)
        peers = peer_percentile(rates, known_followers, v)
    return {"total": int(srcs.size),
            "authentic_share": eng_ci["share"] if srcs.size else None,
            "authentic_lo": eng_ci["lo"] if srcs.size else None,
            "authentic_hi": eng_ci["hi"] if srcs.size else None,
            "posts": int(posts[v]) if posts is not None else None,
            "followers_known": int(known_followers[v]),
            "rate": rate, "rate_unit": "authentic interactions per post per 1,000 known "
                                        "followers",
            **peers, "why_unknown": why,
            "by_kind": by_kind, "in_pod": bool(pods is not None and pods.labels_[v])}


def error_counts(evaluation: dict) -> dict:
    """Per held-out source of a field set's evaluation: ``[caught, fakes]`` and
    ``[cleared, humans]`` at the classifier's threshold.

    Examples
    --------
    >>> error_counts({"sources": {"s": {"real": 10, "fake": 4, "fakes_caught": 0.5,
    ...                                 "humans_flagged": 0.1}}})
    {'fakes': [[2, 4]], 'humans': [[9, 10]]}
    """
    fakes, humans = [], []
    for r in (evaluation.get("sources") or {}).values():
        if r.get("fake") and r.get("fakes_caught") is not None:
            fakes.append([int(round(r["fakes_caught"] * r["fake"])), int(r["fake"])])
        if r.get("real") and r.get("humans_flagged") is not None:
            humans.append([int(round((1 - r["humans_flagged"]) * r["real"])), int(r["real"])])
    return {"fakes": fakes, "humans": humans}


def classifier_correction(ensemble, followers: np.ndarray, *, n_boot: int | None = None,
                          seed: int = 0) -> dict | None:
    """The share of fakes among the followers the classifier decided, corrected for its
    error rates measured on held-out sources (:func:`~trueclout.audit_stats.corrected_share`),
    or None when the ensemble has no classifier.

    Examples
    --------
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> classifier_correction(neutral_ensemble(), np.arange(3)) is None
    True
    """
    clf = ensemble.members_.get("classifier") if hasattr(ensemble, "members_") else None
    model = getattr(clf, "model_", None)
    if clf is None or model is None or not hasattr(clf, "field_set_"):
        return None
    fol = np.asarray(followers, dtype=np.int64)
    decided = fol[np.asarray(clf.judged_)[fol] & ~np.asarray(clf.uncertain_)[fol]]
    rates = {name: error_counts(m.evaluation) for name, m in model.models_.items()}
    out = corrected_share(np.asarray(clf.labels_)[decided] > 0, clf.field_set_[decided],
                          rates, n_draws=n_boot, seed=seed)
    out["uncertain"] = int(np.asarray(clf.uncertain_)[fol].sum())
    return out


def _reasons(comp: dict, eng: dict, growth: dict, ensemble, v: int) -> list[str]:
    out: list[tuple[float, str]] = []
    words = {"fake": "fake or bought", "bot": "bots", "mass_follower": "mass-followers",
             "farm": "follow-back farmers or pod members", "inactive": "inactive",
             "uncertain": "profiles the classifier could not judge"}
    for cat in CATEGORIES[1:]:
        c = comp[cat]
        if c["share"] >= 0.05 and c["count"] >= 3:
            out.append((c["share"], f"{100 * c['share']:.0f}% of followers are {words[cat]} "
                                    f"(95% CI {100 * c['lo']:.0f}-{100 * c['hi']:.0f}%)"))
    for p in growth["anomalous_periods"]:
        out.append((min(1.0, p["excess"] / max(1, p["gained"])),
                    f"gained {p['gained']:,} followers between {p['start']} and {p['end']}, "
                    f"about {p['excess']:,} more than its usual growth: likely bought"))
    if eng["percentile"] is not None and eng["percentile"] < 0.1:
        out.append((0.5, f"its authentic engagement rate ({eng['rate']:,.2f} per post per "
                         f"1,000 followers) is below {100 * (1 - eng['percentile']):.1f}% "
                         f"of the {eng['peers']:,} accounts of its size"))
    if eng["total"] >= 10 and eng["authentic_share"] < 0.9:
        out.append((1 - eng["authentic_share"],
                    f"{100 * (1 - eng['authentic_share']):.0f}% of the engagement it receives "
                    "comes from suspicious accounts"))
    if eng["in_pod"]:
        out.append((0.9, "it is part of an engagement pod that likes and replies to each "
                         "other within minutes"))
    for r in ensemble.top_reasons(v, self_only=True):
        out.append((0.95, f"the account itself: {r}"))
    out.sort(key=lambda x: -x[0])
    return [text for _, text in out[:5]]
