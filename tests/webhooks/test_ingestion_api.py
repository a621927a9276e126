"""The ingestion endpoints over Flask's test client: formats, partial batches, idempotency, errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from personapulse.store.frames import load_events
from personapulse.store.schema import conversations, events, reviews, users
from tests.conftest import SAMPLE_DATA


def _count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _jsonl(name: str) -> list[dict]:
    path = SAMPLE_DATA / "events" / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_segment_batch_is_stored_and_resend_is_duplicate(client, auth, store):
    batch = json.loads((SAMPLE_DATA / "events" / "segment_batch.json").read_text())
    first = client.post("/v1/events", json=batch, headers=auth)
    assert first.status_code == 200, first.json
    n = len(batch["batch"])
    assert first.json["accepted"] == n and first.json["rejected"] == 0
    again = client.post("/v1/events", json=batch, headers=auth)
    assert again.status_code == 200
    assert again.json == {
        "accepted": 0,
        "duplicate": n,
        "rejected": 0,
        "flagged": 0,
        "suppressed": 0,
        "errors": [],
    }
    assert _count(store, events) == n


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("mixpanel_export.jsonl", "mixpanel"),
        ("amplitude_export.jsonl", "amplitude"),
        ("ga4_bigquery_export.jsonl", "ga4"),
    ],
)
def test_export_rows_detected_or_named(client, auth, store, name, fmt):
    rows = _jsonl(name)
    detected = client.post("/v1/events", json=rows, headers=auth)
    assert detected.status_code == 200, detected.json
    assert detected.json["accepted"] == len(rows)
    named = client.post(f"/v1/events?format={fmt}", json=rows, headers=auth)
    assert named.json["duplicate"] == len(rows)
    frame = load_events(store.engine, include_flagged=True)
    assert set(frame["source_format"]) == {fmt}


def test_wrong_named_format_rejects_items(client, auth):
    rows = _jsonl("mixpanel_export.jsonl")
    response = client.post("/v1/events?format=ga4", json=rows, headers=auth)
    assert response.status_code == 422
    assert all(f["index"] >= 0 for f in response.json["error"]["fields"])


def test_unknown_format_parameter_is_422_naming_it(client, auth):
    response = client.post("/v1/events?format=snowplow", json=[], headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["fields"][0]["field"] == "format"


def test_csv_events_with_default_mapping(client, auth, store):
    body = (SAMPLE_DATA / "events" / "events.csv").read_bytes()
    response = client.post("/v1/events", data=body, headers=auth | {"Content-Type": "text/csv"})
    assert response.status_code == 200, response.json
    rows = body.decode().strip().count("\n")
    assert response.json["accepted"] + response.json["rejected"] == rows
    assert _count(store, events) == response.json["accepted"]


def test_partial_batch_keeps_good_items_and_names_bad_ones(client, auth, store):
    good = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "ok-1"}
    bad_type = {"type": "purchase", "userId": "u1", "messageId": "bad-1"}
    no_ids = {"type": "track", "event": "X", "messageId": "bad-2"}
    response = client.post("/v1/events", json={"batch": [good, bad_type, no_ids]}, headers=auth)
    assert response.status_code == 200
    assert response.json["accepted"] == 1 and response.json["rejected"] == 2
    named = {(e["index"], e["field"]) for e in response.json["errors"]}
    assert (1, "type") in named
    assert any(index == 2 for index, _ in named)
    assert _count(store, events) == 1


def test_all_bad_is_422_and_nothing_stored(client, auth, store):
    response = client.post("/v1/events", json=[{"type": "track"}], headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_fields"
    assert _count(store, events) == 0


def test_idempotency_key_replays_same_answer_and_conflicts_on_other_body(client, auth, store):
    body = {"source": "google", "text": "Lovely recipes", "rating": 5, "review_id": "g-1"}
    headers = auth | {"Idempotency-Key": "abc-123"}
    first = client.post("/v1/reviews", json=body, headers=headers)
    replay = client.post("/v1/reviews", json=body, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.json == first.json
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert _count(store, reviews) == 1
    other = client.post("/v1/reviews", json=body | {"rating": 1}, headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["fields"][0]["field"] == "Idempotency-Key"


def test_identity_stitching_spans_anonymous_and_known(client, auth, store):
    batch = [
        {
            "type": "page",
            "anonymousId": "anon-9",
            "messageId": "p1",
            "timestamp": "2026-01-01T10:00:00Z",
            "context": {"page": {"path": "/pricing"}},
        },
        {
            "type": "identify",
            "anonymousId": "anon-9",
            "userId": "user-9",
            "messageId": "i1",
            "timestamp": "2026-01-01T10:05:00Z",
            "traits": {"email": "nine@example.com", "plan": "family"},
        },
        {
            "type": "track",
            "userId": "user-9",
            "event": "Order Completed",
            "messageId": "t1",
            "timestamp": "2026-01-01T10:10:00Z",
            "properties": {"revenue": 42.5},
        },
        {
            "type": "alias",
            "previousId": "old-crm-9",
            "userId": "user-9",
            "messageId": "a1",
            "timestamp": "2026-01-01T10:11:00Z",
        },
        {
            "type": "track",
            "userId": "old-crm-9",
            "event": "Support Ticket Opened",
            "messageId": "t2",
            "timestamp": "2026-01-02T10:00:00Z",
        },
    ]
    response = client.post("/v1/events", json=batch, headers=auth)
    assert response.json["accepted"] == 5
    frame = load_events(store.engine)
    assert set(frame["person_id"]) == {"user-9"}
    assert frame["revenue"].sum() == pytest.approx(42.5)
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.user_id == "user-9")).one()
    assert row.email == "nine@example.com"


def test_review_links_to_user_by_email(client, auth, store):
    from personapulse.store.frames import load_reviews

    client.post("/v1/profiles", json={"user_id": "u-7", "email": "seven@example.com"}, headers=auth)
    client.post(
        "/v1/reviews",
        json={"source": "trustpilot", "text": "Late again", "email": "seven@example.com"},
        headers=auth,
    )
    assert load_reviews(store.engine)["person_id"].tolist() == ["u-7"]


def test_conversations_and_profiles_samples(client, auth, store):
    convs = json.loads((SAMPLE_DATA / "conversations" / "conversations.json").read_text())
    response = client.post("/v1/conversations", json=convs, headers=auth)
    assert response.status_code == 200, response.json
    assert response.json["rejected"] == 0
    assert _count(store, conversations) == response.json["accepted"] > 0
    profiles = json.loads((SAMPLE_DATA / "profiles" / "profiles.json").read_text())
    response = client.post("/v1/profiles", json=profiles, headers=auth)
    assert response.status_code == 200 and response.json["accepted"] > 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-API-Key": "pp_nothere_secret"}, 401),
        ({"Authorization": "Bearer nonsense"}, 401),
    ],
)
def test_missing_or_bad_key_is_401(client, headers, status):
    response = client.post("/v1/events", json={"type": "track"}, headers=headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == "unauthorized"


def test_bearer_header_and_scope_check(client, make_key):
    read_only = make_key("read")
    response = client.post(
        "/v1/events",
        json={"type": "track", "userId": "u", "event": "x"},
        headers={"Authorization": f"Bearer {read_only}"},
    )
    assert response.status_code == 403
    assert "ingest" in response.json["error"]["message"]
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {read_only}"}).json[
        "scopes"
    ] == ["read"]


def test_malformed_json_wrong_type_and_size(app, client, auth):
    bad = client.post(
        "/v1/events", data=b'{"type": ', headers=auth | {"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_request"
    wrong = client.post("/v1/reviews", data=b"text", headers=auth | {"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = client.post("/v1/events", json={"batch": [{"type": "track"}] * 200}, headers=auth)
    assert big.status_code == 413 and big.json["error"]["code"] == "payload_too_large"


def test_too_many_items_is_413(app, client, auth):
    app.config["MAX_BATCH_ITEMS"] = 3
    response = client.post(
        "/v1/profiles", json=[{"user_id": str(i)} for i in range(4)], headers=auth
    )
    assert response.status_code == 413
    assert "at most 3" in response.json["error"]["message"]


def test_invalid_utf8_is_400(client, auth):
    response = client.post(
        "/v1/events", data=b'{"type": "\xff"}', headers=auth | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_envelope_of_wrong_shape_is_422(client, auth):
    response = client.post("/v1/reviews", json="just a string", headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["fields"][0]["field"] == "(body)"


def test_future_and_missing_timestamps_are_flagged_not_used(client, auth, store):
    batch = [
        {
            "type": "track",
            "userId": "u",
            "event": "x",
            "messageId": "f1",
            "timestamp": "2999-01-01T00:00:00Z",
        },
        {"type": "track", "userId": "u", "event": "x", "messageId": "f2"},
        {
            "type": "track",
            "userId": "u",
            "event": "x",
            "messageId": "f3",
            "timestamp": "2026-01-01T00:00:00Z",
        },
        {
            "type": "track",
            "userId": "u",
            "event": "x",
            "messageId": "f4",
            "timestamp": "1971-01-01T00:00:00Z",
        },
    ]
    response = client.post("/v1/events", json=batch, headers=auth)
    assert response.json["accepted"] == 4 and response.json["flagged"] == 3
    assert load_events(store.engine)["event_id"].tolist() == ["f3"]
    assert len(load_events(store.engine, include_flagged=True)) == 4
    report = client.get("/v1/data-quality", headers=auth).json["events"]
    assert (
        report["future_timestamp"],
        report["missing_timestamp"],
        report["ancient_timestamp"],
    ) == (1, 1, 1)
