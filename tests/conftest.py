"""Shared fixtures: a migrated store in a temporary SQLite file, the Flask app, an API key."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE_DATA = Path(__file__).parent / "sample_data"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'personapulse.sqlite'}"


@pytest.fixture
def app(database_url: str):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret"})
    yield app
    app.extensions["personapulse.store"].dispose()


@pytest.fixture
def store(app):
    return app.extensions["personapulse.store"]


@pytest.fixture
def client(app):
    return app.test_client()


def _make_key(store, scopes=("ingest", "read", "admin")) -> str:
    from personapulse.store.keys import create_key

    _, token = create_key(store.engine, "test", scopes)
    return token


@pytest.fixture
def token(store) -> str:
    return _make_key(store)


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"X-API-Key": token}


@pytest.fixture
def make_key(store):
    return lambda *scopes: _make_key(store, scopes)
