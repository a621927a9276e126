"""Database engine with safe defaults for embedded SQLite and for server databases."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL advisory locks taken by serialize() live in this namespace (first key of the pair).
ADVISORY_NAMESPACE = 0x5050  # "PP"


def normalise_url(url: str) -> str:
    """``postgresql://…`` means psycopg 3 (SQLAlchemy's default for the bare scheme is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``.

    SQLite gets WAL (readers never block the writer), a busy timeout (several gunicorn workers wait for
    the write lock instead of failing) and ``BEGIN IMMEDIATE`` for write transactions, so two writers
    never deadlock upgrading a read lock.

    PostgreSQL (psycopg 3) runs at READ COMMITTED with concurrent writers; the few read-then-write
    paths that relied on SQLite's single writer take a named lock with :func:`serialize`.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)

    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(
        dbapi_connection, _record
    ) -> None:  # pragma: no cover - exercised via every test
        # Take transaction control from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the write lock up front (SQLite) and commits or rolls back whole."""
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        yield connection


@contextlib.contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (one transaction, so every query sees the same data).

    SQLite's transactions are snapshots already; PostgreSQL's READ COMMITTED would give each
    statement its own, so reads run at REPEATABLE READ there (a reader never fails or waits for it).
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def serialize(conn: Connection, name: str) -> None:
    """Let one write transaction at a time past this point for ``name``, until it commits.

    SQLite's write transactions are already serial (``BEGIN IMMEDIATE``), so this is a no-op there.
    On PostgreSQL it is a transaction-scoped advisory lock: a second transaction naming the same
    lock waits, then (READ COMMITTED) sees what the first one committed.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # a stable signed 32-bit key
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%(namespace)s, %(key)s)",
            {"namespace": ADVISORY_NAMESPACE, "key": key},
        )
