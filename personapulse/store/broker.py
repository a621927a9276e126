"""Which job queue a store uses: the job table (embedded default) or a Redis broker for scale.

``configure(store, settings)`` picks one from ``BROKER_URL`` (empty: the job table;
``redis://…``: :class:`personapulse.store.redis_jobs.RedisBroker`). The functions here mirror
``personapulse.store.jobs`` and send each call to the store's queue, so the worker, the HTTP face
and the services never ask which one it is. Jobs queued inside a database transaction always go
through the job table (``enqueue_in``): with Redis, ``relay`` forwards them after the commit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from personapulse.store import Store
from personapulse.store import jobs as table

enqueue_in = table.enqueue_in

_brokers: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


def configure(store: Store, settings: dict) -> Any | None:
    """Attach the broker ``BROKER_URL`` names to this store's engine (None: the job table)."""
    url = str(settings.get("BROKER_URL") or "").strip()
    if not url:
        _brokers.pop(store.engine, None)
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            f"BROKER_URL must be a redis:// URL (or empty for the job table), not {url!r}"
        )
    from personapulse.store.redis_jobs import RedisBroker

    options = {}
    if settings.get("BROKER_PREFIX"):
        options["prefix"] = str(settings["BROKER_PREFIX"])
    if settings.get("BROKER_LEASE_SECONDS"):
        options["lease_ms"] = int(float(settings["BROKER_LEASE_SECONDS"]) * 1000)
    broker = RedisBroker.from_url(url, **options)
    _brokers[store.engine] = broker
    return broker


def attach(engine: Engine, broker: Any | None) -> None:
    """Use ``broker`` for this engine's jobs (None: back to the job table)."""
    if broker is None:
        _brokers.pop(engine, None)
    else:
        _brokers[engine] = broker


def broker_for(engine: Engine) -> Any | None:
    return _brokers.get(engine)


def enqueue(engine: Engine, kind: str, params: dict | None = None, *, dedupe: bool = False) -> dict:
    broker = _brokers.get(engine)
    if broker is None:
        return table.enqueue(engine, kind, params, dedupe=dedupe)
    return broker.enqueue(kind, params, dedupe=dedupe)


def get(engine: Engine, job_id: str) -> dict | None:
    broker = _brokers.get(engine)
    found = broker.get(job_id) if broker is not None else None
    # A job queued in a transaction and not relayed yet is still in the table.
    return found if found is not None else table.get(engine, job_id)


def claim(engine: Engine, worker_id: str, kinds: tuple[str, ...] | None = None) -> dict | None:
    broker = _brokers.get(engine)
    if broker is None:
        return table.claim(engine, worker_id, kinds)
    broker.relay(engine)
    return broker.claim(worker_id, kinds)


def heartbeat(engine: Engine, job_id: str) -> None:
    broker = _brokers.get(engine)
    if broker is None:
        table.heartbeat(engine, job_id)
    else:
        broker.heartbeat(job_id)


def finish(
    engine: Engine, job_id: str, *, result: dict | None = None, error: str | None = None
) -> None:
    broker = _brokers.get(engine)
    if broker is None:
        table.finish(engine, job_id, result=result, error=error)
    else:
        broker.finish(job_id, result=result, error=error)


def fail_exhausted(engine: Engine) -> int:
    broker = _brokers.get(engine)
    return table.fail_exhausted(engine) if broker is None else broker.fail_exhausted()


def enqueue_if_due(
    engine: Engine, kind: str, every_ms: int, params: dict | None = None
) -> dict | None:
    broker = _brokers.get(engine)
    if broker is None:
        return table.enqueue_if_due(engine, kind, every_ms, params)
    return broker.enqueue_if_due(kind, every_ms, params)


def relay(engine: Engine) -> int:
    """Forward jobs queued in committed transactions to the broker (nothing to do for the table)."""
    broker = _brokers.get(engine)
    return 0 if broker is None else broker.relay(engine)


def requeue_orphans(engine: Engine, host: str, alive: Callable[[int], bool]) -> list[str]:
    """Re-queue the job table's running jobs whose worker process on ``host`` died. With Redis, a
    dead worker's lease expires instead, so only rows still in the table (not yet relayed) apply."""
    return table.requeue_orphans(engine, host, alive)
