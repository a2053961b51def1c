"""Find creators whose authentic audience is the audience a marketer wants.

A creator's **authentic reach** is the total :func:`~trueclout.discover.targets.
audience_weight` of its followers (authenticity gate × activity, 0 for flagged
accounts); its **relevant reach** weighs each follower by the target's relevance too::

    authentic_reach(c) = Σ_{u follows c} w[u]
    relevant_reach(c)  = Σ_{u follows c} w[u] · relevance[u]

Both are one pull over the in-CSR (:func:`trueclout.kernels.propagate.pull`), ``O(m)``
for all creators at once. :func:`find_creators` ranks by relevant reach, the
"Million Follower Fallacy" (Cha et al., ICWSM 2010) turned into a rule: bought, fake and
asleep followers add nothing, so a creator that bought half its followers ranks by the
half it did not buy. :func:`lookalike_creators` ranks instead by how much a creator's
authentic audience resembles one account's, the weighted cosine::

    cos(A, c) = Σ_{u ∈ F(A) ∩ F(c)} w[u]² / sqrt(Σ_{F(A)} w[u]² · Σ_{F(c)} w[u]²)

(``F``: followers), three more pulls. Creators the ensemble flags (``ctx.suspicious``)
are never returned, nor the target's own account.

Examples
--------
>>> from trueclout.discover.targets import toy_context
>>> ctx = toy_context(suspicious=[3])       # dan is fake: he counts for nothing
>>> t = find_creators(ctx, np.ones(ctx.n, np.float32), top=3)
>>> t.column("account").to_pylist(), t.column("relevant_reach").to_pylist()
(['toy:cat', 'toy:ana', 'toy:ben'], [4.0, 2.0, 1.0])
>>> t.column("followers_known").to_pylist(), t.column("authentic_share").to_pylist()
([5, 2, 1], [0.8, 1.0, 1.0])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import config
from ..errors import UsageError
from ..kernels.propagate import pull
from .targets import Target, account_label, audience_weight, handles, like_target

#: Columns of the table :func:`find_creators` returns.
COLUMNS = ("rank", "account", "handle", "followers_count", "followers_known", "authentic_reach",
           "relevant_reach",
           "relevance_share", "authentic_share", "authenticity", "why")


def creator_reach(ctx, relevance: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Followers, authentic reach and relevant reach of every account.

    Parameters
    ----------
    ctx : ScoreContext
    relevance : float array in [0, 1], optional
        Default 1 everywhere (relevant reach = authentic reach).

    Returns
    -------
    followers : int64 array
    authentic : float64 array
    relevant : float64 array

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> f, a, r = creator_reach(toy_context(suspicious=[3]))
    >>> f.tolist(), a.tolist()
    ([2, 1, 5, 0, 2, 1], [2.0, 1.0, 4.0, 0.0, 1.0, 1.0])
    """
    g = ctx.graph
    w = audience_weight(ctx)
    followers = g.in_degree().astype(np.int64)
    authentic = pull(g.in_indptr, g.in_indices, w).astype(np.float64)
    if relevance is None:
        return followers, authentic, authentic.copy()
    rel = _relevance(ctx, relevance)
    relevant = pull(g.in_indptr, g.in_indices, (w * rel).astype(np.float32))
    return followers, authentic, relevant.astype(np.float64)


def _relevance(ctx, relevance) -> np.ndarray:
    rel = np.asarray(relevance, dtype=np.float32)
    if rel.shape != (ctx.n,):
        raise UsageError(f"relevance must have one value per account ({ctx.n}), "
                         f"not shape {rel.shape}")
    if not np.all(np.isfinite(rel)) or rel.min(initial=0) < 0 or rel.max(initial=0) > 1:
        raise UsageError("relevance must be in [0, 1]")
    return rel


def _candidates(ctx, followers, min_followers, exclude) -> np.ndarray:
    ok = (followers >= max(int(min_followers), 1)) & ~np.asarray(ctx.suspicious, bool)
    if exclude is not None:
        ex = np.asarray(list(exclude) if not isinstance(exclude, np.ndarray) else exclude,
                        dtype=np.int64)
        ok[ex[(ex >= 0) & (ex < ctx.n)]] = False
    return ok


def _top(score: np.ndarray, ok: np.ndarray, top: int, tiebreak: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(ok & (score > 0))
    if idx.size == 0 or top <= 0:
        return np.zeros(0, np.int64)
    if idx.size > top:
        cut = np.partition(score[idx], idx.size - top)[idx.size - top]
        idx = idx[score[idx] >= cut]
    order = np.lexsort((idx, -tiebreak[idx], -score[idx]))
    return idx[order][:top].astype(np.int64)


def _profile_count(data, idx: np.ndarray) -> pa.Array:
    """The platform's reported follower count (null where unknown)."""
    if "followers_count" not in data.profiles.column_names:
        return pa.nulls(idx.shape[0], pa.int64())
    return data.profiles.column("followers_count").take(pa.array(idx)).cast(pa.int64()) \
        .combine_chunks()


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


def _why(followers: int, authentic: float, relevant: float, target_label: str,
         flagged: int) -> str:
    parts = [f"{_fmt(authentic)} authentic reach from {followers:,} known followers"
             f" ({100 * authentic / max(followers, 1):.0f}%)"]
    if flagged:
        parts.append(f"{flagged:,} follower{'' if flagged == 1 else 's'} flagged")
    if target_label:
        share = relevant / authentic if authentic > 0 else 0.0
        parts.append(f"{100 * share:.0f}% of it relevant to {target_label}")
    return "; ".join(parts)


def _table(ctx, idx, followers, authentic, relevant, target_label, extra=None):
    g = ctx.graph
    flagged = np.zeros(idx.shape[0], np.int64)
    sus = np.asarray(ctx.suspicious, bool)
    for j, v in enumerate(idx):
        flagged[j] = int(sus[g.in_neighbors(v)].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_share = np.where(authentic[idx] > 0, relevant[idx] / authentic[idx], 0.0)
        auth_share = np.where(followers[idx] > 0, authentic[idx] / followers[idx], 0.0)
    why = [_why(int(followers[v]), float(authentic[v]), float(relevant[v]), target_label,
                int(flagged[j])) for j, v in enumerate(idx)]
    cols = {
        "rank": pa.array(np.arange(1, idx.shape[0] + 1, dtype=np.int64)),
        "account": pa.array([account_label(ctx.data, v) for v in idx], pa.string()),
        "handle": pa.array(handles(ctx.data, idx), pa.string()),
        "followers_count": _profile_count(ctx.data, idx),
        "followers_known": pa.array(followers[idx].astype(np.int64)),
        "authentic_reach": pa.array(np.round(authentic[idx], 2)),
        "relevant_reach": pa.array(np.round(relevant[idx], 2)),
        "relevance_share": pa.array(np.round(rel_share, 4)),
        "authentic_share": pa.array(np.round(auth_share, 4)),
        "authenticity": pa.array(np.round(np.asarray(ctx.authenticity, np.float64)[idx], 4)),
    }
    if extra:
        for name, (values, fmt_why) in extra.items():
            cols[name] = pa.array(values)
            why = [f"{fmt_why(j)}; {w}" for j, w in enumerate(why)]
    cols["why"] = pa.array(why, pa.string())
    return pa.table(cols)


def find_creators(ctx, relevance: np.ndarray | None = None, *, top: int | None = None,
                  min_followers: int = 0, exclude=None, target_label: str = "") -> pa.Table:
    """Creators ranked by relevant authentic reach.

    Parameters
    ----------
    ctx : ScoreContext
    relevance : float array in [0, 1], optional
        Per account (a :class:`~trueclout.discover.targets.Target`'s ``relevance``).
        Default 1 everywhere: rank by authentic reach.
    top : int, optional
        Default ``discover_find_top``.
    min_followers : int
        Leave out creators with fewer followers (in the store's graph).
    exclude : int array, optional
        Vertices never returned (the target's own account).
    target_label : str
        The target in words, for the ``why`` column.

    Returns
    -------
    pyarrow.Table
        :data:`COLUMNS`, best first. ``followers_count`` is the platform's own count
        of followers (null where unknown), ``followers_known`` the followers the store
        holds (it may hold only a sample of them), ``authentic_share`` the authentic
        reach per known follower, ``relevance_share`` the relevant part of the
        authentic reach. Creators with no relevant reach, and
        flagged creators, are left out.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> ctx = toy_context()
    >>> rel = np.array([0, 0, 0, 1, 0, 1], np.float32)    # the target: dan and fay
    >>> t = find_creators(ctx, rel, target_label="the target")
    >>> t.column("account").to_pylist(), t.column("relevant_reach").to_pylist()
    (['toy:eve', 'toy:cat'], [2.0, 2.0])
    >>> t.column("why")[0].as_py()
    '2.0 authentic reach from 2 known followers (100%); 100% of it relevant to the target'
    """
    top = int(config.value("discover_find_top", top))
    followers, authentic, relevant = creator_reach(ctx, relevance)
    ok = _candidates(ctx, followers, min_followers, exclude)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(authentic > 0, relevant / authentic, 0.0)
    idx = _top(relevant, ok, top, share)
    return _table(ctx, idx, followers, authentic, relevant, target_label)


def lookalike_creators(ctx, account, *, top: int | None = None, min_followers: int = 0
                       ) -> pa.Table:
    """Creators whose authentic audience is most like ``account``'s (weighted cosine).

    Parameters
    ----------
    ctx : ScoreContext
    account : str or int
        ``platform:account_id``, an account id, ``@handle`` or a vertex id.
    top, min_followers : as :func:`find_creators`

    Returns
    -------
    pyarrow.Table
        :data:`COLUMNS` plus ``similarity`` (the cosine, in [0, 1]); ranked by it.
        ``relevant_reach`` is the authentic reach shared with ``account``'s audience.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> t = lookalike_creators(toy_context(), "toy:eve")
    >>> t.column("account").to_pylist(), t.column("similarity").to_pylist()
    (['toy:cat'], [0.6325])
    """
    t = like_target(ctx, account)
    return _lookalikes(ctx, t, top=top, min_followers=min_followers)


def _lookalikes(ctx, t: Target, *, top, min_followers) -> pa.Table:
    top = int(config.value("discover_find_top", top))
    g = ctx.graph
    w = audience_weight(ctx).astype(np.float64)
    followers, authentic, relevant = creator_reach(ctx, t.relevance)
    w2 = (w * w).astype(np.float32)
    dot = pull(g.in_indptr, g.in_indices, (w2 * t.relevance).astype(np.float32))
    norm = pull(g.in_indptr, g.in_indices, w2).astype(np.float64)
    anchor_norm = float((w[t.members] ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(norm > 0, dot / np.sqrt(norm * anchor_norm), 0.0)
    cos = np.clip(cos, 0.0, 1.0)
    ok = _candidates(ctx, followers, min_followers, t.exclude)
    idx = _top(np.where(relevant > 0, cos, 0.0), ok, top, relevant)
    sims = np.round(cos[idx], 4)
    anchor = account_label(ctx.data, t.anchor)
    extra = {"similarity": (sims, lambda j: f"audience similarity {sims[j]:.2f} with "
                                            f"{anchor}'s")}
    return _table(ctx, idx, followers, authentic, relevant, f"{anchor}'s audience", extra)


def find(ctx, target: Target, *, top: int | None = None, min_followers: int = 0
         ) -> pa.Table:
    """The ``find`` command's table for a resolved target: lookalikes for ``like``,
    relevant reach otherwise.

    Examples
    --------
    >>> from trueclout.discover.targets import resolve_target, toy_context
    >>> ctx = toy_context()
    >>> find(ctx, resolve_target(ctx, audience=[3, 5])).column("account").to_pylist()
    ['toy:eve', 'toy:cat']
    """
    if target.kind == "like":
        return _lookalikes(ctx, target, top=top, min_followers=min_followers)
    return find_creators(ctx, target.relevance, top=top, min_followers=min_followers,
                         exclude=target.exclude,
                         target_label="" if target.kind == "all" else target.label)
