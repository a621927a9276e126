"""SQLite's WAL is copied back by a background thread, off the write lock, and the thread ends."""

from __future__ import annotations

import gc
import sqlite3
import time

from sqlalchemy import text

from personapulse.store import Store, write_transaction
from personapulse.store.engine import (
    SQLITE_PAGE_SIZE,
    WAL_BACKSTOP_BYTES,
    WAL_RESTART_BYTES,
    make_engine,
    run_in_write_group,
)


def _store(tmp_path, name: str = "wal.sqlite", **checkpointer_settings) -> Store:
    store = Store(f"sqlite:///{tmp_path / name}")
    for setting, value in checkpointer_settings.items():  # before the thread starts
        setattr(store.engine.info_wal_checkpointer, setting, value)
    with write_transaction(store.engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    return store


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_writers_leave_checkpoints_to_the_thread(tmp_path):
    store = _store(tmp_path)
    checkpointer = store.engine.info_wal_checkpointer
    try:
        with store.engine.connect() as conn:
            # Writers checkpoint only past the backstop, not at SQLite's 1,000 pages.
            autocheckpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            assert autocheckpoint == WAL_BACKSTOP_BYTES // SQLITE_PAGE_SIZE
        for k in range(200):
            run_in_write_group(
                store.engine,
                lambda conn, k=k: conn.execute(
                    text("INSERT INTO t (k, v) VALUES (:k, :v)"), {"k": k, "v": "x" * 500}
                ),
            )
        assert _wait_for(lambda: checkpointer.checkpoints > 0)
        # Everything is in the database file: a new reader sees all of it once the WAL is gone.
        with store.engine.connect() as conn:
            busy, wal_pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            assert busy == 0 and copied == wal_pages
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 200
    finally:
        store.dispose()


def test_a_steady_stream_of_writes_still_restarts_the_wal(tmp_path):
    store = _store(tmp_path, restart_pages=64, idle_pause_s=0.01, busy_pause_s=0.01)
    checkpointer = store.engine.info_wal_checkpointer
    wal = tmp_path / "wal.sqlite-wal"

    def write(k: int) -> None:
        run_in_write_group(
            store.engine,
            lambda conn: conn.execute(
                text("INSERT INTO t (k, v) VALUES (:k, :v)"), {"k": k, "v": "x" * 2000}
            ),
        )

    try:
        # On a busy machine the thread may get its first turn late (a run beside two CPU-bound
        # processes: the WAL reached 3.9 MB first), so the stream runs until its first restart...
        written = 0
        while checkpointer.restarts == 0 and written < 20_000:
            write(written)
            written += 1
        assert checkpointer.restarts > 0, "no WAL restart during 20,000 writes"
        at_first_restart = wal.stat().st_size
        # ...then ~1,500 pages more: a WAL never started over again would grow by all (~6 MB).
        for k in range(written, written + 1500):
            write(k)
        assert wal.stat().st_size - at_first_restart < 3 * 2**20
        assert checkpointer.restarts > 1
    finally:
        store.dispose()


def test_a_reader_on_the_old_wal_delays_the_restart_not_the_writers(tmp_path):
    store = _store(
        tmp_path, restart_pages=16, restart_backoff_s=0.2, idle_pause_s=0.01, busy_pause_s=0.01
    )
    checkpointer = store.engine.info_wal_checkpointer
    reader = store.engine.connect()
    try:
        reader.begin()
        reader.exec_driver_sql("SELECT count(*) FROM t").scalar()  # holds its snapshot
        started = time.monotonic()
        for k in range(300):
            run_in_write_group(
                store.engine,
                lambda conn, k=k: conn.execute(
                    text("INSERT INTO t (k, v) VALUES (:k, :v)"), {"k": k, "v": "x" * 2000}
                ),
            )
        writing = time.monotonic() - started
        assert checkpointer.restarts == 0
        reader.rollback()
        assert _wait_for(lambda: checkpointer.restarts > 0)
        # Tries wait 200 ms at most, then back off: the writes were never stalled for long.
        assert writing < 5, writing
    finally:
        reader.close()
        store.dispose()


def test_dispose_stops_the_thread(tmp_path):
    store = _store(tmp_path)
    thread = store.engine.info_wal_checkpointer._thread
    assert thread is not None and thread.is_alive()
    store.dispose()
    assert not thread.is_alive()
    # A store used again after dispose starts a new one.
    with write_transaction(store.engine) as conn:
        conn.exec_driver_sql("INSERT INTO t (k) VALUES (1)")
    again = store.engine.info_wal_checkpointer._thread
    assert again is not None and again is not thread and again.is_alive()
    store.dispose()
    assert not again.is_alive()


def test_an_engine_dropped_without_dispose_lets_its_thread_end(tmp_path):
    store = _store(tmp_path)
    thread = store.engine.info_wal_checkpointer._thread
    assert thread.is_alive()
    del store
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_no_thread_without_a_write(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'read.sqlite'}")
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert store.engine.info_wal_checkpointer._thread is None
    finally:
        store.dispose()


def test_a_new_database_gets_the_small_page_size_and_wal_limits_in_bytes(tmp_path):
    store = _store(tmp_path)
    checkpointer = store.engine.info_wal_checkpointer
    try:
        run_in_write_group(
            store.engine, lambda conn: conn.execute(text("INSERT INTO t VALUES (1, 'x')"))
        )
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == WAL_RESTART_BYTES
        assert _wait_for(lambda: checkpointer.restart_pages is not None)
        assert checkpointer.restart_pages == WAL_RESTART_BYTES // SQLITE_PAGE_SIZE
    finally:
        store.dispose()


def test_an_existing_database_keeps_its_page_size_and_its_wal_limits_follow_it(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("PRAGMA page_size=4096")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    old.close()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            autocheckpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            assert autocheckpoint == WAL_BACKSTOP_BYTES // 4096
    finally:
        engine.info_wal_checkpointer.stop()
        engine.dispose()
