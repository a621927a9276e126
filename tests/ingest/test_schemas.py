import pytest
from pydantic import TypeAdapter, ValidationError

from personapulse.ingest import REVIEW_SOURCES, ItemError
from personapulse.ingest.schemas import (
    ConversationBatchIn,
    ConversationIn,
    EventBatchIn,
    EventItemIn,
    ProfileBatchIn,
    ProfileIn,
    ReviewBatchIn,
    ReviewIn,
    SegmentEventIn,
    validation_errors,
)


@pytest.mark.parametrize(
    "model",
    [
        ReviewIn,
        ConversationIn,
        ProfileIn,
        SegmentEventIn,
        EventBatchIn,
        ReviewBatchIn,
        ConversationBatchIn,
        ProfileBatchIn,
    ],
)
def test_models_produce_json_schemas(model):
    schema = model.model_json_schema()
    assert schema["type"] == "object"
    assert schema["properties"]


def test_review_schema_documents_enum_and_bounds():
    schema = ReviewIn.model_json_schema()
    assert set(schema["required"]) == {"source", "text"}
    assert schema["properties"]["source"]["enum"] == list(REVIEW_SOURCES)
    rating = next(
        option
        for option in schema["properties"]["rating"]["anyOf"]
        if option.get("type") == "number"
    )
    assert (rating["minimum"], rating["maximum"]) == (1, 5)
    created = schema["properties"]["created_at"]["anyOf"][0]
    assert created == {"format": "date-time", "type": "string"}


def test_event_item_union_has_a_schema():
    schema = TypeAdapter(EventItemIn).json_schema()
    assert len(schema["anyOf"]) == 4


def _errors(model, data):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return validation_errors(7, caught.value)


def test_nested_locations_become_dotted_paths():
    errors = _errors(
        ConversationIn,
        {"source": "zendesk", "messages": [{"role": "agent", "text": "ok"}, {"text": 5}]},
    )
    assert errors == [
        ItemError(7, "messages.1.role", "is required"),
        ItemError(7, "messages.1.text", "must be a string"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"source": "google", "text": "ok", "rating": "five"},
            ItemError(7, "rating", "must be a number"),
        ),
        (
            {"source": "google", "text": "ok", "rating": float("inf")},
            ItemError(7, "rating", "must be a finite number"),
        ),
        ({"source": "google", "text": ["ok"]}, ItemError(7, "text", "must be a string")),
        (
            {"source": "google", "text": "ok", "user_id": {"id": 1}},
            ItemError(7, "user_id", "must be a string"),
        ),
        (
            {"source": "google", "text": "ok", "email": "@example.com"},
            ItemError(7, "email", "must be an email address"),
        ),
    ],
)
def test_review_reasons_are_operator_wording(data, expected):
    assert _errors(ReviewIn, data) == [expected]


def test_blank_optional_text_becomes_none():
    review = ReviewIn.model_validate(
        {"source": "google", "text": " ok ", "title": "  ", "email": ""}
    )
    assert (review.text, review.title, review.email) == ("ok", None, None)
