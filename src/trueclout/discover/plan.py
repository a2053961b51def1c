"""Plan a campaign: which creators to pay, within a budget, for the most unique, relevant,
authentic reach.

Every follower ``u`` of a candidate creator is worth ``audience_weight[u] ·
relevance[u]`` (authentic, active, in the target), and a plan's **reach** counts each
follower **once**, however many chosen creators it follows: budgeted maximum weighted
coverage, a monotone submodular objective. Creators the ensemble flags are never chosen.

Modes (``mode``; the kernels are in :mod:`trueclout.kernels.coverage`):

``greedy``
    Lazy greedy (CELF, Leskovec et al., KDD 2007) on marginal reach per unit cost,
    dropping creators that no longer fit, compared with the best single affordable
    creator; the better is returned (Khuller, Moss & Naor, IPL 1999). Guarantee: at
    least **½(1 − 1/e) ≈ 0.316** of the best plan's reach. ``O(D log S)`` in practice for
    ``D`` follower entries of ``S`` candidates.
``enumerate``
    Partial enumeration (Khuller et al. 1999; Sviridenko, Oper. Res. Lett. 2004): every
    affordable choice of up to ``discover_plan_enum_size`` (3) creators is completed
    greedily, and the best plan kept. Guarantee: at least **(1 − 1/e) ≈ 0.632** of the
    best plan's reach with size 3 (½(1 − 1/e) with 1 or 2). When there are no more
    candidates than the enumeration size, every plan is tried and the answer is optimal.
    ``O(S^3)`` greedy runs.
``auto`` (default)
    ``enumerate`` when (choices to complete) × ``D`` is at most
    ``discover_plan_enum_max_work``, else ``greedy``.

With ``max_creators`` as well as a budget there are two constraints, and neither bound
is proven; the plan still never exceeds either. The report states which guarantee holds.

Examples
--------
>>> from trueclout.discover.targets import toy_context
>>> ctx = toy_context()
>>> p = plan_budget(ctx, {"toy:cat": 10, "toy:eve": 2, "toy:ana": 3}, budget=5)
>>> [(c["account"], c["marginal_reach"]) for c in p["creators"]]
[('toy:eve', 2.0), ('toy:ana', 2.0)]
>>> p["reach"], p["spent"], p["left"], p["optimal"]
(4.0, 5.0, 0.0, True)
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pyarrow as pa

from .. import config
from ..errors import InputError, UsageError
from ..kernels.coverage import enumerate_cover, greedy_cover, set_values
from .targets import account_label, audience_weight, handles, resolve_many

MODES = ("auto", "greedy", "enumerate")
OBJECTIVES = ("reach", "influence")
_HALF = 0.5 * (1 - 1 / math.e)
_FULL = 1 - 1 / math.e


# -- the costs file --------------------------------------------------------------------------
#: How a price is given: per post (``cost``, or ``price``, columns) or per 1,000
#: followers (``cpm``: cost per mille, of the platform's follower count).
PRICES = ("post", "cpm")


def parse_costs(path) -> tuple[list[str], list[float], list[int], str]:
    """Read a prices file without resolving its accounts: CSV with a column ``account``
    and one of ``cost`` (or ``price``: the price of a post) or ``cpm`` (the price per
    1,000 followers; any order, other columns ignored).

    Errors (:class:`InputError`, with the line): a missing column, an empty or
    non-numeric price, a negative or infinite price, or no rows at all.

    Returns
    -------
    specs : list of str
    prices : list of float
    lines : list of int
    unit : ``"post"`` or ``"cpm"``

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "prices.csv")
    ...     _ = open(p, "w").write("account,cpm\\n@ana,12.5\\n")
    ...     parse_costs(p)
    (['@ana'], [12.5], [2], 'cpm')
    """
    path = Path(path)
    p = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=p) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=p) from None
    return parse_cost_text(text, p)


def parse_cost_text(text: str, path: str | None = None
                    ) -> tuple[list[str], list[float], list[int], str]:
    """:func:`parse_costs` of a text (the dashboard's price box); ``path`` names it in
    errors.

    Examples
    --------
    >>> parse_cost_text("account,cost\\n@ana,250\\n@ben,90.5\\n")
    (['@ana', '@ben'], [250.0, 90.5], [2, 3], 'post')
    """
    p = path
    rows = list(csv.reader(io.StringIO(text)))
    head_i = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if head_i is None:
        raise InputError("the costs file is empty (expected a header: account,cost or "
                         "account,cpm)", path=p)
    cols = [c.strip().lower() for c in rows[head_i]]
    price_col = next((c for c in ("cost", "price", "cpm") if c in cols), None)
    missing = [c for c in ("account",) if c not in cols] + ([] if price_col else ["cost"])
    if missing:
        raise InputError(f"missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(m) for m in missing)} (found "
                         f"{', '.join(repr(c) for c in cols)}; expected account,cost "
                         "(a price per post) or account,cpm (per 1,000 followers))",
                         path=p, line=head_i + 1)
    ja, jc = cols.index("account"), cols.index(price_col)
    specs, costs, lines = [], [], []
    for i in range(head_i + 1, len(rows)):
        r = rows[i]
        line = i + 1
        if not any(c.strip() for c in r):
            continue
        acc = r[ja].strip() if ja < len(r) else ""
        raw = r[jc].strip() if jc < len(r) else ""
        if not acc:
            raise InputError("empty account", path=p, line=line, field="account")
        if not raw:
            raise InputError(f"empty {price_col}", path=p, line=line, field=price_col)
        try:
            x = float(raw)
        except ValueError:
            raise InputError(f"{price_col} {raw!r} is not a number", path=p, line=line,
                             field=price_col) from None
        if not math.isfinite(x):
            raise InputError(f"{price_col} {raw!r} is not a finite number", path=p,
                             line=line, field=price_col)
        if x < 0:
            raise InputError(f"{price_col} {raw!r} is negative", path=p, line=line,
                             field=price_col)
        specs.append(acc)
        costs.append(x)
        lines.append(line)
    if not specs:
        raise InputError("no creators in the costs file", path=p)
    return specs, costs, lines, "cpm" if price_col == "cpm" else "post"


def post_prices(data, vertices: np.ndarray, prices: np.ndarray, unit: str) -> np.ndarray:
    """Prices per post: ``prices`` as they are for ``unit="post"``; for ``"cpm"`` (per
    1,000 followers) times each creator's follower count on its platform (the followers
    known to the store where the platform gives no count) / 1,000, in cents.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> d = toy_context().data
    >>> post_prices(d, np.array([2]), np.array([10.0]), "cpm").tolist()   # 5 followers
    [0.05]
    """
    if unit not in PRICES:
        raise UsageError(f"prices must be per {' or '.join(PRICES)}, not {unit!r}")
    p = np.asarray(prices, np.float64)
    if unit == "post":
        return p
    v = np.asarray(vertices, np.int64)
    count = data.column("followers_count")[v]
    known = data.graph.in_degree()[v].astype(np.float64)
    return np.round(p * np.where(np.isfinite(count), count, known) / 1000.0, 2)


def read_costs(data, path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Read a costs file (:func:`parse_costs`) and resolve its accounts; prices per 1,000
    followers (``cpm``) become prices per post (:func:`post_prices`).

    Errors (:class:`InputError`, with the line): those of :func:`parse_costs`, an unknown
    account, an account listed twice.

    Returns
    -------
    vertices : int64 array
    costs : float64 array
    lines : list of int

    Examples
    --------
    >>> import tempfile, os
    >>> from trueclout.discover.targets import toy_context
    >>> d = toy_context().data
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "costs.csv")
    ...     _ = open(p, "w").write("account,cost\\ntoy:cat,100\\neve,25.5\\n")
    ...     v, c, _ = read_costs(d, p)
    ...     _ = open(p, "w").write("account,cost\\ntoy:cat,100\\neve,-3\\n")
    ...     read_costs(d, p)
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: ...costs.csv:3: cost: cost '-3' is negative
    >>> v.tolist(), c.tolist()
    ([2, 4], [100.0, 25.5])
    """
    specs, costs, lines, unit = parse_costs(path)
    p = str(path)
    v = resolve_many(data, specs, path=p, lines=lines)
    first: dict[int, int] = {}
    for x, s, line in zip(v.tolist(), specs, lines):
        if x in first:
            raise InputError(f"{s!r} is listed twice (lines {first[x]} and {line}); give "
                             "each creator one cost", path=p, line=line, field="account")
        first[x] = line
    return v, post_prices(data, v, np.asarray(costs, np.float64), unit), lines


def _costs(ctx, costs, price: str = "post") -> tuple[np.ndarray, np.ndarray]:
    if isinstance(costs, (str, Path)):
        v, c, _ = read_costs(ctx.data, costs)
        return v, c
    if isinstance(costs, dict):
        keys = list(costs)
        vals = [costs[k] for k in keys]
    else:
        keys, vals = costs
        keys = list(keys)
    if all(isinstance(k, (int, np.integer)) for k in keys):
        v = np.asarray(keys, dtype=np.int64)
        if v.size and (v.min() < 0 or v.max() >= ctx.n):
            raise UsageError(f"creator vertices must be in 0..{ctx.n - 1}")
    else:
        v = resolve_many(ctx.data, [str(k) for k in keys])
    try:
        c = np.asarray(vals, dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError("costs must be numbers") from None
    if v.size == 0:
        raise UsageError("no candidate creators")
    if np.unique(v).size != v.size:
        raise UsageError("a creator is listed twice; give each creator one cost")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise UsageError("costs must be finite and not negative")
    return v, post_prices(ctx.data, v, c, price)


def _biadjacency(g, creators: np.ndarray, value: np.ndarray):
    """Local creator × follower CSR over the followers of positive value."""
    rows = [g.in_neighbors(c) for c in creators]
    rows = [r[value[r] > 0] for r in rows]
    counts = np.array([r.shape[0] for r in rows], np.int64)
    indptr = np.zeros(creators.shape[0] + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = np.concatenate(rows) if rows else np.zeros(0, np.int32)
    elems, local = np.unique(flat, return_inverse=True)
    return indptr, local.astype(np.int64), elems, value[elems].astype(np.float64)


def _choices(s: int, size: int) -> int:
    return sum(math.comb(s, t) for t in range(0, min(size, s) + 1))


def budgeted_cover(indptr: np.ndarray, indices: np.ndarray, value: np.ndarray,
                   cost: np.ndarray, budget: float, *, max_sets: int | None = None,
                   mode: str = "auto", size: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Budgeted maximum coverage of the sets (CSR rows) in one of the :data:`MODES`.

    Parameters
    ----------
    indptr, indices : CSR of sets (creators) over elements (followers)
    value : float array
        Worth of each element.
    cost : float array
        Cost of each set.
    budget : float
    max_sets : int, optional
    mode : {"auto", "greedy", "enumerate"}
    size : int, optional
        Enumeration size (default ``discover_plan_enum_size``).

    Returns
    -------
    chosen : int64 array
        Sets in the order added.
    gains : float64 array
        Marginal value of each.
    info : dict
        ``mode`` (the one run), ``guarantee`` (in words), ``bound`` (the proven share of
        the optimum, or None) and ``optimal``.

    Examples
    --------
    >>> ip, ix = np.array([0, 1, 11]), np.arange(11)
    >>> ch, gains, info = budgeted_cover(ip, ix, np.ones(11), np.array([1.0, 10.0]), 10.0,
    ...                                  mode="greedy")
    >>> ch.tolist(), info["bound"]
    ([1], 0.3161)
    >>> budgeted_cover(ip, ix, np.ones(11), np.array([1.0, 10.0]), 10.0)[2]["optimal"]
    True
    """
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    size = int(config.value("discover_plan_enum_size", size))
    n_sets = len(indptr) - 1
    entries = int(indptr[-1]) if n_sets else 0
    if mode == "auto":
        work = _choices(n_sets, size) * max(entries, 1)
        mode = "enumerate" if work <= int(config.get("discover_plan_enum_max_work")) \
            else "greedy"
    if n_sets == 0:
        chosen, gains = np.zeros(0, np.int64), np.zeros(0)
    elif mode == "greedy":
        chosen, gains = greedy_cover(indptr, indices, value, cost, budget,
                                     max_sets=max_sets)
        alone = set_values(indptr, indices, value)
        alone[np.asarray(cost) > budget] = -1.0
        best = int(np.argmax(alone))
        if (max_sets is None or max_sets >= 1) and alone[best] > gains.sum():
            chosen, gains = np.array([best], np.int64), alone[[best]]
    else:
        chosen, gains = enumerate_cover(indptr, indices, value, cost, budget, size=size,
                                        max_sets=max_sets)
    optimal = mode == "enumerate" and n_sets <= size
    bound = _FULL if (mode == "enumerate" and size >= 3) else _HALF
    if optimal:
        guarantee = "optimal: every affordable plan was tried"
        bound = 1.0
    elif mode == "enumerate":
        guarantee = (f"at least {bound:.3f} of the best plan (partial enumeration of "
                     f"{size}; Sviridenko 2004)")
    else:
        guarantee = (f"at least {bound:.3f} of the best plan (lazy greedy or the best "
                     "single creator; Khuller, Moss & Naor 1999)")
    if max_sets is not None and len(chosen) >= int(max_sets) and not optimal:
        guarantee = ("no proven bound: the creator limit bound the plan as well as the "
                     "budget (" + guarantee + " holds for the budget alone)")
        bound = None
    return chosen, gains, {"mode": mode, "guarantee": guarantee, "optimal": optimal,
                           "bound": None if bound is None else round(bound, 4)}


def plan_budget(ctx, costs, budget: float, *, relevance: np.ndarray | None = None,
                max_creators: int | None = None, mode: str = "auto",
                target_label: str = "", objective: str = "reach", seed: int = 0,
                price: str = "post") -> dict:
    """Choose creators within ``budget`` for the most unique, relevant, authentic reach.

    Parameters
    ----------
    ctx : ScoreContext
    costs : dict, (creators, costs) pair, or path
        Creator (``platform:account_id``, id, ``@handle`` or vertex id) to its price; a
        path is read with :func:`read_costs` (its header says the unit).
    price : {"post", "cpm"}
        What the prices of a dict or pair are: per post (the cost), or per 1,000 of the
        creator's followers on its platform (:func:`post_prices`).
    budget : float
    relevance : float array in [0, 1], optional
        Per account (a target's ``relevance``); default 1 everywhere.
    max_creators : int, optional
        At most this many creators.
    mode : {"auto", "greedy", "enumerate"}
    target_label : str
        The target in words, for the report.
    objective : {"reach", "influence"}
        ``reach`` (default): unique relevant authentic followers. ``influence``: the
        expected spread among authentic, relevant accounts under the independent
        cascade, estimated with IMM's reverse-reachable sets
        (:mod:`trueclout.discover.imm`); the report adds ``imm``.
    seed : int
        Seed of the RR-set sampling (``influence`` only).

    Returns
    -------
    dict
        ``creators`` (in the order chosen: account, handle, cost, followers_count (the
        platform's count, None where unknown), followers_known (in the store),
        relevant_reach alone, marginal_reach, cumulative_reach, cumulative_cost),
        ``reach``, ``reach_if_summed`` (what adding the creators' reach up would claim),
        ``spent``, ``left``, ``budget``, ``mode``, ``guarantee``, ``optimal``,
        ``candidates``, ``excluded`` (flagged or unaffordable candidates, with handle
        and why), ``target``, ``budget_note`` (None, or why the budget buys nothing or
        everything: below the cheapest candidate, or above all of them together) and
        ``candidates_cost`` (what every unflagged candidate costs together).

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> ctx = toy_context(suspicious=[2])     # cat is flagged: never chosen
    >>> p = plan_budget(ctx, {"toy:cat": 1, "toy:ana": 1, "toy:eve": 1}, 2, mode="greedy")
    >>> [c["account"] for c in p["creators"]], p["excluded"][0]["why"]
    (['toy:eve', 'toy:ana'], 'flagged as suspicious')
    >>> p["guarantee"]
    'at least 0.316 of the best plan (lazy greedy or the best single creator; Khuller, Moss & Naor 1999)'
    """
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        budget = float(budget)
    except (TypeError, ValueError):
        raise UsageError(f"the budget must be a number, not {budget!r}") from None
    if not math.isfinite(budget) or budget < 0:
        raise UsageError("the budget must be a finite number, not negative")
    if max_creators is not None and int(max_creators) < 1:
        raise UsageError("--max-creators must be at least 1")
    v, c = _costs(ctx, costs, price)
    g = ctx.graph
    w = audience_weight(ctx).astype(np.float64)
    rel = np.ones(ctx.n) if relevance is None else np.asarray(relevance, np.float64)
    if rel.shape != (ctx.n,) or np.any(~np.isfinite(rel)) or np.any(rel < 0) \
            or np.any(rel > 1):
        raise UsageError("relevance must be one value in [0, 1] per account")
    value = w * rel
    sus = np.asarray(ctx.suspicious, bool)
    excluded = []
    keep = np.ones(v.shape[0], bool)
    vh = handles(ctx.data, v)
    for i, x in enumerate(v.tolist()):
        why = "flagged as suspicious" if sus[x] else \
            ("costs more than the budget" if c[i] > budget else None)
        if why:
            keep[i] = False
            excluded.append({"account": account_label(ctx.data, x), "handle": vh[i],
                             "cost": float(c[i]), "why": why})
    honest = c[~sus[v]]
    note = _budget_note(budget, honest)
    cv, cc = v[keep], c[keep]
    if objective not in OBJECTIVES:
        raise UsageError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    imm = None
    if objective == "influence":
        from .imm import imm_theta, rr_incidence
        k = int(np.searchsorted(np.cumsum(np.sort(cc)), budget, side="right"))
        if max_creators is not None:
            k = min(k, int(max_creators))
        imm = imm_theta(g, cv, value, w, max(k, 1), seed=seed)
        inc = rr_incidence(g, cv, value, w, imm["theta"], seed=seed)
        indptr, indices = inc["indptr"], inc["indices"]
        evalue = np.full(inc["sets"], inc["scale"])
        imm.update({"sets": inc["sets"], "rr_entries": inc["members"], "k": k,
                    "model": "independent cascade, weighted cascade probabilities; "
                             "authentic accounts relay"})
    else:
        indptr, indices, elems, evalue = _biadjacency(g, cv, value)
    alone = set_values(indptr, indices, evalue) if cv.size else np.zeros(0)
    entries = int(indptr[-1])
    chosen, gains, info = budgeted_cover(indptr, indices, evalue, cc, budget,
                                         max_sets=max_creators, mode=mode)
    mode, guarantee, bound, optimal = (info["mode"], info["guarantee"], info["bound"],
                                       info["optimal"])
    cum_r = np.cumsum(gains) if len(gains) else np.zeros(0)
    cum_c = np.cumsum(cc[chosen]) if len(chosen) else np.zeros(0)
    cverts = cv[chosen]
    hs = handles(ctx.data, cverts)
    followers = g.in_degree()
    count = ctx.data.column("followers_count")
    rows = [{"rank": i + 1, "account": account_label(ctx.data, x), "handle": hs[i],
             "cost": float(cc[s]),
             "followers_count": int(count[x]) if np.isfinite(count[x]) else None,
             "followers_known": int(followers[x]),
             "relevant_reach": round(float(alone[s]), 2),
             "marginal_reach": round(float(gains[i]), 2),
             "cumulative_reach": round(float(cum_r[i]), 2),
             "cumulative_cost": float(cum_c[i])}
            for i, (s, x) in enumerate(zip(chosen.tolist(), cverts.tolist()))]
    spent = float(cc[chosen].sum()) if len(chosen) else 0.0
    return {"target": target_label or "everyone (no target)", "budget": budget,
            "mode": mode, "guarantee": guarantee, "bound": bound,
            "optimal": optimal, "creators": rows,
            "reach": round(float(gains.sum()), 2),
            "reach_if_summed": round(float(alone[chosen].sum()), 2) if len(chosen) else 0.0,
            "spent": spent, "left": max(budget - spent, 0.0),
            "candidates": int(v.shape[0]), "considered": int(cv.shape[0]),
            "follower_entries": entries, "excluded": excluded,
            "price": price, "candidates_cost": round(float(honest.sum()), 2),
            "budget_note": note,
            "objective": objective, **({"imm": imm} if imm is not None else {})}


def _budget_note(budget: float, costs: np.ndarray) -> str | None:
    """Why a budget buys nothing, or everything, of the unflagged candidates' ``costs``;
    None when it has to choose.

    Examples
    --------
    >>> _budget_note(5, np.array([10.0, 20.0]))
    'the budget 5.00 is below the cheapest candidate (10.00): no creator fits'
    >>> _budget_note(99999, np.array([10.0, 20.0]))
    'the budget 99,999.00 covers every candidate (30.00 together): 99,969.00 is left over; add candidates to spend it'
    >>> _budget_note(15, np.array([10.0, 20.0])) is None
    True
    """
    if costs.size == 0:
        return "no candidate can be chosen (every one is flagged, or none was given)"
    if budget < float(costs.min()):
        return (f"the budget {budget:,.2f} is below the cheapest candidate "
                f"({float(costs.min()):,.2f}): no creator fits")
    total = float(costs.sum())
    if budget >= total:
        return (f"the budget {budget:,.2f} covers every candidate ({total:,.2f} together): "
                f"{budget - total:,.2f} is left over; add candidates to spend it")
    return None


def plan_table(plan: dict) -> pa.Table:
    """The chosen creators of a :func:`plan_budget` result as an Arrow table.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> p = plan_budget(toy_context(), {"toy:cat": 1}, 1)
    >>> plan_table(p).column_names[:4]
    ['rank', 'account', 'handle', 'cost']
    """
    cols = ["rank", "account", "handle", "cost", "followers_count", "followers_known",
            "relevant_reach", "marginal_reach", "cumulative_reach", "cumulative_cost"]
    types = [pa.int64(), pa.string(), pa.string(), pa.float64(), pa.int64(), pa.int64(),
             pa.float64(), pa.float64(), pa.float64(), pa.float64()]
    return pa.table({k: pa.array([r[k] for r in plan["creators"]], t)
                     for k, t in zip(cols, types)})
