"""Group commit and the writer gate: concurrent writers share a commit, fail alone, never wait blind."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from personapulse.store import Store
from personapulse.store.engine import GroupCommit, WriterGate


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'group.sqlite'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (k TEXT PRIMARY KEY)")
    yield store
    store.dispose()


def _insert(key: str, seen: list, gate: threading.Event | None = None, fail: bool = False):
    def work(conn):
        if gate is not None:
            gate.wait(5)
        conn.execute(text("INSERT INTO t (k) VALUES (:k)"), {"k": key})
        seen.append((key, conn.get_transaction()))
        if fail:
            raise ValueError(f"{key} refused")
        return key

    return work


def _stored(store) -> set[str]:
    with store.engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT k FROM t")}


def test_queued_units_share_one_transaction_and_a_failing_one_is_rolled_back_alone(store):
    committer = GroupCommit(store.engine)
    seen: list = []
    release = threading.Event()
    results: dict[str, object] = {}

    def call(key, **kwargs):
        try:
            results[key] = committer.run(_insert(key, seen, **kwargs))
        except ValueError as exc:
            results[key] = exc

    leader = threading.Thread(target=call, args=("a",), kwargs={"gate": release})
    leader.start()
    while not (committer._leader.locked() and not committer._queue):  # "a" is being run
        threading.Event().wait(0.005)
    followers = [
        threading.Thread(target=call, args=(key,), kwargs={"fail": key == "c"})
        for key in ("b", "c", "d")
    ]
    for thread in followers:
        thread.start()
    while len(committer._queue) < 3:  # b, c and d are queued behind the leader
        threading.Event().wait(0.01)
    release.set()
    for thread in [leader, *followers]:
        thread.join(10)

    assert results["a"] == "a" and results["b"] == "b" and results["d"] == "d"
    assert isinstance(results["c"], ValueError)
    assert _stored(store) == {"a", "b", "d"}  # c's row went with its savepoint
    transactions = {key: tx for key, tx in seen}
    assert transactions["b"] is transactions["c"] is transactions["d"]
    assert transactions["b"] is not transactions["a"]


def test_a_failing_unit_alone_is_rolled_back_and_the_committer_carries_on(store):
    committer = GroupCommit(store.engine)
    seen: list = []
    from sqlalchemy.exc import IntegrityError

    committer.run(_insert("x", seen))
    with pytest.raises(IntegrityError):
        committer.run(_insert("x", seen))  # same key: the unit (the whole group of one) fails
    assert _stored(store) == {"x"}
    # The committer carries on with a fresh connection.
    assert committer.run(_insert("y", seen)) == "y"
    assert _stored(store) == {"x", "y"}


def _driver_insert(key: str, fail: bool = False):
    # As ingestion writes: straight on the driver, no SQLAlchemy statement in the unit.
    def work(conn):
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("INSERT INTO t (k) VALUES (?)", (key,))
        cursor.close()
        if fail:
            raise ValueError(f"{key} refused")
        return key

    return work


def test_units_writing_on_the_driver_commit_and_roll_back_in_the_committers_transaction(store):
    committer = GroupCommit(store.engine)
    assert committer.run(_driver_insert("p")) == "p"
    with pytest.raises(ValueError):
        committer.run(_driver_insert("q", fail=True))
    assert _stored(store) == {"p"}  # q's insert went with its failed transaction
    connection = committer._connection()
    assert not connection.connection.driver_connection.in_transaction

    # A SQLAlchemy statement after driver-level ones joins the same transaction and commits with it.
    def mixed(conn):
        _driver_insert("r")(conn)
        conn.execute(text("INSERT INTO t (k) VALUES ('s')"))
        return "rs"

    assert committer.run(mixed) == "rs"
    assert _stored(store) == {"p", "r", "s"}
    assert not connection.in_transaction()


def test_a_commit_that_fails_is_raised_as_sqlalchemys_error_and_stores_nothing(store):
    from sqlalchemy.exc import IntegrityError

    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE child (k TEXT REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED)"
        )
    committer = GroupCommit(store.engine)

    def orphan(conn):
        # The foreign key is checked only at COMMIT: the commit itself fails.
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("INSERT INTO t (k) VALUES ('kept-out')")
        cursor.execute("INSERT INTO child (k) VALUES ('nobody')")
        cursor.close()

    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        committer.run(orphan)
    assert _stored(store) == set()
    assert committer.run(_driver_insert("after")) == "after"
    assert _stored(store) == {"after"}


def test_writer_gate_nests_in_one_thread_and_times_out_like_sqlite(tmp_path):
    gate = WriterGate(str(tmp_path / "db.writelock"), timeout_s=0.3)
    gate.acquire()
    gate.acquire()  # nested in the same thread: no self-deadlock
    gate.release()
    gate.release()

    # Another holder (a separate open file, as another process has) keeps the gate shut.
    other = os.open(gate.path, os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            gate.acquire()
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    gate.acquire()  # free again
    gate.release()


def test_a_process_waiting_for_the_gate_polls_briefly_then_every_millisecond(tmp_path, monkeypatch):
    """A group holds the gate ~0.1 ms: the waiter's first tries come within 20-200 µs; a long
    holder (a batch, a WAL restart) is then polled every millisecond, not hundreds of times."""
    from personapulse.store import engine as engine_module

    gate = WriterGate(str(tmp_path / "db.writelock"), timeout_s=5)
    other = os.open(gate.path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    real_sleep, pauses = engine_module.time.sleep, []

    def recording_sleep(seconds):
        if threading.current_thread() is threading.main_thread():
            pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(engine_module.time, "sleep", recording_sleep)
    releaser = threading.Timer(0.03, lambda: fcntl.flock(other, fcntl.LOCK_UN))
    releaser.start()
    try:
        started = time.monotonic()
        gate.acquire()  # waits ~30 ms for the other holder
        waited_ms = (time.monotonic() - started) * 1000
        gate.release()
    finally:
        releaser.join()
        os.close(other)
    assert pauses[:6] == pytest.approx([20e-6, 40e-6, 80e-6, 160e-6, 200e-6, 200e-6])
    assert set(pauses) <= {20e-6, 40e-6, 80e-6, 160e-6, 200e-6, 1e-3}
    # Past 5 ms of waiting, only millisecond pauses (at most one a millisecond of the wait).
    long_pauses = pauses.count(1e-3)
    assert pauses[-long_pauses:] == [1e-3] * long_pauses
    assert 1 <= long_pauses <= waited_ms - 5 + 1


def test_change_counts_are_shared_by_every_process_of_one_database(tmp_path):
    """A count made in another process is seen at once (the gate file's page is shared memory)."""
    gate = WriterGate(str(tmp_path / "db.writelock"))
    gate.acquire()
    assert gate.change_count("suppressions") == 0
    gate.release()

    child = os.fork()
    if child == 0:  # another worker: its own open file and its own mapping
        code = 1
        try:
            other = WriterGate(gate.path)
            other.acquire()
            other.count_change("suppressions")
            other.count_change("suppressions")
            other.release()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    gate.acquire()
    try:
        assert gate.change_count("suppressions") == 2
        gate.count_change("suppressions")
        assert WriterGate(gate.path).change_count("suppressions") == 3
    finally:
        gate.release()
    with pytest.raises(ValueError):
        gate.change_count("no such counter")


def test_a_forked_worker_opens_the_gate_file_again_instead_of_sharing_its_parents(tmp_path):
    """flock belongs to an open file: one inherited across fork would let both hold the gate."""
    gate = WriterGate(str(tmp_path / "db.writelock"))
    gate.acquire()
    try:
        parent_fd = gate._file()
        child = os.fork()
        if child == 0:
            code = 1
            try:
                fd = gate._file()  # the same object, inherited
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    code = 0 if fd != parent_fd else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        gate.release()


def test_writers_of_one_file_take_turns_through_the_gate(store):
    """Threads and a second engine (as a second gunicorn worker) all get their writes in."""
    from personapulse.store import write_transaction

    other = Store(store.url)
    errors: list[BaseException] = []

    def writer(engine, prefix):
        try:
            for i in range(40):
                with write_transaction(engine) as conn:
                    conn.execute(text("INSERT INTO t (k) VALUES (:k)"), {"k": f"{prefix}{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(engine, f"{n}-"))
        for n, engine in enumerate([store.engine, store.engine, other.engine, other.engine])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.dispose()
    assert not errors
    assert len(_stored(store)) == 160


def _hold_gate(store) -> int:
    """Hold the store's writer gate as another gunicorn worker would (its own open file)."""
    holder = os.open(store.engine.info_writer_gate.path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    return holder


def _release_gate(holder: int) -> None:
    fcntl.flock(holder, fcntl.LOCK_UN)
    os.close(holder)


def _start_writers(committer, keys, seen, results):
    def call(key):
        try:
            results[key] = committer.run(_insert(key, seen))
        except OperationalError as exc:
            results[key] = exc

    threads = [threading.Thread(target=call, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    return threads


def test_units_queued_while_another_process_writes_join_the_next_group(store):
    committer = GroupCommit(store.engine)
    seen: list = []
    results: dict[str, object] = {}
    holder = _hold_gate(store)
    try:
        threads = _start_writers(committer, ("a", "b", "c"), seen, results)
        # All three wait: one as leader at the gate, two behind it (bounded: the old order, which
        # took the group before the gate, never has all three queued).
        for _ in range(200):
            if len(committer._queue) == 3:
                break
            threading.Event().wait(0.01)
    finally:
        _release_gate(holder)
    for thread in threads:
        thread.join(10)
    assert results == {"a": "a", "b": "b", "c": "c"}
    assert _stored(store) == {"a", "b", "c"}
    transactions = {key: tx for key, tx in seen}
    assert transactions["a"] is transactions["b"] is transactions["c"]  # one commit for all three


def test_a_gate_that_stays_shut_fails_every_queued_unit_and_none_hangs(store):
    store.engine.info_writer_gate.timeout_s = 0.3
    committer = GroupCommit(store.engine)
    results: dict[str, object] = {}
    holder = _hold_gate(store)
    try:
        threads = _start_writers(committer, ("a", "b", "c"), [], results)
        for thread in threads:
            thread.join(10)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        _release_gate(holder)
    assert set(results) == {"a", "b", "c"}
    assert all(
        isinstance(error, OperationalError) and "database is locked" in str(error)
        for error in results.values()
    )
    assert _stored(store) == set()
    assert committer.run(_insert("d", [])) == "d"  # the gate is free again: writes go on


def test_the_group_committer_writes_through_one_connection_with_a_large_cache(store):
    from personapulse.store.engine import WRITER_CACHE_KIB, run_in_write_group

    def cache_size(conn):
        return conn.exec_driver_sql("PRAGMA cache_size").scalar()

    assert run_in_write_group(store.engine, cache_size) == -WRITER_CACHE_KIB
    with store.engine.connect() as conn:  # other connections keep SQLite's default
        assert cache_size(conn) == -2000
