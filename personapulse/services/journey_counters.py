"""Incremental journey counters: each person's journey kept current as their events arrive.

A person's journey depends on their own events only (sessions split on gaps within one person's
events; steps, cuts and collapsed repeats are per person), so an arriving event changes just its
person's counters. Per person the store keeps:

- ``journey_people``: the key-moment path (sessions' channels, landing pages and key events up to
  the first conversion, as ``top_paths`` names it), with its session and step counts;
- ``journey_transitions``: how many times the k-th step was ``source`` and the next ``target``
  (``transitions`` over all steps up to the first conversion);
- ``journey_step_counts``: how many of their steps were each step name.

``update_people`` recomputes only the named people from their stored events (idempotent, so a job
run twice does no harm); ``rebuild`` recomputes everyone. Per-persona counts are sums over the
current members (``persona_paths``, ``persona_transitions``, ``persona_steps``): a person who
changes persona moves their counts with them and nothing is recomputed from events. Everything is
computed with the public functions of ``personapulse.journeys`` and matches them exactly
(tests/services/test_journey_counters.py checks the counters against a full recomputation).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select

from personapulse.journeys import session_channels, sessionize, to_steps, top_paths, transitions
from personapulse.services.journeys import DEFAULT_IGNORED_EVENTS, milestones
from personapulse.store import Store, now_ms, read_connection, write_transaction
from personapulse.store.frames import load_events
from personapulse.store.schema import (
    assignments,
    journey_people,
    journey_step_counts,
    journey_transitions,
    persona_versions,
)

GAP_MINUTES = 30
CONVERSION_EVENT = "Order Completed"


def person_counters(
    events: pd.DataFrame,
    *,
    gap_minutes: float = GAP_MINUTES,
    conversion_event: str = CONVERSION_EVENT,
    ignored_events: tuple[str, ...] = DEFAULT_IGNORED_EVENTS,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-person journey counters from an event frame (any set of whole persons' events).

    Output: (paths: person_id, path, sessions, steps; transitions: person_id, step_number,
    source, target, count; steps: person_id, step, count). Each person is their own group, so
    the values are exactly what ``top_paths`` / ``transitions`` give for them alone.
    """
    if events.empty:
        return (
            pd.DataFrame(columns=["person_id", "path", "sessions", "steps"]),
            pd.DataFrame(columns=["person_id", "step_number", "source", "target", "count"]),
            pd.DataFrame(columns=["person_id", "step", "count"]),
        )
    with_sessions = sessionize(events, gap_minutes=gap_minutes)
    sessions = session_channels(with_sessions)
    # Every person is a group of one: the grouped outputs are per-person counters.
    persons = pd.DataFrame({"person_id": pd.unique(events["person_id"].astype(str))})
    persons["persona_id"] = persons["person_id"]
    key_steps = to_steps(milestones(with_sessions, ignored_events), end=conversion_event)
    paths = top_paths(key_steps, sessions=sessions, assignments=persons, top=None)
    paths = paths.rename(columns={"persona_id": "person_id"})[
        ["person_id", "path", "sessions", "steps"]
    ]
    all_steps = to_steps(with_sessions, end=conversion_event)
    edges = transitions(all_steps, assignments=persons, top=None, max_step=None)
    edges = edges.rename(columns={"persona_id": "person_id"})[
        ["person_id", "step_number", "source", "target", "count"]
    ]
    steps = (
        all_steps.assign(
            person_id=all_steps["person_id"].astype(str), step=all_steps["step"].astype(str)
        )
        .groupby(["person_id", "step"], observed=True)
        .size()
        .reset_index(name="count")
    )
    return paths, edges, steps


def _write(engine: Engine, person_ids: list[str] | None, frames) -> None:
    """Replace these people's counters (everyone's when ``person_ids`` is None)."""
    paths, edges, steps = frames
    stamp = now_ms()
    with write_transaction(engine) as conn:
        for table in (journey_people, journey_transitions, journey_step_counts):
            if person_ids is None:
                conn.execute(delete(table))
            else:
                conn.execute(delete(table).where(table.c.person_id.in_(person_ids)))
        if len(paths):
            conn.execute(
                insert(journey_people),
                [
                    {
                        "person_id": str(r.person_id),
                        "path": str(r.path),
                        "sessions": int(r.sessions),
                        "steps": int(r.steps),
                        "updated_ms": stamp,
                    }
                    for r in paths.itertuples(index=False)
                ],
            )
        if len(edges):
            conn.execute(
                insert(journey_transitions),
                [
                    {
                        "person_id": str(r.person_id),
                        "step_number": int(r.step_number),
                        "source": str(r.source),
                        "target": str(r.target),
                        "count": int(r.count),
                    }
                    for r in edges.itertuples(index=False)
                ],
            )
        if len(steps):
            conn.execute(
                insert(journey_step_counts),
                [
                    {"person_id": str(r.person_id), "step": str(r.step), "count": int(r.count)}
                    for r in steps.itertuples(index=False)
                ],
            )


def update_people(store: Store, person_ids: Iterable[str]) -> dict:
    """Recompute these people's counters from their stored events (the incremental path)."""
    people = sorted({str(p) for p in person_ids})
    if not people:
        return {"people": 0}
    events = load_events(store.engine, person_ids=people)
    _write(store.engine, people, person_counters(events))
    return {"people": len(people)}


def rebuild(store: Store) -> dict:
    """Recompute everyone's counters from all stored events, in one transaction (people without
    events any more lose theirs). The journeys endpoint reads the same frame, so the memory is
    what it already needs."""
    events = load_events(store.engine)
    frames = person_counters(events)
    _write(store.engine, None, frames)
    return {"people": int(frames[0]["person_id"].nunique())}


# --- reading: per-persona sums over the current members ---------------------------------------


def _members():
    """(person_id, persona_id) of the current persona version, as a subquery."""
    current = (
        select(persona_versions.c.id)
        .where(persona_versions.c.status == "current")
        .scalar_subquery()
    )
    return (
        select(assignments.c.person_id, assignments.c.persona_id)
        .where(assignments.c.version_id == current)
        .subquery()
    )


def persona_paths(engine: Engine, *, persona_id: str | None = None) -> pd.DataFrame:
    """persona_id, path, users (members whose key-moment path it is), sessions, steps."""
    members = _members()
    query = (
        select(
            members.c.persona_id,
            journey_people.c.path,
            func.count().label("users"),
            func.max(journey_people.c.sessions).label("sessions"),
            func.max(journey_people.c.steps).label("steps"),
        )
        .join(members, members.c.person_id == journey_people.c.person_id)
        .group_by(members.c.persona_id, journey_people.c.path)
    )
    if persona_id is not None:
        query = query.where(members.c.persona_id == persona_id)
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["persona_id", "path", "users", "sessions", "steps"])
    return frame.sort_values(["persona_id", "users", "path"], ascending=[True, False, True])


def persona_transitions(
    engine: Engine, *, persona_id: str | None = None, max_step: int | None = None
) -> pd.DataFrame:
    """persona_id, step_number, source, target, count (transitions), users (distinct members)."""
    members = _members()
    t = journey_transitions
    query = (
        select(
            members.c.persona_id,
            t.c.step_number,
            t.c.source,
            t.c.target,
            func.sum(t.c.count).label("count"),
            func.count(func.distinct(t.c.person_id)).label("users"),
        )
        .join(members, members.c.person_id == t.c.person_id)
        .group_by(members.c.persona_id, t.c.step_number, t.c.source, t.c.target)
    )
    if persona_id is not None:
        query = query.where(members.c.persona_id == persona_id)
    if max_step is not None:
        query = query.where(t.c.step_number <= max_step)
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(
        rows, columns=["persona_id", "step_number", "source", "target", "count", "users"]
    )
    return frame.sort_values(
        ["persona_id", "count", "step_number", "source", "target"],
        ascending=[True, False, True, True, True],
    )


def persona_steps(engine: Engine, *, persona_id: str | None = None) -> pd.DataFrame:
    """persona_id, step, count (steps taken), users (members who took it)."""
    members = _members()
    s = journey_step_counts
    query = (
        select(
            members.c.persona_id,
            s.c.step,
            func.sum(s.c.count).label("count"),
            func.count().label("users"),
        )
        .join(members, members.c.person_id == s.c.person_id)
        .group_by(members.c.persona_id, s.c.step)
    )
    if persona_id is not None:
        query = query.where(members.c.persona_id == persona_id)
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["persona_id", "step", "count", "users"])
    return frame.sort_values(["persona_id", "count", "step"], ascending=[True, False, True])


def person_journey(engine: Engine, person_id: str) -> dict | None:
    """One person's current key-moment path and counts, or None when they have no steps."""
    with read_connection(engine) as conn:
        row = conn.execute(
            select(journey_people).where(journey_people.c.person_id == person_id)
        ).first()
    if row is None:
        return None
    return {
        "person_id": row.person_id,
        "path": row.path,
        "sessions": row.sessions,
        "steps": row.steps,
        "updated_ms": row.updated_ms,
    }
