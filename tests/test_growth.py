"""Tests of the growth-anomaly detector (detect/growth.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from trueclout.detect.data import DetectionData
from trueclout.detect.growth import GrowthDetector, count_unit, growth_periods
from trueclout.graph.toy import toy_graph

DAY = 86_400
WEEKS = np.arange(27) * 7 * DAY + 1_700_000_000


@pytest.mark.parametrize("seed", range(5))
def test_planted_burst_excess_within_20_percent(seed):
    rng = np.random.default_rng(seed)
    gains = rng.poisson(40, 26)
    week = int(rng.integers(3, 24))
    gains[week] += 500
    counts = 2000 + np.concatenate([[0], np.cumsum(gains)])
    periods = growth_periods(WEEKS, counts)
    assert len(periods) == 1
    start, end, excess = periods[0]
    assert start == WEEKS[week] and end == WEEKS[week + 1]
    assert 400 <= excess <= 600


@pytest.mark.parametrize("seed", range(5))
def test_smooth_series_has_no_periods(seed):
    rng = np.random.default_rng(seed)
    gains = rng.poisson(rng.uniform(5, 300), 26)
    counts = 1000 + np.concatenate([[0], np.cumsum(gains)])
    assert growth_periods(WEEKS, counts) == []
    # steady, accelerating organic growth (a few % a week) is not a burst either
    counts = np.round(1000 * 1.03 ** np.arange(27))
    assert growth_periods(WEEKS, counts) == []


def test_sustained_rise_found_by_cusum():
    gains = np.full(26, 100)
    gains[10:16] += 120            # six weeks at more than twice the pace
    counts = 5000 + np.concatenate([[0], np.cumsum(gains)])
    periods = growth_periods(WEEKS, counts, z=1e9)   # no single week is a burst
    assert len(periods) == 1
    assert periods[0][0] == WEEKS[10] and abs(periods[0][2] - 720) <= 0.2 * 720


def test_short_or_unordered_series():
    assert growth_periods(WEEKS[:3], [0, 500, 1000]) == []
    c = 100 + 10 * np.arange(10)
    c[6:] += 400
    p1 = growth_periods(WEEKS[:10], c)
    order = np.random.default_rng(0).permutation(10)
    assert growth_periods(WEEKS[:10][order], c[order]) == p1
    assert count_unit([10, 20, 40]) == 10.0


def test_inactive_without_snapshots_or_times():
    g = dataclasses.replace(toy_graph(), in_ts=None, out_ts=None)
    det = GrowthDetector().fit(DetectionData.from_graph(g))
    assert not det.active_ and det.decision_scores_.max() == 0.0 and det.periods_ == {}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """5,000 accounts with 5% fraud and 1% viral (honest fast-growing) accounts."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    out = tmp_path_factory.mktemp("growth") / "sim"
    simulate(out, accounts=5000, seed=13, fraud_share=0.05, fast_share=0.01)
    store = Store(":memory:")
    ingest(store, [out])
    return DetectionData.from_store(store)


def _variants(sim):
    yield "snapshots and follow times", sim
    yield "follow times only", DetectionData(graph=sim.graph, profiles=sim.profiles,
                                             labels=sim.labels)
    g = dataclasses.replace(sim.graph, in_ts=None, out_ts=None)
    yield "snapshots only", DetectionData(graph=g, profiles=sim.profiles,
                                          snapshots=sim.snapshots, labels=sim.labels)


def test_customers_flagged_viral_accounts_not(sim):
    cust, fast = sim.label_mask("customer"), sim.label_mask("fast_growth")
    plain = sim.label_mask("human") & ~cust & ~fast
    assert fast.sum() >= 20 and cust.sum() >= 20
    for name, d in _variants(sim):
        det = GrowthDetector().fit(d)
        flagged = det.labels_.astype(bool)
        assert flagged[cust].mean() >= 0.9, name
        assert flagged[fast].mean() <= 0.05, name
        assert flagged[plain].mean() <= 0.005, name
        # every viral account did have a burst: it is the composition that clears it
        assert np.isin(np.flatnonzero(fast), det.candidates_["vertex"]).mean() >= 0.9, name
    det = GrowthDetector().fit(sim)
    v = int(np.flatnonzero(cust & det.labels_.astype(bool))[0])
    assert v in det.periods_ and all(x > 0 for _, _, x in det.periods_[v])
    assert det.reasons_[v].startswith("gained ")
    assert "new followers" in det.reasons_[v]
