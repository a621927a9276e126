"""Persona engine speed and memory against a plain KMeans baseline, same process, same matrix.

    .venv/bin/python bench/bench_personas.py [--users 1000000] [--features 20] [--events 0]

1. A synthetic users × features matrix with 5 planted groups (skewed counts, shares, money).
2. Baseline: sklearn.cluster.KMeans(n_clusters=5, n_init=10) on the whole matrix.
3. Engine: fit_personas with the default PersonaConfig (sample fit + batched assignment).
4. Quality of the sampling shortcut at a smaller size: ARI between the sample-fit labels and a
   fit on every row with the same method and k, plus ARI of both against the planted groups.
5. Optionally (--events N) the time build_user_features needs for N synthetic events.
Peak memory is the process's max resident set (resource.getrusage), so it includes the baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from personapulse.personas import PersonaConfig, fit_personas


def synthetic_users(
    n: int, d: int, groups: int = 5, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.choice(
        groups, size=n, p=np.linspace(1, 2, groups) / np.linspace(1, 2, groups).sum()
    )
    centres = rng.normal(0, 1.6, (groups, d))
    latent = centres[truth] + rng.normal(0, 1, (n, d))
    columns = {}
    for j in range(d):
        kind = j % 3
        if kind == 0:  # counts / money: log-normal, heavy right tail
            columns[f"f{j:02d}"] = np.exp(0.8 * latent[:, j] + 1.0)
        elif kind == 1:  # shares in [0, 1]
            columns[f"f{j:02d}"] = 1 / (1 + np.exp(-latent[:, j]))
        else:  # symmetric score
            columns[f"f{j:02d}"] = latent[:, j]
    frame = pd.DataFrame(columns)
    frame.index = pd.Index(np.char.add("u", np.arange(n).astype(str)), name="person_id")
    return frame, truth


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_events(n_events: int, n_users: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array(
        [
            "Page Viewed",
            "Product Viewed",
            "Order Completed",
            "Coupon Applied",
            "Feature Used",
            "Support Ticket Opened",
        ],
        dtype=object,
    )
    event = names[rng.choice(len(names), n_events, p=[0.6, 0.2, 0.05, 0.05, 0.08, 0.02])]
    start = pd.Timestamp("2026-01-01", tz="UTC").value
    ts = start + rng.integers(0, 90 * 86_400, n_events) * 1_000_000_000
    paths = np.array(["/", "/recipes", "/deals", "/help", "/pricing", "/blog/x"], dtype=object)
    media = np.array([None, None, None, "cpc", "email", "social"], dtype=object)
    return pd.DataFrame(
        {
            "person_id": np.char.add("u", rng.integers(0, n_users, n_events).astype(str)),
            "event_id": np.arange(n_events).astype(str),
            "type": np.where(event == "Page Viewed", "page", "track"),
            "event": event,
            "timestamp": pd.to_datetime(ts, utc=True),
            "session_id": None,
            "page_path": paths[rng.integers(0, len(paths), n_events)],
            "referrer": None,
            "utm_source": None,
            "utm_medium": media[rng.integers(0, len(media), n_events)],
            "utm_campaign": None,
            "revenue": np.where(event == "Order Completed", rng.gamma(4, 15, n_events), np.nan),
            "source_format": "segment",
        }
    )


def bench_personas(args: argparse.Namespace) -> None:
    features, truth = synthetic_users(args.users, args.features)
    print(
        f"matrix {features.shape}, {features.memory_usage().sum() / 1e6:.0f} MB; peak so far {peak_mb():.0f} MB"
    )

    matrix = features.to_numpy()
    start = time.perf_counter()
    baseline = KMeans(n_clusters=5, n_init=10, random_state=0).fit(matrix)
    baseline_s = time.perf_counter() - start
    print(
        f"baseline KMeans(5, n_init=10): {baseline_s:.1f} s, ARI vs planted {adjusted_rand_score(truth, baseline.labels_):.3f}; peak {peak_mb():.0f} MB"
    )

    start = time.perf_counter()
    result = fit_personas(features, config=PersonaConfig())
    engine_s = time.perf_counter() - start
    model = result.model
    print(
        f"fit_personas (defaults): {engine_s:.1f} s = {engine_s / baseline_s:.2f}x baseline; "
        f"k={model.k_} {model.method_}/{model.covariance_type_}, ARI vs planted "
        f"{adjusted_rand_score(truth, model.labels_):.3f}, gate reliable={result.gate.reliable} "
        f"{result.gate.reasons}; peak {peak_mb():.0f} MB"
    )
    print(f"  selection: {model.selection_reason_}")

    n = args.quality_users
    small, small_truth = features.iloc[:n], truth[:n]
    fixed = dict(
        k=model.k_,
        method=model.method_,
        covariance_types=(model.covariance_type_,) if model.method_ == "gmm" else ("diag",),
        bootstrap=0,
    )
    start = time.perf_counter()
    sampled = fit_personas(small, config=PersonaConfig(**fixed)).model
    sampled_s = time.perf_counter() - start
    start = time.perf_counter()
    full = fit_personas(small, config=PersonaConfig(**fixed, sample_size=n, selection_size=n)).model
    full_s = time.perf_counter() - start
    print(
        f"quality at {n} users, k={model.k_}: ARI(sample fit, full fit) "
        f"{adjusted_rand_score(full.labels_, sampled.labels_):.3f}; vs planted: sample "
        f"{adjusted_rand_score(small_truth, sampled.labels_):.3f} ({sampled_s:.1f} s), full "
        f"{adjusted_rand_score(small_truth, full.labels_):.3f} ({full_s:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000, help="0 skips the persona part")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--quality-users", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")

    if args.users:
        bench_personas(args)

    if args.events:
        from personapulse.features import build_user_features

        events = synthetic_events(args.events, max(args.events // 100, 1))
        start = time.perf_counter()
        users = build_user_features(events)
        print(
            f"build_user_features on {args.events:,} events -> {users.shape}: {time.perf_counter() - start:.1f} s; peak {peak_mb():.0f} MB"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
