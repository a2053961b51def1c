"""The live stream command: ``trueclout watch bluesky``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import DbOption, JsonOption, _db, _print_json, app, err, out

watch_app = typer.Typer(help="Follow a live stream into the store (Bluesky Jetstream).",
                        no_args_is_help=True)
app.add_typer(watch_app, name="watch")


@watch_app.command("bluesky")
def watch_bluesky(
    collections: Optional[str] = typer.Option(
        None, "--collections", help="Comma-separated collections to apply (default: "
        "follows, likes and reposts; setting stream_collections)."),
    dids: Optional[Path] = typer.Option(
        None, "--dids", help="File of DIDs, one per line: watch only these accounts."),
    db: Optional[Path] = DbOption,
    max_events: Optional[int] = typer.Option(
        None, "--max-events", help="Stop after this many events (default: until Ctrl-C)."),
    url: Optional[str] = typer.Option(
        None, "--url", help="Jetstream endpoint (default: setting stream_jetstream_url)."),
    rescore: bool = typer.Option(
        False, "--rescore/--no-rescore", help="Fit detection once at the start, update "
        "PageRank, TrueRank and authentic reach incrementally as follows change, and save "
        "them as a run at the end."),
    as_json: bool = JsonOption,
) -> None:
    """Read Bluesky's Jetstream and apply follows, unfollows, likes and reposts to the
    store, resuming a few seconds before the saved cursor. Ctrl-C stops cleanly after
    saving the cursor.

    Examples
    --------
    >>> from trueclout.cli import main
    >>> main(["watch", "bluesky", "--max-events", "0", "--db", ":memory:"])
    2
    """
    from ..store import Store
    from ..stream.jetstream import parse_collections, read_dids, watch
    cols = parse_collections(collections)
    if max_events is not None and max_events < 1:
        raise UsageError("--max-events must be at least 1", field="max_events")
    wanted = read_dids(dids) if dids is not None else []
    with Store(_db(db)) as store:
        scorer = None
        if rescore:
            from ..score.context import score_context
            from ..score.incremental import IncrementalScores
            err.print("fitting detection and the starting scores ...")
            scorer = IncrementalScores(score_context(store))

        def progress(s: dict) -> None:
            err.print(f"events {s['messages']:,}  applied {s['applied']:,}  follows "
                      f"+{s.get('follows_added', 0):,}/-{s.get('follows_removed', 0):,}  "
                      f"interactions +{s.get('interactions_added', 0):,}  skipped "
                      f"{sum(s['skipped'].values()):,}  rescores {s['rescores']}",
                      highlight=False)

        summary = watch(store, url=url, collections=cols, dids=wanted,
                        max_events=max_events, scorer=scorer, progress=progress)
        if scorer is not None:
            import numpy as np
            sc = scorer.scores()
            summary["run_id"] = store.save_run(
                "stream", {"collections": cols}, {"accounts": scorer.n},
                scorer.uids.astype(np.int32), sc)
        if summary["interrupted"]:
            err.print("stopped; the cursor is saved", highlight=False)
    if as_json:
        _print_json(summary)
        return
    out.print(f"applied {summary['applied']:,} of {summary['messages']:,} events "
              f"(follows +{summary.get('follows_added', 0):,} "
              f"-{summary.get('follows_removed', 0):,}, interactions "
              f"+{summary.get('interactions_added', 0):,} "
              f"-{summary.get('interactions_removed', 0):,}); skipped "
              f"{summary['skipped'] or 'none'}; cursor {summary['cursor']}", highlight=False)
