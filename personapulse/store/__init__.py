"""The store: one SQL database (embedded SQLite by default) behind SQLAlchemy Core."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from personapulse.store.engine import (
    close_write_group,
    make_engine,
    read_connection,
    serialize,
    write_transaction,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = ["Store", "now_ms", "read_connection", "serialize", "write_transaction"]


def now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    """A database URL, its engine, and the migrations that shape it."""

    def __init__(self, url: str, *, busy_timeout_ms: int | None = None) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url)
        return config

    def migrate(self) -> None:
        """Bring the schema to the newest revision.

        Runs inside one write transaction, so several workers starting at once take turns and the
        later ones find nothing to do (SQLite and PostgreSQL DDL is transactional; on PostgreSQL a
        lock makes the workers take turns).
        """
        config = self.alembic_config()
        with write_transaction(self.engine) as connection:
            serialize(connection, "migrate")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def dispose(self) -> None:
        close_write_group(self.engine)
        self.engine.dispose()
