import json

import pandas as pd
import pytest

from personapulse.journeys import Exclusion, FunnelStep, funnel, sessionize

from ._helpers import make_events, page, track


def counts(result) -> list[int]:
    return result.steps["count"].tolist()


def run(rows, steps=("A", "B", "C"), **kwargs):
    return funnel(make_events(rows), list(steps), **kwargs)


# --- order modes -------------------------------------------------------------------------


def test_ordered_allows_other_events_between_steps():
    rows = [
        track("a", 0, "A"),
        track("a", 1, "X"),
        track("a", 2, "B"),
        track("a", 3, "Y"),
        track("a", 4, "C"),
    ]
    assert counts(run(rows)) == [1, 1, 1]


def test_ordered_requires_the_order():
    rows = [track("a", 0, "B"), track("a", 1, "A"), track("a", 2, "C")]
    assert counts(run(rows)) == [1, 0, 0]


def test_ordered_conversion_and_dropoff_figures():
    rows = (
        [track("a", 0, "A"), track("a", 1, "B"), track("a", 2, "C")]
        + [track("b", 0, "A"), track("b", 1, "B")]
        + [track("c", 0, "A")]
        + [track("d", 0, "A")]
        + [track("e", 0, "B")]  # never entered
    )
    table = run(rows).steps
    assert table["count"].tolist() == [4, 2, 1]
    assert table["conversion_from_previous"].tolist() == [1.0, 0.5, 0.5]
    assert table["conversion_from_first"].tolist() == [1.0, 0.5, 0.25]
    assert table["dropoff"].tolist() == [0, 2, 1]
    assert table["dropoff_rate"].tolist() == [0.0, 0.5, 0.5]
    assert table["name"].tolist() == ["A", "B", "C"]


def test_strict_requires_consecutive_events():
    interrupted = [track("a", 0, "A"), track("a", 1, "X"), track("a", 2, "B"), track("a", 3, "C")]
    assert counts(run(interrupted, order="strict")) == [1, 0, 0]
    clean = [track("a", 0, "A"), track("a", 1, "B"), track("a", 2, "C")]
    assert counts(run(clean, order="strict")) == [1, 1, 1]
    # a later clean attempt counts
    retry = interrupted + [track("a", 10, "A"), track("a", 11, "B"), track("a", 12, "X")]
    assert counts(run(retry, order="strict")) == [1, 1, 0]


def test_any_order():
    rows = [track("a", 0, "C"), track("a", 1, "A"), track("a", 2, "B")] + [track("b", 0, "B")]
    result = run(rows, order="any")
    assert counts(result) == [2, 1, 1]
    assert counts(run(rows)) == [1, 1, 0]  # ordered: the C before A does not count
    with pytest.raises(ValueError, match="any"):
        run(rows, order="any", exclusions=["X"])
    with pytest.raises(ValueError, match="twice"):
        funnel(make_events(rows), ["A", "A"], order="any")


def test_any_order_window_and_time_to_convert():
    rows = [track("a", 0, "B"), track("a", 2, "A"), track("a", 5, "C")]
    result = run(rows, order="any", window="4min")
    # from B at 0: B, A within 4 min; from A at 2: A, C (B is before it); never all three
    assert counts(result) == [1, 1, 0]
    assert result.steps["avg_time_to_convert_s"].tolist()[1] == 120.0


# --- windows -----------------------------------------------------------------------------


def test_conversion_window_from_the_first_step():
    rows = [track("a", 0, "A"), track("a", 60, "B"), track("a", 120, "C")]
    assert counts(run(rows, window="2h")) == [1, 1, 1]  # exactly at the window counts
    assert counts(run(rows, window="119min")) == [1, 1, 0]
    assert counts(run(rows, window="30m")) == [1, 0, 0]
    assert counts(run(rows, window=None)) == [1, 1, 1]


def test_window_days_and_timedelta():
    rows = [track("a", 0, "A"), track("a", 6 * 24 * 60, "B"), track("a", 8 * 24 * 60, "C")]
    assert counts(run(rows)) == [1, 1, 0]  # default 7 days
    assert counts(run(rows, window=pd.Timedelta(days=8))) == [1, 1, 1]
    assert run(rows).window_seconds == 7 * 86400


def test_per_step_windows_measure_from_the_previous_step():
    rows = [track("a", 0, "A"), track("a", 10, "B"), track("a", 50, "C")]
    assert counts(run(rows, step_windows=["15min", "45min"])) == [1, 1, 1]
    assert counts(run(rows, step_windows=["15min", "30min"])) == [1, 1, 0]
    assert counts(run(rows, step_windows={2: "5min"})) == [1, 0, 0]
    within = [FunnelStep(event="A"), FunnelStep(event="B"), FunnelStep(event="C", within="30min")]
    assert counts(funnel(make_events(rows), within)) == [1, 1, 0]
    with pytest.raises(ValueError, match="step_windows"):
        run(rows, step_windows=["1h"])


def test_a_later_attempt_that_goes_further_is_counted():
    rows = [
        track("a", 0, "A"),
        track("a", 10 * 24 * 60, "A"),
        track("a", 10 * 24 * 60 + 1, "B"),
        track("a", 10 * 24 * 60 + 2, "C"),
    ]
    result = run(rows)
    assert counts(result) == [1, 1, 1]
    assert result.persons["step_1_time"].iloc[0] == make_events(rows)["timestamp"].iloc[1]


# --- one event one step, equal timestamps ------------------------------------------------


def test_each_event_satisfies_at_most_one_step():
    once = [track("a", 0, "Product Viewed")]
    twice = once + [track("a", 1, "Product Viewed")]
    steps = ["Product Viewed", "Product Viewed"]
    assert counts(funnel(make_events(once), steps)) == [1, 0]
    assert counts(funnel(make_events(twice), steps)) == [1, 1]
    same_time = once + [track("a", 0, "Product Viewed")]
    assert counts(funnel(make_events(same_time), steps + ["Product Viewed"])) == [1, 1, 0]


def test_equal_timestamps_count_as_in_order():
    rows = [track("a", 0, "B"), track("a", 0, "A"), track("a", 0, "C")]
    assert counts(run(rows)) == [1, 1, 1]
    assert counts(run(rows, order="strict")) == [1, 1, 1]


# --- time to convert ---------------------------------------------------------------------


def test_time_to_convert_average_and_median():
    rows = []
    for person, minutes in (("a", 1), ("b", 2), ("c", 10)):
        rows += [track(person, 0, "A"), track(person, minutes, "B")]
    rows += [track("d", 0, "A")]
    table = funnel(make_events(rows), ["A", "B"]).steps
    assert table["avg_time_to_convert_s"].tolist()[1] == pytest.approx((60 + 120 + 600) / 3)
    assert table["median_time_to_convert_s"].tolist()[1] == 120.0
    assert pd.isna(table["avg_time_to_convert_s"].tolist()[0])


def test_time_to_convert_uses_the_counted_attempt():
    rows = [track("a", 0, "A"), track("a", 5, "A"), track("a", 6, "B")]
    result = funnel(make_events(rows), ["A", "B"])
    # the earliest attempt that reaches B starts at minute 0
    assert result.steps["avg_time_to_convert_s"].tolist()[1] == 360.0


# --- exclusions --------------------------------------------------------------------------


EXCLUSION_ROWS = (
    # a: excluded event between A and B in the first attempt, then a clean attempt
    [
        track("a", 0, "A"),
        track("a", 1, "Support Ticket Opened"),
        track("a", 2, "B"),
        track("a", 30, "A"),
        track("a", 31, "B"),
    ]
    # b: clean
    + [track("b", 0, "A"), track("b", 1, "B")]
    # c: excluded event after B (outside the attached steps)
    + [track("c", 0, "A"), track("c", 1, "B"), track("c", 2, "Support Ticket Opened")]
)


def test_posthog_exclusion_removes_the_person_from_the_funnel():
    result = funnel(make_events(EXCLUSION_ROWS), ["A", "B"], exclusions=["Support Ticket Opened"])
    assert counts(result) == [2, 2]
    assert result.persons_excluded == 1
    assert sorted(result.persons["person_id"]) == ["b", "c"]


def test_mixpanel_exclusion_only_invalidates_the_attempt():
    result = funnel(
        make_events(EXCLUSION_ROWS),
        ["A", "B"],
        exclusions=["Support Ticket Opened"],
        exclusion_mode="mixpanel",
    )
    assert counts(result) == [3, 3]
    assert result.persons_excluded == 0
    person_a = result.persons.set_index("person_id").loc["a"]
    assert person_a["step_1_time"] == make_events(EXCLUSION_ROWS)["timestamp"].iloc[3]


def test_mixpanel_exclusion_without_a_clean_retry_drops_at_the_from_step():
    rows = [track("a", 0, "A"), track("a", 1, "X"), track("a", 2, "B"), track("a", 3, "C")]
    result = run(
        rows, exclusions=[{"event": "X", "from_step": 1, "to_step": 2}], exclusion_mode="mixpanel"
    )
    assert counts(result) == [1, 0, 0]


def test_exclusion_is_attached_to_its_steps():
    rows = [track("a", 0, "A"), track("a", 1, "X"), track("a", 2, "B"), track("a", 3, "C")]
    assert counts(run(rows, exclusions=[Exclusion(FunnelStep(event="X"), 2, 3)])) == [1, 1, 1]
    assert counts(run(rows, exclusions=[Exclusion(FunnelStep(event="X"), 1, 2)])) == [0, 0, 0]
    assert counts(run(rows, exclusions=["X"])) == [0, 0, 0]  # whole funnel by default
    with pytest.raises(ValueError, match="from_step"):
        run(rows, exclusions=[Exclusion(FunnelStep(event="X"), 2, 2)])


def test_exclusion_does_not_apply_when_the_to_step_was_not_reached():
    rows = [track("a", 0, "A"), track("a", 1, "X")]
    assert counts(run(rows, steps=["A", "B"], exclusions=["X"])) == [1, 0]


def test_exclusion_at_the_same_timestamp_as_a_step_counts_as_between():
    rows = [track("a", 0, "A"), track("a", 1, "B"), track("a", 1, "X")]
    assert counts(run(rows, steps=["A", "B"], exclusions=["X"])) == [0, 0]


# --- step definitions --------------------------------------------------------------------


def test_page_path_steps_are_cleaned_and_regex_steps_full_match():
    rows = [
        page("a", 0, "/recipes/42"),
        page("a", 1, "/plans/family-4/"),
        track("a", 2, "Order Completed"),
    ]
    steps = ["/recipes/:id", {"page_path_regex": r"/plans/[a-z0-9-]+"}, "Order Completed"]
    assert counts(funnel(make_events(rows), steps)) == [1, 1, 1]
    assert counts(funnel(make_events(rows), steps, replacements=())) == [0, 0, 0]


def test_property_filters():
    rows = [
        track("a", 0, "Checkout Started"),
        track("a", 1, "Order Completed", revenue=80.0, utm_source="google"),
    ] + [
        track("b", 0, "Checkout Started"),
        track("b", 1, "Order Completed", revenue=10.0, utm_source="bing"),
    ]
    events = make_events(rows)
    big = FunnelStep(event="Order Completed", where={"revenue": lambda r: r > 50}, name="Big order")
    result = funnel(events, ["Checkout Started", big])
    assert counts(result) == [2, 1]
    assert result.steps["name"].tolist() == ["Checkout Started", "Big order"]
    by_source = funnel(
        events,
        ["Checkout Started", {"event": "Order Completed", "where": {"utm_source": ["bing"]}}],
    )
    assert counts(by_source) == [2, 1]
    assert counts(
        funnel(
            events,
            ["Checkout Started", {"event": "Order Completed", "where": {"utm_source": "yahoo"}}],
        )
    ) == [2, 0]


# --- breakdowns and output ---------------------------------------------------------------


def test_breakdown_by_persona():
    rows = (
        [track("a", 0, "A"), track("a", 1, "B")]
        + [track("b", 0, "A")]
        + [track("c", 0, "A"), track("c", 1, "B")]
        + [track("z", 0, "A")]
    )
    assignments = pd.DataFrame(
        {"person_id": ["a", "b", "c"], "persona_id": ["budget", "budget", "family"]}
    )
    result = funnel(make_events(rows), ["A", "B"], breakdown="persona", assignments=assignments)
    table = result.breakdown.set_index(["persona_id", "step"])["count"].to_dict()
    assert table == {
        ("(unassigned)", 1): 1,
        ("(unassigned)", 2): 0,
        ("budget", 1): 2,
        ("budget", 2): 1,
        ("family", 1): 1,
        ("family", 2): 1,
    }
    assert counts(result) == [4, 2]
    frame = result.to_frame()
    assert frame[frame["persona_id"] == "all"]["count"].tolist() == [4, 2]
    with pytest.raises(ValueError, match="assignments"):
        funnel(make_events(rows), ["A", "B"], breakdown="persona")


def test_breakdown_by_entry_channel():
    rows = (
        [
            page("a", 0, "/", utm_source="google", utm_medium="cpc"),
            page("a", 200, "/cart", referrer="https://t.co/x"),
        ]
        + [page("b", 0, "/", referrer="https://www.google.com/"), page("b", 1, "/cart")]
        + [
            page("c", 0, "/help", referrer="https://t.co/x"),
            page("c", 5, "/"),
            page("c", 6, "/cart"),
        ]
    )
    result = funnel(make_events(rows), ["/", "/cart"], breakdown="channel")
    table = result.breakdown.set_index(["channel", "step"])["count"].to_dict()
    # c entered the funnel (at "/") in a session that started from X
    assert table == {
        ("paid_ads", 1): 1,
        ("paid_ads", 2): 1,
        ("search", 1): 1,
        ("search", 2): 1,
        ("social_x", 1): 1,
        ("social_x", 2): 1,
    }
    # a sessionized frame gives the same answer through its event_order fast path
    again = funnel(sessionize(make_events(rows)), ["/", "/cart"], breakdown="channel")
    pd.testing.assert_frame_equal(again.breakdown, result.breakdown)


def test_to_dict_is_json_serialisable():
    rows = [track("a", 0, "A"), track("a", 1, "B"), track("b", 0, "A")]
    assignments = pd.DataFrame({"person_id": ["a", "b"], "persona_id": ["p1", "p2"]})
    payload = funnel(
        make_events(rows), ["A", "B"], breakdown="persona", assignments=assignments
    ).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["steps"][1]["count"] == 1
    assert payload["steps"][0]["avg_time_to_convert_s"] is None
    assert payload["breakdown"]["p2"][1]["count"] == 0
    assert payload["persons_entered"] == 2


def test_input_is_not_mutated_and_row_order_does_not_matter():
    rows = [track("a", 2, "C"), track("a", 0, "A"), track("b", 0, "A"), track("a", 1, "B")]
    events = make_events(rows)
    before = events.copy()
    assert counts(funnel(events, ["A", "B", "C"])) == [2, 1, 1]
    pd.testing.assert_frame_equal(events, before)
    shuffled = events.sample(frac=1, random_state=3)
    assert counts(funnel(shuffled, ["A", "B", "C"])) == [2, 1, 1]


def test_validation():
    events = make_events([track("a", 0, "A")])
    with pytest.raises(ValueError, match="two steps"):
        funnel(events, ["A"])
    with pytest.raises(ValueError, match="order"):
        funnel(events, ["A", "B"], order="loose")
    with pytest.raises(ValueError, match="exclusion_mode"):
        funnel(events, ["A", "B"], exclusion_mode="amplitude")
    with pytest.raises(ValueError, match="person_id"):
        funnel(events.drop(columns=["person_id"]), ["A", "B"])
    with pytest.raises(ValueError, match="needs an event"):
        FunnelStep()
