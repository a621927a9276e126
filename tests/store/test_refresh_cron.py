"""The scheduled full refresh as a cron expression (PERSONAPULSE_REFRESH_CRON)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personapulse.services.worker import previous_fire_ms, refresh_due_since, schedule_due
from personapulse.store import now_ms
from personapulse.store.schema import persona_versions

DAILY = {"REFRESH_CRON": "0 3 * * *"}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_the_latest_fire_time_at_or_before_now():
    assert previous_fire_ms("0 3 * * *", _ms("2026-11-23T02:59:59")) == _ms("2026-11-22T03:00")
    assert previous_fire_ms("0 3 * * *", _ms("2026-11-23T03:00:00")) == _ms("2026-11-23T03:00")
    assert previous_fire_ms("0 3 * * *", _ms("2026-11-23T15:00:00")) == _ms("2026-11-23T03:00")
    assert previous_fire_ms("*/15 * * * *", _ms("2026-11-23T15:07:00")) == _ms("2026-11-23T15:00")
    with pytest.raises(ValueError, match="REFRESH_CRON"):
        previous_fire_ms("every day", 0)


def test_which_setting_wins():
    now = _ms("2026-11-23T15:00")
    assert refresh_due_since(DAILY, now) == _ms("2026-11-23T03:00")
    assert refresh_due_since({"REFRESH_CRON": "off"}, now) is None
    assert refresh_due_since({"REFRESH_CRON": ""}, now) is None
    hourly = {**DAILY, "REFRESH_EVERY_HOURS": 1}
    assert refresh_due_since(hourly, now) == now - 3_600_000, "an interval replaces the cron"


def test_the_default_is_daily():
    from personapulse.config import load_settings

    assert load_settings(environ={})["REFRESH_CRON"] == "0 3 * * *"


def _version(store, created_ms: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            persona_versions.insert().values(
                id="v1",
                seq=1,
                status="current",
                reliable=True,
                k=2,
                method="kmeans",
                gate="{}",
                candidates="[]",
                provenance="{}",
                model_state="{}",
                appeared="[]",
                vanished="[]",
                created_ms=created_ms,
            )
        )


def _an_event(client, auth):
    client.post(
        "/v1/events",
        json={"type": "track", "userId": "u", "event": "x", "messageId": "1"},
        headers=auth,
    )


def test_cron_schedule_queues_once_per_fire_time(store, client, auth):
    assert schedule_due(store, DAILY) is None, "an empty store schedules nothing"
    _an_event(client, auth)
    queued = schedule_due(store, DAILY)
    assert queued is not None and queued["kind"] == "personas.refresh"
    assert queued["params"] == {"config": {}, "scheduled": True}
    assert schedule_due(store, DAILY) is None, "not again before the next fire time"
    assert schedule_due(store, {"REFRESH_CRON": "off"}) is None


def test_a_version_older_than_the_last_fire_time_is_refreshed(store, client, auth):
    _an_event(client, auth)
    last_fire = previous_fire_ms("0 3 * * *", now_ms())
    _version(store, last_fire - 3_600_000)
    assert schedule_due(store, DAILY) is not None


def test_a_refresh_since_the_last_fire_time_counts(store, client, auth):
    _an_event(client, auth)
    _version(store, previous_fire_ms("0 3 * * *", now_ms()) + 1)
    assert schedule_due(store, DAILY) is None
