from datetime import UTC, datetime

import pytest

from personapulse.ingest import parse_events
from personapulse.ingest._common import FieldError
from personapulse.ingest.ga4 import flatten_params, normalise_ga4

from .conftest import RECEIVED_AT, load_jsonl


@pytest.fixture
def rows():
    return load_jsonl("events/ga4_bigquery_export.jsonl")


@pytest.fixture
def events(rows):
    result = parse_events(rows, received_at=RECEIVED_AT)
    assert result.errors == []
    assert {e["source_format"] for e in result.items} == {"ga4"}
    return result.items


def test_page_view_row(events):
    page = events[0]
    assert (page["type"], page["event"]) == ("page", "Page Viewed")
    assert page["timestamp"] == datetime(2024, 4, 6, 10, 0, 0, 123456, tzinfo=UTC)
    assert page["anonymous_id"] == "1188396715.1712310000"
    assert page["user_id"] is None
    assert page["session_id"] == "1712397598"
    assert page["page_path"] == "/blog/batch-cooking-101"
    assert page["referrer"] == "https://www.pinterest.com/"
    assert (page["utm_source"], page["utm_medium"], page["utm_campaign"]) == (
        "pinterest",
        "social",
        "blog_spring",
    )
    assert page["properties"]["page_title"] == "Batch cooking 101 | Brightcart blog"
    assert page["properties"]["ga_session_number"] == 3
    assert page["properties"]["device"]["category"] == "mobile"
    assert "page_location" not in page["properties"]


def test_purchase_revenue_currency_and_last_click_channel(events):
    purchase = events[1]
    assert (purchase["type"], purchase["event"]) == ("track", "purchase")
    assert purchase["revenue"] == 42.0
    assert purchase["currency"] == "GBP"
    assert purchase["user_id"] == "user_4501"
    assert purchase["traits"] == {"plan": "duo-2"}
    assert purchase["utm_source"] == "pinterest"  # session_traffic_source_last_click
    assert purchase["properties"]["transaction_id"] == "T-99812"


def test_screen_view_uses_firebase_screen_and_drops_placeholder_channels(events):
    screen = events[2]
    assert (screen["type"], screen["event"]) == ("screen", "Recipe detail")
    assert screen["utm_source"] == "google-play"
    assert screen["utm_campaign"] is None  # "(organic)" is a GA4 placeholder


def test_first_touch_traffic_source_is_the_last_fallback(events):
    start = events[3]
    assert (start["utm_source"], start["utm_medium"], start["utm_campaign"]) == (
        "google",
        "cpc",
        "spring_search",
    )
    assert start["page_path"] == "/"


def test_rows_have_no_id_so_the_hash_makes_reexports_dedupe(rows):
    first = parse_events(rows, received_at=RECEIVED_AT).items
    again = parse_events(rows, received_at=datetime(2025, 1, 1, tzinfo=UTC)).items
    assert [e["event_id"] for e in first] == [e["event_id"] for e in again]
    assert len({e["event_id"] for e in first}) == len(first)


def test_flatten_params_reads_typed_values():
    params = [
        {"key": "a", "value": {"string_value": "x"}},
        {"key": "b", "value": {"int_value": "42"}},
        {"key": "c", "value": {"double_value": 1.5}},
        {"key": "d", "value": {"float_value": 2.5, "string_value": None}},
        {"key": "e", "value": {}},
    ]
    assert flatten_params(params, "event_params") == {
        "a": "x",
        "b": 42,
        "c": 1.5,
        "d": 2.5,
        "e": None,
    }


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        ({"event_timestamp": "1", "user_pseudo_id": "p"}, "event_name", "is required"),
        (
            {"event_name": "x", "event_timestamp": "1"},
            "user_pseudo_id",
            "user_pseudo_id or user_id is required",
        ),
        (
            {"event_name": "x", "user_pseudo_id": "p", "event_timestamp": "abc"},
            "event_timestamp",
            "must be an ISO 8601 date-time or epoch number",
        ),
        (
            {"event_name": "x", "user_pseudo_id": "p", "event_params": {}},
            "event_params",
            "must be a list of {key, value} objects",
        ),
        (
            {"event_name": "x", "user_pseudo_id": "p", "event_params": [{"value": {}}]},
            "event_params.0.key",
            "is required",
        ),
        (
            {
                "event_name": "x",
                "user_pseudo_id": "p",
                "event_params": [{"key": "k", "value": {"int_value": "1.5"}}],
            },
            "event_params.0.value.int_value",
            "must be an integer",
        ),
        (
            {"event_name": "x", "user_pseudo_id": "p", "ecommerce": {"purchase_revenue": "?"}},
            "ecommerce.purchase_revenue",
            "must be a number",
        ),
    ],
)
def test_invalid_rows(item, field, reason):
    with pytest.raises(FieldError) as caught:
        normalise_ga4(item)
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_event_timestamp_is_microseconds_even_when_small():
    event = normalise_ga4({"event_name": "x", "user_pseudo_id": "p", "event_timestamp": 1_000_000})
    assert event["timestamp"] == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
