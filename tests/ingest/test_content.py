from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personapulse.ingest import (
    CONVERSATION_KINDS,
    CONVERSATION_SOURCES,
    REVIEW_SOURCES,
    ItemError,
    parse_conversations,
    parse_profiles,
    parse_reviews,
    split_transcript,
)
from personapulse.ingest.records import CONVERSATION_KEYS, PROFILE_KEYS, REVIEW_KEYS

from .conftest import RECEIVED_AT, load_json


def test_enumerations_match_the_contract():
    assert REVIEW_SOURCES == (
        "google",
        "trustpilot",
        "app_store",
        "play_store",
        "amazon",
        "shopee",
        "other",
    )
    assert CONVERSATION_SOURCES == (
        "hubspot",
        "salesforce",
        "pipedrive",
        "zendesk",
        "intercom",
        "whatsapp",
        "other",
    )
    assert CONVERSATION_KINDS == ("ticket", "call", "chat")


# --- reviews ----------------------------------------------------------------------------------


@pytest.fixture
def reviews():
    result = parse_reviews(load_json("reviews/reviews.json"), received_at=RECEIVED_AT)
    assert result.errors == []
    return result.items


def test_review_sample(reviews):
    assert [r["_index"] for r in reviews] == [0, 1, 2, 3]
    for review in reviews:
        assert set(review) == {*REVIEW_KEYS, "_index"}
        assert review["received_at"] == RECEIVED_AT
    first = reviews[0]
    assert first["review_id"] == first["external_id"] == "65f1c0a2e4b0d7a1c2b3d4e5"
    assert first["source"] == "trustpilot"
    assert first["rating"] == 3.0
    assert first["email"] == "hannah.w@example.com"
    assert first["created_at"] == datetime(2024, 4, 2, 18, 22, 41, tzinfo=UTC)


def test_numeric_review_id_offset_times_and_case_insensitive_source(reviews):
    assert reviews[1]["review_id"] == "10987654321"
    assert reviews[1]["created_at"] == datetime(2024, 4, 3, 14, 10, tzinfo=UTC)
    assert reviews[2]["source"] == "google"
    assert reviews[2]["rating"] == 1.0
    assert reviews[2]["created_at"] == datetime.fromtimestamp(1712300000, UTC)
    assert reviews[3]["created_at"] == datetime(2024, 4, 6, tzinfo=UTC)


def test_review_without_id_gets_a_stable_content_hash(reviews):
    hashed = reviews[2]
    assert hashed["external_id"] is None
    assert hashed["review_id"].startswith("h:")
    again = parse_reviews(
        load_json("reviews/reviews.json"), received_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert again.items[2]["review_id"] == hashed["review_id"]
    item = load_json("reviews/reviews.json")["reviews"][2]
    edited = parse_reviews({**item, "text": item["text"] + "!"}, received_at=RECEIVED_AT).items[0]
    assert edited["review_id"] != hashed["review_id"]


def test_review_partial_batch_reports_every_problem():
    result = parse_reviews(load_json("reviews/reviews_bad_items.json"), received_at=RECEIVED_AT)
    assert [r["_index"] for r in result.items] == [0, 7]
    assert result.items[1]["rating"] == 4.5
    assert result.errors == [
        ItemError(1, "source", "must be one of: " + ", ".join(REVIEW_SOURCES)),
        ItemError(2, "text", "must not be empty"),
        ItemError(3, "rating", "must be between 1 and 5"),
        ItemError(4, "created_at", "must be an ISO 8601 date-time or epoch number"),
        ItemError(5, "text", "is required"),
        ItemError(6, "", "must be a JSON object, got a list"),
    ]


def test_review_text_length_limit():
    ok = {"source": "other", "text": "a" * 20_000}
    too_long = {"source": "other", "text": "a" * 20_001}
    result = parse_reviews([ok, too_long], received_at=RECEIVED_AT)
    assert len(result.items) == 1
    assert result.errors == [ItemError(1, "text", "must be at most 20000 characters")]


@pytest.mark.parametrize("payload", ["x", 1, None, {"reviews": {}}])
def test_review_envelope_errors(payload):
    with pytest.raises(ValueError):
        parse_reviews(payload, received_at=RECEIVED_AT)


# --- conversations ----------------------------------------------------------------------------


@pytest.fixture
def conversations():
    result = parse_conversations(
        load_json("conversations/conversations.json"), received_at=RECEIVED_AT
    )
    assert result.errors == []
    return result.items


def test_hubspot_ticket(conversations):
    ticket = conversations[0]
    assert set(ticket) == {*CONVERSATION_KEYS, "_index"}
    assert (ticket["conversation_id"], ticket["source"], ticket["kind"]) == (
        "hs-ticket-4829173",
        "hubspot",
        "ticket",
    )
    assert ticket["status"] == "CLOSED"
    assert [m["role"] for m in ticket["messages"]] == ["customer", "agent", "customer"]
    assert ticket["messages"][0]["at"] == datetime(2024, 4, 3, 10, 15, tzinfo=UTC)
    assert ticket["messages"][1]["author"] == "Luis (Brightcart Support)"
    assert ticket["customer_text"] == (
        "Hi, I was charged twice for my April family box (order 50314b8e). Can you refund one of them?\n"
        "Thanks, that was quick."
    )


def test_zendesk_ticket_numeric_id_and_default_kind(conversations):
    ticket = conversations[1]
    assert ticket["conversation_id"] == "35436"
    assert ticket["kind"] == "ticket"
    assert ticket["user_id"] == "user_3310"
    assert (
        ticket["customer_text"]
        == "The Thai curry kit came without coconut milk and without the lime."
    )


def test_call_transcript_is_split_into_messages(conversations):
    call = conversations[2]
    assert call["kind"] == "call"
    assert [m["role"] for m in call["messages"]] == [
        "agent",
        "customer",
        "agent",
        "customer",
        "agent",
        "customer",
    ]
    assert call["messages"][3]["text"] == (
        "It's just too expensive since the last price rise.\nWe are a family of four and it adds up."
    )
    assert call["customer_text"].splitlines() == [
        "Hi, I want to cancel my subscription.",
        "It's just too expensive since the last price rise.",
        "We are a family of four and it adds up.",
        "No thanks, please cancel it.",
    ]


def test_whatsapp_chat_without_id_gets_hash(conversations):
    chat = conversations[3]
    assert (chat["source"], chat["kind"]) == ("whatsapp", "chat")
    assert chat["contact_id"] == "+447700900123"
    assert chat["conversation_id"].startswith("h:")
    assert chat["messages"][0]["author"] is None
    again = parse_conversations(
        load_json("conversations/conversations.json"), received_at=RECEIVED_AT
    )
    assert again.items[3]["conversation_id"] == chat["conversation_id"]


def test_conversation_without_any_reference_is_accepted():
    result = parse_conversations(
        {"source": "other", "messages": [{"role": "customer", "text": "Hello?"}]},
        received_at=RECEIVED_AT,
    )
    assert result.errors == []
    item = result.items[0]
    assert (item["user_id"], item["email"], item["contact_id"]) == (None, None, None)


def test_conversation_kind_inferred_from_transcript_and_source():
    result = parse_conversations(
        [
            {"source": "other", "transcript": "Customer: hi"},
            {"source": "intercom", "messages": [{"role": "customer", "text": "hi"}]},
        ],
        received_at=RECEIVED_AT,
    )
    assert [c["kind"] for c in result.items] == ["call", "chat"]


def test_conversation_partial_batch():
    result = parse_conversations(
        load_json("conversations/conversations_bad_items.json"), received_at=RECEIVED_AT
    )
    assert [c["_index"] for c in result.items] == [0]
    assert result.errors == [
        ItemError(1, "messages", "is required (or a transcript)"),
        ItemError(2, "kind", "must be one of: ticket, call, chat"),
        ItemError(3, "messages.1.role", "must be one of: customer, agent"),
        ItemError(4, "messages.0.text", "must not be empty"),
        ItemError(5, "source", "must be one of: " + ", ".join(CONVERSATION_SOURCES)),
    ]


def test_whitespace_only_transcript_is_rejected():
    result = parse_conversations(
        {"source": "other", "transcript": "  \n "}, received_at=RECEIVED_AT
    )
    assert result.items == []
    assert result.errors == [ItemError(0, "messages", "is required (or a transcript)")]


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        (
            "Agent: Hello\nCustomer: Hi there\nI need help",
            [("agent", "Hello"), ("customer", "Hi there\nI need help")],
        ),
        (
            "[00:01] AGENT: Hello\n[00:04] caller: My box is late",
            [("agent", "Hello"), ("customer", "My box is late")],
        ),
        (
            "00:00:05 - Rep: Hi\n00:00:09 - Client: Cancel please",
            [("agent", "Hi"), ("customer", "Cancel please")],
        ),
        (
            "I just want a refund for my last box.",
            [("customer", "I just want a refund for my last box.")],
        ),
        (
            "(hold music)\nAgent: Thanks for waiting",
            [("customer", "(hold music)"), ("agent", "Thanks for waiting")],
        ),
        ("Agent:\nCustomer: hi", [("customer", "hi")]),
    ],
)
def test_split_transcript(transcript, expected):
    messages = split_transcript(transcript)
    assert [(m["role"], m["text"]) for m in messages] == expected
    assert all(m["at"] is None and m["author"] is None for m in messages)


# --- profiles ---------------------------------------------------------------------------------


def test_profile_sample():
    result = parse_profiles(load_json("profiles/profiles.json"), received_at=RECEIVED_AT)
    assert result.errors == []
    first, second, third = result.items
    assert set(first) == {*PROFILE_KEYS, "_index"}
    assert first["email"] == "maya.chen@example.com"
    assert first["traits"]["household_size"] == 4
    assert second["email"] == "rui.santos@example.com"  # from traits.email
    assert third["user_id"] == "3310"
    assert third["traits"] == {"name": "Jo Rivera", "plan": "family-4"}


def test_profile_partial_batch():
    result = parse_profiles(load_json("profiles/profiles_bad_items.json"), received_at=RECEIVED_AT)
    assert [p["user_id"] for p in result.items] == ["user_ok"]
    assert result.errors == [
        ItemError(1, "user_id", "is required"),
        ItemError(2, "traits", "must be an object"),
        ItemError(3, "email", "must be an email address"),
    ]


def test_explicit_traits_win_over_top_level_extras():
    result = parse_profiles(
        {"user_id": "u", "plan": "old", "traits": {"plan": "new"}}, received_at=RECEIVED_AT
    )
    assert result.items[0]["traits"] == {"plan": "new"}


@pytest.mark.parametrize("payload", ["x", 1, None, {"profiles": "u1"}])
def test_profile_envelope_errors(payload):
    with pytest.raises(ValueError):
        parse_profiles(payload, received_at=RECEIVED_AT)


def test_profile_blank_user_id_is_required_and_null_traits_are_empty():
    result = parse_profiles(
        [{"user_id": "  "}, {"user_id": "u", "traits": None}, {"user_id": 1.5}],
        received_at=RECEIVED_AT,
    )
    assert [(p["user_id"], p["traits"]) for p in result.items] == [("u", {})]
    assert result.errors == [
        ItemError(0, "user_id", "is required"),
        ItemError(2, "user_id", "must be a string"),
    ]


def test_boolean_rating_is_not_a_star_count():
    result = parse_reviews(
        {"source": "google", "text": "ok", "rating": True}, received_at=RECEIVED_AT
    )
    assert result.errors == [ItemError(0, "rating", "must be a number")]


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_content_keys = st.sampled_from(
    ["source", "text", "rating", "review_id", "created_at", "email", "user_id", "kind", "messages"]
    + ["transcript", "conversation_id", "traits", "contact_id", "role", "at"]
)
_message = st.dictionaries(st.sampled_from(["role", "text", "at", "author"]), _scalars, max_size=4)
_content_items = st.dictionaries(
    _content_keys, _scalars | _values | st.lists(_message, max_size=3), max_size=7
)


@settings(max_examples=60, deadline=None)
@given(payload=st.lists(_content_items | _values, max_size=4))
def test_content_parsers_never_raise_on_arbitrary_items(payload):
    for parse in (parse_reviews, parse_conversations, parse_profiles):
        result = parse(payload, received_at=RECEIVED_AT)
        assert len(result.items) + len({e.index for e in result.errors}) == len(payload)
