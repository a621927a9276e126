"""Synthetic data with planted personas, for the persona engine's tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

NOW = pd.Timestamp("2026-06-30T00:00:00Z")

# Three behaviours a marketer would recognise; the tests never look at these means, only at the
# answer column, to check that the engine recovers the planted groups.
ARCHETYPES = {
    "deal_hunter": dict(
        sessions_per_week=2.0,
        pages=3,
        coupon=0.9,
        order=0.6,
        value=35.0,
        features=0.5,
        tickets=0.02,
        cancel=0.05,
        channels={"cpc": 0.6, "social": 0.3, "direct": 0.1},
    ),
    "planner": dict(
        sessions_per_week=4.0,
        pages=7,
        coupon=0.05,
        order=0.5,
        value=90.0,
        features=3.5,
        tickets=0.01,
        cancel=0.02,
        channels={"email": 0.6, "direct": 0.4},
    ),
    "drifter": dict(
        sessions_per_week=0.4,
        pages=1,
        coupon=0.0,
        order=0.03,
        value=40.0,
        features=0.1,
        tickets=0.3,
        cancel=0.5,
        channels={"organic": 0.7, "direct": 0.3},
    ),
}
FEATURE_NAMES = [
    "meal_planner",
    "nutrition_tracker",
    "pantry_sync",
    "family_sharing",
    "recipe_import",
]


def planted_events(n_users: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events frame in the contract's shape, answers [person_id, archetype]) over 8 weeks."""
    rng = np.random.default_rng(seed)
    names = list(ARCHETYPES)
    rows: list[dict] = []
    answers = []
    start = NOW - pd.Timedelta(weeks=8)
    for u in range(n_users):
        archetype = names[u % len(names)]
        spec = ARCHETYPES[archetype]
        person = f"u{u:05d}"
        answers.append((person, archetype))
        n_sessions = max(1, rng.poisson(spec["sessions_per_week"] * 8))
        my_features = rng.choice(
            FEATURE_NAMES, size=min(5, rng.poisson(spec["features"])), replace=False
        )
        for s in range(n_sessions):
            t = start + pd.Timedelta(seconds=float(rng.uniform(0, 8 * 7 * 86400 - 7200)))
            channel = rng.choice(list(spec["channels"]), p=list(spec["channels"].values()))
            utm = {"cpc": ("google", "cpc"), "email": ("newsletter", "email")}.get(channel)
            referrer = {
                "social": "https://www.instagram.com/",
                "organic": "https://www.google.com/",
            }.get(channel)
            sid = f"{person}-{s}"
            n_pages = 1 + rng.poisson(spec["pages"])
            for p in range(n_pages):
                rows.append(
                    dict(
                        person_id=person,
                        event_id=f"{sid}-p{p}",
                        type="page",
                        event="Page Viewed",
                        timestamp=t,
                        session_id=sid,
                        page_path="/recipes",
                        referrer=referrer if p == 0 else None,
                        utm_source=utm[0] if utm and p == 0 else None,
                        utm_medium=utm[1] if utm and p == 0 else None,
                        revenue=np.nan,
                        feature=None,
                    )
                )
                t += pd.Timedelta(seconds=float(rng.exponential(40)))
            if len(my_features) and rng.random() < 0.7:
                rows.append(
                    dict(
                        person_id=person,
                        event_id=f"{sid}-f",
                        type="track",
                        event="Feature Used",
                        timestamp=t,
                        session_id=sid,
                        revenue=np.nan,
                        feature=str(rng.choice(my_features)),
                    )
                )
            if rng.random() < spec["order"]:
                if rng.random() < spec["coupon"]:
                    rows.append(
                        dict(
                            person_id=person,
                            event_id=f"{sid}-c",
                            type="track",
                            event="Coupon Applied",
                            timestamp=t,
                            session_id=sid,
                            revenue=np.nan,
                        )
                    )
                rows.append(
                    dict(
                        person_id=person,
                        event_id=f"{sid}-o",
                        type="track",
                        event="Order Completed",
                        timestamp=t + pd.Timedelta(seconds=30),
                        session_id=sid,
                        revenue=float(rng.gamma(8, spec["value"] / 8)),
                    )
                )
            if rng.random() < spec["tickets"]:
                rows.append(
                    dict(
                        person_id=person,
                        event_id=f"{sid}-t",
                        type="track",
                        event="Support Ticket Opened",
                        timestamp=t,
                        session_id=sid,
                        revenue=np.nan,
                    )
                )
        if rng.random() < spec["cancel"]:
            rows.append(
                dict(
                    person_id=person,
                    event_id=f"{person}-x",
                    type="track",
                    event="Subscription Cancelled",
                    timestamp=NOW - pd.Timedelta(days=1),
                    session_id=None,
                    revenue=np.nan,
                )
            )
    events = pd.DataFrame(rows)
    for col in ("referrer", "utm_source", "utm_medium", "utm_campaign", "page_path", "feature"):
        if col not in events:
            events[col] = None
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True)
    events["source_format"] = "segment"
    return events, pd.DataFrame(answers, columns=["person_id", "archetype"])


@pytest.fixture(scope="session")
def make_planted_events() -> Callable[..., tuple[pd.DataFrame, pd.DataFrame]]:
    return planted_events


@pytest.fixture(scope="session")
def planted_now() -> pd.Timestamp:
    return NOW


@pytest.fixture(scope="session")
def blobs() -> tuple[pd.DataFrame, np.ndarray]:
    """600 users × 6 positive, right-skewed features in 3 well separated groups, plus the truth."""
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0, 0, 0, 0, 0], [4, 4, 0, 0, -3, 0], [0, -4, 4, 4, 0, 3]], dtype=float)
    truth = np.repeat(np.arange(3), 200)
    latent = centres[truth] + rng.normal(0, 1, (600, 6))
    features = pd.DataFrame(
        np.exp(latent / 2),
        columns=[f"f{i}" for i in range(6)],
        index=pd.Index([f"u{i}" for i in range(600)], name="person_id"),
    )
    return features, truth
