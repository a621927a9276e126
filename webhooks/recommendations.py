"""GET /v1/recommendations: marketing actions derived from persona facts, each with its evidence."""

from __future__ import annotations

from flask import Blueprint, request

from personapulse.services.narratives import list_recommendations
from webhooks.auth import require_scope
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("recommendations", __name__, url_prefix="/v1/recommendations")


@bp.get("")
@require_scope("read")
@documented(
    summary="Recommendations of the current persona version (pain point → marketing opportunity)",
    tag="personas",
    query={"persona": {"schema": {"type": "string"}}},
)
def get_recommendations():
    found = list_recommendations(get_store().engine, persona_id=request.args.get("persona"))
    return {"recommendations": found}
