"""gunicorn, embedded: ``personapulse serve`` runs the Flask face under it with our settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger


class ScrubbingLogger(Logger):
    """gunicorn's logger with emails pseudonymised and API secrets cut from every line (access
    log included: a path such as /v1/users/ann@example.com never reaches the log raw)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        import os

        from personapulse import privacy

        privacy.install(os.environ.get("PERSONAPULSE_PII_KEY"), self.error_log, self.access_log)


class _Application(BaseApplication):
    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._load_app()


def gunicorn_options(
    *, bind: str, workers: int, threads: int, timeout: int, access_log: bool = True
) -> dict:
    """The one set of gunicorn settings the service runs with (the benchmark reuses it)."""
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": 20,
        "accesslog": "-" if access_log else None,
        # Longer than common clients' idle timeouts (Node 20: 5 s), so they never reuse a closing socket.
        "keepalive": 30,
        "logger_class": ScrubbingLogger,
    }


def run_gunicorn(load_app: Callable[[], Any], options: dict[str, Any]) -> None:
    """Serve the WSGI app returned by ``load_app`` (called in each worker) until stopped."""
    _Application(load_app, options).run()


def serve_personapulse(settings: dict[str, Any], **options: Any) -> None:
    def load():
        from webhooks import create_app

        return create_app(settings)

    run_gunicorn(load, gunicorn_options(**options))
