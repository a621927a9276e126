import pytest

from personapulse.nlp.intents import customer_text, detect_intents


@pytest.mark.parametrize(
    ("text", "intent", "phrase"),
    [
        ("Hi, how do I upgrade to the family plan?", "buying", "how do I upgrade"),
        ("We would like to add another box every week.", "buying", "would like to add another"),
        ("Is there a discount for students?", "hesitating", "Is there a discount"),
        ("Not sure if it's worth it for one person.", "hesitating", "Not sure if"),
        ("Please cancel my subscription today.", "churning", "cancel my subscription"),
        ("We're switching to HelloFresh next month.", "churning", "switching to HelloFresh"),
        ("I want my money back.", "churning", "want my money back"),
    ],
)
def test_intent_with_phrase(text, intent, phrase):
    found = detect_intents(text)
    assert [f["intent"] for f in found] == [intent], found
    assert found[0]["phrase"].lower() == phrase.lower()
    assert text[found[0]["start"] : found[0]["end"]] == found[0]["phrase"]


def test_negated_intent_is_ignored():
    assert detect_intents("I don't want to cancel, the food is great.") == []


def test_upgrade_switch_is_buying_not_churn():
    found = detect_intents("I'm switching to the annual plan.")
    assert [f["intent"] for f in found] == ["buying"]


def test_lowercase_switching_to_a_common_word_is_not_churn():
    assert detect_intents("switching to dinner recipes soon") == []


def test_several_intents_in_order():
    text = "Is there a discount? Otherwise I want to cancel."
    assert [f["intent"] for f in detect_intents(text)] == ["hesitating", "churning"]


def test_customer_text_from_messages_and_transcripts():
    messages = [
        {"role": "agent", "text": "Would you like to cancel your subscription?"},
        {"role": "customer", "text": "My box was late."},
        {"role": "customer", "text": "Again."},
    ]
    assert customer_text(messages) == "My box was late.\nAgain."
    transcript = (
        "Agent: Hello, do you want to upgrade to premium?\n"
        "Customer: No. The delivery was late\n"
        "and the app crashed.\n"
        "Agent: Sorry to hear that."
    )
    assert customer_text(transcript) == "No. The delivery was late\nand the app crashed."
    assert customer_text("plain customer text: with a colon") == "plain customer text: with a colon"
    assert customer_text(None) == ""
