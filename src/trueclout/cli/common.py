"""Shared pieces of the command line: the typer apps, consoles, options and output helpers.

The consoles ``out`` and ``err`` print text that may come from stored data (handles,
names, bios, file names, error messages quoting them), so they are
:class:`SafeConsole` objects: rich markup is never interpreted (style with ``style=`` or
``Text``) and control characters are shown escaped (:func:`clean`), so a handle cannot
colour the terminal, move its cursor or change its title.

Examples
--------
>>> fmt_int(1234567)
'1,234,567'
"""

from __future__ import annotations

import json
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table
from rich.text import Text

from .. import __version__, config
from ..errors import UsageError

app = typer.Typer(name="trueclout", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Measure real, relevant influence on social networks: audit audiences, "
                       "not follower counts.")
#: Characters a terminal may act on: C0 controls but tab and newline, DEL, C1 controls,
#: and the bidirectional embeddings, overrides and isolates that reorder what is shown.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: The largest count an option takes (accounts, rows): vertex ids are int32.
COUNT_MAX = 2**31 - 1


def clean(text: str) -> str:
    r"""``text`` with the characters a terminal would act on shown as escapes (``\x1b``,
    ``\u202e``); tab and newline stay.

    Examples
    --------
    >>> print(clean("ana\x1b]0;pwned\x07 [bold]x[/] \u202eevil"))
    ana\x1b]0;pwned\x07 [bold]x[/] \u202eevil
    """
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeConsole(Console):
    r"""A rich console for text that may come from stored data: markup off by default and
    every string it renders (arguments of ``print``, table cells and titles) passed
    through :func:`clean`.

    Examples
    --------
    >>> import io
    >>> c = SafeConsole(file=io.StringIO(), force_terminal=True, color_system="truecolor")
    >>> c.print("[bold red]@x[/] \x1b[31mred\x1b[0m", highlight=False)
    >>> print(c.file.getvalue(), end="")
    [bold red]@x[/] \x1b[31mred\x1b[0m
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(**kwargs)

    def render_str(self, text: str, **kwargs) -> Text:
        r"""Rich's ``render_str`` of the :func:`clean` text.

        Examples
        --------
        >>> print(SafeConsole().render_str("a\x1bb").plain)
        a\x1bb
        """
        return super().render_str(clean(text), **kwargs)


def styled(label: str, style: str, rest: str = "") -> Text:
    r"""A line that starts with ``label`` in ``style`` and goes on with ``rest`` (cleaned),
    for the consoles (which interpret no markup).

    Examples
    --------
    >>> print(styled("Error:", "red", "bad \x1b").plain)
    Error: bad \x1b
    """
    return Text.assemble((label, style), " " + clean(rest) if rest else "")


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="DuckDB store (default: $TRUECLOUT_DB or "
                        "./trueclout.duckdb).", show_default=False)
JsonOption = typer.Option(False, "--json", help="Print one JSON document instead of text.")
ModelOption = typer.Option(
    None, "--model", help="Authenticity model: a file from `trueclout train`, `default` (the "
    "shipped model, trained on public labelled data sets; the default) or `simulator` "
    "(trained on the simulator's ground truth).", show_default=False)


def model_choice(model: Optional[str]) -> Optional[str]:
    """Check ``--model``: a built-in name or an existing file.

    Examples
    --------
    >>> model_choice(None), model_choice("simulator")
    (None, 'simulator')
    >>> model_choice("/nonexistent.json")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: model file /nonexistent.json does not exist (built-in models: default, simulator)
    """
    if model is None:
        return model
    from ..detect.default import BUILTIN_MODELS
    if model in BUILTIN_MODELS:
        return model
    if not Path(model).is_file():
        raise UsageError(f"model file {model} does not exist (built-in models: "
                         f"{', '.join(BUILTIN_MODELS)})")
    return model


def resolve_db(db: Optional[Path]) -> str:
    """The store a command uses: ``--db`` when given, else setting ``db``.

    Examples
    --------
    >>> resolve_db(Path("my.duckdb")), resolve_db(None) == str(config.get("db"))
    ('my.duckdb', True)
    """
    return str(db) if db is not None else str(config.get("db"))


class _CleanColumn(TextColumn):
    """A progress column of plain, cleaned text (descriptions name files)."""

    def render(self, task) -> Text:
        return Text(clean(self.text_format.format(task=task)), style=self.style)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on standard error (silent when it is not a terminal).

    Examples
    --------
    >>> with progress_bar(False) as p:
    ...     t = p.add_task("reading", total=None, rows="")
    """
    progress = Progress(SpinnerColumn(), _CleanColumn("{task.description}"), BarColumn(),
                        TaskProgressColumn(), _CleanColumn("{task.fields[rows]}"),
                        TimeElapsedColumn(), console=err, transient=True,
                        disable=not enabled)
    with progress:
        yield progress


@dataclass
class Col:
    """A column of :func:`fit_table`: its header, how a row becomes its cell (lines
    joined by newlines), its alignment, and how soon it goes when the terminal is too
    narrow (0: never; higher goes first). Account ids and handles are priority 0 and
    never cut.

    Examples
    --------
    >>> Col("#", lambda r: str(r["rank"])).justify
    'right'
    """

    header: str
    cell: Callable[[dict], str]
    justify: str = "right"
    drop: int = 0
    #: Free text (reasons) that wraps over lines in the width left, rather than widen
    #: the table.
    wrap: bool = False


def console_width() -> int:
    """The width to print at: ``COLUMNS`` when set (read now, not when the console was
    made), else the console's.

    Examples
    --------
    >>> import os; old = os.environ.get("COLUMNS"); os.environ["COLUMNS"] = "80"
    >>> console_width()
    80
    >>> _ = os.environ.pop("COLUMNS") if old is None else os.environ.update(COLUMNS=old)
    """
    try:
        return max(int(os.environ.get("COLUMNS", "")), 20)
    except ValueError:
        return out.width


def fit_table(cols: list[Col], rows: list[dict], *, wide: bool = False,
              title: str | None = None, width: int | None = None) -> tuple[Table, list[str]]:
    """A table of ``rows`` that fits the terminal without cutting any cell: columns of
    the highest ``drop`` go first until it fits (none with ``wide``); each kept column
    is as wide as its widest cell, so an id is never shortened to ``sim:u10…``.
    Returns the table and the headers left out (say so, and offer ``--wide``).

    Examples
    --------
    >>> cols = [Col("account", lambda r: r["a"], "left"), Col("note", lambda r: r["n"],
    ...         drop=1)]
    >>> t, gone = fit_table(cols, [{"a": "sim:u1000042", "n": "x" * 30}], width=30)
    >>> gone, [c.header for c in t.columns]
    (['note'], ['account'])
    """
    width = console_width() if width is None else width
    cells = [[c.cell(r) for c in cols] for r in rows]

    def need(j: int) -> int:
        return max([len(cols[j].header)] + [len(line) for row in cells
                                            for line in str(row[j]).splitlines() or [""]])

    widths = [min(need(j), 20) if cols[j].wrap else need(j) for j in range(len(cols))]
    keep = list(range(len(cols)))
    if not wide:
        order = sorted((j for j in keep if cols[j].drop > 0),
                       key=lambda j: (-cols[j].drop, -j))
        while sum(widths[j] + 3 for j in keep) + 1 > width and order:
            keep.remove(order.pop(0))
    t = Table(title=title)
    for j in keep:
        if cols[j].wrap:
            t.add_column(cols[j].header, justify=cols[j].justify, ratio=1,
                         min_width=widths[j])
        else:
            t.add_column(cols[j].header, justify=cols[j].justify, no_wrap=True,
                         min_width=widths[j], overflow="fold")
    for row in cells:
        t.add_row(*(row[j] for j in keep))
    return t, [cols[j].header for j in range(len(cols)) if j not in keep]


def print_table(cols: list[Col], rows: list[dict], *, wide: bool = False,
                title: str | None = None) -> None:
    """Print :func:`fit_table` (at full width with ``wide``) and name the columns it
    left out.

    Examples
    --------
    >>> print_table([Col("account", lambda r: r["a"])], [{"a": "toy:ana"}])
    ... # doctest: +ELLIPSIS
    ┏━━━━━━━━━┓
    ┃ account ┃
    ...
    │ toy:ana │
    └─────────┘
    """
    t, gone = fit_table(cols, rows, wide=wide, title=title)
    need = sum(max(len(c.header), 1) for c in t.columns)
    out.print(t, width=None if not wide else max(console_width(), 4 * need, 200))
    if gone:
        out.print(f"(left out to fit {console_width()} columns: {', '.join(gone)}; --wide "
                  "shows every column)")


def who_cell(account: str, handle: str | None) -> str:
    r"""An account as a cell: its id, and its handle on the line below (never cut).

    Examples
    --------
    >>> who_cell("sim:u1000042", "milme")
    'sim:u1000042\n@milme'
    """
    return f"{account}\n@{handle}" if handle else account


WideOption = typer.Option(False, "--wide", help="Print every column, however wide the "
                          "table (by default, columns that do not fit the terminal are "
                          "left out; ids and handles are never cut).")


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON on standard output (anything else as its text).

    Examples
    --------
    >>> print_json({"n": 1})
    {
      "n": 1
    }
    """
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fmt_int(n: int) -> str:
    """A whole number with thousands separators.

    Examples
    --------
    >>> fmt_int(1234567)
    '1,234,567'
    """
    return f"{n:,}"


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is 1.

    Examples
    --------
    >>> plural(1, "interaction"), plural(2_000, "follower"), plural(0, "period")
    ('1 interaction', '2,000 followers', '0 periods')
    """
    return f"{n:,} {word}{'' if n == 1 else 's'}"


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


def count(v: int | None) -> str:
    """A count with thousands separators, ``–`` when unknown.

    Examples
    --------
    >>> count(19610), count(None)
    ('19,610', '–')
    """
    return "–" if v is None else f"{int(v):,}"


def _num(v: object) -> str:
    """A figure for text output: whole numbers without decimals (a degree quantile of 8
    is ``8``, not ``8.000``), others with three significant decimals below 10.

    Examples
    --------
    >>> _num(8.0), _num(49.0), _num(0.3871), _num(1234.5), _num(None)
    ('8', '49', '0.387', '1,234.5', '-')
    """
    if v is None:
        return "-"
    if isinstance(v, float):
        if v.is_integer():
            return f"{int(v):,}"
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def graph_lines(g: dict) -> str:
    """The graph part of ``stats`` as text: sizes, reciprocity and degree quantiles.

    Examples
    --------
    >>> graph_lines({"vertices": 3, "edges": 2, "reciprocity": 0.5}).splitlines()[0]
    'graph: 3 vertices, 2 follows, reciprocity 0.500'
    """
    lines = [f"graph: {_num(g.get('vertices'))} vertices, {_num(g.get('edges'))} follows, "
             f"reciprocity {_num(g.get('reciprocity'))}"]
    for side in ("in_degree", "out_degree"):
        q = g.get(side)
        if isinstance(q, dict):
            lines.append(f"{side.replace('_', '-')}: "
                         + ", ".join(f"{k} {_num(v)}" for k, v in q.items()))
    return "\n".join(lines)



def check_out(path: Optional[Path]) -> None:
    """Refuse an ``--out`` table file that is neither ``.csv`` nor ``.parquet``.

    Examples
    --------
    >>> check_out(Path("t.CSV")), check_out(None)
    (None, None)
    >>> check_out(Path("t.txt"))
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: --out must end in .csv or .parquet, not 't.txt'
    """
    if path is not None and path.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out must end in .csv or .parquet, not {path.name!r}")


@contextmanager
def stage_progress(enabled: bool, prefix: str = "evaluating") -> Iterator:
    """A progress display (:func:`progress_bar`) of one task, ``evaluating`` at first; yields
    the callback ``cb(stage)`` that shows ``"<prefix>: <stage>"``.

    Examples
    --------
    >>> with stage_progress(False) as cb:
    ...     cb("the simulator")
    """
    with progress_bar(enabled) as progress:
        task = progress.add_task("evaluating", total=None, rows="")

        def cb(stage: str) -> None:
            progress.update(task, description=f"{prefix}: {stage}")

        yield cb


def write_eval(result: dict, markdown: str, out_dir: Path, stem: str, as_json: bool) -> None:
    """Write an evaluation as ``<out_dir>/<stem>.json`` and ``.md`` (the folder created if
    needed), then print the JSON (``--json``) or the markdown and where both went.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> write_eval({"f1": 1.0}, "# F1 1.0", d, "x", as_json=True)  # doctest: +ELLIPSIS
    {
      "f1": 1.0
    }
    >>> sorted(p.name for p in d.iterdir())
    ['x.json', 'x.md']
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path.write_text(markdown)
    if as_json:
        print_json(result)
    else:
        out.print(markdown)
        out.print(f"written to {json_path} and {md_path}")


def write_table(table, path: Path) -> None:
    """Write an Arrow table as CSV or Parquet, by the file's suffix (its folder made).

    Examples
    --------
    >>> import tempfile
    >>> import pyarrow as pa
    >>> p = Path(tempfile.mkdtemp()) / "out" / "t.csv"
    >>> write_table(pa.table({"a": [1]}), p)
    >>> p.read_text().splitlines()
    ['"a"', '1']
    """
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

