"""The data-quality history: counts per minute for every request, a log of the requests worth a look.

Revision 0007: one ingest_log row per request made the log outgrow the data it described.
"""

from __future__ import annotations

import orjson
import pytest
from alembic import command
from sqlalchemy import select, text

from personapulse.store import Store, write_transaction
from personapulse.store import writes as store_writes
from personapulse.store.schema import ingest_counts, ingest_log
from tests import databases

pytestmark = pytest.mark.store


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The samplers of the test's store read a clock the test moves."""
    fake = _Clock()
    monkeypatch.setattr(store_writes, "_sampler_clock", fake)
    return fake


def _event(i: int, **properties) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"u{i}",
        "messageId": f"m{i}",
        "timestamp": "2026-11-01T10:00:00Z",
        "properties": properties,
    }


def _rows(store, table) -> list:
    with store.engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_single_event_requests_are_counted_per_minute_and_their_field_sets_sampled(
    client, auth, store, clock
):
    for i in range(5):
        assert (
            client.post("/v1/events", json=_event(i, revenue=10), headers=auth).status_code == 200
        )
    assert client.post("/v1/events", json=_event(0), headers=auth).json["duplicate"] == 1
    assert client.post("/v1/events", json={"type": "track"}, headers=auth).status_code == 422

    counts = {
        row.source: (row.kind, row.requests, row.accepted, row.duplicate, row.rejected)
        for row in _rows(store, ingest_counts)
    }
    # One row a minute, kind and source; a request with no valid item has none ("api").
    assert counts == {"segment": ("events", 6, 5, 1, 0), "api": ("events", 1, 0, 0, 1)}
    assert {row.bucket_ms % 60_000 for row in _rows(store, ingest_counts)} == {0}

    # Logged: the first request (its field sets) and the one with a rejected item (its reasons).
    log = _rows(store, ingest_log)
    assert len(log) == 2
    sampled = [row for row in log if row.field_sets]
    assert len(sampled) == 1 and orjson.loads(sampled[0].field_sets)["Order Completed"]["_n"] == 1
    assert [row.rejected for row in log if row.reject_reasons] == [1]

    # The next sample stands for itself and the segment requests skipped since the last (5).
    clock.now += store_writes.FIELD_SET_SAMPLE_SECONDS
    client.post("/v1/events", json=_event(9, revenue=10), headers=auth)
    newest = max(_rows(store, ingest_log), key=lambda row: row.id)
    presence = orjson.loads(newest.field_sets)["Order Completed"]
    assert presence["_n"] == 6 and presence["properties.revenue"] == 6


def test_batches_always_carry_their_field_sets(client, auth, store, clock):
    batch = [_event(i, revenue=1) for i in range(3)]
    client.post("/v1/events", json=batch, headers=auth)
    client.post("/v1/events", json=[_event(i + 10) for i in range(3)], headers=auth)
    assert [
        orjson.loads(row.field_sets)["Order Completed"]["_n"] for row in _rows(store, ingest_log)
    ] == [3, 3]


def test_the_report_reads_counts_and_compares_sampled_single_events(client, auth, store, clock):
    for i in range(30):
        client.post("/v1/events", json=_event(i, revenue=10), headers=auth)
        mixpanel = {
            "event": "Order Completed",
            "properties": {"distinct_id": f"u{i}", "time": 1767225600, "$insert_id": f"x{i}"},
        }
        client.post("/v1/events", json=mixpanel, headers=auth)
        clock.now += 1  # a sample of each source every FIELD_SET_SAMPLE_SECONDS
    report = client.get("/v1/data-quality", headers=auth).json
    by_source = {(row["kind"], row["source"]): row["accepted"] for row in report["by_source"]}
    assert by_source == {("events", "mixpanel"): 30, ("events", "segment"): 30}
    assert len(_rows(store, ingest_log)) == 2 * 3  # 30 s of traffic: 3 samples a source
    fields = {(d["event"], d["field"]) for d in report["field_disagreements"]}
    assert ("Order Completed", "properties.revenue") in fields


def test_the_report_window_starts_with_the_minute_that_holds_its_start(store):
    from personapulse.store.quality import DAY_MS, data_quality_report

    at_ms = 100 * DAY_MS + 30_000  # half a minute into a minute
    with write_transaction(store.engine) as conn:
        for bucket_ms, accepted in ((99 * DAY_MS, 7), (99 * DAY_MS - 60_000, 100)):
            conn.execute(
                ingest_counts.insert().values(
                    bucket_ms=bucket_ms,
                    kind="events",
                    source="segment",
                    requests=1,
                    accepted=accepted,
                    duplicate=0,
                    rejected=0,
                    flagged=0,
                )
            )
    report = data_quality_report(store.engine, days=1, at_ms=at_ms)
    assert [row["accepted"] for row in report["by_source"]] == [7]


def test_the_migration_sums_the_old_log_into_minutes(tmp_path):
    url = databases.empty_database_url(tmp_path)
    store = Store(url)
    try:
        config = store.alembic_config()
        with write_transaction(store.engine) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0006_dynamic")
        with write_transaction(store.engine) as conn:
            for received_ms, accepted, rejected in (
                (60_000, 1, 0),
                (119_999, 2, 1),
                (120_000, 4, 0),
            ):
                conn.execute(
                    text(
                        "INSERT INTO ingest_log (kind, source, received_ms, accepted, duplicate,"
                        " rejected, flagged) VALUES ('events', 'segment', :r, :a, 1, :j, 0)"
                    ),
                    {"r": received_ms, "a": accepted, "j": rejected},
                )
        store.migrate()
        rows = sorted(
            (row.bucket_ms, row.requests, row.accepted, row.duplicate, row.rejected)
            for row in _rows(store, ingest_counts)
        )
        assert rows == [(60_000, 2, 3, 2, 1), (120_000, 1, 4, 1, 0)]
        assert len(_rows(store, ingest_log)) == 3  # kept: their field sets and reasons
    finally:
        store.dispose()
        databases.drop_database(url)


def test_refused_single_item_requests_are_sampled_and_their_reasons_weighted(
    client, auth, store, clock
):
    """A sender whose every request is refused no longer writes a log row per request."""
    bad = {"type": "track", "userId": "u1"}  # no event name
    for _ in range(5):
        assert client.post("/v1/events", json=bad, headers=auth).status_code == 422
    assert len(_rows(store, ingest_log)) == 1
    clock.now += store_writes.FIELD_SET_SAMPLE_SECONDS
    client.post("/v1/events", json=bad, headers=auth)
    # Batches keep every reason.
    client.post("/v1/events", json=[bad, bad], headers=auth)

    log = sorted(_rows(store, ingest_log), key=lambda row: row.id)
    assert [sum(orjson.loads(row.reject_reasons).values()) for row in log] == [1, 5, 2]
    report = client.get("/v1/data-quality", headers=auth).json
    assert report["rejected"]["events"]["count"] == 8  # exact: from ingest_counts
    assert sum(report["rejected"]["events"]["top_reasons"].values()) == 8
