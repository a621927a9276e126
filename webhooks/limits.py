"""Per-key rate limits: a token bucket per API key, answered with 429 and Retry-After.

The buckets live in each gunicorn worker's memory (no database write per request), so the limit a
key sees is per worker: with ``--workers 2`` a key may send up to twice the configured rate before
every worker refuses it. Settings (``PERSONAPULSE_`` prefix in the environment):

- ``RATE_LIMIT_PER_SECOND`` — requests a second each key may send, per worker (0 turns limits off);
- ``RATE_LIMIT_BURST`` — requests a key may send at once before the rate applies;
- ``RATE_LIMITS`` — per-key overrides, ``key_id=rate[/burst]`` separated by commas, e.g.
  ``key_1a2b3c4d5e6f=20/40,key_0123456789ab=0`` (``0`` exempts that key).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webhooks.errors import ApiError

EXTENSION = "personapulse.limiter"


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens a second; 0 means unlimited
    burst: float


def parse_overrides(raw: str | None) -> dict[str, Limit]:
    """``"key_a=10/20,key_b=0"`` → {"key_a": Limit(10, 20), "key_b": Limit(0, 0)}."""
    overrides: dict[str, Limit] = {}
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, value = part.partition("=")
        if not sep or not key_id.strip():
            raise ValueError(f"RATE_LIMITS: expected key_id=rate[/burst], got {part!r}")
        rate_text, _, burst_text = value.partition("/")
        rate = float(rate_text)
        burst = float(burst_text) if burst_text else max(rate, 1.0)
        if rate < 0 or burst < 0:
            raise ValueError(f"RATE_LIMITS: rate and burst must not be negative in {part!r}")
        overrides[key_id.strip()] = Limit(rate, burst)
    return overrides


class RateLimiter:
    """Token buckets keyed by API key id; thread-safe within one process."""

    MAX_KEYS = 10_000

    def __init__(self, default: Limit, overrides: Mapping[str, Limit] | None = None) -> None:
        self.default = default
        self.overrides = dict(overrides or {})
        self._buckets: dict[str, tuple[float, float]] = {}  # key id → (tokens, last refill)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RateLimiter:
        rate = float(settings.get("RATE_LIMIT_PER_SECOND", 0) or 0)
        burst = float(settings.get("RATE_LIMIT_BURST", 0) or 0) or max(rate, 1.0)
        return cls(Limit(rate, burst), parse_overrides(settings.get("RATE_LIMITS")))

    def limit_for(self, key_id: str) -> Limit:
        return self.overrides.get(key_id, self.default)

    def acquire(self, key_id: str, now: float | None = None) -> float:
        """Take one token; return 0 when allowed, else the seconds until a token is available."""
        limit = self.limit_for(key_id)
        if limit.rate <= 0:
            return 0.0
        with self._lock:
            # The clock is read under the lock, and a refill is never negative: a thread that read
            # the time before another stored a later one would otherwise take tokens away.
            now = time.monotonic() if now is None else now
            tokens, last = self._buckets.get(key_id, (limit.burst, now))
            if now < last:
                now = last
            tokens = min(limit.burst, tokens + (now - last) * limit.rate)
            if tokens >= 1.0:
                if len(self._buckets) >= self.MAX_KEYS and key_id not in self._buckets:
                    self._buckets.clear()  # a flood of key ids: start every bucket full again
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / limit.rate


def init_app(app) -> None:
    limiter = RateLimiter.from_settings(app.config)
    app.extensions[EXTENSION] = limiter if (limiter.default.rate or limiter.overrides) else None


def check(limiter: RateLimiter | None, key_id: str) -> None:
    """Raise 429 with Retry-After (whole seconds, at least 1) when ``key_id`` is over its limit."""
    if limiter is None:
        return
    wait = limiter.acquire(key_id)
    if wait > 0:
        limit = limiter.limit_for(key_id)
        raise ApiError(
            429,
            "rate_limited",
            f"this API key may send {limit.rate:g} requests a second (bursts of {limit.burst:g}); "
            f"retry after the Retry-After delay",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
