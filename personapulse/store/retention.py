"""Retention: the store's bookkeeping rows are pruned, so the tables grow with time, not traffic.

Data (events, users, reviews, conversations) and the state the service serves (persona versions and
their personas, shifts and cards, the newest versions' assignments, journeys) are never touched
here. What is pruned, and when (settings; 0 keeps forever):

- ``idempotency_keys`` after ``IDEMPOTENCY_KEY_TTL_HOURS`` (24): a sender retrying with the same
  Idempotency-Key within that time gets the first answer again; later, the items themselves are still
  stored once (their message ids), only the answer's counts say "duplicate".
- ``ingest_counts`` and ``ingest_log`` after ``DATA_QUALITY_RETENTION_DAYS`` (90): the data-quality
  report looks back at most that far.
- finished ``jobs`` (succeeded or failed) after ``JOB_RETENTION_DAYS`` (30); queued and running jobs
  never.
- ``assignments`` of all but the newest ``ASSIGNMENT_VERSIONS_KEPT`` (3) persona versions, the
  current one always included: a refresh writes every person's assignment under its new version (a
  row per person scored, every refresh) and nothing reads a superseded version's.
- delivered or failed rows of ``outbox`` and ``slack_outbox``, and ``delivery_log``, after
  ``DELIVERY_RETENTION_DAYS`` (30); pending deliveries never. ``emitted_events`` too, except the
  newest :data:`EMITTED_EVENTS_KEPT_PER_TYPE` of each type (the samples a Zapier or n8n user sees
  when setting up a trigger).

Rows go in chunks of :data:`CHUNK_ROWS`, each in its own write transaction, so ingestion (which
needs the same write lock on SQLite) waits at most one chunk's delete; after each chunk the pruner
rests :data:`REST_PER_CHUNK` times as long as the chunk took. Without the rest, ingestion in the same
process got the lock between chunks so rarely that it fell to 3 % of its rate for the whole run
(``bench/bench_prune.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, delete, func, or_, select, tuple_

from personapulse.config import DEFAULTS
from personapulse.store.engine import read_connection, write_transaction
from personapulse.store.jobs import FAILED, SUCCEEDED
from personapulse.store.schema import (
    assignments,
    delivery_log,
    emitted_events,
    idempotency_keys,
    ingest_counts,
    ingest_log,
    jobs,
    outbox,
    persona_versions,
    slack_outbox,
)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CHUNK_ROWS = 2_000
EMITTED_EVENTS_KEPT_PER_TYPE = 10
# The pruner holds the write lock at most 1 / (1 + REST_PER_CHUNK) of the time while it runs.
REST_PER_CHUNK = 3.0
MIN_REST_S = 0.001
# Statuses of rows nothing will change again. The outboxes' (services.outbound's DELIVERED and
# FAILED) are spelled here: the store does not import the services.
FINISHED_JOB_STATUSES = (SUCCEEDED, FAILED)
FINISHED_DELIVERY_STATUSES = ("delivered", "failed")


def _setting(settings: Mapping[str, Any], name: str) -> float:
    """A retention setting (config.DEFAULTS when missing); 0 or more."""
    raw = settings.get(name, DEFAULTS[name])
    value = float(raw)
    if value < 0:
        raise ValueError(f"{name} must be 0 (keep forever) or more, got {raw!r}")
    return value


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of bookkeeping row is kept, in milliseconds (0: forever); the defaults
    are config.DEFAULTS'."""

    idempotency_keys_ms: int = int(DEFAULTS["IDEMPOTENCY_KEY_TTL_HOURS"] * HOUR_MS)
    data_quality_ms: int = int(DEFAULTS["DATA_QUALITY_RETENTION_DAYS"] * DAY_MS)
    jobs_ms: int = int(DEFAULTS["JOB_RETENTION_DAYS"] * DAY_MS)
    deliveries_ms: int = int(DEFAULTS["DELIVERY_RETENTION_DAYS"] * DAY_MS)
    # Persona versions whose assignments are kept, the current one included (0: all).
    assignment_versions: int = DEFAULTS["ASSIGNMENT_VERSIONS_KEPT"]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RetentionPolicy:
        """Read ``IDEMPOTENCY_KEY_TTL_HOURS``, ``DATA_QUALITY_RETENTION_DAYS``,
        ``JOB_RETENTION_DAYS``, ``DELIVERY_RETENTION_DAYS`` and ``ASSIGNMENT_VERSIONS_KEPT``."""
        return cls(
            idempotency_keys_ms=int(_setting(settings, "IDEMPOTENCY_KEY_TTL_HOURS") * HOUR_MS),
            data_quality_ms=int(_setting(settings, "DATA_QUALITY_RETENTION_DAYS") * DAY_MS),
            jobs_ms=int(_setting(settings, "JOB_RETENTION_DAYS") * DAY_MS),
            deliveries_ms=int(_setting(settings, "DELIVERY_RETENTION_DAYS") * DAY_MS),
            assignment_versions=int(_setting(settings, "ASSIGNMENT_VERSIONS_KEPT")),
        )


def _delete_in_chunks(
    engine: Engine,
    table: Table,
    condition: ColumnElement[bool],
    chunk_rows: int,
    rest_per_chunk: float,
) -> int:
    """Delete the rows of ``table`` matching ``condition``, ``chunk_rows`` per transaction."""
    key = tuple_(*table.primary_key.columns)
    deleted = 0
    while True:
        started = time.monotonic()
        with write_transaction(engine) as conn:
            doomed = select(*table.primary_key.columns).where(condition).limit(chunk_rows)
            removed = conn.execute(delete(table).where(key.in_(doomed))).rowcount
        deleted += removed
        if removed < chunk_rows:
            return deleted
        if rest_per_chunk:
            time.sleep(max(MIN_REST_S, (time.monotonic() - started) * rest_per_chunk))


def _emitted_events_condition(engine: Engine, cutoff_ms: int) -> ColumnElement[bool] | None:
    """Older than ``cutoff_ms`` and not among the newest few of their type."""
    clauses = []
    with read_connection(engine) as conn:
        event_types = conn.execute(select(emitted_events.c.event_type).distinct()).scalars().all()
        for event_type in event_types:
            # The oldest sample kept: the type's Nth newest (ix_emitted_events_type walks to it).
            oldest_sample_ms = conn.execute(
                select(emitted_events.c.created_ms)
                .where(emitted_events.c.event_type == event_type)
                .order_by(emitted_events.c.created_ms.desc())
                .offset(EMITTED_EVENTS_KEPT_PER_TYPE - 1)
                .limit(1)
            ).scalar()
            if oldest_sample_ms is not None:  # fewer than N of this type: all are kept
                clauses.append(
                    (emitted_events.c.event_type == event_type)
                    & (emitted_events.c.created_ms < min(cutoff_ms, oldest_sample_ms))
                )
    return or_(*clauses) if clauses else None


def _superseded_versions(engine: Engine, kept: int) -> list[str]:
    """Ids of the persona versions past the newest ``kept`` (never the current one)."""
    with read_connection(engine) as conn:
        return list(
            conn.execute(
                select(persona_versions.c.id)
                .where(persona_versions.c.status != "current")
                .order_by(persona_versions.c.seq.desc())
                .offset(max(kept - 1, 0))
            ).scalars()
        )


def prune(
    engine: Engine,
    policy: RetentionPolicy,
    *,
    now_ms: int,
    chunk_rows: int = CHUNK_ROWS,
    rest_per_chunk: float = REST_PER_CHUNK,
    dry_run: bool = False,
) -> dict[str, int]:
    """Delete the bookkeeping rows older than ``policy`` allows; return rows deleted per table.

    Every table of the policy appears in the answer (0 when nothing was due, or kept forever).
    With ``dry_run``, nothing is deleted and the answer counts the rows that would be.
    """

    def delete_where(table: Table, condition: ColumnElement[bool]) -> int:
        if dry_run:
            with read_connection(engine) as conn:
                return conn.execute(
                    select(func.count()).select_from(table).where(condition)
                ).scalar_one()
        return _delete_in_chunks(engine, table, condition, chunk_rows, rest_per_chunk)

    deleted = dict.fromkeys(
        (
            "idempotency_keys",
            "ingest_counts",
            "ingest_log",
            "jobs",
            "outbox",
            "slack_outbox",
            "delivery_log",
            "emitted_events",
            "assignments",
        ),
        0,
    )
    if policy.idempotency_keys_ms:
        cutoff = now_ms - policy.idempotency_keys_ms
        deleted["idempotency_keys"] = delete_where(
            idempotency_keys, idempotency_keys.c.created_ms < cutoff
        )
    if policy.data_quality_ms:
        cutoff = now_ms - policy.data_quality_ms
        deleted["ingest_counts"] = delete_where(ingest_counts, ingest_counts.c.bucket_ms < cutoff)
        deleted["ingest_log"] = delete_where(ingest_log, ingest_log.c.received_ms < cutoff)
    if policy.jobs_ms:
        cutoff = now_ms - policy.jobs_ms
        deleted["jobs"] = delete_where(
            jobs, jobs.c.status.in_(FINISHED_JOB_STATUSES) & (jobs.c.created_ms < cutoff)
        )
    if policy.deliveries_ms:
        cutoff = now_ms - policy.deliveries_ms
        # A finished delivery's next_attempt_ms is when its last attempt was due.
        for table in (outbox, slack_outbox):
            deleted[table.name] = delete_where(
                table,
                table.c.status.in_(FINISHED_DELIVERY_STATUSES) & (table.c.next_attempt_ms < cutoff),
            )
        deleted["delivery_log"] = delete_where(delivery_log, delivery_log.c.at_ms < cutoff)
        condition = _emitted_events_condition(engine, cutoff)
        if condition is not None:
            deleted["emitted_events"] = delete_where(emitted_events, condition)
    if policy.assignment_versions:
        for version_id in _superseded_versions(engine, policy.assignment_versions):
            deleted["assignments"] += delete_where(
                assignments, assignments.c.version_id == version_id
            )
    return deleted
