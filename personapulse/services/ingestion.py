"""Ingestion: parse, store new items once, log what was refused, all in one transaction.

The HTTP face and ``personapulse import`` both come through here, so a file import and an API call
dedupe, stitch and report data quality the same way.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from personapulse.ingest import (
    ItemError,
    ParseResult,
    parse_conversations,
    parse_csv_events,
    parse_events,
    parse_profiles,
    parse_reviews,
)
from personapulse.services.suppression import current_matcher
from personapulse.store import Store, serialize
from personapulse.store.engine import run_in_write_group
from personapulse.store.schema import idempotency_keys
from personapulse.store.writes import (
    PreparedEvents,
    WriteCounts,
    field_presence,
    insert_conversations,
    insert_reviews,
    log_ingest,
    mark_dirty,
    prepare_events,
    store_events,
    upsert_profiles,
)

MAX_ERRORS_REPORTED = 100


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request body."""


@dataclass
class IngestOutcome:
    kind: str
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    flagged: int = 0
    # Items dropped because they carry an id on the suppression list (services/suppression.py).
    suppressed: int = 0
    errors: list[ItemError] = field(default_factory=list)
    new_items: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "suppressed": self.suppressed,
            "errors": [
                {"index": e.index, "field": e.field, "reason": e.reason}
                for e in self.errors[:MAX_ERRORS_REPORTED]
            ],
        }
        if len(self.errors) > MAX_ERRORS_REPORTED:
            body["errors_truncated"] = len(self.errors) - MAX_ERRORS_REPORTED
        body.update(self.extra)
        return body


@dataclass(frozen=True)
class Idempotency:
    api_key_id: str
    key: str
    request_hash: str

    @staticmethod
    def for_request(api_key_id: str, key: str, method: str, path: str, body: bytes) -> Idempotency:
        digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
        return Idempotency(api_key_id=api_key_id, key=key, request_hash=digest)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    replayed: bool


# Called inside the write transaction with the new items and all valid items, so derived rows
# (review classes …) are stored atomically with the data they derive from.
AfterWrite = Callable[[Connection, str, list[dict], list[dict]], dict[str, Any] | None]


def count_items(kind: str, payload: Any) -> int:
    """Number of items a payload holds, before parsing (for the batch-size limit)."""
    envelope = {"events": "batch"}.get(kind, kind)
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict) and isinstance(payload.get(envelope), list):
        return len(payload[envelope])
    return 1


def parse(
    kind: str,
    payload: Any,
    *,
    received_at: datetime,
    event_format: str | None = None,
    csv_mapping: dict[str, str] | None = None,
) -> ParseResult:
    """Dispatch to the parser of ``kind``; ``payload`` is decoded JSON, or CSV text for events."""
    if kind == "events":
        if isinstance(payload, str):
            return parse_csv_events(payload, mapping=csv_mapping, received_at=received_at)
        return parse_events(payload, format=event_format, received_at=received_at)
    if kind == "reviews":
        return parse_reviews(payload, received_at=received_at)
    if kind == "conversations":
        return parse_conversations(payload, received_at=received_at)
    if kind == "profiles":
        return parse_profiles(payload, received_at=received_at)
    raise ValueError(f"unknown kind {kind!r}")


def _write(
    conn: Connection,
    kind: str,
    items: list[dict],
    received_ms: int,
    prepared: PreparedEvents | None,
) -> WriteCounts:
    if prepared is not None:
        return store_events(conn, prepared, received_ms=received_ms)
    if kind == "reviews":
        return insert_reviews(conn, items, received_ms=received_ms)
    if kind == "conversations":
        return insert_conversations(conn, items, received_ms=received_ms)
    return upsert_profiles(conn, items, received_ms=received_ms)


def _source_of(kind: str, items: list[dict]) -> str:
    key = "source_format" if kind == "events" else "source"
    if len(items) == 1:
        return items[0].get(key) or "api"
    sources = Counter(item.get(key) or "api" for item in items)
    return sources.most_common(1)[0][0] if sources else "api"


# One request marks at most this many people for rescoring; a bigger backfill waits for the full refresh.
INCREMENTAL_MAX_PEOPLE = 1_000


def _mark_for_rescoring(conn: Connection, kind: str, new_items: list[dict], marked_ms: int) -> None:
    """New behaviour or reviews move their people's features: mark them for rescoring off the path.

    One row per person in ``dirty_people`` (only while personas exist), however many requests
    touch them; the ``personas.update_dirty`` job rescores the marked people in chunks. This costs
    a request one statement, where a job per request cost a read, an insert and a rescoring run.
    """
    if not new_items:
        return
    people: set[str] = set()
    for item in new_items:
        if item.get("user_id"):
            people.add(item["user_id"])
        elif kind == "events" and item.get("anonymous_id"):
            people.add("anon:" + item["anonymous_id"])
        elif item.get("email"):
            people.add(item["email"])
        if len(people) > INCREMENTAL_MAX_PEOPLE:
            return
    if people:
        mark_dirty(conn, sorted(people), marked_ms)


def ingest(
    store: Store,
    kind: str,
    parsed: ParseResult,
    *,
    settings: dict,
    received_at: datetime | None = None,
    idempotency: Idempotency | None = None,
    respond: Callable[[IngestOutcome], tuple[int, dict]] | None = None,
    after_write: AfterWrite | None = None,
) -> tuple[IngestOutcome | None, StoredResponse]:
    """Store the valid items of ``parsed`` once; return the outcome and the response to give.

    With ``idempotency``, a replay of the same request returns the first response unchanged (and
    ``None`` as outcome); the same key with another body raises IdempotencyConflict.
    """
    respond = respond or (lambda outcome: (200, outcome.to_dict()))
    if after_write is None and kind in ("reviews", "conversations"):
        # Every review and conversation is classified on arrival, whichever door it came in by.
        from personapulse.services.reviews import classify_new

        after_write = classify_new
    received_at = received_at or datetime.now(UTC)
    received_ms = int(received_at.timestamp() * 1000)
    items = parsed.items
    # Everything that needs no database is done before the write lock is taken: a large batch then
    # holds the lock only for its inserts, and another worker's batch can be prepared meanwhile.
    prepared = field_sets = None
    future_tolerance_ms = int(settings["FUTURE_TOLERANCE_SECONDS"]) * 1000
    if kind == "events":
        prepared = prepare_events(
            items, received_ms=received_ms, future_tolerance_ms=future_tolerance_ms
        )
        field_sets = field_presence(items)
    # One bad item may have several bad fields: count items, report every field.
    rejected = len({error.index for error in parsed.errors})
    reasons = Counter(f"{e.field}: {e.reason}" for e in parsed.errors) if parsed.errors else None
    source = _source_of(kind, items)

    def work(conn: Connection) -> tuple[IngestOutcome | None, StoredResponse]:
        # PostgreSQL: ingest writes take turns as on SQLite, so two requests with one Idempotency-Key
        # (or one review id, or one user's traits) never race between their read and their write.
        serialize(conn, "ingest")
        if idempotency is not None:
            previous = conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.api_key_id == idempotency.api_key_id,
                    idempotency_keys.c.key == idempotency.key,
                )
            ).first()
            if previous is not None:
                if previous.request_hash != idempotency.request_hash:
                    raise IdempotencyConflict(idempotency.key)
                return None, StoredResponse(
                    previous.status_code, orjson.loads(previous.response_body), replayed=True
                )
        kept, kept_prepared, suppressed = items, prepared, 0
        # Checked in the transaction, so an id suppressed by any process is dropped from its commit on.
        matcher = current_matcher(conn)
        if matcher is not None:
            kept, suppressed = matcher.split(kind, items)
            if suppressed and prepared is not None:
                kept_prepared = prepare_events(
                    kept, received_ms=received_ms, future_tolerance_ms=future_tolerance_ms
                )
        counts = _write(conn, kind, kept, received_ms, kept_prepared)
        outcome = IngestOutcome(
            kind=kind,
            accepted=counts.accepted,
            duplicate=counts.duplicate,
            rejected=rejected,
            flagged=counts.flagged,
            suppressed=suppressed,
            errors=parsed.errors,
            new_items=[kept[position] for position in counts.new_positions],
        )
        if after_write is not None and kept:
            extra = after_write(conn, kind, outcome.new_items, kept)
            if extra:
                outcome.extra.update(extra)
        if settings.get("INCREMENTAL_UPDATES", True) and kind in (
            "events",
            "reviews",
            "conversations",
        ):
            _mark_for_rescoring(conn, kind, outcome.new_items, received_ms)
        log_ingest(
            conn,
            kind=kind,
            source=source,
            received_ms=received_ms,
            counts=counts,
            rejected=rejected,
            reject_reasons=reasons,
            field_sets=field_sets,
            item_count=len(items),
        )
        status, body = respond(outcome)
        if idempotency is not None:
            conn.execute(
                insert(idempotency_keys).values(
                    api_key_id=idempotency.api_key_id,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    status_code=status,
                    response_body=orjson.dumps(body).decode(),
                    created_ms=received_ms,
                )
            )
        return outcome, StoredResponse(status, body, replayed=False)

    # Concurrent requests of this process share one transaction and one commit (group commit);
    # this returns only after the commit that holds this request's items.
    return run_in_write_group(store.engine, work)
