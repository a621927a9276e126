"""Slack alerts through the durable outbox, on the wire against a local Slack-protocol receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from personapulse.outbound.shifts import Shift, shift_id
from personapulse.services import slack_outbox
from personapulse.services.outbound import delivery_history
from personapulse.store import write_transaction
from personapulse.store.schema import slack_outbox as slack_table
from tests.outbound.slack_receiver import SlackReceiver

REPO = Path(__file__).resolve().parents[2]
NOW = pd.Timestamp("2026-11-23T14:00Z")


def _shift(i: int) -> dict:
    return Shift(
        id=shift_id("share_moved", f"p_{i:08x}", None, "v1->v2"),
        kind="share_moved",
        persona_id=f"p_{i:08x}",
        label=None,
        severity="warning",
        summary=f"Persona {i} grew from 10.0% to 21.0% of users (+11.0 points).",
        evidence={"previous_share": 0.1, "current_share": 0.21, "p_value": 1e-5},
        detected_at=NOW,
    ).to_dict()


def _queue(store, shifts, settings) -> list[str]:
    with write_transaction(store.engine) as conn:
        return slack_outbox.enqueue_alerts(conn, shifts, settings)


def _deliver_until(store, settings, done, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slack_outbox.deliver_due(store, settings)
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("timed out delivering")


def test_nothing_is_queued_without_a_webhook(store):
    assert _queue(store, [_shift(1)], {}) == []


def test_an_outage_then_recovery_delivers_the_alert_exactly_once(store):
    with SlackReceiver() as slack:
        settings = {"SLACK_WEBHOOK_URL": slack.url, "HOOK_RETRY_SCHEDULE": "0.1,0.1,0.1,0.1"}
        slack.fail(2)
        (message_id,) = _queue(store, [_shift(1)], settings)
        assert not slack.attempts, "queued, not sent, inside the transaction"
        _deliver_until(store, settings, lambda: len(slack.received) == 1)
        time.sleep(1.5)  # past the retry delay and the gate: nothing is sent again
        slack_outbox.deliver_due(store, settings)
    assert [status for _, status in slack.attempts] == [500, 500, 200]
    assert len(slack.received) == 1
    assert slack.received[0][1]["blocks"][0]["text"]["text"] == "Persona share moved"
    log = delivery_history(store.engine, slack_outbox.SLACK_HOOK_ID)
    assert [(d["outbox_id"], d["attempt"], d["status_code"]) for d in reversed(log)] == [
        (message_id, 1, 500),
        (message_id, 2, 500),
        (message_id, 3, 200),
    ]
    assert slack_outbox.pending(store.engine) == []


def test_the_retry_schedule_runs_out_and_the_alert_fails(store):
    with SlackReceiver() as slack:
        settings = {"SLACK_WEBHOOK_URL": slack.url, "HOOK_RETRY_SCHEDULE": "0.05"}
        slack.fail(10)
        _queue(store, [_shift(1)], settings)
        _deliver_until(store, settings, lambda: not slack_outbox.pending(store.engine), timeout=10)
    assert [status for _, status in slack.attempts] == [500, 500]
    with store.engine.connect() as conn:
        row = conn.execute(select(slack_table)).one()
    assert row.status == "failed" and row.last_status_code == 500


def test_a_429_is_retried_by_the_library_inside_one_attempt(store):
    with SlackReceiver() as slack:
        settings = {"SLACK_WEBHOOK_URL": slack.url}
        slack.rate_limit(1)
        _queue(store, [_shift(1)], settings)
        assert slack_outbox.deliver_due(store, settings) == 1
    assert [status for _, status in slack.attempts] == [429, 200]
    (entry,) = delivery_history(store.engine, slack_outbox.SLACK_HOOK_ID)
    assert entry["status_code"] == 200 and entry["duration_ms"] >= 900, "waited Retry-After: 1"


def test_many_shifts_at_once_make_one_digest(store):
    with SlackReceiver() as slack:
        settings = {"SLACK_WEBHOOK_URL": slack.url}
        ids = _queue(store, [_shift(i) for i in range(5)], settings)
        assert len(ids) == 1
        slack_outbox.deliver_due(store, settings)
    (payload,) = [p for _, p in slack.received]
    assert payload["blocks"][0]["text"]["text"] == "5 persona shifts detected"


_SENDER = """
import sys, time
from personapulse.services import slack_outbox
from personapulse.store import Store
store = Store(sys.argv[1])
settings = {"SLACK_WEBHOOK_URL": sys.argv[2]}
deadline = time.monotonic() + 120
while slack_outbox.pending(store.engine) and time.monotonic() < deadline:
    slack_outbox.deliver_due(store, settings)
    time.sleep(0.1)
"""


def test_one_message_a_second_per_webhook_across_processes(store, database_url):
    """Two worker processes share the outbox: arrivals at the webhook stay at least 1 s apart."""
    with SlackReceiver() as slack:
        settings = {"SLACK_WEBHOOK_URL": slack.url}
        for i in range(4):
            _queue(store, [_shift(i)], settings)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        senders = [
            subprocess.Popen([sys.executable, "-c", _SENDER, database_url, slack.url], env=env)
            for _ in range(2)
        ]
        try:
            for sender in senders:
                assert sender.wait(timeout=300) == 0
        finally:
            for sender in senders:
                if sender.poll() is None:
                    sender.kill()
                    sender.wait(10)
    arrivals = [t for t, _ in slack.received]
    assert len(arrivals) == 4, "each alert once, whichever process sent it"
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 0.99, gaps
