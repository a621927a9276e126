"""Writers racing each other: what SQLite serialises by itself must hold on PostgreSQL too.

Every test starts its writers together at a barrier, on the database of the run (SQLite, or
PostgreSQL with PERSONAPULSE_TEST_DATABASE_URL, where transactions really run side by side).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from personapulse.services.narratives import StoreCache
from personapulse.store import jobs as job_queue
from personapulse.store import read_connection, write_transaction
from personapulse.store.schema import (
    emitted_events,
    idempotency_keys,
    ingest_counts,
    jobs,
    reviews,
)

WRITERS = 8


def _together(n: int, action):
    """Run ``action(i)`` for i in range(n) on n threads released at once; return the results."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=30)
        return action(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _count(store, table, *where) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def _sum(store, column) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(column), 0))).scalar()


def test_one_idempotency_key_sent_at_once_is_stored_once(app, auth, store):
    body = [{"source": "google", "review_id": "race-1", "text": "Arrived broken.", "rating": 1}]
    headers = auth | {"Idempotency-Key": "same-key"}

    def send(_):
        response = app.test_client().post("/v1/reviews", json=body, headers=headers)
        return response.status_code, response.json, response.headers.get("Idempotent-Replayed")

    answers = _together(WRITERS, send)
    assert {status for status, _, _ in answers} == {200}, answers
    assert all(answer == answers[0][1] for _, answer, _ in answers), "every answer is the first"
    assert sorted(replayed or "" for _, _, replayed in answers) == [""] + ["true"] * (WRITERS - 1)
    assert answers[0][1]["accepted"] == 1
    assert _count(store, reviews) == 1
    assert _count(store, idempotency_keys) == 1
    requests_counted = _sum(store, ingest_counts.c.requests)
    assert requests_counted == 1, "replays are not counted as requests"
    assert _count(store, emitted_events, emitted_events.c.event_type == "review.classified") == 1


def test_one_review_sent_at_once_without_a_key_is_stored_and_classified_once(app, auth, store):
    body = [{"source": "trustpilot", "review_id": "race-2", "text": "Great value.", "rating": 5}]

    def send(_):
        response = app.test_client().post("/v1/reviews", json=body, headers=auth)
        return response.status_code, response.json

    answers = _together(WRITERS, send)
    assert {status for status, _ in answers} == {200}, answers
    assert sorted(answer["accepted"] for _, answer in answers) == [0] * (WRITERS - 1) + [1]
    assert all(len(answer["classifications"]) == 1 for _, answer in answers)
    assert _count(store, reviews) == 1
    assert _count(store, emitted_events, emitted_events.c.event_type == "review.classified") == 1


def test_one_users_traits_sent_at_once_are_all_kept(app, auth, store):
    def send(i):
        profile = {"user_id": "u-race", "traits": {f"trait_{i}": i}}
        return app.test_client().post("/v1/profiles", json=[profile], headers=auth).status_code

    assert set(_together(WRITERS, send)) == {200}
    person = app.test_client().get("/v1/users/u-race", headers=auth).json
    assert person["profile"]["traits"] == {f"trait_{i}": i for i in range(WRITERS)}


def test_every_job_is_claimed_by_exactly_one_worker(store):
    queued = {job_queue.enqueue(store.engine, "noop", {"n": n})["id"] for n in range(24)}

    def drain(i):
        mine = []
        while (job := job_queue.claim(store.engine, f"worker-{i}")) is not None:
            mine.append(job["id"])
        return mine

    claimed = [job_id for mine in _together(6, drain) for job_id in mine]
    assert sorted(claimed) == sorted(queued), "each job once, none left behind"


def test_a_due_job_asked_for_by_every_worker_is_queued_once(store):
    _together(WRITERS, lambda _: job_queue.enqueue_if_due(store.engine, "tick", 60_000))
    _together(WRITERS, lambda _: job_queue.enqueue(store.engine, "tock", {"a": 1}, dedupe=True))
    assert _count(store, jobs, jobs.c.kind == "tick") == 1
    assert _count(store, jobs, jobs.c.kind == "tock") == 1


def test_one_llm_answer_cached_at_once_by_every_worker(store):
    cache = StoreCache(store.engine)
    _together(WRITERS, lambda i: cache.__setitem__("sheet-hash", {"answer": i}))
    assert cache["sheet-hash"]["answer"] in range(WRITERS)
    assert len(cache) == 1


def test_a_read_sees_one_snapshot_while_a_writer_commits(client, auth, store):
    client.post(
        "/v1/reviews", json=[{"source": "google", "review_id": "r0", "text": "ok"}], headers=auth
    )
    with read_connection(store.engine) as conn:
        before = conn.execute(select(func.count()).select_from(reviews)).scalar()
        with write_transaction(store.engine) as writer:  # another connection, committed at once
            writer.execute(
                reviews.insert().values(review_id="r1", source="g", text="late", received_ms=1)
            )
        after = conn.execute(select(func.count()).select_from(reviews)).scalar()
    assert before == after == 1
    assert _count(store, reviews) == 2
