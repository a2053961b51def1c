"""The influence report on the simulated platform: its sections, buyers falling under
TrueRank, the sample campaign, the self-contained page, the audit's Influence section and
the demo's files."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from trueclout.cli import main
from trueclout.report.influence import (account_influence, bought_accounts,
                                        influence_report, places, render_influence_html,
                                        sample_campaign)
from trueclout.score.context import ScoreContext
from trueclout.score.rank import rank_all, top_percent


@pytest.fixture(scope="module")
def scores(sim_ctx):
    return rank_all(sim_ctx)


@pytest.fixture(scope="module")
def campaign(sim_ctx):
    return sample_campaign(sim_ctx)


@pytest.fixture(scope="module")
def report(sim_ctx, scores, campaign):
    return influence_report(sim_ctx, scores, campaign=campaign)


def test_places_agree_with_top_percent(scores):
    for name in ("followers", "truerank"):
        p = places(scores[name])
        n = p.size
        assert np.allclose(100.0 * (p - 1) / n, top_percent(scores[name]))
        assert p.min() == 1 and p.max() <= n


def test_report_has_every_section_and_is_json(report, sim_ctx):
    for key in ("accounts", "bought", "rankings", "fall", "scatter", "overlap", "plan",
                "campaign", "meta"):
        assert report[key] is not None, key
    assert report["accounts"] == sim_ctx.n
    json.dumps(report, allow_nan=False)          # JSON-ready, no NaN
    for by, place in (("followers", "place_followers"), ("truerank", "place_truerank")):
        sec = report["rankings"][by]
        rows = sec["rows"]
        assert len(rows) >= sec["top"] == 25
        head = [r[place] for r in rows[:sec["top"]]]
        assert head == sorted(head) and head[0] == 1
        for r in rows:                           # both places side by side
            assert r["place_followers"] >= 1 and r["place_truerank"] >= 1
            assert r["fall"] == r["place_truerank"] - r["place_followers"]
        # below the top, only accounts that bought followers, within the window
        assert all(r["bought"] and r[place] <= sec["window_places"]
                   for r in rows[sec["top"]:])
        assert sum(r["gap_before"] + 1 for r in rows) <= sec["window_places"]


def test_customers_fall_under_truerank(report, sim_ctx):
    assert report["bought"]["source"] == "labels"
    assert report["bought"]["count"] == sim_ctx.data.labels["customer"].size > 10
    fall = report["fall"]
    f, t = fall["median_top_pct_followers"], fall["median_top_pct_truerank"]
    # a clear margin: at least 5 points of top-% and half as bad again
    assert t >= f + 5 and t >= 1.5 * f
    assert fall["share_fell"] >= 0.8 and fall["median_places_fallen"] > 0
    ctrl = fall["control"]                       # honest accounts of the same size do not
    assert ctrl["median_top_pct_truerank"] < t - 5
    assert ctrl["share_fell"] < 0.6
    rows = fall["rows"]
    assert len(rows) == min(20, fall["count"]) and all(r["bought"] for r in rows)
    assert [r["place_followers"] for r in rows] == sorted(r["place_followers"] for r in rows)


def test_scatter_samples_but_keeps_every_buyer(sim_ctx, scores):
    rep = influence_report(sim_ctx, scores, max_points=500)
    sc = rep["scatter"]
    assert sc["sampled"] and sc["of"] == sim_ctx.n
    assert len(sc["x"]) == len(sc["y"]) == len(sc["bought"]) == len(sc["account"])
    n_bought = int(bought_accounts(sim_ctx)[0].sum())
    assert sum(sc["bought"]) == n_bought
    assert sc["points"] <= max(500, n_bought + 2 * 25)
    assert min(sc["x"]) > 0 and max(sc["y"]) <= 100.0     # log axes: never 0
    assert rep["overlap"] is None and rep["plan"] is None


def test_detector_evidence_without_labels(sim_ctx, scores):
    data = dataclasses.replace(sim_ctx.data, labels={})
    ctx = ScoreContext(data=data, ensemble=sim_ctx.ensemble,
                       authenticity=sim_ctx.authenticity, weight=sim_ctx.weight,
                       suspicious=sim_ctx.suspicious)
    mask, info = bought_accounts(ctx)
    assert info["source"] == "detector"
    truth = np.zeros(sim_ctx.n, bool)
    truth[sim_ctx.data.labels["customer"]] = True
    # the detectors find most buyers, with few others
    assert (mask & truth).sum() >= 0.7 * truth.sum()
    assert (mask & ~truth).sum() <= 0.3 * max(mask.sum(), 1)
    rep = influence_report(ctx, scores)
    assert rep["bought"]["source"] == "detector"
    assert rep["fall"]["median_top_pct_truerank"] > rep["fall"]["median_top_pct_followers"]


def test_sample_campaign(campaign, report, sim_ctx):
    assert campaign["target"]["kind"] in ("topic", "audience", "all")
    cand = campaign["candidates"]
    assert 2 <= len(cand) <= 8
    verts = {f"{p}:{a}": v for v, (p, a) in
             ((v, sim_ctx.graph.name(v)) for v in range(sim_ctx.n))}
    assert not any(sim_ctx.suspicious[verts[c["account"]]] for c in cand)
    assert all(c["cost"] >= 1 for c in cand)
    plan = report["plan"]
    assert plan["creators"] and plan["spent"] <= plan["budget"] == campaign["budget"]
    assert 0 < plan["reach"] <= plan["reach_if_summed"] + 1e-6
    assert {c["account"] for c in plan["creators"]} <= {c["account"] for c in cand}
    ov = report["overlap"]
    k = len(ov["creators"])
    assert k == len(cand) and len(ov["share"]) == k and len(ov["labels"]) == len(set(ov["labels"]))
    for i in range(k):
        assert ov["share"][i][i] is None
        assert all(0 <= ov["share"][i][j] <= 1 for j in range(k) if j != i)
        c = ov["creators"][i]
        assert 0 <= c["unique_reach"] <= c["authentic_reach"] + 1e-6
    # the union counts each follower once: no more than the sum
    assert ov["union"]["reach"] <= ov["reach_if_summed"] + 1e-6


def test_html_is_self_contained(report, tmp_path):
    path = render_influence_html(report, tmp_path / "out" / "influence.html")
    html = path.read_text(encoding="utf-8")
    assert "<script src=" not in html and not re.search(r"<link[^>]+href=", html)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000   # Plotly inlined
    for div in ("fall-chart", "overlap-chart", "unique-chart"):
        assert f'<div id="{div}"' in html
    for table in ("ranking-followers", "ranking-truerank", "fall-table", "overlap-table",
                  "plan-table", "candidates-table"):
        assert f'<table id="{table}"' in html
    assert html.count('class="bought"') >= report["fall"]["shown"]
    first = report["fall"]["rows"][0]
    assert first["account"] in html
    # figures are embedded as data; a handle cannot close the script
    assert "</script><" not in html.split("const figs")[1].split("</script>")[0]


def test_audit_page_influence_section(sim_ctx, scores, tmp_path):
    from trueclout.audit import audit_account
    from trueclout.report.html import render_audit_html
    v = int(sim_ctx.data.labels["customer"][0])
    audit = audit_account(sim_ctx.data, sim_ctx.ensemble, v, n_boot=50)
    plain = render_audit_html(audit, tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<h2>Influence</h2>" not in plain
    audit["influence"] = inf = account_influence(sim_ctx, v, scores)
    assert inf["place_followers"] == int(places(scores["followers"])[v])
    assert inf["fall"] == inf["place_truerank"] - inf["place_followers"]
    json.dumps(audit, default=str)
    html = render_audit_html(audit, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "<h2>Influence</h2>" in html and f"#{inf['place_truerank']:,}" in html


@pytest.mark.slow
def test_demo_writes_the_influence_report(capsys, tmp_path):
    code = main(["demo", "--accounts", "1500", "--seed", "3", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert code == 0
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert lines[-1].startswith("report:") and "influence.html" in lines[-1]
    summary = json.loads((tmp_path / "summary.json").read_text())
    inf = summary["influence"]
    assert Path(inf["html"]).exists() and Path(inf["json"]).exists()
    assert inf["median_top_pct_truerank"] > inf["median_top_pct_followers"]
    assert {"rank", "discover", "influence_report"} <= set(summary["seconds"])
    assert inf["plan"]["creators"] and inf["overlap"]["union_reach"] > 0
    audit = json.loads((tmp_path / "audit-bought-followers.json").read_text())
    assert "influence" in audit
