import numpy as np
import pandas as pd
import pytest

from personapulse.features import build_user_features
from personapulse.personas import PersonaConfig, build_profiles, default_label, fit_personas


@pytest.fixture(scope="module")
def fitted(make_planted_events, planted_now):
    events, answers = make_planted_events(240, seed=9)
    features = build_user_features(events, now=planted_now)
    result = fit_personas(
        features,
        config=PersonaConfig(k=3, method="kmeans", n_init=3, bootstrap=2, shortlist_size=6),
    )
    truth = answers.set_index("person_id")["archetype"]
    return features, result, truth


def _profile_of(result, truth, archetype):
    members = truth[truth == archetype].index
    persona = result.assignments.set_index("person_id").loc[members, "persona_id"].mode()[0]
    return next(p for p in result.profiles if p["persona_id"] == persona)


def test_profile_shape(fitted):
    features, result, _ = fitted
    assert len(result.profiles) == 3
    assert sum(p["size"] for p in result.profiles) == len(features)
    assert sum(p["share"] for p in result.profiles) == pytest.approx(1.0)
    labels = [p["label"] for p in result.profiles]
    assert len(set(labels)) == 3
    for profile in result.profiles:
        assert 1 <= len(profile["traits"]) <= 5
        effects = [abs(t["effect_size"]) for t in profile["traits"]]
        assert effects == sorted(effects, reverse=True)
        assert all(" against " in t["text"] and "overall" in t["text"] for t in profile["traits"])
        assert len(profile["interview_shortlist"]) == 6
        members = set(
            result.assignments.loc[
                result.assignments["persona_id"] == profile["persona_id"], "person_id"
            ]
        )
        assert {s["person_id"] for s in profile["interview_shortlist"]} <= members
        distances = [s["distance"] for s in profile["interview_shortlist"]]
        assert distances == sorted(distances)
        assert profile["top_channels"]


def test_planted_behaviour_shows_in_profiles(fitted):
    _, result, truth = fitted
    deal = _profile_of(result, truth, "deal_hunter")
    assert "coupon" in deal["label"].lower()
    assert deal["top_channels"][0]["name"] == "paid"
    assert not deal["negative"]["flag"]
    drifter = _profile_of(result, truth, "drifter")
    assert drifter["negative"]["flag"]
    reasons = " ".join(drifter["negative"]["reasons"])
    assert "low value" in reasons and "churn" in reasons
    assert drifter["conversion"] < 0.3
    planner = _profile_of(result, truth, "planner")
    assert planner["revenue"]["share_of_total"] > 0.5


def test_pain_points_and_plain_units():
    features = pd.DataFrame(
        {
            "sessions_per_week": [4.0, 3.0, 1.0, 1.2],
            "conversion": [1.0, 1.0, 0.0, 0.0],
            "pain_pricing": [0.0, 0.0, 1.0, 0.5],
        },
        index=pd.Index(["a", "b", "c", "d"], name="person_id"),
    )
    labels = np.array([0, 0, 1, 1])
    proba = np.eye(2)[labels]
    profiles = build_profiles(features, labels, proba, persona_ids=["p_x", "p_y"])
    texts = [t["text"] for t in profiles[0]["traits"]]
    assert "3.5 sessions a week against 2.3 overall" in texts
    assert "100% bought at least once against 50% overall" in texts
    assert profiles[1]["top_pain_points"] == [{"name": "pricing", "share": 0.75}]
    assert profiles[0]["label"] == "Frequent buyers"


def test_high_cost_flag():
    features = pd.DataFrame(
        {
            "monetary_value": [100.0, 120.0, 90.0, 10.0, 20.0],
            "conversion": [1.0, 1.0, 1.0, 1.0, 1.0],
            "support_ticket_rate": [0.0, 0.1, 0.0, 2.0, 1.5],
        }
    )
    labels = np.array([0, 0, 0, 1, 1])
    profiles = build_profiles(features, labels, np.eye(2)[labels])
    assert not profiles[0]["negative"]["flag"]
    assert profiles[1]["negative"]["flag"]
    assert profiles[1]["negative"]["reasons"][0].startswith("high cost")


def test_default_label():
    traits = [
        {"feature": "coupon_usage_share", "effect_size": 2.0},
        {"feature": "sessions_per_week", "effect_size": -1.0},
    ]
    assert default_label(traits, 0.9) == "Coupon occasional buyers"
    assert default_label([], None) == "Users"
