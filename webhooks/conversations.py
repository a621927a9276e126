"""POST /v1/conversations: CRM tickets, call transcripts, chats."""

from __future__ import annotations

from flask import Blueprint

from webhooks.auth import require_scope
from webhooks.ingestion import handle_ingest
from webhooks.openapi import documented
from webhooks.schemas import ConversationsBody, ConversationsResult

bp = Blueprint("conversations", __name__, url_prefix="/v1/conversations")


@bp.post("")
@require_scope("ingest")
@documented(
    summary="Ingest CRM conversations (HubSpot, Salesforce, Pipedrive, Zendesk, Intercom, WhatsApp); "
    "each is answered with its intents (buying, hesitating, churning) and pain points",
    tag="ingestion",
    body=ConversationsBody,
    responses={200: ConversationsResult},
)
def post_conversations():
    return handle_ingest("conversations")
