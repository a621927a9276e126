"""POST /v1/events: Segment spec, Mixpanel / Amplitude / GA4 exports, CSV."""

from __future__ import annotations

from flask import Blueprint

from personapulse.ingest import EVENT_FORMATS
from webhooks.auth import require_scope
from webhooks.ingestion import handle_ingest
from webhooks.openapi import documented
from webhooks.schemas import EventsBody, IngestResult

bp = Blueprint("events", __name__, url_prefix="/v1/events")


@bp.post("")
@require_scope("ingest")
@documented(
    summary="Ingest one event or a batch (Segment, Mixpanel, Amplitude, GA4, CSV)",
    tag="ingestion",
    body=EventsBody,
    body_content_types=("application/json", "text/csv"),
    responses={200: IngestResult},
    query={
        "format": {
            "schema": {"type": "string", "enum": list(EVENT_FORMATS)},
            "description": "skip detection",
        },
        "mapping": {
            "schema": {"type": "string"},
            "description": "CSV only: JSON object canonical → column",
        },
    },
    description="Items are stored once per event id (messageId / $insert_id / insert_id / uuid). "
    "A batch with bad items stores the good ones and names each bad one. Send Idempotency-Key to make a "
    "retried request answer exactly as the first (for at least PERSONAPULSE_IDEMPOTENCY_KEY_TTL_HOURS, "
    "24 by default).",
)
def post_events():
    return handle_ingest("events", allow_csv=True)
