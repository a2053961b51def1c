"""Commands of the discover stage (registered on import by :mod:`trueclout.cli`):
``find``, ``overlap`` and ``plan``.

Examples
--------
>>> from typer.testing import CliRunner
>>> from trueclout.cli import app
>>> r = CliRunner().invoke(app, ["find", "--help"])
>>> r.exit_code, "--topic" in r.output
(0, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pyarrow as pa
import typer

from ..errors import UsageError
from .common import (COUNT_MAX, Col, DbOption, JsonOption, WideOption, check_out, resolve_db,
                     print_json, progress_bar, write_table, app, count, out, print_table,
                     who_cell)
from .remote import only_local, server_for

#: The largest page the API answers (setting api_max_page): the most creators ``find``
#: asks a running server for.
MAX_PAGE = 1000

_TOPIC = typer.Option(None, "--topic", help="Target topic (relevance from the topics "
                      "stage).")
_AUDIENCE = typer.Option(None, "--audience", help="Target audience: a FILE of accounts "
                         "(one per line, or CSV with an 'account' column) or an ACCOUNT "
                         "whose followers are the audience.")


def _context(db: Optional[Path], as_json: bool, *, target: Optional[dict] = None):
    """The score context of :func:`~trueclout.cli.score.score_context_cli`; with
    ``target`` (keyword arguments of ``resolve_target``) also resolve the target while
    the store is open (a topic model reads its posts). Returns ``(ctx, target)``."""
    from ..discover.targets import resolve_target
    from .score import score_context_cli
    with score_context_cli(db, None, as_json) as ctx:
        if target is None:
            return ctx, None
        with progress_bar(not as_json) as progress:
            progress.add_task("resolving the target", total=None, rows="")
            return ctx, resolve_target(ctx, store=ctx.store, **target)


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


# -- find ----------------------------------------------------------------------------------
@app.command("find", help="Find creators whose authentic audience matches a topic, a target "
                          "audience, or another account's audience; ranked by relevant, "
                          "authentic reach (fake and inactive followers add nothing; "
                          "flagged creators are never returned).")
def find_cmd(
    topic: Optional[str] = _TOPIC,
    audience: Optional[str] = _AUDIENCE,
    like: Optional[str] = typer.Option(None, "--like", help="Find lookalikes: creators "
                                       "whose authentic audience is most like ACCOUNT's."),
    top: int = typer.Option(20, "--top", min=1, max=COUNT_MAX, help="How many creators."),
    min_followers: int = typer.Option(0, "--min-followers", min=0, max=COUNT_MAX,
                                      help="Leave out creators with "
                                      "fewer followers."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Also write the table to "
                                            "FILE.csv or FILE.parquet."),
    wide: bool = WideOption,
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..discover.find import find
    given = [x for x in (topic, audience, like) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of --topic, --audience and --like")
    if top < 1:
        raise UsageError("--top must be at least 1")
    if min_followers < 0:
        raise UsageError("--min-followers must not be negative")
    check_out(out_path)
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        only_local(remote, "--audience FILE", audience is not None
                   and Path(audience).is_file())
        got = remote.get("/find", topic=topic, audience=audience, like=like,
                         limit=min(top, MAX_PAGE), min_followers=min_followers)
        head = {k: v for k, v in got.items() if k not in ("total", "offset", "limit",
                                                          "items")}
        rows = got["items"]
        table = pa.Table.from_pylist(rows) if rows else None
    else:
        ctx, target = _context(db, as_json, target={"topic": topic, "audience": audience,
                                                    "like": like})
        table = find(ctx, target, top=top, min_followers=min_followers)
        head = {"target": target.label, "kind": target.kind, **target.info}
        rows = table.to_pylist()
    if out_path is not None and table is not None:
        write_table(table, out_path)
    if as_json:
        print_json({**head, "creators": rows, "out": str(out_path) if out_path else None})
        return
    out.print(f"creators for {head['target']}: ranked by "
              f"{'audience similarity' if head['kind'] == 'like' else 'relevant authentic reach'}")
    cols = [Col("#", lambda r: str(r["rank"])),
            Col("creator", lambda r: who_cell(r["account"], r["handle"]), "left"),
            Col("followers", lambda r: count(r["followers_count"]), drop=3),
            Col("known", lambda r: count(r["followers_known"]), drop=4),
            Col("authentic", lambda r: _n(r["authentic_reach"]), drop=2),
            Col("relevant", lambda r: _n(r["relevant_reach"])),
            Col("share", lambda r: f"{100 * r['relevance_share']:.0f}%", drop=5),
            Col("authenticity", lambda r: f"{r['authenticity']:.2f}", drop=6)]
    if rows and "similarity" in rows[0]:
        cols.insert(6, Col("similarity", lambda r: f"{r['similarity']:.3f}"))
    print_table(cols, rows, wide=wide)
    out.print("followers: the platform's count; known: the followers the store holds; "
              "authentic: their authentic reach; relevant: the part relevant to the target; "
              "share: relevant / authentic.")
    for r in rows[:5]:
        out.print(f"  {r['rank']}. {r['account']}: {r['why']}", highlight=False)
    if not rows:
        out.print("no creator reaches this target")
    if out_path:
        out.print(f"written to {out_path}")


# -- overlap -------------------------------------------------------------------------------
@app.command("overlap", help="Compare the authentic audiences of creators: pairwise overlap "
                             "(followers in common, Jaccard, share of one also in the other), "
                             "the unique reach of each and their union.")
def overlap_cmd(
    creators: List[str] = typer.Argument(..., help="Two or more accounts "
                                         "(platform:account_id, an account id, or @handle)."),
    exact: bool = typer.Option(False, "--exact", help="Merge the audiences exactly."),
    minhash: bool = typer.Option(False, "--minhash", help="Estimate with MinHash sketches "
                                 "(default above discover_overlap_exact_max followers)."),
    k: Optional[int] = typer.Option(None, "--k", max=COUNT_MAX,
                                    help="MinHash sketch size (default "
                                    "discover_minhash_k)."),
    backend: str = typer.Option("local", "--backend", help="local (default) or spark (the "
                                "exact overlap as Spark jobs; settings spark_*)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Weigh each follower by its "
                                        "relevance to this topic, as `plan --topic` does: "
                                        "the reach figures are then the relevant reach a "
                                        "plan counts."),
    audience: Optional[str] = _AUDIENCE,
    wide: bool = WideOption,
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..discover.overlap import audience_overlap
    from ..spark.backend import check_backend
    if check_backend(backend) == "spark" and minhash:
        raise UsageError("--minhash needs the local backend (Spark computes the exact overlap)")
    if exact and minhash:
        raise UsageError("give at most one of --exact and --minhash")
    if len(creators) < 2:
        raise UsageError("give at least two creators to compare")
    if k is not None and k < 2:
        raise UsageError("--k must be at least 2")
    if topic is not None and audience is not None:
        raise UsageError("give at most one of --topic and --audience")
    method = "exact" if exact else ("minhash" if minhash else "auto")
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        only_local(remote, "--k or --backend spark", k is not None or backend == "spark")
        only_local(remote, "--audience FILE", audience is not None
                   and Path(audience).is_file())
        res = remote.get("/overlap", creators=list(creators), method=method, topic=topic,
                         audience=audience)
    elif backend == "spark":
        if topic is not None or audience is not None:
            raise UsageError("--topic and --audience need the local backend")
        from ..spark.backend import overlap as spark_overlap
        from .score import score_context_cli
        with score_context_cli(db, None, as_json) as ctx:
            res = spark_overlap(ctx, ctx.store, creators)
    else:
        ctx, target = _context(db, as_json, target={"topic": topic, "audience": audience,
                                                    "allow_none": True})
        relevant = target.kind != "all"
        res = audience_overlap(ctx, creators, method=method, k=k,
                               relevance=target.relevance if relevant else None)
        res["target"] = target.label if relevant else None
    if as_json:
        print_json(res)
        return
    mh = res["method"] == "minhash"
    how = f"minhash, k={res['k']}" if mh else res["method"]
    reach = "relevant reach" if res.get("relevant") else "reach"
    out.print(f"authentic audiences of {len(res['creators'])} creators ({how})"
              + (f", each follower weighed by its relevance to {res['target']}"
                 if res.get("target") else ""))
    cols = [Col("creator", lambda c: who_cell(c["account"], c["handle"])
                + ("\n[flagged]" if c["flagged"] else ""), "left"),
            Col("followers", lambda c: count(c["followers_count"]), drop=3),
            Col("known", lambda c: count(c["followers_known"]), drop=4),
            Col("authentic", lambda c: f"{c['audience']:,}", drop=2),
            Col(reach, lambda c: _n(c["authentic_reach"])),
            Col("unique", lambda c: f"{c['unique_audience']:,}", drop=5),
            Col(f"unique {reach}", lambda c: _n(c["unique_reach"])
                + (f" ±{_n(c['unique_reach_se'])}" if mh else "")),
            Col("unique share", lambda c: f"{100 * c['unique_share']:.0f}%", drop=1)]
    print_table(cols, res["creators"], wide=wide, title="creators")
    cols = [Col("a", lambda p: p["a"], "left"), Col("b", lambda p: p["b"], "left"),
            Col("common", lambda p: f"{p['common']:,}"
                + (f" ±{p['common_se']:,.0f}" if mh else ""), drop=3),
            Col("jaccard", lambda p: f"{p['jaccard']:.3f}"
                + (f" ±{p['jaccard_se']:.3f}" if mh else ""), drop=4),
            Col(f"common {reach}", lambda p: _n(p["common_reach"]), drop=2),
            Col("w. jaccard", lambda p: f"{p['weighted_jaccard']:.3f}", drop=5),
            Col("a in b", lambda p: f"{100 * p['share_a_in_b']:.0f}%"),
            Col("b in a", lambda p: f"{100 * p['share_b_in_a']:.0f}%")]
    print_table(cols, res["pairs"], wide=wide, title="pairs")
    u = res["union"]
    out.print(f"union: {u['audience']:,} authentic followers, {reach} {_n(u['reach'])}")
    if mh:
        out.print(res["error"]["note"])


# -- plan ----------------------------------------------------------------------------------
@app.command("plan", help="Choose creators within a budget for the most unique, relevant, "
                          "authentic reach (each follower counted once): lazy greedy with "
                          "partial enumeration; the report states the guarantee.")
def plan_cmd(
    budget: float = typer.Option(..., "--budget", help="Total budget, in the unit of the "
                                 "costs."),
    costs: Path = typer.Option(..., "--costs", help="Prices: CSV with columns account,cost "
                               "(the price of a post) or account,cpm (per 1,000 of the "
                               "creator's followers on its platform)."),
    topic: Optional[str] = _TOPIC,
    audience: Optional[str] = _AUDIENCE,
    max_creators: Optional[int] = typer.Option(None, "--max-creators", max=COUNT_MAX,
                                               help="At most this "
                                               "many creators."),
    mode: str = typer.Option("auto", "--mode", help="auto, greedy (lazy greedy or the best "
                             "single creator: 0.316 of the best plan) or enumerate (partial "
                             "enumeration: 0.632)."),
    objective: str = typer.Option("reach", "--objective", help="reach (unique relevant "
                                  "authentic followers) or influence (expected spread under "
                                  "the independent cascade, by IMM's reverse-reachable sets)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampling (--objective influence)."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Also write the plan to "
                                            "FILE.csv or FILE.parquet."),
    wide: bool = WideOption,
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..discover.plan import MODES, OBJECTIVES, plan_budget, plan_table
    if objective not in OBJECTIVES:
        raise UsageError(f"--objective must be one of {', '.join(OBJECTIVES)}, "
                         f"not {objective!r}")
    if topic is not None and audience is not None:
        raise UsageError("give at most one of --topic and --audience")
    if mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if budget < 0:
        raise UsageError("--budget must not be negative")
    if max_creators is not None and max_creators < 1:
        raise UsageError("--max-creators must be at least 1")
    if not costs.is_file():
        raise UsageError(f"costs file {costs} does not exist")
    check_out(out_path)
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        from ..discover.plan import parse_costs
        only_local(remote, "--objective influence", objective != "reach")
        only_local(remote, "--audience FILE", audience is not None
                   and Path(audience).is_file())
        specs, prices, lines, unit = parse_costs(costs)
        if len(set(specs)) < len(specs):
            raise UsageError(f"{costs}: a creator is listed twice; give each creator one "
                             "cost")
        res = remote.post("/plan", {"budget": budget, "costs": dict(zip(specs, prices)),
                                    "price": unit, "topic": topic, "audience": audience,
                                    "max_creators": max_creators, "mode": mode})
    else:
        ctx, target = _context(db, as_json, target={"topic": topic, "audience": audience,
                                                    "allow_none": True})
        res = plan_budget(ctx, costs, budget, relevance=target.relevance,
                          max_creators=max_creators, mode=mode,
                          target_label="" if target.kind == "all" else target.label,
                          objective=objective, seed=seed)
    if out_path is not None:
        write_table(plan_table(res), out_path)
        res["out"] = str(out_path)
    if as_json:
        print_json(res)
        return
    out.print(f"plan for {res['target']}: budget {res['budget']:,.2f}, "
              f"{res['considered']:,} of {res['candidates']:,} candidates considered")
    cols = [Col("#", lambda r: str(r["rank"])),
            Col("creator", lambda r: who_cell(r["account"], r["handle"]), "left"),
            Col("cost", lambda r: f"{r['cost']:,.2f}"),
            Col("followers", lambda r: count(r["followers_count"]), drop=3),
            Col("known", lambda r: count(r["followers_known"]), drop=4),
            Col("reach alone", lambda r: _n(r["relevant_reach"]), drop=2),
            Col("adds", lambda r: _n(r["marginal_reach"])),
            Col("total reach", lambda r: _n(r["cumulative_reach"]), drop=1),
            Col("spent", lambda r: f"{r['cumulative_cost']:,.2f}", drop=1)]
    print_table(cols, res["creators"], wide=wide)
    if res.get("budget_note"):
        out.print(f"note: {res['budget_note']}")
    what = ("expected spread among authentic, relevant accounts" if objective == "influence"
            else "unique relevant authentic reach")
    out.print(f"{what} {_n(res['reach'])} (adding each creator's alone would claim "
              f"{_n(res['reach_if_summed'])}); spent {res['spent']:,.2f}, "
              f"left {res['left']:,.2f}")
    if "imm" in res:
        imm = res["imm"]
        out.print(f"IMM: {imm['sets']:,} reverse-reachable sets (eps {imm['eps']}, lower bound "
                  f"{imm['lower_bound']:,.1f}{', capped' if imm['capped'] else ''})")
    out.print(f"{res['mode']}: {res['guarantee']}")
    for e in res["excluded"][:10]:
        name = f"{e['account']} (@{e['handle']})" if e.get("handle") else e["account"]
        out.print(f"  left out {name}, cost {e['cost']:,.2f}: {e['why']}")
    if len(res["excluded"]) > 10:
        out.print(f"  ... and {len(res['excluded']) - 10} more left out")
    if out_path:
        out.print(f"written to {out_path}")
