"""Slack notifier against a local incoming-webhook receiver on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from personapulse.outbound.shifts import Shift, shift_id
from personapulse.outbound.slack import SlackNotifier, build_digest, build_shift_message
from tests.outbound.slack_receiver import SlackReceiver

NOW = pd.Timestamp("2026-11-23T14:00Z")


def _spike(persona="p_3bc53aa8", label="shipping_delivery") -> Shift:
    return Shift(
        id=shift_id("pain_point_spike", persona, label, "2026-11-16..2026-11-23"),
        kind="pain_point_spike",
        persona_id=persona,
        label=label,
        severity="warning",
        summary="Power <big> & basket buyers: 65% of documents in the last 7 days mention "
        "shipping delivery, against 11% in the 28 days before.",
        evidence={
            "recent_mentions": 17,
            "recent_documents": 26,
            "recent_share": 17 / 26,
            "baseline_mentions": 5,
            "baseline_documents": 46,
            "baseline_share": 5 / 46,
            "lift": 6.0,
            "test": "Fisher exact (one-sided, greater)",
            "p_value": 2.5e-6,
        },
        detected_at=NOW,
    )


def _share(i: int) -> Shift:
    return Shift(
        id=shift_id("share_moved", f"p_{i:08x}", None, "v1->v2"),
        kind="share_moved",
        persona_id=f"p_{i:08x}",
        label=None,
        severity="critical" if i % 2 else "info",
        summary=f"Persona {i} grew from 10.0% to 21.0% of users (+11.0 points).",
        evidence={
            "previous_share": 0.1,
            "current_share": 0.21,
            "delta_points": 11.0,
            "p_value": 1e-5,
            "test": "two-proportion z-test (pooled, two-sided)",
        },
        detected_at=NOW,
    )


# --- Block Kit shape --------------------------------------------------------------------------

_TEXT_TYPES = {"plain_text", "mrkdwn"}


def _text_object(obj, *, plain_only=False, limit=3000):
    assert set(obj) <= {"type", "text", "emoji", "verbatim"}, obj
    assert obj["type"] in ({"plain_text"} if plain_only else _TEXT_TYPES), obj
    assert isinstance(obj["text"], str) and 1 <= len(obj["text"]) <= limit, obj
    if obj["type"] == "mrkdwn":
        assert "emoji" not in obj
        # mrkdwn control characters must be escaped except in Slack's own <...> links
        assert "<" not in obj["text"] and ">" not in obj["text"], obj["text"]


def assert_block_kit(payload: dict) -> None:
    """The subset of Block Kit the notifier uses, with Slack's documented limits."""
    assert set(payload) == {"text", "blocks"}
    assert 1 <= len(payload["text"]) <= 40000
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert set(block) == {"type", "text"}
            _text_object(block["text"], plain_only=True, limit=150)
        elif kind == "section":
            assert set(block) <= {"type", "text", "fields"}
            _text_object(block["text"], limit=3000)
            fields = block.get("fields", [])
            assert len(fields) <= 10
            for item in fields:
                _text_object(item, limit=2000)
        elif kind == "context":
            assert set(block) == {"type", "elements"}
            assert 1 <= len(block["elements"]) <= 10
            for item in block["elements"]:
                _text_object(item, limit=3000)
        elif kind == "actions":
            assert set(block) == {"type", "elements"}
            assert 1 <= len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button"
                _text_object(button["text"], plain_only=True, limit=75)
                assert button["url"].startswith("https://") and len(button["url"]) <= 3000
                assert 1 <= len(button["action_id"]) <= 255
        else:
            pytest.fail(f"unexpected block type {kind}")


def test_single_shift_message_shape():
    payload = build_shift_message(
        _spike(),
        dashboard_url="https://pulse.example.com/personas/{persona_id}",
        persona_names={"p_3bc53aa8": "Power big-basket buyers"},
    )
    assert_block_kit(payload)
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "context", "actions"]
    section = payload["blocks"][1]
    assert "Power big-basket buyers" in section["text"]["text"]
    assert "&lt;big&gt; &amp; basket" in section["text"]["text"]
    fields = " ".join(f["text"] for f in section["fields"])
    assert "17 of 26 documents" in fields and "5 of 46 documents" in fields
    assert "2.5e-06" in fields and "65.4%" in fields
    button = payload["blocks"][3]["elements"][0]
    assert button["url"] == "https://pulse.example.com/personas/p_3bc53aa8"


def test_long_texts_are_clipped_to_limits():
    shift = _spike()
    long = Shift(**{**shift.__dict__, "summary": "x" * 5000, "kind": "y" * 300})
    payload = build_shift_message(long)
    assert_block_kit(payload)
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "context"]


def test_digest_shape_with_many_shifts():
    payload = build_digest([_share(i) for i in range(30)], dashboard_url="https://x.example/")
    assert_block_kit(payload)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 20
    assert "and 10 more" in payload["blocks"][-2]["elements"][0]["text"]


# --- delivery ---------------------------------------------------------------------------------


def test_one_message_per_shift_and_interval_respected():
    with SlackReceiver() as receiver:
        notifier = SlackNotifier(receiver.url, min_interval_seconds=0.4)
        results = notifier.notify([_spike(), _share(1), _share(2)])
    assert [r.ok for r in results] == [True, True, True]
    assert [r.digest for r in results] == [False, False, False]
    assert len(receiver.received) == 3
    for _, payload in receiver.received:
        assert_block_kit(payload)
    times = [t for t, _ in receiver.received]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.4, gaps


def test_interval_is_shared_across_threads_and_notifiers():
    with SlackReceiver() as receiver:
        notifiers = [SlackNotifier(receiver.url, min_interval_seconds=0.3) for _ in range(3)]
        threads = [
            threading.Thread(target=n.notify, args=([_share(i)],)) for i, n in enumerate(notifiers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    times = sorted(t for t, _ in receiver.received)
    assert len(times) == 3
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.3


def test_digest_is_one_message():
    with SlackReceiver() as receiver:
        notifier = SlackNotifier(receiver.url, digest_threshold=3, min_interval_seconds=0)
        shifts = [_spike(), *[_share(i) for i in range(4)]]
        results = notifier.notify(shifts)
    assert len(results) == 1 and results[0].ok and results[0].digest
    assert results[0].shift_ids == [s.id for s in shifts]
    assert len(receiver.received) == 1
    payload = receiver.received[0][1]
    assert_block_kit(payload)
    assert payload["blocks"][0]["text"]["text"] == "5 persona shifts detected"


def test_429_is_retried_after_retry_after():
    with SlackReceiver() as receiver:
        receiver.rate_limit(1)
        notifier = SlackNotifier(receiver.url, min_interval_seconds=0)
        started = time.monotonic()
        (result,) = notifier.notify([_spike()])
        elapsed = time.monotonic() - started
    assert result.ok and result.status_code == 200
    statuses = [status for _, status in receiver.attempts]
    assert statuses == [429, 200]
    (first, _), (second, _) = receiver.attempts
    assert second - first >= 1.0  # Retry-After: 1 honoured by slack_sdk's handler
    assert elapsed < 5


def test_rate_limit_that_never_ends_is_reported_not_raised():
    with SlackReceiver() as receiver:
        receiver.rate_limit(10)
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(
            receiver.url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=0)]
        )
        notifier = SlackNotifier(receiver.url, client=client, min_interval_seconds=0)
        (result,) = notifier.notify([_spike()])
    assert not result.ok and result.status_code == 429 and "rate_limited" in result.error


def test_unreachable_webhook_is_reported():
    with SlackReceiver() as receiver:
        url = receiver.url
    # the server is closed now: connection refused, retried once by the library, then reported
    (result,) = SlackNotifier(url, min_interval_seconds=0).notify([_spike()])
    assert not result.ok and result.status_code is None and result.error


def test_nothing_to_send():
    assert SlackNotifier("https://hooks.slack.com/services/x").notify([]) == []


def test_default_interval_is_one_second_per_webhook():
    with SlackReceiver() as receiver:
        results = SlackNotifier(receiver.url).notify([_share(1), _share(2)])
    assert all(r.ok for r in results)
    (first, _), (second, _) = receiver.received
    assert second - first >= 1.0


def test_shift_dicts_are_accepted():
    # the refresh job keeps shifts as to_dict() payloads; they must send the same messages
    shifts = [_spike(), _share(3)]
    notifier = SlackNotifier(
        "https://hooks.slack.com/services/x", dashboard_url="https://d.example/"
    )
    from_dicts = notifier.messages([s.to_dict() for s in shifts])
    assert from_dicts == notifier.messages(shifts)
    with SlackReceiver() as receiver:
        results = SlackNotifier(receiver.url, min_interval_seconds=0).notify(
            [s.to_dict() for s in shifts]
        )
    assert [r.ok for r in results] == [True, True] and len(receiver.received) == 2
