"""``parse_csv_events``: a CSV export (one event per row) → canonical events."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from personapulse.ingest._common import (
    TIMESTAMP_REASON,
    FieldError,
    check_received_at,
    event_hash,
    fill_from_url,
    parse_timestamp,
    to_number,
)
from personapulse.ingest.errors import ItemError, ParseResult
from personapulse.ingest.records import EVENT_TYPES, type_reason

#: Header names recognised without a mapping, per canonical key (compared lower-case, with
#: ``_``, ``-``, ``.`` and spaces ignored, so ``userId``, ``user_id`` and ``User ID`` all match).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "event_id": ("event_id", "message_id", "messageId", "insert_id", "id"),
    "type": ("type", "event_kind"),
    "event": ("event", "event_name", "name", "action"),
    "user_id": ("user_id", "userId", "customer_id", "user"),
    "anonymous_id": ("anonymous_id", "anonymousId", "anon_id", "device_id", "cookie_id"),
    "previous_id": ("previous_id", "previousId"),
    "timestamp": ("timestamp", "time", "event_time", "occurred_at", "created_at", "datetime"),
    "session_id": ("session_id", "sessionId", "session"),
    "page_path": ("page_path", "path", "page"),
    "page_url": ("page_url", "url"),
    "referrer": ("referrer", "page_referrer", "referer"),
    "utm_source": ("utm_source",),
    "utm_medium": ("utm_medium",),
    "utm_campaign": ("utm_campaign", "utm_name"),
    "utm_term": ("utm_term",),
    "utm_content": ("utm_content",),
    "revenue": ("revenue", "amount", "total"),
    "currency": ("currency",),
}
_TRAIT_PREFIXES = ("traits.", "trait_")
_PROPERTY_PREFIXES = ("properties.", "property_")


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name).lower()


def _read_mapping(mapping: dict[str, str] | str | None) -> dict[str, str]:
    if mapping is None:
        return {}
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise ValueError(f"mapping is not valid JSON: {exc.msg}") from None
    if not isinstance(mapping, dict):
        raise ValueError("mapping must be an object of canonical key → CSV column name")
    for key, column in mapping.items():
        if key not in DEFAULT_COLUMNS:
            raise ValueError(
                f"mapping key {key!r} is not a canonical event key; use one of: "
                + ", ".join(DEFAULT_COLUMNS)
            )
        if not isinstance(column, str) or not column:
            raise ValueError(f"mapping[{key!r}] must be a CSV column name")
    return mapping


def resolve_columns(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Canonical key → CSV column, from the explicit mapping first, then the default names."""
    present = set(header)
    resolved: dict[str, str] = {}
    for key, column in mapping.items():
        if column not in present:
            raise ValueError(f"mapping[{key!r}] names column {column!r}, which the CSV lacks")
        resolved[key] = column
    taken = set(resolved.values())
    by_norm: dict[str, str] = {}
    for column in header:
        by_norm.setdefault(_norm(column), column)
    for key, names in DEFAULT_COLUMNS.items():
        if key in resolved:
            continue
        for name in names:
            column = by_norm.get(_norm(name))
            if column is not None and column not in taken:
                resolved[key] = column
                taken.add(column)
                break
    return resolved


def _cell(row: dict, columns: dict[str, str], key: str) -> str | None:
    column = columns.get(key)
    if column is None:
        return None
    value = row.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _row_event(row: dict, columns: dict[str, str], extra: list[str]) -> dict:
    def cell(key: str) -> str | None:
        return _cell(row, columns, key)

    kind = (cell("type") or "track").lower()
    if kind not in EVENT_TYPES:
        raise FieldError(columns["type"], type_reason())
    event = cell("event")
    if kind == "track" and event is None:
        raise FieldError(columns.get("event", "event"), "is required for a track event")
    if kind == "page" and event is None:
        event = "Page Viewed"
    elif kind == "screen" and event is None:
        event = "Screen Viewed"
    elif kind in ("identify", "alias"):
        event = None
    user_id = cell("user_id")
    anonymous_id = cell("anonymous_id")
    previous_id = cell("previous_id")
    if kind == "alias":
        if previous_id is None:
            raise FieldError(columns.get("previous_id", "previous_id"), "is required for an alias")
        if user_id is None:
            raise FieldError(columns.get("user_id", "user_id"), "is required for an alias")
    if user_id is None and anonymous_id is None:
        raise FieldError(columns.get("user_id", "user_id"), "user_id or anonymous_id is required")
    raw_time = cell("timestamp")
    try:
        timestamp = parse_timestamp(raw_time)
    except (ValueError, OverflowError):
        raise FieldError(columns["timestamp"], TIMESTAMP_REASON) from None
    revenue = to_number(cell("revenue"), columns.get("revenue", "revenue"))

    properties: dict[str, str] = {}
    traits: dict[str, str] = {}
    for column in extra:
        value = row.get(column)
        if value is None or value == "":
            continue
        lowered = column.lower()
        for prefix in _TRAIT_PREFIXES:
            if lowered.startswith(prefix):
                traits[column[len(prefix) :]] = value
                break
        else:
            for prefix in _PROPERTY_PREFIXES:
                if lowered.startswith(prefix):
                    properties[column[len(prefix) :]] = value
                    break
            else:
                properties[column] = value

    event_dict = {
        "event_id": cell("event_id"),
        "source_format": "csv",
        "type": kind,
        "event": event,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": previous_id if kind == "alias" else None,
        "timestamp": timestamp,
        "session_id": cell("session_id"),
        "page_path": cell("page_path"),
        "page_url": cell("page_url"),
        "referrer": cell("referrer"),
        "utm_source": cell("utm_source"),
        "utm_medium": cell("utm_medium"),
        "utm_campaign": cell("utm_campaign"),
        "utm_term": cell("utm_term"),
        "utm_content": cell("utm_content"),
        "revenue": revenue,
        "currency": cell("currency"),
        "properties": properties,
        "traits": traits,
    }
    fill_from_url(event_dict)
    if event_dict["event_id"] is None:
        event_dict["event_id"] = event_hash(event_dict)
    return event_dict


def parse_csv_events(
    text: str, *, mapping: dict[str, str] | str | None = None, received_at: datetime
) -> ParseResult:
    """CSV text with a header row → canonical events (``source_format`` ``"csv"``) and row errors.

    ``mapping`` maps canonical keys (``user_id``, ``timestamp``, ``utm_source`` …) to column names,
    as a dict or a JSON object string; keys it leaves out are found by common header names (see
    :data:`DEFAULT_COLUMNS`). Columns that map to nothing go to ``properties`` (``traits.x`` /
    ``trait_x`` columns to ``traits``). ``type`` defaults to ``track``. Error indexes count data
    rows from 0 and error fields name the CSV column. Raises ValueError for an empty text, a
    missing header, or a mapping that is not an object of known keys naming existing columns.
    """
    received_at = check_received_at(received_at)
    if not isinstance(text, str):
        raise ValueError("CSV body must be text")
    wanted = _read_mapping(mapping)
    # newline="" lets the csv module see \r, \n and \r\n line ends itself, as its docs ask.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise ValueError(f"CSV header cannot be read: {exc}") from None
    if not header or not any(name.strip() for name in header):
        raise ValueError("CSV body is empty or has no header row")
    columns = resolve_columns(list(header), wanted)
    used = set(columns.values())
    extra = [column for column in header if column not in used and column]
    result = ParseResult()
    try:
        for index, row in enumerate(reader):
            if None in row:
                result.errors.append(ItemError(index, "", "has more cells than the header"))
                continue
            if not any(value for value in row.values()):
                result.errors.append(ItemError(index, "", "is empty"))
                continue
            try:
                event = _row_event(row, columns, extra)
            except FieldError as problem:
                result.errors.append(ItemError(index, problem.field, problem.reason))
                continue
            event["received_at"] = received_at
            event["_index"] = index
            result.items.append(event)
    except csv.Error as exc:
        raise ValueError(f"CSV body cannot be read: {exc}") from None
    return result
