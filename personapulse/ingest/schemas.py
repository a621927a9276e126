"""Pydantic v2 item schemas of the ingestion API; they double as its OpenAPI schemas.

Reviews, conversations and profiles are validated with these models. Events are normalised by
hand for speed (see ``segment.py`` …); :class:`SegmentEventIn` and the other event models only
document the accepted shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from personapulse.ingest._common import TIMESTAMP_REASON, parse_timestamp
from personapulse.ingest.errors import ItemError
from personapulse.ingest.records import MAX_REVIEW_TEXT


def _timestamp(value: object) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise ValueError(TIMESTAMP_REASON) from None


def _identifier(value: object) -> object:
    # Ids often arrive as numbers (CRM ticket ids, numeric user ids); keep them as text.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return value


def _required_identifier(value: object) -> object:
    value = _identifier(value)
    if value is None:
        raise ValueError("is required")
    return value


def _number(value: object) -> object:
    # pydantic's lax float accepts true / false; a rating of "true" is a mistake, not 1 star.
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return value


def _object_or_empty(value: object) -> object:
    return {} if value is None else value


def _optional_text(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _email(value: object) -> object:
    if isinstance(value, str):
        value = value.strip().lower()
        if not value:
            return None
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("must be an email address")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


_NEEDS_CONTENT = "messages or transcript is required"

Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]
Identifier = Annotated[str | None, BeforeValidator(_identifier)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
Email = Annotated[str | None, BeforeValidator(_email)]

ReviewSource = Annotated[
    Literal["google", "trustpilot", "app_store", "play_store", "amazon", "shopee", "other"],
    BeforeValidator(_lower),
]
ConversationSource = Annotated[
    Literal["hubspot", "salesforce", "pipedrive", "zendesk", "intercom", "whatsapp", "other"],
    BeforeValidator(_lower),
]
ConversationKind = Annotated[Literal["ticket", "call", "chat"], BeforeValidator(_lower)]
MessageRole = Annotated[Literal["customer", "agent"], BeforeValidator(_lower)]


class ReviewIn(BaseModel):
    """A product or app review from a review site or store."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: ReviewSource
    text: str = Field(min_length=1, max_length=MAX_REVIEW_TEXT)
    review_id: Identifier = Field(default=None, description="The source's own id of the review.")
    title: OptionalText = None
    rating: Annotated[float | None, BeforeValidator(_number)] = Field(
        default=None, ge=1, le=5, allow_inf_nan=False
    )
    user_id: Identifier = None
    email: Email = None
    author: OptionalText = None
    created_at: Timestamp = None
    product: OptionalText = None
    language: OptionalText = None


class MessageIn(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    role: MessageRole
    text: str = Field(min_length=1)
    at: Timestamp = None
    author: OptionalText = None


class ConversationIn(BaseModel):
    """A support ticket, sales / support call or chat, from a CRM, help desk or messenger.

    ``messages`` or (for calls) a ``transcript`` with ``Agent:`` / ``Customer:`` speaker lines is
    required. ``kind`` defaults to ``call`` when only a transcript is given, ``chat`` for
    WhatsApp / Intercom, else ``ticket``.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: ConversationSource
    kind: ConversationKind | None = None
    conversation_id: Identifier = None
    user_id: Identifier = None
    email: Email = None
    contact_id: Identifier = None
    subject: OptionalText = None
    status: OptionalText = None
    created_at: Timestamp = None
    messages: list[MessageIn] | None = None
    transcript: OptionalText = None

    @model_validator(mode="after")
    def _needs_content(self) -> ConversationIn:
        if not self.messages and not self.transcript:
            raise ValueError(_NEEDS_CONTENT)
        return self


class ProfileIn(BaseModel):
    """A known user's profile; unknown top-level keys are kept as traits."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    user_id: Annotated[str, BeforeValidator(_required_identifier)] = Field(min_length=1)
    email: Email = None
    traits: Annotated[dict[str, Any], BeforeValidator(_object_or_empty)] = Field(
        default_factory=dict
    )


class SegmentEventIn(BaseModel):
    """A Segment spec message (track, page, screen, identify, alias); other keys are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["track", "page", "screen", "identify", "alias"]
    event: str | None = Field(default=None, description="Event name; required for track.")
    name: str | None = Field(default=None, description="Page or screen name.")
    userId: str | int | None = None
    anonymousId: str | int | None = None
    previousId: str | int | None = Field(default=None, description="Required for alias.")
    messageId: str | None = Field(default=None, description="Dedupe key; hashed when absent.")
    timestamp: str | int | float | None = Field(
        default=None, description="ISO 8601 (naive = UTC) or epoch s / ms / µs."
    )
    context: dict[str, Any] | None = Field(
        default=None,
        description="context.page.{path,url,referrer,title}, "
        "context.campaign.{source,medium,name,term,content} …",
    )
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None


class MixpanelEventIn(BaseModel):
    """A Mixpanel raw-export row."""

    model_config = ConfigDict(extra="allow")

    event: str
    properties: dict[str, Any] = Field(
        description="time, distinct_id, $insert_id, $device_id, $user_id, $current_url, "
        "$referrer, utm_*, mp_lib …"
    )


class AmplitudeEventIn(BaseModel):
    """An Amplitude export row."""

    model_config = ConfigDict(extra="allow")

    event_type: str
    user_id: str | None = None
    device_id: str | None = None
    event_time: str | None = Field(default=None, description='"YYYY-MM-DD HH:MM:SS.ffffff" UTC')
    insert_id: str | None = None
    uuid: str | None = None
    session_id: int | None = None
    event_properties: dict[str, Any] | None = None
    user_properties: dict[str, Any] | None = None
    revenue: float | None = None


class GA4EventIn(BaseModel):
    """A GA4 BigQuery export row."""

    model_config = ConfigDict(extra="allow")

    event_name: str
    event_timestamp: str | int = Field(description="Microseconds since the epoch.")
    user_pseudo_id: str | None = None
    user_id: str | None = None
    event_params: list[dict[str, Any]] | None = None
    collected_traffic_source: dict[str, Any] | None = None
    traffic_source: dict[str, Any] | None = None
    ecommerce: dict[str, Any] | None = None


#: The loose per-item schema of ``POST /v1/events`` for OpenAPI documents.
EventItemIn = SegmentEventIn | MixpanelEventIn | AmplitudeEventIn | GA4EventIn


class EventBatchIn(BaseModel):
    """Segment's batch envelope."""

    batch: list[dict[str, Any]]


class ReviewBatchIn(BaseModel):
    reviews: list[ReviewIn]


class ConversationBatchIn(BaseModel):
    conversations: list[ConversationIn]


class ProfileBatchIn(BaseModel):
    profiles: list[ProfileIn]


# --- pydantic errors → ItemError ----------------------------------------------------------------

_SIMPLE_REASONS = {
    "missing": "is required",
    "string_type": "must be a string",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "datetime_type": TIMESTAMP_REASON,
    "bool_type": "must be true or false",
}


def _reason(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _SIMPLE_REASONS:
        return _SIMPLE_REASONS[kind]
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",")]
        return "must be one of: " + ", ".join(option for option in options if option)
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if error["loc"] and error["loc"][-1] == "rating":
            return "must be between 1 and 5"
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        words = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "more than",
            "less_than": "less than",
        }
        return f"must be {words[kind]} {bound}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def validation_errors(index: int, exc: ValidationError) -> list[ItemError]:
    """A pydantic ValidationError → ItemErrors with dotted field paths (``messages.0.text``)."""
    found: list[ItemError] = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = ".".join(loc)
        reason = _reason(error)
        if not field and reason == _NEEDS_CONTENT:
            field, reason = "messages", "is required (or a transcript)"
        found.append(ItemError(index, field, reason))
    return found
