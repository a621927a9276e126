"""Segment spec events (track / page / screen / identify / alias) → canonical events.

Reference: https://segment.com/docs/connections/spec/ (common fields, track, page, screen,
identify, alias, and the batch shape of the HTTP tracking API).

This is the hot path of the busiest endpoint, so the common case (fields present and of the right
type) is checked inline and the helpers run only for the unusual values.
"""

from __future__ import annotations

from datetime import UTC, datetime

from personapulse.ingest._common import (
    TIMESTAMP_REASON,
    FieldError,
    event_hash,
    fill_from_url,
    parse_timestamp,
    to_id,
    to_number,
    to_object,
    to_text,
)
from personapulse.ingest.records import type_reason

_TYPES = frozenset({"track", "page", "screen", "identify", "alias"})
_EMPTY: dict = {}
_fromisoformat = datetime.fromisoformat


def _sub_object(value: object, path: str) -> dict:
    if value is None:
        return _EMPTY
    if type(value) is dict:
        return value
    raise FieldError(path, "must be an object")


def _text(value: object, field: str) -> str | None:
    if type(value) is str:
        return value or None
    return to_text(value, field)


def _timestamp(value: object, field: str) -> datetime | None:
    # Extended ISO 8601 ("2024-04-01T…") is what Segment libraries send: parse it directly.
    if type(value) is str and len(value) > 10 and value[4] == "-":
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            pass
        else:
            tz = parsed.tzinfo
            if tz is UTC:
                return parsed
            if tz is None:
                return parsed.replace(tzinfo=UTC)
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise FieldError(field, TIMESTAMP_REASON) from None


def normalise_segment(item: dict) -> dict:
    """One Segment spec message → a canonical event dict (raises FieldError on the first problem)."""
    kind = item.get("type")
    if type(kind) is not str or kind not in _TYPES:
        if kind is None:
            raise FieldError("type", "is required; " + type_reason())
        if type(kind) is str and kind.lower() in _TYPES:
            kind = kind.lower()
        else:
            raise FieldError("type", type_reason())

    user_id = item.get("userId")
    if user_id is not None and type(user_id) is not str:
        user_id = to_id(user_id, "userId")
    anonymous_id = item.get("anonymousId")
    if anonymous_id is not None and type(anonymous_id) is not str:
        anonymous_id = to_id(anonymous_id, "anonymousId")
    user_id = user_id or None
    anonymous_id = anonymous_id or None

    context = item.get("context")
    if context is None:
        context = page = campaign = _EMPTY
    else:
        if type(context) is not dict:
            raise FieldError("context", "must be an object")
        page = context.get("page")
        if type(page) is not dict:
            page = _sub_object(page, "context.page")
        campaign = context.get("campaign")
        if type(campaign) is not dict:
            campaign = _sub_object(campaign, "context.campaign")

    properties = item.get("properties")
    if type(properties) is dict:
        properties = properties.copy()
    else:
        properties = to_object(properties, "properties")

    previous_id = None
    if kind == "track":
        event = item.get("event")
        if type(event) is not str or not event:
            if event is None or event == "":
                raise FieldError("event", "is required for a track event")
            raise FieldError("event", "must be a string")
    elif kind == "page" or kind == "screen":
        event = _text(item.get("name"), "name") or _text(properties.get("name"), "properties.name")
        if event is None:
            event = "Page Viewed" if kind == "page" else "Screen Viewed"
    else:
        event = None
        if kind == "alias":
            previous_id = to_id(item.get("previousId"), "previousId")
            if previous_id is None:
                raise FieldError("previousId", "is required for an alias")
            if user_id is None:
                raise FieldError("userId", "is required for an alias")

    if user_id is None and anonymous_id is None:
        raise FieldError("userId", "userId or anonymousId is required")

    message_id = item.get("messageId")
    if message_id is not None and type(message_id) is not str:
        message_id = to_id(message_id, "messageId")

    raw_time = item.get("timestamp")
    if raw_time is not None:
        timestamp = _timestamp(raw_time, "timestamp")
    else:
        raw_time = item.get("originalTimestamp")
        timestamp = None if raw_time is None else _timestamp(raw_time, "originalTimestamp")

    traits = item.get("traits")
    if traits is None:
        traits = context.get("traits")
        traits = {} if traits is None else to_object(traits, "context.traits")
    else:
        traits = to_object(traits, "traits")

    if page:
        page_path = page.get("path")
        if page_path is not None and type(page_path) is not str:
            page_path = _text(page_path, "context.page.path")
        page_url = page.get("url")
        if page_url is not None and type(page_url) is not str:
            page_url = _text(page_url, "context.page.url")
        referrer = page.get("referrer")
        if referrer is not None and type(referrer) is not str:
            referrer = _text(referrer, "context.page.referrer")
        page_path = page_path or None
        page_url = page_url or None
        referrer = referrer or None
    else:
        page_path = page_url = referrer = None
    if kind == "page":
        # The page call carries path / url / referrer in its properties too.
        if page_path is None:
            page_path = _text(properties.get("path"), "properties.path")
        if page_url is None:
            page_url = _text(properties.get("url"), "properties.url")
        if referrer is None:
            referrer = _text(properties.get("referrer"), "properties.referrer")

    if campaign:
        utm_source = campaign.get("source")
        if utm_source is not None and type(utm_source) is not str:
            utm_source = _text(utm_source, "context.campaign.source")
        utm_medium = campaign.get("medium")
        if utm_medium is not None and type(utm_medium) is not str:
            utm_medium = _text(utm_medium, "context.campaign.medium")
        utm_campaign = campaign.get("name")
        if utm_campaign is not None and type(utm_campaign) is not str:
            utm_campaign = _text(utm_campaign, "context.campaign.name")
        utm_term = campaign.get("term")
        if utm_term is not None and type(utm_term) is not str:
            utm_term = _text(utm_term, "context.campaign.term")
        utm_content = campaign.get("content")
        if utm_content is not None and type(utm_content) is not str:
            utm_content = _text(utm_content, "context.campaign.content")
        utm_source = utm_source or None
        utm_medium = utm_medium or None
        utm_campaign = utm_campaign or None
        utm_term = utm_term or None
        utm_content = utm_content or None
    else:
        utm_source = utm_medium = utm_campaign = utm_term = utm_content = None

    revenue = currency = None
    if properties:
        raw_revenue = properties.get("revenue")
        if raw_revenue is not None:
            revenue = to_number(raw_revenue, "properties.revenue")
        else:
            raw_revenue = properties.get("total")
            if raw_revenue is not None:
                revenue = to_number(raw_revenue, "properties.total")
        currency = properties.get("currency")
        if currency is not None:
            if type(currency) is not str:
                currency = to_text(currency, "properties.currency")
            currency = currency or None

    event_dict = {
        "event_id": message_id or None,
        "source_format": "segment",
        "type": kind,
        "event": event,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": previous_id,
        "timestamp": timestamp,
        "session_id": None,
        "page_path": page_path,
        "page_url": page_url,
        "referrer": referrer,
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "utm_term": utm_term,
        "utm_content": utm_content,
        "revenue": revenue,
        "currency": currency,
        "properties": properties,
        "traits": traits,
    }
    if page_url is not None:
        if page_path is None or "utm_" in page_url or "?" in page_path or "#" in page_path:
            fill_from_url(event_dict)
    elif page_path is not None and ("?" in page_path or "#" in page_path):
        fill_from_url(event_dict)
    if event_dict["event_id"] is None:
        event_dict["event_id"] = event_hash(event_dict)
    return event_dict
