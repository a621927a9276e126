import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
RECEIVED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def load_json(relative: str):
    return json.loads((SAMPLES / relative).read_text(encoding="utf-8"))


def load_jsonl(relative: str) -> list:
    lines = (SAMPLES / relative).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_text(relative: str) -> str:
    return (SAMPLES / relative).read_text(encoding="utf-8")


@pytest.fixture
def received_at() -> datetime:
    return RECEIVED_AT
