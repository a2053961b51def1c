"""R-MAT generator: determinism, skew, and a valid deduplicated graph."""

import numpy as np
import pytest

from trueclout.errors import UsageError
from trueclout.graph.rmat import rmat_edges, rmat_graph


def _all(scale, m, **kw):
    parts = list(rmat_edges(scale, m, **kw))
    return (np.concatenate([s for s, _ in parts]), np.concatenate([d for _, d in parts]))


def test_deterministic_and_independent_of_batch_size():
    s1, d1 = _all(12, 50_000, seed=7)
    s2, d2 = _all(12, 50_000, seed=7, batch=1234)
    assert s1.dtype == d1.dtype == np.int32
    assert np.array_equal(s1, s2) and np.array_equal(d1, d2)
    s3, _ = _all(12, 50_000, seed=8)
    assert not np.array_equal(s1, s3)


def test_batches_are_bounded():
    sizes = [len(s) for s, _ in rmat_edges(10, 10_001, batch=1000)]
    assert max(sizes) == 1000 and sum(sizes) == 10_001


def test_quadrant_skew():
    scale, m = 16, 400_000
    s, d = _all(scale, m, seed=1, scramble=False)
    h = 1 << (scale - 1)
    top, left = s < h, d < h
    assert abs((top & left).mean() - 0.57) < 0.005
    assert abs((top & ~left).mean() - 0.19) < 0.005
    assert abs((~top & left).mean() - 0.19) < 0.005
    assert abs((~top & ~left).mean() - 0.05) < 0.005
    # heavy tail: the top 1% of vertices by in-degree receive far more than 1% of the edges
    deg = np.sort(np.bincount(d, minlength=1 << scale))[::-1]
    assert deg[: (1 << scale) // 100].sum() > 0.15 * m


def test_scramble_is_a_bijection_of_ids():
    s0, d0 = _all(10, 20_000, seed=2, scramble=False)
    s1, d1 = _all(10, 20_000, seed=2, scramble=True)
    assert s1.min() >= 0 and s1.max() < 1024
    # the same draws relabelled: a consistent one-to-one map from raw ids to scrambled ids
    lab = np.full(1024, -1)
    lab[np.concatenate([s0, d0])] = np.concatenate([s1, d1])
    assert np.array_equal(lab[s0], s1) and np.array_equal(lab[d0], d1)
    used = lab[lab >= 0]
    assert len(np.unique(used)) == len(used)


def test_no_loops_option():
    s, d = _all(8, 20_000, seed=3, loops=False)
    s0, d0 = _all(8, 20_000, seed=3)
    assert not np.any(s == d) and np.any(s0 == d0)
    keep = s0 != d0
    assert np.array_equal(s, s0[keep]) and np.array_equal(d, d0[keep])


def test_graph_is_valid_deduplicated_and_loop_free():
    g = rmat_graph(12, 60_000, seed=4, batch=7000)
    g.check()  # sorted rows, no repeats, in-CSR the transpose of out-CSR
    assert g.n == 4096 and 0 < g.m < 60_000
    src = np.repeat(np.arange(g.n), g.out_degree())
    assert not np.any(src == g.out_indices)
    s, d = _all(12, 60_000, seed=4, loops=False)
    pairs = np.unique(s.astype(np.int64) * g.n + d)
    assert g.m == len(pairs)
    assert np.array_equal(src * g.n + g.out_indices, pairs)


@pytest.mark.parametrize("kw", [dict(scale=0, m=1), dict(scale=4, m=-1),
                                dict(scale=4, m=1, a=0.9, b=0.2),
                                dict(scale=4, m=1, batch=0)])
def test_bad_arguments(kw):
    with pytest.raises(UsageError):
        list(rmat_edges(**kw))
