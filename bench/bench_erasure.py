"""What one erasure request costs, as a ratio against reading the same person (SQLite).

Loads a demo store (N users), refreshes personas and writes cards, subscribes a hook so events
leave outbox rows, then for each of P people (interview-shortlist members first: their ids are in
profiles and cards' evidence) times ``person_summary`` (the read of their events, reviews and
conversations; the baseline) and ``erase_person`` in the same run. Prints the median and max of
each and the ratio of medians; the whole write transaction is the time other writers wait.

``--heavy-events N`` also stores N events of one person (with as many of 500 others, through the
service layer in 10,000-event batches) and times erasing that person the same way.

Usage: python bench/bench_erasure.py [--users 2000] [--people 20] [--heavy-events 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.config import load_settings  # noqa: E402
from personapulse.demo import DemoConfig  # noqa: E402
from personapulse.services import narratives, outbound  # noqa: E402
from personapulse.services import personas as persona_service  # noqa: E402
from personapulse.services.demo_load import load_demo  # noqa: E402
from personapulse.services.erasure import erase_person  # noqa: E402
from personapulse.store import Store, read_connection  # noqa: E402
from personapulse.store.people import person_summary  # noqa: E402
from personapulse.store.schema import events  # noqa: E402


def _heavy_person(store: Store, settings: dict, count: int) -> dict:
    """Store ``count`` events of one person between as many of 500 others; time reading and
    erasing that person."""
    from personapulse.services.ingestion import ingest, parse

    for start in range(0, 2 * count, 10_000):
        batch = [
            {
                "type": "track",
                "event": "Product Viewed",
                "userId": "heavy-person" if i % 2 == 0 else f"neighbour-{i % 500}",
                "messageId": f"heavy-{i}",
                "timestamp": "2026-11-01T10:00:00Z",
                "properties": {"i": i},
            }
            for i in range(start, min(start + 10_000, 2 * count))
        ]
        ingest(
            store,
            "events",
            parse("events", batch, received_at=datetime.now(UTC)),
            settings=settings,
        )
    started = time.perf_counter()
    person_summary(store.engine, "heavy-person")
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    result = erase_person(store.engine, "heavy-person", requested_by="bench")
    erase_s = time.perf_counter() - started
    return {
        "events_erased": result.deleted["events"],
        "summary_read_ms": round(read_s * 1000, 1),
        "erase_ms": round(erase_s * 1000, 1),
        "erase_over_read": round(erase_s / read_s, 1),
        "wal_truncated": result.wal_truncated,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--heavy-events", type=int, default=0)
    args = parser.parse_args()
    folder = str(scratch_dir("pp-bench-erasure-"))
    store = Store(f"sqlite:///{folder}/pp.sqlite")
    store.migrate()
    settings = load_settings()
    started = time.perf_counter()
    load_demo(store, DemoConfig(users=args.users, seed=5), settings)
    outbound.subscribe(
        store.engine, "https://hooks.example.com/in", "review.classified", api_key_id=None
    )
    persona_service.refresh(store, {"k_max": 6, "bootstrap": 3})
    narratives.generate(store.engine, settings)
    with read_connection(store.engine) as conn:
        total_events = conn.execute(select(func.count()).select_from(events)).scalar()
    _, personas = persona_service.list_personas(store.engine)
    shortlisted = [e["person_id"] for p in personas for e in p["profile"]["interview_shortlist"]]
    people = [p for p in dict.fromkeys(shortlisted) if not p.startswith("anon:")][: args.people]
    setup_s = time.perf_counter() - started

    reads, erasures, deleted_events = [], [], []
    for person in people:
        t = time.perf_counter()
        person_summary(store.engine, person)
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = erase_person(store.engine, person, requested_by="bench")
        erasures.append(time.perf_counter() - t)
        deleted_events.append(result.deleted.get("events", 0))
    heavy = _heavy_person(store, settings, args.heavy_events) if args.heavy_events else None
    store.dispose()
    read_ms, erase_ms = statistics.median(reads) * 1000, statistics.median(erasures) * 1000
    print(
        json.dumps(
            {
                "users": args.users,
                "events": total_events,
                "people_erased": len(people),
                "setup_s": round(setup_s, 1),
                "events_per_person_median": statistics.median(deleted_events),
                "summary_read_ms_median": round(read_ms, 2),
                "erase_ms_median": round(erase_ms, 2),
                "erase_ms_max": round(max(erasures) * 1000, 2),
                "erase_over_read": round(erase_ms / read_ms, 1),
                "heavy_person": heavy,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
