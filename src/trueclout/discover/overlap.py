"""How much the authentic audiences of some creators overlap, and what each adds alone.

The authentic audience of a creator is the set of its followers that the ensemble does
not flag, each weighing :func:`~trueclout.discover.targets.audience_weight` (the
authenticity gate × activity). For every pair ``A, B`` :func:`audience_overlap` reports
both **counts** (``|A∩B|``, Jaccard ``|A∩B| / |A∪B|``) and **weighted** figures (the
authentic reach in common, weighted Jaccard, the share of ``A``'s authentic reach also in
``B``); for every creator its **unique** audience (followers no other listed creator
has), and the union of all.

Two methods (``method="auto"`` picks by the total number of follower entries ``D`` of
the listed creators, against ``discover_overlap_exact_max``):

``exact``
    A merge of the creators' sorted follower rows
    (:func:`trueclout.kernels.minhash.merge_rows`), ``O(D·C)`` for ``C`` creators.
``minhash``
    Bottom-k MinHash sketches (:func:`trueclout.kernels.minhash.bottom_k`, ``k =
    discover_minhash_k``, a fixed seed). The ``k`` smallest hashes of a union are a
    uniform sample of it, with each sampled follower's membership of every audience,
    so any share of the union is estimated by the same share of the sample. Sizes and
    authentic reach of each creator are exact (one pass); the overlap is derived::

        J  = (sampled followers in both) / (sampled)      SE(J) = sqrt(J̃ (1 − J̃) / k)
        |A∩B| = J (|A| + |B|) / (1 + J)                    SE = (|A| + |B|) / (1 + J)² · SE(J)

    with ``J̃ = (in both + 1) / (sampled + 2)`` (Laplace smoothing, so that an estimate of
    0 still carries its error), and the same with weights (``r = Σ w·[in both] / Σ w``
    over the sample, ``k`` replaced by Kish's effective sample size ``(Σ w)² / Σ w²``).
    Every estimate carries its standard error (``*_se``); the standard error of a
    Jaccard estimate is at most ``1/(2√k)`` (0.016 for ``k = 1024``), and 0 when the
    union has at most ``k`` followers (the sketch then holds all of it). Unique reach
    and the union come from the sample of the union of all listed creators; their
    standard errors leave out the (smaller)
    error of the union's size.

Examples
--------
>>> from trueclout.discover.targets import toy_context
>>> r = audience_overlap(toy_context(), ["toy:cat", "toy:eve"])
>>> p = r["pairs"][0]
>>> (p["common"], p["jaccard"], p["share_b_in_a"]), r["union"]["audience"]
((2, 0.4, 1.0), 5)
>>> [(c["account"], c["unique_audience"]) for c in r["creators"]]
[('toy:cat', 3), ('toy:eve', 0)]
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import config
from ..errors import UsageError
from ..kernels.minhash import bottom_k, merge_rows, sketch_union
from .targets import account_label, audience_weight, follower_fields, handles, resolve_many

METHODS = ("auto", "exact", "minhash")


def _creators(ctx, creators: Sequence) -> np.ndarray:
    items = list(creators)
    if len(items) < 2:
        raise UsageError("give at least two creators to compare")
    if all(isinstance(c, (int, np.integer)) for c in items):
        v = np.asarray(items, dtype=np.int64)
        if v.min() < 0 or v.max() >= ctx.n:
            raise UsageError(f"creator vertices must be in 0..{ctx.n - 1}")
    else:
        v = resolve_many(ctx.data, [str(c) for c in items])
    seen: dict[int, int] = {}
    for i, x in enumerate(v.tolist()):
        if x in seen:
            raise UsageError(f"{items[i]!r} names the same account as "
                             f"{items[seen[x]]!r}; list each creator once")
        seen[x] = i
    return v


def _round(x: float) -> float:
    return round(float(x), 4)


def _share(w: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Weighted share ``Σ w b / Σ w`` of a sample and its standard error.

    The error is binomial with Kish's effective sample size ``(Σ w)² / Σ w²`` (the
    sample size itself when weights are equal), at the share smoothed by one pseudo
    element of each kind (Laplace), so that a share estimated as 0 or 1 still carries
    an error: ``sqrt(p̃ (1 − p̃) / n_eff)``, ``p̃ = (Σ w b + w̄) / (Σ w + 2 w̄)``.
    """
    tot = float(w.sum())
    if tot <= 0:
        return 0.0, 0.0
    hit = float((w * b).sum())
    mean = tot / w.shape[0]
    n_eff = tot * tot / float((w * w).sum())
    p = (hit + mean) / (tot + 2 * mean)
    return hit / tot, math.sqrt(p * (1 - p) / n_eff)


def audience_overlap(ctx, creators: Sequence, *, method: str = "auto", k: int | None = None,
                     seed: int | None = None, relevance: np.ndarray | None = None) -> dict:
    """Pairwise overlap, unique reach and union of the creators' authentic audiences.

    Parameters
    ----------
    ctx : ScoreContext
    creators : sequence of str or int
        At least two accounts (``platform:account_id``, id, ``@handle``) or vertex ids.
    method : {"auto", "exact", "minhash"}
    k : int, optional
        MinHash sketch size (default ``discover_minhash_k``).
    seed : int, optional
        MinHash hash salt (default ``discover_minhash_seed``).
    relevance : float array in [0, 1], optional
        A target's relevance per account (:class:`~trueclout.discover.targets.Target`):
        each follower then weighs ``audience_weight · relevance``, as in
        :func:`~trueclout.discover.plan.plan_budget`, so the reach figures are the
        *relevant* reach a plan for the same target counts (``relevant`` is True), and
        only followers with some relevance are in the audiences.

    Returns
    -------
    dict
        ``method``, ``k``, ``follower_entries``, ``relevant``; ``creators`` (per
        creator: account, handle, followers_count, followers_known, flagged, audience,
        authentic_reach, unique_audience, unique_reach, unique_share); ``pairs`` (a, b, common, common_reach, jaccard,
        weighted_jaccard, share_a_in_b, share_b_in_a); ``union`` (audience, reach); with
        MinHash the standard errors (``*_se``) and ``error`` (the stated bound).

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> r = audience_overlap(toy_context(), [2, 4], method="minhash", k=16)
    >>> r["method"], r["pairs"][0]["common"], r["pairs"][0]["jaccard_se"]
    ('minhash', 2, 0.0)
    """
    if method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    v = _creators(ctx, creators)
    g = ctx.graph
    w = audience_weight(ctx)
    if relevance is not None:
        rel = np.asarray(relevance, np.float32)
        if rel.shape != w.shape or not np.all(np.isfinite(rel)) or rel.min(initial=0) < 0 \
                or rel.max(initial=0) > 1:
            raise UsageError("relevance must be one value in [0, 1] per account")
        w = (w * rel).astype(np.float32)
    entries = int(sum(g.in_indptr[x + 1] - g.in_indptr[x] for x in v))
    if method == "auto":
        method = "exact" if entries <= int(config.get("discover_overlap_exact_max")) \
            else "minhash"
    if method == "exact":
        res = _exact(g, v, w)
    else:
        k = int(config.value("discover_minhash_k", k))
        seed = int(config.value("discover_minhash_seed", seed))
        if k < 2:
            raise UsageError("the MinHash sketch size k must be at least 2")
        res = _minhash(g, v, w, k, seed)
    names = [account_label(ctx.data, x) for x in v]
    hs = handles(ctx.data, v)
    sus = np.asarray(ctx.suspicious, bool)
    counts = follower_fields(ctx.data, v)
    for i, c in enumerate(res["creators"]):
        c.update(account=names[i], handle=hs[i], **counts[i], flagged=bool(sus[v[i]]))
        res["creators"][i] = {key: c[key] for key in
                              ("account", "handle", "followers_count", "followers_known",
                               "flagged", "audience",
                               "authentic_reach", "unique_audience", "unique_reach",
                               "unique_share", *[x for x in c if x.endswith("_se")])}
    for p in res["pairs"]:
        p["a"], p["b"] = names[p.pop("i")], names[p.pop("j")]
    res["pairs"] = [{"a": p["a"], "b": p["b"], **{x: y for x, y in p.items()
                                                  if x not in ("a", "b")}}
                    for p in res["pairs"]]
    return {"method": method, "k": res.pop("k", None), "follower_entries": entries,
            "relevant": relevance is not None, **res}


def pair_overlap(i, j, ca, cb, inter, wa, wb, inter_w):
    """One pair's overlap row from its audience sizes ``ca``, ``cb``, common audience
    ``inter`` and their authentic reaches ``wa``, ``wb``, ``inter_w`` (the local and the
    Spark overlap build it the same way).

    Examples
    --------
    >>> pair_overlap(0, 1, 10, 10, 5, 8.0, 8.0, 4.0)["jaccard"]
    0.3333
    """
    union = ca + cb - inter
    wunion = wa + wb - inter_w
    return {"i": i, "j": j, "common": int(round(inter)), "common_reach": _round(inter_w),
            "jaccard": _round(inter / union) if union > 0 else 0.0,
            "weighted_jaccard": _round(inter_w / wunion) if wunion > 0 else 0.0,
            "share_a_in_b": _round(inter_w / wa) if wa > 0 else 0.0,
            "share_b_in_a": _round(inter_w / wb) if wb > 0 else 0.0}


def creator_overlap(count, reach, ucount, ureach):
    """One creator's row: audience, authentic reach and the unique parts of both.

    Examples
    --------
    >>> creator_overlap(10, 8.0, 4, 2.0)["unique_share"]
    0.25
    """
    return {"audience": int(round(count)), "authentic_reach": _round(reach),
            "unique_audience": int(round(ucount)), "unique_reach": _round(ureach),
            "unique_share": _round(ureach / reach) if reach > 0 else 0.0}


def _exact(g, v, w) -> dict:
    inter, inter_w, uniq, uniq_w, union, union_w = merge_rows(g.in_indptr, g.in_indices, v, w)
    c = v.shape[0]
    creators = [creator_overlap(inter[i, i], inter_w[i, i], uniq[i], uniq_w[i]) for i in range(c)]
    pairs = [pair_overlap(i, j, inter[i, i], inter[j, j], inter[i, j], inter_w[i, i],
                   inter_w[j, j], inter_w[i, j]) for i in range(c) for j in range(i + 1, c)]
    return {"creators": creators, "pairs": pairs,
            "union": {"audience": int(union), "reach": _round(union_w)}}


def _minhash(g, v, w, k: int, seed: int) -> dict:
    sig, ids, size = bottom_k(g.in_indptr, g.in_indices, v, w, k=k, seed=seed)
    wf = w.astype(np.float64)
    reach = np.array([float(wf[g.in_neighbors(x)].sum()) for x in v])
    c = v.shape[0]
    pairs = []
    for i in range(c):
        for j in range(i + 1, c):
            sample, member = sketch_union(sig, ids, np.array([i, j]), k)
            s = sample.shape[0]
            both = (member[:, 0] & member[:, 1]).astype(np.float64)
            exact = s < k  # the sketch holds the whole union
            jac, se_j = _share(np.ones(s), both) if s else (0.0, 0.0)
            r, se_r = _share(wf[sample], both)
            if exact:
                se_j = se_r = 0.0
            na, nb = float(size[i]), float(size[j])
            inter = jac * (na + nb) / (1 + jac)
            inter_w = r * (reach[i] + reach[j]) / (1 + r)
            p = pair_overlap(i, j, na, nb, inter, reach[i], reach[j], inter_w)
            se_iw = (reach[i] + reach[j]) / (1 + r) ** 2 * se_r
            p.update(jaccard_se=_round(se_j),
                     common_se=_round((na + nb) / (1 + jac) ** 2 * se_j),
                     common_reach_se=_round(se_iw),
                     share_a_in_b_se=_round(se_iw / reach[i]) if reach[i] > 0 else 0.0,
                     share_b_in_a_se=_round(se_iw / reach[j]) if reach[j] > 0 else 0.0)
            pairs.append(p)
    # the union of all, and what only one creator reaches
    sample, member = sketch_union(sig, ids, np.arange(c), k)
    s = sample.shape[0]
    exact = s < k
    ws = wf[sample]
    m = member.sum(axis=1)
    if s:
        union_n = float(size.sum()) * s / float(m.sum())
        union_w = float(reach.sum()) * float(ws.sum()) / float((ws * m).sum()) \
            if float((ws * m).sum()) > 0 else 0.0
    else:
        union_n = union_w = 0.0
    creators = []
    for i in range(c):
        only = (member[:, i] & (m == 1)).astype(np.float64)
        p_n, se_n = _share(np.ones(s), only) if s else (0.0, 0.0)
        p_w, se_w = _share(ws, only)
        if exact:
            se_n = se_w = 0.0
        cr = creator_overlap(size[i], reach[i], p_n * union_n, p_w * union_w)
        cr.update(unique_audience_se=_round(se_n * union_n),
                  unique_reach_se=_round(se_w * union_w))
        creators.append(cr)
    return {"k": k, "creators": creators, "pairs": pairs,
            "union": {"audience": int(round(union_n)), "reach": _round(union_w)},
            "error": {"jaccard_se_max": _round(0.5 / math.sqrt(k)),
                      "note": f"MinHash (bottom-{k} sketches): estimates carry standard "
                              "errors (*_se); a Jaccard estimate's is at most "
                              f"{0.5 / math.sqrt(k):.3f}"}}
