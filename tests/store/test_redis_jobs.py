"""The Redis job broker against a real redis-server on 127.0.0.1: the job table's guarantees."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from sqlalchemy import select

from personapulse.services.worker import HANDLERS, run_one
from personapulse.store import broker as queue
from personapulse.store import jobs as table
from personapulse.store import write_transaction
from personapulse.store.redis_jobs import RedisBroker
from personapulse.store.schema import jobs
from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def make_broker(redis_url):
    clients = []

    def make(**options) -> RedisBroker:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        clients.append(client)
        # A fresh key prefix per test: tests never see each other's jobs.
        options.setdefault("prefix", f"t{uuid.uuid4().hex[:8]}:")
        return RedisBroker(client, **options)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def redis_store(store, make_broker):
    broker = make_broker()
    queue.attach(store.engine, broker)
    yield store, broker
    queue.attach(store.engine, None)


def test_a_job_is_claimed_once(make_broker):
    broker = make_broker()
    job = broker.enqueue("noop", {"a": 1})
    assert job["status"] == "queued" and job["params"] == {"a": 1}
    first = broker.claim("worker-a")
    assert first["id"] == job["id"] and first["status"] == "running" and first["attempts"] == 1
    assert broker.claim("worker-b") is None


def test_jobs_are_claimed_oldest_first(make_broker):
    broker = make_broker()
    ids = [broker.enqueue("noop", {"i": i})["id"] for i in range(3)]
    assert [broker.claim("w")["id"] for _ in ids] == ids


def test_a_job_whose_worker_died_is_taken_again(make_broker):
    broker = make_broker(lease_ms=200)
    job = broker.enqueue("noop")
    broker.claim("worker-a")  # … which dies without a heartbeat
    assert broker.claim("worker-b") is None, "still leased"
    time.sleep(0.3)
    again = broker.claim("worker-b")
    assert again["id"] == job["id"] and again["attempts"] == 2


def test_heartbeats_keep_a_long_job(make_broker):
    broker = make_broker(lease_ms=300)
    job = broker.enqueue("slow")
    broker.claim("worker-a")
    for _ in range(5):
        time.sleep(0.15)
        assert broker.heartbeat(job["id"])
        assert broker.claim("worker-b") is None
    broker.finish(job["id"], result={"ok": True})
    assert not broker.heartbeat(job["id"]), "a finished job holds no lease"
    assert broker.get(job["id"])["result"] == {"ok": True}


def test_a_job_that_keeps_killing_its_worker_fails(make_broker):
    broker = make_broker(lease_ms=100, max_attempts=2)
    job = broker.enqueue("poison")
    for _ in range(2):
        assert broker.claim("w")["id"] == job["id"]
        time.sleep(0.15)
    assert broker.claim("w") is None
    failed = broker.get(job["id"])
    assert failed["status"] == "failed" and "too many times" in failed["error"]
    assert broker.counts() == {"ready": 0, "delayed": 0, "running": 0}


def test_delayed_jobs_wait_for_their_time(make_broker):
    broker = make_broker()
    job = broker.enqueue("later", delay_ms=400)
    assert broker.get(job["id"])["status"] == "queued"
    assert broker.claim("w") is None and broker.counts()["delayed"] == 1
    time.sleep(0.5)
    assert broker.claim("w")["id"] == job["id"]


def test_dedupe_returns_the_job_still_pending(make_broker):
    broker = make_broker()
    first = broker.enqueue("airtable.sync", {}, dedupe=True)
    assert broker.enqueue("airtable.sync", {}, dedupe=True)["id"] == first["id"]
    broker.claim("w")
    assert broker.enqueue("airtable.sync", {}, dedupe=True)["id"] == first["id"], "running"
    broker.finish(first["id"], result={})
    assert broker.enqueue("airtable.sync", {}, dedupe=True)["id"] != first["id"]


def test_a_schedule_queues_once_per_period_across_workers(make_broker):
    a, b = make_broker(), make_broker()
    b.prefix = a.prefix  # two workers, one Redis
    assert a.enqueue_if_due("personas.refresh", 60_000) is not None
    assert b.enqueue_if_due("personas.refresh", 60_000) is None
    assert a.enqueue_if_due("personas.refresh", 1) is not None, "a later period queues again"


def test_a_job_queued_in_a_transaction_reaches_redis_only_after_commit(redis_store):
    store, broker = redis_store
    with pytest.raises(RuntimeError), write_transaction(store.engine) as conn:
        table.enqueue_in(conn, "personas.update_users", {"people": ["ghost"]})
        raise RuntimeError("the ingest failed: its job must vanish with it")
    assert broker.relay(store.engine) == 0
    with write_transaction(store.engine) as conn:
        job_id = table.enqueue_in(conn, "personas.update_users", {"people": ["u1"]})
    # Committed, not relayed yet: the status is still answered (from the table).
    assert queue.get(store.engine, job_id)["status"] == "queued"
    assert broker.relay(store.engine) == 1
    assert broker.get(job_id)["params"] == {"people": ["u1"]}
    assert queue.get(store.engine, job_id)["status"] == "queued"
    with store.engine.connect() as conn:
        assert conn.execute(select(jobs.c.id)).all() == [], "moved, not copied"


def test_relaying_again_after_a_crash_queues_nothing_twice(redis_store):
    store, broker = redis_store
    with write_transaction(store.engine) as conn:
        job_id = table.enqueue_in(conn, "personas.update_users", {"people": ["u1"]})
    row = table.get(store.engine, job_id)
    # The relay pushed, then died before deleting the row: the next relay pushes again.
    broker._push(row["kind"], '{"people":["u1"]}', job_id=job_id, created_ms=row["created_ms"])
    assert broker.relay(store.engine) == 1
    assert broker.counts()["ready"] == 1
    assert broker.claim("w")["id"] == job_id and broker.claim("w") is None


def test_the_worker_runs_redis_jobs_and_the_api_answers_their_status(
    redis_store, client, auth, monkeypatch
):
    store, broker = redis_store
    seen = []
    monkeypatch.setitem(HANDLERS, "echo", lambda _s, params, _c: seen.append(params) or params)
    job = queue.enqueue(store.engine, "echo", {"x": 1})
    assert client.get(f"/v1/jobs/{job['id']}", headers=auth).json["status"] == "queued"
    with write_transaction(store.engine) as conn:
        relayed = table.enqueue_in(conn, "echo", {"x": 2})
    assert run_one(store, {})["status"] == "succeeded"
    assert run_one(store, {})["status"] == "succeeded"
    assert run_one(store, {}) is None
    assert seen == [{"x": 1}, {"x": 2}]
    answer = client.get(f"/v1/jobs/{relayed}", headers=auth).json
    assert answer["status"] == "succeeded" and answer["result"] == {"x": 2}
    assert client.get("/v1/jobs/job_nope", headers=auth).status_code == 404


def test_a_failing_handler_is_recorded_in_redis(redis_store, monkeypatch):
    store, broker = redis_store

    def explode(_store, _params, _settings):
        raise RuntimeError("boom")

    monkeypatch.setitem(HANDLERS, "explode", explode)
    job = queue.enqueue(store.engine, "explode")
    finished = run_one(store, {})
    assert finished["id"] == job["id"] and finished["status"] == "failed"
    assert "boom" in broker.get(job["id"])["error"]


def test_broker_url_selects_redis(store, redis_url):
    from personapulse.store.broker import configure

    try:
        assert configure(store, {"BROKER_URL": ""}) is None
        broker = configure(store, {"BROKER_URL": redis_url, "BROKER_PREFIX": "cfg:"})
        assert isinstance(broker, RedisBroker) and queue.broker_for(store.engine) is broker
        with pytest.raises(ValueError, match="redis://"):
            configure(store, {"BROKER_URL": "amqp://127.0.0.1"})
    finally:
        queue.attach(store.engine, None)
