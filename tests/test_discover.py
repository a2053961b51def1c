"""Discovery for marketers: find, overlap and plan, on toy graphs, random graphs (against
brute force) and the simulated platform (quality floors on planted structure)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueclout.cli import main
from trueclout.discover.targets import (audience_relevance, audience_target,
                                         audience_weight, read_account_list, resolve_many,
                                         resolve_target, toy_context)
from trueclout.discover.find import creator_reach, find_creators, lookalike_creators
from trueclout.discover.overlap import audience_overlap
from trueclout.discover.plan import budgeted_cover, plan_budget, read_costs
from trueclout.errors import InputError, UsageError
from trueclout.graph.build import from_edges
from trueclout.kernels.coverage import coverage_value


def run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _vertices(ctx, table):
    return np.array([ctx.graph.vertex(*a.split(":", 1))
                     for a in table.column("account").to_pylist()], np.int64)


def _communities(ctx):
    extra = ctx.data.profiles.column("extra").to_pylist()
    return np.array([json.loads(e)["community"] if e else -1 for e in extra])


# -- audience and targets --------------------------------------------------------------------
def test_audience_weight_zero_for_flagged_and_reach_by_hand():
    ctx = toy_context(suspicious=[0], weight=[1, 0.5, 1, 1, 0.25, 1])
    w = audience_weight(ctx)
    assert w.tolist() == [0.0, 0.5, 1.0, 1.0, 0.25, 1.0]
    f, a, r = creator_reach(ctx, np.array([1, 1, 0, 0, 1, 0], np.float32))
    # cat's followers: ana (flagged), ben 0.5, dan 1, eve 0.25, fay 1
    assert f[2] == 5 and a[2] == pytest.approx(2.75) and r[2] == pytest.approx(0.75)


def test_audience_relevance_members_and_lookalike_credit(sim_ctx):
    comm = _communities(sim_ctx)
    members = np.flatnonzero(comm == 2)
    rel, char = audience_relevance(sim_ctx, members)
    assert np.all(rel[members] == 1)
    others = np.setdiff1d(np.arange(sim_ctx.n), members)
    assert rel[others].max() <= 0.5 + 1e-6 and rel[others].max() > 0
    assert char.size > 0
    # lookalikes earn credit through what the community follows: accounts that follow
    # into the community get more credit on average than the rest
    g = sim_ctx.graph
    follows_in = np.array([np.isin(g.out_neighbors(u), members).mean()
                           if g.out_degree()[u] else 0 for u in others])
    hi = rel[others][follows_in > 0.5].mean()
    lo = rel[others][follows_in < 0.1].mean()
    assert hi > 5 * lo


def test_account_lists_and_resolution(tmp_path):
    d = toy_context().data
    assert resolve_many(d, ["toy:ben", "cat", "ana"]).tolist() == [1, 2, 0]
    with pytest.raises(UsageError, match="'zed'"):
        resolve_many(d, ["ben", "zed"])
    p = tmp_path / "a.txt"
    p.write_text("# the target\naccount\ntoy:ana\n\neve\nana\n")
    assert read_account_list(d, p).tolist() == [0, 4]
    p.write_text("handle,account\nx,toy:fay\ny,zed\n")
    with pytest.raises(InputError) as e:
        read_account_list(d, p)
    assert e.value.line == 3 and "zed" in str(e.value)
    p.write_text("name,handle\nx,y\n")
    with pytest.raises(InputError, match="'account' column"):
        read_account_list(d, p)


def test_resolve_target_rules():
    ctx = toy_context()
    with pytest.raises(UsageError, match="exactly one"):
        resolve_target(ctx)
    with pytest.raises(UsageError, match="exactly one"):
        resolve_target(ctx, topic="x", like="toy:cat")
    with pytest.raises(UsageError, match="nobody"):
        resolve_target(ctx, like="nobody")
    t = resolve_target(ctx, like="toy:cat")
    assert t.kind == "like" and t.exclude.tolist() == [2]


# -- find ------------------------------------------------------------------------------------
def test_find_never_returns_flagged_and_is_consistent(sim_ctx):
    t = find_creators(sim_ctx, None, top=300)
    v = _vertices(sim_ctx, t)
    assert t.num_rows == 300 and not sim_ctx.suspicious[v].any()
    rr = np.array(t.column("relevant_reach").to_pylist())
    assert np.all(np.diff(rr) <= 1e-9)
    ar = np.array(t.column("authentic_reach").to_pylist())
    fol = np.array(t.column("followers_known").to_pylist())
    assert np.all(ar <= fol + 1e-6) and np.allclose(rr, ar)
    # by hand for the first creator
    g = sim_ctx.graph
    w = audience_weight(sim_ctx)
    assert ar[0] == pytest.approx(float(w[g.in_neighbors(v[0])].sum()), rel=1e-4)


def test_customers_rank_far_below_their_follower_count(sim_ctx):
    """Creators who bought followers (label customer) fall in find against raw counts."""
    g = sim_ctx.graph
    cust = sim_ctx.data.labels["customer"]
    ind = g.in_degree()
    f, a, _ = creator_reach(sim_ctx)
    cand = np.flatnonzero((ind > 0) & ~sim_ctx.suspicious)

    def ranks(score):
        order = cand[np.lexsort((cand, -score[cand]))]
        pos = np.zeros(g.n, np.int64)
        pos[order] = np.arange(1, order.size + 1)
        return pos

    raw, auth = ranks(ind.astype(float)), ranks(a)
    c = cust[(ind[cust] >= 20) & ~sim_ctx.suspicious[cust]]
    assert c.size >= 5
    assert np.median(auth[c] / raw[c]) >= 1.5         # measured ~2 on this platform
    others = np.setdiff1d(np.flatnonzero(ind >= 20), cust)
    assert np.median(a[c] / ind[c]) < 0.7 * np.median(a[others] / ind[others])


def test_find_audience_recovers_the_community(sim_ctx):
    """A community as the target audience: most top creators come from it."""
    comm = _communities(sim_ctx)
    shares = []
    for k in range(5):
        t = find_creators(sim_ctx, audience_target(sim_ctx, np.flatnonzero(comm == k))
                          .relevance, top=10)
        shares.append(np.mean(comm[_vertices(sim_ctx, t)] == k))
    assert np.mean(shares) >= 0.6, shares


def test_lookalikes(sim_ctx):
    comm = _communities(sim_ctx)
    g = sim_ctx.graph
    ind = g.in_degree()
    # a mid-size creator, not flagged
    v = int(np.flatnonzero((ind >= 40) & ~sim_ctx.suspicious)[0])
    t = lookalike_creators(sim_ctx, v, top=10)
    vs = _vertices(sim_ctx, t)
    sims = np.array(t.column("similarity").to_pylist())
    assert v not in vs and not sim_ctx.suspicious[vs].any()
    assert np.all(np.diff(sims) <= 1e-9) and sims.max() <= 1 and sims.min() > 0
    # the most similar audience by brute force is ranked first
    w = audience_weight(sim_ctx).astype(float)
    a = set(g.in_neighbors(v).tolist())

    def cos(c):
        b = g.in_neighbors(c)
        both = [u for u in b.tolist() if u in a]
        den = math.sqrt((w[list(a)] ** 2).sum() * (w[b] ** 2).sum())
        return (w[both] ** 2).sum() / den if den else 0
    assert cos(vs[0]) == pytest.approx(sims[0], abs=1e-3)
    assert cos(vs[0]) >= max(cos(c) for c in vs[1:]) - 1e-9
    assert np.mean(comm[vs] == comm[v]) >= 0.5


def test_topic_target_when_topics_exist(sim_ctx):
    topics = pytest.importorskip("trueclout.score.topics")
    rel = np.asarray(topics.topic_relevance(sim_ctx, "community:0"), np.float32)
    assert rel.shape == (sim_ctx.n,)
    t = resolve_target(sim_ctx, topic="community:0")
    assert np.allclose(t.relevance, rel)
    tab = find_creators(sim_ctx, t.relevance, top=10)
    assert tab.num_rows > 0 and not sim_ctx.suspicious[_vertices(sim_ctx, tab)].any()
    share = np.array(tab.column("relevance_share").to_pylist())
    assert np.all((share >= 0) & (share <= 1))


# -- overlap ---------------------------------------------------------------------------------
def _random_ctx(seed, n=400, creators=6, p=(0.05, 0.4)):
    """Creators 0..creators-1 with random follower sets of varied sizes; random weights,
    some followers flagged."""
    rng = np.random.default_rng(seed)
    src, dst = [], []
    for c in range(creators):
        q = rng.uniform(*p)
        f = np.flatnonzero(rng.random(n) < q)
        f = f[f != c]
        src.extend(f.tolist())
        dst.extend([c] * f.size)
    g = from_edges(np.array(src), np.array(dst), n=n)
    w = rng.uniform(0.2, 1.0, n).astype(np.float32)
    sus = np.flatnonzero(rng.random(n) < 0.1)
    return toy_context(g, suspicious=sus.tolist(), weight=w)


def _brute_overlap(ctx, creators):
    g = ctx.graph
    w = audience_weight(ctx).astype(float)
    sets = [set(u for u in g.in_neighbors(c).tolist() if w[u] > 0) for c in creators]
    return sets, w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_overlap_matches_brute_force(seed):
    ctx = _random_ctx(seed)
    cr = [0, 1, 2, 3, 4, 5]
    r = audience_overlap(ctx, cr, method="exact")
    sets, w = _brute_overlap(ctx, cr)
    for i, c in enumerate(r["creators"]):
        others = set().union(*[s for j, s in enumerate(sets) if j != i])
        only = sets[i] - others
        assert c["audience"] == len(sets[i]) and c["unique_audience"] == len(only)
        assert c["unique_reach"] == pytest.approx(w[list(only)].sum(), abs=1e-3)
    k = 0
    for i, j in itertools.combinations(range(len(cr)), 2):
        p = r["pairs"][k]
        k += 1
        both = sets[i] & sets[j]
        assert p["common"] == len(both)
        assert p["jaccard"] == pytest.approx(len(both) / len(sets[i] | sets[j]), abs=1e-4)
        assert p["share_a_in_b"] == pytest.approx(w[list(both)].sum() / w[list(sets[i])].sum(),
                                                  abs=1e-4)
    union = set().union(*sets)
    assert r["union"]["audience"] == len(union)
    assert r["union"]["reach"] == pytest.approx(w[list(union)].sum(), abs=1e-2)


def test_minhash_within_stated_error_on_random_graphs():
    """Estimates fall within the stated standard errors of the exact values: every one
    within 4 SE, and at least 90% within 2 SE."""
    z_j, z_c, z_w, z_u = [], [], [], []
    for seed in range(6):
        ctx = _random_ctx(seed, n=6000, creators=6, p=(0.05, 0.5))
        cr = list(range(6))
        ex = audience_overlap(ctx, cr, method="exact")
        mh = audience_overlap(ctx, cr, method="minhash", k=256)
        assert mh["method"] == "minhash" and mh["error"]["jaccard_se_max"] == 0.0312
        for pe, pm in zip(ex["pairs"], mh["pairs"]):
            assert pm["jaccard_se"] <= 0.5 / math.sqrt(256) + 1e-9
            z_j.append(abs(pe["jaccard"] - pm["jaccard"]) / pm["jaccard_se"])
            z_c.append(abs(pe["common"] - pm["common"]) / pm["common_se"])
            z_w.append(abs(pe["common_reach"] - pm["common_reach"]) / pm["common_reach_se"])
        for ce, cm in zip(ex["creators"], mh["creators"]):
            assert ce["audience"] == cm["audience"]          # sizes are exact
            assert ce["authentic_reach"] == pytest.approx(cm["authentic_reach"], abs=1e-2)
            z_u.append(abs(ce["unique_reach"] - cm["unique_reach"]) / cm["unique_reach_se"])
    for z in (z_j, z_c, z_w, z_u):
        z = np.array(z)
        assert z.max() <= 4.0, z.max()
        assert np.mean(z <= 2.0) >= 0.9, np.mean(z <= 2.0)


def test_minhash_is_exact_when_the_union_fits_the_sketch():
    ctx = _random_ctx(5, n=200)
    ex = audience_overlap(ctx, [0, 1, 2], method="exact")
    mh = audience_overlap(ctx, [0, 1, 2], method="minhash", k=512)
    for pe, pm in zip(ex["pairs"], mh["pairs"]):
        assert pm["jaccard_se"] == 0 and pe["common"] == pm["common"]
        assert pe["common_reach"] == pytest.approx(pm["common_reach"], abs=1e-2)
    assert ex["union"] == pytest.approx(mh["union"], abs=1e-2)


def test_overlap_errors_and_flagged_creator():
    ctx = toy_context(suspicious=[4])
    with pytest.raises(UsageError, match="at least two"):
        audience_overlap(ctx, ["toy:cat"])
    with pytest.raises(UsageError, match="same account"):
        audience_overlap(ctx, ["toy:cat", "cat"])
    with pytest.raises(UsageError, match="method"):
        audience_overlap(ctx, ["toy:cat", "toy:ana"], method="fast")
    r = audience_overlap(ctx, ["toy:cat", "toy:eve"])
    assert [c["flagged"] for c in r["creators"]] == [False, True]
    # eve (flagged) is not part of cat's authentic audience
    assert r["creators"][0]["audience"] == 4


# -- plan ------------------------------------------------------------------------------------
def _brute_best(indptr, indices, value, cost, budget, max_sets=None):
    s = len(cost)
    best = 0.0
    for t in range(1, s + 1):
        if max_sets is not None and t > max_sets:
            break
        for comb in itertools.combinations(range(s), t):
            if cost[list(comb)].sum() <= budget + 1e-9:
                best = max(best, coverage_value(indptr, indices, value, comb))
    return best


@st.composite
def _instances(draw):
    s = draw(st.integers(1, 7))
    u = draw(st.integers(1, 14))
    rows = [draw(st.lists(st.integers(0, u - 1), max_size=u, unique=True)) for _ in range(s)]
    indptr = np.zeros(s + 1, np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.array([x for r in rows for x in sorted(r)], np.int64)
    value = np.array(draw(st.lists(st.integers(0, 9), min_size=u, max_size=u)), float)
    cost = np.array(draw(st.lists(st.integers(0, 10), min_size=s, max_size=s)), float)
    budget = float(draw(st.integers(0, 25)))
    return indptr, indices, value, cost, budget


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.sampled_from([None, 1, 2, 3]))
def test_plan_against_exhaustive_search(inst, max_sets):
    indptr, indices, value, cost, budget = inst
    opt = _brute_best(indptr, indices, value, cost, budget, max_sets)
    for mode, bound in (("greedy", 0.5 * (1 - 1 / math.e)), ("enumerate", 1 - 1 / math.e)):
        ch, gains, info = budgeted_cover(indptr, indices, value, cost, budget,
                                         max_sets=max_sets, mode=mode)
        assert len(set(ch.tolist())) == len(ch)
        assert cost[ch].sum() <= budget + 1e-9                      # never over budget
        assert max_sets is None or len(ch) <= max_sets
        got = coverage_value(indptr, indices, value, ch)
        assert got == pytest.approx(gains.sum())                    # gains add up
        assert got <= opt + 1e-9
        if max_sets is None:
            assert info["bound"] is not None
            assert got >= info["bound"] * opt - 1e-9
            assert got >= bound * opt - 1e-9
        if mode == "enumerate" and len(cost) <= 3:
            assert info["optimal"] and got == pytest.approx(opt)


def test_plan_budget_on_the_simulator(sim_ctx):
    g = sim_ctx.graph
    ind = g.in_degree()
    cands = np.argsort(-ind)[:40]
    rng = np.random.default_rng(0)
    costs = {int(v): float(ind[v]) * rng.uniform(0.5, 1.5) for v in cands}
    budget = sum(costs.values()) / 4
    flagged = [v for v in cands if sim_ctx.suspicious[v]]
    greedy = plan_budget(sim_ctx, costs, budget, mode="greedy")
    auto = plan_budget(sim_ctx, dict(list(costs.items())[:12]), budget)
    for p in (greedy, auto):
        assert p["spent"] <= budget + 1e-6
        assert p["left"] == pytest.approx(budget - p["spent"], abs=1e-6)
        chosen = [g.vertex(*c["account"].split(":", 1)) for c in p["creators"]]
        assert not sim_ctx.suspicious[chosen].any()
        # unique reach: each follower once, less than adding the creators up
        w = audience_weight(sim_ctx).astype(float)
        union = np.unique(np.concatenate([g.in_neighbors(v) for v in chosen]))
        assert p["reach"] == pytest.approx(w[union].sum(), rel=1e-4)
        assert p["reach"] <= p["reach_if_summed"] + 1e-6
        gains = [c["marginal_reach"] for c in p["creators"]]
        assert sum(gains) == pytest.approx(p["reach"], abs=0.05)
    assert auto["mode"] == "enumerate" and "0.632" in auto["guarantee"]
    assert len(greedy["excluded"]) >= len(flagged)
    # a relevance target only lowers reach
    rel = np.zeros(sim_ctx.n, np.float32)
    rel[::2] = 1
    p = plan_budget(sim_ctx, costs, budget, relevance=rel, mode="greedy")
    assert p["reach"] < greedy["reach"]


def test_costs_file_errors(tmp_path):
    d = toy_context().data
    p = tmp_path / "costs.csv"
    cases = {
        "account,amount\ntoy:cat,1\n": (1, "missing column 'cost'"),
        "account,cost\ntoy:cat,1\ntoy:eve,abc\n": (3, "not a number"),
        "account,cost\ntoy:cat,-1\n": (2, "negative"),
        "account,cost\ntoy:cat,inf\n": (2, "finite"),
        "account,cost\ntoy:cat,1\n\nnobody,2\n": (4, "nobody"),
        "account,cost\ntoy:cat,1\ncat,2\n": (3, "listed twice (lines 2 and 3)"),
        "account,cost\ntoy:cat,\n": (2, "empty cost"),
    }
    for text, (line, msg) in cases.items():
        p.write_text(text)
        with pytest.raises(InputError) as e:
            read_costs(d, p)
        assert e.value.line == line and msg in str(e.value), (text, str(e.value))
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_costs(d, p)
    p.write_text("cost,note,account\n 2.5 ,x, toy:ana\n0,y,eve\n")
    v, c, lines = read_costs(d, p)
    assert v.tolist() == [0, 4] and c.tolist() == [2.5, 0.0] and lines == [2, 3]
    # prices per 1,000 followers on the platform become prices per post
    p.write_text("account,cpm\ntoy:cat,200\ntoy:ana,10\n")
    v, c, _ = read_costs(d, p)
    count = d.column("followers_count")
    assert c.tolist() == [round(200 * count[2] / 1000, 2), round(10 * count[0] / 1000, 2)]


def test_plan_explains_a_budget_out_of_range():
    ctx = toy_context()
    low = plan_budget(ctx, {"toy:cat": 10, "toy:eve": 20}, 5)
    assert low["creators"] == [] and "below the cheapest" in low["budget_note"]
    high = plan_budget(ctx, {"toy:cat": 10, "toy:eve": 20}, 99_999)
    assert high["creators"] and high["budget"] == 99_999 and high["left"] >= 99_969
    assert "covers every candidate" in high["budget_note"]
    assert plan_budget(ctx, {"toy:cat": 10, "toy:eve": 20}, 15)["budget_note"] is None
    # a creator left out names its handle beside its id
    assert set(low["excluded"][0]) >= {"account", "handle", "cost", "why"}


# -- command line ----------------------------------------------------------------------------
@pytest.fixture
def sim_db(sim_score_store):
    """The simulated store's path, closed in this process while the CLI opens it."""
    db = sim_score_store.path
    sim_score_store.close()
    yield db
    sim_score_store.__init__(db)


def test_cli_find_overlap_plan(capsys, sim_db, sim_ctx, tmp_path):
    db = sim_db
    comm = _communities(sim_ctx)
    names = sim_ctx.graph.names
    members = np.flatnonzero(comm == 1)[:300]
    f = tmp_path / "audience.txt"
    f.write_text("\n".join(f"{names.column('platform')[v]}:{names.column('account_id')[v]}"
                           for v in members) + "\n")
    out_csv = tmp_path / "found.csv"
    code, out, _ = run(capsys, "find", "--audience", str(f), "--top", "5", "--json",
                       "--out", str(out_csv), "--db", db)
    assert code == 0, out
    d = json.loads(out)
    assert len(d["creators"]) == 5 and d["kind"] == "audience" and out_csv.exists()
    top = [c["account"] for c in d["creators"]]
    code, out, _ = run(capsys, "overlap", *top[:3], "--minhash", "--db", db)
    assert code == 0 and "standard error" in out and "pairs" in out
    costs = tmp_path / "costs.csv"
    costs.write_text("account,cost\n" + "".join(f"{a},{10 + i}\n" for i, a in enumerate(top)))
    plan_csv = tmp_path / "plan.csv"
    code, out, _ = run(capsys, "plan", "--budget", "25", "--costs", str(costs), "--audience",
                       str(f), "--out", str(plan_csv), "--db", db)
    assert code == 0 and "unique relevant authentic reach" in out and "0.632" in out
    rows = plan_csv.read_text().strip().splitlines()[1:]
    assert 1 <= len(rows) <= 2
    code, out, _ = run(capsys, "find", "--like", top[0], "--top", "3", "--db", db)
    assert code == 0 and "audience similarity" in out


def test_cli_errors(capsys, sim_db, tmp_path):
    db = sim_db
    for cmd in ("find", "overlap", "plan"):
        assert run(capsys, cmd, "--help")[0] == 0
    code, _, err = run(capsys, "find", "--db", db)
    assert code == 2 and "exactly one" in err
    code, _, err = run(capsys, "find", "--topic", "x", "--like", "y", "--db", db)
    assert code == 2
    code, _, err = run(capsys, "find", "--like", "nobody-at-all", "--db", db)
    assert code == 2 and "nobody-at-all" in err
    code, _, err = run(capsys, "overlap", "sim:u1000000", "--db", db)
    assert code == 2 and "two creators" in err
    code, _, err = run(capsys, "overlap", "a", "b", "--exact", "--minhash", "--db", db)
    assert code == 2
    bad = tmp_path / "costs.csv"
    bad.write_text("account,cost\nnobody-at-all,3\n")
    code, out, err = run(capsys, "plan", "--budget", "10", "--costs", str(bad), "--json",
                         "--db", db)
    assert code == 1 and json.loads(out)["error"]["line"] == 2
    code, _, err = run(capsys, "plan", "--budget", "10", "--costs", str(tmp_path / "no.csv"),
                       "--db", db)
    assert code == 2 and "does not exist" in err
