"""``parse_events``: request bodies of ``POST /v1/events`` → canonical event dicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from personapulse.ingest._common import (
    FieldError,
    check_received_at,
    not_an_object,
    unwrap,
)
from personapulse.ingest.amplitude import normalise_amplitude
from personapulse.ingest.detect import UNKNOWN_FORMAT_REASON, guess_format
from personapulse.ingest.errors import ItemError, ParseResult
from personapulse.ingest.ga4 import normalise_ga4
from personapulse.ingest.mixpanel import normalise_mixpanel
from personapulse.ingest.records import EVENT_FORMATS
from personapulse.ingest.segment import normalise_segment

NORMALISERS: dict[str, Callable[[dict], dict]] = {
    "segment": normalise_segment,
    "mixpanel": normalise_mixpanel,
    "amplitude": normalise_amplitude,
    "ga4": normalise_ga4,
}


def parse_events(
    payload: object, *, format: str | None = None, received_at: datetime
) -> ParseResult:
    """Decoded JSON body → canonical events (docs/data-contract.md) and per-item errors.

    ``payload`` is one event object, a list of them, or Segment's ``{"batch": [...]}``; any other
    top-level shape raises ValueError. Each item's format is detected from its keys unless
    ``format`` (one of :data:`EVENT_FORMATS`) names it, in which case an item that does not fit
    that format is an error. Returned items keep input order and carry ``"received_at"`` and
    ``"_index"`` (position in the input) besides the contract's keys. At most one error is
    reported per bad item: the first problem found.
    """
    if format is not None and format not in NORMALISERS:
        raise ValueError("format must be one of: " + ", ".join(EVENT_FORMATS))
    received_at = check_received_at(received_at)
    items = unwrap(payload, "batch", "event")
    fixed = NORMALISERS[format] if format is not None else None
    good: list[dict] = []
    errors: list[ItemError] = []
    append_good = good.append
    for index, item in enumerate(items):
        if type(item) is not dict:
            errors.append(not_an_object(index, item))
            continue
        normalise = fixed
        if normalise is None:
            # Inline the commonest detection (Segment's "type") before the general one.
            guessed = "segment" if "type" in item else guess_format(item)
            if guessed is None:
                errors.append(ItemError(index, "", UNKNOWN_FORMAT_REASON))
                continue
            normalise = NORMALISERS[guessed]
        try:
            event = normalise(item)
        except FieldError as problem:
            errors.append(ItemError(index, problem.field, problem.reason))
            continue
        event["received_at"] = received_at
        event["_index"] = index
        append_good(event)
    return ParseResult(good, errors)
