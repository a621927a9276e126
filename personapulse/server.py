"""gunicorn, embedded: ``personapulse serve`` runs the Flask face under it with our settings."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Application(BaseApplication):
    def __init__(self, settings: dict[str, Any], options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from webhooks import create_app

        return create_app(self._settings)


def run_gunicorn(settings: dict[str, Any], *, bind: str, workers: int, threads: int, timeout: int) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": 20,
        "accesslog": "-",
        "keepalive": 5,
    }
    _Application(settings, options).run()
