"""Settings: defaults, then ``PERSONAPULSE_*`` environment variables, then explicit overrides.

The Flask face and the CLI both build their configuration here, so a variable means the same thing
wherever it is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "PERSONAPULSE_"

DEFAULT_DATA_DIR = Path(os.environ.get("PERSONAPULSE_DATA_DIR", "var"))

DEFAULTS: dict[str, Any] = {
    # Embedded SQLite by default; any SQLAlchemy URL (postgresql+psycopg://…) selects another store.
    "DATABASE_URL": f"sqlite:///{DEFAULT_DATA_DIR / 'personapulse.sqlite'}",
    # Largest request body accepted (bytes); a 10,000-event batch is about 6 MB.
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    # Largest number of items in one ingestion request.
    "MAX_BATCH_ITEMS": 20_000,
    # Events this far ahead of the server clock are flagged as garbage (clock skew allowance).
    "FUTURE_TOLERANCE_SECONDS": 24 * 3600,
    # Run queued jobs (persona refreshes …) inside the web process; off for CLI one-shots.
    "RUN_WORKER": False,
    "WORKER_POLL_SECONDS": 1.0,
    # Who shapes the personas: "identified" users (anonymous visitors are scored afterwards) or
    # "everyone".
    "PERSONAS_FIT_ON": "identified",
    # Full persona refresh on a schedule: a cron expression in UTC (daily at 03:00; "off" turns it
    # off), or every this many hours when REFRESH_EVERY_HOURS > 0 (which then replaces the cron).
    # On demand anytime.
    "REFRESH_CRON": "0 3 * * *",
    "REFRESH_EVERY_HOURS": 0.0,
    # A Redis job broker for scale (redis://host:6379/0, extra personapulse[redis]); empty: the
    # store's own job table.
    "BROKER_URL": "",
    # Rescore the people behind new events and reviews against the current personas (a job).
    "INCREMENTAL_UPDATES": True,
    # Outbound webhooks: https only and no private or loopback targets unless these are set
    # (tests and on-premises receivers); retry schedule in seconds, comma-separated.
    "ALLOW_HTTP_HOOKS": False,
    "ALLOW_PRIVATE_HOOK_TARGETS": False,
    "HOOK_RETRY_SCHEDULE": "",
    # Inbound signatures: senders that sign may ingest without an API key when their secret is set.
    "SEGMENT_SHARED_SECRET": None,
    "HUBSPOT_CLIENT_SECRET": None,
    "INBOUND_WEBHOOK_SECRET": None,
    # Rate limits per API key, per gunicorn worker (token bucket; 429 with Retry-After). 0 = off.
    # Per-key overrides: RATE_LIMITS="key_id=rate[/burst],…" (see webhooks/limits.py).
    "RATE_LIMIT_PER_SECOND": 500.0,
    "RATE_LIMIT_BURST": 1000,
    "RATE_LIMITS": "",
    # Backpressure: a request waits this long for a lock (SQLite's write lock, PostgreSQL's
    # lock_timeout), then answers 503 with Retry-After: RETRY_AFTER_SECONDS (nothing half-written;
    # the sender retries).
    "DB_LOCK_TIMEOUT_SECONDS": 5.0,
    "RETRY_AFTER_SECONDS": 2,
    # Retention of bookkeeping rows (personapulse/store/retention.py; 0 keeps forever), pruned by a
    # job every PRUNE_EVERY_HOURS (0: only `personapulse prune`). Data and personas are never pruned.
    "IDEMPOTENCY_KEY_TTL_HOURS": 24.0,
    "DATA_QUALITY_RETENTION_DAYS": 90.0,
    "JOB_RETENTION_DAYS": 30.0,
    "DELIVERY_RETENTION_DAYS": 30.0,
    # Persona versions whose per-person assignments are kept, the current one included (0: all).
    "ASSIGNMENT_VERSIONS_KEPT": 3,
    "PRUNE_EVERY_HOURS": 1.0,
    # Log lines pseudonymise emails with HMAC-SHA256 under this key (else they are masked).
    "PII_KEY": None,
    # Signs dashboard sessions; generated once into DATA_DIR/secret_key when not set.
    "SECRET_KEY": None,
    "DATA_DIR": str(DEFAULT_DATA_DIR),
}

_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(default: Any, raw: str) -> Any:
    """Parse an environment string into the type of its default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _BOOL_TRUE:
            return True
        if lowered in _BOOL_FALSE:
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return the effective settings: defaults < environment (``PERSONAPULSE_<NAME>``) < overrides."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + name)
        if raw is not None:
            try:
                settings[name] = _coerce(default, raw)
            except ValueError as exc:
                raise ValueError(f"{ENV_PREFIX}{name}: {exc}") from exc
    # Later issues add settings without touching DEFAULTS: any other prefixed variable passes through.
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX):
            settings.setdefault(key[len(ENV_PREFIX) :], raw)
    if overrides:
        settings.update(overrides)
    return settings
