import pandas as pd
import pytest

from personapulse.journeys import clean_path, sessionize, to_steps

from ._helpers import make_events, page, track


def steps_of(frame: pd.DataFrame, **kwargs) -> list[str]:
    return to_steps(frame, **kwargs)["step"].astype(str).tolist()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/recipes/123", "/recipes/:id"),
        ("/recipes/123/reviews/9", "/recipes/:id/reviews/:id"),
        ("/orders/3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b", "/orders/:id"),
        ("/cart/5f3a9c0d2b7e4a1f9c8d", "/cart/:id"),
        ("/pricing?plan=family&utm_source=x", "/pricing"),
        ("/pricing#faq", "/pricing"),
        ("/pricing/", "/pricing"),
        ("/", "/"),
        ("/?ref=home", "/"),
        ("/blog/10-tips-for-meal-prep", "/blog/10-tips-for-meal-prep"),
        ("/recipes/vegan", "/recipes/vegan"),
    ],
)
def test_default_cleaning(raw, expected):
    assert clean_path(raw) == expected


def test_auto_source_uses_paths_for_pages_and_names_for_tracks_and_drops_identify():
    events = make_events(
        [
            page("a", 0, "/recipes/42/"),
            track("a", 1, "Product Added"),
            {"person_id": "a", "minutes": 2, "type": "identify"},
            page("a", 3, "/cart"),
        ]
    )
    steps = to_steps(events)
    assert steps["step"].astype(str).tolist() == ["/recipes/:id", "Product Added", "/cart"]
    assert steps["step_index"].tolist() == [1, 2, 3]
    assert isinstance(steps["step"].dtype, pd.CategoricalDtype)


def test_event_and_page_path_sources():
    events = make_events([page("a", 0, "/"), track("a", 1, "Signed Up"), page("a", 2, "/help")])
    assert steps_of(events, source="event") == ["Page Viewed", "Signed Up", "Page Viewed"]
    assert steps_of(events, source="page_path") == ["/", "/help"]


def test_custom_replacements_as_pairs_or_dicts():
    events = make_events([page("a", 0, "/plans/family-4"), page("a", 1, "/blog/why-kits")])
    rules = [
        (r"^/plans/[^/]+$", "/plans/:plan"),
        {"pattern": r"^/blog/.+$", "replacement": "/blog/:slug"},
    ]
    assert steps_of(events, replacements=rules) == ["/plans/:plan", "/blog/:slug"]


def test_collapse_repeats_only_consecutive():
    events = make_events(
        [
            page("a", 0, "/recipes/1"),
            page("a", 1, "/recipes/2"),
            page("a", 2, "/cart"),
            page("a", 3, "/recipes/3"),
        ]
    )
    assert steps_of(events) == ["/recipes/:id", "/cart", "/recipes/:id"]
    assert steps_of(events, collapse_repeats=False) == [
        "/recipes/:id",
        "/recipes/:id",
        "/cart",
        "/recipes/:id",
    ]


def test_collapse_does_not_cross_persons_or_sessions():
    events = make_events([page("a", 0, "/"), page("b", 1, "/"), page("a", 100, "/")])
    without_sessions = to_steps(events)
    assert without_sessions["person_id"].tolist() == ["a", "b"]
    with_sessions = to_steps(sessionize(events))
    assert with_sessions["person_id"].tolist() == ["a", "a", "b"]
    assert with_sessions["session_index"].tolist() == [1, 2, 1]


def test_start_cut_drops_people_without_the_start_step():
    events = make_events(
        [
            page("a", 0, "/"),
            page("a", 1, "/pricing"),
            page("a", 2, "/cart"),
            page("a", 3, "/pricing"),
            page("b", 0, "/"),
            page("b", 1, "/help"),
        ]
    )
    steps = to_steps(events, start="/pricing")
    assert steps["person_id"].tolist() == ["a", "a", "a"]
    assert steps["step"].astype(str).tolist() == ["/pricing", "/cart", "/pricing"]
    assert steps["step_index"].tolist() == [1, 2, 3]


def test_end_cut_is_inclusive_and_stops_at_the_first_end():
    events = make_events(
        [
            track("a", 0, "Order Completed"),
            page("a", 1, "/"),
            page("a", 2, "/checkout"),
            track("a", 3, "Order Completed"),
            page("a", 4, "/account"),
            track("a", 5, "Order Completed"),
            page("b", 0, "/"),
            page("b", 1, "/help"),
        ]
    )
    assert steps_of(events, end="Order Completed") == ["Order Completed", "/", "/help"]
    # With a start, an end before the start does not count.
    assert steps_of(events, start="/", end="Order Completed") == [
        "/",
        "/checkout",
        "Order Completed",
        "/",
        "/help",
    ]
    assert steps_of(events, start=["/checkout", "/help"]) == [
        "/checkout",
        "Order Completed",
        "/account",
        "Order Completed",
        "/help",
    ]


def test_validation():
    events = make_events([page("a", 0, "/")])
    with pytest.raises(ValueError, match="source"):
        to_steps(events, source="url")
    with pytest.raises(ValueError, match="page_path"):
        to_steps(events.drop(columns=["page_path"]))


def test_prefixed_ids_are_cleaned_but_slugs_stay():
    from personapulse.journeys import clean_path

    assert clean_path("/recipes/r-1014") == "/recipes/:id"
    assert clean_path("/orders/sku_42/") == "/orders/:id"
    assert clean_path("/blog/10-minute-dinners") == "/blog/10-minute-dinners"
    assert clean_path("/plans/classic") == "/plans/classic"
