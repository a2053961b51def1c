"""The target of a marketer's search: who the audience should be, as a relevance per account.

Every discovery command measures a creator by its **authentic audience**: its followers,
each weighted by :func:`audience_weight` (the context's ``weight``, the authenticity gate
times activity, and exactly 0 for accounts the ensemble flags). A *target* turns that into
**relevant** reach by giving every account a relevance in [0, 1]::

    relevant_reach(c) = sum over followers u of c of  audience_weight[u] * relevance[u]

Targets (:func:`resolve_target`):

``topic``
    ``trueclout.score.topics.topic_relevance(ctx, topic)`` (imported lazily).
``audience``
    A list of accounts (a file) or a brand's followers (an account). Members count 1.
    Non-members that *look like* the members earn a smaller **lookalike credit**
    (:func:`audience_relevance`): the audience's *characteristic follows* are the
    accounts that at least ``discover_lookalike_min_members`` (authentic-weighted)
    members follow, at ``discover_lookalike_min_lift`` times or more the rate at which
    the whole authentic population follows them. A non-member ``u`` that follows ``t`` of
    them, out of ``d`` follows in all, gets::

        relevance[u] = discover_lookalike_credit * t / max(d, discover_lookalike_min_follows)

    so it never reaches the credit (0.5 by default) unless most of what it follows is
    what the target audience characteristically follows, and a single shared follow of
    an account that follows little earns at most ``credit / min_follows`` (0.05).
``like``
    Lookalikes of one account: relevance is membership of that account's audience, and
    :func:`~trueclout.discover.find.find_creators` ranks by the weighted cosine
    similarity of audiences instead of by reach.
``all``
    Relevance 1 everywhere (only where a command allows no target, as ``plan``).

Accounts are named ``platform:account_id``, by an account id, or by ``@handle``, as in
:func:`trueclout.accounts.resolve_account`; :func:`resolve_many` resolves a whole file at
once with the same rules and reports a bad entry with its line.

Examples
--------
>>> ctx = toy_context()
>>> t = resolve_target(ctx, audience="toy:cat")      # cat's followers as the audience
>>> t.kind, t.members.tolist(), t.exclude.tolist()
('audience', [0, 1, 3, 4, 5], [2])
>>> t.relevance.round(2).tolist()
[1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa

from .. import config
from ..accounts import resolve_account, resolve_accounts
from ..errors import InputError, UsageError
from ..kernels.propagate import pull

#: Names of the target kinds.
KINDS = ("topic", "audience", "like", "all")


# -- contexts and weights ----------------------------------------------------------------
def toy_context(graph=None, *, suspicious: Sequence[int] = (), weight=None):
    """A :class:`~trueclout.score.context.ScoreContext` without detection, for examples
    and tests: every account real and weighing 1, except the ``suspicious`` ones (weight
    0, flagged) or as ``weight`` says.

    Parameters
    ----------
    graph : FollowGraph, optional
        Default: :func:`trueclout.graph.toy.toy_graph`.
    suspicious : vertex ids
    weight : float array, optional

    Examples
    --------
    >>> ctx = toy_context(suspicious=[3])
    >>> ctx.n, ctx.weight.tolist(), ctx.suspicious.tolist()
    (6, [1.0, 1.0, 1.0, 0.0, 1.0, 1.0], [False, False, False, True, False, False])
    """
    from ..detect.data import DetectionData
    from ..graph.toy import toy_graph
    from ..score.context import ScoreContext
    g = toy_graph() if graph is None else graph
    data = DetectionData.from_graph(g)
    sus = np.zeros(g.n, bool)
    sus[np.asarray(list(suspicious), dtype=np.int64)] = True
    w = np.ones(g.n, np.float32) if weight is None else np.asarray(weight, np.float32).copy()
    w[sus] = 0.0
    auth = np.where(sus, 0.0, 1.0)
    return ScoreContext(data=data, ensemble=None, authenticity=auth, weight=w,
                        suspicious=sus)


def audience_weight(ctx) -> np.ndarray:
    """Weight of every account as a member of an authentic audience (float32).

    ``ctx.weight`` (authenticity gate × activity) times the trust gate of
    :func:`trueclout.score.rank.trust_model` (the same voter weight as authentic reach,
    so no trust reaching a follower means it is no audience), set to exactly 0 for
    accounts the ensemble flags (``ctx.suspicious``): a flagged follower is no part of any authentic
    audience, whatever small weight the smooth gate leaves it. Cached in ``ctx.cache``.

    Examples
    --------
    >>> ctx = toy_context()
    >>> ctx.suspicious[4] = True
    >>> audience_weight(ctx).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    """
    from ..score.saved import remember

    def compute() -> np.ndarray:
        from ..score.rank import trust_model
        from ..score.reach import voter_weight
        return np.where(np.asarray(ctx.suspicious, bool), 0.0,
                        voter_weight(ctx.weight, trust_model(ctx))).astype(np.float32)

    key = "discover.audience_weight"
    w = ctx.cache.get(key)
    if w is not None and w.shape[0] != ctx.n:
        del ctx.cache[key]
    return remember(ctx, key, compute)


def account_label(data, v: int) -> str:
    """``platform:account_id`` of vertex ``v``.

    Examples
    --------
    >>> account_label(toy_context().data, 2)
    'toy:cat'
    """
    p, a = data.graph.name(int(v))
    return f"{p}:{a}"


def handles(data, vertices: np.ndarray) -> list:
    """Handles of ``vertices`` (None where unknown).

    Examples
    --------
    >>> handles(toy_context().data, np.array([0, 2]))
    [None, None]
    """
    v = np.asarray(vertices, dtype=np.int64)
    if "handle" not in data.profiles.column_names:
        return [None] * v.shape[0]
    return data.profiles.column("handle").take(pa.array(v)).to_pylist()


def follower_fields(data, vertices: np.ndarray) -> list[dict]:
    """The two follower counts of ``vertices`` as every report names them:
    ``followers_count`` (the platform's own count, None where the source gives none) and
    ``followers_known`` (the followers the store holds; see
    :meth:`~trueclout.detect.data.DetectionData.follower_counts`).

    Examples
    --------
    >>> follower_fields(toy_context().data, np.array([2]))
    [{'followers_count': 5, 'followers_known': 5}]
    """
    count, known = data.follower_counts()
    v = np.asarray(vertices, dtype=np.int64)
    return [{"followers_count": int(count[x]) if np.isfinite(count[x]) else None,
             "followers_known": int(known[x])} for x in v.tolist()]


# -- resolving accounts ------------------------------------------------------------------
def resolve_many(data, specs: Sequence[str], *, path=None,
                 lines: Sequence[int] | None = None) -> np.ndarray:
    """Vertex ids of many account specs at once, by the rules of
    :func:`trueclout.accounts.resolve_accounts`; the first bad spec is raised (as an
    :class:`InputError` at its line when the specs come from a file).

    Parameters
    ----------
    data : DetectionData
    specs : sequence of str
    path : str or Path, optional
        The file the specs come from: a bad spec then raises :class:`InputError` with the
        path and line; without it, :class:`UsageError` naming the spec.
    lines : sequence of int, optional
        Line number of each spec in ``path``.

    Returns
    -------
    int64 array, one vertex per spec

    Examples
    --------
    >>> d = toy_context().data
    >>> resolve_many(d, ["toy:ben", "cat", "ana"]).tolist()
    [1, 2, 0]
    >>> resolve_many(d, ["ben", "zed"], path="a.txt", lines=[1, 2])
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: a.txt:2: no account 'zed' in the store (give platform:account_id, an account id or @handle)
    """
    specs = [str(s).strip() for s in specs]
    lines = list(lines) if lines is not None else [None] * len(specs)
    out, errors = resolve_accounts(data, specs)
    for err, line in zip(errors, lines):
        if err is not None:
            raise err if path is None else InputError(err.message, path=str(path), line=line)
    return out


def read_account_specs(path) -> tuple[list[str], list[int]]:
    """Account specs of a list file: one per line (blank lines and ``#`` comments
    skipped, an optional header ``account``), or a CSV (or TSV) with an ``account``
    column, whose empty cells give empty specs.

    Returns
    -------
    (specs, line numbers)

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "u.csv")
    ...     _ = open(p, "w").write("name,account\\nA,toy:ana\\nB,\\nC,@eve\\n")
    ...     read_account_specs(p)
    (['toy:ana', '', '@eve'], [2, 3, 4])
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    raw = text.splitlines()
    first = next((i for i, r in enumerate(raw) if r.strip() and not r.lstrip().startswith("#")),
                 None)
    if first is None:
        raise InputError("no accounts in the file", path=str(path))
    head = raw[first]
    specs, lines = [], []
    if "," in head or "\t" in head:
        delim = "," if "," in head else "\t"
        cols = [c.strip().lower() for c in next(csv.reader([head], delimiter=delim))]
        if "account" not in cols:
            raise InputError(f"a CSV list needs an 'account' column (found {', '.join(cols)})",
                             path=str(path), line=first + 1)
        j = cols.index("account")
        reader = csv.reader(io.StringIO("\n".join(raw[first + 1:])), delimiter=delim)
        for k, row in enumerate(reader):
            if not row or not any(c.strip() for c in row):
                continue
            specs.append(row[j].strip() if j < len(row) else "")
            lines.append(first + 2 + k)
    else:
        for k, r in enumerate(raw):
            s = r.strip()
            if not s or s.startswith("#") or (k == first and s.lower() == "account"):
                continue
            specs.append(s)
            lines.append(k + 1)
    if not specs:
        raise InputError("no accounts in the file", path=str(path))
    return specs, lines


def read_account_list(data, path) -> np.ndarray:
    """Vertices of the accounts listed in ``path``: one per line (blank lines and ``#``
    comments skipped, an optional header ``account``), or a CSV (or TSV) with an
    ``account`` column. Repeats are merged. Bad entries raise :class:`InputError` with
    their line.

    Examples
    --------
    >>> import tempfile, os
    >>> d = toy_context().data
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "a.csv")
    ...     _ = open(p, "w").write("account,note\\ntoy:ana,x\\neve,y\\nana,z\\n")
    ...     read_account_list(d, p).tolist()
    [0, 4]
    """
    path = Path(path)
    specs, lines = read_account_specs(path)
    for spec, line in zip(specs, lines):
        if not spec:
            raise InputError("empty account", path=str(path), line=line, field="account")
    return np.unique(resolve_many(data, specs, path=path, lines=lines))


# -- relevance of an audience ------------------------------------------------------------
def audience_relevance(ctx, members: np.ndarray, *, credit: float | None = None,
                       min_members: float | None = None, min_lift: float | None = None,
                       min_follows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Relevance of every account to a target audience: 1 for members, the lookalike
    credit for others (see the module docstring).

    Parameters
    ----------
    ctx : ScoreContext
    members : int array
        Vertices of the target audience.
    credit, min_members, min_lift, min_follows : optional
        Default from config ``discover_lookalike_credit``, ``..._min_members``,
        ``..._min_lift`` and ``..._min_follows``.

    Returns
    -------
    relevance : float32 array in [0, 1]
    characteristic : int64 array
        The audience's characteristic follows (vertex ids).

    Examples
    --------
    >>> ctx = toy_context()
    >>> rel, char = audience_relevance(ctx, np.array([0, 1]), min_members=1, min_lift=1,
    ...                                min_follows=1)
    >>> char.tolist(), rel.tolist()
    ([0, 1, 2], [1.0, 1.0, 0.5, 0.25, 0.25, 0.25])
    """
    credit = float(config.value("discover_lookalike_credit", credit))
    min_members = float(config.value("discover_lookalike_min_members", min_members))
    min_lift = float(config.value("discover_lookalike_min_lift", min_lift))
    min_follows = int(config.value("discover_lookalike_min_follows", min_follows))
    if not 0 <= credit <= 1:
        raise UsageError("discover_lookalike_credit must be in [0, 1]")
    g = ctx.graph
    n = g.n
    w = audience_weight(ctx)
    members = np.unique(np.asarray(members, dtype=np.int64))
    is_member = np.zeros(n, bool)
    is_member[members] = True
    rel = is_member.astype(np.float32)
    wm = np.where(is_member, w, np.float32(0)).astype(np.float32)
    total_m = float(wm.sum(dtype=np.float64))
    total = float(w.sum(dtype=np.float64))
    char = np.zeros(0, np.int64)
    if credit > 0 and total_m > 0 and total > 0 and g.m:
        # member followers and all authentic followers of every account
        by_members = pull(g.in_indptr, g.in_indices, wm)
        by_all = pull(g.in_indptr, g.in_indices, w)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = (by_members / total_m) / (by_all / total)
        ok = (by_members >= min_members) & (by_all > 0) & (lift >= min_lift)
        char = np.flatnonzero(ok).astype(np.int64)
        if char.size:
            t = pull(g.out_indptr, g.out_indices, ok.astype(np.float32))
            d = np.maximum(g.out_degree(), max(min_follows, 1)).astype(np.float64)
            look = (credit * t / d).astype(np.float32)
            rel = np.where(is_member, np.float32(1), np.minimum(look, np.float32(credit)))
    return rel.astype(np.float32), char


# -- targets -------------------------------------------------------------------------------
@dataclass(eq=False)
class Target:
    """What a marketer looks for, resolved against one store.

    Attributes
    ----------
    kind : str
        ``topic``, ``audience``, ``like`` or ``all``.
    label : str
        In words, for reports: ``topic 'cooking'``, ``the followers of toy:cat``, ...
    relevance : float32 array in [0, 1]
        Per account.
    members : int64 array or None
        The target audience (``audience`` and ``like``).
    exclude : int64 array
        Accounts never returned for this target (the brand itself, the account whose
        lookalikes are wanted).
    anchor : int or None
        The account of ``like`` (or of ``audience`` given as an account).
    info : dict
        Extra figures for reports (members, characteristic follows).

    Examples
    --------
    >>> Target("all", "everyone", np.ones(2, np.float32)).exclude.tolist()
    []
    """

    kind: str
    label: str
    relevance: np.ndarray
    members: np.ndarray | None = None
    exclude: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    anchor: int | None = None
    info: dict = field(default_factory=dict)


def topic_target(ctx, topic: str, store=None) -> Target:
    """Target of a topic: ``trueclout.score.topics.topic_relevance(ctx, topic)``.

    ``store``, when given, is passed on: the topic model then also reads the store's
    hashtags and posts (it is fitted once per context and cached).

    Examples
    --------
    >>> topic_target(toy_context(), "   ")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: give a topic (--topic TEXT)
    """
    if not topic or not topic.strip():
        raise UsageError("give a topic (--topic TEXT)")
    try:
        from ..score.topics import topic_relevance
    except ImportError as exc:  # the topics stage is not part of this installation
        raise UsageError(f"topic relevance is not available here ({exc})") from None
    rel = topic_relevance(ctx, topic.strip()) if store is None else \
        topic_relevance(ctx, topic.strip(), store)
    rel = np.asarray(rel, dtype=np.float32)
    if rel.shape != (ctx.n,):
        raise UsageError(f"topic relevance has shape {rel.shape}, expected ({ctx.n},)")
    rel = np.clip(np.nan_to_num(rel, nan=0.0), 0.0, 1.0).astype(np.float32)
    return Target("topic", f"topic {topic.strip()!r}", rel,
                  info={"relevant_accounts": int((rel > 0).sum())})


def audience_target(ctx, audience: str | Iterable[int]) -> Target:
    """Target of an audience: a file of accounts, one account (its followers) or vertex ids.

    A string naming an existing file is read with :func:`read_account_list`; any other
    string is an account, whose **followers** are the audience (the account itself is then
    excluded from results).

    Examples
    --------
    >>> ctx = toy_context()
    >>> t = audience_target(ctx, [0, 1])
    >>> t.label, t.members.tolist()
    ('a list of 2 accounts', [0, 1])
    >>> audience_target(ctx, "dan")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: toy:dan has no followers in the store to use as an audience
    """
    data = ctx.data
    anchor = None
    exclude = np.zeros(0, np.int64)
    if isinstance(audience, (str, Path)):
        spec = str(audience)
        if Path(spec).is_file():
            members = read_account_list(data, spec)
            label = f"the {members.size:,} accounts of {Path(spec).name}"
        else:
            anchor = resolve_account(data, spec)
            members = np.asarray(ctx.graph.in_neighbors(anchor), dtype=np.int64)
            if members.size == 0:
                raise UsageError(f"{account_label(data, anchor)} has no followers in the "
                                 "store to use as an audience")
            label = f"the followers of {account_label(data, anchor)}"
            exclude = np.array([anchor], np.int64)
    else:
        members = np.unique(np.asarray(list(audience), dtype=np.int64))
        if members.size and (members.min() < 0 or members.max() >= ctx.n):
            raise UsageError(f"audience vertices must be in 0..{ctx.n - 1}")
        label = f"a list of {members.size:,} accounts"
    if members.size == 0:
        raise UsageError("the target audience is empty")
    rel, char = audience_relevance(ctx, members)
    w = audience_weight(ctx)
    return Target("audience", label, rel, members=members, exclude=exclude, anchor=anchor,
                  info={"members": int(members.size),
                        "authentic_members": float(w[members].sum(dtype=np.float64)),
                        "characteristic_follows": int(char.size)})


def like_target(ctx, account: str | int) -> Target:
    """Target of lookalikes: the authentic audience of ``account``.

    Examples
    --------
    >>> t = like_target(toy_context(), "toy:eve")
    >>> t.anchor, t.members.tolist(), t.relevance.tolist()
    (4, [3, 5], [0.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    """
    data = ctx.data
    v = int(account) if isinstance(account, (int, np.integer)) else resolve_account(data, account)
    if not 0 <= v < ctx.n:
        raise UsageError(f"vertex {v} is not in 0..{ctx.n - 1}")
    members = np.asarray(ctx.graph.in_neighbors(v), dtype=np.int64)
    w = audience_weight(ctx)
    if members.size == 0 or float(w[members].sum()) <= 0:
        raise UsageError(f"{account_label(data, v)} has no authentic followers to find "
                         "lookalikes of")
    rel = np.zeros(ctx.n, np.float32)
    rel[members] = 1.0
    return Target("like", f"creators like {account_label(data, v)}", rel, members=members,
                  exclude=np.array([v], np.int64), anchor=v,
                  info={"members": int(members.size),
                        "authentic_members": float(w[members].sum(dtype=np.float64))})


def resolve_target(ctx, *, topic: str | None = None, audience=None, like=None,
                   allow_none: bool = False, store=None) -> Target:
    """The one target given: ``topic``, ``audience`` or ``like`` (exactly one; with
    ``allow_none`` none at all means relevance 1 everywhere). ``store`` is passed to
    :func:`topic_target`.

    Examples
    --------
    >>> ctx = toy_context()
    >>> resolve_target(ctx, allow_none=True).kind
    'all'
    >>> resolve_target(ctx, audience="toy:cat", like="toy:eve")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: give exactly one of --topic, --audience and --like
    """
    given = [k for k, v in (("topic", topic), ("audience", audience), ("like", like))
             if v is not None]
    if len(given) > 1 or (not given and not allow_none):
        raise UsageError("give exactly one of --topic, --audience and --like"
                         if not allow_none else "give at most one of --topic and --audience")
    if not given:
        return Target("all", "everyone (no target)", np.ones(ctx.n, np.float32))
    if topic is not None:
        return topic_target(ctx, topic, store)
    if audience is not None:
        return audience_target(ctx, audience)
    return like_target(ctx, like)
