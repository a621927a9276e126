"""Real service payloads (Brightcart demo, 600 users, seed 5) as fact sheets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personapulse.narratives import FactSheet, build_fact_sheet

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "narratives"

# The demo store holds one persona version, so these previous-version shares are constructed for
# the tests (not measured): one persona grows, two shrink, one is new.
PREVIOUS_SHARES = {
    "p_1e75f8dd": 0.20,
    "p_4e38c477": 0.33,
    "p_981c7e60": 0.17,
    "p_e07bce23": 0.19,
    "p_4694236e": None,
}


def load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def real_sheets() -> list[FactSheet]:
    personas = load("personas.json")
    pains = load("pain_points.json")["pain_points"]
    journeys = load("journeys.json")
    return [
        build_fact_sheet(
            persona,
            gate=personas["version"]["gate"],
            pain_points=pains,
            paths=journeys["paths"],
            dropoffs=journeys["dropoffs"],
            transitions=journeys["transitions"],
            previous_share=PREVIOUS_SHARES.get(persona["persona_id"]),
            total_users=journeys["persons"],
        )
        for persona in personas["personas"]
    ]


@pytest.fixture(scope="session")
def sheets() -> list[FactSheet]:
    return real_sheets()


@pytest.fixture(scope="session")
def sheet_by_id(sheets) -> dict[str, FactSheet]:
    return {sheet.persona_id: sheet for sheet in sheets}
