"""GET /v1/shifts: persona shifts detected at each refresh, newest first, with their evidence."""

from __future__ import annotations

import orjson
from flask import Blueprint, request
from sqlalchemy import select

from personapulse.store import read_connection
from personapulse.store.schema import shifts
from webhooks.auth import require_scope
from webhooks.openapi import documented
from webhooks.requests import int_arg
from webhooks.store import get_store

bp = Blueprint("shifts", __name__, url_prefix="/v1/shifts")


@bp.get("")
@require_scope("read")
@documented(
    summary="Persona shifts (share moved, drift, appeared, vanished, pain-point spikes, conversion)",
    tag="personas",
    query={
        "persona": {"schema": {"type": "string"}},
        "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    },
)
def get_shifts():
    limit = int_arg("limit", 100, 1, 1000)
    query = select(shifts).order_by(shifts.c.detected_ms.desc(), shifts.c.id).limit(limit)
    if request.args.get("persona"):
        query = query.where(shifts.c.persona_id == request.args["persona"])
    with read_connection(get_store().engine) as conn:
        rows = conn.execute(query).all()
    return {
        "shifts": [
            {
                "id": r.id,
                "version_id": r.version_id,
                "persona_id": r.persona_id,
                "kind": r.kind,
                "label": r.label,
                "severity": r.severity,
                "summary": r.summary,
                "evidence": orjson.loads(r.evidence),
                "detected_ms": r.detected_ms,
            }
            for r in rows
        ]
    }
