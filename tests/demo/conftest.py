"""Shared demo data sets, generated once per test session (each takes about a second)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personapulse.demo import DemoConfig, frames_from_bundles, generate_users

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_config() -> DemoConfig:
    return DemoConfig(users=1000, seed=11, now=NOW)


@pytest.fixture(scope="session")
def bundles(demo_config):
    return list(generate_users(demo_config))


@pytest.fixture(scope="session")
def frames(bundles):
    return frames_from_bundles(bundles)


@pytest.fixture(scope="session")
def truth(bundles) -> dict[str, str]:
    """person_id -> archetype for every simulated user (identified or not)."""
    return {b.person_id: b.archetype for b in bundles if b.archetype is not None}
