"""The product as a marketer meets it: one meaning per figure on every screen, answers
without waiting (saved contexts, the running server), readable tables at 80 columns, an
engagement score that silence cannot earn, budgets that are explained, not cut."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from trueclout.cli import main
from trueclout.errors import UsageError
from trueclout.store import Store

V1 = "/api/v1"


def run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    """A store of 1,500 simulated accounts (seed 5), closed: the commands open it."""
    from conftest import simulated_store
    store = simulated_store(tmp_path_factory.mktemp("marketer"), 1500, 5)
    path = Path(store.path)
    store.close()
    return path


@pytest.fixture
def db(small_db, tmp_path):
    """A fresh copy of :func:`small_db` (no saved context yet)."""
    p = tmp_path / "m.duckdb"
    shutil.copy(small_db, p)
    return p


def _spec(db, rank: int = 0) -> str:
    from trueclout.score.saved import load_context
    with Store(db, read_only=True) as s:
        ctx = load_context(s)
        v = int(np.argsort(-ctx.graph.in_degree(), kind="stable")[rank])
        p, a = ctx.graph.name(v)
    return f"{p}:{a}"


# -- saved contexts --------------------------------------------------------------------------
def test_the_second_command_reads_no_store_and_refits_nothing(capsys, db, monkeypatch):
    import trueclout.detect.data as dd
    code, out, _ = run(capsys, "rank", "--top", "5", "--no-save", "--json", "--db", str(db))
    assert code == 0 and (Path(str(db) + ".cache") / "default" / "meta.json").exists()
    first = json.loads(out)["top"]

    def no_read(*a, **k):
        raise AssertionError("the store was read again")
    monkeypatch.setattr(dd.DetectionData, "from_store", classmethod(no_read))
    code, out, _ = run(capsys, "rank", "--top", "5", "--no-save", "--json", "--db", str(db))
    assert code == 0 and json.loads(out)["top"] == first
    code, out, _ = run(capsys, "find", "--topic", "community:0", "--json", "--db", str(db))
    assert code == 0, out
    monkeypatch.undo()
    # new data: the saved context no longer matches, the next command reads again
    edges = db.parent / "more.txt"
    a, b = _spec(db, 0).split(":")[1], _spec(db, 1).split(":")[1]
    edges.write_text(f"{b} {a}\n")
    assert run(capsys, "ingest", str(edges), "--db", str(db))[0] == 0
    from trueclout.score.saved import load_context
    with Store(db, read_only=True) as s:
        assert not load_context(s).saved.loaded
        assert load_context(s).saved.loaded


def test_rank_reuses_the_run_it_saved_for_the_same_data(capsys, db):
    ids = [json.loads(run(capsys, "rank", "--top", "1", "--json", "--db", str(db))[1])
           ["run_id"] for _ in range(2)]
    assert ids[0] == ids[1] is not None
    with Store(db, read_only=True) as s:
        assert s.runs_table().num_rows == 1


def test_an_unknown_account_is_refused_before_the_graph_is_read(capsys, db, monkeypatch):
    import trueclout.score.saved as saved

    def no_context(*a, **k):
        raise AssertionError("the graph was read for an unknown account")
    monkeypatch.setattr(saved, "load_context", no_context)
    code, _, err = run(capsys, "audit", "sim:nobody", "--db", str(db))
    assert code == 2 and "no account 'sim:nobody'" in err and err.startswith("Error:")


def test_forget_deletes_the_saved_contexts(capsys, db):
    spec = _spec(db, 3)
    assert run(capsys, "rank", "--top", "1", "--no-save", "--db", str(db))[0] == 0
    cache = Path(str(db) + ".cache")
    assert cache.exists()
    code, out, _ = run(capsys, "forget", spec, "--yes", "--json", "--db", str(db))
    assert code == 0 and json.loads(out)["saved_contexts_deleted"] and not cache.exists()


# -- audit ------------------------------------------------------------------------------------
def test_audit_json_and_html_carry_the_influence_section(capsys, db, tmp_path):
    spec = _spec(db, 2)
    html = tmp_path / "a.html"
    code, out, _ = run(capsys, "audit", spec, "--json", "--html", str(html), "--db", str(db))
    a = json.loads(out)
    assert code == 0 and a["influence"]["place_truerank"] >= 1
    assert {"followers_count", "followers_known"} <= set(a["influence"])
    assert 'id="influence"' in html.read_text(encoding="utf-8")
    assert a["aqs"]["band"]["band"] in ("Poor", "Fair", "Average", "Good", "Excellent")


def test_silence_earns_no_engagement_points(sim_ctx):
    from trueclout.audit import audit_account, authentic_received
    flagged = np.asarray(sim_ctx.ensemble.labels_).astype(bool)
    got = authentic_received(sim_ctx.data, flagged)
    deg = sim_ctx.graph.in_degree()
    silent = int(np.flatnonzero((got == 0) & (deg > 20))[0])
    a = audit_account(sim_ctx.data, sim_ctx.ensemble, silent, n_boot=200)
    e, aqs = a["engagement"], a["aqs"]
    assert e["total"] == 0 and e["authentic_share"] is None and e["percentile"] is None
    assert "no interaction" in e["why_unknown"]
    assert aqs["parts"]["authentic_engagement"]["value"] is None
    assert aqs["parts"]["authentic_engagement"]["weight"] == 0.0
    assert "unknown" in aqs["formula"]
    # barely engaged for its size: a low percentile among accounts of its size
    low = np.flatnonzero((got >= 1) & (got <= 2) & (deg > 100))
    a = audit_account(sim_ctx.data, sim_ctx.ensemble, int(low[0]), n_boot=200)
    assert a["engagement"]["percentile"] < 0.2 and a["engagement"]["peers"] >= 50
    assert a["aqs"]["parts"]["authentic_engagement"]["points"] < 5


def test_audit_text_says_unknown_not_perfect(capsys, db):
    from trueclout.audit import authentic_received
    from trueclout.score.saved import load_context
    with Store(db, read_only=True) as s:
        ctx = load_context(s)
        got = authentic_received(ctx.data, np.asarray(ctx.ensemble.labels_).astype(bool))
        v = int(np.flatnonzero((got == 0) & (ctx.graph.in_degree() > 0))[0])
        spec = ":".join(ctx.graph.name(v))
    code, out, _ = run(capsys, "audit", spec, "--db", str(db))
    assert code == 0 and "0 interactions received: unknown" in out
    assert "100.0% from authentic" not in out


# -- readable at 80 columns --------------------------------------------------------------------
def test_tables_never_cut_an_id_at_80_columns(capsys, db, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "rank", "--top", "8", "--no-save", "--db", str(db))
    js = json.loads(run(capsys, "rank", "--top", "8", "--no-save", "--json", "--db",
                        str(db))[1])["top"]
    assert code == 0 and "…" not in out
    table = [line for line in out.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert table and max(len(line) for line in table) <= 80
    for r in js:
        assert f"{r['platform']}:{r['account_id']}" in out
        if r["handle"]:
            assert f"@{r['handle']}" in out
    assert "--wide shows every column" in out and "top% fol." not in "".join(table)
    code, wide, _ = run(capsys, "rank", "--top", "8", "--no-save", "--wide", "--db", str(db))
    assert code == 0 and "top% fol." in wide.split("\n")[2] and "…" not in wide
    costs = db.parent / "costs.csv"
    costs.write_text("account,cost\n" + "".join(f"{r['platform']}:{r['account_id']},{10 + i}\n"
                                                for i, r in enumerate(js[:4])))
    for args in (["find", "--topic", "community:0"], ["overlap", *[
            f"{r['platform']}:{r['account_id']}" for r in js[:3]]],
            ["plan", "--budget", "25", "--costs", str(costs)]):
        code, out, _ = run(capsys, *args, "--db", str(db))
        assert code == 0 and "…" not in out, out


def test_formats_prints_brackets_and_numbers_plainly(capsys, db, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "formats")
    assert code == 0 and "[created_at]" in out
    code, out, _ = run(capsys, "stats", "--db", str(db))
    assert code == 0 and re.search(r"p50 \d+,", out) and ".000" not in out


# -- plan and overlap tell one story ----------------------------------------------------------
def test_overlap_for_a_topic_counts_the_reach_a_plan_counts(sim_ctx, sim_score_store):
    from trueclout.discover.targets import resolve_target
    from trueclout.discover.find import find
    from trueclout.discover.overlap import audience_overlap
    from trueclout.discover.plan import plan_budget
    t = resolve_target(sim_ctx, topic="community:0", store=sim_score_store)
    top = find(sim_ctx, t, top=4).column("account").to_pylist()
    ov = audience_overlap(sim_ctx, top, relevance=t.relevance)
    plan = plan_budget(sim_ctx, {a: 1.0 for a in top}, 4.0, relevance=t.relevance)
    assert ov["relevant"] and plan["reach"] == pytest.approx(ov["union"]["reach"], rel=1e-3)
    plain = audience_overlap(sim_ctx, top)
    assert plain["union"]["reach"] > ov["union"]["reach"]


def test_the_sample_campaign_is_what_find_and_plan_give(sim_ctx, sim_score_store):
    from trueclout.discover.targets import resolve_target
    from trueclout.discover.find import find
    from trueclout.discover.plan import plan_budget
    from trueclout.report.influence import sample_campaign
    sim_ctx.store = sim_score_store
    sim_ctx.cache.pop("topics", None)      # as a fresh command: no topic model yet
    c = sample_campaign(sim_ctx)
    option = c["target"]["option"]
    assert option[0] == "--topic"
    t = resolve_target(sim_ctx, topic=option[1], store=sim_score_store)
    assert [r["account"] for r in c["candidates"]] == \
        find(sim_ctx, t, top=len(c["candidates"])).column("account").to_pylist()
    again = plan_budget(sim_ctx, {r["account"]: r["cost"] for r in c["candidates"]},
                        c["budget"], relevance=t.relevance, target_label=t.label)
    assert again["reach"] == c["plan"]["reach"]
    assert [r["account"] for r in again["creators"]] == \
        [r["account"] for r in c["plan"]["creators"]]


# -- ingest -----------------------------------------------------------------------------------
def test_an_edge_list_joins_the_only_platform_of_the_store(capsys, tmp_path):
    from trueclout.ingest.run import ingest
    db = tmp_path / "p.duckdb"
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("platform,account_id\ntwitter,1\ntwitter,2\n")
    with Store(db) as s:
        ingest(s, [accounts])
    edges = tmp_path / "more.txt"
    edges.write_text("1 2\n3 1\n")
    code, out, err = run(capsys, "ingest", str(edges), "--json", "--db", str(db))
    assert code == 0 and "'twitter'" in json.loads(out)["notes"][0]
    with Store(db, read_only=True) as s:
        assert s.platforms() == ["twitter"] and s.counts()["follows"] == 2
        other = tmp_path / "other.csv"
        other.write_text("platform,account_id\nmastodon,9\n")
    with Store(db) as s:
        ingest(s, [other])
        with pytest.raises(UsageError, match="holds several"):
            ingest(s, [edges])


# -- beside a running server -------------------------------------------------------------------

@pytest.mark.slow
def test_commands_talk_to_the_server_that_holds_the_store(capsys, db, tmp_path):
    import httpx

    from conftest import start_serve
    spec = _spec(db, 1)
    proc, base = start_serve(db)
    lock = Path(str(db) + ".server.json")
    try:
        deadline = time.monotonic() + 120
        while not (httpx.get(f"{base}{V1}/health", timeout=5).json()["ready"]
                   and lock.exists()):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert oct(lock.stat().st_mode & 0o777) == "0o600"
        t0 = time.monotonic()
        code, out, err = run(capsys, "audit", spec, "--json", "--db", str(db))
        assert code == 0, err
        a = json.loads(out)
        assert a["account"]["platform"] + ":" + a["account"]["account_id"] == spec
        assert "influence" in a
        code, out, err = run(capsys, "keys", "create", "--scope", "read", "--json", "--db",
                             str(db))
        assert code == 0, err
        key = json.loads(out)["key"]
        r = httpx.get(f"{base}{V1}/accounts/{spec}", timeout=30,
                      headers={"X-API-Key": key})
        assert r.status_code == 200
        code, out, err = run(capsys, "find", "--topic", "community:0", "--top", "3", "--json",
                             "--db", str(db))
        assert code == 0 and len(json.loads(out)["creators"]) == 3, err
        code, _, err = run(capsys, "audit", "sim:nobody", "--db", str(db))
        assert code == 2 and "sim:nobody" in err
        assert time.monotonic() - t0 < 60
        # a command that writes says who holds the store, at once
        edges = tmp_path / "e.txt"
        edges.write_text("1 2\n")
        t0 = time.monotonic()
        code, _, err = run(capsys, "ingest", str(edges), "--db", str(db))
        assert code == 1 and "running trueclout server" in err
        assert time.monotonic() - t0 < 10
    finally:
        proc.terminate()
        proc.wait(30)
    assert not lock.exists()


# -- the server's start-up ---------------------------------------------------------------------
def test_pages_show_progress_and_health_answers_while_the_scores_are_built(
        db, monkeypatch, held_scores):
    from fastapi.testclient import TestClient

    from trueclout.api.app import create_app
    release = held_scores
    monkeypatch.setenv("TRUECLOUT_WEB_READY_WAIT_S", "0.1")
    app = create_app(db)
    svc = app.state.service
    try:
        svc.warm_up()
        c = TestClient(app)
        t0 = time.monotonic()
        h = c.get(f"{V1}/health").json()
        assert time.monotonic() - t0 < 1 and h["ready"] is False and h["building"]
        r = c.get("/discover", params={"topic": "community:0"})
        assert r.status_code == 503 and "Preparing the scores" in r.text
        assert r.headers["Retry-After"] and 'http-equiv="refresh"' in r.text
        release.set()
        assert svc.wait_ready(60)
        assert c.get(f"{V1}/health").json()["ready"] is True
        r = c.get("/discover", params={"topic": "community:0"})
        assert r.status_code == 200 and 'id="creators"' in r.text
    finally:
        release.set()
        svc.close()


def test_the_search_page_starts_with_places_to_go(db):
    from fastapi.testclient import TestClient

    from trueclout.api.app import create_app
    app = create_app(db)
    try:
        r = TestClient(app).get("/")
        assert r.status_code == 200 and 'id="examples"' in r.text
        assert r.text.count("/audit?account=") >= 3 and "/discover?topic=" in r.text
    finally:
        app.state.service.close()


def test_api_plan_takes_cpm_and_overlap_a_topic(db):
    from fastapi.testclient import TestClient

    from trueclout.api.app import create_app
    from trueclout.api.auth import create_key
    a, b = _spec(db, 0), _spec(db, 1)
    app = create_app(db)
    svc = app.state.service
    key = create_key(svc.store, "read")
    c = TestClient(app)
    try:
        acc = c.get(f"{V1}/accounts/{a}", headers={"X-API-Key": key}).json()
        assert acc["followers_count"] is not None and acc["followers_known"] >= 1
        r = c.post(f"{V1}/plan", headers={"X-API-Key": key},
                   json={"budget": 1e9, "costs": {a: 10, b: 20}, "price": "cpm"}).json()
        assert r["price"] == "cpm" and "covers every candidate" in r["budget_note"]
        cost = {x["account"]: x["cost"] for x in r["creators"]}
        assert cost[a] == pytest.approx(round(10 * acc["followers_count"] / 1000, 2))
        ov = c.get(f"{V1}/overlap", headers={"X-API-Key": key},
                   params={"creators": [a, b], "topic": "community:0"}).json()
        assert ov["relevant"] and ov["target"] == "topic 'community:0'"
    finally:
        svc.close()


# -- the README's tour ---------------------------------------------------------------------------
@pytest.mark.slow
def test_every_tour_line_names_what_the_demo_has(capsys, tmp_path):
    """Each line of the README's tour runs as printed after `trueclout demo --out demo`:
    no placeholder, every command and option exists, every account it names is one of the
    demo's (the simulator, 50,000 accounts, seed 0), every file it reads is written by
    the demo or by an earlier line, or is a shared data set."""
    import pyarrow.parquet as pq

    from trueclout.simulate import simulate
    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A five-minute tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("  #")[0].strip() for line in tour.splitlines()
             if line.startswith("trueclout ")]
    assert len(lines) >= 30
    assert not re.search(r"@brand|@creator|@user\b|followers\.csv|(?<![\w-])costs\.csv|@a @b|"
                         r"alice\.|user@example|\bdata/ ", tour)
    simulate(tmp_path / "demo", accounts=50_000, seed=0)
    acc = pq.read_table(tmp_path / "demo" / "accounts.parquet",
                        columns=["account_id", "handle"])
    handles = set(acc.column("handle").to_pylist())
    ids = {f"sim:{a}" for a in acc.column("account_id").to_pylist()}
    made = {"demo/trueclout.duckdb", "demo/campaign-costs.csv", "demo/platform"}
    for line in lines:
        args = line.split()[1:]
        assert main(args + ["--help"]) == 0, line           # the command and its options
        capsys.readouterr()
        for a in args:
            if a.startswith("@"):
                assert a[1:] in handles, (line, a)
            elif a.startswith("sim:"):
                assert a in ids, (line, a)
        for flag in ("--db", "--costs", "--model"):
            if flag in args:
                f = args[args.index(flag) + 1]
                if flag == "--db" and not f.startswith("demo/"):
                    made.add(f)                              # a store the line makes
                assert f in made or f in ("default", "simulator"), (line, f)
        for flag in ("--out", "--html", "--model-out"):
            if flag in args:
                made.add(args[args.index(flag) + 1].rstrip("/"))
        if args[0] == "ingest" and args[1].startswith("../shared/data/"):
            assert (root / args[1]).exists() or not (root.parent / "shared").exists(), line
        if args[0] == "ingest" and not args[1].startswith("../"):
            assert args[1].rstrip("/") in made, line
