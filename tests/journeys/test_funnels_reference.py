"""Differential test: the vectorised funnel against a naive per-person reading of the rules.

The reference walks each person's events in plain Python following docs/journeys.md:
attempts start at every step-1 event; each step is the first unused matching event at or
after the previous step's timestamp; windows and strictness are checked on that event;
the furthest (then earliest) attempt counts; exclusions per PostHog or Mixpanel.
"""

import numpy as np
import pandas as pd
import pytest

from personapulse.journeys import Exclusion, FunnelStep, funnel

STEPS = ["A", "B", "C"]


def reference(frame, *, order, window_min, step_windows_min, exclusions, mode):
    per_step_counts = [0] * len(STEPS)
    excluded = 0
    deltas = {k: [] for k in range(1, len(STEPS))}
    for _, person in frame.groupby("person_id", sort=False):
        person = person.sort_values("timestamp", kind="stable")
        names = person["event"].tolist()
        minutes = person["minute"].tolist()
        attempts = []
        for start, name in enumerate(names):
            if name != STEPS[0]:
                continue
            chosen = [start]
            for k in range(1, len(STEPS)):
                previous = chosen[-1]
                candidates = [
                    i for i in range(len(names))
                    if names[i] == STEPS[k] and i not in chosen and minutes[i] >= minutes[previous]
                ]  # fmt: skip
                if not candidates:
                    break
                pick = min(candidates, key=lambda i: (minutes[i], i))
                if window_min is not None and minutes[pick] - minutes[start] > window_min:
                    break
                limit = step_windows_min[k - 1]
                if limit is not None and minutes[pick] - minutes[previous] > limit:
                    break
                if order == "strict":
                    low, high = sorted((previous, pick))
                    if any(i not in chosen for i in range(low + 1, high)):
                        break
                chosen.append(pick)
            violated = []
            for name_x, from_step, to_step in exclusions:
                if len(chosen) >= to_step:
                    t_from, t_to = minutes[chosen[from_step - 1]], minutes[chosen[to_step - 1]]
                    if any(
                        names[i] == name_x and i not in chosen and t_from <= minutes[i] <= t_to
                        for i in range(len(names))
                    ):
                        violated.append(from_step)
            reached = len(chosen)
            if mode == "mixpanel" and violated:
                reached = min([reached, *violated])
            attempts.append((reached, start, chosen, bool(violated)))
        if not attempts:
            continue
        best = max(attempts, key=lambda a: (a[0], -a[1]))
        if mode == "posthog" and best[3]:
            excluded += 1
            continue
        for k in range(best[0]):
            per_step_counts[k] += 1
            if k:
                deltas[k].append((minutes[best[2][k]] - minutes[best[2][k - 1]]) * 60)
    averages = [float("nan")] + [
        float(np.mean(deltas[k])) if deltas[k] else float("nan") for k in deltas
    ]
    return per_step_counts, excluded, averages


def random_events(seed):
    rng = np.random.default_rng(seed)
    n = 400
    minute = rng.integers(0, 40, n)  # small range: many equal timestamps
    frame = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in rng.integers(0, 40, n)],
            "event": rng.choice(["A", "B", "C", "X"], n, p=[0.3, 0.3, 0.25, 0.15]),
            "minute": minute,
        }
    )
    frame["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        frame["minute"], unit="min"
    )
    return frame


CONFIGS = [
    {"order": "ordered", "window_min": None, "step_windows_min": [None, None], "exclusions": [], "mode": "posthog"},
    {"order": "ordered", "window_min": 15, "step_windows_min": [None, None], "exclusions": [], "mode": "posthog"},
    {"order": "ordered", "window_min": 30, "step_windows_min": [5, 8], "exclusions": [], "mode": "posthog"},
    {"order": "strict", "window_min": 20, "step_windows_min": [None, None], "exclusions": [], "mode": "posthog"},
    {"order": "ordered", "window_min": 20, "step_windows_min": [None, None], "exclusions": [("X", 1, 2)], "mode": "posthog"},
    {"order": "ordered", "window_min": 20, "step_windows_min": [None, None], "exclusions": [("X", 1, 2)], "mode": "mixpanel"},
    {"order": "ordered", "window_min": None, "step_windows_min": [None, 10], "exclusions": [("X", 2, 3), ("A", 1, 3)], "mode": "mixpanel"},
    {"order": "strict", "window_min": None, "step_windows_min": [None, None], "exclusions": [("X", 1, 3)], "mode": "posthog"},
]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: f"{c['order']}-{c['mode']}-{len(c['exclusions'])}x"
)
def test_funnel_matches_the_reference(seed, config):
    frame = random_events(seed)
    expected_counts, expected_excluded, expected_avg = reference(frame, **config)
    result = funnel(
        frame,
        [FunnelStep(event=name) for name in STEPS],
        order=config["order"],
        window=None if config["window_min"] is None else pd.Timedelta(minutes=config["window_min"]),
        step_windows=[
            None if w is None else pd.Timedelta(minutes=w) for w in config["step_windows_min"]
        ],
        exclusions=[Exclusion(FunnelStep(event=x), a, b) for x, a, b in config["exclusions"]],
        exclusion_mode=config["mode"],
    )
    assert result.steps["count"].tolist() == expected_counts
    assert result.persons_excluded == expected_excluded
    np.testing.assert_allclose(
        result.steps["avg_time_to_convert_s"].to_numpy(dtype=float), expected_avg
    )


def reference_any_order(frame, window_min):
    per_step_counts = [0] * len(STEPS)
    deltas = {k: [] for k in range(1, len(STEPS))}
    for _, person in frame.groupby("person_id", sort=False):
        person = person.sort_values("timestamp", kind="stable")
        names = person["event"].tolist()
        minutes = person["minute"].tolist()
        attempts = []
        for start, name in enumerate(names):
            if name not in STEPS:
                continue
            firsts = []
            for step in STEPS:
                times = [
                    minutes[i] for i in range(len(names))
                    if names[i] == step and minutes[i] >= minutes[start]
                    and (window_min is None or minutes[i] - minutes[start] <= window_min)
                ]  # fmt: skip
                if times:
                    firsts.append(min(times))
            attempts.append((len(firsts), start, sorted(firsts)))
        if not attempts:
            continue
        reached, _, times = max(attempts, key=lambda a: (a[0], -a[1]))
        for k in range(reached):
            per_step_counts[k] += 1
            if k:
                deltas[k].append((times[k] - times[k - 1]) * 60)
    averages = [float("nan")] + [
        float(np.mean(deltas[k])) if deltas[k] else float("nan") for k in deltas
    ]
    return per_step_counts, averages


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window_min", [None, 6])
def test_any_order_funnel_matches_the_reference(seed, window_min):
    frame = random_events(seed)
    expected_counts, expected_avg = reference_any_order(frame, window_min)
    result = funnel(
        frame,
        STEPS,
        order="any",
        window=None if window_min is None else pd.Timedelta(minutes=window_min),
    )
    assert result.steps["count"].tolist() == expected_counts
    np.testing.assert_allclose(
        result.steps["avg_time_to_convert_s"].to_numpy(dtype=float), expected_avg
    )
