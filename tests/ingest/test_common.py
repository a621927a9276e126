from datetime import UTC, datetime, timedelta, timezone

import pytest

from personapulse.ingest._common import (
    TIMESTAMP_REASON,
    content_hash,
    epoch_to_datetime,
    fill_from_url,
    parse_timestamp,
    text_hash,
    unwrap,
    utm_from_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-04-01T09:00:00.123Z", datetime(2024, 4, 1, 9, 0, 0, 123000, tzinfo=UTC)),
        ("2024-04-01T11:00:00+02:00", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        ("2024-04-01T14:30:00+0530", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        ("2024-04-01T09:00:00", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        ("2024-04-01 09:00:00.250000", datetime(2024, 4, 1, 9, 0, 0, 250000, tzinfo=UTC)),
        ("2024-04-01", datetime(2024, 4, 1, tzinfo=UTC)),
        ("20240401T090000Z", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        (" 2024-04-01T09:00:00Z ", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        (1711962000, datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        (1711962000.5, datetime(2024, 4, 1, 9, 0, 0, 500000, tzinfo=UTC)),
        (1711962000123, datetime(2024, 4, 1, 9, 0, 0, 123000, tzinfo=UTC)),
        (1711962000123456, datetime(2024, 4, 1, 9, 0, 0, 123456, tzinfo=UTC)),
        (1711962000123456789, datetime(2024, 4, 1, 9, 0, 0, 123457, tzinfo=UTC)),
        ("1711962000", datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        ("1711962000123", datetime(2024, 4, 1, 9, 0, 0, 123000, tzinfo=UTC)),
        ("1711962000.25", datetime(2024, 4, 1, 9, 0, 0, 250000, tzinfo=UTC)),
        (datetime(2024, 4, 1, 9, 0), datetime(2024, 4, 1, 9, 0, tzinfo=UTC)),
        (
            datetime(2024, 4, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2024, 4, 1, 9, 0, tzinfo=UTC),
        ),
    ],
)
def test_parse_timestamp_reads_iso_and_epoch_forms_as_aware_utc(raw, expected):
    parsed = parse_timestamp(raw)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("raw", [None, ""])
def test_parse_timestamp_missing_is_none(raw):
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["yesterday", "2024-13-01T00:00:00Z", "2024-04-01T24:00:00", -5, float("nan"), float("inf")]
    + [True, [2024], {"t": 1}, 10**30, "9" * 40],
)
def test_parse_timestamp_rejects_unreadable_values(raw):
    with pytest.raises(ValueError, match="ISO 8601 date-time or epoch number"):
        parse_timestamp(raw)


def test_epoch_unit_can_be_fixed_by_the_format():
    # 1.7e9 read as microseconds is 28 minutes after the epoch, not 2024.
    assert epoch_to_datetime(1_711_962_000, "us") == datetime(1970, 1, 1, 0, 28, 31, 962000, UTC)
    assert parse_timestamp("1711962000000", unit="ms") == datetime(2024, 4, 1, 9, 0, tzinfo=UTC)


def test_timestamp_reason_is_operator_wording():
    assert TIMESTAMP_REASON == "must be an ISO 8601 date-time or epoch number"


def test_content_hash_is_stable_and_sensitive_to_content():
    first = {"a": 1, "b": {"x": [1, 2]}, "t": datetime(2024, 1, 1, tzinfo=UTC)}
    same_other_order = {"t": datetime(2024, 1, 1, tzinfo=UTC), "b": {"x": [1, 2]}, "a": 1}
    assert content_hash(first) == content_hash(same_other_order)
    assert content_hash(first).startswith("h:")
    assert len(content_hash(first)) == 2 + 64
    assert content_hash(first) != content_hash({**first, "a": 2})


def test_content_hash_handles_integers_beyond_64_bits():
    assert content_hash({"n": 2**70}) == content_hash({"n": 2**70})
    assert content_hash({"n": 2**70}) != content_hash({"n": 2**70 + 1})


def test_content_hash_handles_integers_beyond_the_int_to_text_limit():
    huge = 10**5000
    assert content_hash({"n": huge}) == content_hash({"n": huge})
    assert content_hash({"n": huge}) != content_hash({"n": huge + 1})


def test_text_hash_renders_none_and_datetimes():
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert text_hash("google", "ok", None, when) == text_hash("google", "ok", "", when.isoformat())
    assert text_hash("google", "ok", None, when) != text_hash("google", "ok!", None, when)


def test_utm_from_url_takes_first_values_of_utm_keys_only():
    url = "https://x.example/p?utm_source=a&utm_source=b&utm_medium=&ref=z&utm_campaign=c%20d"
    assert utm_from_url(url) == {"utm_source": "a", "utm_campaign": "c d"}
    assert utm_from_url("https://x.example/p?q=1") == {}


def test_fill_from_url_derives_path_and_keeps_explicit_utm():
    event = {
        "page_url": "https://x.example/recipes/1?utm_source=mail&utm_medium=email",
        "page_path": None,
        **{k: None for k in ("utm_source", "utm_medium", "utm_campaign", "utm_term")},
        "utm_content": None,
    }
    event["utm_source"] = "explicit"
    fill_from_url(event)
    assert event["page_path"] == "/recipes/1"
    assert event["utm_source"] == "explicit"
    assert event["utm_medium"] == "email"


def test_fill_from_url_strips_query_from_given_path_and_bare_host_is_root():
    event = {"page_url": None, "page_path": "/cart?step=2#top"}
    fill_from_url(event)
    assert event["page_path"] == "/cart"
    event = {"page_url": "https://x.example", "page_path": None, "utm_source": None}
    fill_from_url(event)
    assert event["page_path"] == "/"


def test_unwrap_accepts_object_list_and_envelope():
    assert unwrap({"a": 1}, "batch", "event") == [{"a": 1}]
    assert unwrap([{"a": 1}, 2], "batch", "event") == [{"a": 1}, 2]
    assert unwrap({"batch": []}, "batch", "event") == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("text", "got a string"),
        (None, "got null"),
        (12, "got a number"),
        ({"batch": {"type": "track"}}, '"batch" must be a list of event objects, got an object'),
    ],
)
def test_unwrap_rejects_other_shapes_with_a_clear_message(payload, message):
    with pytest.raises(ValueError, match=message):
        unwrap(payload, "batch", "event")
