"""The ``topics`` command: the store's topic communities, their terms and sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import (COUNT_MAX, Col, DbOption, JsonOption, resolve_db, print_json, progress_bar, app,
                     out, print_table)


#: The columns of the topic table (the best-known accounts are added when known).
_COLS = [Col("topic", lambda r: r["topic"], "left"),
         Col("producers", lambda r: f"{r['producers'] or 0:,}", drop=2),
         Col("audience", lambda r: f"{r['audience'] or 0:,.0f}", drop=3),
         Col("top terms", lambda r: ", ".join(r["terms"][:6]), "left", wrap=True)]


def _account_label(ctx, v: int) -> str:
    """``@handle`` when the profile has one, else the account id."""
    prof = ctx.data.profiles
    if "handle" in prof.column_names:
        h = prof.column("handle")[v].as_py()
        if h:
            return f"@{h}"
    return ctx.graph.name(v)[1]


def topics_report(ctx, model, top: int, n_terms: int = 20) -> dict:
    """The JSON document of ``trueclout topics``: communities and the most used terms.

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.score.topics import topic_model
    >>> class Ctx:
    ...     data = DetectionData.from_graph(example_graph())
    ...     graph, cache = data.graph, {}
    >>> rep = topics_report(Ctx(), topic_model(Ctx()), 1)
    >>> rep["communities"], [c["topic"] for c in rep["topics"]]
    (2, ['community:1'])
    """
    rows = model.topics(top)
    for r in rows:
        r["top_producers"] = [_account_label(ctx, v) for v in r["top_producers"]]
    sc = model.communities_
    return {
        "accounts": int(ctx.graph.n),
        "terms": int(model.terms_.shape[1]),
        "accounts_with_terms": int((model.terms_.getnnz(axis=1) > 0).sum()),
        "producers": int(len(sc.producers_)),
        "communities": int(model.n_communities_),
        "accounts_with_interests": int((model.interested_in_.getnnz(axis=1) > 0).sum()),
        "modularity": round(float(sc.modularity_), 4),
        "topics": rows,
        "top_terms": [{"term": t, "accounts": c} for t, c in model.top_terms(n_terms)],
    }


@app.command(help="List the topic communities of the store (SimClusters KnownFor "
                  "communities of the most-followed accounts), largest audience first, with "
                  "their top terms, sizes and best-known accounts; and the most used terms. "
                  "Use a community as a topic with community:<id>.")
def topics(
    top: int = typer.Option(20, "--top", min=1, max=COUNT_MAX, help="Communities to list."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..score.saved import remember_json
    from ..score.topics import topic_model
    from ..store import Store
    from .detect import detection_context
    from .remote import server_for
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        got = remote.get("/topics", limit=top)
        report = {"accounts": None, "topics": got["items"], "top_terms": [],
                  "communities": got["total"], "server": remote.url}
        _print_remote_topics(report, as_json)
        return
    with Store(resolve_db(db), read_only=True) as store:
        ctx = detection_context(store, None, as_json)
        with progress_bar(not as_json) as progress:
            task = progress.add_task("topics: communities and their terms", total=None,
                                     rows="")

            def cb(stage, *args, **kwargs):
                progress.update(task, description=f"topics: {stage}", rows="")

            report = remember_json(ctx, f"topics_report:{top}", lambda: topics_report(
                ctx, topic_model(ctx, store, progress=cb), top))
    if as_json:
        print_json(report)
        return
    out.print(f"{report['communities']:,} communities of {report['producers']:,} most-followed "
              f"accounts; {report['accounts_with_interests']:,} of {report['accounts']:,} "
              f"accounts follow them; {report['terms']:,} terms from "
              f"{report['accounts_with_terms']:,} accounts")
    if not report["topics"]:
        out.print("no communities: too few accounts have enough authentic followers")
    else:
        print_table(_COLS + [Col("best known", lambda r: "\n".join(r["top_producers"][:3]),
                                 "left", drop=1)], report["topics"])
    if report["top_terms"]:
        out.print("most used terms: " + ", ".join(
            f"{t['term']} ({t['accounts']:,})" for t in report["top_terms"]))


def _print_remote_topics(report: dict, as_json: bool) -> None:
    """The topics a running server lists (its ``/topics``: topic, terms, producers,
    audience)."""
    if as_json:
        print_json(report)
        return
    out.print(f"{report['communities']:,} communities (from {report['server']})")
    print_table(_COLS, report["topics"])
