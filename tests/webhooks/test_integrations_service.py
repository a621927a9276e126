"""The LLM narrator and the Airtable sync through the service, against local servers on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services import airtable as airtable_service
from personapulse.services import narratives as narrative_service
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo
from personapulse.store import Store
from tests.airtable_sync.fake_airtable import FakeAirtable
from tests.narratives.answers import faithful_answer, invented_number
from tests.narratives.llm_server import FakeLLMServer


@pytest.fixture(scope="module")
def store(tmp_path_factory, database_url_for):
    store = Store(database_url_for(tmp_path_factory.mktemp("integrations")))
    store.migrate()
    load_demo(store, DemoConfig(users=300, seed=13), load_settings({"INCREMENTAL_UPDATES": False}))
    persona_service.refresh(store, {"k_max": 5, "bootstrap": 3})
    yield store
    store.dispose()


def _llm_settings(server: FakeLLMServer, model: str = "test-model") -> dict:
    # The cache key includes the model: each test names its own so answers never leak between them.
    return {
        "LLM_MODEL": model,
        "LLM_BASE_URL": server.base_url,
        "LLM_API_KEY": "sk-test",
        "LLM_MAX_RETRIES": "0",
    }


def test_unfaithful_llm_card_is_rejected_and_the_rejection_is_served(store):
    import random

    _, _, sheets = narrative_service.fact_sheets(store.engine)
    with FakeLLMServer() as server:
        corrupted = invented_number(faithful_answer(sheets[0]), sheets[0], random.Random(1))
        server.answer(json.dumps(corrupted))
        narrative_service.generate(store.engine, _llm_settings(server))
        card = narrative_service.get_card(store.engine, sheets[0].persona_id, {})
    assert card["backend"] == "template"
    assert card["rejection"] is not None and not card["rejection"]["passed"]
    assert any(issue["kind"] for issue in card["rejection"]["issues"])


def test_faithful_llm_card_is_kept_and_cached(store):
    _, _, sheets = narrative_service.fact_sheets(store.engine)
    with FakeLLMServer() as server:
        # One answer for every request: the first persona's faithful card (the others' cards,
        # which it does not fit, are rejected and fall back to the template).
        server.answer(json.dumps(faithful_answer(sheets[0])))
        narrative_service.generate(store.engine, _llm_settings(server, "faithful-model"))
        first_requests = len(server.requests)
        assert first_requests == len(sheets)
        narrative_service.generate(store.engine, _llm_settings(server, "faithful-model"))
        assert len(server.requests) == first_requests, "answers are cached by fact-sheet hash"
    card = narrative_service.get_card(store.engine, sheets[0].persona_id, {})
    assert card["backend"] == "llm" and card["grounding"]["passed"] and card["rejection"] is None


def test_airtable_sync_through_the_service_keeps_human_edits(store):
    with FakeAirtable() as fake:
        settings = fake.service_settings()
        airtable_service.bootstrap(settings)
        first = airtable_service.sync(store, settings)
        assert first["human_edits_applied"] == 0
        _, personas = persona_service.list_personas(store.engine)
        target = personas[0]["persona_id"]
        fake.human_edit(
            "Personas",
            "Persona ID",
            target,
            **{"Display Name": "Weekend family cooks", "Owner": "Ana"},
        )
        second = airtable_service.sync(store, settings)
        assert second["human_edits_applied"] >= 1
        renamed = {p["persona_id"]: p for p in persona_service.list_personas(store.engine)[1]}[
            target
        ]
        assert renamed["name"] == "Weekend family cooks" and renamed["human"]["owner"] == "Ana"
        record = next(r for r in fake.records("Personas") if r["Persona ID"] == target)
        assert record["Display Name"] == "Weekend family cooks", (
            "a push never overwrites a human field"
        )


def test_refresh_alerts_slack_about_the_planted_spike(store):
    """The demo plants a delivery-pain spike in the last week: a refresh must say so in Slack."""
    import time
    from datetime import UTC, datetime, timedelta

    from personapulse.services import slack_outbox
    from personapulse.services.ingestion import ingest, parse
    from tests.outbound.slack_receiver import SlackReceiver

    # Plant a fresh spike of delivery complaints inside the largest persona.
    _, personas = persona_service.list_personas(store.engine)
    target = max(personas, key=lambda p: p["size"])["persona_id"]
    members = persona_service.current_assignments(store.engine)
    members = [
        m
        for m in members[members["persona_id"] == target]["person_id"]
        if not m.startswith("anon:")
    ][:20]
    now = datetime.now(UTC)
    complaints = [
        {
            "source": "trustpilot",
            "review_id": f"late-{i}",
            "user_id": member,
            "rating": 1,
            "text": "Delivery was late again and the box arrived damaged.",
            "created_at": (now - timedelta(hours=i)).isoformat(),
        }
        for i, member in enumerate(members)
    ]
    ingest(
        store, "reviews", parse("reviews", complaints, received_at=now), settings=load_settings()
    )

    with SlackReceiver() as slack:
        slack.rate_limit(
            1
        )  # the first attempt gets 429 + Retry-After; the library waits and retries
        settings = {
            "SLACK_WEBHOOK_URL": slack.url,
            "DASHBOARD_URL": "http://127.0.0.1:8000/dashboard",
        }
        summary = persona_service.refresh(store, {"k_max": 5, "bootstrap": 3}, settings=settings)
        assert not slack.attempts, "alerts are queued with the version, sent by the worker"
        # One message a second to a webhook: the worker sends them as the gate opens.
        deadline = time.monotonic() + 120
        while slack_outbox.pending(store.engine) and time.monotonic() < deadline:
            slack_outbox.deliver_due(store, settings)
            time.sleep(0.2)
        assert not slack_outbox.pending(store.engine)
    assert any("shipping" in shift for shift in summary["shifts"]), summary["shifts"]
    assert [status for _, status in slack.attempts][:2] == [429, 200]
    messages = [payload["blocks"] for _, payload in slack.received]
    assert messages and all(blocks[0]["type"] == "header" for blocks in messages)
    assert any("shipping" in json.dumps(blocks).lower() for blocks in messages)
    assert all("http://127.0.0.1:8000/dashboard" in json.dumps(blocks) for blocks in messages)
