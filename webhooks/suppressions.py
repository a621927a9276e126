"""The suppression list: ids whose data ingestion drops (services/suppression.py).

Ids travel in request bodies, never in URLs, so they stay out of access logs; the list itself
shows keyed hashes only.
"""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from personapulse.services import suppression
from webhooks.auth import current_key, require_scope
from webhooks.errors import ApiError
from webhooks.openapi import documented
from webhooks.requests import int_arg, validated
from webhooks.schemas import PersonId
from webhooks.store import get_store

bp = Blueprint("suppressions", __name__, url_prefix="/v1/suppressions")

MAX_LIMIT = 1000


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: PersonId = Field(
        description="an id of the person: user id, anonymous id, anon:<id> or email; suppressing "
        "lists every id the store knows of them (knowing none, the id given)",
    )


class SuppressOut(BaseModel):
    added: int = Field(description="ids newly listed (0: they were listed already)")


class CheckOut(BaseModel):
    suppressed: bool


class LiftOut(BaseModel):
    lifted: int = Field(description="entries removed")


@bp.post("")
@require_scope("admin")
@documented(
    summary="Suppress a person without erasing them (data sent with their ids is dropped)",
    tag="privacy",
    body=PersonRequest,
    responses={200: SuppressOut},
)
def post_suppression():
    body = validated(PersonRequest)
    added = suppression.suppress_person(
        get_store().engine, body.person, created_by=f"api:{current_key().id}"
    )
    return {"added": added}


@bp.get("")
@require_scope("admin")
@documented(
    summary="The suppression list, newest first (keyed hashes, never ids); ?before=<id> pages on",
    tag="privacy",
    query={
        "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        "before": {
            "schema": {"type": "integer"},
            "description": "the id of the last entry of the previous page",
        },
    },
)
def list_suppressions():
    entries = suppression.list_entries(
        get_store().engine,
        limit=int_arg("limit", 100, 1, MAX_LIMIT),
        before_id=int_arg("before", None, 1, 2**63 - 1),
    )
    return {"suppressions": entries}


@bp.post("/check")
@require_scope("admin")
@documented(
    summary="Whether an id is on the suppression list",
    tag="privacy",
    body=PersonRequest,
    responses={200: CheckOut},
)
def check_suppression():
    body = validated(PersonRequest)
    return {"suppressed": suppression.is_suppressed(get_store().engine, body.person)}


@bp.post("/lift")
@require_scope("admin")
@documented(
    summary="Lift the suppression of an id (the person agreed to be recorded again)",
    tag="privacy",
    body=PersonRequest,
    responses={200: LiftOut},
    description="Removes the entry of the id given; the person's other ids stay listed until "
    "lifted one by one (or by entry id with DELETE).",
)
def lift_by_person():
    body = validated(PersonRequest)
    return {"lifted": suppression.lift(get_store().engine, identifier=body.person)}


@bp.delete("/<int(max=9223372036854775807):entry_id>")  # a larger id: 404, not an overflow
@require_scope("admin")
@documented(
    summary="Remove one entry of the suppression list",
    tag="privacy",
    responses={204: "removed", 404: "unknown"},
)
def delete_entry(entry_id: int):
    if not suppression.lift(get_store().engine, entry_id=entry_id):
        raise ApiError(404, "not_found", f"no suppression entry {entry_id}")
    return "", 204
