"""The store as a Flask resource: one engine per process, migrated when the app starts."""

from __future__ import annotations

from flask import Flask, current_app

from personapulse.store import Store

EXTENSION = "personapulse.store"


def init_app(app: Flask) -> None:
    store = Store(app.config["DATABASE_URL"])
    if app.config.get("MIGRATE_ON_START", True):
        store.migrate()
    app.extensions[EXTENSION] = store
    from personapulse.store.broker import configure

    configure(store, app.config)  # the job table, or the Redis broker BROKER_URL names


def get_store() -> Store:
    return current_app.extensions[EXTENSION]
