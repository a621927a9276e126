"""The background job worker as a Flask resource: one thread per web worker process."""

from __future__ import annotations

import atexit

from flask import Flask

from personapulse.services.worker import BackgroundWorker
from webhooks.store import get_store


def init_app(app: Flask) -> None:
    with app.app_context():
        worker = BackgroundWorker(get_store(), dict(app.config))
    worker.start()
    app.extensions["personapulse.worker"] = worker
    atexit.register(worker.stop)
