"""The ``trueclout`` command line.

Exit codes: 0 success, 1 bad data (or a store problem), 2 usage error. With ``--json`` a
command prints one JSON document on standard output; errors then also print as
``{"error": {...}}`` in the one error shape of :meth:`trueclout.errors.TruecloutError.to_dict`.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--help"])
>>> result.exit_code, "ingest" in result.output
(0, True)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from . import __version__, config
from .errors import TruecloutError, UsageError

app = typer.Typer(name="trueclout", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Measure real, relevant influence on social networks: audit audiences, "
                       "not follower counts.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="DuckDB store (default: $TRUECLOUT_DB or "
                        "./trueclout.duckdb).", show_default=False)
JsonOption = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _db(db: Optional[Path]) -> str:
    return str(db) if db is not None else str(config.get("db"))


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on standard error (silent when it is not a terminal)."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TaskProgressColumn(), TextColumn("{task.fields[rows]}"),
                        TimeElapsedColumn(), console=err, transient=True,
                        disable=not enabled)
    with progress:
        yield progress


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def _version(value: bool) -> None:
    if value:
        out.print(f"trueclout {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Measure real, relevant influence on social networks."""


# -- ingest -----------------------------------------------------------------------------
def _format_help() -> str:
    from .ingest import REGISTRY
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
    label_source: Optional[str] = typer.Option(None, "--label-source",
                                               help="Source of --label (default: file name)."),
    platform: Optional[str] = typer.Option(None, "--platform",
                                           help="Platform that scopes account ids when the "
                                                "source does not say."),
    table: Optional[str] = typer.Option(None, "--table",
                                        help="Domain table of a generic CSV/Parquet/JSONL file "
                                             "when its name and columns do not tell."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any row was rejected."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from .ingest.run import ingest as run_ingest
    from .store import Store

    if label is not None:
        from .model import LABELS
        if label not in LABELS:
            raise UsageError(f"unknown label {label!r}; known labels: {', '.join(LABELS)}")
    if label_source is not None and label is None:
        raise UsageError("--label-source needs --label")
    t0 = time.perf_counter()
    with Store(_db(db)) as store, _progress(not as_json) as progress:
        tasks: dict[str, int] = {}

        def cb(source: str, stage: str, rows: int) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(Path(source).name, total=None, rows="")
            progress.update(tasks[source], description=f"{Path(source).name}: {stage}",
                            rows=f"{rows:,} rows")

        report = run_ingest(store, paths, fmt=format, label=label, label_source=label_source,
                            platform=platform, table=table, progress=cb)
    summary = report.to_dict()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["db"] = _db(db)
    if as_json:
        _print_json(summary)
    else:
        t = Table(title=f"ingest into {_db(db)}")
        for c in ("source", "format", "read", "accepted", "rejected", "new accounts", "seconds"):
            t.add_column(c, justify="right" if c not in ("source", "format") else "left")
        for r in report.loads:
            t.add_row(Path(r.source).name, r.format + (" (already loaded)" if r.skipped else ""),
                      _fmt_int(r.read), _fmt_int(r.accepted), _fmt_int(r.rejected),
                      _fmt_int(r.new_accounts), f"{r.seconds:.1f}")
        out.print(t)
        for r in report.loads:
            if r.rejected:
                err.print(f"[yellow]{r.source}: {r.rejected:,} rows rejected; first: "
                          + "; ".join(r.first_rejects[:3])
                          + " (all in the rejects table)[/yellow]")
        for f in report.failures:
            err.print(f"[red]{f['source']}: {f['error']}[/red]")
    if report.failures and not report.loads:
        raise typer.Exit(1)
    if report.failures or (strict and summary["rejected"]):
        raise typer.Exit(1)


@app.command(help="List the input formats that `ingest` understands.")
def formats(as_json: bool = JsonOption) -> None:
    from .ingest import REGISTRY
    rows = [{"format": n, "description": r.description} for n, r in sorted(REGISTRY.items())]
    if as_json:
        _print_json(rows)
        return
    t = Table(title="formats")
    t.add_column("format")
    t.add_column("description")
    for r in rows:
        t.add_row(r["format"], r["description"])
    out.print(t)


# -- simulate ---------------------------------------------------------------------------
def _simulate_into(out_dir: Path, accounts: int, seed: int, as_json: bool) -> dict:
    from .simulate import simulate as run_sim
    with _progress(not as_json) as progress:
        task = progress.add_task("simulating", total=None, rows="")

        def cb(*args) -> None:
            stage = next((a for a in args if isinstance(a, str)), "simulating")
            nums = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
            progress.update(task, description=f"simulate: {stage}",
                            rows=f"{int(nums[0]):,}" if nums else "")

        return run_sim(out_dir, accounts=accounts, seed=seed, progress=cb)


def _ingest_quiet(store, paths: list[Path], as_json: bool):
    from .ingest.run import ingest as run_ingest
    with _progress(not as_json) as progress:
        task = progress.add_task("ingest", total=None, rows="")

        def cb(source: str, stage: str, rows: int) -> None:
            progress.update(task, description=f"ingest: {stage}", rows=f"{rows:,} rows")

        return run_ingest(store, paths, progress=cb)


@app.command(help="Generate a simulated platform with planted attacks and ground truth, as "
                  "Parquet (--out) and/or straight into a store (--db).")
def simulate(
    accounts: int = typer.Option(config.get("sim_accounts"), "--accounts", "-n", min=10,
                                 help="Number of accounts."),
    seed: int = typer.Option(config.get("sim_seed"), "--seed", help="Random seed."),
    out_dir: Optional[Path] = typer.Option(None, "--out",
                                           help="Write the Parquet folder here (kept)."),
    db: Optional[Path] = typer.Option(None, "--db", help="Load the platform into this store. "
                                      "Default: ./trueclout.duckdb unless --out is given."),
    as_json: bool = JsonOption,
) -> None:
    from .store import Store
    keep = out_dir is not None
    target = out_dir or Path(tempfile.mkdtemp(prefix="trueclout-sim-"))
    if keep and target.exists() and any(target.iterdir()) \
            and not (target / "manifest.json").exists():
        raise UsageError(f"--out {target} exists and is not a simulator folder; "
                         "choose an empty or new folder")
    try:
        summary = {"simulation": _simulate_into(target, accounts, seed, as_json)}
        if keep:
            summary["out"] = str(target)
        if db is not None or not keep:
            with Store(_db(db)) as store:
                report = _ingest_quiet(store, [target], as_json)
            summary["ingest"] = report.to_dict()
            summary["db"] = _db(db)
            if report.failures:
                raise TruecloutError("; ".join(f["error"] for f in report.failures))
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    if as_json:
        _print_json(summary)
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
def compute_stats(store) -> dict:
    """Counts per table, degree quantiles and reciprocity of the follow graph.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> compute_stats(Store(":memory:"))["follows"]
    0
    """
    from .graph.build import build_graph
    from .graph.stats import graph_stats
    stats: dict = dict(store.counts())
    stats["label_counts"] = store.label_counts()
    graph = build_graph(store, interactions=False)
    stats["graph"] = graph_stats(graph)
    return stats


@app.command(help="Counts per table, degree quantiles and reciprocity of the store.")
def stats(db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    from .store import Store
    with Store(_db(db), read_only=True) as store:
        result = compute_stats(store)
    if as_json:
        _print_json(result)
        return
    t = Table(title=f"store {_db(db)}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k in ("accounts", "follows", "posts", "interactions", "profile_snapshots", "labels",
              "account_terms", "ingests", "rejects"):
        t.add_row(k, _fmt_int(result[k]))
    out.print(t)
    if result["label_counts"]:
        out.print("labels: " + ", ".join(f"{k} {v:,}" for k, v in result["label_counts"].items()))
    out.print(_graph_lines(result["graph"]))


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _graph_lines(g: dict) -> str:
    lines = [f"graph: {_num(g.get('vertices'))} vertices, {_num(g.get('edges'))} follows, "
             f"reciprocity {_num(g.get('reciprocity'))}"]
    for side in ("in_degree", "out_degree"):
        q = g.get(side)
        if isinstance(q, dict):
            lines.append(f"{side.replace('_', '-')}: "
                         + ", ".join(f"{k} {_num(v)}" for k, v in q.items()))
    return "\n".join(lines)


# -- detection --------------------------------------------------------------------------
def _detection(store, model, as_json: bool, stage_prefix: str = ""):
    """Read the store's detection data and fit the ensemble, with progress."""
    from .detect.data import DetectionData
    from .detect.ensemble import EnsembleDetector
    with _progress(not as_json) as progress:
        task = progress.add_task(f"{stage_prefix}reading the store", total=None, rows="")

        def read_cb(stage, rows=0, *a):
            progress.update(task, description=f"{stage_prefix}graph: {stage}",
                            rows=f"{int(rows):,}" if rows else "")

        data = DetectionData.from_store(store, progress=read_cb)

        def fit_cb(member):
            progress.update(task, description=f"{stage_prefix}detecting: {member}", rows="")

        ens = EnsembleDetector(model=model).fit(data, progress=fit_cb)
    return data, ens


def detection_table(data, ens):
    """Per-account detection output: platform, account_id, authenticity, predicted_label,
    category and the top three reasons.

    Examples
    --------
    >>> detection_table  # doctest: +ELLIPSIS
    <function detection_table at ...>
    """
    import numpy as np
    import pyarrow as pa
    reasons = [[], [], []]
    for v in range(data.n):
        rs = ens.top_reasons(v) if ens.labels_[v] else []
        for k in range(3):
            reasons[k].append(rs[k] if k < len(rs) else None)
    names = data.graph.names
    return pa.table({
        "platform": names.column("platform").cast(pa.string()),
        "account_id": names.column("account_id"),
        "authenticity": pa.array(np.round(ens.authenticity_, 4)),
        "predicted_label": pa.array(np.where(ens.labels_ > 0, "fake", "real")),
        "category": pa.array(ens.category_.astype(str)),
        "reason_1": pa.array(reasons[0], pa.string()),
        "reason_2": pa.array(reasons[1], pa.string()),
        "reason_3": pa.array(reasons[2], pa.string()),
    })


def _write_table(table, path: Path) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        import pyarrow.csv as pcsv
        pcsv.write_csv(table, path)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq
        pq.write_table(table, path)
    else:
        raise UsageError(f"--out must end in .csv or .parquet, not {path.name!r}")


@app.command(help="Train the authenticity classifier on the store's labels.")
def train(
    model_out: Path = typer.Option(..., "--model-out", help="Where to save the model."),
    labels_source: Optional[List[str]] = typer.Option(
        None, "--labels-source", help="Use only labels from these sources (repeatable)."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from .detect.classifier import train_model
    from .store import Store
    with Store(_db(db), read_only=True) as store:
        _, report = train_model(store, label_sources=labels_source or None,
                                model_out=model_out)
    report = {**report, "model": str(model_out)}
    if as_json:
        _print_json(report)
    else:
        for k, v in report.items():
            if not isinstance(v, (dict, list)):
                out.print(f"{k}: {v}")
        out.print(f"model written to {model_out}")


@app.command(help="Score every account: authenticity (1 = real), predicted label, category "
                  "and the top three reasons, from the classifier and the graph detectors.")
def detect(
    model: Optional[Path] = typer.Option(None, "--model", help="Model from `trueclout train` "
                                         "(default: trained on the simulator, cached)."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Write every account to "
                                            "FILE.csv or FILE.parquet."),
    top: int = typer.Option(10, "--top", help="Most suspicious accounts to print."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from .store import Store
    if out_path is not None and out_path.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out must end in .csv or .parquet, not {out_path.name!r}")
    if model is not None and not model.exists():
        raise UsageError(f"model file {model} does not exist")
    with Store(_db(db), read_only=True) as store:
        data, ens = _detection(store, str(model) if model else None, as_json)
    table = detection_table(data, ens)
    if out_path is not None:
        _write_table(table, out_path)
    import numpy as np
    cats, counts = np.unique(ens.category_.astype(str), return_counts=True)
    order = np.argsort(ens.authenticity_)[:top]
    summary = {"accounts": data.n, "flagged": int(ens.labels_.sum()),
               "categories": {str(c): int(k) for c, k in zip(cats, counts)},
               "members": sorted(ens.members_), "skipped": ens.skipped_,
               "out": str(out_path) if out_path else None,
               "most_suspicious": table.take(order).to_pylist()}
    if as_json:
        _print_json(summary)
        return
    out.print(f"{data.n:,} accounts, {summary['flagged']:,} flagged; "
              + ", ".join(f"{c} {k:,}" for c, k in summary["categories"].items()))
    t = Table(title="most suspicious")
    for c in ("account", "authenticity", "category", "reason"):
        t.add_column(c)
    for r in summary["most_suspicious"]:
        t.add_row(f"{r['platform']}:{r['account_id']}", f"{r['authenticity']:.3f}",
                  r["category"], r["reason_1"] or "")
    out.print(t)
    if out_path:
        out.print(f"all accounts written to {out_path}")


@app.command(help="Audit one account's audience: composition with confidence intervals, "
                  "engagement authenticity, bought growth, Audience Quality Score, reasons.")
def audit(
    account: str = typer.Argument(..., help="platform:account_id, an account id, or @handle."),
    model: Optional[Path] = typer.Option(None, "--model", help="Classifier model file."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained "
                                        "HTML page here."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from .audit import audit_account
    from .store import Store
    if model is not None and not model.exists():
        raise UsageError(f"model file {model} does not exist")
    with Store(_db(db), read_only=True) as store:
        data, ens = _detection(store, str(model) if model else None, as_json)
    report = audit_account(data, ens, account, db=_db(db))
    if html is not None:
        from .report.html import render_audit_html
        render_audit_html(report, html)
        report["html"] = str(html)
    if as_json:
        _print_json(report)
        return
    _print_audit(report)


def _print_audit(a: dict) -> None:
    acc = a["account"]
    out.print(f"[bold]{acc['platform']}:{acc['account_id']}[/bold] "
              f"{('@' + acc['handle']) if acc.get('handle') else ''}: "
              f"Audience Quality Score [bold]{a['aqs']['score']}[/bold] / 100")
    t = Table(title=f"audience ({a['audience']['known_followers']:,} known of "
                    f"{a['audience']['population']:,})")
    for c in ("category", "share", "95% CI", "estimated"):
        t.add_column(c, justify="left" if c == "category" else "right")
    for cat, c in a["audience"]["composition"].items():
        t.add_row(cat, f"{100 * c['share']:.1f}%",
                  f"{100 * c['lo']:.1f}-{100 * c['hi']:.1f}%", f"{c['estimated']:,}")
    out.print(t)
    e = a["engagement"]
    out.print(f"engagement: {e['total']:,} received, {100 * e['authentic_share']:.1f}% from "
              f"authentic accounts{'; in an engagement pod' if e['in_pod'] else ''}")
    gr = a["growth"]
    out.print(f"growth: {len(gr['anomalous_periods'])} anomalous period(s), about "
              f"{gr['bought_estimate']:,} followers bought")
    for r in a["reasons"]:
        out.print(f"  - {r}")
    if a.get("html"):
        out.print(f"report: {a['html']}")


eval_app = typer.Typer(help="Evaluations with their figures (JSON and markdown).",
                       no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("detection", help="Run the detection evaluations: Cresci 2015 CV, "
                  "cross-source, the simulator's attacks, and an injected block on SNAP.")
def eval_detection(
    out_dir: Path = typer.Option(Path("eval-results"), "--out", help="Folder for "
                                 "detection.json and detection.md."),
    quick: bool = typer.Option(False, "--quick", help="Smaller simulated platforms."),
    as_json: bool = JsonOption,
) -> None:
    from .detect.evaluate import evaluate_detection, markdown_report
    with _progress(not as_json) as progress:
        task = progress.add_task("evaluating", total=None, rows="")

        def cb(stage: str) -> None:
            progress.update(task, description=f"evaluating: {stage}")

        result = evaluate_detection(quick=quick, progress=cb)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "detection.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    md = markdown_report(result)
    (out_dir / "detection.md").write_text(md)
    if as_json:
        _print_json(result)
    else:
        out.print(md)
        out.print(f"written to {out_dir / 'detection.json'} and {out_dir / 'detection.md'}")


# -- demo -------------------------------------------------------------------------------
@app.command(help="Simulate a platform of about 50,000 accounts into a fresh store, build the "
                  "graph and print a summary and where the files are.")
def demo(
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the demo's files "
                                           "(default: a new temporary folder)."),
    accounts: int = typer.Option(config.get("sim_accounts"), "--accounts", "-n", min=100,
                                 help="Number of simulated accounts."),
    seed: int = typer.Option(config.get("sim_seed"), "--seed", help="Random seed."),
    as_json: bool = JsonOption,
) -> None:
    from .store import Store
    folder = (out_dir or Path(tempfile.mkdtemp(prefix="trueclout-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    platform_dir = folder / "platform"
    db_path = folder / "trueclout.duckdb"
    for p in (db_path, Path(str(db_path) + ".wal")):
        if p.exists():
            p.unlink()
    if platform_dir.exists():
        shutil.rmtree(platform_dir)
    t0 = time.perf_counter()
    sim = _simulate_into(platform_dir, accounts, seed, as_json)
    t_sim = time.perf_counter() - t0
    with Store(db_path) as store:
        report = _ingest_quiet(store, [platform_dir], as_json)
        if report.failures:
            raise TruecloutError("; ".join(f["error"] for f in report.failures))
        t_ing = time.perf_counter() - t0 - t_sim
        result = compute_stats(store)
        data, ens = _detection(store, None, as_json)
    t_det = time.perf_counter() - t0 - t_sim - t_ing
    audits = _demo_audits(data, ens, folder, str(db_path))
    t_all = time.perf_counter() - t0
    summary = {"folder": str(folder), "db": str(db_path), "platform": str(platform_dir),
               "report": str(folder / "summary.json"), "simulation": sim,
               "ingest": {k: v for k, v in report.to_dict().items() if k != "loads"},
               "stats": result,
               "detection": {"flagged": int(ens.labels_.sum()),
                             "members": sorted(ens.members_)},
               "audits": audits,
               "seconds": {"simulate": round(t_sim, 2), "ingest": round(t_ing, 2),
                           "detect": round(t_det, 2), "total": round(t_all, 2)}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if as_json:
        _print_json(summary)
        return
    out.print(f"[bold]trueclout demo[/bold]: simulated {accounts:,} accounts (seed {seed}) "
              f"in {t_sim:.1f} s, loaded in {t_ing:.1f} s")
    out.print(f"store: {result['accounts']:,} accounts, {result['follows']:,} follows, "
              f"{result['posts']:,} posts, {result['interactions']:,} interactions, "
              f"{result['labels']:,} labels, {result['rejects']:,} rejects")
    if result["label_counts"]:
        out.print("ground truth: " + ", ".join(f"{k} {v:,}"
                                               for k, v in result["label_counts"].items()))
    out.print(_graph_lines(result["graph"]))
    out.print(f"detection: {int(ens.labels_.sum()):,} accounts flagged in {t_det:.1f} s")
    if audits:
        t = Table(title="two accounts of similar size")
        for c in ("", "account", "followers", "real audience", "bought (est.)", "AQS"):
            t.add_column(c, justify="left" if c in ("", "account") else "right")
        for role, a in audits.items():
            t.add_row(role, a["account"], f"{a['followers']:,}",
                      f"{100 * a['real_share']:.0f}%", f"{a['bought']:,}", f"{a['aqs']}")
        out.print(t)
    out.print(f"\nfiles:\n  store:    {db_path}\n  platform: {platform_dir}")
    for role, a in audits.items():
        out.print(f"  audit of the {role} account: {a['html']} (and {a['json']})")
    out.print(f"  report:   {folder / 'summary.json'}")
    out.print(f"next: trueclout audit {next(iter(audits.values()))['account'] if audits else 'ACCOUNT'}"
              f" --db {db_path}")


def _demo_audits(data, ens, folder: Path, db: str) -> dict:
    """Audit the most-followed customer who bought followers and the honest account whose
    follower count is closest to it; write both reports."""
    import numpy as np
    from .audit import audit_account
    from .report.html import render_audit_html
    followers = data.column("followers_count", fill=0)
    customers = data.labels.get("customer")
    if customers is None or customers.size == 0:
        return {}
    bought = customers[np.argmax(followers[customers])]
    honest_mask = data.label_mask("human") & ~data.label_mask("customer", "fast_growth")
    honest_mask &= ens.labels_ == 0
    cand = np.flatnonzero(honest_mask)
    if cand.size == 0:
        return {}
    honest = cand[np.argmin(np.abs(followers[cand] - followers[bought]))]
    out_audits = {}
    for role, v in (("bought-followers", int(bought)), ("honest", int(honest))):
        rep = audit_account(data, ens, v, db=db)
        name = f"audit-{role}"
        (folder / f"{name}.json").write_text(json.dumps(rep, indent=2, default=str) + "\n")
        render_audit_html(rep, folder / f"{name}.html")
        acc = rep["account"]
        out_audits[role] = {"account": f"{acc['platform']}:{acc['account_id']}",
                            "followers": int(acc["followers_count"] or 0),
                            "real_share": rep["audience"]["composition"]["real"]["share"],
                            "bought": rep["growth"]["bought_estimate"],
                            "aqs": rep["aqs"]["score"],
                            "json": str(folder / f"{name}.json"),
                            "html": str(folder / f"{name}.html")}
    return out_audits


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trueclout`` console script; returns the exit code.

    Examples
    --------
    >>> main(["--version"])
    trueclout 0.1.0
    0
    """
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        app(args=args, prog_name="trueclout")  # standalone: usage errors exit 2
        return 0
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except TruecloutError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        if as_json:
            _print_json({"error": exc.to_dict()})
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # a bug: say so in one line, traceback on request
        if os.environ.get("TRUECLOUT_DEBUG"):
            raise
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc} "
                  "(set TRUECLOUT_DEBUG=1 for the traceback, and please report it)",
                  highlight=False)
        if as_json:
            _print_json({"error": {"type": "InternalError", "message": str(exc),
                                   "path": None, "line": None, "field": None}})
        return 1


def _console_main() -> None:  # pragma: no cover - thin wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _console_main()
