"""REST-hook subscriptions (Zapier, n8n …): subscribe, unsubscribe, list, samples, delivery log."""

from __future__ import annotations

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from personapulse.outbound.ssrf import UnsafeTargetError, validate_target_url
from personapulse.services import outbound
from webhooks.auth import current_key, require_scope
from webhooks.errors import ApiError, invalid_fields
from webhooks.openapi import documented
from webhooks.requests import validated
from webhooks.store import get_store

bp = Blueprint("hooks", __name__, url_prefix="/v1/hooks")


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target_url: str = Field(
        min_length=1, max_length=2000, description="https URL that receives the events"
    )
    event: str = Field(description="one of: " + ", ".join(outbound.EVENT_TYPES))


SAMPLES = {
    "persona.created": {
        "persona_id": "p_3f2a91c0",
        "version_id": "v2",
        "name": "Coupon messaging-led buyers",
        "size": 234,
        "share": 0.234,
    },
    "persona.shifted": {
        "shift_id": "sh_9b1e",
        "persona_id": "p_3f2a91c0",
        "kind": "share_moved",
        "severity": "warning",
        "summary": "Coupon messaging-led buyers grew from 18.0% to 23.4% of users",
        "evidence": {"previous_share": 0.18, "share": 0.234, "p_value": 0.001},
    },
    "recommendation.created": {
        "recommendation_id": "rec_41c2",
        "persona_id": "p_3f2a91c0",
        "kind": "discount_campaign",
        "title": "Test a discount campaign",
        "action": "Run a time-limited discount for this growing price-sensitive persona.",
        "priority": "high",
        "evidence": ["trend.share", "trait.coupon_share"],
    },
    "review.classified": {
        "review_id": "trustpilot:tp-123",
        "sentiment_label": "negative",
        "sentiment_score": -0.62,
        "pain_points": [{"label": "shipping_delivery", "phrase": "late"}],
        "motivations": [],
        "keywords": ["delivery"],
        "source": "trustpilot",
        "rating": 2,
        "is_negative": True,
        "has_pain_point": True,
    },
    "pain_point.spiked": {
        "shift_id": "sh_77d0",
        "persona_id": "p_2df01ba5",
        "label": "shipping_delivery",
        "severity": "critical",
        "summary": "Shipping and delivery complaints rose to 41% of reviews this week (8% before)",
        "evidence": {
            "recent": 12,
            "recent_total": 29,
            "before": 9,
            "before_total": 110,
            "p_value": 0.0001,
        },
    },
    "refresh.completed": {
        "version_id": "v3",
        "k": 5,
        "users": 2000,
        "reliable": True,
        "gate_reasons": [],
        "appeared": [],
        "vanished": [],
    },
    "user.persona_changed": {
        "user_id": "usr_61",
        "previous_persona_id": "p_d61d561f",
        "persona_id": "p_2df01ba5",
        "probability": 0.82,
        "version_id": "v3",
    },
}


@bp.post("")
@require_scope("admin")
@documented(
    summary="Subscribe a URL to an event type (REST hook); answers 201 with the id and signing secret",
    tag="hooks",
    body=HookRequest,
    responses={201: "id, target_url, event, secret (Standard Webhooks signing secret, shown once)"},
)
def post_hook():
    body = validated(HookRequest)
    if body.event not in outbound.EVENT_TYPES:
        raise invalid_fields(
            [{"field": "event", "reason": f"must be one of: {', '.join(outbound.EVENT_TYPES)}"}]
        )
    try:
        validate_target_url(
            body.target_url,
            allow_http=bool(current_app.config.get("ALLOW_HTTP_HOOKS")),
            allow_private=bool(current_app.config.get("ALLOW_PRIVATE_HOOK_TARGETS")),
        )
    except UnsafeTargetError as exc:
        raise invalid_fields([{"field": "target_url", "reason": str(exc)}]) from exc
    hook = outbound.subscribe(
        get_store().engine, body.target_url, body.event, api_key_id=current_key().id
    )
    return hook, 201


@bp.get("")
@require_scope("admin")
@documented(summary="Every subscription", tag="hooks")
def list_hooks():
    return {"hooks": outbound.list_hooks(get_store().engine)}


@bp.delete("/<hook_id>")
@require_scope("admin")
@documented(
    summary="Unsubscribe (pending deliveries are cancelled)",
    tag="hooks",
    responses={204: "removed", 404: "unknown"},
)
def delete_hook(hook_id: str):
    if not outbound.unsubscribe(get_store().engine, hook_id):
        raise ApiError(404, "not_found", f"no subscription {hook_id!r}")
    return "", 204


@bp.get("/<hook_id>/deliveries")
@require_scope("admin")
@documented(
    summary="The delivery log of a subscription (attempts, status codes, errors)", tag="hooks"
)
def get_deliveries(hook_id: str):
    return {"deliveries": outbound.delivery_history(get_store().engine, hook_id)}


@bp.get("/samples/<event_type>")
@require_scope("read")
@documented(
    summary="Recent payloads of an event type, exactly as delivered (a fixed sample when none yet)",
    tag="hooks",
    responses={200: None, 404: "unknown event type"},
)
def get_samples(event_type: str):
    if event_type not in outbound.EVENT_TYPES:
        raise ApiError(
            404,
            "not_found",
            f"unknown event type {event_type!r}; known: {', '.join(outbound.EVENT_TYPES)}",
        )
    recent = outbound.recent_events(get_store().engine, event_type)
    if not recent:
        recent = [
            {
                "id": "evt_sample",
                "type": event_type,
                "timestamp": "2026-11-23T09:00:00+00:00",
                "data": SAMPLES[event_type],
            }
        ]
    return {"samples": recent}
