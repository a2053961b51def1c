"""Commands of the score stage: ``rank`` (registered on import by :mod:`trueclout.cli`)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..errors import UsageError
from .common import (COUNT_MAX, DbOption, JsonOption, ModelOption, _check_out, _db, _model,
                     _print_json, _progress,
                     _write_table, app, out)


@contextmanager
def score_context_cli(db: Optional[Path], model: Optional[str], as_json: bool):
    """Open the store read-only, read it and fit detection (progress on standard error),
    and yield the ScoreContext with the store still open (topics read terms from it on
    demand); the shared start of ``rank``, ``find``, ``overlap``, ``plan`` and ``suggest``.

    Examples
    --------
    >>> score_context_cli  # doctest: +ELLIPSIS
    <function score_context_cli at ...>
    """
    from ..score.context import ScoreContext
    from ..store import Store
    from .detect import _detection
    model = _model(model)
    with Store(_db(db), read_only=True) as store:
        data, ens = _detection(store, model, as_json)
        ctx = ScoreContext.from_data(data, ens)
        ctx.store = store
        yield ctx


@app.command(help="Rank accounts by TrueRank (default), follower count, authentic reach or "
                  "engagement influence, optionally within a topic; saves the run's scores "
                  "in the store unless --no-save.")
def rank(
    by: str = typer.Option("truerank", "--by", help="truerank, followers, reach, engagement "
                           "or pagerank."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Rank within a topic: a term, "
                                        "hashtag or community:N."),
    top: int = typer.Option(20, "--top", max=COUNT_MAX,
                            help="Accounts to print (the --out file holds all)."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Write every account to "
                                            "FILE.csv or FILE.parquet."),
    model: Optional[str] = ModelOption,
    save: bool = typer.Option(True, "--save/--no-save", help="Save the scores as a run in the "
                              "store (runs and scores tables)."),
    backend: str = typer.Option("local", "--backend", help="local (default) or spark: "
                                "followers, PageRank, TrueRank and reach as Spark jobs "
                                "(settings spark_*); engagement stays local."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..score.rank import RANKINGS, rank_all, ranking_table
    from ..spark.backend import check_backend
    if check_backend(backend) == "spark" and topic:
        raise UsageError("--topic needs the local backend")
    if by not in RANKINGS:
        raise UsageError(f"unknown ranking {by!r} for --by; choose from {', '.join(RANKINGS)}")
    if top < 1:
        raise UsageError("--top must be at least 1")
    _check_out(out_path)
    t0 = time.perf_counter()
    with score_context_cli(db, model, as_json) as ctx, _progress(not as_json) as progress:
        progress.add_task("ranking: TrueRank, reach, engagement"
                          + (", topics" if topic else ""), total=None, rows="")
        if backend == "spark":
            from ..spark.backend import rank_scores_cli
            scores = rank_scores_cli(ctx)
        else:
            scores = rank_all(ctx, topic)
        table = ranking_table(ctx, by, topic=topic, scores=scores)
    seconds = round(time.perf_counter() - t0, 3)
    run_id = None
    if save and ctx.n:
        from ..store import Store
        with Store(_db(db)) as store:
            run_id = store.save_run("rank", {"by": by, "topic": topic},
                                    {"accounts": ctx.n, "seconds": seconds},
                                    ctx.graph.uids, scores)
    if out_path is not None:
        _write_table(table, out_path)
    rows = table.slice(0, top).to_pylist()
    summary = {"by": by, "topic": topic, "backend": backend, "accounts": ctx.n,
               "run_id": run_id,
               "seconds": seconds, "out": str(out_path) if out_path else None, "top": rows}
    if as_json:
        _print_json(summary)
        return
    title = f"top {len(rows)} by {by}" + (f" on {topic!r}" if topic else "")
    t = Table(title=title)
    for c in ("#", "account", "followers", "reach", "TrueRank", "top% fol.", "top% TR",
              "category"):
        t.add_column(c, justify="left" if c in ("account", "category") else "right")
    for r in rows:
        name = f"{r['platform']}:{r['account_id']}" + (f" @{r['handle']}" if r["handle"] else "")
        t.add_row(str(r["rank"]), name, f"{r['followers']:,}", f"{r['authentic_reach']:,.1f}",
                  f"{r['truerank']:.2f}", f"{r['top_pct_followers']:.2f}",
                  f"{r['top_pct_truerank']:.2f}", r["category"])
    out.print(t)
    out.print("reach: authentic reach; TrueRank in multiples of the average account's; "
              "top%: share of accounts ranked higher by followers (fol.) and TrueRank (TR).")
    if run_id is not None:
        out.print(f"saved as run {run_id} in {_db(db)}")
    if out_path:
        out.print(f"all accounts written to {out_path}")
