"""GET /v1/journeys tables are computed once per data state and never served stale."""

from __future__ import annotations

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services import journeys as journey_service
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo


def _fresh(engine) -> dict:
    """The report computed with every cache emptied."""
    with journey_service._cache_lock:
        journey_service._cache.clear()
        journey_service._results.clear()
    return journey_service.journeys(engine, top=5)


def _cached_tables() -> list[int]:
    with journey_service._cache_lock:
        return [id(tables) for tables in journey_service._results.values()]


def test_journeys_cached_until_events_or_personas_change(store):
    engine = store.engine
    load_demo(store, DemoConfig(users=60, seed=5), load_settings())
    first = _fresh(engine)
    assert first["persons"] > 0 and first["paths"]
    held = _cached_tables()
    assert len(held) == 1

    # Same data, same parameters: the same tables are reused and the answer is unchanged.
    assert journey_service.journeys(engine, top=5) == first
    assert _cached_tables() == held
    # Other parameters are another entry, not the cached answer.
    assert journey_service.journeys(engine, top=2) != first
    assert len(_cached_tables()) == 2

    # New events: the next answer is the fresh one, not the cached one.
    load_demo(store, DemoConfig(users=30, seed=9), load_settings())
    after_events = journey_service.journeys(engine, top=5)
    assert held[0] not in _cached_tables()
    assert after_events["persons"] > first["persons"]
    assert after_events == _fresh(engine)

    # New personas (assignments change, events do not): recomputed per persona.
    persona_service.refresh(store, {"k_max": 3, "bootstrap": 1})
    with_personas = journey_service.journeys(engine, top=5)
    assert {row["persona_id"] for row in with_personas["paths"]} != {"all"}
    assert with_personas == _fresh(engine)
