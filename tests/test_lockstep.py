"""Lockstep detection: the Fraudar peeling kernel, the LockstepDetector (and its CopyCatch
time variant), and the injected-block evaluations (toy graphs, simulator, SNAP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trueclout.detect.data import DetectionData
from trueclout.evaluate.attacks import inject_block
from trueclout.evaluate.detection import evaluate_simulator, evaluate_snap_injection
from trueclout.detect.lockstep import CopyCatchDetector, LockstepDetector
from trueclout.errors import NotFittedError
from trueclout.graph.build import from_edges
from trueclout.graph.toy import random_graph, toy_graph
from trueclout.kernels import peel as P
from trueclout.kernels.csr import TS_UNKNOWN, csr_from_edges

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
T0 = 1_700_000_000
DAY = 86_400


# -- a plain-Python Fraudar greedy, the reference for the kernel -------------------------
def brute_peel(n, src, dst, w):
    """Fraudar's greedy in plain Python, with the kernel's arithmetic order and ties."""
    out = {r: sorted(dst[src == r].tolist()) for r in range(n)}
    inn = {c: sorted(src[dst == c].tolist()) for c in range(n)}
    prio = {}
    for r in range(n):
        if out[r]:
            s = 0.0
            for c in out[r]:
                s += w[c]
            prio[r] = s
    for c in range(n):
        if inn[c]:
            prio[n + c] = w[c] * len(inn[c])
    alive = set(prio)
    f = 0.0
    for u in sorted(alive):
        if u < n:
            f += prio[u]
    size = len(alive)
    order = []
    best_g, best_t = (f / size if size else 0.0), 0
    for t in range(size):
        u = min(alive, key=lambda x: (prio[x], x))
        alive.remove(u)
        order.append(u)
        f -= prio[u]
        if u < n:
            for c in out[u]:
                if n + c in alive:
                    prio[n + c] -= w[c]
        else:
            for r in inn[u - n]:
                if r in alive:
                    prio[r] -= w[u - n]
        rest = size - t - 1
        if rest > 0 and f / rest > best_g:
            best_g, best_t = f / rest, t + 1
    return order, best_t, best_g


def _csr_pair(src, dst, n):
    op, oi, _ = csr_from_edges(src, dst, n, dedupe=True)
    ip, ii, _ = csr_from_edges(dst, src, n, dedupe=True)
    return op, oi, ip, ii


@pytest.mark.parametrize("seed", range(12))
def test_peel_matches_plain_python(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    m = int(rng.integers(1, 4 * n))
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])
    src, dst = key // n, key % n
    op, oi, ip, ii = _csr_pair(src, dst, n)
    # weights with ties (unit) and without (Fraudar's log weights)
    for w in (np.ones(n), P.log_weights(np.diff(ip))):
        order, best, dens = P.peel_order(op, oi, ip, ii, w)
        b_order, b_best, b_dens = brute_peel(n, src, dst, w)
        assert order.tolist() == b_order
        assert best == b_best
        assert dens == b_dens


def test_peel_finds_planted_block_and_blocks_in_sequence():
    g0 = random_graph(2000, 8000, seed=3)
    src0 = np.repeat(np.arange(g0.n), np.diff(g0.out_indptr))
    rng = np.random.default_rng(1)
    # two blocks with disjoint rows and targets
    b1 = (np.repeat(np.arange(0, 100), 12), rng.choice(np.arange(1900, 1930), (100, 12)).ravel())
    b2 = (np.repeat(np.arange(200, 260), 10), rng.choice(np.arange(1800, 1815), (60, 10)).ravel())
    g = from_edges(np.r_[src0, b1[0], b2[0]], np.r_[g0.out_indices, b1[1], b2[1]], n=2000)
    res = P.dense_blocks(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, k=5,
                         min_ratio=1.5)
    assert len(res.blocks) >= 2
    found = [set(b.rows.tolist()) for b in res.blocks[:2]]
    truth = [set(range(0, 100)), set(range(200, 260))]
    for t in truth:
        best = max(len(t & f) / len(t | f) for f in found)
        assert best >= 0.8
    assert all(r >= 1.5 for r in res.ratios())
    # the floor-core keeps the result: same first block without the reduction
    res2 = P.dense_blocks(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, k=1,
                          min_ratio=1.5, core=False)
    assert set(res2.blocks[0].rows.tolist()) == set(res.blocks[0].rows.tolist())


def test_masks_and_helpers_match_brute_force():
    rng = np.random.default_rng(5)
    n = 60
    src, dst = rng.integers(0, n, 400), rng.integers(0, n, 400)
    g = from_edges(src[src != dst], dst[src != dst], n=n)
    edges = set(zip(np.repeat(np.arange(n), np.diff(g.out_indptr)).tolist(),
                    g.out_indices.tolist()))
    o, i = P.one_way_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    osrc = np.repeat(np.arange(n), np.diff(g.out_indptr))
    assert o.tolist() == [int((c, r) not in edges) for r, c in zip(osrc, g.out_indices)]
    icol = np.repeat(np.arange(n), np.diff(g.in_indptr))
    assert i.tolist() == [int((c, r) not in edges) for c, r in zip(icol, g.in_indices)]
    # an in-CSR mask carried to the out-CSR marks the same edges
    m = rng.integers(0, 2, g.m).astype(np.uint8)
    om = P.in_mask_to_out(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, m)
    marked_in = {(r, c) for c, r, x in zip(icol, g.in_indices, m) if x}
    marked_out = {(r, c) for r, c, x in zip(osrc, g.out_indices, om) if x}
    assert marked_in == marked_out
    cols = np.array([3, 7, 11])
    hits = P.count_hits(g.in_indptr, g.in_indices, cols)
    assert hits.tolist() == [sum((r, c) in edges for c in cols) for r in range(n)]


def test_synchronized_edges_brute_force():
    rng = np.random.default_rng(2)
    ip = np.array([0, 30, 32, 60])
    ts = rng.integers(0, 5000, 60).astype(np.int32)
    ts[5] = TS_UNKNOWN
    w, k = 200, 4
    got = P.synchronized_edges(ip, ts, w, k)
    for c in range(3):
        row = ts[ip[c]:ip[c + 1]].astype(np.int64)
        known = row[row != TS_UNKNOWN]
        for j, t in enumerate(row):
            want = t != TS_UNKNOWN and np.sum(np.abs(known - t) <= w) >= k
            assert got[ip[c] + j] == want


# -- the detector ----------------------------------------------------------------------
def _f1(flag, truth):
    tp = np.sum(flag & truth)
    return 2 * tp / max(flag.sum() + truth.sum(), 1)


@pytest.mark.parametrize("camouflage", ["random", "popular"])
def test_planted_block_with_camouflage(camouflage):
    g = random_graph(20000, 80000, seed=4, skew=0.5)
    g2, fakes, customers = inject_block(g, n_fakes=500, n_customers=50, per_fake_customers=15,
                                        per_fake_camouflage=15, seed=1, camouflage=camouflage)
    det = LockstepDetector().fit(g2)
    truth = np.zeros(g2.n, bool)
    truth[fakes] = True
    assert _f1(det.labels_.astype(bool), truth) >= 0.9
    assert det.labels_[~truth].mean() <= 0.005
    assert set(customers.tolist()) <= set(det.customers_.tolist())
    assert all("likely bought followers" in r for r in det.customer_reasons(customers))
    assert 0 <= det.decision_scores_.min() and det.decision_scores_.max() <= 1
    assert det.blocks_ and det.blocks_[0]["back_share"] == 0.0
    flagged = np.flatnonzero(det.labels_)
    assert all(det.reasons_[v].startswith("follows ") for v in flagged)
    assert all(r == "" for r in det.reasons_[~det.labels_.astype(bool)])


def test_dense_real_communities_are_not_flagged():
    """Closed communities are dense too, but their members follow each other back; their
    one-way fans follow accounts that follow one another (a community), while the
    customers of a seller are unrelated."""
    rng = np.random.default_rng(7)
    n = 6000
    src = [rng.integers(2000, n, 16000)]  # the rest of the graph: random follows
    dst = [rng.integers(2000, n, 16000)]
    for c in range(10):  # ten communities of 80 with 40% of pairs following each other
        mem = np.arange(c * 80, (c + 1) * 80)
        a, b = np.meshgrid(mem, mem)
        keep = (a != b) & (rng.random(a.shape) < 0.4)
        src.append(a[keep])
        dst.append(b[keep])
        fans = np.arange(1000 + c * 40, 1000 + (c + 1) * 40)  # 40 fans follow half of it
        f, m = np.meshgrid(fans, mem)
        keep = rng.random(f.shape) < 0.5
        src.append(f[keep])
        dst.append(m[keep])
    src, dst = np.concatenate(src), np.concatenate(dst)
    g = from_edges(src[src != dst], dst[src != dst], n=n)
    g2, fakes, _ = inject_block(g, n_fakes=300, n_customers=30, per_fake_customers=12,
                                per_fake_camouflage=12, seed=3)
    det = LockstepDetector().fit(g2)
    truth = np.zeros(g2.n, bool)
    truth[fakes] = True
    assert _f1(det.labels_.astype(bool), truth) >= 0.9
    assert det.labels_[~truth].sum() <= 0.005 * (~truth).sum()


def _timed_graph(with_block: bool = True):
    """Random follows spread over two years; a viral account gains 400 followers in two
    days; optionally 200 fakes follow 12 of 25 customers, each customer's batch within a
    day."""
    rng = np.random.default_rng(11)
    n = 8000
    m = 40000
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    ts = rng.integers(T0 - 730 * DAY, T0, m)
    viral = 7999
    vs = rng.choice(7000, 400, replace=False)
    burst = T0 - 30 * DAY + rng.integers(0, 2 * DAY, 400)
    parts = [(src, dst, ts), (vs, np.full(400, viral), burst)]
    fakes = np.arange(7000, 7200)
    customers = np.arange(7500, 7525)
    if with_block:
        fs = np.repeat(fakes, 12)
        fd = customers[np.argsort(rng.random((200, 25)), axis=1)[:, :12].ravel()]
        ft = T0 - 100 * DAY + (fd - 7500) * 3 * DAY + rng.integers(0, DAY, fd.size)
        parts.append((fs, fd, ft))
    s = np.concatenate([p[0] for p in parts])
    d = np.concatenate([p[1] for p in parts])
    t = np.concatenate([p[2] for p in parts])
    keep = s != d
    return from_edges(s[keep], d[keep], ts=t[keep], n=n), fakes, customers, viral


def test_copycatch_time_variant():
    g, fakes, customers, viral = _timed_graph()
    det = CopyCatchDetector().fit(g)
    assert det.use_time_
    truth = np.zeros(g.n, bool)
    truth[fakes] = True
    assert _f1(det.labels_.astype(bool), truth) >= 0.9
    assert det.labels_[~truth].sum() <= 0.005 * g.n
    assert det.customer_scores_[viral] < det.threshold_
    assert set(customers.tolist()) <= set(det.customers_.tolist())
    assert "bursts" in det.reasons_[fakes[0]]
    assert LockstepDetector().fit(g).use_time_  # "auto" with every time known


def test_no_block_no_flags():
    g, _, _, viral = _timed_graph(with_block=False)
    for det in (LockstepDetector(use_time=False), CopyCatchDetector()):
        det.fit(DetectionData.from_graph(g))
        assert det.labels_.sum() == 0
        assert det.customers_.size == 0


def test_contract():
    det = LockstepDetector(blocks=3)
    with pytest.raises(NotFittedError):
        det.decision_scores_
    assert det.get_params()["blocks"] == 3
    det.fit(toy_graph())
    assert det.decision_scores_.shape == (6,)
    assert det.customer_reasons([0]) == [""]
    assert CopyCatchDetector(window_s=3600).get_params()["window_s"] == 3600


# -- the simulator ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    d = tmp_path_factory.mktemp("sim")
    simulate(d / "p", accounts=5000, seed=3)
    store = Store(str(d / "s.duckdb"))
    ingest(store, [d / "p"])
    yield store
    store.close()


def test_simulator_bought_followers(sim_store):
    data = DetectionData.from_store(sim_store)
    fakes = data.label_mask("fake")
    fast = data.label_mask("fast_growth")
    for det in (LockstepDetector(), LockstepDetector(use_time=False)):
        det.fit(data)
        flag = det.labels_.astype(bool)
        assert _f1(flag, fakes) >= 0.95
        assert flag[fast].mean() <= 0.05
        cust = data.label_mask("customer")
        assert _f1(det.customer_scores_ >= det.threshold_, cust) >= 0.9
    r = evaluate_simulator(data)
    assert r["fake"]["f1"] >= 0.95 and r["pod"]["f1"] >= 0.95
    assert r["fast_growth_fp"] <= 0.05


# -- SNAP ego-Twitter with an injected block --------------------------------------------
@pytest.mark.slow
@pytest.mark.realdata
def test_snap_injection(tmp_path):
    snap = DATA / "snap-ego-twitter"
    if not snap.exists():
        pytest.skip("SNAP ego-Twitter data absent")
    from trueclout.ingest.run import ingest
    from trueclout.store import Store

    with Store(str(tmp_path / "snap.duckdb")) as store:
        ingest(store, [snap])
        from trueclout.graph.build import build_graph
        g = build_graph(store, interactions=False)
    for camouflage in ("random", "popular"):
        r = evaluate_snap_injection(g, camouflage=camouflage)
        assert r["f1"] >= 0.9, r
        assert r["real_flagged_share"] <= 0.005, r
        assert r["customers_found"] >= 0.9, r
