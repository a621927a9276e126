"""The baseline of the ingest benchmark: a bare Flask endpoint that answers 204 and does nothing."""

from __future__ import annotations

import sys

from flask import Flask

from personapulse.server import gunicorn_options, run_gunicorn


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.post("/v1/events")
    def accept():
        return "", 204

    return app


if __name__ == "__main__":
    bind, workers = sys.argv[1], int(sys.argv[2])
    run_gunicorn(
        create_bare_app,
        # The service's own gunicorn settings, access log included (as `personapulse serve` runs).
        gunicorn_options(bind=bind, workers=workers, threads=4, timeout=60),
    )
