"""Commands that load and describe data: ingest, formats, simulate, stats."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .. import config
from ..errors import TruecloutError, UsageError
from ..graph.stats import compute_stats
from .common import (COUNT_MAX, Col, DbOption, JsonOption, resolve_db, fmt_int, graph_lines,
                     print_json, progress_bar, app, err, out, print_table)


# -- ingest -----------------------------------------------------------------------------
def _format_help() -> str:
    from ..ingest import REGISTRY
    return "; ".join(f"{n}: {r.description}" for n, r in sorted(REGISTRY.items()))


@app.command(help="Load files or folders into the store. Formats are guessed from content "
                  "unless --format is given; see README for the columns of each format.")
def ingest(
    paths: List[Path] = typer.Argument(..., help="Files or folders to load.",
                                       show_default=False),
    format: Optional[str] = typer.Option(None, "--format", "-f",
                                         help="Reader to use (see `trueclout formats`)."),
    label: Optional[str] = typer.Option(None, "--label",
                                        help="Tag every account in the load with this label "
                                             "(human, fake, bot, farm, ...)."),
    label_source: Optional[str] = typer.Option(
        None, "--label-source", help="Source of the labels the load gives: those of --label "
        "(default: the file name) and those a labelled data set carries (default: the data "
        "set's folder name, e.g. cresci-2017)."),
    platform: Optional[str] = typer.Option(None, "--platform",
                                           help="Platform that scopes account ids when the "
                                                "source does not say."),
    table: Optional[str] = typer.Option(None, "--table",
                                        help="Domain table of a generic CSV/Parquet/JSONL file "
                                             "when its name and columns do not tell."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any row was rejected."),
    pseudonymize: bool = typer.Option(
        False, "--pseudonymize", help="Store keyed pseudonyms instead of ids and handles, and "
        "drop names, descriptions, URLs and post text; the key stays in its key file "
        "(setting pseudonym_key_file, TRUECLOUT_PSEUDONYM_KEY_FILE), outside the store."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..ingest.run import ingest as run_ingest
    from ..store import Store

    if label is not None:
        from ..model import LABELS
        if label not in LABELS:
            raise UsageError(f"unknown label {label!r}; known labels: {', '.join(LABELS)}")
    if label_source is not None and not label_source.strip():
        raise UsageError("--label-source must not be empty")
    t0 = time.perf_counter()
    pz = None
    if pseudonymize:
        from ..privacy import Pseudonymizer
        pz = Pseudonymizer.from_key_file()
    with Store(resolve_db(db)) as store, progress_bar(not as_json) as progress:
        if pz is not None:
            store.claim_pseudonym_key(pz.key_id)
        tasks: dict[str, int] = {}

        def cb(source: str, stage: str, rows: int) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(Path(source).name, total=None, rows="")
            progress.update(tasks[source], description=f"{Path(source).name}: {stage}",
                            rows=f"{rows:,} rows")

        report = run_ingest(store, paths, fmt=format, label=label, label_source=label_source,
                            platform=platform, table=table, progress=cb, transform=pz)
    summary = report.to_dict()
    if pz is not None:
        summary["pseudonym_key_id"] = pz.key_id
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["db"] = resolve_db(db)
    if as_json:
        print_json(summary)
    else:
        cols = [Col("source", lambda r: Path(r.source).name, "left"),
                Col("format", lambda r: r.format + ("\n(already loaded)" if r.skipped
                                                    else ""), "left"),
                Col("read", lambda r: fmt_int(r.read), drop=3),
                Col("accepted", lambda r: fmt_int(r.accepted)),
                Col("rejected", lambda r: fmt_int(r.rejected)),
                Col("new accounts", lambda r: fmt_int(r.new_accounts), drop=2),
                Col("seconds", lambda r: f"{r.seconds:.1f}", drop=1)]
        print_table(cols, report.loads, title=f"ingest into {resolve_db(db)}")
        for note in report.notes:
            err.print(note, style="yellow")
        for r in report.loads:
            if r.rejected:
                err.print(f"{r.source}: {r.rejected:,} rows rejected; first: "
                          + "; ".join(r.first_rejects[:3])
                          + " (all in the rejects table)", style="yellow")
        for f in report.failures:
            msg = str(f["error"])     # an error that names its file already says where
            if not msg.startswith(f"{f['source']}: "):
                msg = f"{f['source']}: {msg}"
            err.print(msg, style="red")
    if report.failures and not report.loads:
        raise typer.Exit(1)
    if report.failures or (strict and summary["rejected"]):
        raise typer.Exit(1)


@app.command(help="List the input formats that `ingest` understands.")
def formats(as_json: bool = JsonOption) -> None:
    from ..ingest import REGISTRY
    rows = [{"format": n, "description": r.description} for n, r in sorted(REGISTRY.items())]
    if as_json:
        print_json(rows)
        return
    print_table([Col("format", lambda r: r["format"], "left"),
                 Col("description", lambda r: r["description"], "left", wrap=True)], rows,
                title="formats")


# -- simulate ---------------------------------------------------------------------------
def simulate_into(out_dir: Path, accounts: int, seed: int, as_json: bool) -> dict:
    """Simulate a platform into ``out_dir`` with a progress display (none with
    ``as_json``); the simulator's summary.

    Examples
    --------
    >>> import tempfile
    >>> simulate_into(Path(tempfile.mkdtemp()) / "p", 300, 0, True)["accounts"]
    300
    """
    from ..simulate import simulate as run_sim
    with progress_bar(not as_json) as progress:
        task = progress.add_task("simulating", total=None, rows="")

        def cb(*args) -> None:
            stage = next((a for a in args if isinstance(a, str)), "simulating")
            nums = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
            progress.update(task, description=f"simulate: {stage}",
                            rows=f"{int(nums[0]):,}" if nums else "")

        return run_sim(out_dir, accounts=accounts, seed=seed, progress=cb)


def ingest_quietly(store, paths: list[Path], as_json: bool):
    """Ingest ``paths`` into ``store`` with a progress display (none with ``as_json``);
    the ingest report.

    Examples
    --------
    >>> import tempfile
    >>> from trueclout.store import Store
    >>> p = Path(tempfile.mkdtemp()) / "f.txt"
    >>> _ = p.write_text("a b\\nb c\\n")
    >>> with Store(":memory:") as s:
    ...     ingest_quietly(s, [p], True).to_dict()["accepted"]
    2
    """
    from ..ingest.run import ingest as run_ingest
    with progress_bar(not as_json) as progress:
        task = progress.add_task("ingest", total=None, rows="")

        def cb(source: str, stage: str, rows: int) -> None:
            progress.update(task, description=f"ingest: {stage}", rows=f"{rows:,} rows")

        return run_ingest(store, paths, progress=cb)


@app.command(help="Generate a simulated platform with planted attacks and ground truth, as "
                  "Parquet (--out) and/or straight into a store (--db).")
def simulate(
    accounts: int = typer.Option(config.get("sim_accounts"), "--accounts", "-n", min=10,
                                 max=COUNT_MAX,
                                 help="Number of accounts."),
    seed: int = typer.Option(config.get("sim_seed"), "--seed", help="Random seed."),
    out_dir: Optional[Path] = typer.Option(None, "--out",
                                           help="Write the Parquet folder here (kept)."),
    db: Optional[Path] = typer.Option(None, "--db", help="Load the platform into this store. "
                                      "Default: ./trueclout.duckdb unless --out is given."),
    as_json: bool = JsonOption,
) -> None:
    from ..store import Store
    keep = out_dir is not None
    target = out_dir or Path(tempfile.mkdtemp(prefix="trueclout-sim-"))
    if keep and target.exists() and any(target.iterdir()) \
            and not (target / "manifest.json").exists():
        raise UsageError(f"--out {target} exists and is not a simulator folder; "
                         "choose an empty or new folder")
    try:
        summary = {"simulation": simulate_into(target, accounts, seed, as_json)}
        if keep:
            summary["out"] = str(target)
        if db is not None or not keep:
            with Store(resolve_db(db)) as store:
                report = ingest_quietly(store, [target], as_json)
            summary["ingest"] = report.to_dict()
            summary["db"] = resolve_db(db)
            if report.failures:
                raise TruecloutError("; ".join(f["error"] for f in report.failures))
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    if as_json:
        print_json(summary)
    else:
        sim = summary["simulation"]
        out.print(f"simulated {accounts:,} accounts (seed {seed})")
        for k, v in sim.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.print(f"  {k}: {v:,}")
        if keep:
            out.print(f"Parquet folder: {target}")
        if "db" in summary:
            out.print(f"store: {summary['db']}")


# -- stats ------------------------------------------------------------------------------
@app.command(help="Counts per table, degree quantiles and reciprocity of the store.")
def stats(db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    from ..store import Store
    from .remote import server_for
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        result = remote.get("/stats")
    else:
        with Store(resolve_db(db), read_only=True) as store:
            result = compute_stats(store)
    if as_json:
        print_json(result)
        return
    t = Table(title=f"store {resolve_db(db)}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k in ("accounts", "follows", "posts", "interactions", "profile_snapshots", "labels",
              "account_terms", "ingests", "rejects"):
        t.add_row(k, fmt_int(result[k]))
    out.print(t)
    if result["label_counts"]:
        out.print("labels: " + ", ".join(f"{k} {v:,}" for k, v in result["label_counts"].items()))
    out.print(graph_lines(result["graph"]))


