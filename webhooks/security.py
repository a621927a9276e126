"""Security headers on every answer (the dashboard sets its own stricter set first).

JSON answers get a CSP that forbids everything (``default-src 'none'``), so a response rendered by a
browser by mistake can run nothing; the ``/docs`` page gets one that allows exactly its own inline
script and style (by hash) and the fetch of ``openapi.json``. API answers are never cached.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

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


def init_app(app: Flask) -> None:
    docs_csp = _docs_csp()

    @app.after_request
    def _headers(response: Response) -> Response:
        # One look at the names already set, then one extend: a setdefault per header scanned the
        # list and raised (and caught) a KeyError for each header missing, on every answer.
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        missing = [(name, value) for name, value in _BASE if name.lower() not in present]
        if "content-security-policy" not in present:
            html = response.mimetype == "text/html"
            missing.append(("Content-Security-Policy", docs_csp if html else API_CSP))
        if "cache-control" not in present and request.path.startswith("/v1/"):
            missing.append(("Cache-Control", "no-store"))
        if missing:
            headers.extend(missing)
        return response
