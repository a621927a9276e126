"""Journeys, funnels and drop-offs over the stored events, broken down by the current personas."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from personapulse.journeys import (
    dropoffs,
    funnel,
    session_channels,
    sessionize,
    to_steps,
    top_paths,
    transitions,
    with_pain_points,
)
from personapulse.services.personas import current_assignments
from personapulse.services.reviews import pain_points
from personapulse.store import read_connection
from personapulse.store.frames import load_events

# Events too frequent to be milestones of a journey (Segment e-commerce names); configurable.
DEFAULT_IGNORED_EVENTS = (
    "Product Viewed",
    "Cart Viewed",
    "Feature Used",
    "Page Viewed",
    "Screen Viewed",
)

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _events_signature(engine: Engine) -> tuple:
    with read_connection(engine) as conn:
        return tuple(conn.exec_driver_sql("SELECT MAX(id), COUNT(*) FROM events").one())


def _signed_events(engine: Engine) -> tuple[tuple, pd.DataFrame]:
    """(signature, event frame); the frame is reloaded only when the signature changed."""
    signature = (str(engine.url), *_events_signature(engine))
    with _cache_lock:
        if _cache.get("signature") == signature:
            return signature, _cache["events"]
    events = load_events(engine)
    with _cache_lock:
        _cache["signature"] = signature
        _cache["events"] = events
        _results.clear()  # results of older events are never served again
    return signature, events


def cached_events(engine: Engine) -> pd.DataFrame:
    """The event frame, reloaded only when events were added (one cheap query to tell)."""
    return _signed_events(engine)[1]


# Journey tables by (events signature, assignments content, parameters): the event-derived
# part of GET /v1/journeys is computed once per data state; pain points stay live.
_results: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_RESULTS_KEPT = 16


def _frame_digest(frame: pd.DataFrame) -> str:
    """Content digest of a small frame (row order included)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + str(list(frame.columns)).encode()).hexdigest()


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain JSON values (NaN → None, numpy scalars → Python, timestamps → ISO)."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, float) and value != value:
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            elif isinstance(value, pd.Timestamp):
                value = value.isoformat()
            clean[key] = value
        out.append(clean)
    return out


def milestones(with_sessions: pd.DataFrame, ignored_events: tuple[str, ...]) -> pd.DataFrame:
    """Each session's landing page plus its key events (tracks not in ``ignored_events``).

    Whole clickstreams are unique per person; journeys told as "channel: landing → key events →
    leave → return …" repeat across people, so they can be counted and compared.
    """
    first_of_session = ~with_sessions.duplicated("session_key")
    key_event = (with_sessions["type"] == "track") & ~with_sessions["event"].isin(ignored_events)
    return with_sessions[first_of_session | key_event]


def journeys(
    engine: Engine,
    *,
    persona_id: str | None = None,
    top: int = 10,
    max_step: int = 10,
    gap_minutes: float = 30,
    conversion_event: str = "Order Completed",
    ignored_events: tuple[str, ...] = DEFAULT_IGNORED_EVENTS,
    pains: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Top paths up to the first conversion, Sankey transitions and drop-off points per persona.

    ``pains`` (``pain_points`` of the current assignments) is computed here unless the caller has it.
    """
    signature, events = _signed_events(engine)
    assignments = current_assignments(engine)
    key = (
        signature,
        _frame_digest(assignments),
        persona_id,
        top,
        max_step,
        gap_minutes,
        conversion_event,
        tuple(ignored_events),
    )
    with _cache_lock:
        tables = _results.get(key)
        if tables is not None:
            _results.move_to_end(key)
    if tables is None:
        tables = _journey_tables(
            events,
            assignments,
            persona_id=persona_id,
            top=top,
            max_step=max_step,
            gap_minutes=gap_minutes,
            conversion_event=conversion_event,
            ignored_events=ignored_events,
        )
        with _cache_lock:
            _results[key] = tables
            while len(_results) > _RESULTS_KEPT:
                _results.popitem(last=False)
    if tables["persons"] == 0:
        return {
            "paths": [],
            "transitions": [],
            "dropoffs": [],
            "session_dropoffs": [],
            "persons": 0,
        }
    assignments = tables["assignments"]  # with the fallback persona and the persona filter
    drops, session_drops = tables["dropoffs"], tables["session_dropoffs"]
    if pains is None:
        pains = pain_points(engine, assignments)
    elif persona_id is not None:
        pains = pains[pains["persona_id"] == persona_id]
    if not pains.empty:
        persona_pains = pains[pains["kind"] == "pain_point"][["persona_id", "label", "count"]]
        drops = with_pain_points(drops, persona_pains)
        session_drops = with_pain_points(session_drops, persona_pains)
    return {
        "persons": tables["persons"],
        "paths": json_records(tables["paths"]),
        "transitions": json_records(tables["transitions"]),
        "dropoffs": json_records(drops),
        "session_dropoffs": json_records(session_drops),
    }


def _journey_tables(
    events: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    persona_id: str | None,
    top: int,
    max_step: int,
    gap_minutes: float,
    conversion_event: str,
    ignored_events: tuple[str, ...],
) -> dict[str, Any]:
    """The event-derived tables of :func:`journeys` (everything but the pain points)."""
    if assignments.empty:
        assignments = pd.DataFrame({"person_id": events["person_id"].unique(), "persona_id": "all"})
    if persona_id is not None:
        assignments = assignments[assignments["persona_id"] == persona_id]
        events = events[events["person_id"].isin(set(assignments["person_id"]))]
    if events.empty:
        return {"persons": 0, "assignments": assignments}
    with_sessions = sessionize(events, gap_minutes=gap_minutes)
    sessions = session_channels(with_sessions)
    key_steps = to_steps(milestones(with_sessions, ignored_events), end=conversion_event)
    paths = top_paths(key_steps, sessions=sessions, assignments=assignments, top=top)
    all_steps = to_steps(with_sessions, end=conversion_event)
    edges = transitions(all_steps, assignments=assignments, top=top * 5, max_step=max_step)
    drops = dropoffs(events, assignments=assignments, conversion=conversion_event, top=top)
    # Where sessions end without a purchase: defined even for personas whose members all bought.
    session_drops = dropoffs(
        with_sessions,
        assignments=assignments,
        conversion=conversion_event,
        level="session",
        top=top,
    )
    return {
        "persons": int(events["person_id"].nunique()),
        "assignments": assignments,
        "paths": paths,
        "transitions": edges,
        "dropoffs": drops,
        "session_dropoffs": session_drops,
    }


def run_funnel(engine: Engine, spec: dict[str, Any]) -> dict[str, Any]:
    """A funnel from a request: steps, window, order, exclusions, breakdown (see journeys.funnel)."""
    events = cached_events(engine)
    spec = dict(spec)
    since, until = spec.pop("since", None), spec.pop("until", None)
    if since is not None:
        events = events[events["timestamp"] >= pd.Timestamp(since)]
    if until is not None:
        events = events[events["timestamp"] < pd.Timestamp(until)]
    assignments = None
    if spec.get("breakdown") == "persona":
        assignments = current_assignments(engine)
    result = funnel(events, assignments=assignments, **spec)
    return result.to_dict()
