"""The dashboard end to end in a real browser: Playwright (sync API) driving Debian's
chromium at /usr/bin/chromium against the app served by uvicorn on a loopback port.

The flow a marketer follows: search an account → its audit → discover creators for a
topic → compare their audiences → plan a campaign with the budget slider; and upload a
file with its progress bar. Each step asserts on what the page shows (charts drawn by
Plotly, from the app's own copy of Plotly's JavaScript: the browser has no network) and
saves a screenshot to pytest's temporary folder. Skipped, with the reason, when
playwright or chromium is missing (``make test`` installs chromium).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("uvicorn", reason="uvicorn is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (make test installs it with apt-get)",
                allow_module_level=True)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_app(db):
    """The app as served: the API with the dashboard's pages."""
    from trueclout.api.app import create_app
    return create_app(db)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free loopback port, over 3,000 simulated accounts (seed 1); yields
    (base URL, app)."""
    import uvicorn

    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store
    d = tmp_path_factory.mktemp("browser")
    simulate(d / "platform", accounts=3000, seed=1)
    store = Store(d / "web.duckdb")
    ingest(store, [d / "platform"])
    store.close()
    app = _make_app(d / "web.duckdb")
    app.state.service.context()                    # fit detection before the clock runs
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if not th.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    th.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    # the pages must work offline: refuse every request that leaves the app
    base = server[0]
    pg.route(re.compile(r"^(?!" + re.escape(base) + ").*"), lambda route: route.abort())
    # the pages' Content-Security-Policy must not block anything they need
    blocked = []
    pg.on("console", lambda m: blocked.append(m.text)
          if "Content Security Policy" in m.text else None)
    yield pg
    ctx.close()
    assert not blocked, blocked


def _shot(page, folder, name):
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _bought_account(app) -> tuple[str, str]:
    """(spec, handle) of the simulated customer with the most followers."""
    from trueclout.report.influence import bought_accounts
    svc = app.state.service
    ctx = svc.context()
    mask, _ = bought_accounts(ctx)
    deg = ctx.graph.in_degree()
    v = int(np.flatnonzero(mask)[np.argmax(deg[mask])])
    platform, aid = ctx.graph.name(v)
    spec = f"{platform}:{aid}"
    return spec, svc.account(spec)["handle"]


def _number(page, selector) -> float:
    return float(page.inner_text(selector).replace(",", "").rstrip("%"))


def test_search_audit_discover_overlap_plan(page, server, tmp_path):
    base, app = server
    spec, handle = _bought_account(app)
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # search, with the keyboard: the skip link comes first, the search box has focus; the
    # page starts with places to go (top accounts, topics), not an empty box
    page.goto(base + "/")
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.locator("#examples tbody tr").count() >= 3
    assert page.locator("#example-topics a").count() >= 1
    page.keyboard.type("@" + handle)
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    assert f"@{handle}" in page.inner_text("#results")
    _shot(page, shots, "1-search")
    page.click(f"#results a:has-text('Audit @{handle}')")

    # audit: composition with intervals, growth with the bought period shaded, reasons
    page.wait_for_selector("#growth .main-svg")
    page.keyboard.press("Tab")                  # the first stop is the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.inner_text("h1") == f"Audience audit: @{handle}"
    assert 0 < _number(page, "#real-share") < 100
    assert _number(page, "#bought") > 0
    reasons = page.locator("#reasons li").all_inner_texts()
    assert any("bought" in r for r in reasons), reasons
    assert page.locator("#growth .shapelayer path").count() >= 1      # shaded period
    assert page.locator("#composition .errorbar").count() >= 2        # intervals
    assert page.locator("#engagement .main-svg").count() >= 1
    _shot(page, shots, "2-audit")

    # discover: a topic typed as free text gives creators, followers and TrueRank side by
    # side (the communities are offered as suggestions)
    page.click("nav >> text=Discover")
    page.wait_for_selector("#topic")
    labels = [page.locator("#topics option").nth(i).text_content()
              for i in range(page.locator("#topics option").count())]
    assert len(labels) >= 2, labels
    word = labels[0].split(": ", 1)[1].split(",")[0].strip()
    page.fill("#topic", word)
    page.click("button:has-text('Find creators')")
    page.wait_for_selector("#creators")
    rows = page.locator("#creators tbody tr")
    assert rows.count() >= 3
    followers = [float(x.replace(",", "")) for x in
                 page.locator("#creators td.followers").all_inner_texts()]
    truerank = [float(x.replace(",", "")) for x in
                page.locator("#creators td.truerank").all_inner_texts()]
    assert len(followers) == len(truerank) == rows.count()
    assert all(f >= 0 for f in followers) and all(t > 0 for t in truerank)
    picked = page.locator("#creators input[type=checkbox]:checked").count()
    assert picked == 3
    _shot(page, shots, "3-discover")
    page.click("#to-overlap")

    # overlap: a 3 × 3 heat map and the unique reach of each creator, for the topic
    page.wait_for_selector("#overlap-chart .main-svg")
    page.wait_for_selector("#unique-chart .legend")
    assert page.locator("#overlap-chart .heatmaplayer").count() == 1
    assert page.locator("#overlap-table tbody tr").count() == 3
    assert "relevant reach" in page.inner_text("#overlap-table thead")
    union = _number(page, "#union-reach")
    assert union > 0
    # the legend stands clear of the creators' names under the bars
    clash = page.evaluate("""() => {
      const box = e => e.getBoundingClientRect();
      const leg = box(document.querySelector('#unique-chart .legend'));
      return [...document.querySelectorAll('#unique-chart .xtick text')].some(t => {
        const b = box(t);
        return b.left < leg.right && leg.left < b.right && b.top < leg.bottom &&
               leg.top < b.bottom; });
    }""")
    assert not clash
    _shot(page, shots, "4-overlap")
    page.click("#plan-link")

    # plan: the default budget (a share of the candidates' summed cost) buys some of them
    page.wait_for_selector("#chosen")
    top = float(page.get_attribute("#budget", "max"))
    budget = float(page.input_value("#budget"))
    assert 0 < budget < top
    some = page.locator("#chosen tbody tr").count()
    assert 1 <= some < 3
    assert 0 < _number(page, "#spent") <= budget
    part = _number(page, "#unique-reach")
    _shot(page, shots, "5-plan")

    # print: navigation and forms are hidden, the content stays
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    assert page.locator("#plan-form").is_hidden()
    assert page.locator("#chosen").is_visible()
    _shot(page, shots, "6-plan-print")
    page.emulate_media(media="screen")

    # the slider, moved with the keyboard, re-plans: the whole budget buys all three
    page.focus("#budget")
    with page.expect_navigation():
        page.keyboard.press("End")
    page.wait_for_selector("#chosen")
    assert float(page.input_value("#budget")) == top
    assert page.locator("#chosen tbody tr").count() == 3
    full = _number(page, "#unique-reach")
    assert part < full <= union + 1   # the relevant (topic-weighted) part of the union
    assert _number(page, "#spent") <= top
    page.focus("#budget")
    with page.expect_navigation():
        page.keyboard.press("Home")                                  # no budget at all
    page.wait_for_selector("#chosen")
    assert float(page.input_value("#budget")) == 0
    assert "The budget buys no creator" in page.inner_text("#chosen")
    assert "below the cheapest" in page.inner_text("#budget-note")
    # a budget beyond every candidate is planned as typed and explained, not cut
    page.fill("#budget-number", str(int(10 * top)))
    with page.expect_navigation():
        page.click("#plan-submit")
    page.wait_for_selector("#chosen")
    assert float(page.input_value("#budget-number")) == int(10 * top)
    assert "covers every candidate" in page.inner_text("#budget-note")
    assert page.locator("#chosen tbody tr").count() == 3
    # the marketer's own prices, per 1,000 followers
    rows = page.input_value("#prices").strip().splitlines()[1:]
    page.fill("#prices", "account,cpm\n" + "\n".join(f"{r.split(',')[0]},5" for r in rows))
    page.fill("#budget-number", "1000000")
    with page.expect_navigation():
        page.click("#plan-submit")
    page.wait_for_selector("#chosen")
    assert "per 1,000 followers" in page.inner_text("#prices-help")
    assert len(list(shots.glob("*.png"))) == 6


def _upload_routes(app) -> bool:
    from trueclout.api.app import all_routes
    return any(getattr(r, "path", "") == "/api/v1/ingest" for r in all_routes(app))


def test_upload_with_progress(page, server, tmp_path):
    base, app = server
    page.goto(base + "/upload")
    assert page.locator("label[for=file]").inner_text() == "Data file"
    assert page.locator("#progress").get_attribute("value") == "0"
    if not _upload_routes(app):
        pytest.skip("the API has no upload endpoint yet (/api/v1/ingest)")
    from trueclout.api.auth import create_key
    key = create_key(app.state.service.cursor_store(), "admin")
    data = tmp_path / "follows.txt"
    data.write_text("".join(f"web{i} web{(i * 7 + 1) % 50}\n" for i in range(50)))
    page.set_input_files("#file", str(data))
    page.fill("#key", key)
    page.click("#upload-submit")
    # a function, not an expression string: the page's CSP forbids eval, which Playwright
    # would use to poll an expression
    page.wait_for_function("() => document.getElementById('progress').value >= 100",
                           timeout=30_000)
    assert page.inner_text("#status") == "Done: 50 rows loaded, 0 rejected"
    assert page.locator("#result").is_visible()
    _shot(page, tmp_path, "7-upload")
    # the new accounts are searchable (the service rebuilt its context after the load)
    page.click("nav >> text=Search")
    page.fill("#q", "web4")
    page.press("#q", "Enter")
    page.wait_for_selector("#results")
    assert page.locator("#results tbody tr").count() == 11          # web4, web40..web49


def test_upload_without_a_key_says_why(page, server, tmp_path):
    base, app = server
    if not _upload_routes(app):
        pytest.skip("the API has no upload endpoint yet (/api/v1/ingest)")
    page.goto(base + "/upload")
    data = tmp_path / "f.txt"
    data.write_text("a b\n")
    page.set_input_files("#file", str(data))
    page.fill("#key", "tc_00000000_wrong")
    page.click("#upload-submit")
    page.wait_for_selector("#status.error")
    assert "Failed" in page.inner_text("#status")


def test_first_page_shows_progress_while_the_scores_are_built(browser, tmp_path,
                                                             held_scores):
    """A server whose scores are still being built answers every page with a progress
    page that reloads itself, then the page asked for; /health answers meanwhile."""
    import httpx
    import uvicorn

    from conftest import simulated_store
    store = simulated_store(tmp_path, 1500, 7)
    db = store.path
    store.close()
    release = held_scores
    app = _make_app(db)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{port}"
    ctx = browser.new_context()
    try:
        deadline = time.monotonic() + 30
        while not srv.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        t0 = time.monotonic()
        assert httpx.get(f"{base}/api/v1/health", timeout=5).json()["ready"] is False
        assert time.monotonic() - t0 < 2
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(base + "/discover?topic=community:0")
        assert "Preparing the scores" in pg.inner_text("h1")
        assert pg.locator("#preparing[aria-live=polite]").count() == 1
        release.set()
        pg.wait_for_selector("#creators")          # the page reloaded by itself
        assert pg.locator("#creators tbody tr").count() >= 1
    finally:
        release.set()
        ctx.close()
        srv.should_exit = True
        th.join(30)
        app.state.service.close()
