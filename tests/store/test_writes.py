"""Event rows are prepared without the database, then stored in the caller's transaction."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from personapulse.store import Store, write_transaction
from personapulse.store.schema import FLAG_FUTURE_TIMESTAMP, FLAG_MISSING_TIMESTAMP
from personapulse.store.writes import _bulk_insert_ignore, prepare_events, store_events

RECEIVED_MS = int(datetime(2026, 11, 1, 12, tzinfo=UTC).timestamp() * 1000)


def _event(event_id: str, **fields) -> dict:
    return {
        "event_id": event_id,
        "source_format": "segment",
        "type": "track",
        "event": "Viewed",
        "timestamp": datetime(2026, 11, 1, 10, tzinfo=UTC),
        **fields,
    }


def test_prepare_events_is_pure_and_counts_what_the_batch_itself_says():
    items = [
        _event("e1", user_id="ann", anonymous_id="a-1", traits={"plan": "pro"}),
        _event("e1", user_id="ann"),  # repeated within the batch
        _event("e2", user_id="ann", timestamp=datetime(2026, 11, 1, 9, tzinfo=UTC)),
        _event("e3", anonymous_id="a-2", timestamp=None),
        _event("e4", user_id="bob", timestamp=datetime(2027, 1, 1, tzinfo=UTC)),
        _event("e5", type="alias", user_id="carl", previous_id="ann"),
    ]
    before = copy.deepcopy(items)
    prepared = prepare_events(items, received_ms=RECEIVED_MS, future_tolerance_ms=60_000)
    assert items == before
    assert prepared.positions == [0, 2, 3, 4, 5]
    assert prepared.repeated_in_batch == 1
    assert prepared.flagged == 2
    flags = {row[0]: row[-2] for row in prepared.rows}
    assert flags["e3"] == FLAG_MISSING_TIMESTAMP and flags["e4"] == FLAG_FUTURE_TIMESTAMP
    assert prepared.first_seen["ann"] == int(
        datetime(2026, 11, 1, 9, tzinfo=UTC).timestamp() * 1000
    )
    assert prepared.anonymous_links == {"a-1": "ann"}
    assert prepared.aliases == [("ann", "carl")]
    assert prepared.traits == {"ann": {"plan": "pro"}}


def test_stored_prepared_events_dedupe_against_earlier_batches(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'writes.sqlite'}")
    store.migrate()
    try:
        first = prepare_events(
            [_event("e1", user_id="ann"), _event("e2", user_id="ann")],
            received_ms=RECEIVED_MS,
            future_tolerance_ms=60_000,
        )
        again = prepare_events(
            [_event("e2", user_id="ann"), _event("e3", user_id="ann"), _event("e3")],
            received_ms=RECEIVED_MS,
            future_tolerance_ms=60_000,
        )
        with write_transaction(store.engine) as conn:
            counts = store_events(conn, first, received_ms=RECEIVED_MS)
        assert (counts.accepted, counts.duplicate) == (2, 0)
        with write_transaction(store.engine) as conn:
            counts = store_events(conn, again, received_ms=RECEIVED_MS)
        assert (counts.accepted, counts.duplicate) == (1, 2)
        with store.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT event_id FROM events ORDER BY event_id").all()
            users = conn.exec_driver_sql("SELECT user_id FROM users").all()
        assert [row[0] for row in stored] == ["e1", "e2", "e3"]
        assert [row[0] for row in users] == ["ann"]
    finally:
        store.dispose()


def test_columns_null_in_every_row_are_left_out_and_stored_as_null(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'nulls.sqlite'}")
    try:
        with write_transaction(store.engine) as conn:
            conn.exec_driver_sql("CREATE TABLE t (k TEXT PRIMARY KEY, a TEXT, b INTEGER)")
            # b is NULL in every row (left out); a in one row only (kept, bound as NULL there).
            assert (
                _bulk_insert_ignore(
                    conn, "t", ("k", "a", "b"), [("x", "1", None), ("y", None, None)]
                )
                == 2
            )
            # Only the key left: one column, and a repeated key is skipped as before.
            assert (
                _bulk_insert_ignore(
                    conn, "t", ("k", "a", "b"), [("z", None, None), ("x", None, None)]
                )
                == 1
            )
            assert _bulk_insert_ignore(conn, "t", ("k", "a", "b"), [("w", "", 0)]) == 1
            # One row (a single event's request) takes its own path: the same columns go.
            assert _bulk_insert_ignore(conn, "t", ("k", "a", "b"), [("v", None, 7)]) == 1
            assert _bulk_insert_ignore(conn, "t", ("k", "a", "b"), [("u", None, None)]) == 1
            assert _bulk_insert_ignore(conn, "t", ("k", "a", "b"), [("u", "2", None)]) == 0
            rows = conn.exec_driver_sql("SELECT k, a, b FROM t ORDER BY k").all()
        assert [tuple(row) for row in rows] == [
            ("u", None, None),
            ("v", None, 7),
            ("w", "", 0),  # empty and zero are values, not NULL: kept
            ("x", "1", None),
            ("y", None, None),
            ("z", None, None),
        ]
    finally:
        store.dispose()


def test_no_column_has_a_server_default(tmp_path):
    """Inserts leave out all-NULL columns; a server default would then store it instead of NULL."""
    store = Store(f"sqlite:///{tmp_path / 'schema.sqlite'}")
    store.migrate()
    try:
        with store.engine.connect() as conn:
            tables = [
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            ]
            defaults = {
                (table, column[1]): column[4]
                for table in tables
                for column in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')
                if column[4] is not None
            }
        assert "events" in tables
        assert defaults == {}
    finally:
        store.dispose()
