"""The demo: simulate, ingest, detect, rank, discover, audit and report, in one command.

After detection the demo scores every account (:func:`trueclout.score.rank.rank_all`),
runs a sample campaign (:func:`trueclout.report.influence.sample_campaign`: the biggest
topic community as the target, its top ``demo_creators`` creators, their audience overlap
and a plan for a budget of ``demo_budget_share`` of their summed sample cost, each cost
``demo_cost_per_follower`` × the creator's reported follower count, as influencer prices
go), and writes ``influence.html`` / ``influence.json`` next to ``summary.json``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from .. import config
from ..errors import TruecloutError
from .common import (COUNT_MAX, Col, JsonOption, graph_lines, print_json, app, count, out,
                     print_table, styled, who_cell)
from ..graph.stats import compute_stats
from .data import ingest_quietly, simulate_into
from .detect import detection_context


# -- demo -------------------------------------------------------------------------------
@app.command(help="Simulate a platform of about 50,000 accounts into a fresh store, detect "
                  "fake and bought followers, rank by TrueRank against follower count, run "
                  "a sample campaign (creators, audience overlap, budget plan), write the "
                  "influence and audit reports and print where they are.")
def demo(
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the demo's files "
                                           "(default: a new temporary folder)."),
    accounts: int = typer.Option(config.get("sim_accounts"), "--accounts", "-n", min=100,
                                 max=COUNT_MAX,
                                 help="Number of simulated accounts."),
    seed: int = typer.Option(config.get("sim_seed"), "--seed", help="Random seed."),
    as_json: bool = JsonOption,
) -> None:
    from ..store import Store
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
    sim = simulate_into(platform_dir, accounts, seed, as_json)
    t_sim = time.perf_counter() - t0
    with Store(db_path) as store:
        report = ingest_quietly(store, [platform_dir], as_json)
        if report.failures:
            raise TruecloutError("; ".join(f["error"] for f in report.failures))
        t_ing = time.perf_counter() - t0 - t_sim
        result = compute_stats(store)
        ctx = detection_context(store, None, as_json)
        ens = ctx.ensemble
        t_det = time.perf_counter() - t0 - t_sim - t_ing
        # the rest reads the store as the commands do (the topics' terms come from its
        # posts), so `trueclout find` and `plan` give the campaign's figures again
        t1 = time.perf_counter()
        ctx, scores = _demo_scores(ctx, as_json)
        t_rank = time.perf_counter() - t1
        t1 = time.perf_counter()
        campaign = _demo_campaign(ctx, as_json)
        t_disc = time.perf_counter() - t1
        t1 = time.perf_counter()
        influence = _demo_influence(ctx, scores, campaign, folder)
        t_rep = time.perf_counter() - t1
        t1 = time.perf_counter()
        audits = _demo_audits(ctx, folder, str(db_path))
        t_aud = time.perf_counter() - t1
    t_all = time.perf_counter() - t0
    summary = {"folder": str(folder), "db": str(db_path), "platform": str(platform_dir),
               "report": str(folder / "summary.json"), "simulation": sim,
               "ingest": {k: v for k, v in report.to_dict().items() if k != "loads"},
               "stats": result,
               "detection": {"flagged": int(ens.labels_.sum()),
                             "members": sorted(ens.members_)},
               "influence": influence["summary"],
               "audits": audits,
               "seconds": {"simulate": round(t_sim, 2), "ingest": round(t_ing, 2),
                           "detect": round(t_det, 2), "rank": round(t_rank, 2),
                           "discover": round(t_disc, 2), "influence_report": round(t_rep, 2),
                           "audits": round(t_aud, 2), "total": round(t_all, 2)}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if as_json:
        print_json(summary)
        return
    out.print(Text("trueclout demo", style="bold"),
              f"simulated {accounts:,} accounts (seed {seed}) in {t_sim:.1f} s, loaded in "
              f"{t_ing:.1f} s", sep=": ")
    out.print(f"store: {result['accounts']:,} accounts, {result['follows']:,} follows, "
              f"{result['posts']:,} posts, {result['interactions']:,} interactions, "
              f"{result['labels']:,} labels, {result['rejects']:,} rejects")
    if result["label_counts"]:
        out.print("ground truth: " + ", ".join(f"{k} {v:,}"
                                               for k, v in result["label_counts"].items()))
    out.print(graph_lines(result["graph"]))
    out.print(f"detection: {int(ens.labels_.sum()):,} accounts flagged in {t_det:.1f} s")
    _print_influence(influence["report"], influence["summary"], t_rank, t_disc)
    if audits:
        cols = [Col("account", lambda a: f"{a['role']}\n{a['account']}", "left"),
                Col("followers", lambda a: count(a["followers_count"]), drop=2),
                Col("real audience", lambda a: f"{100 * a['real_share']:.0f}%"),
                Col("bought (est.)", lambda a: f"{a['bought']:,}", drop=1),
                Col("AQS", lambda a: f"{a['aqs']} {a['aqs_band']}"),
                Col("TrueRank place", lambda a: count(a.get("place_truerank")), drop=3)]
        print_table(cols, [{"role": role, **a} for role, a in audits.items()],
                    title="two accounts of similar size")
    out.print(f"\nfiles:\n  store:    {db_path}\n  platform: {platform_dir}")
    for role, a in audits.items():
        out.print(f"  audit of the {role} account: {a['html']} (and {a['json']})")
    out.print(f"  summary:  {folder / 'summary.json'}")
    out.print(f"  influence data: {influence['summary']['json']}")
    first = next(iter(audits.values()))["account"] if audits else "ACCOUNT"
    out.print(f"next: trueclout audit {first} --db {db_path}")
    out.print(f"dashboard: run `trueclout serve --db {db_path}`, then open "
              "http://127.0.0.1:8000/ in a browser")
    out.print(f"report:   {influence['summary']['html']} (open it in a browser)")


def _demo_scores(ctx, as_json: bool):
    """The score context (detection already fitted) and every ranking."""
    from ..score.rank import rank_all
    from .common import progress_bar
    with progress_bar(not as_json) as progress:
        progress.add_task("ranking: TrueRank, reach, engagement", total=None, rows="")
        scores = rank_all(ctx)
    return ctx, scores


def _demo_campaign(ctx, as_json: bool) -> dict | None:
    """The sample campaign (target, creators, overlap, plan); None when discovery fails
    on this platform: the demo goes on, with a warning, and the report leaves those
    sections out (they are optional; the rankings are the demo's point)."""
    from ..report.influence import sample_campaign
    from .common import progress_bar, err
    with progress_bar(not as_json) as progress:
        progress.add_task("discover: topics, creators, overlap, plan", total=None, rows="")
        try:
            return sample_campaign(ctx)
        except Exception as exc:  # noqa: BLE001 - an optional section must not end the demo
            msg = str(exc) if isinstance(exc, TruecloutError) else f"{type(exc).__name__}: {exc}"
            err.print(styled("sample campaign skipped:", "yellow", msg))
            return None


def _demo_influence(ctx, scores, campaign: dict | None, folder: Path) -> dict:
    """Write influence.json and influence.html; return the report and its key figures."""
    from ..report.influence import influence_report, render_influence_html
    rep = influence_report(ctx, scores, campaign=campaign)
    json_path, html_path = folder / "influence.json", folder / "influence.html"
    json_path.write_text(json.dumps(rep, indent=2, default=str) + "\n")
    render_influence_html(rep, html_path)
    fall = rep["fall"]
    summary = {"html": str(html_path), "json": str(json_path), "accounts": rep["accounts"],
               "bought": rep["bought"],
               "median_top_pct_followers": fall["median_top_pct_followers"],
               "median_top_pct_truerank": fall["median_top_pct_truerank"],
               "median_places_fallen": fall["median_places_fallen"],
               "share_fell": fall["share_fell"],
               "control_median_places_fallen": fall["control"]["median_places_fallen"],
               "bought_in_top_by_followers": rep["rankings"]["followers"]["bought_in_window"],
               "bought_in_top_by_truerank": rep["rankings"]["truerank"]["bought_in_window"],
               "top_window_places": rep["rankings"]["followers"]["window_places"]}
    if campaign:
        summary["target"] = campaign["target"]
        summary["creators"] = [c["account"] for c in campaign["candidates"]]
        # the prices as a costs file, and the command that plans the same campaign
        costs = folder / "campaign-costs.csv"
        costs.write_text("account,cost\n" + "".join(
            f"{c['account']},{c['cost']:g}\n" for c in campaign["candidates"]))
        summary["costs"] = str(costs)
        summary["plan_command"] = " ".join(
            ["trueclout", "plan", "--budget", f"{campaign['budget']:g}", "--costs",
             str(costs), *(campaign["target"].get("option") or []), "--db",
             str(folder / "trueclout.duckdb")])
        ov = rep.get("overlap")
        if ov:
            summary["overlap"] = {"union_reach": ov["union"].get("reach"),
                                  "reach_if_summed": ov["reach_if_summed"],
                                  "method": ov["method"]}
        p = rep.get("plan")
        if p:
            summary["plan"] = {"budget": p["budget"], "spent": p["spent"],
                               "reach": p["reach"], "reach_if_summed": p["reach_if_summed"],
                               "creators": [c["account"] for c in p["creators"]],
                               "guarantee": p["guarantee"]}
    return {"report": rep, "summary": summary}


def _print_influence(rep: dict, summary: dict, t_rank: float, t_disc: float) -> None:
    fall = rep["fall"]
    out.print(f"ranking: TrueRank, authentic reach and engagement in {t_rank:.1f} s")
    if fall["count"]:
        out.print(f"accounts that bought followers ({rep['bought']['source']}): "
                  f"{fall['count']:,}; median top {fall['median_top_pct_followers']:.1f}% by "
                  f"followers -> top {fall['median_top_pct_truerank']:.1f}% by TrueRank "
                  f"(median fall {fall['median_places_fallen']:,.0f} places; honest accounts "
                  f"of the same size: {fall['control']['median_places_fallen']:,.0f}); in the "
                  f"top {summary['top_window_places']:,}: {summary['bought_in_top_by_followers']}"
                  f" by followers, {summary['bought_in_top_by_truerank']} by TrueRank")
        cols = [Col("account", lambda r: r["account"], "left"),
                Col("followers", lambda r: count(r["followers_count"]), drop=2),
                Col("known", lambda r: count(r["followers_known"]), drop=1),
                Col("by known followers", lambda r: f"{r['place_followers']:,}"),
                Col("by TrueRank", lambda r: f"{r['place_truerank']:,}"),
                Col("fall", lambda r: f"{r['fall']:+,}")]
        print_table(cols, fall["rows"][:5], title="accounts that bought followers: place by "
                    "known followers -> by TrueRank")
    p = rep.get("plan")
    if p is None:
        return
    tgt = summary.get("target", {})
    out.print(f"sample campaign ({t_disc:.1f} s): {tgt.get('label')} - "
              f"{tgt.get('picked')}; {p.get('pricing') or ''}")
    ov = rep.get("overlap")
    if ov:
        out.print(f"overlap of the {len(ov['creators'])} top creators: together they reach "
                  f"{ov['union'].get('reach', 0):,.0f} authentic followers once each, not the "
                  f"{ov['reach_if_summed']:,.0f} their reach adds up to")
    cols = [Col("#", lambda c: str(c["rank"])),
            Col("creator", lambda c: who_cell(c["account"], c.get("handle")), "left"),
            Col("followers", lambda c: count(c["followers_count"]), drop=2),
            Col("known", lambda c: count(c["followers_known"]), drop=3),
            Col("cost", lambda c: f"{c['cost']:,.0f}"),
            Col("marginal reach", lambda c: f"{c['marginal_reach']:,.0f}"),
            Col("cumulative reach", lambda c: f"{c['cumulative_reach']:,.0f}", drop=1)]
    print_table(cols, p["creators"], title=f"plan for a budget of {p['budget']:,.0f}")
    out.print(f"spent {p['spent']:,.0f} of {p['budget']:,.0f} for {p['reach']:,.0f} unique "
              f"relevant authentic reach; {p['guarantee']}")
    if summary.get("plan_command"):
        out.print(f"the same plan from the command line: {summary['plan_command']}")


def _demo_audits(ctx, folder: Path, db: str) -> dict:
    """Audit the most-followed customer who bought followers and the honest account whose
    follower count is closest to it; write both reports, as `trueclout audit` gives them
    (with the "Influence" section)."""
    import numpy as np
    from ..report.html import render_audit_html
    from .detect import audit_report
    data, ens = ctx.data, ctx.ensemble
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
        platform, account_id = data.graph.name(v)
        rep = audit_report(ctx, f"{platform}:{account_id}", db=db)
        name = f"audit-{role}"
        (folder / f"{name}.json").write_text(json.dumps(rep, indent=2, default=str) + "\n")
        render_audit_html(rep, folder / f"{name}.html")
        acc = rep["account"]
        out_audits[role] = {"account": f"{acc['platform']}:{acc['account_id']}",
                            "followers_count": acc["followers_count"],
                            "followers_known": acc["followers_known"],
                            "aqs_band": rep["aqs"]["band"]["band"],
                            "real_share": rep["audience"]["composition"]["real"]["share"],
                            "bought": rep["growth"]["bought_estimate"],
                            "aqs": rep["aqs"]["score"],
                            "place_followers": rep.get("influence", {}).get("place_followers"),
                            "place_truerank": rep.get("influence", {}).get("place_truerank"),
                            "json": str(folder / f"{name}.json"),
                            "html": str(folder / f"{name}.html")}
    return out_audits

