"""The embedded gunicorn's worker set-up (personapulse/server.py)."""

from __future__ import annotations

import gc
import logging
import os
import selectors
import socket
import time

import pytest
from gunicorn import util as gunicorn_util
from gunicorn.config import Config

from personapulse.server import (
    GC_YOUNG_THRESHOLD,
    NO_WORKER,
    BalancedThreadWorker,
    OneSendResponse,
    WorkerPlacement,
    _Application,
    least_held_cpu,
)


def test_a_worker_loads_the_app_with_startup_objects_frozen_and_a_relaxed_young_gc():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        loaded = _Application(lambda: "the app", {"bind": "127.0.0.1:0", "workers": 1}).load()
        assert loaded == "the app"
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_new_worker_gets_the_cpu_fewest_live_siblings_hold():
    assert least_held_cpu([0, 1], []) == 0
    assert least_held_cpu([0, 1], [0]) == 1
    assert least_held_cpu([0, 1], [0, 1]) == 0
    assert least_held_cpu([0, 1, 2, 3], [0, 0, 1, 3]) == 2
    # A replacement for a dead worker (its CPU no longer held) gets that CPU back.
    assert least_held_cpu([0, 1], [1, 0, 1]) == 0
    assert least_held_cpu([2, 5], [None, 2]) == 5


class _RecordingWorker(BalancedThreadWorker):
    """The balanced worker with accepted connections recorded instead of served."""

    def enqueue_req(self, conn) -> None:
        self.taken.append(conn)


@pytest.fixture
def placement():
    return WorkerPlacement(pin=False)


@pytest.fixture
def balanced_worker(placement):
    """A BalancedThreadWorker in slot 0 of a real connection table (``placement``'s), on a real
    listening socket; slot 1 stands for a sibling whose count the test sets."""
    listener = socket.create_server(("127.0.0.1", 0))
    worker = _RecordingWorker(1, os.getpid(), [listener], None, 30, Config(), logging.getLogger())
    worker.taken = []
    worker.pp_slot, worker.pp_connections = 0, placement.connections
    placement.connections[0] = placement.connections[1] = 0
    worker.poller = selectors.DefaultSelector()
    worker.set_accept_enabled(True)
    clients = []

    def connect() -> None:
        clients.append(socket.create_connection(listener.getsockname()))

    yield worker, placement.connections, connect
    for client in clients:
        client.close()
    for conn in worker.taken:
        conn.sock.close()
    worker.poller.close()
    worker.tmp.close()
    listener.close()


def test_a_worker_holding_no_more_than_its_siblings_accepts_and_publishes_its_count(
    balanced_worker,
):
    worker, table, connect = balanced_worker
    connect()
    worker.wait_for_and_dispatch_events(5.0)
    assert len(worker.taken) == 1
    assert table[0] == 1


def test_a_worker_holding_more_leaves_the_connection_then_takes_it_once_the_deferral_ends(
    balanced_worker,
):
    worker, table, connect = balanced_worker
    worker.nr_conns = 1  # the sibling (slot 1) holds none
    connect()
    worker.wait_for_and_dispatch_events(5.0)
    assert worker.taken == [] and not worker._accepting
    deadline = time.monotonic() + 5
    while not worker.taken and time.monotonic() < deadline:
        worker.wait_for_and_dispatch_events(1.0)
    # Nobody took it within ACCEPT_DEFER_S (the sibling is only a number here): this worker does.
    assert len(worker.taken) == 1
    assert worker._accept_deferred_until is None
    assert table[0] == 2


def test_a_deferral_ends_as_soon_as_the_sibling_holds_as_many(balanced_worker):
    worker, table, connect = balanced_worker
    worker.nr_conns = 1
    connect()
    worker.wait_for_and_dispatch_events(5.0)
    assert worker.taken == []
    table[1] = 1
    worker.wait_for_and_dispatch_events(5.0)
    assert len(worker.taken) == 1 and worker._accepting


def test_a_sibling_still_loading_the_app_is_not_waited_for(balanced_worker, placement):
    worker, table, connect = balanced_worker
    sibling = type("Worker", (), {})()
    placement.pre_fork(type("Arbiter", (), {"WORKERS": {1: worker}})(), sibling)
    # Forked but not accepting yet: its slot does not count as holding fewer.
    assert sibling.pp_slot == 1 and table[1] == NO_WORKER
    worker.nr_conns = 1
    connect()
    worker.wait_for_and_dispatch_events(5.0)
    assert len(worker.taken) == 1 and worker._accept_deferred_until is None
    assert table[0] == 2


def test_a_stopping_worker_leaves_the_table(balanced_worker):
    worker, table, _ = balanced_worker
    worker.wait_for_and_dispatch_events(0.01)
    assert table[0] == 0
    worker.alive = False
    worker.wait_for_and_dispatch_events(0.01)
    # Siblings holding more than this worker's 0 must not leave their connections to it.
    assert table[0] == NO_WORKER


def test_a_stopping_worker_drops_a_deferral_without_accepting_again(balanced_worker):
    worker, table, connect = balanced_worker
    worker.nr_conns = 1
    connect()
    worker.wait_for_and_dispatch_events(5.0)
    worker.alive = False
    worker.set_accept_enabled(False)  # as run() does once it stops
    table[1] = 1  # the sibling caught up: a running worker would accept again here
    worker.wait_for_and_dispatch_events(0.1)
    assert worker._accept_deferred_until is None
    assert worker.taken == [] and not worker._accepting


class _RecordingSocket:
    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data) -> None:
        self.sends.append(bytes(data))


class _ParsedRequest:
    """What a gunicorn Response reads of the parsed request."""

    version = (1, 1)

    def __init__(self, method: str) -> None:
        self.method = method

    def should_close(self) -> bool:
        return False


def _sends(response_class, method, status, headers, parts) -> list[bytes]:
    sock = _RecordingSocket()
    response = response_class(_ParsedRequest(method), sock, Config())
    response.start_response(status, headers)
    for part in parts:
        response.write(part)
    response.close()
    return sock.sends


BODY = b'{"accepted":1}'
JSON_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


@pytest.mark.parametrize(
    ("method", "status", "headers", "parts", "one_send"),
    [
        ("POST", "200 OK", JSON_HEADERS, [BODY], True),
        ("POST", "422 UNPROCESSABLE ENTITY", JSON_HEADERS, [BODY], True),
        ("POST", "200 OK", JSON_HEADERS, [BODY[:5], BODY[5:]], False),  # written in parts
        ("POST", "200 OK", JSON_HEADERS, [BODY[:-1]], False),  # shorter than declared
        ("POST", "200 OK", [("Content-Type", "text/plain")], [b"streamed"], False),  # chunked
        ("POST", "204 NO CONTENT", [], [], False),
        ("HEAD", "200 OK", JSON_HEADERS, [BODY], False),  # gunicorn drops a HEAD's body
    ],
)
def test_one_send_response_puts_on_the_wire_what_gunicorn_would(
    monkeypatch, method, status, headers, parts, one_send
):
    monkeypatch.setattr(gunicorn_util, "http_date", lambda *_: "Sun, 06 Dec 2026 18:00:00 GMT")
    ours = _sends(OneSendResponse, method, status, headers, parts)
    # gunicorn's own class, whatever a worker's init_process has since put in its module.
    gunicorns = _sends(OneSendResponse.__base__, method, status, headers, parts)
    assert b"".join(ours) == b"".join(gunicorns)
    if one_send:
        # A whole body of the declared length leaves with its head; gunicorn sends them apart.
        assert len(ours) == 1 and len(gunicorns) == 2
    else:
        assert ours == gunicorns
