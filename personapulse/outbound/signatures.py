"""Inbound webhook signatures: HubSpot v3, Segment, Standard Webhooks.

Each ``verify_*`` returns None when the request is authentic and fresh, and raises
:class:`SignatureError` otherwise. Comparisons are constant-time. The HTTP layer passes the raw
body bytes exactly as received (before any JSON parsing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

__all__ = [
    "SignatureError",
    "verify_hubspot_v3",
    "verify_segment",
    "verify_standard_webhooks",
]

# HubSpot v3: these percent-escapes are decoded in the URI before signing (HubSpot's
# "Validate the v3 request signature" table); every other escape is kept as sent.
_HUBSPOT_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_ESCAPE = re.compile("|".join(_HUBSPOT_DECODE), re.IGNORECASE)


class SignatureError(ValueError):
    """The request is not authentic or not fresh; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _now_seconds(now: float | datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()
    return float(now)


def _key(secret: str | bytes) -> bytes:
    if not secret:
        raise SignatureError("no signing secret is configured")
    return secret.encode() if isinstance(secret, str) else secret


def hubspot_v3_source(method: str, uri: str, body: bytes, timestamp: str) -> bytes:
    """The byte string HubSpot signs: method + decoded URI + body + timestamp (UTF-8)."""
    decoded = _HUBSPOT_ESCAPE.sub(lambda m: _HUBSPOT_DECODE[m.group(0).upper()], uri)
    return method.upper().encode() + decoded.encode() + body + timestamp.encode()


def verify_hubspot_v3(
    secret: str | bytes,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float | datetime | None = None,
    tolerance_seconds: float = 300,
) -> None:
    """Verify HubSpot's ``X-HubSpot-Signature-v3``.

    ``uri`` is the full URL HubSpot called (scheme, host, path, query, as sent);
    ``timestamp_header`` is ``X-HubSpot-Request-Timestamp`` (milliseconds since the epoch);
    the signature is base64 of HMAC-SHA256(app client secret, method + uri + body + timestamp).
    Timestamps more than ``tolerance_seconds`` away from ``now`` (epoch seconds or a datetime;
    default the clock) are refused, in either direction, so a captured request cannot be replayed
    later.
    """
    key = _key(secret)
    if not timestamp_header or not signature_header:
        raise SignatureError("missing X-HubSpot-Request-Timestamp or X-HubSpot-Signature-v3")
    try:
        sent_at = int(timestamp_header) / 1000
    except ValueError as exc:
        raise SignatureError("X-HubSpot-Request-Timestamp is not a number") from exc
    age = _now_seconds(now) - sent_at
    if abs(age) > tolerance_seconds:
        raise SignatureError(
            f"request timestamp is {abs(age):.0f} s {'old' if age > 0 else 'in the future'}; "
            f"the limit is {tolerance_seconds:.0f} s"
        )
    expected = base64.b64encode(
        hmac.new(key, hubspot_v3_source(method, uri, body, timestamp_header), "sha256").digest()
    )
    if not hmac.compare_digest(expected, signature_header.strip().encode()):
        raise SignatureError("HubSpot v3 signature does not match")


def verify_segment(secret: str | bytes, body: bytes, signature_header: str | None) -> None:
    """Verify Segment's ``X-Signature``: hex HMAC-SHA1 of the raw body with the shared secret.

    Segment's signature carries no timestamp, so it cannot expire; de-duplicate on the event's
    ``messageId`` to stop replays.
    """
    key = _key(secret)
    if not signature_header:
        raise SignatureError("missing X-Signature")
    expected = hmac.new(key, body, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature_header.strip().lower().encode()):
        raise SignatureError("Segment signature does not match")


def verify_standard_webhooks(
    secret: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_seconds: float = 300,
    now: float | datetime | None = None,
) -> None:
    """Verify a Standard Webhooks request (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``) with the ``standardwebhooks`` library's signer.

    ``secret`` is the ``whsec_…`` base64 secret (or raw key bytes). The timestamp window is checked
    here rather than by ``Webhook.verify`` because the library fixes it at 5 minutes against the
    wall clock; the signature is the library's ``Webhook.sign`` (HMAC-SHA256 over
    ``id.timestamp.body``) compared in constant time with every ``v1,`` entry of the header.
    """
    try:
        webhook = Webhook(secret)
    except (EmptyWebhookSecretError, binascii.Error, ValueError) as exc:
        raise SignatureError(f"the signing secret is not valid: {exc}") from exc
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(stamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    age = _now_seconds(now) - sent_at
    if abs(age) > tolerance_seconds:
        raise SignatureError(
            f"webhook timestamp is {abs(age):.0f} s {'old' if age > 0 else 'in the future'}; "
            f"the limit is {tolerance_seconds:.0f} s"
        )
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise SignatureError("the body is not UTF-8") from exc
    expected = webhook.sign(msg_id, datetime.fromtimestamp(sent_at, tz=UTC), text).split(",", 1)[1]
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected.encode(), value.encode()):
            return
    raise SignatureError("no webhook-signature entry matches")
