"""Database engine with safe defaults for embedded SQLite and for server databases."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``.

    SQLite gets WAL (readers never block the writer), a busy timeout (several gunicorn workers wait for
    the write lock instead of failing) and ``BEGIN IMMEDIATE`` for write transactions, so two writers
    never deadlock upgrading a read lock.
    """
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
        # Straight on the driver: SQLAlchemy's statement machinery costs more than the BEGIN.
        driver = connection.connection.driver_connection
        if connection.get_execution_options().get("write"):
            driver.execute("BEGIN IMMEDIATE")
        else:
            driver.execute("BEGIN")

    if database and database != ":memory:" and fcntl is not None:
        engine.info_writer_gate = WriterGate(f"{database}.writelock")  # type: ignore[attr-defined]
    return engine


class WriterGate:
    """Writers of one SQLite file take turns here before ``BEGIN IMMEDIATE`` (SQLite only).

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5,
    10 … ms between tries, so under a stream of short write transactions from several threads and
    gunicorn workers most of the time goes to sleeping while the lock is free. Here the threads of a
    process queue on a lock (woken the moment it is released) and the processes on an advisory
    ``flock`` of a side file, polled at sub-millisecond steps by at most one thread per process.
    SQLite's own locking still guards the data (anything that skips the gate, such as the sqlite3
    shell, is handled by the busy timeout as before). Waiting is bounded by the same busy timeout,
    after which ``sqlite3.OperationalError("database is locked")`` is raised, as SQLite would.
    """

    def __init__(self, path: str, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._fd_pid = 0

    def _file(self) -> int:
        # A forked worker must not share the parent's open file: flock is per open file.
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        if not self._thread_lock.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        self._depth += 1
        if self._depth > 1:
            return  # nested in this thread: the file lock is already ours
        try:
            fd = self._file()
            pause = 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except BaseException:
            self._depth -= 1
            self._thread_lock.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the write lock up front (SQLite) and commits or rolls back whole."""
    gate: WriterGate | None = getattr(engine, "info_writer_gate", None)
    if gate is None:
        with engine.connect().execution_options(write=True) as connection, connection.begin():
            yield connection
        return
    gate.acquire()
    try:
        with engine.connect().execution_options(write=True) as connection, connection.begin():
            yield connection
    finally:
        gate.release()


@contextlib.contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (one transaction, so every query sees the same data)."""
    with engine.connect() as connection, connection.begin():
        yield connection
