"""Slack alerts for persona shifts through an incoming webhook, as Block Kit messages.

Sending goes through ``slack_sdk.webhook.WebhookClient`` with its own retry handlers: a 429 is
retried after the ``Retry-After`` the server sent (``RateLimitErrorRetryHandler``) and a dropped
connection is retried once (``ConnectionErrorRetryHandler``). On top of that, a process-wide
limiter keeps at most one message per ``min_interval_seconds`` per webhook URL, which is Slack's
documented rate for incoming webhooks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from personapulse.outbound.shifts import Shift

__all__ = ["SlackNotifier", "SlackResult", "build_digest", "build_shift_message"]

# Block Kit limits (api.slack.com/reference/block-kit/blocks and .../composition-objects).
HEADER_TEXT_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000
BLOCKS_MAX = 50
FALLBACK_TEXT_MAX = 3000  # the top-level `text`: what notifications and screen readers show
DIGEST_SHIFTS_MAX = 20  # sections listed in a digest before "and N more"

SEVERITY_EMOJI = {
    "critical": ":rotating_light:",
    "warning": ":warning:",
    "info": ":information_source:",
}
KIND_TITLES = {
    "share_moved": "Persona share moved",
    "centroid_drift": "Persona behaviour drifted",
    "appeared": "New persona appeared",
    "vanished": "Persona vanished",
    "pain_point_spike": "Pain-point spike",
    "conversion_change": "Persona conversion changed",
}
# Evidence keys shown as fields, in this order, with how to print them.
_EVIDENCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("previous_share", "Share before", "pct"),
    ("current_share", "Share now", "pct"),
    ("delta_points", "Change (points)", "signed"),
    ("previous_conversion", "Conversion before", "pct"),
    ("current_conversion", "Conversion now", "pct"),
    ("recent_share", "Recent share", "pct"),
    ("baseline_share", "Baseline share", "pct"),
    ("recent_mentions", "Recent mentions", "count_of_recent"),
    ("baseline_mentions", "Baseline mentions", "count_of_baseline"),
    ("lift", "Lift", "times"),
    ("distance", "Centroid distance", "float"),
    ("size", "People", "int"),
    ("share", "Share of users", "pct"),
    ("previous_size", "People before", "int"),
    ("current_size", "People now", "int"),
    ("p_value", "p-value", "p"),
)


@dataclass(frozen=True)
class SlackResult:
    """Outcome of one webhook POST (after the client's own retries)."""

    ok: bool
    status_code: int | None
    body: str
    shift_ids: list[str] = field(default_factory=list)
    digest: bool = False
    error: str | None = None
    duration_ms: float = 0.0


class _UrlIntervalLimiter:
    """Sends to one key are serialised and each starts ``interval`` after the previous one
    finished, so arrivals at the server are at least ``interval`` apart whatever the latency.
    Thread-safe."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last_done: dict[str, float] = {}

    def run(self, key: str, interval: float, send):
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            last = self._last_done.get(key)
            if last is not None:
                wait = last + interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                return send()
            finally:
                self._last_done[key] = time.monotonic()


# Shared by every notifier in the process, so two notifiers on one URL still respect the rate.
_LIMITER = _UrlIntervalLimiter()


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _format(kind: str, value: Any, evidence: Mapping[str, Any]) -> str | None:
    if value is None:
        return None
    if kind == "pct":
        return f"{float(value):.1%}"
    if kind == "signed":
        return f"{float(value):+.1f}"
    if kind == "times":
        return f"{float(value):.1f}×"
    if kind == "float":
        return f"{float(value):.2f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "p":
        return f"{float(value):.2g}"
    if kind == "count_of_recent":
        return f"{int(value)} of {int(evidence.get('recent_documents', 0))} documents"
    if kind == "count_of_baseline":
        return f"{int(value)} of {int(evidence.get('baseline_documents', 0))} documents"
    return str(value)


def _evidence_fields(evidence: Mapping[str, Any]) -> list[dict]:
    fields = []
    for key, title, kind in _EVIDENCE_FIELDS:
        text = _format(kind, evidence.get(key), evidence)
        if text is not None:
            fields.append(
                {"type": "mrkdwn", "text": _clip(f"*{title}*\n{_escape(text)}", FIELD_TEXT_MAX)}
            )
    return fields[:FIELDS_MAX]


def _persona_line(shift: Shift, persona_names: Mapping[str, str] | None) -> str:
    name = (persona_names or {}).get(shift.persona_id)
    label = f" · {_escape(shift.label.replace('_', ' '))}" if shift.label else ""
    if name:
        return f"*{_escape(name)}* (`{shift.persona_id}`){label}"
    return f"*Persona* `{shift.persona_id}`{label}"


def _button(dashboard_url: str | None, persona_id: str | None) -> dict | None:
    if not dashboard_url:
        return None
    url = dashboard_url.replace("{persona_id}", persona_id or "")
    if len(url) > BUTTON_URL_MAX:
        return None
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open dashboard", "emoji": True},
                "url": url,
                "action_id": "open_dashboard",
            }
        ],
    }


def _when(shift: Shift) -> str:
    if shift.detected_at is None:
        return "just now"
    return shift.detected_at.strftime("%Y-%m-%d %H:%M UTC")


def build_shift_message(
    shift: Shift,
    *,
    dashboard_url: str | None = None,
    persona_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The webhook payload (``text`` fallback + ``blocks``) for one shift.

    Blocks: header (kind), section (persona and the summary, with the evidence numbers as fields),
    context (severity, time, test, id) and, when ``dashboard_url`` is given, an actions block with
    a link button (``{persona_id}`` in the URL is replaced by the shift's persona id).
    """
    title = KIND_TITLES.get(shift.kind, shift.kind.replace("_", " ").capitalize())
    section: dict[str, Any] = {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": _clip(
                f"{_persona_line(shift, persona_names)}\n{_escape(shift.summary)}",
                SECTION_TEXT_MAX,
            ),
        },
    }
    fields = _evidence_fields(shift.evidence)
    if fields:
        section["fields"] = fields
    context_bits = [f"{SEVERITY_EMOJI.get(shift.severity, '')} *{shift.severity}*", _when(shift)]
    if shift.evidence.get("test"):
        context_bits.append(_escape(str(shift.evidence["test"])))
    context_bits.append(f"`{shift.id}`")
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(title, HEADER_TEXT_MAX), "emoji": True},
        },
        section,
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _clip(" · ".join(context_bits), 2000)}],
        },
    ]
    button = _button(dashboard_url, shift.persona_id)
    if button:
        blocks.append(button)
    return {"text": _clip(f"{title}: {shift.summary}", FALLBACK_TEXT_MAX), "blocks": blocks}


def build_digest(
    shifts: Sequence[Shift],
    *,
    dashboard_url: str | None = None,
    persona_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One payload listing several shifts: header, one section per shift (at most 20, then a
    count of the rest), a context line with the severities, and the dashboard button."""
    counts = {s: sum(1 for x in shifts if x.severity == s) for s in ("critical", "warning", "info")}
    title = f"{len(shifts)} persona shifts detected"
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": " · ".join(
                        f"{SEVERITY_EMOJI[s]} {n} {s}" for s, n in counts.items() if n
                    ),
                }
            ],
        },
    ]
    for shift in shifts[:DIGEST_SHIFTS_MAX]:
        kind = KIND_TITLES.get(shift.kind, shift.kind)
        text = (
            f"{SEVERITY_EMOJI.get(shift.severity, '')} *{kind}* · "
            f"{_persona_line(shift, persona_names)}\n{_escape(shift.summary)}"
        )
        p_value = shift.evidence.get("p_value")
        if p_value is not None:
            text += f" _(p = {float(p_value):.2g})_"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, 3000)}})
    if len(shifts) > DIGEST_SHIFTS_MAX:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"…and {len(shifts) - DIGEST_SHIFTS_MAX} more"}
                ],
            }
        )
    # a "{persona_id}" placeholder becomes empty: the digest links to the dashboard's list
    button = _button(dashboard_url, None)
    if button:
        blocks.append(button)
    fallback = title + ": " + "; ".join(s.summary for s in shifts)
    return {"text": _clip(fallback, FALLBACK_TEXT_MAX), "blocks": blocks[:BLOCKS_MAX]}


class SlackNotifier:
    """Posts shifts to one Slack incoming webhook.

    ``notify(shifts)`` sends one message per shift, or a single digest when more than
    ``digest_threshold`` arrive at once. Messages to the same webhook URL are serialised across
    every notifier and thread in the process, each starting ``min_interval_seconds`` after the
    previous one finished.
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        client: WebhookClient | None = None,
        dashboard_url: str | None = None,
        min_interval_seconds: float = 1.0,
        digest_threshold: int = 3,
    ) -> None:
        self.webhook_url = webhook_url
        self.client = client or WebhookClient(
            webhook_url,
            timeout=10,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=1),
                RateLimitErrorRetryHandler(max_retry_count=2),
            ],
        )
        self.dashboard_url = dashboard_url
        self.min_interval_seconds = min_interval_seconds
        self.digest_threshold = digest_threshold

    def messages(
        self,
        shifts: Iterable[Shift | Mapping[str, Any]],
        *,
        persona_names: Mapping[str, str] | None = None,
    ) -> list[tuple[dict[str, Any], list[str], bool]]:
        """The payloads ``notify`` would send: (payload, shift ids, is_digest) tuples.

        ``shifts`` may be :class:`Shift` objects or their ``to_dict()`` form.
        """
        shifts = [s if isinstance(s, Shift) else Shift.from_dict(s) for s in shifts]
        if not shifts:
            return []
        if len(shifts) > self.digest_threshold:
            payload = build_digest(
                shifts, dashboard_url=self.dashboard_url, persona_names=persona_names
            )
            return [(payload, [s.id for s in shifts], True)]
        return [
            (
                build_shift_message(
                    s, dashboard_url=self.dashboard_url, persona_names=persona_names
                ),
                [s.id],
                False,
            )
            for s in shifts
        ]

    def notify(
        self,
        shifts: Iterable[Shift | Mapping[str, Any]],
        *,
        persona_names: Mapping[str, str] | None = None,
    ) -> list[SlackResult]:
        """Send the shifts; one :class:`SlackResult` per POST. Never raises for delivery errors."""
        results = []
        for payload, ids, digest in self.messages(shifts, persona_names=persona_names):
            results.append(self.send(payload, ids, digest))
        return results

    def send(self, payload: Mapping[str, Any], ids: list[str], digest: bool) -> SlackResult:
        """POST one payload from :meth:`messages` (the outbox stores them and sends them later)."""

        def post():
            return self.client.send(text=payload["text"], blocks=payload["blocks"])

        started = time.perf_counter()
        try:
            response = _LIMITER.run(self.webhook_url, self.min_interval_seconds, post)
        except Exception as exc:  # delivery failures are reported, not raised
            return SlackResult(
                False,
                None,
                "",
                ids,
                digest,
                f"{type(exc).__name__}: {exc}",
                (time.perf_counter() - started) * 1000,
            )
        ok = response.status_code == 200 and response.body == "ok"
        return SlackResult(
            ok,
            response.status_code,
            response.body,
            ids,
            digest,
            None if ok else f"Slack answered {response.status_code}: {response.body}",
            (time.perf_counter() - started) * 1000,
        )
