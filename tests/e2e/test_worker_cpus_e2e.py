"""`personapulse serve`'s worker placement (personapulse/server.py): each gunicorn worker on its own
CPU, and connections opened at once spread over the workers."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import time
from pathlib import Path

import pytest

from tests.live_service import child_pids, start_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="pinning needs two or more CPUs"
)


def _allowed_cpus(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def _workers(master: int, count: int, exclude: set[int] = frozenset()) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [pid for pid in child_pids(master) if pid not in exclude]
        if len(workers) == count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"expected {count} workers of {master}, found {child_pids(master)}")


@needs_two_cpus
def test_workers_are_pinned_to_distinct_cpus_and_a_replacement_takes_the_freed_one(
    tmp_path: Path,
):
    cpus = os.sched_getaffinity(0)
    service = start_service(tmp_path / "service", workers=2)
    try:
        master = service.process.pid
        first, second = _workers(master, 2)
        pinned = {pid: _allowed_cpus(pid) for pid in (first, second)}
        assert all(len(allowed) == 1 and allowed <= cpus for allowed in pinned.values()), pinned
        assert pinned[first] != pinned[second]
        # The master itself stays free to run anywhere.
        assert _allowed_cpus(master) == cpus

        os.kill(first, signal.SIGKILL)
        (replacement,) = _workers(master, 1, exclude={first, second})
        assert _allowed_cpus(replacement) == pinned[first]
    finally:
        service.stop()


@needs_two_cpus
def test_no_pin_workers_leaves_them_on_every_cpu(tmp_path: Path):
    cpus = os.sched_getaffinity(0)
    service = start_service(tmp_path / "service", workers=2, serve_args=("--no-pin-workers",))
    try:
        for pid in _workers(service.process.pid, 2):
            assert _allowed_cpus(pid) == cpus
    finally:
        service.stop()


def _sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def _open_and_use(host: str, port: int, count: int) -> list[http.client.HTTPConnection]:
    """As wrk or a client's pool does: ``count`` connections opened and used at once."""
    clients = [http.client.HTTPConnection(host, port, timeout=30) for _ in range(count)]
    for client in clients:
        client.request("GET", "/healthz")
    for client in clients:
        response = client.getresponse()
        response.read()
        assert response.status == 200
    return clients


def test_connections_opened_at_once_are_spread_over_the_workers(tmp_path: Path):
    service = start_service(tmp_path / "service", workers=2)
    host, port = service.base_url.removeprefix("http://").split(":")
    clients: list[http.client.HTTPConnection] = []
    try:
        workers = _workers(service.process.pid, 2)
        # A worker's first request loads what the app loads lazily, which can keep it from
        # accepting for over 200 ms, after which its sibling takes the waiting connections itself
        # (by design). Measure the steady state: workers that have served before.
        for _ in range(3):
            for client in _open_and_use(host, int(port), 8):
                client.close()
        time.sleep(0.5)  # the workers see those connections closed
        before = {pid: _sockets(pid) for pid in workers}
        clients = _open_and_use(host, int(port), 8)
        held = sorted(_sockets(pid) - before[pid] for pid in workers)
        assert sum(held) == 8, held
        assert held[0] >= 3, f"one worker holds {held[1]} of the 8 connections, the other {held[0]}"
    finally:
        for client in clients:
            client.close()
        service.stop()
