"""Journey steps: one named step per event, cleaned, de-duplicated and optionally cut."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from personapulse.journeys._frame import (
    factorize,
    ns_to_datetime,
    order_events,
    require_columns,
)

# (regex, replacement) pairs applied in order to page paths; ids become placeholders so
# /recipes/123 and /recipes/456 are the same step.
DEFAULT_CLEANING: tuple[tuple[str, str], ...] = (
    (r"[?#].*$", ""),  # query string and fragment
    (
        r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/|$)",
        "/:id",
    ),
    (r"/\d+(?=/|$)", "/:id"),  # numeric ids
    (r"/[A-Za-z]{1,4}[-_]?\d+(?=/|$)", "/:id"),  # prefixed ids: r-1014, sku_42, p7
    (r"/[0-9a-fA-F]{16,}(?=/|$)", "/:id"),  # long hex ids (hashes, object ids)
    (r"(?<=.)/+$", ""),  # trailing slashes, but "/" stays "/"
)

NON_STEP_TYPES = frozenset({"identify", "alias", "group"})
PAGE_TYPES = frozenset({"page", "screen"})


def clean_path(path: str, replacements: Sequence[tuple[str, str]] = DEFAULT_CLEANING) -> str:
    """Apply the cleaning ``replacements`` to one page path ("" stays "")."""
    cleaned = path
    for pattern, replacement in replacements:
        cleaned = re.sub(pattern, replacement, cleaned)
    return cleaned if cleaned or not path else "/"


def _coerce_replacements(replacements: Iterable) -> list[tuple[str, str]]:
    pairs = []
    for item in replacements:
        if isinstance(item, Mapping):
            pairs.append((item["pattern"], item["replacement"]))
        else:
            pattern, replacement = item
            pairs.append((pattern, replacement))
        re.compile(pairs[-1][0])
    return pairs


def _names(step: str | Iterable[str] | None) -> set[str] | None:
    if step is None:
        return None
    return {step} if isinstance(step, str) else set(step)


def _first_flag_position(flags: np.ndarray, person_first: np.ndarray) -> np.ndarray:
    """Per row: index of the latest flagged row of the same person at or before it, else -1."""
    n = flags.size
    marked = np.where(flags, np.arange(n, dtype=np.int64), -1)
    latest = np.maximum.accumulate(marked) if n else marked
    return np.where(latest >= person_first, latest, -1)


def to_steps(
    events: pd.DataFrame,
    *,
    source: Literal["auto", "page_path", "event"] = "auto",
    replacements: Sequence[tuple[str, str]] | Sequence[Mapping] = DEFAULT_CLEANING,
    collapse_repeats: bool = True,
    start: str | Iterable[str] | None = None,
    end: str | Iterable[str] | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    type_col: str = "type",
    event_col: str = "event",
    page_path_col: str = "page_path",
    session_col: str = "session_key",
    carry: Sequence[str] = ("session_key", "session_index", "channel"),
) -> pd.DataFrame:
    """Name one step per event.

    Input: an event frame (data contract), optionally sessionized (see
    :func:`~personapulse.journeys.sessions.sessionize`).

    ``source``: ``"page_path"`` uses cleaned page paths (rows without one are dropped),
    ``"event"`` uses event names, ``"auto"`` uses the cleaned page path for page / screen
    events that have one and the event name otherwise. identify / alias / group rows
    never become steps. ``replacements`` are (regex, replacement) pairs applied in order to
    page paths only. With ``collapse_repeats`` a step equal to the previous step of the
    same person (and same session, when ``session_col`` is present) is dropped.
    ``start`` / ``end`` (a step name or several): each person's journey is cut to begin at
    their first ``start`` step (persons without one are dropped) and to stop at the first
    ``end`` step after that (inclusive). Cuts apply after collapsing.

    Output: one row per step, sorted by (person, timestamp) with ties in input order:
    person_id (categorical), timestamp, step (categorical), step_index (1-based per
    person), plus
    the ``carry`` columns that exist in ``events``.
    """
    if source not in ("auto", "page_path", "event"):
        raise ValueError(f"source must be 'auto', 'page_path' or 'event', got {source!r}")
    required = [person_col, timestamp_col]
    if source in ("auto", "page_path"):
        required.append(page_path_col)
    if source in ("auto", "event"):
        required.append(event_col)
    require_columns(events, required, frame_name="events")
    pairs = _coerce_replacements(replacements)
    ordering = order_events(
        events, person_col=person_col, timestamp_col=timestamp_col, session_col=session_col
    )
    order = ordering.order
    n = ordering.size

    # Step codes are computed in input order on integer codes (strings are factorised
    # once per column) and permuted into (person, time) order once at the end.
    page_lookup = np.full(1, -1, dtype=np.int64)  # raw page code -> cleaned page code
    raw_codes = None
    page_uniques: list[str] = []
    if source in ("auto", "page_path"):
        raw_codes, raw_uniques = factorize(events[page_path_col])
        cleaned = [clean_path(str(value), pairs) for value in raw_uniques]
        clean_codes, clean_uniques = pd.factorize(np.asarray(cleaned, dtype=object))
        page_uniques = list(clean_uniques)
        page_lookup = np.append(clean_codes, -1).astype(np.int64)  # -1 (missing) maps to -1
        page_lookup[
            np.isin(page_lookup, [i for i, value in enumerate(page_uniques) if value == ""])
        ] = -1
    raw_event_codes = None
    event_uniques: list[str] = []
    if source in ("auto", "event"):
        raw_event_codes, uniques = factorize(events[event_col])
        event_uniques = [str(value) for value in uniques]

    # One vocabulary: page steps first, then event names not already a page step name.
    categories = list(dict.fromkeys(page_uniques + event_uniques))
    position = {name: i for i, name in enumerate(categories)}
    page_map = np.array([position[name] for name in page_uniques] + [-1], dtype=np.int32)
    event_map = np.array([position[name] for name in event_uniques] + [-1], dtype=np.int32)
    # Step code per row from the raw codes through one small table each (-1 reads the last
    # entry, -1: missing stays missing).
    page_step = (
        page_map[page_lookup][raw_codes]
        if raw_codes is not None
        else np.full(n, -1, dtype=np.int32)
    )
    event_step = (
        event_map[raw_event_codes]
        if raw_event_codes is not None
        else np.full(n, -1, dtype=np.int32)
    )
    if type_col in events.columns:
        type_codes, type_uniques = factorize(events[type_col])
        page_type = np.array([t in PAGE_TYPES for t in type_uniques] + [False], dtype=bool)
        non_step_type = np.array([t in NON_STEP_TYPES for t in type_uniques] + [False], dtype=bool)
        is_page = page_type[type_codes]
        is_non_step = non_step_type[type_codes]
    else:
        is_page = np.ones(n, dtype=bool)
        is_non_step = np.zeros(n, dtype=bool)
    if source == "page_path":
        step_codes = page_step
    elif source == "event":
        step_codes = event_step
    else:
        step_codes = np.where(is_page & (page_step >= 0), page_step, event_step)
    step_codes = np.where(is_non_step, -1, step_codes)[order]

    rows = np.flatnonzero(step_codes >= 0)
    codes = step_codes[rows]
    persons = ordering.person_codes[rows]
    if collapse_repeats and rows.size:
        same = np.zeros(rows.size, dtype=bool)
        same[1:] = (codes[1:] == codes[:-1]) & (persons[1:] == persons[:-1])
        if session_col in events.columns:
            if ordering.sessions is not None and events[session_col].dtype == np.int64:
                row_sessions = ordering.sessions[rows]
            else:
                row_sessions = events[session_col].to_numpy()[order[rows]]
            same[1:] &= row_sessions[1:] == row_sessions[:-1]
        rows, codes, persons = rows[~same], codes[~same], persons[~same]

    start_names, end_names = _names(start), _names(end)
    if (start_names or end_names) and rows.size:
        new_person = np.ones(rows.size, dtype=bool)
        new_person[1:] = persons[1:] != persons[:-1]
        block_first = np.maximum.accumulate(np.where(new_person, np.arange(rows.size), 0))
        keep_cut = np.ones(rows.size, dtype=bool)
        if start_names:
            start_ids = [position[name] for name in start_names if name in position]
            is_start = np.isin(codes, start_ids)
            # Keep rows at or after the person's first start step.
            first_start = _first_flag_position(is_start, block_first)
            keep_cut &= first_start >= 0
        if end_names:
            end_ids = [position[name] for name in end_names if name in position]
            is_end = np.isin(codes, end_ids)
            if start_names:
                is_end &= keep_cut
            # Drop rows after the first end step: an end step strictly before them exists.
            previous_end = np.zeros(rows.size, dtype=bool)
            seen = _first_flag_position(is_end, block_first)
            previous_end[1:] = (seen[:-1] >= 0) & ~new_person[1:]
            keep_cut &= ~previous_end
        rows, codes, persons = rows[keep_cut], codes[keep_cut], persons[keep_cut]

    new_person = np.ones(rows.size, dtype=bool)
    new_person[1:] = persons[1:] != persons[:-1]
    block_first = (
        np.maximum.accumulate(np.where(new_person, np.arange(rows.size), 0)) if rows.size else rows
    )
    data = {
        person_col: pd.Categorical.from_codes(
            persons, categories=pd.Index(ordering.person_uniques)
        ),
        timestamp_col: ns_to_datetime(ordering.times[rows]),
        "step": pd.Categorical.from_codes(codes, categories=categories),
        "step_index": (np.arange(rows.size) - block_first + 1).astype(np.int64),
    }
    source_rows = None
    for column in carry:
        if column in events.columns and column not in data:
            if (
                column == session_col
                and ordering.sessions is not None
                and events[column].dtype == np.int64
            ):
                data[column] = ordering.sessions[rows]
            else:
                if source_rows is None:
                    source_rows = order[rows]
                data[column] = events[column].to_numpy()[source_rows]
    return pd.DataFrame(data)
