"""Properties of the event parsers that retries and clock trouble rely on.

(The "never raises, every item accounted for" properties live beside each parser's tests.)
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from personapulse.ingest import parse_events, parse_reviews

from .conftest import RECEIVED_AT

ids = st.text(alphabet="abcdefghijklmnop0123456789-", min_size=1, max_size=12)
names = st.text(min_size=1, max_size=20)
props = st.dictionaries(
    st.text(max_size=6),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    max_size=4,
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11))]
    ),
)


def segment_event(with_id: bool):
    base = {
        "type": st.just("track"),
        "event": names,
        "userId": ids,
        "timestamp": instants.map(lambda d: d.isoformat()),
        "properties": props,
    }
    if with_id:
        base["messageId"] = ids
    return st.fixed_dictionaries(base)


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(segment_event(with_id=False), max_size=6), seed=st.randoms())
def test_event_ids_are_deterministic_and_independent_of_batch_order(batch, seed):
    """A sender that retries a batch, or splits / reorders it, gets the same event ids back."""
    first = parse_events(batch, received_at=RECEIVED_AT)
    again = parse_events(copy.deepcopy(batch), received_at=RECEIVED_AT + timedelta(hours=3))
    shuffled = batch[:]
    seed.shuffle(shuffled)
    reordered = parse_events(shuffled, received_at=RECEIVED_AT)
    one_by_one = [parse_events(item, received_at=RECEIVED_AT).items[0] for item in batch]
    ids_first = [e["event_id"] for e in first.items]
    assert ids_first == [e["event_id"] for e in again.items]
    assert sorted(ids_first) == sorted(e["event_id"] for e in reordered.items)
    assert ids_first == [e["event_id"] for e in one_by_one]


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(segment_event(with_id=True), max_size=6))
def test_a_json_round_trip_changes_nothing_and_input_is_never_mutated(batch):
    before = copy.deepcopy(batch)
    direct = parse_events({"batch": batch}, received_at=RECEIVED_AT)
    assert batch == before
    wire = parse_events(orjson.loads(orjson.dumps({"batch": batch})), received_at=RECEIVED_AT)
    assert [e["event_id"] for e in direct.items] == [e["event_id"] for e in wire.items]
    assert [e["timestamp"] for e in direct.items] == [e["timestamp"] for e in wire.items]


@settings(max_examples=150, deadline=None)
@given(when=instants)
def test_any_instant_from_year_1_to_9999_parses_to_the_same_utc_instant(when):
    result = parse_events(
        {"type": "track", "event": "e", "userId": "u", "timestamp": when.isoformat()},
        received_at=RECEIVED_AT,
    )
    assert not result.errors
    parsed = result.items[0]["timestamp"]
    assert parsed is None or (parsed.tzinfo == UTC and parsed == when)


numbers = (
    st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 2**63, -(2**63), 1e308, -1e308, math.nan, math.inf])
)
stamps = (
    numbers
    | st.text(max_size=30)
    | st.sampled_from(
        ["0000-00-00", "+275760-09-13T00:00:00Z", "9999-12-31T23:59:59.999999+14:00", "1-1-1", "T"]
    )
)


@settings(max_examples=200, deadline=None)
@given(stamp=stamps)
def test_absurd_timestamps_never_raise_in_any_format(stamp):
    """Far past, far future, NaN, huge integers, garbage: a usable instant, None, or an item error."""
    items = [
        {"type": "track", "event": "e", "userId": "u", "timestamp": stamp},
        {"event": "e", "properties": {"distinct_id": "u", "time": stamp, "$insert_id": "i"}},
        {"event_type": "e", "user_id": "u", "time": stamp, "insert_id": "i"},
        {"event_name": "page_view", "user_pseudo_id": "u", "event_timestamp": stamp},
    ]
    for item in items:
        result = parse_events(item, received_at=RECEIVED_AT)
        assert len(result.items) + len(result.errors) >= 1
        for event in result.items:
            assert event["timestamp"] is None or event["timestamp"].tzinfo == UTC
    review = parse_reviews(
        [{"source": "google", "review_id": "r", "text": "ok", "created_at": stamp}],
        received_at=RECEIVED_AT,
    )
    assert len(review.items) + len(review.errors) >= 1
