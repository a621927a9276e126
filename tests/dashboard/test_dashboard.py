"""The dashboard's server side: sign-in, session, security headers, the funnel data, the assets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from webhooks.dashboard import STATIC_DIR

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client, path: str = "/dashboard/sign-in") -> str:
    page = client.get(path)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def _sign_in(client, token: str):
    return client.post("/dashboard/sign-in", data={"api_key": token, "csrf_token": _csrf(client)})


def _funnel_events() -> list[dict]:
    """Two people: one completes the default funnel, one drops after adding to the cart."""
    start = datetime.now(UTC) - timedelta(days=2)
    events = []
    for person, names in {
        "u_done": ["Product Added", "Checkout Started", "Order Completed"],
        "u_drop": ["Product Added"],
    }.items():
        at = start
        events.append(
            {
                "type": "page",
                "userId": person,
                "name": "Pricing",
                "messageId": f"{person}-0",
                "timestamp": at.isoformat(),
                "context": {"page": {"path": "/pricing", "url": "https://x.test/pricing"}},
                "properties": {"path": "/pricing", "url": "https://x.test/pricing"},
            }
        )
        for i, name in enumerate(names, start=1):
            at += timedelta(minutes=3)
            events.append(
                {
                    "type": "track",
                    "userId": person,
                    "event": name,
                    "messageId": f"{person}-{i}",
                    "timestamp": at.isoformat(),
                }
            )
    return events


def test_signed_out_visitors_are_sent_to_the_sign_in_form(client):
    assert client.get("/").headers["Location"].endswith("/dashboard")
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/sign-in")
    form = client.get("/dashboard/sign-in")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert '<label for="api_key">API key</label>' in html and 'id="api_key"' in html


@pytest.mark.parametrize("path", ["/dashboard/sign-in", "/dashboard"])
def test_pages_send_security_headers_and_no_inline_code(client, make_key, path):
    if path == "/dashboard":
        _sign_in(client, make_key("read"))
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    # The CSP forbids inline code, so the page must not rely on any.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html


def test_a_bad_key_is_refused_with_a_message(client):
    response = _sign_in(client, "pp_0000_not-a-real-key")
    assert response.status_code == 401
    assert "not valid or was revoked" in response.get_data(as_text=True)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_an_ingest_only_key_is_refused(client, make_key):
    response = _sign_in(client, make_key("ingest"))
    assert response.status_code == 403
    assert "needs a key with the read scope" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    assert client.get("/v1/personas/versions").status_code == 401


def test_sign_in_without_the_form_token_is_refused(client, make_key):
    client.get("/dashboard/sign-in")
    response = client.post("/dashboard/sign-in", data={"api_key": make_key("read")})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_a_read_key_signs_in_and_the_cookie_reads_but_never_writes(client, make_key, store):
    from personapulse.store.keys import create_key

    _, token = create_key(store.engine, "analyst laptop", ("read",))
    response = _sign_in(client, token)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "analyst laptop" in page.get_data(as_text=True)
    assert client.get("/v1/personas/versions").status_code == 200
    # POSTs never accept the cookie (CSRF), which is why the funnel has a GET twin.
    funnel = client.post("/v1/funnels", json={"steps": ["/pricing", "Order Completed"]})
    assert funnel.status_code == 401


def test_funnel_data_needs_a_reading_session_and_returns_the_default_funnel(client, make_key, auth):
    assert client.get("/dashboard/data/funnel").status_code == 401
    assert client.post("/v1/events", json=_funnel_events(), headers=auth).status_code in (200, 202)
    _sign_in(client, make_key("read"))
    response = client.get("/dashboard/data/funnel")
    assert response.status_code == 200
    body = response.json
    assert body["step_names"] == [
        "/pricing",
        "Product Added",
        "Checkout Started",
        "Order Completed",
    ]
    counts = [step["count"] for step in body["steps"]]
    assert counts == [2, 2, 1, 1]
    assert body["steps"][2]["dropoff"] == 1
    # Called twice, the same answer: the default spec is not consumed by the first call.
    assert client.get("/dashboard/data/funnel").json["steps"] == body["steps"]


def test_sign_out_ends_the_session(client, make_key):
    _sign_in(client, make_key("read"))
    csrf = _csrf(client, "/dashboard")
    assert client.post("/dashboard/sign-out", data={}).status_code == 400
    response = client.post("/dashboard/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 302
    assert client.get("/v1/personas/versions").status_code == 401


def test_a_revoked_key_ends_the_session(client, store):
    from personapulse.store.keys import create_key, revoke_key

    key, token = create_key(store.engine, "soon revoked", ("read",))
    _sign_in(client, token)
    assert client.get("/dashboard").status_code == 200
    revoke_key(store.engine, key.id)
    assert client.get("/dashboard").status_code == 302


def test_only_the_app_and_vendor_folders_are_served(client):
    with client.get("/dashboard/assets/dashboard/dashboard.js") as app_js:
        assert app_js.status_code == 200
        assert app_js.headers["X-Content-Type-Options"] == "nosniff"
    for path in (
        "/dashboard/assets/package.json",
        "/dashboard/assets/copy-vendor.mjs",
        "/dashboard/assets/node_modules/echarts/package.json",
        "/dashboard/assets/dashboard/../package.json",
    ):
        with client.get(path) as response:
            assert response.status_code == 404, path


def test_the_chart_library_is_vendored_by_npm(client):
    vendored = STATIC_DIR / "vendor" / "echarts.min.js"
    assert vendored.is_file(), "run `npm ci --prefix webhooks/static` (make setup does)"
    with client.get("/dashboard/assets/vendor/echarts.min.js") as response:
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript")
        assert len(response.data) > 500_000


def test_dashboard_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert "get" in paths["/dashboard"] and "post" in paths["/dashboard/sign-in"]
    assert paths["/dashboard/data/funnel"]["get"]["tags"] == ["dashboard"]
