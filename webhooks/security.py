"""Security headers on every answer (the dashboard sets its own stricter set first).

JSON answers get a CSP that forbids everything (``default-src 'none'``), so a response rendered by a
browser by mistake can run nothing; the ``/docs`` page gets one that allows exactly its own inline
script and style (by hash) and the fetch of ``openapi.json``. API answers are never cached.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_BASE = tuple(BASE_HEADERS.items())


def _inline_hashes(page: str, tag: str) -> list[str]:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    ]


def _docs_csp() -> str:
    from webhooks.openapi import DOCS_PAGE

    scripts = " ".join(_inline_hashes(DOCS_PAGE, "script"))
    styles = " ".join(_inline_hashes(DOCS_PAGE, "style"))
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    """WSGI middleware that adds the headers an answer does not set itself (names compared
    case-insensitively), as the last step before gunicorn writes them.

    At the WSGI level rather than in ``after_request``: the values are this module's constants,
    which werkzeug's ``Headers`` validated again on every answer (~5–8 µs of a single event's
    ~260 µs in process). gunicorn still checks every header it writes.
    """

    def __init__(self, wsgi_app, docs_csp: str) -> None:
        self.wsgi_app = wsgi_app
        self.docs_csp = docs_csp

    def __call__(self, environ, start_response):
        api_path = environ.get("PATH_INFO", "").startswith("/v1/")

        def start_with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            missing = [(name, value) for name, value in _BASE if name.lower() not in present]
            if "content-security-policy" not in present:
                content_type = next(
                    (value for name, value in headers if name.lower() == "content-type"), ""
                )
                html = content_type.split(";", 1)[0].strip().lower() == "text/html"
                missing.append(("Content-Security-Policy", self.docs_csp if html else API_CSP))
            if api_path and "cache-control" not in present:
                missing.append(("Cache-Control", "no-store"))
            return start_response(status, headers + missing, exc_info)

        return self.wsgi_app(environ, start_with_headers)


def init_app(app: Flask) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app, _docs_csp())
