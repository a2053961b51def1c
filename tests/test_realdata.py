"""End to end on the real data sets in ../shared/data, through the ingest runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from trueclout.ingest.run import ingest
from trueclout.store import Store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CRESCI = DATA / "cresci-2015"
SNAP = DATA / "snap-ego-twitter"

pytestmark = pytest.mark.realdata


@pytest.mark.skipif(not CRESCI.exists(), reason="../shared/data/cresci-2015 is absent")
def test_cresci_accounts_and_labels(tmp_path):
    with Store(tmp_path / "c.duckdb") as s:
        report = ingest(s, [CRESCI])
        assert not report.failures
        assert len(report.loads) == 2
        assert s.counts()["accounts"] == 1481 + 1337
        assert s.label_counts() == {"human": 1481, "fake": 1337}
        # every labelled account has its profile
        assert s.sql_rows("SELECT count(*) FROM accounts WHERE followers_count IS NULL "
                          "OR following_count IS NULL OR created_at IS NULL "
                          "OR observed_at IS NULL") == [(0,)]
        d = report.to_dict()
        assert d["read"] == d["accepted"] + d["rejected"]
        # loading the folder again adds nothing
        before = s.counts()
        again = ingest(s, [CRESCI])
        assert all(r.skipped for r in again.loads)
        assert s.counts() == before


@pytest.mark.slow
@pytest.mark.skipif(not SNAP.exists(), reason="../shared/data/snap-ego-twitter is absent")
def test_snap_ego_twitter(tmp_path):
    from trueclout.graph.build import build_graph
    from trueclout.graph.stats import graph_stats

    with Store(tmp_path / "s.duckdb") as s:
        report = ingest(s, [SNAP])
        assert not report.failures
        [load] = report.loads
        assert load.format == "snap-ego"
        assert s.counts()["accounts"] == 81_306
        assert s.counts()["follows"] == 1_768_149 - 14
        self_follows = s.sql_rows(
            "SELECT count(*) FROM rejects WHERE reason LIKE '%self-follow%'")[0][0]
        assert self_follows == 14
        assert load.read == load.accepted + load.rejected
        assert s.counts()["account_terms"] > 100_000
        g = build_graph(s, interactions=False)
        assert g.n == 81_306 and g.out_indices.shape[0] == 1_768_135
        st = graph_stats(g)
        assert 0.3 < st["reciprocity"] < 0.7
