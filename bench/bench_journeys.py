"""Benchmark: sessions + top paths + a 4-step funnel with persona breakdown.

    .venv/bin/python bench/bench_journeys.py                # 10,000,000 events
    .venv/bin/python bench/bench_journeys.py --events 1000000 --pm4py-events 1000000

Reports wall and CPU seconds and the load average per stage, peak RSS of the process, and the speed ratio of our
directly-follows graph + variants against pm4py's ``discover_dfg`` + ``get_variants`` on
the same steps (pm4py is AGPL: used here and in tests only, never in personapulse/).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from personapulse.journeys import (  # noqa: E402
    funnel,
    session_channels,
    sessionize,
    to_steps,
    top_paths,
    transitions,
)

PAGES = np.array(
    ["/", "/pricing", "/plans/12", "/plans/7", "/recipes", "/recipes/123", "/recipes/9876", "/search",
     "/cart", "/checkout", "/account", "/help", "/blog/meal-prep", "/deals"],
    dtype=object,
)  # fmt: skip
TRACKS = np.array(
    ["Signed Up", "Product Viewed", "Product Added", "Cart Viewed", "Checkout Started",
     "Coupon Applied", "Order Completed", "Feature Used", "Support Ticket Opened"],
    dtype=object,
)  # fmt: skip
REFERRERS = np.array(
    [None, "https://www.google.com/", "https://t.co/x", "https://www.trustpilot.com/review/brightcart",
     "https://wa.me/123", "https://blog.example.org/post"],
    dtype=object,
)  # fmt: skip
UTM = np.array([None, "cpc", "email", "organic", "paid_social"], dtype=object)


def synthetic_events(n_events: int, *, seed: int = 7) -> pd.DataFrame:
    """Shuffled Brightcart-like events: ~20 events per person over a few visits."""
    rng = np.random.default_rng(seed)
    n_persons = max(n_events // 20, 1)
    person = rng.integers(0, n_persons, n_events)
    visit = rng.integers(0, 4, n_events)
    base = np.datetime64("2026-01-01T00:00:00", "ns").astype(np.int64)
    person_offset = rng.integers(0, 60 * 86400, n_persons) * 1_000_000_000
    ts = (
        base
        + person_offset[person]
        + visit * 86400 * 1_000_000_000
        + rng.integers(0, 1200, n_events) * 1_000_000_000
    )
    is_page = rng.random(n_events) < 0.7
    page = PAGES[rng.integers(0, PAGES.size, n_events)]
    track = TRACKS[rng.integers(0, TRACKS.size, n_events)]
    attributed = rng.random(n_events) < 0.1
    referrer = np.where(attributed, REFERRERS[rng.integers(0, REFERRERS.size, n_events)], None)
    medium = np.where(attributed, UTM[rng.integers(0, UTM.size, n_events)], None)
    person_names = np.array([f"u{i}" for i in range(n_persons)], dtype=object)
    return pd.DataFrame(
        {
            "person_id": person_names[person],
            "event_id": np.arange(n_events).astype(str),
            "type": np.where(is_page, "page", "track").astype(object),
            "event": np.where(is_page, "Page Viewed", track),
            "timestamp": pd.to_datetime(ts, utc=True),
            "session_id": None,
            "page_path": np.where(is_page, page, None),
            "referrer": referrer,
            "utm_source": np.where(medium == None, None, "brightcart"),  # noqa: E711
            "utm_medium": medium,
            "utm_campaign": None,
            "revenue": np.where(track == "Order Completed", 42.0, np.nan),
            "source_format": "segment",
        }
    )


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def timed(label: str, results: dict, func, *args, **kwargs):
    """Wall and CPU (user + sys of this process) seconds and the 1-minute load average at the
    end of the stage: on a shared machine CPU time is the steadier of the two."""
    start, start_cpu = time.perf_counter(), time.process_time()
    value = func(*args, **kwargs)
    results[label] = (time.perf_counter() - start, time.process_time() - start_cpu)
    wall, cpu = results[label]
    load = os.getloadavg()[0]
    print(f"  {label:<26} wall {wall:7.2f} s  cpu {cpu:7.2f} s  load {load:5.1f}"
          f"  peak RSS {peak_rss_gb():5.2f} GB", flush=True)  # fmt: skip
    return value


def ours_dfg_and_variants(steps: pd.DataFrame):
    edges = transitions(steps, top=None, max_step=None)
    dfg = edges.groupby(["source", "target"])["count"].sum()
    variants = top_paths(
        steps.drop(columns=["session_key", "session_index"], errors="ignore"),
        top=None,
        across_sessions=False,
    )
    return dfg, variants


def pm4py_dfg_and_variants(steps: pd.DataFrame):
    import pm4py

    log = pd.DataFrame(
        {
            "case:concept:name": steps["person_id"].astype(str),
            "concept:name": steps["step"].astype(str),
            "time:timestamp": steps["timestamp"],
        }
    )
    dfg, _, _ = pm4py.discover_dfg(log)
    variants = pm4py.get_variants(log)
    return dfg, variants


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--pm4py-events", type=int, default=1_000_000, help="events for the pm4py ratio (0: skip)"
    )
    args = parser.parse_args()
    print(f"uptime: {os.popen('uptime').read().strip()}")
    start = time.perf_counter()
    events = synthetic_events(args.events)
    personas = pd.DataFrame({"person_id": pd.unique(events["person_id"])})
    personas["persona_id"] = "persona_" + (np.arange(len(personas)) % 5).astype(str)
    print(f"generated {len(events):,} events, {len(personas):,} persons in {time.perf_counter() - start:.1f} s;"
          f" peak RSS {peak_rss_gb():.2f} GB before the pipeline")  # fmt: skip
    results: dict[str, tuple[float, float]] = {}
    sessions = timed("sessionize", results, sessionize, events)
    channels = timed("session_channels", results, session_channels, sessions)
    steps = timed("to_steps", results, to_steps, sessions)
    timed("top_paths (persona)", results, top_paths, steps, sessions=channels, assignments=personas)
    timed(
        "funnel 4 steps (persona)", results, funnel, sessions,
        ["/", "/recipes/:id", "Checkout Started", "Order Completed"], window="7d",
        breakdown="persona", assignments=personas,
    )  # fmt: skip
    wall = sum(w for w, _ in results.values())
    cpu = sum(c for _, c in results.values())
    print(
        f"TOTAL pipeline: wall {wall:.2f} s, cpu {cpu:.2f} s for {len(events):,} events;"
        f" peak RSS {peak_rss_gb():.2f} GB; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if args.pm4py_events:
        subset = (
            events
            if args.pm4py_events >= len(events)
            else synthetic_events(args.pm4py_events, seed=11)
        )
        sub_steps = to_steps(sessionize(subset))
        print(f"ratio on {len(subset):,} events ({len(sub_steps):,} steps):")
        ours = {}
        timed("ours: DFG + variants", ours, ours_dfg_and_variants, sub_steps)
        timed("pm4py: DFG + variants", ours, pm4py_dfg_and_variants, sub_steps)
        theirs, mine = ours["pm4py: DFG + variants"], ours["ours: DFG + variants"]
        print(f"pm4py / ours = {theirs[0] / mine[0]:.1f}x wall, {theirs[1] / mine[1]:.1f}x cpu")
    print(f"uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
