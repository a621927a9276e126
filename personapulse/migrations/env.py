"""Alembic environment: migrates the database named by the config (or PERSONAPULSE_DATABASE_URL)."""

from __future__ import annotations

import os

from alembic import context

from personapulse.store.engine import make_engine
from personapulse.store.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    return os.environ.get("PERSONAPULSE_DATABASE_URL") or config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect().execution_options(write=True) as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
