"""The store's job queue: claiming, dead workers, failures, and the refresh schedule."""

from __future__ import annotations

from sqlalchemy import update

from personapulse.services.worker import HANDLERS, run_one, schedule_due
from personapulse.store import jobs as job_queue
from personapulse.store.schema import jobs


def test_a_job_is_claimed_once(store):
    job = job_queue.enqueue(store.engine, "noop")
    first = job_queue.claim(store.engine, "worker-a")
    assert first["id"] == job["id"] and first["status"] == "running"
    assert job_queue.claim(store.engine, "worker-b") is None


def test_a_job_whose_worker_died_is_taken_again(store):
    job = job_queue.enqueue(store.engine, "noop")
    job_queue.claim(store.engine, "worker-a")
    with store.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job["id"]).values(heartbeat_ms=0))
    again = job_queue.claim(store.engine, "worker-b")
    assert again["id"] == job["id"] and again["attempts"] == 2


def test_a_failing_job_is_recorded_not_lost(store, monkeypatch):
    def explode(_store, _params, _settings):
        raise RuntimeError("boom")

    monkeypatch.setitem(HANDLERS, "explode", explode)
    job_queue.enqueue(store.engine, "explode")
    finished = run_one(store, {})
    assert finished["status"] == "failed" and "boom" in finished["error"]


def test_refresh_schedule(store, client, auth):
    settings = {"REFRESH_EVERY_HOURS": 24}
    assert schedule_due(store, settings) is None, "an empty store schedules nothing"
    client.post(
        "/v1/events",
        json={"type": "track", "userId": "u", "event": "x", "messageId": "1"},
        headers=auth,
    )
    queued = schedule_due(store, settings)
    assert queued is not None and queued["kind"] == "personas.refresh"
    assert schedule_due(store, settings) is None, "not again within the interval"
    assert schedule_due(store, {"REFRESH_EVERY_HOURS": 0}) is None


def test_a_fresh_persona_version_postpones_the_schedule(store, client, auth):
    from personapulse.store.schema import persona_versions

    client.post(
        "/v1/events",
        json={"type": "track", "userId": "u", "event": "x", "messageId": "1"},
        headers=auth,
    )
    with store.engine.begin() as conn:
        conn.execute(
            persona_versions.insert().values(
                id="v1",
                seq=1,
                status="current",
                reliable=True,
                k=2,
                method="kmeans",
                gate="{}",
                candidates="[]",
                provenance="{}",
                model_state="{}",
                appeared="[]",
                vanished="[]",
                created_ms=job_queue.now_ms(),
            )
        )
    assert schedule_due(store, {"REFRESH_EVERY_HOURS": 24}) is None


def test_a_long_job_keeps_its_claim_alive(store, monkeypatch):
    import time

    from personapulse.services import worker

    beats = []

    def slow(_store, params, _settings):
        time.sleep(0.5)
        return {}

    monkeypatch.setitem(HANDLERS, "slow", slow)
    monkeypatch.setattr(worker._Heartbeat, "INTERVAL_SECONDS", 0.1)
    original = job_queue.heartbeat
    monkeypatch.setattr(
        job_queue,
        "heartbeat",
        lambda engine, job_id: (beats.append(job_id), original(engine, job_id)),
    )
    job = job_queue.enqueue(store.engine, "slow")
    finished = run_one(store, {})
    assert finished["status"] == "succeeded"
    assert len(beats) >= 2 and set(beats) == {job["id"]}
