"""Ingestion parsers: request bodies (Segment, Mixpanel, Amplitude, GA4, CSV events; reviews,
conversations, profiles) → the canonical dicts of docs/data-contract.md, plus per-item errors.

Pure Python: no HTTP, no database. Every parser returns a :class:`ParseResult` whose ``items``
keep input order (each with ``"_index"``) and whose ``errors`` name item, field and reason.
"""

from personapulse.ingest.content import (
    parse_conversations,
    parse_profiles,
    parse_reviews,
    split_transcript,
)
from personapulse.ingest.csv_events import parse_csv_events
from personapulse.ingest.detect import detect_format
from personapulse.ingest.errors import ItemError, ParseResult
from personapulse.ingest.events import parse_events
from personapulse.ingest.records import (
    CONVERSATION_KINDS,
    CONVERSATION_SOURCES,
    EVENT_FORMATS,
    EVENT_KEYS,
    EVENT_TYPES,
    MESSAGE_ROLES,
    REVIEW_SOURCES,
    SOURCE_FORMATS,
)

__all__ = [
    "CONVERSATION_KINDS",
    "CONVERSATION_SOURCES",
    "EVENT_FORMATS",
    "EVENT_KEYS",
    "EVENT_TYPES",
    "MESSAGE_ROLES",
    "REVIEW_SOURCES",
    "SOURCE_FORMATS",
    "ItemError",
    "ParseResult",
    "detect_format",
    "parse_conversations",
    "parse_csv_events",
    "parse_events",
    "parse_profiles",
    "parse_reviews",
    "split_transcript",
]
