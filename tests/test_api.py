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
    assert rows and all(key not in h and h.startswith("pbkdf2_sha256$") for _, h in rows)
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
    from trueclout.cli import main
    db = str(tmp_path / "cli.duckdb")
    assert main(["keys", "create", "--scope", "admin", "--db", db]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("tc_")
    assert main(["keys", "create", "--scope", "root", "--db", db]) == 2
    capsys.readouterr()
    assert main(["keys", "list", "--json", "--db", db]) == 0
    out = capsys.readouterr().out
    assert '"scope": "admin"' in out and key not in out
    assert main(["serve", "--port", "0", "--db", db]) == 2


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
    assert fol[0]["followers_seen"] >= fol[-1]["followers_seen"]


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
    follow = [r["followers"] for r in everyone["items"]]
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
    like = client.get(f"{V1}/find", params={"like": names[0], "top": 5}, headers=read).json()
    assert like["kind"] == "like" and 1 <= len(like["creators"]) <= 5
    assert names[0] not in [c["account"] for c in like["creators"]]
    aud = client.get(f"{V1}/find", params={"audience": names[1], "top": 5},
                     headers=read).json()
    assert aud["kind"] == "audience" and aud["creators"]
    flagged = app.state.service.context().suspicious
    g = app.state.service.context().graph
    for c in like["creators"] + aud["creators"]:
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

    sug = client.get(f"{V1}/accounts/{names[2]}/suggestions", params={"top": 5},
                     headers=read).json()
    assert 1 <= len(sug["suggestions"]) <= 5
    for s in sug["suggestions"]:
        assert not flagged[g.vertex(s["platform"], s["account_id"])]


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
