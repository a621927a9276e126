import pandas as pd
import pytest

from personapulse.journeys import (
    after_dropoff,
    funnel,
    session_channels,
    sessionize,
    to_steps,
    top_paths,
    transitions,
)

from ._helpers import make_events, page, track


def journeys(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    with_sessions = sessionize(make_events(rows))
    return to_steps(with_sessions), session_channels(with_sessions)


def simple(person: str, *steps: str, start: float = 0) -> list[dict]:
    return [track(person, start + i, name) for i, name in enumerate(steps)]


def test_variants_users_and_shares():
    rows = (
        simple("a", "A", "B")
        + simple("b", "A", "B")
        + simple("c", "A", "B")
        + simple("d", "A", "C")
    )
    steps, _ = journeys(rows)
    paths = top_paths(steps)
    assert paths["path"].tolist() == ["A → B", "A → C"]
    assert paths["users"].tolist() == [3, 1]
    assert paths["share"].tolist() == [0.75, 0.25]
    assert paths["rank"].tolist() == [1, 2]
    assert paths["steps"].tolist() == [2, 2]
    assert len(top_paths(steps, top=1)) == 1


def test_messy_journey_rendering_with_channels_leave_and_return():
    rows = [
        page("a", 0, "/", utm_source="google", utm_medium="cpc"),
        page("a", 2, "/pricing"),
        page("a", 24 * 60, "/recipes", referrer="https://www.google.com/"),
        page("a", 48 * 60, "/recipes/1"),
        page("a", 72 * 60, "/recipes/2"),
        page("a", 96 * 60, "/checkout"),
        track("a", 96 * 60 + 1, "Order Completed"),
    ]
    steps, channels = journeys(rows)
    paths = top_paths(steps, sessions=channels)
    assert paths["path"].tolist() == [
        "Paid ads: / → /pricing → leave → Search: /recipes → leave → return ×2: /recipes/:id"
        " → leave → return: /checkout → Order Completed"
    ]
    assert paths["sessions"].tolist() == [5]


def test_first_direct_session_is_direct_not_return_and_identical_journeys_group():
    rows = []
    for person in ("a", "b"):
        rows += [page(person, 0, "/"), page(person, 100, "/"), page(person, 200, "/")]
    rows += [page("c", 0, "/"), page("c", 100, "/cart")]
    steps, channels = journeys(rows)
    paths = top_paths(steps, sessions=channels)
    assert paths["path"].tolist() == [
        "Direct: / → leave → return ×2: /",
        "Direct: / → leave → return: /cart",
    ]
    assert paths["users"].tolist() == [2, 1]


def test_channel_distinguishes_variants():
    rows = [
        page("a", 0, "/", referrer="https://t.co/x"),
        page("b", 0, "/", referrer="https://www.tiktok.com/"),
    ]
    steps, channels = journeys(rows)
    paths = top_paths(steps, sessions=channels)
    assert sorted(paths["path"]) == ["TikTok: /", "X: /"]
    assert top_paths(steps)["path"].tolist() == ["/"]  # without channel information


def test_per_session_variants_count_sessions_and_users():
    rows = [page("a", 0, "/"), page("a", 100, "/"), page("b", 0, "/"), page("b", 1, "/cart")]
    steps, _ = journeys(rows)
    paths = top_paths(steps, across_sessions=False)
    assert paths["path"].tolist() == ["/", "/ → /cart"]
    assert paths["users"].tolist() == [1, 1]
    assert paths["count"].tolist() == [2, 1]


def test_per_persona_paths_and_unassigned_people_left_out():
    rows = simple("a", "A", "B") + simple("b", "A", "C") + simple("c", "A", "C") + simple("z", "Q")
    steps, _ = journeys(rows)
    assignments = pd.DataFrame({"person_id": ["a", "b", "c"], "persona_id": ["p1", "p1", "p2"]})
    paths = top_paths(steps, assignments=assignments)
    assert paths[["persona_id", "rank", "path", "users", "share"]].values.tolist() == [
        ["p1", 1, "A → B", 1, 0.5],
        ["p1", 2, "A → C", 1, 0.5],
        ["p2", 1, "A → C", 1, 1.0],
    ]
    with pytest.raises(ValueError, match="persona_id"):
        top_paths(steps, assignments=assignments.rename(columns={"persona_id": "p"}))


def test_transitions_are_numbered_by_step():
    rows = simple("a", "A", "B", "C") + simple("b", "A", "C") + simple("c", "A", "B", "C")
    steps, _ = journeys(rows)
    edges = transitions(steps)
    as_tuples = {
        (r.step_number, r.source, r.target): (r.count, r.users) for r in edges.itertuples()
    }
    assert as_tuples == {(1, "A", "B"): (2, 2), (2, "B", "C"): (2, 2), (1, "A", "C"): (1, 1)}
    assert edges["count"].tolist()[0] == 2
    assert len(transitions(steps, max_step=1)) == 2
    assert len(transitions(steps, top=1)) == 1


def test_transitions_exit_edges_and_per_session_numbering():
    rows = [track("a", 0, "A"), track("a", 1, "B"), track("a", 100, "A"), track("a", 101, "B")]
    steps, _ = journeys(rows)
    person_edges = transitions(steps, exit_label="(exit)")
    assert {(r.step_number, r.source, r.target) for r in person_edges.itertuples()} == {
        (1, "A", "B"),
        (2, "B", "A"),
        (3, "A", "B"),
        (4, "B", "(exit)"),
    }
    session_edges = transitions(steps, by_session=True, exit_label="(exit)")
    rows_out = {
        (r.step_number, r.source, r.target): (r.count, r.users) for r in session_edges.itertuples()
    }
    assert rows_out == {(1, "A", "B"): (2, 1), (2, "B", "(exit)"): (2, 1)}


def test_transitions_per_persona():
    rows = simple("a", "A", "B") + simple("b", "A", "C")
    steps, _ = journeys(rows)
    assignments = pd.DataFrame({"person_id": ["a", "b"], "persona_id": ["p1", "p2"]})
    edges = transitions(steps, assignments=assignments)
    assert edges[["persona_id", "source", "target"]].values.tolist() == [
        ["p1", "A", "B"],
        ["p2", "A", "C"],
    ]


def test_after_dropoff_by_step():
    rows = (
        [
            page("a", 0, "/cart"),
            page("a", 1, "/help"),
            page("a", 200, "/search", referrer="https://www.google.com/"),
        ]
        + [page("b", 0, "/cart"), page("b", 1, "/help")]
        + [page("c", 0, "/cart"), page("c", 1, "/checkout"), track("c", 2, "Order Completed")]
        + [page("d", 0, "/cart")]
    )
    steps, channels = journeys(rows)
    result = after_dropoff(
        steps, at="/cart", next_step="Order Completed", sessions=channels, horizon=2
    )
    assert set(result["continuation"]) == {"(end)", "/help", "/help → leave → Search: /search"}
    assert result["users"].sum() == 3  # c converted
    assert result["share"].sum() == pytest.approx(1.0)
    everyone = after_dropoff(steps, at="/cart", horizon=1)
    assert dict(zip(everyone["continuation"], everyone["users"], strict=True)) == {
        "/help": 2,
        "/checkout": 1,
        "(end)": 1,
    }


def test_after_dropoff_from_a_funnel_result():
    rows = (
        [page("a", 0, "/pricing"), page("a", 1, "/deals"), page("a", 2, "/help")]
        + [page("b", 0, "/pricing"), page("b", 1, "/cart")]
        + [page("c", 0, "/pricing"), page("c", 1, "/deals")]
    )
    events = sessionize(make_events(rows))
    result = funnel(events, ["/pricing", "/cart"])
    steps = to_steps(events)
    after = after_dropoff(steps, funnel_result=result, dropped_at_step=1, horizon=2)
    assert dict(zip(after["continuation"], after["users"], strict=True)) == {
        "/deals → /help": 1,
        "/deals": 1,
    }


def test_empty_frames_give_empty_results():
    from personapulse.journeys import dropoffs

    events = make_events([]).astype({"person_id": object})
    with_sessions = sessionize(events)
    assert list(with_sessions.columns[-3:]) == ["session_index", "session_key", "event_order"]
    channels = session_channels(with_sessions)
    steps = to_steps(with_sessions)
    assert len(channels) == 0 and len(steps) == 0
    assert top_paths(steps, sessions=channels).empty
    assert transitions(steps).empty
    assert after_dropoff(steps, at="/").empty
    assert funnel(with_sessions, ["A", "B"]).steps["count"].tolist() == [0, 0]
    assignments = pd.DataFrame({"person_id": [], "persona_id": []})
    assert dropoffs(events, assignments=assignments).empty
