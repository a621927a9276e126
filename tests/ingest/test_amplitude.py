from datetime import UTC, datetime

import pytest

from personapulse.ingest import parse_events
from personapulse.ingest._common import FieldError
from personapulse.ingest.amplitude import normalise_amplitude

from .conftest import RECEIVED_AT, load_jsonl


@pytest.fixture
def events():
    result = parse_events(load_jsonl("events/amplitude_export.jsonl"), received_at=RECEIVED_AT)
    assert result.errors == []
    assert {e["source_format"] for e in result.items} == {"amplitude"}
    return result.items


def test_page_viewed_row(events):
    page = events[0]
    assert (page["type"], page["event"]) == ("page", "Page Viewed")
    assert page["event_id"] == "5f0adeff-6668-4427-8d02-57d803a2b841"  # $insert_id wins over uuid
    assert page["user_id"] is None
    assert page["anonymous_id"] == "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
    assert page["timestamp"] == datetime(2024, 4, 5, 14, 2, 11, 412000, tzinfo=UTC)
    assert page["session_id"] == "1712325720000"
    assert page["page_url"].startswith("https://brightcart.example/deals?utm_source=facebook")
    assert page["page_path"] == "/deals"
    assert page["referrer"] == "https://l.facebook.com/"
    assert (page["utm_source"], page["utm_medium"], page["utm_campaign"]) == (
        "facebook",
        "paid_social",
        "easter_deals",
    )
    assert page["properties"]["platform"] == "Web"
    assert page["properties"]["[Amplitude] Page Title"] == "Deals | Brightcart"


def test_revenue_from_price_times_quantity(events):
    order = events[1]
    assert order["event"] == "Order Completed"
    assert order["revenue"] == 49.0
    assert order["currency"] == "USD"
    assert order["user_id"] == "user_3310"


def test_identify_row_has_traits_and_no_session(events):
    identify = events[2]
    assert identify["type"] == "identify"
    assert identify["traits"] == {
        "email": "jo.rivera@example.com",
        "plan": "family-4",
        "household_size": 3,
    }
    assert identify["session_id"] is None  # -1 means no session
    assert identify["event_id"] == "2c3d4e5f-1b4b-11ef-8e2c-0242ac120002"  # uuid


def test_http_api_shape_with_insert_id_and_time_in_ms(events):
    feature = events[3]
    assert feature["event_id"] == "ios-evt-000193"
    assert feature["timestamp"] == datetime(2024, 4, 6, 8, 0, 55, 123000, tzinfo=UTC)


def test_explicit_revenue_and_set_operations():
    event = normalise_amplitude(
        {
            "event_type": "$identify",
            "user_id": "u",
            "revenue": 12,
            "user_properties": {"$set": {"plan": "pro"}, "$setOnce": {"first": "x"}},
        }
    )
    assert event["revenue"] == 12.0
    assert event["traits"] == {"plan": "pro", "first": "x"}
    assert event["event_id"].startswith("h:")
    assert event["timestamp"] is None


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        ({"user_id": "u"}, "event_type", "is required"),
        ({"event_type": "E"}, "user_id", "user_id or device_id is required"),
        (
            {"event_type": "E", "user_id": "u", "event_time": "2024-02-30 00:00:00.000000"},
            "event_time",
            "must be an ISO 8601 date-time or epoch number",
        ),
        (
            {"event_type": "E", "user_id": "u", "event_properties": [1]},
            "event_properties",
            "must be an object",
        ),
        ({"event_type": "E", "user_id": "u", "price": "cheap"}, "price", "must be a number"),
    ],
)
def test_invalid_rows(item, field, reason):
    with pytest.raises(FieldError) as caught:
        normalise_amplitude(item)
    assert (caught.value.field, caught.value.reason) == (field, reason)
