"""Read Bluesky Jetstream over a websocket and apply its events to the store.

Jetstream (github.com/bluesky-social/jetstream) re-publishes the firehose as JSON, one
event per websocket message::

    {"did": "did:plc:...", "time_us": 1725911162329308, "kind": "commit",
     "commit": {"rev": "...", "operation": "create", "collection": "app.bsky.graph.follow",
                "rkey": "3l3qo2vutsw2b", "record": {"subject": "did:plc:...",
                "createdAt": "2024-09-09T19:46:02.102Z"}, "cid": "..."}}

The subscription takes ``wantedCollections`` (repeated), ``wantedDids`` (repeated) and
``cursor`` (a ``time_us``, to replay from) as query parameters. :func:`watch` resumes
``stream_resume_back_s`` seconds before the saved cursor (events are applied
idempotently, so the overlap is harmless), applies events in batches
(:class:`~trueclout.stream.apply.StreamApplier`), hands each batch's follow changes to an
optional incremental scorer (:class:`~trueclout.score.incremental.IncrementalScores`)
and re-scores after ``stream_rescore_events`` events or ``stream_rescore_seconds``
seconds. Ctrl-C (or ``stop``) ends it cleanly: the pending batch is applied and the
cursor saved before it returns. A closed connection also ends it (run it again to
resume).

Examples
--------
>>> jetstream_url("ws://h/s", ["app.bsky.graph.follow"], ["did:plc:a"], 42)
'ws://h/s?wantedCollections=app.bsky.graph.follow&wantedDids=did%3Aplc%3Aa&cursor=42'
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from .. import config
from ..errors import InputError, UsageError
from .apply import APPLIED, SOURCE, StreamApplier, resume_cursor


def jetstream_url(base: str | None = None, collections: Iterable[str] = (),
                  dids: Iterable[str] = (), cursor: int | None = None) -> str:
    """The subscription URL: ``base`` (setting ``stream_jetstream_url``) with the query.

    Examples
    --------
    >>> jetstream_url("ws://127.0.0.1:1/subscribe")
    'ws://127.0.0.1:1/subscribe'
    """
    base = str(config.value("stream_jetstream_url", base))
    q: list[tuple[str, str]] = [("wantedCollections", c) for c in collections]
    q += [("wantedDids", d) for d in dids]
    if cursor is not None:
        q.append(("cursor", str(int(cursor))))
    if not q:
        return base
    return base + ("&" if "?" in base else "?") + urlencode(q)


def parse_collections(text: str | None) -> list[str]:
    """The collections of a comma-separated list (default setting ``stream_collections``).

    Examples
    --------
    >>> parse_collections("app.bsky.graph.follow, app.bsky.feed.like")
    ['app.bsky.graph.follow', 'app.bsky.feed.like']
    >>> parse_collections("app.bsky.feed.post")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: collections: cannot apply app.bsky.feed.post; choose ...
    """
    text = str(config.value("stream_collections", text))
    out = [c.strip() for c in text.split(",") if c.strip()]
    if not out:
        raise UsageError("give at least one collection", field="collections")
    for c in out:
        if c not in APPLIED:
            raise UsageError(f"cannot apply {c}; choose from {', '.join(APPLIED)}",
                             field="collections")
    return out


def read_dids(path: str | Path) -> list[str]:
    """DIDs from a file, one per line (blank lines and ``#`` comments ignored).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "dids.txt")
    >>> _ = open(p, "w").write("# watch these\\ndid:plc:a\\n\\ndid:web:b.example\\n")
    >>> read_dids(p)
    ['did:plc:a', 'did:web:b.example']
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no such file: {p}", field="dids")
    out = []
    for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        if not s.startswith("did:") or " " in s:
            raise InputError(f"not a DID: {s!r}", path=str(p), line=i)
        out.append(s)
    return out


def watch(store, *, url: str | None = None, collections: Iterable[str] | None = None,
          dids: Iterable[str] = (), max_events: int | None = None, scorer: Any = None,
          progress: Callable[[dict], None] | None = None,
          stop: threading.Event | None = None, batch_events: int | None = None,
          rescore_events: int | None = None,
          rescore_seconds: float | None = None) -> dict[str, Any]:
    """Read Jetstream and apply its events to ``store`` until stopped.

    Parameters
    ----------
    store : Store
    url : str, optional
        Jetstream endpoint (setting ``stream_jetstream_url``).
    collections : list of str, optional
        ``wantedCollections`` (setting ``stream_collections``).
    dids : list of str
        ``wantedDids`` (all accounts when empty).
    max_events : int, optional
        Stop after this many messages.
    scorer : IncrementalScores, optional
        Updated with each batch's follow changes; re-scored after ``rescore_events``
        events or ``rescore_seconds`` seconds.
    progress : callable, optional
        Called with the running summary after every batch.
    stop : threading.Event, optional
        Set it to stop cleanly (as Ctrl-C does).

    Returns
    -------
    dict
        ``messages``, ``applied``, ``skipped`` by reason, store totals, ``cursor``,
        ``resumed_from``, ``rescores``, ``interrupted``, ``closed`` and ``url``.

    Examples
    --------
    >>> watch  # doctest: +ELLIPSIS
    <function watch at ...>
    """
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect

    cols = parse_collections(",".join(collections) if collections is not None else None)
    if max_events is not None and max_events < 1:
        raise UsageError("--max-events must be at least 1", field="max_events")
    n_rescore = int(config.value("stream_rescore_events", rescore_events))
    t_rescore = float(config.value("stream_rescore_seconds", rescore_seconds))
    batch_s = float(config.get("stream_batch_seconds"))
    start = resume_cursor(store.stream_cursor(SOURCE))
    full = jetstream_url(url, cols, list(dids), start)
    state = {"since": 0, "rescores": 0, "t_scored": time.monotonic()}

    def on_batch(res: dict) -> None:
        state["since"] += res["events"]
        if scorer is not None:
            scorer.observe(res)
            due = state["since"] >= n_rescore or \
                time.monotonic() - state["t_scored"] >= t_rescore
            if due:
                rescore()
        if progress is not None:
            progress(summary())

    def rescore() -> None:
        scorer.rescore()
        state["since"] = 0
        state["rescores"] += 1
        state["t_scored"] = time.monotonic()

    applier = StreamApplier(store, batch_events=batch_events, on_batch=on_batch)
    messages = 0
    interrupted = closed = False

    def summary() -> dict[str, Any]:
        return {"url": full, "messages": messages, "resumed_from": start,
                **applier.summary(), "rescores": state["rescores"],
                "interrupted": interrupted, "closed": closed}

    try:
        ws = connect(full, open_timeout=10, max_size=None, proxy=None)
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise InputError(f"cannot connect to Jetstream at {full}: {exc}") from exc
    try:
        last = time.monotonic()
        while max_events is None or messages < max_events:
            if stop is not None and stop.is_set():
                break
            wait = max(batch_s - (time.monotonic() - last), 0.01)
            try:
                msg = ws.recv(timeout=min(wait, 0.5))
            except TimeoutError:
                msg = None
            except ConnectionClosed:
                closed = True
                break
            if msg is not None:
                messages += 1
                applier.add(msg)
            if time.monotonic() - last >= batch_s:
                if applier.pending or applier._pending_skips:
                    applier.flush()
                last = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        ws.close()
    try:
        applier.flush()        # the pending batch, and the cursor, in one transaction
    except KeyboardInterrupt:  # a second Ctrl-C: the transaction rolled back; say so
        interrupted = True
    if scorer is not None and getattr(scorer, "pending", 0):
        rescore()
    return summary()
