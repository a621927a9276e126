"""Shared fixtures: a migrated store in a temporary SQLite file, the Flask app, an API key.

With ``PERSONAPULSE_TEST_DATABASE_URL=postgresql://…`` the database fixtures hand out fresh
PostgreSQL databases instead (tests/databases.py); ``make test-postgres`` runs the tests marked
``store`` (those that reach a database, marked automatically below) that way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import databases

SAMPLE_DATA = Path(__file__).parent / "sample_data"
# A test that asks for any of these reaches a database (e2e tests reach one through the service).
STORE_FIXTURES = frozenset({"database_url", "database_url_for"})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if STORE_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(
            "e2e"
        ):
            item.add_marker(pytest.mark.store)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    url = databases.fresh_database_url(tmp_path)
    yield url
    databases.drop_database(url)


@pytest.fixture(scope="session")
def database_url_for():
    """``database_url_for(folder)``: the database of a folder, for fixtures wider than one test."""
    return databases.database_url_for


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
