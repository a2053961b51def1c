"""Influence maximisation for a campaign: IMM (Tang, Shi & Xiao, SIGMOD 2015) over the
authentic follow graph, under the independent cascade with weighted-cascade
probabilities (:mod:`trueclout.kernels.rrsets`).

``plan --objective influence`` asks which creators, within the budget, would *spread* a
campaign furthest among authentic, relevant accounts, counting second-hand reach (a
follower's followers) as well as direct followers. Each activated account is worth its
audience weight × relevance (the same value as the reach objective); RR-set roots are
drawn in proportion to that value, so the share of RR sets a set of creators touches,
times the total value ``W``, estimates their expected spread.

How many RR sets (``θ``) follows IMM: a sampling phase finds a lower bound ``LB`` of the
best spread of ``k`` creators by doubling the number of sets until the greedy cover
passes ``(1 + ε')·x`` for ``x = W/2, W/4, ...``; then ``θ = λ*/LB`` with Tang et al.'s
``λ* = 2W((1 − 1/e)α + β)²/ε²``, ``α = √(ℓ ln W + ln 2)``,
``β = √((1 − 1/e)(ln C(s, k) + ℓ ln W + ln 2))`` and ``ε' = √2·ε``, where ``s`` is the
number of candidate creators and ``k`` the most the budget can buy. With probability at
least ``1 − W^(−ℓ)`` the greedy choice over these sets is within ``(1 − 1/e − ε)`` of the
best ``k`` creators for the cardinality problem; with costs the plan inherits the budgeted
cover's guarantee on the sampled objective (see :mod:`trueclout.discover.plan`). ``θ`` is
capped by ``discover_imm_max_sets``; the report says when the cap bound it.

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> inc = rr_incidence(g, np.array([2, 4]), np.ones(g.n), np.ones(g.n), 200, seed=0)
>>> inc["sets"], round(inc["scale"], 3)
(200, 0.03)
"""

from __future__ import annotations

import math

import numpy as np

from .. import config
from ..kernels.rrsets import rr_sets


def rr_incidence(graph, creators: np.ndarray, value: np.ndarray, relay: np.ndarray,
                 theta: int, *, seed: int = 0) -> dict:
    """Sample ``theta`` RR sets (roots ∝ ``value``) and return the creators × sets CSR.

    Returns
    -------
    dict
        ``indptr``, ``indices`` (creator rows over set ids), ``sets``, ``scale`` (the
        spread each touched set stands for: ``W / theta``), ``total`` (``W``) and
        ``members`` (RR-set entries drawn).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> rr_incidence(g, np.array([2]), np.zeros(g.n), np.ones(g.n), 10)["sets"]
    0
    """
    value = np.clip(np.asarray(value, dtype=np.float64), 0.0, None)
    creators = np.asarray(creators, dtype=np.int64)
    total = float(value.sum())
    if total <= 0 or theta <= 0:
        return {"indptr": np.zeros(creators.size + 1, np.int64),
                "indices": np.zeros(0, np.int64), "sets": 0, "scale": 0.0,
                "total": total, "members": 0}
    rng = np.random.default_rng(seed)
    roots = rng.choice(graph.n, size=int(theta), p=value / total)
    ptr, mem = rr_sets(graph.out_indptr, graph.out_indices, relay, roots, seed=seed)
    set_of = np.repeat(np.arange(int(theta), dtype=np.int64), np.diff(ptr))
    pos = np.full(graph.n, -1, np.int64)
    pos[creators] = np.arange(creators.size)
    row = pos[mem]
    hit = row >= 0
    row, sets = row[hit], set_of[hit]
    order = np.lexsort((sets, row))
    row, sets = row[order], sets[order]
    indptr = np.zeros(creators.size + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=creators.size), out=indptr[1:])
    return {"indptr": indptr, "indices": sets, "sets": int(theta),
            "scale": total / float(theta), "total": total, "members": int(mem.size)}


def _log_comb(s: int, k: int) -> float:
    k = max(0, min(k, s))
    return math.lgamma(s + 1) - math.lgamma(k + 1) - math.lgamma(s - k + 1)


def imm_theta(graph, creators: np.ndarray, value: np.ndarray, relay: np.ndarray, k: int,
              *, eps: float | None = None, ell: float = 1.0, seed: int = 0
              ) -> dict:
    """IMM's number of RR sets for choosing ``k`` of ``creators`` (module docstring).

    Returns
    -------
    dict
        ``theta``, ``lower_bound`` (of the best spread), ``capped`` (bool), ``eps``.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> r = imm_theta(g, np.array([2, 4]), np.ones(g.n), np.ones(g.n), 1, eps=0.5)
    >>> r["theta"] > 0, r["capped"]
    (True, False)
    """
    from .plan import budgeted_cover
    eps = float(config.value("discover_imm_eps", eps))
    cap = int(config.get("discover_imm_max_sets"))
    W = max(float(np.clip(value, 0, None).sum()), 2.0)
    s = max(int(np.asarray(creators).size), 1)
    k = max(1, min(int(k), s))
    logc = _log_comb(s, k)
    eps1 = math.sqrt(2.0) * eps
    lam1 = (2 + 2 / 3 * eps1) * (logc + ell * math.log(W) + math.log(max(math.log2(W), 1.0))) \
        * W / eps1 ** 2
    lb = 1.0
    for i in range(1, max(int(math.log2(W)), 1)):
        x = W / 2 ** i
        th = int(min(math.ceil(lam1 / x), cap))
        inc = rr_incidence(graph, creators, value, relay, th, seed=seed + i)
        _, gains, _ = budgeted_cover(inc["indptr"], inc["indices"], np.ones(th),
                                     np.ones(s), float(k), mode="greedy")
        covered = float(gains.sum()) / th * W
        if covered >= (1 + eps1) * x:
            lb = covered / (1 + eps1)
            break
        if th >= cap:
            break
    e = 1 - 1 / math.e
    alpha = math.sqrt(ell * math.log(W) + math.log(2))
    beta = math.sqrt(e * (logc + ell * math.log(W) + math.log(2)))
    lam_star = 2 * W * (e * alpha + beta) ** 2 / eps ** 2
    theta = int(math.ceil(lam_star / lb))
    return {"theta": min(theta, cap), "lower_bound": round(lb, 3), "capped": theta > cap,
            "eps": eps}
