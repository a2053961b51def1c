"""The out-of-core CSR build against the in-memory builders, on small graphs, with tiny
batches, chunks and memory budgets so that every multi-window path runs."""

from __future__ import annotations

import numpy as np
import pytest

from trueclout import config
from trueclout.errors import InputError, UsageError
from trueclout.graph.outofcore import build_csr, plan_windows, read_edges, write_edges
from trueclout.graph.rmat import rmat_edges, rmat_graph
from trueclout.kernels.csr import csr_from_edges


def _edges(scale: int, m: int, seed: int = 0):
    parts = list(rmat_edges(scale, m, seed=seed))
    return (np.concatenate([s for s, _ in parts]), np.concatenate([d for _, d in parts]))


def _batches(src, dst, size):
    return lambda: [(src[i:i + size], dst[i:i + size]) for i in range(0, len(src), size)]


def _reference(src, dst, n, *, dedupe=True, loops=False):
    keep = np.ones(len(src), bool) if loops else src != dst
    s, d = src[keep], dst[keep]
    out = csr_from_edges(s, d, n, dedupe=dedupe)
    inn = csr_from_edges(d, s, n, dedupe=dedupe)
    return out[0], out[1], inn[0], inn[1]


def _same(g, ref):
    op, oi, ip, ii = ref
    assert g.out_indptr.tolist() == op.tolist()
    assert g.out_indices.tolist() == oi.tolist()
    assert g.in_indptr.tolist() == ip.tolist()
    assert g.in_indices.tolist() == ii.tolist()


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    # transposes read 1,000 entries at a time, so they run over many chunks
    monkeypatch.setenv("TRUECLOUT_OUTOFCORE_CHUNK", "1000")


def test_matches_rmat_graph_one_window(tmp_path):
    ref = rmat_graph(10, 20_000, seed=4)
    with build_csr(lambda: rmat_edges(10, 20_000, seed=4, batch=3_000), ref.n,
                   workdir=tmp_path) as g:
        assert g.windows == {"place": 1, "transposing": 1, "transposing in": 1}
        assert (g.n, g.m) == (ref.n, ref.m)
        assert g.drawn + g.self_loops == 20_000 and g.duplicates == g.drawn - g.m > 0
        _same(g, (ref.out_indptr, ref.out_indices, ref.in_indptr, ref.in_indices))
        assert g.disk_peak > 12 * g.drawn  # spill + raw in-CSR were on disk at once
    assert list(tmp_path.iterdir()) == []  # the work folder is gone


@pytest.mark.parametrize("spill", [True, False])
def test_many_windows_tiny_batches(tmp_path, spill):
    n = 700  # not a power of two: fold a 2**10 R-MAT into 0..n-1
    src, dst = _edges(10, 30_000, seed=2)
    src = (src.astype(np.int64) * n >> 10).astype(np.int32)
    dst = (dst.astype(np.int64) * n >> 10).astype(np.int32)
    fixed = 48 * (n + 1) + 24 * 97
    budget = (fixed + 4 * 4_000) / 2**30  # windows of 4,000 entries: 8 or so per pass
    with build_csr(_batches(src, dst, 997), n, workdir=tmp_path, batch=97,
                   memory_gb=budget, spill=spill) as g:
        assert min(g.windows.values()) >= 5
        _same(g, _reference(src, dst, n))


def test_keep_repeats_and_loops(tmp_path):
    src, dst = _edges(8, 5_000, seed=7)
    with build_csr(_batches(src, dst, 600), 256, workdir=tmp_path, dedupe=False,
                   loops=True, batch=250) as g:
        assert g.m == g.drawn == 5_000 and g.self_loops == 0
        _same(g, _reference(src, dst, 256, dedupe=False, loops=True))


def test_degree_order_relabels(tmp_path):
    src, dst = _edges(9, 10_000, seed=1)
    with build_csr(_batches(src, dst, 4_000), 512, workdir=tmp_path, order="degree") as g:
        deg = g.out_degree() + g.in_degree()
        # hubs first: total degree falls with the new id (repeats were merged after the
        # order was chosen, so only roughly)
        assert deg[:20].mean() > 5 * deg[-200:].mean()
        assert sorted(g.perm.tolist()) == list(range(512))
        _same(g, _reference(g.perm[src], g.perm[dst], 512))


def test_edge_file_source(tmp_path):
    src, dst = _edges(8, 3_000, seed=5)
    path = tmp_path / "edges.bin"
    assert write_edges(_batches(src, dst, 1_000)(), path) == 3_000
    back = list(read_edges(path, batch=700))
    assert np.concatenate([s for s, _ in back]).tolist() == src.tolist()
    with build_csr(path, 256, workdir=tmp_path, batch=500) as g:
        _same(g, _reference(src, dst, 256))
    assert path.exists()  # the input is left alone


def test_empty_and_edgeless(tmp_path):
    with build_csr(lambda: [], 5, workdir=tmp_path) as g:
        assert g.m == 0 and g.out_indptr.tolist() == [0] * 6
    with build_csr(lambda: [(np.array([1, 2]), np.array([1, 2]))], 3,
                   workdir=tmp_path) as g:
        assert (g.m, g.self_loops) == (0, 2)


def test_errors(tmp_path, monkeypatch):
    ok = lambda: [(np.array([0]), np.array([1]))]  # noqa: E731
    with pytest.raises(InputError, match="outside 0..1"):
        build_csr(lambda: [(np.array([0, 5]), np.array([1, 1]))], 2, workdir=tmp_path)
    with pytest.raises(UsageError, match="too small"):
        build_csr(ok, 2, memory_gb=1e-6, workdir=tmp_path)
    with pytest.raises(UsageError, match="not enough disk"):
        build_csr(ok, 2, edges=10**15, workdir=tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        build_csr(ok, 2, workdir=tmp_path / "nope")
    with pytest.raises(UsageError, match="order"):
        build_csr(ok, 2, order="bfs", workdir=tmp_path)
    with pytest.raises(UsageError, match="source"):
        build_csr(42, 2, workdir=tmp_path)
    with pytest.raises(UsageError, match="does not fit"):
        # a hub row of 2,000 entries against windows of 1,000
        hub = lambda: [(np.zeros(2000, np.int32), np.arange(1, 2001, dtype=np.int32))]  # noqa
        build_csr(hub, 2001, memory_gb=(48 * 2002 + 24 * 100 + 4000) / 2**30, batch=100,
                  workdir=tmp_path)
    calls = []

    def changing():
        calls.append(1)
        return [(np.array([0, 1][:len(calls)]), np.array([1, 0][:len(calls)]))]
    with pytest.raises(InputError, match="regenerable"):
        build_csr(changing, 2, spill=False, workdir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # failed builds clean up too
    monkeypatch.setenv("TRUECLOUT_OUTOFCORE_WORKDIR", str(tmp_path))
    with build_csr(ok, 2) as g:
        assert g.workdir.parent == tmp_path


def test_plan_windows_cover_rows():
    indptr = np.concatenate([[0], np.cumsum(np.random.default_rng(0).integers(0, 9, 500))])
    wins = plan_windows(indptr, 40)
    assert wins[0][0] == 0 and wins[-1][1] == 500
    assert all(a == b for (_, a), (b, _) in zip(wins, wins[1:]))
    assert all(indptr[hi] - indptr[lo] <= 40 for lo, hi in wins)
    assert config.get("outofcore_memory_gb") > 0
