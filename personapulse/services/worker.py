"""Runs queued jobs off the request path: a thread inside each web worker, or ``personapulse worker``."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable

from personapulse.store import Store
from personapulse.store import jobs as job_queue


def deliver_due(store: Store, settings: dict) -> int:
    """Outbound webhook deliveries that are due (imported late: the outbox needs the SSRF guard)."""
    from personapulse.services.outbound import deliver_due as deliver

    return deliver(store, settings)


log = logging.getLogger(__name__)

# kind -> handler(store, params, settings) -> result dict
JobHandler = Callable[[Store, dict, dict], dict]
HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        HANDLERS[kind] = handler
        return handler

    return register


def run_one(store: Store, settings: dict, worker_id: str | None = None) -> dict | None:
    """Claim and run one job; return it as finished, or None when nothing was queued."""
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    job = job_queue.claim(store.engine, worker_id, tuple(HANDLERS) or None)
    if job is None:
        return None
    handler = HANDLERS.get(job["kind"])
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job['kind']!r}")
        result = handler(store, job["params"], settings)
    except Exception as exc:  # a failed job is recorded, never lost; the worker carries on
        log.error("job %s (%s) failed: %s", job["id"], job["kind"], traceback.format_exc())
        job_queue.finish(store.engine, job["id"], error=f"{type(exc).__name__}: {exc}")
    else:
        job_queue.finish(store.engine, job["id"], result=result)
    return job_queue.get(store.engine, job["id"])


class BackgroundWorker:
    """Polls the job table in a daemon thread until stopped."""

    def __init__(self, store: Store, settings: dict) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="personapulse-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        poll = float(self.settings.get("WORKER_POLL_SECONDS", 1.0))
        while not self._stop.is_set():
            try:
                job_queue.fail_exhausted(self.store.engine)
                delivered = deliver_due(self.store, self.settings)
                if run_one(self.store, self.settings) is not None or delivered:
                    continue
            except Exception:  # the database may be briefly unavailable: wait and retry
                log.exception("worker loop error")
            self._stop.wait(poll)
