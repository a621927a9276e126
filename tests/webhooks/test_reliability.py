"""Rate limits, backpressure on a busy or unreachable database, security headers, clean logs."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import func, select

from personapulse import privacy
from personapulse.store.schema import events
from webhooks import create_app
from webhooks.limits import Limit, RateLimiter, parse_overrides


def _event(i: int) -> dict:
    return {"type": "track", "userId": "u1", "event": "x", "messageId": f"rl-{i}"}


@pytest.fixture
def limited_app(database_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "RATE_LIMIT_PER_SECOND": 0.5,
            "RATE_LIMIT_BURST": 3,
            "DB_LOCK_TIMEOUT_SECONDS": 0.3,
        }
    )
    yield app
    app.extensions["personapulse.store"].dispose()


def _token(app, *scopes) -> str:
    from personapulse.store.keys import create_key

    return create_key(app.extensions["personapulse.store"].engine, "k", scopes or ("admin",))[1]


def test_token_bucket_refills_at_its_rate():
    limiter = RateLimiter(Limit(2.0, 2.0), {"vip": Limit(0, 0), "slow": Limit(1.0, 1.0)})
    assert [limiter.acquire("a", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("a", now=0.0) == pytest.approx(0.5)
    assert limiter.acquire("a", now=0.5) == 0.0  # one token back after 1/rate seconds
    assert all(limiter.acquire("vip", now=0.0) == 0.0 for _ in range(100))
    assert limiter.acquire("slow", now=0.0) == 0.0 and limiter.acquire("slow", now=0.1) > 0
    # Keys are independent.
    assert limiter.acquire("b", now=0.0) == 0.0


def test_rate_limiter_never_refills_backwards():
    # A thread that read the clock before another stored a later time must not lose tokens.
    limiter = RateLimiter(Limit(rate=1_000_000, burst=2))
    assert limiter.acquire("k", now=10.0) == 0.0
    assert limiter.acquire("k", now=9.99) == 0.0  # 10 ms "earlier": no negative refill
    assert limiter.acquire("k", now=10.0) > 0  # the burst of 2 is spent; no time has passed


def test_overrides_parse_and_reject_garbage():
    assert parse_overrides("key_a=10/20, key_b=0") == {
        "key_a": Limit(10.0, 20.0),
        "key_b": Limit(0.0, 1.0),
    }
    with pytest.raises(ValueError):
        parse_overrides("key_a")
    with pytest.raises(ValueError):
        parse_overrides("key_a=-1")


def test_over_limit_is_429_with_retry_after_and_other_keys_unaffected(limited_app):
    client = limited_app.test_client()
    first, second = _token(limited_app), _token(limited_app)
    answers = [
        client.post("/v1/events", json=_event(i), headers={"X-API-Key": first}) for i in range(5)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    limited = answers[3]
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.get("/v1/me", headers={"X-API-Key": second}).status_code == 200
    # Refused requests stored nothing.
    with limited_app.extensions["personapulse.store"].engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == 3


def test_per_key_override_from_settings(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})
    from personapulse.store.keys import create_key

    key, token = create_key(app.extensions["personapulse.store"].engine, "vip", ("admin",))
    app2 = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "RATE_LIMIT_PER_SECOND": 0.1,
            "RATE_LIMIT_BURST": 1,
            "RATE_LIMITS": f"{key.id}=0",
        }
    )
    client = app2.test_client()
    assert all(
        client.get("/v1/me", headers={"X-API-Key": token}).status_code == 200 for _ in range(5)
    )
    for a in (app, app2):
        a.extensions["personapulse.store"].dispose()


def _assert_unavailable_then_healthy(client, token: str) -> None:
    """An event POSTed while another transaction holds the lock: 503 + Retry-After; reads still work."""
    busy = client.post("/v1/events", json=_event(1), headers={"X-API-Key": token})
    assert busy.status_code == 503
    assert busy.json["error"]["code"] == "unavailable"
    assert busy.headers["Retry-After"] == "2"
    assert client.get("/healthz").status_code == 200


def test_locked_database_is_503_with_retry_after_then_recovers(limited_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("holds SQLite's write lock; a refused PostgreSQL connection is tested below")
    client = limited_app.test_client()
    token = _token(limited_app)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        _assert_unavailable_then_healthy(client, token)  # reads keep working (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = client.post("/v1/events", json=_event(1), headers={"X-API-Key": token})
    assert again.status_code == 200 and again.json["accepted"] == 1


def test_postgres_lock_wait_is_503_with_retry_after_then_recovers(limited_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's lock_timeout; SQLite's write lock is tested above")
    from sqlalchemy import create_engine

    from personapulse.store import serialize
    from personapulse.store.engine import normalise_url

    client = limited_app.test_client()
    token = _token(limited_app)
    holder_engine = create_engine(normalise_url(database_url))
    holder = holder_engine.connect()
    holder.begin()
    serialize(holder, "ingest")  # another process in the middle of an ingest
    try:
        _assert_unavailable_then_healthy(client, token)
    finally:
        holder.rollback()
        holder.close()
        holder_engine.dispose()
    again = client.post("/v1/events", json=_event(1), headers={"X-API-Key": token})
    assert again.status_code == 200 and again.json["accepted"] == 1


def test_unreachable_database_is_503(tmp_path):
    # A PostgreSQL URL on a closed loopback port: every connection attempt is refused.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"postgresql+psycopg://pp:pp@127.0.0.1:{port}/pp?connect_timeout=2",
            "MIGRATE_ON_START": False,
            "SECRET_KEY": "t",
            "DATA_DIR": str(tmp_path),
        }
    )
    client = app.test_client()
    answer = client.post("/v1/events", json=_event(1), headers={"X-API-Key": "pp_0123456789ab_x"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json["error"]["code"] == "unavailable"
    assert client.get("/healthz").status_code == 503


def test_programming_errors_stay_500(client):
    from sqlalchemy.exc import OperationalError

    from webhooks.errors import database_unavailable

    assert not database_unavailable(
        OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    )
    assert database_unavailable(
        OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
    )


def test_security_headers_on_api_errors_and_docs(client, auth):
    for response in (
        client.get("/v1/me", headers=auth),
        client.get("/v1/me"),
        client.get("/openapi.json"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/v1/me", headers=auth).headers["Cache-Control"] == "no-store"
    docs = client.get("/docs")
    csp = docs.headers["Content-Security-Policy"]
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    # The dashboard keeps its own policy.
    assert (
        "script-src 'self'" in client.get("/dashboard/sign-in").headers["Content-Security-Policy"]
    )


def test_scrub_pseudonymises_emails_and_cuts_tokens():
    line = "GET /v1/users/Ann.Lee%40example.com key=pp_0123456789ab_" + "s" * 40 + " bob@x.io"
    keyed = privacy.scrub(line, "k1")
    assert "example.com" not in keyed and "bob@x.io" not in keyed
    assert "pp_0123456789ab_…" in keyed and "s" * 40 not in keyed
    assert privacy.pseudonymise("ann.lee@example.com", "k1") in keyed  # url-decoded, case-folded
    assert privacy.pseudonymise("a@b.co", "k1") != privacy.pseudonymise("a@b.co", "k2")
    assert privacy.scrub("to bob@x.io", None) == "to <email>"


def test_pii_filter_on_handlers_covers_child_loggers_and_tracebacks(tmp_path):
    handler = logging.FileHandler(tmp_path / "log.txt")
    root = logging.getLogger("pp-test-root")
    root.addHandler(handler)
    root.propagate = False
    try:
        privacy.install("key", root)
        child = logging.getLogger("pp-test-root.child")
        child.warning("user %s signed in", "carol@example.org")
        try:
            raise ValueError("bad email dave@example.org")
        except ValueError:
            child.exception("failed for %s", "erin@example.org")
    finally:
        root.removeHandler(handler)
        handler.close()
    text = (tmp_path / "log.txt").read_text()
    assert "@example.org" not in text
    assert text.count("pii:") == 4  # the traceback names the email in code and message


def test_funnel_exclusions_over_http_are_not_a_500(client, auth):
    # Found by schemathesis: {"step": …, "from_step": …} reached FunnelStep(step=…) → TypeError.
    rows = [
        {
            "type": "track",
            "userId": "u1",
            "event": name,
            "messageId": f"fx-{i}",
            "timestamp": f"2026-11-01T10:0{i}:00Z",
        }
        for i, name in enumerate(["A", "X", "B"])
    ]
    assert client.post("/v1/events", json=rows, headers=auth).status_code == 200
    for exclusion in (
        {"step": "X", "from_step": 1},
        {"step": {"event": "X"}, "from_step": 1, "to_step": 2},
        {"step": {"event": None, "where": {"k": False}}, "from_step": 1},
    ):
        answer = client.post(
            "/v1/funnels",
            json={"steps": ["A", "B"], "window": None, "exclusions": [exclusion]},
            headers=auth,
        )
        assert answer.status_code in (200, 422), answer.json
    excluded = client.post(
        "/v1/funnels",
        json={"steps": ["A", "B"], "window": None, "exclusions": [{"step": "X", "from_step": 1}]},
        headers=auth,
    )
    plain = client.post("/v1/funnels", json={"steps": ["A", "B"], "window": None}, headers=auth)
    assert plain.status_code == excluded.status_code == 200
    assert plain.json["steps"][-1]["count"] == 1 and excluded.json["steps"][-1]["count"] == 0
