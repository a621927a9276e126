"""Benchmark: updating the journey counters of the people behind an arriving batch, against the full
recomputation (both in this process, on the same demo store), reported as a ratio.

    .venv/bin/python bench/bench_journey_counters.py --users 2000 --people 10 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from personapulse.config import load_settings  # noqa: E402
from personapulse.demo import DemoConfig  # noqa: E402
from personapulse.services import journey_counters  # noqa: E402
from personapulse.services.demo_load import load_demo  # noqa: E402
from personapulse.store import Store  # noqa: E402
from personapulse.store.frames import load_events  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--people", type=int, default=10, help="people in one arriving batch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        store = Store(f"sqlite:///{workdir}/bench.sqlite")
        store.migrate()
        load_demo(
            store,
            DemoConfig(users=args.users, seed=args.seed),
            load_settings({"INCREMENTAL_UPDATES": False}),
        )
        people = sorted(load_events(store.engine)["person_id"].astype(str).unique())
        batch = people[:: max(1, len(people) // args.people)][: args.people]
        full, incremental = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            journey_counters.rebuild(store)
            full.append(time.perf_counter() - started)
            started = time.perf_counter()
            journey_counters.update_people(store, batch)
            incremental.append(time.perf_counter() - started)
        store.dispose()
    best_full, best_incremental = min(full), min(incremental)
    print(f"people with events: {len(people):,}; events: demo --users {args.users}")
    print(f"full recompute (rebuild): best of {args.repeat} = {best_full:.3f} s")
    print(f"incremental ({len(batch)} people): best of {args.repeat} = {best_incremental:.3f} s")
    print(f"ratio full / incremental: {best_full / best_incremental:.1f}x")


if __name__ == "__main__":
    main()
