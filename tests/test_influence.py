"""Influence maximisation (IMM): reverse-reachable sets estimate the independent cascade's
spread as a forward simulation does, and `plan --objective influence` keeps the budget."""

from __future__ import annotations

import json

import numpy as np

from trueclout.cli import main
from trueclout.discover.targets import toy_context
from trueclout.discover.imm import imm_theta, rr_incidence
from trueclout.discover.plan import plan_budget
from trueclout.graph.toy import random_graph


def _forward(g, seeds, relay, value, runs, rng):
    """Monte Carlo of the same cascade: an active account y activates each follower x
    with probability relay[x] / (accounts x follows)."""
    outdeg = np.maximum(g.out_degree(), 1)
    total = 0.0
    for _ in range(runs):
        active = np.zeros(g.n, bool)
        active[seeds] = True
        frontier = list(seeds)
        while frontier:
            nxt = []
            for y in frontier:
                for x in g.in_neighbors(y):
                    if not active[x] and rng.random() < relay[x] / outdeg[x]:
                        active[x] = True
                        nxt.append(int(x))
            frontier = nxt
        total += value[active].sum()
    return total / runs


def test_rr_estimate_matches_forward_simulation():
    g = random_graph(300, 1500, seed=3)
    rng = np.random.default_rng(0)
    relay = rng.uniform(0.5, 1.0, g.n)
    relay[:20] = 0.0                                   # fakes take no influence
    value = np.where(relay > 0, 1.0, 0.0)
    seeds = np.array([5, 40, 77])
    inc = rr_incidence(g, seeds, value, relay, 60_000, seed=1)
    covered = np.unique(inc["indices"]).size
    est = covered * inc["scale"]
    mc = _forward(g, seeds, relay, value, 3000, np.random.default_rng(1))
    assert abs(est - mc) / mc < 0.06, (est, mc)


def test_imm_theta_grows_as_eps_shrinks():
    g = random_graph(400, 3000, seed=1)
    cand = np.arange(30)
    a = imm_theta(g, cand, np.ones(g.n), np.ones(g.n), 3, eps=0.5)
    b = imm_theta(g, cand, np.ones(g.n), np.ones(g.n), 3, eps=0.2)
    assert b["theta"] > a["theta"] > 0 and a["lower_bound"] > 0


def test_influence_plan_keeps_budget_and_skips_flagged():
    ctx = toy_context(suspicious=[2])
    p = plan_budget(ctx, {"toy:cat": 1, "toy:ana": 1, "toy:eve": 1}, 2,
                    objective="influence")
    names = [c["account"] for c in p["creators"]]
    assert "toy:cat" not in names and p["spent"] <= 2 and p["objective"] == "influence"
    assert p["imm"]["sets"] > 0 and p["reach"] > 0


def test_plan_command_influence(capsys, sim_score_store, tmp_path):
    db = sim_score_store.path
    costs = tmp_path / "costs.csv"
    ids = sim_score_store.sql_rows("SELECT platform || ':' || account_id FROM accounts "
                                   "ORDER BY followers_count DESC NULLS LAST LIMIT 12")
    costs.write_text("account,cost\n" + "".join(f"{r[0]},{10 + i}\n"
                                               for i, r in enumerate(ids)))
    sim_score_store.close()
    try:
        code = main(["plan", "--budget", "40", "--costs", str(costs), "--objective",
                     "influence", "--db", str(db), "--json"])
        res = json.loads(capsys.readouterr().out)
        assert code == 0 and res["spent"] <= 40 and res["imm"]["sets"] > 0
        assert main(["plan", "--budget", "40", "--costs", str(costs), "--objective", "nope",
                     "--db", str(db)]) == 2
    finally:
        sim_score_store.__init__(db)
