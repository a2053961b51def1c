"""The REST API as an integrator meets it: keys, rate limits, the one error shape, pages,
the library's answers on a simulated platform, uploads and jobs that outlive a restart."""

from __future__ import annotations

import asyncio
import warnings

import pytest

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from trueclout.api.app import create_app, receive_upload
from trueclout.api.auth import create_key
from trueclout.api.errors import TooLargeError
from trueclout.api.service import Service
from trueclout.store import Store

V1 = "/api/v1"
ERROR_KEYS = {"type", "message", "path", "line", "field"}


@pytest.fixture(scope="module")
def api_store(tmp_path_factory):
    """A simulated platform of 2,000 accounts in a store of its own (the API writes)."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    d = tmp_path_factory.mktemp("api")
    simulate(d / "platform", accounts=2000, seed=3)
    path = d / "api.duckdb"
    with Store(path) as store:
        ingest(store, [d / "platform"])
    return path


@pytest.fixture(scope="module")
def api(api_store):
    """(client, app, read key, admin key) over the simulated store."""
    app = create_app(api_store, max_upload_bytes=100_000, rate=(1000.0, 1000.0))
    svc = app.state.service
    read, admin = create_key(svc.store, "read"), create_key(svc.store, "admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app, {"X-API-Key": read}, {"Authorization": f"Bearer {admin}"}
    svc.close()


def assert_error(r, status: int, etype: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    if etype is not None:
        assert body["error"]["type"] == etype, body
    assert body["error"]["message"]
    return body["error"]


# -- keys -------------------------------------------------------------------------------------
def test_keys_are_required_and_scoped(api):
    client, app, read, admin = api
    assert_error(client.get(f"{V1}/rankings"), 401, "AuthError")
    assert_error(client.get(f"{V1}/rankings", headers={"X-API-Key": "tc_12345678_wrong"}),
                 401, "AuthError")
    assert client.get(f"{V1}/rankings", headers=read).status_code == 200
    assert client.get(f"{V1}/rankings", headers=admin).status_code == 200
    for path in ("/runs", "/ingest"):
        assert_error(client.post(V1 + path, headers=read), 403, "ForbiddenError")
    assert client.get(f"{V1}/health").status_code == 200  # no key needed
    spec = client.get(f"{V1}/openapi.json").json()
    assert {"/api/v1/rankings", "/api/v1/ingest", "/api/v1/jobs/{job_id}"} <= set(spec["paths"])


def test_keys_are_stored_hashed(api):
    _, app, read, _ = api
    key = read["X-API-Key"]
    rows = app.state.service.store.con.execute("SELECT prefix, hash FROM api_keys").fetchall()
    assert rows and all(key not in h and h.startswith("hmac_sha256$") for _, h in rows)
    assert key.split("_")[1] in {p for p, _ in rows}


def test_revoked_key_is_refused(tmp_path):
    path = tmp_path / "k.duckdb"
    with Store(path) as s:
        key = create_key(s, "read")
        s.revoke_api_key(1)
    app = create_app(path, web=False)
    with TestClient(app) as client:
        assert_error(client.get(f"{V1}/runs", headers={"X-API-Key": key}), 401)
    app.state.service.close()


def test_keys_cli(tmp_path, capsys):
    import json

    from trueclout.cli import main
    db = str(tmp_path / "cli.duckdb")
    assert main(["keys", "create", "--scope", "admin", "--db", db]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("tc_")
    assert main(["keys", "create", "--scope", "root", "--db", db]) == 2
    capsys.readouterr()
    assert main(["keys", "create", "--scope", "read", "--db", db, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert main(["keys", "list", "--json", "--db", db]) == 0
    out = capsys.readouterr().out
    assert '"scope": "admin"' in out and key not in out and second["key"] not in out
    assert main(["keys", "revoke", second["prefix"], "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"revoked": second["prefix"], "key_id": 2}
    assert main(["keys", "revoke", key, "--db", db]) == 0      # the whole key works too
    assert main(["keys", "revoke", "deadbeef", "--db", db]) == 2
    capsys.readouterr()
    assert main(["keys", "list", "--json", "--db", db]) == 0
    rows = json.loads(capsys.readouterr().out)["keys"]
    assert [r["revoked"] for r in rows] == [True, True]
    assert main(["serve", "--port", "0", "--db", db]) == 2


def test_keys_revoked_through_the_api_stop_at_once(api):
    client, app, read, admin = api
    extra = create_key(app.state.service.store, "read")
    h = {"X-API-Key": extra}
    assert client.get(f"{V1}/runs", headers=h).status_code == 200   # checked and cached
    assert_error(client.get(f"{V1}/keys", headers=read), 403, "ForbiddenError")
    listed = client.get(f"{V1}/keys", headers=admin).json()
    assert set(listed) == {"total", "offset", "limit", "items"}
    assert all("hash" not in r for r in listed["items"])
    prefix = extra.split("_")[1]
    assert_error(client.delete(f"{V1}/keys/{prefix}", headers=read), 403)
    r = client.delete(f"{V1}/keys/{prefix}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked"] == prefix
    assert_error(client.get(f"{V1}/runs", headers=h), 401, "AuthError")  # not cached
    assert_error(client.delete(f"{V1}/keys/zzzzzzzz", headers=admin), 404)


# -- rate limit -------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after(api_store, tmp_path):
    import shutil
    path = tmp_path / "rl.duckdb"
    shutil.copy(api_store, path)
    app = create_app(path, rate=(0.01, 3), web=False)
    key = create_key(app.state.service.store, "read")
    other = create_key(app.state.service.store, "read")
    with TestClient(app) as client:
        h = {"X-API-Key": key}
        codes = [client.get(f"{V1}/runs", headers=h).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = client.get(f"{V1}/runs", headers=h)
        assert_error(r, 429, "RateLimitedError")
        assert int(r.headers["Retry-After"]) >= 1
        # the bucket is per key
        assert client.get(f"{V1}/runs", headers={"X-API-Key": other}).status_code == 200
    app.state.service.close()


# -- the one error shape ------------------------------------------------------------------------
def test_every_error_has_one_shape(api):
    client, app, read, admin = api

    def boom():
        raise RuntimeError("secret internals")

    app.add_api_route(f"{V1}/boom", boom)
    assert_error(client.get(f"{V1}/nope", headers=read), 404, "NotFoundError")
    e = assert_error(client.get(f"{V1}/accounts/@nobody_at_all", headers=read), 404,
                     "NotFoundError")
    assert "nobody_at_all" in e["message"]
    assert_error(client.delete(f"{V1}/rankings", headers=read), 405, "MethodNotAllowedError")
    e = assert_error(client.get(f"{V1}/rankings?limit=0", headers=read), 422,
                     "ValidationError")
    assert e["field"] == "limit"
    e = assert_error(client.get(f"{V1}/rankings?by=fame", headers=read), 422)
    assert e["field"] == "by"
    e = assert_error(client.post(f"{V1}/plan", json={"budget": 5}, headers=read), 422)
    assert e["field"] == "costs"
    assert_error(client.post(f"{V1}/plan", content=b"{not json", headers={
        **read, "content-type": "application/json"}), 422, "ValidationError")
    assert_error(client.get(f"{V1}/find", headers=read), 400, "UsageError")
    assert_error(client.get(f"{V1}/jobs/99999", headers=read), 404, "NotFoundError")
    assert_error(client.get(f"{V1}/jobs/x", headers=read), 422)
    assert_error(client.post(f"{V1}/ingest", headers={**admin, "content-length": "10000000"}),
                 413, "TooLargeError")
    e = assert_error(client.get(f"{V1}/boom", headers=read), 500, "InternalError")
    assert "secret internals" not in e["message"]


# -- reads --------------------------------------------------------------------------------------
def test_rankings_paginate(api):
    client, _, read, _ = api
    first = client.get(f"{V1}/rankings", params={"limit": 10}, headers=read).json()
    second = client.get(f"{V1}/rankings", params={"limit": 10, "offset": 5},
                        headers=read).json()
    assert first["total"] == second["total"] == 2000
    assert [r["rank"] for r in first["items"]] == list(range(1, 11))
    assert first["items"][5:] == second["items"][:5]
    tr = [r["truerank"] for r in first["items"]]
    assert tr == sorted(tr, reverse=True)
    last = client.get(f"{V1}/rankings", params={"offset": 1995, "limit": 50},
                      headers=read).json()
    assert len(last["items"]) == 5
    fol = client.get(f"{V1}/rankings", params={"by": "followers", "limit": 5},
                     headers=read).json()["items"]
    assert fol[0]["followers_known"] >= fol[-1]["followers_known"]


def test_account_search_paginates(api):
    client, _, read, _ = api
    top = client.get(f"{V1}/rankings", params={"limit": 1}, headers=read).json()["items"][0]
    prefix = top["handle"][:2]
    page = client.get(f"{V1}/accounts", params={"q": prefix, "limit": 3},
                      headers=read).json()
    assert page["total"] >= 1 and len(page["items"]) <= 3
    assert all(r["handle"].lower().startswith(prefix.lower()) or
               r["account_id"].lower().startswith(prefix.lower()) for r in page["items"])
    everyone = client.get(f"{V1}/accounts", params={"q": prefix, "limit": 1000},
                          headers=read).json()
    assert everyone["total"] == page["total"] == len(everyone["items"])
    follow = [r["followers_known"] if r["followers_count"] is None else r["followers_count"]
              for r in everyone["items"]]
    assert follow == sorted(follow, reverse=True)
    one = client.get(f"{V1}/accounts/@{top['handle']}", headers=read).json()
    assert one["account"] == top["account"]


def test_audit_flags_a_bought_audience(api):
    client, app, read, _ = api
    ctx = app.state.service.context()
    # the simulated customer with the largest share of flagged followers
    g = ctx.graph
    share = [ctx.suspicious[g.in_neighbors(v)].mean() if g.in_degree()[v] >= 20 else 0
             for v in range(ctx.n)]
    v = max(range(ctx.n), key=lambda i: share[i])
    platform, account_id = g.name(v)
    a = client.get(f"{V1}/accounts/{platform}:{account_id}/audit", headers=read).json()
    assert {"audience", "engagement", "growth", "aqs", "reasons", "influence"} <= set(a)
    assert a["influence"]["accounts"] == 2000
    assert a["reasons"]
    real = client.get(f"{V1}/rankings", params={"limit": 1}, headers=read).json()["items"][0]
    b = client.get(f"{V1}/accounts/{real['account']}/audit", headers=read).json()
    assert a["aqs"]["score"] < b["aqs"]["score"]


def test_find_overlap_plan_suggest(api):
    client, app, read, _ = api
    top = client.get(f"{V1}/rankings", params={"limit": 5}, headers=read).json()["items"]
    names = [r["account"] for r in top]
    like = client.get(f"{V1}/find", params={"like": names[0], "limit": 5},
                      headers=read).json()
    assert like["kind"] == "like" and 1 <= len(like["items"]) <= 5
    assert names[0] not in [c["account"] for c in like["items"]]
    aud = client.get(f"{V1}/find", params={"audience": names[1], "limit": 5},
                     headers=read).json()
    assert aud["kind"] == "audience" and aud["items"]
    flagged = app.state.service.context().suspicious
    g = app.state.service.context().graph
    for c in like["items"] + aud["items"]:
        p, i = c["account"].split(":", 1)
        assert not flagged[g.vertex(p, i)]

    ov = client.get(f"{V1}/overlap", params=[("creators", n) for n in names[:3]],
                    headers=read).json()
    assert len(ov["creators"]) == 3 and len(ov["pairs"]) == 3
    assert ov["union"]["audience"] <= sum(c["audience"] for c in ov["creators"])
    ov2 = client.post(f"{V1}/overlap", json={"creators": names[:3]}, headers=read).json()
    assert ov2["union"] == ov["union"]

    costs = {n: 10.0 for n in names}
    plan = client.post(f"{V1}/plan", json={"budget": 25, "costs": costs}, headers=read).json()
    assert len(plan["creators"]) == 2 and plan["spent"] <= 25
    assert plan["reach"] <= plan["reach_if_summed"] + 1e-9

    sug = client.get(f"{V1}/accounts/{names[2]}/suggestions", params={"limit": 5},
                     headers=read).json()
    assert 1 <= len(sug["items"]) <= 5
    for s in sug["items"]:
        assert not flagged[g.vertex(s["platform"], s["account_id"])]


def test_every_list_is_a_page(api):
    """Every endpoint that returns a list answers {total, offset, limit, items}, and its
    pages are slices of one list."""
    client, app, read, admin = api
    top = client.get(f"{V1}/rankings", params={"limit": 3}, headers=read).json()["items"]
    spec = top[0]["account"]
    topic = client.get(f"{V1}/topics", headers=read).json()["items"][0]["topic"]
    lists = {
        "/accounts": {"q": top[0]["handle"][:1]},
        "/rankings": {},
        "/find": {"topic": topic},
        f"/accounts/{spec}/suggestions": {},
        "/topics": {},
        "/runs": {},
        "/jobs": {},
        "/keys": {},
    }
    for path, params in lists.items():
        h = admin if path == "/keys" else read
        first = client.get(V1 + path, params={**params, "limit": 6}, headers=h)
        assert first.status_code == 200, (path, first.text)
        body = first.json()
        assert {"total", "offset", "limit", "items"} <= set(body), path
        assert body["offset"] == 0 and body["limit"] == 6 and len(body["items"]) <= 6
        assert body["total"] >= len(body["items"]), path
        if body["total"] >= 6:
            second = client.get(V1 + path, params={**params, "offset": 3, "limit": 3},
                                headers=h).json()
            assert second["items"] == body["items"][3:6], path
            assert second["total"] == body["total"], path
        assert_error(client.get(V1 + path, params={**params, "offset": -1}, headers=h), 422)

    found = client.get(f"{V1}/find", params={"topic": topic, "limit": 10},
                       headers=read).json()
    assert found["kind"] == "topic" and found["total"] >= len(found["items"]) >= 2
    assert [r["rank"] for r in found["items"]] == list(range(1, len(found["items"]) + 1))
    for r in found["items"]:           # follower count and TrueRank side by side
        assert r["truerank"] > 0 and r["place_truerank"] >= 1 and r["place_followers"] >= 1
    old = client.get(f"{V1}/find", params={"topic": topic, "top": 4}, headers=read).json()
    assert old["items"] == found["items"][:4]      # the old name of limit still works
    acc = client.get(f"{V1}/accounts", params={"q": top[0]["handle"]}, headers=read).json()
    assert acc["items"][0]["place_truerank"] == 1 == top[0]["rank"]
    assert acc["items"][0]["truerank"] == pytest.approx(top[0]["truerank"], rel=1e-3)


# -- uploads and jobs ---------------------------------------------------------------------------
def _request(headers: dict, chunks: list[bytes], pulled: list):
    from starlette.requests import Request

    async def receive():
        pulled.append(1)
        i = len(pulled) - 1
        return {"type": "http.request", "body": chunks[i] if i < len(chunks) else b"",
                "more_body": i < len(chunks) - 1}

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    return Request(scope, receive)


def test_upload_limit_is_checked_before_the_body_is_read():
    chunks = [b"x" * 1000] * 100
    pulled: list = []
    req = _request({"content-length": "100000", "content-type": "text/csv"}, chunks, pulled)
    with pytest.raises(TooLargeError):
        asyncio.run(receive_upload(req, 5000, "a.csv"))
    assert pulled == []                       # refused on Content-Length alone
    pulled.clear()
    req = _request({"content-type": "text/csv"}, chunks, pulled)  # no length: streamed
    with pytest.raises(TooLargeError):
        asyncio.run(receive_upload(req, 5000, "a.csv"))
    assert len(pulled) == 6                   # stopped just past the limit


def test_ingest_jobs_succeed_or_say_why(api):
    client, app, read, admin = api
    jobs = app.state.service.jobs
    before = client.get(f"{V1}/rankings", params={"limit": 1}, headers=read).json()["total"]
    body = "src,dst\nnewcomer_a,newcomer_b\nnewcomer_b,newcomer_c\n".encode()
    r = client.post(f"{V1}/ingest", files={"file": ("follows.csv", body, "text/csv")},
                    headers=admin)
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running", "done")
    done = jobs.wait(r.json()["job_id"], timeout=60)
    assert done["status"] == "done", done
    assert done["result"]["accepted"] == 2 and done["result"]["loads"][0]["source"] == \
        "follows.csv"
    got = client.get(f"{V1}/jobs/{done['job_id']}", headers=read).json()
    assert got["progress"] == 1.0
    after = client.get(f"{V1}/rankings", params={"limit": 1}, headers=read).json()["total"]
    assert after == before + 3                # the context was rebuilt with the new data

    r = client.post(f"{V1}/ingest", params={"filename": "mystery.json"},
                    content=b"\x00\x01 not data", headers=admin)
    failed = jobs.wait(r.json()["job_id"], timeout=60)
    assert failed["status"] == "failed"
    assert "mystery.json" in failed["message"] and "format" in failed["message"]
    assert "trueclout-upload" not in failed["message"]   # no server paths leak
    listed = client.get(f"{V1}/jobs", params={"limit": 1}, headers=read).json()
    assert listed["total"] >= 2 and listed["items"][0]["job_id"] == failed["job_id"]


def test_detection_run_job_saves_a_run(api):
    client, app, read, admin = api
    r = client.post(f"{V1}/runs", headers=admin)
    assert r.status_code == 202
    job = app.state.service.jobs.wait(r.json()["job_id"], timeout=120)
    assert job["status"] == "done", job
    runs = client.get(f"{V1}/runs", headers=read).json()
    assert runs["items"][0]["run_id"] == job["result"]["run_id"]
    assert runs["items"][0]["kind"] == "detect"


def test_job_records_survive_a_restart(tmp_path):
    path = tmp_path / "jobs.duckdb"
    svc = Service(path)
    done = svc.jobs.wait(svc.start_detection()["job_id"], timeout=60)
    assert done["status"] == "done"
    stuck = svc.cursor_store().create_job("ingest", {"filename": "big.csv"})
    svc.cursor_store().update_job(stuck, status="running", progress=0.4)
    svc.close()
    app = create_app(path, web=False)           # a new server on the same store
    key = create_key(app.state.service.store, "read")
    with TestClient(app) as client:
        h = {"X-API-Key": key}
        old = client.get(f"{V1}/jobs/{done['job_id']}", headers=h).json()
        assert old["status"] == "done" and old["result"] == done["result"]
        lost = client.get(f"{V1}/jobs/{stuck}", headers=h).json()
        assert lost["status"] == "failed" and "server restarted" in lost["message"]
    app.state.service.close()


def test_old_store_is_upgraded(tmp_path):
    import duckdb
    from trueclout.store.schema import MIGRATIONS, SCHEMA_VERSION
    path = str(tmp_path / "v1.duckdb")
    con = duckdb.connect(path)
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.close()
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION >= 2
        assert s.api_keys() == [] and s.list_jobs() == ([], 0)


def test_cors_is_off_by_default(api_store, tmp_path):
    app = create_app(":memory:", web=False)
    with TestClient(app) as client:
        r = client.get(f"{V1}/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
    on = create_app(":memory:", web=False, cors_origins=["https://app.example"])
    with TestClient(on) as client:
        r = client.get(f"{V1}/health", headers={"Origin": "https://app.example"})
        assert r.headers["access-control-allow-origin"] == "https://app.example"


def _record_job_writes(monkeypatch) -> list:
    """Every job record write, as (job_id, fields)."""
    from trueclout.store.keys import KeysJobs
    writes: list = []
    real = KeysJobs.update_job

    def spy(self, job_id, **fields):
        writes.append((job_id, dict(fields)))
        return real(self, job_id, **fields)

    monkeypatch.setattr(KeysJobs, "update_job", spy)
    return writes


def _progress(writes: list, job_id: int) -> list[tuple[float, str]]:
    return [(f["progress"], f.get("message")) for j, f in writes
            if j == job_id and "progress" in f and "status" not in f]


def test_ingest_progress_follows_the_rows_and_is_throttled(tmp_path, monkeypatch):
    import re
    rows = 4000
    data = tmp_path / "follows.csv"
    data.write_text("src,dst\n" + "".join(f"p{i % 997},p{(i * 31 + 7) % 991}\n"
                                           for i in range(rows)))
    monkeypatch.setenv("TRUECLOUT_INGEST_BATCH_ROWS", "100")     # 40 batches
    writes = _record_job_writes(monkeypatch)
    svc = Service(tmp_path / "p.duckdb")
    try:
        monkeypatch.setenv("TRUECLOUT_API_JOB_PROGRESS_S", "0")   # every batch written
        job = svc.jobs.wait(svc.start_ingest(data, filename="follows.csv")["job_id"], 120)
        assert job["status"] == "done", job
        every = _progress(writes, job["job_id"])
        staged = [(p, m) for p, m in every if m.startswith("reading follows.csv:")]
        assert len(staged) >= 30
        counts = [int(re.search(r": ([\d,]+) rows", m).group(1).replace(",", ""))
                  for _, m in staged]
        assert counts == sorted(counts) and counts[-1] == rows
        assert staged[-1][1].endswith(f"of about {rows:,}")
        fr = [p for p, _ in every]
        assert fr == sorted(fr) and 0 <= fr[0] and fr[-1] <= 1
        assert staged[-1][0] == pytest.approx(0.02 + 0.8 * 0.78, abs=0.01)
        msgs = [m for _, m in every]
        assert any(m.startswith("checking") for m in msgs)
        assert msgs[-1] == "refitting detection"

        monkeypatch.setenv("TRUECLOUT_API_JOB_PROGRESS_S", "3600")  # only new stages
        again = tmp_path / "again.csv"
        again.write_text(data.read_text().replace("p", "q"))
        job = svc.jobs.wait(svc.start_ingest(again, filename="again.csv")["job_id"], 120)
        assert job["status"] == "done", job
        few = _progress(writes, job["job_id"])
        assert len(few) <= 6                      # one write per stage, not per batch
        assert [m for _, m in few if m.startswith("reading again.csv:")]
        assert few[-1][1] == "refitting detection"
    finally:
        svc.close()


def test_simulation_job(tmp_path, monkeypatch):
    import tempfile
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    writes = _record_job_writes(monkeypatch)
    app = create_app(tmp_path / "sim.duckdb", web=False)
    svc = app.state.service
    read, admin = create_key(svc.store, "read"), create_key(svc.store, "admin")
    with TestClient(app) as client:
        assert_error(client.post(f"{V1}/simulations", json={"accounts": 300},
                                 headers={"X-API-Key": read}), 403)
        e = assert_error(client.post(f"{V1}/simulations", json={"accounts": 5},
                                     headers={"X-API-Key": admin}), 422)
        assert e["field"] == "accounts"
        assert_error(client.post(f"{V1}/simulations", json={"accounts": 300, "seed": -1},
                                 headers={"X-API-Key": admin}), 422)
        r = client.post(f"{V1}/simulations", json={"accounts": 300, "seed": 4},
                        headers={"X-API-Key": admin})
        assert r.status_code == 202 and r.json()["kind"] == "simulate"
        job = svc.jobs.wait(r.json()["job_id"], timeout=180)
        assert job["status"] == "done", job
        assert job["params"] == {"accounts": 300, "seed": 4}
        res = job["result"]
        assert res["accounts"] == 300 and res["ingest"]["accepted"] > res["rows"]["follows"] / 2
        assert "trueclout-sim" not in str(res)          # no server paths in the record
        ranked = client.get(f"{V1}/rankings", params={"limit": 1},
                            headers={"X-API-Key": read}).json()
        assert ranked["total"] == 300                   # ingested and refitted
        msgs = [m for _, m in _progress(writes, job["job_id"])]
        assert msgs[0].startswith("simulating 300 accounts")
        assert any(m.startswith("reading simulation:") for m in msgs)
        assert msgs[-1] == "refitting detection"
    assert list(scratch.iterdir()) == []                # the folder was removed
    svc.close()


def test_jobs_still_start_after_the_lifespan_ended(tmp_path):
    """The shutdown hook stops the job threads; a job started after it (another
    ``with TestClient(app)``, a server restarted in-process) gets new ones, not a 500."""
    app = create_app(tmp_path / "life.duckdb", web=False)
    svc = app.state.service
    admin = {"X-API-Key": create_key(svc.store, "admin")}
    try:
        client = TestClient(app)
        r = client.post(f"{V1}/simulations", json={"accounts": 120}, headers=admin)
        assert r.status_code == 202, r.text
        assert svc.jobs.wait(r.json()["job_id"], timeout=180)["status"] == "done"
        with TestClient(app):           # its exit runs the shutdown hook
            pass
        r = client.post(f"{V1}/simulations", json={"accounts": 120}, headers=admin)
        assert r.status_code == 202, r.text
        assert svc.jobs.wait(r.json()["job_id"], timeout=180)["status"] == "done"
        with TestClient(app) as again:  # and once more inside a lifespan
            pass
        r = again.post(f"{V1}/runs", headers=admin)
        assert r.status_code == 202, r.text
        job = svc.jobs.wait(r.json()["job_id"], timeout=180)
        assert job["status"] == "done" and job["result"]["accounts"] == 120, job
    finally:
        svc.close()
