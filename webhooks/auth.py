"""API-key authentication: ``X-API-Key: …`` or ``Authorization: Bearer …``, checked per scope."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, g, request, session

from personapulse.store.keys import ApiKey, authenticate, key_by_id
from webhooks import limits
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


def _admit(key: ApiKey) -> None:
    """Remember the caller's key and hold it to its rate limit (429 with Retry-After)."""
    g.api_key = key
    limits.check(current_app.extensions.get(limits.EXTENSION), key.id)


SESSION_KEY_ID = "key_id"
# A signed-in browser (the dashboard) may read with its session cookie; writes always need the
# key itself, so a cross-site form can never change data.
_COOKIE_METHODS = ("GET", "HEAD")


def _key_from_session() -> ApiKey | None:
    key_id = session.get(SESSION_KEY_ID)
    if not key_id or request.method not in _COOKIE_METHODS:
        return None
    return key_by_id(get_store().engine, key_id)


# Senders that sign their requests may ingest without an API key: (setting, header, key id).
SIGNED_SENDERS = (
    ("SEGMENT_SHARED_SECRET", "X-Signature", "signed:segment"),
    ("HUBSPOT_CLIENT_SECRET", "X-HubSpot-Signature-v3", "signed:hubspot"),
    ("INBOUND_WEBHOOK_SECRET", "webhook-signature", "signed:standard-webhooks"),
)


def _key_from_signature(scope: str) -> ApiKey | None:
    """A configured sender's valid signature stands in for a key of ingest scope (POST only).

    Replay windows: HubSpot's and Standard Webhooks' timestamps must be within 5 minutes; inside the
    window a replayed Standard Webhooks message is answered from its ``webhook-id`` like an
    Idempotency-Key, and a replayed Segment batch dedupes on messageId.
    """
    from personapulse.outbound.signatures import (
        SignatureError,
        verify_hubspot_v3,
        verify_segment,
        verify_standard_webhooks,
    )

    if scope != "ingest" or request.method != "POST":
        return None
    for setting, header, key_id in SIGNED_SENDERS:
        secret = current_app.config.get(setting)
        if not secret or not request.headers.get(header):
            continue
        body = request.get_data(cache=True)
        try:
            if key_id == "signed:segment":
                verify_segment(secret, body, request.headers.get(header))
            elif key_id == "signed:hubspot":
                verify_hubspot_v3(
                    secret,
                    method=request.method,
                    uri=request.url,
                    body=body,
                    timestamp_header=request.headers.get("X-HubSpot-Request-Timestamp"),
                    signature_header=request.headers.get(header),
                )
            else:
                verify_standard_webhooks(secret, body, dict(request.headers))
        except SignatureError as exc:
            raise ApiError(401, "invalid_signature", f"{header}: {exc}") from exc
        return ApiKey(id=key_id, name=key_id, scopes=frozenset({"ingest"}))
    return None


def require_scope(scope: str) -> Callable:
    """Reject the request with 401 (no or bad key) or 403 (key lacks ``scope``)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            token = _token_from_request()
            signed_key = None if token else _key_from_signature(scope)
            if signed_key is not None:
                _admit(signed_key)
                return view(*args, **kwargs)
            session_key = None if token else _key_from_session()
            if session_key is not None:
                if not session_key.allows(scope):
                    raise ApiError(403, "forbidden", f"this API key lacks the '{scope}' scope")
                _admit(session_key)
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
            _admit(key)
            return view(*args, **kwargs)

        wrapped._required_scope = scope  # read by the OpenAPI builder
        return wrapped

    return decorator
