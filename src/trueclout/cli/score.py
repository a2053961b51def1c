"""Commands of the score stage: ``rank`` (registered on import by :mod:`trueclout.cli`)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

import pyarrow as pa

from ..errors import UsageError
from .common import (COUNT_MAX, Col, DbOption, JsonOption, ModelOption, WideOption,
                     check_out, resolve_db, model_choice, print_json, progress_bar, write_table, app,
                     count, out, print_table, who_cell)
from .remote import only_local, server_for


@contextmanager
def score_context_cli(db: Optional[Path], model: Optional[str], as_json: bool):
    """Open the store read-only, read it and fit detection (progress on standard error;
    the context saved by an earlier command while the data have not changed), and yield
    the ScoreContext with the store still open (topics read terms from it on
    demand); the shared start of ``rank``, ``find``, ``overlap``, ``plan`` and ``suggest``.

    Examples
    --------
    >>> import tempfile
    >>> from trueclout.store import Store
    >>> from trueclout.cli.data import ingest_quietly
    >>> p = Path(tempfile.mkdtemp()) / "f.txt"
    >>> _ = p.write_text("a b\\nb c\\n")
    >>> with Store(str(p.with_suffix(".duckdb"))) as s:
    ...     _ = ingest_quietly(s, [p], True)
    >>> with score_context_cli(p.with_suffix(".duckdb"), None, True) as ctx:
    ...     ctx.n
    3
    """
    from ..store import Store
    from .detect import detection_context
    model = model_choice(model)
    with Store(resolve_db(db), read_only=True) as store:
        yield detection_context(store, model, as_json)


def _rank_run(ctx, params: dict) -> tuple[dict, int | None]:
    """The parameters a ``rank`` run is saved with (the command's and the key of the
    data and detection it scored), and the id of a run saved before with the same ones,
    if any: a repeated command reuses it instead of saving a copy."""
    import json
    key = getattr(ctx.saved, "key", None)
    params = {**params, "context": key}
    if key is None or ctx.live_store() is None:
        return params, None
    runs = ctx.store.runs_table()
    wanted = json.dumps(params, default=str, sort_keys=True)
    for rid, kind, p in zip(reversed(runs.column("run_id").to_pylist()),
                            reversed(runs.column("kind").to_pylist()),
                            reversed(runs.column("params").to_pylist())):
        if kind == "rank" and p == wanted:
            return params, int(rid)
    return params, None


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
    wide: bool = WideOption,
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
    check_out(out_path)
    t0 = time.perf_counter()
    remote = server_for(resolve_db(db))
    run_id, note = None, None
    if remote is not None:              # the server holds the store: ask it
        only_local(remote, "--model or --backend spark",
                   model not in (None, "default") or backend == "spark")
        want = None if out_path is not None else top
        items = remote.pages("/rankings", total=want, by=by, topic=topic)
        accounts = remote.get("/rankings", by=by, topic=topic, limit=1)["total"]
        table = pa.Table.from_pylist(items) if items else None
        if save:
            note = (f"not saved as a run: {remote.describe()} holds the store (POST "
                    "/api/v1/runs saves a detection run there)")
    else:
        with score_context_cli(db, model, as_json) as ctx, \
                progress_bar(not as_json) as progress:
            progress.add_task("ranking: TrueRank, reach, engagement"
                              + (", topics" if topic else ""), total=None, rows="")
            if backend == "spark":
                from ..spark.backend import rank_scores_cli
                scores = rank_scores_cli(ctx)
            else:
                scores = rank_all(ctx, topic)
            table = ranking_table(ctx, by, topic=topic, scores=scores)
            accounts = ctx.n
            if save and ctx.n:
                params, run_id = _rank_run(ctx, {"by": by, "topic": topic,
                                                 "backend": backend})
        if save and ctx.n and run_id is None:
            from ..store import Store
            with Store(resolve_db(db)) as store:
                run_id = store.save_run("rank", params, {
                    "accounts": ctx.n, "seconds": round(time.perf_counter() - t0, 3)},
                    ctx.graph.uids, scores)
    seconds = round(time.perf_counter() - t0, 3)
    if out_path is not None and table is not None:
        write_table(table, out_path)
    rows = table.slice(0, top).to_pylist() if table is not None else []
    summary = {"by": by, "topic": topic, "backend": backend, "accounts": accounts,
               "run_id": run_id, "seconds": seconds,
               "out": str(out_path) if out_path else None, "top": rows}
    if as_json:
        print_json(summary)
        return
    title = f"top {len(rows)} by {by}" + (f" on {topic!r}" if topic else "")
    key = {"followers": "known", "reach": "reach", "truerank": "TrueRank"}.get(by)
    cols = [Col("#", lambda r: str(r["rank"])),
            Col("account", lambda r: who_cell(f"{r['platform']}:{r['account_id']}",
                                              r["handle"]), "left"),
            Col("followers", lambda r: count(r["followers_count"]), drop=3),
            Col("known", lambda r: count(r["followers_known"]), drop=4),
            Col("reach", lambda r: f"{r['authentic_reach']:,.1f}", drop=2),
            Col("TrueRank", lambda r: f"{r['truerank']:,.2f}", drop=2),
            Col("top% fol.", lambda r: f"{r['top_pct_followers']:.2f}", drop=6),
            Col("top% TR", lambda r: f"{r['top_pct_truerank']:.2f}", drop=5),
            Col("category", lambda r: r["category"], "left", drop=1)]
    if by in ("engagement", "pagerank"):
        cols.insert(2, Col(by, lambda r: f"{r[by]:,.2f}"))
    for c in cols:
        if c.header == key:
            c.drop = 0              # the ranking's own score stays
    print_table(cols, rows, wide=wide, title=title)
    out.print("followers: the platform's count; known: the followers the store holds (the "
              "followers ranking counts them); reach: authentic reach; TrueRank in multiples "
              "of the average account's; top%: share of accounts ranked higher by followers "
              "(fol.) and TrueRank (TR).")
    if run_id is not None:
        out.print(f"saved as run {run_id} in {resolve_db(db)}")
    if note:
        out.print(note)
    if out_path:
        out.print(f"all accounts written to {out_path}")
