"""Slack alerts through the durable outbox.

``enqueue_alerts`` runs inside the transaction that records a persona version's shifts, so an alert
exists exactly when its shifts do. The worker sends it later (and again after a restart) with
``slack_sdk``'s ``WebhookClient`` and its rate-limit retry handler (``SlackNotifier.send``); when
that still fails, the message is retried on the hook outbox's schedule and every attempt is written
to the delivery log under hook id ``"slack"`` (``GET /v1/hooks/slack/deliveries``).

At most one message a second reaches a webhook, across every worker process sharing the database:
a message is only claimed while the webhook's gate (``slack_webhooks.next_send_ms``) is open, and
claiming it closes the gate until the send finished plus the interval. Many shifts found at once
go out as one digest (``SlackNotifier.messages``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from personapulse.services.outbound import DELIVERED, FAILED, PENDING, retry_schedule
from personapulse.store import Store, now_ms, read_connection, write_transaction
from personapulse.store.schema import delivery_log, slack_outbox, slack_webhooks
from personapulse.store.writes import insert_ignore

log = logging.getLogger(__name__)

SLACK_HOOK_ID = "slack"
# A claimed message (and its webhook's gate) stays invisible this long: the client's timeout and
# Retry-After waits fit inside it; a worker that dies mid-send frees both when it runs out.
CLAIM_LEASE_MS = 120_000
# Slack's answers that retrying cannot fix (bad payload, webhook removed or revoked, channel gone).
PERMANENT_STATUSES = frozenset({400, 403, 404, 410})


def webhook_key(url: str) -> str:
    """A short stable name for a webhook URL (the URL itself is a secret)."""
    return "wh_" + hashlib.sha256(url.encode()).hexdigest()[:24]


def _notifier(url: str, settings: Mapping[str, Any]):
    from personapulse.outbound.slack import SlackNotifier

    return SlackNotifier(
        url,
        dashboard_url=settings.get("DASHBOARD_URL"),
        min_interval_seconds=_interval_seconds(settings),
        digest_threshold=int(settings.get("SLACK_DIGEST_THRESHOLD") or 3),
    )


def _interval_seconds(settings: Mapping[str, Any]) -> float:
    raw = settings.get("SLACK_MIN_INTERVAL_SECONDS")
    return 1.0 if raw is None or raw == "" else float(raw)


def enqueue_alerts(
    conn: Connection,
    shifts: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    *,
    persona_names: Mapping[str, str] | None = None,
) -> list[str]:
    """Queue the Slack messages for these shifts (``Shift.to_dict()`` form) in the caller's
    transaction; one per shift, or one digest when more than the threshold arrive at once.
    Returns the message ids (none when ``SLACK_WEBHOOK_URL`` is not set)."""
    url = settings.get("SLACK_WEBHOOK_URL")
    if not url or not shifts:
        return []
    created = now_ms()
    rows = [
        {
            "id": "slk_" + uuid.uuid4().hex[:24],
            "webhook_key": webhook_key(url),
            "webhook_url": url,
            "payload": orjson.dumps(payload).decode(),
            "shift_ids": orjson.dumps(ids).decode(),
            "digest": digest,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_ms": created,
            "created_ms": created,
        }
        for payload, ids, digest in _notifier(url, settings).messages(
            shifts, persona_names=persona_names
        )
    ]
    if rows:
        conn.execute(insert(slack_outbox), rows)
    return [row["id"] for row in rows]


def _open_gate(conn: Connection, key: str, now: int) -> bool:
    """Close the webhook's gate for a send if it is open (an atomic conditional update)."""
    taken = conn.execute(
        update(slack_webhooks)
        .where(slack_webhooks.c.webhook_key == key, slack_webhooks.c.next_send_ms <= now)
        .values(next_send_ms=now + CLAIM_LEASE_MS)
    ).rowcount
    if taken == 1:
        return True
    exists = conn.execute(
        select(slack_webhooks.c.webhook_key).where(slack_webhooks.c.webhook_key == key)
    ).first()
    if exists is not None:
        return False
    # On PostgreSQL two workers may both find no row: the one whose insert loses finds the gate
    # closed (it raised a unique violation before).
    created = conn.execute(
        insert_ignore(conn, slack_webhooks)
        .values(webhook_key=key, next_send_ms=now + CLAIM_LEASE_MS)
        .returning(slack_webhooks.c.webhook_key)
    ).first()
    return created is not None


def _anything_sendable(engine: Engine, now: int) -> bool:
    """A cheap read first, so idle workers never take the write lock just to find nothing."""
    with read_connection(engine) as conn:
        due = (
            select(slack_outbox.c.id)
            .outerjoin(slack_webhooks, slack_webhooks.c.webhook_key == slack_outbox.c.webhook_key)
            .where(
                slack_outbox.c.status == PENDING,
                slack_outbox.c.next_attempt_ms <= now,
                (slack_webhooks.c.next_send_ms.is_(None)) | (slack_webhooks.c.next_send_ms <= now),
            )
            .limit(1)
        )
        return conn.execute(due).first() is not None


def _claim_one(engine: Engine) -> dict | None:
    """The oldest due message whose webhook may be sent to now, leased; None when there is none."""
    now = now_ms()
    if not _anything_sendable(engine, now):
        return None
    with write_transaction(engine) as conn:
        rows = (
            conn.execute(
                select(slack_outbox)
                .where(slack_outbox.c.status == PENDING, slack_outbox.c.next_attempt_ms <= now)
                .order_by(slack_outbox.c.next_attempt_ms, slack_outbox.c.created_ms)
                .limit(20)
            )
            .mappings()
            .all()
        )
        closed: set[str] = set()
        for row in rows:
            if row["webhook_key"] in closed:
                continue
            if not _open_gate(conn, row["webhook_key"], now):
                closed.add(row["webhook_key"])
                continue
            leased = conn.execute(
                update(slack_outbox)
                .where(
                    slack_outbox.c.id == row["id"],
                    slack_outbox.c.next_attempt_ms == row["next_attempt_ms"],
                )
                .values(next_attempt_ms=now + CLAIM_LEASE_MS)
            ).rowcount
            if leased == 1:
                return dict(row)
            # Someone else leased it meanwhile: reopen the gate this claim just closed.
            conn.execute(
                update(slack_webhooks)
                .where(slack_webhooks.c.webhook_key == row["webhook_key"])
                .values(next_send_ms=now)
            )
    return None


def deliver_due(store: Store, settings: Mapping[str, Any], *, limit: int = 20) -> int:
    """Send the due Slack messages this worker may send now; return how many were attempted.

    200 ``ok``: delivered. 400/403/404/410 (bad payload, webhook revoked, channel archived): failed
    at once. Anything else, including a 429 the client's own retries could not get past, or no
    answer: retried on ``HOOK_RETRY_SCHEDULE``, then failed.
    """
    schedule = retry_schedule(dict(settings))
    interval_ms = int(_interval_seconds(settings) * 1000)
    attempted = 0
    while attempted < limit:
        row = _claim_one(store.engine)
        if row is None:
            break
        attempted += 1
        attempt = row["attempts"] + 1
        payload = orjson.loads(row["payload"])
        result = _notifier(row["webhook_url"], settings).send(
            payload, orjson.loads(row["shift_ids"]), bool(row["digest"])
        )
        at = now_ms()
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_status_code": result.status_code,
            "last_error": result.error,
        }
        if result.ok:
            values.update(status=DELIVERED, delivered_ms=at)
        elif result.status_code in PERMANENT_STATUSES or attempt > len(schedule):
            values.update(status=FAILED)
        else:
            values.update(next_attempt_ms=at + int(schedule[attempt - 1] * 1000))
        if not result.ok:
            log.warning("Slack alert %s attempt %d: %s", row["id"], attempt, result.error)
        with write_transaction(store.engine) as conn:
            conn.execute(
                update(slack_outbox).where(slack_outbox.c.id == row["id"]).values(**values)
            )
            conn.execute(
                insert(delivery_log).values(
                    outbox_id=row["id"],
                    hook_id=SLACK_HOOK_ID,
                    attempt=attempt,
                    status_code=result.status_code,
                    error=None if result.ok else result.error,
                    duration_ms=int(result.duration_ms),
                    at_ms=at,
                )
            )
            conn.execute(
                update(slack_webhooks)
                .where(slack_webhooks.c.webhook_key == row["webhook_key"])
                .values(next_send_ms=at + interval_ms)
            )
    return attempted


def pending(engine: Engine) -> list[dict]:
    """Messages not yet delivered nor given up on (what a restart must still send)."""
    with read_connection(engine) as conn:
        rows = conn.execute(select(slack_outbox).where(slack_outbox.c.status == PENDING)).mappings()
        return [
            {k: v for k, v in row.items() if k != "webhook_url"}
            | {"payload": orjson.loads(row["payload"])}
            for row in rows
        ]
