"""Shared pieces of the command line: the typer apps, consoles, options and output helpers.

Examples
--------
>>> _fmt_int(1234567)
'1,234,567'
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn)

from .. import __version__, config
from ..errors import UsageError

app = typer.Typer(name="trueclout", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Measure real, relevant influence on social networks: audit audiences, "
                       "not follower counts.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="DuckDB store (default: $TRUECLOUT_DB or "
                        "./trueclout.duckdb).", show_default=False)
JsonOption = typer.Option(False, "--json", help="Print one JSON document instead of text.")
ModelOption = typer.Option(
    None, "--model", help="Authenticity model: a file from `trueclout train`, `default` (the "
    "shipped model, trained on public labelled data sets; the default) or `simulator` "
    "(trained on the simulator's ground truth).", show_default=False)


def _model(model: Optional[str]) -> Optional[str]:
    """Check ``--model``: a built-in name or an existing file.

    Examples
    --------
    >>> _model(None), _model("simulator")
    (None, 'simulator')
    >>> _model("/nonexistent.json")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: model file /nonexistent.json does not exist (built-in models: default, simulator)
    """
    from ..detect.default import BUILTIN_MODELS
    if model is None or model in BUILTIN_MODELS:
        return model
    if not Path(model).is_file():
        raise UsageError(f"model file {model} does not exist (built-in models: "
                         f"{', '.join(BUILTIN_MODELS)})")
    return model


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



eval_app = typer.Typer(help="Evaluations with their figures (JSON and markdown).",
                       no_args_is_help=True)
app.add_typer(eval_app, name="eval")


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



def _check_out(path: Optional[Path]) -> None:
    """Refuse an ``--out`` table file that is neither ``.csv`` nor ``.parquet``.

    Examples
    --------
    >>> _check_out(Path("t.CSV")), _check_out(None)
    (None, None)
    >>> _check_out(Path("t.txt"))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: --out must end in .csv or .parquet, not 't.txt'
    """
    if path is not None and path.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out must end in .csv or .parquet, not {path.name!r}")


@contextmanager
def _stage_progress(enabled: bool, prefix: str = "evaluating") -> Iterator:
    """A progress display (:func:`_progress`) of one task, ``evaluating`` at first; yields
    the callback ``cb(stage)`` that shows ``"<prefix>: <stage>"``."""
    with _progress(enabled) as progress:
        task = progress.add_task("evaluating", total=None, rows="")

        def cb(stage: str) -> None:
            progress.update(task, description=f"{prefix}: {stage}")

        yield cb


def _write_eval(result: dict, markdown: str, out_dir: Path, stem: str, as_json: bool) -> None:
    """Write an evaluation as ``<out_dir>/<stem>.json`` and ``.md`` (the folder created if
    needed), then print the JSON (``--json``) or the markdown and where both went."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path.write_text(markdown)
    if as_json:
        _print_json(result)
    else:
        out.print(markdown)
        out.print(f"written to {json_path} and {md_path}")


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

