"""Retention: bookkeeping rows older than their setting are pruned, data and pending work never."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from personapulse.services.worker import PRUNE_JOB, run_one, schedule_pruning
from personapulse.store import write_transaction
from personapulse.store.retention import DAY_MS, HOUR_MS, RetentionPolicy, prune
from personapulse.store.schema import (
    assignments,
    delivery_log,
    emitted_events,
    events,
    idempotency_keys,
    ingest_counts,
    ingest_log,
    jobs,
    outbox,
    persona_versions,
    slack_outbox,
)

NOW = 1_000 * DAY_MS
# The defaults: 24 h of keys, 90 days of ingest history, 30 days of jobs and deliveries.
POLICY = RetentionPolicy()
OLD_KEY, NEW_KEY = NOW - 25 * HOUR_MS, NOW - 23 * HOUR_MS
OLD_HISTORY, NEW_HISTORY = NOW - 91 * DAY_MS, NOW - 89 * DAY_MS
OLD, NEW = NOW - 31 * DAY_MS, NOW - 29 * DAY_MS


def _insert(store, table, rows: list[dict]) -> None:
    with write_transaction(store.engine) as conn:
        conn.execute(table.insert(), rows)


def _count(store, table, *where) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _keys(*created: int) -> list[dict]:
    return [
        {
            "api_key_id": "k1",
            "key": f"key-{i}",
            "request_hash": "h",
            "status_code": 200,
            "response_body": "{}",
            "created_ms": ms,
        }
        for i, ms in enumerate(created)
    ]


def _counts(*buckets: int) -> list[dict]:
    return [
        {
            "bucket_ms": ms,
            "kind": "events",
            "source": "segment",
            "requests": 1,
            "accepted": 1,
            "duplicate": 0,
            "rejected": 0,
            "flagged": 0,
        }
        for ms in buckets
    ]


def _log(*received: int) -> list[dict]:
    return [
        {
            "kind": "events",
            "source": "segment",
            "received_ms": ms,
            "accepted": 1,
            "duplicate": 0,
            "rejected": 0,
            "flagged": 0,
        }
        for ms in received
    ]


def _jobs(*rows: tuple[str, int]) -> list[dict]:
    return [
        {"id": f"job-{i}", "kind": "personas.refresh", "status": status, "attempts": 0,
         "created_ms": ms}
        for i, (status, ms) in enumerate(rows)
    ]  # fmt: skip


def _deliveries(table, *rows: tuple[str, int]) -> list[dict]:
    common = {"payload": "{}", "attempts": 1, "created_ms": 0}
    if table is outbox:
        common.update(hook_id="h1", event_id="e1", event_type="persona.shifted")
    else:
        common.update(webhook_key="w1", webhook_url="https://hooks.slack.test/x", shift_ids="[]",
                      digest=False)  # fmt: skip
    return [
        {**common, "id": f"{table.name}-{i}", "status": status, "next_attempt_ms": ms}
        for i, (status, ms) in enumerate(rows)
    ]


def _attempts(*at: int) -> list[dict]:
    return [
        {"outbox_id": "o1", "hook_id": "h1", "attempt": 1, "status_code": 200, "duration_ms": 3,
         "at_ms": ms}
        for ms in at
    ]  # fmt: skip


def _emitted(event_type: str, *created: int) -> list[dict]:
    return [
        {"id": f"{event_type}-{i}", "event_type": event_type, "payload": "{}", "created_ms": ms}
        for i, ms in enumerate(created)
    ]


@pytest.fixture
def filled(store):
    """Each pruned table with rows just past and just within its retention."""
    _insert(store, idempotency_keys, _keys(OLD_KEY, OLD_KEY, NEW_KEY))
    _insert(store, ingest_counts, _counts(OLD_HISTORY, NEW_HISTORY))
    _insert(store, ingest_log, _log(OLD_HISTORY, OLD_HISTORY, NEW_HISTORY))
    _insert(
        store,
        jobs,
        _jobs(
            ("succeeded", OLD),
            ("failed", OLD),
            ("queued", OLD),
            ("running", OLD),
            ("succeeded", NEW),
        ),  # fmt: skip
    )
    for table in (outbox, slack_outbox):
        _insert(
            store,
            table,
            _deliveries(
                table, ("delivered", OLD), ("failed", OLD), ("pending", OLD), ("delivered", NEW)
            ),  # fmt: skip
        )
    _insert(store, delivery_log, _attempts(OLD, OLD, NEW))
    # Twelve old shifts (the newest ten are kept as samples), three old syncs (all kept).
    _insert(store, emitted_events, _emitted("persona.shifted", *(OLD - i for i in range(12))))
    _insert(store, emitted_events, _emitted("airtable.synced", OLD, OLD, OLD))
    _insert(store, emitted_events, _emitted("persona.created", *[NEW] * 11, OLD))
    return store


def test_rows_past_their_retention_go_and_the_others_stay(filled):
    store = filled
    deleted = prune(store.engine, POLICY, now_ms=NOW)
    assert deleted == {
        "idempotency_keys": 2,
        "ingest_counts": 1,
        "ingest_log": 2,
        "jobs": 2,
        "outbox": 2,
        "slack_outbox": 2,
        "delivery_log": 2,
        "emitted_events": 2 + 1,
        "assignments": 0,
    }
    assert _count(store, idempotency_keys) == 1
    assert _count(store, ingest_counts, ingest_counts.c.bucket_ms == NEW_HISTORY) == 1
    assert _count(store, ingest_log) == 1
    with store.engine.connect() as conn:
        left = dict(conn.execute(select(jobs.c.id, jobs.c.status)).all())
    assert left == {"job-2": "queued", "job-3": "running", "job-4": "succeeded"}
    for table in (outbox, slack_outbox):
        with store.engine.connect() as conn:
            statuses = sorted(conn.execute(select(table.c.status)).scalars())
        assert statuses == ["delivered", "pending"], table.name
    assert _count(store, delivery_log) == 1
    assert _count(store, emitted_events, emitted_events.c.event_type == "persona.shifted") == 10
    assert _count(store, emitted_events, emitted_events.c.event_type == "airtable.synced") == 3
    assert _count(store, emitted_events, emitted_events.c.event_type == "persona.created") == 11
    # A second run finds nothing more.
    assert set(prune(store.engine, POLICY, now_ms=NOW).values()) == {0}


def test_a_dry_run_counts_what_a_run_deletes(filled):
    counted = prune(filled.engine, POLICY, now_ms=NOW, dry_run=True)
    assert prune(filled.engine, POLICY, now_ms=NOW) == counted
    assert sum(counted.values()) > 0


def test_zero_keeps_forever(filled):
    forever = RetentionPolicy(
        idempotency_keys_ms=0, data_quality_ms=0, jobs_ms=0, deliveries_ms=0, assignment_versions=0
    )
    assert set(prune(filled.engine, forever, now_ms=NOW).values()) == {0}
    assert _count(filled, idempotency_keys) == 3


def _versions(store, count: int) -> None:
    """``count`` persona versions (the newest current), two people assigned in each."""
    blank = {"reliable": True, "k": 2, "method": "gmm", "gate": "{}", "candidates": "[]",
             "provenance": "{}", "model_state": "{}", "appeared": "[]", "vanished": "[]"}  # fmt: skip
    _insert(
        store,
        persona_versions,
        [
            {
                **blank,
                "id": f"v{seq}",
                "seq": seq,
                "created_ms": seq,
                "status": "current" if seq == count else "superseded",
            }  # fmt: skip
            for seq in range(1, count + 1)
        ],
    )
    _insert(
        store,
        assignments,
        [
            {
                "version_id": f"v{seq}",
                "person_id": person,
                "persona_id": "p1",
                "probability": 0.9,
                "probabilities": "{}",
            }  # fmt: skip
            for seq in range(1, count + 1)
            for person in ("u1", "u2")
        ],
    )


@pytest.mark.parametrize(
    ("kept", "versions_left"),
    [(3, ["v3", "v4", "v5"]), (1, ["v5"]), (0, ["v1", "v2", "v3", "v4", "v5"])],
)
def test_assignments_of_old_persona_versions_go(store, kept, versions_left):
    _versions(store, 5)
    policy = RetentionPolicy(assignment_versions=kept)
    deleted = prune(store.engine, policy, now_ms=NOW)["assignments"]
    with store.engine.connect() as conn:
        left = sorted(set(conn.execute(select(assignments.c.version_id)).scalars()))
    assert left == versions_left
    assert deleted == 2 * (5 - len(versions_left))
    assert _count(store, persona_versions) == 5, "the versions themselves stay"


def test_large_deletes_go_in_chunks(store):
    _insert(store, ingest_log, _log(*[OLD_HISTORY] * 25))
    assert prune(store.engine, POLICY, now_ms=NOW, chunk_rows=10)["ingest_log"] == 25
    assert _count(store, ingest_log) == 0


def test_data_is_never_pruned(client, auth, store):
    event = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1",
             "timestamp": "2000-01-02T00:00:00Z"}  # fmt: skip
    assert client.post("/v1/events", json=event, headers=auth).status_code == 200
    prune(store.engine, RetentionPolicy(1, 1, 1, 1), now_ms=NOW)
    assert _count(store, events) == 1


def test_the_policy_comes_from_the_settings():
    policy = RetentionPolicy.from_settings(
        {
            "IDEMPOTENCY_KEY_TTL_HOURS": "48",
            "DATA_QUALITY_RETENTION_DAYS": 0,
            "JOB_RETENTION_DAYS": 7,
        }
    )
    assert policy == RetentionPolicy(
        idempotency_keys_ms=48 * HOUR_MS, data_quality_ms=0, jobs_ms=7 * DAY_MS,
        deliveries_ms=30 * DAY_MS, assignment_versions=3,
    )  # fmt: skip
    assert RetentionPolicy.from_settings({"ASSIGNMENT_VERSIONS_KEPT": "1"}).assignment_versions == 1
    with pytest.raises(ValueError, match="JOB_RETENTION_DAYS"):
        RetentionPolicy.from_settings({"JOB_RETENTION_DAYS": -1})


def test_a_negative_retention_stops_the_service_from_starting(database_url):
    from webhooks import create_app

    with pytest.raises(ValueError, match="DELIVERY_RETENTION_DAYS"):
        create_app({"DATABASE_URL": database_url, "DELIVERY_RETENTION_DAYS": -3})


def test_an_expired_idempotency_key_can_be_used_again(client, auth, store):
    first = {"type": "track", "event": "A", "userId": "u1", "messageId": "m1",
             "timestamp": "2026-11-01T10:00:00Z"}  # fmt: skip
    other = {**first, "event": "B", "messageId": "m2"}
    headers = {**auth, "Idempotency-Key": "retry-1"}
    assert client.post("/v1/events", json=first, headers=headers).status_code == 200
    assert client.post("/v1/events", json=other, headers=headers).status_code == 422

    with write_transaction(store.engine) as conn:
        conn.execute(update(idempotency_keys).values(created_ms=OLD_KEY))
    assert prune(store.engine, POLICY, now_ms=NOW)["idempotency_keys"] == 1

    assert client.post("/v1/events", json=other, headers=headers).json["accepted"] == 1
    # The first request's event, resent under a new key, is still stored once.
    resent = client.post("/v1/events", json=first, headers={**auth, "Idempotency-Key": "retry-2"})
    assert resent.json["duplicate"] == 1
    assert _count(store, events) == 2


def test_the_worker_queues_the_job_once_an_interval_and_runs_it(store):
    _insert(store, idempotency_keys, _keys(1_000))  # created in 1970
    settings = {"PRUNE_EVERY_HOURS": 1}
    queued = schedule_pruning(store, settings)
    assert queued is not None and queued["kind"] == PRUNE_JOB
    assert schedule_pruning(store, settings) is None, "one job an interval, whoever asks"
    assert schedule_pruning(store, {"PRUNE_EVERY_HOURS": 0}) is None

    job = run_one(store, settings)
    assert job["kind"] == PRUNE_JOB and job["status"] == "succeeded", job
    assert job["result"]["deleted"]["idempotency_keys"] == 1
    assert _count(store, idempotency_keys) == 0


def test_the_cli_prunes_and_says_what_went(store):
    from personapulse.cli import main

    _insert(store, ingest_log, _log(1_000, 2_000))
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--database-url", url, "prune", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "ingest_log: 2 to delete" in result.output
    assert _count(store, ingest_log) == 2, "a dry run deletes nothing"
    result = CliRunner().invoke(main, ["--database-url", url, "prune"])
    assert result.exit_code == 0, result.output
    assert "ingest_log: 2 deleted" in result.output
    assert _count(store, ingest_log) == 0


def test_the_worker_command_runs_the_schedules_of_the_web_workers(store):
    """`personapulse worker --once` queues and runs the retention job as the web workers' thread does."""
    from personapulse.cli import main

    _insert(store, ingest_log, _log(1_000))
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--database-url", url, "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"{PRUNE_JOB}: succeeded" in result.output
    assert _count(store, ingest_log) == 0


def test_after_real_refreshes_only_old_versions_lose_their_assignments(database_url):
    from personapulse.config import load_settings
    from personapulse.demo import DemoConfig
    from personapulse.services import personas as persona_service
    from personapulse.services.demo_load import load_demo
    from personapulse.store import Store

    store = Store(database_url)
    try:
        store.migrate()
        load_demo(
            store, DemoConfig(users=200, seed=3), load_settings({"INCREMENTAL_UPDATES": False})
        )
        versions = [
            persona_service.refresh(store, {"k_max": 4, "bootstrap": 2})["version_id"]
            for _ in range(3)
        ]
        page, _ = persona_service.assignments_page(store.engine, limit=10_000)
        before = {row["user_id"]: row["persona_id"] for row in page}

        deleted = prune(store.engine, RetentionPolicy(assignment_versions=1), now_ms=NOW)
        assert deleted["assignments"] == 2 * len(before)
        with store.engine.connect() as conn:
            left = set(conn.execute(select(assignments.c.version_id)).scalars())
        assert left == {versions[-1]}
        page, _ = persona_service.assignments_page(store.engine, limit=10_000)
        assert {row["user_id"]: row["persona_id"] for row in page} == before
        someone = next(iter(before))
        assert (
            persona_service.stored_assignment(store.engine, someone)["persona_id"]
            == (before[someone])
        )
    finally:
        store.dispose()
