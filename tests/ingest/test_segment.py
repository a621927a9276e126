from datetime import UTC, datetime

import pytest

from personapulse.ingest import EVENT_KEYS, ItemError, parse_events
from personapulse.ingest._common import FieldError
from personapulse.ingest.segment import normalise_segment

from .conftest import RECEIVED_AT, load_json


@pytest.fixture
def batch_events():
    result = parse_events(load_json("events/segment_batch.json"), received_at=RECEIVED_AT)
    assert result.errors == []
    return result.items


def test_sample_batch_parses_every_call_type_in_order(batch_events):
    assert [e["type"] for e in batch_events] == [
        "page",
        "track",
        "identify",
        "track",
        "screen",
        "alias",
        "track",
    ]
    assert [e["_index"] for e in batch_events] == list(range(7))
    for event in batch_events:
        assert set(EVENT_KEYS) <= set(event)
        assert event["source_format"] == "segment"
        assert event["received_at"] == RECEIVED_AT


def test_page_call_maps_context_page_and_campaign(batch_events):
    page = batch_events[0]
    assert page["event"] == "Pricing"
    assert page["event_id"] == "ajs-next-1711962000123-5b2f1c7e-0c1d-4f7a-9d6a-1e2b3c4d5e6f"
    assert page["anonymous_id"] == "3f1c9a2e-8d4b-4c51-9e0a-7b6d2f4e1a90"
    assert page["user_id"] is None
    assert page["timestamp"] == datetime(2024, 4, 1, 9, 0, 0, 123000, tzinfo=UTC)
    assert page["page_path"] == "/pricing"
    assert page["page_url"].startswith("https://brightcart.example/pricing?utm_source=google")
    assert page["referrer"] == "https://www.google.com/"
    assert (page["utm_source"], page["utm_medium"], page["utm_campaign"]) == (
        "google",
        "cpc",
        "spring_kits",
    )
    assert page["utm_term"] == "meal kit delivery"
    assert page["utm_content"] is None


def test_track_revenue_prefers_revenue_over_total_and_keeps_properties(batch_events):
    order = batch_events[3]
    assert order["event"] == "Order Completed"
    assert order["revenue"] == 54.9
    assert order["currency"] == "EUR"
    assert order["properties"]["order_id"] == "50314b8e9bcf000000000000"
    assert len(order["properties"]["products"]) == 2
    # +02:00 offset converted to UTC
    assert order["timestamp"] == datetime(2024, 4, 1, 9, 7, 30, tzinfo=UTC)


def test_identify_keeps_traits_and_has_no_event_name(batch_events):
    identify = batch_events[2]
    assert identify["event"] is None
    assert identify["traits"]["email"] == "maya.chen@example.com"
    assert identify["traits"]["household_size"] == 4


def test_screen_and_alias(batch_events):
    screen, alias = batch_events[4], batch_events[5]
    assert screen["event"] == "Meal Planner"
    assert screen["properties"] == {"feature": "meal_planner"}
    assert alias["previous_id"] == "3f1c9a2e-8d4b-4c51-9e0a-7b6d2f4e1a90"
    assert alias["user_id"] == "user_1042"
    assert alias["event"] is None


def test_epoch_seconds_timestamp_and_hashed_id_when_message_id_absent(batch_events):
    feature = batch_events[6]
    assert feature["timestamp"] == datetime(2024, 4, 2, 8, 0, tzinfo=UTC)
    assert feature["event_id"].startswith("h:")


def _track(**overrides):
    item = {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "m1"}
    item.update(overrides)
    return item


def test_revenue_falls_back_to_total_and_accepts_numeric_strings():
    event = normalise_segment(_track(properties={"total": "19.90"}))
    assert event["revenue"] == 19.9


def test_page_without_name_is_page_viewed_and_reads_properties():
    event = normalise_segment(
        {
            "type": "page",
            "anonymousId": "a1",
            "properties": {"url": "https://brightcart.example/deals?utm_source=tiktok"},
        }
    )
    assert event["event"] == "Page Viewed"
    assert event["page_path"] == "/deals"
    assert event["utm_source"] == "tiktok"


def test_screen_without_name_is_screen_viewed():
    assert normalise_segment({"type": "screen", "userId": "u"})["event"] == "Screen Viewed"


def test_numeric_user_id_becomes_text_and_type_is_case_insensitive():
    event = normalise_segment(_track(type="Track", userId=1042))
    assert event["type"] == "track"
    assert event["user_id"] == "1042"


def test_context_traits_used_when_no_top_level_traits():
    event = normalise_segment(_track(context={"traits": {"plan": "solo-1"}}))
    assert event["traits"] == {"plan": "solo-1"}


def test_original_timestamp_used_when_timestamp_absent():
    event = normalise_segment(_track(originalTimestamp="2024-04-01T09:00:00Z"))
    assert event["timestamp"] == datetime(2024, 4, 1, 9, tzinfo=UTC)


def test_missing_timestamp_is_none_not_an_error():
    assert normalise_segment(_track())["timestamp"] is None


def test_input_item_is_not_mutated():
    item = _track(properties={"revenue": 3}, context={"page": {"url": "https://x.example/a?b=c"}})
    snapshot = repr(item)
    event = normalise_segment(item)
    event["properties"]["added"] = True
    assert repr(item) == snapshot


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        (
            {"userId": "u"},
            "type",
            "is required; must be one of: track, page, screen, identify, alias",
        ),
        (
            {"type": "group", "userId": "u"},
            "type",
            "must be one of: track, page, screen, identify, alias",
        ),
        ({"type": "track", "userId": "u"}, "event", "is required for a track event"),
        ({"type": "track", "event": ["x"], "userId": "u"}, "event", "must be a string"),
        ({"type": "track", "event": "E"}, "userId", "userId or anonymousId is required"),
        ({"type": "track", "event": "E", "userId": {"id": 1}}, "userId", "must be a string"),
        ({"type": "alias", "userId": "u"}, "previousId", "is required for an alias"),
        (
            {"type": "alias", "anonymousId": "a", "previousId": "p"},
            "userId",
            "is required for an alias",
        ),
        (_track(timestamp="soon"), "timestamp", "must be an ISO 8601 date-time or epoch number"),
        (_track(context="web"), "context", "must be an object"),
        (_track(context={"page": []}), "context.page", "must be an object"),
        (
            _track(context={"campaign": {"source": {"a": 1}}}),
            "context.campaign.source",
            "must be a string",
        ),
        (_track(properties=[1]), "properties", "must be an object"),
        (_track(properties={"revenue": "lots"}), "properties.revenue", "must be a number"),
        (_track(traits="vip"), "traits", "must be an object"),
        (_track(messageId={"id": 1}), "messageId", "must be a string"),
        (_track(properties={"revenue": 10**400}), "properties.revenue", "must be a finite number"),
        (_track(userId=10**5000), "userId", "is too long"),
        (_track(timestamp=10**400), "timestamp", "must be an ISO 8601 date-time or epoch number"),
    ],
)
def test_invalid_items_name_field_and_reason(item, field, reason):
    with pytest.raises(FieldError) as caught:
        normalise_segment(item)
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_bad_items_sample_keeps_good_items_and_reports_exact_errors():
    result = parse_events(load_json("events/segment_bad_items.json"), received_at=RECEIVED_AT)
    assert [e["event_id"] for e in result.items] == ["ok-0", "ok-9"]
    assert [e["_index"] for e in result.items] == [0, 9]
    assert result.errors == [
        ItemError(1, "type", "must be one of: track, page, screen, identify, alias"),
        ItemError(2, "userId", "userId or anonymousId is required"),
        ItemError(3, "timestamp", "must be an ISO 8601 date-time or epoch number"),
        ItemError(4, "event", "is required for a track event"),
        ItemError(5, "previousId", "is required for an alias"),
        ItemError(6, "context.campaign.source", "must be a string"),
        ItemError(7, "properties.revenue", "must be a number"),
        ItemError(8, "", "must be a JSON object, got a string"),
    ]
    # the good item without a timestamp is kept, flagged by its None timestamp
    assert result.items[1]["timestamp"] is None
