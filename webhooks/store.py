"""The store as a Flask resource: one engine per process, migrated when the app starts."""

from __future__ import annotations

from flask import Flask, current_app

from personapulse.store import Store

EXTENSION = "personapulse.store"


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if app.config.get("MIGRATE_ON_START", True):
        # Migrations may wait the long default for the write lock (workers booting together) …
        migrator = Store(url)
        migrator.migrate()
        migrator.dispose()
    # … requests wait at most DB_LOCK_TIMEOUT_SECONDS, then answer 503 with Retry-After.
    timeout_ms = int(float(app.config.get("DB_LOCK_TIMEOUT_SECONDS", 5)) * 1000)
    app.extensions[EXTENSION] = Store(url, busy_timeout_ms=timeout_ms)
    from personapulse.store.broker import configure

    configure(
        app.extensions[EXTENSION], app.config
    )  # the job table, or the Redis broker BROKER_URL names


def get_store() -> Store:
    return current_app.extensions[EXTENSION]
