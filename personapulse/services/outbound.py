"""Outbound events: REST-hook subscriptions, a durable outbox, signed deliveries with back-off.

``emit`` runs inside the transaction that caused the event, so an event is recorded exactly when its
cause is; the worker delivers it later (and again after a restart) with Standard Webhooks signatures.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import requests
from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from standardwebhooks.webhooks import Webhook

from personapulse.store import Store, now_ms, read_connection, write_transaction
from personapulse.store.schema import delivery_log, emitted_events, hooks, outbox

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "persona.created",
    "persona.shifted",
    "recommendation.created",
    "review.classified",
    "pain_point.spiked",
    "refresh.completed",
    "user.persona_changed",
)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# About 5 s, 30 s, 5 min, 30 min, 2 h, then every 5 h until a day has passed.
DEFAULT_RETRY_SCHEDULE_SECONDS = (5, 30, 300, 1800, 7200, 18000, 18000, 18000, 18000, 18000)
# A claimed delivery is invisible to other workers this long (a worker that dies mid-request).
CLAIM_LEASE_MS = 60_000
DELIVERY_TIMEOUT_SECONDS = 10


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def emit(conn: Connection, event_type: str, data: dict[str, Any]) -> str:
    """Record an event and queue one delivery per active subscription, in the caller's transaction."""
    return emit_many(conn, event_type, [data])[0]


def emit_many(conn: Connection, event_type: str, items: Sequence[dict[str, Any]]) -> list[str]:
    """``emit`` for a batch of events of one type: the subscriptions are read once, rows written in bulk."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if not items:
        return []
    created = now_ms()
    timestamp = datetime.fromtimestamp(created / 1000, UTC).isoformat()
    events = []
    for data in items:
        event_id = "evt_" + uuid.uuid4().hex[:24]
        body = _dumps({"id": event_id, "type": event_type, "timestamp": timestamp, "data": data})
        events.append(
            {"id": event_id, "event_type": event_type, "payload": body, "created_ms": created}
        )
    conn.execute(insert(emitted_events), events)
    subscribers = (
        conn.execute(
            select(hooks.c.id).where(hooks.c.event == event_type, hooks.c.active.is_(True))
        )
        .scalars()
        .all()
    )
    if subscribers:
        conn.execute(
            insert(outbox),
            [
                {
                    "id": "msg_" + uuid.uuid4().hex[:24],
                    "hook_id": hook_id,
                    "event_id": event["id"],
                    "event_type": event_type,
                    "payload": event["payload"],
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_ms": created,
                    "created_ms": created,
                }
                for event in events
                for hook_id in subscribers
            ],
        )
    return [event["id"] for event in events]


# --- subscriptions -------------------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _hook_dict(row, *, with_secret: bool = False) -> dict:
    out = {
        "id": row.id,
        "target_url": row.target_url,
        "event": row.event,
        "active": bool(row.active),
        "disabled_reason": row.disabled_reason,
        "created_ms": row.created_ms,
    }
    if with_secret:
        out["secret"] = row.secret
    return out


def subscribe(engine: Engine, target_url: str, event: str, *, api_key_id: str | None) -> dict:
    """Create a subscription; its signing secret is returned here only."""
    if event not in EVENT_TYPES:
        raise ValueError(f"event must be one of: {', '.join(EVENT_TYPES)}")
    hook_id = "hook_" + uuid.uuid4().hex[:20]
    with write_transaction(engine) as conn:
        conn.execute(
            insert(hooks).values(
                id=hook_id,
                target_url=target_url,
                event=event,
                secret=_new_secret(),
                api_key_id=api_key_id,
                active=True,
                created_ms=now_ms(),
            )
        )
        row = conn.execute(select(hooks).where(hooks.c.id == hook_id)).one()
    return _hook_dict(row, with_secret=True)


def unsubscribe(engine: Engine, hook_id: str) -> bool:
    """Remove a subscription and cancel what it still had pending."""
    with write_transaction(engine) as conn:
        removed = conn.execute(delete(hooks).where(hooks.c.id == hook_id)).rowcount
        conn.execute(
            update(outbox)
            .where(outbox.c.hook_id == hook_id, outbox.c.status == PENDING)
            .values(status=FAILED, last_error="subscription removed")
        )
    return removed == 1


def list_hooks(engine: Engine) -> list[dict]:
    with read_connection(engine) as conn:
        rows = conn.execute(select(hooks).order_by(hooks.c.created_ms)).all()
    return [_hook_dict(r) for r in rows]


def recent_events(engine: Engine, event_type: str, limit: int = 3) -> list[dict]:
    """The newest emitted payloads of a type (what a subscriber would have received)."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(emitted_events.c.payload)
            .where(emitted_events.c.event_type == event_type)
            .order_by(emitted_events.c.created_ms.desc())
            .limit(limit)
        ).scalars()
        return [orjson.loads(r) for r in rows]


def delivery_history(engine: Engine, hook_id: str, limit: int = 50) -> list[dict]:
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(delivery_log)
            .where(delivery_log.c.hook_id == hook_id)
            .order_by(delivery_log.c.id.desc())
            .limit(limit)
        ).all()
    return [
        {
            "outbox_id": r.outbox_id,
            "attempt": r.attempt,
            "status_code": r.status_code,
            "error": r.error,
            "duration_ms": r.duration_ms,
            "at_ms": r.at_ms,
        }
        for r in rows
    ]


# --- delivery ------------------------------------------------------------------------------------


def retry_schedule(settings: dict) -> Sequence[float]:
    raw = settings.get("HOOK_RETRY_SCHEDULE")
    if not raw:
        return DEFAULT_RETRY_SCHEDULE_SECONDS
    return tuple(float(x) for x in str(raw).split(","))


def _claim_due(engine: Engine, limit: int) -> list[dict]:
    now = now_ms()
    with write_transaction(engine) as conn:
        rows = (
            conn.execute(
                select(outbox, hooks.c.target_url, hooks.c.secret)
                .join(hooks, hooks.c.id == outbox.c.hook_id)
                .where(
                    outbox.c.status == PENDING,
                    outbox.c.next_attempt_ms <= now,
                    hooks.c.active.is_(True),
                )
                .order_by(outbox.c.next_attempt_ms)
                .limit(limit)
                # PostgreSQL: deliveries another worker is leasing right now are skipped.
                .with_for_update(skip_locked=True, of=outbox)
            )
            .mappings()
            .all()
        )
        claimed = []
        for row in rows:
            # The lease: pushed forward so no other worker takes it while this one sends it.
            taken = conn.execute(
                update(outbox)
                .where(
                    and_(
                        outbox.c.id == row["id"], outbox.c.next_attempt_ms == row["next_attempt_ms"]
                    )
                )
                .values(next_attempt_ms=now + CLAIM_LEASE_MS)
            ).rowcount
            if taken == 1:
                claimed.append(dict(row))
    return claimed


def _send(session: requests.Session, row: dict) -> tuple[int | None, str | None, int]:
    timestamp = datetime.now(UTC)
    signature = Webhook(row["secret"]).sign(row["id"], timestamp, row["payload"])
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PersonaPulse-Webhooks/1",
        "webhook-id": row["id"],
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    started = time.perf_counter()
    try:
        response = session.post(
            row["target_url"],
            data=row["payload"].encode(),
            headers=headers,
            timeout=DELIVERY_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return (
            None,
            f"{type(exc).__name__}: {exc}"[:500],
            int((time.perf_counter() - started) * 1000),
        )
    return response.status_code, None, int((time.perf_counter() - started) * 1000)


def deliver_due(
    store: Store, settings: dict, *, session: requests.Session | None = None, limit: int = 50
) -> int:
    """Send every due delivery once; return how many were attempted.

    2xx: delivered. 410 Gone: the subscription is removed. Anything else, 3xx included (redirects are
    never followed), or no answer: retried on the schedule, then marked failed.
    """
    from personapulse.outbound.ssrf import UnsafeTargetError, validate_target_url

    schedule = retry_schedule(settings)
    allow_http = bool(settings.get("ALLOW_HTTP_HOOKS"))
    allow_private = bool(settings.get("ALLOW_PRIVATE_HOOK_TARGETS"))
    session = session or hook_session(settings)
    attempted = 0
    for row in _claim_due(store.engine, limit):
        attempted += 1
        attempt = row["attempts"] + 1
        try:
            validate_target_url(
                row["target_url"], allow_http=allow_http, allow_private=allow_private
            )
            status, error, duration = _send(session, row)
        except UnsafeTargetError as exc:
            status, error, duration = None, f"refused target: {exc}", 0
        at = now_ms()
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_status_code": status,
            "last_error": error,
        }
        gone = status == 410
        if status is not None and 200 <= status < 300:
            values.update(status=DELIVERED, delivered_ms=at)
        elif gone:
            values.update(status=FAILED, last_error="410 Gone: subscription removed")
        elif attempt > len(schedule):
            values.update(status=FAILED)
        else:
            values.update(next_attempt_ms=at + int(schedule[attempt - 1] * 1000))
            if status is not None and error is None:
                values["last_error"] = f"HTTP {status}"
        with write_transaction(store.engine) as conn:
            conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(**values))
            conn.execute(
                insert(delivery_log).values(
                    outbox_id=row["id"],
                    hook_id=row["hook_id"],
                    attempt=attempt,
                    status_code=status,
                    error=values.get("last_error") if status is None or status >= 300 else None,
                    duration_ms=duration,
                    at_ms=at,
                )
            )
            if gone:
                conn.execute(delete(hooks).where(hooks.c.id == row["hook_id"]))
                conn.execute(
                    update(outbox)
                    .where(outbox.c.hook_id == row["hook_id"], outbox.c.status == PENDING)
                    .values(status=FAILED, last_error="subscription removed after 410 Gone")
                )
    return attempted


def hook_session(settings: dict) -> requests.Session:
    """The HTTP client for deliveries: the SSRF-safe session (connect-time address check)."""
    from personapulse.outbound.ssrf import safe_session

    return safe_session(allow_private=bool(settings.get("ALLOW_PRIVATE_HOOK_TARGETS")))
