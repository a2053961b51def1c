"""Crawl commands: ``trueclout crawl bluesky HANDLE`` and ``trueclout crawl mastodon
user@server``, resumable with ``--resume``; ``--pseudonymize`` stores keyed pseudonyms, as
``trueclout ingest --pseudonymize`` does (same key file)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import (COUNT_MAX, DbOption, JsonOption, resolve_db, print_json, progress_bar, app, err, out,
                     styled)

crawl_app = typer.Typer(help="Crawl Bluesky or Mastodon accounts into the store "
                             "(resumable: a killed crawl continues with --resume).",
                        no_args_is_help=True)
app.add_typer(crawl_app, name="crawl")

_Followers = typer.Option(False, "--followers", help="The account's followers (with the "
                          "default when no list is named: followers and follows).")
_Follows = typer.Option(False, "--follows", help="The accounts it follows.")
_Posts = typer.Option(False, "--posts", help="Its posts, reposts, replies and mentions.")
_Engagement = typer.Option(False, "--engagement", help="Likes and reposts of its posts "
                           "(implies --posts).")
_Depth = typer.Option(1, "--depth", help="1: the account's lists; 2: also the lists of "
                      "every account found.")
_Max = typer.Option(None, "--max", max=COUNT_MAX,
                    help="At most N items per list (followers, posts, "
                    "likes of one post, ...).", show_default=False)
_Resume = typer.Option(False, "--resume", help="Continue the latest unfinished crawl of "
                       "this account exactly where it stopped (its saved options win).")
_Pseudonymize = typer.Option(
    False, "--pseudonymize", help="Store keyed pseudonyms instead of ids and handles, drop "
    "names, descriptions, URLs, post text and raw JSON, as `trueclout ingest "
    "--pseudonymize`; the key stays in its key file (setting pseudonym_key_file, "
    "TRUECLOUT_PSEUDONYM_KEY_FILE), outside the store. A pseudonymised store takes only "
    "pseudonymised crawls with its key (--resume too).")


def _crawl(fn, target: str, db: Optional[Path], as_json: bool, pseudonymize: bool,
           **kwargs) -> None:
    from ..crawl import CrawlStopped
    from ..store import Store
    if pseudonymize:
        from ..privacy import Pseudonymizer
        kwargs["pseudonymizer"] = Pseudonymizer.from_key_file()
    with Store(resolve_db(db)) as store, progress_bar(not as_json) as progress:
        bar = progress.add_task("crawl: starting", total=None, rows="")

        def cb(task: str, pages: int, items: int) -> None:
            name = task if len(task) <= 60 else task[:57] + "..."
            progress.update(bar, description=f"crawl {name}: page {pages:,}",
                            rows=f"{items:,} items")

        try:
            summary = fn(store, target, progress=cb, **kwargs)
        except CrawlStopped as exc:
            progress.stop()
            if as_json:
                print_json({**exc.summary, "error": exc.to_dict()})
            err.print(styled("Error:", "red", str(exc)), highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            progress.stop()
            err.print("crawl interrupted; its pages so far are saved: run the same command "
                      "with --resume to continue")
            raise
    if as_json:
        print_json(summary)
        return
    added = summary["rows_added"]
    out.print(f"crawl {summary['crawl_id']} of {summary['platform']} {summary['target']}"
              f"{' (resumed)' if summary['resumed'] else ''}: {summary['status']}, "
              f"{summary['pages']:,} pages, {summary['items']:,} items, "
              f"{summary['requests']:,} requests")
    out.print("rows added: " + ", ".join(f"{k} {v:,}" for k, v in sorted(added.items()))
              if added else "rows added: none")
    for task, st in summary["tasks"].items():
        notes = (["PARTIAL: fetched from another server or hidden"] if st.get("partial")
                 else []) + ([st["note"]] if st.get("note") else [])
        out.print(f"  {task}: {st['pages']:,} pages, {st['items']:,} items"
                  + (f" ({'; '.join(notes)})" if notes else ""), markup=False,
                  highlight=False)
    for what in ("rejected", "failed_items"):
        if summary.get(what):
            out.print(f"{what.replace('_', ' ')}: {summary[what]:,} (see rejects / the log)")
    if summary.get("unknown_record_types"):
        out.print("unknown record types (kept raw): " + ", ".join(
            f"{k} {v}" for k, v in summary["unknown_record_types"].items()))
    for note in summary.get("notes", []):
        out.print(note)


@crawl_app.command("bluesky", help="Crawl a Bluesky account through the public AppView "
                   "(host: setting bluesky_appview).")
def bluesky(
    handle: str = typer.Argument(..., help="Handle (alice.bsky.social) or DID."),
    followers: bool = _Followers, follows: bool = _Follows, posts: bool = _Posts,
    engagement: bool = _Engagement,
    follow_times: bool = typer.Option(False, "--follow-times", help="Read follow times "
                                      "from each follower's own follow records on its PDS "
                                      "(else they stay unknown)."),
    depth: int = _Depth, max_items: Optional[int] = _Max, resume: bool = _Resume,
    pseudonymize: bool = _Pseudonymize,
    db: Optional[Path] = DbOption, as_json: bool = JsonOption,
) -> None:
    from ..crawl import crawl_bluesky
    _crawl(crawl_bluesky, handle, db, as_json, pseudonymize, followers=followers, follows=follows,
           posts=posts, engagement=engagement, follow_times=follow_times, depth=depth,
           max_items=max_items, resume=resume)


@crawl_app.command("mastodon", help="Crawl a Mastodon account through its own server's API.")
def mastodon(
    account: str = typer.Argument(..., help="user@server"),
    followers: bool = _Followers, follows: bool = _Follows, posts: bool = _Posts,
    engagement: bool = _Engagement,
    follow_times: bool = typer.Option(False, "--follow-times", help="Accepted for symmetry: "
                                      "Mastodon publishes no follow times."),
    via: Optional[str] = typer.Option(None, "--via", help="Fetch through this server "
                                      "instead (its lists are flagged partial)."),
    depth: int = _Depth, max_items: Optional[int] = _Max, resume: bool = _Resume,
    pseudonymize: bool = _Pseudonymize,
    db: Optional[Path] = DbOption, as_json: bool = JsonOption,
) -> None:
    from ..crawl import crawl_mastodon
    _crawl(crawl_mastodon, account, db, as_json, pseudonymize, followers=followers, follows=follows,
           posts=posts, engagement=engagement, follow_times=follow_times, depth=depth,
           max_items=max_items, resume=resume, via=via)
