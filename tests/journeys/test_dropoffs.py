import pandas as pd
import pytest

from personapulse.journeys import dropoffs, with_pain_points

from ._helpers import make_events, page, track

ROWS = (
    [page("a", 0, "/"), page("a", 1, "/pricing")]
    + [page("b", 0, "/"), page("b", 1, "/pricing")]
    + [page("c", 0, "/"), page("c", 1, "/cart"), track("c", 2, "Order Completed")]
    + [page("d", 0, "/"), page("d", 1, "/cart"), page("d", 200, "/help")]
    + [page("e", 0, "/recipes/7")]
)
ASSIGNMENTS = pd.DataFrame(
    {
        "person_id": ["a", "b", "c", "d", "e"],
        "persona_id": ["budget", "budget", "budget", "family", "family"],
    }
)


def test_journey_level_last_steps_without_a_purchase():
    result = dropoffs(make_events(ROWS), assignments=ASSIGNMENTS)
    assert result[
        ["persona_id", "rank", "last_step", "count", "share", "dropped", "total"]
    ].values.tolist() == [
        ["budget", 1, "/pricing", 2, 1.0, 2, 3],
        ["family", 1, "/help", 1, 0.5, 2, 2],
        ["family", 2, "/recipes/:id", 1, 0.5, 2, 2],
    ]


def test_session_level_counts_every_session_without_a_purchase():
    result = dropoffs(make_events(ROWS), assignments=ASSIGNMENTS, level="session")
    family = result[result["persona_id"] == "family"]
    assert dict(zip(family["last_step"], family["count"], strict=True)) == {
        "/cart": 1,
        "/help": 1,
        "/recipes/:id": 1,
    }
    assert family["total"].tolist() == [3, 3, 3]
    budget = result[result["persona_id"] == "budget"]
    assert budget["dropped"].tolist() == [2]  # c's session converted


def test_custom_conversion_and_top():
    result = dropoffs(
        make_events(ROWS), assignments=ASSIGNMENTS, conversion=["/cart", "Order Completed"], top=1
    )
    assert result[["persona_id", "last_step", "count"]].values.tolist() == [
        ["budget", "/pricing", 2],
        ["family", "/recipes/:id", 1],
    ]


def test_with_pain_points():
    drops = dropoffs(make_events(ROWS), assignments=ASSIGNMENTS)
    pains = pd.DataFrame(
        {
            "persona_id": ["budget", "budget", "budget", "budget"],
            "label": ["price too high", "delivery fees", "too few recipes", "app crashes"],
            "count": [12, 30, 2, 5],
        }
    )
    joined = with_pain_points(drops, pains, top=2)
    budget = joined[joined["persona_id"] == "budget"].iloc[0]
    assert budget["pain_points"] == [
        {"label": "delivery fees", "count": 30},
        {"label": "price too high", "count": 12},
    ]
    assert budget["top_pain_point"] == "delivery fees"
    family = joined[joined["persona_id"] == "family"].iloc[0]
    assert family["pain_points"] == []
    assert family["top_pain_point"] is None
    assert "pain_points" not in drops.columns  # input untouched
    with pytest.raises(ValueError, match="label"):
        with_pain_points(drops, pains.drop(columns=["label"]))
