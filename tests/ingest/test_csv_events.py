import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personapulse.ingest import EVENT_KEYS, ItemError, parse_csv_events

from .conftest import RECEIVED_AT, load_text


@pytest.fixture
def events():
    result = parse_csv_events(load_text("events/events.csv"), received_at=RECEIVED_AT)
    assert result.errors == []
    return result.items


def test_default_mapping_reads_common_headers(events):
    assert [e["type"] for e in events] == ["page", "track", "identify", "track", "track"]
    assert [e["_index"] for e in events] == [0, 1, 2, 3, 4]
    page = events[0]
    assert page["source_format"] == "csv"
    assert page["event"] == "Page Viewed"
    assert page["anonymous_id"] == "anon-77"
    assert page["page_path"] == "/"
    assert page["referrer"] == "https://duckduckgo.com/"
    assert (page["utm_source"], page["utm_medium"]) == ("duckduckgo", "organic")
    for event in events:
        assert list(event) == [*EVENT_KEYS, "received_at", "_index"]


def test_extra_columns_go_to_properties_and_trait_columns_to_traits(events):
    assert events[1]["properties"] == {"plan": "solo-1"}
    assert events[2]["traits"] == {"email": "sam.okafor@example.com"}
    assert events[2]["event"] is None


def test_epoch_and_naive_timestamps_revenue_and_query_stripped_path(events):
    order = events[3]
    assert order["timestamp"] == datetime(2024, 4, 8, 8, 5, tzinfo=UTC)
    assert order["revenue"] == 19.9
    assert order["currency"] == "EUR"
    assert order["page_path"] == "/checkout"
    assert events[4]["timestamp"] == datetime(2024, 4, 8, 10, 30, tzinfo=UTC)


def test_row_errors_name_the_csv_column():
    result = parse_csv_events(load_text("events/events_bad_rows.csv"), received_at=RECEIVED_AT)
    assert [e["_index"] for e in result.items] == [0]
    assert result.errors == [
        ItemError(1, "time", "must be an ISO 8601 date-time or epoch number"),
        ItemError(2, "user", "user_id or anonymous_id is required"),
        ItemError(3, "revenue", "must be a number"),
        ItemError(4, "event", "is required for a track event"),
    ]


CUSTOM = (
    "When,Customer,Action,Campaign,Basket\n2024-04-09T10:00:00Z,c-1,Checkout Started,spring,3\n"
)


def test_explicit_mapping_as_dict():
    mapping = {
        "timestamp": "When",
        "user_id": "Customer",
        "event": "Action",
        "utm_campaign": "Campaign",
    }
    result = parse_csv_events(CUSTOM, mapping=mapping, received_at=RECEIVED_AT)
    assert result.errors == []
    event = result.items[0]
    assert (event["user_id"], event["event"], event["utm_campaign"]) == (
        "c-1",
        "Checkout Started",
        "spring",
    )
    assert event["timestamp"] == datetime(2024, 4, 9, 10, tzinfo=UTC)
    assert event["properties"] == {"Basket": "3"}


def test_explicit_mapping_as_json_string_equals_dict():
    as_text = '{"timestamp": "When", "user_id": "Customer", "event": "Action"}'
    from_text = parse_csv_events(CUSTOM, mapping=as_text, received_at=RECEIVED_AT).items
    from_dict = parse_csv_events(
        CUSTOM,
        mapping={"timestamp": "When", "user_id": "Customer", "event": "Action"},
        received_at=RECEIVED_AT,
    ).items
    assert from_text == from_dict
    assert from_text[0]["event_id"] == from_dict[0]["event_id"]


def test_mapping_overrides_a_default_header():
    text = "user_id,account,event\nu-default,acct-9,Signed Up\n"
    event = parse_csv_events(text, mapping={"user_id": "account"}, received_at=RECEIVED_AT).items[0]
    assert event["user_id"] == "acct-9"
    assert event["properties"] == {"user_id": "u-default"}


def test_headers_match_case_and_separator_insensitively():
    text = "User ID,Event Name,Time\nu1,Signed Up,2024-04-09T10:00:00Z\n"
    event = parse_csv_events(text, received_at=RECEIVED_AT).items[0]
    assert (event["user_id"], event["event"]) == ("u1", "Signed Up")


def test_byte_order_mark_and_missing_timestamp():
    text = "\ufeffuserId,event\nu1,Signed Up\n"
    result = parse_csv_events(text, received_at=RECEIVED_AT)
    assert result.errors == []
    assert result.items[0]["timestamp"] is None


def test_same_rows_give_same_ids():
    a = parse_csv_events(load_text("events/events.csv"), received_at=RECEIVED_AT).items
    b = parse_csv_events(
        load_text("events/events.csv"), received_at=datetime(2030, 1, 1, tzinfo=UTC)
    ).items
    assert [e["event_id"] for e in a] == [e["event_id"] for e in b]
    assert len({e["event_id"] for e in a}) == len(a)


def test_ragged_and_blank_rows_are_item_errors():
    text = "userId,event\nu1,A,extra\n,\nu2,B\n"
    result = parse_csv_events(text, received_at=RECEIVED_AT)
    assert [e["user_id"] for e in result.items] == ["u2"]
    assert result.errors == [
        ItemError(0, "", "has more cells than the header"),
        ItemError(1, "", "is empty"),
    ]


def test_bad_type_value():
    result = parse_csv_events("userId,event,type\nu1,A,group\n", received_at=RECEIVED_AT)
    assert result.errors == [
        ItemError(0, "type", "must be one of: track, page, screen, identify, alias")
    ]


@pytest.mark.parametrize(
    ("text", "mapping", "message"),
    [
        ("", None, "empty or has no header"),
        ("userId,event\n", "{not json", "mapping is not valid JSON"),
        ("userId,event\n", "[1, 2]", "mapping must be an object"),
        ("userId,event\n", {"color": "event"}, "not a canonical event key"),
        ("userId,event\n", {"user_id": "missing"}, "names column 'missing', which the CSV lacks"),
        ("userId,event\n", {"user_id": 3}, "must be a CSV column name"),
    ],
)
def test_unusable_body_or_mapping_raises(text, mapping, message):
    with pytest.raises(ValueError, match=message):
        parse_csv_events(text, mapping=mapping, received_at=RECEIVED_AT)


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_any_line_ending(line_end):
    text = line_end.join(["userId,event", "u1,Signed Up", "u2,Cart Viewed"]) + line_end
    result = parse_csv_events(text, received_at=RECEIVED_AT)
    assert result.errors == []
    assert [e["user_id"] for e in result.items] == ["u1", "u2"]


def test_quoted_cells_with_commas_and_newlines():
    text = 'userId,event,note\nu1,Signed Up,"likes curry, hates ""mushrooms""\nand olives"\n'
    event = parse_csv_events(text, received_at=RECEIVED_AT).items[0]
    assert event["properties"] == {"note": 'likes curry, hates "mushrooms"\nand olives'}


_cells = st.sampled_from(
    ["", "u1", "track", "alias", "2024-01-01", "1712563500", "12.5", "nan", "\r"]
)
_headers = st.lists(
    st.sampled_from(
        [
            "userId",
            "event",
            "type",
            "timestamp",
            "revenue",
            "url",
            "previous_id",
            "traits.email",
            "",
        ]
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    header=_headers,
    rows=st.lists(st.lists(_cells | st.text(max_size=4), max_size=7), max_size=4),
    raw=st.text(max_size=30),
)
def test_csv_parser_raises_only_value_error_for_a_whole_body(header, rows, raw):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    for text in (out.getvalue(), raw):
        try:
            result = parse_csv_events(text, received_at=RECEIVED_AT)
        except ValueError:
            continue
        for event in result.items:
            assert event["user_id"] is not None or event["anonymous_id"] is not None
