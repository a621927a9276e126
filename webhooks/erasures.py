"""Erasure requests: delete one person's data and scrub their ids and words from derived data.

``POST /v1/erasures`` takes the id in the body, not the URL, so it never reaches an access log.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from personapulse.services.erasure import UnknownErasure, erase_person, list_erasures
from webhooks.auth import current_key, require_scope
from webhooks.errors import invalid_fields
from webhooks.openapi import documented
from webhooks.requests import int_arg, validated
from webhooks.schemas import PersonId
from webhooks.store import get_store

bp = Blueprint("erasures", __name__, url_prefix="/v1/erasures")
MAX_LIMIT = 1000


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: PersonId = Field(
        description="any id of the person: user id, former user id, anonymous id, anon:<id>, "
        "email, or the id of one of their reviews or conversations",
    )
    suppress: bool = Field(
        default=False,
        strict=True,
        description="also put every id of the person on the suppression list: data sent with "
        "them afterwards is dropped on arrival (counted as suppressed) instead of stored again",
    )


class ErasureOut(BaseModel):
    erasure_id: str
    found: bool = Field(description="false: nothing of this person was stored (or is left)")
    subject_hash: str = Field(description="SHA-256 of salt + ':' + person; the id is not kept")
    salt: str
    deleted: dict[str, int] = Field(description="rows deleted, per table")
    scrubbed: dict[str, int] = Field(description="rows whose text had the person's ids or words")
    requested_by: str
    finished_ms: int
    suppressed: int | None = Field(
        description="ids newly put on the suppression list (null: suppress was not asked)"
    )
    airtable_job_id: str | None = Field(
        description="the job that removes the person from Airtable (when it is configured)"
    )
    wal_truncated: bool | None = Field(
        description="SQLite: the write-ahead log, which still held the pages as they were before, "
        "was checkpointed and emptied (false: a reader held it, its frames are overwritten as the "
        "log is reused); null on PostgreSQL"
    )


@bp.post("")
@require_scope("admin")
@documented(
    summary="Erase one person (GDPR / CCPA deletion request)",
    tag="privacy",
    body=ErasureRequest,
    responses={200: ErasureOut},
    description="Deletes the person's events, identities, profile, reviews and conversations, "
    "their assignments and journey counters, and scrubs their ids and quotes from persona "
    "profiles, cards, evidence, emitted events and queued deliveries, in one transaction. A "
    "repeated request finds nothing and answers found: false. Data sent after the erasure is "
    "stored again unless suppress is true (then see /v1/suppressions).",
)
def post_erasure():
    body = validated(ErasureRequest)
    result = erase_person(
        get_store().engine,
        body.person,
        requested_by=f"api:{current_key().id}",
        settings=current_app.config,
        suppress=body.suppress,
    )
    return result.to_dict()


@bp.get("")
@require_scope("admin")
@documented(
    summary="Erasure requests, newest first (salted hashes, no ids); ?before=<erasure_id> pages on",
    tag="privacy",
    query={
        "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        "before": {
            "schema": {"type": "string"},
            "description": "the erasure_id of the last record of the previous page",
        },
    },
    responses={200: None},
)
def list_all():
    before = request.args.get("before")
    try:
        records = list_erasures(
            get_store().engine, limit=int_arg("limit", 100, 1, MAX_LIMIT), before=before
        )
    except UnknownErasure as exc:
        raise invalid_fields([{"field": "before", "reason": "names no erasure record"}]) from exc
    return {"erasures": records}
