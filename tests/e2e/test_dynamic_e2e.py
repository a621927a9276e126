"""Dynamic personas end to end: the real service under gunicorn, local receivers on 127.0.0.1.

subscribe → ingest reviews that plant a pain-point spike → refresh → signed pain_point.spiked and
persona.shifted arrive; 500 then 200 is delivered exactly once; 410 unsubscribes; pending deliveries
survive a restart.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.live_service import free_port, start_service
from tests.receivers import Receiver

pytestmark = pytest.mark.e2e

HOOK_ENV = {
    "PERSONAPULSE_ALLOW_HTTP_HOOKS": "true",
    "PERSONAPULSE_ALLOW_PRIVATE_HOOK_TARGETS": "true",
    "PERSONAPULSE_HOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5",
}


def _wait(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


class Api:
    def __init__(self, service):
        self.base = service.base_url
        self.headers = {"X-API-Key": service.token}

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=120)

    def get(self, path):
        return requests.get(self.base + path, headers=self.headers, timeout=120)

    def delete(self, path):
        return requests.delete(self.base + path, headers=self.headers, timeout=30)

    def refresh(self, **params):
        job = self.post("/v1/personas/refresh", params).json()
        return _wait(
            lambda: (
                (j := self.get(f"/v1/jobs/{job['job_id']}").json())["status"]
                in ("succeeded", "failed")
                and j
            ),
            timeout=300,
            what="refresh job",
        )


@pytest.fixture(scope="module")
def dynamic_service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dynamic")
    service = start_service(workdir, extra_env=HOOK_ENV)
    service.cli(
        "demo",
        "--users",
        "500",
        "--seed",
        "21",
        "--no-key",
        "--answers",
        str(workdir / "answers.csv"),
    )
    yield service, workdir
    service.stop()


def _spike_reviews(api: Api, persona_id: str, n: int = 25) -> list[dict]:
    """Fresh, clearly negative delivery complaints from members of one persona."""
    members = api.get(f"/v1/assignments?persona={persona_id}&limit={n}").json()["assignments"]
    now = datetime.now(UTC)
    return [
        {
            "source": "trustpilot",
            "review_id": f"spike-{i}",
            "user_id": member["user_id"],
            "rating": 1,
            "text": "Delivery was late again and the box arrived damaged. Shipping is a mess, still waiting for my order.",
            "created_at": (now - timedelta(hours=i)).isoformat(),
        }
        for i, member in enumerate(members)
        if not member["user_id"].startswith("anon:")
    ]


def test_signed_events_spike_and_shift(dynamic_service):
    service, _ = dynamic_service
    api = Api(service)
    receiver = Receiver().start()
    try:
        secrets = {}
        for event in (
            "refresh.completed",
            "persona.shifted",
            "pain_point.spiked",
            "review.classified",
        ):
            hook = api.post("/v1/hooks", {"target_url": f"{receiver.url}/{event}", "event": event})
            assert hook.status_code == 201, hook.text
            secrets[event] = hook.json()["secret"]
        assert api.refresh(k_max=6)["status"] == "succeeded"
        first = _wait(lambda: receiver.of_type("refresh.completed"), what="refresh.completed")[0]
        Webhook(secrets["refresh.completed"]).verify(first.body, first.headers)  # raises when wrong

        personas = api.get("/v1/personas").json()["personas"]
        target = max(personas, key=lambda p: p["size"])["persona_id"]
        answer = api.post("/v1/reviews", _spike_reviews(api, target))
        assert answer.status_code == 200 and answer.json()["accepted"] > 10
        _wait(
            lambda: len(receiver.of_type("review.classified")) >= answer.json()["accepted"],
            what="review.classified",
        )

        assert api.refresh(k_max=6)["status"] == "succeeded"
        spikes = _wait(lambda: receiver.of_type("pain_point.spiked"), what="pain_point.spiked")
        spike = spikes[0].json()["data"]
        assert spike["label"] == "shipping_delivery" and spike["persona_id"] == target
        Webhook(secrets["pain_point.spiked"]).verify(spikes[0].body, spikes[0].headers)
        shifted = _wait(lambda: receiver.of_type("persona.shifted"), what="persona.shifted")
        Webhook(secrets["persona.shifted"]).verify(shifted[0].body, shifted[0].headers)
        listed = api.get("/v1/hooks/samples/pain_point.spiked").json()["samples"]
        assert listed[0]["data"]["label"] == "shipping_delivery", (
            "performList shows what was delivered"
        )
    finally:
        receiver.stop()


def test_retry_once_after_500_and_410_unsubscribes(dynamic_service):
    service, _ = dynamic_service
    api = Api(service)
    seen: dict[str, int] = {}

    def flaky(record):
        message = record.headers["webhook-id"]
        seen[message] = seen.get(message, 0) + 1
        return (500, {}) if seen[message] == 1 else (200, {})

    flaky_receiver = Receiver(respond=flaky).start()
    gone_receiver = Receiver(respond=lambda _r: (410, {})).start()
    try:
        api.post("/v1/hooks", {"target_url": flaky_receiver.url, "event": "review.classified"})
        gone = api.post(
            "/v1/hooks", {"target_url": gone_receiver.url, "event": "review.classified"}
        ).json()
        api.post(
            "/v1/reviews",
            [
                {"source": "google", "review_id": f"r-{i}", "text": "Fine recipes."}
                for i in range(3)
            ],
        )
        delivered = _wait(
            lambda: (
                len([r for r in flaky_receiver.requests if r.status == 200]) >= 3
                and flaky_receiver.requests
            )
        )
        successes = [r.headers["webhook-id"] for r in delivered if r.status == 200]
        assert len(successes) == len(set(successes)) == 3, "each delivery succeeds exactly once"
        assert all(count == 2 for count in seen.values())
        _wait(
            lambda: gone["id"] not in {h["id"] for h in api.get("/v1/hooks").json()["hooks"]},
            what="410 unsubscribe",
        )
        before = len(gone_receiver.requests)
        api.post("/v1/reviews", [{"source": "google", "review_id": "after-410", "text": "Nice."}])
        time.sleep(2)
        assert len(gone_receiver.requests) == before
    finally:
        flaky_receiver.stop()
        gone_receiver.stop()


def test_pending_deliveries_survive_a_restart(tmp_path):
    port = free_port()  # nobody listens there yet: deliveries fail and stay pending
    service = start_service(tmp_path, extra_env=HOOK_ENV)
    api = Api(service)
    try:
        hook = api.post(
            "/v1/hooks",
            {"target_url": f"http://127.0.0.1:{port}/late", "event": "review.classified"},
        )
        assert hook.status_code == 201, hook.text
        api.post(
            "/v1/reviews",
            [{"source": "amazon", "review_id": "survivor", "text": "Arrived on time."}],
        )
        _wait(
            lambda: api.get(f"/v1/hooks/{hook.json()['id']}/deliveries").json()["deliveries"],
            what="a failed attempt",
        )
    finally:
        service.stop()

    receiver = Receiver().start(port=port)
    restarted = start_service(tmp_path, extra_env=HOOK_ENV)
    try:
        delivered = _wait(
            lambda: receiver.of_type("review.classified"), what="delivery after restart"
        )
        assert delivered[0].json()["data"]["review_id"] == "amazon:survivor"

        def history_once_answered():
            # The receiver has the request before the service has its answer and logs it.
            deliveries = (
                Api(restarted).get(f"/v1/hooks/{hook.json()['id']}/deliveries").json()["deliveries"]
            )
            return deliveries if deliveries[0]["status_code"] is not None else None

        history = _wait(history_once_answered, timeout=30, what="the delivery's answer logged")
        assert history[0]["status_code"] == 200
        assert any(d["status_code"] is None for d in history[1:]), (
            "the failed attempts before the restart are logged"
        )
    finally:
        restarted.stop()
        receiver.stop()


@pytest.mark.timeout(1500)  # a demo, two refreshes and a restart: slow on a loaded machine
def test_a_pending_slack_alert_survives_a_restart(tmp_path):
    """Slack is down when a refresh finds the planted spike: the alert waits in the outbox, and
    the restarted service sends it once Slack answers (through slack_sdk's WebhookClient)."""
    from tests.outbound.slack_receiver import SlackReceiver

    port = free_port()  # nobody listens there yet: the alert fails and stays pending
    slack_url = f"http://127.0.0.1:{port}/services/T000/B000/XXXX"
    env = {
        **HOOK_ENV,
        "PERSONAPULSE_SLACK_WEBHOOK_URL": slack_url,
        # Retries every 3 s for two minutes: still pending when the service stops.
        "PERSONAPULSE_HOOK_RETRY_SCHEDULE": ",".join(["3"] * 40),
    }
    service = start_service(tmp_path, extra_env=env)
    api = Api(service)
    try:
        service.cli("demo", "--users", "500", "--seed", "21", "--no-key")
        assert api.refresh(k_max=6)["status"] == "succeeded"
        personas = api.get("/v1/personas").json()["personas"]
        target = max(personas, key=lambda p: p["size"])["persona_id"]
        assert api.post("/v1/reviews", _spike_reviews(api, target)).status_code == 200
        refreshed = api.refresh(k_max=6)
        assert refreshed["status"] == "succeeded"
        assert any("shipping" in s for s in refreshed["result"]["shifts"]), refreshed["result"]
        _wait(
            lambda: api.get("/v1/hooks/slack/deliveries").json()["deliveries"],
            what="a failed Slack attempt",
        )
    finally:
        service.stop()

    with SlackReceiver(port=port) as slack:
        restarted = start_service(tmp_path, extra_env=env)
        try:
            _wait(lambda: slack.received, what="the Slack alert after the restart")
            time.sleep(2)  # nothing more is pending: the alert is not sent twice
            history = Api(restarted).get("/v1/hooks/slack/deliveries").json()["deliveries"]
        finally:
            restarted.stop()
    blocks = [payload["blocks"] for _, payload in slack.received]
    assert any("shipping" in str(b).lower() for b in blocks)
    assert len({str(b) for b in blocks}) == len(blocks), "each alert arrives once"
    assert history[0]["status_code"] == 200
    assert any(d["status_code"] is None for d in history[1:]), "the failed attempts are logged"
