"""SQLite's WAL is copied back by a background thread, off the write lock, and the thread ends."""

from __future__ import annotations

import gc
import time

from sqlalchemy import text

from personapulse.store import Store, write_transaction
from personapulse.store.engine import WAL_BACKSTOP_PAGES, run_in_write_group


def _store(tmp_path, name: str = "wal.sqlite") -> Store:
    store = Store(f"sqlite:///{tmp_path / name}")
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
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_BACKSTOP_PAGES
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
