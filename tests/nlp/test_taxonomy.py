import pytest

from personapulse.nlp.taxonomy import (
    MOTIVATIONS,
    PAIN_POINTS,
    category,
    detect_aspects,
    detect_motivations,
    detect_pain_points,
)

PAIN_EXAMPLES = [
    ("pricing", "Honestly it is way too expensive for two people.", "way too expensive"),
    ("billing", "I was charged twice for the same box.", "charged twice"),
    ("onboarding", "Setup was a nightmare on my phone.", "Setup was a nightmare"),
    ("usability", "The menu is confusing and hard to navigate.", "hard to navigate"),
    ("performance_bugs", "The app keeps crashing at checkout.", "keeps crashing"),
    ("missing_features", "I wish it had a way to skip a single meal.", "I wish it had"),
    ("support", "Support never replied to my three emails.", "never replied"),
    ("shipping_delivery", "My box never arrived and nobody told me.", "never arrived"),
    ("trust_security", "They sold my data to advertisers.", "sold my data"),
    ("quality", "The spinach was wilted and the bread stale.", "wilted"),
    ("account_access", "I can't log in since the update.", "can't log in"),
    ("cancellation", "It is impossible to cancel online.", "impossible to cancel"),
]

MOTIVATION_EXAMPLES = [
    ("price", "Great value for money compared to the supermarket.", "Great value"),
    ("quality", "Everything arrives so fresh.", "so fresh"),
    ("features", "I love the meal planner, it is brilliant.", "love the meal planner"),
    ("convenience", "So easy to skip a week or pause.", "So easy to skip"),
    ("brand", "I trust the brand and their sustainable packaging.", "trust the brand"),
    ("health", "I am finally eating healthier.", "eating healthier"),
    ("time_saving", "It saves me so much time every evening.", "saves me so much time"),
]


def test_every_taxonomy_label_has_an_example():
    assert {c.label for c in PAIN_POINTS} == {label for label, _, _ in PAIN_EXAMPLES}
    assert {c.label for c in MOTIVATIONS} == {label for label, _, _ in MOTIVATION_EXAMPLES}


@pytest.mark.parametrize(("label", "text", "phrase"), PAIN_EXAMPLES)
def test_pain_point_label_with_its_phrase(label, text, phrase):
    found = detect_pain_points(text)
    hits = [f for f in found if f["label"] == label]
    assert hits, found
    by_phrase = {h["phrase"].lower(): h for h in hits}
    assert phrase.lower() in by_phrase, hits
    hit = by_phrase[phrase.lower()]
    assert text[hit["start"] : hit["end"]] == hit["phrase"]
    assert hit["phrase"] in hit["context"]
    assert text[hit["context_start"] : hit["context_end"]] == hit["context"]


@pytest.mark.parametrize(("label", "text", "phrase"), MOTIVATION_EXAMPLES)
def test_motivation_label_with_its_phrase(label, text, phrase):
    hits = [f for f in detect_motivations(text) if f["label"] == label]
    assert hits
    assert hits[0]["phrase"].lower() == phrase.lower()
    assert text[hits[0]["start"] : hits[0]["end"]] == hits[0]["phrase"]
    assert detect_pain_points(text) == []


def test_topic_needs_a_negative_clause():
    late = detect_pain_points("The delivery was late.")
    assert [f["label"] for f in late] == ["shipping_delivery"]
    assert late[0]["via"] == "topic" and late[0]["phrase"] == "delivery"
    assert detect_pain_points("Fast delivery, friendly driver.") == []
    assert detect_pain_points("The price is 20 dollars per box.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Fast delivery and great customer service!",
        "Support was super helpful and quick.",
        "No problems with the delivery at all.",
        "It's not overpriced at all.",
        "The app never crashes, love it.",
        "The price is fair and the recipes are tasty.",
    ],
)
def test_positive_texts_are_not_pain_points(text):
    assert detect_pain_points(text) == []


def test_mixed_review_splits_at_but():
    found = detect_aspects("The recipes are great but delivery was late again.")
    kinds = {(f["kind"], f["label"]) for f in found}
    assert ("motivation", "features") in kinds
    assert ("pain_point", "shipping_delivery") in kinds
    assert ("pain_point", "features") not in kinds


def test_a_cue_explains_its_clause():
    # "app" in a crashing clause is a bug report, not a usability complaint
    labels = [f["label"] for f in detect_pain_points("The app keeps crashing.")]
    assert labels == ["performance_bugs"]


def test_context_score_decides_neutral_clauses():
    text = "Delivery took the whole afternoon."
    assert detect_pain_points(text) == []
    assert [f["label"] for f in detect_pain_points(text, context_score=-0.8)] == [
        "shipping_delivery"
    ]
    assert detect_pain_points(text, context_score=-0.1) == []


def test_category_lookup():
    assert category("support").kind == "pain_point"
    assert category("quality", "motivation").kind == "motivation"
    with pytest.raises(KeyError):
        category("nope")


def test_empty_text():
    assert detect_aspects("") == []
