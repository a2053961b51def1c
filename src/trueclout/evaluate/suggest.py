"""``trueclout eval suggest``: who-to-follow quality on real follows that were hidden.

The protocol, on SNAP ego-Twitter (81k accounts, 1.77M follows):

1. draw 1,000 users with at least 20 follows, with seed 0, and hide 20% of each user's
   follows, all at once (:func:`~trueclout.discover.suggest.hold_out`);
2. remove every hidden follow from the graph **before anything is computed**: the
   detection ensemble (authenticity, suspicious accounts), the popularity counts, and the
   learning of our combination all see only the remaining graph;
3. rank candidates for each user, leaving out the user and the accounts it still follows,
   and score the top 20 against its hidden follows: recall@20 (hidden follows found /
   hidden follows) and nDCG@20 (binary gains, ideal DCG over ``min(20, hidden)``
   positions), averaged over users.

Methods, all in the same run: **popularity** (most followers), **friends of friends**
(accounts followed by most of the user's follows; ties by followers), **personalised
PageRank** (plain, ``alpha = suggest_baseline_ppr_alpha``, over the remaining graph) and
**ours** (:class:`~trueclout.discover.suggest.WhoToFollow` over the authentic graph). Ours
learns its combination on 1,000 *other* users (drawn with ``suggest_train_seed``, never
one of the evaluation users) whose own follows it hides from the already reduced graph,
so no evaluation follow is ever seen. With ``topics`` the topic vectors of
:func:`trueclout.score.topics.interest_vectors`, fitted on the reduced graph, are mixed
in as one more row.

Latency is measured per user, one ``recommend`` call at a time after a warm-up call,
and reported as median and 95th percentile; the precomputation (``fit``) is timed
separately, and so is the detection.

Examples
--------
>>> r, d = recall_ndcg(np.array([[5, 7, -1]]), [np.array([7, 9])], 3)
>>> r, round(d, 4)
(0.5, 0.3869)
>>> markdown_report({"methods": {}}).startswith("# Who to follow")
True
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import config

#: Figures measured with this protocol before this module existed, for reference.
REFERENCE_BASELINES = {"popularity": (0.024, 0.021), "friends_of_friends": (0.530, 0.513),
                   "ppr": (0.454, 0.393)}
#: Targets: recall@20 of ours, and milliseconds per user.
TARGET_RECALL = 0.58
TARGET_MS = 5.0


def recall_ndcg(ids: np.ndarray, hidden: list[np.ndarray], k: int) -> tuple[float, float]:
    """Mean recall@k and nDCG@k of ranked ``ids`` (one row per user, −1 padded).

    Examples
    --------
    >>> r, d = recall_ndcg(np.array([[1, 2], [3, 4]]), [np.array([2]), np.array([5, 6])], 2)
    >>> r, round(d, 4)
    (0.5, 0.3155)
    """
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    rec, ndcg = [], []
    for row, h in zip(np.asarray(ids)[:, :k], hidden):
        if h.size == 0:
            continue
        hit = np.isin(row, h) & (row >= 0)
        rec.append(hit.sum() / h.size)
        ndcg.append(float((hit * disc[:hit.size]).sum() / disc[:min(k, h.size)].sum()))
    return (float(np.mean(rec)) if rec else float("nan"),
            float(np.mean(ndcg)) if ndcg else float("nan"))


def popularity_ranking(graph, users: np.ndarray, k: int) -> np.ndarray:
    """The baseline: the most-followed accounts each user does not follow yet.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> popularity_ranking(toy_graph(), np.array([0]), 2).tolist()  # ana follows cat, ben
    [[4, 5]]
    """
    ind = graph.in_degree()
    order = np.lexsort((np.arange(graph.n), -ind))
    out = np.full((len(users), k), -1, np.int64)
    for i, u in enumerate(users):
        skip = set(graph.out_neighbors(u).tolist())
        skip.add(int(u))
        head = order[:k + len(skip)]
        row = [int(x) for x in head if int(x) not in skip][:k]
        out[i, :len(row)] = row
    return out


def _timed(fn: Callable[[int], Any], users: np.ndarray) -> dict:
    """Median and p95 milliseconds of ``fn(u)`` over ``users`` (after a warm-up)."""
    if len(users):
        fn(int(users[0]))
    ms = np.empty(len(users))
    for i, u in enumerate(users):
        t = time.perf_counter()
        fn(int(u))
        ms[i] = (time.perf_counter() - t) * 1e3
    return {"latency_ms_median": round(float(np.median(ms)), 4) if len(ms) else None,
            "latency_ms_p95": round(float(np.percentile(ms, 95)), 4) if len(ms) else None}


def _method(name: str, wtf, fit_on, users, hidden, k, *, exclude=None, topics=None,
            timing=True, say=lambda s: None) -> dict:
    say(f"{name}: precomputing")
    wtf.fit(fit_on, exclude=exclude, topics=topics)
    say(f"{name}: ranking")
    t = time.perf_counter()
    ids, _ = wtf.recommend_many(users, k)
    batch = time.perf_counter() - t
    rec, nd = recall_ndcg(ids, hidden, k)
    out = {"recall": round(rec, 4), "ndcg": round(nd, 4),
           "precompute_s": round(wtf.fit_seconds_, 3),
           "batch_users_per_s": round(len(users) / max(batch, 1e-9), 1)}
    if timing:
        say(f"{name}: timing")
        out.update(_timed(lambda u: wtf.recommend(u, k), users))
    return out, ids


def evaluate_suggest(*, store=None, snap_dir: Path | None = None, users: int | None = None,
                     seed: int = 0, k: int | None = None, detection: bool = True,
                     topics: bool = True, timing: bool = True,
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the protocol of the module docstring and return its figures.

    Parameters
    ----------
    store : Store, optional
        An existing store to evaluate on; default: ``snap_dir`` ingested into a
        temporary store.
    snap_dir : Path, optional
        Default ``<shared data>/snap-ego-twitter``.
    users : int, optional
        Default ``suggest_eval_users`` (1,000).
    seed : int
        Seed of the evaluation draw (0).
    k : int, optional
        Default ``suggest_top`` (20).
    detection : bool
        Fit the detection ensemble on the reduced graph (ours then runs on the authentic
        graph and never suggests flagged accounts); False: every account is real.
    topics : bool
        Also run ours with topic vectors when :mod:`trueclout.score.topics` is there.
    timing : bool
        Measure per-user latency (False: quality figures only, for tests).

    Examples
    --------
    >>> evaluate_suggest(snap_dir=Path("/nonexistent"))["skipped"]
    'SNAP ego-Twitter data not found'
    """
    if store is None:
        if snap_dir is None:
            from .datasets import shared_data_dir
            base = shared_data_dir()
            snap_dir = base / "snap-ego-twitter" if base else Path("/nonexistent")
        if not Path(snap_dir).exists():
            return {"skipped": "SNAP ego-Twitter data not found"}
        from ..ingest.run import ingest
        from ..store import Store
        with tempfile.TemporaryDirectory(prefix="trueclout-eval-") as tmp:
            with Store(Path(tmp) / "snap.duckdb") as st:
                t = time.perf_counter()
                ingest(st, [Path(snap_dir)])
                out = _evaluate(st, users=users, seed=seed, k=k, detection=detection,
                                topics=topics, timing=timing, progress=progress)
                out["data"] = "SNAP ego-Twitter"
                out["ingest_s"] = round(out.pop("_t0") - t, 2)
                return out
    out = _evaluate(store, users=users, seed=seed, k=k, detection=detection, topics=topics,
                    timing=timing, progress=progress)
    out.pop("_t0")
    out["data"] = "store"
    return out


def _evaluate(store, *, users, seed, k, detection, topics, timing, progress
              ) -> dict[str, Any]:
    from ..detect.data import DetectionData
    from ..discover.suggest import WhoToFollow, hold_out
    say = progress or (lambda stage: None)
    t0 = time.perf_counter()
    n_users = int(config.value("suggest_eval_users", users))
    k = int(config.value("suggest_top", k))
    say("reading the store")
    data = DetectionData.from_store(store)
    g = data.graph
    say("hiding follows")
    h = hold_out(g, n_users, min_follows=int(config.get("suggest_train_min_follows")),
                 share=float(config.get("suggest_hide_share")), seed=seed)
    if h.users.size == 0:
        from ..errors import InputError
        raise InputError(f"no account follows at least {config.get('suggest_train_min_follows')} "
                         "others: nobody to hold follows out for")
    hidden = [h.hidden(i) for i in range(h.users.size)]
    reduced = DetectionData(graph=h.graph, profiles=data.profiles, snapshots=data.snapshots,
                            activity=data.activity, removed=data.removed, labels=data.labels)
    result: dict[str, Any] = {
        "_t0": t0,
        "protocol": {"users": int(h.users.size), "min_follows":
                     int(config.get("suggest_train_min_follows")),
                     "hidden_share": float(config.get("suggest_hide_share")), "seed": seed,
                     "k": k, "hidden_follows": int(h.hidden_indices.size),
                     "hidden_removed_before_everything": True},
        "graph": {"accounts": int(g.n), "follows": int(g.m),
                  "follows_after_hiding": int(h.graph.m)},
    }
    ctx = reduced
    if detection:
        say("detection on the reduced graph")
        from ..score.context import ScoreContext
        t = time.perf_counter()
        ctx = ScoreContext.from_data(reduced)
        sus = np.asarray(ctx.suspicious, bool)
        result["detection"] = {"seconds": round(time.perf_counter() - t, 2),
                               "suspicious": int(sus.sum()),
                               "hidden_follows_of_suspicious": int(sus[h.hidden_indices].sum())}
    methods: dict[str, Any] = {}
    say("popularity")
    t = time.perf_counter()
    pop = popularity_ranking(h.graph, h.users, k)
    pre = time.perf_counter() - t
    rec, nd = recall_ndcg(pop, hidden, k)
    methods["popularity"] = {"recall": round(rec, 4), "ndcg": round(nd, 4),
                             "precompute_s": round(pre, 3)}
    methods["friends_of_friends"], _ = _method(
        "friends of friends", WhoToFollow(alpha=0.0, weights={"fof": 1.0, "popularity": 1e-6},
                                          authentic=False), h.graph, h.users, hidden, k,
        timing=timing, say=say)
    methods["ppr"], _ = _method(
        "personalised PageRank",
        WhoToFollow(alpha=float(config.get("suggest_baseline_ppr_alpha")),
                    eps=float(config.get("suggest_baseline_ppr_eps")),
                    weights={"ppr": 1.0}, authentic=False), h.graph, h.users, hidden, k,
        timing=timing, say=say)
    ours = WhoToFollow()
    methods["ours"], ours_ids = _method("ours", ours, ctx, h.users, hidden, k,
                                        exclude=h.users, timing=timing, say=say)
    methods["ours"]["learned"] = bool(ours.learned_)
    result["training"] = dict(ours.training_)
    result["training"]["disjoint_from_eval_users"] = True
    result["coefficients"] = {name: round(v, 4) for name, v in ours.coef_.items()}
    if topics:
        tv = _topic_vectors(ctx, store, say)
        if isinstance(tv, str):
            result["topics"] = {"skipped": tv}
        else:
            vecs, secs = tv
            methods["ours_topics"], _ = _method("ours + topics", WhoToFollow(), ctx, h.users,
                                                hidden, k, exclude=h.users, topics=vecs,
                                                timing=timing, say=say)
            methods["ours_topics"]["topic_fit_s"] = round(secs, 2)
            result["topics"] = {"communities": int(vecs.shape[1]), "seconds": round(secs, 2)}
    if detection:
        sus = np.asarray(ctx.suspicious, bool)
        result["detection"]["suspicious_suggested"] = int(sus[ours_ids[ours_ids >= 0]].sum())
    result["methods"] = methods
    fof = methods["friends_of_friends"]["recall"]
    o = methods["ours"]
    result["ours_vs_fof"] = round(o["recall"] / fof, 4) if fof else None
    result["targets"] = {"recall": TARGET_RECALL, "beat_fof_by": 0.10,
                         "latency_ms": TARGET_MS,
                         "recall_met": bool(o["recall"] >= TARGET_RECALL
                                            and o["recall"] >= 1.1 * fof),
                         "latency_met": bool(o.get("latency_ms_median") is not None
                                             and o["latency_ms_median"] <= TARGET_MS)}
    result["reference_baselines"] = {m: {"recall": r, "ndcg": d}
                                 for m, (r, d) in REFERENCE_BASELINES.items()}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def _topic_vectors(ctx, store, say):
    """Topic vectors of the reduced graph, or the reason there are none."""
    try:
        from ..score.topics import interest_vectors
    except ImportError:
        return "trueclout.score.topics is not available"
    if not hasattr(ctx, "cache"):
        return "topic vectors need the detection context"
    say("topic vectors on the reduced graph")
    t = time.perf_counter()
    try:
        vecs = interest_vectors(ctx, store)
    except Exception as exc:  # an optional input: report, do not fail the evaluation
        return f"topic vectors failed: {type(exc).__name__}: {exc}"
    return vecs, time.perf_counter() - t


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 100 else f"{x:,.0f}"
    return str(x)


NAMES = {"popularity": "global popularity", "friends_of_friends": "friends of friends",
         "ppr": "personalised PageRank", "ours": "ours (WhoToFollow)",
         "ours_topics": "ours + topic vectors"}


def markdown_report(r: dict[str, Any]) -> str:
    """The figures of :func:`evaluate_suggest` as markdown.

    Examples
    --------
    >>> md = markdown_report({"methods": {"ours": {"recall": 0.6, "ndcg": 0.5}}})
    >>> "| ours (WhoToFollow) | 0.600 | 0.500 |" in md
    True
    """
    lines = ["# Who to follow: evaluation", ""]
    if "skipped" in r:
        return "\n".join(lines + [f"skipped: {r['skipped']}", ""])
    p = r.get("protocol", {})
    gr = r.get("graph", {})
    if p:
        lines += [f"{r.get('data', 'data')}: {_fmt(gr.get('accounts'))} accounts, "
                  f"{_fmt(gr.get('follows'))} follows. {p['users']} users with at least "
                  f"{p['min_follows']} follows (seed {p['seed']}); "
                  f"{int(100 * p['hidden_share'])}% of each user's follows hidden "
                  f"({p['hidden_follows']:,} follows), removed from the graph before "
                  "detection, counts and learning.", ""]
    lines += [f"| method | recall@{p.get('k', 20)} | nDCG@{p.get('k', 20)} | "
              "precompute s | ms/user median | ms/user p95 | reference recall / nDCG |",
              "|---|---|---|---|---|---|---|"]
    for key, m in r.get("methods", {}).items():
        ib = r.get("reference_baselines", {}).get(key)
        ref = f"{ib['recall']:.3f} / {ib['ndcg']:.3f}" if ib else "-"
        lines.append(f"| {NAMES.get(key, key)} | {_fmt(m.get('recall'))} | "
                     f"{_fmt(m.get('ndcg'))} | {_fmt(m.get('precompute_s'))} | "
                     f"{_fmt(m.get('latency_ms_median'))} | {_fmt(m.get('latency_ms_p95'))} "
                     f"| {ref} |")
    lines.append("")
    t = r.get("targets")
    if t:
        lines += [f"ours / friends of friends (recall): {_fmt(r.get('ours_vs_fof'))}; "
                  f"target recall >= {t['recall']} and 10% above friends of friends: "
                  f"{'met' if t['recall_met'] else 'NOT met'}; target <= {t['latency_ms']} "
                  f"ms per user: {'met' if t['latency_met'] else 'NOT met'}.", ""]
    tr = r.get("training")
    if tr:
        lines += [f"Training: {tr.get('users')} users drawn with seed {tr.get('seed')}, "
                  "disjoint from the evaluation users, their own follows hidden from the "
                  f"already reduced graph; {_fmt(tr.get('rows'))} candidate rows, "
                  f"{_fmt(tr.get('positives'))} held-out follows; {_fmt(tr.get('seconds'))} s "
                  "(inside ours' precompute).", ""]
    d = r.get("detection")
    if d:
        lines += [f"Detection on the reduced graph: {_fmt(d.get('seconds'))} s (not in the "
                  f"precompute column), {d.get('suspicious')} accounts flagged, "
                  f"{d.get('hidden_follows_of_suspicious')} hidden follows point at them, "
                  f"{d.get('suspicious_suggested', 0)} suggested.", ""]
    tp = r.get("topics")
    if tp:
        lines += [f"Topics: {tp['skipped']}" if "skipped" in tp else
                  f"Topics: {tp['communities']} SimClusters communities, fitted in "
                  f"{_fmt(tp['seconds'])} s on the reduced graph.", ""]
    return "\n".join(lines)
