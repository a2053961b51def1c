"""Who to follow: the kernels, the estimator, its quality on SNAP and the command line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from trueclout.cli import main
from trueclout.discover.targets import toy_context
from trueclout.accounts import resolve_accounts
from trueclout.discover.suggest import WhoToFollow, hold_out, read_user_specs, remove_follows
from trueclout.errors import InputError, NotFittedError, UnknownAccountError, UsageError
from trueclout.graph.build import from_edges
from trueclout.graph.toy import random_graph, toy_graph
from trueclout.kernels.ppr import N_PHI, PHI, ScoringModel, ppr_push


def _community_graph(seed: int = 0):
    """Four dense communities of 50 accounts with a few follows between them."""
    rng = np.random.default_rng(seed)
    src, dst = [], []
    for c in range(4):
        members = np.arange(50) + 50 * c
        for u in members:
            for v in rng.choice(members, 25, replace=False):
                src.append(u)
                dst.append(v)
            for v in rng.integers(0, 200, 2):
                src.append(u)
                dst.append(v)
    s, d = np.array(src), np.array(dst)
    keep = s != d
    return from_edges(s[keep], d[keep], n=200)


def _check_never(g, ids, users, blocked=()):
    blocked = set(int(b) for b in blocked)
    for u, row in zip(users, ids):
        row = [int(x) for x in row if x >= 0]
        assert int(u) not in row
        assert not set(row) & set(g.out_neighbors(u).tolist())
        assert not set(row) & blocked
        assert len(row) == len(set(row))


# -- kernels ---------------------------------------------------------------------------------
def test_ppr_push_matches_networkx():
    nx = pytest.importorskip("networkx")
    g = random_graph(200, 1500, seed=4)
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    for v in range(g.n):
        G.add_edges_from((v, int(x)) for x in g.out_neighbors(v))
    for s in (0, 17, 120):
        ref = nx.pagerank(G, alpha=0.85, personalization={s: 1.0}, tol=1e-12)
        v, p = ppr_push(g.out_indptr, g.out_indices, s, alpha=0.15, eps=1e-9)
        ours = np.zeros(g.n)
        ours[v] = p
        exact = np.array([ref[i] for i in range(g.n)])
        assert np.abs(ours - exact).max() < 1e-4
        assert list(np.argsort(-ours, kind="stable")[:10]) == \
            list(np.argsort(-exact, kind="stable")[:10])


def test_ppr_push_authentic_walk_passes_nothing_through_flagged():
    g = toy_graph()
    vote = np.ones(g.n, np.float32)
    vote[g.vertex("toy", "cat")] = 0.0          # cat is the only way from dan to ana
    v, p = ppr_push(g.out_indptr, g.out_indices, 3, alpha=0.3, eps=1e-9, vote=vote)
    reached = {g.name(int(x))[1] for x in v}
    assert "ana" not in reached and "ben" not in reached and "eve" in reached
    with pytest.raises(ValueError):
        ppr_push(g.out_indptr, g.out_indices, 99)


# -- holding out follows --------------------------------------------------------------------
def test_remove_follows_and_hold_out():
    g = random_graph(300, 9000, seed=2, timestamps=True)
    h = hold_out(g, 40, min_follows=20, share=0.2, seed=0)
    h.graph.check()
    assert h.users.size == 40 and np.all(np.diff(h.users) > 0)
    assert g.m - h.graph.m == h.hidden_indices.size
    for i, u in enumerate(h.users):
        hid = h.hidden(i)
        d = g.out_degree()[u]
        assert hid.size == max(1, round(0.2 * d))
        assert not np.isin(hid, h.graph.out_neighbors(u)).any()
        assert np.isin(hid, g.out_neighbors(u)).all()
    again = hold_out(g, 40, min_follows=20, share=0.2, seed=0)
    assert np.array_equal(again.hidden_indices, h.hidden_indices)
    other = hold_out(g, 40, min_follows=20, seed=1, exclude=h.users)
    assert not np.intersect1d(other.users, h.users).size
    same = remove_follows(g, np.array([0]), np.array([g.n - 1 if g.n - 1 not in
                                                      g.out_neighbors(0) else 0]))
    assert same.m in (g.m, g.m - 1)
    with pytest.raises(UsageError):
        hold_out(g, 5, share=1.5)


# -- the estimator ---------------------------------------------------------------------------
def test_never_suggests_self_followed_or_suspicious_on_toy():
    ctx = toy_context(suspicious=[0, 5])               # ana and fay flagged
    wtf = WhoToFollow().fit(ctx)
    users = np.arange(ctx.n)
    ids, scores = wtf.recommend_many(users, 6)
    _check_never(ctx.graph, ids, users, blocked=[0, 5])
    assert wtf.vote_[0] == 0 and wtf.vote_[5] == 0 and wtf.vote_[1] == 1
    for u in users:                                    # single and batch agree
        one, s = wtf.recommend(int(u), 6)
        row = ids[u][ids[u] >= 0]
        assert one.tolist() == row.tolist()
        assert np.all(np.diff(s) <= 0)


def test_never_suggests_suspicious_on_the_simulator(sim_ctx):
    assert sim_ctx.suspicious.any()
    wtf = WhoToFollow().fit(sim_ctx)
    assert wtf.learned_
    users = np.arange(sim_ctx.n)
    ids, _ = wtf.recommend_many(users, 20)
    got = ids[ids >= 0]
    assert not sim_ctx.suspicious[got].any()
    _check_never(sim_ctx.graph, ids[::7], users[::7])
    assert (ids[:, 0] >= 0).mean() > 0.99          # nearly everyone gets suggestions


def test_deterministic_and_learned_beats_nothing():
    g = _community_graph()
    a = WhoToFollow(train_users=100, min_positives=20).fit(g)
    b = WhoToFollow(train_users=100, min_positives=20).fit(g)
    assert a.learned_ and a.training_["users"] == 100
    ia, sa = a.recommend_many(np.arange(g.n), 10)
    ib, sb = b.recommend_many(np.arange(g.n), 10, workers=1)
    assert np.array_equal(ia, ib) and np.allclose(sa, sb)
    # suggestions stay within the user's community
    same = (ia // 50) == (np.arange(g.n)[:, None] // 50)
    assert same.mean() > 0.9


def test_holdout_quality_on_communities():
    g = _community_graph(1)
    h = hold_out(g, 60, min_follows=20, seed=0)
    ids, _ = WhoToFollow(train_users=60, min_positives=20).fit(
        h.graph, exclude=h.users).recommend_many(h.users, 20)
    pop = np.argsort(-h.graph.in_degree(), kind="stable")[:20]
    hits = np.mean([np.isin(h.hidden(i), ids[i]).mean() for i in range(h.users.size)])
    base = np.mean([np.isin(h.hidden(i), pop).mean() for i in range(h.users.size)])
    assert hits > 0.5 and hits > 3 * base


def test_fixed_weights_fallback_and_errors():
    g = toy_graph()
    wtf = WhoToFollow().fit(g)
    assert not wtf.learned_ and "skipped" in wtf.training_
    assert wtf.coef_["aa"] > 0 and wtf.coef_["recip"] > 0 and wtf.quad_ is None
    with pytest.raises(NotFittedError):
        WhoToFollow().recommend_many([0])
    with pytest.raises(UsageError):
        wtf.recommend(99)
    with pytest.raises(UsageError):
        wtf.recommend(0, 0)
    with pytest.raises(UsageError):
        wtf.recommend("ana")
    with pytest.raises(UsageError):
        wtf.recommend_many([0, -1])
    with pytest.raises(UsageError):
        WhoToFollow(weights={"followers": 1.0}).fit(g)
    with pytest.raises(UsageError):
        WhoToFollow().fit(g, topics=np.ones((3, 2)))
    with pytest.raises(UsageError):
        WhoToFollow().fit("graph")
    with pytest.raises(UsageError):
        WhoToFollow(alpha=2.0).fit(g)
    assert "WhoToFollow(" in repr(WhoToFollow(alpha=0.3))


def test_topic_vectors_move_matching_accounts_up():
    g = toy_graph()
    # dan (3): ana and fay tie on friends' follows; a topic shared with fay breaks it
    topics = np.zeros((g.n, 2), np.float32)
    topics[:, 0] = 1.0
    topics[[3, 5], 1] = 5.0
    plain = WhoToFollow(learn=False).fit(g).recommend(3, 2)[0].tolist()
    with_topics = WhoToFollow(learn=False).fit(g, topics=topics)
    assert plain == [0, 5]
    assert with_topics.recommend(3, 2)[0].tolist() == [5, 0]
    assert with_topics.explain(3, [5])[0]["topic"] > 0.9
    import scipy.sparse as sp
    same = WhoToFollow(learn=False).fit(g, topics=sp.csr_matrix(topics))
    assert same.recommend(3, 2)[0].tolist() == [5, 0]


def test_scoring_model_fill_for_users_without_signal():
    g = from_edges([1, 2], [2, 1], n=5)                 # 0, 3, 4 have nothing
    lin = np.zeros(N_PHI)
    lin[PHI.index("popularity")] = 1.0
    m = ScoringModel(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices,
                     vote=np.ones(5, np.float32), blocked=np.array([0, 0, 1, 0, 0], bool),
                     popularity=g.in_degree().astype(np.float32), alpha=0.5, eps=1e-4,
                     mean=np.zeros(N_PHI), scale=np.ones(N_PHI), lin=lin)
    from trueclout.kernels.ppr import recommend_users
    ids, scores = recommend_users(m, np.array([0, 1]), 4)
    assert ids[0].tolist() == [1, 3, 4, -1]             # 2 is blocked, 0 itself
    assert ids[1].tolist() == [0, 3, 4, -1]
    assert np.isnan(scores[0, 3])


# -- accounts --------------------------------------------------------------------------------
def test_read_and_resolve_users(tmp_path):
    f = tmp_path / "u.txt"
    f.write_text("account\n# comment\ntoy:ana\n\n@nobody\ncat\n")
    specs, lines = read_user_specs(f)
    assert specs == ["toy:ana", "@nobody", "cat"] and lines == [3, 5, 6]
    v, errors = resolve_accounts(toy_context().data, specs)
    assert v.tolist() == [0, -1, 2] and isinstance(errors[1], UnknownAccountError)
    assert str(errors[1]).startswith("no account '@nobody'")
    bad = tmp_path / "b.csv"
    bad.write_text("name,id\nx,1\n")
    with pytest.raises(InputError):
        read_user_specs(bad)
    with pytest.raises(UsageError):
        read_user_specs(tmp_path / "missing.txt")
    (tmp_path / "e.txt").write_text("# nothing\n")
    with pytest.raises(InputError):
        read_user_specs(tmp_path / "e.txt")


# -- quality on real data --------------------------------------------------------------------
def test_quality_floor_on_snap(snap_store):
    from trueclout.evaluate.suggest import evaluate_suggest, markdown_report
    r = evaluate_suggest(store=snap_store, users=200, detection=False, topics=False,
                         timing=False)
    m = r["methods"]
    fof, ours = m["friends_of_friends"]["recall"], m["ours"]["recall"]
    # measured: popularity 0.02, friends of friends 0.58, PPR 0.49, ours 0.72
    assert ours >= 1.1 * fof and ours >= 0.62
    assert m["ours"]["ndcg"] >= 1.1 * m["friends_of_friends"]["ndcg"]
    assert fof > m["ppr"]["recall"] > 10 * m["popularity"]["recall"]
    assert m["ours"]["learned"] and r["training"]["disjoint_from_eval_users"]
    assert r["protocol"]["users"] == 200 and r["protocol"]["hidden_removed_before_everything"]
    assert "| friends of friends |" in markdown_report(r)


# -- command line ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    g = _community_graph(2)
    d = tmp_path_factory.mktemp("suggestcli")
    f = d / "edges.txt"
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    f.write_text("".join(f"u{a} u{b}\n" for a, b in zip(src, g.out_indices)))
    db = str(d / "s.duckdb")
    assert main(["ingest", str(f), "--db", db]) == 0
    return db


def _run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_cli_suggest_single(capsys, small_db):
    code, out, _ = _run(capsys, "suggest", "u7", "--top", "5", "--db", small_db, "--json")
    assert code == 0
    d = json.loads(out)
    assert len(d["suggestions"]) == 5 and d["account"].endswith(":u7")
    assert [s["rank"] for s in d["suggestions"]] == [1, 2, 3, 4, 5]
    got = {s["account_id"] for s in d["suggestions"]}
    assert "u7" not in got
    code, out, _ = _run(capsys, "suggest", "u7", "--top", "3", "--db", small_db)
    assert code == 0 and "could follow" in out
    code, _, err = _run(capsys, "suggest", "nobody", "--db", small_db)
    assert code == 2 and "no account 'nobody'" in err


def test_cli_suggest_batch(capsys, small_db, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("account,note\nu1,a\nzzz,b\nu2,c\nu1,d\n")
    out_file = tmp_path / "s.parquet"
    code, out, _ = _run(capsys, "suggest", "--users", str(users), "--top", "4", "--out",
                        str(out_file), "--db", small_db, "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["users"], d["served"], d["unknown"], d["rows"]) == (4, 2, 1, 12)
    assert d["errors"][0]["user"] == "zzz"
    t = pq.read_table(out_file)
    assert t.num_rows == 13                            # nothing dropped: zzz keeps a row
    assert t.column("user").to_pylist().count("zzz") == 1
    txt = tmp_path / "u.txt"
    txt.write_text("u3\nu4\n")
    csv_out = tmp_path / "s.csv"
    code, out, _ = _run(capsys, "suggest", "--users", str(txt), "--out", str(csv_out),
                        "--db", small_db)
    assert code == 0 and "2 served" in out and csv_out.read_text().count("\n") == 41


@pytest.mark.parametrize("args, code", [
    (["suggest"], 2),                                   # neither ACCOUNT nor --users
    (["suggest", "u1", "--users", "x.txt"], 2),         # both
    (["suggest", "u1", "--top", "0"], 2),
    (["suggest", "u1", "--out", "x.json"], 2),
    (["suggest", "--users", "missing.txt"], 2),
])
def test_cli_suggest_usage_errors(capsys, small_db, args, code):
    assert _run(capsys, *args, "--db", small_db)[0] == code


def test_cli_suggest_bad_users_file(capsys, small_db, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("name,handle\nx,y\n")
    code, _, err = _run(capsys, "suggest", "--users", str(f), "--db", small_db)
    assert code == 1 and "'account' column" in err


def test_cli_eval_suggest_on_a_store(capsys, small_db, tmp_path):
    code, out, _ = _run(capsys, "eval", "suggest", "--db", small_db, "--users", "30",
                        "--no-topics", "--out", str(tmp_path / "ev"), "--json")
    assert code == 0
    d = json.loads(out)
    assert set(d["methods"]) == {"popularity", "friends_of_friends", "ppr", "ours"}
    assert (tmp_path / "ev" / "suggest.md").exists()
    assert _run(capsys, "eval", "suggest", "--help")[0] == 0
    assert _run(capsys, "suggest", "--help")[0] == 0


def test_cli_eval_suggest_needs_users_to_hold_out(capsys, tmp_path):
    f = tmp_path / "tiny.txt"
    f.write_text("1 2\n2 3\n3 1\n")
    db = str(tmp_path / "t.duckdb")
    assert main(["ingest", str(f), "--db", db]) == 0
    code, _, err = _run(capsys, "eval", "suggest", "--db", db, "--out", str(tmp_path / "e"))
    assert code == 1 and "nobody to hold follows out for" in err
    assert _run(capsys, "eval", "suggest", "--db", str(tmp_path / "none.duckdb"))[0] == 2
