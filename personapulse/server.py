"""gunicorn, embedded: ``personapulse serve`` runs the Flask face under it with our settings."""

from __future__ import annotations

import gc
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger


def _quoted(value: Any) -> str:
    # What gunicorn's SafeAtoms does to each atom before "%s" formats it.
    return value.replace('"', '\\"') if isinstance(value, str) else str(value)


class ScrubbingLogger(Logger):
    """gunicorn's logger with emails pseudonymised and API secrets cut from every line (access
    log included: a path such as /v1/users/ann@example.com never reaches the log raw).

    With gunicorn's default access-log format, a line is built from the nine atoms it names
    instead of gunicorn's table of every atom, header and environ variable (a third of the cost of
    logging a request); the line is the same, and it passes through the same handlers and filters.
    """

    _now: tuple[int, str] = (0, "")

    def setup(self, cfg) -> None:
        super().setup(cfg)
        import os

        from personapulse import privacy

        privacy.install(os.environ.get("PERSONAPULSE_PII_KEY"), self.error_log, self.access_log)

    def now(self) -> str:
        second = int(time.time())
        cached = self._now
        if cached[0] != second:
            cached = self._now = (second, super().now())
        return cached[1]

    def access(self, resp, req, environ, request_time) -> None:
        if self.cfg.access_log_format != AccessLogFormat.default:
            super().access(resp, req, environ, request_time)
            return
        log = self.access_log
        if not self.access_log_enabled or not log.isEnabledFor(logging.INFO):
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            sent = getattr(resp, "sent", None)
            user = self._get_user(environ) if "HTTP_AUTHORIZATION" in environ else None
            request_line = (
                f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
            )
            # '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
            line = (
                f"{_quoted(environ.get('REMOTE_ADDR', '-'))} - {_quoted(user or '-')} {self.now()}"
                f' "{_quoted(request_line)}" {_quoted(status)}'
                f" {_quoted(str(sent)) if sent is not None and str(sent) else '-'}"
                f' "{_quoted(environ.get("HTTP_REFERER", "-"))}"'
                f' "{_quoted(environ.get("HTTP_USER_AGENT", "-"))}"'
            )
            # What Logger.info does, less the walk up the stack for a caller no format shows.
            log.handle(log.makeRecord(log.name, logging.INFO, "(unknown file)", 0, line, (), None))
        except Exception:
            self.error(traceback.format_exc())


GC_YOUNG_THRESHOLD = 50_000


def relax_gc() -> None:
    """Collect the young generation once per 50,000 allocations instead of 700.

    Ingestion allocates many objects but seldom cycles (refcounting frees them): at the default
    threshold a 10,000-event batch sets off collections that each walk every event parsed so far,
    costing more than the parsing. A pass per 50,000 allocations still collects any cycle soon.
    """
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


class _Application(BaseApplication):
    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        app = self._load_app()
        # Everything the app holds once loaded (modules, the engine, pandas, scikit-learn …) lives as
        # long as the worker: move it out of the collector's sight, so a full collection (which a
        # 10,000-event batch sets off) walks only the objects requests create. Garbage first, so none
        # is frozen with it.
        gc.collect()
        gc.freeze()
        relax_gc()
        return app


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
