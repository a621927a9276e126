import json
import random

import openai
import pytest

from personapulse.narratives import (
    CARD_SCHEMA,
    LLMNarrator,
    TemplateNarrator,
    llm_client_from_settings,
    narrate_grounded,
)

from .answers import CORRUPTIONS, faithful_answer
from .llm_server import FakeLLMServer, Reply


@pytest.fixture(scope="module")
def server():
    with FakeLLMServer() as running:
        yield running


@pytest.fixture
def fresh(server):
    server.reset()
    return server


def _client(server, *, timeout=5.0, max_retries=0) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key="test", timeout=timeout, max_retries=max_retries
    )


def test_faithful_answer_is_kept_and_the_request_follows_the_rules(fresh, sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    fresh.answer(faithful_answer(sheet))
    llm = LLMNarrator(_client(fresh), "test-model")
    card, report, backend = narrate_grounded(sheet, llm=llm, template=TemplateNarrator())
    assert backend == "llm" and report.passed
    assert card.backend == "llm:test-model" and card.name == sheet.name
    assert card.strategy[0].pain_point == "pricing"
    (request,) = fresh.requests
    assert request["model"] == "test-model" and request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == CARD_SCHEMA
    system = request["messages"][0]["content"]
    for rule in (
        "Convert each cluster into a persona",
        "Do not invent new data",
        "Only summarise patterns from the input",
        "Map each pain point to a marketing opportunity",
        "Cite fact ids for every sentence",
    ):
        assert rule in system
    facts = json.loads(request["messages"][1]["content"])["facts"]
    assert {f["id"] for f in facts} == set(sheet.ids())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("invented_number", "unsupported_number"),
        ("invented_channel", "unsupported_channel"),
        ("wrong_percentage", "unsupported_number"),
        ("missing_citation", "no_citation"),
        ("unknown_fact_id", "unknown_fact"),
        ("unknown_persona", "unknown_persona"),
    ],
)
def test_unsupported_answers_fall_back_to_the_template(fresh, sheet_by_id, kind, expected):
    sheet = sheet_by_id["p_4e38c477"]
    fresh.answer(CORRUPTIONS[kind](faithful_answer(sheet), sheet, random.Random(1)))
    llm = LLMNarrator(_client(fresh), "test-model")
    card, report, backend = narrate_grounded(sheet, llm=llm, template=TemplateNarrator())
    assert backend == "template" and card.backend == "template"
    assert card == TemplateNarrator().narrate(sheet)
    assert not report.passed and report.backend == "llm:test-model"
    assert expected in {issue.kind for issue in report.issues}
    assert report.to_dict()["reasons"]


def test_cache_avoids_a_second_request(fresh, sheet_by_id):
    cache: dict[str, dict] = {}
    sheet = sheet_by_id["p_981c7e60"]
    fresh.answer(faithful_answer(sheet))
    llm = LLMNarrator(_client(fresh), "test-model", cache=cache)
    first = llm.narrate(sheet)
    second = LLMNarrator(_client(fresh), "test-model", cache=cache).narrate(sheet)
    assert first == second and len(fresh.requests) == 1
    assert list(cache) == [llm.cache_key(sheet)] and sheet.hash in llm.cache_key(sheet)
    llm.narrate(sheet_by_id["p_e07bce23"])  # other facts, other key
    assert len(fresh.requests) == 2


def test_client_retries_a_500_then_succeeds(fresh, sheet_by_id):
    sheet = sheet_by_id["p_e07bce23"]
    fresh.answer(faithful_answer(sheet))
    fresh.queue(Reply(status=500))
    llm = LLMNarrator(_client(fresh, max_retries=1), "test-model")
    card, report, backend = narrate_grounded(sheet, llm=llm, template=TemplateNarrator())
    assert backend == "llm" and report.passed
    assert len(fresh.requests) == 2


def test_server_errors_and_timeouts_fall_back_with_the_reason(fresh, sheet_by_id):
    sheet = sheet_by_id["p_e07bce23"]
    fresh.answer(faithful_answer(sheet))
    fresh.queue(Reply(status=500))
    no_retry = LLMNarrator(_client(fresh, max_retries=0), "test-model")
    card, report, backend = narrate_grounded(sheet, llm=no_retry, template=TemplateNarrator())
    assert backend == "template" and report.issues[0].kind == "llm_error"
    assert "InternalServerError" in report.issues[0].detail
    fresh.reset()
    fresh.queue(Reply(delay=1.0))
    slow = LLMNarrator(_client(fresh, timeout=0.2, max_retries=0), "test-model")
    card, report, backend = narrate_grounded(sheet, llm=slow, template=TemplateNarrator())
    assert backend == "template" and "Timeout" in report.issues[0].detail


def test_malformed_answers_are_rejected(fresh, sheet_by_id):
    sheet = sheet_by_id["p_e07bce23"]
    llm = LLMNarrator(_client(fresh), "test-model")
    for content in ("not json", json.dumps({"name": sheet.name}), json.dumps([1, 2])):
        fresh.answer(content)
        _, report, backend = narrate_grounded(sheet, llm=llm, template=TemplateNarrator())
        assert backend == "template" and report.issues[0].kind == "llm_error"
        assert "LLMAnswerError" in report.issues[0].detail


def test_client_from_settings():
    assert llm_client_from_settings({}) is None
    client, model = llm_client_from_settings(
        {
            "LLM_MODEL": "m",
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "LLM_API_KEY": "k",
            "LLM_TIMEOUT": "2.5",
            "LLM_MAX_RETRIES": "0",
        }
    )
    assert model == "m" and client.timeout == 2.5 and client.max_retries == 0
    assert str(client.base_url).startswith("http://127.0.0.1:9/v1")
    client, _ = llm_client_from_settings(
        {"LLM_MODEL": "m", "LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert client.timeout == 30.0 and client.max_retries == 2 and client.api_key == "unused"
