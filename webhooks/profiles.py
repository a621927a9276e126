"""POST /v1/profiles: user traits."""

from __future__ import annotations

from flask import Blueprint

from webhooks.auth import require_scope
from webhooks.ingestion import handle_ingest
from webhooks.openapi import documented
from webhooks.schemas import IngestResult, ProfilesBody

bp = Blueprint("profiles", __name__, url_prefix="/v1/profiles")


@bp.post("")
@require_scope("ingest")
@documented(
    summary="Create or update user profiles (traits)",
    tag="ingestion",
    body=ProfilesBody,
    responses={200: IngestResult},
)
def post_profiles():
    return handle_ingest("profiles")
