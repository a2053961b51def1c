"""Topics: what accounts talk about, and how interested each account is in a topic.

Two views of an account's interests, combined:

**Terms** (what it says). Every account gets a bag of terms from three places: the
store's ``account_terms`` (SNAP ego-Twitter's hashtags and @mentions), the hashtags of
its posts, and the words of its posts and bio. Terms are normalised (lower case, leading
``#`` removed, punctuation around them stripped; a leading ``@`` is kept, so ``@nasa``
and ``nasa`` stay apart) and dropped when they are stop-words (``topic_stop_words``),
shorter than ``topic_min_term_length``, have no letter, are used by fewer than
``topic_min_df`` accounts or by more than ``topic_max_df`` of them. The accounts × terms
matrix holds TF-IDF weights, ``log(1 + uses) · (ln((1 + N) / (1 + df)) + 1)``, each row
scaled to unit length (Salton & Buckley 1988; scikit-learn's smoothed idf).

**Communities** (whom it follows). SimClusters KnownFor and InterestedIn
(:mod:`trueclout.score.communities`): accounts without any text still have interests,
read from the producers they follow. Each community is described by its terms: the
term rows of its audience weighted by InterestedIn, plus those of its producers weighted
by their KnownFor score, summed and normalised, give ``P(term | community)``,
and its top terms are those with the largest ``P(t|c) · log(P(t|c) / P(t))`` (their
share of the pointwise KL divergence from the global term distribution), at least
``topic_label_min_score`` of the best one's, so a community has a readable name.

**Topic relevance** of an account for a query (TwitterRank, Weng et al., WSDM 2010, ranks
accounts per topic by the topic's share of each account's interests; we compute that
share from terms and communities)::

    s[v] = min(1, X[v] · q / scale)                term weight of the query terms q
    c[v] = max(InterestedIn[v] · m,                 interest in the matching communities,
               KnownForScore[v] · m[KnownFor[v]])   or being known for one of them
    relevance[v] = 1 − (1 − s[v]) (1 − c[v])        in [0, 1]

where ``scale`` is the ``topic_term_scale_quantile`` quantile of the nonzero ``X · q``,
and ``m[c] = max(0, P(q|c) − P(q)) / max_c' (P(q|c') − P(q))`` says how much more the
community uses the query terms than everyone does (1 for the best community, 0 for
those at or below the baseline). A query ``community:7`` takes ``m`` one-hot on community
7 and ``q`` from the community's top terms. TrueRank uses the relevance as the
teleport and edge weighting of TwitterRank.

The fitted :class:`TopicModel` is cached in ``ctx.cache["topics"]`` by
:func:`topic_model`, so the commands that need it fit it once.

Examples
--------
>>> from trueclout.score.communities import example_graph
>>> g = example_graph()
>>> rows = pa.table({"vertex": np.array([0, 1, 2, 6, 7], np.int32),
...                  "term": ["#Jazz", "jazz", "jazz!", "chess", "Chess"],
...                  "n": np.ones(5)})
>>> tm = TopicModel(max_df=1.0).fit(g, terms=rows)
>>> tm.community_labels_
[['jazz'], ['chess']]
>>> r = tm.relevance("jazz")
>>> bool(r[:6].min() > r[6:12].max()), float(r.max()) <= 1.0
(True, True)
>>> fans = np.arange(12, 52, 2)                 # followers of the jazz producers
>>> round(float(r[fans].mean()), 2), round(float(r[fans + 1].mean()), 2)
(0.95, 0.04)
"""

from __future__ import annotations

import difflib
import re
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from .. import config
from ..base import Estimator
from ..errors import UsageError
from ..graph.follow_graph import FollowGraph
from .communities import SimClusters

#: Characters that separate words in posts and bios (everything but letters, digits,
#: ``_``, ``#`` and ``@``).
_SPLIT = r"[^\p{L}\p{N}_#@]+"
_COMMUNITY = re.compile(r"^\s*community\s*:\s*(-?\d+)\s*$", re.IGNORECASE)


# -- terms --------------------------------------------------------------------------------
def stop_words() -> frozenset[str]:
    """The stop-words (setting ``topic_stop_words``).

    Examples
    --------
    >>> "the" in stop_words()
    True
    """
    return frozenset(str(config.get("topic_stop_words")).lower().split())


def normalize_terms(terms: pa.Array | list, *, min_length: int | None = None) -> pa.Array:
    """Normalised terms, null where a term is dropped.

    Lower case; leading ``#`` removed; punctuation around the term stripped (a leading
    ``@`` is kept); null for stop-words, terms without a letter and terms shorter than
    ``min_length`` (default ``topic_min_term_length``).

    Examples
    --------
    >>> normalize_terms(["#Python", "@Mashable:", "#1", "The", "jazz!", "@...", "x"]).to_pylist()
    ['python', '@mashable', None, None, 'jazz', None, None]
    """
    lo = int(config.value("topic_min_term_length", min_length))
    t = pa.array(terms, pa.string()) if not isinstance(terms, (pa.Array, pa.ChunkedArray)) \
        else terms
    t = pc.utf8_lower(t)
    t = pc.replace_substring_regex(t, r"^#+", "")
    t = pc.replace_substring_regex(t, r"^[^\p{L}\p{N}_@]+|[^\p{L}\p{N}_]+$", "")
    t = pc.replace_substring_regex(t, r"^@[^\p{L}\p{N}_]+", "@")
    ok = pc.and_(pc.match_substring_regex(t, r"\p{L}"),
                 pc.greater_equal(pc.utf8_length(t), lo))
    ok = pc.and_(ok, pc.invert(pc.is_in(t, value_set=pa.array(sorted(stop_words())))))
    return pc.if_else(ok, t, pa.nulls(len(t), pa.string()))


def tokenize(texts: pa.Array | list, *, drop_tags: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Split texts into raw tokens: ``(index of the text, token)``.

    Tokens are runs of letters, digits, ``_``, ``#`` and ``@``; with ``drop_tags``,
    tokens that start with ``#`` or ``@`` are left out (posts carry their hashtags and
    mentions in their own columns).

    Examples
    --------
    >>> i, t = tokenize(["Love #jazz, and @ann!", None, "chess"], drop_tags=True)
    >>> i.tolist(), t.to_pylist()
    ([0, 0, 2], ['Love', 'and', 'chess'])
    """
    a = pa.array(texts, pa.string()) if not isinstance(texts, (pa.Array, pa.ChunkedArray)) \
        else texts
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks else pa.array([], pa.string())
    parts = pc.split_pattern_regex(pc.fill_null(a, ""), _SPLIT)
    idx = np.asarray(pc.list_parent_indices(parts).to_numpy(zero_copy_only=False), np.int64)
    tok = pc.list_flatten(parts)
    keep = pc.greater(pc.utf8_length(tok), 0)
    if drop_tags:
        keep = pc.and_(keep, pc.invert(pc.match_substring_regex(tok, r"^[#@]")))
    keep_np = np.asarray(keep.to_numpy(zero_copy_only=False), bool)
    return idx[keep_np], tok.filter(keep)


def account_terms(ctx: Any, store: Any = None) -> pa.Table:
    """Every (account, raw term, uses) of a context, before normalisation.

    Reads the bios from ``ctx.data.profiles`` (none from a bare FollowGraph) and, when
    ``store`` is given, the store's
    ``account_terms``, post hashtags and post texts
    (:meth:`~trueclout.store.query.Queries.term_counts`,
    :meth:`~trueclout.store.query.Queries.post_texts`).

    Returns
    -------
    pyarrow.Table
        ``vertex`` (int32), ``term`` (string), ``n`` (float64).

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> d = DetectionData.from_graph(toy_graph(), pa.table({"description": ["jazz fan",
    ...     None, "chess", "", "jazz", "x"]}))
    >>> class Ctx:
    ...     data, graph = d, d.graph
    >>> account_terms(Ctx()).column("term").to_pylist()
    ['jazz', 'fan', 'chess', 'jazz', 'x']
    """
    graph = ctx if isinstance(ctx, FollowGraph) else ctx.graph
    parts: list[pa.Table] = []

    def add(vertex: np.ndarray, terms: pa.Array, n: np.ndarray) -> None:
        ok = vertex >= 0
        if ok.any():
            parts.append(pa.table({"vertex": pa.array(vertex[ok].astype(np.int32)),
                                   "term": terms.filter(pa.array(ok)),
                                   "n": pa.array(np.asarray(n, np.float64)[ok])}))

    profiles = _profiles_of(ctx)
    if profiles is not None and "description" in profiles.column_names:
        i, tok = tokenize(profiles.column("description"))
        add(i.astype(np.int32), tok, np.ones(i.shape[0]))
    if store is not None:
        tc = store.term_counts()
        if tc.num_rows:
            add(graph.vertices_of_uids(tc.column("uid").to_numpy()),
                tc.column("term").combine_chunks(),
                tc.column("n").to_numpy().astype(np.float64))
        pt = store.post_texts()
        if pt.num_rows:
            v = graph.vertices_of_uids(pt.column("uid").to_numpy())
            i, tok = tokenize(pt.column("text"), drop_tags=True)
            add(v[i], tok, np.ones(i.shape[0]))
    if not parts:
        return pa.table({"vertex": pa.array([], pa.int32()), "term": pa.array([], pa.string()),
                         "n": pa.array([], pa.float64())})
    return pa.concat_tables(parts)


def term_matrix(rows: pa.Table, n: int, *, min_df: int | None = None,
                max_df: float | None = None) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray,
                                                      dict[str, float]]:
    """The accounts × terms TF-IDF matrix of raw ``(vertex, term, n)`` rows.

    Parameters
    ----------
    rows : pyarrow.Table
        ``vertex``, ``term`` (raw; normalised here with :func:`normalize_terms`), ``n``.
    n : int
        Number of accounts.
    min_df, max_df : optional
        Defaults ``topic_min_df`` (accounts) and ``topic_max_df`` (share of the accounts
        with any term).

    Returns
    -------
    (matrix, vocabulary, doc_freq, too_common)
        float32 CSR ``n × V`` with unit rows (or empty rows); the sorted terms; the
        number of accounts using each term; the terms dropped as too common, with the
        share of accounts using them.

    Examples
    --------
    >>> rows = pa.table({"vertex": [0, 0, 1, 2, 2], "term": ["#Jazz", "the", "jazz", "chess",
    ...                                                      "jazz"], "n": [2.0, 1, 1, 1, 1]})
    >>> x, vocab, df, common = term_matrix(rows, 4, min_df=1, max_df=1.0)
    >>> vocab.tolist(), df.tolist(), x.toarray().astype(float).round(2).tolist()
    (['chess', 'jazz'], [1, 3], [[0.0, 1.0], [0.0, 1.0], [0.86, 0.51], [0.0, 0.0]])
    """
    lo = int(config.value("topic_min_df", min_df))
    hi = float(config.value("topic_max_df", max_df))
    raw = rows.column("term")
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks() if raw.num_chunks else pa.array([], pa.string())
    # normalise each distinct raw term once, then map every row through it
    enc = pc.dictionary_encode(raw)
    raw_ok = np.asarray(pc.is_valid(enc.indices).to_numpy(zero_copy_only=False), bool)
    raw_code = np.asarray(pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False),
                          np.int64)
    norm = normalize_terms(enc.dictionary).to_pylist()
    words = np.array(sorted({t for t in norm if t is not None}), dtype=object)
    pos = {t: i for i, t in enumerate(words.tolist())}
    raw_to_word = np.array([-1 if t is None else pos[t] for t in norm] or [-1], np.int64)
    code = np.where(raw_ok, raw_to_word[np.minimum(raw_code, raw_to_word.shape[0] - 1)], -1)
    valid = code >= 0
    code = code[valid]
    vert = np.asarray(rows.column("vertex").to_numpy(), np.int64)[valid]
    uses = np.asarray(rows.column("n").to_numpy(), np.float64)[valid]
    n_terms = words.shape[0]
    key = vert * max(n_terms, 1) + code
    ukey, inv = np.unique(key, return_inverse=True)
    tf = np.bincount(inv, weights=uses, minlength=ukey.shape[0])
    row = ukey // max(n_terms, 1)
    col = ukey % max(n_terms, 1)
    df = np.bincount(col, minlength=n_terms).astype(np.int64)
    docs = int(np.unique(row).shape[0])
    common_mask = df > hi * max(docs, 1)
    too_common = {str(words[t]): float(df[t] / docs) for t in np.flatnonzero(common_mask)}
    keep_t = (df >= lo) & ~common_mask
    new = np.full(n_terms, -1, np.int64)
    new[keep_t] = np.arange(int(keep_t.sum()))
    keep = keep_t[col]
    idf = np.log((1.0 + docs) / (1.0 + df[keep_t])) + 1.0
    val = np.log1p(tf[keep]) * idf[new[col[keep]]]
    x = sp.csr_matrix((val, (row[keep], new[col[keep]])), shape=(n, int(keep_t.sum())))
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.csr_matrix(sp.diags(np.where(norm > 0, 1.0 / np.where(norm > 0, norm, 1), 0)) @ x)
    return x.astype(np.float32), words[keep_t].astype(str), df[keep_t], too_common


# -- the model ----------------------------------------------------------------------------
class TopicModel(Estimator):
    """Terms, SimClusters communities and topic relevance of every account.

    Parameters
    ----------
    min_df, max_df : optional
        Term pruning; defaults ``topic_min_df``, ``topic_max_df``.
    max_producers, min_followers, neighbors, min_sim, max_follows, resolution,
    min_size, min_interest, seed : optional
        Passed to :class:`~trueclout.score.communities.SimClusters`.

    Attributes
    ----------
    terms_ : float32 CSR, accounts × terms
        TF-IDF rows of unit length.
    vocabulary_ : str array
        The terms, sorted.
    doc_freq_ : int64 array
        Accounts using each term.
    term_sources_ : list of str
        Where the terms came from: ``"bios"``, ``"store"`` (account terms and posts),
        ``"given"`` (the ``terms`` argument of ``fit``).
    too_common_ : dict
        Terms dropped for being too common, with their share of accounts.
    communities_ : SimClusters
        The fitted communities (KnownFor, InterestedIn).
    interested_in_ : float32 CSR, accounts × communities
        Rows sum to 1 or are empty.
    community_terms_ : float64 CSR, communities × terms
        ``P(term | community)``.
    term_share_ : float64 array
        ``P(term)`` over the whole audience.
    community_labels_ : list of list of str
        The top terms of each community.
    n_communities_ : int
    fit_seconds_ : dict
        Time of each stage of ``fit``.

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> tm = TopicModel().fit(example_graph())
    >>> tm.n_communities_, tm.terms_.shape
    (2, (52, 0))
    >>> TopicModel().terms_
    Traceback (most recent call last):
    ...
    trueclout.errors.NotFittedError: TopicModel is not fitted yet; call fit first
    """

    def __init__(self, *, min_df: int | None = None, max_df: float | None = None,
                 max_producers: int | None = None, min_followers: float | None = None,
                 neighbors: int | None = None, min_sim: float | None = None,
                 max_follows: int | None = None, resolution: float | None = None,
                 min_size: int | None = None, min_interest: float | None = None,
                 seed: int | None = None) -> None:
        self.min_df = min_df
        self.max_df = max_df
        self.max_producers = max_producers
        self.min_followers = min_followers
        self.neighbors = neighbors
        self.min_sim = min_sim
        self.max_follows = max_follows
        self.resolution = resolution
        self.min_size = min_size
        self.min_interest = min_interest
        self.seed = seed

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data: Any, store: Any = None, *, terms: pa.Table | None = None,
            progress=None) -> "TopicModel":
        """Build the term matrix and the communities.

        Parameters
        ----------
        data : ScoreContext or FollowGraph
            A bare graph has no bios and weighs every follower 1.
        store : Store, optional
            Read ``account_terms`` and posts from it; default ``ctx.store`` when the
            context carries one. Without a store only the bios are read.
        terms : pyarrow.Table, optional
            Raw ``(vertex, term, n)`` rows to use instead (as :func:`account_terms`
            returns).
        progress : callable, optional
            Called with the name of each stage.

        Returns
        -------
        self

        Examples
        --------
        >>> from trueclout.score.communities import example_graph
        >>> TopicModel().fit(example_graph()).fit_seconds_.keys()
        dict_keys(['terms', 'communities', 'profiles'])
        """
        graph = data if isinstance(data, FollowGraph) else getattr(data, "graph", None)
        if not isinstance(graph, FollowGraph):
            raise UsageError(f"expected a ScoreContext or FollowGraph, got "
                             f"{type(data).__name__}")
        n = graph.n
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        if progress:
            progress("topics: terms")
        if terms is not None:
            sources = ["given"]
        else:
            if store is None:
                live = getattr(data, "live_store", None)
                store = live() if callable(live) else getattr(data, "store", None)
            terms = account_terms(data, store)
            sources = (["bios"] if _profiles_of(data) is not None else []) + \
                (["store"] if store is not None else [])
        for col in ("vertex", "term", "n"):
            if col not in terms.column_names:
                raise UsageError(f"terms must have columns vertex, term, n; {col} is missing")
        vert = np.asarray(terms.column("vertex").to_numpy(), np.int64)
        if vert.size and (vert.min() < 0 or vert.max() >= n):
            raise UsageError(f"term rows must name vertices 0..{n - 1}")
        x, vocab, df, common = term_matrix(terms, n, min_df=self.min_df, max_df=self.max_df)
        self.terms_ = x
        self.term_sources_ = sources
        self.vocabulary_ = vocab
        self.doc_freq_ = df
        self.too_common_ = common
        self._index = {t: i for i, t in enumerate(vocab.tolist())}
        times["terms"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if progress:
            progress("topics: communities")
        sc = SimClusters(max_producers=self.max_producers, min_followers=self.min_followers,
                         neighbors=self.neighbors, min_sim=self.min_sim,
                         max_follows=self.max_follows, resolution=self.resolution,
                         min_size=self.min_size, min_interest=self.min_interest,
                         seed=self.seed).fit(data)
        self.communities_ = sc
        self.interested_in_ = sc.interested_in_
        self.n_communities_ = sc.n_communities_
        times["communities"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self._profiles()
        times["profiles"] = time.perf_counter() - t0
        self.fit_seconds_ = times
        return self

    def _profiles(self) -> None:
        """P(term | community), P(term) and each community's top terms."""
        c = self.n_communities_
        v = self.terms_.shape[1]
        sc = self.communities_
        n = self.terms_.shape[0]
        known = np.flatnonzero(sc.known_for_ >= 0)
        kf = sp.csr_matrix((sc.known_for_score_[known].astype(np.float64),
                            (known, sc.known_for_[known])), shape=(n, c))
        member = self.interested_in_.astype(np.float64) + kf
        t = (member.T @ self.terms_.astype(np.float64)).tocsr()
        mass = np.asarray(t.sum(axis=1)).ravel()
        total = float(mass.sum())
        share = np.asarray(t.sum(axis=0)).ravel() / total if total > 0 else np.zeros(v)
        inv = np.where(mass > 0, 1.0 / np.where(mass > 0, mass, 1.0), 0.0)
        p = sp.csr_matrix(sp.diags(inv) @ t)
        self.community_terms_ = p
        self.term_share_ = share
        top = int(config.get("topic_top_terms"))
        rel = float(config.get("topic_label_min_score"))
        labels: list[list[str]] = []
        for k in range(c):
            lo, hi = p.indptr[k], p.indptr[k + 1]
            cols = p.indices[lo:hi]
            ptc = p.data[lo:hi]
            score = ptc * np.log(ptc / np.maximum(share[cols], 1e-300))
            good = score > 0
            if good.any():
                good &= score >= rel * score.max()
            cols, score = cols[good], score[good]
            order = np.lexsort((cols, -score))
            chosen: list[str] = []
            for term in self.vocabulary_[cols[order[:8 * top]]].tolist():
                # a cut-off word ("knitti" after "knitting") names nothing new
                if not any(c.startswith(term) for c in chosen):
                    chosen.append(term)
                if len(chosen) == top:
                    break
            labels.append(chosen)
        self.community_labels_ = labels

    # -- queries ---------------------------------------------------------------------------
    def query(self, topic: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Parse a topic into term weights ``q`` (over the vocabulary), community weights
        ``m`` (over communities) and the terms used.

        Raises
        ------
        UsageError
            For an empty topic, an unknown community, or terms no account uses (with a
            few close known terms).

        Examples
        --------
        >>> from trueclout.score.communities import example_graph
        >>> rows = pa.table({"vertex": np.arange(12, dtype=np.int32),
        ...                  "term": ["jazz"] * 6 + ["chess"] * 6, "n": np.ones(12)})
        >>> tm = TopicModel(max_df=1.0).fit(example_graph(), terms=rows)
        >>> q, m, used = tm.query("#Jazz")
        >>> used, m.tolist()
        (['jazz'], [1.0, 0.0])
        >>> tm.query("jaz")
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: no account mentions 'jaz'; close known terms: jazz
        """
        if not isinstance(topic, str) or not topic.strip():
            raise UsageError("the topic is empty; give one or more terms or community:<id>")
        c = self.n_communities_
        v = self.terms_.shape[1]
        match = _COMMUNITY.match(topic)
        if match:
            k = int(match.group(1))
            if not 0 <= k < c:
                raise UsageError(f"unknown community {k}: there are {c} communities "
                                 f"(community:0 to community:{c - 1})" if c else
                                 "there are no communities: the graph has too few "
                                 "followed accounts")
            m = np.zeros(c)
            m[k] = 1.0
            q = np.zeros(v)
            used = self.community_labels_[k]
            for rank, term in enumerate(used):
                q[self._index[term]] = 1.0 / (1.0 + rank)
            return q, m, list(used)
        raw = [w for w in re.split(r"[\s,;]+", topic.strip()) if w]
        norm = normalize_terms(pa.array(raw, pa.string())).to_pylist()
        used = [t for t in dict.fromkeys(norm) if t is not None and t in self._index]
        if not used:
            raise UsageError(self._unknown_message(raw, norm))
        q = np.zeros(v)
        for t in used:
            q[self._index[t]] = 1.0
        m = np.zeros(c)
        if c and v:
            pq = np.asarray(self.community_terms_ @ q).ravel()
            lift = pq - float(self.term_share_ @ q)
            best = float(lift.max())
            if best > 0:
                m = np.maximum(lift, 0.0) / best
        return q, m, used

    def _unknown_message(self, raw: list[str], norm: list[str | None]) -> str:
        shown = " ".join(raw)
        common = [t for t in norm if t is not None and t in self.too_common_]
        if common:
            t = common[0]
            return (f"'{t}' is too common to be a topic (used by "
                    f"{self.too_common_[t]:.0%} of accounts with terms)")
        words = [t for t in norm if t is not None]
        if not words:
            return f"'{shown}' holds no topic term (only stop-words, numbers or punctuation)"
        close: list[str] = []
        vocab = self.vocabulary_.tolist()
        for w in words:
            cand = [t for t in vocab if abs(len(t) - len(w)) <= 3 and t[:1] == w[:1]] or vocab
            close += difflib.get_close_matches(w, cand, n=5, cutoff=0.6)
        close = list(dict.fromkeys(close))[:5]
        hint = f"; close known terms: {', '.join(close)}" if close else ""
        return f"no account mentions '{shown}'{hint}"

    def relevance(self, topic: str) -> np.ndarray:
        """How interested every account is in ``topic``, in [0, 1] (module docstring).

        Examples
        --------
        >>> from trueclout.score.communities import example_graph
        >>> rows = pa.table({"vertex": np.arange(12, dtype=np.int32),
        ...                  "term": ["jazz"] * 6 + ["chess"] * 6, "n": np.ones(12)})
        >>> tm = TopicModel(max_df=1.0).fit(example_graph(), terms=rows)
        >>> r = tm.relevance("community:0")
        >>> r[:12].astype(float).round(2).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        """
        q, m, _ = self.query(topic)
        n = self.terms_.shape[0]
        s = np.asarray(self.terms_ @ q.astype(np.float32)).ravel().astype(np.float64)
        pos = s[s > 0]
        if pos.size:
            scale = float(np.quantile(pos, float(config.get("topic_term_scale_quantile"))))
            s = np.minimum(1.0, s / max(scale, 1e-12))
        c = np.asarray(self.interested_in_ @ m.astype(np.float32)).ravel() \
            if self.n_communities_ else np.zeros(n)
        kf = self.communities_.known_for_
        known = kf >= 0
        if known.any() and m.size:
            # a producer known for a matching community is on topic itself
            c = np.maximum(c, self.communities_.known_for_score_ * np.where(
                known, m[np.maximum(kf, 0)], 0.0))
        r = 1.0 - (1.0 - s) * (1.0 - np.clip(c, 0.0, 1.0))
        return np.clip(r, 0.0, 1.0).astype(np.float32)

    def topics(self, k: int | None = None) -> list[dict]:
        """The communities, largest audience first, with their top terms and producers.

        Examples
        --------
        >>> from trueclout.score.communities import example_graph
        >>> tm = TopicModel().fit(example_graph())
        >>> [(t["topic"], t["producers"]) for t in tm.topics()]
        [('community:1', 6), ('community:0', 6)]
        """
        sc = self.communities_
        audience = np.asarray(self.interested_in_.sum(axis=0)).ravel()
        order = np.lexsort((np.arange(self.n_communities_), -audience))
        if k is not None:
            order = order[:max(int(k), 0)]
        out = []
        for c in order.tolist():
            members = sc.producers_[sc.labels_ == c]   # most followed first
            out.append({"topic": f"community:{c}", "community": c,
                        "producers": int(sc.sizes_[c]),
                        "audience": round(float(audience[c]), 1),
                        "terms": list(self.community_labels_[c]),
                        "top_producers": members[:5].astype(int).tolist()})
        return out

    def top_terms(self, k: int = 20) -> list[tuple[str, int]]:
        """The ``k`` terms used by most accounts, with their account counts.

        Examples
        --------
        >>> rows = pa.table({"vertex": [0, 1, 1], "term": ["a1", "a1", "b2"], "n": [1.0] * 3})
        >>> from trueclout.score.communities import example_graph
        >>> TopicModel(min_df=1, max_df=1.0).fit(example_graph(), terms=rows).top_terms(1)
        [('a1', 2)]
        """
        order = np.lexsort((np.arange(self.doc_freq_.shape[0]), -self.doc_freq_))[:k]
        return [(str(self.vocabulary_[i]), int(self.doc_freq_[i])) for i in order]


def _profiles_of(data: Any) -> pa.Table | None:
    return getattr(getattr(data, "data", None), "profiles", None)


# -- functions over a ScoreContext ---------------------------------------------------------
def topic_model(ctx: Any, store: Any = None, *, refit: bool = False,
                progress=None) -> TopicModel:
    """The context's fitted :class:`TopicModel`, fitted and cached on first use.

    A cached model is refitted when ``refit`` is set, or when a ``store`` is given now
    but the cached model was fitted without one (its terms then lacked the posts and
    ``account_terms``).

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> class Ctx:
    ...     graph, cache = example_graph(), {}
    >>> ctx = Ctx()
    >>> topic_model(ctx) is topic_model(ctx)
    True
    """
    cache = getattr(ctx, "cache", None)
    cached = cache.get("topics") if cache is not None else None
    if isinstance(cached, TopicModel) and not refit and (
            store is None or "store" in cached.term_sources_):
        return cached
    model = TopicModel().fit(ctx if hasattr(ctx, "data") else ctx.graph, store,
                             progress=progress)
    if cache is not None:
        cache["topics"] = model
    return model


def topic_relevance(ctx: Any, topic: str, store: Any = None) -> np.ndarray:
    """How interested each account of ``ctx`` is in ``topic``: float32 in [0, 1].

    ``topic`` is one or more terms (``"#python data"``) or ``"community:<id>"``.

    Raises
    ------
    UsageError
        When no account mentions the topic (the message lists close known terms).

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> class Ctx:
    ...     graph, cache = example_graph(), {}
    >>> r = topic_relevance(Ctx(), "community:1")
    >>> r.dtype, r.shape, bool(r[6:12].min() > r[:6].max())
    (dtype('float32'), (52,), True)
    """
    if getattr(ctx, "saved", None) is None:
        return topic_model(ctx, store).relevance(topic)
    from .saved import remember       # a saved context keeps it for the next command
    return remember(ctx, f"relevance:{store is not None}:{topic}",
                    lambda: topic_model(ctx, store).relevance(topic), keep=False)


def interest_vectors(ctx: Any, store: Any = None) -> sp.csr_matrix:
    """Accounts × communities InterestedIn, rows scaled to unit L2 length (float32 CSR).

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> class Ctx:
    ...     graph, cache = example_graph(), {}
    >>> x = interest_vectors(Ctx())
    >>> x.shape, x.dtype, float(abs(x.multiply(x).sum(axis=1) - 1).max().round(5)) <= 1
    ((52, 2), dtype('float32'), True)
    """
    m = topic_model(ctx, store).interested_in_.astype(np.float64)
    norm = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.where(norm > 0, 1.0 / np.where(norm > 0, norm, 1.0), 0.0)
    return sp.csr_matrix(sp.diags(inv) @ m).astype(np.float32)


def list_topics(ctx: Any, k: int | None = None, store: Any = None) -> list[dict]:
    """The top ``k`` communities by audience, with top terms, sizes and producers.

    Each entry: ``topic`` (``"community:<id>"``), ``community``, ``producers`` (accounts
    known for it), ``audience`` (sum of InterestedIn shares: accounts' worth of
    interest), ``terms`` (top terms), ``top_producers`` (vertex ids, most followed
    first).

    Examples
    --------
    >>> from trueclout.score.communities import example_graph
    >>> class Ctx:
    ...     graph, cache = example_graph(), {}
    >>> [t["community"] for t in list_topics(Ctx(), 1)]
    [1]
    """
    if getattr(ctx, "saved", None) is None:
        return topic_model(ctx, store).topics(k)
    from .saved import remember_json       # a saved context keeps it for the next start
    return remember_json(ctx, f"list_topics:{k}:{store is not None}",
                         lambda: topic_model(ctx, store).topics(k))
