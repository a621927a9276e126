"""Incremental journey counters equal a full recomputation with the journeys package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.journeys import session_channels, sessionize, to_steps, top_paths, transitions
from personapulse.services import journey_counters as counters
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo
from personapulse.services.ingestion import ingest, parse
from personapulse.services.journeys import DEFAULT_IGNORED_EVENTS, milestones
from personapulse.services.worker import run_one, schedule_rescoring
from personapulse.store import Store, read_connection
from personapulse.store import jobs as job_queue
from personapulse.store.frames import load_events
from personapulse.store.schema import journey_people, journey_step_counts, journey_transitions


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("journey_counters") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    load_demo(store, DemoConfig(users=200, seed=11), load_settings({"INCREMENTAL_UPDATES": False}))
    job_queue.enqueue(store.engine, "personas.refresh", {"config": {"k_max": 4, "bootstrap": 3}})
    refreshed = run_one(store, {})
    assert refreshed["status"] == "succeeded", refreshed
    # The refresh queues the full rebuild of the counters as its own job.
    rebuilt = run_one(store, {})
    assert rebuilt["id"] == refreshed["result"]["journey_counters_job_id"]
    assert rebuilt["kind"] == "journeys.rebuild_counters" and rebuilt["status"] == "succeeded"
    assert rebuilt["result"]["people"] > 100
    yield store
    store.dispose()


def _stored(store) -> dict[str, pd.DataFrame]:
    with read_connection(store.engine) as conn:
        return {
            name: pd.read_sql_table(table.name, conn).drop(columns=["updated_ms"], errors="ignore")
            for name, table in (
                ("paths", journey_people),
                ("transitions", journey_transitions),
                ("steps", journey_step_counts),
            )
        }


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({c: str for c in frame.columns if frame[c].dtype.name in ("category",)})
    frame = frame.astype(
        {c: "int64" for c in ("sessions", "steps", "count", "step_number", "users") if c in frame}
    )
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _assert_match_full_recompute(store):
    paths, edges, steps = counters.person_counters(load_events(store.engine))
    stored = _stored(store)
    pd.testing.assert_frame_equal(
        _canonical(stored["paths"]), _canonical(paths.rename(columns={}).astype({"path": str}))
    )
    pd.testing.assert_frame_equal(_canonical(stored["transitions"]), _canonical(edges))
    pd.testing.assert_frame_equal(_canonical(stored["steps"]), _canonical(steps))

    # Per persona: the sums over members equal top_paths / transitions over all events.
    events = load_events(store.engine)
    members = persona_service.current_assignments(store.engine)
    with_sessions = sessionize(events, gap_minutes=counters.GAP_MINUTES)
    key_steps = to_steps(
        milestones(with_sessions, DEFAULT_IGNORED_EVENTS), end=counters.CONVERSION_EVENT
    )
    full_paths = top_paths(
        key_steps, sessions=session_channels(with_sessions), assignments=members, top=None
    )
    pd.testing.assert_frame_equal(
        _canonical(counters.persona_paths(store.engine)),
        _canonical(full_paths[["persona_id", "path", "users", "sessions", "steps"]]),
    )
    all_steps = to_steps(with_sessions, end=counters.CONVERSION_EVENT)
    full_edges = transitions(all_steps, assignments=members, top=None, max_step=10)
    pd.testing.assert_frame_equal(
        _canonical(counters.persona_transitions(store.engine, max_step=10)),
        _canonical(full_edges[["persona_id", "step_number", "source", "target", "count", "users"]]),
    )


def test_the_full_rebuild_matches_the_journeys_package(store):
    _assert_match_full_recompute(store)


def test_arriving_events_update_only_their_people_and_match_a_full_recompute(store):
    members = persona_service.current_assignments(store.engine)
    # Two known people come back, and three new people arrive and buy.
    known = [p for p in members["person_id"] if not p.startswith("anon:")][:2]
    newcomers = [f"newcomer-{i}" for i in range(3)]
    people = known + newcomers
    before = {p: counters.person_journey(store.engine, p) for p in people}
    assert all(before[p] is not None for p in known)
    assert all(before[p] is None for p in newcomers)
    untouched = [p for p in members["person_id"] if p not in people][:20]
    untouched_before = {p: counters.person_journey(store.engine, p) for p in untouched}
    now = datetime.now(UTC)
    new_events = []
    for i, person in enumerate(people):
        start = now - timedelta(minutes=10 + i)
        for j, (kind, name, path) in enumerate(
            (
                ("page", None, "/pricing"),
                ("track", "Plan Selected", None),
                ("track", "Order Completed", None),
            )
        ):
            event = {
                "type": kind,
                "userId": person,
                "messageId": f"fresh-{i}-{j}",
                "timestamp": (start + timedelta(seconds=20 * j)).isoformat(),
            }
            if kind == "page":
                event["properties"] = {"path": path, "referrer": "https://www.google.com/"}
            else:
                event["event"] = name
            new_events.append(event)
    settings = load_settings({"INCREMENTAL_UPDATES": True})
    ingest(store, "events", parse("events", new_events, received_at=now), settings=settings)
    # Ingestion marks the people; the worker loop queues one rescoring job for all of them.
    assert schedule_rescoring(store) is not None
    finished = run_one(store, settings)
    assert finished["kind"] == "personas.update_dirty" and finished["status"] == "succeeded"
    assert finished["result"]["journey_counters"] == len(people)
    after = {p: counters.person_journey(store.engine, p) for p in people}
    assert all(after[p]["updated_ms"] > before[p]["updated_ms"] for p in known)
    assert all(after[p]["path"].endswith("Order Completed") for p in newcomers), after
    assigned = set(persona_service.current_assignments(store.engine)["person_id"])
    assert set(newcomers) <= assigned, "rescoring assigned the newcomers a persona"
    assert {p: counters.person_journey(store.engine, p) for p in untouched} == untouched_before
    _assert_match_full_recompute(store)


def test_updating_twice_changes_nothing(store):
    person = persona_service.current_assignments(store.engine)["person_id"].iloc[0]
    first = _stored(store)
    counters.update_people(store, [person])
    counters.update_people(store, [person])
    second = _stored(store)
    for name in first:
        pd.testing.assert_frame_equal(_canonical(first[name]), _canonical(second[name]))
