"""What the four ingestion blueprints share: body reading, limits, idempotency, answers."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from flask import Response, current_app, request

from personapulse.ingest import EVENT_FORMATS
from personapulse.services.ingestion import (
    Idempotency,
    IdempotencyConflict,
    IngestOutcome,
    count_items,
    ingest,
    parse,
)
from webhooks.auth import current_key
from webhooks.errors import ApiError, error_body, invalid_fields
from webhooks.requests import decode_json_body, refuse_nul, require_content_type
from webhooks.store import get_store

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _respond(outcome: IngestOutcome) -> tuple[int, dict]:
    if outcome.rejected and not (outcome.accepted or outcome.duplicate or outcome.suppressed):
        fields = [
            {"index": e.index, "field": e.field, "reason": e.reason} for e in outcome.errors[:100]
        ]
        return 422, error_body(
            422, "invalid_fields", f"all {outcome.rejected} items were rejected", fields
        )
    return 200, outcome.to_dict()


def _csv_mapping() -> dict[str, str] | None:
    raw = request.args.get("mapping")
    if not raw:
        return None
    try:
        mapping = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid_fields(
            [{"field": "mapping", "reason": f"must be a JSON object: {exc}"}]
        ) from exc
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise invalid_fields(
            [{"field": "mapping", "reason": "must map canonical names to CSV column names"}]
        )
    return mapping


def handle_ingest(kind: str, *, allow_csv: bool = False):
    allowed = ("application/json", "text/csv") if allow_csv else ("application/json",)
    media_type = require_content_type(*allowed)
    # Parsing the query string costs a single event's request ~4 µs; most requests have none.
    event_format = request.args.get("format") if request.query_string else None
    if event_format is not None and event_format not in EVENT_FORMATS:
        raise invalid_fields(
            [{"field": "format", "reason": f"must be one of: {', '.join(EVENT_FORMATS)}"}]
        )
    if media_type == "text/csv":
        try:
            raw = request.get_data(cache=True)
            refuse_nul(raw)
            payload = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "bad_request", f"the CSV body is not valid UTF-8: {exc}") from exc
        size = max(payload.count("\n"), 1)
    else:
        payload = decode_json_body()
        size = count_items(kind, payload)
    limit = int(current_app.config["MAX_BATCH_ITEMS"])
    if size > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"the request holds {size} items; at most {limit} are accepted at once",
        )
    received_at = datetime.now(UTC)
    try:
        parsed = parse(
            kind,
            payload,
            received_at=received_at,
            event_format=event_format,
            csv_mapping=_csv_mapping() if media_type == "text/csv" else None,
        )
    except ValueError as exc:
        raise invalid_fields([{"field": "(body)", "reason": str(exc)}]) from exc

    idempotency = None
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER)
    if idempotency_key is None and current_key().id == "signed:standard-webhooks":
        # A Standard Webhooks sender retries with the same webhook-id: answer it like the first time.
        idempotency_key = request.headers.get("webhook-id")
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > 200:
            raise invalid_fields(
                [{"field": IDEMPOTENCY_HEADER, "reason": "must be 1 to 200 characters"}]
            )
        idempotency = Idempotency.for_request(
            current_key().id,
            idempotency_key,
            request.method,
            request.full_path,
            request.get_data(cache=True),
        )
    try:
        _, stored = ingest(
            get_store(),
            kind,
            parsed,
            settings=current_app.config,
            received_at=received_at,
            idempotency=idempotency,
            respond=_respond,
        )
    except IdempotencyConflict as exc:
        raise invalid_fields(
            [
                {
                    "field": IDEMPOTENCY_HEADER,
                    "reason": "was already used with a different request body",
                }
            ],
            message=f"Idempotency-Key {exc} was used before for another request",
        ) from exc
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    # orjson, not Flask's stdlib encoder: the answer of the busiest endpoint, built once.
    return Response(orjson.dumps(stored.body), stored.status, headers, mimetype="application/json")
