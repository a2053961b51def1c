"""Planted fraud with ground truth: bought followers, follow-back campaigns and an
adaptive sybil region injected into a platform (attacks on the rankings), and a
Fraudar-style block injected into a bare graph (the lockstep detector's evaluation).

Each attack takes a :class:`~trueclout.detect.data.DetectionData` and a set of
*customers* (real accounts that pay for influence) and returns an :class:`Attack`: a new
``DetectionData`` in which

* the original accounts keep their vertex ids ``0 .. n-1`` and every original follow,
  and new accounts are appended as vertices ``n, n+1, ...`` (their names sit on the
  platform ``<last platform>+injected``, which sorts after every real platform, so the
  graph builder keeps the order; their profile rows name the attacked platform, so no
  detector sees the label);
* profiles, post activity, follower-count snapshots, unfollows and labels are extended
  consistently: new accounts get profile rows (empty where the platform has no profiles,
  as on SNAP), counts agree with their degrees (scaled like the platform's own
  counts-to-graph ratio), the original accounts' counts and snapshot series grow by the
  follows they gained, at the times they gained them;
* ground truth is in ``labels``: ``fake`` and ``attack_fake`` for the new accounts,
  ``customer``/``attack_customer`` for buyers, ``farm``/``attack_farm`` for follow-back
  campaigners.

The attacks (every constant is a ``manip_*`` setting):

:func:`buy_followers`
    For each customer, ``budget`` new accounts that follow the customer and
    ``manip_camouflage`` (20) distinct other real accounts drawn uniformly (camouflage).
    Follow times, where the platform has them, come in one delivery burst per customer
    (``manip_burst_hours``) some days to weeks before the end of the data; the fakes are
    made a few days before (``manip_fake_age_days``). Profiles of naive fakes are copied
    from the platform's own labelled fakes when it has any.
:func:`follow_back_campaign`
    Each customer follows ``manip_followback_targets`` (5,000) real accounts it did not
    follow, drawn uniformly; ``manip_followback_share`` (30%) follow back and the customer
    unfollows the rest. The unfollows become rows of ``DetectionData.removed`` (created
    within ``manip_campaign_days`` of the campaign start, removed
    ``manip_unfollow_min_days``-``manip_unfollow_max_days`` later), as the store would hold
    them; the kept follows and the follow-backs are graph edges.
:func:`adaptive_attack`
    The fakes a careful seller makes: ``budget`` per customer, with aged, filled-in
    profiles copied from real accounts (old enough, with a description and at least the
    median number of posts; their post activity too), following the customer, about
    ``manip_adaptive_real_follows`` real accounts drawn by popularity and
    ``manip_adaptive_fake_min``-``manip_adaptive_fake_max`` other fakes, so that the fakes
    have followers of their own and form a sybil region. Follows are drip-fed over
    ``manip_adaptive_span_days`` instead of arriving in a burst.

:func:`pick_customers` draws the customers: uniformly (seeded) among the accounts whose
rank by follower count (graph in-degree, ties broken at random) lies between the
``manip_band_low`` and ``manip_band_high`` percentiles, leaving out accounts already
labelled or flagged as fraud.

:func:`inject_block`
    Fraudar's planted block (Hooi et al., KDD 2016, section 5) on any
    :class:`~trueclout.graph.FollowGraph`, which carries no labels of its own: new
    accounts (platform ``injected``) that each follow some of a small set of customers
    plus a few real accounts as camouflage, drawn uniformly or by popularity.

Examples
--------
>>> from trueclout.graph.toy import random_graph
>>> from trueclout.detect.data import DetectionData
>>> data = DetectionData.from_graph(random_graph(2000, 20000, seed=0))
>>> cust = pick_customers(data, 10, seed=0)
>>> a = buy_followers(data, cust, 50, seed=0)
>>> a.data.n - data.n, a.data.graph.m - data.graph.m, a.fakes[:2].tolist()
(500, 10500, [2000, 2001])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import config
from ..detect.data import DetectionData
from ..errors import UsageError
from ..graph.build import from_edges
from ..graph.follow_graph import FollowGraph
from ..kernels.csr import TS_UNKNOWN, csr_edges

DAY = 86_400
HOUR = 3_600
#: Labels that mark an account as fraudulent already (never drawn as a customer).
FRAUD_LABELS = ("fake", "bot", "farm", "pod", "customer", "attack_fake", "attack_customer",
                "attack_farm")
#: Suffix of the platform the injected accounts' names are on (sorts after the real one).
INJECTED_SUFFIX = "+injected"


@dataclass(eq=False)
class Attack:
    """An attacked platform and its ground truth.

    Attributes
    ----------
    name : str
        ``bought-<budget>``, ``followback`` or ``adaptive-<budget>``.
    kind : str
        ``bought``, ``followback`` or ``adaptive``.
    budget : int
        Fakes per customer (follow-back targets per customer for ``followback``).
    data : DetectionData
        The attacked platform: original accounts ``0 .. n_original-1``, new ones after.
    n_original : int
    customers : int32 array
        The attackers' vertex ids (original accounts).
    fakes : int32 array
        The new accounts' vertex ids (empty for a follow-back campaign).
    follows_added : int
        Graph follows added (after merging repeats).
    removed_added : int
        Rows added to ``data.removed`` (unfollows).

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(500, 3000, seed=1))
    >>> a = follow_back_campaign(d, np.array([3, 4]), targets=100, seed=0)
    >>> a.kind, a.fakes.size, a.removed_added
    ('followback', 0, 140)
    """

    name: str
    kind: str
    budget: int
    data: DetectionData
    n_original: int
    customers: np.ndarray
    fakes: np.ndarray
    follows_added: int
    removed_added: int


# -- drawing ---------------------------------------------------------------------------------
def distinct_rows(draw: Callable[[int], np.ndarray], rows: int, k: int,
                  exclude: np.ndarray | None = None, *, max_rounds: int = 200) -> np.ndarray:
    """A ``rows × k`` int32 matrix of draws, distinct within each row and different from
    ``exclude[row]``: duplicates and excluded values are drawn again until none is left.

    Vectorised (no per-row loop), so a million rows cost a few numpy passes. Rows come
    out sorted.

    Parameters
    ----------
    draw : callable
        ``draw(size)`` returns ``size`` values (for example ``rng.integers(0, n, size)``).
    rows, k : int
    exclude : int array of length ``rows``, optional
        A value each row must not contain (for example the row's own account).
    max_rounds : int
        Redraw rounds before giving up (UsageError): the pool is too small.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = distinct_rows(lambda s: rng.integers(0, 5, s), 3, 4, exclude=np.array([0, 1, 2]))
    >>> m.tolist()
    [[1, 2, 3, 4], [0, 2, 3, 4], [0, 1, 3, 4]]
    """
    out = np.asarray(draw(rows * k)).astype(np.int32).reshape(rows, k)
    if k == 0 or rows == 0:
        return out
    ex = None if exclude is None else np.asarray(exclude, np.int32)[:, None]
    for _ in range(max_rounds):
        out.sort(axis=1)
        bad = np.zeros(out.shape, bool)
        bad[:, 1:] = out[:, 1:] == out[:, :-1]
        if ex is not None:
            bad |= out == ex
        nbad = int(bad.sum())
        if nbad == 0:
            return out
        out[bad] = np.asarray(draw(nbad)).astype(np.int32)
    raise UsageError(f"cannot draw {k} distinct accounts per row: the pool is too small")


def popularity_sampler(in_degree: np.ndarray, rng: np.random.Generator
                       ) -> Callable[[int], np.ndarray]:
    """``draw(size)``: accounts drawn with probability proportional to followers + 1.

    Examples
    --------
    >>> draw = popularity_sampler(np.array([0, 0, 98]), np.random.default_rng(0))
    >>> int((draw(1000) == 2).sum()) > 950
    True
    """
    cdf = np.cumsum(np.asarray(in_degree, np.float64) + 1.0)
    total = cdf[-1]

    def draw(size: int) -> np.ndarray:
        return np.searchsorted(cdf, rng.random(size) * total, side="right").astype(np.int32)
    return draw


def pick_customers(data: DetectionData, k: int | None = None, *,
                   band: tuple[float, float] | None = None, seed: int = 0,
                   exclude: np.ndarray | None = None) -> np.ndarray:
    """Draw ``k`` customers from the middle of the follower-count ranking.

    Accounts are ranked by graph in-degree (descending; ties broken at random with
    ``seed``); the customers are drawn uniformly without replacement among those whose
    rank lies between the ``band`` percentiles, leaving out accounts labelled with any
    of :data:`FRAUD_LABELS` and those in ``exclude`` (bool mask or ids, e.g. accounts the
    detection flags).

    Parameters
    ----------
    data : DetectionData or FollowGraph
    k : int, optional
        Default config ``manip_customers`` (100).
    band : (low, high) percentiles, optional
        Default config ``manip_band_low``/``manip_band_high`` (45, 55).
    seed : int
    exclude : bool mask or int array, optional

    Returns
    -------
    int32 array, sorted

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(1000, 8000, seed=0))
    >>> c = pick_customers(d, 20, seed=0)
    >>> deg = d.graph.in_degree()
    >>> c.size, bool(np.percentile(deg, 30) <= np.median(deg[c]) <= np.percentile(deg, 70))
    (20, True)
    """
    data = DetectionData.coerce(data)
    k = int(config.value("manip_customers", k))
    lo, hi = band if band is not None else (float(config.get("manip_band_low")),
                                            float(config.get("manip_band_high")))
    if not 0 <= lo < hi <= 100:
        raise UsageError(f"band must satisfy 0 <= low < high <= 100, got {lo}, {hi}")
    n = data.n
    rng = np.random.default_rng(seed)
    deg = data.graph.in_degree()
    order = np.lexsort((rng.random(n), -deg))          # most followers first
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    ok = (pos >= np.floor(lo / 100 * n)) & (pos < np.ceil(hi / 100 * n))
    ok &= ~data.label_mask(*FRAUD_LABELS)
    if exclude is not None:
        ex = np.asarray(exclude)
        if ex.dtype == bool:
            ok &= ~ex[:n]
        else:
            ok[ex] = False
    cand = np.flatnonzero(ok)
    if cand.size < k:
        raise UsageError(f"only {cand.size} accounts lie in the {lo}-{hi} percentile band "
                         f"of followers; cannot draw {k} customers")
    return np.sort(rng.choice(cand, size=k, replace=False)).astype(np.int32)


# -- extending a platform --------------------------------------------------------------------
def _platform(data: DetectionData) -> str:
    """The attacked platform: the last one in name order (the only one, usually)."""
    names = data.graph.names
    if names.num_rows == 0:
        return "default"
    plats = names.column("platform").cast(pa.string())
    return str(pc.max(plats).as_py())


def _now(data: DetectionData) -> int:
    """End of the data (epoch seconds): the last follow time, else the last observation,
    else config ``manip_reference_time``."""
    g = data.graph
    if g.out_ts is not None:
        known = g.out_ts[g.out_ts != TS_UNKNOWN]
        if known.size:
            return int(known.max())
    obs = data.column("observed_at")
    if np.isfinite(obs).any():
        return int(np.nanmax(obs))
    return int(config.get("manip_reference_time"))


def _count_ratio(counts: np.ndarray, degree: np.ndarray) -> float:
    """Median profile count per graph follow among accounts with both (1 if none)."""
    ok = np.isfinite(counts) & (degree > 0) & (counts > 0)
    return float(np.median(counts[ok] / degree[ok])) if ok.any() else 1.0


def _bump_snapshots(snaps: pa.Table, column: str, vertex: np.ndarray, ts: np.ndarray,
                    delta: np.ndarray | int) -> pa.Table:
    """Add ``delta`` to ``column`` of every snapshot of ``vertex`` taken at or after ``ts``
    (snapshots sorted by vertex, ts; one vectorised difference-array pass)."""
    if vertex.size == 0 or column not in snaps.column_names:
        return snaps
    sv = snaps.column("vertex").to_numpy().astype(np.int64)
    st = snaps.column("ts").to_numpy(zero_copy_only=False).astype(np.int64)
    t0 = min(int(st.min()), int(ts.min()))
    key = (sv << 32) + (st - t0)
    ev = np.asarray(vertex, np.int64)
    start = np.searchsorted(key, (ev << 32) + (np.asarray(ts, np.int64) - t0), side="left")
    end = np.searchsorted(key, (ev + 1) << 32, side="left")
    dl = np.broadcast_to(np.asarray(delta, np.float64), ev.shape)
    size = len(key) + 1
    d = (np.bincount(start, weights=dl, minlength=size)
         - np.bincount(end, weights=dl, minlength=size)).round().astype(np.int64)
    col = snaps.column(column)
    vals = pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    vals = vals + np.cumsum(d[:-1])
    new = pa.array(vals, mask=col.is_null().to_numpy(zero_copy_only=False), type=pa.int64())
    return snaps.set_column(snaps.column_names.index(column), column, new)


def _new_profiles(data: DetectionData, k: int, template: np.ndarray | None,
                  ids: pa.Array, overrides: dict[str, np.ndarray]) -> pa.Table:
    """``k`` profile rows in the schema of ``data.profiles``: copies of the ``template``
    rows (or all null), with identity columns and ``overrides`` set."""
    prof = data.profiles
    if template is not None and prof.num_rows:
        rows = prof.take(pa.array(template, pa.int64()))
    else:
        rows = pa.table({f.name: pa.nulls(k, f.type) for f in prof.schema},
                        schema=prof.schema)
    set_cols = dict(overrides)
    if "platform" in prof.column_names:
        set_cols["platform"] = pa.array(np.full(k, _platform(data), dtype=object), pa.string())
    if "account_id" in prof.column_names:
        set_cols["account_id"] = ids
    if "uid" in prof.column_names:
        set_cols["uid"] = pa.nulls(k, prof.schema.field("uid").type)
    for name, values in set_cols.items():
        if name not in rows.column_names:
            continue
        typ = prof.schema.field(name).type
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(
            values, from_pandas=True)
        rows = rows.set_column(rows.column_names.index(name), name, arr.cast(typ))
    return rows


def extend(data: DetectionData, n_new: int, src: np.ndarray, dst: np.ndarray,
           ts: np.ndarray | None = None, *, new_profiles: Callable | None = None,
           new_activity: pa.Table | None = None, removed: pa.Table | None = None,
           labels: dict[str, np.ndarray] | None = None) -> tuple[DetectionData, int]:
    """A copy of ``data`` with ``n_new`` accounts appended and follows ``src -> dst`` added.

    Original accounts keep their vertex ids; new accounts are ``n .. n + n_new - 1``.
    Repeated follows merge. Follow times ``ts`` (epoch seconds) are kept only when the
    platform has follow times (a timed minority on an untimed graph would be a tell).

    Parameters
    ----------
    data : DetectionData
    n_new : int
    src, dst : int arrays
        Follows to add (vertex ids of the extended platform).
    ts : int array, optional
    new_profiles : callable, optional
        ``new_profiles(graph, ids) -> pa.Table``: profile rows of the new accounts, given
        the extended graph (for counts) and their account ids; default all-null rows with
        counts from degrees where the platform has counts.
    new_activity : pa.Table, optional
        Activity rows of the new accounts (default: no posts).
    removed : pa.Table, optional
        Unfollow rows to add (``src, dst, created, removed``).
    labels : dict, optional
        Labels to add (merged with the existing ones).

    Returns
    -------
    (DetectionData, follows_added)

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> d = DetectionData.from_graph(toy_graph())
    >>> d2, added = extend(d, 2, np.array([6, 7, 6]), np.array([0, 0, 7]))
    >>> d2.n, added, d2.graph.name(0) == d.graph.name(0), d2.graph.name(6)
    (8, 3, True, ('toy+injected', '0'))
    >>> d2.column("followers_count").tolist()
    [4.0, 1.0, 5.0, 0.0, 2.0, 1.0, 0.0, 1.0]
    """
    g = data.graph
    n = g.n
    src = np.asarray(src, np.int64)
    dst = np.asarray(dst, np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    timed = g.out_ts is not None
    if timed:
        new_ts = (np.full(src.size, int(TS_UNKNOWN), np.int64) if ts is None
                  else np.asarray(ts, np.int64)[keep])
    width = len(str(max(n_new - 1, 0)))
    ids = pc.utf8_lpad(pa.array(np.arange(n_new, dtype=np.int64)).cast(pa.string()), width, "0")
    names = g.names.select(["platform", "account_id"]).cast(
        pa.schema([("platform", pa.string()), ("account_id", pa.string())]))
    if n_new:
        names = pa.concat_tables([names, pa.table({
            "platform": pa.array(np.full(n_new, _platform(data) + INJECTED_SUFFIX,
                                         dtype=object), pa.string()),
            "account_id": ids})])
    o_src, o_dst = csr_edges(g.out_indptr, g.out_indices)
    all_src = np.concatenate([o_src, src.astype(np.int32)])
    del o_src
    all_dst = np.concatenate([o_dst, dst.astype(np.int32)])
    all_ts = None
    if timed:
        all_ts = np.concatenate([g.out_ts.astype(np.int64), new_ts])
        del new_ts
    inter = {kind: (*csr_edges(p, i), t) for kind, (p, i, t) in g.interactions.items()}
    g2 = from_edges(all_src, all_dst, ts=all_ts, names=names, interactions=inter or None)
    del all_src, all_dst, all_ts
    if not np.array_equal(g2.uids, np.arange(g2.n, dtype=g2.uids.dtype)):
        raise UsageError("the injected accounts did not sort after the real ones")
    follows_added = g2.m - g.m
    # profiles: original counts grow by the follows gained; new rows after
    prof = data.profiles
    din = (g2.in_degree()[:n] - g.in_degree()).astype(np.int64)
    dout = (g2.out_degree()[:n] - g.out_degree()).astype(np.int64)
    for col, delta in (("followers_count", din), ("following_count", dout)):
        if col in prof.column_names and prof.column(col).null_count < prof.num_rows:
            c = prof.column(col)
            vals = pc.fill_null(c, 0).to_numpy(zero_copy_only=False).astype(np.int64) + delta
            prof = prof.set_column(prof.column_names.index(col), col, pa.array(
                vals, mask=c.is_null().to_numpy(zero_copy_only=False)).cast(c.type))
    if n_new:
        rows = (new_profiles(g2, ids) if new_profiles is not None
                else _new_profiles(data, n_new, None, ids, _degree_counts(data, g2, n)))
        prof = pa.concat_tables([prof, rows.select(prof.column_names)])
    act = data.activity
    if act is not None and n_new:
        extra = new_activity if new_activity is not None else pa.table({
            "posts": np.zeros(n_new, np.int64), "first_post": np.full(n_new, np.nan),
            "last_post": np.full(n_new, np.nan), "tagged_share": np.zeros(n_new)})
        act = pa.concat_tables([act, extra.select(act.column_names).cast(act.schema)])
    snaps = data.snapshots
    if snaps is not None and timed and src.size:
        t_new = np.asarray(ts, np.int64)[keep] if ts is not None else None
        if t_new is not None:
            for col, v in (("followers_count", dst), ("following_count", src)):
                m = v < n
                snaps = _bump_snapshots(snaps, col, v[m], t_new[m], 1)
    rem = data.removed
    if removed is not None and removed.num_rows:
        removed = removed.select(["src", "dst", "created", "removed"])
        if snaps is not None:
            rs = removed.column("src").to_numpy().astype(np.int64)
            rd = removed.column("dst").to_numpy().astype(np.int64)
            rc = removed.column("created").to_numpy().astype(np.int64)
            rr = removed.column("removed").to_numpy().astype(np.int64)
            for col, v in (("following_count", rs), ("followers_count", rd)):
                m = v < n
                snaps = _bump_snapshots(snaps, col, np.concatenate([v[m], v[m]]),
                                        np.concatenate([rc[m], rr[m]]),
                                        np.concatenate([np.ones(m.sum(), np.int64),
                                                        -np.ones(m.sum(), np.int64)]))
        if rem is None:
            rem = pa.table({"src": removed.column("src").cast(pa.int32()),
                            "dst": removed.column("dst").cast(pa.int32()),
                            "created": removed.column("created").cast(pa.int64()),
                            "removed": removed.column("removed").cast(pa.int64())})
        else:
            rem = pa.concat_tables([rem, removed.cast(rem.schema)])
    labs = {k: np.asarray(v) for k, v in data.labels.items()}
    for k, v in (labels or {}).items():
        labs[k] = np.union1d(labs.get(k, np.empty(0, np.int64)), np.asarray(v)).astype(
            np.int64)
    out = DetectionData(graph=g2, profiles=prof, snapshots=snaps, activity=act, removed=rem,
                        labels=labs)
    return out, int(follows_added)


def _degree_counts(data: DetectionData, g2, n: int, idx: slice | None = None
                   ) -> dict[str, np.ndarray]:
    """Profile counts of new accounts from their degrees, scaled by the platform's own
    count-per-follow ratio; nothing where the platform has no counts (SNAP)."""
    out = {}
    sl = slice(n, g2.n) if idx is None else idx
    for col, deg_new, deg_old in (("followers_count", g2.in_degree(), data.graph.in_degree()),
                                  ("following_count", g2.out_degree(),
                                   data.graph.out_degree())):
        c = data.column(col)
        if np.isfinite(c).any():
            ratio = _count_ratio(c, deg_old)
            out[col] = np.round(deg_new[sl] * ratio).astype(np.int64)
    return out


def _has(data: DetectionData, col: str) -> bool:
    return bool(np.isfinite(data.column(col)).any())


# -- the attacks -----------------------------------------------------------------------------
def buy_followers(data: DetectionData, customers: np.ndarray, budget: int, *,
                  camouflage: int | None = None, seed: int = 0) -> Attack:
    """Every customer buys ``budget`` followers at once (all customers in one graph).

    Each new account follows its customer and ``camouflage`` distinct other real accounts
    drawn uniformly (default config ``manip_camouflage``, 20).

    Parameters
    ----------
    data : DetectionData
    customers : int array
        Original accounts.
    budget : int
        Followers bought per customer.
    camouflage : int, optional
    seed : int

    Returns
    -------
    Attack
        ``fakes`` are ``n .. n + len(customers) * budget - 1``, customer by customer.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(300, 2000, seed=2))
    >>> a = buy_followers(d, np.array([5, 9]), 10, camouflage=3, seed=1)
    >>> g = a.data.graph
    >>> [int(np.isin(g.out_neighbors(f), [5]).sum()) for f in a.fakes[:10]] == [1] * 10
    True
    >>> int(g.in_degree()[5] - d.graph.in_degree()[5]), sorted(a.data.labels)
    (10, ['attack_customer', 'attack_fake', 'customer', 'fake'])
    """
    data = DetectionData.coerce(data)
    k = int(config.value("manip_camouflage", camouflage))
    budget = int(budget)
    cust = np.asarray(customers, np.int32)
    n = data.n
    if budget < 1 or cust.size == 0:
        raise UsageError("budget and the number of customers must be positive")
    if k > n - 1:
        raise UsageError(f"cannot draw {k} camouflage accounts from {n} accounts")
    rng = np.random.default_rng([seed, 1, budget])
    nf = cust.size * budget
    fakes = np.arange(n, n + nf, dtype=np.int64)
    owner = np.repeat(cust, budget)                      # each fake's customer
    camo = distinct_rows(lambda s: rng.integers(0, n, s, dtype=np.int32), nf, k,
                         exclude=owner)
    src = np.concatenate([fakes, np.repeat(fakes, k)])
    dst = np.concatenate([owner.astype(np.int64), camo.ravel()])
    del camo
    now = _now(data)
    timed = data.graph.out_ts is not None
    ts = None
    t0 = now - (rng.uniform(float(config.get("manip_purchase_min_days")),
                            float(config.get("manip_purchase_max_days")), cust.size)
                * DAY).astype(np.int64)
    t_fake = np.repeat(t0, budget)
    if timed:
        burst = float(config.get("manip_burst_hours")) * HOUR
        t_edge = t_fake + (rng.random(nf) * burst).astype(np.int64)
        ts = np.concatenate([t_edge, np.repeat(t_edge, k)])
    created = t_fake - (rng.random(nf) * float(config.get("manip_fake_age_days"))
                        * DAY).astype(np.int64)
    pool = data.labels.get("fake")
    template = (rng.choice(np.asarray(pool), nf) if pool is not None and len(pool)
                else None)

    def profiles(g2, ids):
        over = _degree_counts(data, g2, n)
        if _has(data, "created_at"):
            over["created_at"] = created
        if _has(data, "observed_at"):
            over["observed_at"] = np.full(nf, now, np.int64)
        return _new_profiles(data, nf, template, ids, over)

    activity = _template_activity(data, template, nf)
    new, added = extend(data, nf, src, dst, ts, new_profiles=profiles,
                        new_activity=activity,
                        labels={"fake": fakes, "attack_fake": fakes, "customer": cust,
                                "attack_customer": cust})
    return Attack(name=f"bought-{budget}", kind="bought", budget=budget, data=new,
                  n_original=n, customers=np.sort(cust), fakes=fakes.astype(np.int32),
                  follows_added=added, removed_added=0)


def _template_activity(data: DetectionData, template: np.ndarray | None, k: int
                       ) -> pa.Table | None:
    if data.activity is None:
        return None
    if template is None:
        return None
    return data.activity.take(pa.array(template, pa.int64()))


def follow_back_campaign(data: DetectionData, customers: np.ndarray, *,
                         targets: int | None = None, share: float | None = None,
                         seed: int = 0) -> Attack:
    """Every customer mass-follows, keeps those who follow back and unfollows the rest.

    Parameters
    ----------
    data : DetectionData
    customers : int array
    targets : int, optional
        Accounts each customer follows (config ``manip_followback_targets``, 5,000),
        drawn uniformly among the real accounts it did not follow.
    share : float, optional
        Share that follows back (config ``manip_followback_share``, 0.3).
    seed : int

    Returns
    -------
    Attack
        Graph edges: the kept follows and the follow-backs; ``data.removed`` gains one
        row per unfollow.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(1000, 5000, seed=0))
    >>> a = follow_back_campaign(d, np.array([1, 2]), targets=200, share=0.3, seed=0)
    >>> r = a.data.removed
    >>> r.num_rows, int((a.data.graph.out_degree()[1] - d.graph.out_degree()[1]))
    (280, 60)
    >>> bool((r.column("removed").to_numpy() > r.column("created").to_numpy()).all())
    True
    """
    data = DetectionData.coerce(data)
    t_n = int(config.value("manip_followback_targets", targets))
    share = float(config.value("manip_followback_share", share))
    if not 0 <= share <= 1 or t_n < 1:
        raise UsageError("targets must be positive and share within [0, 1]")
    cust = np.asarray(customers, np.int32)
    g = data.graph
    n = g.n
    rng = np.random.default_rng([seed, 2, t_n])
    now = _now(data)
    timed = g.out_ts is not None
    camp_days = float(config.get("manip_campaign_days"))
    lo_d = float(config.get("manip_unfollow_min_days"))
    hi_d = float(config.get("manip_unfollow_max_days"))
    delay_h = float(config.get("manip_followback_delay_hours"))
    s_parts, d_parts, t_parts = [], [], []
    r_src, r_dst, r_cr, r_rm = [], [], [], []
    allv = np.arange(n, dtype=np.int32)
    for c in cust:
        taken = np.zeros(n, bool)
        taken[g.out_neighbors(c)] = True
        taken[c] = True
        cand = allv[~taken]
        k = min(t_n, cand.size)
        tgt = rng.choice(cand, size=k, replace=False)     # random order
        nb = int(round(share * k))
        back, rest = tgt[:nb], tgt[nb:]
        # campaign: it starts hi_d + camp_days + 1 days before the end of the data
        start = now - int((hi_d + camp_days + 1) * DAY)
        created = start + (rng.random(k) * camp_days * DAY).astype(np.int64)
        t_back = np.minimum(created[:nb] + rng.exponential(delay_h * HOUR, nb).astype(
            np.int64), now)
        removed_at = created[nb:] + (rng.uniform(lo_d, hi_d, k - nb) * DAY).astype(np.int64)
        s_parts += [np.full(nb, c, np.int64), back.astype(np.int64)]
        d_parts += [back.astype(np.int64), np.full(nb, c, np.int64)]
        t_parts += [created[:nb], t_back]
        r_src.append(np.full(k - nb, c, np.int32))
        r_dst.append(rest.astype(np.int32))
        r_cr.append(created[nb:])
        r_rm.append(removed_at)
    removed = pa.table({"src": np.concatenate(r_src), "dst": np.concatenate(r_dst),
                        "created": np.concatenate(r_cr), "removed": np.concatenate(r_rm)})
    new, added = extend(data, 0, np.concatenate(s_parts), np.concatenate(d_parts),
                        np.concatenate(t_parts) if timed else None, removed=removed,
                        labels={"farm": cust, "attack_farm": cust})
    return Attack(name="followback", kind="followback", budget=t_n, data=new, n_original=n,
                  customers=np.sort(cust), fakes=np.empty(0, np.int32),
                  follows_added=added, removed_added=removed.num_rows)


def adaptive_attack(data: DetectionData, customers: np.ndarray, budget: int | None = None,
                    *, seed: int = 0) -> Attack:
    """A careful seller: aged, filled-in fakes that follow each other (a sybil region),
    popular real accounts, and the customer, drip-fed over months.

    Parameters
    ----------
    data : DetectionData
    customers : int array
    budget : int, optional
        Fakes per customer (config ``manip_adaptive_budget``, 1,000).
    seed : int

    Returns
    -------
    Attack

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(2000, 20000, seed=0))
    >>> a = adaptive_attack(d, np.array([7, 8]), 100, seed=0)
    >>> g = a.data.graph
    >>> gained = int(g.in_degree()[7] - d.graph.in_degree()[7])
    >>> a.fakes.size, bool(g.in_degree()[a.fakes].mean() > 10), gained >= 100
    (200, True, True)
    """
    data = DetectionData.coerce(data)
    budget = int(config.value("manip_adaptive_budget", budget))
    kmin = int(config.get("manip_adaptive_fake_min"))
    kmax = int(config.get("manip_adaptive_fake_max"))
    k_real = int(config.get("manip_adaptive_real_follows"))
    cust = np.asarray(customers, np.int32)
    g = data.graph
    n = g.n
    nf = cust.size * budget
    if budget < 1 or cust.size == 0:
        raise UsageError("budget and the number of customers must be positive")
    if nf <= kmax or n <= k_real:
        raise UsageError("the sybil region is too small for the follows each fake makes")
    rng = np.random.default_rng([seed, 3, budget])
    fakes = np.arange(n, n + nf, dtype=np.int64)
    owner = np.repeat(cust, budget)
    # follows among fakes: kmin..kmax distinct other fakes each
    kf = rng.integers(kmin, kmax + 1, nf)
    ff = distinct_rows(lambda s: rng.integers(n, n + nf, s, dtype=np.int64), nf, kmax,
                       exclude=fakes)
    # shuffle columns so that the first kf of each sorted row are a random subset
    perm = np.argsort(rng.random((nf, kmax)), axis=1)
    ff = np.take_along_axis(ff, perm, axis=1)
    use = np.arange(kmax)[None, :] < kf[:, None]
    f_src = np.repeat(fakes, kf)
    f_dst = ff[use].astype(np.int64)
    del ff, perm, use
    # follows of real accounts, by popularity, never the customer
    real = distinct_rows(popularity_sampler(g.in_degree(), rng), nf, k_real, exclude=owner)
    src = np.concatenate([fakes, f_src, np.repeat(fakes, k_real)])
    dst = np.concatenate([owner.astype(np.int64), f_dst, real.ravel().astype(np.int64)])
    del f_src, f_dst, real
    now = _now(data)
    ts = None
    if g.out_ts is not None:
        span = float(config.get("manip_adaptive_span_days")) * DAY
        ts = now - (rng.random(src.size) * span).astype(np.int64)
    # profiles and activity copied from established real accounts
    ok = ~data.label_mask(*FRAUD_LABELS)
    ok[cust] = False
    if _has(data, "created_at") and _has(data, "observed_at"):
        age = (data.column("observed_at") - data.column("created_at")) / DAY
        ok &= age >= float(config.get("manip_adaptive_min_age_days"))
    if "description" in data.profiles.column_names and \
            data.profiles.column("description").null_count < data.n:
        ok &= data.profiles.column("description").is_valid().to_numpy(zero_copy_only=False)
    posts = (data.activity.column("posts").to_numpy().astype(np.float64)
             if data.activity is not None else data.column("posts_count"))
    if np.isfinite(posts[ok]).any():
        ok &= posts >= np.nanmedian(posts[ok])
    pool = np.flatnonzero(ok)
    if pool.size == 0:
        pool = np.flatnonzero(~data.label_mask(*FRAUD_LABELS))
    template = rng.choice(pool, nf)

    def profiles(g2, ids):
        over = _degree_counts(data, g2, n)
        return _new_profiles(data, nf, template, ids, over)

    new, added = extend(data, nf, src, dst, ts, new_profiles=profiles,
                        new_activity=_template_activity(data, template, nf),
                        labels={"fake": fakes, "attack_fake": fakes, "customer": cust,
                                "attack_customer": cust})
    return Attack(name=f"adaptive-{budget}", kind="adaptive", budget=budget, data=new,
                  n_original=n, customers=np.sort(cust), fakes=fakes.astype(np.int32),
                  follows_added=added, removed_added=0)


#: Platform of the injected accounts (their account ids are ``injected-<k>``).
INJECTED_PLATFORM = "injected"


def inject_block(graph: FollowGraph, n_fakes: int = 2000, n_customers: int = 100,
                 per_fake_customers: int = 30, per_fake_camouflage: int = 30,
                 seed: int = 0, *, camouflage: str = "random"
                 ) -> tuple[FollowGraph, np.ndarray, np.ndarray]:
    """Add a Fraudar-style block of bought followers to ``graph``.

    ``n_fakes`` new accounts each follow ``per_fake_customers`` accounts drawn without
    replacement from ``n_customers`` real accounts (the customers, drawn uniformly from
    the graph), plus ``per_fake_camouflage`` real accounts as camouflage, drawn uniformly
    (``camouflage="random"``) or in proportion to their followers (``"popular"``, the
    biased camouflage of Fraudar's section 5).

    Parameters
    ----------
    graph : FollowGraph
    n_fakes, n_customers, per_fake_customers, per_fake_camouflage : int
    seed : int
    camouflage : {"random", "popular"}

    Returns
    -------
    new_graph : FollowGraph
        The graph with the injected accounts (platform ``"injected"``) and follows; the
        original follows keep their times, the injected ones have unknown times.
        Vertex ids are renumbered by name, as always.
    fake_vertices, customer_vertices : int32 arrays
        Vertex ids in ``new_graph``.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> g2, f, c = inject_block(random_graph(500, 3000, seed=1), n_fakes=50, n_customers=10,
    ...                        per_fake_customers=5, per_fake_camouflage=5, seed=2)
    >>> bool(np.isin(g2.out_neighbors(f[0]), c).sum() == 5)
    True
    >>> g3, f3, _ = inject_block(g2, n_fakes=50, n_customers=10, per_fake_customers=5,
    ...                         per_fake_camouflage=5, seed=3)   # a second block
    >>> g3.n, len(set(g3.names.column("account_id").to_pylist())), g3.name(int(f3[0]))
    (600, 600, ('injected', 'injected-50'))
    """
    n = graph.n
    if n_customers > n or per_fake_customers > n_customers or per_fake_camouflage > n:
        raise UsageError("the block does not fit: need per_fake_customers <= n_customers "
                         "<= accounts and per_fake_camouflage <= accounts")
    if camouflage not in ("random", "popular"):
        raise UsageError(f"camouflage must be 'random' or 'popular', got {camouflage!r}")
    rng = np.random.default_rng(seed)
    customers = np.sort(rng.choice(n, size=n_customers, replace=False)).astype(np.int64)
    fakes = np.arange(n, n + n_fakes, dtype=np.int64)
    # each fake: per_fake_customers distinct customers and per_fake_camouflage distinct
    # real accounts, drawn as the other attacks draw
    pick = distinct_rows(lambda size: rng.integers(0, n_customers, size), n_fakes,
                         per_fake_customers)
    c_dst = customers[pick].ravel()
    draw = ((lambda size: rng.integers(0, n, size)) if camouflage == "random"
            else popularity_sampler(graph.in_degree(), rng))
    k_dst = distinct_rows(draw, n_fakes, per_fake_camouflage).astype(np.int64)
    src = np.concatenate([np.repeat(fakes, per_fake_customers),
                          np.repeat(fakes, per_fake_camouflage)])
    dst = np.concatenate([c_dst, k_dst.ravel()])
    # follows the fakes make are distinct; camouflage may hit a customer already followed
    key = src * (n + n_fakes) + dst
    _, first = np.unique(key, return_index=True)
    src, dst = src[np.sort(first)], dst[np.sort(first)]
    o_src, o_dst = csr_edges(graph.out_indptr, graph.out_indices)
    all_src = np.concatenate([o_src.astype(np.int64), src])
    all_dst = np.concatenate([o_dst.astype(np.int64), dst])
    ts = None
    if graph.out_ts is not None:
        ts = np.concatenate([graph.out_ts.astype(np.int64),
                             np.full(src.shape[0], np.iinfo(np.int32).min, np.int64)])
    # ids continue after accounts injected before, so that repeated injections (several
    # blocks) keep every name distinct
    first = int(pc.sum(pc.equal(graph.names.column("platform").cast(pa.string()),
                                INJECTED_PLATFORM)).as_py() or 0)
    width = len(str(max(first + n_fakes - 1, 0)))
    names = pa.concat_tables([
        graph.names.select(["platform", "account_id"]).cast(
            pa.schema([("platform", pa.string()), ("account_id", pa.string())])),
        pa.table({"platform": pa.array([INJECTED_PLATFORM] * n_fakes, pa.string()),
                  "account_id": pa.array([f"injected-{first + i:0{width}d}"
                                                    for i in range(n_fakes)],
                                         pa.string())})])
    inter = {kind: (*csr_edges(p, i), t) for kind, (p, i, t) in graph.interactions.items()}
    g2 = from_edges(all_src, all_dst, ts=ts, names=names, interactions=inter or None)
    # from_edges renumbers by name: uids hold each vertex's position in ``names``
    pos_to_vertex = np.empty(g2.n, np.int64)
    pos_to_vertex[g2.uids] = np.arange(g2.n)
    return (g2, pos_to_vertex[fakes].astype(np.int32),
            np.sort(pos_to_vertex[customers]).astype(np.int32))


def attack_plan(budgets: Sequence[int] | None = None, *, followback: bool = True,
                adaptive: bool = True) -> list[tuple[str, int]]:
    """The attacks of the protocol, in order: ``[(kind, budget), ...]``.

    Examples
    --------
    >>> attack_plan([100, 1000])
    [('bought', 100), ('bought', 1000), ('followback', 5000), ('adaptive', 1000)]
    """
    if budgets is None:
        budgets = parse_budgets(config.get("manip_budgets"))
    plan = [("bought", int(b)) for b in budgets]
    if followback:
        plan.append(("followback", int(config.get("manip_followback_targets"))))
    if adaptive:
        plan.append(("adaptive", int(config.get("manip_adaptive_budget"))))
    return plan


def parse_budgets(text: str | Sequence[int]) -> list[int]:
    """Budgets from ``"100,1000,10000"`` (or a sequence); UsageError when not positive.

    Examples
    --------
    >>> parse_budgets("100, 1000")
    [100, 1000]
    """
    if isinstance(text, str):
        try:
            vals = [int(x) for x in text.replace(" ", "").split(",") if x]
        except ValueError:
            raise UsageError(f"budgets must be comma-separated integers, "
                             f"got {text!r}") from None
    else:
        vals = [int(x) for x in text]
    if not vals or min(vals) < 1:
        raise UsageError(f"budgets must be positive integers, got {text!r}")
    return vals


def run_attack(data: DetectionData, customers: np.ndarray, kind: str, budget: int, *,
               seed: int = 0) -> Attack:
    """Dispatch one attack of :func:`attack_plan`.

    Examples
    --------
    >>> from trueclout.graph.toy import random_graph
    >>> d = DetectionData.from_graph(random_graph(500, 3000, seed=0))
    >>> run_attack(d, np.array([1]), "bought", 5, seed=0).name
    'bought-5'
    """
    if kind == "bought":
        return buy_followers(data, customers, budget, seed=seed)
    if kind == "followback":
        return follow_back_campaign(data, customers, targets=budget, seed=seed)
    if kind == "adaptive":
        return adaptive_attack(data, customers, budget, seed=seed)
    raise UsageError(f"unknown attack {kind!r}; use bought, followback or adaptive")


__all__ = ["Attack", "FRAUD_LABELS", "INJECTED_PLATFORM", "INJECTED_SUFFIX", "adaptive_attack",
           "attack_plan", "buy_followers", "distinct_rows", "extend",
           "follow_back_campaign", "inject_block", "parse_budgets", "pick_customers",
           "popularity_sampler", "run_attack"]
