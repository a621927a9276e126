"""What a retention run costs the ingestion beside it (SQLite): throughput and latency as ratios.

Fills a fresh store with N old ingest-log rows and N/4 old idempotency records (past their
retention), then sends single-event requests through the Flask app in process, in three phases of
one run: before (baseline), while ``prune`` deletes the old rows in another thread (chunks of
``CHUNK_ROWS``, each its own write transaction, which ingestion waits for), and after. Prints
the prune's duration and rows per second, and each phase's requests per second and p50 / p99 / max
latency, with the during/before ratios.

Usage: python bench/bench_prune.py [--rows 300000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.store import now_ms, write_transaction  # noqa: E402
from personapulse.store.keys import create_key  # noqa: E402
from personapulse.store.retention import CHUNK_ROWS, DAY_MS, RetentionPolicy, prune  # noqa: E402
from personapulse.store.schema import idempotency_keys, ingest_log  # noqa: E402
from webhooks import create_app  # noqa: E402


def _fill(engine, rows: int) -> None:
    old = now_ms() - 365 * DAY_MS
    with write_transaction(engine) as conn:
        conn.execute(
            ingest_log.insert(),
            [
                {
                    "kind": "events",
                    "source": "segment",
                    "received_ms": old + i,
                    "accepted": 1,
                    "duplicate": 0,
                    "rejected": 1,
                    "flagged": 0,
                    "reject_reasons": '{"event: is required": 1}',
                }
                for i in range(rows)
            ],
        )
        conn.execute(
            idempotency_keys.insert(),
            [
                {
                    "api_key_id": "bench",
                    "key": f"retry-{i}",
                    "request_hash": "0" * 64,
                    "status_code": 200,
                    "response_body": '{"accepted":1,"duplicate":0,"rejected":0}',
                    "created_ms": old + i,
                }
                for i in range(rows // 4)
            ],
        )


class _Sender:
    def __init__(self, client, token: str) -> None:
        self.client, self.token, self.sent = client, token, 0

    def run(self, until) -> list[float]:
        """Send single events until ``until()`` is true; return each request's latency (s)."""
        latencies = []
        while not until():
            body = {
                "type": "track",
                "event": "Product Viewed",
                "userId": f"u{self.sent % 5000}",
                "messageId": f"m{self.sent}",
                "timestamp": "2026-11-01T10:00:00Z",
            }
            started = time.perf_counter()
            response = self.client.post("/v1/events", json=body, headers={"X-API-Key": self.token})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.json
            self.sent += 1
        return latencies


def _summary(latencies: list[float], seconds: float) -> dict:
    ordered = sorted(latencies)
    return {
        "requests_per_s": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    database = scratch_dir("pp-prune-") / "pp.sqlite"
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench", "RATE_LIMIT_PER_SECOND": 0}
    )
    engine = app.extensions["personapulse.store"].engine
    _, token = create_key(engine, "bench", ("ingest",))
    _fill(engine, args.rows)
    sender = _Sender(app.test_client(), token)
    sender.run(lambda: sender.sent >= 500)  # warm-up

    def timed(seconds: float) -> dict:
        deadline = time.monotonic() + seconds
        return _summary(sender.run(lambda: time.monotonic() >= deadline), seconds)

    before = timed(args.seconds)
    result: dict = {}

    def pruning() -> None:
        started = time.monotonic()
        result["deleted"] = prune(engine, RetentionPolicy(), now_ms=now_ms())
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=pruning)
    started = time.monotonic()
    thread.start()
    during_latencies = sender.run(lambda: not thread.is_alive())
    during = _summary(during_latencies, time.monotonic() - started)
    thread.join()
    after = timed(args.seconds)
    deleted = sum(result["deleted"].values())
    print(
        json.dumps(
            {
                "rows_deleted": result["deleted"],
                "prune_seconds": round(result["seconds"], 2),
                "rows_per_s": round(deleted / result["seconds"]),
                "chunks": -(-deleted // CHUNK_ROWS),
                "ingest_before": before,
                "ingest_during": during,
                "ingest_after": after,
                "throughput_ratio_during_before": round(
                    during["requests_per_s"] / before["requests_per_s"], 3
                ),
                "p99_ratio_during_before": round(during["p99_ms"] / before["p99_ms"], 2),
            },
            indent=2,
        )
    )
    app.extensions["personapulse.store"].dispose()


if __name__ == "__main__":
    main()
