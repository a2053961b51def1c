"""Posts and interactions (like, repost, reply, quote, mention).

* :func:`posts_block` writes the posts of one block of authors: times within the span
  (after the account was created), the author's language, a hashtag of the author's topic
  community (``topic12``; spam tags for farms), and now and then a mention of an account
  of the same community, which is also an interaction of kind ``mention``.
* :func:`edge_interactions` draws the engagement that flows along follow edges: a follower
  ``u`` of ``v`` engages with ``v``'s posts at rate ``alpha * act[u] * n_posts[v]``, so
  popular and active accounts get more; plus a small share of engagement from
  non-followers towards popular accounts.
* :func:`pod_interactions` makes every pod member like (and often repost and reply to)
  every post of the other members, within minutes.

``post_id`` of an interaction is the post acted upon (for a mention, the post that holds
it). Posts are numbered per author, so post ``k`` of account ``i`` has global index
``post_start[i] + k`` and id ``"p<index>"``.

Examples
--------
>>> import numpy as np
>>> from trueclout.simulate.params import SimParams
>>> from trueclout.simulate.population import build_population
>>> from trueclout.simulate.activity import posts_block, KINDS
>>> pop = build_population(SimParams(accounts=500, seed=0))
>>> times = np.zeros(int(pop.post_start[-1]), dtype=np.int64)
>>> handles = None
>>> b = posts_block(pop, 0, times, handles)
>>> b.author.shape == b.post.shape, KINDS[0]
(True, 'like')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import names
from .follows import BLOCK, Edges
from .params import MINUTE_US
from .population import FAKE, FARM, Population
from .rng import block_rng, unique_first
from .writer import const_strings, id_strings, list_of_strings

#: Interaction kinds, in the order of their codes.
KINDS = ("like", "repost", "reply", "quote", "mention")
LIKE, REPOST, REPLY, QUOTE, MENTION = range(5)
_KIND_ARRAY = pa.array(list(KINDS))
_SPAM_TAGS = pa.array(["followback", "teamfollowback", "f4f", "followme"])


@dataclass
class Interactions:
    """Interactions as parallel arrays (``post`` is a global post index).

    Examples
    --------
    >>> len(Interactions.empty())
    0
    """

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray
    post: np.ndarray
    created: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    @staticmethod
    def empty() -> "Interactions":
        """No interactions.

        Examples
        --------
        >>> Interactions.empty().kind.dtype
        dtype('int8')
        """
        z = np.zeros(0, dtype=np.int64)
        return Interactions(z, z.copy(), np.zeros(0, dtype=np.int8), z.copy(), z.copy())

    @staticmethod
    def concat(parts: list["Interactions"]) -> "Interactions":
        """Concatenate.

        Examples
        --------
        >>> len(Interactions.concat([]))
        0
        """
        parts = [p for p in parts if len(p)]
        if not parts:
            return Interactions.empty()
        return Interactions(*(np.concatenate([getattr(p, f) for p in parts])
                              for f in ("src", "dst", "kind", "post", "created")))

    def take(self, idx: np.ndarray) -> "Interactions":
        """Rows at ``idx``.

        Examples
        --------
        >>> len(Interactions.empty().take(np.zeros(0, dtype=np.int64)))
        0
        """
        return Interactions(self.src[idx], self.dst[idx], self.kind[idx], self.post[idx],
                            self.created[idx])

    def to_columns(self, platform: str, account_prefix: str, account_base: int
                   ) -> dict[str, pa.Array]:
        """Columns of the ``interactions`` table.

        Examples
        --------
        >>> Interactions.empty().to_columns("sim", "u", 1000000)["kind"].type
        DataType(string)
        """
        from .writer import timestamps
        n = len(self)
        return {"platform": const_strings(platform, n),
                "src": id_strings(account_prefix, self.src + account_base),
                "dst": id_strings(account_prefix, self.dst + account_base),
                "kind": _KIND_ARRAY.take(pa.array(self.kind.astype(np.int64))),
                "post_id": id_strings("p", self.post),
                "created_at": timestamps(self.created)}


@dataclass
class PostsBlock:
    """The posts of one block of authors, and the mentions they hold.

    Examples
    --------
    >>> PostsBlock.__dataclass_fields__.keys() >= {"author", "post", "created"}
    True
    """

    author: np.ndarray
    post: np.ndarray
    created: np.ndarray
    columns: dict[str, pa.Array] | None
    mentions: Interactions


def posts_block(pop: Population, block: int, post_time: np.ndarray,
                handles: pa.Array | None, platform: str = "sim", account_prefix: str = "u",
                account_base: int = 1_000_000) -> PostsBlock:
    """Generate the posts of the authors in block ``block`` and record their times in
    ``post_time`` (a global array indexed by post index).

    Parameters
    ----------
    pop : Population
    block : int
    post_time : numpy.ndarray of int64
        Filled in place for this block's posts.
    handles : pyarrow.Array or None
        Handles of all accounts (for ``@handle`` in texts); ``None`` skips the Arrow
        columns (used by tests that only need the times).

    Examples
    --------
    >>> import numpy as np
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=300, seed=0))
    >>> t = np.zeros(int(pop.post_start[-1]), dtype=np.int64)
    >>> b = posts_block(pop, 0, t, None)
    >>> bool((t[b.post] >= pop.created[b.author]).all())
    True
    """
    p = pop.params
    rng = block_rng(p.seed, "posts", block)
    lo, hi = block * BLOCK, min(pop.n, (block + 1) * BLOCK)
    end, start = p.end_us(), p.start_us()
    counts = pop.n_posts[lo:hi]
    author = np.repeat(np.arange(lo, hi, dtype=np.int64), counts)
    m = len(author)
    first = int(pop.post_start[lo])
    post = np.arange(first, first + m, dtype=np.int64)
    t_lo = np.maximum(pop.created[author], start)
    t = t_lo + (rng.random(m) * (end - t_lo)).astype(np.int64)
    t = np.minimum(t, end)
    # posts of an author numbered in time order
    order = np.lexsort((t, author))
    t = t[order]
    post_time[first:first + m] = t

    # mentions: one account of the author's community (never for fakes)
    comm = pop.comm[author]
    has_m = (rng.random(m) < p.mention_share) & (comm >= 0) & (pop.role[author] != FAKE)
    mi = np.flatnonzero(has_m)
    u = rng.random((2, len(mi)))
    target = pop.local.draw(u[0], u[1], comm[mi]) if len(mi) else mi
    ok = target != author[mi]
    mi, target = mi[ok], target[ok]
    mentions = Interactions(author[mi], target, np.full(len(mi), MENTION, dtype=np.int8),
                            post[mi], t[mi])

    columns = None
    if handles is not None:
        role = pop.role[author]
        fake = role == FAKE
        tag_comm = np.where(comm >= 0, comm, rng.integers(0, pop.k, m))
        tags = id_strings("topic", tag_comm)
        spam = role == FARM
        if spam.any():
            spam_tags = _SPAM_TAGS.take(pa.array(rng.integers(0, len(_SPAM_TAGS), m)))
            tags = pc.if_else(pa.array(spam), spam_tags, tags)
        # a second tag of another topic on one post in five
        second = rng.random(m) < 0.2
        tag2 = id_strings("topic", rng.integers(0, pop.k, m))
        n_tags = 1 + second.astype(np.int64)
        off = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(n_tags, out=off[1:])
        flat_idx = np.empty(int(off[-1]), dtype=np.int64)
        flat_idx[off[:-1]] = np.arange(m)
        flat_idx[off[:-1][second] + 1] = m + np.flatnonzero(second)
        flat = pa.concat_arrays([tags, tag2]).take(pa.array(flat_idx))
        hashtags = list_of_strings(flat, off)
        mention_handle = pa.nulls(m, pa.string())
        if len(mi):
            mask = np.zeros(m, dtype=bool)
            mask[mi] = True
            mention_handle = pc.replace_with_mask(mention_handle, pa.array(mask),
                                                  handles.take(pa.array(target)))
        cw = pop.comm_words[np.maximum(comm, 0)]
        text = names.post_texts(rng, cw, fake, tags, mention_handle)
        m_off = np.zeros(m + 1, dtype=np.int64)
        has = np.zeros(m, dtype=np.int64)
        has[mi] = 1
        np.cumsum(has, out=m_off[1:])
        mention_ids = list_of_strings(id_strings(account_prefix, target + account_base), m_off)
        lang_codes = pa.array(names.LANGS).take(pa.array(pop.lang[author].astype(np.int64)))
        columns = {"platform": const_strings(platform, m),
                   "post_id": id_strings("p", post),
                   "author": id_strings(account_prefix, author + account_base),
                   "created_at": pa.array(t, type=pa.timestamp("us", tz="UTC")),
                   "text": text, "lang": lang_codes, "hashtags": hashtags,
                   "mentions": mention_ids}
    return PostsBlock(author, post, t, columns, mentions)


def _delay(rng: np.random.Generator, n: int, median_minutes: float) -> np.ndarray:
    return (np.exp(rng.normal(0.0, 1.5, n)) * median_minutes * MINUTE_US).astype(np.int64)


def _kinds(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    pr = np.asarray(shares, dtype=np.float64)
    pr = pr / pr.sum()
    return np.searchsorted(np.cumsum(pr)[:-1], rng.random(n), side="right").astype(np.int8)


def edge_interactions(pop: Population, block: int, edges: Edges, post_time: np.ndarray
                      ) -> Interactions:
    """Engagement along one block's follow edges, plus non-follower engagement of the
    block's sources with popular accounts. One interaction per (src, post, kind) at most.

    Examples
    --------
    >>> import numpy as np
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> from trueclout.simulate.follows import organic_block
    >>> pop = build_population(SimParams(accounts=800, seed=0))
    >>> t = np.zeros(int(pop.post_start[-1]), dtype=np.int64)
    >>> for b in range(1):
    ...     _ = posts_block(pop, b, t, None)
    >>> x = edge_interactions(pop, 0, organic_block(pop, 0), t)
    >>> bool((x.created >= t[x.post]).all())
    True
    """
    p = pop.params
    rng = block_rng(p.seed, "interactions", block)
    end = p.end_us()
    live = edges.removed < 0
    s, d, tf = edges.src[live], edges.dst[live], edges.created[live]
    lam = pop.interaction_rate * pop.act[s] * pop.n_posts[d]
    k = rng.poisson(lam)
    e = np.repeat(np.arange(len(s)), k)
    src, dst = s[e], d[e]
    nposts = pop.n_posts[dst]
    post = pop.post_start[dst] + (rng.random(len(e)) * nposts).astype(np.int64)
    t = np.maximum(post_time[post], tf[e]) + _delay(rng, len(e), p.interaction_delay_minutes)

    # non-followers engaging with popular accounts
    lo, hi = block * BLOCK, min(pop.n, (block + 1) * BLOCK)
    own = np.arange(lo, hi, dtype=np.int64)
    rate = p.nonfollower_interactions * pop.out_target[own] * pop.act[own]
    k2 = rng.poisson(rate) if len(pop.popular.prob) else np.zeros(len(own), dtype=np.int64)
    s2 = np.repeat(own, k2)
    u = rng.random((2, len(s2)))
    d2 = pop.popular.draw(u[0], u[1]) if len(s2) else s2
    ok = (d2 != s2) & ~((pop.pod[s2] >= 0) & (pop.pod[s2] == pop.pod[d2]))
    s2, d2 = s2[ok], d2[ok]
    post2 = pop.post_start[d2] + (rng.random(len(s2)) * pop.n_posts[d2]).astype(np.int64)
    t2 = post_time[post2] + _delay(rng, len(s2), p.interaction_delay_minutes)

    src = np.concatenate([src, s2])
    dst = np.concatenate([dst, d2])
    post = np.concatenate([post, post2])
    t = np.concatenate([t, t2])
    kind = _kinds(rng, len(src), p.kind_shares)
    keep = t <= end
    src, dst, post, t, kind = src[keep], dst[keep], post[keep], t[keep], kind[keep]
    total_posts = max(int(pop.post_start[-1]), 1)
    key = (src * total_posts + post) * 8 + kind
    _, first = unique_first(key)
    return Interactions(src[first], dst[first], kind[first], post[first], t[first])


def pod_interactions(pop: Population, pod_no: int, post_time: np.ndarray) -> Interactions:
    """Every member of a pod engages with every post of the other members within minutes.

    Examples
    --------
    >>> import numpy as np
    >>> from trueclout.simulate.params import SimParams
    >>> from trueclout.simulate.population import build_population
    >>> pop = build_population(SimParams(accounts=3000, seed=0))
    >>> t = np.zeros(int(pop.post_start[-1]), dtype=np.int64)
    >>> for b in range(1):
    ...     _ = posts_block(pop, b, t, None)
    >>> x = pod_interactions(pop, 0, t)
    >>> bool((pop.pod[x.src] == 0).all() and (pop.pod[x.dst] == 0).all())
    True
    """
    p = pop.params
    rng = block_rng(p.seed, "pod_interactions", pod_no)
    end = p.end_us()
    members = pop.pods[pod_no]
    posts = np.concatenate([np.arange(pop.post_start[a], pop.post_start[a + 1])
                            for a in members]) if len(members) else np.zeros(0, np.int64)
    author = np.repeat(members, pop.n_posts[members])
    parts = []
    for kind, prob in zip((LIKE, REPOST, REPLY), p.pod_engagement):
        # every (post, other member) pair, kept with the kind's probability
        pi = np.repeat(np.arange(len(posts)), len(members))
        mi = np.tile(members, len(posts))
        keep = (mi != author[pi]) & (rng.random(len(pi)) < prob)
        pi, mi = pi[keep], mi[keep]
        delay = (30_000_000 + rng.exponential(p.pod_delay_minutes * MINUTE_US, len(pi))
                 ).astype(np.int64)
        t = post_time[posts[pi]] + delay
        ok = t <= end
        parts.append(Interactions(mi[ok], author[pi][ok], np.full(int(ok.sum()), kind, np.int8),
                                  posts[pi][ok], t[ok]))
    return Interactions.concat(parts)
