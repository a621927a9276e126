"""Amplitude export rows (Export API / S3 export, one JSON object per line) → canonical events.

Reference: Amplitude's Export API event schema (``event_type``, ``user_id``, ``device_id``,
``event_time`` as ``"YYYY-MM-DD HH:MM:SS.ffffff"`` UTC, ``$insert_id``, ``uuid``, ``session_id``
in ms with -1 for none, ``event_properties``, ``user_properties``, ``revenue`` / ``price`` *
``quantity``) and the HTTP V2 API's event keys (``insert_id``, ``time`` in ms).
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
    to_object,
    to_text,
)

_PAGE_VIEW_EVENTS = frozenset({"[Amplitude] Page Viewed", "Page Viewed", "page_view"})
# Top-level keys that become canonical fields; every other non-null key is kept in properties.
_MAPPED = frozenset(
    {
        "event_type",
        "user_id",
        "device_id",
        "event_time",
        "time",
        "client_event_time",
        "insert_id",
        "$insert_id",
        "uuid",
        "session_id",
        "event_properties",
        "user_properties",
        "revenue",
        "price",
        "quantity",
        "data",
    }
)


def _first_text(sources: tuple[tuple[dict, str, str], ...]) -> str | None:
    for container, key, path in sources:
        value = to_text(container.get(key), path)
        if value is not None:
            return value
    return None


def _traits(user_properties: dict) -> dict:
    # $identify rows of the HTTP API carry {"$set": {...}, "$setOnce": {...}}; exports are flat.
    traits = {k: v for k, v in user_properties.items() if not k.startswith("$")}
    for operation in ("$setOnce", "$set"):
        values = user_properties.get(operation)
        if isinstance(values, dict):
            traits.update(values)
    return traits


def _revenue(item: dict, event_properties: dict) -> float | None:
    revenue = to_number(item.get("revenue"), "revenue")
    if revenue is not None:
        return revenue
    price = to_number(item.get("price"), "price")
    if price is not None:
        quantity = to_number(item.get("quantity"), "quantity")
        return price * (1.0 if quantity is None else quantity)
    revenue = to_number(event_properties.get("$revenue"), "event_properties.$revenue")
    if revenue is not None:
        return revenue
    revenue = to_number(event_properties.get("revenue"), "event_properties.revenue")
    if revenue is not None:
        return revenue
    price = to_number(event_properties.get("$price"), "event_properties.$price")
    if price is not None:
        quantity = to_number(event_properties.get("$quantity"), "event_properties.$quantity")
        return price * (1.0 if quantity is None else quantity)
    return None


def normalise_amplitude(item: dict) -> dict:
    """One Amplitude export row → a canonical event dict (raises FieldError on the first problem)."""
    name = item.get("event_type")
    if type(name) is not str or not name:
        if name is None or name == "":
            raise FieldError("event_type", "is required")
        raise FieldError("event_type", "must be a string")
    event_properties = to_object(item.get("event_properties"), "event_properties")
    user_properties = to_object(item.get("user_properties"), "user_properties")

    user_id = to_id(item.get("user_id"), "user_id")
    anonymous_id = to_id(item.get("device_id"), "device_id")
    if user_id is None and anonymous_id is None:
        raise FieldError("user_id", "user_id or device_id is required")

    if name == "$identify":
        kind, event = "identify", None
    elif name in _PAGE_VIEW_EVENTS:
        kind, event = "page", "Page Viewed"
    else:
        kind, event = "track", name

    if item.get("event_time") is not None:
        timestamp = timestamp_field(item["event_time"], "event_time")
    elif item.get("time") is not None:
        timestamp = timestamp_field(item["time"], "time", unit="ms")
    else:
        timestamp = timestamp_field(item.get("client_event_time"), "client_event_time")

    event_id = None
    for key in ("$insert_id", "insert_id", "uuid"):
        event_id = to_id(item.get(key), key)
        if event_id is not None:
            break

    session_id = to_id(item.get("session_id"), "session_id")
    if session_id == "-1":
        session_id = None

    page_url = _first_text(
        (
            # Page Location is the full URL (query included); Page URL stops before the query.
            (
                event_properties,
                "[Amplitude] Page Location",
                "event_properties.[Amplitude] Page Location",
            ),
            (event_properties, "[Amplitude] Page URL", "event_properties.[Amplitude] Page URL"),
            (event_properties, "page_url", "event_properties.page_url"),
            (event_properties, "url", "event_properties.url"),
        )
    )
    page_path = _first_text(
        (
            (event_properties, "[Amplitude] Page Path", "event_properties.[Amplitude] Page Path"),
            (event_properties, "page_path", "event_properties.page_path"),
            (event_properties, "path", "event_properties.path"),
        )
    )
    referrer = _first_text(
        (
            (event_properties, "referrer", "event_properties.referrer"),
            (user_properties, "referrer", "user_properties.referrer"),
        )
    )
    utm = [
        _first_text(
            (
                (event_properties, key, "event_properties." + key),
                (user_properties, key, "user_properties." + key),
            )
        )
        for key in UTM_KEYS
    ]
    currency = _first_text(
        (
            (event_properties, "currency", "event_properties.currency"),
            (event_properties, "$currency", "event_properties.$currency"),
        )
    )
    properties = {k: v for k, v in item.items() if k not in _MAPPED and v is not None}
    properties.update(event_properties)

    event_dict = {
        "event_id": event_id,
        "source_format": "amplitude",
        "type": kind,
        "event": event,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": None,
        "timestamp": timestamp,
        "session_id": session_id,
        "page_path": page_path,
        "page_url": page_url,
        "referrer": referrer,
        "utm_source": utm[0],
        "utm_medium": utm[1],
        "utm_campaign": utm[2],
        "utm_term": utm[3],
        "utm_content": utm[4],
        "revenue": _revenue(item, event_properties),
        "currency": currency,
        "properties": properties,
        "traits": _traits(user_properties),
    }
    fill_from_url(event_dict)
    if event_id is None:
        event_dict["event_id"] = event_hash(event_dict)
    return event_dict
