"""Schemathesis against the API's own OpenAPI document: no input makes a 5xx.

The app runs in process (ASGI) over a throwaway copy of the simulated store of
``sim_score_store`` (so its writes, keys and the jobs' loads, stay in the copy), with an
admin key on every request. Schemathesis generates cases, valid and not, for every
operation of ``/api/v1/openapi.json``, the job-starting ones included (``POST
/api/v1/ingest``, ``/runs``, ``/simulations``): their jobs run on the job threads while
the other operations are probed (reads served from the published context meanwhile, a
full queue answering 429), and are interrupted when the test ends. The test fails on any
status of 500 or more.
"""

from __future__ import annotations

import shutil
import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("httpx")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from trueclout.api.app import create_app  # noqa: E402
from trueclout.api.auth import create_key  # noqa: E402

MAX_EXAMPLES = 40     # per operation: the whole file stays well under a minute
SKIPPED: set = set()  # every operation is probed


@pytest.fixture(scope="module")
def schema_app(sim_score_store, tmp_path_factory):
    """(app, admin headers) over a copy of the simulated store, context built."""
    sim_score_store.con.execute("CHECKPOINT")
    path = tmp_path_factory.mktemp("schema") / "s.duckdb"
    shutil.copy(sim_score_store.path, path)
    mp = pytest.MonkeyPatch()
    mp.setenv("TRUECLOUT_API_JOB_QUEUE", "1")   # one job at a time; the rest get 429
    app = create_app(path, rate=(1e6, 1e6))
    mp.undo()
    svc = app.state.service
    headers = {"Authorization": f"Bearer {create_key(svc.store, 'admin')}"}
    svc.context()                     # build once, outside the examples' deadlines
    rows = svc.rankings(by="followers", limit=20)["items"]
    real = [r["account"] for r in rows] + ["@" + r["handle"] for r in rows if r.get("handle")]
    yield app, headers, real
    svc.jobs.shutdown(wait=False, grace=5)   # the jobs left stop at their next report
    svc.close()


@pytest.fixture(scope="module")
def api_schema(schema_app):
    app = schema_app[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def _operations(schema):
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) not in SKIPPED:
            yield op


def test_the_schema_lists_every_route(api_schema):
    labels = {(op.method.upper(), op.path) for op in _operations(api_schema)}
    assert {("GET", "/api/v1/accounts/{spec}/audit"), ("GET", "/api/v1/rankings"),
            ("POST", "/api/v1/plan"), ("GET", "/api/v1/jobs/{job_id}")} <= labels
    assert len(labels) >= 15
    assert {("POST", "/api/v1/ingest"), ("POST", "/api/v1/runs"),
            ("POST", "/api/v1/simulations")} <= labels


def _realise(case, real: list[str]) -> None:
    """Put accounts of the store where the case names accounts, so that the examples reach
    past the 404 of an unknown account."""
    if case.path_parameters and "spec" in case.path_parameters:
        case.path_parameters["spec"] = real[0]
    q = case.query
    if isinstance(q, dict):
        for name in ("audience", "like"):
            if name in q:
                q[name] = real[0]
        if "creators" in q:
            q["creators"] = real
    b = case.body
    if isinstance(b, dict):
        if isinstance(b.get("creators"), list):
            b["creators"] = real
        if isinstance(b.get("costs"), dict):
            b["costs"] = {a: 100.0 + 10 * i for i, a in enumerate(real)}
        if isinstance(b.get("audience"), str):
            b["audience"] = real[0]


def test_no_input_makes_a_server_error(api_schema, schema_app):
    """Half the examples as generated, half with real accounts put in (see _realise)."""
    _, headers, accounts = schema_app
    failures: list[str] = []
    tried = 0
    for op in _operations(api_schema):
        seen: list[int] = []

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(), use_real=st.booleans(),
               real=st.lists(st.sampled_from(accounts), min_size=2, max_size=6,
                             unique=True))
        def check(case, use_real, real):
            if use_real:
                _realise(case, real)
            response = case.call(headers=headers)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{op.method.upper()} {op.path}: {response.status_code} "
                                f"{response.text[:300]} <- "
                                f"{case.as_curl_command(headers=headers)}")
        check()
        assert seen, f"no case generated for {op.method.upper()} {op.path}"
        tried += len(seen)
    assert tried > 100
    assert not failures, "\n".join(failures[:20])
