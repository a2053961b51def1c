"""API keys, the check of a key, and rate limits (per key, and of failed attempts).

A key looks like ``tc_<prefix>_<secret>``: the 8-hex-digit prefix finds the key's row in
the store's ``api_keys`` table, and the secret is 32 random bytes (256 bits). The store
keeps only ``hmac_sha256$<salt>$<digest>``, the HMAC-SHA256 of the whole key under a
random 16-byte salt of its own (:func:`hash_key`), so a copy of the store gives no usable
key. A slow password hash would buy nothing against guessing 256 random bits, and it
would let anyone who knows a prefix make the server spend tens of milliseconds of CPU per
request; an HMAC costs about a microsecond, and the digests are compared in constant
time. Keys made before (``pbkdf2_sha256$...``) still work: such a hash is checked once,
its row rewritten to the HMAC form on that first success (:meth:`Keys.check`).

:class:`Keys` holds the whole (small) ``api_keys`` table in memory and reads it again
after ``api_key_cache_s`` seconds, or at most every ``api_key_reload_s`` seconds when a
request names a prefix it does not hold (a key made since). So checking a key, good or
bad, is a dictionary look-up and an HMAC on the server's event loop: no query, no thread.
A key made or revoked by this process (``DELETE /api/v1/keys/{prefix}``, a library
call) is seen at once (:func:`trueclout.store.keys.keys_generation`); a row changed behind
the server's back is seen within ``api_key_cache_s``.

Failed attempts are rate-limited (:class:`RateLimiter` buckets of
``api_auth_fail_burst`` refilled at ``api_auth_fail_per_s``), per client address and per
key prefix. Once an address's bucket is empty, every attempt from it answers 429 with
``Retry-After`` before any check, so the limit tells a guesser nothing; only a key that
succeeded within ``api_key_cache_s`` still passes from there. Once a prefix's bucket is
empty, wrong secrets for it answer 429 instead of 401, while the key itself still passes
(its check costs a microsecond), so guessing beside a key does not lock its owner out.

Requests send ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A ``read`` key may
read; writes (ingest, detection runs) need an ``admin`` key. Each key also has a token
bucket of requests (``api_rate_burst``, refilled at ``api_rate_per_s``).

Examples
--------
>>> from trueclout.store import Store
>>> store = Store(":memory:")
>>> key = create_key(store, "read")
>>> key.startswith("tc_")
True
>>> Keys(store).check(key)["scope"]
'read'
>>> Keys(store).check("tc_00000000_nope")
Traceback (most recent call last):
...
trueclout.api.errors.AuthError: unknown or revoked API key
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from typing import Any

from .. import config
from ..store.keys import keys_generation
from .errors import AuthError, ForbiddenError, RateLimitedError

#: The tag of the stored form of a key's hash.
HMAC_TAG = "hmac_sha256"
_LEGACY_TAG = "pbkdf2_sha256"
_DUMMY_SALT = bytes(16)


def _digest(key: str, salt: bytes) -> bytes:
    return hmac.new(salt, key.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def hash_key(key: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``key``: ``hmac_sha256$<salt hex>$<digest hex>``, the
    HMAC-SHA256 of the key under a random 16-byte salt.

    Examples
    --------
    >>> h = hash_key("tc_x_y", salt=b"0" * 16)
    >>> h.split("$")[0]
    'hmac_sha256'
    >>> verify_key("tc_x_y", h), verify_key("tc_x_z", h)
    (True, False)
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    return f"{HMAC_TAG}${salt.hex()}${_digest(key, salt).hex()}"


def is_legacy(stored: str) -> bool:
    """Whether a stored hash is of the older, slow form (PBKDF2), checked once and then
    rewritten.

    Examples
    --------
    >>> is_legacy("pbkdf2_sha256$10$00$00"), is_legacy(hash_key("k"))
    (True, False)
    """
    return stored.startswith(_LEGACY_TAG + "$")


def verify_key(key: str, stored: str) -> bool:
    """Whether ``key`` matches the stored hash (the digests compared in constant time);
    the older PBKDF2 form is checked too.

    Examples
    --------
    >>> verify_key("a", "garbage")
    False
    >>> import hashlib
    >>> old = "pbkdf2_sha256$10$00$" + hashlib.pbkdf2_hmac("sha256", b"k", b"\\0", 10).hex()
    >>> verify_key("k", old), verify_key("j", old)
    (True, False)
    """
    try:
        parts = stored.split("$")
        if parts[0] == HMAC_TAG and len(parts) == 3:
            got = _digest(key, bytes.fromhex(parts[1]))
            return hmac.compare_digest(got, bytes.fromhex(parts[2]))
        if parts[0] == _LEGACY_TAG and len(parts) == 4:
            got = hashlib.pbkdf2_hmac("sha256", key.encode("utf-8", "surrogatepass"),
                                      bytes.fromhex(parts[2]), int(parts[1]))
            return hmac.compare_digest(got, bytes.fromhex(parts[3]))
    except ValueError:
        pass
    return False


def split_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None.

    Examples
    --------
    >>> split_key("tc_0a1b2c3d_secret"), split_key("hello")
    ('0a1b2c3d', None)
    """
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "tc" or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def create_key(store, scope: str) -> str:
    """Make a new key of ``scope`` (read or admin), store its hash, and return the key
    (the only time it is seen).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> s = Store(":memory:")
    >>> k = create_key(s, "admin")
    >>> s.api_keys()[0]["prefix"] == split_key(k)
    True
    """
    while True:
        prefix = secrets.token_hex(4)
        if store.api_key(prefix) is None:
            break
    key = f"tc_{prefix}_{secrets.token_urlsafe(32)}"
    store.add_api_key(prefix, hash_key(key), scope)
    return key


def key_from_headers(headers: Any) -> str | None:
    """The key of a request: ``Authorization: Bearer <key>`` or ``X-API-Key``.

    Examples
    --------
    >>> key_from_headers({"authorization": "Bearer tc_a_b"}), key_from_headers({})
    ('tc_a_b', None)
    """
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def _scope(row: dict, write: bool) -> dict:
    if write and row["scope"] != "admin":
        raise ForbiddenError("this request writes; it needs an admin key, not a read key")
    return row


def _tag(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, ``rate`` per second
    sustained. Full buckets are dropped once there are more than ``max_clients``, so
    clients that change names do not grow it without end.

    Examples
    --------
    >>> rl = RateLimiter(rate=1.0, burst=2)
    >>> rl.take(1, now=0.0), rl.take(1, now=0.0)
    (None, None)
    >>> rl.take(1, now=0.0)
    Traceback (most recent call last):
    ...
    trueclout.api.errors.RateLimitedError: rate limit of 1 requests/s (burst 2) exceeded; retry in 1 s
    >>> rl.take(1, now=1.0) is None
    True
    """

    what = "requests"

    def __init__(self, rate: float | None = None, burst: float | None = None, *,
                 max_clients: int | None = None) -> None:
        self.rate = float(config.get("api_rate_per_s") if rate is None else rate)
        self.burst = float(config.get("api_rate_burst") if burst is None else burst)
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.max_clients = int(config.value("api_rate_max_clients", max_clients))
        self._buckets: dict[Any, list[float]] = {}
        self._lock = threading.Lock()

    def _level(self, who: Any, now: float) -> list[float]:
        b = self._buckets.get(who)
        if b is None:
            if len(self._buckets) >= self.max_clients:
                self._prune(now)
            b = self._buckets[who] = [self.burst, now]
        b[0] = min(self.burst, b[0] + (now - b[1]) * self.rate)
        b[1] = now
        return b

    def _prune(self, now: float) -> None:
        full = [w for w, (lvl, t) in self._buckets.items()
                if lvl + (now - t) * self.rate >= self.burst]
        for w in full:
            del self._buckets[w]
        while len(self._buckets) >= self.max_clients:   # still full: the oldest go
            del self._buckets[next(iter(self._buckets))]

    def _refuse(self, level: float) -> RateLimitedError:
        wait = math.ceil((1.0 - level) / self.rate)
        return RateLimitedError(
            f"rate limit of {self.rate:g} {self.what}/s (burst {self.burst:g}) exceeded; "
            f"retry in {wait} s", retry_after=wait)

    def take(self, who: Any, *, now: float | None = None) -> None:
        """Spend one token of ``who``'s bucket; :class:`RateLimitedError` (with
        ``retry_after`` in whole seconds) when it is empty."""
        now = time.monotonic() if now is None else now
        with self._lock:
            b = self._level(who, now)
            if b[0] >= 1.0:
                b[0] -= 1.0
                return None
            level = b[0]
        raise self._refuse(level)

    def check(self, who: Any, *, now: float | None = None) -> None:
        """:class:`RateLimitedError` when ``who``'s bucket is empty, without spending.

        Examples
        --------
        >>> rl = RateLimiter(rate=1.0, burst=1)
        >>> rl.check("a", now=0.0), rl.take("a", now=0.0)
        (None, None)
        >>> rl.check("a", now=0.5)
        Traceback (most recent call last):
        ...
        trueclout.api.errors.RateLimitedError: rate limit of 1 requests/s (burst 1) exceeded; retry in 1 s
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            b = self._buckets.get(who)
            if b is None:
                return None
            level = min(self.burst, b[0] + (now - b[1]) * self.rate)
        if level < 1.0:
            raise self._refuse(level)
        return None


class FailedAttempts(RateLimiter):
    """The rate limit of failed key checks (buckets per client address and per prefix):
    ``api_auth_fail_burst`` failures at once, ``api_auth_fail_per_s`` sustained.

    Examples
    --------
    >>> fa = FailedAttempts(rate=0.1, burst=1)
    >>> fa.take(("addr", "1.2.3.4"), now=0.0)
    >>> fa.check(("addr", "1.2.3.4"), now=1.0)
    Traceback (most recent call last):
    ...
    trueclout.api.errors.RateLimitedError: rate limit of 0.1 failed key checks/s (burst 1) exceeded; retry in 9 s
    """

    what = "failed key checks"

    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        super().__init__(config.value("api_auth_fail_per_s", rate),
                         config.value("api_auth_fail_burst", burst))


class Keys:
    """Checks keys against a store's ``api_keys`` table, held in memory (see the module
    docstring), and rate-limits failed checks (:class:`FailedAttempts`).

    Parameters
    ----------
    store : Store or callable
        Read through :meth:`Store.api_key_rows`; a callable returning a store gives each
        thread its own cursor.
    failures : FailedAttempts, optional
        The limiter of failed checks (default: from config).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> Keys(Store(":memory:")).check(None)
    Traceback (most recent call last):
    ...
    trueclout.api.errors.AuthError: an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'
    """

    def __init__(self, store, *, failures: FailedAttempts | None = None) -> None:
        self._store = store
        self._rows: dict[str, dict] = {}
        self._loaded = float("-inf")          # time.monotonic() of the last read
        self._gen = -1                        # keys_generation() at the last read
        self._good: dict[str, tuple[float, str]] = {}   # sha256(key) -> (time, prefix)
        self._local: dict[str, dict] = {}     # keys of this process only (add_local)
        self._lock = threading.Lock()
        self.ttl = float(config.get("api_key_cache_s"))
        self.reload_s = float(config.get("api_key_reload_s"))
        self.failures = failures if failures is not None else FailedAttempts()

    def _get_store(self):
        return self._store() if callable(self._store) else self._store

    def reload(self) -> None:
        """Read the key table again (a query; the server's threads call it).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys = Keys(s); keys.reload(); split_key(create_key(s, "read")) in keys._rows
        False
        >>> keys.reload(); len(keys._rows)
        1
        """
        gen = keys_generation()
        rows = {r["prefix"]: r for r in self._get_store().api_key_rows()}
        rows.update(self._local)
        with self._lock:
            self._rows = rows
            self._loaded = time.monotonic()
            self._gen = gen

    def add_local(self, scope: str = "admin") -> str:
        """A new key that lives only in this process's memory (never in the store): the
        key ``trueclout serve`` writes in its lock file for the commands of the same user
        (:mod:`trueclout.store.holder`). It dies with the process.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> keys = Keys(Store(":memory:"))
        >>> k = keys.add_local()
        >>> keys.check(k, write=True)["scope"], keys.check(k)["key_id"]
        ('admin', -1)
        """
        with self._lock:
            while True:
                prefix = secrets.token_hex(4)
                if prefix not in self._rows and prefix not in self._local:
                    break
            key = f"tc_{prefix}_{secrets.token_urlsafe(32)}"
            row = {"key_id": -(len(self._local) + 1), "prefix": prefix,
                   "hash": hash_key(key), "scope": scope, "revoked": False}
            self._local[prefix] = row
            self._rows[prefix] = row
        return key

    def _stale(self, now: float) -> bool:
        return now - self._loaded >= self.ttl or self._gen != keys_generation()

    def check(self, key: str | None, *, write: bool = False,
              client: str | None = None) -> dict:
        """The key's row (key_id, prefix, scope); :class:`AuthError` without a valid key,
        :class:`ForbiddenError` for a write with a read key, :class:`RateLimitedError`
        once the failures of this ``client`` address or of this prefix are over their
        limit. Reads the key table when :meth:`check_cached` cannot answer.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> Keys(s).check(create_key(s, "read"), write=True)
        Traceback (most recent call last):
        ...
        trueclout.api.errors.ForbiddenError: this request writes; it needs an admin key, not a read key
        """
        row = self.check_cached(key, write=write, client=client)
        if row is not None:
            return row
        assert key is not None
        prefix = split_key(key)
        now = time.monotonic()
        if self._stale(now) or (prefix is not None and prefix not in self._rows):
            self.reload()
        found = self._rows.get(prefix) if prefix else None
        if found is not None and is_legacy(found["hash"]):
            self.failures.check(("prefix", prefix))
            if not found["revoked"] and verify_key(key, found["hash"]):
                stored = hash_key(key)      # the fast form from now on
                self._get_store().set_api_key_hash(found["key_id"], stored)
                with self._lock:
                    self._rows[prefix] = {**found, "hash": stored}
        return self._verify(key, prefix, client, write, now)

    def check_cached(self, key: str | None, *, write: bool = False,
                     client: str | None = None) -> dict | None:
        """:meth:`check` from memory: the same answers, or None when the key table must
        be read first (it is over ``api_key_cache_s`` old, or the prefix is unknown and
        the table was not read in the last ``api_key_reload_s``) or the key has the older
        slow hash. No query, no thread: the server's event loop calls it.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys, key = Keys(s), create_key(s, "read")
        >>> keys.check_cached(key) is None              # the table is not read yet
        True
        >>> keys.check(key)["scope"], keys.check_cached(key)["scope"]
        ('read', 'read')
        """
        if not key:
            raise AuthError("an API key is required: send 'Authorization: Bearer <key>' or "
                            "'X-API-Key: <key>'")
        now = time.monotonic()
        if self._stale(now):
            return None
        tag = _tag(key)
        hit = self._good.get(tag)
        if hit is not None and now - hit[0] < self.ttl:
            row = self._rows.get(hit[1])
            if row is not None and not row["revoked"]:
                self._good[tag] = (now, hit[1])
                return _scope(row, write)
        prefix = split_key(key)
        row = self._rows.get(prefix) if prefix else None
        if row is None and prefix is not None and now - self._loaded >= self.reload_s:
            return None                     # perhaps a key made since the last read
        if row is not None and is_legacy(row["hash"]):
            return None                     # the slow check belongs in a thread
        return self._verify(key, prefix, client, write, now)

    def _verify(self, key: str, prefix: str | None, client: str | None, write: bool,
                now: float) -> dict:
        if client is not None:
            self.failures.check(("addr", client))
        row = self._rows.get(prefix) if prefix else None
        if row is None or is_legacy(row["hash"]):
            _digest(key, _DUMMY_SALT)       # the same work whether the prefix exists or not
            ok = False
        else:
            ok = verify_key(key, row["hash"]) and not row["revoked"]
        if not ok:
            if row is not None:             # a guess at a real key's secret
                self.failures.check(("prefix", prefix))
            try:
                if client is not None:
                    self.failures.take(("addr", client), now=now)
                if row is not None:
                    self.failures.take(("prefix", prefix), now=now)
            except Exception:
                pass                         # this one is refused anyway; the next is 429
            raise AuthError("unknown or revoked API key")
        with self._lock:
            if len(self._good) >= self.failures.max_clients:
                self._good.clear()
            self._good[_tag(key)] = (now, row["prefix"])
        return _scope(row, write)

    def active(self, prefix: str) -> dict | None:
        """The row of the key with ``prefix`` when it exists and is not revoked (the
        table read again when it is over ``api_key_cache_s`` old), else None: a sign-in
        of the pages ends when its key is revoked.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys, key = Keys(s), create_key(s, "read")
        >>> keys.active(split_key(key))["scope"], keys.active("00000000")
        ('read', None)
        """
        if self._stale(time.monotonic()):
            self.reload()
        row = self._rows.get(prefix)
        return None if row is None or row["revoked"] else row

    def forget(self, prefix: str) -> None:
        """Mark the key with ``prefix`` revoked in memory, so it is refused at once even
        when its row was revoked where this process cannot see it (another cursor's
        open transaction, another process).

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys, key = Keys(s), create_key(s, "read")
        >>> keys.check(key)["scope"]
        'read'
        >>> keys.forget(split_key(key)); keys.check_cached(key)
        Traceback (most recent call last):
        ...
        trueclout.api.errors.AuthError: unknown or revoked API key
        """
        with self._lock:
            row = self._rows.get(prefix)
            if row is not None:
                self._rows[prefix] = {**row, "revoked": True}
            for tag in [t for t, (_, p) in self._good.items() if p == prefix]:
                del self._good[tag]
