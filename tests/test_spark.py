"""The Spark backend against the local one, in local[2] on the demo platform (what
``trueclout demo`` simulates: ``sim_accounts`` accounts, about 50,000, seed
``sim_seed``): the same ranks within 1e-6, the same top 100, the same feature table,
reach and overlap. The Spark side takes about 3 minutes on 2 cores."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: the Spark backend needs one")
    from trueclout.spark.session import spark_session
    s = spark_session("local[2]", spark_shuffle_partitions=4)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The demo platform in a store (the accounts and seed of ``trueclout demo``)."""
    from conftest import simulated_store
    from trueclout import config
    store = simulated_store(tmp_path_factory.mktemp("sparkdemo"),
                            int(config.get("sim_accounts")), int(config.get("sim_seed")))
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_ctx(demo_store):
    from trueclout.score.context import score_context
    return score_context(demo_store)


@pytest.fixture(scope="session")
def sim_layout(spark, demo_store, demo_ctx, tmp_path_factory):
    from trueclout.spark.layout import export_layout, read_layout
    d = tmp_path_factory.mktemp("sparklayout")
    rows = export_layout(demo_store, d, demo_ctx)
    assert rows["accounts"] == demo_ctx.n and rows["detection"] == demo_ctx.n
    return read_layout(spark, str(d))


@pytest.fixture(scope="session")
def spark_scores(sim_layout):
    from trueclout.spark import pagerank as P
    from trueclout.spark.layout import to_array
    from trueclout.spark.reach import audience_weights, authentic_reach
    n = sim_layout.n
    t = P.trust(sim_layout)
    tr = P.truerank(sim_layout, trust_df=t).localCheckpoint()
    aud = audience_weights(sim_layout, t).localCheckpoint()
    return {"pagerank": to_array(P.pagerank(sim_layout), "pagerank", n),
            "truerank": to_array(tr, "truerank", n), "gate": to_array(tr, "gate", n),
            "trust": t, "seed": to_array(t, "seed", n, fill=False),
            "reach": to_array(authentic_reach(sim_layout, t), "reach", n),
            "audience": aud}


def _top(x, k=100):
    return np.lexsort((np.arange(x.shape[0]), -x))[:k].tolist()


def test_vertex_ids_follow_the_local_graph(sim_layout, demo_ctx):
    assert sim_layout.n == demo_ctx.n
    t = sim_layout.vertices.orderBy("id").toArrow()
    assert t.column("id").to_pylist() == list(range(demo_ctx.n))
    assert t.column("account_id").to_pylist() == \
        demo_ctx.graph.names.column("account_id").to_pylist()
    assert sim_layout.follows.count() == demo_ctx.graph.m


def test_degrees_and_reciprocity(sim_layout, demo_ctx):
    from trueclout.kernels.reciprocity import reciprocated_out_edges, reciprocity
    from trueclout.spark import features as SF
    from trueclout.spark.layout import to_array
    g = demo_ctx.graph
    d = SF.degrees(sim_layout).localCheckpoint()
    assert np.array_equal(to_array(d, "in_degree", g.n), g.in_degree())
    assert np.array_equal(to_array(d, "out_degree", g.n), g.out_degree())
    rec = reciprocated_out_edges(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    assert rec.sum() > 0
    assert np.array_equal(to_array(d, "reciprocated", g.n), rec)
    assert SF.reciprocity(sim_layout) == pytest.approx(
        reciprocity(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices), abs=1e-12)


def test_feature_table_is_identical(sim_layout, demo_ctx):
    from trueclout.detect.features import account_features
    from trueclout.spark.features import SPARK_FEATURES, account_features as spark_features
    X, names = account_features(demo_ctx.data)
    t = spark_features(sim_layout).orderBy("id").toArrow()
    assert t.column("account_id").to_pylist() == \
        demo_ctx.graph.names.column("account_id").to_pylist()
    for f in SPARK_FEATURES:
        local = X[:, names.index(f)]
        ours = t.column(f).to_numpy(zero_copy_only=False).astype(np.float32)
        assert np.array_equal(local, ours, equal_nan=True), \
            (f, int((~((local == ours) | (np.isnan(local) & np.isnan(ours)))).sum()))
    # the graph columns are informative here, not all NaN
    assert not np.isnan(t.column("graph_in_burst").to_numpy(zero_copy_only=False)).all()


def test_pagerank_parity(demo_ctx, spark_scores):
    from trueclout.kernels.pagerank import pagerank
    g = demo_ctx.graph
    local = pagerank(g.in_indptr, g.in_indices)
    ours = spark_scores["pagerank"]
    assert abs(ours.sum() - 1) < 1e-9
    assert np.abs(ours - local).max() < 1e-6
    assert np.abs(ours - local).max() * g.n < 1e-6      # also in multiples of the average
    assert _top(ours) == _top(local)


def test_truerank_parity(demo_ctx, spark_scores):
    from trueclout.score.rank import rank_all, truerank_model
    local = rank_all(demo_ctx, which=("truerank",))["truerank"]
    ours = spark_scores["truerank"]
    assert np.abs(ours - local).max() < 1e-6
    assert np.abs(ours - local).max() * demo_ctx.n < 1e-6
    assert _top(ours) == _top(local)
    tm = truerank_model(demo_ctx).trust_model_
    # the established-people seed rule runs in Spark: the same seeds
    assert tm.seeds_.sum() > 10 and np.array_equal(spark_scores["seed"], tm.seeds_)
    assert np.abs(spark_scores["gate"] - tm.gate_).max() < 1e-6
    # the gate matters: the flagged accounts get (almost) no vote
    assert (spark_scores["gate"] < 0.5).any()


def test_reach_parity(demo_ctx, spark_scores):
    from trueclout.score.rank import rank_all
    local = rank_all(demo_ctx, which=("reach",))["reach"]
    # reach sums up to thousands of float32 follower weights (about 1e-9 apart in
    # relative terms on the demo platform): the 1e-6, relative to the size
    assert (np.abs(spark_scores["reach"] - local) <= 1e-6 * np.maximum(local, 1.0)).all()
    assert _top(spark_scores["reach"]) == _top(local)


def test_overlap_parity(sim_layout, demo_ctx, spark_scores):
    from trueclout.discover.overlap import audience_overlap
    from trueclout.spark.overlap import audience_overlap as spark_overlap
    g = demo_ctx.graph
    top = np.argsort(-g.in_degree(), kind="stable")[:4]
    names = [":".join(g.name(int(v))) for v in top]
    local = audience_overlap(demo_ctx, names, method="exact")
    ours = spark_overlap(sim_layout, names, spark_scores["audience"],
                         flagged=[bool(demo_ctx.suspicious[v]) for v in top])
    assert local["pairs"][0]["common"] > 0
    assert ours["union"] == local["union"]
    assert ours["pairs"] == local["pairs"]
    for a, b in zip(ours["creators"], local["creators"]):
        assert {k: a[k] for k in a if k != "handle"} == {k: b[k] for k in b if k != "handle"}


def test_export_and_features_cli(capsys, spark, sim_score_store, sim_ctx, tmp_path):
    import pyarrow.parquet as pq
    from trueclout.cli import main
    from trueclout.detect.features import account_features
    db = tmp_path / "copy.duckdb"      # the CLI opens its own connection: use a copy
    sim_score_store.con.execute("CHECKPOINT")
    shutil.copy(sim_score_store.path, db)
    out = tmp_path / "exp"
    code = main(["export", "--db", str(db), "--out", str(out), "--no-detection", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    d = json.loads(cap.out)
    assert d["rows"]["accounts"] == 6000 and "detection" not in d["rows"]
    assert (out / "accounts.parquet").exists() and (out / "follows").is_dir()
    code = main(["features", "--backend", "spark", "--layout", str(out), "--out",
                 str(tmp_path / "f.parquet"), "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    t = pq.read_table(tmp_path / "f.parquet")
    X, names = account_features(sim_ctx.data)
    assert t.num_rows == 6000
    assert np.array_equal(t.column("graph_reciprocity").to_numpy(zero_copy_only=False),
                          X[:, names.index("graph_reciprocity")], equal_nan=True)
    # usage errors exit 2
    assert main(["export", "--db", str(db)]) == 2                       # --out is required
    assert main(["features", "--backend", "dask", "--out", "f.parquet"]) == 2
    assert main(["features", "--layout", str(out), "--out", "f.parquet"]) == 2
    assert main(["rank", "--backend", "spark", "--topic", "x", "--db", str(db)]) == 2


def test_spark_submit_job(spark, sim_layout, tmp_path):
    import pyarrow.parquet as pq
    from trueclout.spark.job import main
    out = tmp_path / "res"
    src = sim_layout.folder
    assert main(["--input", src, "--output", str(out), "--ops", "degrees"]) == 0
    t = pq.read_table(out / "degrees")
    assert t.num_rows == sim_layout.n and "account_id" in t.column_names
    assert main(["--input", src, "--output", str(out), "--ops", "nope"]) == 2


def test_missing_pyspark_is_a_usage_error(monkeypatch):
    import builtins
    from trueclout.errors import UsageError
    from trueclout.spark.session import require_spark
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "pyspark":
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(UsageError, match="pip install"):
        require_spark()
