"""The request rate limiter and the request description used by the sync log."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from airtable_sync.transport import RequestRateLimiter, describe_request


def _prepared(method: str, url: str, json: dict | None = None) -> requests.PreparedRequest:
    return requests.Request(method, url, json=json).prepare()


def test_limiter_capacity_and_window_follow_the_rate():
    assert (RequestRateLimiter(5).capacity, RequestRateLimiter(5).window) == (5, 1.0)
    assert (RequestRateLimiter(0.5).capacity, RequestRateLimiter(0.5).window) == (1, 2.0)
    with pytest.raises(ValueError, match="requests_per_second"):
        RequestRateLimiter(0)


def test_no_more_than_capacity_requests_start_in_any_window_across_threads():
    limiter = RequestRateLimiter(50)  # 50 per second: 50 in any 1 s window
    limiter.capacity, limiter.window = 4, 0.1  # 4 per 100 ms keeps the test short
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(6):
            slot = limiter.acquire()
            with lock:
                starts.append(time.monotonic())
            time.sleep(0.002)  # the "request"
            limiter.release(slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    starts.sort()
    assert len(starts) == 24
    busiest = max(sum(1 for t in starts if s <= t < s + 0.1) for s in starts)
    assert 3 <= busiest <= 4  # the limit is used, never passed
    assert starts[-1] - starts[0] >= 5 * 0.1  # 24 requests need at least 5 more windows


def test_a_request_in_flight_holds_its_token_until_it_finishes():
    limiter = RequestRateLimiter(1)
    limiter.window = 0.05
    slot = limiter.acquire()
    started = time.monotonic()
    done = threading.Event()

    def second() -> None:
        limiter.release(limiter.acquire())
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.15)  # three windows pass, but the first request is still running
    assert not done.is_set()
    limiter.release(slot)
    thread.join(2)
    assert done.is_set()
    assert time.monotonic() - started >= 0.15 + 0.05


def test_pause_holds_every_request():
    limiter = RequestRateLimiter(1000)
    limiter.pause(0.2)
    started = time.monotonic()
    limiter.release(limiter.acquire())
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    [
        ("GET", "http://x/v0/appB/Pain%20Points?pageSize=100", None, ("Pain Points", "list", 0)),
        (
            "PATCH",
            "http://x/v0/appB/Personas",
            {"records": [{"fields": {}}] * 3, "performUpsert": {"fieldsToMergeOn": ["K"]}},
            ("Personas", "upsert", 3),
        ),
        (
            "PATCH",
            "http://x/v0/appB/Personas",
            {"records": [{"id": "r"}]},
            ("Personas", "update", 1),
        ),
        ("POST", "http://x/v0/appB/Shifts", {"records": [{}, {}]}, ("Shifts", "create", 2)),
        ("GET", "http://x/v0/meta/bases/appB/tables", None, (None, "read_schema", 0)),
        (
            "POST",
            "http://x/v0/meta/bases/appB/tables",
            {"name": "Shifts"},
            ("Shifts", "create_table", 0),
        ),
        (
            "POST",
            "http://x/v0/meta/bases/appB/tables/tbl1/fields",
            {"name": "Owner"},
            ("tbl1", "create_field", 0),
        ),
    ],
)
def test_describe_request(method, url, body, expected):
    described = describe_request(_prepared(method, url, body))
    assert (described["table"], described["action"], described["records"]) == expected
