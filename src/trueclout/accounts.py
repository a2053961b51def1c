"""Naming accounts: the one resolver behind every command, page and API route.

An account is named by a *spec*: ``platform:account_id`` (that one account), an account id
(every account with that id, on any platform), or ``@handle`` (case-insensitive; a bare
word that is no id is tried as a handle too). A spec that names no account raises
:class:`~trueclout.errors.UnknownAccountError` (the API answers 404); one that names
several asks for ``platform:account_id``.

:func:`resolve_accounts` resolves many specs at once with vectorised look-ups and one
error per spec, so a batch keeps its bad rows; :func:`resolve_account` is the one-spec
form that raises. Both read a :class:`~trueclout.detect.data.DetectionData` (names and
handles) or a bare :class:`~trueclout.graph.FollowGraph` (ids only). Looking up a spec in
the store before anything is read is :meth:`trueclout.store.Store.names_account`.

Examples
--------
>>> from trueclout.detect.data import DetectionData
>>> from trueclout.graph.toy import toy_graph
>>> d = DetectionData.from_graph(toy_graph())
>>> resolve_account(d, "toy:ben"), resolve_account(d, "ben")
(1, 1)
>>> resolve_account(d, "nobody")
Traceback (most recent call last):
...
trueclout.errors.UnknownAccountError: no account 'nobody' in the store (give platform:account_id, an account id or @handle)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import UnknownAccountError, UsageError

#: How to name an account, for messages.
SPEC_HELP = "platform:account_id, an account id or @handle"


def id_index(graph: Any, specs: Sequence[str]) -> Callable[[str], list[int]]:
    """Look up many account specs by id at once: returns ``ids_of(spec)``, the vertices
    that one of ``specs`` names by id.

    ``platform:account_id`` names that one account when it exists; otherwise a spec names
    every account whose id it is. ``@handle`` specs and empty ones name none.

    Examples
    --------
    >>> from trueclout.graph.toy import toy_graph
    >>> ids_of = id_index(toy_graph(), ["toy:ben", "cat", "@eve", "x:cat", ""])
    >>> ids_of("toy:ben"), ids_of("cat"), ids_of("@eve"), ids_of("x:cat"), ids_of("")
    ([1], [2], [], [], [])
    """
    want = set()
    for s in specs:
        if s and not s.startswith("@"):
            want.add(s)
            if ":" in s:
                want.add(s.split(":", 1)[1])
    acc = graph.names.column("account_id")
    hit = np.flatnonzero(pc.is_in(acc, value_set=pa.array(sorted(want), pa.string()))
                         .to_numpy(zero_copy_only=False)) if graph.n and want else \
        np.zeros(0, np.int64)
    plat = graph.names.column("platform").take(pa.array(hit)).cast(pa.string()).to_pylist()
    ids = acc.take(pa.array(hit)).to_pylist()
    by_pair = {(p, a): int(v) for p, a, v in zip(plat, ids, hit)}
    by_id: dict[str, list[int]] = {}
    for a, v in zip(ids, hit):
        by_id.setdefault(a, []).append(int(v))

    def ids_of(spec: str) -> list[int]:
        if ":" in spec and not spec.startswith("@"):
            p, a = spec.split(":", 1)
            if (p, a) in by_pair:
                return [by_pair[(p, a)]]
        return [] if spec.startswith("@") else by_id.get(spec, [])

    return ids_of


def _handle_index(data: Any, specs: Sequence[str]) -> dict[str, list[int]]:
    """Lower-cased handle -> vertices, for the handles ``specs`` could name."""
    profiles = getattr(data, "profiles", None)
    graph = getattr(data, "graph", data)
    if profiles is None or "handle" not in profiles.column_names or not graph.n:
        return {}
    want = sorted({(s[1:] if s.startswith("@") else s).lower() for s in specs if s})
    hcol = pc.utf8_lower(profiles.column("handle").cast(pa.string()))
    hit = np.flatnonzero(pc.is_in(hcol, value_set=pa.array(want, pa.string()))
                         .to_numpy(zero_copy_only=False))
    out: dict[str, list[int]] = {}
    for h, v in zip(hcol.take(pa.array(hit)).to_pylist(), hit):
        out.setdefault(h, []).append(int(v))
    return out


def resolve_accounts(data: Any, specs: Sequence[str]
                     ) -> tuple[np.ndarray, list[UsageError | None]]:
    """The vertex of each spec (−1 where it names no single account) and, per spec,
    None or the error that says why not.

    Parameters
    ----------
    data : DetectionData or FollowGraph
        Where the names (and handles, from ``data.profiles``) are.
    specs : sequence of str
        Account specs; surrounding blanks are ignored.

    Returns
    -------
    vertices : int64 array
    errors : list of UsageError or None
        :class:`~trueclout.errors.UnknownAccountError` for a spec that names nobody, a
        :class:`~trueclout.errors.UsageError` for an empty or ambiguous one.

    Examples
    --------
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.graph.toy import toy_graph
    >>> v, errors = resolve_accounts(DetectionData.from_graph(toy_graph()),
    ...                              ["toy:ben", " cat", "zed", ""])
    >>> v.tolist(), [type(e).__name__ for e in errors]
    ([1, 2, -1, -1], ['NoneType', 'NoneType', 'UnknownAccountError', 'UsageError'])
    """
    specs = [str(s).strip() for s in specs]
    graph = getattr(data, "graph", data)
    out = np.full(len(specs), -1, np.int64)
    errors: list[UsageError | None] = [None] * len(specs)
    if not specs:
        return out, errors
    ids_of = id_index(graph, specs)
    by_handle = _handle_index(data, specs)
    for i, s in enumerate(specs):
        if not s:
            errors[i] = UsageError(f"empty account (give {SPEC_HELP})")
            continue
        hits = ids_of(s) or by_handle.get((s[1:] if s.startswith("@") else s).lower(), [])
        if len(hits) == 1:
            out[i] = hits[0]
        elif hits:
            errors[i] = UsageError(f"{s!r} names {len(hits)} accounts; give "
                                   "platform:account_id")
        else:
            errors[i] = UnknownAccountError(s)
    return out, errors


def resolve_account(data: Any, spec: str) -> int:
    """The vertex of one spec; raises the error :func:`resolve_accounts` gives for it.

    Examples
    --------
    >>> from trueclout.detect.data import DetectionData
    >>> from trueclout.graph.toy import toy_graph
    >>> resolve_account(DetectionData.from_graph(toy_graph()), " cat ")
    2
    """
    if not str(spec).strip():
        raise UsageError(f"give an account: {SPEC_HELP}")
    v, errors = resolve_accounts(data, [spec])
    if errors[0] is not None:
        raise errors[0]
    return int(v[0])


__all__ = ["SPEC_HELP", "id_index", "resolve_account", "resolve_accounts"]
