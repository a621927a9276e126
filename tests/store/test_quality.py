"""The data-quality report's queries: what they read."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from personapulse.store.quality import FLAG_PARAMETERS, FLAGGED_COUNTS_SQL
from tests import databases

pytestmark = pytest.mark.store


@pytest.mark.skipif(databases.server_url() is not None, reason="SQLite's query plan")
def test_flagged_counts_read_the_partial_index_not_the_events_table(store):
    """Revision 0009: the report read the whole events table once per kind of flag."""
    with store.engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN QUERY PLAN " + FLAGGED_COUNTS_SQL), FLAG_PARAMETERS).all()
    details = " ".join(row[-1] for row in plan)
    assert "USING COVERING INDEX ix_events_flagged" in details, details


def test_the_flagged_counts_tell_the_flags_apart(client, auth, store):
    batch = [
        {"type": "track", "event": "x", "userId": "u", "messageId": f"m{i}",
         "timestamp": "2026-11-01T10:00:00Z"}
        for i in range(3)
    ] + [{"type": "track", "event": "x", "userId": "u", "messageId": "late"}]  # fmt: skip
    assert client.post("/v1/events", json=batch, headers=auth).json["flagged"] == 1
    with store.engine.connect() as conn:
        counts = conn.execute(text(FLAGGED_COUNTS_SQL), FLAG_PARAMETERS).one()
    assert tuple(counts) == (1, 0, 0)  # the one without a timestamp
