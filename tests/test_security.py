"""Probes of the API and the dashboard as an attacker (or a careless client) would send
them; each test is named after what it attacks. Timings are measured in
``benchmarks/bench_hardening.py``; here, what must hold whatever the machine: no slow
hash for a failed key, 429 once failures pile up, bounded bodies and texts, errors that
echo no more than an excerpt, no 500, sign-in tokens instead of keys, CSRF and security
headers, reads that do not wait for a job, a bounded job queue, a server that stops on
SIGTERM within seconds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from trueclout.api.app import create_app
from trueclout.api.auth import Keys, create_key, split_key
from trueclout.store import Store

V1 = "/api/v1"
ERROR_KEYS = {"type", "message", "path", "line", "field"}


def assert_error(r, status: int, etype: str | None = None) -> dict:
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    if etype is not None:
        assert body["error"]["type"] == etype, body
    return body["error"]


#: Script payloads put in the stored text of the most followed accounts of every store here.
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)"]


@pytest.fixture(scope="module")
def poisoned_store(tmp_path_factory):
    """A simulated platform of 800 accounts in a store (copied by tests that write),
    whose five most followed accounts carry script payloads in their handles, names, bios
    and URLs (as text a crawl could bring); (path, their specs)."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    d = tmp_path_factory.mktemp("sec")
    simulate(d / "platform", accounts=800, seed=4)
    path = d / "sec.duckdb"
    with Store(path) as s:
        ingest(s, [d / "platform"])
        top = s.con.execute("SELECT a.uid, a.platform, a.account_id FROM accounts a JOIN "
                            "(SELECT dst, count(*) n FROM follows GROUP BY dst) f ON f.dst "
                            "= a.uid ORDER BY f.n DESC, a.uid LIMIT 5").fetchall()
        for i, (uid, _, _) in enumerate(top):
            s.con.execute("UPDATE accounts SET handle = ?, name = ?, description = ?, "
                          "url = ? WHERE uid = ?",
                          [f"{XSS[i % 3]}{i}", XSS[(i + 1) % 3], XSS[(i + 2) % 3], XSS[2], uid])
    return path, [f"{p}:{a}" for _, p, a in top]


@pytest.fixture(scope="module")
def sec_store(poisoned_store):
    return poisoned_store[0]


def _copy(src: Path, folder: Path, name: str = "s.duckdb") -> Path:
    dst = folder / name
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="module")
def sec(sec_store, tmp_path_factory):
    """(app, read key, admin key) over a copy of the store, pages locked (as served off
    loopback), context built."""
    path = _copy(sec_store, tmp_path_factory.mktemp("secapp"))
    app = create_app(path, rate=(1e6, 1e6), web_auth=True)
    svc = app.state.service
    read, admin = create_key(svc.store, "read"), create_key(svc.store, "admin")
    svc.context()
    yield app, read, admin
    svc.close()


def _client(app, host: str = "203.0.113.9", **kw) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(host, 50000), **kw)


# -- keys: no slow hash for a failed check, failures rate-limited --------------------------------
def test_wrong_secret_of_a_real_prefix_runs_no_slow_hash(sec, monkeypatch):
    app, read, _ = sec
    calls = []
    real = hashlib.pbkdf2_hmac
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", lambda *a, **k: calls.append(1) or real(*a, **k))
    prefix = split_key(read)
    c = _client(app, host="198.51.100.1")
    codes = [c.get(f"{V1}/runs", headers={"X-API-Key": f"tc_{prefix}_guess{i}"}).status_code
             for i in range(30)]
    assert set(codes) <= {401, 429} and codes[0] == 401
    assert calls == []
    stored = app.state.service.store.con.execute(
        "SELECT hash FROM api_keys WHERE prefix = ?", [prefix]).fetchone()[0]
    assert stored.startswith("hmac_sha256$") and read not in stored


def test_failed_attempts_from_one_address_get_429_with_retry_after(sec_store, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("TRUECLOUT_API_AUTH_FAIL_BURST", "3")
    monkeypatch.setenv("TRUECLOUT_API_AUTH_FAIL_PER_S", "0.01")
    app = create_app(_copy(sec_store, tmp_path), web=False)
    svc = app.state.service
    used, fresh, target = (create_key(svc.store, "read") for _ in range(3))
    try:
        attacker = _client(app, host="192.0.2.66")
        assert attacker.get(f"{V1}/runs", headers={"X-API-Key": used}).status_code == 200
        wrong = {"X-API-Key": f"tc_{split_key(target)}_not-the-secret"}
        assert [attacker.get(f"{V1}/runs", headers=wrong).status_code
                for _ in range(3)] == [401, 401, 401]
        r = attacker.get(f"{V1}/runs", headers=wrong)
        e = assert_error(r, 429, "RateLimitedError")
        assert int(r.headers["Retry-After"]) >= 1 and "failed key checks" in e["message"]
        # the right key is refused from that address too: the limit is not an oracle
        assert_error(attacker.get(f"{V1}/runs", headers={"X-API-Key": fresh}), 429)
        # ... but a key that succeeded before still works, and other addresses are free
        assert attacker.get(f"{V1}/runs", headers={"X-API-Key": used}).status_code == 200
        other = _client(app, host="192.0.2.67")
        assert other.get(f"{V1}/runs", headers={"X-API-Key": fresh}).status_code == 200
    finally:
        svc.close()


def test_guessing_one_prefix_from_many_addresses_gets_429(tmp_path):
    from trueclout.api.auth import FailedAttempts
    from trueclout.api.errors import AuthError, RateLimitedError
    store = Store(tmp_path / "k.duckdb")
    key = create_key(store, "read")
    keys = Keys(store, failures=FailedAttempts(rate=0.001, burst=4))
    wrong = f"tc_{split_key(key)}_wrong"
    seen = []
    for i in range(6):
        try:
            keys.check(wrong, client=f"10.0.0.{i}")
        except (AuthError, RateLimitedError) as exc:
            seen.append(type(exc).__name__)
    assert seen == ["AuthError"] * 4 + ["RateLimitedError"] * 2
    assert keys.check(key, client="10.0.0.99")["scope"] == "read"   # the owner still passes
    store.close()


def test_made_up_prefixes_read_the_key_table_at_most_once_a_second(tmp_path):
    from trueclout.api.errors import AuthError
    store = Store(tmp_path / "k.duckdb")
    create_key(store, "read")
    reads = []
    orig = store.api_key_rows
    store.api_key_rows = lambda: reads.append(1) or orig()
    keys = Keys(store)
    keys.failures.burst = keys.failures.rate = 1e9
    for i in range(200):
        with pytest.raises(AuthError):
            keys.check(f"tc_{i:08x}_x", client="a")
    assert 1 <= len(reads) <= 3          # one read, then at most one per api_key_reload_s
    store.close()


def test_legacy_pbkdf2_key_still_works_and_is_rewritten_to_hmac(tmp_path):
    import secrets
    store = Store(tmp_path / "k.duckdb")
    prefix = "0a1b2c3d"
    key = f"tc_{prefix}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, 1000)
    store.add_api_key(prefix, f"pbkdf2_sha256$1000${salt.hex()}${digest.hex()}", "admin")
    keys = Keys(store)
    assert keys.check(key)["scope"] == "admin"
    assert store.api_key(prefix)["hash"].startswith("hmac_sha256$")
    assert Keys(store).check(key)["scope"] == "admin"
    store.close()


def test_every_wrong_missing_revoked_or_query_string_key_gets_401(sec, tmp_path):
    app, read, _ = sec
    c = _client(app, host="198.51.100.2")
    revoked = create_key(app.state.service.store, "read")
    assert c.get(f"{V1}/runs", headers={"X-API-Key": revoked}).status_code == 200
    app.state.service.store.revoke_api_key(
        app.state.service.store.api_key(split_key(revoked))["key_id"])
    app.state.keys.forget(split_key(revoked))
    for headers, params in (({}, {}), ({"X-API-Key": "nonsense"}, {}),
                            ({"Authorization": "Basic " + read}, {}),
                            ({"Authorization": "Bearer"}, {}),
                            ({"X-API-Key": revoked}, {}),
                            ({}, {"api_key": read}), ({}, {"key": read}),
                            ({}, {"access_token": read})):
        assert_error(c.get(f"{V1}/runs", headers=headers, params=params), 401, "AuthError")


def test_read_key_gets_403_on_every_write_route(sec):
    from fastapi.routing import APIRoute

    from trueclout.api.app import all_routes
    app, read, _ = sec
    c = _client(app, host="198.51.100.3")
    writes = [(m, r.path) for r in all_routes(app) if isinstance(r, APIRoute)
              for d in r.dependant.dependencies if d.call.__name__ == "write_key"
              for m in r.methods]
    assert len(writes) >= 5
    for method, path in writes:
        url = path.replace("{prefix}", "00000000")
        r = c.request(method, url, headers={"X-API-Key": read})
        assert_error(r, 403, "ForbiddenError")


# -- bodies, texts, and what errors echo ------------------------------------------------------
def test_long_account_names_in_plan_and_overlap_are_refused_at_once(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.4")
    h = {"X-API-Key": read}
    long = "@" + "a" * 65_536
    t = time.perf_counter()
    for r in (c.post(f"{V1}/plan", json={"budget": 10, "costs": {long: 1}}, headers=h),
              c.post(f"{V1}/overlap", json={"creators": [long, "@b"]}, headers=h),
              c.post(f"{V1}/plan", json={"budget": 10, "costs": {"@a": 1}, "topic": long},
                     headers=h),
              c.get(f"{V1}/accounts/{'a' * 5000}", headers=h)):
        e = assert_error(r, 422, "ValidationError")
        assert len(e["message"]) < 400
    assert time.perf_counter() - t < 20        # not the seconds a long name used to cost


def test_bodies_over_the_limit_get_413_before_or_while_they_are_read(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.5")
    h = {"X-API-Key": read, "content-type": "application/json"}
    big = b'{"budget": 1, "costs": {"@a": 1}, "topic": "' + b"x" * (2 << 20) + b'"}'
    assert_error(c.post(f"{V1}/plan", content=big, headers=h), 413, "TooLargeError")

    def chunks():                               # no Content-Length: streamed
        yield b'{"budget": 1, "costs": {"@a": 1}, "topic": "'
        for _ in range(40):
            yield b"y" * 65_536
        yield b'"}'
    assert_error(c.post(f"{V1}/plan", content=chunks(), headers=h), 413, "TooLargeError")
    assert_error(c.post("/login", content=b"key=" + b"k" * (2 << 20), headers={
        "content-type": "application/x-www-form-urlencoded"}), 413)
    assert_error(c.post(f"{V1}/plan", content=b"{}", headers={**h, "content-length": "x1"}),
                 400)


def test_errors_never_echo_more_than_a_short_excerpt(sec):
    from trueclout import config
    app, read, _ = sec
    c = _client(app, host="198.51.100.6")
    limit = int(config.get("api_error_excerpt"))
    topic = "z" * 199
    r = c.get(f"{V1}/find", params={"topic": topic}, headers={"X-API-Key": read})
    assert r.status_code in (400, 404), r.text
    r = c.get("/api/v1/" + "p" * 20_000, headers={"X-API-Key": read})
    e = assert_error(r, 404)
    assert len(e["message"]) <= limit + 40 and "cut" in e["message"]


# -- no 500 -----------------------------------------------------------------------------------------
def test_huge_offsets_and_ids_are_422_not_500(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.7")
    h = {"X-API-Key": read}
    for url in (f"{V1}/jobs?offset=9223372036854775808", f"{V1}/runs?offset=99999999999999",
                f"{V1}/rankings?offset=9223372036854775807", f"{V1}/jobs/99999999999999999999",
                f"{V1}/find?topic=x&min_followers=99999999999999999999"):
        assert_error(c.get(url, headers=h), 422, "ValidationError")


def test_malformed_multipart_uploads_are_400_not_500(sec):
    app, _, admin = sec
    c = _client(app, host="198.51.100.8")
    h = {"X-API-Key": admin}
    two = c.post(f"{V1}/ingest", headers=h, files=[("file", ("a.csv", b"src,dst\na,b\n")),
                                                   ("file", ("b.csv", b"src,dst\nb,c\n"))])
    assert "multipart" in assert_error(two, 400, "UsageError")["message"]
    nob = c.post(f"{V1}/ingest", headers={**h, "content-type": "multipart/form-data"},
                 content=b"--x\r\n\r\nhello\r\n--x--\r\n")
    assert_error(nob, 400, "UsageError")
    junk = c.post(f"{V1}/ingest", headers={**h, "content-type":
                                           "multipart/form-data; boundary=zz"},
                  content=b"\x00\xff garbage without any part")
    assert junk.status_code < 500, junk.text
    assert list(Path(__import__("tempfile").gettempdir()).glob(
        f"trueclout-upload-{os.getpid()}-*")) == []      # no folder left behind


def test_uploaded_file_names_cannot_escape_the_temp_folder(sec, monkeypatch):
    app, _, admin = sec
    svc = app.state.service
    seen = []
    monkeypatch.setattr(svc, "start_ingest", lambda path, **kw: seen.append(Path(path)) or {
        "job_id": 0})
    c = _client(app, host="198.51.100.9")
    for name in ("../../../etc/cron.d/x", "..\\..\\evil.csv", "/abs/path.csv", "..", ".hidden"):
        r = c.post(f"{V1}/ingest", headers={"X-API-Key": admin},
                   files={"file": (name, b"src,dst\na,b\n")})
        assert r.status_code == 202, r.text
        r = c.post(f"{V1}/ingest", params={"filename": name}, content=b"src,dst\na,b\n",
                   headers={"X-API-Key": admin})
        assert r.status_code == 202, r.text
    for p in seen:
        assert p.parent.name.startswith("trueclout-upload-") and ".." not in p.parts
        assert not p.name.startswith(".")


# -- the pages: sign-in tokens, CSRF, headers, no CDN ---------------------------------------------
def _csrf(c) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m
    return m.group(1)


def test_sign_in_cookie_holds_a_token_that_dies_with_logout_and_revocation(sec):
    app, _, _ = sec
    store = app.state.service.store
    key = create_key(store, "read")
    c = _client(app, host="198.51.100.10", follow_redirects=False)
    csrf = _csrf(c)
    r = c.post("/login", data={"key": key, "csrf": csrf, "next": "/"})
    assert r.status_code == 303
    token = c.cookies.get("tc_session")
    assert token and key not in token and split_key(key) not in token
    assert c.get("/").status_code == 200
    c.post("/logout", data={"csrf": csrf})
    replay = _client(app, host="198.51.100.10", follow_redirects=False)
    replay.cookies.set("tc_session", token)
    assert replay.get("/").status_code == 303          # the token is dead server-side
    c.cookies.clear()
    csrf = _csrf(c)
    c.post("/login", data={"key": key, "csrf": csrf, "next": "/"})
    assert c.get("/").status_code == 200
    store.revoke_api_key(store.api_key(split_key(key))["key_id"])
    app.state.keys.forget(split_key(key))
    assert c.get("/").status_code == 303               # revoking the key ends its sign-ins


def test_login_and_logout_sent_by_another_site_are_refused(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.11", follow_redirects=False)
    csrf = _csrf(c)
    foreign = c.post("/login", data={"key": read, "csrf": csrf},
                     headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "tc_session" not in foreign.headers.get(
        "set-cookie", "")
    assert c.post("/login", data={"key": read}).status_code == 403           # no token
    assert c.post("/login", data={"key": read, "csrf": "x" * 43}).status_code == 403
    ok = c.post("/login", data={"key": read, "csrf": csrf},
                headers={"Origin": "http://testserver"})
    assert ok.status_code == 303
    assert c.post("/logout", data={}).status_code == 403                    # logout CSRF
    assert c.post("/logout", data={"csrf": csrf},
                  headers={"Origin": "https://evil.example"}).status_code == 403
    assert c.get("/").status_code == 200                                    # still signed in


def test_every_answer_carries_security_headers(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.12")
    for r in (c.get(f"{V1}/runs", headers={"X-API-Key": read}), c.get(f"{V1}/health"),
              c.get(f"{V1}/nope"), c.get("/login"), c.get("/", headers={"X-API-Key": read}),
              c.get("/static/web.css")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    api = c.get(f"{V1}/health").headers["content-security-policy"]
    assert api.startswith("default-src 'none'")
    page = c.get("/plan", headers={"X-API-Key": read})
    csp = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script([^>]*)>", page.text)
    for attrs in scripts:   # every inline script carries the nonce; others come from here
        assert f'nonce="{nonce}"' in attrs or 'src="/' in attrs or "application/json" in attrs
    assert "unsafe-eval" not in csp and "script-src 'self' 'nonce-" in csp
    assert c.get("/plan", headers={"X-API-Key": read}).headers[
        "content-security-policy"] != csp                                   # a fresh nonce


def test_api_docs_load_nothing_from_another_host(sec):
    app, read, _ = sec
    c = _client(app, host="198.51.100.13")
    assert c.get(f"{V1}/docs").status_code == 404
    spec = c.get(f"{V1}/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "trueclout"
    for path in ("/", "/login", "/upload", "/plan", "/discover"):
        html = c.get(path, headers={"X-API-Key": read}).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path


# -- jobs: the queue is bounded, reads do not wait for them ---------------------------------------
def test_a_full_job_queue_answers_429_before_reading_the_upload(sec_store, tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv("TRUECLOUT_API_JOB_QUEUE", "1")
    app = create_app(_copy(sec_store, tmp_path), web=False)
    svc = app.state.service
    admin = create_key(svc.store, "admin")
    release = threading.Event()
    try:
        blocker = svc.jobs.submit("hold", {}, lambda progress: release.wait(60) and {})
        c = _client(app)
        pulled = []

        def body():
            pulled.append(1)
            yield b"src,dst\na,b\n"
        r = c.post(f"{V1}/ingest", params={"filename": "f.csv"}, content=body(),
                   headers={"X-API-Key": admin})
        assert_error(r, 429, "JobQueueFullError")
        assert int(r.headers["Retry-After"]) >= 1 and pulled == []
        assert_error(c.post(f"{V1}/runs", headers={"X-API-Key": admin}), 429)
        assert_error(c.post(f"{V1}/simulations", json={"accounts": 200},
                            headers={"X-API-Key": admin}), 429)
        release.set()
        assert svc.jobs.wait(blocker["job_id"], 30)["status"] == "done"
        assert c.post(f"{V1}/runs", headers={"X-API-Key": admin}).status_code == 202
    finally:
        release.set()
        svc.close()


def test_reads_keep_answering_while_a_job_rebuilds_the_context(sec_store, tmp_path,
                                                               monkeypatch):
    import trueclout.score.saved as sc
    app = create_app(_copy(sec_store, tmp_path), web=False)
    svc = app.state.service
    read = create_key(svc.store, "read")
    c = _client(app)
    h = {"X-API-Key": read}
    try:
        assert c.get(f"{V1}/topics", headers=h).status_code == 200   # first context
        before = c.get(f"{V1}/rankings", params={"limit": 3}, headers=h).json()
        inside, release = threading.Event(), threading.Event()
        real = sc.load_context

        def slow(*a, **k):
            inside.set()
            release.wait(120)
            return real(*a, **k)
        monkeypatch.setattr(sc, "load_context", slow)
        job = svc.start_detection()              # a refit: the build is held above
        assert inside.wait(60)
        answers = []

        def reader():
            for url in (f"{V1}/topics", f"{V1}/rankings?limit=3", f"{V1}/accounts?q=a",
                        f"{V1}/accounts/{before['items'][0]['account']}/audit"):
                answers.append(c.get(url, headers=h).status_code)
        t = threading.Thread(target=reader)
        t.start()
        t.join(60)
        stuck = t.is_alive()
        release.set()
        assert not stuck, "a read waited for the job's build"
        assert answers == [200, 200, 200, 200]
        assert svc.jobs.wait(job["job_id"], 300)["status"] == "done"
    finally:
        release.set()
        svc.close()


@pytest.mark.slow
def test_sigterm_stops_serve_within_seconds_and_marks_its_jobs_interrupted(tmp_path):
    import httpx

    from conftest import start_serve
    db = tmp_path / "serve.duckdb"
    with Store(db) as s:
        admin = create_key(s, "admin")
    proc, base = start_serve(db, {"TRUECLOUT_API_SHUTDOWN_GRACE_S": "3"})
    try:
        r = httpx.post(f"{base}{V1}/simulations", json={"accounts": 200_000},
                       headers={"X-API-Key": admin}, timeout=30)
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        while httpx.get(f"{base}{V1}/jobs/{job_id}", headers={"X-API-Key": admin},
                        timeout=30).json()["status"] != "running":
            time.sleep(0.1)
        sim_dirs = list(Path(__import__("tempfile").gettempdir()).glob(
            f"trueclout-sim-{proc.pid}-*"))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert took < 15, f"serve took {took:.1f} s to stop"
    assert sim_dirs and not any(p.exists() for p in sim_dirs)
    with Store(db, read_only=True) as s:
        job = s.get_job(job_id)
    assert job["status"] == "interrupted" and "send an upload again" in job["message"]


def test_a_restarted_server_removes_the_folders_a_killed_one_left(tmp_path):
    import tempfile
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    left = [Path(tempfile.mkdtemp(prefix=f"trueclout-{k}-{dead}-")) for k in ("upload", "sim")]
    (left[0] / "big.csv").write_text("src,dst\n")
    app = create_app(tmp_path / "r.duckdb", web=False)
    try:
        assert not any(p.exists() for p in left)
    finally:
        app.state.service.close()


# -- what held, kept: payloads in stored text are escaped on every page and report ---------------
def _assert_escaped(html: str, where: str) -> None:
    for raw in ("<script>alert", "<img src=x onerror"):
        assert raw not in html, f"{raw!r} unescaped in {where}"
    for block in re.findall(r'<script id="figures" type="application/json">(.*?)</script>',
                            html, re.S):
        assert "<" not in block and json.loads(block) is not None, where
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I), where


def test_script_payloads_in_stored_text_are_escaped_on_every_page_and_report(poisoned_store,
                                                                             tmp_path):
    from urllib.parse import quote

    from trueclout.report.html import render_audit_html
    from trueclout.report.influence import influence_report, render_influence_html
    path, specs = poisoned_store
    app = create_app(path)
    svc = app.state.service
    try:
        c = _client(app, host="127.0.0.1")
        both = quote(" ".join(specs[:3]))
        pages = ["/", "/?q=%3Cscript", "/?q=" + quote(XSS[0]), "/upload", "/plan",
                 "/login?next=javascript:alert(1)", f"/overlap?creators={both}",
                 f"/plan?creators={both}", "/discover?topic=" + quote(XSS[0]),
                 "/audit?account=" + quote(XSS[1])]
        for spec in specs[:3]:
            pages += [f"/audit?account={quote(spec)}", f"/discover?like={quote(spec)}"]
        pages.append(f"/discover?audience={quote(specs[0])}")
        assert len(pages) >= 16
        for url in pages:
            r = c.get(url)
            assert r.status_code < 500, url
            _assert_escaped(r.text, url)
        reports = [render_audit_html(svc.audit(specs[0]), tmp_path / "a0.html"),
                   render_audit_html(svc.audit(specs[1]), tmp_path / "a1.html"),
                   render_audit_html(svc.audit(specs[2]), tmp_path / "a2.html",
                                     aggregate_only=True)]
        rep = influence_report(svc.context())
        reports += [render_influence_html(rep, tmp_path / "i.html"),
                    render_influence_html(rep, tmp_path / "i-agg.html", aggregate_only=True)]
        for p in reports:
            _assert_escaped(Path(p).read_text(), Path(p).name)
        assert "&lt;script&gt;" in Path(reports[0]).read_text()   # shown, as text
    finally:
        svc.close()


# -- what held, kept: broken stores are a clear StoreError --------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "garbage", "zero-page", "tail", "empty"])
def test_corrupted_store_files_give_a_clear_store_error(sec_store, tmp_path, damage, capsys):
    from trueclout.cli import main
    from trueclout.errors import StoreError
    path = _copy(sec_store, tmp_path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "zero-page":
        path.write_bytes(data[:4096] + bytes(8192) + data[12288:])
    elif damage == "tail":
        path.write_bytes(data[: len(data) // 2] + os.urandom(len(data) - len(data) // 2))
    else:
        path.write_bytes(b"")
    with pytest.raises(StoreError):
        with Store(path, read_only=True) as s:
            s.counts()
    assert main(["stats", "--db", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["type"] in ("StoreError", "StoreBusyError")


# -- the pages are routes too: no input makes a 5xx -------------------------------------------------
def test_no_page_input_makes_a_server_error(sec):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    app, read, _ = sec
    c = _client(app, host="198.51.100.20")
    h = {"X-API-Key": read}
    real = [r["account"] for r in app.state.service.rankings(by="followers", limit=5)["items"]]
    text = st.one_of(st.text(max_size=40), st.sampled_from(real + ["@", ":", "nan", "inf",
                                                                  "-1e999", "9" * 30, "%00",
                                                                  "x" * 5000]))
    number = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "-5", "0",
                                        "99999999999999999999", "abc"]), text)
    pages = {"/": {"q": text}, "/audit": {"account": text},
             "/discover": {"topic": text, "audience": text, "like": text, "top": number},
             "/overlap": {"creators": st.lists(text, max_size=4), "topic": text},
             "/plan": {"creators": st.lists(text, max_size=4), "budget": number,
                       "topic": text},
             "/login": {"next": text}, "/upload": {}}
    failures = []
    for path, fields in pages.items():
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.fixed_dictionaries({}, optional=fields))
        def probe(params):
            r = c.get(path, params=params, headers=h)
            if r.status_code >= 500:
                failures.append(f"{path} {params!r}: {r.status_code}")
        probe()

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({}, optional={"key": text, "next": text, "csrf": text}))
    def forms(data):
        for url in ("/login", "/logout"):
            r = c.post(url, data=data)
            if r.status_code >= 500:
                failures.append(f"POST {url} {data!r}: {r.status_code}")
    forms()
    assert not failures, "\n".join(failures[:10])
