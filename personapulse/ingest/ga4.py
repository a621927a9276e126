"""GA4 BigQuery export rows (``events_YYYYMMDD`` tables, exported as JSON) → canonical events.

Reference: the GA4 BigQuery Export schema: ``event_name``, ``event_timestamp`` (µs, INT64, a string
in JSON exports), ``user_pseudo_id``, ``user_id``, ``event_params`` / ``user_properties`` as
``[{key, value: {string_value, int_value, float_value, double_value}}]``,
``collected_traffic_source.manual_*``, ``session_traffic_source_last_click.manual_campaign``,
``traffic_source`` (the user's first touch), ``ecommerce.purchase_revenue``.
"""

from __future__ import annotations

from personapulse.ingest._common import (
    FieldError,
    event_hash,
    fill_from_url,
    timestamp_field,
    to_id,
    to_number,
    to_object,
    to_text,
)

_VALUE_KEYS = ("string_value", "int_value", "double_value", "float_value")
# Params that become canonical fields and so are not repeated in ``properties``.
_MAPPED_PARAMS = frozenset(
    {"page_location", "page_referrer", "ga_session_id", "source", "medium", "campaign", "term"}
    | {"content", "currency"}
)
_MAPPED_TOP = frozenset(
    {
        "event_name",
        "event_timestamp",
        "event_params",
        "user_id",
        "user_pseudo_id",
        "user_properties",
        "collected_traffic_source",
        "session_traffic_source_last_click",
        "traffic_source",
    }
)
# GA4 writes these placeholders where it knows no channel.
_NO_CHANNEL = frozenset(
    {"(direct)", "(none)", "(not set)", "(data deleted)", "(not provided)", "(organic)"}
    | {"(referral)"}
)


def flatten_params(params: object, field: str) -> dict:
    """GA4 ``[{key, value: {string_value | int_value | double_value | float_value}}]`` → dict.

    ``int_value`` arrives as a string in JSON exports of INT64 columns and is turned into an int.
    """
    if params is None:
        return {}
    if not isinstance(params, list):
        raise FieldError(field, "must be a list of {key, value} objects")
    flat: dict = {}
    for position, param in enumerate(params):
        path = f"{field}.{position}"
        if not isinstance(param, dict):
            raise FieldError(path, "must be an object with key and value")
        key = param.get("key")
        if not isinstance(key, str) or not key:
            raise FieldError(path + ".key", "is required")
        value = param.get("value")
        if value is None:
            flat[key] = None
            continue
        if not isinstance(value, dict):
            raise FieldError(path + ".value", "must be an object")
        flat[key] = None
        for value_key in _VALUE_KEYS:
            found = value.get(value_key)
            if found is None:
                continue
            if value_key == "int_value" and isinstance(found, str):
                try:
                    found = int(found)
                except ValueError:
                    raise FieldError(path + ".value.int_value", "must be an integer") from None
            flat[key] = found
            break
    return flat


def _channel(value: object, field: str) -> str | None:
    text = to_text(value, field)
    return None if text in _NO_CHANNEL else text


def _utm(item: dict, params: dict) -> tuple[list[str | None], dict]:
    collected = to_object(item.get("collected_traffic_source"), "collected_traffic_source")
    last_click = to_object(
        item.get("session_traffic_source_last_click"), "session_traffic_source_last_click"
    )
    manual = to_object(
        last_click.get("manual_campaign"), "session_traffic_source_last_click.manual_campaign"
    )
    first_touch = to_object(item.get("traffic_source"), "traffic_source")
    # Per field: the event's own collected source, the session's last click, the event params,
    # and only then the user's first touch (traffic_source), which is the same on every event.
    candidates = (
        (
            (collected, "manual_source", "collected_traffic_source.manual_source"),
            (manual, "source", "session_traffic_source_last_click.manual_campaign.source"),
            (params, "source", "event_params.source"),
        ),
        (
            (collected, "manual_medium", "collected_traffic_source.manual_medium"),
            (manual, "medium", "session_traffic_source_last_click.manual_campaign.medium"),
            (params, "medium", "event_params.medium"),
        ),
        (
            (collected, "manual_campaign_name", "collected_traffic_source.manual_campaign_name"),
            (
                manual,
                "campaign_name",
                "session_traffic_source_last_click.manual_campaign.campaign_name",
            ),
            (params, "campaign", "event_params.campaign"),
        ),
        (
            (collected, "manual_term", "collected_traffic_source.manual_term"),
            (manual, "term", "session_traffic_source_last_click.manual_campaign.term"),
            (params, "term", "event_params.term"),
        ),
        (
            (collected, "manual_content", "collected_traffic_source.manual_content"),
            (manual, "content", "session_traffic_source_last_click.manual_campaign.content"),
            (params, "content", "event_params.content"),
        ),
    )
    found: list[str | None] = []
    for sources in candidates:
        value = None
        for container, key, path in sources:
            value = _channel(container.get(key), path)
            if value is not None:
                break
        found.append(value)
    return found, first_touch


def normalise_ga4(item: dict) -> dict:
    """One GA4 BigQuery export row → a canonical event dict (raises FieldError on the first problem)."""
    name = item.get("event_name")
    if type(name) is not str or not name:
        if name is None or name == "":
            raise FieldError("event_name", "is required")
        raise FieldError("event_name", "must be a string")
    params = flatten_params(item.get("event_params"), "event_params")
    user_properties = flatten_params(item.get("user_properties"), "user_properties")

    user_id = to_id(item.get("user_id"), "user_id")
    anonymous_id = to_id(item.get("user_pseudo_id"), "user_pseudo_id")
    if user_id is None and anonymous_id is None:
        raise FieldError("user_pseudo_id", "user_pseudo_id or user_id is required")

    if name == "page_view":
        kind, event = "page", "Page Viewed"
    elif name == "screen_view":
        screen = to_text(params.get("firebase_screen"), "event_params.firebase_screen")
        kind, event = "screen", screen or "Screen Viewed"
    else:
        kind, event = "track", name

    timestamp = timestamp_field(item.get("event_timestamp"), "event_timestamp", unit="us")
    session_id = to_id(params.get("ga_session_id"), "event_params.ga_session_id")
    utm, first_touch = _utm(item, params)

    ecommerce = to_object(item.get("ecommerce"), "ecommerce")
    currency = to_text(params.get("currency"), "event_params.currency")
    revenue = to_number(ecommerce.get("purchase_revenue"), "ecommerce.purchase_revenue")
    if revenue is None:
        revenue = to_number(
            ecommerce.get("purchase_revenue_in_usd"), "ecommerce.purchase_revenue_in_usd"
        )
        if revenue is not None:
            currency = "USD"

    properties = {k: v for k, v in item.items() if k not in _MAPPED_TOP and v is not None}
    properties.update((k, v) for k, v in params.items() if k not in _MAPPED_PARAMS)

    event_dict = {
        "event_id": None,
        "source_format": "ga4",
        "type": kind,
        "event": event,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": None,
        "timestamp": timestamp,
        "session_id": session_id,
        "page_path": None,
        "page_url": to_text(params.get("page_location"), "event_params.page_location"),
        "referrer": to_text(params.get("page_referrer"), "event_params.page_referrer"),
        "utm_source": utm[0],
        "utm_medium": utm[1],
        "utm_campaign": utm[2],
        "utm_term": utm[3],
        "utm_content": utm[4],
        "revenue": revenue,
        "currency": currency,
        "properties": properties,
        "traits": user_properties,
    }
    fill_from_url(event_dict)
    no_channel = (
        event_dict["utm_source"] is None
        and event_dict["utm_medium"] is None
        and event_dict["utm_campaign"] is None
    )
    if no_channel:
        event_dict["utm_source"] = _channel(first_touch.get("source"), "traffic_source.source")
        event_dict["utm_medium"] = _channel(first_touch.get("medium"), "traffic_source.medium")
        event_dict["utm_campaign"] = _channel(first_touch.get("name"), "traffic_source.name")
    # GA4 rows carry no event id: the content hash makes a re-export dedupe.
    event_dict["event_id"] = event_hash(event_dict)
    return event_dict
