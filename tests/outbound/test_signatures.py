"""Inbound signatures, checked against signatures computed independently here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from personapulse.outbound.signatures import (
    SignatureError,
    verify_hubspot_v3,
    verify_segment,
    verify_standard_webhooks,
)

NOW = 1_795_000_000.0  # epoch seconds used as "now" throughout
BODY = json.dumps(
    [{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 123}]
).encode()

# --- HubSpot v3 -------------------------------------------------------------------------------

HS_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HS_URI = "https://pulse.example.com/v1/hooks/hubspot?portal=62515"


def hubspot_signature(secret, method, uri, body, timestamp):
    source = f"{method}{uri}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def _hubspot(**overrides):
    secret = overrides.pop("secret", HS_SECRET)
    timestamp = overrides.pop("timestamp", str(int(NOW * 1000) - 60_000))  # sent a minute ago
    body = overrides.pop("body", BODY)
    signed_body = overrides.pop("signed_body", body)
    uri = overrides.pop("uri", HS_URI)
    signature = overrides.pop(
        "signature", hubspot_signature(HS_SECRET, "POST", uri, signed_body, timestamp)
    )
    kwargs = {
        "method": "POST",
        "uri": uri,
        "body": body,
        "timestamp_header": timestamp,
        "signature_header": signature,
        "now": NOW,
    } | overrides
    return verify_hubspot_v3(secret, **kwargs)


def test_hubspot_valid():
    assert _hubspot() is None
    assert _hubspot(now=datetime.fromtimestamp(NOW, tz=UTC)) is None


def test_hubspot_decodes_the_listed_escapes_only():
    sent = "https://pulse.example.com/v1/hooks/hubspot?email=a%40b.com&note=x%20y"
    signed_as = "https://pulse.example.com/v1/hooks/hubspot?email=a@b.com&note=x%20y"
    timestamp = str(int(NOW * 1000))
    signature = hubspot_signature(HS_SECRET, "POST", signed_as, BODY, timestamp)
    assert _hubspot(uri=sent, timestamp=timestamp, signature=signature) is None


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"body": BODY + b" ", "signed_body": BODY}, "does not match"),
        ({"secret": "other-secret"}, "does not match"),
        ({"method": "GET"}, "does not match"),
        ({"timestamp": str(int(NOW * 1000) - 301_000)}, "301 s old"),  # replay after 5 minutes
        ({"timestamp": str(int(NOW * 1000) + 400_000)}, "in the future"),
        ({"timestamp": "yesterday"}, "not a number"),
        ({"timestamp": ""}, "missing"),
        ({"signature": None}, "missing"),
        ({"secret": ""}, "no signing secret"),
    ],
)
def test_hubspot_rejects(overrides, why):
    with pytest.raises(SignatureError, match=why):
        _hubspot(**overrides)


def test_hubspot_tolerance_is_configurable():
    old = str(int(NOW * 1000) - 120_000)
    assert _hubspot(timestamp=old) is None
    with pytest.raises(SignatureError, match="old"):
        _hubspot(timestamp=old, tolerance_seconds=60)


# --- Segment ----------------------------------------------------------------------------------

SEG_SECRET = "segment-shared-secret"


def test_segment_valid_and_case_insensitive_hex():
    signature = hmac.new(SEG_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert verify_segment(SEG_SECRET, BODY, signature) is None
    assert verify_segment(SEG_SECRET.encode(), BODY, signature.upper()) is None


@pytest.mark.parametrize(
    ("secret", "body", "header", "why"),
    [
        (SEG_SECRET, BODY + b"x", None, "does not match"),
        ("wrong", BODY, None, "does not match"),
        (SEG_SECRET, BODY, "", "missing"),
        (SEG_SECRET, BODY, "abc", "does not match"),
        ("", BODY, None, "no signing secret"),
    ],
)
def test_segment_rejects(secret, body, header, why):
    if header is None:
        header = hmac.new(SEG_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    with pytest.raises(SignatureError, match=why):
        verify_segment(secret, body, header)


# --- Standard Webhooks ------------------------------------------------------------------------

SW_KEY = b"0123456789abcdef0123456789abcdef"
SW_SECRET = "whsec_" + base64.b64encode(SW_KEY).decode()


def standard_signature(msg_id, timestamp, body):
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(SW_KEY, signed, hashlib.sha256).digest()).decode()


def _headers(timestamp=int(NOW) - 30, msg_id="msg_2Lz8", body=BODY, signature=None):
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature or standard_signature(msg_id, timestamp, body),
    }


def test_standard_webhooks_independent_signature():
    assert verify_standard_webhooks(SW_SECRET, BODY, _headers(), now=NOW) is None


def test_standard_webhooks_library_signer_and_rotation():
    stamp = int(NOW) - 10
    library = Webhook(SW_SECRET).sign("msg_1", datetime.fromtimestamp(stamp, tz=UTC), BODY.decode())
    # during secret rotation senders list several signatures; one match is enough
    header = f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,ignored {library}"
    headers = _headers(timestamp=stamp, msg_id="msg_1", signature=header)
    assert verify_standard_webhooks(SW_SECRET, BODY, headers, now=NOW) is None


def test_standard_webhooks_real_clock_with_library_verify_agreeing():
    # Signed "now" by the library: both the library's own verify and ours accept it.
    stamp = datetime.now(tz=UTC)
    signature = Webhook(SW_SECRET).sign("msg_live", stamp, BODY.decode())
    headers = {
        "webhook-id": "msg_live",
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }
    Webhook(SW_SECRET).verify(BODY, headers)
    assert verify_standard_webhooks(SW_SECRET, BODY, headers) is None


@pytest.mark.parametrize(
    ("headers", "body", "why"),
    [
        (_headers(), BODY.replace(b"123", b"124"), "no webhook-signature entry matches"),
        (_headers(msg_id="msg_other", signature=_headers()["Webhook-Signature"]), BODY, "matches"),
        (_headers(timestamp=int(NOW) - 301), BODY, "301 s old"),  # replay outside the window
        (_headers(timestamp=int(NOW) + 301), BODY, "in the future"),
        (_headers(signature="v2,abc"), BODY, "matches"),
        ({"webhook-id": "m", "webhook-timestamp": str(int(NOW))}, BODY, "missing"),
        (_headers() | {"Webhook-Timestamp": "soon"}, BODY, "not an integer"),
        (_headers(), b"\xff\xfe", "not UTF-8"),
    ],
)
def test_standard_webhooks_rejects(headers, body, why):
    with pytest.raises(SignatureError, match=why):
        verify_standard_webhooks(SW_SECRET, body, headers, now=NOW)


def test_standard_webhooks_tolerance_and_bad_secret():
    headers = _headers(timestamp=int(NOW) - 100)
    assert verify_standard_webhooks(SW_SECRET, BODY, headers, now=NOW) is None
    with pytest.raises(SignatureError, match="old"):
        verify_standard_webhooks(SW_SECRET, BODY, headers, now=NOW, tolerance_seconds=60)
    with pytest.raises(SignatureError, match="secret"):
        verify_standard_webhooks("whsec_", BODY, headers, now=NOW)
    with pytest.raises(SignatureError, match="matches"):
        other = "whsec_" + base64.b64encode(b"k" * 32).decode()
        verify_standard_webhooks(other, BODY, headers, now=NOW)
