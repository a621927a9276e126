"""Faults under the real service (gunicorn, 2 workers, SQLite on disk), on 127.0.0.1.

- kill -9 of a gunicorn worker, and of the whole service, while senders ingest concurrently: every
  event answered 2xx is in the store afterwards, none twice (senders retry with the same messageId);
- a crash in the middle of a persona refresh leaves the previous version serving, and the refresh is
  run again after the restart;
- outbox deliveries and an Airtable sync resume after a kill -9 and a restart;
- another process holding SQLite's write lock: 503 + Retry-After, then recovery with no manual step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from personapulse.store import make_engine
from personapulse.store.engine import serialize, write_transaction
from tests.databases import server_url
from tests.live_service import LiveService, child_pids, free_port, start_service
from tests.receivers import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENDERS = 4
BATCHES_PER_SENDER = 25
EVENTS_PER_BATCH = 20


def _kill_service(service: LiveService) -> None:
    """kill -9 of the master and every worker at once: no graceful shutdown anywhere."""
    workers = child_pids(service.process.pid)
    for pid in [service.process.pid, *workers]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    service.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)


def _sqlite_path(service: LiveService) -> str:
    return service.database_url.removeprefix("sqlite:///")


def _query(service: LiveService, sql: str, *args):
    """Read the service's database directly, SQLite or PostgreSQL (``?`` placeholders)."""
    engine = make_engine(service.database_url)
    if engine.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")  # psycopg's placeholder
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql, tuple(args)).fetchall()]
    finally:
        engine.dispose()


def _wait(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _restart(workdir: Path, port: int, env: dict[str, str] | None = None) -> LiveService:
    """Start the service again on the same port (a second try if a loaded machine was too slow)."""
    try:
        return start_service(workdir, port=port, extra_env=env)
    except RuntimeError:
        return start_service(workdir, port=port, extra_env=env)


@dataclass
class Senders:
    """Threads that each send their batches until every one is answered 2xx (retrying the same
    messageIds after a refused connection, a timeout, a 5xx or a 429 / 503)."""

    base_url: str
    token: str
    tag: str
    acked: set[str] = field(default_factory=set)
    retries: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def batches(self, sender: int) -> list[list[dict]]:
        return [
            [
                {
                    "type": "track",
                    "event": "Fault Probe",
                    "userId": f"{self.tag}-user-{sender}-{b % 5}",
                    "messageId": f"{self.tag}-{sender}-{b}-{i}",
                    "timestamp": "2026-11-01T10:00:00Z",
                }
                for i in range(EVENTS_PER_BATCH)
            ]
            for b in range(BATCHES_PER_SENDER)
        ]

    def sent(self) -> set[str]:
        return {e["messageId"] for s in range(SENDERS) for b in self.batches(s) for e in b}

    def _run(self, sender: int) -> None:
        session = requests.Session()
        for batch in self.batches(sender):
            deadline = time.monotonic() + 240
            while True:
                try:
                    answer = session.post(
                        f"{self.base_url}/v1/events",
                        json={"batch": batch},
                        headers={"X-API-Key": self.token},
                        timeout=30,
                    )
                    outcome = str(answer.status_code)
                    if answer.ok:
                        body = answer.json()
                        assert body["accepted"] + body["duplicate"] == len(batch), body
                        self.acked.update(e["messageId"] for e in batch)
                        break
                except requests.RequestException as exc:
                    outcome = type(exc).__name__
                    session = requests.Session()  # the old keep-alive socket may be dead
                self.retries[outcome] = self.retries.get(outcome, 0) + 1
                if time.monotonic() > deadline:
                    self.errors.append(f"sender {sender} gave up: {outcome}")
                    return
                time.sleep(0.2)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(s,)) for s in range(SENDERS)]
        for thread in threads:
            thread.start()
        return threads


def _assert_nothing_lost_or_doubled(service: LiveService, senders: Senders) -> None:
    assert not senders.errors, senders.errors
    sent = senders.sent()
    assert senders.acked == sent, f"{len(sent - senders.acked)} events never answered 2xx"
    rows = _query(service, "SELECT event_id FROM events WHERE event_id LIKE ?", f"{senders.tag}-%")
    stored = [r[0] for r in rows]
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert set(stored) == senders.acked, f"{len(senders.acked - set(stored))} acked events lost"


@pytest.fixture
def service(tmp_path):
    started = start_service(tmp_path)
    yield started
    started.stop()


def test_kill_9_of_workers_during_ingestion_loses_nothing(service):
    senders = Senders(service.base_url, service.token, "wk")
    threads = senders.start()
    killed = []
    for _ in range(3):  # three workers killed in turn while batches are in flight
        _wait(lambda: len(senders.acked) >= (len(killed) + 1) * 200, what="progress")
        victim = child_pids(service.process.pid)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    for thread in threads:
        thread.join(300)
    _assert_nothing_lost_or_doubled(service, senders)
    assert service.process.poll() is None, "the master survives and respawns workers"
    assert requests.get(f"{service.base_url}/healthz", timeout=30).status_code == 200
    print(f"\nworkers killed: {len(killed)}; retries by outcome: {senders.retries}")


def test_kill_9_of_the_whole_service_during_ingestion_loses_nothing(tmp_path):
    port = free_port()
    service = start_service(tmp_path, port=port)
    senders = Senders(service.base_url, service.token, "svc")
    threads = senders.start()
    try:
        for round_ in range(2):  # two whole-service crashes, each followed by a restart
            _wait(lambda r=round_: len(senders.acked) >= (r + 1) * 400, what="progress")
            _kill_service(service)
            time.sleep(1.0)  # senders see refused connections meanwhile
            service = _restart(tmp_path, port)
        for thread in threads:
            thread.join(300)
        _assert_nothing_lost_or_doubled(service, senders)
        print(f"\nservice killed twice; retries by outcome: {senders.retries}")
    finally:
        service.stop()


def test_locked_database_answers_503_then_recovers(tmp_path):
    if server_url() is not None:
        pytest.skip(
            "holds SQLite's write lock; PostgreSQL's refused connection is tested elsewhere"
        )
    service = start_service(
        tmp_path,
        extra_env={"PERSONAPULSE_DB_LOCK_TIMEOUT_SECONDS": "0.5", "PERSONAPULSE_PII_KEY": "k1"},
    )
    headers = {"X-API-Key": service.token}
    # By the way: gunicorn's access log never holds a raw email, nor the key's secret.
    requests.get(f"{service.base_url}/v1/users/ann.lee@example.com", headers=headers, timeout=30)
    requests.get(f"{service.base_url}/v1/me?api_key={service.token}", headers=headers, timeout=30)
    event = {"type": "track", "userId": "u", "event": "x", "messageId": "locked-1"}
    # Another process takes SQLite's write lock and holds it for 4 seconds.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(4)\n"
            "c.execute('ROLLBACK')\n",
            _sqlite_path(service),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        busy = requests.post(
            f"{service.base_url}/v1/events", json=event, headers=headers, timeout=30
        )
        waited = time.monotonic() - started
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "2"
        assert busy.json()["error"]["code"] == "unavailable"
        assert waited < 3.5, "the request gave up after the lock timeout, not after 30 s"
        assert requests.get(f"{service.base_url}/healthz", timeout=30).status_code == 200
        holder.wait(timeout=30)
        # Recovery needs nothing but the sender's retry.
        again = requests.post(
            f"{service.base_url}/v1/events", json=event, headers=headers, timeout=30
        )
        assert again.status_code == 200 and again.json()["accepted"] == 1
        log = service.log_path.read_text()
        assert "/v1/users/pii:" in log and "ann.lee@example.com" not in log
        assert service.token not in log and service.token[:15] in log
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
        holder.stdout.close()
        service.stop()


# --- refresh, outbox and Airtable across a kill -9 --------------------------------------------

HOOK_ENV = {
    "PERSONAPULSE_ALLOW_HTTP_HOOKS": "true",
    "PERSONAPULSE_ALLOW_PRIVATE_HOOK_TARGETS": "true",
    "PERSONAPULSE_HOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5,0.5,0.5",
}


def _api(service: LiveService):
    headers = {"X-API-Key": service.token}
    get = lambda path: requests.get(service.base_url + path, headers=headers, timeout=120)  # noqa: E731
    post = lambda path, body=None: requests.post(  # noqa: E731
        service.base_url + path, json=body, headers=headers, timeout=120
    )
    return get, post


def _current_versions(service: LiveService) -> list[str]:
    return [
        r[0] for r in _query(service, "SELECT id FROM persona_versions WHERE status = 'current'")
    ]


@contextlib.contextmanager
def _holding_the_version_switch(service: LiveService):
    """Hold the lock a refresh takes to make its new persona version current, from outside.

    SQLite: the database's write lock (a write transaction). PostgreSQL: also the advisory lock
    that ``serialize(conn, "personas.versions")`` takes in the refresh's switching transaction.
    """
    engine = make_engine(service.database_url)
    try:
        with write_transaction(engine) as conn:  # writes nothing: its commit releases the locks
            serialize(conn, "personas.versions")
            yield
    finally:
        engine.dispose()


@pytest.mark.timeout(1800)
def test_crash_mid_refresh_keeps_previous_version_and_reruns(tmp_path):
    port = free_port()
    service = start_service(tmp_path, port=port)
    try:
        service.cli("demo", "--users", "250", "--seed", "5", "--no-key")
        get, post = _api(service)
        first_job = post("/v1/personas/refresh", {"k_max": 6}).json()["job_id"]
        _wait(
            lambda: get(f"/v1/jobs/{first_job}").json()["status"] == "succeeded",
            timeout=600,
            what="first refresh",
        )
        before = get("/v1/personas").json()
        v1 = before["version"]["version_id"]

        job = post("/v1/personas/refresh", {"k_max": 6}).json()["job_id"]
        _wait(lambda: get(f"/v1/jobs/{job}").json()["status"] == "running", what="running")
        # From here the refresh cannot switch versions (it would wait for this lock): whenever the
        # kill comes, it comes in the middle of the refresh. Only the milliseconds between seeing
        # "running" and taking the lock are left to chance, and checked.
        with _holding_the_version_switch(service):
            assert _current_versions(service) == [v1], "the refresh finished before the lock"
            time.sleep(0.25)  # into the fit, or waiting at the switch
            _kill_service(service)

        assert _current_versions(service) == [v1], "exactly the previous version is current"
        assert _query(service, "SELECT status FROM jobs WHERE id = ?", job) == [("running",)]

        service = _restart(tmp_path, port)
        get, _ = _api(service)
        serving = get("/v1/personas").json()
        status = get(f"/v1/jobs/{job}").json()["status"]
        if status != "succeeded":  # the re-run has not switched versions yet
            assert serving["version"]["version_id"] == v1
            assert [p["persona_id"] for p in serving["personas"]] == [
                p["persona_id"] for p in before["personas"]
            ]
        finished = _wait(
            lambda: (j := get(f"/v1/jobs/{job}").json())["status"] in ("succeeded", "failed") and j,
            timeout=600,
            what="the refresh re-run after the restart",
        )
        assert finished["status"] == "succeeded" and finished["attempts"] == 2
        after = get("/v1/personas").json()
        assert after["version"]["version_id"] != v1 and after["personas"]
        assert len(_current_versions(service)) == 1
    finally:
        service.stop()


def test_outbox_delivery_resumes_after_kill_9(tmp_path):
    port, hook_port = free_port(), free_port()  # nobody listens on hook_port yet
    service = start_service(tmp_path, port=port, extra_env=HOOK_ENV)
    receiver = None
    try:
        get, post = _api(service)
        hook = post(
            "/v1/hooks",
            {"target_url": f"http://127.0.0.1:{hook_port}/in", "event": "review.classified"},
        ).json()
        reviews = [
            {"source": "google", "review_id": f"outbox-{i}", "text": "Great recipes."}
            for i in range(5)
        ]
        assert post("/v1/reviews", reviews).json()["accepted"] == 5
        _wait(
            lambda: get(f"/v1/hooks/{hook['id']}/deliveries").json()["deliveries"],
            what="a failed attempt",
        )
        _kill_service(service)
        pending = _query(service, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
        assert pending == 5

        receiver = Receiver().start(port=hook_port)
        service = _restart(tmp_path, port, HOOK_ENV)
        _wait(lambda: len(receiver.requests) >= 5, what="deliveries after the restart")
        time.sleep(3)  # anything delivered twice would arrive by now
        ids = [r.json()["data"]["review_id"] for r in receiver.requests]
        assert sorted(ids) == sorted(f"google:outbox-{i}" for i in range(5)), ids
        webhook_ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(webhook_ids) == len(set(webhook_ids)) == 5
    finally:
        service.stop()
        if receiver is not None:
            receiver.stop()


@pytest.mark.timeout(1800)
def test_airtable_sync_resumes_after_kill_9(tmp_path):
    from airtable_sync.schema import TABLES
    from personapulse.services import airtable as airtable_service
    from personapulse.store import Store
    from tests.airtable_sync.fake_airtable import FakeAirtable

    port = free_port()
    with FakeAirtable() as fake:
        env = {
            "PERSONAPULSE_AIRTABLE_TOKEN": fake.token,
            "PERSONAPULSE_AIRTABLE_BASE_ID": fake.base_id,
            "PERSONAPULSE_AIRTABLE_ENDPOINT_URL": fake.url,
            "PERSONAPULSE_AIRTABLE_RETRY_WAIT_SECONDS": "0.2",
        }
        service = start_service(tmp_path, port=port, extra_env=env)
        try:
            service.cli("demo", "--users", "250", "--seed", "9", "--no-key")
            get, post = _api(service)
            refresh = post("/v1/personas/refresh", {"k_max": 5}).json()["job_id"]
            _wait(
                lambda: get(f"/v1/jobs/{refresh}").json()["status"] == "succeeded",
                timeout=600,
                what="refresh",
            )
            settings = {k.removeprefix("PERSONAPULSE_"): v for k, v in env.items()}
            airtable_service.bootstrap(settings)
            bootstrap_requests = len(fake.log)
            job = post("/v1/airtable/sync").json()["job_id"]
            # Airtable's real 5 requests/s makes the sync last seconds: crash after a few writes.
            _wait(
                lambda: sum(1 for e in fake.log[bootstrap_requests:] if e["method"] != "GET") >= 2,
                what="the first writes",
            )
            _kill_service(service)
            assert _query(service, "SELECT status FROM jobs WHERE id = ?", job) == [("running",)]
            partial = {spec.name: len(fake.records(spec.name)) for spec in TABLES}

            service = _restart(tmp_path, port, env)
            get, _ = _api(service)
            finished = _wait(
                lambda: (
                    (j := get(f"/v1/jobs/{job}").json())["status"] in ("succeeded", "failed") and j
                ),
                timeout=300,
                what="the sync re-run after the restart",
            )
            assert finished["status"] == "succeeded", finished
            for spec in TABLES:
                keys = [r[spec.key_field] for r in fake.records(spec.name)]
                assert len(keys) == len(set(keys)), f"{spec.name}: a record was written twice"
            # A sync now finds nothing to write: the resumed run completed what the crash cut.
            store = Store(service.database_url)
            try:
                again = airtable_service.sync(store, settings)
            finally:
                store.dispose()
            assert again["write_requests"] == 0, again["tables"]
            assert sum(partial.values()) < sum(len(fake.records(s.name)) for s in TABLES)
        finally:
            service.stop()
