"""The service's access-log line is gunicorn's own default line, built more cheaply, and scrubbed."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from personapulse.server import ScrubbingLogger


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _line(logger_class: type[Logger], resp, environ, access_log_format: str | None = None) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    if access_log_format is not None:
        cfg.set("access_log_format", access_log_format)
    logger = logger_class(cfg)
    capture = _Capture()
    logger.access_log.handlers = [capture]
    logger.access_log.propagate = False
    logger.now = lambda: "[23/Nov/2026:10:00:00 +0000]"  # the same clock for both loggers
    logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(microseconds=1500))
    return capture.lines[-1]


def _environ(**extra: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/v1/events?format=segment",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        **extra,
    }


@pytest.mark.parametrize(
    ("environ", "sent"),
    [
        (_environ(), 123),
        (_environ(), None),
        (_environ(HTTP_USER_AGENT='curl/8 "quoted"', HTTP_REFERER="https://x.example/a"), 0),
        (_environ(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ann:pw").decode()), 5),
        (_environ(HTTP_AUTHORIZATION="Bearer pp_0123456789ab_" + "s" * 30), 5),
        (_environ(RAW_URI='/v1/users/a"b'), 7),
    ],
)
def test_access_line_matches_gunicorns(environ, sent):
    resp = SimpleNamespace(status="200 OK", sent=sent, headers=[("Content-Type", "x")])
    assert _line(ScrubbingLogger, resp, environ) == _line(Logger, resp, environ)


def test_a_custom_format_is_gunicorns_own():
    resp = SimpleNamespace(status="201 CREATED", sent=3, headers=[("X-Id", "7")])
    fmt = "%(h)s %(m)s %(U)s %(s)s %({x-id}o)s %(L)s"
    assert _line(ScrubbingLogger, resp, _environ(), fmt) == _line(Logger, resp, _environ(), fmt)


def test_access_line_is_scrubbed(monkeypatch):
    monkeypatch.delenv("PERSONAPULSE_PII_KEY", raising=False)
    resp = SimpleNamespace(status="200 OK", sent=2, headers=[])
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = ScrubbingLogger(cfg)
    capture = _Capture()
    capture.addFilter(logger.access_log.handlers[0].filters[0])  # the PII filter setup installed
    logger.access_log.handlers = [capture]
    logger.access_log.propagate = False
    token = "pp_0123456789ab_" + "s" * 30
    environ = _environ(RAW_URI=f"/v1/users/ann%40example.com?key={token}")
    logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(0))
    line = capture.lines[-1]
    assert "/v1/users/<email>" in line and "pp_0123456789ab_…" in line and "s" * 30 not in line
