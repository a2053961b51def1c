"""The demo: simulate, ingest, detect, audit and report, in one command."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .. import config
from ..errors import TruecloutError
from .common import JsonOption, _graph_lines, _print_json, app, out
from .data import _ingest_quiet, _simulate_into, compute_stats
from .detect import _detection


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
    from ..audit import audit_account
    from ..report.html import render_audit_html
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

