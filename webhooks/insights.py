"""Pain points, journeys and funnels: what users say and what they do, per persona."""

from __future__ import annotations

import re
from typing import Any, Literal

import pandas as pd
from flask import Blueprint, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from personapulse.journeys._frame import to_timedelta_ns
from personapulse.services import journeys as journey_service
from personapulse.services.personas import current_assignments
from personapulse.services.reviews import pain_points
from webhooks.auth import require_scope
from webhooks.errors import invalid_fields
from webhooks.openapi import documented
from webhooks.requests import int_arg, validated
from webhooks.store import get_store

bp = Blueprint("insights", __name__, url_prefix="/v1")


_DURATION = re.compile(r"^\d+(\.\d+)?\s*(s|sec|m|min|h|d|w)$", re.IGNORECASE)


def _duration(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not _DURATION.match(value.strip()) or to_timedelta_ns(value, name=field) == 0:
        raise ValueError(f"{field} must be a positive duration such as 30m, 24h or 7d")
    return value


class FunnelStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str | None = None
    page_path: str | None = None
    page_path_regex: str | None = None
    where: dict[str, str | int | float | bool | list[str | int | float]] | None = None
    name: str | None = None
    within: str | None = Field(default=None, description="max time from the previous step, e.g. 1h")

    @field_validator("within")
    @classmethod
    def _within(cls, value: str | None) -> str | None:
        return _duration(value, "within")


class ExclusionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: FunnelStepIn | str
    from_step: int = Field(default=1, ge=1)
    to_step: int | None = Field(default=None, ge=2)


class FunnelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[FunnelStepIn | str] = Field(min_length=2, max_length=20)
    window: str | None = Field(default="7d", description="max time from step 1 to each step")
    order: Literal["ordered", "strict", "any"] = "ordered"
    exclusions: list[ExclusionIn] = Field(default_factory=list)
    exclusion_mode: Literal["posthog", "mixpanel"] = "posthog"
    breakdown: Literal["persona", "channel"] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        return _duration(value, "window")


def _since_param() -> pd.Timestamp | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        since = pd.Timestamp(raw)
    except ValueError as exc:
        raise invalid_fields(
            [{"field": "since", "reason": "must be an ISO 8601 date or date-time"}]
        ) from exc
    return since.tz_localize("UTC") if since.tzinfo is None else since


@bp.get("/pain-points")
@require_scope("read")
@documented(
    summary="Pain points and motivations per persona, with counts, shares, quotes and trend",
    tag="reviews",
    query={
        "persona": {"schema": {"type": "string"}},
        "since": {"schema": {"type": "string", "format": "date-time"}},
    },
)
def get_pain_points():
    engine = get_store().engine
    table = pain_points(
        engine,
        current_assignments(engine),
        persona_id=request.args.get("persona"),
        since=_since_param(),
    )
    return {"pain_points": journey_service.json_records(table)}


@bp.get("/journeys")
@require_scope("read")
@documented(
    summary="Real journeys per persona: top paths across sessions, Sankey transitions, drop-offs",
    tag="journeys",
    query={
        "persona": {"schema": {"type": "string"}},
        "top": {"schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        "max_step": {"schema": {"type": "integer", "minimum": 2, "maximum": 30}},
    },
)
def get_journeys():
    return journey_service.journeys(
        get_store().engine,
        persona_id=request.args.get("persona"),
        top=int_arg("top", 10, 1, 100),
        max_step=int_arg("max_step", 10, 2, 30),
    )


@bp.post("/funnels")
@require_scope("read")
@documented(
    summary="A conversion funnel: steps, window, order mode, exclusions, breakdown by persona or channel",
    tag="journeys",
    body=FunnelRequest,
)
def post_funnel():
    body = validated(FunnelRequest)
    spec: dict[str, Any] = body.model_dump(exclude_none=True)
    spec["steps"] = [
        s if isinstance(s, str) else {k: v for k, v in s.items() if v is not None}
        for s in spec["steps"]
    ]
    spec["exclusions"] = [
        {
            **e,
            "step": e["step"]
            if isinstance(e["step"], str)
            else {k: v for k, v in e["step"].items() if v is not None},
        }
        for e in spec.get("exclusions", [])
    ]
    spec.setdefault("window", None)
    try:
        return journey_service.run_funnel(get_store().engine, spec)
    except ValueError as exc:
        raise invalid_fields([{"field": "(body)", "reason": str(exc)}]) from exc
