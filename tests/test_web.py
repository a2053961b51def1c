"""The web dashboard's pages, server side: FastAPI's TestClient over a small simulated store.

What a marketer sees is asserted on the HTML: the search links to the audit; the audit
shows the composition with intervals, the growth with the bought periods shaded, the
engagement and the reasons; discover puts follower count and TrueRank side by side and
never lists a flagged creator; overlap draws the heat map; plan stays within the budget.
Every form control has a label, every page links the print stylesheet, and the pages work
offline (Plotly's JavaScript is served by the app itself)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def web_db(tmp_path_factory):
    """A store of 3,000 simulated accounts (seed 1)."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store
    d = tmp_path_factory.mktemp("web")
    simulate(d / "platform", accounts=3000, seed=1)
    store = Store(d / "web.duckdb")
    ingest(store, [d / "platform"])
    store.close()
    return d / "web.duckdb"


def make_app(db):
    """The app as served: the API with the dashboard's pages."""
    from trueclout.api.app import create_app
    return create_app(db)


@pytest.fixture(scope="module")
def client(web_db):
    from fastapi.testclient import TestClient
    with TestClient(make_app(web_db)) as c:
        yield c


@pytest.fixture(scope="module")
def svc(client):
    return client.app.state.service


@pytest.fixture(scope="module")
def bought(svc):
    """The simulated customer (bought followers) with the most followers."""
    from trueclout.report.influence import bought_accounts
    ctx = svc.context()
    mask, info = bought_accounts(ctx)
    assert info["source"] == "labels" and mask.any()
    deg = ctx.graph.in_degree()
    v = int(np.flatnonzero(mask)[np.argmax(deg[mask])])
    platform, aid = ctx.graph.name(v)
    return f"{platform}:{aid}", svc.account(f"{platform}:{aid}")


class _Controls(HTMLParser):
    """Collects form controls, labels and link/script tags."""

    def __init__(self):
        super().__init__()
        self.controls, self.labels, self.tags = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden",
                                                                            "submit"):
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])


def parse(html: str) -> _Controls:
    p = _Controls()
    p.feed(html)
    return p


def figures(html: str) -> dict:
    m = re.search(r'<script id="figures" type="application/json">(.*?)</script>', html, re.S)
    assert m, "the page has no figures"
    return json.loads(m.group(1))


def assert_accessible(html: str) -> None:
    """Every control is labelled; the page offers a skip link, a main landmark and the
    stylesheet (with its print rules); no script comes from another host."""
    p = parse(html)
    for c in p.controls:
        assert c.get("id") in p.labels or c.get("aria-label"), f"unlabelled control {c}"
    assert 'href="#main"' in html and '<main id="main"' in html
    assert any(t == "link" and "web.css" in a.get("href", "") for t, a in p.tags)
    for t, a in p.tags:
        if t == "script" and a.get("src"):
            assert a["src"].startswith("/"), f"script from elsewhere: {a['src']}"


def test_search_links_to_the_audit(client, bought):
    spec, acc = bought
    r = client.get("/")
    assert r.status_code == 200 and "Find an account" in r.text
    assert_accessible(r.text)
    r = client.get("/", params={"q": "@" + acc["handle"]})
    assert r.status_code == 200
    assert f'/audit?account={spec.replace(":", "%3A")}' in r.text
    assert "@" + acc["handle"] in r.text
    assert "Server-Timing" in r.headers


def test_search_escapes_and_says_when_nothing_matches(client):
    r = client.get("/", params={"q": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
    assert "No account matches" in r.text


def test_audit_shows_composition_growth_engagement_reasons(client, bought):
    spec, acc = bought
    r = client.get("/audit", params={"account": spec})
    assert r.status_code == 200
    html = r.text
    assert_accessible(html)
    for section in ("Audience composition", "Growth", "Engagement authenticity", "Why",
                    "95% interval", "Place by TrueRank"):
        assert section in html, section
    figs = figures(html)
    assert set(figs) >= {"composition", "growth", "engagement"}
    comp = figs["composition"]["data"][0]
    assert "error_y" in comp and len(comp["x"]) >= 2           # intervals drawn
    shapes = figs["growth"]["layout"]["shapes"]
    assert shapes and all(s["type"] == "rect" for s in shapes)  # bought periods shaded
    reasons = re.search(r'<ul class="reasons" id="reasons">(.*?)</ul>', html, re.S).group(1)
    assert "Nothing suspicious" not in reasons and reasons.count("<li>") >= 1
    assert len(html) < 300_000                                 # Plotly is not inlined
    assert re.search(r'<script src="/static/plotly\.min\.js\?v=\w+" defer>', html)


def test_audit_of_an_unknown_account_is_a_404_page(client):
    r = client.get("/audit", params={"account": "@nobody-here"})
    assert r.status_code == 404
    assert 'role="alert"' in r.text and "nobody-here" in r.text


def test_discover_puts_followers_and_truerank_side_by_side(client, svc):
    r = client.get("/discover")
    assert r.status_code == 200
    assert_accessible(r.text)
    topics = re.findall(r'<option value="(community:\d+)"', r.text)
    assert topics, "the simulated platform has topic communities"
    r = client.get("/discover", params={"topic": topics[0], "top": 15})
    assert r.status_code == 200
    html = r.text
    assert_accessible(html)
    rows = re.findall(r'<input type="checkbox" name="creators" value="([^"]+)"', html)
    assert 2 <= len(rows) <= 15
    assert html.count('class="num followers"') == len(rows)
    assert html.count('class="num truerank"') == len(rows)
    ctx = svc.context()
    for spec in rows:
        platform, aid = spec.split(":", 1)
        assert not ctx.suspicious[ctx.graph.vertex(platform, aid)], spec
    assert 'id="to-overlap"' in html and 'formaction="/plan"' in html


def test_discover_error_is_shown(client):
    r = client.get("/discover", params={"topic": "community:1", "audience": "@x"})
    assert r.status_code in (400, 404) and 'role="alert"' in r.text


def _top_creators(svc, k=3):
    rows = svc.rankings(by="truerank", limit=50)["items"]
    return [f"{r['platform']}:{r['account_id']}" for r in rows
            if r["category"] == "real"][:k]


def test_overlap_draws_the_heat_map(client, svc):
    names = _top_creators(svc, 3)
    r = client.get("/overlap", params=[("creators", names[0]),
                                       ("creators", f"{names[1]}, {names[2]}")])
    assert r.status_code == 200
    assert_accessible(r.text)
    figs = figures(r.text)
    heat = figs["overlap-chart"]["data"][0]
    assert heat["type"] == "heatmap" and len(heat["z"]) == 3
    assert all(heat["z"][i][i] is None for i in range(3))
    off = [v for i in range(3) for j in range(3) if i != j for v in [heat["z"][i][j]]]
    assert all(0 <= v <= 100 for v in off) and max(off) > 0
    assert "Plan a campaign with these creators" in r.text


def test_overlap_needs_two_creators(client, svc):
    r = client.get("/overlap", params={"creators": _top_creators(svc, 1)[0]})
    assert r.status_code == 400 and "at least two" in r.text


def test_plan_stays_within_the_budget(client, svc):
    names = _top_creators(svc, 5)
    r = client.get("/plan", params={"creators": " ".join(names), "budget": 10_000_000})
    assert r.status_code == 200
    # a budget beyond every candidate is planned as given, and the page says so
    assert 'value="10000000.0"' in r.text and 'id="budget-note"' in r.text
    assert "covers every candidate" in r.text
    total = float(re.search(r"All candidates together cost ([\d,.]+)\.",
                            r.text).group(1).replace(",", ""))
    half = int(total // 2)
    r = client.get("/plan", params={"creators": " ".join(names), "budget": half})
    html = r.text
    assert r.status_code == 200
    assert_accessible(html)
    assert f'value="{float(half)}"' in html
    spent = float(re.search(r'id="spent">([\d,.]+)<', html).group(1).replace(",", ""))
    unique = float(re.search(r'id="unique-reach">([\d,.]+)<', html).group(1).replace(",", ""))
    assert 0 < spent <= half and unique > 0
    chosen = re.search(r'<table id="chosen">(.*?)</table>', html, re.S).group(1)
    assert 1 <= chosen.count("/audit?account=") < len(names)


def test_plan_without_creators_starts_from_the_top(client):
    r = client.get("/plan")
    assert r.status_code == 200 and 'id="chosen"' in r.text


def test_upload_page_has_a_labelled_file_input_and_a_progress_bar(client):
    r = client.get("/upload")
    assert r.status_code == 200
    assert_accessible(r.text)
    assert 'type="file"' in r.text and "<progress" in r.text and 'aria-live="polite"' in r.text


def test_static_assets_are_cached_and_print_rules_exist(client):
    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 1_000_000 and "max-age=" in r.headers["cache-control"]
    again = client.get("/static/plotly.min.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    css = client.get("/static/web.css")
    assert css.status_code == 200 and "@media print" in css.text
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


# -- access: open on loopback, a key (kept in a cookie) elsewhere --------------------------------
@pytest.fixture(scope="module")
def locked(client):
    """The app as served on a non-loopback address, over the same service; (client, read
    key)."""
    from fastapi.testclient import TestClient

    from trueclout.api.app import create_app
    from trueclout.api.auth import create_key
    svc = client.app.state.service
    app = create_app(service=svc, web_auth=True)
    key = create_key(svc.cursor_store(), "read")
    with TestClient(app, follow_redirects=False) as c:
        yield c, key


def test_open_pages_on_loopback_have_no_sign_in(client):
    r = client.get("/")
    assert r.status_code == 200 and "Sign out" not in r.text


def test_locked_pages_send_to_the_login_form(locked):
    c, _ = locked
    r = c.get("/discover", params={"topic": "community:1"})
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fdiscover%3Ftopic%3Dcommunity%253A1"
    for path in ("/", "/audit?account=x", "/overlap", "/plan", "/upload"):
        assert c.get(path).status_code == 303, path
    assert c.get("/static/web.css").status_code == 200     # the login page's look
    form = c.get("/login", params={"next": "/plan"})
    assert form.status_code == 200
    assert_accessible(form.text)
    assert 'type="password" id="key"' in form.text and 'value="/plan"' in form.text


def csrf_of(c) -> str:
    """The CSRF token the sign-in form carries (its cookie set on the way)."""
    form = c.get("/login")
    m = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert m and c.cookies.get("tc_csrf") == m.group(1)
    return m.group(1)


def test_login_keeps_a_sign_in_token_in_a_cookie_for_the_pages_only(locked):
    c, key = locked
    csrf = csrf_of(c)
    bad = c.post("/login", data={"key": "tc_00000000_wrong", "next": "/plan", "csrf": csrf})
    assert bad.status_code == 401 and 'role="alert"' in bad.text
    assert "tc_session" not in bad.headers.get("set-cookie", "")
    evil = c.post("/login", data={"key": key, "next": "//evil.example/x", "csrf": csrf})
    assert evil.status_code == 303 and evil.headers["location"] == "/"
    r = c.post("/login", data={"key": key, "next": "/discover", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/discover"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("tc_session=") and key not in cookie   # a token, not the key
    low = cookie.lower()
    assert "httponly" in low and "samesite=strict" in low and "max-age=" in low
    page = c.get("/")
    assert page.status_code == 200 and "Find an account" in page.text
    assert "Sign out" in page.text
    # the API never takes the cookie: it wants the key in a header
    assert c.get("/api/v1/runs").status_code == 401
    assert c.get("/api/v1/runs", headers={"X-API-Key": key}).status_code == 200
    out = c.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    c.cookies.clear()
    assert c.get("/").status_code == 303
    # a header key opens the pages too (scripts, tools)
    assert c.get("/", headers={"X-API-Key": key}).status_code == 200


def test_serve_locks_the_pages_off_loopback(tmp_path, monkeypatch):
    import uvicorn

    from trueclout.cli import main
    from trueclout.store import Store
    db = str(tmp_path / "serve.duckdb")
    Store(db).close()
    seen = []

    def fake_run(app, **kw):
        seen.append((kw["host"], app.state.web_auth))
        app.state.service.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    for host in ("127.0.0.1", "0.0.0.0", "::1", "192.0.2.7"):
        assert main(["serve", "--host", host, "--port", "8123", "--db", db]) == 0
    assert seen == [("127.0.0.1", False), ("0.0.0.0", True), ("::1", False),
                    ("192.0.2.7", True)]
