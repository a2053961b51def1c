"""``trueclout eval manipulation``: does buying followers move the rankings?

The protocol:

1. Read the platform: SNAP ego-Twitter (``graph="snap"``) or a simulated platform
   (``graph="sim"``, :func:`trueclout.simulate.simulate`, 20,000 accounts, seed 0), or any
   store (``db``).
2. **Before**: fit the detection ensemble on the unattacked data
   (:class:`~trueclout.score.context.ScoreContext`) and compute every ranking
   (``rankings(ctx) -> {name: score per vertex}``, higher is better; by default
   :func:`trueclout.score.rank.rank_all`).
3. Draw 100 customers from the middle of the follower-count ranking
   (:func:`~trueclout.evaluate.attacks.pick_customers`: uniform among the 45th-55th
   percentiles, seed 0, leaving out accounts labelled or flagged as fraud).
4. **Attack**, each on a fresh copy of the platform, all customers at once: buy
   ``B`` followers each for every budget (100, 1,000, 10,000); a follow-back campaign; an
   adaptive sybil region (:mod:`trueclout.evaluate.attacks`).
5. **After**: the system re-runs: detection is fitted again on the attacked data and the
   rankings are recomputed.

Figures. Percentiles are taken among the *original* accounts only (injected fakes are
not part of the population): an account's **top %** is ``100 × (original accounts with a
strictly higher score) / (original accounts)``, so the best account is in the top 0%.
For every ranking and attack: the median top % of the customers before and after, the
median per-customer **lift** (before − after, in points; positive means lifted), and
the share of customers in the top 1% after (top % below ``manip_top_percent``). Per
ranking: the Spearman correlation with plain PageRank on the unattacked graph (over
the original accounts). Per attack: the share of injected fakes the detection flags,
the share of customers flagged (as suspicious, and as buyers: ``bought_ >= 0.5``) and
the share of other real accounts flagged; wall time and peak memory (resident set size
sampled every 50 ms) of each stage.

Examples
--------
>>> md = markdown_report({"graph": "toy", "accounts": 10, "rankings_source": "test",
...     "spearman_vs_pagerank": {"followers": 0.9},
...     "attacks": {"bought-100": {"rankings": {"followers": {"median_top_before": 48.0,
...         "median_top_after": 0.5, "median_lift": 47.5, "top_share_after": 0.9}},
...         "detection": {"fakes_flagged": 1.0}}}})
>>> "| followers | 48.000 | 0.500 | 47.500 | 0.900 |" in md
True
"""

from __future__ import annotations

import gc
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import config
from ..errors import InputError, UsageError

Rankings = Callable[[Any], dict]


# -- measuring -------------------------------------------------------------------------------
class PeakMemory:
    """Peak resident set size of this process while the block runs (sampled).

    Attributes
    ----------
    peak_mb : float
        Largest RSS seen, in MB (at least the RSS at entry and exit).
    seconds : float
        Wall time of the block.

    Examples
    --------
    >>> with PeakMemory() as pm:
    ...     x = np.ones(10_000_000)
    >>> pm.peak_mb > 70, pm.seconds >= 0
    (True, True)
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self.seconds = 0.0

    def _rss(self) -> float:
        import psutil
        return psutil.Process().memory_info().rss / 1e6

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss())

    def __enter__(self) -> "PeakMemory":
        self._t0 = time.perf_counter()
        self.peak_mb = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss())
        self.seconds = time.perf_counter() - self._t0


# -- rankings and figures --------------------------------------------------------------------
def plain_pagerank(graph, *, damping: float | None = None, tol: float = 1e-10,
                   max_iter: int = 200) -> np.ndarray:
    """Plain PageRank of the follow graph (a follower passes rank to whom it follows;
    dangling rank spreads uniformly): :func:`trueclout.kernels.pagerank.pagerank` with a
    uniform teleport, which the tests check against networkx.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> g = toy_graph()
    >>> pr = plain_pagerank(g)
    >>> round(float(pr.sum()), 6), [g.name(v)[1] for v in np.argsort(-pr)[:3]]
    (1.0, ['ana', 'cat', 'ben'])
    """
    from ..kernels.pagerank import pagerank
    if graph.n == 0:
        return np.zeros(0)
    return pagerank(graph.in_indptr, graph.in_indices, damping=damping, tol=tol,
                    max_iter=max_iter)


def baseline_rankings(ctx) -> dict[str, np.ndarray]:
    """The naive baselines: ``followers`` (graph in-degree) and plain ``pagerank``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from trueclout.graph.toy import toy_graph
    >>> r = baseline_rankings(SimpleNamespace(graph=toy_graph()))
    >>> sorted(r), r["followers"].tolist()
    (['followers', 'pagerank'], [2.0, 1.0, 5.0, 0.0, 2.0, 1.0])
    """
    g = ctx.graph
    return {"followers": g.in_degree().astype(np.float64), "pagerank": plain_pagerank(g)}


def default_rankings() -> tuple[Rankings, str]:
    """The project's rankings (``trueclout.score.rank.rank_all``) and their source name;
    the baselines when that module is not there.

    Examples
    --------
    >>> f, source = default_rankings()
    >>> callable(f), source in ("trueclout.score.rank.rank_all", "baseline")
    (True, True)
    """
    try:
        from ..score.rank import rank_all
    except ImportError:
        return baseline_rankings, "baseline"
    return rank_all, "trueclout.score.rank.rank_all"


def top_percent(scores: np.ndarray, n_original: int, vertices: np.ndarray) -> np.ndarray:
    """Top % of ``vertices`` among the first ``n_original`` accounts:
    ``100 × (original accounts with a strictly higher score) / n_original``.

    NaN scores count as the lowest.

    Examples
    --------
    >>> s = np.array([5.0, 3.0, 3.0, 1.0, 9.0])    # vertex 4 is injected
    >>> top_percent(s, 4, np.array([0, 1, 2, 3, 4])).tolist()
    [0.0, 25.0, 25.0, 75.0, 0.0]
    """
    from ..score.rank import top_percent as _top
    s = np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf)
    return _top(s[np.asarray(vertices)], s[:n_original])


def ranking_figures(before: np.ndarray, after: np.ndarray, n_original: int,
                    customers: np.ndarray, *, top: float | None = None) -> dict[str, float]:
    """Median top % of the customers before and after, median lift (points), share in
    the top ``top`` % after (and before).

    Examples
    --------
    >>> b = np.array([4.0, 3, 2, 1, 0])
    >>> a = np.array([4.0, 3, 2, 9, 0, 7])
    >>> ranking_figures(b, a, 5, np.array([3]), top=1.0)["median_lift"]
    60.0
    """
    t = float(config.value("manip_top_percent", top))
    pb = top_percent(before, n_original, customers)
    pa_ = top_percent(after, n_original, customers)
    lift = pb - pa_
    return {"median_top_before": round(float(np.median(pb)), 4),
            "median_top_after": round(float(np.median(pa_)), 4),
            "median_lift": round(float(np.median(lift)), 4),
            "top_share_before": round(float(np.mean(pb < t)), 4),
            "top_share_after": round(float(np.mean(pa_ < t)), 4)}


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation (ties share their average rank); None when either side
    is constant.

    Examples
    --------
    >>> spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 25]))
    0.8
    >>> spearman(np.zeros(4), np.arange(4.0)) is None
    True
    """
    from scipy.stats import rankdata
    ra = rankdata(np.nan_to_num(a, nan=-np.inf))
    rb = rankdata(np.nan_to_num(b, nan=-np.inf))
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 4)


def _as_arrays(result: dict, n: int) -> dict[str, np.ndarray]:
    out = {}
    for name, v in result.items():
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape[0] < n:
            raise UsageError(f"ranking {name!r} has {arr.shape[0]} scores for {n} accounts")
        out[name] = arr
    return out


def _informative(before: np.ndarray, after: np.ndarray) -> bool:
    """False when a ranking gives every original account the same score before and after
    (no data for it, e.g. engagement without interactions): its percentiles mean nothing."""
    b, a = np.nan_to_num(before, nan=-np.inf), np.nan_to_num(after, nan=-np.inf)
    return not ((b == b[0]).all() and (a == a[0]).all()) if b.size else False


def detection_figures(ctx, attack) -> dict[str, Any]:
    """What the re-run detection makes of an attack.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import EnsembleDetector
    >>> from trueclout.evaluate.attacks import buy_followers, pick_customers
    >>> from trueclout.score.context import ScoreContext
    >>> data = DetectionData.from_graph(random_graph(400, 3000, seed=0))
    >>> a = buy_followers(data, pick_customers(data, 3, seed=0), 30, seed=0)
    >>> ctx = ScoreContext.from_data(a.data, EnsembleDetector().fit(a.data))
    >>> f = detection_figures(ctx, a)
    >>> sorted(f)[:3], sum(f["fake_categories"].values())
    (['customer_categories', 'customers_bought', 'customers_flagged'], 90)
    """
    flagged = np.asarray(ctx.suspicious, bool)
    n = attack.n_original
    cust = attack.customers
    others = np.ones(n, bool)
    others[cust] = False
    out: dict[str, Any] = {
        "fakes_flagged": round(float(flagged[attack.fakes].mean()), 4)
        if attack.fakes.size else None,
        "customers_flagged": round(float(flagged[cust].mean()), 4),
        "other_real_flagged": round(float(flagged[:n][others].mean()), 6),
    }
    bought = getattr(ctx.ensemble, "bought_", None)
    if bought is not None:
        out["customers_bought"] = round(float((np.asarray(bought)[cust] >= 0.5).mean()), 4)
    cat = getattr(ctx.ensemble, "category_", None)
    if cat is not None and attack.fakes.size:
        vals, cnt = np.unique(np.asarray(cat)[attack.fakes].astype(str), return_counts=True)
        out["fake_categories"] = {str(k): int(c) for k, c in zip(vals, cnt)}
    if cat is not None:
        vals, cnt = np.unique(np.asarray(cat)[cust].astype(str), return_counts=True)
        out["customer_categories"] = {str(k): int(c) for k, c in zip(vals, cnt)}
    return out


# -- data ------------------------------------------------------------------------------------
def load_data(graph: str = "snap", *, db: str | Path | None = None,
              accounts: int | None = None, seed: int = 0,
              progress: Callable[[str], None] | None = None):
    """The platform to attack, as ``DetectionData``.

    ``db``: read that store. Otherwise ``graph="snap"`` ingests SNAP ego-Twitter from the
    shared data folder into a temporary store, and ``graph="sim"`` simulates ``accounts``
    (config ``manip_sim_accounts``, 20,000) with ``seed`` and ingests them.

    Examples
    --------
    >>> load_data("nope")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: graph must be 'snap' or 'sim', got 'nope'
    """
    from ..detect.data import DetectionData
    from ..ingest.run import ingest
    from ..store import Store
    if graph not in ("snap", "sim"):
        raise UsageError(f"graph must be 'snap' or 'sim', got {graph!r}")
    say = progress or (lambda s: None)
    if db is not None:
        if not Path(db).exists():
            raise UsageError(f"store {db} does not exist")
        say("reading the store")
        with Store(str(db), read_only=True) as store:
            return DetectionData.from_store(store)
    with tempfile.TemporaryDirectory(prefix="trueclout-manip-") as tmp:
        if graph == "snap":
            from .datasets import shared_data_dir
            base = shared_data_dir()
            snap = base / "snap-ego-twitter" if base else None
            if snap is None or not snap.exists():
                raise InputError("SNAP ego-Twitter data not found (looked in "
                                 "$TRUECLOUT_DATA and ../shared/data); pass --db")
            say("ingesting SNAP ego-Twitter")
            sources = [snap]
        else:
            from ..simulate import simulate
            n = int(config.value("manip_sim_accounts", accounts))
            say(f"simulating {n:,} accounts")
            simulate(Path(tmp) / "platform", accounts=n, seed=seed)
            sources = [Path(tmp) / "platform"]
        with Store(Path(tmp) / "s.duckdb") as store:
            ingest(store, sources)
            say("reading the store")
            return DetectionData.from_store(store)


# -- the evaluation --------------------------------------------------------------------------
def evaluate_manipulation(graph: str = "snap", *, rankings: Rankings | None = None,
                          budgets=None, customers: int | None = None, seed: int = 0,
                          db: str | Path | None = None, data=None,
                          accounts: int | None = None, followback: bool = True,
                          adaptive: bool = True, ensemble: Callable[[], Any] | None = None,
                          model: Any = None,
                          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Attack the platform and measure how far each ranking moves (module docstring).

    Parameters
    ----------
    graph : {"snap", "sim"}
    rankings : callable, optional
        ``rankings(ctx) -> {name: float array per vertex}`` (higher is better); default
        :func:`trueclout.score.rank.rank_all` (:func:`baseline_rankings` where that
        module is absent).
    budgets : sequence of int or str, optional
        Followers bought per customer (config ``manip_budgets``: 100, 1,000, 10,000).
    customers : int, optional
        Config ``manip_customers`` (100).
    seed : int
    db : path, optional
        Attack the platform in this store instead.
    data : DetectionData, optional
        Attack this platform instead (tests).
    accounts : int, optional
        Size of the simulated platform.
    followback, adaptive : bool
        Also run the follow-back campaign / the adaptive attacker.
    ensemble : callable, optional
        Makes a fresh, unfitted detector for each fit (default
        ``EnsembleDetector(model=model)``).
    model : optional
        The classifier model for the default ensemble.
    progress : callable, optional
        Called with the name of each stage.

    Returns
    -------
    dict
        ``graph``, ``accounts``, ``follows``, ``customers`` (count and band),
        ``rankings_source``, ``spearman_vs_pagerank``, ``before`` and ``attacks``
        (name -> kind, budget, sizes, ``rankings`` -> figures, ``detection``, seconds and
        peak MB per stage), ``wall_s``, ``peak_rss_mb``.

    Examples
    --------
    >>> evaluate_manipulation("sim", budgets="0")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: budgets must be positive integers, got '0'
    """
    from ..detect.data import DetectionData
    from ..detect.ensemble import EnsembleDetector
    from .attacks import attack_plan, parse_budgets, pick_customers, run_attack
    from ..score.context import ScoreContext

    plan = attack_plan(parse_budgets(budgets) if budgets is not None else None,
                       followback=followback, adaptive=adaptive)
    k = int(config.value("manip_customers", customers))
    if k < 1:
        raise UsageError(f"customers must be positive, got {k}")
    say = progress or (lambda s: None)
    source = "baseline" if rankings is baseline_rankings else "given"
    if rankings is None:
        rankings, source = default_rankings()
    make = ensemble or (lambda: EnsembleDetector(model=model))
    t_start = time.perf_counter()
    result: dict[str, Any] = {"graph": graph, "seed": seed, "rankings_source": source}
    with PeakMemory() as pm_all:
        with PeakMemory() as pm:
            if data is None:
                data = load_data(graph, db=db, accounts=accounts, seed=seed, progress=say)
            data = DetectionData.coerce(data)
        n = data.n
        result.update({"accounts": n, "follows": int(data.graph.m),
                       "read_s": round(pm.seconds, 2)})
        say("detection before the attacks")
        with PeakMemory() as pm_det:
            ctx0 = ScoreContext.from_data(data, make())
        say("rankings before the attacks")
        with PeakMemory() as pm_rank:
            before = _as_arrays(rankings(ctx0), n)
            pr0 = plain_pagerank(data.graph)
        result["spearman_vs_pagerank"] = {name: spearman(v[:n], pr0)
                                          for name, v in before.items()}
        band = (float(config.get("manip_band_low")), float(config.get("manip_band_high")))
        cust = pick_customers(data, k, band=band, seed=seed, exclude=ctx0.suspicious)
        result["customers"] = {"count": int(cust.size), "band_percentiles": list(band),
                               "median_followers": float(np.median(
                                   data.graph.in_degree()[cust]))}
        result["before"] = {
            "flagged_share": round(float(np.mean(ctx0.suspicious)), 6),
            "detect_s": round(pm_det.seconds, 2), "rank_s": round(pm_rank.seconds, 2),
            "peak_rss_mb": round(max(pm_det.peak_mb, pm_rank.peak_mb), 1),
            "rankings": {name: {"median_top": round(float(np.median(
                top_percent(v, n, cust))), 4)} for name, v in before.items()}}
        del ctx0, pr0
        gc.collect()
        attacks: dict[str, Any] = {}
        for kind, budget in plan:
            label = f"{kind}-{budget}" if kind != "followback" else "followback"
            with PeakMemory() as pm:
                say(f"{label}: injecting")
                with PeakMemory() as pm_inj:
                    atk = run_attack(data, cust, kind, budget, seed=seed)
                say(f"{label}: detection")
                with PeakMemory() as pm_det:
                    ctx = ScoreContext.from_data(atk.data, make())
                say(f"{label}: rankings")
                with PeakMemory() as pm_rank:
                    after = _as_arrays(rankings(ctx), atk.data.n)
                figs = {name: (ranking_figures(before[name], after[name], n, cust)
                               if _informative(before[name][:n], after[name][:n])
                               else {"constant": True})
                        for name in before if name in after}
                det = detection_figures(ctx, atk)
                entry = {"kind": kind, "budget": budget, "fakes": int(atk.fakes.size),
                         "follows_added": atk.follows_added,
                         "unfollows_added": atk.removed_added,
                         "accounts_after": int(atk.data.n),
                         "follows_after": int(atk.data.graph.m),
                         "rankings": figs, "detection": det,
                         "inject_s": round(pm_inj.seconds, 2),
                         "detect_s": round(pm_det.seconds, 2),
                         "rank_s": round(pm_rank.seconds, 2)}
                del atk, ctx, after
                gc.collect()
            entry["wall_s"] = round(pm.seconds, 2)
            entry["peak_rss_mb"] = round(pm.peak_mb, 1)
            attacks[label] = entry
        result["attacks"] = attacks
    result["wall_s"] = round(time.perf_counter() - t_start, 2)
    result["peak_rss_mb"] = round(pm_all.peak_mb, 1)
    return result


# -- markdown --------------------------------------------------------------------------------
def _whole(x: Any) -> Any:
    """A float that is a whole number as an int (a median of 8 followers is 8, not
    8.000).

    Examples
    --------
    >>> _whole(8.0), _whole(8.5), _whole(None)
    (8, 8.5, None)
    """
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _f(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return "nan" if x != x else f"{x:.3f}"
    return str(x)


def markdown_report(r: dict[str, Any]) -> str:
    """The figures of :func:`evaluate_manipulation` as markdown tables.

    Examples
    --------
    >>> markdown_report({}).startswith("# Manipulation")
    True
    """
    lines = ["# Manipulation resistance", ""]
    if not r:
        return "\n".join(lines)
    c = r.get("customers", {})
    lo, hi = (c.get("band_percentiles") or ["?", "?"])[:2]
    lines += [f"Platform: {r.get('graph', '?')} ({_f(r.get('accounts'))} accounts, "
              f"{_f(r.get('follows'))} follows); {_f(c.get('count'))} customers drawn from "
              f"the {lo:g}-{hi:g}th percentiles of followers "
              f"(median {_f(_whole(c.get('median_followers')))} followers); rankings: "
              f"{r.get('rankings_source', '?')}. Top % = 100 × original accounts ranked "
              "strictly higher / original accounts; lift = before − after (points)."
              if c else f"Platform: {r.get('graph', '?')}.", ""]
    b = r.get("before")
    if b:
        lines += [f"Before the attacks: {_f(b.get('flagged_share'))} of accounts flagged; "
                  f"detection {_f(b.get('detect_s'))} s, rankings {_f(b.get('rank_s'))} s.",
                  ""]
    sp = r.get("spearman_vs_pagerank")
    if sp:
        lines += ["## Spearman correlation with plain PageRank (unattacked graph)", "",
                  "| ranking | Spearman |", "|---|---|"]
        lines += [f"| {k} | {_f(v)} |" for k, v in sp.items()]
        lines.append("")
    top = f"{float(config.get('manip_top_percent')):g}"
    for name, a in r.get("attacks", {}).items():
        desc = {"bought": f"{_f(a.get('budget'))} bought followers per customer "
                          f"({_f(a.get('fakes'))} fakes, {_f(a.get('follows_added'))} follows)",
                "followback": f"follow-back campaign ({_f(a.get('budget'))} follows per "
                              f"customer, {_f(a.get('unfollows_added'))} unfollows)",
                "adaptive": f"adaptive sybil region ({_f(a.get('budget'))} aged fakes per "
                            f"customer, {_f(a.get('fakes'))} fakes, "
                            f"{_f(a.get('follows_added'))} follows)"}.get(a.get("kind"), "")
        lines += [f"## {name}: {desc}", "",
                  "| ranking | median top % before | median top % after | median lift | "
                  f"in top {top}% after |", "|---|---|---|---|---|"]
        for rk, f in a.get("rankings", {}).items():
            if f.get("constant"):
                lines.append(f"| {rk} | - | - | - | - (the same score for every account: "
                             "no data for this ranking) |")
                continue
            lines.append(f"| {rk} | {_f(f.get('median_top_before'))} | "
                         f"{_f(f.get('median_top_after'))} | {_f(f.get('median_lift'))} | "
                         f"{_f(f.get('top_share_after'))} |")
        d = a.get("detection", {})
        lines += ["", f"Detection after the attack: fakes flagged {_f(d.get('fakes_flagged'))}"
                  f", customers flagged {_f(d.get('customers_flagged'))}, customers seen "
                  f"as buyers {_f(d.get('customers_bought'))}, other real accounts flagged "
                  f"{_f(d.get('other_real_flagged'))}.", ""]
        if "wall_s" in a:
            lines += [f"Time {_f(a.get('wall_s'))} s (inject {_f(a.get('inject_s'))}, "
                      f"detect {_f(a.get('detect_s'))}, rank {_f(a.get('rank_s'))}); "
                      f"peak RSS {_f(a.get('peak_rss_mb'))} MB.", ""]
    if "wall_s" in r:
        lines += [f"Whole run: {_f(r.get('wall_s'))} s, peak RSS {_f(r.get('peak_rss_mb'))} "
                  "MB.", ""]
    return "\n".join(lines)


__all__ = ["PeakMemory", "baseline_rankings", "default_rankings", "detection_figures",
           "evaluate_manipulation", "load_data", "markdown_report", "plain_pagerank",
           "ranking_figures", "spearman", "top_percent"]
