"""Jobs whose worker process died are queued again as soon as a live worker looks."""

from __future__ import annotations

import subprocess
import sys

from personapulse.services.worker import requeue_orphans
from personapulse.store import jobs as job_queue


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_job_of_a_dead_local_process_is_requeued_at_once(store):
    import socket

    host = socket.gethostname()
    dead = job_queue.enqueue(store.engine, "noop")
    job_queue.claim(store.engine, f"{host}:{_dead_pid()}:1")
    alive = job_queue.enqueue(store.engine, "noop")
    import os

    job_queue.claim(store.engine, f"{host}:{os.getpid()}:1")
    elsewhere = job_queue.enqueue(store.engine, "noop")
    job_queue.claim(store.engine, f"other-host:{_dead_pid()}:1")

    assert requeue_orphans(store) == [dead["id"]]
    assert job_queue.get(store.engine, dead["id"])["status"] == "queued"
    assert job_queue.get(store.engine, alive["id"])["status"] == "running"
    assert job_queue.get(store.engine, elsewhere["id"])["status"] == "running"
    again = job_queue.claim(store.engine, f"{host}:{os.getpid()}:2")
    assert again["id"] == dead["id"] and again["attempts"] == 2
