"""SALSA: hub and authority scores by a two-step random walk (Lempel and Moran, WWW 2000).

The authority walk goes from an authority ``v`` *back* to one of its followers (a hub)
at random, then *forward* to one of that hub's follows at random::

    h[u]     = sum over v in out(u) of  a[v] / indeg(v)      (pull over the out-CSR)
    a_new[w] = sum over u in in(w) of   h[u] / outdeg(u)     (pull over the in-CSR)

Unlike HITS, each step is degree-normalised, so one dense block of follows cannot take
all the score (the "tightly knit community" effect). Started from the uniform
distribution over authorities, the walk converges, in each connected component, to
authority in proportion to in-degree (Lempel and Moran's theorem) — which the tests use
as a check. With ``restart > 0`` the walk jumps back to a personal ``prior`` at each
step: Twitter's who-to-follow ran this personalised form on each user's "circle of
trust" (Gupta et al., WWW 2013).

Values are float32 shares with float64 row sums and float64 vectors
(:func:`~trueclout.kernels.propagate.pull`); the returned vectors are float64 and sum to 1 over the vertices that have in-edges
(authorities) and out-edges (hubs).

Examples
--------
>>> from trueclout.graph.toy import toy_graph
>>> g = toy_graph()
>>> hubs, auth = salsa(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
>>> np.allclose(auth, g.in_degree() / g.m)        # one component: a ∝ in-degree
True
>>> round(float(hubs.sum()), 6), round(float(auth.sum()), 6)
(1.0, 1.0)
"""

from __future__ import annotations

import numpy as np

from .. import config
from .propagate import check_csr, inverse_degree, pull


def salsa(out_indptr: np.ndarray, out_indices: np.ndarray, in_indptr: np.ndarray,
          in_indices: np.ndarray, *, prior: np.ndarray | None = None,
          restart: float = 0.0, max_iter: int | None = None,
          tol: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hub and authority scores of the SALSA walk.

    Parameters
    ----------
    out_indptr, out_indices, in_indptr, in_indices : arrays
        The out-CSR (row ``u``: whom ``u`` follows) and in-CSR (row ``v``: the followers
        of ``v``) of the same graph.
    prior : array, optional
        Start and restart distribution over authorities (normalised here; default
        uniform over vertices with followers).
    restart : float
        Probability of jumping back to ``prior`` after each step, in [0, 1).
    max_iter : int, optional
        Most authority steps (config ``pagerank_max_iter``).
    tol : float, optional
        Stop when the L1 change of the authority vector is below this (config
        ``pagerank_tol``).

    Returns
    -------
    (hubs, authorities) : float64 arrays of length n, each summing to 1 (0 for a graph
    without edges)

    Examples
    --------
    >>> from trueclout.kernels.csr import csr_from_edges
    >>> src, dst = [0, 0, 1], [1, 2, 2]          # 0 -> 1, 0 -> 2, 1 -> 2
    >>> oi, ox, _ = csr_from_edges(src, dst, 3)
    >>> ii, ix, _ = csr_from_edges(dst, src, 3)
    >>> h, a = salsa(oi, ox, ii, ix)
    >>> a.round(3).tolist(), h.round(3).tolist()
    ([0.0, 0.333, 0.667], [0.667, 0.333, 0.0])
    >>> salsa(oi, ox, ii, ix, restart=1.5)
    Traceback (most recent call last):
    ...
    ValueError: restart must be within [0, 1)
    """
    out_indptr, out_indices = check_csr(out_indptr, out_indices)
    in_indptr, in_indices = check_csr(in_indptr, in_indices)
    n = out_indptr.shape[0] - 1
    if in_indptr.shape[0] != n + 1 or in_indices.shape[0] != out_indices.shape[0]:
        raise ValueError("the out- and in-CSR must describe the same graph")
    if not 0.0 <= restart < 1.0:
        raise ValueError("restart must be within [0, 1)")
    max_iter = int(config.value("pagerank_max_iter", max_iter))
    tol = float(config.value("pagerank_tol", tol))
    indeg = np.diff(in_indptr)
    outdeg = np.diff(out_indptr)
    if out_indices.shape[0] == 0:
        return np.zeros(n), np.zeros(n)
    if prior is None:
        p = (indeg > 0).astype(np.float64)
    else:
        p = np.asarray(prior, dtype=np.float64)
        if p.shape != (n,) or not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
            raise ValueError(f"prior must be {n} finite non-negative values with a "
                             "positive sum")
    p = p / p.sum()
    inv_in = inverse_degree(indeg)
    inv_out = inverse_degree(outdeg)
    a = p.copy()
    h = np.zeros(n)
    share = np.empty(n, np.float32)
    hub = np.empty(n)
    nxt = np.empty(n)
    for _ in range(max_iter):
        np.multiply(a, inv_in, out=share, casting="unsafe")
        pull(out_indptr, out_indices, share, hub)          # h[u]: back to a follower
        h = hub
        np.multiply(h, inv_out, out=share, casting="unsafe")
        pull(in_indptr, in_indices, share, nxt)            # forward to a follow
        a_new = (1.0 - restart) * nxt
        # the restart, plus any mass on authorities without followers (only a prior
        # puts it there: it has no hub to go back to), returns through the prior, like
        # PageRank's dangling mass
        a_new += max(1.0 - a_new.sum(), 0.0) * p
        diff = float(np.abs(a_new - a).sum())
        a = a_new
        if tol > 0 and diff < tol:
            break
    hs = h.sum()
    return (h / hs if hs > 0 else h), a / a.sum()
