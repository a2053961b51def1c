"""Detection commands: train, detect, audit and eval detection."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..errors import UnknownAccountError, UsageError
from .common import (COUNT_MAX, Col, DbOption, JsonOption, ModelOption, check_out, resolve_db,
                     model_choice, print_json, progress_bar, stage_progress, write_eval,
                     write_table, app, clean, eval_app, out, plural, print_table)


# -- detection --------------------------------------------------------------------------
def detection_context(store, model, as_json: bool, stage_prefix: str = ""):
    """The store's score context with detection fitted, with progress: the one saved
    beside the store by an earlier command while the data and the model are the same
    (:func:`trueclout.score.saved.load_context`), else read and fitted now (and saved).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from trueclout.store import Store
    >>> from trueclout.cli.data import ingest_quietly
    >>> p = Path(tempfile.mkdtemp()) / "f.txt"
    >>> _ = p.write_text("a b\\nb c\\nc a\\n")
    >>> with Store(str(p.with_suffix(".duckdb"))) as s:
    ...     _ = ingest_quietly(s, [p], True)
    ...     detection_context(s, None, True).n
    3
    """
    from ..score.saved import load_context
    with progress_bar(not as_json) as progress:
        task = progress.add_task(f"{stage_prefix}reading the store", total=None, rows="")

        def read_cb(stage, rows=0, *a):
            progress.update(task, description=f"{stage_prefix}graph: {stage}",
                            rows=f"{int(rows):,}" if rows else "")

        def fit_cb(member):
            progress.update(task, description=f"{stage_prefix}detecting: {member}", rows="")

        return load_context(store, model, read_progress=read_cb, fit_progress=fit_cb)


def detection_table(data, ens):
    """Per-account detection output: platform, account_id, authenticity, predicted_label
    (real, fake, bot, farm, pod or uncertain), category, field_set (the profile fields
    the classifier decided from) and the top three reasons (why an account is flagged,
    or why the classifier abstained).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import EnsembleDetector
    >>> d = DetectionData.from_graph(toy_graph())
    >>> t = detection_table(d, EnsembleDetector().fit(d))
    >>> t.num_rows, t.column_names[:4]
    (6, ['platform', 'account_id', 'authenticity', 'predicted_label'])
    """
    import numpy as np
    import pyarrow as pa
    from ..detect.ensemble import predicted_labels
    clf = ens.members_.get("classifier")
    unsure = getattr(clf, "uncertain_reasons_", None)
    reasons = [[], [], []]
    for v in range(data.n):
        rs = ens.top_reasons(v) if ens.labels_[v] else []
        if not rs and ens.category_[v] == "uncertain" and unsure is not None:
            rs = [unsure[v]]
        for k in range(3):
            reasons[k].append(rs[k] if k < len(rs) else None)
    names = data.graph.names
    return pa.table({
        "platform": names.column("platform").cast(pa.string()),
        "account_id": names.column("account_id"),
        "authenticity": pa.array(np.round(ens.authenticity_, 4)),
        "predicted_label": pa.array(predicted_labels(ens.labels_, ens.category_), pa.string()),
        "category": pa.array(ens.category_.astype(str)),
        "field_set": pa.array(getattr(clf, "field_set_", np.full(data.n, "", object)),
                              pa.string()),
        "reason_1": pa.array(reasons[0], pa.string()),
        "reason_2": pa.array(reasons[1], pa.string()),
        "reason_3": pa.array(reasons[2], pa.string()),
    })




@app.command(help="Train the authenticity classifier on every labelled source of the "
                  "store (or those of --labels-source); calibrated and measured "
                  "leave-one-source-out. Writes a JSON model file (no code inside).")
def train(
    model_out: Path = typer.Option(..., "--model-out", help="Where to save the model "
                                   "(JSON; gzip-compressed when the name ends in .gz)."),
    labels_source: Optional[List[str]] = typer.Option(
        None, "--labels-source", help="Use only labels from these sources (repeatable)."),
    select_sources: bool = typer.Option(
        False, "--select-sources", help="First choose the mix of training sources by "
        "held-out AUC (greedy backward elimination; several times slower). The sources "
        "left out are still scored as held out."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..detect.model_card import held_out_table
    from ..detect.training import train_model
    from ..store import Store
    if model_out.exists() and model_out.is_dir():
        raise UsageError(f"--model-out {model_out} is a folder")
    with Store(resolve_db(db), read_only=True) as store, stage_progress(not as_json,
                                                                  "training") as cb:
        _, report = train_model(store, label_sources=labels_source or None,
                                model_out=model_out, select=select_sources,
                                progress=lambda fs, i, n: cb(f"{fs} {i}/{n}"))
    if as_json:
        print_json(report)
        return
    acc = report["accounts"]
    out.print(f"trained on {acc['real']:,} humans and {acc['fake']:,} fakes or bots from "
              f"{len(report['sources'])} sources ({acc['conflicting']:,} labelled both ways "
              f"left out) in {report['seconds']:.0f} s")
    t = Table(title="field sets (pooled over held-out sources)")
    for c in ("field set", "humans", "fakes", "AUC", "sensitivity", "specificity"):
        t.add_column(c)
    for name, r in report["field_sets"].items():
        t.add_row(name, f"{r['real']:,}", f"{r['fake']:,}", str(r["auc"]),
                  str(r["sensitivity"]), str(r["specificity"]))
    out.print(t)
    if report.get("selection"):
        sel = report["selection"]
        out.print(f"training sources chosen by held-out AUC ({sel['score']:.3f}): "
                  f"{', '.join(sel['chosen'])}; left out: {', '.join(sel['dropped']) or 'none'}")
    out.print(held_out_table(report["held_out"]), markup=False)
    out.print(f"model written to {model_out}")


@app.command(help="Score every account: authenticity (1 = real), predicted label, category "
                  "and the top three reasons, from the classifier and the graph detectors.")
def detect(
    model: Optional[str] = ModelOption,
    out_path: Optional[Path] = typer.Option(None, "--out", help="Write every account to "
                                            "FILE.csv or FILE.parquet."),
    top: int = typer.Option(10, "--top", min=0, max=COUNT_MAX,
                            help="Most suspicious accounts to print."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..store import Store
    check_out(out_path)
    model = model_choice(model)
    with Store(resolve_db(db), read_only=True) as store:
        ctx = detection_context(store, model, as_json)
    data, ens = ctx.data, ctx.ensemble
    table = detection_table(data, ens)
    if out_path is not None:
        write_table(table, out_path)
    import numpy as np
    cats, counts = np.unique(ens.category_.astype(str), return_counts=True)
    order = np.argsort(ens.authenticity_)[:top]
    summary = {"accounts": data.n, "flagged": int(ens.labels_.sum()),
               "categories": {str(c): int(k) for c, k in zip(cats, counts)},
               "members": sorted(ens.members_), "skipped": ens.skipped_,
               "out": str(out_path) if out_path else None,
               "most_suspicious": table.take(order).to_pylist()}
    if as_json:
        print_json(summary)
        return
    out.print(f"{data.n:,} accounts, {summary['flagged']:,} flagged; "
              + ", ".join(f"{c} {k:,}" for c, k in summary["categories"].items()))
    cols = [Col("account", lambda r: f"{r['platform']}:{r['account_id']}", "left"),
            Col("authenticity", lambda r: f"{r['authenticity']:.3f}"),
            Col("category", lambda r: r["category"], "left"),
            Col("reason", lambda r: r["reason_1"] or "", "left", wrap=True)]
    print_table(cols, summary["most_suspicious"], title="most suspicious")
    if out_path:
        out.print(f"all accounts written to {out_path}")


@app.command(help="Audit one account's audience: composition with confidence intervals, "
                  "engagement authenticity, bought growth, Audience Quality Score, reasons.")
def audit(
    account: str = typer.Argument(..., help="platform:account_id, an account id, or @handle."),
    model: Optional[str] = ModelOption,
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained "
                                        "HTML page here."),
    aggregate_only: bool = typer.Option(False, "--aggregate-only", help="Leave out every "
                                        "per-account detail (names, handles) and keep the "
                                        "aggregates with their confidence intervals."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..store import Store
    from .remote import account_path, only_local, server_for
    model = model_choice(model)
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        only_local(remote, "--model", model not in (None, "default"))
        report = remote.get(f"/accounts/{account_path(account)}/audit")
        report.pop("account_row", None)
        report["meta"]["db"] = resolve_db(db)
    else:
        with Store(resolve_db(db), read_only=True) as store:
            if not store.names_account(account):    # refused before the graph is read
                raise UnknownAccountError(account.strip())
            ctx = detection_context(store, model, as_json)
            report = audit_report(ctx, account, db=resolve_db(db), progress=not as_json)
    if aggregate_only:
        from ..privacy import aggregate_only as _aggregate
        report = _aggregate(report)
    if html is not None:
        from ..report.html import render_audit_html
        render_audit_html(report, html)
        report["html"] = str(html)
    if as_json:
        print_json(report)
        return
    _print_audit(report)


def audit_report(ctx, account: str, *, db: str | None = None, progress: bool = False
                 ) -> dict:
    """The audit of ``account`` with its "Influence" section (places by followers and
    by TrueRank, authentic reach), as the demo's reports, the dashboard and the API give
    it; kept with a saved context, so the same audit is not computed twice.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> ctx = toy_context()
    >>> ctx.ensemble = neutral_ensemble().fit(ctx.data)
    >>> a = audit_report(ctx, "toy:cat")
    >>> a["influence"]["place_followers"], a["account"]["handle"]
    (1, None)
    """
    from ..accounts import resolve_account
    from ..audit import audit_account
    from ..report.influence import account_influence
    from ..score.rank import rank_all
    from ..score.saved import remember_json
    v = resolve_account(ctx.data, account)

    def compute() -> dict:
        with progress_bar(progress) as bar:
            bar.add_task("auditing: composition, engagement, growth, influence",
                         total=None, rows="")
            rep = audit_account(ctx.data, ctx.ensemble, v, db=db)
            rep["influence"] = account_influence(ctx, v, rank_all(ctx))
        return rep

    return remember_json(ctx, f"audit:{v}:{db}", compute)


def _print_audit(a: dict) -> None:
    acc = a["account"]
    aqs = a["aqs"]
    band = aqs.get("band") or {}
    out.print(Text.assemble(
        (clean(f"{acc['platform']}:{acc['account_id']}"), "bold"),
        clean(f" {('@' + acc['handle']) if acc.get('handle') else ''}: ")
        + "Audience Quality Score ", (str(aqs["score"]), "bold"), " / 100 ",
        (band.get("band", ""), f"bold {band['colour']}" if band.get("colour") else "bold")))
    au = a["audience"]
    count = acc.get("followers_count")
    out.print(f"followers: {count:,} on the platform, {au['known_followers']:,} known to the "
              "store" if count is not None else
              f"followers: {au['known_followers']:,} known to the store (the platform gives "
              "no count)")
    t = Table(title=f"audience ({au['known_followers']:,} known of {au['population']:,})")
    for c in ("category", "share", "95% CI", "estimated"):
        t.add_column(c, justify="left" if c == "category" else "right")
    for cat, c in au["composition"].items():
        t.add_row(cat, f"{100 * c['share']:.1f}%",
                  f"{100 * c['lo']:.1f}-{100 * c['hi']:.1f}%", f"{c['estimated']:,}")
    out.print(t)
    fc = au.get("fake_share_corrected")
    if fc:
        if fc.get("corrected") is not None:
            out.print(f"fake share among the {fc['accounts']:,} profiles the classifier judged: "
                      f"{100 * fc['observed']:.1f}% flagged, {100 * fc['corrected']:.1f}% "
                      f"(95% CI {100 * fc['lo']:.1f}-{100 * fc['hi']:.1f}%) corrected for its "
                      "error on held-out sources (Rogan-Gladen)")
        else:
            out.print(f"fake share among the {fc['accounts']:,} profiles the classifier judged: "
                      f"{100 * fc['observed']:.1f}% flagged; not corrected: {fc.get('reason')}")
    out.print(engagement_line(a["engagement"]))
    gr = a["growth"]
    out.print(f"growth: {plural(len(gr['anomalous_periods']), 'anomalous period')}, about "
              f"{plural(gr['bought_estimate'], 'follower')} bought")
    parts = aqs["parts"]
    names = {"real_audience": "real audience", "authentic_engagement": "engagement",
             "organic_growth": "organic growth"}
    out.print("score: " + " + ".join(
        f"{names.get(k, k)} {p['points']:.1f}" if p["value"] is not None
        else f"{names.get(k, k)} unknown" for k, p in parts.items())
        + f" = {aqs['score']}; AQS = {aqs['formula']}")
    inf = a.get("influence")
    if inf:
        out.print(f"influence: #{inf['place_followers']:,} by known followers, "
                  f"#{inf['place_truerank']:,} by TrueRank of {inf['accounts']:,} accounts; "
                  f"authentic reach {inf['authentic_reach']:,.0f} from "
                  f"{plural(inf['followers_known'], 'known follower')}")
    for r in a["reasons"]:
        out.print(f"  - {r}")
    if a.get("html"):
        out.print(f"report: {a['html']}")


def engagement_line(e: dict) -> str:
    """The audit's engagement in one line: what was received, from whom, and the rate
    against accounts of similar size; or why it is unknown.

    Examples
    --------
    >>> engagement_line({"total": 0, "why_unknown": "the account received no "
    ...                  "interaction in the store", "in_pod": False})
    'engagement: 0 interactions received: unknown (the account received no interaction in the store); the score leaves it out'
    """
    head = f"engagement: {plural(e['total'], 'interaction')} received"
    if e.get("authentic_share") is not None:
        head += (f", {100 * e['authentic_share']:.1f}% from authentic accounts (95% CI "
                 f"{100 * e['authentic_lo']:.1f}-{100 * e['authentic_hi']:.1f}%)")
    if e.get("percentile") is None:
        head += f": unknown ({e.get('why_unknown')}); the score leaves it out"
    else:
        head += (f"; {e['rate']:,.2f} authentic per post per 1,000 known followers, above "
                 f"{100 * e['percentile']:.1f}% of the {e['peers']:,} accounts with "
                 f"{e['followers_from']:,}-{e['followers_to']:,} known followers (their "
                 f"median {e['median_rate']:,.2f})")
    return head + ("; in an engagement pod" if e.get("in_pod") else "")


@eval_app.command("sources", help="Leave-one-source-out: for each labelled source of the "
                  "store, AUC, MCC, fakes caught, humans flagged and calibration error of a "
                  "model that never saw it, with in-set cross-validation for contrast.")
def eval_sources(
    db: Optional[Path] = DbOption,
    labels_source: Optional[List[str]] = typer.Option(
        None, "--labels-source", help="Only these sources (repeatable)."),
    out_dir: Path = typer.Option(Path("eval-results"), "--out", help="Folder for "
                                 "sources.json and sources.md."),
    in_set: bool = typer.Option(True, "--in-set/--no-in-set", help="Also run in-set "
                                "cross-validation (slower)."),
    as_json: bool = JsonOption,
) -> None:
    from ..evaluate.sources import evaluate_sources, markdown_sources
    from ..store import Store
    with Store(resolve_db(db), read_only=True) as store, stage_progress(not as_json) as cb:
        result = evaluate_sources(store, labels_source or None, in_set=in_set, progress=cb)
    write_eval(result, markdown_sources(result), out_dir, "sources", as_json)


@eval_app.command("detection", help="Run the detection evaluations: Cresci 2015 CV, "
                  "cross-source, the simulator's attacks, and an injected block on SNAP.")
def eval_detection(
    out_dir: Path = typer.Option(Path("eval-results"), "--out", help="Folder for "
                                 "detection.json and detection.md."),
    quick: bool = typer.Option(False, "--quick", help="Smaller simulated platforms."),
    as_json: bool = JsonOption,
) -> None:
    from ..evaluate.detection import evaluate_detection, markdown_report
    with stage_progress(not as_json) as cb:
        result = evaluate_detection(quick=quick, progress=cb)
    write_eval(result, markdown_report(result), out_dir, "detection", as_json)


