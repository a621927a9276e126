"""Mixpanel raw-export rows (``{"event": ..., "properties": {...}}``) → canonical events.

Reference: Mixpanel's Raw Event Export API (one JSON object per line) and its reserved properties
(``time``, ``distinct_id``, ``$insert_id``, ``$device_id``, ``$user_id``, ``$current_url``,
``$referrer``, ``utm_*``, ``mp_lib``) and identity events (``$identify``, ``$create_alias``).
"""

from __future__ import annotations

from personapulse.ingest._common import (
    UTM_KEYS,
    FieldError,
    event_hash,
    fill_from_url,
    timestamp_field,
    to_id,
    to_number,
    to_text,
)

# Properties that become canonical fields and so are not repeated in ``properties``.
_MAPPED = frozenset(
    {"time", "distinct_id", "$insert_id", "$user_id", "$device_id", "$current_url", "$referrer"}
    | set(UTM_KEYS)
)
_PAGE_VIEW_EVENTS = frozenset({"$mp_web_page_view", "$pageview", "$mp_page_view"})


def normalise_mixpanel(item: dict) -> dict:
    """One Mixpanel export row → a canonical event dict (raises FieldError on the first problem).

    Identity: ``$user_id`` is the known id and ``$device_id`` the anonymous one (simplified ID
    merge); without them ``distinct_id`` is the known id unless it is a ``$device:`` id.
    """
    name = item.get("event")
    if type(name) is not str or not name:
        if name is None or name == "":
            raise FieldError("event", "is required")
        raise FieldError("event", "must be a string")
    props = item.get("properties")
    if type(props) is not dict:
        if props is None:
            raise FieldError("properties", "is required")
        raise FieldError("properties", "must be an object")

    distinct_id = to_id(props.get("distinct_id"), "properties.distinct_id")
    user_id = to_id(props.get("$user_id"), "properties.$user_id")
    anonymous_id = to_id(props.get("$device_id"), "properties.$device_id")
    if distinct_id is not None and user_id is None and anonymous_id is None:
        if distinct_id.startswith("$device:"):
            anonymous_id = distinct_id[len("$device:") :] or None
        else:
            user_id = distinct_id
    elif (
        distinct_id is not None
        and user_id is None
        and distinct_id != anonymous_id
        and not distinct_id.startswith("$device:")
    ):
        user_id = distinct_id

    kind = "track"
    event: str | None = name
    previous_id = None
    if name == "$identify":
        kind, event = "identify", None
        user_id = to_id(props.get("$identified_id"), "properties.$identified_id") or user_id
        anonymous_id = to_id(props.get("$anon_id"), "properties.$anon_id") or anonymous_id
    elif name == "$create_alias":
        kind, event = "alias", None
        # mixpanel.alias(new_id, original): distinct_id is the original id, "alias" the new one.
        previous_id = distinct_id
        user_id = to_id(props.get("alias"), "properties.alias")
        if previous_id is None:
            raise FieldError("properties.distinct_id", "is required for $create_alias")
        if user_id is None:
            raise FieldError("properties.alias", "is required for $create_alias")
    elif name in _PAGE_VIEW_EVENTS:
        kind, event = "page", "Page Viewed"

    if user_id is None and anonymous_id is None:
        raise FieldError("properties.distinct_id", "is required (or $user_id / $device_id)")

    timestamp = timestamp_field(props.get("time"), "properties.time")
    referrer = to_text(props.get("$referrer"), "properties.$referrer")
    if referrer == "$direct":
        referrer = None
    utm = [to_text(props.get(key), "properties." + key) for key in UTM_KEYS]
    revenue = to_number(props.get("revenue"), "properties.revenue")
    currency = to_text(props.get("currency"), "properties.currency")

    event_dict = {
        "event_id": to_id(props.get("$insert_id"), "properties.$insert_id"),
        "source_format": "mixpanel",
        "type": kind,
        "event": event,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": previous_id,
        "timestamp": timestamp,
        "session_id": None,
        "page_path": None,
        "page_url": to_text(props.get("$current_url"), "properties.$current_url"),
        "referrer": referrer,
        "utm_source": utm[0],
        "utm_medium": utm[1],
        "utm_campaign": utm[2],
        "utm_term": utm[3],
        "utm_content": utm[4],
        "revenue": revenue,
        "currency": currency,
        "properties": {key: value for key, value in props.items() if key not in _MAPPED},
        "traits": {},
    }
    fill_from_url(event_dict)
    if event_dict["event_id"] is None:
        event_dict["event_id"] = event_hash(event_dict)
    return event_dict
