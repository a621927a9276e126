"""GET /v1/assignments: every user's persona in the current version, paged or as CSV."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, request

from personapulse.services import personas as persona_service
from webhooks.auth import require_scope
from webhooks.errors import invalid_fields
from webhooks.openapi import documented
from webhooks.requests import int_arg
from webhooks.store import get_store

bp = Blueprint("assignments", __name__, url_prefix="/v1/assignments")

MAX_LIMIT = 10_000


@bp.get("")
@require_scope("read")
@documented(
    summary="Persona assignments (user_id, persona_id, probability), paged by cursor; ?format=csv",
    tag="personas",
    query={
        "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        "after": {
            "schema": {"type": "string"},
            "description": "the next_cursor of the previous page",
        },
        "persona": {"schema": {"type": "string"}},
        "format": {"schema": {"type": "string", "enum": ["json", "csv"]}},
    },
)
def list_assignments():
    limit = int_arg("limit", 1000, 1, MAX_LIMIT)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise invalid_fields([{"field": "format", "reason": "must be json or csv"}])
    page, cursor = persona_service.assignments_page(
        get_store().engine,
        after=request.args.get("after"),
        limit=limit,
        persona_id=request.args.get("persona"),
    )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["user_id", "persona_id", "probability"])
        writer.writerows([row["user_id"], row["persona_id"], row["probability"]] for row in page)
        headers = {"X-Next-Cursor": cursor} if cursor else {}
        return Response(buffer.getvalue(), mimetype="text/csv", headers=headers)
    return {"assignments": page, "next_cursor": cursor}
