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
seconds; with a scorer, the scores are saved as one run of kind ``stream``, updated in
place every ``stream_save_every_s`` seconds (after a re-score) and at the end. Ctrl-C (or
``stop``) ends it cleanly: the pending batch is applied, the cursor saved, the scores
re-scored and saved before it returns.

A dropped connection (the server closes, a network error, a refused or failed handshake)
does not end it: the pending batch is applied (saving the cursor), and after a wait of
:func:`reconnect_delay` (capped exponential backoff with jitter, settings
``stream_reconnect_base_s`` and ``stream_reconnect_cap_s``) it reconnects from the saved
cursor, ``stream_resume_back_s`` seconds back as on a start; the replayed events change
nothing. ``max_reconnects`` bounds the reconnects in a row that do not move the cursor
forward (default unlimited; 0 stops at the first drop); when they run out the watch
returns with ``stopped == "reconnects_exhausted"``, the cursor saved, and a later run
resumes.

Examples
--------
>>> jetstream_url("ws://h/s", ["app.bsky.graph.follow"], ["did:plc:a"], 42)
'ws://h/s?wantedCollections=app.bsky.graph.follow&wantedDids=did%3Aplc%3Aa&cursor=42'
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from .. import config
from ..errors import InputError, UsageError
from .apply import APPLIED, StreamApplier, resume_cursor

log = logging.getLogger(__name__)


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


def reconnect_delay(attempt: int, base_s: float | None = None, cap_s: float | None = None,
                    rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect number ``attempt`` in a row (0 for the first after a
    drop): ``min(cap_s, base_s * 2**attempt)`` scaled by a random factor in [0.5, 1]
    ("equal jitter"; settings ``stream_reconnect_base_s``, ``stream_reconnect_cap_s``).

    Examples
    --------
    >>> import random
    >>> rng = random.Random(0)
    >>> d = [reconnect_delay(k, 1.0, 10.0, rng) for k in range(6)]
    >>> all(min(10.0, 2.0 ** k) / 2 <= x <= min(10.0, 2.0 ** k) for k, x in enumerate(d))
    True
    >>> reconnect_delay(3, 0.0, 60.0)
    0.0
    """
    base = float(config.value("stream_reconnect_base_s", base_s))
    cap = float(config.value("stream_reconnect_cap_s", cap_s))
    delay = min(cap, base * 2.0 ** min(max(int(attempt), 0), 62))
    return delay * (0.5 + 0.5 * (rng or random).random())


def _why(exc: BaseException) -> str:
    """Why a connection dropped or could not open, in plain words."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
    if isinstance(exc, ConnectionClosed):
        return f"connection closed: {exc}"
    if isinstance(exc, InvalidStatus):
        return f"handshake refused: HTTP {exc.response.status_code}"
    if isinstance(exc, InvalidHandshake):
        return f"handshake failed: {exc}"
    if isinstance(exc, TimeoutError):
        return "timed out opening the connection"
    return f"network error: {exc}"


def _log_reconnect(info: dict) -> None:
    log.warning("stream: %s; reconnect %d (%d in a row) in %.1f s from cursor %s",
                info["reason"], info["reconnects"], info["in_row"], info["delay"],
                info["cursor"])


def watch(store, *, url: str | None = None, collections: Iterable[str] | None = None,
          dids: Iterable[str] = (), max_events: int | None = None, scorer: Any = None,
          progress: Callable[[dict], None] | None = None,
          stop: threading.Event | None = None, batch_events: int | None = None,
          batch_seconds: float | None = None, rescore_events: int | None = None,
          rescore_seconds: float | None = None, save_every: float | None = None,
          max_reconnects: int | None = None, reconnect_base_s: float | None = None,
          reconnect_cap_s: float | None = None,
          on_reconnect: Callable[[dict], None] | None = None,
          sleep: Callable[[float], Any] | None = None,
          rng: random.Random | None = None, refit: Callable[[], Any] | None = None,
          full_every: float | None = None, firehose: bool = False) -> dict[str, Any]:
    """Read Jetstream (or the firehose) and apply its events to ``store`` until stopped,
    reconnecting after drops.

    Parameters
    ----------
    store : Store
    url : str, optional
        Jetstream endpoint (setting ``stream_jetstream_url``), or with ``firehose`` the
        relay or PDS (setting ``stream_firehose_url``).
    firehose : bool
        Read ``com.atproto.sync.subscribeRepos`` (binary CBOR frames,
        :mod:`trueclout.stream.firehose`) instead of Jetstream. Its cursor is the host's
        ``seq`` (saved per host), resumed exactly; collections and DIDs are filtered
        here, as the firehose sends everything.
    collections : list of str, optional
        ``wantedCollections`` (setting ``stream_collections``).
    dids : list of str
        ``wantedDids`` (all accounts when empty).
    max_events : int, optional
        Stop after this many messages (replayed ones included).
    scorer : IncrementalScores, optional
        Anything with ``observe(batch)``, ``rescore()``, ``scores()``, ``uids`` and ``n``:
        updated with each batch's follow changes, re-scored after ``rescore_events``
        events or ``rescore_seconds`` seconds, and its scores saved as the run of kind
        ``stream`` (:meth:`~trueclout.store.Store.save_stream_run`, one run updated in
        place) after a re-score once ``save_every`` seconds (``stream_save_every_s``)
        have passed since the last save, and at the end.
    progress : callable, optional
        Called with the running summary after every batch.
    stop : threading.Event, optional
        Set it to stop cleanly (the CLI sets it on Ctrl-C and SIGTERM); it also cuts a
        reconnect wait short.
    batch_events, batch_seconds : optional
        Batch size and longest wait before a partial batch is applied
        (``stream_batch_events``, ``stream_batch_seconds``).
    max_reconnects : int, optional
        Reconnects allowed in a row without the cursor moving forward; None (default):
        unlimited; 0: stop at the first drop.
    reconnect_base_s, reconnect_cap_s : float, optional
        Backoff of :func:`reconnect_delay` (``stream_reconnect_base_s``,
        ``stream_reconnect_cap_s``).
    on_reconnect : callable, optional
        Called with ``{"reconnects", "in_row", "delay", "reason", "cursor"}`` before each
        reconnect wait (default: a warning on the ``trueclout.stream.jetstream`` logger).
    sleep : callable, optional
        Waits that many seconds (default: ``stop.wait``, so a stop ends the wait).
    rng : random.Random, optional
        Source of the backoff's jitter.
    refit : callable, optional
        Returns a new scorer fitted from the store as it stands (the full run: detection
        of every detector, then the scores); called in place of a re-score once
        ``full_every`` seconds (``stream_full_every_s``) have passed since the last fit,
        so what the incremental updates hold (graph-global detectors, trust) catches up.

    Returns
    -------
    dict
        ``messages``, ``applied``, ``skipped`` by reason, store totals, ``cursor``,
        ``resumed_from``, ``rescores``, ``refits``, ``saves``, ``run_id``, ``reconnects``,
        ``stopped`` (``stop``, ``max_events``, ``interrupted`` or
        ``reconnects_exhausted``), ``error`` (why the last connection dropped, when
        reconnects ran out), ``interrupted``, ``closed`` and ``url``.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> s = watch(Store(":memory:"), url="ws://127.0.0.1:1/subscribe", max_reconnects=0)
    >>> s["stopped"], s["reconnects"], s["error"].startswith("network error")
    ('reconnects_exhausted', 0, True)
    """
    cols = parse_collections(",".join(collections) if collections is not None else None)
    cfg = _settings(max_events=max_events, max_reconnects=max_reconnects,
                    rescore_events=rescore_events, rescore_seconds=rescore_seconds,
                    batch_seconds=batch_seconds, save_every=save_every,
                    reconnect_base_s=reconnect_base_s, reconnect_cap_s=reconnect_cap_s,
                    full_every=full_every)
    stop = stop if stop is not None else threading.Event()
    sleep = sleep or stop.wait
    on_reconnect = on_reconnect or _log_reconnect
    wanted = list(dids)
    st: dict[str, Any] = {"messages": 0, "reconnects": 0, "stopped": None, "error": None}
    scoring = _Scoring(store, scorer, refit, cfg, {"collections": cols, "dids": len(wanted)})

    def on_batch(res: dict) -> None:
        scoring.observe(res, applier)
        if progress is not None:
            progress(summary())

    applier, start_at, url_at, feed, dropped = _source(store, url, cols, wanted, firehose,
                                                       batch_events, on_batch)
    first = start_at(applier.cursor)
    first_url = url_at(first)

    def summary() -> dict[str, Any]:
        return {"url": first_url, "messages": st["messages"], "resumed_from": first,
                **applier.summary(), **scoring.summary(), "reconnects": st["reconnects"],
                "stopped": st["stopped"], "error": st["error"],
                "interrupted": st["stopped"] == "interrupted",
                "closed": st["stopped"] == "reconnects_exhausted"}

    in_row = 0
    try:
        while True:
            if stop.is_set():
                st["stopped"] = "stop"
                break
            if max_events is not None and st["messages"] >= max_events:
                st["stopped"] = "max_events"
                break
            before = applier.cursor
            why = _connection(url_at(start_at(before)), cfg, feed, dropped, applier, st,
                              stop, max_events)
            if why is None:
                continue                         # stopped, or max_events: said above
            # a drop: apply what came (and save the cursor), then reconnect from it
            applier.flush_due()
            if applier.cursor is not None and (before is None or applier.cursor > before):
                in_row = 0                       # the connection moved the cursor on
            if max_reconnects is not None and in_row >= max_reconnects:
                st["stopped"], st["error"] = "reconnects_exhausted", why
                break
            delay = reconnect_delay(in_row, cfg.base_s, cfg.cap_s, rng)
            in_row += 1
            st["reconnects"] += 1
            on_reconnect({"reconnects": st["reconnects"], "in_row": in_row, "delay": delay,
                          "reason": why, "cursor": applier.cursor})
            sleep(delay)
    except KeyboardInterrupt:
        st["stopped"] = "interrupted"
    try:
        applier.flush()        # the pending batch, and the cursor, in one transaction
    except KeyboardInterrupt:  # a second Ctrl-C: the transaction rolled back; say so
        st["stopped"] = "interrupted"
    if not scoring.finish(applier):
        st["stopped"] = "interrupted"        # the last periodic save stays whole
    return summary()


@dataclass(frozen=True)
class WatchSettings:
    """The checked settings of one :func:`watch` (each a ``stream_*`` setting unless
    given).

    Examples
    --------
    >>> _settings().batch_s == float(config.get("stream_batch_seconds"))
    True
    """

    n_rescore: int
    t_rescore: float
    batch_s: float
    every: float
    base_s: float
    cap_s: float
    open_s: float
    full_s: float


def _settings(*, max_events: int | None = None, max_reconnects: int | None = None,
              rescore_events: int | None = None, rescore_seconds: float | None = None,
              batch_seconds: float | None = None, save_every: float | None = None,
              reconnect_base_s: float | None = None, reconnect_cap_s: float | None = None,
              full_every: float | None = None) -> WatchSettings:
    if max_events is not None and max_events < 1:
        raise UsageError("--max-events must be at least 1", field="max_events")
    if max_reconnects is not None and max_reconnects < 0:
        raise UsageError("--max-reconnects must be at least 0", field="max_reconnects")
    cfg = WatchSettings(
        n_rescore=int(config.value("stream_rescore_events", rescore_events)),
        t_rescore=float(config.value("stream_rescore_seconds", rescore_seconds)),
        batch_s=float(config.value("stream_batch_seconds", batch_seconds)),
        every=float(config.value("stream_save_every_s", save_every)),
        base_s=float(config.value("stream_reconnect_base_s", reconnect_base_s)),
        cap_s=float(config.value("stream_reconnect_cap_s", reconnect_cap_s)),
        open_s=float(config.get("stream_open_timeout_s")),
        full_s=float(config.value("stream_full_every_s", full_every)))
    if cfg.every < 0:
        raise UsageError("--save-every must be at least 0", field="save_every")
    if cfg.base_s < 0 or cfg.cap_s < 0:
        raise UsageError("the reconnect backoff (stream_reconnect_base_s, "
                         "stream_reconnect_cap_s) must not be negative")
    if cfg.full_s < 0:
        raise UsageError("--full-every must be at least 0", field="full_every")
    return cfg


def _source(store, url: str | None, cols: list[str], wanted: list[str], firehose: bool,
            batch_events: int | None, on_batch: Callable[[dict], None]) -> tuple:
    """Where a watch connects and how a message becomes events: ``(applier, start_at,
    url_at, feed, dropped)`` for Jetstream (JSON, its cursor a time) or the firehose
    (CBOR frames, its cursor the host's seq)."""
    if firehose:
        from .firehose import FirehoseError, firehose_url, frame_events, source_name
        applier = StreamApplier(store, source=source_name(url), batch_events=batch_events,
                                on_batch=on_batch)

        def feed(msg) -> None:
            seq, events = frame_events(msg, cols, wanted)
            for ev in events:
                applier.add(ev, cursor=seq)
        # the host replays from after its seq
        return (applier, lambda cursor: cursor, lambda cursor: firehose_url(url, cursor),
                feed, (FirehoseError,))
    applier = StreamApplier(store, batch_events=batch_events, on_batch=on_batch)
    return (applier, resume_cursor, lambda cursor: jetstream_url(url, cols, wanted, cursor),
            applier.add, ())


def _connection(full: str, cfg: WatchSettings, feed: Callable, dropped: tuple, applier,
                st: dict, stop: threading.Event, max_events: int | None) -> str | None:
    """One connection: read messages into ``feed``, applying a batch every
    ``cfg.batch_s`` seconds, until stopped, ``max_events`` or a drop; returns why it
    dropped (None when it was stopped or had enough)."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect
    try:
        ws = connect(full, open_timeout=cfg.open_s, max_size=None, proxy=None)
    except InvalidURI as exc:
        raise UsageError(f"not a websocket URL: {exc}", field="url") from exc
    except (OSError, InvalidHandshake) as exc:  # TimeoutError is an OSError
        return _why(exc)
    try:
        last = time.monotonic()
        while max_events is None or st["messages"] < max_events:
            if stop.is_set():
                return None
            wait = max(cfg.batch_s - (time.monotonic() - last), 0.01)
            try:
                msg = ws.recv(timeout=min(wait, 0.5))
            except TimeoutError:
                msg = None
            except (ConnectionClosed, OSError) as exc:
                return _why(exc)
            if msg is not None:
                st["messages"] += 1
                try:
                    feed(msg)
                except dropped as exc:     # an error frame: reconnect
                    return str(exc)
            if time.monotonic() - last >= cfg.batch_s:
                applier.flush_due()
                last = time.monotonic()
        return None
    finally:
        ws.close()


class _Scoring:
    """What a watch does with the scores: observe each batch, re-score (or refit) when
    due, and save the scores as the run of kind ``stream`` when due and at the end."""

    def __init__(self, store, scorer, refit, cfg: WatchSettings, params: dict) -> None:
        self.store, self.scorer, self.refit, self.cfg, self.params = (store, scorer, refit,
                                                                      cfg, params)
        self.started = datetime.now(timezone.utc)
        now = time.monotonic()
        self.since, self.rescores, self.refits, self.saves, self.run_id = 0, 0, 0, 0, None
        self.t_scored = self.t_saved = self.t_fit = now

    def observe(self, res: dict, applier) -> None:
        self.since += res["events"]
        if self.scorer is None:
            return
        self.scorer.observe(res)
        if (self.since >= self.cfg.n_rescore
                or time.monotonic() - self.t_scored >= self.cfg.t_rescore):
            self.rescore()
            if time.monotonic() - self.t_saved >= self.cfg.every:
                self.save(applier, final=False)

    def rescore(self) -> None:
        if (self.refit is not None and self.cfg.full_s > 0
                and time.monotonic() - self.t_fit >= self.cfg.full_s):
            self.scorer = self.refit()           # the store holds every applied batch
            self.refits += 1
            self.t_fit = time.monotonic()
        else:
            self.scorer.rescore()
        self.since = 0
        self.rescores += 1
        self.t_scored = time.monotonic()

    def save(self, applier, final: bool) -> None:
        import numpy as np
        run = {"accounts": int(self.scorer.n), "events": applier.applied,
               "cursor": applier.cursor, "rescores": self.rescores, "saves": self.saves + 1,
               "final": final}
        self.run_id = self.store.save_stream_run(
            self.run_id, self.params, run, np.asarray(self.scorer.uids).astype(np.int32),
            self.scorer.scores(), started_at=self.started)
        self.saves += 1
        self.t_saved = time.monotonic()

    def finish(self, applier) -> bool:
        """The last re-score and save; False when Ctrl-C cut it short."""
        if self.scorer is None:
            return True
        try:
            if getattr(self.scorer, "pending", 1):
                self.rescore()
            self.save(applier, final=True)
        except KeyboardInterrupt:
            return False
        return True

    def summary(self) -> dict:
        return {"rescores": self.rescores, "saves": self.saves, "run_id": self.run_id,
                "refits": self.refits}
