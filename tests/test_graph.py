"""Tests of the graph builder: store -> FollowGraph, and the in-memory path."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from trueclout.errors import UsageError
from trueclout.graph import (TS_UNKNOWN, FollowGraph, build_graph, from_edges, graph_stats,
                             random_graph, toy_graph)
from trueclout.graph.toy import TOY_FOLLOWS, TOY_INTERACTIONS
from trueclout.ingest.base import Chunk
from trueclout.model import TS, conform
from trueclout.store import Store

_counter = itertools.count()


def _times(values):
    return pa.array([None if v is None else v * 1_000_000 for v in values],
                    pa.int64()).cast(TS)


def load_follows(store, rows, *, platform="x", loads=1, accounts=()):
    """Load follows ``rows`` = [(src, dst, created or None, removed or None)] in
    ``loads`` separate loads (so uids depend on the split), plus bare ``accounts``."""
    if accounts:
        b = conform("accounts", {"platform": [platform] * len(accounts),
                                 "account_id": list(accounts)}, len(accounts))
        store.load([Chunk("accounts", b, "a")], source="a", fmt="test",
                   content_hash=f"a{next(_counter)}")
    for part in np.array_split(np.arange(len(rows)), loads):
        sub = [rows[i] for i in part]
        if not sub:
            continue
        b = conform("follows", {
            "platform": [platform] * len(sub), "src": [r[0] for r in sub],
            "dst": [r[1] for r in sub], "created_at": _times([r[2] for r in sub]),
            "removed_at": _times([r[3] if len(r) > 3 else None for r in sub])}, len(sub))
        store.load([Chunk("follows", b, "f")], source="f", fmt="test",
                   content_hash=f"f{next(_counter)}")


def load_interactions(store, kind, rows, platform="x"):
    """rows = [(src, dst, created)]; each gets its own post id."""
    b = conform("interactions", {
        "platform": [platform] * len(rows), "src": [r[0] for r in rows],
        "dst": [r[1] for r in rows], "kind": [kind] * len(rows),
        "post_id": [f"p{next(_counter)}" for _ in rows],
        "created_at": _times([r[2] for r in rows])}, len(rows))
    store.load([Chunk("interactions", b, "i")], source="i", fmt="test",
               content_hash=f"i{next(_counter)}")


def toy_store(**kw):
    s = Store(":memory:")
    load_follows(s, [(a, b, t) for a, b, t in TOY_FOLLOWS], platform="toy", **kw)
    for kind, rows in TOY_INTERACTIONS.items():
        load_interactions(s, kind, rows, platform="toy")
    return s


def random_rows(n, m, seed, *, ts=True):
    rng = np.random.default_rng(seed)
    names = [f"u{rng.integers(0, 10**6)}_{i}" for i in range(n)]
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (m, 2))}
    rows = []
    for a, b in sorted(pairs):
        t = int(rng.integers(1_600_000_000, 1_700_000_000)) if ts and rng.random() < .8 else None
        rows.append((names[a], names[b], t))
    return names, rows


def assert_same_graph(a: FollowGraph, b: FollowGraph, *, uids=False):
    assert a.n == b.n
    assert a.names.equals(b.names)
    for f in ["out_indptr", "out_indices", "in_indptr", "in_indices"]:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for f in ["out_ts", "in_ts"]:
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None and y is None) or np.array_equal(x, y), f
    assert sorted(a.interactions) == sorted(b.interactions)
    for k in a.interactions:
        for x, y in zip(a.interactions[k], b.interactions[k]):
            assert (x is None and y is None) or np.array_equal(x, y), k
    if uids:
        assert np.array_equal(a.uids, b.uids)


# -- store path against references ------------------------------------------------------
@pytest.mark.parametrize("n,m,seed", [(2, 3, 0), (30, 120, 1), (200, 1500, 2)])
def test_build_matches_networkx_and_scipy(n, m, seed):
    names, rows = random_rows(n, m, seed)
    with Store(":memory:") as s:
        load_follows(s, rows, loads=2, accounts=names)
        g = build_graph(s, batch_rows=97)
    g.check()
    order = sorted(names)
    assert g.n == n and g.names.column("account_id").to_pylist() == order
    rank = {a: i for i, a in enumerate(order)}
    src = np.array([rank[r[0]] for r in rows])
    dst = np.array([rank[r[1]] for r in rows])
    ref = sp.coo_matrix((np.ones(len(rows)), (src, dst)), shape=(n, n)).tocsr()
    ref.sort_indices()
    assert (g.to_scipy() != ref).nnz == 0
    assert np.array_equal(g.out_indptr, ref.indptr)
    assert np.array_equal(g.in_indptr, ref.tocsc().indptr)
    nxg = nx.DiGraph()
    nxg.add_nodes_from(names)
    nxg.add_edges_from((r[0], r[1]) for r in rows)
    for v in range(n):
        name = g.name(v)[1]
        assert sorted(g.name(u)[1] for u in g.out_neighbors(v)) == sorted(nxg.successors(name))
        assert sorted(g.name(u)[1] for u in g.in_neighbors(v)) == sorted(nxg.predecessors(name))
    assert g.out_degree().tolist() == [nxg.out_degree(g.name(v)[1]) for v in range(n)]
    stats = graph_stats(g)
    if m and len(rows):
        assert stats["reciprocity"] == pytest.approx(nx.overall_reciprocity(nxg), abs=1e-6)
    assert stats["edges_with_timestamps"] == sum(r[2] is not None for r in rows)


def test_toy_store_equals_toy_graph():
    with toy_store(loads=3) as s:
        g = build_graph(s)
    g.check()
    assert_same_graph(g, toy_graph())


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 4))
def test_build_invariant_to_load_order(seed, loads_a, loads_b):
    names, rows = random_rows(25, 80, seed % 1000)
    rng = np.random.default_rng(seed)
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    inter = [(names[a], names[b], int(t)) for a, b, t in
             zip(rng.integers(0, 25, 30), rng.integers(0, 25, 30),
                 rng.integers(0, 10**9, 30))]
    graphs = []
    for rs, loads in [(rows, loads_a), (shuffled, loads_b)]:
        with Store(":memory:") as s:
            load_follows(s, rs, loads=loads)
            load_interactions(s, "like", inter if rs is rows else inter[::-1])
            graphs.append(build_graph(s, batch_rows=int(rng.integers(5, 50))))
    graphs[0].check()
    assert_same_graph(*graphs)


def test_timestamps_aligned_between_directions():
    names, rows = random_rows(60, 400, 5)
    with Store(":memory:") as s:
        load_follows(s, rows, loads=2)
        g = build_graph(s, batch_rows=64)
    expected = {(r[0], r[1]): (TS_UNKNOWN if r[2] is None else r[2]) for r in rows}
    seen = 0
    for u in range(g.n):
        for k in range(g.out_indptr[u], g.out_indptr[u + 1]):
            v = g.out_indices[k]
            row = g.in_neighbors(v)
            j = g.in_indptr[v] + np.searchsorted(row, u)
            assert g.in_indices[j] == u and g.in_ts[j] == g.out_ts[k]
            assert g.out_ts[k] == expected[(g.name(u)[1], g.name(v)[1])]
            seen += 1
    assert seen == len(rows)


def test_no_timestamps_means_none():
    with Store(":memory:") as s:
        load_follows(s, [("a", "b", None), ("b", "c", None)])
        g = build_graph(s)
    assert g.out_ts is None and g.in_ts is None and not g.has_timestamps
    assert g.nbytes() < 1000


def test_removed_follows_excluded_by_default():
    rows = [("a", "b", 100, None), ("b", "a", 200, 300), ("c", "a", None, 400)]
    with Store(":memory:") as s:
        load_follows(s, rows)
        g = build_graph(s)
        g_all = build_graph(s, include_removed=True)
    assert g.n == 3 and g.m == 1 and g.out_neighbors(0).tolist() == [1]
    assert g_all.m == 3 and g_all.in_neighbors(0).tolist() == [1, 2]
    assert g_all.out_ts.tolist() == [100, 200, TS_UNKNOWN]


def test_interactions_csr_per_kind():
    with toy_store() as s:
        load_interactions(s, "mention", [("fay", "ana", None), ("fay", "ana", None)],
                          platform="toy")
        g = build_graph(s)
        g_plain = build_graph(s, interactions=False)
    assert g_plain.interactions == {}
    assert sorted(g.interactions) == ["like", "mention", "reply"]
    p, i, t = g.interactions["like"]
    # ben (1) likes cat (2) twice: repeated entries, ordered by time
    assert p.tolist() == [0, 1, 3, 3, 4, 4, 4] and i.tolist() == [1, 2, 2, 2]
    assert t[1] < t[2]
    p, i, t = g.interactions["mention"]
    assert p[-1] == 2 and i.tolist() == [0, 0] and t is None
    assert int(g.to_scipy("like")[1, 2]) == 2
    with pytest.raises(UsageError):
        g.to_scipy("quote")


def test_empty_store_gives_empty_graph():
    with Store(":memory:") as s:
        g = build_graph(s)
    assert g.n == 0 and g.m == 0 and g.out_indptr.tolist() == [0]
    g.check()
    assert graph_stats(g)["reciprocity"] is None


def test_accounts_without_follows_are_vertices_and_progress_reported():
    stages = []
    with Store(":memory:") as s:
        load_follows(s, [("m", "n", 5)], accounts=["a", "z"])
        g = build_graph(s, progress=lambda stage, rows: stages.append((stage, rows)))
    assert [g.name(v)[1] for v in range(g.n)] == ["a", "m", "n", "z"]
    assert g.vertex("x", "n") == 2 and g.out_degree().tolist() == [0, 1, 0, 0]
    assert ("counting follows", 1) in stages and ("sorting follows", 1) in stages
    assert set(g.vertices_of_uids(g.uids).tolist()) == {0, 1, 2, 3}


def test_platforms_scope_names():
    with Store(":memory:") as s:
        load_follows(s, [("a", "b", None)], platform="p2")
        load_follows(s, [("a", "b", None), ("b", "a", None)], platform="p1")
        g = build_graph(s)
    assert [g.name(v) for v in range(g.n)] == [("p1", "a"), ("p1", "b"), ("p2", "a"),
                                               ("p2", "b")]
    assert g.vertex("p2", "b") == 3
    with pytest.raises(UsageError, match="unknown account"):
        g.vertex("p3", "a")
    assert graph_stats(g)["reciprocity"] == pytest.approx(2 / 3, abs=1e-6)


# -- in-memory path -----------------------------------------------------------------------
def test_from_edges_ranks_names_and_merges_repeats():
    g = from_edges([0, 0, 1, 2], [1, 1, 0, 0], ts=[7, 3, None, 9], names=["z", "a", "m"])
    g.check()
    assert [g.name(v)[1] for v in range(3)] == ["a", "m", "z"]
    assert g.uids.tolist() == [1, 2, 0]
    # z -> a twice (times 7 and 3): one edge with the earliest time
    z, a, m = 2, 0, 1
    assert g.out_neighbors(z).tolist() == [a] and g.out_ts[g.out_indptr[z]] == 3
    assert g.in_neighbors(a).tolist() == [z] and g.in_neighbors(z).tolist() == [a, m]
    assert g.m == 3


def test_from_edges_errors():
    with pytest.raises(UsageError, match="0..1"):
        from_edges([0], [2], n=2)
    with pytest.raises(UsageError, match="unique"):
        from_edges([0], [1], names=["a", "a"])
    with pytest.raises(UsageError, match="entries"):
        from_edges([0, 1], [1])
    with pytest.raises(UsageError, match="n=3"):
        from_edges([0], [1], n=3, names=["a", "b"])
    with pytest.raises(UsageError, match="interaction kind"):
        from_edges([0], [1], interactions={"poke": ([0], [1])})
    with pytest.raises(UsageError, match="ts has"):
        from_edges([0], [1], ts=[1, 2])


def test_from_edges_default_names_keep_ids():
    g = random_graph(120, 900, seed=4, timestamps=True, skew=1.0)
    g.check()
    assert g.names.column("account_id")[0].as_py() == "000"
    assert np.array_equal(g.uids, np.arange(120))
    assert g.vertex("default", "042") == 42


def test_toy_graph_stats_and_repr():
    g = toy_graph()
    s = graph_stats(g)
    assert s["edges"] == 11 and s["reciprocated_edges"] == 6 and s["self_loops"] == 0
    assert s["zero_out_share"] == 0.0 and s["out_degree"]["max"] == 2
    assert "FollowGraph(n=6, follows=11" in repr(g)
    assert g.nbytes() >= 11 * 16


def test_bench_script_runs_on_a_small_store(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_graph.py"
    spec = importlib.util.spec_from_file_location("bench_graph", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    db = str(tmp_path / "b.duckdb")
    made = bench.make_store(db, 3000, chunk_rows=1000)
    out = bench.bench_build(db)
    assert out["edges"] == made["follows"] > 0 and out["timestamps"]
    assert out["graph_nbytes"] > 16 * out["edges"] and out["own_peak_bytes"] > 0
