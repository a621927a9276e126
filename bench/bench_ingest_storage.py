"""What single-event ingestion leaves in SQLite besides the events: the data-quality history.

Sends N single-event requests (Segment track, one event each, as Segment's HTTP destination does)
through the Flask app in process, then reads each table's and index's size from SQLite's ``dbstat``.
Compare with the events table: until revision 0007 the ingest log took a row per request and outgrew
the events it described.

Usage: python bench/bench_ingest_storage.py [--requests 20500]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.store.keys import create_key  # noqa: E402
from webhooks import create_app  # noqa: E402

TABLES = ("events", "ingest_log", "ix_ingest_log_received", "ingest_counts")


def _body(i: int) -> bytes:
    return (
        b'{"type":"track","event":"Product Viewed","userId":"bench-%d","messageId":"m-%d",'
        b'"timestamp":"2026-11-01T10:00:00Z","properties":{"sku":"kit-%d","price":12.5},'
        b'"context":{"page":{"path":"/recipes/%d"},"campaign":{"source":"google","medium":"cpc"}}}'
        % (i % 5000, i, i % 97, i % 211)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_500)
    args = parser.parse_args()
    database = scratch_dir("pp-storage-") / "pp.sqlite"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "bench",
            "RATE_LIMIT_PER_SECOND": 10_000_000,
        }
    )
    _, token = create_key(app.extensions["personapulse.store"].engine, "bench", ("ingest",))
    client = app.test_client()
    statuses: set[int] = set()
    started = time.monotonic()
    for i in range(args.requests):
        body = _body(i)
        response = client.post(
            "/v1/events",
            data=body,
            headers={"X-API-Key": token, "Content-Type": "application/json"},
        )
        statuses.add(response.status_code)
    seconds = time.monotonic() - started

    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    present = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    sizes = {}
    for name in TABLES:
        if name not in present:
            continue
        (size,) = connection.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = ?", (name,)
        ).fetchone()
        rows = None  # an index: its size only
        if not name.startswith("ix_"):
            (rows,) = connection.execute(f"SELECT COUNT(*) FROM {name}").fetchone()
        sizes[name] = {"bytes": size or 0, "rows": rows}
    connection.close()
    print(
        json.dumps(
            {
                "requests": args.requests,
                "statuses": sorted(statuses),
                "seconds": round(seconds, 1),
                "tables": sizes,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
