"""The live stream command: ``trueclout watch bluesky`` (Jetstream, or ``--firehose``)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from ..errors import UsageError
from .common import DbOption, JsonOption, resolve_db, print_json, app, err, out, styled

watch_app = typer.Typer(help="Follow a live stream into the store (Bluesky Jetstream, or "
                             "the AT Protocol firehose).",
                        no_args_is_help=True)
app.add_typer(watch_app, name="watch")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """Within the block, Ctrl-C (SIGINT) and SIGTERM set ``stop`` instead of killing the
    process, so the watch ends cleanly (events applied, cursor and scores saved); a second
    signal raises ``KeyboardInterrupt`` to stop at once. The old handlers come back
    afterwards. Outside the main thread it changes nothing.

    Examples
    --------
    >>> import os, signal, threading
    >>> stop = threading.Event()
    >>> with stop_on_signals(stop):
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     _ = stop.wait(5)
    >>> stop.is_set()
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@watch_app.command("bluesky")
def watch_bluesky(
    collections: Optional[str] = typer.Option(
        None, "--collections", help="Comma-separated collections to apply (default: "
        "follows, likes and reposts; setting stream_collections)."),
    dids: Optional[Path] = typer.Option(
        None, "--dids", help="File of DIDs, one per line: watch only these accounts."),
    db: Optional[Path] = DbOption,
    max_events: Optional[int] = typer.Option(
        None, "--max-events", help="Stop after this many events, replayed ones included "
        "(default: until Ctrl-C or SIGTERM)."),
    url: Optional[str] = typer.Option(
        None, "--url", help="Jetstream endpoint (default: setting stream_jetstream_url); "
        "with --firehose the relay or PDS (default: setting stream_firehose_url)."),
    firehose: bool = typer.Option(
        False, "--firehose/--jetstream", help="Read the AT Protocol firehose "
        "(com.atproto.sync.subscribeRepos: CBOR frames with CAR blocks) of a relay or a "
        "PDS instead of Jetstream; its cursor (seq) is saved per host and resumed "
        "exactly."),
    max_reconnects: Optional[int] = typer.Option(
        None, "--max-reconnects", help="Reconnects allowed in a row, without new events in "
        "between, after the connection drops (default: unlimited; 0: stop at the first "
        "drop). Waits back off exponentially with jitter (settings "
        "stream_reconnect_base_s, stream_reconnect_cap_s)."),
    full_every: Optional[float] = typer.Option(
        None, "--full-every", help="With --rescore: fit detection and the scores again "
        "from the store once this many seconds have passed since the last fit, so what "
        "the incremental updates hold (the graph-global detectors, trust) catches up "
        "(default: setting stream_full_every_s, 86400; 0: never). The stream waits "
        "meanwhile and resumes from the socket or, after a drop, from the cursor."),
    rescore: bool = typer.Option(
        False, "--rescore/--no-rescore", help="Fit detection once at the start, then, as "
        "follows change, update the detection of the touched accounts and PageRank, "
        "TrueRank and authentic reach incrementally (settings stream_push_local, "
        "stream_detection, stream_recompute_share), and save them as one run of kind "
        "stream, updated in place."),
    save_every: Optional[float] = typer.Option(
        None, "--save-every", help="With --rescore: save the scores after a re-score once "
        "this many seconds have passed since the last save (default: setting "
        "stream_save_every_s, 300; 0: after every re-score), and at the end."),
    as_json: bool = JsonOption,
) -> None:
    """Read Bluesky's Jetstream (or, with --firehose, a relay's or PDS's firehose) and
    apply follows, unfollows, likes and reposts to the store, resuming a few seconds
    before the saved cursor (the firehose: exactly after it). A dropped connection is
    reconnected with backoff, from the saved cursor. Ctrl-C or SIGTERM stops cleanly
    after saving the cursor (and, with --rescore, the scores); a second one stops at once.
    Exits 1 when the reconnects run out (the cursor is saved: run it again to resume).

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
    if max_reconnects is not None and max_reconnects < 0:
        raise UsageError("--max-reconnects must be at least 0", field="max_reconnects")
    if save_every is not None and save_every < 0:
        raise UsageError("--save-every must be at least 0", field="save_every")
    if full_every is not None and full_every < 0:
        raise UsageError("--full-every must be at least 0", field="full_every")
    wanted = read_dids(dids) if dids is not None else []

    def progress(s: dict) -> None:
        err.print(f"events {s['messages']:,}  applied {s['applied']:,}  follows "
                  f"+{s.get('follows_added', 0):,}/-{s.get('follows_removed', 0):,}  "
                  f"interactions +{s.get('interactions_added', 0):,}  skipped "
                  f"{sum(s['skipped'].values()):,}  reconnects {s['reconnects']}" +
                  (f"  rescores {s['rescores']}  refits {s['refits']}  saves {s['saves']}"
                   if rescore else ""),
                  highlight=False)

    def reconnecting(r: dict) -> None:
        err.print(f"{r['reason']}; reconnect {r['reconnects']} ({r['in_row']} in a row) "
                  f"in {r['delay']:.1f} s from cursor {r['cursor']}", highlight=False)

    with Store(resolve_db(db)) as store, stop_on_signals(threading.Event()) as stop:
        scorer = fit = None
        if rescore:
            def fit():
                from ..score.context import score_context
                from ..score.incremental import IncrementalScores
                err.print("fitting detection and the starting scores ...")
                return IncrementalScores(score_context(store))
            scorer = fit()
        summary = watch(store, url=url, collections=cols, dids=wanted,
                        max_events=max_events, scorer=scorer, progress=progress,
                        stop=stop, save_every=save_every, max_reconnects=max_reconnects,
                        on_reconnect=reconnecting, refit=fit, full_every=full_every,
                        firehose=firehose)
    failed = summary["stopped"] == "reconnects_exhausted"
    if failed:
        err.print(styled("Error:", "red", f"the connection to "
                         f"{'the firehose' if firehose else 'Jetstream'} dropped "
                         f"({summary['error']}) and --max-reconnects {max_reconnects} ran "
                         f"out; the cursor is saved ({summary['cursor']}): run the same "
                         "command again to resume"), highlight=False)
    elif summary["stopped"] in ("stop", "interrupted"):
        err.print("stopped; the cursor is saved" +
                  ("" if scorer is None else f", and the scores as run {summary['run_id']}"),
                  highlight=False)
    if as_json:
        print_json(summary)
    else:
        out.print(f"applied {summary['applied']:,} of {summary['messages']:,} events "
                  f"(follows +{summary.get('follows_added', 0):,} "
                  f"-{summary.get('follows_removed', 0):,}, interactions "
                  f"+{summary.get('interactions_added', 0):,} "
                  f"-{summary.get('interactions_removed', 0):,}); skipped "
                  f"{summary['skipped'] or 'none'}; reconnects {summary['reconnects']}; "
                  f"cursor {summary['cursor']}" +
                  ("" if scorer is None else
                   f"; rescores {summary['rescores']}, scores saved {summary['saves']} "
                   f"times as run {summary['run_id']}"), highlight=False)
    if failed:
        raise typer.Exit(1)
