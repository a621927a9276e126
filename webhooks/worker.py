"""The background job worker as a Flask resource: one thread per web worker process."""

from __future__ import annotations

import atexit

from flask import Flask

from personapulse.services.worker import BackgroundWorker
from personapulse.store import Store


def init_app(app: Flask) -> None:
    # Its own engine with the long lock wait: a refresh may wait for the write lock behind an
    # ingest burst, where a request would rather answer 503 (DB_LOCK_TIMEOUT_SECONDS).
    from personapulse.store.broker import configure

    store = Store(app.config["DATABASE_URL"])
    configure(store, app.config)  # the same queue the requests use: job table or Redis
    worker = BackgroundWorker(store, dict(app.config))
    worker.start()
    app.extensions["personapulse.worker"] = worker
    atexit.register(worker.stop)
