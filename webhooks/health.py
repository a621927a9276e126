"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

import personapulse
from webhooks.errors import ApiError
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@documented(
    summary="Service and database health",
    tag="service",
    responses={200: "healthy", 503: "database unreachable"},
)
def healthz():
    store = get_store()
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ApiError(
            503, "unavailable", f"the database is not reachable: {type(exc).__name__}"
        ) from exc
    return {
        "status": "ok",
        "version": personapulse.__version__,
        "database": store.engine.dialect.name,
        "schema": store.current_revision(),
    }
