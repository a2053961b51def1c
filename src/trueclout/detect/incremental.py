"""Incremental detection: the per-account part of the ensemble, kept up to date as
follows stream in.

A live stream changes the follower and following counts of a few thousand accounts at a
time. :class:`IncrementalDetection` keeps the ensemble's authenticity, category,
suspicious flag and voter weight of those accounts up to date without refitting any
detector, and gives what recomputing the same members over the changed counts gives
(to float rounding; the test checks 1e-6).

**Updated, per touched account, from its own counts**

* The account's feature row (:mod:`trueclout.detect.features`): every profile-count
  feature (``log_followers`` ... ``listed_per_day``, through the same formulas as
  :func:`~trueclout.detect.features.account_features`, from exact float64 counts held
  here rather than counts read back from the float32 matrix), and the graph features that
  are per-account counts: ``graph_log_in_degree``, ``graph_log_out_degree``,
  ``graph_follower_ratio``, ``graph_unfollow_share`` (unfollows counted per account, when
  the fitted data recorded any) and ``graph_reciprocity`` when the caller gives the exact
  reciprocated counts.
* The classifier member's score, threshold flag and aligned score for those rows (the
  fitted model applied to the new rows).
* The ensemble's noisy-OR, with the classifier's weight following the account's current
  degrees (:func:`~trueclout.detect.ensemble.noisy_or`), and the category
  (:func:`~trueclout.detect.ensemble.categorize`: ``mass_follower`` reads the counts).
  SybilRank's evidence counts only where somebody followed the account when SybilRank
  ran *and* somebody follows it now: its held score was computed with the fitted
  followers, and an account nobody followed then got no evidence.
* ``weight = gate(authenticity) * activity``
  (:func:`~trueclout.detect.weights.authentic_weights`).

**Profile counts** (``counts``): ``"shift"`` (default) moves the profile's followers and
following counts by the change of the counts seen in the graph (the stream sees every
follow of the network, so the platform's count moves by as much; a later profile crawl
brings the exact figure), unknown counts stay unknown; ``"keep"`` leaves them as the
store holds them (the stream writes follows, not profiles), so only the graph features
change.

**Held until the next full run** (:data:`HELD_FEATURES` and the graph-global members):
the features that read the neighbourhood (bursts of follow times; the share of
suspicious followees, which reads other accounts' counts; reciprocity unless its counts
are given), and every graph-global member as fitted: SybilRank, lockstep (Fraudar,
CopyCatch), the follow-back farm, pods and growth, with the customer evidence
``bought_``. The inactive mask (posts, not follows) and declared bots are held too. New
accounts (vertex ids at or past the fitted ``n``) have no profile: no member has
evidence on them yet, so they stand at authenticity 1, not suspicious, category
``inactive`` where the store knows posts (they have none) and ``real`` otherwise.

Examples
--------
>>> import numpy as np
>>> from trueclout.graph.toy import toy_graph
>>> from trueclout.detect.data import DetectionData
>>> from trueclout.detect.ensemble import neutral_ensemble
>>> from trueclout.score.context import ScoreContext
>>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()), neutral_ensemble())
>>> inc = IncrementalDetection(ctx)
>>> t = inc.update(np.array([3, 6]), np.array([0, 1]), np.array([2500, 0]))
>>> t.column("vertex").to_pylist(), t.column("category").to_pylist()
([3, 6], ['mass_follower', 'real'])
>>> inc.category.tolist()[3], inc.n
('mass_follower', 7)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from .supervised import classifier_scores
from .ensemble import EnsembleDetector, align_to_threshold, categorize, noisy_or
from .features import DAY_S, FEATURE_NAMES, count_features, log_ratio

#: Features held as fitted until the next full run: they read other accounts (follow
#: times of the neighbourhood, the counts of the accounts followed), or, for
#: reciprocity, who follows back (updated when :meth:`IncrementalDetection.update` is
#: given ``reciprocated``).
HELD_FEATURES: tuple[str, ...] = ("graph_reciprocity", "graph_in_burst", "graph_out_burst",
                                  "graph_followee_suspicious")

#: Members held as fitted until the next full run (graph-global).
HELD_MEMBERS: tuple[str, ...] = ("sybilrank", "lockstep", "farm", "pods", "growth")

#: Columns of the table :meth:`IncrementalDetection.update` returns.
UPDATE_SCHEMA = pa.schema([
    ("vertex", pa.int32()), ("new", pa.bool_()),
    ("authenticity_old", pa.float64()), ("authenticity", pa.float64()),
    ("category_old", pa.string()), ("category", pa.string()),
    ("suspicious_old", pa.bool_()), ("suspicious", pa.bool_()),
    ("weight_old", pa.float32()), ("weight", pa.float32()),
])

_COL = {name: j for j, name in enumerate(FEATURE_NAMES)}
_MODES = ("shift", "keep")


def _int_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise UsageError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.issubdtype(a.dtype, np.floating) or not np.all(a == np.round(a)):
            raise UsageError(f"{name} must hold whole numbers")
    a = a.astype(np.int64)
    if a.size and a.min() < 0:
        raise UsageError(f"{name} must not be negative")
    return a


def split_cuts(detector: Any) -> dict[int, np.ndarray] | None:
    """Per feature column: the sorted thresholds on which a fitted classifier member's
    trees split, with the bounds of each field set's known range (``None`` when the
    model cannot be read).

    Two rows on the same side of every threshold of every column (and with the same
    missing values) get the same prediction from every tree and the same verdict, so
    the same calibrated authenticity: :meth:`IncrementalDetection.update` predicts only
    rows that cross one.

    Examples
    --------
    >>> split_cuts(object()) is None
    True
    """
    try:
        feats, thr = [], []
        for m in detector.model_.models_.values():
            cols = m.field_set.columns
            for c, t in m.trees.thresholds().items():
                feats.append(np.full(len(t), cols[c]))
                thr.append(t)
            # the known range decides whether a profile is uncertain
            for j, c in enumerate(cols):
                # "x < low" is "x <= the float below low", the trees' side rule
                bounds = np.array([np.nextafter(m.low[j], -np.inf), m.high[j]], np.float64)
                bounds = bounds[np.isfinite(bounds)]
                feats.append(np.full(len(bounds), c))
                thr.append(bounds)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None
    if not feats:
        return {}
    f, t = np.concatenate(feats), np.concatenate(thr)
    return {int(c): np.unique(t[f == c]) for c in np.unique(f)}


def _same_side(cuts: dict[int, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of ``a`` and ``b`` on the same side of every cut (NaN alike)."""
    same = np.ones(a.shape[0], bool)
    for c, t in cuts.items():
        x, y = a[:, c].astype(np.float64), b[:, c].astype(np.float64)
        moved = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        if not moved.any():
            continue
        xm, ym = x[moved], y[moved]
        ok = (np.isnan(xm) == np.isnan(ym)) & (np.searchsorted(t, xm) == np.searchsorted(t, ym))
        same[np.flatnonzero(moved)[~ok]] = False
    return same


class IncrementalDetection:
    """The ensemble's per-account verdicts, kept up to date under count changes.

    Parameters
    ----------
    ctx : ScoreContext
        The fitted detection (``ctx.ensemble``) and its data; neither is modified.
    counts : {"shift", "keep"}
        How profile counts follow the graph counts (module docstring).

    Attributes
    ----------
    n : int
        Accounts known: the fitted ones, then the new ones :meth:`update` was given.
    n_fitted : int
    authenticity : float64 array
        1 means real (the ensemble's ``authenticity_``, updated).
    category : object array of str
    suspicious : bool array
        Flagged (the ensemble's ``labels_ > 0``).
    weight : float32 array
        ``gate(authenticity) * activity`` (``ctx.weight``, updated).
    features : float32 array or None
        The classifier's feature matrix of the fitted accounts, updated (None when the
        ensemble has no classifier).
    stats_ : dict
        What the last :meth:`update` did.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.detect.ensemble import neutral_ensemble
    >>> from trueclout.score.context import ScoreContext
    >>> ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()), neutral_ensemble())
    >>> IncrementalDetection(ctx).suspicious.tolist()
    [False, False, False, False, False, False]
    """

    def __init__(self, ctx, *, counts: str = "shift") -> None:
        if counts not in _MODES:
            raise UsageError(f"counts must be one of {', '.join(_MODES)}, got {counts!r}")
        ens = ctx.ensemble
        if not hasattr(ens, "aligned_"):
            raise UsageError("IncrementalDetection needs a fitted EnsembleDetector")
        data = ctx.data
        g = data.graph
        n = data.n
        self.counts = counts
        self.n_fitted = n
        self.n = n
        self._ens = ens
        self._threshold = float(ens.threshold_)
        # profile columns, exact (float64, NaN where unknown)
        self._followers0 = data.column("followers_count")
        self._following0 = data.column("following_count")
        self._posts = data.column("posts_count")
        self._listed = data.column("listed_count")
        self._likes = data.column("likes_count")
        self._age = (data.column("observed_at") - data.column("created_at")) / DAY_S
        self._followers = self._followers0.copy()
        self._following = self._following0.copy()
        # graph counts
        self._has_graph = g.m > 0
        self._din0 = g.in_degree().astype(np.float64)
        self._din = self._din0.copy()
        self._dout0 = g.out_degree().astype(np.float64)
        self._dout = self._dout0.copy()
        self._has_removed = data.removed is not None and data.removed.num_rows > 0
        self._unf = np.zeros(n)
        if self._has_removed:
            src = data.removed.column("src").to_numpy(zero_copy_only=False)
            src = src[src >= 0]
            self._unf = np.bincount(src, minlength=n).astype(np.float64)[:n]
        # members: the classifier is recomputed, the others are held
        self._judges = dict(ens._judges)
        self._cats = dict(ens._cats)
        self._aligned = dict(ens.aligned_)
        self._labels = {m: d.labels_ for m, d in ens.members_.items()}
        clf = ens.members_.get("classifier")
        self._clf = clf if clf is not None and hasattr(clf, "features_") else None
        self.features = None
        self._cuts = split_cuts(self._clf) if self._clf is not None else None
        if self._clf is not None:
            self.features = np.array(self._clf.features_, dtype=np.float32, copy=True)
            self._aligned["classifier"] = np.array(self._aligned["classifier"], copy=True)
            self._labels["classifier"] = np.array(self._labels["classifier"], copy=True)
        self._followed_fit = self._din0 > 0
        self._declared = data.column("declared_bot", fill=0) > 0
        self._uncertain = np.array(getattr(clf, "uncertain_", np.zeros(n, bool)), dtype=bool,
                                   copy=True) if clf is not None else np.zeros(n, bool)
        self._inactive = EnsembleDetector._inactive(data)
        self._new_category = "inactive" if data.activity is not None else "real"
        # the current verdicts
        self.authenticity = np.array(ens.authenticity_, dtype=np.float64, copy=True)
        self.category = np.array(ens.category_, dtype=object, copy=True)
        self.suspicious = np.asarray(ens.labels_) > 0
        self.weight = np.array(ctx.weight, dtype=np.float32, copy=True)
        self.stats_: dict[str, Any] = {}

    # -- helpers ---------------------------------------------------------------------
    def _extend(self, top: int) -> None:
        from .weights import authentic_weights
        k = top + 1 - self.n
        if k <= 0:
            return
        cat = np.full(k, self._new_category, dtype=object)
        self.authenticity = np.concatenate([self.authenticity, np.ones(k)])
        self.category = np.concatenate([self.category, cat])
        self.suspicious = np.concatenate([self.suspicious, np.zeros(k, bool)])
        self.weight = np.concatenate([self.weight, authentic_weights(np.ones(k), cat)])
        self.n = top + 1

    def _rows(self, v: np.ndarray) -> np.ndarray:
        """Feature rows of fitted accounts ``v`` from the current counts."""
        X = self.features[v].astype(np.float32, copy=True)
        cols = count_features(self._followers[v], self._following[v], self._posts[v],
                               self._listed[v], self._likes[v], self._age[v])
        if self._has_graph:
            din, dout = self._din[v], self._dout[v]
            cols["graph_log_in_degree"] = np.log1p(din)
            cols["graph_log_out_degree"] = np.log1p(dout)
            cols["graph_follower_ratio"] = log_ratio(din, dout)
            if self._has_removed:
                unf = self._unf[v]
                with np.errstate(invalid="ignore", divide="ignore"):
                    cols["graph_unfollow_share"] = np.where(dout + unf > 0,
                                                            unf / (dout + unf), np.nan)
        for name, col in cols.items():
            X[:, _COL[name]] = col
        return X

    # -- the update ------------------------------------------------------------------
    def update(self, vertices: Any, followers: Any, following: Any, *,
               unfollows: Any = None, reciprocated: Any = None) -> pa.Table:
        """Take the new exact follower and following counts (in the graph) of some
        accounts and update their verdicts.

        Parameters
        ----------
        vertices : int array
            Vertex ids (``IncrementalScores.touched_table()``'s ``vertex``); ids at or
            past :attr:`n` are new accounts (no profile). A repeated id keeps its last
            counts.
        followers, following : int arrays
            Their followers and following counts in the graph now
            (``followers_seen``, ``following_seen``).
        unfollows : int array, optional
            Unfollows each of them made since the last update (added to its count).
        reciprocated : int array, optional
            Exact number of the accounts each follows that follow it back; without it
            ``graph_reciprocity`` stays as fitted.

        Returns
        -------
        pyarrow.Table
            :data:`UPDATE_SCHEMA`: one row per account whose authenticity, category,
            suspicious flag or weight changed, and one per new account (its ``*_old``
            null), sorted by vertex.

        Examples
        --------
        >>> IncrementalDetection.update  # doctest: +ELLIPSIS
        <function IncrementalDetection.update at ...>
        """
        from .weights import authentic_weights
        t0 = time.perf_counter()
        v = _int_array(vertices, "vertices")
        fo = _int_array(followers, "followers")
        fi = _int_array(following, "following")
        extra = {}
        for name, x in (("unfollows", unfollows), ("reciprocated", reciprocated)):
            if x is not None:
                extra[name] = _int_array(x, name)
        for name, x in (("followers", fo), ("following", fi), *extra.items()):
            if x.shape != v.shape:
                raise UsageError(f"{name} has {x.shape[0]} entries, vertices {v.shape[0]}")
        if v.size:                           # a repeated vertex keeps its last counts
            last = v.size - 1 - np.unique(v[::-1], return_index=True)[1]
            v, fo, fi = v[last], fo[last], fi[last]
            extra = {k: x[last] for k, x in extra.items()}
        n_before = self.n
        if v.size and int(v.max()) >= self.n:
            self._extend(int(v.max()))
        new = np.arange(n_before, self.n)
        old = v < self.n_fitted
        w, fo, fi = v[old], fo[old].astype(np.float64), fi[old].astype(np.float64)
        extra = {k: x[old] for k, x in extra.items()}
        predicted = 0
        prev = (self.authenticity[w].copy(), self.category[w].copy(),
                self.suspicious[w].copy(), self.weight[w].copy())
        if w.size:
            if self.counts == "shift":
                self._followers[w] = np.maximum(self._followers0[w] + fo - self._din0[w], 0)
                self._following[w] = np.maximum(self._following0[w] + fi - self._dout0[w], 0)
            self._din[w] = fo
            self._dout[w] = fi
            if "unfollows" in extra:
                self._unf[w] += extra["unfollows"]
            aligned = {m: s[w] for m, s in self._aligned.items()}
            labels = {m: s[w] for m, s in self._labels.items()}
            if self._clf is not None:
                X = self._rows(w)
                if "reciprocated" in extra and self._has_graph:
                    rec = extra["reciprocated"].astype(np.float64)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        X[:, _COL["graph_reciprocity"]] = np.where(
                            fi > 0, rec / np.maximum(fi, 1), np.nan)
                clf = self._clf
                # only rows that cross a split of the trees (or a bound of the known
                # range) can change their prediction
                redo = np.ones(w.size, bool)
                if self._cuts is not None:
                    redo = ~_same_side(self._cuts, self.features[w], X)
                self.features[w] = X
                r = np.flatnonzero(redo)
                _, score, unsure, _ = classifier_scores(clf.model_, X[r], clf.threshold_)
                aligned["classifier"][r] = align_to_threshold(score, clf.threshold_)
                labels["classifier"][r] = (score >= clf.threshold_).astype(np.int8)
                self._aligned["classifier"][w] = aligned["classifier"]
                self._labels["classifier"][w] = labels["classifier"]
                self._uncertain[w[r]] = unsure
                predicted = int(r.size)
            din, dout = self._din[w], self._dout[w]
            followed = self._followed_fit[w] & (din > 0)
            in_graph = (din > 0) | (dout > 0)
            susp = noisy_or(aligned, self._judges, self._ens._weight, in_graph, followed)
            cat = categorize(susp, self._threshold, aligned, self._cats, self._judges, labels,
                             declared=self._declared[w],
                             following=np.nan_to_num(self._following[w], nan=0.0),
                             followers=np.nan_to_num(self._followers[w], nan=0.0),
                             inactive=self._inactive[w],
                             uncertain=self._uncertain[w])
            self.authenticity[w] = 1.0 - susp
            self.category[w] = cat
            self.suspicious[w] = susp >= self._threshold
            self.weight[w] = authentic_weights(1.0 - susp, cat)
        changed = ((self.authenticity[w] != prev[0]) | (self.category[w] != prev[1])
                   | (self.suspicious[w] != prev[2]) | (self.weight[w] != prev[3]))
        cw = w[changed]
        vert = np.concatenate([cw, new]).astype(np.int32)
        k = new.size
        table = pa.table({
            "vertex": vert,
            "new": np.r_[np.zeros(cw.size, bool), np.ones(k, bool)],
            "authenticity_old": pa.array(np.r_[prev[0][changed], np.zeros(k)],
                                         mask=np.r_[np.zeros(cw.size, bool), np.ones(k, bool)]),
            "authenticity": self.authenticity[vert],
            "category_old": pa.array(list(prev[1][changed]) + [None] * k, pa.string()),
            "category": pa.array(list(self.category[vert]), pa.string()),
            "suspicious_old": pa.array(list(prev[2][changed]) + [None] * k, pa.bool_()),
            "suspicious": self.suspicious[vert],
            "weight_old": pa.array(np.r_[prev[3][changed], np.zeros(k, np.float32)],
                                   mask=np.r_[np.zeros(cw.size, bool), np.ones(k, bool)]),
            "weight": self.weight[vert],
        }, schema=UPDATE_SCHEMA)
        order = np.argsort(vert, kind="stable")
        table = table.take(pa.array(order))
        self.stats_ = {
            "touched": int(v.size), "new": int(k), "changed": int(cw.size),
            "category_changed": int((self.category[w] != prev[1]).sum()),
            "flagged": int((self.suspicious[w] & ~prev[2]).sum()),
            "cleared": int((~self.suspicious[w] & prev[2]).sum()),
            "predicted": predicted, "seconds": time.perf_counter() - t0,
        }
        return table


__all__ = ["IncrementalDetection", "HELD_FEATURES", "HELD_MEMBERS", "UPDATE_SCHEMA",
           "split_cuts"]
