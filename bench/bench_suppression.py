"""What the suppression list costs ingestion, as a ratio against the same ingestion without it.

In one process (SQLite, the service layer's ``ingest``), three stores hold an empty list, one of
``--entries`` / 100 ids and one of ``--entries`` ids (none of them the senders'). On each store,
rounds alternate between ingestion as it runs (the list checked in every write transaction, every
item's ids looked up once the list is not empty) and the baseline (the check replaced by "no list"),
each sending the same number of single-event requests and one 1,000-event batch. CPU time
(``time.process_time``) per event; prints the medians and each store's ratio checked / baseline.

Usage: python bench/bench_suppression.py [--rounds 7] [--singles 1500] [--entries 100000]
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

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.config import load_settings  # noqa: E402
from personapulse.services import ingestion, suppression  # noqa: E402
from personapulse.services.ingestion import ingest, parse  # noqa: E402
from personapulse.store import Store, write_transaction  # noqa: E402

SETTINGS = load_settings()
BATCH = 1_000


def _event(n: int, tag: str) -> dict:
    return {
        "type": "track",
        "event": "Product Viewed",
        "userId": f"sender-{n % 5000}",
        "anonymousId": f"visitor-{n % 7000}",
        "messageId": f"{tag}-{n}",
        "timestamp": "2026-11-01T10:00:00Z",
        "properties": {"sku": f"kit-{n % 97}", "price": 12.5},
    }


def _send(store: Store, payload) -> None:
    received = datetime.now(UTC)
    ingest(
        store,
        "events",
        parse("events", payload, received_at=received),
        settings=SETTINGS,
        received_at=received,
    )


def _cpu_per_event(store: Store, tag: str, singles: int, start: int) -> tuple[float, float]:
    began = time.process_time()
    for n in range(start, start + singles):
        _send(store, _event(n, tag))
    single = (time.process_time() - began) / singles
    batch = {"batch": [_event(n, tag + "b") for n in range(start, start + BATCH)]}
    began = time.process_time()
    _send(store, batch)
    return single, (time.process_time() - began) / BATCH


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--singles", type=int, default=1500)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    workdir = scratch_dir("pp-suppress-")
    sizes = {"empty": 0, "small": args.entries // 100, "large": args.entries}
    stores: dict[str, Store] = {}
    for name, size in sizes.items():
        store = Store(f"sqlite:///{workdir / name}.sqlite")
        store.migrate()
        if size:
            with write_transaction(store.engine) as conn:
                suppression.add(conn, (f"gone-{i}" for i in range(size)), created_by="bench")
        stores[name] = store

    checked = ingestion.current_matcher
    variants = {"checked": checked, "baseline": lambda conn: None}
    results = {
        (name, variant, kind): []
        for name in stores
        for variant in variants
        for kind in ("single", "batch")
    }
    sent = 0
    for round_number in range(args.rounds + 1):  # round 0 warms every store up
        # Alternate which variant goes first, so drift in the machine's speed hits both alike.
        order = list(variants) if round_number % 2 else list(reversed(variants))
        for name, store in stores.items():
            for variant in order:
                ingestion.current_matcher = variants[variant]
                single, batch = _cpu_per_event(store, f"r{round_number}", args.singles, sent)
                sent += 10_000
                if round_number:
                    results[(name, variant, "single")].append(single)
                    results[(name, variant, "batch")].append(batch)
    ingestion.current_matcher = checked
    for store in stores.values():
        store.dispose()

    def median_us(name: str, variant: str, kind: str) -> float:
        return round(statistics.median(results[(name, variant, kind)]) * 1e6, 2)

    report: dict = {"entries": sizes, "rounds": args.rounds, "singles": args.singles}
    for kind, label in (("single", "single_event"), ("batch", "batch_per_event")):
        report[label] = {
            name: {
                "checked_us": median_us(name, "checked", kind),
                "baseline_us": median_us(name, "baseline", kind),
                "ratio": round(
                    statistics.median(
                        c / b
                        for c, b in zip(
                            results[(name, "checked", kind)],
                            results[(name, "baseline", kind)],
                            strict=True,
                        )
                    ),
                    3,
                ),
            }
            for name in stores
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
