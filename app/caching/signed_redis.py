"""The cache that replicas share in Redis, holding data only: signed strings and bytes.

flask-caching's own RedisCache pickles its values, so whoever can write to Redis could run
code in every worker, and a page's HTML read back would be served as it is. This backend
stores only `str` and `bytes`, each with an HMAC-SHA256 over the key and the value, made
with `CACHE_SIGNING_KEY` (the same on every replica). A value that fails the check is a
miss: it is counted (`help_shared_cache_rejected_total`), logged, and rendered anew.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import redis
from flask_caching.backends.base import BaseCache

from app.observability.metrics import SHARED_CACHE_REJECTED

log = logging.getLogger(__name__)

FORMAT = b"h1"  # the layout of a stored value, in case it ever changes
KINDS = {b"s": str, b"b": bytes}
MAC_BYTES = 32


class SignedRedisCache(BaseCache):
    """Signed strings and bytes in Redis; anything else read back is treated as absent."""

    def __init__(self, client: redis.Redis, signing_key: bytes, default_timeout: int = 0, key_prefix: str = "help:"):
        super().__init__(default_timeout=default_timeout)
        self.client = client
        self.signing_key = signing_key
        self.key_prefix = key_prefix

    @classmethod
    def factory(cls, app, config: dict[str, Any], args: list, kwargs: dict[str, Any]) -> SignedRedisCache:
        options = config.get("CACHE_OPTIONS") or {}
        client = redis.from_url(config["CACHE_REDIS_URL"], **options)
        return cls(client, config["CACHE_SIGNING_KEY"].encode(), kwargs.get("default_timeout", 0))

    def _mac(self, key: str, kind: bytes, payload: bytes) -> bytes:
        message = b"\0".join((FORMAT, key.encode(), kind, payload))
        return hmac.new(self.signing_key, message, hashlib.sha256).digest()

    def dumps(self, key: str, value: str | bytes) -> bytes:
        """The stored form of `value`: format, kind, MAC, then the bytes themselves."""
        if isinstance(value, str):
            kind, payload = b"s", value.encode()
        elif isinstance(value, bytes):
            kind, payload = b"b", value
        else:
            raise TypeError(f"the shared cache stores str and bytes, not {type(value).__name__}")
        return FORMAT + kind + self._mac(key, kind, payload) + payload

    def loads(self, key: str, stored: bytes | None) -> str | bytes | None:
        """The value stored under `key` if its signature holds, else None (and it is reported)."""
        if stored is None:
            return None
        header = len(FORMAT) + 1
        kind = stored[len(FORMAT) : header]
        mac, payload = stored[header : header + MAC_BYTES], stored[header + MAC_BYTES :]
        if (
            stored[: len(FORMAT)] != FORMAT
            or kind not in KINDS
            or not hmac.compare_digest(mac, self._mac(key, kind, payload))
        ):
            SHARED_CACHE_REJECTED.inc()
            log.warning("shared cache: the value under %r fails its signature check; ignored", key[:200])
            return None
        return payload.decode() if kind == b"s" else payload

    def get(self, key: str) -> str | bytes | None:
        return self.loads(key, self.client.get(self.key_prefix + key))

    def set(self, key: str, value: str | bytes, timeout: int | None = None) -> bool:
        timeout = self._normalize_timeout(timeout)
        return bool(self.client.set(self.key_prefix + key, self.dumps(key, value), ex=timeout or None))

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(self.key_prefix + key))

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> bool:
        keys = list(self.client.scan_iter(match=self.key_prefix + "*", count=500))
        if keys:
            self.client.delete(*keys)
        return True
