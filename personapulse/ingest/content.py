"""Reviews, conversations and profiles: request bodies → canonical dicts (docs/data-contract.md)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import ValidationError

from personapulse.ingest._common import check_received_at, not_an_object, text_hash, unwrap
from personapulse.ingest.errors import ItemError, ParseResult
from personapulse.ingest.schemas import (
    ConversationIn,
    ProfileIn,
    ReviewIn,
    validation_errors,
)

# "Agent: …", "[00:01:12] Customer: …", "00:01 - Rep: …". Names map to the two canonical roles.
_SPEAKER_ROLES = {
    "agent": "agent",
    "rep": "agent",
    "representative": "agent",
    "support": "agent",
    "customer": "customer",
    "caller": "customer",
    "client": "customer",
    "user": "customer",
}
_SPEAKER_LINE = re.compile(
    r"^\s*(?:\[?\(?\d{1,2}:\d{2}(?::\d{2})?\)?\]?\s*[-–]?\s*)?"
    r"(?P<speaker>" + "|".join(_SPEAKER_ROLES) + r")\s*:\s*(?P<text>.*)$",
    re.IGNORECASE,
)


def split_transcript(transcript: str) -> list[dict]:
    """A call transcript → messages ``{role, text, at, author}``.

    Lines starting with a speaker label (``Agent:``, ``Customer:``, also ``Rep:`` / ``Caller:``,
    optionally after a ``[mm:ss]`` time) start a message; other lines continue the current one.
    Text before the first label, or a transcript without any label, is the customer's.
    """
    messages: list[dict] = []
    role = None
    lines: list[str] = []

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            messages.append({"role": role or "customer", "text": text, "at": None, "author": None})

    for line in transcript.splitlines():
        match = _SPEAKER_LINE.match(line)
        if match:
            flush()
            role = _SPEAKER_ROLES[match["speaker"].lower()]
            lines = [match["text"]]
        else:
            lines.append(line)
    flush()
    return messages


def _items(payload: object, envelope_key: str, noun: str) -> enumerate:
    return enumerate(unwrap(payload, envelope_key, noun))


def parse_reviews(payload: object, *, received_at: datetime) -> ParseResult:
    """Decoded JSON (one review, a list, or ``{"reviews": [...]}``) → canonical review dicts.

    ``review_id`` is the source's id, or ``"h:"`` + sha256 of source|text|author-or-user_id|
    created_at when absent; ``external_id`` is the source's id or None. Invalid items are reported
    in ``errors`` with every problem pydantic found.
    """
    received_at = check_received_at(received_at)
    result = ParseResult()
    for index, item in _items(payload, "reviews", "review"):
        if not isinstance(item, dict):
            result.errors.append(not_an_object(index, item))
            continue
        try:
            review = ReviewIn.model_validate(item)
        except ValidationError as exc:
            result.errors.extend(validation_errors(index, exc))
            continue
        review_id = review.review_id or text_hash(
            review.source, review.text, review.author or review.user_id, review.created_at
        )
        result.items.append(
            {
                "review_id": review_id,
                "source": review.source,
                "external_id": review.review_id,
                "user_id": review.user_id,
                "email": review.email,
                "author": review.author,
                "rating": review.rating,
                "title": review.title,
                "text": review.text,
                "product": review.product,
                "language": review.language,
                "created_at": review.created_at,
                "received_at": received_at,
                "_index": index,
            }
        )
    return result


def _default_kind(conversation: ConversationIn) -> str:
    if conversation.kind is not None:
        return conversation.kind
    if not conversation.messages and conversation.transcript:
        return "call"
    return "chat" if conversation.source in ("whatsapp", "intercom") else "ticket"


def parse_conversations(payload: object, *, received_at: datetime) -> ParseResult:
    """Decoded JSON (one, a list, or ``{"conversations": [...]}``) → canonical conversation dicts.

    ``messages`` are ``{role, text, at, author}``; a ``transcript`` (used when there are no
    messages) is split on ``Agent:`` / ``Customer:`` lines. ``customer_text`` joins the customer's
    messages with newlines. ``conversation_id`` is the given id, else ``"h:"`` + sha256 of
    source|kind|user_id|email|contact_id|created_at|the messages.
    """
    received_at = check_received_at(received_at)
    result = ParseResult()
    for index, item in _items(payload, "conversations", "conversation"):
        if not isinstance(item, dict):
            result.errors.append(not_an_object(index, item))
            continue
        try:
            conversation = ConversationIn.model_validate(item)
        except ValidationError as exc:
            result.errors.extend(validation_errors(index, exc))
            continue
        if conversation.messages:
            messages = [
                {"role": m.role, "text": m.text, "at": m.at, "author": m.author}
                for m in conversation.messages
            ]
        else:
            messages = split_transcript(conversation.transcript or "")
        if not messages:
            result.errors.append(ItemError(index, "transcript", "has no text"))
            continue
        kind = _default_kind(conversation)
        customer_text = "\n".join(m["text"] for m in messages if m["role"] == "customer")
        conversation_id = conversation.conversation_id or text_hash(
            conversation.source,
            kind,
            conversation.user_id,
            conversation.email,
            conversation.contact_id,
            conversation.created_at,
            *(f"{m['role']}:{m['text']}" for m in messages),
        )
        result.items.append(
            {
                "conversation_id": conversation_id,
                "source": conversation.source,
                "kind": kind,
                "user_id": conversation.user_id,
                "email": conversation.email,
                "contact_id": conversation.contact_id,
                "subject": conversation.subject,
                "status": conversation.status,
                "created_at": conversation.created_at,
                "messages": messages,
                "customer_text": customer_text,
                "received_at": received_at,
                "_index": index,
            }
        )
    return result


def parse_profiles(payload: object, *, received_at: datetime) -> ParseResult:
    """Decoded JSON (one, a list, or ``{"profiles": [...]}``) → canonical profile dicts.

    ``{user_id, email, traits, received_at}``: ``email`` falls back to ``traits.email``; other
    top-level keys (``name``, ``plan`` …) are merged into ``traits`` (explicit traits win).
    """
    received_at = check_received_at(received_at)
    result = ParseResult()
    for index, item in _items(payload, "profiles", "profile"):
        if not isinstance(item, dict):
            result.errors.append(not_an_object(index, item))
            continue
        try:
            profile = ProfileIn.model_validate(item)
        except ValidationError as exc:
            result.errors.extend(validation_errors(index, exc))
            continue
        traits = dict(profile.model_extra or {})
        traits.update(profile.traits)
        email = profile.email
        if email is None:
            trait_email = traits.get("email")
            if isinstance(trait_email, str) and "@" in trait_email:
                email = trait_email.strip().lower() or None
        result.items.append(
            {
                "user_id": profile.user_id,
                "email": email,
                "traits": traits,
                "received_at": received_at,
                "_index": index,
            }
        )
    return result
