"""API-key authentication: ``X-API-Key: …`` or ``Authorization: Bearer …``, checked per scope."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, request, session

from personapulse.store.keys import ApiKey, authenticate, key_by_id
from webhooks.errors import ApiError
from webhooks.store import get_store


def _token_from_request() -> str | None:
    token = request.headers.get("X-API-Key")
    if token:
        return token.strip()
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_key() -> ApiKey:
    return g.api_key


SESSION_KEY_ID = "key_id"
# A signed-in browser (the dashboard) may read with its session cookie; writes always need the
# key itself, so a cross-site form can never change data.
_COOKIE_METHODS = ("GET", "HEAD")


def _key_from_session() -> ApiKey | None:
    key_id = session.get(SESSION_KEY_ID)
    if not key_id or request.method not in _COOKIE_METHODS:
        return None
    return key_by_id(get_store().engine, key_id)


def require_scope(scope: str) -> Callable:
    """Reject the request with 401 (no or bad key) or 403 (key lacks ``scope``)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            token = _token_from_request()
            session_key = None if token else _key_from_session()
            if session_key is not None:
                if not session_key.allows(scope):
                    raise ApiError(403, "forbidden", f"this API key lacks the '{scope}' scope")
                g.api_key = session_key
                return view(*args, **kwargs)
            if not token:
                raise ApiError(
                    401,
                    "unauthorized",
                    "an API key is required: send it as X-API-Key or Authorization: Bearer",
                    headers={"WWW-Authenticate": 'Bearer realm="personapulse"'},
                )
            key = authenticate(get_store().engine, token)
            if key is None:
                raise ApiError(
                    401,
                    "unauthorized",
                    "the API key is not valid or was revoked",
                    headers={
                        "WWW-Authenticate": 'Bearer realm="personapulse", error="invalid_token"'
                    },
                )
            if not key.allows(scope):
                raise ApiError(403, "forbidden", f"this API key lacks the '{scope}' scope")
            g.api_key = key
            return view(*args, **kwargs)

        wrapped._required_scope = scope  # read by the OpenAPI builder
        return wrapped

    return decorator
