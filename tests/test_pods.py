"""Engagement pods: planted pods on toy graphs, the evidence against brute force, and the
simulator's pods against its honest viral accounts."""

from __future__ import annotations

import numpy as np
import pytest

from trueclout.detect.data import DetectionData
from trueclout.detect.pods import PodDetector, pod_scores
from trueclout.errors import NotFittedError, UsageError
from trueclout.graph.build import from_edges
from trueclout.graph.toy import toy_graph

T0 = 1_700_000_000
DAY = 86_400


def _platform(pod_size=15, n=400, seed=0, times=True, friends=4):
    """n accounts with random follows and sparse random likes; one pod of ``pod_size``
    (all follow each other, each likes every other member's 5 posts within minutes);
    ``friends`` close friends who follow each other and like a lot, but slowly."""
    rng = np.random.default_rng(seed)
    fs, fd = rng.integers(0, n, 8 * n), rng.integers(0, n, 8 * n)
    ls, ld = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    lt = T0 + rng.integers(0, 90 * DAY, 3 * n)
    pod = np.arange(pod_size)
    a, b = np.meshgrid(pod, pod)
    off = a != b
    fs, fd = np.r_[fs, a[off]], np.r_[fd, b[off]]
    post_t = T0 + rng.integers(0, 90 * DAY, (pod_size, 5))  # 5 posts per member
    s, d, t = [], [], []
    for author in pod:
        for p in range(5):
            for m in pod[pod != author]:
                s.append(m)
                d.append(author)
                t.append(post_t[author, p] + 30 + rng.exponential(240))
    fr = np.arange(100, 100 + friends)
    a, b = np.meshgrid(fr, fr)
    off = a != b
    fs, fd = np.r_[fs, a[off]], np.r_[fd, b[off]]
    for u, v in zip(a[off], b[off]):  # many likes between friends, hours to days apart
        for _ in range(6):
            s.append(u)
            d.append(v)
            t.append(T0 + rng.integers(0, 90 * DAY))
    ls, ld, lt = np.r_[ls, s], np.r_[ld, d], np.r_[lt, np.array(t, np.int64)]
    keep = ls != ld
    inter = {"like": (ls[keep], ld[keep], lt[keep] if times else None)}
    keep_f = fs != fd
    return from_edges(fs[keep_f], fd[keep_f], n=n, interactions=inter), pod, fr


def test_planted_pod_found_friends_not():
    g, pod, friends = _platform()
    det = PodDetector().fit(g)
    truth = np.zeros(g.n, bool)
    truth[pod] = True
    flag = det.labels_.astype(bool)
    assert flag[truth].all()
    assert not flag[~truth].any()
    assert len(det.pods_) == 1 and set(det.pods_[0]["members"].tolist()) == set(pod.tolist())
    assert det.pods_[0]["density"] == 1.0
    assert np.all(det.quick_[pod] >= 0.9)
    assert np.all(det.partners_[pod] == pod.size - 1)
    assert np.all(det.decision_scores_[friends] < 0.2)  # a few close friends: no pod
    assert "within 15 minutes" in det.reasons_[pod[0]]


def test_without_times_quickness_is_unknown():
    g, pod, _ = _platform(times=False)
    det = PodDetector().fit(g)
    assert np.isnan(det.quick_[pod]).all()
    assert det.labels_[pod].all()
    assert "minutes" not in det.reasons_[pod[0]]


def test_slow_engagement_is_not_a_pod():
    """The same closed group, but its likes come days apart: the quickness evidence fails."""
    g, pod, _ = _platform()
    p, i, t = g.interactions["like"]
    rng = np.random.default_rng(1)
    t2 = t.copy()
    t2[:] = T0 + rng.integers(0, 90 * DAY, t.size)
    g.interactions["like"] = (p, i, t2)
    det = PodDetector().fit(g)
    assert det.labels_.sum() == 0
    assert np.all(det.quick_[pod] < 0.2)


def test_closedness_matches_networkx():
    nx = pytest.importorskip("networkx")
    g, pod, _ = _platform(pod_size=12, seed=3)
    r = pod_scores(g)
    ip, ii = r["partner_indptr"], r["partner_indices"]
    G = nx.Graph()
    G.add_nodes_from(range(g.n))
    G.add_edges_from((u, int(v)) for u in range(g.n) for v in ii[ip[u]:ip[u + 1]])
    cc = nx.clustering(G)
    assert np.allclose(r["closed"], [cc[v] for v in range(g.n)])
    # partners are mutual followers with enough engagement both ways
    for u in pod:
        assert set(ii[ip[u]:ip[u + 1]].tolist()) == set(pod.tolist()) - {u}


def test_no_interactions():
    g = from_edges([0, 1], [1, 0], n=3)
    with pytest.raises(UsageError):  # the ensemble skips a detector that cannot run
        PodDetector().fit(DetectionData.from_graph(g))
    assert pod_scores(g)["scores"].tolist() == [0.0, 0.0, 0.0]
    g = from_edges([0, 1], [1, 0], n=3, interactions={"mention": ([0], [1])})
    with pytest.raises(UsageError):
        PodDetector().fit(g)
    det = PodDetector(kinds=("mention",)).fit(g)
    assert det.labels_.tolist() == [0, 0, 0] and det.pods_ == []


def test_contract():
    det = PodDetector(min_pair=4)
    with pytest.raises(NotFittedError):
        det.labels_
    assert det.get_params()["min_pair"] == 4
    assert PodDetector().fit(toy_graph()).decision_scores_.max() == 0.0


@pytest.fixture(scope="module")
def sim_data(tmp_path_factory):
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    d = tmp_path_factory.mktemp("sim")
    simulate(d / "p", accounts=6000, seed=5)
    with Store(str(d / "s.duckdb")) as store:
        ingest(store, [d / "p"])
        return DetectionData.from_store(store)


def test_simulator_pods(sim_data):
    det = PodDetector().fit(sim_data)
    flag = det.labels_.astype(bool)
    pods = sim_data.label_mask("pod")
    tp = np.sum(flag & pods)
    f1 = 2 * tp / (flag.sum() + pods.sum())
    assert f1 >= 0.95
    assert flag[sim_data.label_mask("fast_growth")].mean() <= 0.05
    assert flag[sim_data.label_mask("human")].mean() <= 0.001
