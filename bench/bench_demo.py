"""Benchmark of the demo generator (``personapulse demo``).

Reports, for N users (default 10,000): users/s and events/s of ``generate_users``, and the ratio of
its run time to a baseline measured in the same process: ``json.dumps`` of the same number of
event dicts (taken from the run). Then, each in a fresh subprocess, the peak RSS growth while
streaming 20,000 and 100,000 users: equal growth means constant memory.

    .venv/bin/python bench/bench_demo.py                 # full run (the 100k stream takes minutes)
    .venv/bin/python bench/bench_demo.py --users 2000 --memory-users 5000 20000   # quick
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from personapulse.demo import DemoConfig, generate_users

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def throughput(users: int) -> dict[str, float]:
    config = DemoConfig(users=users, seed=7, now=NOW)
    sample: list[dict] = []
    n_events = 0
    n_users = 0
    start = time.perf_counter()
    for bundle in generate_users(config):
        if bundle.archetype is None:
            continue  # an unlinked review, not a user
        n_users += 1
        n_events += len(bundle.events)
        if len(sample) < 2000:
            sample.extend(bundle.events[: 2000 - len(sample)])
    generate_seconds = time.perf_counter() - start

    start = time.perf_counter()
    done = 0
    while done < n_events:
        for event in sample[: n_events - done]:
            json.dumps(event)
        done += min(len(sample), n_events - done)
    baseline_seconds = time.perf_counter() - start
    return {
        "users": n_users,
        "events": n_events,
        "generate_seconds": round(generate_seconds, 3),
        "users_per_second": round(n_users / generate_seconds, 1),
        "events_per_second": round(n_events / generate_seconds, 1),
        "baseline_json_dumps_seconds": round(baseline_seconds, 3),
        "ratio_generate_to_json_dumps": round(generate_seconds / baseline_seconds, 2),
    }


def _stream_rss(users: int) -> dict[str, float]:
    """Run in a child: RSS growth (MiB) while streaming ``users`` users."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    events = 0
    for bundle in generate_users(DemoConfig(users=users, seed=7, now=NOW)):
        events += len(bundle.events)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "users": users,
        "events": events,
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_growth_mib": round((after - before) / 1024, 2),  # ru_maxrss is KiB on Linux
        "peak_rss_mib": round(after / 1024, 1),
    }


def memory(sizes: list[int]) -> list[dict[str, float]]:
    results = []
    for users in sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--child-stream", str(users)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(child.stdout))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--memory-users", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--child-stream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_stream:
        print(json.dumps(_stream_rss(args.child_stream)))
        return
    report = {"throughput": throughput(args.users), "memory": memory(args.memory_users)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
