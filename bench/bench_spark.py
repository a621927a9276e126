"""Benchmark: the Spark engine (local[1], local[2]) against the single-machine engine, same run.

    .venv/bin/python bench/bench_spark.py                                  # 1 M and 10 M events
    .venv/bin/python bench/bench_spark.py --events 1000000 --masters 'local[1],local[2]'

Synthetic Brightcart-like events (bench_journeys.synthetic_events: ~20 events per person) are
written once to Parquet; per size, the single-machine engine runs first on the pandas frame,
then each Spark master reads the Parquet files in a fresh JVM. Stages: sessions (native window
functions), per-user features, steps + transitions, a 4-step funnel (grouped pandas UDFs for
the per-person parts). Spark stages end in a ``noop`` write or a small collect, so nothing big
is moved to the driver. Reports wall seconds per stage, the ratio against the single-machine
engine, and the load average before and after each run (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from bench_journeys import synthetic_events  # noqa: E402

from personapulse import journeys as local  # noqa: E402
from personapulse.features import build_user_features  # noqa: E402

FUNNEL = ["/", "Product Viewed", "Checkout Started", "Order Completed"]
STAGES = ("sessions", "features", "steps+transitions", "funnel")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(results: dict, label: str, func) -> None:
    start = time.perf_counter()
    func()
    results[label] = round(time.perf_counter() - start, 2)
    print(f"    {label:<20} {results[label]:8.2f} s", flush=True)


def run_local(events) -> dict:
    results: dict = {}
    timed(results, "sessions", lambda: local.sessionize(events))
    timed(results, "features", lambda: build_user_features(events))

    def steps_transitions():
        with_sessions = local.sessionize(events)
        channels = local.session_channels(with_sessions).set_index("session_key")["channel"]
        with_sessions["channel"] = channels.reindex(with_sessions["session_key"]).to_numpy()
        local.transitions(local.to_steps(with_sessions), top=None, max_step=None)

    timed(results, "steps+transitions", steps_transitions)
    timed(results, "funnel", lambda: local.funnel(events, FUNNEL, window="7d"))
    return results


def run_spark(master: str, parquet: str) -> dict:
    from personapulse.spark import (
        funnel,
        read_events,
        sessionize,
        spark_session,
        to_steps,
        transitions,
        user_features,
    )

    results: dict = {}
    start = time.perf_counter()
    spark = spark_session(master, driver_memory="6g")
    results["jvm_start"] = round(time.perf_counter() - start, 2)
    try:
        events = read_events(spark, parquet)
        timed(
            results,
            "sessions",
            lambda: sessionize(events).write.format("noop").mode("overwrite").save(),
        )
        timed(
            results,
            "features",
            lambda: user_features(events).write.format("noop").mode("overwrite").save(),
        )
        timed(
            results,
            "steps+transitions",
            lambda: transitions(to_steps(events), top=None, max_step=None),
        )
        timed(results, "funnel", lambda: funnel(events, FUNNEL, window="7d"))
    finally:
        spark.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", default="1000000,10000000")
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--out", type=Path, default=None, help="Write the figures as JSON here.")
    args = parser.parse_args()
    report = []
    for size in [int(s) for s in args.events.split(",")]:
        events = synthetic_events(size)
        with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch:
            parquet = str(Path(scratch) / "events")
            import pyarrow as pa
            import pyarrow.parquet as pq

            Path(parquet).mkdir()
            table = pa.Table.from_pandas(
                events.assign(_row=np.arange(len(events), dtype=np.int64)), preserve_index=False
            )
            pq.write_table(table, f"{parquet}/part-00000.parquet", coerce_timestamps="us")
            print(f"{size:,} events, {events['person_id'].nunique():,} people", flush=True)
            entry = {"events": size, "runs": []}
            print(f"  single machine (load {load()})", flush=True)
            before = load()
            entry["runs"].append(
                {"engine": "single-machine", "load_before": before, **run_local(events)}
            )
            entry["runs"][-1]["load_after"] = load()
            for master in args.masters.split(","):
                print(f"  spark {master} (load {load()})", flush=True)
                before = load()
                entry["runs"].append(
                    {
                        "engine": f"spark {master}",
                        "load_before": before,
                        **run_spark(master, parquet),
                    }
                )
                entry["runs"][-1]["load_after"] = load()
        baseline = entry["runs"][0]
        print(f"  {'engine':<18}" + "".join(f"{s:>20}" for s in STAGES) + f"{'total':>10}")
        for run in entry["runs"]:
            total = sum(run[s] for s in STAGES)
            ratios = "".join(f"{run[s]:>10.1f} ({run[s] / baseline[s]:4.1f}x)" for s in STAGES)
            print(
                f"  {run['engine']:<18}{ratios}{total:>10.1f}   load {run['load_before']} → {run['load_after']}"
            )
        report.append(entry)
        del events
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
