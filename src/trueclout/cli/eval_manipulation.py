"""``trueclout eval manipulation``: attack the rankings and measure how far they move
(registered on ``eval_app`` when this module is imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import COUNT_MAX, JsonOption, stage_progress, write_eval, eval_app


@eval_app.command("manipulation", help="Buy followers for 100 mid-ranked accounts (100, "
                  "1,000 and 10,000 each), run a follow-back campaign and an adaptive sybil "
                  "attack; re-run detection and every ranking after each attack and report "
                  "how far the customers rise (JSON and markdown).")
def eval_manipulation(
    graph: str = typer.Option("snap", "--graph", help="snap (SNAP ego-Twitter from the "
                              "shared data folder) or sim (a simulated platform)."),
    db: Optional[Path] = typer.Option(None, "--db", help="Attack the platform in this "
                                      "existing store instead.", show_default=False),
    budgets: Optional[str] = typer.Option(None, "--budgets", help="Followers bought per "
                                          "customer, comma-separated (default "
                                          "100,1000,10000)."),
    customers: Optional[int] = typer.Option(None, "--customers", max=COUNT_MAX, help="Customers "
                                            "(default 100)."),
    accounts: Optional[int] = typer.Option(None, "--accounts", max=COUNT_MAX,
                                           help="Accounts of the "
                                           "simulated platform (default 20,000)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the customers, the attacks and "
                             "the simulation."),
    quick: bool = typer.Option(False, "--quick", help="20 customers, budgets 100 and "
                               "1,000 (unless given): a smoke run, not the protocol."),
    baseline: bool = typer.Option(False, "--baseline", help="Rank by followers and plain "
                                  "PageRank only (the issue's baselines)."),
    no_followback: bool = typer.Option(False, "--no-followback", help="Skip the follow-back "
                                       "campaign."),
    no_adaptive: bool = typer.Option(False, "--no-adaptive", help="Skip the adaptive "
                                     "attacker."),
    out_dir: Path = typer.Option(Path("eval-results"), "--out", help="Folder for "
                                 "manipulation-<graph>.json and .md."),
    as_json: bool = JsonOption,
) -> None:
    from ..evaluate.manipulation import (baseline_rankings, evaluate_manipulation,
                                               markdown_report)
    if graph not in ("snap", "sim"):
        raise UsageError(f"--graph must be snap or sim, not {graph!r}")
    if db is not None and not db.exists():
        raise UsageError(f"store {db} does not exist")
    if quick:
        budgets = budgets or "100,1000"
        customers = customers or 20
    with stage_progress(not as_json, "manipulation") as cb:
        result = evaluate_manipulation(graph, rankings=baseline_rankings if baseline else None,
                                       budgets=budgets, customers=customers, seed=seed,
                                       db=db, accounts=accounts,
                                       followback=not no_followback,
                                       adaptive=not no_adaptive, progress=cb)
    result["quick"] = quick
    write_eval(result, markdown_report(result), out_dir, f"manipulation-{graph}", as_json)
