from datetime import UTC, datetime

import pytest

from personapulse.ingest import parse_events
from personapulse.ingest._common import FieldError
from personapulse.ingest.mixpanel import normalise_mixpanel

from .conftest import RECEIVED_AT, load_jsonl

DEVICE = "18e9a1b2c3d4e5-0a1b2c3d4e5f6a-26001b51-1fa400-18e9a1b2c3d4e5"


@pytest.fixture
def events():
    result = parse_events(load_jsonl("events/mixpanel_export.jsonl"), received_at=RECEIVED_AT)
    assert result.errors == []
    assert {e["source_format"] for e in result.items} == {"mixpanel"}
    return result.items


def test_page_view_with_device_distinct_id_is_anonymous_page(events):
    page = events[0]
    assert page["type"] == "page"
    assert page["event"] == "Page Viewed"
    assert page["user_id"] is None
    assert page["anonymous_id"] == DEVICE
    assert page["event_id"] == "x8k2m4p6r8t0v2w4"
    assert page["timestamp"] == datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
    assert page["page_path"] == "/recipes/thai-green-curry"
    assert page["referrer"] is None  # "$direct" means no referrer
    assert (page["utm_source"], page["utm_medium"], page["utm_campaign"]) == (
        "newsletter",
        "email",
        "april_recipes",
    )
    # reserved ids are lifted out, the rest is kept
    assert "distinct_id" not in page["properties"]
    assert "$insert_id" not in page["properties"]
    assert page["properties"]["mp_lib"] == "web"
    assert page["properties"]["$browser"] == "Chrome"


def test_identified_event_uses_user_id_and_device_id(events):
    added = events[1]
    assert (added["type"], added["event"]) == ("track", "Product Added")
    assert added["user_id"] == "user_2077"
    assert added["anonymous_id"] == DEVICE
    assert added["properties"]["price"] == 29.5


def test_time_in_milliseconds_and_revenue(events):
    order = events[2]
    assert order["timestamp"] == datetime(2024, 4, 2, 9, 10, 2, 123000, tzinfo=UTC)
    assert order["revenue"] == 29.5
    assert order["currency"] == "EUR"


def test_identify_event(events):
    identify = events[3]
    assert identify["type"] == "identify"
    assert identify["event"] is None
    assert identify["user_id"] == "user_2077"
    assert identify["anonymous_id"] == DEVICE


def test_plain_distinct_id_is_the_user_and_missing_insert_id_is_hashed(events):
    feature = events[4]
    assert feature["user_id"] == "user_2077"
    assert feature["anonymous_id"] is None
    assert feature["event_id"].startswith("h:")


def test_create_alias_maps_original_to_previous_id():
    event = normalise_mixpanel(
        {
            "event": "$create_alias",
            "properties": {"distinct_id": "anon-1", "alias": "user_9", "time": 1},
        }
    )
    assert (event["type"], event["previous_id"], event["user_id"]) == ("alias", "anon-1", "user_9")


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        ({"properties": {"distinct_id": "u"}}, "event", "is required"),
        ({"event": "E"}, "properties", "is required"),
        ({"event": "E", "properties": "x"}, "properties", "must be an object"),
        (
            {"event": "E", "properties": {"time": 1}},
            "properties.distinct_id",
            "is required (or $user_id / $device_id)",
        ),
        (
            {"event": "E", "properties": {"distinct_id": "u", "time": "noon"}},
            "properties.time",
            "must be an ISO 8601 date-time or epoch number",
        ),
        (
            {"event": "$create_alias", "properties": {"distinct_id": "a"}},
            "properties.alias",
            "is required for $create_alias",
        ),
    ],
)
def test_invalid_rows(item, field, reason):
    with pytest.raises(FieldError) as caught:
        normalise_mixpanel(item)
    assert (caught.value.field, caught.value.reason) == (field, reason)
