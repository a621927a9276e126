import pytest

from personapulse.ingest import detect_format

from .conftest import load_json, load_jsonl


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("events/mixpanel_export.jsonl", "mixpanel"),
        ("events/amplitude_export.jsonl", "amplitude"),
        ("events/ga4_bigquery_export.jsonl", "ga4"),
    ],
)
def test_every_export_row_is_detected(sample, expected):
    assert {detect_format(row) for row in load_jsonl(sample)} == {expected}


def test_every_segment_call_is_detected():
    items = load_json("events/segment_batch.json")["batch"]
    assert {detect_format(item) for item in items} == {"segment"}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"type": "track", "event": "E"}, "segment"),
        ({"anonymousId": "a", "event": "E", "properties": {"time": 1}}, "segment"),
        ({"messageId": "m"}, "segment"),
        ({"event": "E", "properties": {"distinct_id": "d"}}, "mixpanel"),
        ({"event": "E", "properties": {"$insert_id": "i"}}, "mixpanel"),
        ({"event_type": "E", "user_id": "u"}, "amplitude"),
        ({"event_name": "page_view", "event_timestamp": "1"}, "ga4"),
        ({"event_name": "page_view", "user_pseudo_id": "p"}, "ga4"),
    ],
)
def test_detection_by_keys(item, expected):
    assert detect_format(item) == expected


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"event": "E"},
        {"event": "E", "properties": {"color": "red"}},
        {"event_name": "x"},
        {"name": "x"},
    ],
)
def test_unknown_shapes_raise_value_error(item):
    with pytest.raises(ValueError, match="not a known event format"):
        detect_format(item)


def test_non_objects_raise_value_error():
    with pytest.raises(ValueError, match="must be a JSON object"):
        detect_format(["type", "track"])
