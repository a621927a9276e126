"""Runs queued jobs off the request path: a thread inside each web worker, or ``personapulse worker``."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable

from personapulse.store import Store, now_ms
from personapulse.store import broker as job_queue
from personapulse.store.retention import HOUR_MS, RetentionPolicy, prune


def deliver_due(store: Store, settings: dict) -> int:
    """Outbound webhook deliveries and Slack alerts that are due (imported late: the outbox needs
    the SSRF guard)."""
    from personapulse.services.outbound import deliver_due as deliver
    from personapulse.services.slack_outbox import deliver_due as deliver_slack

    return deliver(store, settings) + deliver_slack(store, settings)


log = logging.getLogger(__name__)

# kind -> handler(store, params, settings) -> result dict
JobHandler = Callable[[Store, dict, dict], dict]
HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        HANDLERS[kind] = handler
        return handler

    return register


# The rescoring job takes this many marked people at a time, and at most this many rounds per run.
RESCORE_CHUNK = 1_000
RESCORE_MAX_ROUNDS = 20


@job_handler("personas.update_dirty")
def _update_dirty_job(store: Store, _params: dict, _settings: dict) -> dict:
    """Rescore the people ingestion marked (``dirty_people``), a chunk at a time, clearing marks."""
    from personapulse.services import journey_counters
    from personapulse.services.personas import update_users
    from personapulse.store import read_connection, write_transaction
    from personapulse.store.people import resolve_person
    from personapulse.store.writes import clear_dirty, take_dirty

    totals = {"rescored": 0, "changed": 0, "people": 0, "journey_counters": 0}
    for _ in range(RESCORE_MAX_ROUNDS):
        with read_connection(store.engine) as conn:
            marks = take_dirty(conn, RESCORE_CHUNK)
        if not marks:
            break
        refs = [person for person, _ in marks]
        result = update_users(store, refs)
        # The same people's journey counters, so journeys follow arrivals without a full rebuild.
        resolved = [pid for ref in refs if (pid := resolve_person(store.engine, ref)) is not None]
        counted = journey_counters.update_people(store, resolved)
        with write_transaction(store.engine) as conn:
            clear_dirty(conn, marks)
        totals["people"] += len(marks)
        totals["rescored"] += int(result.get("rescored", 0))
        totals["changed"] += int(result.get("changed", 0))
        totals["journey_counters"] += int(counted.get("people", 0))
    return totals


PRUNE_JOB = "maintenance.prune"


@job_handler(PRUNE_JOB)
def _prune_job(store: Store, _params: dict, settings: dict) -> dict:
    """Delete the bookkeeping rows past their retention (personapulse/store/retention.py)."""
    deleted = prune(store.engine, RetentionPolicy.from_settings(settings), now_ms=now_ms())
    if any(deleted.values()):
        log.info("pruned %s", ", ".join(f"{n} {table}" for table, n in deleted.items() if n))
    return {"deleted": deleted}


def schedule_pruning(store: Store, settings: dict) -> dict | None:
    """Queue the retention job when none was queued within ``PRUNE_EVERY_HOURS`` (0: never)."""
    hours = float(settings.get("PRUNE_EVERY_HOURS") or 0)
    if hours <= 0:
        return None
    return job_queue.enqueue_if_due(store.engine, PRUNE_JOB, int(hours * HOUR_MS))


def schedule_rescoring(store: Store) -> dict | None:
    """Queue one rescoring job when people are marked and none is queued or running."""
    with store.engine.connect() as conn:
        marked = conn.exec_driver_sql("SELECT 1 FROM dirty_people LIMIT 1").first() is not None
    if not marked:
        return None
    return job_queue.enqueue(store.engine, "personas.update_dirty", {}, dedupe=True)


def refresh_due_since(settings: dict, now_ms_: int) -> int | None:
    """The time (ms) since which a scheduled full refresh is owed, or None when none is scheduled.

    ``REFRESH_CRON`` (a five-field cron expression in UTC, ``"0 3 * * *"`` = daily at 03:00 by
    default; ``""`` or ``"off"`` turns it off) names the times; a positive ``REFRESH_EVERY_HOURS``
    replaces it with a plain interval. A refresh is owed when none ran since that time.
    """
    hours = float(settings.get("REFRESH_EVERY_HOURS") or 0)
    if hours > 0:
        return now_ms_ - int(hours * 3_600_000)
    expression = str(settings.get("REFRESH_CRON") or "").strip()
    if not expression or expression.lower() in ("off", "none", "never"):
        return None
    return previous_fire_ms(expression, now_ms_)


def previous_fire_ms(expression: str, now_ms_: int) -> int:
    """The latest time at or before ``now_ms_`` that the cron expression names (UTC)."""
    from datetime import UTC, datetime

    from croniter import croniter

    if not croniter.is_valid(expression):
        raise ValueError(f"REFRESH_CRON {expression!r} is not a valid cron expression")
    # get_prev is strictly before its start (cron times are whole minutes): start a second later
    # so a fire time equal to now counts.
    start = datetime.fromtimestamp(now_ms_ // 1000 + 1, UTC)
    return int(croniter(expression, start).get_prev(datetime).timestamp() * 1000)


def schedule_due(store: Store, settings: dict) -> dict | None:
    """Queue the scheduled full refresh when it is due (see ``refresh_due_since``).

    Nothing is queued for an empty store, and a refresh requested on demand (or run from the CLI)
    since the due time counts as the scheduled one. People marked for rescoring get their job here
    too (it is not the return value).
    """
    schedule_rescoring(store)
    now = now_ms()
    since = refresh_due_since(settings, now)
    if since is None:
        return None
    with store.engine.connect() as conn:
        has_events = conn.exec_driver_sql("SELECT 1 FROM events LIMIT 1").first() is not None
        newest_version_ms = conn.exec_driver_sql(
            "SELECT MAX(created_ms) FROM persona_versions"
        ).scalar()
    if not has_events:
        return None
    # A refresh run from the CLI leaves a version but no job: it counts as the last run too.
    if newest_version_ms is not None and newest_version_ms > since:
        return None
    return job_queue.enqueue_if_due(
        store.engine, "personas.refresh", max(1, now - since), {"config": {}, "scheduled": True}
    )


def run_one(store: Store, settings: dict, worker_id: str | None = None) -> dict | None:
    """Claim and run one job; return it as finished, or None when nothing was queued."""
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    job = job_queue.claim(store.engine, worker_id, tuple(HANDLERS) or None)
    if job is None:
        return None
    handler = HANDLERS.get(job["kind"])
    beating = _Heartbeat(store, job["id"])
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job['kind']!r}")
        beating.start()
        result = handler(store, job["params"], settings)
    except Exception as exc:  # a failed job is recorded, never lost; the worker carries on
        log.error("job %s (%s) failed: %s", job["id"], job["kind"], traceback.format_exc())
        job_queue.finish(store.engine, job["id"], error=f"{type(exc).__name__}: {exc}")
    else:
        job_queue.finish(store.engine, job["id"], result=result)
    finally:
        beating.stop()
    return job_queue.get(store.engine, job["id"])


class _Heartbeat:
    """Tells the queue a long job is alive, so no other worker takes it as abandoned."""

    INTERVAL_SECONDS = 60.0

    def __init__(self, store: Store, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _beat(self) -> None:
        while not self._stop.wait(self.INTERVAL_SECONDS):
            try:
                job_queue.heartbeat(self.store.engine, self.job_id)
            except Exception:  # a missed beat only risks a duplicate run, never a lost one
                log.exception("heartbeat of %s failed", self.job_id)


ORPHAN_CHECK_SECONDS = 30.0
# How often a worker asks whether the retention job is due (the job itself runs every PRUNE_EVERY_HOURS).
PRUNE_CHECK_SECONDS = 60.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def requeue_orphans(store: Store) -> list[str]:
    """Jobs whose worker on this host died (kill -9, OOM) run again now, not after the stale delay."""
    requeued = job_queue.requeue_orphans(store.engine, socket.gethostname(), _pid_alive)
    if requeued:
        log.warning("re-queued %d job(s) whose worker died: %s", len(requeued), requeued)
    return requeued


class BackgroundWorker:
    """Runs jobs, deliveries and the schedules: in a daemon thread of a web worker (``start``), or
    called round by round (``step``) by ``personapulse worker``."""

    def __init__(self, store: Store, settings: dict) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_orphan_check = 0.0
        self._next_prune_check = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="personapulse-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def step(self) -> tuple[dict | None, int]:
        """One round: the periodic checks when due, the due schedules and deliveries, one job.

        Returns the job run (or None) and the number of deliveries attempted.
        """
        if time.monotonic() >= self._next_orphan_check:
            requeue_orphans(self.store)
            self._next_orphan_check = time.monotonic() + ORPHAN_CHECK_SECONDS
        if time.monotonic() >= self._next_prune_check:
            # Asking takes the write lock: once a minute, not every poll.
            schedule_pruning(self.store, self.settings)
            self._next_prune_check = time.monotonic() + PRUNE_CHECK_SECONDS
        job_queue.fail_exhausted(self.store.engine)
        schedule_due(self.store, self.settings)
        delivered = deliver_due(self.store, self.settings)
        return run_one(self.store, self.settings), delivered

    def _loop(self) -> None:
        poll = float(self.settings.get("WORKER_POLL_SECONDS", 1.0))
        while not self._stop.is_set():
            try:
                job, delivered = self.step()
                if job is not None or delivered:
                    continue
            except Exception:  # the database may be briefly unavailable: wait and retry
                log.exception("worker loop error")
            self._stop.wait(poll)
