"""Signed senders (Segment, HubSpot v3, Standard Webhooks) may ingest without an API key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

SEGMENT_SECRET = "segment-shared-secret"
HUBSPOT_SECRET = "hubspot-client-secret"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def signed_app(app):
    app.config.update(
        SEGMENT_SHARED_SECRET=SEGMENT_SECRET,
        HUBSPOT_CLIENT_SECRET=HUBSPOT_SECRET,
        INBOUND_WEBHOOK_SECRET=STANDARD_SECRET,
    )
    return app


def _event(message_id: str) -> bytes:
    return json.dumps(
        {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": message_id}
    ).encode()


def test_segment_signature(signed_app):
    client = signed_app.test_client()
    body = _event("seg-1")
    signature = hmac.new(SEGMENT_SECRET.encode(), body, hashlib.sha1).hexdigest()
    ok = client.post(
        "/v1/events",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": signature},
    )
    assert ok.status_code == 200 and ok.json["accepted"] == 1
    bad = client.post(
        "/v1/events",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": "0" * 40},
    )
    assert bad.status_code == 401 and bad.json["error"]["code"] == "invalid_signature"


def test_hubspot_v3_signature_and_replay_window(signed_app):
    client = signed_app.test_client()
    body = json.dumps(
        {
            "source": "hubspot",
            "kind": "ticket",
            "conversation_id": "t-1",
            "messages": [{"role": "customer", "text": "Where is my order?"}],
        }
    ).encode()
    uri = "http://localhost/v1/conversations"

    def headers(timestamp_ms: int) -> dict:
        message = f"POST{uri}{body.decode()}{timestamp_ms}".encode()
        signature = base64.b64encode(
            hmac.new(HUBSPOT_SECRET.encode(), message, hashlib.sha256).digest()
        ).decode()
        return {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        }

    now_ms = int(time.time() * 1000)
    assert client.post("/v1/conversations", data=body, headers=headers(now_ms)).status_code == 200
    stale = client.post("/v1/conversations", data=body, headers=headers(now_ms - 10 * 60 * 1000))
    assert stale.status_code == 401


def test_standard_webhooks_signature_and_retry_is_idempotent(signed_app):
    client = signed_app.test_client()
    body = _event("std-1").decode()
    timestamp = datetime.now(UTC)
    signature = Webhook(STANDARD_SECRET).sign("msg_1", timestamp, body)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    first = client.post("/v1/events", data=body, headers=headers)
    again = client.post("/v1/events", data=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json == first.json
    tampered = client.post(
        "/v1/events", data=body.replace("Signed Up", "Order Completed"), headers=headers
    )
    assert tampered.status_code == 401


def test_signature_never_grants_more_than_ingest(signed_app):
    body = b"{}"
    signature = hmac.new(SEGMENT_SECRET.encode(), body, hashlib.sha1).hexdigest()
    response = signed_app.test_client().post(
        "/v1/personas/refresh",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": signature},
    )
    assert response.status_code == 401
