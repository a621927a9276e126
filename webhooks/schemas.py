"""Request and response schemas of the HTTP face (pydantic: they validate and document).

Item schemas come from the engine's parsers (``personapulse.ingest.schemas``); here they are wrapped in
the three body shapes every ingestion endpoint accepts: one item, a list, or an envelope.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, RootModel, StringConstraints

from personapulse.ingest.schemas import ConversationIn, ProfileIn, ReviewIn, SegmentEventIn

# Any id of one person as an operator names them (erasure and suppression requests): not blank, at
# most an email's length.
PersonId = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=r"\S")]


class ItemErrorOut(BaseModel):
    index: int
    field: str
    reason: str


class IngestResult(BaseModel):
    accepted: int = Field(description="items stored by this request")
    duplicate: int = Field(description="items already stored (resent): stored once, not again")
    rejected: int = Field(description="invalid items, each named in errors")
    flagged: int = Field(description="stored but marked as garbage (missing or future timestamp)")
    suppressed: int = Field(
        description="items dropped because they carry an id on the suppression list (not stored)"
    )
    errors: list[ItemErrorOut]


class ReviewClass(BaseModel):
    review_id: str
    sentiment_label: str = Field(description="positive, neutral or negative")
    sentiment_score: float = Field(ge=-1, le=1)
    pain_points: list[dict[str, Any]] = Field(description="label, phrase, start, end, context, via")
    motivations: list[dict[str, Any]]
    keywords: list[str]


class ReviewsResult(IngestResult):
    classifications: list[ReviewClass] = []


class ConversationClass(BaseModel):
    conversation_id: str
    sentiment_label: str
    sentiment_score: float
    pain_points: list[dict[str, Any]]
    motivations: list[dict[str, Any]] = []
    keywords: list[str] = []
    intents: list[dict[str, Any]] = Field(
        description="intent (buying | hesitating | churning), phrase, start, end"
    )


class ConversationsResult(IngestResult):
    classifications: list[ConversationClass] = []


class EventsEnvelope(BaseModel):
    batch: list[SegmentEventIn | dict[str, Any]]


class ReviewsEnvelope(BaseModel):
    reviews: list[ReviewIn]


class ConversationsEnvelope(BaseModel):
    conversations: list[ConversationIn]


class ProfilesEnvelope(BaseModel):
    profiles: list[ProfileIn]


class EventsBody(
    RootModel[
        EventsEnvelope | list[SegmentEventIn | dict[str, Any]] | SegmentEventIn | dict[str, Any]
    ]
):
    """One event, a list, or Segment's ``{"batch": [...]}``; export rows of other formats are objects."""


class ReviewsBody(RootModel[ReviewsEnvelope | list[ReviewIn] | ReviewIn]):
    """One review, a list, or ``{"reviews": [...]}``."""


class ConversationsBody(RootModel[ConversationsEnvelope | list[ConversationIn] | ConversationIn]):
    """One conversation, a list, or ``{"conversations": [...]}``."""


class ProfilesBody(RootModel[ProfilesEnvelope | list[ProfileIn] | ProfileIn]):
    """One profile, a list, or ``{"profiles": [...]}``."""
