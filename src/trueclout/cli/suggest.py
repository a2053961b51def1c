"""Commands of the suggest stage (registered on import by :mod:`trueclout.cli`):
``suggest`` (who to follow, for one account or a file of them) and ``eval suggest``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import pyarrow as pa

from ..errors import UsageError
from .common import (COUNT_MAX, Col, DbOption, JsonOption, ModelOption, check_out, resolve_db,
                     print_json, progress_bar, stage_progress, write_eval,
                     write_table, app, err, eval_app, out, print_table, who_cell)
from .remote import account_path, only_local, server_for

#: Most suggestions one user may ask for.
MAX_TOP = 1000


def _fit(ctx, topics: bool, as_json: bool):
    """Fit :class:`WhoToFollow` on the context (progress on standard error)."""
    from ..discover.suggest import WhoToFollow
    vecs = None
    with progress_bar(not as_json) as progress:
        task = progress.add_task("who to follow", total=None, rows="")
        if topics:
            progress.update(task, description="topic vectors")
            try:
                from ..score.topics import interest_vectors
            except ImportError:
                raise UsageError("--topics needs trueclout.score.topics, which this "
                                 "installation lacks") from None
            vecs = interest_vectors(ctx, getattr(ctx, "store", None))
        wtf = WhoToFollow().fit(
            ctx, topics=vecs,
            progress=lambda stage: progress.update(task, description=f"who to follow: "
                                                   f"{stage}"))
    return wtf


@app.command(help="Suggest accounts to follow, ranked by relevance: personalised PageRank "
                  "and friends-of-friends signals over the authentic graph, combined by a "
                  "model learned on the graph's own follows. Never suggests a flagged "
                  "account, the user, or anyone the user already follows. Give ACCOUNT, or "
                  "--users FILE for many users in one run.")
def suggest(
    account: Optional[str] = typer.Argument(None, help="platform:account_id, an account id, "
                                            "or @handle.", show_default=False),
    top: int = typer.Option(20, "--top", max=COUNT_MAX, help="Suggestions per user."),
    users: Optional[Path] = typer.Option(None, "--users", help="Many users: one account per "
                                         "line, or a CSV with an 'account' column."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Write the suggestions to "
                                            "FILE.csv or FILE.parquet."),
    topics: bool = typer.Option(False, "--topics", help="Mix in topic similarity "
                                "(SimClusters interests; on SNAP it changed recall@20 by "
                                "+0.002)."),
    model: Optional[str] = ModelOption,
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..accounts import resolve_account
    from ..discover.suggest import read_user_specs, suggest_batch, suggestion_table
    from .score import score_context_cli
    if (account is None) == (users is None):
        raise UsageError("give either ACCOUNT or --users FILE (not both)")
    if not 1 <= top <= MAX_TOP:
        raise UsageError(f"--top must be between 1 and {MAX_TOP}, got {top}")
    check_out(out_path)
    specs = None
    if users is not None:
        specs, _ = read_user_specs(users)
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        only_local(remote, "--users, --topics or --model", users is not None or topics
                   or model not in (None, "default"))
        got = remote.get(f"/accounts/{account_path(account)}/suggestions", limit=top)
        rows = [{**r, "user_account": got["account"]} for r in got["items"]]
        if out_path is not None and rows:
            write_table(pa.Table.from_pylist(rows), out_path)
        _report_one(account, rows, None, out_path, as_json)
        return
    with score_context_cli(db, model, as_json) as ctx:
        if account is not None:
            from ..score.saved import remember_json
            v = resolve_account(ctx.data, account)

            def one() -> dict:
                wtf = _fit(ctx, topics, as_json)
                ids, scores = wtf.recommend_many([v], top)
                t = suggestion_table(wtf, ctx.data, [v], ids, scores, specs=[account])
                return {"rows": t.to_pylist(), "model": _model_summary(wtf)}

            got = remember_json(ctx, f"suggest:{v}:{top}:{topics}", one)
            if out_path is not None:
                write_table(pa.Table.from_pylist(got["rows"]), out_path)
            _report_one(account, got["rows"], got["model"], out_path, as_json)
            return
        else:
            wtf = _fit(ctx, topics, as_json)
            with progress_bar(not as_json) as progress:
                task = progress.add_task("suggesting", total=len(specs), rows="")

                def cb(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total,
                                    rows=f"{done:,} of {total:,} users")

                table = suggest_batch(wtf, ctx.data, specs, top, progress=cb)
    if out_path is not None:
        write_table(table, out_path)
    _report_many(specs, table, wtf, out_path, as_json)


def _model_summary(wtf) -> dict:
    return {"learned": bool(wtf.learned_), "precompute_s": round(wtf.fit_seconds_, 3),
            "training": wtf.training_, "suspicious_never_suggested": int(wtf.blocked_.sum())}


def _report_one(account: str, rows: list, model: dict | None, out_path,
                as_json: bool) -> None:
    found = [r for r in rows if r["rank"] is not None]
    if as_json:
        print_json({"account": rows[0]["user_account"] if rows else None,
                     "suggestions": [{k: r[k] for k in ("rank", "platform", "account_id",
                                                        "handle", "score",
                                                        "followed_by_your_follows",
                                                        "follows_you")} for r in found],
                     "model": model,
                     "out": str(out_path) if out_path else None})
        return
    who = rows[0]["user_account"] if rows else account
    if not found:
        out.print(f"nothing to suggest to {who}: it follows every account it could")
        return
    def why(r: dict) -> str:
        parts = []
        if r["followed_by_your_follows"]:
            parts.append(f"followed by {r['followed_by_your_follows']} you follow")
        if r["follows_you"]:
            parts.append("follows you")
        return ", ".join(parts) or "-"

    cols = [Col("rank", lambda r: str(r["rank"])),
            Col("account", lambda r: who_cell(f"{r['platform']}:{r['account_id']}",
                                              r["handle"]), "left"),
            Col("score", lambda r: f"{r['score']:.3f}"),
            Col("why", why, "left", wrap=True)]
    print_table(cols, found, title=f"who {who} could follow")
    if out_path:
        out.print(f"written to {out_path}")


def _report_many(specs: list, table, wtf, out_path, as_json: bool) -> None:
    import pyarrow.compute as pc
    ua, rank, error = table.column("user_account"), table.column("rank"), table.column("error")
    unknown = table.filter(pc.is_null(ua))
    empty = table.filter(pc.and_(pc.is_valid(ua), pc.is_valid(error))).num_rows
    ranked = table.filter(pc.is_valid(rank))
    served = pc.count_distinct(ranked.column("user_account")).as_py() if ranked.num_rows else 0
    errors = [{"user": r["user"], "error": r["error"]}
              for r in unknown.slice(0, 20).select(["user", "error"]).to_pylist()]
    summary = {"users": len(specs), "served": served, "unknown": unknown.num_rows,
               "nothing_to_suggest": empty, "rows": ranked.num_rows,
               "out": str(out_path) if out_path else None, "model": _model_summary(wtf),
               "errors": errors}
    if as_json:
        if out_path is None:
            summary["suggestions"] = table.to_pylist()
        print_json(summary)
        return
    out.print(f"{summary['users']:,} users: {served:,} served, {summary['unknown']:,} unknown, "
              f"{empty:,} with nothing to suggest; {summary['rows']:,} suggestions")
    for e in errors[:5]:
        err.print(f"  {e['user']}: {e['error']}", highlight=False)
    if summary["unknown"] > 5:
        err.print(f"  ... and {summary['unknown'] - 5:,} more unknown", highlight=False)
    if out_path:
        out.print(f"written to {out_path} (unknown users keep a row with their error)")
    else:
        cols = [Col("user", lambda r: r["user"], "left"), Col("rank", lambda r: str(r["rank"])),
                Col("account", lambda r: f"{r['platform']}:{r['account_id']}", "left"),
                Col("score", lambda r: f"{r['score']:.3f}")]
        print_table(cols, ranked.slice(0, 60).to_pylist(),
                    title="suggestions (first rows; --out FILE writes all)")


@eval_app.command("suggest", help="Who to follow on SNAP ego-Twitter: 1,000 users with at "
                  "least 20 follows (seed 0), 20% of their follows hidden before anything is "
                  "computed; recall@20 and nDCG@20 of popularity, friends of friends, "
                  "personalised PageRank and ours, with latency and precompute time.")
def eval_suggest(
    out_dir: Path = typer.Option(Path("eval-results"), "--out", help="Folder for "
                                 "suggest.json and suggest.md."),
    users: int = typer.Option(1000, "--users", max=COUNT_MAX, help="Evaluation users."),
    seed: int = typer.Option(0, "--seed", help="Seed of the evaluation draw."),
    topics: bool = typer.Option(True, "--topics/--no-topics", help="Also run ours with "
                                "topic vectors."),
    db: Optional[Path] = typer.Option(None, "--db", help="Evaluate on this store instead of "
                                      "SNAP ego-Twitter.", show_default=False),
    as_json: bool = JsonOption,
) -> None:
    from ..evaluate.suggest import evaluate_suggest, markdown_report
    if users < 1:
        raise UsageError("--users must be at least 1")
    with stage_progress(not as_json) as cb:
        if db is not None:
            from ..store import Store
            if not db.exists():
                raise UsageError(f"store {db} does not exist")
            with Store(str(db), read_only=True) as store:
                result = evaluate_suggest(store=store, users=users, seed=seed, topics=topics,
                                          progress=cb)
        else:
            result = evaluate_suggest(users=users, seed=seed, topics=topics, progress=cb)
    write_eval(result, markdown_report(result), out_dir, "suggest", as_json)
