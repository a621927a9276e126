"""Ingestion marks people for rescoring once each; one job rescores every marked person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo
from personapulse.services.ingestion import ingest, parse
from personapulse.services.worker import run_one, schedule_rescoring
from personapulse.store import Store, read_connection, write_transaction
from personapulse.store.schema import assignments, dirty_people, jobs
from personapulse.store.writes import clear_dirty, mark_dirty, take_dirty


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("rescoring") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    load_demo(store, DemoConfig(users=200, seed=7), load_settings({"INCREMENTAL_UPDATES": False}))
    persona_service.refresh(store, {"k_max": 4, "bootstrap": 2})
    yield store
    store.dispose()


def _send(store, user_id: str, n: int) -> None:
    received = datetime.now(UTC)
    payload = {
        "batch": [
            {
                "type": "track",
                "event": "Order Completed",
                "userId": user_id,
                "messageId": f"rescore-{user_id}-{received.timestamp()}-{i}",
                "timestamp": received.isoformat(),
                "properties": {"revenue": 30},
            }
            for i in range(n)
        ]
    }
    ingest(
        store,
        "events",
        parse("events", payload, received_at=received),
        settings=load_settings(),
        received_at=received,
    )


def _marks(store) -> dict[str, int]:
    with read_connection(store.engine) as conn:
        return dict(conn.execute(select(dirty_people.c.person_ref, dirty_people.c.version)).all())


def _known_people(store, n: int) -> list[str]:
    with read_connection(store.engine) as conn:
        return list(
            conn.execute(
                select(assignments.c.person_id)
                .where(~assignments.c.person_id.startswith("anon:"))
                .order_by(assignments.c.person_id)
                .limit(n)
            ).scalars()
        )


def test_many_requests_mark_each_person_once_and_one_job_rescores_them_all(store):
    people = _known_people(store, 3)
    with read_connection(store.engine) as conn:
        jobs_before = conn.execute(select(func.count()).select_from(jobs)).scalar()
    for person in people + people[:1] + people[:1]:  # the first person in three requests
        _send(store, person, 2)

    marks = _marks(store)
    assert set(marks) == set(people)
    assert marks[people[0]] == 3 and marks[people[1]] == 1  # re-marked, not duplicated
    with read_connection(store.engine) as conn:
        # No job per request any more.
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == jobs_before

    job = schedule_rescoring(store)
    assert schedule_rescoring(store)["id"] == job["id"]  # one job, however often scheduled
    done = run_one(store, {})
    assert done["id"] == job["id"] and done["status"] == "succeeded", done
    assert done["result"]["people"] == 3
    assert done["result"]["rescored"] == 3  # every marked person, none dropped
    assert _marks(store) == {}
    assert schedule_rescoring(store) is None  # nothing left to do


def test_a_mark_made_while_rescoring_survives_the_clear(store):
    with write_transaction(store.engine) as conn:
        mark_dirty(conn, ["someone"], 1)
    with read_connection(store.engine) as conn:
        taken = take_dirty(conn, 10)
    assert taken == [("someone", 1)]
    with write_transaction(store.engine) as conn:
        mark_dirty(conn, ["someone"], 2)  # new behaviour arrives while the job rescored
        clear_dirty(conn, taken)
    assert _marks(store) == {"someone": 2}
    with write_transaction(store.engine) as conn:
        clear_dirty(conn, [("someone", 2)])
    assert _marks(store) == {}


def test_nothing_is_marked_before_there_are_personas(tmp_path):
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    fresh.migrate()
    try:
        _send(fresh, "u1", 2)
        assert _marks(fresh) == {}  # the first refresh scores everyone anyway
        assert schedule_rescoring(fresh) is None
    finally:
        fresh.dispose()
