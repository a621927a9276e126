"""GET /v1/users/{id}: one person as stitched by the store (any of their ids or their email)."""

from __future__ import annotations

from flask import Blueprint

from personapulse.store.people import person_summary, resolve_person
from webhooks.auth import require_scope
from webhooks.errors import ApiError
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("users", __name__, url_prefix="/v1/users")


def resolve_or_404(any_id: str) -> str:
    person_id = resolve_person(get_store().engine, any_id)
    if person_id is None:
        raise ApiError(404, "not_found", f"no user, anonymous id or email {any_id!r} is known")
    return person_id


@bp.get("/<user_id>")
@require_scope("read")
@documented(
    summary="A person: profile, stitched ids, activity (look up by user id, anonymous id or email)",
    tag="users",
    responses={200: None, 404: "unknown id"},
)
def get_user(user_id: str):
    summary = person_summary(get_store().engine, resolve_or_404(user_id))
    if summary is None:
        raise ApiError(404, "not_found", f"no activity or profile for {user_id!r}")
    return summary


@bp.get("/<user_id>/persona")
@require_scope("read")
@documented(
    summary="The persona a user was assigned at the last refresh (any id or email)",
    tag="personas",
    responses={200: None, 404: "unknown user or no personas"},
)
def get_user_persona(user_id: str):
    from personapulse.services import personas as persona_service

    found = persona_service.stored_assignment(get_store().engine, user_id)
    if found is None:
        raise ApiError(404, "not_found", f"{user_id!r} has no persona in the current version")
    return found
