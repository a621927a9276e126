"""The dashboard: a server-rendered shell behind a sign-in, filled in the browser from the JSON API.

The browser signs in once with an API key of ``read`` scope; the session then holds only the key's id
(``session["key_id"]``), which ``webhooks.auth`` accepts for GET requests. Everything the page shows is
fetched after first paint from ``/v1/...`` with that cookie, plus ``GET /dashboard/data/funnel``, a
read-only stand-in for ``POST /v1/funnels`` (which a cookie may not call).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

from personapulse.services import journeys as journey_service
from personapulse.store.keys import ApiKey, authenticate, key_by_id
from webhooks.auth import SESSION_KEY_ID, require_scope
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("dashboard", __name__, template_folder="templates")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Only these folders of static/ are served: the app's own files and the vendored chart library,
# never node_modules, package.json or the copy script.
SERVED_ASSET_DIRS = ("dashboard", "vendor")

DEFAULT_FUNNEL = {
    "steps": ["/pricing", "Product Added", "Checkout Started", "Order Completed"],
    "window": "14d",
    "breakdown": "persona",
}
# How often the page asks whether a refresh produced a new persona version.
POLL_MILLISECONDS = 5000

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_SESSION_KEY = "csrf_token"


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # Pages carry who is signed in; never let a shared cache keep them.
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_key() -> ApiKey | None:
    """The live key behind this browser session, or None (signed out, or the key was revoked)."""
    key_id = session.get(SESSION_KEY_ID)
    if not key_id:
        return None
    return key_by_id(get_store().engine, key_id)


def _csrf_token() -> str:
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(expected, sent)


def _sign_in_page(message: str | None = None, status: int = 200):
    return (
        render_template("dashboard/sign_in.html", message=message, csrf_token=_csrf_token()),
        status,
    )


@bp.get("/")
@documented(
    summary="The dashboard (HTML); redirects to the sign-in form when signed out", tag="dashboard"
)
def root():
    return redirect(url_for("dashboard.dashboard"), code=302)


@bp.get("/dashboard")
@documented(
    summary="The dashboard (HTML): persona cards, journeys, funnels, shifts, data quality",
    tag="dashboard",
    responses={200: "the page shell", 302: "signed out: to the sign-in form"},
)
def dashboard():
    key = _signed_in_key()
    if key is None or not key.allows("read"):
        session.pop(SESSION_KEY_ID, None)
        return redirect(url_for("dashboard.sign_in_form"), code=302)
    return render_template(
        "dashboard/dashboard.html",
        key_name=key.name,
        csrf_token=_csrf_token(),
        poll_ms=POLL_MILLISECONDS,
        funnel_steps=DEFAULT_FUNNEL["steps"],
    )


@bp.get("/dashboard/sign-in")
@documented(summary="The dashboard's sign-in form (HTML)", tag="dashboard")
def sign_in_form():
    if _signed_in_key() is not None:
        return redirect(url_for("dashboard.dashboard"), code=302)
    return _sign_in_page()


@bp.post("/dashboard/sign-in")
@documented(
    summary="Sign the browser in with an API key of read scope (form field api_key)",
    tag="dashboard",
    body={
        "type": "object",
        "required": ["api_key", "csrf_token"],
        "properties": {"api_key": {"type": "string"}, "csrf_token": {"type": "string"}},
    },
    body_content_types=("application/x-www-form-urlencoded",),
    responses={
        303: "signed in: to the dashboard",
        400: "the form expired",
        401: "the key is not valid",
        403: "the key lacks read scope",
    },
)
def sign_in():
    if not _csrf_ok():
        return _sign_in_page("The form expired. Please try again.", 400)
    token = request.form.get("api_key", "").strip()
    key = authenticate(get_store().engine, token) if token else None
    if key is None:
        return _sign_in_page("That API key is not valid or was revoked.", 401)
    if not key.allows("read"):
        return _sign_in_page(
            "This API key cannot read: the dashboard needs a key with the read scope.", 403
        )
    # A fresh session on sign-in, so nothing set before it (fixation) carries over.
    session.clear()
    session[SESSION_KEY_ID] = key.id
    return redirect(url_for("dashboard.dashboard"), code=303)


@bp.post("/dashboard/sign-out")
@documented(
    summary="Sign the browser out",
    tag="dashboard",
    body={
        "type": "object",
        "required": ["csrf_token"],
        "properties": {"csrf_token": {"type": "string"}},
    },
    body_content_types=("application/x-www-form-urlencoded",),
    responses={303: "to the sign-in form", 400: "the form expired"},
)
def sign_out():
    if not _csrf_ok():
        abort(400, description="the sign-out form expired; reload the page and try again")
    session.clear()
    return redirect(url_for("dashboard.sign_in_form"), code=303)


@bp.get("/dashboard/data/funnel")
@require_scope("read")
@documented(
    summary="The dashboard's default funnel (pricing → add → checkout → order, 14 days) by persona",
    tag="dashboard",
)
def funnel_data():
    # run_funnel pops keys from its spec, so it gets a fresh copy every time.
    spec = {**DEFAULT_FUNNEL, "steps": list(DEFAULT_FUNNEL["steps"])}
    return journey_service.run_funnel(get_store().engine, spec)


@bp.get("/dashboard/assets/<path:filename>")
@documented(summary="The dashboard's scripts, styles and vendored chart library", tag="dashboard")
def asset(filename: str):
    top, _, rest = filename.partition("/")
    if top not in SERVED_ASSET_DIRS or not rest:
        abort(404)
    # Joined under the folder itself, so "dashboard/../package.json" cannot climb out of it.
    return send_from_directory(STATIC_DIR / top, rest, max_age=300)
