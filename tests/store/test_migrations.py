"""The migrations on the database of the run: up from nothing, down to nothing and up again, and
the schema they build is the one personapulse/store/schema.py describes."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from personapulse.store import Store, write_transaction
from personapulse.store.schema import metadata
from tests import databases

pytestmark = pytest.mark.store


def _differences(store: Store) -> list:
    with store.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_migrations_up_down_up_match_the_schema(tmp_path):
    url = databases.empty_database_url(tmp_path)
    store = Store(url)
    try:
        assert store.current_revision() is None
        store.migrate()
        head = store.current_revision()
        assert head is not None
        assert _differences(store) == []

        config = store.alembic_config()
        with write_transaction(store.engine) as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        with store.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}

        store.migrate()
        assert store.current_revision() == head
        assert _differences(store) == []
    finally:
        store.dispose()
        databases.drop_database(url)


def test_the_run_uses_the_database_it_was_given(client, store):
    expected = "postgresql" if databases.server_url() else "sqlite"
    assert store.engine.dialect.name == expected
    health = client.get("/healthz").json
    assert health["database"] == expected and health["schema"] == store.current_revision()


def test_a_bare_postgresql_url_means_psycopg_3():
    from personapulse.store.engine import normalise_url

    assert (
        normalise_url("postgresql://u:p%40ss@db:5432/pp")
        == "postgresql+psycopg://u:p%40ss@db:5432/pp"
    )
    assert normalise_url("postgres://db/pp") == "postgresql+psycopg://db/pp"
    assert normalise_url("postgresql+psycopg2://db/pp") == "postgresql+psycopg2://db/pp"
    assert normalise_url("sqlite:///var/x.sqlite") == "sqlite:///var/x.sqlite"
