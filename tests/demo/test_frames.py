from __future__ import annotations

import numpy as np
import pandas as pd

from personapulse.demo import DemoConfig, generate_frames
from personapulse.demo.frames import EVENT_COLUMNS, stitch_person_ids

from .conftest import NOW

CONTRACT_EVENT_COLUMNS = [
    "person_id", "event_id", "type", "event", "timestamp", "session_id", "page_path",
    "referrer", "utm_source", "utm_medium", "utm_campaign", "revenue", "source_format",
]  # fmt: skip


def test_event_frame_has_the_contract_columns_and_types(frames):
    events = frames.events
    assert list(events.columns[: len(CONTRACT_EVENT_COLUMNS)]) == CONTRACT_EVENT_COLUMNS
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert events["revenue"].dtype == np.float64
    assert events["event_id"].is_unique
    assert set(events["type"]) == {"page", "track", "identify", "alias"}
    assert (events["source_format"] == "segment").all()
    assert events["timestamp"].max() <= pd.Timestamp(NOW)


def test_person_ids_are_stitched_like_the_store(bundles, frames):
    expected = [b.person_id for b in bundles for _ in b.events]
    assert frames.events["person_id"].tolist() == expected
    for bundle in bundles:
        assert set(stitch_person_ids(bundle.events)) <= {bundle.person_id}
    # anonymous history before sign-up and the alias's second device are stitched in
    anonymous_payloads = sum(
        1 for b in bundles if b.identified for e in b.events if "userId" not in e
    )
    assert anonymous_payloads > 1000
    assert not frames.events["person_id"].isna().any()


def test_event_columns_come_from_the_payloads(bundles, frames):
    payloads = [e for b in bundles for e in b.events]
    events = frames.events
    pages = events["type"].eq("page")
    assert events.loc[pages, "page_path"].notna().all()
    assert not events["page_path"].dropna().str.contains("?", regex=False).any()
    assert events.loc[~pages, "page_path"].isna().all()
    assert events.loc[pages, "event"].isin(["Home", "Pricing", "Plan", "Recipe", "Cart"]).any()
    with_campaign = sum(1 for e in payloads if e.get("context", {}).get("campaign"))
    assert events["utm_source"].notna().sum() == with_campaign > 0
    assert events["utm_medium"].notna().sum() == with_campaign
    with_referrer = sum(1 for e in payloads if e.get("context", {}).get("page", {}).get("referrer"))
    assert events["referrer"].notna().sum() == with_referrer > 0
    orders = events["event"].eq("Order Completed")
    assert events.loc[orders, "revenue"].gt(0).all()
    assert events.loc[~orders, "revenue"].isna().all()
    revenue = sum(
        e["properties"]["revenue"] for e in payloads if e.get("event") == "Order Completed"
    )
    assert abs(events["revenue"].sum() - revenue) < 1e-6 * revenue
    assert (
        events["timestamp"] == pd.to_datetime([e["timestamp"] for e in payloads], utc=True)
    ).all()


def test_review_conversation_and_profile_frames(bundles, frames):
    reviews = frames.reviews
    assert list(reviews.columns) == [
        "review_id", "person_id", "source", "rating", "title", "text", "product", "created_at",
    ]  # fmt: skip
    assert str(reviews["created_at"].dtype) == "datetime64[ns, UTC]"
    assert reviews["person_id"].isna().sum() == sum(1 for b in bundles if b.person_id is None)
    assert reviews["rating"].between(1, 5).all()

    conversations = frames.conversations
    assert list(conversations.columns) == [
        "conversation_id", "person_id", "source", "kind", "subject", "text", "created_at",
    ]  # fmt: skip
    assert conversations["text"].str.len().gt(0).all()
    calls = conversations[conversations["kind"].eq("call")]
    assert len(calls) and not calls["text"].str.contains("Agent:|Customer:").any()
    raw = {c["conversation_id"]: c for b in bundles for c in b.conversations}
    for row in conversations.head(50).itertuples():
        source = raw[row.conversation_id]
        if "messages" in source:
            customer = [m["text"] for m in source["messages"] if m["role"] == "customer"]
            assert row.text == "\n".join(customer)

    profiles = frames.profiles
    assert list(profiles.columns) == ["person_id", "email", "traits", "first_seen", "last_seen"]
    assert set(profiles["person_id"]) == set(frames.answers["person_id"])
    span = frames.events.groupby("person_id")["timestamp"].agg(["min", "max"])
    joined = profiles.set_index("person_id").join(span)
    assert (joined["first_seen"] == joined["min"]).all()
    assert (joined["last_seen"] == joined["max"]).all()
    assert profiles["traits"].map(lambda t: "email" in t and "plan" in t).all()


def test_answers_cover_every_identified_user(bundles, frames):
    answers = frames.answers
    assert list(answers.columns) == ["person_id", "archetype"]
    assert answers["person_id"].is_unique
    identified = {b.person_id for b in bundles if b.identified}
    assert set(answers["person_id"]) == identified
    known = {p for p in frames.events["person_id"].unique() if not p.startswith("anon:")}
    assert known == identified
    assert frames.events["person_id"].str.startswith("anon:").any()  # never-identified visitors


def test_generate_frames_is_deterministic():
    config = DemoConfig(users=80, seed=4, now=NOW)
    a, b = generate_frames(config), generate_frames(config)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.answers, b.answers)
    pd.testing.assert_frame_equal(a.reviews, b.reviews)
