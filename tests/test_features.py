import numpy as np
import pandas as pd
import pytest

from personapulse.features import (
    FeatureConfig,
    FeaturePopulation,
    build_user_features,
    classify_channels,
    describe_feature,
    top_page_sections,
)

T0 = pd.Timestamp("2026-03-02T10:00:00Z")  # a Monday


def _event(person, minutes, event="Page Viewed", type_="page", **extra):
    row = {
        "person_id": person,
        "event_id": f"{person}-{minutes}-{event}",
        "type": type_,
        "event": event,
        "timestamp": T0 + pd.Timedelta(minutes=minutes),
        "session_id": None,
        "page_path": "/",
        "referrer": None,
        "utm_source": None,
        "utm_medium": None,
        "utm_campaign": None,
        "revenue": np.nan,
        "source_format": "segment",
    }
    row.update(extra)
    return row


@pytest.fixture
def events():
    day = 24 * 60
    rows = [
        # alice: two sessions on day 0 (gap 40 min), one on day 2; two orders, one with coupon.
        _event("alice", 0, utm_source="google", utm_medium="cpc", page_path="/deals"),
        _event("alice", 5, "Coupon Applied", "track"),
        _event("alice", 10, "Order Completed", "track", revenue=30.0),
        _event("alice", 50, referrer="https://www.instagram.com/p/1", page_path="/recipes/7"),
        _event("alice", 2 * day, utm_medium="email", utm_source="newsletter"),
        _event("alice", 2 * day + 20, "Order Completed", "track", revenue=50.0),
        _event("alice", 2 * day + 21, "Feature Used", "track", feature="meal_planner"),
        _event("alice", 2 * day + 22, "Feature Used", "track", feature="pantry_sync"),
        # bob: one single-event session, a ticket, a cancellation, last seen 6 days before `now`.
        _event("bob", 0, referrer="https://www.google.com/search?q=x", page_path="/help"),
        _event("bob", 1 * day, "Support Ticket Opened", "track"),
        _event("bob", 1 * day + 1, "Subscription Cancelled", "track"),
        _event("bob", 1 * day + 2, "Feature Used", "track", feature="meal_planner"),
    ]
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


NOW = T0 + pd.Timedelta(days=7)


def test_hand_computed_values(events):
    features = build_user_features(events, now=NOW)
    alice, bob = features.loc["alice"], features.loc["bob"]
    assert features.index.name == "person_id"
    assert alice["events"] == 8 and bob["events"] == 4
    assert alice["orders"] == 2 and alice["monetary_value"] == 80
    assert alice["average_order_value"] == 40 and bob["average_order_value"] == 0
    assert alice["conversion"] == 1 and bob["conversion"] == 0
    assert alice["active_days"] == 2 and bob["active_days"] == 2
    # 7 days of tenure = 1 week; alice has 3 sessions (30 min gap rule), bob 2.
    assert alice["sessions_per_week"] == pytest.approx(3.0)
    assert bob["sessions_per_week"] == pytest.approx(2.0)
    assert alice["purchase_frequency"] == pytest.approx(2.0)
    assert alice["recency_days"] == pytest.approx(7 - (2 * 1440 + 22) / 1440)
    # alice's sessions: 3 events (0, 5, 10 min), 1 event, 4 events (0..22 min).
    assert alice["bounce_rate"] == pytest.approx(1 / 3)
    assert alice["session_minutes_median"] == pytest.approx(10.0)
    assert alice["pages_per_session"] == pytest.approx(1.0)
    # Second session same day, third on another day.
    assert alice["return_visit_rate"] == pytest.approx(0.5)
    assert bob["return_visit_rate"] == pytest.approx(1.0)
    assert alice["coupon_usage_share"] == pytest.approx(0.5)
    assert alice["count_coupon_applied"] == 1
    # Features used by anyone: meal_planner, pantry_sync.
    assert alice["feature_adoption"] == pytest.approx(1.0)
    assert bob["feature_adoption"] == pytest.approx(0.5)
    assert bob["support_ticket_rate"] == pytest.approx(1.0)
    assert bob["cancellations"] == 1 and alice["cancellations"] == 0
    assert alice["channel_paid"] == pytest.approx(1 / 3)
    assert alice["channel_social"] == pytest.approx(1 / 3)
    assert alice["channel_email"] == pytest.approx(1 / 3)
    assert bob["channel_search"] == pytest.approx(0.5)
    assert bob["channel_direct"] == pytest.approx(0.5)
    assert alice["page_deals"] == pytest.approx(1 / 3)
    assert alice["page_recipes"] == pytest.approx(1 / 3)
    assert bob["page_help"] == pytest.approx(1.0)
    assert features.dtypes.eq(np.float64).all()


def test_source_session_ids_override_the_gap_rule(events):
    with_sessions = events.assign(session_id="s1")
    features = build_user_features(with_sessions, now=NOW)
    assert features.loc["alice", "sessions_per_week"] == pytest.approx(1.0)


def test_input_not_mutated_and_missing_columns_named(events):
    before = events.copy()
    build_user_features(events, now=NOW)
    pd.testing.assert_frame_equal(events, before)
    with pytest.raises(ValueError, match="timestamp"):
        build_user_features(events.drop(columns=["timestamp"]))


def test_optional_columns_and_missing_timestamps(events):
    minimal = events[["person_id", "timestamp", "event"]].copy()
    minimal.loc[0, "timestamp"] = pd.NaT
    features = build_user_features(minimal, now=NOW)
    assert features.loc["alice", "events"] == 7
    assert features.loc["alice", "channel_direct"] == pytest.approx(1.0)
    assert not features.isna().any().any()


def test_include_exclude_patterns(events):
    config = FeatureConfig(include=("channel_*", "orders"), exclude=("channel_direct",))
    features = build_user_features(events, config=config, now=NOW)
    assert "orders" in features and "channel_paid" in features
    assert "channel_direct" not in features and "events" not in features


def test_reviews_conversations_and_review_classes(events):
    reviews = pd.DataFrame(
        {
            "review_id": ["r1", "r2", "r3"],
            "person_id": ["alice", "alice", None],
            "rating": [5.0, 3.0, 1.0],
        }
    )
    classes = pd.DataFrame(
        {
            "review_id": ["r1", "r2"],
            "person_id": ["alice", "alice"],
            "sentiment_score": [0.8, -0.2],
            "pain_points": [["pricing"], ["pricing", "Shipping Delivery"]],
        }
    )
    conversations = pd.DataFrame(
        {"conversation_id": ["c1", "c2", "c3"], "person_id": ["bob", "bob", "bob"]}
    )
    features = build_user_features(
        events, reviews=reviews, conversations=conversations, review_classes=classes, now=NOW
    )
    assert features.loc["alice", "review_count"] == 2
    assert features.loc["alice", "mean_rating"] == pytest.approx(4.0)
    assert np.isnan(features.loc["bob", "mean_rating"])
    assert features.loc["alice", "review_sentiment"] == pytest.approx(0.3)
    assert features.loc["alice", "pain_pricing"] == pytest.approx(1.0)
    assert features.loc["alice", "pain_shipping_delivery"] == pytest.approx(0.5)
    assert np.isnan(features.loc["bob", "pain_pricing"])
    # 3 conversations beat 1 ticket event: the larger count is used, not the sum.
    assert features.loc["bob", "support_ticket_rate"] == pytest.approx(3.0)


def test_classify_channels():
    groups = classify_channels(
        pd.Series(["google", "newsletter", None, None, "partner", None, None, "wa"]),
        pd.Series(["cpc", "email", None, None, None, None, "organic", "whatsapp"]),
        pd.Series(
            [None, None, "https://www.trustpilot.com/x", "https://t.co/a", None, None, None, None]
        ),
    )
    assert groups.tolist() == [
        "paid",
        "email",
        "review_site",
        "social",
        "referral",
        "direct",
        "search",
        "messaging",
    ]


def test_every_feature_has_a_unit(events):
    features = build_user_features(events, now=NOW)
    for name in features.columns:
        unit, kind = describe_feature(name)
        assert unit and kind in {"share", "count", "rate", "money", "days", "minutes", "score"}


def test_pain_point_spans_become_one_feature_per_label():
    import pandas as pd

    from personapulse.features import build_user_features

    events = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "event": ["Signed Up", "Signed Up"],
            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        }
    )
    span = {
        "label": "shipping_delivery",
        "phrase": "late",
        "start": 3,
        "end": 7,
        "context": "x",
        "via": "lexicon",
    }
    classes = pd.DataFrame(
        {
            "review_id": ["r1"],
            "person_id": ["a"],
            "sentiment_score": [-0.5],
            "pain_points": [[span]],
        }
    )
    features = build_user_features(events, review_classes=classes)
    pain_columns = [c for c in features.columns if c.startswith("pain_")]
    assert pain_columns == ["pain_shipping_delivery"]
    assert features.loc["a", "pain_shipping_delivery"] == 1.0


def _reviews_and_classes():
    reviews = pd.DataFrame(
        {"review_id": ["r1", "r2"], "person_id": ["alice", "carol"], "rating": [4.0, 2.0]}
    )
    classes = pd.DataFrame(
        {
            "review_id": ["r1", "r2"],
            "person_id": ["alice", "carol"],
            "sentiment_score": [0.6, -0.4],
            "pain_points": [[], ["pricing"]],
        }
    )
    return reviews, classes


def test_one_person_alone_gets_their_full_run_row_given_the_population(events):
    """Real-time assignment and rescoring compute a few people alone; with the full run's
    population (recency anchor, sections, adoption denominator, pain points) each row is the
    full run's row, and without it some rows differ (so the population is what makes them equal).
    """
    day = 24 * 60
    carol = [
        _event("carol", 3 * day, page_path="/recipes/1"),
        _event("carol", 3 * day + 1, page_path="/blog/2"),
        _event("carol", 3 * day + 2, "Feature Used", "track", feature="pantry_sync"),
    ]
    everyone = pd.concat([events, pd.DataFrame(carol)], ignore_index=True)
    reviews, classes = _reviews_and_classes()
    full = build_user_features(everyone, reviews=reviews, review_classes=classes)
    population = FeaturePopulation.from_dict(full.attrs["population"])
    assert population.now == everyone["timestamp"].max()
    assert population.adoption_basis == "feature" and population.adoption_denominator == 2
    assert population.pain_points == ("pricing",)

    differing_without = 0
    for person in full.index:

        def alone(with_population: FeaturePopulation | None, person=person) -> pd.DataFrame:
            return build_user_features(
                everyone[everyone["person_id"] == person],
                reviews=reviews[reviews["person_id"] == person],
                review_classes=classes[classes["person_id"] == person],
                population=with_population,
            ).reindex(columns=full.columns)

        pd.testing.assert_frame_equal(alone(population), full.loc[[person]])
        differing_without += not alone(None).equals(full.loc[[person]])
    assert differing_without >= 2


def test_population_round_trips_through_a_dict(events):
    population = build_user_features(events).attrs["population"]
    assert FeaturePopulation.from_dict(population).to_dict() == population


def test_page_sections_tied_on_views_are_taken_by_name():
    views = pd.Series({"signup": 5, "onboarding": 5, "home": 9, "blog": 1})
    config = FeatureConfig(max_page_sections=2, min_page_section_share=0.0)
    assert top_page_sections(views, config=config) == ("home", "onboarding")
    # The order the counts arrive in does not matter.
    assert top_page_sections(views.iloc[::-1], config=config) == ("home", "onboarding")
    assert top_page_sections(views, config=FeatureConfig(min_page_section_share=0.1)) == (
        "home",
        "onboarding",
        "signup",
    )
