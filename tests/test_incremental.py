"""Incremental scores with incremental detection (score/incremental.py with
detect/incremental.py): a batch that changes an account's verdict moves its weight in
authentic reach and its vote in TrueRank, and the scores still equal a full recompute
over the updated weights."""

from __future__ import annotations

import numpy as np

from trueclout.score.incremental import IncrementalScores


def _close(inc, full, tol=1e-6):
    got = inc.scores()
    for k in ("pagerank", "truerank"):
        assert float(np.abs(got[k] - full[k]).max()) <= tol, k
    rel = np.abs(got["reach"] - full["reach"]) / np.maximum(np.abs(full["reach"]), 1.0)
    assert float(rel.max()) <= 1e-9


def test_mass_following_moves_weight_vote_and_reach(sim_ctx):
    ctx = sim_ctx
    g = ctx.data.graph
    inc = IncrementalScores(ctx, tol=1e-7, recompute_share=1.0)
    assert inc.det is not None
    humans = ctx.data.labels["human"]
    cand = humans[(ctx.ensemble.category_[humans] == "real")
                  & (ctx.data.column("followers_count")[humans] < 300)
                  & (inc.voter[humans] > 0.05)]
    v = int(cand[0])
    a0, voter0 = float(inc.a[v]), float(inc.voter[v])
    followed = set(g.out_indices[g.out_indptr[v]:g.out_indptr[v + 1]].tolist()) | {v}
    new = np.array([u for u in range(g.n) if u not in followed][:5000])
    st = inc.apply(np.stack([np.full(new.size, v), new], 1), np.zeros((0, 2), np.int64))
    d = st["detection"]
    assert d["changed"] >= 1 and d["voters_changed"] >= 1 and d["reach_changed"] >= 1
    assert inc.det.category[v] == "mass_follower"
    # its weight as an audience member and its vote both fall, as the detection says
    assert inc.a[v] < a0 and inc.voter[v] < voter0
    assert abs(inc.a[v] - float(inc.det.weight[v]) * inc.h[v]) < 1e-7
    _close(inc, inc.full_scores(max_iter=150))
    # without detection the weights stay as fitted, and the scores differ
    off = IncrementalScores(ctx, tol=1e-7, detection=False, recompute_share=1.0)
    off.apply(np.stack([np.full(new.size, v), new], 1), np.zeros((0, 2), np.int64))
    assert off.a[v] == a0 and off.voter[v] == voter0
    assert float(np.abs(off.reach - inc.reach).max()) > 0
    _close(off, off.full_scores(max_iter=150))
    # the default (local) mode stays within its reported bounds and well within 1e-6
    loc = IncrementalScores(ctx, recompute_share=1.0)
    assert loc.local > 0
    st = loc.apply(np.stack([np.full(new.size, v), new], 1), np.zeros((0, 2), np.int64))
    full, got = loc.full_scores(max_iter=150), loc.scores()
    for k in ("pagerank", "truerank"):
        err = np.abs(got[k] - full[k])
        assert float(err.max()) <= st[k]["bound_max_abs"] + 1e-12
        assert float(err.sum()) <= st[k]["bound_l1"] + 1e-12
        assert float(err.max()) <= 1e-6


def test_large_batch_is_solved_again_and_pushes_go_on_from_there(sim_ctx):
    g = sim_ctx.data.graph
    rng = np.random.default_rng(3)
    inc = IncrementalScores(sim_ctx, tol=1e-7, recompute_share=0.002)
    big = rng.integers(g.n, size=(3000, 2))
    big = big[big[:, 0] != big[:, 1]]
    st = inc.apply(big, np.zeros((0, 2), np.int64))
    assert st["recomputed"] and st["changes"] > 0.002 * g.m
    assert inc.ov_keys.size == 0                  # the overlay was merged
    _close(inc, inc.full_scores(max_iter=150))
    # a small batch after it is pushed from the restarted residuals
    small = rng.integers(g.n, size=(40, 2))
    small = small[small[:, 0] != small[:, 1]]
    st = inc.apply(small, np.zeros((0, 2), np.int64))
    assert "recomputed" not in st and st["pagerank"]["pushes"] > 0
    _close(inc, inc.full_scores(max_iter=150))


def test_recompute_after_new_accounts(sim_ctx):
    g = sim_ctx.data.graph
    rng = np.random.default_rng(4)
    inc = IncrementalScores(sim_ctx, tol=1e-7, recompute_share=1.0)
    new = np.stack([rng.integers(g.n, size=30), g.n + np.arange(30)], 1)
    inc.apply(new, np.zeros((0, 2), np.int64))          # 30 new accounts, pushed
    assert inc.n == g.n + 30
    inc.recompute_share = 0.0
    big = rng.integers(inc.n, size=(500, 2))
    st = inc.apply(big[big[:, 0] != big[:, 1]], np.zeros((0, 2), np.int64))
    assert st["recomputed"]
    _close(inc, inc.full_scores(max_iter=150))
