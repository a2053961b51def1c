"""Privacy: keyed pseudonyms, the pseudonym key file, the report index and aggregate-only
reports.

**Pseudonyms.** A pseudonym is ``HMAC-SHA256(key, kind ␟ platform ␟ value)``, cut to its
first ``pseudonym_bits`` (80) bits and written in lower-case base32 after a one-letter
prefix that says what it stands for: ``u`` an account id, ``h`` a handle, ``p`` a post
id (``u_5m2k...``, 18 characters, URL-safe). The same key always gives the same
pseudonym, so follows, posts and interactions still join; without the key a pseudonym
cannot be reversed or recomputed from a guessed handle. Handles are case-folded and lose
a leading ``@`` before hashing (platforms treat them case-insensitively).

**The key** lives outside the store, in a key file: ``pseudonym_key_file`` (environment
``TRUECLOUT_PSEUDONYM_KEY_FILE``), by default ``pseudonym.key`` in the user's config
folder (``$XDG_CONFIG_HOME/trueclout`` or ``~/.config/trueclout``). It is 32 random bytes,
written as hex on first use with permissions 0600; a key file readable by others is
refused. The store records only the key's id (an HMAC of a fixed string, 64 bits) so it
can refuse a second key, and :func:`key_id` lets anyone holding the key check it.

**Mapping a table.** :meth:`Pseudonymizer.map_batch` (also the instance's ``__call__``)
maps one Arrow batch or table of a domain table, in the ingest schema of
:mod:`trueclout.model` (string ids) or any subset of its columns, before it is written:

=================  =====================================================================
column             becomes
=================  =====================================================================
account_id, src,   the account pseudonym (``u_...``)
dst, author
handle, mentions   the handle pseudonym (``h_...``)
post_id, reply_to, the post pseudonym (``p_...``); post ids can name their author (AT URIs
quote_of           hold the author's DID) or be looked up on the platform
name, description, dropped (null)
url, location,
extra
text               dropped, or with ``pseudonym_text = "scrub"`` kept with every
                   ``@mention`` pseudonymised and every URL replaced by ``<url>``
everything else    kept (platform, times, counts, flags, lang, hashtags, labels, terms)
=================  =====================================================================

A row's ``_error`` message keeps its wording with the row's original ids replaced by
their pseudonyms (the rejected row's columns are already pseudonymised when they are
recorded in ``rejects``).

Writers call it on every batch: ``trueclout ingest --pseudonymize`` passes a
:class:`Pseudonymizer` as the ``transform`` of :func:`trueclout.ingest.run.ingest`, and a
crawler or stream does ``batch = pz(table, batch)`` (or wraps its chunks with
:meth:`Pseudonymizer.chunks`) before :meth:`trueclout.store.Store.load`; it must also
store raw JSON bodies as null and key raw records by :meth:`Pseudonymizer.record_id`.

**The report index.** Report writers record each file they write, with the accounts it
names, in ``<store>.reports`` beside the store (:func:`record_report`), so that
``trueclout forget`` can delete the reports that name a forgotten account
(:func:`forget_reports`); it also scans folders it is given.

**Aggregate-only reports.** :func:`aggregate_only` removes every per-account row (names,
handles, ids of followers or of ranked accounts) from an audit or an influence report and
keeps the aggregates with their confidence intervals.

Examples
--------
>>> pz = Pseudonymizer(b"k" * 32)
>>> pz.account("bluesky", "did:plc:abc") == pz.account("bluesky", "did:plc:abc")
True
>>> pz.account("bluesky", "did:plc:abc")[:2], len(pz.account("bluesky", "did:plc:abc"))
('u_', 18)
>>> Pseudonymizer(b"j" * 32).account("bluesky", "did:plc:abc") != pz.account(
...     "bluesky", "did:plc:abc")
True
>>> pz.handle("x", "@Alice") == pz.handle("x", "alice")
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from . import config
from .errors import InputError, UnknownAccountError, UsageError

#: Prefix of each kind of pseudonym.
PREFIXES = {"account": "u_", "handle": "h_", "post": "p_"}

#: Columns of the domain tables and the kind of pseudonym each gets.
ID_COLUMNS: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "account", "handle": "handle"},
    "profile_snapshots": {"account_id": "account"},
    "follows": {"src": "account", "dst": "account"},
    "posts": {"post_id": "post", "author": "account", "reply_to": "post",
              "quote_of": "post"},
    "interactions": {"src": "account", "dst": "account", "post_id": "post"},
    "labels": {"account_id": "account"},
    "account_terms": {"account_id": "account"},
}

#: Columns dropped (set to null) in each table.
DROP_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("name", "description", "url", "location", "extra"),
}

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)


# -- the key -------------------------------------------------------------------------------
def key_path(path: str | os.PathLike | None = None) -> Path:
    """The pseudonym key file: ``path``, else the setting ``pseudonym_key_file``
    (``TRUECLOUT_PSEUDONYM_KEY_FILE``), else ``pseudonym.key`` in the user's config folder.

    Examples
    --------
    >>> key_path("/tmp/x.key").name
    'x.key'
    >>> key_path().name == "pseudonym.key" or bool(config.get("pseudonym_key_file"))
    True
    """
    if path is not None and str(path):
        return Path(path).expanduser()
    configured = str(config.get("pseudonym_key_file") or "")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "trueclout" / "pseudonym.key"


def load_key(path: str | os.PathLike | None = None, *, create: bool = True) -> bytes:
    """The pseudonym key from its key file (see :func:`key_path`), created on first use.

    A new key is ``pseudonym_key_bytes`` (32) random bytes written as hex, the file
    created with permissions 0600 (its folder 0700). A key file that others may read, or
    that does not hold at least 16 bytes of hex, is refused.

    Parameters
    ----------
    path : path, optional
        The key file; default :func:`key_path`.
    create : bool
        Create the key when the file does not exist (else :class:`UsageError`).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "sub", "k.key")
    >>> k = load_key(p)
    >>> len(k), load_key(p) == k, oct(os.stat(p).st_mode & 0o777)
    (32, True, '0o600')
    """
    p = key_path(path)
    if not p.exists():
        if not create:
            raise UsageError(f"pseudonym key file {p} does not exist")
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(int(config.get("pseudonym_key_bytes")))
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: read theirs
            return load_key(p, create=False)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        return key
    if p.is_dir():
        raise UsageError(f"pseudonym key file {p} is a folder")
    mode = p.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"pseudonym key file {p} is open to other users (mode "
                         f"{oct(mode & 0o777)}); run: chmod 600 {p}")
    text = p.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"pseudonym key file {p} does not hold a hex key", path=str(p)) from None
    if len(key) < 16:
        raise InputError(f"pseudonym key file {p} holds {len(key)} bytes; at least 16 are "
                         "needed", path=str(p))
    return key


def key_id(key: bytes) -> str:
    """The key's public id: 16 hex digits of ``HMAC(key, "trueclout key id")``. It names the
    key in the store and in load records without revealing it.

    Examples
    --------
    >>> key_id(b"k" * 32) == key_id(b"k" * 32), key_id(b"k" * 32) != key_id(b"j" * 32)
    (True, True)
    >>> len(key_id(b"k" * 32))
    16
    """
    return hmac.new(key, b"trueclout key id", hashlib.sha256).hexdigest()[:16]


# -- pseudonyms -----------------------------------------------------------------------------
class Pseudonymizer:
    """Keyed pseudonyms of accounts, handles and posts, and the mapping of domain tables.

    Parameters
    ----------
    key : bytes
        The secret key (see :func:`load_key`); at least 16 bytes.
    text : {"drop", "scrub"}, optional
        What becomes of post text (default setting ``pseudonym_text``).
    bits : int, optional
        Bits of the HMAC kept (default setting ``pseudonym_bits``; a multiple of 40 gives
        base32 without padding).

    Attributes
    ----------
    key_id : str
        The key's public id (:func:`key_id`).
    tag : str
        ``"pseudonym:<key_id>"``: recorded with each load (it keeps a pseudonymised load
        of a file apart from a plain one in the store's already-loaded check).

    Examples
    --------
    >>> from trueclout.model import conform
    >>> pz = Pseudonymizer(b"k" * 32)
    >>> b = conform("follows", {"platform": ["x", "x"], "src": ["a", "b"],
    ...                         "dst": ["b", "a"]}, 2)
    >>> m = pz("follows", b)
    >>> m.column("src")[0].as_py() == pz.account("x", "a") == m.column("dst")[1].as_py()
    True
    >>> m.schema == b.schema
    True
    """

    def __init__(self, key: bytes, *, text: str | None = None, bits: int | None = None) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise UsageError("a pseudonym key must be at least 16 bytes")
        self._mac = hmac.new(bytes(key), digestmod=hashlib.sha256)
        self.key_id = key_id(bytes(key))
        self.tag = f"pseudonym:{self.key_id}"
        self.text = str(config.value("pseudonym_text", text))
        if self.text not in ("drop", "scrub"):
            raise UsageError(f"pseudonym_text must be 'drop' or 'scrub', not {self.text!r}")
        bits = int(config.value("pseudonym_bits", bits))
        if bits < 40 or bits > 256 or bits % 8:
            raise UsageError("pseudonym_bits must be a multiple of 8 from 40 to 256")
        self._bytes = bits // 8

    @classmethod
    def from_key_file(cls, path: str | os.PathLike | None = None, *, create: bool = True,
                      **kwargs: Any) -> "Pseudonymizer":
        """A pseudonymizer with the key of ``path`` (default :func:`key_path`).

        Examples
        --------
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "k.key")
        >>> Pseudonymizer.from_key_file(p).key_id == Pseudonymizer.from_key_file(p).key_id
        True
        """
        return cls(load_key(path, create=create), **kwargs)

    # -- single values --------------------------------------------------------------------
    def pseudonym(self, kind: str, platform: str, value: str) -> str:
        """The pseudonym of ``value`` of ``kind`` (account, handle or post) on ``platform``.

        Examples
        --------
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> pz.pseudonym("post", "x", "1")[:2]
        'p_'
        >>> pz.pseudonym("account", "x", "1") != pz.pseudonym("account", "y", "1")
        True
        """
        if kind not in PREFIXES:
            raise UsageError(f"unknown pseudonym kind {kind!r}")
        if kind == "handle":
            value = value.strip().lstrip("@").lower()
        h = self._mac.copy()
        h.update(f"{kind}\x1f{platform}\x1f{value}".encode("utf-8", "surrogatepass"))
        digest = h.digest()[:self._bytes]
        return PREFIXES[kind] + base64.b32encode(digest).decode("ascii").rstrip("=").lower()

    def account(self, platform: str, account_id: str) -> str:
        """The pseudonym of an account id.

        Examples
        --------
        >>> Pseudonymizer(b"k" * 32).account("x", "42").startswith("u_")
        True
        """
        return self.pseudonym("account", platform, account_id)

    def handle(self, platform: str, handle: str) -> str:
        """The pseudonym of a handle (case-folded, without ``@``).

        Examples
        --------
        >>> Pseudonymizer(b"k" * 32).handle("x", "Bob").startswith("h_")
        True
        """
        return self.pseudonym("handle", platform, handle)

    def post(self, platform: str, post_id: str) -> str:
        """The pseudonym of a post id (or of any record id, see :meth:`record_id`).

        Examples
        --------
        >>> Pseudonymizer(b"k" * 32).post("x", "9").startswith("p_")
        True
        """
        return self.pseudonym("post", platform, post_id)

    record_id = post

    def is_pseudonym(self, value: str | None) -> bool:
        """Whether ``value`` has the shape of a pseudonym of this pseudonymizer.

        Examples
        --------
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> pz.is_pseudonym(pz.account("x", "a")), pz.is_pseudonym("alice")
        (True, False)
        """
        if not value or value[:2] not in PREFIXES.values():
            return False
        return len(value) == 2 + len(base64.b32encode(b"\0" * self._bytes).rstrip(b"="))

    def scrub_text(self, platform: str, text: str | None) -> str | None:
        """``text`` with each ``@mention`` pseudonymised and each URL replaced by ``<url>``.

        Examples
        --------
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> t = pz.scrub_text("x", "hi @Bob see https://ex.com/a")
        >>> t == "hi @" + pz.handle("x", "bob") + " see <url>"
        True
        """
        if text is None:
            return None
        text = _URL.sub("<url>", text)
        return _MENTION.sub(lambda m: "@" + self.handle(platform, m.group(1)), text)

    # -- columns and tables ---------------------------------------------------------------
    def _map_column(self, kind: str, platforms: pa.Array, values: pa.Array) -> pa.Array:
        """Map a string column, once per distinct (platform, value)."""
        if values.null_count == len(values):
            return values
        plat = pc.fill_null(platforms.cast(pa.string()), "")
        joined = pc.binary_join_element_wise(plat, values.cast(pa.string()), "\x1f")
        enc = joined.dictionary_encode()        # a null value stays null
        pairs = [d.split("\x1f", 1) for d in enc.dictionary.to_pylist()]
        mapped = pa.array([self.pseudonym(kind, p, v) for p, v in pairs], pa.string())
        return mapped.take(enc.indices)

    def map_batch(self, table: str, data: pa.RecordBatch | pa.Table
                  ) -> pa.RecordBatch | pa.Table:
        """Pseudonymise one batch (or table) of domain table ``table``; see the module
        docstring for what each column becomes. Columns the batch lacks are skipped, the
        schema is kept, and a table the module does not know is returned unchanged.

        Parameters
        ----------
        table : str
            ``accounts``, ``profile_snapshots``, ``follows``, ``posts``, ``interactions``,
            ``labels`` or ``account_terms``.
        data : pyarrow.RecordBatch or pyarrow.Table
            String ids, with a ``platform`` column (else the platform is taken as empty).

        Examples
        --------
        >>> from trueclout.model import conform
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> b = conform("accounts", {"platform": ["x"], "account_id": ["7"],
        ...                          "handle": ["Ann"], "name": ["Ann Lee"]}, 1)
        >>> m = pz.map_batch("accounts", b)
        >>> m.column("handle")[0].as_py() == pz.handle("x", "ann"), m.column("name")[0].as_py()
        (True, None)
        """
        if table not in ID_COLUMNS:
            return data
        is_batch = isinstance(data, pa.RecordBatch)
        tbl = pa.Table.from_batches([data]) if is_batch else data
        tbl = tbl.combine_chunks()
        n = tbl.num_rows
        if n == 0:
            return data
        names = tbl.column_names
        platforms = (tbl.column("platform").combine_chunks() if "platform" in names
                     else pa.array([""] * n, pa.string()))
        columns = {c: tbl.column(c).combine_chunks() for c in names}
        originals: dict[str, list] = {}
        for col, kind in ID_COLUMNS[table].items():
            if col in columns:
                originals[col] = columns[col]
                columns[col] = self._map_column(kind, platforms, columns[col]).cast(
                    tbl.schema.field(col).type)
        for col in DROP_COLUMNS.get(table, ()):
            if col in columns:
                columns[col] = pa.nulls(n, tbl.schema.field(col).type)
        if table == "posts":
            plats = platforms.to_pylist()
            if "mentions" in columns:
                ms = columns["mentions"].to_pylist()
                columns["mentions"] = pa.array(
                    [None if m is None else [None if h is None else self.handle(p or "", h)
                                             for h in m] for p, m in zip(plats, ms)],
                    tbl.schema.field("mentions").type)
            if "text" in columns:
                if self.text == "drop":
                    columns["text"] = pa.nulls(n, tbl.schema.field("text").type)
                else:
                    columns["text"] = pa.array(
                        [self.scrub_text(p or "", t)
                         for p, t in zip(plats, columns["text"].to_pylist())], pa.string())
        if "_error" in columns and columns["_error"].null_count < n:
            columns["_error"] = self._scrub_errors(table, platforms, columns["_error"],
                                                   originals, columns)
        out = pa.Table.from_arrays([columns[c] for c in names], schema=tbl.schema)
        if is_batch:
            batches = out.to_batches()
            return batches[0] if len(batches) == 1 else out.combine_chunks().to_batches()[0]
        return out

    __call__ = map_batch

    def _scrub_errors(self, table: str, platforms: pa.Array, errors: pa.Array,
                      originals: dict[str, pa.Array], mapped: dict[str, pa.Array]) -> pa.Array:
        """Replace a refused row's original ids in its error message by their pseudonyms."""
        errs = errors.to_pylist()
        rows = [i for i, e in enumerate(errs) if e is not None]
        for col, orig in originals.items():
            ov, mv = orig.to_pylist(), mapped[col].to_pylist()
            for i in rows:
                if ov[i] and errs[i] and str(ov[i]) in errs[i]:
                    errs[i] = errs[i].replace(str(ov[i]), str(mv[i]))
        return pa.array(errs, pa.string())

    def chunks(self, chunks: Iterable) -> Iterator:
        """Wrap an iterable of :class:`trueclout.ingest.base.Chunk`: each is pseudonymised.

        Examples
        --------
        >>> from trueclout.ingest.base import Chunk
        >>> from trueclout.model import conform
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> b = conform("labels", {"platform": ["x"], "account_id": ["a"], "label": ["bot"]}, 1)
        >>> [c] = pz.chunks([Chunk("labels", b, "l.csv")])
        >>> c.batch.column("account_id")[0].as_py() == pz.account("x", "a")
        True
        """
        from .ingest.base import Chunk
        for c in chunks:
            yield Chunk(c.table, self.map_batch(c.table, c.batch), c.source)

    def candidates(self, spec: str, platforms: Iterable[str]) -> tuple[list[str], list[str]]:
        """The pseudonyms ``spec`` may stand for on ``platforms``: (account ids, handles).

        ``spec`` is an account id, ``@handle`` or ``platform:account_id`` as the user
        knows it; ``trueclout forget`` looks these up in a pseudonymised store.

        Examples
        --------
        >>> pz = Pseudonymizer(b"k" * 32)
        >>> ids, hs = pz.candidates("x:42", ["x"])
        >>> pz.account("x", "42") in ids, pz.account("x", "x:42") in ids, len(hs)
        (True, True, 1)
        """
        spec = spec.strip()
        ids: list[str] = []
        handles: list[str] = []
        plats = list(platforms)
        for p in plats:
            if not spec.startswith("@"):
                ids.append(self.account(p, spec))
            handles.append(self.handle(p, spec))
        if ":" in spec and not spec.startswith("@"):
            p, rest = spec.split(":", 1)
            ids.append(self.account(p, rest))
        return ids, handles


# -- forgetting ---------------------------------------------------------------------------
def resolve_forget(store, spec: str, *, platform: str | None = None,
                   pseudonymizer: "Pseudonymizer | None" = None) -> list[dict]:
    """The accounts of ``store`` that ``spec`` names, for ``trueclout forget``.

    ``spec`` is ``platform:account_id``, an account id or ``@handle`` as stored; in a
    pseudonymised store (with its ``pseudonymizer``) also the original id or handle,
    mapped through the key. Raises :class:`UsageError` when nothing, or more than one
    account, matches.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> from trueclout.model import conform
    >>> from trueclout.ingest.base import Chunk
    >>> pz = Pseudonymizer(b"k" * 32)
    >>> s = Store(":memory:")
    >>> b = conform("follows", {"platform": ["x"], "src": ["a"], "dst": ["b"]}, 1)
    >>> _ = s.load(pz.chunks([Chunk("follows", b, "f")]), source="f", fmt="edgelist",
    ...            content_hash="h")
    >>> [a] = resolve_forget(s, "a", pseudonymizer=pz)
    >>> a["account_id"] == pz.account("x", "a")
    True
    >>> resolve_forget(s, "a")
    Traceback (most recent call last):
    ...
    trueclout.errors.UnknownAccountError: no account 'a' in the store (give platform:account_id, an account id or @handle)
    """
    spec = spec.strip()
    if not spec:
        raise UsageError("give an account: platform:account_id, an account id or @handle")
    ids = [] if spec.startswith("@") else [spec]
    handles = [spec]
    pairs: list[tuple[str, str]] = []
    if ":" in spec and not spec.startswith("@"):
        p, rest = spec.split(":", 1)
        pairs.append((p, rest))
    if pseudonymizer is not None:
        plats = [platform] if platform else store.account_platforms()
        more_ids, more_handles = pseudonymizer.candidates(spec, plats)
        ids += more_ids
        handles += more_handles
    found = store.find_accounts(ids, handles, pairs, platform=platform)
    if not found:
        raise UnknownAccountError(spec)
    if len(found) > 1:
        listed = ", ".join(f"{a['platform']}:{a['account_id']}" for a in found[:5])
        raise UsageError(f"{spec!r} names {len(found)} accounts ({listed}); give --platform "
                         "or platform:account_id")
    return found


# -- the report index -----------------------------------------------------------------------
def report_index(db: str | os.PathLike) -> Path:
    """The report index of the store ``db``: ``<db>.reports`` beside it (JSON lines).

    Examples
    --------
    >>> report_index("/data/t.duckdb").name
    't.duckdb.reports'
    """
    return Path(str(db) + ".reports")


def report_accounts(report: dict) -> list[str]:
    """The accounts a report names, as ``platform:account_id`` (an audit's subject; every
    ``account`` value of an influence report's rows).

    Examples
    --------
    >>> from trueclout.report.html import example_audit
    >>> report_accounts(example_audit())
    ['toy:42']
    >>> report_accounts({"rows": [{"account": "x:a"}, {"account": "x:b"}]})
    ['x:a', 'x:b']
    """
    found: list[str] = []
    acc = report.get("account") if isinstance(report, dict) else None
    if isinstance(acc, dict) and acc.get("account_id") is not None:
        found.append(f"{acc.get('platform')}:{acc.get('account_id')}")

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "account" and isinstance(v, str):
                    found.append(v)
                elif k == "account" and isinstance(v, list):
                    found.extend(str(a) for a in v if a is not None)
                elif k != "account":
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(report)
    return list(dict.fromkeys(found))


def record_report(db: str | os.PathLike | None, path: str | os.PathLike,
                  report: dict | None = None, *, accounts: Iterable[str] | None = None) -> bool:
    """Record a report file written from the store ``db`` in the store's report index.

    Nothing is recorded when ``db`` is not an existing store file (an in-memory store,
    an example). Returns whether it was recorded.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); db = os.path.join(d, "s.duckdb")
    >>> _ = open(db, "w").write("")
    >>> record_report(db, os.path.join(d, "a.html"), accounts=["x:a"])
    True
    >>> json.loads(report_index(db).read_text())["accounts"]
    ['x:a']
    >>> record_report(":memory:", "a.html", accounts=["x:a"])
    False
    """
    if db is None or str(db) == ":memory:" or not Path(db).is_file():
        return False
    names = list(accounts) if accounts is not None else report_accounts(report or {})
    entry = {"path": str(Path(path).resolve()), "accounts": names,
             "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(report_index(db), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    return True


def _file_names(text: str, tokens: list[str]) -> bool:
    for t in tokens:
        if not t:
            continue
        if re.search(r"(?<![\w.@:/-])" + re.escape(t) + r"(?![\w.-])", text):
            return True
    return False


def forget_reports(db: str | os.PathLike | None, accounts: list[dict],
                   folders: Iterable[str | os.PathLike] = (), *,
                   dry_run: bool = False) -> list[str]:
    """Delete the report files that name any of ``accounts``; return their paths.

    Two places are searched: the store's report index (:func:`report_index`; entries
    naming an account are removed from it, and their files deleted), and ``folders``
    (files or folders; every ``.html``, ``.json``, ``.md``, ``.csv`` and ``.txt`` file in
    them that names an account as ``platform:account_id``, as a JSON ``"account_id"``
    value, or as ``@handle``).

    Parameters
    ----------
    db : path or None
        The store the reports came from.
    accounts : list of dict
        Each with ``platform``, ``account_id`` and optionally ``handle``.
    folders : iterable of path
        Extra report files or folders to scan (``trueclout forget --reports``).
    dry_run : bool
        Only list the files.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "a.json"), "w").write('{"account": "x:al"}')
    >>> _ = open(os.path.join(d, "b.json"), "w").write('{"account": "x:alice"}')
    >>> [os.path.basename(p) for p in forget_reports(None, [
    ...     {"platform": "x", "account_id": "al", "handle": None}], [d])]
    ['a.json']
    """
    deleted: list[str] = []
    keys = {f"{a['platform']}:{a['account_id']}" for a in accounts}
    if db is not None and str(db) != ":memory:":
        idx = report_index(db)
        if idx.exists():
            keep: list[str] = []
            for line in idx.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    keep.append(line)
                    continue
                if keys & set(entry.get("accounts") or []):
                    p = Path(entry.get("path", ""))
                    if p.is_file():
                        if not dry_run:
                            p.unlink()
                        deleted.append(str(p))
                else:
                    keep.append(line)
            if not dry_run:
                tmp = idx.with_name(idx.name + ".tmp")
                tmp.write_text("".join(k + "\n" for k in keep), encoding="utf-8")
                os.replace(tmp, idx)
    tokens: list[str] = []
    for a in accounts:
        tokens.append(f"{a['platform']}:{a['account_id']}")
        tokens.append(f'"account_id": {json.dumps(a["account_id"])}')
        tokens.append(f'"account_id":{json.dumps(a["account_id"])}')
        if a.get("handle"):
            tokens.append("@" + str(a["handle"]))
            tokens.append(f'"handle": {json.dumps(a["handle"])}')
    files: list[Path] = []
    for f in folders:
        f = Path(f)
        if f.is_file():
            files.append(f)
        elif f.is_dir():
            files.extend(p for p in sorted(f.rglob("*")) if p.is_file()
                         and p.suffix.lower() in (".html", ".json", ".md", ".csv", ".txt"))
        else:
            raise UsageError(f"--reports {f}: no such file or folder")
    for p in files:
        if str(p.resolve()) in {str(Path(d).resolve()) for d in deleted}:
            continue
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _file_names(text, tokens):
            if not dry_run:
                p.unlink()
            deleted.append(str(p))
    return deleted


# -- aggregate-only reports ----------------------------------------------------------------
def aggregate_only(report: dict) -> dict:
    """A copy of an audit or influence report without any per-account row.

    An audit keeps its subject's platform and id (what the report is about) and loses its
    handle and name; its audience composition (with 95% intervals), engagement, growth,
    score and reasons are aggregates and are kept. An influence report keeps its counts,
    medians and shares and loses its ranking rows, fall rows, scatter points, overlap,
    plan and campaign (all named accounts). ``meta.aggregate_only`` is set.

    Examples
    --------
    >>> from trueclout.report.html import example_audit
    >>> a = aggregate_only(example_audit())
    >>> a["account"]["handle"], a["account"]["name"], a["meta"]["aggregate_only"]
    (None, None, True)
    >>> "lo" in a["audience"]["composition"]["real"]
    True
    """
    import copy
    r = copy.deepcopy(report)
    if "audience" in r and isinstance(r.get("account"), dict):
        acc = r["account"]
        for k in ("handle", "name"):
            acc[k] = None
        acc.pop("vertex", None)
        if isinstance(r.get("influence"), dict):
            r["influence"] = {k: v for k, v in r["influence"].items()
                              if not isinstance(v, (list, dict))}
    if "rankings" in r:
        for sec in r["rankings"].values():
            sec["rows"] = []
        if isinstance(r.get("fall"), dict):
            r["fall"]["rows"] = []
            r["fall"]["shown"] = 0
        if isinstance(r.get("scatter"), dict):
            sc = r["scatter"]
            for k in ("account", "x", "y", "bought"):
                sc[k] = []
            sc["points"] = 0
        for k in ("overlap", "plan", "campaign"):
            if k in r:
                r[k] = None
    r.setdefault("meta", {})
    if isinstance(r["meta"], dict):
        r["meta"]["aggregate_only"] = True
    return r
