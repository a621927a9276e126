"""Dynamic personas, the pure parts: shift detection, Slack alerts, outbound URL guard and
inbound webhook signatures. No Flask and no database here; see docs/dynamic.md for the wiring."""

from personapulse.outbound.shifts import SHIFT_KINDS, Shift, ShiftConfig, detect_shifts
from personapulse.outbound.signatures import (
    SignatureError,
    verify_hubspot_v3,
    verify_segment,
    verify_standard_webhooks,
)
from personapulse.outbound.slack import SlackNotifier, SlackResult
from personapulse.outbound.ssrf import UnsafeTargetError, safe_session, validate_target_url

__all__ = [
    "SHIFT_KINDS",
    "Shift",
    "ShiftConfig",
    "SignatureError",
    "SlackNotifier",
    "SlackResult",
    "UnsafeTargetError",
    "detect_shifts",
    "safe_session",
    "validate_target_url",
    "verify_hubspot_v3",
    "verify_segment",
    "verify_standard_webhooks",
]
