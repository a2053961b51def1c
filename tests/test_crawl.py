"""Crawls of Bluesky and Mastodon against recorded-format fixtures: paging, rows, dedup,
rate limits (in order, through a fake clock), stop rules, partial lists, and resume after
a crash. No test touches the network: fake servers behind ``httpx.MockTransport``, and one
on loopback for the crash test in a subprocess."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from crawl_contents import contents
from trueclout.cli import main
from trueclout.crawl import CrawlStopped, crawl_bluesky, crawl_mastodon
from trueclout.crawl import http as crawl_http
from trueclout.crawl.http import FakeClock, FetchError, HttpClient, RateLimited
from trueclout.errors import UsageError
from trueclout.store import Store

FIX = Path(__file__).parent / "fixtures" / "crawl"
BSKY = json.loads((FIX / "bluesky.json").read_text())
MASTO = json.loads((FIX / "mastodon.json").read_text())
ALICE = BSKY["did"]


def _response(spec: dict) -> httpx.Response:
    return httpx.Response(spec["status"], headers=spec.get("headers", {}), json=spec["body"])


def _slice(items: list, cursor: str | None, limit: int) -> tuple[list, str | None]:
    start = int(cursor[1:]) if cursor else 0
    end = start + limit
    return items[start:end], (f"c{end:04d}" if end < len(items) else None)


class FakeBluesky:
    """The AppView, the PLC directory and one PDS, serving the fixture data.

    ``faults[(method, cursor)]`` is a list of error responses served (once each) before
    the real one; ``overrides[(method, cursor)]`` replaces a page's body; ``interrupt``
    raises KeyboardInterrupt on that request number of the list methods.
    """

    LISTS = {"app.bsky.graph.getFollowers": "followers", "app.bsky.graph.getFollows": "follows"}

    def __init__(self, data: dict = BSKY) -> None:
        self.data = data
        self.handles = {v["handle"]: d for d, v in data["profiles"].items()}
        self.faults: dict = {}
        self.overrides: dict = {}
        self.calls: list[tuple[str, dict]] = []
        self.list_requests = 0
        self.interrupt: int | None = None
        self.on_list_request = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.host == "plc.directory":
            doc = self.data["did_docs"].get(url.path.lstrip("/"))
            return httpx.Response(200, json=doc) if doc else httpx.Response(
                404, json={"message": "DID not registered"})
        method = url.path.split("/xrpc/", 1)[1]
        params = dict(url.params)
        self.calls.append((method, {**params, "actors": url.params.get_list("actors")}))
        cursor = params.get("cursor")
        limit = int(params.get("limit", 50))
        if method in self.LISTS or method == "app.bsky.feed.getAuthorFeed":
            self.list_requests += 1
            if self.on_list_request:
                self.on_list_request(self.list_requests)
            if self.interrupt is not None and self.list_requests == self.interrupt:
                raise KeyboardInterrupt
        key = (method, cursor)
        if self.faults.get(key):
            return _response(self.faults[key].pop(0))
        if key in self.overrides:
            return httpx.Response(200, json=self.overrides[key])
        d = self.data
        if any(a.startswith("@") for a in url.params.get_list("actors")
               + url.params.get_list("actor")):
            return _response(self.data["errors"]["invalid_actor"])   # as the AppView does
        if method == "app.bsky.actor.getProfiles":
            actors = url.params.get_list("actors")
            return httpx.Response(200, json={"profiles": [
                d["profiles"][self.handles.get(a, a)] for a in actors
                if self.handles.get(a, a) in d["profiles"]]})
        if method in self.LISTS:
            key = self.LISTS[method]
            actor = self.handles.get(params["actor"], params["actor"])
            items, nxt = _slice(d["lists"][key].get(actor, []), cursor, limit)
            body = {"subject": d["profiles"][actor], key: items}
        elif method == "app.bsky.feed.getAuthorFeed":
            items, nxt = _slice(d["feeds"].get(params["actor"], []), cursor, limit)
            body = {"feed": items}
        elif method in ("app.bsky.feed.getLikes", "app.bsky.feed.getRepostedBy"):
            key = "likes" if method.endswith("getLikes") else "repostedBy"
            src = d["likes"] if key == "likes" else d["reposts"]
            items, nxt = _slice(src.get(params["uri"], []), cursor, limit)
            body = {"uri": params["uri"], key: items}
        elif method == "com.atproto.repo.listRecords":
            assert url.host == "pds.example.test"
            items, nxt = _slice(d["repos"].get(params["repo"], []), cursor, limit)
            body = {"records": items}
        else:
            return httpx.Response(400, json={"error": "MethodNotImplemented"})
        if nxt:
            body["cursor"] = nxt
        return httpx.Response(200, json=body)


def bluesky_later(data: dict = BSKY) -> dict:
    """The fixture's accounts a day later (``data["later"]``): unfollows, a deleted post, a
    rename, new counts."""
    d = copy.deepcopy(data)
    later = d["later"]
    gone = set(later["unfollowed"])
    for key in ("followers", "follows"):
        for did, items in d["lists"][key].items():
            d["lists"][key][did] = [v for v in items if v["did"] not in gone or did != ALICE
                                    or key != "followers"]
    dead = set(later["deleted_posts"])
    for did, items in d["feeds"].items():
        d["feeds"][did] = [i for i in items if i.get("post", {}).get("uri") not in dead]
    views = [d["profiles"][x] for x in d["profiles"]] + [
        v for lists in d["lists"].values() for items in lists.values() for v in items]
    for v in views:
        v.update(later["renamed"].get(v["did"], {}))
        v.update(later["counts"].get(v["did"], {}) if "followersCount" in v else {})
    return d


def mastodon_later(data: dict = MASTO) -> dict:
    """The Mastodon fixture a day later (``data["later"]``), as :func:`bluesky_later`."""
    d = copy.deepcopy(data)
    later = d["later"]
    server = d["server"]

    def acct(obj):
        return obj["acct"] if "@" in obj["acct"] else f"{obj['acct']}@{server}"
    gone = set(later["unfollowed"])
    d["followers"] = [p for p in d["followers"] if acct(p) not in gone]
    dead = set(later["deleted_posts"])
    d["statuses"] = [st for st in d["statuses"] if st["uri"] not in dead]
    for obj in d["followers"] + d["following"] + [d["account"]]:
        obj.update(later["renamed"].get(acct(obj), {}))
    d["account"].update(later["counts"][d["target"]])
    return d


class FakeMastodon:
    """A Mastodon server (and a second one, for ``--via``) serving the fixture data."""

    def __init__(self, data: dict = MASTO, hide: bool = False) -> None:
        self.data = data
        self.hide = hide
        self.calls: list[str] = []
        #: ``faults[path]``: error responses served (once each) before the real one
        self.faults: dict[str, list] = {}

    def _page(self, url: httpx.URL, items: list, limit_max: int) -> httpx.Response:
        limit = min(int(url.params.get("limit", 40)), limit_max)
        start = int(url.params.get("max_id", 0))
        end = start + limit
        headers = {}
        if end < len(items):
            nxt = url.copy_with(params={"limit": str(limit), "max_id": str(end)})
            headers["Link"] = (f'<{nxt}>; rel="next", '
                               f'<{url.copy_with(params={"since_id": "1"})}>; rel="prev"')
        return httpx.Response(200, json=items[start:end], headers=headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.calls.append(str(url))
        d = self.data
        path = url.path
        if self.faults.get(path):
            return _response(self.faults[path].pop(0))
        if path == "/api/v1/accounts/lookup":
            acct = url.params["acct"]
            if acct in ("ann", d["target"]):
                return httpx.Response(200, json=d["account"] if url.host == d["server"] else
                                      {**d["account"], "acct": d["target"], "id": "77"})
            return httpx.Response(404, json={"error": "Record not found"})
        parts = path.split("/")
        if path.endswith("/followers"):
            return self._page(url, [] if self.hide else d["followers"], 80)
        if path.endswith("/following"):
            return self._page(url, d["following"], 80)
        if path.endswith("/statuses") and parts[3] == "accounts":
            return self._page(url, d["statuses"], 40)
        if path.endswith("/favourited_by"):
            return self._page(url, d["favourited_by"].get(parts[4], []), 80)
        if path.endswith("/reblogged_by"):
            return self._page(url, d["reblogged_by"].get(parts[4], []), 80)
        return httpx.Response(404, json={"error": "Record not found"})


#: The crawls' clock: after every date of the recorded responses (2023-12 to 2024-03), as
#: a real crawl's time is after the records it fetches (later dates are refused).
CRAWL_TIME = 1_720_000_000.0   # 2024-07-03


def _kw(fake, clock=None):
    clock = clock or FakeClock(CRAWL_TIME)
    return {"transport": httpx.MockTransport(fake), "clock": clock, "sleep": clock.sleep}


def interrupted(fake, k: int):
    """``fake`` as a transport handler that raises KeyboardInterrupt (Ctrl-C) on its k-th
    request."""
    n = {"i": 0}

    def handler(request):
        n["i"] += 1
        if n["i"] == k:
            raise KeyboardInterrupt
        return fake(request)
    return handler


def _count(store, table):
    return store.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- Bluesky ------------------------------------------------------------------------------
def test_bluesky_followers_and_follows_pages_rows_and_counts():
    fake = FakeBluesky()
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", **_kw(fake))
        assert summary["status"] == "done" and not summary["stopped_early"]
        tasks = summary["tasks"]
        assert tasks[f"followers:{ALICE}"]["pages"] == 3            # 100 + 100 + 30
        assert tasks[f"followers:{ALICE}"]["items"] == 230
        assert tasks[f"follows:{ALICE}"]["items"] == 60
        assert _count(s, "follows") == 290 and _count(s, "accounts") == 261
        # follow times are unknown without --follow-times: NULL, never guessed
        assert s.con.execute("SELECT count(*) FROM follows WHERE created_at IS NOT NULL"
                             ).fetchone()[0] == 0
        # counts come from getProfiles, 25 actors per call at most; pages of 100 at most
        gp = [c for m, c in fake.calls if m == "app.bsky.actor.getProfiles"]
        assert max(len(c["actors"]) for c in gp) == 25
        assert all(int(c["limit"]) <= 100 for m, c in fake.calls if "graph.get" in m)
        row = s.con.execute("SELECT handle, followers_count, following_count, posts_count "
                            "FROM accounts WHERE account_id = ?", [ALICE]).fetchone()
        assert row == ("alice.test", 230, 60, 5)
        # every account got a profile snapshot with its counts
        assert _count(s, "profile_snapshots") == 261
        bots = s.con.execute("SELECT count(*) FROM accounts WHERE declared_bot").fetchone()[0]
        assert bots == sum(1 for v in BSKY["profiles"].values()
                           if any(x.get("val") == "bot" for x in v["labels"]))
        # unknown fields are kept, and the raw JSON too
        extra = json.loads(s.con.execute("SELECT extra FROM accounts WHERE account_id = ?",
                                          [ALICE]).fetchone()[0])
        assert "banner" in extra and "associated" in extra
        assert _count(s, "raw_records") >= 290


def test_recrawl_adds_no_duplicates_but_appends_snapshots():
    fake = FakeBluesky()
    clock = FakeClock(CRAWL_TIME)
    with Store(":memory:") as s:
        crawl_bluesky(s, "alice.test", **_kw(fake, clock))
        first = contents(s)
        clock.sleep(86400.0)                                       # a day later
        summary = crawl_bluesky(s, "alice.test", **_kw(fake, clock))
        second = contents(s)
        assert summary["crawl_id"] == 2
        assert second["follows"] == first["follows"] and second["accounts"] == first["accounts"]
        assert summary["rows_added"].get("follows", 0) == 0
        assert summary["rows_added"]["new_accounts"] == 0
        assert _count(s, "profile_snapshots") == 2 * 261          # growth builds up


def test_bluesky_posts_engagement_unknown_type_and_malformed_item():
    fake = FakeBluesky()
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", engagement=True, **_kw(fake))
        assert summary["status"] == "done"
        assert summary["unknown_record_types"] == {"app.bsky.feed.poll": 1}
        assert summary["rejected"] == 1                  # the feed item without a post
        assert _count(s, "posts") == 6                   # 5 own + the one alice reposted
        kinds = dict(s.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1"
                                   ).fetchall())
        assert kinds == {"like": 30, "repost": 11, "reply": 1, "mention": 1, "quote": 1}
        assert s.con.execute("SELECT count(*) FROM interactions WHERE kind = 'like' "
                             "AND created_at IS NULL").fetchone()[0] == 0
        post = s.con.execute("SELECT hashtags, lang FROM posts WHERE post_id LIKE "
                             "'%3kpost0'").fetchone()
        assert post == (["trueclout"], "en")
        assert s.con.execute("SELECT count(*) FROM raw_records WHERE body LIKE "
                             "'%app.bsky.feed.poll%'").fetchone()[0] == 1
        assert summary["tasks"][f"posts:{ALICE}"]["items"] == 8


def test_bluesky_follow_times_from_the_followers_own_records():
    fake = FakeBluesky()
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", followers=True, follows=True,
                                follow_times=True, max_items=3, **_kw(fake))
        assert summary["status"] == "done"
        times = s.con.execute(
            "SELECT s.account_id, f.created_at FROM follows f JOIN accounts s ON s.uid = f.src "
            "JOIN accounts d ON d.uid = f.dst WHERE d.account_id = ? ORDER BY 1",
            [ALICE]).fetchall()
        assert len(times) == 3
        assert [t.strftime("%m-%d %H:%M") for _, t in times] == [
            "02-10 08:30", "02-11 08:30", "02-12 08:30"]
        # the third follower's record is on its second page of records
        assert summary["tasks"][f"follow_time:{times[2][0]}"]["pages"] == 2
        # alice's own follows got their times from her repository
        assert s.con.execute("SELECT count(*) FROM follows f JOIN accounts a ON a.uid = f.src "
                             "WHERE a.account_id = ? AND f.created_at IS NOT NULL",
                             [ALICE]).fetchone()[0] == 3
        assert summary["tasks"][f"followers:{ALICE}"]["note"] == "reached --max 3"


def test_unknown_account_is_a_clear_error():
    with Store(":memory:") as s:
        with pytest.raises(Exception, match="not found"):
            crawl_bluesky(s, "nobody.test", **_kw(FakeBluesky()))


# -- rate limits, retries ------------------------------------------------------------------
def _client(responses, clock, **kw):
    it = iter(responses)

    def handler(request):
        r = next(it)
        if isinstance(r, Exception):
            raise r
        return _response(r) if isinstance(r, dict) else r
    import random
    return HttpClient(transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep,
                      rng=random.Random(0), **kw)


ALL = {"followers": True, "follows": True, "posts": True}
OK = {"status": 200, "headers": {}, "body": {"ok": True}}
ERR = BSKY["errors"]


def test_retry_after_wins_over_reset_headers_which_win_over_backoff():
    clock = FakeClock(1_700_000_000.0)
    c = _client([ERR["rate_limited"], OK, ERR["rate_limited_reset_only"], OK,
                 ERR["rate_limited_bare"], OK], clock)
    for _ in range(3):
        assert c.get_json("https://h/x", endpoint="e") == {"ok": True}
    assert [w[2] for w in c.waits] == ["retry-after", "ratelimit-reset", "backoff"]
    assert c.waits[0][1] == 7.0                      # Retry-After, not the 300 s reset
    assert c.waits[1][1] == pytest.approx(23.0)      # reset at +30 s, 7 s already slept
    assert 0.5 <= c.waits[2][1] <= 1.0               # base 1 s with equal jitter
    assert clock.slept == [w[1] for w in c.waits]


def test_backoff_doubles_is_capped_and_gives_up_after_max_retries():
    clock = FakeClock()
    c = _client([ERR["bad_gateway"]] * 4 + [httpx.ReadTimeout("slow")] + [OK], clock,
                backoff_base_s=1.0, backoff_cap_s=3.0, max_retries=5)
    assert c.get_json("https://h/x", endpoint="e") == {"ok": True}
    delays = [w[1] for w in c.waits]
    assert len(delays) == 5 and all(w[2] == "backoff" for w in c.waits)
    for k, d in enumerate(delays):
        full = min(3.0, 2.0 ** k)
        assert full / 2 <= d <= full
    c = _client([ERR["bad_gateway"]] * 3, FakeClock(), max_retries=2)
    with pytest.raises(FetchError, match="after 3 tries") as e:
        c.get("https://h/x", endpoint="e")
    assert e.value.retryable and c.requests == 3


def test_limits_are_tracked_per_endpoint_and_long_waits_stop():
    clock = FakeClock(1_700_000_000.0)
    spent = {"status": 200, "body": {}, "headers": {"ratelimit-remaining": "0",
                                                    "ratelimit-reset": "1700000060"}}
    c = _client([spent, OK, OK], clock)
    c.get("https://h/a", endpoint="a")
    c.get("https://h/b", endpoint="b")               # another endpoint: no wait
    assert c.waits == []
    c.get("https://h/a", endpoint="a")               # the spent one waits for its reset
    assert c.waits == [("a", 60.0, "ratelimit-reset")]
    masto = {"status": 429, "body": {"error": "Too many requests"},
             "headers": {"X-RateLimit-Remaining": "0",
                         "X-RateLimit-Reset": "2023-11-14T22:18:20.000Z"}}
    c = _client([masto, OK], FakeClock(1_700_000_000.0))
    c.get("https://h/a", endpoint="a")
    assert c.waits == [("a", 300.0, "ratelimit-reset")]
    c = _client([{**ERR["rate_limited"], "headers": {"retry-after": "3600"}}], FakeClock(),
                max_wait_s=900)
    with pytest.raises(RateLimited):
        c.get("https://h/a", endpoint="a")
    c = _client([ERR["not_found"], OK], FakeClock())
    with pytest.raises(FetchError, match="Profile not found") as e:
        c.get("https://h/a", endpoint="a")
    assert not e.value.retryable and c.requests == 1


def test_crawl_rides_out_429_and_5xx_in_order():
    fake = FakeBluesky()
    fake.faults[("app.bsky.graph.getFollowers", "c0100")] = [ERR["rate_limited"],
                                                             ERR["bad_gateway"]]
    clock = FakeClock(1_700_000_000.0)
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", followers=True, **_kw(fake, clock))
        assert summary["status"] == "done" and _count(s, "follows") == 230
        assert summary["rate_limit_waits"] == 2
        assert clock.slept[0] == 7.0 and 1.0 <= clock.slept[1] <= 2.0   # 2nd retry: 2 s


# -- stop rules ----------------------------------------------------------------------------
def test_repeated_cursor_stops_the_list():
    fake = FakeBluesky()
    page = _slice(BSKY["lists"]["followers"][ALICE], "c0200", 100)[0]
    fake.overrides[("app.bsky.graph.getFollowers", "c0200")] = {
        "subject": BSKY["profiles"][ALICE], "followers": page, "cursor": "c0100"}
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", followers=True, **_kw(fake))
        t = summary["tasks"][f"followers:{ALICE}"]
        assert t["done"] and t["pages"] == 3 and "repeated cursor" in t["note"]
        assert summary["loops"] == [f"followers:{ALICE}"]
        assert _count(s, "follows") == 230
        assert sum(1 for m, _ in fake.calls if m == "app.bsky.graph.getFollowers") == 3


def test_empty_page_stops_the_list():
    fake = FakeBluesky()
    fake.overrides[("app.bsky.graph.getFollowers", "c0100")] = {
        "subject": BSKY["profiles"][ALICE], "followers": [], "cursor": "c0200"}
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", followers=True, **_kw(fake))
        t = summary["tasks"][f"followers:{ALICE}"]
        assert t["note"] == "empty page" and t["pages"] == 2 and t["items"] == 100
        assert _count(s, "follows") == 100


def test_malformed_follower_is_rejected_and_the_rest_loaded():
    data = copy.deepcopy(BSKY)
    data["lists"]["followers"][ALICE].insert(5, {"handle": "ghost.test", "labels": "x"})
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", followers=True, **_kw(FakeBluesky(data)))
        assert summary["status"] == "done" and summary["rejected"] == 1
        assert _count(s, "follows") == 230
        reason = s.con.execute("SELECT reason FROM rejects").fetchone()[0]
        assert "without a valid did" in reason


def test_failed_item_is_skipped_and_a_failed_target_list_stops_resumably():
    fake = FakeBluesky()
    uri = f"at://{ALICE}/app.bsky.feed.post/3kpost2"
    orig = fake.__call__

    def one_post_gone(request):
        if request.url.params.get("uri") == uri and request.url.path.endswith("getLikes"):
            return httpx.Response(400, json={"error": "NotFound", "message": "Post not found"})
        return orig(request)
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", engagement=True, **_kw(one_post_gone))
        assert summary["status"] == "done" and summary["failed_items"] >= 1
        assert summary["tasks"][f"likes:{uri}"]["note"].startswith("failed:")
        assert s.con.execute("SELECT count(*) FROM interactions WHERE kind = 'like'"
                             ).fetchone()[0] == 30 - 6
    fake = FakeBluesky()
    fake.faults[("app.bsky.graph.getFollowers", "c0200")] = [ERR["bad_gateway"]] * 9
    with Store(":memory:") as s:
        with pytest.raises(CrawlStopped, match="--resume") as e:
            crawl_bluesky(s, "alice.test", followers=True, **_kw(fake))
        assert e.value.summary["stopped_early"] and e.value.summary["pages"] == 3
        assert s.get_crawl(1)["status"] == "stopped"
        assert "502" in s.get_crawl(1)["message"]
        done = crawl_bluesky(s, "alice.test", resume=True, **_kw(FakeBluesky()))
        assert done["resumed"] and done["pages"] == 1 and _count(s, "follows") == 230


# -- resume after a crash ------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference_bluesky():
    with Store(":memory:") as s:
        crawl_bluesky(s, "alice.test", **ALL, **_kw(FakeBluesky()))
        return contents(s)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_interrupted_crawl_resumes_to_the_same_store(reference_bluesky, k):
    fake = FakeBluesky()
    fake.interrupt = k
    with Store(":memory:") as s:
        with pytest.raises(KeyboardInterrupt):
            crawl_bluesky(s, "alice.test", **ALL, **_kw(fake))
        crawl = s.get_crawl(1)
        assert crawl["status"] == "stopped" and crawl["message"] == "interrupted"
        before = _count(s, "follows")
        assert before == {1: 0, 3: 200, 5: 290}[k]
        summary = crawl_bluesky(s, "alice.test", resume=True, **_kw(FakeBluesky()))
        assert summary["resumed"] and summary["crawl_id"] == 1
        assert contents(s) == reference_bluesky
        assert s.get_crawl(1)["status"] == "done"


class _Loopback(BaseHTTPRequestHandler):
    fake: FakeBluesky = None  # set per server

    def do_GET(self):  # noqa: N802 - http.server's name
        req = httpx.Request("GET", f"http://{self.headers['Host']}{self.path}")
        resp = self.fake(req)
        body = resp.content
        self.send_response(resp.status_code)
        for k, v in resp.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client was killed
            pass

    def log_message(self, *a):
        pass


def test_killed_subprocess_crawl_resumes_exactly(tmp_path):
    """kill -9 a real ``trueclout crawl`` while it waits for page 5; --resume finishes.
    Both crawls run on the real clock (each account gets one snapshot per crawl)."""
    with Store(":memory:") as ref:
        crawl_bluesky(ref, "alice.test", **ALL, transport=httpx.MockTransport(FakeBluesky()))
        want = contents(ref)
    fake = FakeBluesky()
    hit, release = threading.Event(), threading.Event()

    def on_list(n):
        if n == 5:                                   # followers 1-3 and follows 1 saved
            hit.set()
            release.wait(30)
    fake.on_list_request = on_list
    handler = type("H", (_Loopback,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    db = tmp_path / "crawl.duckdb"
    env = {**os.environ, "TRUECLOUT_BLUESKY_APPVIEW": f"http://127.0.0.1:{server.server_port}"}
    proc = subprocess.Popen([sys.executable, "-m", "trueclout.cli", "crawl", "bluesky",
                             "alice.test", "--followers", "--follows", "--posts",
                             "--db", str(db), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert hit.wait(60), proc.communicate(timeout=5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    assert proc.returncode == -signal.SIGKILL
    with Store(db) as s:
        assert s.get_crawl(1)["status"] == "running"          # killed: never marked
        assert _count(s, "follows") == 290
        summary = crawl_bluesky(s, "alice.test", resume=True,
                                transport=httpx.MockTransport(FakeBluesky()))
        assert summary["pages"] == 1                           # only the feed page left
        assert contents(s) == want


# -- Mastodon ------------------------------------------------------------------------------
def test_mastodon_crawl_by_link_header():
    fake = FakeMastodon()
    with Store(":memory:") as s:
        summary = crawl_mastodon(s, "ann@m.example.test", engagement=True, **ALL,
                                 **_kw(fake))
        assert summary["status"] == "done" and summary["partial"] == []
        t = summary["tasks"]
        assert t["followers:ann@m.example.test"]["pages"] == 3       # 80 + 80 + 10
        assert t["followers:ann@m.example.test"]["items"] == 170
        assert t["follows:ann@m.example.test"]["items"] == 40
        assert all("limit=80" in u or "max_id" in u for u in fake.calls if "follow" in u)
        assert _count(s, "follows") == 210
        ids = {r[0] for r in s.con.execute("SELECT account_id FROM accounts").fetchall()}
        assert "u003@other.example.test" in ids and "u001@m.example.test" in ids
        row = s.con.execute("SELECT followers_count, description, protected, extra "
                            "FROM accounts WHERE account_id = 'ann@m.example.test'").fetchone()
        assert row[0] == 170 and row[1] == "I toot & boost, number 0" and row[2] is True
        assert json.loads(row[3])["fields"][0]["name"] == "web"
        kinds = dict(s.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1"
                                   ).fetchall())
        assert kinds == {"like": 6, "repost": 4, "reply": 1, "mention": 1}
        assert _count(s, "posts") == 4
        assert s.con.execute("SELECT count(*) FROM follows WHERE created_at IS NOT NULL"
                             ).fetchone()[0] == 0


def test_mastodon_lists_from_another_server_or_hidden_are_partial():
    with Store(":memory:") as s:
        summary = crawl_mastodon(s, "ann@m.example.test", via="other.example.test",
                                 **_kw(FakeMastodon()))
        assert summary["partial"] == ["followers:ann@m.example.test",
                                      "follows:ann@m.example.test"]
        assert s.crawl_tasks(1)["followers:ann@m.example.test"]["partial"]
    with Store(":memory:") as s:                      # a resumed crawl keeps its server
        fake = FakeMastodon()
        flaky = interrupted(fake, 3)
        with pytest.raises(KeyboardInterrupt):
            crawl_mastodon(s, "ann@m.example.test", via="other.example.test", **_kw(flaky))
        fake.calls.clear()
        summary = crawl_mastodon(s, "ann@m.example.test", resume=True, **_kw(fake))
        assert all("other.example.test" in u for u in fake.calls)
        assert "followers:ann@m.example.test" in summary["partial"]
    with Store(":memory:") as s:
        summary = crawl_mastodon(s, "ann@m.example.test", followers=True,
                                 **_kw(FakeMastodon(hide=True)))
        t = summary["tasks"]["followers:ann@m.example.test"]
        assert t["partial"] and "hides" in t["note"]


def test_mastodon_resume_after_interrupt_matches():
    with Store(":memory:") as ref:
        crawl_mastodon(ref, "ann@m.example.test", **ALL, **_kw(FakeMastodon()))
        want = contents(ref)
    fake = FakeMastodon()
    flaky = interrupted(fake, 4)
    with Store(":memory:") as s:
        with pytest.raises(KeyboardInterrupt):
            crawl_mastodon(s, "ann@m.example.test", **ALL, **_kw(flaky))
        crawl_mastodon(s, "ann@m.example.test", resume=True, **_kw(FakeMastodon()))
        assert contents(s) == want


def test_bad_arguments():
    with Store(":memory:") as s:
        with pytest.raises(UsageError, match="user@server"):
            crawl_mastodon(s, "ann")
        with pytest.raises(UsageError, match="--depth"):
            crawl_bluesky(s, "a.test", depth=3)
        with pytest.raises(UsageError, match="no unfinished"):
            crawl_bluesky(s, "a.test", resume=True, **_kw(FakeBluesky()))


# -- CLI -----------------------------------------------------------------------------------
def test_cli_crawl_json_summary_and_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(FakeBluesky()))
    db = str(tmp_path / "c.duckdb")
    assert main(["crawl", "bluesky", "alice.test", "--followers", "--max", "150",
                 "--db", db, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["items"] == 151 and summary["stopped_early"] is False
    assert summary["rows_added"]["follows"] == 150 and summary["pages"] == 3
    assert main(["crawl", "bluesky", "alice.test", "--resume", "--db", db]) == 2
    assert "no unfinished" in capsys.readouterr().err
    assert main(["crawl", "mastodon", "ann", "--db", db]) == 2
    fake = FakeBluesky()
    fake.faults[("app.bsky.graph.getFollowers", None)] = [
        {**ERR["rate_limited"], "headers": {"retry-after": "99999"}}]
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(fake))
    assert main(["crawl", "bluesky", "alice.test", "--db", db, "--json"]) == 1
    cap = capsys.readouterr()
    assert json.loads(cap.out)["stopped_early"] is True and "--resume" in cap.err
    assert main(["crawl", "bluesky", "alice.test", "--resume", "--db", db]) == 0
    assert "(resumed)" in capsys.readouterr().out
    for cmd in (["crawl", "--help"], ["crawl", "bluesky", "--help"],
                ["crawl", "mastodon", "--help"]):
        assert main(cmd) == 0
    capsys.readouterr()


# -- store: atomic checkpoints, the id hook -------------------------------------------------
def test_page_rows_and_cursor_commit_together(monkeypatch):
    from trueclout.ingest.base import Chunk
    from trueclout.model import conform
    seen_inside = []

    def boom(self, table, ing):
        seen_inside.append(self.con.execute("SELECT count(*) FROM crawl_cursors").fetchone()[0])
        raise RuntimeError("disk full")
    with Store(":memory:") as s:
        cid = s.create_crawl("bluesky", "a.test")
        b = conform("follows", {"platform": ["bluesky"], "src": ["b"], "dst": ["a"]}, 1)
        monkeypatch.setattr(Store, "_move", boom)
        with pytest.raises(RuntimeError):
            s.save_crawl_page(cid, "followers:a", [Chunk("follows", b, "p1")], cursor="c1",
                              pages=1, items=1, raw=[("follower", "b", "{}")],
                              platform="bluesky")
        assert seen_inside == [1]            # written inside the page's transaction ...
        assert s.crawl_tasks(cid) == {}      # ... and rolled back with it
        assert _count(s, "follows") == 0 and _count(s, "raw_records") == 0


def test_id_map_hook_maps_every_account_id_and_drops_raw_json():
    import hashlib

    def hide(column, value):
        return "h:" + hashlib.sha256(value.encode()).hexdigest()[:16]
    with Store(":memory:") as s:
        crawl_bluesky(s, "alice.test", engagement=True, followers=True, id_map=hide,
                      **_kw(FakeBluesky()))
        ids = [r[0] for r in s.con.execute("SELECT account_id FROM accounts").fetchall()]
        assert ids and all(i.startswith("h:") for i in ids)
        assert s.con.execute("SELECT count(*) FROM accounts WHERE handle LIKE '%.test' "
                             "OR url LIKE '%.test%'").fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM posts WHERE post_id LIKE '%did:%' OR "
                             "reply_to LIKE '%did:%'").fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM interactions WHERE post_id LIKE '%did:%'"
                             ).fetchone()[0] == 0
        assert _count(s, "raw_records") == 0
        # follow-up lists still work: the crawl maps its own ids back in memory
        assert s.con.execute("SELECT count(*) FROM interactions WHERE kind = 'like'"
                             ).fetchone()[0] == 30


def test_depth_2_crawls_the_lists_of_the_accounts_found():
    with Store(":memory:") as s:
        summary = crawl_bluesky(s, "alice.test", depth=2, max_items=2, **_kw(FakeBluesky()))
        assert summary["status"] == "done"
        around = {t.split(":", 1)[1] for t in summary["tasks"]
                  if t.startswith(("followers:", "follows:"))} - {ALICE}
        assert len(around) == 2                          # --max 2 applies to them too
        assert all(summary["tasks"][f"followers:{a}"]["note"] == "empty page" for a in around)


# -- privacy: pseudonymised crawls ----------------------------------------------------------
def _both_platforms():
    """One transport for the fake Bluesky hosts and the fake Mastodon servers."""
    bsky, masto = FakeBluesky(), FakeMastodon()

    def handler(request):
        return masto(request) if request.url.host.endswith("example.test") and \
            "/api/v1/" in request.url.path else bsky(request)
    return bsky, handler


def _leaks(store) -> dict[str, int]:
    """Text columns holding a raw name of the fixtures, hex digests left out: a content
    hash is 64 hex digits, where a five-digit Mastodon id turns up by chance now and
    then, and a digest holds no text of the data."""
    return {k: v for k, v in store.text_columns_containing(_raw_names()).items()
            if k != "ingests.content_hash"}


def _raw_names() -> list[str]:
    """Every handle, DID, account id, name and post id of the fixtures (none is a
    substring of a pseudonym: each holds a character base32 lacks, or is long)."""
    out = set()
    for did, v in BSKY["profiles"].items():
        out |= {did, v["handle"], v["displayName"]}
    for feed in BSKY["feeds"].values():
        out |= {it["post"]["uri"] for it in feed if "post" in it}
    out |= {uri for uri in BSKY["likes"]}
    for acc in [MASTO["account"], *MASTO["followers"], *MASTO["following"]]:
        user, _, home = acc["acct"].partition("@")
        out |= {f"{user}@{home or MASTO['server']}", acc["url"], acc["uri"],
                acc["display_name"]}
        if len(acc["id"]) >= 5:
            out.add(acc["id"])                        # server-local ids
    for st in MASTO["statuses"]:
        out |= {st["id"], st["uri"]}
        out |= {str(st[k]) for k in ("in_reply_to_id",) if st.get(k)}
    return sorted(out)


def _audience(store: Store) -> list:
    """Each account's stored follower count with its followers and follows in the store:
    the same multiset in a plain and a pseudonymised store when the joins hold."""
    return sorted(store.con.execute(
        "SELECT a.platform, a.followers_count, a.posts_count, "
        "(SELECT count(*) FROM follows f WHERE f.dst = a.uid), "
        "(SELECT count(*) FROM follows f WHERE f.src = a.uid), "
        "(SELECT count(*) FROM interactions i WHERE i.dst = a.uid), "
        "(SELECT count(*) FROM posts p WHERE p.author = a.uid) FROM accounts a").fetchall())


def test_pseudonymized_crawls_keep_no_raw_id_anywhere_and_still_join(tmp_path, monkeypatch,
                                                                    capsys):
    from trueclout.privacy import Pseudonymizer
    monkeypatch.setenv("TRUECLOUT_PSEUDONYM_KEY_FILE", str(tmp_path / "k.key"))
    bsky, handler = _both_platforms()
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(handler))
    # the first crawl stops on an error naming the account, and is resumed
    refused = {"status": 400, "headers": {}, "body": {
        "error": "InvalidRequest", "message": f"cannot page {ALICE} (alice.test) now"}}
    runs = [["bluesky", "alice.test", "--followers", "--follows", "--engagement"],
            ["bluesky", "alice.test", "--resume"],
            ["bluesky", "p040.test", "--posts"],
            ["mastodon", "ann@m.example.test", "--followers", "--follows", "--engagement"]]
    dbs = {flag: str(tmp_path / f"{flag or 'plain'}.duckdb") for flag in ("", "--pzz")}
    for flag, db in dbs.items():
        bsky.faults[("app.bsky.graph.getFollowers", "c0200")] = [refused]
        for i, cmd in enumerate(runs):
            extra = ["--pseudonymize"] if flag else []
            assert main(["crawl", *cmd, *extra, "--db", db, "--json"]) == (1 if i == 0 else 0)
            capsys.readouterr()
            if i == 0:
                with Store(db) as s:
                    stopped = s.get_crawl(1)
                assert stopped["status"] == "stopped" and "cannot page" in stopped["message"]
                assert (ALICE in stopped["message"]) == (not flag)
                assert ("alice.test" in json.dumps(stopped)) == (not flag)
    pz = Pseudonymizer.from_key_file(create=False)
    with Store(dbs["--pzz"]) as s, Store(dbs[""]) as plain:
        assert s.pseudonym_key_id() == pz.key_id
        assert _leaks(s) == {}
        # the check can fail: the plain store holds the same names in many places
        leaks = plain.text_columns_containing(_raw_names())
        assert {"accounts.account_id", "crawls.target", "crawl_cursors.task", "posts.post_id",
                "raw_records.body", "rejects.source", "ingests.source"} <= set(leaks)
        assert s.counts() == plain.counts() and _audience(s) == _audience(plain)
        me = s.find_accounts([pz.account("bluesky", ALICE)])
        assert len(me) == 1 and me[0]["handle"] == pz.handle("bluesky", "alice.test")
        assert s.crawl_neighbours("bluesky", pz.account("bluesky", ALICE), "in") \
            and len(s.crawl_neighbours("bluesky", pz.account("bluesky", ALICE), "in")) == 230
        assert s.crawls()[-1]["target"] == pz.handle("bluesky", "alice.test")
        before = s.counts()
    # a second crawl with the same key: the same pseudonyms (no new account, no new follow)
    assert main(["crawl", "bluesky", "alice.test", "--followers", "--follows",
                 "--follow-times", "--pseudonymize", "--db", dbs["--pzz"], "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["pseudonym_key_id"] == pz.key_id
    assert second["rows_added"]["new_accounts"] == 0 and second["rows_added"]["follows"] == 0
    with Store(dbs["--pzz"]) as s:
        after = s.counts()
        assert after["accounts"] == before["accounts"] and after["follows"] == before["follows"]
        assert after["profile_snapshots"] > before["profile_snapshots"]
        assert _leaks(s) == {}
    # a pseudonymised store takes no plain crawl, and a plain store no pseudonymised one
    assert main(["crawl", "bluesky", "alice.test", "--db", dbs["--pzz"]]) == 2
    assert "pseudonymised" in capsys.readouterr().err
    assert main(["crawl", "bluesky", "alice.test", "--pseudonymize", "--db", dbs[""]]) == 2
    assert "without --pseudonymize" in capsys.readouterr().err


def test_pseudonymized_crawl_follows_the_text_setting_and_clears_cursors_when_done():
    from trueclout.privacy import Pseudonymizer
    for text, want in (("drop", None), ("scrub", "post 0 #trueclout")):
        pz = Pseudonymizer(b"k" * 32, text=text)
        with Store(":memory:") as s:
            fake = FakeBluesky()
            fake.interrupt = 2                        # stop after the first followers page
            with pytest.raises(KeyboardInterrupt):
                crawl_bluesky(s, "alice.test", **ALL, pseudonymizer=pz, **_kw(fake))
            held = s.crawl_tasks(1)                   # unfinished: cursors kept to resume
            assert held[f"followers:{pz.account('bluesky', ALICE)}"]["cursor"] == "c0100"
            summary = crawl_bluesky(s, "alice.test", resume=True, pseudonymizer=pz,
                                    **_kw(FakeBluesky()))
            assert summary["status"] == "done" and _count(s, "follows") == 290
            assert all(t["cursor"] is None and t["seen"] == []
                       for t in s.crawl_tasks(1).values())
            post = pz.post("bluesky", f"at://{ALICE}/app.bsky.feed.post/3kpost0")
            assert s.con.execute("SELECT text FROM posts WHERE post_id = ?", [post]
                                 ).fetchone()[0] == want
            assert _leaks(s) == {}


# -- Mastodon replies, Bluesky reposts seen twice -------------------------------------------
def test_mastodon_replies_record_their_parent():
    with Store(":memory:") as s:
        crawl_mastodon(s, "ann@m.example.test", posts=True, **_kw(FakeMastodon()))
        st = {x["id"]: x["uri"] for x in MASTO["statuses"]}
        ids = sorted(st)
        got = dict(s.con.execute("SELECT post_id, reply_to FROM posts").fetchall())
        # toot 1 answers a status of u001, local to the server: its uri is known
        assert got[st[ids[1]]] == ("https://m.example.test/users/u001/statuses/"
                                   "109000000000000123")
        assert got[st[ids[2]]] == st[ids[0]]          # a thread: joins its parent post
        assert got[st[ids[0]]] is None
        replies = s.con.execute(
            "SELECT s.account_id, d.account_id, i.post_id FROM interactions i JOIN accounts s "
            "ON s.uid = i.src JOIN accounts d ON d.uid = i.dst WHERE kind = 'reply'"
        ).fetchall()
        assert replies == [("ann@m.example.test", "u001@m.example.test", st[ids[1]])]


@pytest.mark.parametrize("order", ["reposted_by_first", "feed_first"])
def test_bluesky_repost_seen_in_a_feed_and_in_reposted_by_is_kept_once(order):
    p40 = next(d for d, v in BSKY["profiles"].items() if v["handle"] == "p040.test")
    post1 = f"at://{ALICE}/app.bsky.feed.post/3kpost1"
    runs = [("alice.test", {"engagement": True}), ("p040.test", {"posts": True})]
    if order == "feed_first":
        runs.reverse()
    with Store(":memory:") as s:
        sums = [crawl_bluesky(s, who, **kw, **_kw(FakeBluesky())) for who, kw in runs]
        assert sums[1]["duplicate_interactions"] >= 1
        rows = s.con.execute(
            "SELECT i.created_at FROM interactions i JOIN accounts a ON a.uid = i.src "
            "WHERE a.account_id = ? AND i.kind = 'repost' AND i.post_id = ?", [p40, post1]
        ).fetchall()
        assert len(rows) == 1                        # one repost, whichever came first
        assert (rows[0][0] is None) == (order == "reposted_by_first")   # first copy wins
        # every (src, dst, kind, post) is one row
        assert s.con.execute("SELECT count(*) FROM (SELECT src, dst, kind, post_id "
                             "FROM interactions GROUP BY ALL HAVING count(*) > 1)"
                             ).fetchone()[0] == 0


# -- re-crawls, and the six cases a real server showed (both platforms) ---------------------
MASTO_ACCT = MASTO["target"]
PLATFORMS = {
    "bluesky": (crawl_bluesky, FakeBluesky, bluesky_later, BSKY, "alice.test", ALICE),
    "mastodon": (crawl_mastodon, FakeMastodon, mastodon_later, MASTO, MASTO_ACCT, MASTO_ACCT),
}


def _live_followers(store, account_id):
    return {r[0] for r in store.con.execute(
        "SELECT s.account_id FROM follows f JOIN accounts s ON s.uid = f.src "
        "JOIN accounts d ON d.uid = f.dst WHERE d.account_id = ? AND f.removed_at IS NULL",
        [account_id]).fetchall()}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_recrawl_sees_unfollows_deleted_posts_renames_and_returns(platform):
    crawl, Fake, later, data, target, tid = PLATFORMS[platform]
    clock = FakeClock()
    t1 = clock.now
    with Store(":memory:") as s:
        crawl(s, target, **ALL, **_kw(Fake(data), clock))
        before = _live_followers(s, tid)
        clock.sleep(86400.0)
        t2 = clock.now
        summary = crawl(s, target, **ALL, **_kw(Fake(later(data)), clock))
        gone = set(data["later"]["unfollowed"])
        # the store now lists exactly the followers the server lists
        assert _live_followers(s, tid) == before - gone and len(gone) == 3
        assert f"followers:{tid}" in summary["settled"]
        changes = s.follow_changes(platform)
        assert {(c["src"], c["change"]) for c in changes} == {(g, "removed") for g in gone}
        for c in changes:      # noticed by crawl 2; happened after crawl 1 saw it
            assert c["noticed_at"].timestamp() >= t2 and c["crawl_id"] == 2
            assert c["happened_after"].timestamp() == t1
        removed = s.con.execute("SELECT count(*) FROM follows WHERE removed_at IS NOT NULL"
                                ).fetchone()[0]
        assert removed == 3
        # the deleted post is marked, not kept as live; the others are live
        dead = data["later"]["deleted_posts"][0]
        rows = dict(s.con.execute("SELECT post_id, deleted_at IS NOT NULL FROM posts "
                                  "JOIN accounts a ON a.uid = posts.author "
                                  "WHERE a.account_id = ?", [tid]).fetchall())
        assert rows[dead] and sum(rows.values()) == 1
        dead_text = s.con.execute("SELECT text FROM posts WHERE post_id = ?",
                                  [dead]).fetchall()[0][0]
        texts = "\n".join(s.post_texts().column("text").to_pylist())
        assert dead_text and dead_text not in texts
        # the rename updated the profile and kept the old value
        (who, new), = data["later"]["renamed"].items()
        hist = s.con.execute("SELECT field, old_value, new_value FROM account_changes c "
                             "JOIN accounts a USING (uid) WHERE a.account_id = ? "
                             "ORDER BY field", [who]).fetchall()
        assert len(hist) == len(new)
        for (field, old, value), (key, want) in zip(hist, sorted(
                new.items(), key=lambda kv: kv[0] != "handle")):
            assert field == {"handle": "handle"}.get(key, "name") and value == want
            assert old and old != value
            assert s.con.execute(f"SELECT {field} FROM accounts WHERE account_id = ?",
                                 [who]).fetchall()[0][0] == value
        # growth: one snapshot per crawl, with the counts of each
        snaps = s.con.execute("SELECT p.followers_count FROM profile_snapshots p JOIN "
                              "accounts a USING (uid) WHERE a.account_id = ? "
                              "ORDER BY p.observed_at",
                              [tid]).fetchall()
        assert [r[0] for r in snaps] == [len(before), len(before) - 3]
        # a crawl cut by --max settles nothing (the 177 it did not reach stay live)
        clock.sleep(3600.0)
        cut = crawl(s, target, followers=True, max_items=50, **_kw(Fake(later(data)), clock))
        assert cut["settled"] == []
        assert _live_followers(s, tid) == before - gone
        # they follow again: the follows come back as new live rows; history stays
        clock.sleep(86400.0)
        crawl(s, target, **ALL, **_kw(Fake(data), clock))
        assert _live_followers(s, tid) == before
        back = [c for c in s.follow_changes(platform) if c["change"] == "restored"]
        assert {c["src"] for c in back} == gone and all(c["crawl_id"] == 4 for c in back)
        assert s.con.execute("SELECT count(*) FROM follows WHERE removed_at IS NOT NULL"
                             ).fetchone()[0] == 3
        assert s.con.execute("SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL"
                             ).fetchone()[0] == 0          # listed again: live again


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_one_snapshot_per_account_per_crawl_even_when_resumed(platform):
    crawl, Fake, _later, data, target, _tid = PLATFORMS[platform]
    with Store(":memory:") as s:
        fake = Fake(data)
        flaky = interrupted(fake, 6)
        with pytest.raises(KeyboardInterrupt):
            crawl(s, target, engagement=True, **ALL, **_kw(flaky))
        crawl(s, target, resume=True, **_kw(Fake(data)))
        per = s.con.execute("SELECT uid, count(*) FROM profile_snapshots GROUP BY uid "
                            "HAVING count(*) > 1").fetchall()
        assert per == []
        with_counts = s.con.execute("SELECT count(*) FROM accounts WHERE followers_count "
                                    "IS NOT NULL").fetchone()[0]
        assert _count(s, "profile_snapshots") == with_counts > 100


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_at_handle_is_the_same_account(platform):
    crawl, Fake, _later, data, target, tid = PLATFORMS[platform]
    with Store(":memory:") as s:
        summary = crawl(s, "@" + target, followers=True, **_kw(Fake(data)))
        assert summary["status"] == "done" and summary["target"] == target.lower()
        assert len(_live_followers(s, tid)) > 100
    with Store(":memory:") as s:                     # and --resume finds it either way
        fake = Fake(data)
        flaky = interrupted(fake, 3)
        with pytest.raises(KeyboardInterrupt):
            # Bluesky handles are case-insensitive; Mastodon keeps the user's case
            crawl(s, "@" + (target.upper() if platform == "bluesky" else target),
                  followers=True, **_kw(flaky))
        assert crawl(s, target, resume=True, **_kw(Fake(data)))["status"] == "done"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_unknown_or_refused_target_is_a_usage_error_and_not_resumable(platform, tmp_path,
                                                                     capsys, monkeypatch):
    _crawl, Fake, _later, data, target, _tid = PLATFORMS[platform]
    db = str(tmp_path / "c.duckdb")
    unknown = "nobody.test" if platform == "bluesky" else "nobody@m.example.test"
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(Fake(data)))
    assert main(["crawl", platform, unknown, "--db", db, "--json"]) == 2
    cap = capsys.readouterr()
    assert "not found" in cap.err and json.loads(cap.out)["error"]["type"] == "TargetNotFound"
    assert main(["crawl", platform, unknown, "--resume", "--db", db]) == 2
    assert "no unfinished" in capsys.readouterr().err
    # a 400 on the very first request: the same (nothing to resume)
    fake = Fake(data)
    if platform == "bluesky":
        fake.faults[("app.bsky.actor.getProfiles", None)] = [ERR["not_found"]]
    else:
        fake.faults["/api/v1/accounts/lookup"] = [data["errors"]["bad_request"]]
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(fake))
    assert main(["crawl", platform, target, "--db", db]) == 2
    assert "refused" in capsys.readouterr().err
    assert main(["crawl", platform, target, "--resume", "--db", db]) == 2
    with Store(db) as s:
        assert [c["status"] for c in s.crawls()] == ["failed", "failed"]
    # a dead server on the first request is not the target's fault: exit 1, resumable
    fake = Fake(data)
    key = (("app.bsky.actor.getProfiles", None) if platform == "bluesky"
           else "/api/v1/accounts/lookup")
    fake.faults[key] = [ERR["bad_gateway"]] * 9
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(fake))
    monkeypatch.setenv("TRUECLOUT_CRAWL_BACKOFF_BASE_S", "0.001")
    assert main(["crawl", platform, target, "--followers", "--db", db]) == 1
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(Fake(data)))
    assert main(["crawl", platform, target, "--resume", "--db", db]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_stats_json_counts_the_interactions(platform, tmp_path, capsys, monkeypatch):
    _crawl, Fake, _later, data, target, _tid = PLATFORMS[platform]
    db = str(tmp_path / "c.duckdb")
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(Fake(data)))
    assert main(["crawl", platform, target, "--engagement", "--db", db]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", db, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    with Store(db, read_only=True) as s:
        want = dict(s.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1"
                                  ).fetchall())
    assert stats["graph"]["interactions"] == want and sum(want.values()) > 10
    assert stats["interactions"] == sum(want.values())


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_rank_by_followers_orders_by_the_count_it_prints(platform, tmp_path, capsys,
                                                        monkeypatch):
    _crawl, Fake, _later, data, target, tid = PLATFORMS[platform]
    db = str(tmp_path / "c.duckdb")
    monkeypatch.setattr(crawl_http, "DEFAULT_TRANSPORT", httpx.MockTransport(Fake(data)))
    assert main(["crawl", platform, target, "--db", db]) == 0
    capsys.readouterr()
    assert main(["rank", "--by", "followers", "--top", "50", "--no-save", "--db", db,
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["top"]
    # the platform's count where the profile gives one, else the followers the store knows
    shown = [r["followers_count"] if r["followers_count"] is not None
             else r["followers_known"] for r in rows]
    assert shown == sorted(shown, reverse=True)
    # the store sees only the target's followers, yet the profiles' counts rank first
    assert any(r["followers_count"] > r["followers_known"] for r in rows[:5])
