"""Personas: refresh (a background job), read, versions, real-time assignment."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator

from personapulse.services import personas as persona_service
from personapulse.store import broker as job_queue
from webhooks.auth import require_scope
from webhooks.errors import ApiError, invalid_fields
from webhooks.jobs import accepted
from webhooks.openapi import documented
from webhooks.requests import validated
from webhooks.store import get_store

bp = Blueprint("personas", __name__, url_prefix="/v1/personas")


class RefreshRequest(BaseModel):
    """Optional fit parameters; everything else comes from the defaults (docs/personas.md)."""

    model_config = ConfigDict(extra="forbid")
    k: int | None = Field(default=None, ge=2, le=20, description="fix the number of personas")
    k_min: int | None = Field(default=None, ge=2, le=20)
    k_max: int | None = Field(default=None, ge=2, le=20, description="cap the number of personas")
    method: str | None = Field(default=None, pattern="^(auto|kmeans|gmm)$")
    min_share: float | None = Field(default=None, ge=0, le=0.5)
    random_state: int | None = None

    @model_validator(mode="after")
    def _range(self) -> RefreshRequest:
        if self.k_min is not None and self.k_max is not None and self.k_min > self.k_max:
            raise ValueError("k_min must not exceed k_max")
        return self


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(
        default=None, min_length=1, description="a user id, anonymous id or email"
    )
    features: dict[str, float] | None = Field(default=None, description="a raw feature vector")

    @model_validator(mode="after")
    def _one_of(self) -> AssignRequest:
        if (self.user_id is None) == (self.features is None):
            raise ValueError("send exactly one of user_id or features")
        return self


@bp.post("/refresh")
@require_scope("admin")
@documented(
    summary="Refit personas in the background; answers 202 with a job to follow",
    tag="personas",
    body=RefreshRequest,
    responses={202: "queued: {job_id, status, status_url}"},
)
def post_refresh():
    from flask import request

    params: dict[str, Any] = {}
    if request.get_data(cache=True).strip():
        body = validated(RefreshRequest)
        params = body.model_dump(exclude_none=True)
    job = job_queue.enqueue(
        get_store().engine, persona_service.REFRESH_JOB, {"config": params}, dedupe=True
    )
    return accepted(job)


@bp.get("")
@require_scope("read")
@documented(summary="The current personas with profiles and the reliability gate", tag="personas")
def list_personas():
    version, found = persona_service.list_personas(get_store().engine)
    version.pop("candidates")
    return {"version": version, "personas": found}


@bp.get("/versions")
@require_scope("read")
@documented(summary="Every persona model version with provenance and gate", tag="personas")
def list_versions():
    return {"versions": persona_service.list_versions(get_store().engine)}


@bp.get("/versions/<version_id>")
@require_scope("read")
@documented(
    summary="One version: candidates table (BIC, AIC, entropy …), gate, personas", tag="personas"
)
def get_version(version_id: str):
    try:
        version, found = persona_service.list_personas(get_store().engine, version_id)
    except persona_service.NoPersonas as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return {"version": version, "personas": found}


@bp.get("/<persona_id>")
@require_scope("read")
@documented(
    summary="One persona of the current version",
    tag="personas",
    responses={200: None, 404: "unknown"},
)
def get_persona(persona_id: str):
    persona = persona_service.get_persona(get_store().engine, persona_id)
    if persona is None:
        raise ApiError(404, "not_found", f"no persona {persona_id!r} in the current version")
    return persona


@bp.post("/assign")
@require_scope("read")
@documented(
    summary="Score a user (by id or email) or a raw feature vector against the current personas",
    tag="personas",
    body=AssignRequest,
    responses={
        200: "persona_id, probability, probabilities per persona",
        404: "unknown user or no personas",
    },
)
def post_assign():
    body = validated(AssignRequest)
    engine = get_store().engine
    if body.user_id is not None:
        result = persona_service.assign_user(engine, body.user_id)
        if result is None:
            raise ApiError(404, "not_found", f"no behaviour is stored for {body.user_id!r}")
        return result
    try:
        return persona_service.assign_features(engine, body.features or {})
    except ValueError as exc:
        raise invalid_fields([{"field": "features", "reason": str(exc)}]) from exc


@bp.get("/<persona_id>/card")
@require_scope("read")
@documented(
    summary="The persona card (grounded narrative and strategy); ?format=md for Markdown",
    tag="personas",
    query={"format": {"schema": {"type": "string", "enum": ["json", "md"]}}},
    responses={200: None, 404: "unknown persona or no personas"},
)
def get_card(persona_id: str):
    from flask import Response, current_app, request

    from personapulse.services import narratives

    fmt = request.args.get("format", "json")
    if fmt not in ("json", "md"):
        raise invalid_fields([{"field": "format", "reason": "must be json or md"}])
    card = narratives.get_card(get_store().engine, persona_id, dict(current_app.config))
    if card is None:
        raise ApiError(404, "not_found", f"no persona {persona_id!r} in the current version")
    if fmt == "md":
        return Response(narratives.card_markdown(card), mimetype="text/markdown")
    return card
