"""A fake Airtable per test and clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from airtable_sync import AirtableConfig, AirtableSync
from tests.airtable_sync.fake_airtable import FakeAirtable


@pytest.fixture
def fake() -> Iterator[FakeAirtable]:
    with FakeAirtable() as server:
        yield server


@pytest.fixture
def make_sync(fake: FakeAirtable) -> Iterator[Callable[..., AirtableSync]]:
    """Clients on the fake; fast by default (the rate test sets Airtable's real 5/s)."""
    made: list[AirtableSync] = []

    def factory(**overrides) -> AirtableSync:
        options = {
            "token": fake.token,
            "base_id": fake.base_id,
            "endpoint_url": fake.url,
            "requests_per_second": 1000.0,
            "retry_wait_seconds": 0.01,
            "timeout": 10.0,
        }
        log = overrides.pop("log", None)
        progress = overrides.pop("progress", None)
        options.update(overrides)
        sync = AirtableSync(AirtableConfig(**options), log=log, progress=progress)
        made.append(sync)
        return sync

    yield factory
    for sync in made:
        sync.close()
