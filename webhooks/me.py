"""GET /v1/me: which key is this (Zapier's connection test and label)."""

from __future__ import annotations

from flask import Blueprint

from webhooks.auth import current_key, require_scope
from webhooks.openapi import documented

bp = Blueprint("me", __name__, url_prefix="/v1/me")


@bp.get("")
@require_scope("read")
@documented(summary="The API key in use: id, name, scopes (never the secret)", tag="service")
def get_me():
    key = current_key()
    return {"key_id": key.id, "name": key.name, "scopes": sorted(key.scopes)}
