"""Crawls against a real AppView, PDS and PLC directory (``@atproto/dev-env`` on loopback):
the first crawl equals the seeded truth, re-crawls see change, a crawl killed with
SIGKILL at several points or cut off by a dead server resumes to the same store, and
the six cases a real server showed (``@handle``, unfollows, snapshots, stats, rank by
followers, an unknown target) hold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

import live_scenario as sc
from crawl_contents import contents
from trueclout.cli import main
from trueclout.store import Store

pytestmark = pytest.mark.live

CRAWL_ALL = ["--followers", "--follows", "--posts", "--engagement", "--follow-times"]


def _q(store, sql, params=()):
    return store.con.execute(sql, list(params)).fetchall()


def _followers(store, did, live=True):
    return {r[0] for r in _q(store, "SELECT s.account_id FROM follows f JOIN accounts s "
                             "ON s.uid = f.src JOIN accounts d ON d.uid = f.dst WHERE "
                             "d.account_id = ? AND (f.removed_at IS NULL) = ?", [did, live])}


def _appview_profile(live, actor):
    r = httpx.get(f"{live.urls['appview']}/xrpc/app.bsky.actor.getProfiles",
                  params={"actors": actor})
    return r.json()["profiles"][0]


# -- a proxy in front of the AppView: counts requests, kills the crawl, plays dead ---------
class AppViewProxy:
    """Forwards to the AppView; ``on_request(n)`` runs before the n-th answer; while
    ``dead`` every request gets a 503."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.count = 0
        self.dead = False
        self.on_request = None
        self.lock = threading.Lock()
        self.client = httpx.Client(timeout=30)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                with proxy.lock:
                    proxy.count += 1
                    n = proxy.count
                if proxy.on_request:
                    proxy.on_request(n)
                if proxy.dead:
                    status, headers, body = 503, {}, b'{"error": "Unavailable"}'
                else:
                    r = proxy.client.get(proxy.upstream + self.path)
                    status, headers, body = r.status_code, r.headers, r.content
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding",
                                             "connection", "content-encoding"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


@pytest.fixture
def proxy(live):
    p = AppViewProxy(live.urls["appview"])
    yield p
    p.close()


def _cli(args, env, **kw):
    return subprocess.Popen([sys.executable, "-m", "trueclout.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# -- the first crawl ---------------------------------------------------------------------
def test_first_crawl_equals_the_seeded_truth(seeded, live, live_env, tmp_path, capsys):
    t_seeded = datetime.now(timezone.utc)
    dids = seeded["dids"]
    posts = {k: v["uri"] for k, v in seeded["posts"].items()}
    db = str(tmp_path / "star.duckdb")
    # "@handle" is accepted (the AppView itself refuses the "@")
    assert main(["crawl", "bluesky", "@star.test", *CRAWL_ALL, "--db", db, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "done" and summary["target"] == "star.test"
    assert summary["rejected"] == 0 and summary["failed_items"] == 0
    star = dids["star"]
    with Store(db, read_only=True) as s:
        # followers and follows, exactly as seeded (the unfollow and the block are gone)
        assert _followers(s, star) == {dids[f] for f in sc.STAR_FOLLOWERS}
        out = _q(s, "SELECT d.account_id, f.created_at FROM follows f JOIN accounts a ON "
                 "a.uid = f.src JOIN accounts d ON d.uid = f.dst WHERE a.account_id = ?",
                 [star])
        assert {d for d, _ in out} == {dids[o] for o in sc.STAR_FOLLOWS}
        # follow times come from the records, in the followers' and star's repositories
        times = [t for _, t in out] + [r[0] for r in _q(
            s, "SELECT f.created_at FROM follows f JOIN accounts d ON d.uid = f.dst "
            "WHERE d.account_id = ?", [star])]
        assert len(times) == 40 + 148 and all(t is not None and t <= t_seeded for t in times)
        # the profile as the AppView shows it
        view = _appview_profile(live, star)
        row = _q(s, "SELECT handle, name, description, followers_count, following_count, "
                 "posts_count, default_profile_image FROM accounts WHERE account_id = ?",
                 [star])[0]
        assert row == ("star.test", "Star", "I post about #trueclout", view["followersCount"],
                       view["followsCount"], view["postsCount"], False)
        assert view["followersCount"] == 149      # f149's follow still counts; it is hidden
        bots = {r[0] for r in _q(s, "SELECT account_id FROM accounts WHERE declared_bot")}
        assert bots == {dids["f003"], dids["f053"]}
        # posts, with tags, mentions, reply and quote targets
        got = {r[0]: r[1:] for r in _q(s, "SELECT p.post_id, a.account_id, p.hashtags, "
                                          "p.mentions, p.reply_to, p.quote_of FROM posts p "
                                          "JOIN accounts a ON a.uid = p.author")}
        assert set(got) == {posts[k] for k in sc.STAR_POSTS} | {posts["fp4"]}
        assert got[posts["s0"]][1] == ["trueclout", "live"]
        assert got[posts["s1"]][2] == [dids["f001"]]
        assert got[posts["s2"]][3] == posts["fp2"] and got[posts["s3"]][4] == posts["fp3"]
        # interactions: likes (with times), reposts, the repost by star, mention, reply, quote
        inter = _q(s, "SELECT a.account_id, d.account_id, i.kind, i.post_id, i.created_at "
                      "FROM interactions i JOIN accounts a ON a.uid = i.src "
                      "JOIN accounts d ON d.uid = i.dst")
        want = {(dids[f], star, "like", posts[k]) for k, fs in sc.LIKERS.items() for f in fs}
        want |= {(dids[f], star, "repost", posts[k]) for k, fs in sc.REPOSTERS.items()
                 for f in fs}
        want |= {(star, dids["f004"], "repost", posts["fp4"]),
                 (star, dids["f001"], "mention", posts["s1"]),
                 (star, dids["f002"], "reply", posts["s2"]),
                 (star, dids["f003"], "quote", posts["s3"])}
        assert {r[:4] for r in inter} == want and len(inter) == len(want) == 49
        assert all(r[4] is not None for r in inter if r[2] == "like")
        # one profile snapshot per account and crawl
        assert _q(s, "SELECT count(*) FROM profile_snapshots GROUP BY uid HAVING count(*) > 1"
                  ) == []
        assert _q(s, "SELECT count(*) FROM profile_snapshots")[0][0] == _q(
            s, "SELECT count(*) FROM accounts WHERE followers_count IS NOT NULL")[0][0] == 169
    # stats --json counts the interactions; rank --by followers orders by what it prints
    assert main(["stats", "--db", db, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["graph"]["interactions"] == {"like": 35, "mention": 1, "quote": 1,
                                              "reply": 1, "repost": 11}
    assert main(["rank", "--by", "followers", "--no-save", "--top", "30", "--db", db,
                 "--json"]) == 0
    shown = [r["followers_count"] if r["followers_count"] is not None
             else r["followers_known"] for r in json.loads(capsys.readouterr().out)["top"]]
    assert shown == sorted(shown, reverse=True) and shown[0] == 149


def test_unknown_target_is_a_usage_error_and_not_resumable(seeded, live_env, tmp_path,
                                                           capsys):
    db = str(tmp_path / "x.duckdb")
    assert main(["crawl", "bluesky", "nobody.test", "--db", db, "--json"]) == 2
    cap = capsys.readouterr()
    assert "not found" in cap.err and json.loads(cap.out)["error"]["type"] == "TargetNotFound"
    assert main(["crawl", "bluesky", "nobody.test", "--resume", "--db", db]) == 2
    assert "no unfinished" in capsys.readouterr().err
    # the AppView answers 400 to a malformed actor: the same, not a stopped crawl
    assert main(["crawl", "bluesky", "not a handle!", "--db", db]) == 2
    assert "refused" in capsys.readouterr().err
    assert main(["crawl", "bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "--db", db]) == 2
    capsys.readouterr()
    with Store(db, read_only=True) as s:
        assert {c["status"] for c in s.crawls()} == {"failed"}


# -- re-crawls -------------------------------------------------------------------------------
def test_recrawl_sees_unfollows_a_block_a_deleted_post_renames_and_returns(
        seeded, live, live_env, tmp_path, capsys):
    dids = seeded["dids"]
    moon = dids["moon"]
    db = str(tmp_path / "moon.duckdb")
    args = ["crawl", "bluesky", "moon.test", "--followers", "--posts", "--db", db, "--json"]
    assert main(args) == 0
    capsys.readouterr()
    with Store(db, read_only=True) as s:
        assert _followers(s, moon) == {dids[f] for f in sc.MOON_FOLLOWERS}
        first = s.get_crawl(1)["started_at"]
    live.ops(sc.moon_changes())
    t_changed = datetime.now(timezone.utc)
    assert main(["crawl", "bluesky", "moon.test", "--followers", "--posts", "--db", db,
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["settled"]) == {f"followers:{moon}", f"posts:{moon}"}
    gone = {dids[f] for f in ("f150", "f151", "f152", "f153")}   # three unfollows, a block
    with Store(db, read_only=True) as s:
        assert _followers(s, moon) == {dids[f] for f in sc.MOON_FOLLOWERS} - gone
        assert _followers(s, moon, live=False) == gone
        changes = s.follow_changes("bluesky")
        assert {c["src"] for c in changes} == gone
        for c in changes:        # noticed by this crawl, after the first one listed it
            assert c["change"] == "removed" and c["crawl_id"] == 2
            assert c["happened_after"].isoformat() == first and c["noticed_at"] >= t_changed
        # the deleted post is marked; the other is live
        posts = dict(_q(s, "SELECT post_id, deleted_at IS NOT NULL FROM posts"))
        assert posts == {seeded["posts"]["m0"]["uri"]: False,
                         seeded["posts"]["m1"]["uri"]: True}
        # renames: the profile is new, the old values are kept
        assert _q(s, "SELECT handle, name FROM accounts WHERE account_id = ?",
                  [dids["f050"]]) == [("f050-renamed.test", "Fifty")]
        hist = _q(s, "SELECT a.account_id, c.field, c.old_value, c.new_value FROM "
                     "account_changes c JOIN accounts a USING (uid) ORDER BY ALL")
        assert hist == sorted([(dids["f050"], "handle", "f050.test", "f050-renamed.test"),
                               (dids["f050"], "name", "F 50", "Fifty"),
                               (moon, "name", "Moon", "New Moon")])
        # growth from crawl to crawl: two snapshots of moon, one per crawl
        snaps = _q(s, "SELECT p.followers_count FROM profile_snapshots p JOIN accounts a "
                      "USING (uid) WHERE a.account_id = ? ORDER BY p.observed_at", [moon])
        assert [r[0] for r in snaps] == [70, 67]      # the block hides, but still counts
    # f150 follows again: the follow comes back; the unfollow stays in the history
    live.ops([{"op": "follow", "from": "f150", "to": "moon"}])
    assert main(["crawl", "bluesky", "moon.test", "--followers", "--db", db]) == 0
    capsys.readouterr()
    with Store(db, read_only=True) as s:
        assert dids["f150"] in _followers(s, moon) and dids["f150"] in _followers(
            s, moon, live=False)
        back = [c for c in s.follow_changes() if c["change"] == "restored"]
        assert [(c["src"], c["crawl_id"]) for c in back] == [(dids["f150"], 3)]


# -- kill -9 and a dead server, then --resume ------------------------------------------------
def test_killed_at_several_points_or_cut_off_resumes_to_the_same_store(
        seeded, live, live_env, proxy, tmp_path):
    env = {**live_env, "TRUECLOUT_BLUESKY_APPVIEW": proxy.url,
           "TRUECLOUT_BLUESKY_PAGE_LIMIT": "20", "TRUECLOUT_CRAWL_MAX_RETRIES": "1",
           "TRUECLOUT_CRAWL_BACKOFF_BASE_S": "0.01", "TRUECLOUT_CRAWL_BACKOFF_CAP_S": "0.02"}
    args = ["crawl", "bluesky", "star.test", *CRAWL_ALL, "--json"]
    ref = tmp_path / "ref.duckdb"
    p = _cli([*args, "--db", str(ref)], env)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    total = proxy.count
    assert json.loads(out)["pages"] > 20 and total > 30
    with Store(ref, read_only=True) as s:
        want = contents(s)
    for frac in (0.15, 0.5, 0.85):                      # followers, follows, engagement
        k = int(total * frac)
        db = tmp_path / f"kill{k}.duckdb"
        proxy.count = 0
        box = {}
        hit = threading.Event()

        def on_request(n, k=k):
            if n == k:
                os.kill(box["pid"], signal.SIGKILL)     # before the k-th answer
                hit.set()
        proxy.on_request = on_request
        p = _cli([*args, "--db", str(db)], env)
        box["pid"] = p.pid
        p.communicate(timeout=300)
        proxy.on_request = None
        assert hit.is_set() and p.returncode == -signal.SIGKILL
        with Store(db, read_only=True) as s:
            assert s.get_crawl(1)["status"] == "running"          # killed: never marked
        p = _cli(["crawl", "bluesky", "star.test", "--resume", "--json", "--db", str(db)], env)
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out)["resumed"]
        with Store(db, read_only=True) as s:
            assert contents(s) == want, k
    # the server dies mid-crawl: exit 1, resumable; resumed when it is back
    db = tmp_path / "dead.duckdb"
    proxy.count = 0

    def die(n):
        if n == total // 2:
            proxy.dead = True
    proxy.on_request = die
    p = _cli([*args, "--db", str(db)], env)
    out, err = p.communicate(timeout=300)
    proxy.on_request = None
    proxy.dead = False
    assert p.returncode == 1 and "--resume" in err
    assert json.loads(out)["status"] == "stopped"
    p = _cli(["crawl", "bluesky", "star.test", "--resume", "--db", str(db)], env)
    assert p.wait(300) == 0
    with Store(db, read_only=True) as s:
        assert contents(s) == want
