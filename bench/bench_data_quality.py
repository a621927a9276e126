"""The data-quality report at scale (SQLite): its flagged-event counts, old reads against new.

Stores N events (1 % flagged: without, or with a future or a pre-2000 timestamp) through the
service layer in 10,000-event batches, then times, in the same run, the report's flagged counts the
way it read them until revision 0009 (one pass over the events table per kind of flag) and the way
it reads them now (one pass over ``ix_events_flagged``), and the whole report.

Usage: python bench/bench_data_quality.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.config import load_settings  # noqa: E402
from personapulse.services.ingestion import ingest, parse  # noqa: E402
from personapulse.store import Store  # noqa: E402
from personapulse.store.quality import FLAG_PARAMETERS, FLAGGED_COUNTS_SQL, data_quality_report  # noqa: E402

# Until revision 0009: one count, so one pass over the events table, per kind of flag.
PER_FLAG_SQL = "SELECT COUNT(*) FROM events WHERE (flags & :flag) != 0"
TIMESTAMPS = ("2026-11-01T10:00:00Z", "2999-01-01T00:00:00Z", "1971-01-01T00:00:00Z", None)


def _event(i: int) -> dict:
    event = {
        "type": "track",
        "event": "Product Viewed",
        "userId": f"u{i % 20_000}",
        "messageId": f"m{i}",
        "properties": {"sku": f"kit-{i % 97}", "price": 12.5},
    }
    # Every hundredth event is flagged, cycling through the three flags.
    timestamp = TIMESTAMPS[0] if i % 100 else TIMESTAMPS[1 + (i // 100) % 3]
    if timestamp is not None:
        event["timestamp"] = timestamp
    return event


def _timed(function, repeats: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    store = Store(f"sqlite:///{scratch_dir('pp-dq-') / 'pp.sqlite'}")
    store.migrate()
    settings = load_settings({"INCREMENTAL_UPDATES": False})
    for start in range(0, args.events, 10_000):
        batch = [_event(i) for i in range(start, min(start + 10_000, args.events))]
        received = datetime.now(UTC)
        ingest(
            store,
            "events",
            parse("events", batch, received_at=received),
            settings=settings,
            received_at=received,
        )

    with store.engine.connect() as conn:

        def old_counts():
            return tuple(
                conn.execute(text(PER_FLAG_SQL), {"flag": flag}).scalar()
                for flag in FLAG_PARAMETERS.values()
            )

        def new_counts():
            return tuple(conn.execute(text(FLAGGED_COUNTS_SQL), FLAG_PARAMETERS).one())

        old_seconds, old = _timed(old_counts)
        new_seconds, new = _timed(new_counts)
    assert old == new, (old, new)
    report_seconds, report = _timed(lambda: data_quality_report(store.engine), repeats=3)
    store.dispose()
    print(
        json.dumps(
            {
                "events": report["events"]["total"],
                "flagged_counts": dict(zip(FLAG_PARAMETERS, new, strict=True)),
                "per_flag_scans_ms": round(old_seconds * 1000, 1),
                "flagged_index_ms": round(new_seconds * 1000, 1),
                "speedup": round(old_seconds / new_seconds, 1),
                "report_ms": round(report_seconds * 1000, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
