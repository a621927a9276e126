"""The Redis broker end to end: the real service under gunicorn, a real redis-server, 127.0.0.1."""

from __future__ import annotations

import time

import pytest
import redis
import requests

from tests.live_service import start_service
from tests.redis_server import RedisServer

pytestmark = pytest.mark.e2e


def _wait(predicate, timeout=240.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_jobs_run_through_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    service = start_service(
        tmp_path / "service",
        extra_env={"PERSONAPULSE_BROKER_URL": server.url, "PERSONAPULSE_BROKER_PREFIX": "e2e:"},
    )
    client = redis.Redis.from_url(server.url, decode_responses=True)
    headers = {"X-API-Key": service.token}
    base = service.base_url
    try:
        service.cli("demo", "--users", "200", "--seed", "3", "--no-key")
        queued = requests.post(
            f"{base}/v1/personas/refresh", json={"k_max": 4}, headers=headers, timeout=60
        ).json()
        assert client.exists(f"e2e:job:{queued['job_id']}"), "on demand: straight to Redis"
        job = _wait(
            lambda: (
                (
                    j := requests.get(
                        base + queued["status_url"], headers=headers, timeout=60
                    ).json()
                )["status"]
                in ("succeeded", "failed")
                and j
            ),
            what="the refresh",
        )
        assert job["status"] == "succeeded", job
        assert job["result"]["k"] >= 2

        # New behaviour of a known person: the ingest transaction marks them for rescoring, and a
        # worker queues one rescoring job in Redis for the marked people and runs it there.
        person = requests.get(f"{base}/v1/assignments?limit=1", headers=headers, timeout=60).json()[
            "assignments"
        ][0]["user_id"]
        answer = requests.post(
            f"{base}/v1/events",
            json={"type": "track", "userId": person, "event": "Order Completed", "messageId": "m1"},
            headers=headers,
            timeout=60,
        )
        assert answer.status_code in (200, 202), answer.text

        def rescored():
            for key in client.scan_iter("e2e:job:*"):
                found = client.hgetall(key)
                if found.get("kind") == "personas.update_dirty" and found["status"] == "succeeded":
                    return found
            return None

        found = _wait(rescored, what="the rescoring job in Redis")
        status = requests.get(f"{base}/v1/jobs/{found['id']}", headers=headers, timeout=60).json()
        # The one person the event named was marked, rescored and their journey counted again.
        assert status["status"] == "succeeded", status
        assert status["result"]["people"] == 1 and status["result"]["rescored"] == 1, status
        assert status["result"]["journey_counters"] == 1, status
        _wait(
            lambda: client.llen("e2e:ready") == 0 and client.zcard("e2e:running") == 0,
            what="an empty Redis queue",
        )
    finally:
        client.close()
        service.stop()
        server.stop()
