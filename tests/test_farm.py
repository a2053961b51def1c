"""Tests of the follow-back farm detector (detect/farm.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from trueclout.detect.data import DetectionData
from trueclout.detect.farm import FarmDetector, farm_evidence, ratio_penalty
from trueclout.graph.build import from_edges
from trueclout.graph.toy import toy_graph

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SNAP = DATA / "snap-ego-twitter"
DAY = 86_400


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A small simulated platform (5,000 accounts, 5% fraud: a dozen farms)."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    out = tmp_path_factory.mktemp("farm") / "sim"
    simulate(out, accounts=5000, seed=11, fraud_share=0.05, fast_share=0.01)
    store = Store(":memory:")
    ingest(store, [out])
    return DetectionData.from_store(store)


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int((pred & truth).sum())
    return 2 * tp / max(int(pred.sum()) + int(truth.sum()), 1)


def test_ratio_penalty_is_smooth_without_cliffs():
    fo = np.arange(1, 6000, dtype=float)
    r = ratio_penalty(fo, 200)
    assert np.all((r >= 0) & (r <= 1))
    assert np.all(np.diff(r) >= 0)                    # monotone in following
    assert np.abs(np.diff(r)).max() < 0.01            # no jump anywhere, 500/2,500 included
    for cliff in (500, 2500):
        a, b = ratio_penalty([cliff - 1, cliff + 1], 200)
        assert abs(b - a) < 0.01
    # a function of the ratio alone (up to the pseudo-count): 10x the counts, same penalty
    assert abs(ratio_penalty(4000, 1000, pseudo=0) - ratio_penalty(400, 100, pseudo=0)) < 1e-12


def test_toy_graph_flags_nobody():
    det = FarmDetector().fit(DetectionData.from_graph(toy_graph()))
    assert det.labels_.sum() == 0 and det.decision_scores_.max() < 0.5
    assert set(det.evidence_) >= {"churn", "ratio", "followback", "structure", "score"}


def test_planted_churn_campaign_is_flagged_with_reasons():
    t0 = 1_700_000_000
    kept = list(range(1, 61)) + list(range(261, 301))
    src = [0] * 100 + list(range(1, 61))
    dst = kept + [0] * 60
    ts = [t0 + 3600 * i for i in range(100)] + [t0 + DAY] * 60
    rem = pa.table({"src": pa.array([0] * 200, pa.int32()),
                    "dst": pa.array(list(range(61, 261)), pa.int32()),
                    "created": [t0 + 60 * i for i in range(200)],
                    "removed": [t0 + 4 * DAY] * 200})
    det = FarmDetector().fit(DetectionData.from_graph(from_edges(src, dst, ts=ts, n=301),
                                                      removed=rem))
    assert det.labels_.nonzero()[0].tolist() == [0]
    assert "unfollowed 200 who did not follow back" in det.reasons_[0]
    # an unfollow of an account that followed back is not churn
    ev = farm_evidence(DetectionData.from_graph(from_edges(src, dst, ts=ts, n=301),
                                                removed=rem.slice(0, 5)))
    assert ev["quick_unfollows"][0] == 5 and ev["churn"][0] < 0.01


def test_farm_f1_floor_on_simulator(sim):
    det = FarmDetector().fit(sim)
    truth = sim.label_mask("farm")
    assert truth.sum() >= 5
    assert _f1(det.labels_.astype(bool), truth) >= 0.95
    assert np.all((det.decision_scores_ >= 0) & (det.decision_scores_ <= 1))
    v = np.flatnonzero(truth & det.labels_.astype(bool))[0]
    assert "unfollowed" in det.reasons_[v] and "did not follow back" in det.reasons_[v]


def test_without_unfollows_degrades_to_structure(sim):
    # no unfollow data (as on real crawls): ordinary reciprocal humans stay unflagged
    d = DetectionData(graph=sim.graph, profiles=sim.profiles, labels=sim.labels)
    det = FarmDetector().fit(d)
    human = sim.label_mask("human")
    assert det.labels_[human].mean() <= 0.005
    assert det.evidence_["churn"].max() == 0.0


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not SNAP.exists(), reason="../shared/data/snap-ego-twitter is absent")
def test_snap_flags_few(tmp_path):
    from trueclout.ingest.run import ingest
    from trueclout.store import Store

    with Store(tmp_path / "s.duckdb") as s:
        ingest(s, [SNAP])
        d = DetectionData.from_store(s)
    det = FarmDetector().fit(d)
    assert det.labels_.mean() <= 0.005
