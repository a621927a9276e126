"""Database engine with safe defaults for embedded SQLite and for server databases."""

from __future__ import annotations

import contextlib
import mmap
import os
import sqlite3
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page size of a new SQLite database (an existing one keeps its own). Every commit writes each
# page it changed into the WAL, and a single event changes ~6 (the events table, its four indexes,
# the ingest counts): at 2,048 bytes instead of SQLite's 4,096, single-event ingest through gunicorn
# served 3 % more requests a second (interleaved A/B, 8 rounds, 7 better), while 10,000-event
# batches and reading 500,000 events back into a frame took the same time.
SQLITE_PAGE_SIZE = 2_048
# The WalCheckpointer thread copies the WAL back into the database off the write lock, and starts it
# over once it holds this many bytes (SQLite's own writers checkpoint at 1,000 pages) …
WAL_RESTART_BYTES = 128 * 1024 * 1024
# … and writers do it themselves only past this, should the thread fall behind.
WAL_BACKSTOP_BYTES = 2 * WAL_RESTART_BYTES
# Page cache of the connection a process's group committer writes through (SQLite's default: 2 MB).
WRITER_CACHE_KIB = 65_536
# How a process waiting for another's writer gate polls it (see WriterGate). Under a stream of
# single events, steps of 0.1 doubling to 1 ms overslept the other worker's release: 2-4 % fewer
# requests a second (interleaved A/B under gunicorn, 22 rounds), and dips in some rounds.
GATE_POLL_FIRST_S = 0.000_02
GATE_POLL_SHORT_MAX_S = 0.000_2
GATE_LONG_WAIT_S = 0.005
GATE_POLL_LONG_S = 0.001
# Things the writers of one SQLite database count changes of, in the writer gate's file (mapped
# into every process's memory; WriterGate.change_count): a process's copy of them is current while
# the count it was read at is. Read and counted only while holding the gate, so a count changes
# only with the transaction that makes the change.
CHANGE_COUNTERS = ("suppressions",)
# PostgreSQL advisory locks taken by serialize() live in this namespace (first key of the pair).
ADVISORY_NAMESPACE = 0x5050  # "PP"


# This process's id, kept current by a fork hook: os.getpid() is a system call, and the writer
# gate and the WAL checkpointer each asked for it on every write (forked gunicorn workers included).
_process_id = os.getpid()


def _note_fork() -> None:
    global _process_id
    _process_id = os.getpid()


os.register_at_fork(after_in_child=_note_fork)


def normalise_url(url: str) -> str:
    """``postgresql://…`` means psycopg 3 (SQLAlchemy's default for the bare scheme is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, busy_timeout_ms: int | None = None) -> Engine:
    """Create an engine for ``url``; ``busy_timeout_ms``: how long a statement waits for a lock.

    That is SQLite's busy timeout (30 s when not given) and PostgreSQL's ``lock_timeout`` (no limit
    when not given, as PostgreSQL's default); past it the statement fails with an
    ``OperationalError``, which the service answers with 503 and Retry-After.

    SQLite gets WAL (readers never block the writer), a busy timeout (several gunicorn workers wait for
    the write lock instead of failing) and ``BEGIN IMMEDIATE`` for write transactions, so two writers
    never deadlock upgrading a read lock.

    PostgreSQL (psycopg 3) runs at READ COMMITTED with concurrent writers; the few read-then-write
    paths that relied on SQLite's single writer take a named lock with :func:`serialize`.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {}
        if busy_timeout_ms is not None and parsed.get_backend_name() == "postgresql":
            # Row locks and serialize()'s advisory locks alike; kept beside options in the URL.
            given = parsed.query.get("options")
            given = " ".join(given) if isinstance(given, tuple) else given
            lock_timeout = f"-c lock_timeout={int(busy_timeout_ms)}"
            connect_args["options"] = f"{given} {lock_timeout}" if given else lock_timeout
        return create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args)

    busy_timeout_ms = SQLITE_BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms

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
        # Before anything else: SQLite takes it only while the file is empty (and never in WAL mode).
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_BYTES // page_size}")
        # After a burst past the restart size, the WAL file shrinks back to it once started over.
        cursor.execute(f"PRAGMA journal_size_limit={WAL_RESTART_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight on the driver: SQLAlchemy's statement machinery costs more than the BEGIN.
        driver = connection.connection.driver_connection
        if driver.in_transaction:
            # The group committer's own BEGIN IMMEDIATE (see _driver_transaction): a statement run
            # through SQLAlchemy inside it joins it.
            return
        statement = (
            "BEGIN IMMEDIATE" if connection.get_execution_options().get("write") else "BEGIN"
        )
        try:
            driver.execute(statement)
        except sqlite3.OperationalError as exc:
            # Raised as SQLAlchemy's own error, as every other statement's is, so the service's
            # handler sees one type ("database is locked" -> 503).
            raise OperationalError(statement, None, exc) from exc

    if database and database != ":memory:":
        gate = None
        if fcntl is not None:
            gate = WriterGate(f"{database}.writelock", timeout_s=busy_timeout_ms / 1000)
            engine.info_writer_gate = gate  # type: ignore[attr-defined]
        checkpointer = WalCheckpointer(database, gate=gate)
        engine.info_wal_checkpointer = checkpointer  # type: ignore[attr-defined]
        # An engine dropped without dispose() must not leave its thread polling forever.
        weakref.finalize(engine, checkpointer.stop, wait=False)
    return engine


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database file from a background thread.

    By default the writer whose commit takes the WAL past 1,000 pages does this itself, in its
    commit: it copies every page and fsyncs the database while still holding the write lock, so on
    this project's 2-core machine an average commit held the lock 250 µs instead of 85 (every
    other writer, in any worker, waits meanwhile). Here a thread per writing process runs SQLite's
    PASSIVE checkpoint, which waits for no reader or writer, every ``busy_pause_s`` while the WAL
    grows and every ``idle_pause_s`` otherwise.

    A passive checkpoint never finishes while writers keep appending, and SQLite starts the WAL
    over only after one has: under a steady stream of batches it grew to 286 MB in a minute. So
    once the WAL holds ``restart_pages`` (by default :data:`WAL_RESTART_BYTES` of the database's
    pages) the thread takes the writer gate (writers of every worker wait there, ~100 ms: the
    pages not yet copied and an fsync) and runs a RESTART checkpoint,
    after which the next write starts the WAL from its beginning (restarting at 8,192 pages
    instead gave 29,000 events/s of sustained batches against 58,500 in one run each on the 2-core
    machine). Writers still checkpoint past :data:`WAL_BACKSTOP_BYTES`, in case this thread falls
    behind. The thread starts with a process's first write (so a forked gunicorn worker starts its
    own) and stops with :meth:`stop`.
    """

    def __init__(
        self,
        path: str,
        *,
        gate: WriterGate | None = None,
        busy_pause_s: float = 0.05,
        idle_pause_s: float = 0.5,
        restart_pages: int | None = None,
        restart_wait_ms: int = 200,
        restart_backoff_s: float = 2.0,
    ) -> None:
        self.path = path
        self.gate = gate
        self.busy_pause_s = busy_pause_s
        self.idle_pause_s = idle_pause_s
        self.restart_pages = restart_pages
        self.restart_wait_ms = restart_wait_ms
        self.restart_backoff_s = restart_backoff_s
        self._next_restart = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = 0
        # Passes that copied pages, and WAL restarts (read by tests and benchmarks).
        self.checkpoints = 0
        self.restarts = 0

    def ensure_running(self) -> None:
        if self._pid == _process_id:
            return
        with self._lock:
            if self._pid == _process_id:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="pp-wal-checkpoint", daemon=True
            )
            self._pid = _process_id
            self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
            running_here = self._pid == _process_id
            self._pid = 0
        if wait and thread is not None and running_here:
            thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            # How long a RESTART waits for readers still on the old WAL (then it is tried again).
            connection.execute(f"PRAGMA busy_timeout={int(self.restart_wait_ms)}")
            last: tuple[int, int] | None = None
            pause = self.idle_pause_s
            while not stop.wait(pause):
                try:
                    _busy, wal_pages, copied = connection.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    if (
                        wal_pages
                        and wal_pages >= self._restart_threshold(connection)
                        and time.monotonic() >= self._next_restart
                    ):
                        self._restart(connection)
                except (sqlite3.Error, OperationalError):
                    pause = self.idle_pause_s  # e.g. the file is gone; writers still checkpoint
                    continue
                grew = (wal_pages, copied) != last
                last = (wal_pages, copied)
                if grew and copied > 0:
                    self.checkpoints += 1
                pause = self.busy_pause_s if grew else self.idle_pause_s
        finally:
            connection.close()

    def _restart_threshold(self, connection: sqlite3.Connection) -> int:
        if self.restart_pages is None:
            # Asked once the WAL holds pages: the file then has its header, and its page size
            # (before, SQLite would answer its default).
            connection.execute("PRAGMA schema_version").fetchone()
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            self.restart_pages = WAL_RESTART_BYTES // page_size
        return self.restart_pages

    def checkpoint_at_gate(self, connection: sqlite3.Connection, mode: str) -> bool:
        """A RESTART or TRUNCATE checkpoint with writers held at the gate; False if a reader kept
        the WAL past the connection's busy timeout."""
        if self.gate is not None:
            self.gate.acquire(before_writers=True)
        try:
            busy, _, _ = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            if self.gate is not None:
                self.gate.release()
        return busy == 0

    def _restart(self, connection: sqlite3.Connection) -> None:
        if not self.checkpoint_at_gate(connection, "RESTART"):
            # A reader kept the old WAL: writers waited restart_wait_ms for nothing; not again soon.
            self._next_restart = time.monotonic() + self.restart_backoff_s
        else:
            self.restarts += 1


def truncate_wal(engine: Engine, *, wait_ms: int = 1_000) -> bool | None:
    """Checkpoint the whole WAL into the database file and empty the WAL (SQLite; None elsewhere).

    After an erasure the WAL still holds the pages as they were before (the person's rows among
    them) until its frames are overwritten; a TRUNCATE checkpoint writes the current pages into the
    database file and cuts the WAL to zero bytes. Writers wait at the gate meanwhile. False when a
    reader still on an older snapshot held it past ``wait_ms``.
    """
    checkpointer: WalCheckpointer | None = getattr(engine, "info_wal_checkpointer", None)
    if checkpointer is None:
        return None
    connection = sqlite3.connect(checkpointer.path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        return checkpointer.checkpoint_at_gate(connection, "TRUNCATE")
    finally:
        connection.close()


def _locked() -> OperationalError:
    """What SQLAlchemy raises when SQLite's busy timeout runs out, so callers handle one error."""
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


class WriterGate:
    """Writers of one SQLite file take turns here before ``BEGIN IMMEDIATE`` (SQLite only).

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5,
    10 … ms between tries, so under a stream of short write transactions from several threads and
    gunicorn workers most of the time goes to sleeping while the lock is free. Here the threads of a
    process queue on a lock (woken the moment it is released) and the processes on an advisory
    ``flock`` of a side file, polled by at most one thread per process: in steps from 20 to 200 µs
    (a group of single events holds the gate ~100–150 µs), and every millisecond once a wait has
    passed 5 ms (a large batch or a WAL restart holds it for tens to hundreds of milliseconds).
    SQLite's own locking still guards the data (anything that skips the gate, such as the sqlite3
    shell, is handled by the busy timeout as before). Waiting is bounded by the same busy timeout,
    after which SQLAlchemy's ``OperationalError`` ("database is locked") is raised, as SQLite's would be.
    """

    def __init__(self, path: str, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._fd_pid = 0
        self._counters: mmap.mmap | None = None
        self._owner: int | None = None
        # Set while the WAL restart waits for the gate: a thread lock is not fair, and a writer
        # re-taking it the moment it let go could otherwise keep the restart out indefinitely.
        self._restart_waiting = threading.Event()

    def _file(self) -> int:
        # A forked worker must not share the parent's open file: flock is per open file.
        if self._fd is None or self._fd_pid != _process_id:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = _process_id
        return self._fd

    def _counter_map(self) -> mmap.mmap:
        # A forked worker may keep its parent's mapping: it is of the same shared page.
        if self._counters is None:
            fd = self._file()
            size = 8 * len(CHANGE_COUNTERS)
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)  # zeros; a second process doing the same changes nothing
            # Shared: every process maps the same page. (The file only ever grows: cutting it
            # shorter under a running worker would fault its next read.)
            self._counters = mmap.mmap(fd, size)
        return self._counters

    def change_count(self, name: str) -> int:
        """How many times ``name`` changed (see :data:`CHANGE_COUNTERS`); read it holding the gate."""
        slot = 8 * CHANGE_COUNTERS.index(name)
        return int.from_bytes(self._counter_map()[slot : slot + 8], "little")

    def count_change(self, name: str) -> None:
        """Count a change of ``name``; call it holding the gate, in the transaction that changes it."""
        slot = 8 * CHANGE_COUNTERS.index(name)
        following = (self.change_count(name) + 1) % 2**64
        self._counter_map()[slot : slot + 8] = following.to_bytes(8, "little")

    def acquire(self, *, before_writers: bool = False) -> None:
        """Take the gate; ``before_writers``: writers arriving meanwhile wait until it is taken
        (for the WAL restart, which a steady writer would otherwise starve)."""
        deadline = time.monotonic() + self.timeout_s
        if before_writers:
            self._restart_waiting.set()
        elif self._owner != threading.get_ident():
            while self._restart_waiting.is_set() and time.monotonic() < deadline:
                time.sleep(0.0005)
        try:
            if not self._thread_lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
                raise _locked()
        finally:
            if before_writers:
                self._restart_waiting.clear()
        self._owner = threading.get_ident()
        self._depth += 1
        if self._depth > 1:
            return  # nested in this thread: the file lock is already ours
        try:
            fd = self._file()
            pause, started = GATE_POLL_FIRST_S, time.monotonic()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    now = time.monotonic()
                    if now > deadline:
                        raise _locked() from None
                    time.sleep(pause)
                    pause = (
                        GATE_POLL_LONG_S
                        if now - started > GATE_LONG_WAIT_S
                        else min(pause * 2, GATE_POLL_SHORT_MAX_S)
                    )
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
            self._thread_lock.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def _start_checkpointer(engine: Engine) -> None:
    checkpointer: WalCheckpointer | None = getattr(engine, "info_wal_checkpointer", None)
    if checkpointer is not None:
        checkpointer.ensure_running()


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the write lock up front (SQLite) and commits or rolls back whole."""
    _start_checkpointer(engine)
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


class _Pending:
    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[Connection], Any]) -> None:
        self.work = work
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


def _driver_execute(connection: Connection, sql: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _write_transaction_of(connection: Connection) -> contextlib.AbstractContextManager:
    if connection.dialect.name == "sqlite":
        return _driver_transaction(connection)
    return connection.begin()


@contextlib.contextmanager
def _driver_transaction(connection: Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT on the SQLite driver, under the SQLAlchemy connection.

    SQLAlchemy's Transaction object and its events cost as much again as an empty SQLite write
    transaction (12 µs against 6 a group, measured on the kept connection); group commits run
    mostly driver-level statements. A SQLAlchemy statement inside still works: it auto-begins
    SQLAlchemy's transaction, whose BEGIN joins this one (``_on_begin``), and that transaction is
    the one committed or rolled back here. Driver errors are raised as SQLAlchemy's, as before.
    """
    driver = connection.connection.driver_connection
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise _as_sqlalchemy_error("BEGIN IMMEDIATE", exc) from exc
    try:
        yield
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        elif driver.in_transaction:
            driver.rollback()
        raise
    if connection.in_transaction():
        connection.commit()
        return
    try:
        driver.commit()
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            driver.rollback()
        raise _as_sqlalchemy_error("COMMIT", exc) from exc


def _as_sqlalchemy_error(statement: str, exc: sqlite3.Error) -> DBAPIError:
    # SQLAlchemy's class of the same name (OperationalError -> 503 "database is locked" …).
    return DBAPIError.instance(statement, None, exc, sqlite3.Error)


class GroupCommit:
    """Group commit: write units queued by a process's threads share one transaction and commit.

    A thread queues its unit, then waits for the leader lock; whoever holds it runs every queued
    unit in one write transaction, each inside its own savepoint (a unit that fails is rolled back
    alone and its caller gets the exception), and commits once. Callers return only after the
    commit that holds their unit, so an answer given after ``run`` still means "stored". Under
    concurrent single-item requests this pays one BEGIN, one COMMIT (one WAL write) and one
    connection checkout for several requests instead of one each.
    """

    MAX_GROUP = 64

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        self._connection_kept: Connection | None = None

    def run(self, work: Callable[[Connection], Any]) -> Any:
        pending = _Pending(work)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done:
            with self._leader:
                if pending.done:
                    break
                self._run_group()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _connection(self) -> Connection:
        # SQLite: the leader keeps one connection across groups (no pool round trip per group).
        # A server database checks one out per group, so the pool's pre-ping sees a dropped link.
        connection = self._connection_kept
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect().execution_options(write=True)
            if self.engine.dialect.name == "sqlite":
                # Ingestion's inserts walk the events table's indexes; SQLite's default 2 MB page
                # cache stops holding them at a few hundred thousand events. Only this connection
                # (one a process) gets the larger cache; pages are allocated as they are read.
                _driver_execute(connection, f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
                self._connection_kept = connection
        return connection

    def _take_group(self) -> list[_Pending]:
        with self._queue_lock:
            group = self._queue[: self.MAX_GROUP]
            del self._queue[: self.MAX_GROUP]
        return group

    def _run_group(self) -> None:
        gate: WriterGate | None = getattr(self.engine, "info_writer_gate", None)
        if gate is not None:
            # The group is taken once the file lock is ours, not before: units queued while another
            # process held the lock join this transaction instead of waiting for the next one.
            try:
                gate.acquire()
            except BaseException as exc:  # noqa: BLE001 - timed out: the queued units fail with it
                for pending in self._take_group():
                    pending.error = exc
                    pending.done = True
                return
        group = self._take_group()
        try:
            connection = self._connection()
            try:
                with _write_transaction_of(connection):
                    if len(group) == 1:
                        group[0].result = group[0].work(connection)
                    else:
                        self._run_units(connection, group)
            except BaseException:
                # Whatever failed, start the next group on a fresh connection. This one goes back
                # to the pool with SQLite's default page cache: the large one is the committer's.
                self._connection_kept = None
                with contextlib.suppress(Exception):
                    if self.engine.dialect.name == "sqlite":
                        _driver_execute(connection, "PRAGMA cache_size=-2000")
                with contextlib.suppress(Exception):
                    connection.close()
                raise
            if connection is not self._connection_kept:
                connection.close()
        except BaseException as exc:  # noqa: BLE001 - nothing of the group was committed
            for pending in group:
                if pending.error is None:
                    pending.error = exc
                    pending.result = None
        finally:
            if gate is not None:
                gate.release()
            for pending in group:
                pending.done = True

    @staticmethod
    def _run_units(connection: Connection, group: list[_Pending]) -> None:
        for pending in group:
            _driver_execute(connection, "SAVEPOINT pp_unit")
            try:
                pending.result = pending.work(connection)
            except BaseException as exc:  # noqa: BLE001 - handed to its caller
                _driver_execute(connection, "ROLLBACK TO SAVEPOINT pp_unit")
                pending.error = exc
            _driver_execute(connection, "RELEASE SAVEPOINT pp_unit")


_per_engine_lock = threading.Lock()


def per_engine(engine: Engine, name: str, factory: Callable[[], Any]) -> Any:
    """The object this process keeps on ``engine`` under ``name``, made by ``factory`` on first use
    (once, however many threads ask at the same moment)."""
    found = getattr(engine, name, None)
    if found is None:
        with _per_engine_lock:
            found = getattr(engine, name, None)
            if found is None:
                found = factory()
                setattr(engine, name, found)
    return found


def run_in_write_group(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    """Run ``work(connection)`` in a write transaction shared with concurrent callers (see
    :class:`GroupCommit`); returns its result once committed, or raises what it (or the commit)
    raised. ``work`` must not open transactions of its own."""
    _start_checkpointer(engine)
    committer: GroupCommit = per_engine(engine, "info_group_commit", lambda: GroupCommit(engine))
    return committer.run(work)


def close_write_group(engine: Engine) -> None:
    """Close the connection the group committer keeps and stop this process's WAL checkpointer
    (call before disposing of the engine)."""
    checkpointer: WalCheckpointer | None = getattr(engine, "info_wal_checkpointer", None)
    if checkpointer is not None:
        checkpointer.stop()
    committer: GroupCommit | None = getattr(engine, "info_group_commit", None)
    if committer is not None:
        with committer._leader:
            connection, committer._connection_kept = committer._connection_kept, None
            if connection is not None:
                connection.close()
