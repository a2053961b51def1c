"""The supervised authenticity classifier: quality floors on the simulator and on Cresci
2015, reasons, persistence, the detector shell and the store functions."""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import numpy as np
import pytest

from trueclout.detect.classifier import (AuthenticityClassifier, SupervisedDetector,
                                         default_model, detect_accounts, predicted_fake,
                                         train_model)
from trueclout.detect.data import DetectionData
from trueclout.detect.features import FEATURE_NAMES, account_features
from trueclout.errors import InputError, NotFittedError, UsageError
from trueclout.ingest.run import ingest
from trueclout.simulate import simulate
from trueclout.store import Store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CRESCI = DATA / "cresci-2015"
needs_cresci = pytest.mark.skipif(not (CRESCI / "E13_users.csv").is_file(),
                                  reason="Cresci 2015 data absent")


def _platform(path: Path, seed: int, accounts: int = 3000, **params) -> Path:
    simulate(path, accounts=accounts, seed=seed, fraud_share=0.1, **params)
    return path


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A training and a test platform (different seeds), ingested into stores."""
    root = tmp_path_factory.mktemp("sim")
    stores = {}
    for name, seed in (("train", 5), ("test", 6)):
        s = Store(":memory:")
        ingest(s, [_platform(root / name, seed)])
        stores[name] = s
    yield stores
    for s in stores.values():
        s.close()


@pytest.fixture(scope="module")
def trained(sim):
    model, report = train_model(sim["train"])
    return model, report


def _xy(store):
    from trueclout.detect.classifier import training_labels
    data = DetectionData.from_store(store)
    verts, y, _ = training_labels(store, data)
    X, _ = account_features(data)
    return X[verts], y, data, verts


def test_not_fitted():
    clf = AuthenticityClassifier()
    for attr in ("threshold_", "calibrated_", "features_"):
        with pytest.raises(NotFittedError):
            getattr(clf, attr)
    X = np.zeros((2, len(FEATURE_NAMES)), np.float32)
    with pytest.raises(NotFittedError):
        clf.authenticity(X)
    with pytest.raises(NotFittedError):
        clf.explain(X)
    with pytest.raises(NotFittedError):
        clf.save("/tmp/never-written.joblib")


def test_fit_validates():
    X = np.zeros((10, len(FEATURE_NAMES)), np.float32)
    with pytest.raises(UsageError, match="feature columns"):
        AuthenticityClassifier().fit(X[:, :5], np.r_[np.zeros(5), np.ones(5)])
    with pytest.raises(UsageError, match="at least 2 real and 2 fake"):
        AuthenticityClassifier().fit(X, np.zeros(10))
    with pytest.raises(UsageError, match="unknown features"):
        AuthenticityClassifier(features=["nope"]).fit(X, np.r_[np.zeros(5), np.ones(5)])


def test_train_report(trained):
    model, report = trained
    assert report["accounts"]["fake"] > 200 and report["accounts"]["real"] > 2000
    assert report["cv"]["auc"] >= 0.99
    assert 0 < model.threshold_ < 1
    assert model.features_ and set(model.features_) <= set(FEATURE_NAMES)


def test_simulator_f1_on_fakes(trained, sim):
    """Trained on one simulated platform, tested on another seed."""
    from sklearn.metrics import f1_score
    model, _ = trained
    X, y, _, _ = _xy(sim["test"])
    auth = model.authenticity(X)
    assert ((auth >= 0) & (auth <= 1)).all()
    f1 = f1_score(y, predicted_fake(auth, model.threshold_))
    assert f1 >= 0.9, f1


def test_reasons_are_plain_words(trained, sim):
    model, _ = trained
    X, y, _, _ = _xy(sim["test"])
    auth = model.authenticity(X)
    flagged = np.flatnonzero(predicted_fake(auth, model.threshold_))[:200]
    assert flagged.size > 20
    reasons = model.explain(X[flagged], top=3)
    assert len(reasons) == flagged.size
    for r in reasons:
        assert 1 <= len(r) <= 3
        for text in r:
            assert text and re.search(r"[a-z]{3}", text)
            assert "nan" not in text and "_" not in text and "inf" not in text
    # the strongest reasons of bought followers mention their follow ratio
    assert sum("follow" in r[0] for r in reasons) > flagged.size / 2


def test_save_load_roundtrip(trained, sim, tmp_path):
    model, _ = trained
    X, _, _, _ = _xy(sim["test"])
    p = tmp_path / "m.joblib"
    model.save(p)
    back = AuthenticityClassifier.load(p)
    np.testing.assert_array_equal(back.authenticity(X[:500]), model.authenticity(X[:500]))
    assert back.explain(X[:3]) == model.explain(X[:3])
    # a model of another feature schema is refused with a clear error
    payload = joblib.load(p)
    payload["feature_schema"] = "0000000000000000"
    joblib.dump(payload, tmp_path / "old.joblib")
    with pytest.raises(InputError, match="feature schema"):
        AuthenticityClassifier.load(tmp_path / "old.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="not a trueclout model"):
        AuthenticityClassifier.load(tmp_path / "junk.joblib")


def test_detect_accounts_and_detector(trained, sim, tmp_path):
    model, _ = trained
    p = tmp_path / "m.joblib"
    model.save(p)
    table = detect_accounts(sim["test"], str(p))
    assert table.column_names == ["platform", "account_id", "authenticity",
                                  "predicted_label", "reason_1", "reason_2", "reason_3"]
    n = table.num_rows
    assert n == 3000
    lab = np.array(table.column("predicted_label").to_pylist())
    r1 = np.array(table.column("reason_1").to_pylist())
    assert set(lab) <= {"real", "fake"}
    assert (r1[lab == "fake"] != "").all() and (r1[lab == "real"] == "").all()
    det = SupervisedDetector(model=model).fit(DetectionData.from_store(sim["test"]))
    np.testing.assert_allclose(det.authenticity_, table.column("authenticity").to_numpy())
    np.testing.assert_array_equal(det.labels_ == 1, lab == "fake")
    assert all(det.reasons_[i] for i in np.flatnonzero(det.labels_))
    assert SupervisedDetector().get_params() == {"model": None, "prior": None,
                                                 "threshold": None}
    # with a prior share of fakes, only accounts more likely fake than real there
    strict = SupervisedDetector(model=model, prior=0.1).fit(DetectionData.from_store(sim["test"]))
    assert strict.labels_.sum() <= det.labels_.sum()
    np.testing.assert_array_equal(strict.labels_ == 1, det.authenticity_ <= 0.1 + 1e-12)


def test_default_model_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUECLOUT_CACHE", str(tmp_path))
    monkeypatch.setenv("TRUECLOUT_DEFAULT_MODEL_ACCOUNTS", "2400")
    m1 = default_model()
    files = list(tmp_path.glob("authenticity-*.joblib"))
    assert len(files) == 1
    m2 = default_model()
    X = np.zeros((3, len(FEATURE_NAMES)), np.float32)
    np.testing.assert_array_equal(m1.authenticity(X), m2.authenticity(X))
    assert m1.n_fake_ > 50


@needs_cresci
@pytest.mark.realdata
@pytest.mark.slow
def test_cresci_cv_floor():
    from trueclout.detect.evaluate_supervised import cresci_cv
    r = cresci_cv(DATA)
    assert r["mcc"] >= 0.99 and r["auc"] >= 0.999, r


@needs_cresci
@pytest.mark.realdata
@pytest.mark.slow
def test_cross_source_floor():
    from trueclout.detect.evaluate_supervised import cross_source
    r = cross_source(DATA, accounts=8000, baseline=False)
    # measured at these settings: 0.996 / 0.89, aged 0.995 / 0.89, reverse 0.957 / 0.80
    assert r["sim_to_cresci"]["auc"] >= 0.98 and r["sim_to_cresci"]["mcc"] >= 0.85, r
    assert (r["sim_to_cresci_aged"]["auc"] >= 0.98
            and r["sim_to_cresci_aged"]["mcc"] >= 0.85), r
    assert r["cresci_to_sim"]["auc"] >= 0.93 and r["cresci_to_sim"]["mcc"] >= 0.7, r


def test_no_profile_means_no_verdict(trained):
    """Accounts known only from follows (an edge list) are left to the graph detectors."""
    import pyarrow as pa
    from trueclout.graph.toy import toy_graph
    model, _ = trained
    g = toy_graph()
    prof = pa.table({"followers_count": pa.nulls(6, pa.int64()),
                     "handle": pa.nulls(6, pa.string())})
    det = SupervisedDetector(model=model).fit(DetectionData.from_graph(g, prof))
    assert det.labels_.sum() == 0 and not det.judged_.any()
    assert (det.decision_scores_ == 0).all() and np.isnan(det.authenticity_).all()
