"""The AT Protocol firehose (``com.atproto.sync.subscribeRepos``) as stream events.

A relay or a PDS publishes every repository change over a websocket as binary frames.
Each frame is two DAG-CBOR objects back to back: a header ``{"op": 1, "t": "#commit"}``
(``op: -1`` for an error frame) and a body. A ``#commit`` body names the repository
(``repo``), its sequence number (``seq``, the cursor to resume from), the commit time
(``time``) and its operations (``ops``: ``{"action", "path", "cid"}``, the path being
``collection/rkey``), and carries the new records' blocks as a CAR file (``blocks``).
``#identity``, ``#account`` and ``#sync`` frames move the cursor and change nothing here.

:func:`frame_events` decodes one frame (with ``libipld``, the maintained Rust-backed
DAG-CBOR and CAR decoder that the ``atproto`` SDK uses) into messages in the shape of
Jetstream's, so the same :class:`~trueclout.stream.apply.StreamApplier` applies them; the
cursor is the frame's ``seq``, and the events' time the commit's ``time``. A follow,
like or repost record is looked up in the CAR blocks by its CID; a delete carries only
its path, which ``record_subjects`` resolves. Nothing in a frame raises: a frame that
cannot be decoded is one ``malformed`` event, a commit too big to carry its blocks is
``too_big``; an error frame raises :class:`FirehoseError` (the connection is then
treated as dropped and reconnected from the cursor).

Examples
--------
>>> import libipld
>>> frame = (libipld.encode_dag_cbor({"op": 1, "t": "#identity"})
...          + libipld.encode_dag_cbor({"did": "did:plc:a", "seq": 7,
...                                     "time": "2024-05-01T00:00:00Z"}))
>>> seq, events = frame_events(frame)
>>> seq, events[0]["kind"], events[0]["time_us"]
(7, 'identity', 1714521600000000)
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlencode, urlsplit

from .. import config
from ..errors import TruecloutError
from .apply import APPLIED

#: The XRPC method of the firehose.
METHOD = "com.atproto.sync.subscribeRepos"


class FirehoseError(TruecloutError):
    """An error frame (``op: -1``): ``error`` (e.g. ``FutureCursor``,
    ``ConsumerTooSlow``) and ``message``.

    Examples
    --------
    >>> str(FirehoseError("FutureCursor", "cursor in the future"))
    'firehose error FutureCursor: cursor in the future'
    """

    def __init__(self, error: str, message: str | None = None) -> None:
        super().__init__(f"firehose error {error}: {message or ''}".rstrip(": "))
        self.error = error


def firehose_url(base: str | None = None, cursor: int | None = None) -> str:
    """The subscription URL of ``base`` (a relay or PDS host, ``ws(s)://`` or
    ``http(s)://``; setting ``stream_firehose_url``), resuming after ``cursor``.

    Examples
    --------
    >>> firehose_url("http://localhost:2583", 41)
    'ws://localhost:2583/xrpc/com.atproto.sync.subscribeRepos?cursor=41'
    >>> firehose_url("wss://relay.example/xrpc/com.atproto.sync.subscribeRepos")
    'wss://relay.example/xrpc/com.atproto.sync.subscribeRepos'
    """
    base = str(config.value("stream_firehose_url", base)).rstrip("/")
    if base.startswith("http://") or base.startswith("https://"):
        base = "ws" + base[4:]
    if f"/xrpc/{METHOD}" not in base:
        base += f"/xrpc/{METHOD}"
    return base if cursor is None else f"{base}?{urlencode({'cursor': int(cursor)})}"


def source_name(url: str | None = None) -> str:
    """The name of a firehose in ``stream_state``: its cursor (``seq``) is the host's own.

    Examples
    --------
    >>> source_name("wss://bsky.network")
    'bluesky-firehose bsky.network'
    """
    return "bluesky-firehose " + (urlsplit(firehose_url(url)).netloc or "?")


def _time_us(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return int(round(t.timestamp() * 1_000_000))


def frame_events(frame: bytes, collections: Iterable[str] = APPLIED,
                 dids: Iterable[str] = ()) -> tuple[int | None, list[dict]]:
    """Decode one firehose frame: ``(seq, messages)``, the messages in Jetstream's shape
    (``did``, ``time_us``, ``kind``, ``commit``: ``operation``, ``collection``, ``rkey``,
    ``record``). Operations on other ``collections``, or by repositories not in
    ``dids`` (when given), come out as ``kind: "filtered"`` messages (counted, not
    applied), so that every frame moves the cursor.

    Raises
    ------
    FirehoseError
        The frame is an error frame.

    Examples
    --------
    >>> import libipld
    >>> rec = {"$type": "app.bsky.graph.follow", "subject": "did:plc:b",
    ...        "createdAt": "2024-05-01T00:00:00Z"}
    >>> cid = libipld.decode_cid("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm")
    >>> frame = libipld.encode_dag_cbor({"op": 1, "t": "#commit"}) + libipld.encode_dag_cbor(
    ...     {"seq": 9, "repo": "did:plc:a", "time": "2024-05-01T00:00:01Z", "tooBig": False,
    ...      "blocks": b"", "ops": [{"action": "delete", "cid": None,
    ...                             "path": "app.bsky.graph.follow/3k"}]})
    >>> seq, (ev,) = frame_events(frame)
    >>> seq, ev["commit"]["operation"], ev["commit"]["rkey"], ev["did"]
    (9, 'delete', '3k', 'did:plc:a')
    >>> frame_events(b"junk")[1][0]["kind"]
    'malformed'
    """
    import libipld
    try:
        parts = libipld.decode_dag_cbor_multi(frame)
        header, body = parts[0], parts[1]
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise ValueError("a frame is two maps")
    except (ValueError, TypeError, IndexError) as exc:
        return None, [{"kind": "malformed", "error": str(exc)}]
    if header.get("op") == -1:
        raise FirehoseError(str(body.get("error") or "error"), body.get("message"))
    seq = body.get("seq") if isinstance(body.get("seq"), int) else None
    t = _time_us(body.get("time"))
    kind = str(header.get("t") or "").lstrip("#") or "malformed"
    if kind != "commit":
        return seq, [{"kind": kind, "time_us": t}]
    repo = body.get("repo")
    if body.get("tooBig"):
        return seq, [{"kind": "too_big", "time_us": t}]
    wanted = set(collections)
    only = set(dids)
    blocks: dict = {}
    ops = body.get("ops") if isinstance(body.get("ops"), list) else []
    if any(isinstance(op, dict) and op.get("action") != "delete" for op in ops):
        try:
            blocks = libipld.decode_car(body.get("blocks") or b"")[1]
        except (ValueError, TypeError) as exc:
            return seq, [{"kind": "malformed", "time_us": t, "error": str(exc)}]
    out: list[dict] = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            out.append({"kind": "malformed", "time_us": t})
            continue
        collection, _, rkey = op["path"].partition("/")
        if collection not in wanted or (only and repo not in only):
            out.append({"kind": "filtered", "time_us": t})
            continue
        commit: dict[str, Any] = {"operation": op.get("action"), "collection": collection,
                                  "rkey": rkey}
        if op.get("action") != "delete":
            commit["record"] = blocks.get(op.get("cid"))
        out.append({"did": repo, "time_us": t, "kind": "commit", "commit": commit})
    if not out:                         # a commit with no operations still moves the cursor
        out.append({"kind": "empty_commit", "time_us": t})
    return seq, out
