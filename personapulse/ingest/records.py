"""Enumerations and the canonical record shapes of docs/data-contract.md."""

from __future__ import annotations

#: Event formats ``parse_events`` reads (detected per item, or named with ``format=``).
EVENT_FORMATS: tuple[str, ...] = ("segment", "mixpanel", "amplitude", "ga4")
#: Every value of a canonical event's ``source_format`` (CSV comes through ``parse_csv_events``).
SOURCE_FORMATS: tuple[str, ...] = (*EVENT_FORMATS, "csv")
EVENT_TYPES: tuple[str, ...] = ("track", "page", "screen", "identify", "alias")

REVIEW_SOURCES: tuple[str, ...] = (
    "google",
    "trustpilot",
    "app_store",
    "play_store",
    "amazon",
    "shopee",
    "other",
)
CONVERSATION_SOURCES: tuple[str, ...] = (
    "hubspot",
    "salesforce",
    "pipedrive",
    "zendesk",
    "intercom",
    "whatsapp",
    "other",
)
CONVERSATION_KINDS: tuple[str, ...] = ("ticket", "call", "chat")
MESSAGE_ROLES: tuple[str, ...] = ("customer", "agent")

#: Keys of a canonical event, in the contract's order (parsers add ``received_at`` and ``_index``).
EVENT_KEYS: tuple[str, ...] = (
    "event_id",
    "source_format",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "previous_id",
    "timestamp",
    "session_id",
    "page_path",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "revenue",
    "currency",
    "properties",
    "traits",
)
REVIEW_KEYS: tuple[str, ...] = (
    "review_id",
    "source",
    "external_id",
    "user_id",
    "email",
    "author",
    "rating",
    "title",
    "text",
    "product",
    "language",
    "created_at",
    "received_at",
)
CONVERSATION_KEYS: tuple[str, ...] = (
    "conversation_id",
    "source",
    "kind",
    "user_id",
    "email",
    "contact_id",
    "subject",
    "status",
    "created_at",
    "messages",
    "customer_text",
    "received_at",
)
PROFILE_KEYS: tuple[str, ...] = ("user_id", "email", "traits", "received_at")

MAX_REVIEW_TEXT = 20_000


def type_reason() -> str:
    return "must be one of: " + ", ".join(EVENT_TYPES)
