"""POST /v1/airtable/sync: push personas to Airtable and pull human edits back (a background job)."""

from __future__ import annotations

from flask import Blueprint, current_app

from personapulse.services.airtable import SYNC_JOB, config_from_settings
from personapulse.store import broker as job_queue
from webhooks.auth import require_scope
from webhooks.errors import ApiError
from webhooks.jobs import accepted
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("airtable", __name__, url_prefix="/v1/airtable")


@bp.post("/sync")
@require_scope("admin")
@documented(
    summary="Sync the persona store with Airtable (pull human edits, push computed data); 202 + job",
    tag="integrations",
    responses={202: "queued: {job_id, status, status_url}", 409: "Airtable is not configured"},
)
def post_sync():
    from airtable_sync import AirtableConfigError

    try:
        config_from_settings(dict(current_app.config))
    except AirtableConfigError as exc:
        raise ApiError(409, "not_configured", str(exc)) from exc
    job = job_queue.enqueue(get_store().engine, SYNC_JOB, {}, dedupe=True)
    return accepted(job)
