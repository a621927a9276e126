import pandas as pd
import pytest

from personapulse.nlp.classify import classify_conversations, classify_review, classify_reviews
from personapulse.nlp.sentiment import SentimentAnalyzer


@pytest.fixture(scope="module")
def analyzer():
    return SentimentAnalyzer()


def test_classify_review_shape(analyzer):
    out = classify_review(
        {
            "review_id": "r1",
            "title": "Never again",
            "text": "Tasty recipes, but my box arrived damaged and support never replied.",
            "rating": 1,
        },
        analyzer,
    )
    assert set(out) == {
        "review_id",
        "sentiment_label",
        "sentiment_score",
        "pain_points",
        "motivations",
        "keywords",
    }
    assert out["review_id"] == "r1"
    assert out["sentiment_label"] == "negative"
    assert {p["label"] for p in out["pain_points"]} == {"shipping_delivery", "support"}
    assert {m["label"] for m in out["motivations"]} == {"quality"}
    for span in out["pain_points"]:
        assert set(span) >= {"label", "phrase", "start", "end"}
    with pytest.raises(ValueError):
        classify_review({"review_id": "x"}, analyzer)


def test_classify_reviews_frame(analyzer):
    reviews = pd.DataFrame(
        {
            "review_id": ["a", "b", "c"],
            "person_id": ["p1", None, "p2"],
            "source": ["google", "trustpilot", "app_store"],
            "rating": [5.0, float("nan"), 2.0],
            "title": [None, "", "Meh"],
            "text": ["Fresh and tasty, saves me time.", "The app keeps crashing.", None],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
        }
    )
    before = reviews.copy()
    out = classify_reviews(reviews, analyzer=analyzer)
    pd.testing.assert_frame_equal(reviews, before)
    assert list(out["review_id"]) == ["a", "b", "c"]
    for col in ["sentiment_label", "sentiment_score", "pain_points", "motivations", "keywords"]:
        assert col in out.columns
    assert out["person_id"].isna().tolist() == [False, True, False]
    assert out.loc[0, "sentiment_label"] == "positive"
    assert [p["label"] for p in out.loc[1, "pain_points"]] == ["performance_bugs"]
    assert out.loc[2, "pain_points"] == [] and out.loc[2, "text"] == ""
    # same answer as the single-review path
    single = classify_review(reviews.iloc[1].to_dict(), analyzer)
    assert single["sentiment_score"] == out.loc[1, "sentiment_score"]


def test_missing_columns_are_named(analyzer):
    with pytest.raises(ValueError, match="text"):
        classify_reviews(pd.DataFrame({"review_id": [1]}), analyzer=analyzer)
    with pytest.raises(ValueError, match="conversation_id"):
        classify_conversations(pd.DataFrame({"text": ["x"]}), analyzer=analyzer)


def test_empty_frame(analyzer):
    out = classify_reviews(pd.DataFrame({"review_id": [], "text": []}), analyzer=analyzer)
    assert len(out) == 0 and "pain_points" in out.columns


def test_classify_conversations_uses_the_customer_side(analyzer):
    conversations = pd.DataFrame(
        {
            "conversation_id": ["c1", "c2"],
            "person_id": ["p1", "p2"],
            "kind": ["call", "chat"],
            "subject": ["Billing question", "Upgrade"],
            "text": [
                "Agent: Do you want to cancel your subscription?\n"
                "Customer: I was charged twice this month.\nIs there a discount for families?",
                "How do I upgrade to the family plan? The meal planner is great.",
            ],
        }
    )
    out = classify_conversations(conversations, analyzer=analyzer)
    first = out.iloc[0]
    assert "cancel" not in first["text"].lower()  # the agent's line is gone
    assert [i["intent"] for i in first["intents"]] == ["hesitating"]
    assert [p["label"] for p in first["pain_points"]] == ["billing"]
    second = out.iloc[1]
    assert [i["intent"] for i in second["intents"]] == ["buying"]
    assert [m["label"] for m in second["motivations"]] == ["features"]
    assert list(out["kind"]) == ["call", "chat"]
