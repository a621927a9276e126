"""API keys: created once, shown once, stored as a SHA-256 digest, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from personapulse.store import now_ms, read_connection, write_transaction
from personapulse.store.schema import api_keys

SCOPES = ("ingest", "read", "admin")
KEY_PREFIX = "pp"


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """``admin`` holds every scope."""
        return scope in self.scopes or "admin" in self.scopes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, name: str, scopes: tuple[str, ...] = SCOPES) -> tuple[ApiKey, str]:
    """Create a key; return it and the plaintext token, which is never stored."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; choose from {', '.join(SCOPES)}")
    if not name.strip():
        raise ValueError("a key needs a name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey(id=f"key_{prefix}", name=name.strip(), scopes=frozenset(scopes))
    with write_transaction(engine) as conn:
        conn.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                prefix=prefix,
                key_hash=_digest(token),
                scopes=",".join(sorted(key.scopes)),
                created_ms=now_ms(),
            )
        )
    return key, token


# A verified key is remembered briefly per process: an ingest burst then costs no database read per
# request. A revocation reaches other processes within this many seconds.
AUTH_CACHE_SECONDS = 10.0
_AUTH_CACHE_MAX = 1_000
_auth_cache: dict[str, tuple[ApiKey, float]] = {}
_auth_cache_lock = threading.Lock()


def authenticate(engine: Engine, token: str) -> ApiKey | None:
    """Return the live key for ``token``, or None. The lookup is by prefix, the check constant-time."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    digest = _digest(token)
    # Rendering the engine's URL costs more than the rest of a cache hit: keep its text on it.
    url_text = getattr(engine, "info_url_text", None)
    if url_text is None:
        url_text = engine.info_url_text = str(engine.url)  # type: ignore[attr-defined]
    cache_key = f"{url_text}|{digest}"
    cached = _auth_cache.get(cache_key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    key = _lookup(engine, parts[1], digest)
    if key is not None:
        with _auth_cache_lock:
            if len(_auth_cache) >= _AUTH_CACHE_MAX:
                _auth_cache.clear()
            _auth_cache[cache_key] = (key, time.monotonic() + AUTH_CACHE_SECONDS)
    return key


def _lookup(engine: Engine, prefix: str, digest: str) -> ApiKey | None:
    with read_connection(engine) as conn:
        row = conn.execute(
            select(api_keys).where(api_keys.c.prefix == prefix, api_keys.c.revoked_ms.is_(None))
        ).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return ApiKey(id=row.id, name=row.name, scopes=frozenset(row.scopes.split(",")))


def key_by_id(engine: Engine, key_id: str) -> ApiKey | None:
    """A live key by its id (for a signed-in browser session, which holds the id, never the secret)."""
    with read_connection(engine) as conn:
        row = conn.execute(
            select(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_ms.is_(None))
        ).first()
    return (
        None
        if row is None
        else ApiKey(id=row.id, name=row.name, scopes=frozenset(row.scopes.split(",")))
    )


def list_keys(engine: Engine) -> list[dict]:
    with read_connection(engine) as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_ms)).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "scopes": r.scopes.split(","),
            "created_ms": r.created_ms,
            "revoked": r.revoked_ms is not None,
        }
        for r in rows
    ]


def revoke_key(engine: Engine, key_id: str) -> bool:
    with write_transaction(engine) as conn:
        result = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_ms.is_(None))
            .values(revoked_ms=now_ms())
        )
    with _auth_cache_lock:
        _auth_cache.clear()
    return result.rowcount == 1
