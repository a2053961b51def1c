"""Crawl speed against a real AppView, and what a crawl of a big account would take.

Starts the live peer of ``tests/live`` (PLC directory, PDS and AppView of
``@atproto/dev-env`` on loopback, with PostgreSQL and redis; ``make live-deps`` installs
it), seeds a network of ``--accounts`` accounts (default 10,000; 1,000 with ``--quick``)
that all follow one target, then crawls the target's followers and follows with
``trueclout crawl bluesky`` and reports pages/s, accounts/s and requests/s. The peer runs
on the same machine, so the figures are the crawler's and the local AppView's together.

From the requests the crawl made per follower it estimates a crawl of an account with
1,000,000 followers under the public AppView's rate limit: Bluesky documents 3,000
requests per 5 minutes per IP for its services (docs.bsky.app, "Rate Limits"; the AppView
itself is said to have "generous" limits, and its responses carry ``ratelimit-policy:
3000;w=300``), so the estimate assumes 10 requests/s.

Usage: ``python benchmarks/bench_crawl.py [--accounts N] [--quick]``; ``make bench`` runs
it through ``benchmarks/run.py`` (skipped, with the reason, when the peer cannot start).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

#: The rate limit the estimate assumes (requests per second): 3,000 per 5 minutes.
PUBLIC_RATE = 3000 / 300.0


def estimate(requests_per_follower: float, followers: int = 1_000_000,
             rate: float = PUBLIC_RATE) -> dict:
    """Requests and hours for a crawl of ``followers`` followers at ``rate`` requests/s.

    Examples
    --------
    >>> estimate(0.05)["hours"]
    1.39
    """
    requests = requests_per_follower * followers
    return {"followers": followers, "requests": int(round(requests)),
            "rate_per_s": rate, "hours": round(requests / rate / 3600, 2)}


def appview_followers(appview: str, actor: str) -> dict:
    """What the AppView itself says: the profile's ``followersCount`` and how many
    followers paging ``getFollowers`` lists (the truth the crawl is held to).

    Examples
    --------
    >>> appview_followers  # doctest: +ELLIPSIS
    <function appview_followers at ...>
    """
    import httpx
    with httpx.Client(base_url=appview, timeout=60) as c:
        count = c.get("/xrpc/app.bsky.actor.getProfiles",
                      params={"actors": actor}).json()["profiles"][0]["followersCount"]
        listed, cursor = set(), None
        while True:
            body = c.get("/xrpc/app.bsky.graph.getFollowers",
                         params={"actor": actor, "limit": 100,
                                 **({"cursor": cursor} if cursor else {})}).json()
            listed.update(f["did"] for f in body.get("followers", []))
            cursor = body.get("cursor")
            if not cursor or not body.get("followers"):
                break
    return {"followers_count": count, "followers_listed": len(listed)}


def run(accounts: int | None = None, quick: bool = False, log=print) -> dict:
    """Seed, crawl, measure; returns the figures (or ``{"skipped": why}``).

    Examples
    --------
    >>> run  # doctest: +ELLIPSIS
    <function run at ...>
    """
    import live_stack
    why = live_stack.missing()
    if why:
        return {"skipped": "the live peer is missing: " + "; ".join(why)}
    n = accounts or (1000 if quick else 10_000)
    stack = live_stack.LiveStack(log=log, peer_env={"TRUECLOUT_PEER_CHEAP_PASSWORDS": "1"})
    work = Path(tempfile.mkdtemp(prefix="bench_crawl_"))
    out: dict = {"accounts": n}
    try:
        t0 = time.perf_counter()
        stack.start()
        out["start_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        stack.ops([{"op": "account", "name": "target", "displayName": "Target"}])
        names = [f"a{i:05d}" for i in range(n)]
        for i in range(0, n, 500):
            stack.ops([{"op": "account", "name": a} for a in names[i:i + 500]], parallel=8)
            log(f"seeded {min(i + 500, n):,} accounts")
        stack.ops([{"op": "follow", "from": a, "to": "target"} for a in names], parallel=8)
        stack.ops([{"op": "follow", "from": "target", "to": a} for a in names[:500]],
                  parallel=8)
        out["seed_s"] = round(time.perf_counter() - t0, 1)
        log(f"seeded {n:,} accounts and {n + 500:,} follows in {out['seed_s']} s")
        out["appview"] = appview_followers(stack.urls["appview"], "target.test")
        import os
        os.environ.update(stack.env)
        from trueclout.crawl import crawl_bluesky
        from trueclout.store import Store
        with Store(work / "crawl.duckdb") as store:
            t0 = time.perf_counter()
            summary = crawl_bluesky(store, "target.test", followers=True, follows=True)
            secs = time.perf_counter() - t0
            followers = store.con.execute(
                "SELECT count(*) FROM follows f JOIN accounts a ON a.uid = f.dst "
                "WHERE a.handle = 'target.test'").fetchall()[0][0]
        out.update({
            "status": summary["status"], "followers_stored": followers,
            "crawl_s": round(secs, 2), "pages": summary["pages"],
            "requests": summary["requests"], "items": summary["items"],
            "new_accounts": summary["rows_added"]["new_accounts"],
            "pages_per_s": round(summary["pages"] / secs, 1),
            "accounts_per_s": round(summary["rows_added"]["new_accounts"] / secs, 1),
            "requests_per_s": round(summary["requests"] / secs, 1),
            "requests_per_follower": round(summary["requests"] / summary["items"], 4)})
        out["public_1m_followers"] = estimate(out["requests_per_follower"])
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def rows(r: dict) -> list[tuple[str, str, str]]:
    """The figures as ``(name, time, note)`` rows of ``benchmarks/run.py``'s table.

    Examples
    --------
    >>> rows({"skipped": "no peer"})[0][1]
    'skipped'
    """
    if "skipped" in r:
        return [("crawl vs the local AppView", "skipped", r["skipped"])]
    e = r["public_1m_followers"]
    return [(f"crawl of {r['accounts']:,} followers (local AppView)", f"{r['crawl_s']:.1f} s",
             f"{r['pages_per_s']} pages/s, {r['accounts_per_s']} accounts/s, "
             f"{r['requests_per_s']} requests/s"),
            ("crawl of 1M followers at 3,000 req / 5 min", f"{e['hours']} h",
             f"{e['requests']:,} requests ({r['requests_per_follower']} per follower)")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.accounts, args.quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
