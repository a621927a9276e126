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
        for name, value in BASE_HEADERS.items():
            response.headers.setdefault(name, value)
        if "Content-Security-Policy" not in response.headers:
            html = response.mimetype == "text/html"
            response.headers["Content-Security-Policy"] = docs_csp if html else API_CSP
        if request.path.startswith("/v1/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
