import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personapulse.ingest import (
    EVENT_FORMATS,
    EVENT_KEYS,
    ItemError,
    ParseResult,
    parse_events,
)

from .conftest import RECEIVED_AT, load_json, load_jsonl

TRACK = {
    "type": "track",
    "event": "Cart Viewed",
    "userId": "u1",
    "timestamp": "2024-04-01T10:00:00Z",
}


def test_formats_tuple():
    assert EVENT_FORMATS == ("segment", "mixpanel", "amplitude", "ga4")


@pytest.mark.parametrize(
    "payload", [TRACK, [TRACK], {"batch": [TRACK]}], ids=["object", "list", "envelope"]
)
def test_body_shapes(payload):
    result = parse_events(payload, received_at=RECEIVED_AT)
    assert isinstance(result, ParseResult)
    assert result.errors == []
    assert [e["event"] for e in result.items] == ["Cart Viewed"]
    assert result.items[0]["_index"] == 0


@pytest.mark.parametrize("payload", ["track", 3, None, True, {"batch": "nope"}])
def test_bad_envelopes_raise_value_error(payload):
    with pytest.raises(ValueError):
        parse_events(payload, received_at=RECEIVED_AT)


def test_empty_list_is_an_empty_result():
    assert parse_events([], received_at=RECEIVED_AT) == ParseResult([], [])


def test_mixed_formats_in_one_batch_are_detected_per_item():
    items = [
        load_json("events/segment_batch.json")["batch"][1],
        load_jsonl("events/mixpanel_export.jsonl")[1],
        load_jsonl("events/amplitude_export.jsonl")[1],
        load_jsonl("events/ga4_bigquery_export.jsonl")[1],
    ]
    result = parse_events(items, received_at=RECEIVED_AT)
    assert result.errors == []
    assert [e["source_format"] for e in result.items] == ["segment", "mixpanel", "amplitude", "ga4"]
    for event in result.items:
        # Key order matters: hashed ids are computed over the values in EVENT_KEYS order.
        assert list(event) == [*EVENT_KEYS, "received_at", "_index"]


def test_unknown_item_format_is_an_item_error():
    result = parse_events([TRACK, {"foo": 1}], received_at=RECEIVED_AT)
    assert len(result.items) == 1
    assert len(result.errors) == 1
    assert (result.errors[0].index, result.errors[0].field) == (1, "")
    assert result.errors[0].reason.startswith("is not a known event format")


def test_explicit_format_reads_matching_items():
    rows = load_jsonl("events/mixpanel_export.jsonl")
    result = parse_events(rows, format="mixpanel", received_at=RECEIVED_AT)
    assert result.errors == []
    assert len(result.items) == len(rows)


def test_explicit_format_mismatch_is_an_error_not_a_guess():
    segment_item = load_json("events/segment_batch.json")["batch"][1]
    result = parse_events([segment_item], format="mixpanel", received_at=RECEIVED_AT)
    assert result.items == []
    assert result.errors == [
        ItemError(0, "properties.distinct_id", "is required (or $user_id / $device_id)")
    ]
    amplitude_row = load_jsonl("events/amplitude_export.jsonl")[0]
    result = parse_events(amplitude_row, format="ga4", received_at=RECEIVED_AT)
    assert result.errors == [ItemError(0, "event_name", "is required")]


def test_unknown_format_name_raises():
    with pytest.raises(
        ValueError, match="format must be one of: segment, mixpanel, amplitude, ga4"
    ):
        parse_events([TRACK], format="heap", received_at=RECEIVED_AT)


def test_received_at_is_attached_in_utc():
    local = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    event = parse_events(TRACK, received_at=local).items[0]
    assert event["received_at"] == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert event["received_at"].tzinfo == UTC


def test_identical_resend_gets_the_same_hashed_id_and_changes_change_it():
    first = parse_events([TRACK], received_at=RECEIVED_AT).items[0]["event_id"]
    resent = parse_events([dict(TRACK)], received_at=RECEIVED_AT + timedelta(hours=1)).items[0]
    assert resent["event_id"] == first
    assert first.startswith("h:") and len(first) == 66
    changes = [
        {**TRACK, "timestamp": "2024-04-01T10:00:01Z"},
        {**TRACK, "event": "Checkout Started"},
        {**TRACK, "userId": "u2"},
        {**TRACK, "properties": {"coupon": "A"}},
        {**TRACK, "context": {"campaign": {"source": "x"}}},
    ]
    ids = {parse_events(c, received_at=RECEIVED_AT).items[0]["event_id"] for c in changes}
    assert first not in ids
    assert len(ids) == len(changes)


def test_equivalent_timestamps_hash_alike():
    # The hash is over normalised content: the same instant written two ways is the same event.
    a = parse_events(TRACK, received_at=RECEIVED_AT).items[0]["event_id"]
    b = parse_events({**TRACK, "timestamp": "2024-04-01T12:00:00+02:00"}, received_at=RECEIVED_AT)
    assert b.items[0]["event_id"] == a


def test_given_ids_are_kept_verbatim():
    event = parse_events({**TRACK, "messageId": "abc"}, received_at=RECEIVED_AT).items[0]
    assert event["event_id"] == "abc"


def test_payload_is_not_mutated():
    payload = load_json("events/segment_batch.json")
    snapshot = copy.deepcopy(payload)
    parse_events(payload, received_at=RECEIVED_AT)
    assert payload == snapshot


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Keys the parsers look at, so generated items reach deep code paths, not just "unknown format".
known_keys = st.sampled_from(
    [
        "type",
        "event",
        "name",
        "userId",
        "anonymousId",
        "previousId",
        "messageId",
        "timestamp",
        "originalTimestamp",
        "context",
        "properties",
        "traits",
        "event_type",
        "user_id",
        "device_id",
        "event_time",
        "time",
        "insert_id",
        "$insert_id",
        "uuid",
        "session_id",
        "event_properties",
        "user_properties",
        "revenue",
        "price",
        "quantity",
        "event_name",
        "event_timestamp",
        "user_pseudo_id",
        "event_params",
        "collected_traffic_source",
        "traffic_source",
        "ecommerce",
        "session_traffic_source_last_click",
    ]
)
nested_keys = st.sampled_from(
    [
        "page",
        "campaign",
        "path",
        "url",
        "referrer",
        "source",
        "medium",
        "name",
        "distinct_id",
        "time",
        "$device_id",
        "$user_id",
        "$current_url",
        "revenue",
        "total",
        "key",
        "value",
        "int_value",
        "string_value",
        "manual_source",
        "purchase_revenue",
        "utm_source",
        "alias",
    ]
)
nested = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(nested_keys | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
items = st.dictionaries(known_keys, nested, max_size=8) | json_values


@settings(max_examples=100, deadline=None)
@given(payload=st.lists(items, max_size=5), fmt=st.sampled_from([None, *EVENT_FORMATS]))
def test_parse_events_never_raises_on_arbitrary_items(payload, fmt):
    result = parse_events(payload, format=fmt, received_at=RECEIVED_AT)
    assert len(result.items) + len({e.index for e in result.errors}) == len(payload)
    for event in result.items:
        assert set(event) == {*EVENT_KEYS, "received_at", "_index"}
        assert event["user_id"] is not None or event["anonymous_id"] is not None
        assert event["timestamp"] is None or event["timestamp"].tzinfo == UTC
        assert isinstance(event["event_id"], str) and event["event_id"]


# Format-shaped items with arbitrary values where the parsers dig deepest.
segment_shaped = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "page", "screen", "identify", "alias"]) | json_scalars},
    optional={
        "event": json_scalars,
        "userId": json_scalars,
        "anonymousId": json_scalars,
        "previousId": json_scalars,
        "timestamp": json_scalars,
        "context": st.fixed_dictionaries(
            {},
            optional={
                "page": st.dictionaries(st.sampled_from(["path", "url", "referrer"]), json_scalars),
                "campaign": st.dictionaries(
                    st.sampled_from(["source", "medium", "name", "term", "content"]), json_scalars
                ),
                "traits": json_values,
            },
        ),
        "properties": st.dictionaries(
            st.sampled_from(["revenue", "total", "currency", "name", "path", "url", "referrer"]),
            json_scalars,
        ),
    },
)
ga4_param = st.fixed_dictionaries(
    {"key": json_scalars},
    optional={
        "value": st.dictionaries(
            st.sampled_from(["string_value", "int_value", "double_value", "float_value"]),
            json_scalars,
        )
        | json_scalars
    },
)
ga4_shaped = st.fixed_dictionaries(
    {"event_name": st.sampled_from(["page_view", "screen_view", "purchase"]) | json_scalars},
    optional={
        "event_timestamp": json_scalars,
        "user_pseudo_id": json_scalars,
        "user_id": json_scalars,
        "event_params": st.lists(ga4_param, max_size=4),
        "user_properties": st.lists(ga4_param, max_size=2),
        "ecommerce": st.dictionaries(
            st.sampled_from(["purchase_revenue", "purchase_revenue_in_usd"]), json_scalars
        ),
        "collected_traffic_source": st.dictionaries(
            st.sampled_from(["manual_source", "manual_medium"]), json_scalars
        ),
    },
)


@settings(max_examples=100, deadline=None)
@given(payload=st.lists(segment_shaped | ga4_shaped, max_size=4))
def test_parse_events_never_raises_on_format_shaped_items(payload):
    result = parse_events(payload, received_at=RECEIVED_AT)
    assert len(result.items) + len({e.index for e in result.errors}) == len(payload)


def test_export_rows_partial_batch_across_formats():
    result = parse_events(load_jsonl("events/export_rows_bad_items.jsonl"), received_at=RECEIVED_AT)
    assert [(e["_index"], e["source_format"]) for e in result.items] == [
        (0, "mixpanel"),
        (3, "amplitude"),
        (6, "ga4"),
    ]
    assert result.items[1]["revenue"] == 12.5
    assert result.errors == [
        ItemError(1, "properties.time", "must be an ISO 8601 date-time or epoch number"),
        ItemError(2, "properties.distinct_id", "is required (or $user_id / $device_id)"),
        ItemError(4, "user_id", "user_id or device_id is required"),
        ItemError(5, "event_time", "must be an ISO 8601 date-time or epoch number"),
        ItemError(7, "event_params.0.value", "must be an object"),
        ItemError(8, "user_pseudo_id", "user_pseudo_id or user_id is required"),
    ]
