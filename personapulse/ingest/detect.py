"""Telling an event item's format from its keys."""

from __future__ import annotations

_SEGMENT_KEYS = ("type", "userId", "anonymousId", "messageId", "previousId")
_MIXPANEL_PROPERTY_KEYS = ("distinct_id", "time", "$insert_id", "token", "$device_id", "$user_id")

UNKNOWN_FORMAT_REASON = (
    "is not a known event format: expected Segment (type, userId / anonymousId), "
    "Mixpanel (event, properties.distinct_id / time), Amplitude (event_type) "
    "or GA4 BigQuery export (event_name, event_timestamp)"
)


def guess_format(item: dict) -> str | None:
    """The format name for an item, or None when its keys match no known format."""
    # Segment first: it is the documented primary shape and the hot path.
    if "type" in item or "userId" in item or "anonymousId" in item:
        return "segment"
    if "event_type" in item:
        return "amplitude"
    if "event_name" in item and (
        "event_timestamp" in item or "user_pseudo_id" in item or "event_params" in item
    ):
        return "ga4"
    properties = item.get("properties")
    if "event" in item and isinstance(properties, dict):
        for key in _MIXPANEL_PROPERTY_KEYS:
            if key in properties:
                return "mixpanel"
    if "messageId" in item or "previousId" in item:
        return "segment"
    return None


def detect_format(item: dict) -> str:
    """``"segment"``, ``"mixpanel"``, ``"amplitude"`` or ``"ga4"`` for one event item.

    Raises ValueError when the item is not an object or matches none of them.
    """
    if not isinstance(item, dict):
        raise ValueError("an event item must be a JSON object")
    found = guess_format(item)
    if found is None:
        raise ValueError("item " + UNKNOWN_FORMAT_REASON)
    return found
