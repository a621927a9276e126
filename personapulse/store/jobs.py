"""A durable job queue in the store's own table: no broker needed for the embedded default."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import orjson
from sqlalchemy import Connection, Engine, and_, insert, or_, select, update

from personapulse.store import now_ms, read_connection, serialize, write_transaction
from personapulse.store.schema import jobs

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
# A running job whose worker has not sent a heartbeat for this long is taken to have died with it.
STALE_AFTER_MS = 10 * 60 * 1000
MAX_ATTEMPTS = 3


def _row_to_dict(row) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "params": orjson.loads(row.params) if row.params else {},
        "result": orjson.loads(row.result) if row.result else None,
        "error": row.error,
        "attempts": row.attempts,
        "created_ms": row.created_ms,
        "started_ms": row.started_ms,
        "finished_ms": row.finished_ms,
    }


def enqueue_in(conn: Connection, kind: str, params: dict | None = None) -> str:
    """Queue a job inside the caller's transaction (it exists exactly when the caller's data does)."""
    job_id = "job_" + uuid.uuid4().hex[:20]
    conn.execute(
        insert(jobs).values(
            id=job_id,
            kind=kind,
            status=QUEUED,
            params=orjson.dumps(params or {}, option=orjson.OPT_SORT_KEYS).decode(),
            attempts=0,
            created_ms=now_ms(),
        )
    )
    return job_id


def enqueue(engine: Engine, kind: str, params: dict | None = None, *, dedupe: bool = False) -> dict:
    """Queue a job. With ``dedupe``, an identical job still queued or running is returned instead."""
    params_json = orjson.dumps(params or {}, option=orjson.OPT_SORT_KEYS).decode()
    with write_transaction(engine) as conn:
        if dedupe:
            serialize(conn, f"jobs.enqueue:{kind}")
            row = conn.execute(
                select(jobs).where(
                    jobs.c.kind == kind,
                    jobs.c.params == params_json,
                    jobs.c.status.in_((QUEUED, RUNNING)),
                )
            ).first()
            if row is not None:
                return _row_to_dict(row)
        job_id = enqueue_in(conn, kind, params)
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
    return _row_to_dict(row)


def get(engine: Engine, job_id: str) -> dict | None:
    with read_connection(engine) as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return None if row is None else _row_to_dict(row)


def claim(engine: Engine, worker_id: str, kinds: tuple[str, ...] | None = None) -> dict | None:
    """Take the oldest queued job (or one whose worker died) for ``worker_id``; None when idle."""
    now = now_ms()
    claimable = or_(
        jobs.c.status == QUEUED,
        and_(jobs.c.status == RUNNING, jobs.c.heartbeat_ms < now - STALE_AFTER_MS),
    )
    conditions = [claimable, jobs.c.attempts < MAX_ATTEMPTS]
    if kinds:
        conditions.append(jobs.c.kind.in_(kinds))
    with write_transaction(engine) as conn:
        # PostgreSQL: a job another worker is claiming right now is skipped, not waited for.
        row = conn.execute(
            select(jobs.c.id)
            .where(*conditions)
            .order_by(jobs.c.created_ms)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        # The status check in the UPDATE makes the claim safe on databases without BEGIN IMMEDIATE.
        claimed = conn.execute(
            update(jobs)
            .where(jobs.c.id == row.id, *conditions)
            .values(
                status=RUNNING,
                locked_by=worker_id,
                started_ms=now,
                heartbeat_ms=now,
                attempts=jobs.c.attempts + 1,
            )
        )
        if claimed.rowcount != 1:
            return None
        job = conn.execute(select(jobs).where(jobs.c.id == row.id)).one()
    return _row_to_dict(job)


def heartbeat(engine: Engine, job_id: str) -> None:
    with write_transaction(engine) as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(heartbeat_ms=now_ms()))


def finish(
    engine: Engine, job_id: str, *, result: dict | None = None, error: str | None = None
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                status=FAILED if error else SUCCEEDED,
                result=orjson.dumps(result, default=str).decode() if result is not None else None,
                error=error,
                finished_ms=now_ms(),
            )
        )


def fail_exhausted(engine: Engine) -> int:
    """Mark as failed the stale jobs that used up their attempts (a job that kills its worker)."""
    with write_transaction(engine) as conn:
        result = conn.execute(
            update(jobs)
            .where(
                jobs.c.status == RUNNING,
                jobs.c.heartbeat_ms < now_ms() - STALE_AFTER_MS,
                jobs.c.attempts >= MAX_ATTEMPTS,
            )
            .values(
                status=FAILED,
                error="the worker stopped while running it, too many times",
                finished_ms=now_ms(),
            )
        )
    return result.rowcount


def enqueue_if_due(
    engine: Engine, kind: str, every_ms: int, params: dict | None = None
) -> dict | None:
    """Queue ``kind`` unless one was created within ``every_ms`` (a schedule without a scheduler:
    every worker may ask, the write lock (a named lock on PostgreSQL) lets exactly one queue it)."""
    with write_transaction(engine) as conn:
        serialize(conn, f"jobs.enqueue:{kind}")
        recent = conn.execute(
            select(jobs.c.id)
            .where(jobs.c.kind == kind, jobs.c.created_ms > now_ms() - every_ms)
            .limit(1)
        ).first()
        if recent is not None:
            return None
        job_id = enqueue_in(conn, kind, params)
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
    return _row_to_dict(row)


def requeue_orphans(engine: Engine, host: str, alive: Callable[[int], bool]) -> list[str]:
    """Put back in the queue the running jobs of this host whose worker process is gone.

    ``locked_by`` is ``host:pid:thread``; a job claimed on ``host`` by a pid that ``alive`` says no
    longer exists died with its process (kill -9, OOM, a crash), so it is queued again at once instead
    of after STALE_AFTER_MS. Its attempts count is kept, so a job that kills its worker each time
    still stops after MAX_ATTEMPTS. Returns the ids re-queued.
    """
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.locked_by).where(
                jobs.c.status == RUNNING, jobs.c.locked_by.like(f"{host}:%")
            )
        ).all()
    orphans = []
    for row in rows:
        parts = (row.locked_by or "").split(":")
        if len(parts) >= 2 and parts[-2].isdigit() and not alive(int(parts[-2])):
            orphans.append((row.id, row.locked_by))
    requeued = []
    for job_id, locked_by in orphans:
        with write_transaction(engine) as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == RUNNING, jobs.c.locked_by == locked_by)
                .values(status=QUEUED, locked_by=None)
            )
        if done.rowcount == 1:
            requeued.append(job_id)
    return requeued
