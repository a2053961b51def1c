"""API keys and per-key rate limits.

A key looks like ``tc_<prefix>_<secret>``: the 8-hex-digit prefix finds the key's row in
the store's ``api_keys`` table, and the store keeps only a salted PBKDF2-HMAC-SHA256 hash
of the whole key (:func:`hash_key`), so a copy of the store gives no usable key. The key
itself is shown once, when it is made (``trueclout keys create``). Checking a hash costs
``api_key_pbkdf2_iterations`` rounds, so a checked key is remembered in memory (by its
SHA-256) for ``api_key_cache_s`` seconds. A key revoked through the API
(``DELETE /api/v1/keys/{prefix}``) is forgotten at once (:meth:`Keys.forget`); a key whose
row changed behind the server's back would keep working until its check is that old.

Requests send ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A ``read`` key may
read; writes (ingest, detection runs) need an ``admin`` key.

:class:`RateLimiter` is a token bucket per key, in memory: ``api_rate_burst`` tokens,
refilled at ``api_rate_per_s``; an empty bucket answers 429 with ``Retry-After``.

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
from .errors import AuthError, ForbiddenError, RateLimitedError


def hash_key(key: str, *, salt: bytes | None = None, iterations: int | None = None) -> str:
    """The stored form of ``key``: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``.

    Examples
    --------
    >>> h = hash_key("tc_x_y", salt=b"0" * 16, iterations=10)
    >>> h.split("$")[:2]
    ['pbkdf2_sha256', '10']
    >>> verify_key("tc_x_y", h), verify_key("tc_x_z", h)
    (True, False)
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    it = int(iterations or config.get("api_key_pbkdf2_iterations"))
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, it)
    return f"pbkdf2_sha256${it}${salt.hex()}${digest.hex()}"


def verify_key(key: str, stored: str) -> bool:
    """Whether ``key`` matches the stored hash (constant-time comparison).

    Examples
    --------
    >>> verify_key("a", "garbage")
    False
    """
    try:
        algo, it, salt, digest = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", key.encode(), bytes.fromhex(salt), int(it))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


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


class Keys:
    """Checks keys against a store, remembering checked keys for ``api_key_cache_s``.

    Parameters
    ----------
    store : Store
        Read through :meth:`Store.api_key`; give each thread its own cursor store (the
        caller passes a callable returning one, or a store).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> Keys(Store(":memory:")).check(None)
    Traceback (most recent call last):
    ...
    trueclout.api.errors.AuthError: an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'
    """

    def __init__(self, store) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()
        self.ttl = float(config.get("api_key_cache_s"))

    def _get_store(self):
        return self._store() if callable(self._store) else self._store

    def check(self, key: str | None, *, write: bool = False) -> dict:
        """The key's row (key_id, prefix, scope); :class:`AuthError` without a valid key,
        :class:`ForbiddenError` for a write with a read key.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> Keys(s).check(create_key(s, "read"), write=True)
        Traceback (most recent call last):
        ...
        trueclout.api.errors.ForbiddenError: this request writes; it needs an admin key, not a read key
        """
        row = self.check_cached(key, write=write)
        if row is None:
            assert key is not None
            now = time.monotonic()
            prefix = split_key(key)
            found = self._get_store().api_key(prefix) if prefix else None
            if found is None or found["revoked"] or not verify_key(key, found["hash"]):
                raise AuthError("unknown or revoked API key")
            row = {k: found[k] for k in ("key_id", "prefix", "scope")}
            with self._lock:
                self._cache[hashlib.sha256(key.encode()).hexdigest()] = (now, row)
            _scope(row, write)
        return row

    def check_cached(self, key: str | None, *, write: bool = False) -> dict | None:
        """:meth:`check` from memory only: the row of a key checked under
        ``api_key_cache_s`` seconds ago, None when the key needs its (slow, PBKDF2) check
        against the store; the same errors for a missing key or a read key that writes.
        Cheap enough for the server's event loop.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys, key = Keys(s), create_key(s, "read")
        >>> keys.check_cached(key) is None
        True
        >>> keys.check(key)["scope"], keys.check_cached(key)["scope"]
        ('read', 'read')
        """
        if not key:
            raise AuthError("an API key is required: send 'Authorization: Bearer <key>' or "
                            "'X-API-Key: <key>'")
        hit = self._cache.get(hashlib.sha256(key.encode()).hexdigest())
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return None
        return _scope(hit[1], write)

    def forget(self, prefix: str) -> None:
        """Drop the remembered checks of the key with ``prefix`` (after revoking it), so
        it is refused at once rather than after ``api_key_cache_s``.

        Examples
        --------
        >>> from trueclout.store import Store
        >>> s = Store(":memory:")
        >>> keys, key = Keys(s), create_key(s, "read")
        >>> keys.check(key)["scope"]
        'read'
        >>> s.revoke_api_key(1), keys.check(key)["scope"]   # still remembered
        (True, 'read')
        >>> keys.forget(split_key(key)); keys.check(key)
        Traceback (most recent call last):
        ...
        trueclout.api.errors.AuthError: unknown or revoked API key
        """
        with self._lock:
            for tag in [t for t, (_, row) in self._cache.items() if row["prefix"] == prefix]:
                del self._cache[tag]


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, ``rate`` per second sustained.

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

    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        self.rate = float(config.get("api_rate_per_s") if rate is None else rate)
        self.burst = float(config.get("api_rate_burst") if burst is None else burst)
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._buckets: dict[Any, list[float]] = {}
        self._lock = threading.Lock()

    def take(self, who: Any, *, now: float | None = None) -> None:
        """Spend one token of ``who``'s bucket; :class:`RateLimitedError` (with
        ``retry_after`` in whole seconds) when it is empty."""
        now = time.monotonic() if now is None else now
        with self._lock:
            b = self._buckets.get(who)
            if b is None:
                b = self._buckets[who] = [self.burst, now]
            b[0] = min(self.burst, b[0] + (now - b[1]) * self.rate)
            b[1] = now
            if b[0] >= 1.0:
                b[0] -= 1.0
                return None
            wait = (1.0 - b[0]) / self.rate
        raise RateLimitedError(
            f"rate limit of {self.rate:g} requests/s (burst {self.burst:g}) exceeded; retry "
            f"in {math.ceil(wait)} s", retry_after=math.ceil(wait))
