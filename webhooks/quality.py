"""GET /v1/data-quality: the garbage-in report."""

from __future__ import annotations

from flask import Blueprint, request

from personapulse.store.quality import data_quality_report
from webhooks.auth import require_scope
from webhooks.errors import invalid_fields
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("data_quality", __name__, url_prefix="/v1/data-quality")


@bp.get("")
@require_scope("read")
@documented(
    summary="Data-quality report: garbage named per source and over time",
    tag="data quality",
    query={
        "days": {
            "schema": {"type": "integer", "minimum": 1, "maximum": 3650},
            "description": "window, default 30 (the history is kept "
            "PERSONAPULSE_DATA_QUALITY_RETENTION_DAYS, 90 by default)",
        }
    },
    description="Counts (accepted, duplicate, rejected, flagged) are kept per minute, so the window "
    "starts with the minute that holds its start. Field presence per source is compared over the "
    "newest 2,000 logged requests: every batch, and one single-item request per 10 s per worker and "
    "source, weighted by the requests it stands for. Reject reasons are sampled the same way (every "
    "batch's; one refused single-item request per 10 s per worker and source, weighted); the "
    "rejected counts themselves are exact.",
)
def get_data_quality():
    raw = request.args.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise invalid_fields(
            [{"field": "days", "reason": "must be a whole number of days from 1 to 3650"}]
        )
    return data_quality_report(get_store().engine, days=int(raw))
