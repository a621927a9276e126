"""The n8n workflows against n8n's own node definitions (n8n-nodes-base 2.41.1), without n8n.

``n8n_workflows/validator/validate.mjs`` reads the node and credential descriptions that
n8n-nodes-base ships for the editor and checks every workflow; these tests run it, feed it broken
copies, and run the workflows' Code nodes (``code_node_harness.mjs``) on real PersonaPulse answers.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "n8n_workflows"
VALIDATOR = WORKFLOWS / "validator"
HARNESS = Path(__file__).with_name("code_node_harness.mjs")
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.json"))

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None,
    reason="node and npm are needed to load n8n-nodes-base's node definitions",
)


@pytest.fixture(scope="module")
def validator_ready() -> Path:
    """n8n-nodes-base / n8n-workflow from the lockfile (installed once: 2 min 21 s measured here)."""
    definitions = VALIDATOR / "node_modules" / "n8n-nodes-base" / "dist" / "types" / "nodes.json"
    if not definitions.exists():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=VALIDATOR,
            check=True,
            capture_output=True,
            timeout=900,
        )
    return VALIDATOR


def validate(paths: list[Path]) -> dict:
    result = subprocess.run(
        ["node", "validate.mjs", "--json", *map(str, paths)],
        cwd=VALIDATOR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def load(name: str) -> dict:
    return json.loads((WORKFLOWS / name).read_text())


def node_named(workflow: dict, name: str) -> dict:
    return next(node for node in workflow["nodes"] if node["name"] == name)


def test_every_workflow_matches_n8n_node_definitions(validator_ready):
    report = validate(WORKFLOW_FILES)
    assert report["n8nNodesBase"] == "2.41.1"
    assert len(report["files"]) == len(WORKFLOW_FILES) == 7
    assert report["problems"] == []


def test_lockfile_pins_the_packages_of_n8n_2_41_1():
    lock = json.loads((VALIDATOR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/n8n-nodes-base"]["version"] == "2.41.1"
    assert lock["packages"]["node_modules/n8n-workflow"]["version"] == "2.41.0"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_is_shareable(path: Path):
    text = path.read_text()
    workflow = json.loads(text)
    assert text == json.dumps(workflow, indent=2, ensure_ascii=False) + "\n", "pretty-printed"
    assert workflow["active"] is False
    notes = [n for n in workflow["nodes"] if n["type"] == "n8n-nodes-base.stickyNote"]
    assert notes and "Set up" in notes[0]["parameters"]["content"]
    for node in workflow["nodes"]:
        for reference in node.get("credentials", {}).values():
            assert reference["id"].startswith("PLACEHOLDER_")
    settings = node_named(workflow, "PersonaPulse settings")["parameters"]["assignments"]
    base_url = next(a for a in settings["assignments"] if a["name"] == "base_url")
    assert base_url["value"] == "https://personapulse.example.com"


def http_nodes(workflow: dict) -> dict[str, tuple[str, str]]:
    return {
        node["name"]: (node["parameters"].get("method", "GET"), node["parameters"]["url"])
        for node in workflow["nodes"]
        if node["type"] == "n8n-nodes-base.httpRequest"
    }


def test_workflows_call_the_documented_endpoints(client, auth):
    spec = client.get("/openapi.json").get_json()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    called = set()
    for path in WORKFLOW_FILES:
        for method, url in http_nodes(json.loads(path.read_text())).values():
            if "PersonaPulse settings').first().json.base_url" not in url or "ad_audience" in url:
                continue
            route = url.split("}}", 1)[1]
            route = route.replace(
                "{{ $('Start persona refresh').first().json.job_id }}", "{job_id}"
            )
            called.add((method, route))
    expected = {
        ("POST", "/v1/reviews"),
        ("POST", "/v1/personas/refresh"),
        ("GET", "/v1/jobs/{job_id}"),
        ("POST", "/v1/airtable/sync"),
        ("GET", "/v1/shifts"),
        ("POST", "/v1/conversations"),
        ("POST", "/v1/events"),
        ("GET", "/v1/assignments"),
        ("POST", "/v1/personas/assign"),
        ("POST", "/v1/erasures"),
    }
    assert called == expected
    assert called <= documented


# ------------------------------------------------------------------ the validator catches breakage


def test_broken_copy_reports_each_problem(validator_ready, tmp_path):
    workflow = load("01_review_alerts.json")
    broken = copy.deepcopy(workflow)
    node_named(broken, "New review webhook")["typeVersion"] = 2.7
    node_named(broken, "Classify review (POST /v1/reviews)")["parameters"]["bodyFormat"] = "json"
    del node_named(broken, "Alert Slack #customer-voice")["parameters"]["select"]
    broken["connections"]["Negative or pain point?"]["main"][0].append(
        {"node": "Post to Teams", "type": "main", "index": 0}
    )
    node_named(broken, "Upsert review in Airtable")["credentials"]["airtableTokenApi"]["id"] = (
        "8xGq2PcA1bT3kLmN"
    )
    node_named(broken, "Map to PersonaPulse review")["parameters"]["jsCode"] += (
        "\n// token: xoxb-1234567890-abcdefghij"
    )
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken, indent=2))

    problems = {(p["code"], p["node"]) for p in validate([path])["problems"]}

    assert ("unknown_type_version", "New review webhook") in problems
    assert ("unknown_parameter", "Classify review (POST /v1/reviews)") in problems
    assert ("missing_required_parameter", "Alert Slack #customer-voice") in problems
    assert ("dangling_connection", "Negative or pain point?") in problems
    assert ("credential_id", "Upsert review in Airtable") in problems
    assert ("secret_in_file", None) in problems
    # without "select", the channel field it reveals is hidden too: reported, not silently kept
    assert ("hidden_parameter", "Alert Slack #customer-voice") in problems
    assert len(problems) == 7


def test_validator_knows_display_rules_options_and_outputs(validator_ready, tmp_path):
    workflow = load("05_marketing_triggers.json")
    route = workflow["connections"]["Route by event type"]["main"]
    route.append([{"node": "Email the recommendation", "type": "main", "index": 0}])
    slack = node_named(workflow, "Post persona shift to Slack")
    slack["parameters"]["blocksUi"] = "[]"  # only shown for messageType "block"
    slack["credentials"] = {"slackOAuth2Api": {"id": "PLACEHOLDER_X", "name": "Slack"}}
    node_named(workflow, "Email the recommendation")["parameters"]["emailFormat"] = "markdown"
    node_named(workflow, "Set persona on HubSpot contact")["type"] = "n8n-nodes-base.hubspotCrm"
    workflow["active"] = True
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(workflow))

    problems = {(p["code"], p["node"]) for p in validate([path])["problems"]}

    assert problems == {
        ("invalid_output_index", "Route by event type"),
        ("hidden_parameter", "Post persona shift to Slack"),
        ("credential_not_allowed", "Post persona shift to Slack"),
        ("missing_credential", "Post persona shift to Slack"),
        ("invalid_option_value", "Email the recommendation"),
        ("hidden_parameter", "Email the recommendation"),  # "text" needs emailFormat text/both
        ("unknown_node_type", "Set persona on HubSpot contact"),
        ("workflow_active", None),
    }


# ------------------------------------------------------------------ the Code nodes do their job


def run_code_node(workflow: str, node: str, items: list, nodes: dict | None = None) -> dict:
    request = {
        "workflow": str(WORKFLOWS / workflow),
        "node": node,
        "input": items,
        "nodes": nodes or {},
    }
    result = subprocess.run(
        ["node", str(HARNESS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SETTINGS_SECRET = "whsec_" + base64.b64encode(b"n8n-test-signing-key-32-bytes!!!").decode()


def signed_delivery(payload: dict, secret: str, *, sent_at: int | None = None) -> dict:
    """A webhook item as n8n's Webhook node (raw body on) hands it on, signed by PersonaPulse's signer."""
    from standardwebhooks import Webhook

    body = json.dumps(payload, separators=(",", ":"))
    sent_at = int(time.time()) if sent_at is None else sent_at
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(sent_at, tz=UTC), body)
    return {
        "json": {
            "headers": {
                "webhook-id": "msg_1",
                "webhook-timestamp": str(sent_at),
                "webhook-signature": signature,
                "content-type": "application/json",
            },
            "body": payload,
        },
        "binary": {"data": {"data": base64.b64encode(body.encode()).decode()}},
    }


RECOMMENDATION = {
    "id": "evt_1",
    "type": "recommendation.created",
    "timestamp": "2026-11-23T10:00:00+00:00",
    "data": {"recommendation_id": "rec_1", "persona_id": "p_1", "kind": "discount_campaign"},
}


def verify(item: dict) -> dict:
    settings = [{"json": {"signing_secret": SETTINGS_SECRET}}]
    return run_code_node(
        "05_marketing_triggers.json",
        "Verify signature",
        [item],
        {"PersonaPulse settings": settings},
    )


def test_signature_check_accepts_personapulse_signatures():
    result = verify(signed_delivery(RECOMMENDATION, SETTINGS_SECRET))
    assert result["ok"], result
    [item] = result["items"]
    assert item["json"]["type"] == "recommendation.created"
    assert item["json"]["data"]["persona_id"] == "p_1"
    assert item["json"]["to_audience"] is True


def test_signature_check_refuses_tampering_other_secrets_and_replays():
    tampered = signed_delivery(RECOMMENDATION, SETTINGS_SECRET)
    raw = base64.b64decode(tampered["binary"]["data"]["data"]).replace(b"p_1", b"p_2")
    tampered["binary"]["data"]["data"] = base64.b64encode(raw).decode()
    other_secret = "whsec_" + base64.b64encode(b"another-key-another-key-another!").decode()
    old = signed_delivery(RECOMMENDATION, SETTINGS_SECRET, sent_at=int(time.time()) - 600)
    unsigned = signed_delivery(RECOMMENDATION, SETTINGS_SECRET)
    del unsigned["json"]["headers"]["webhook-signature"]

    assert verify(tampered) == {"ok": False, "error": "no webhook-signature entry matches"}
    assert verify(signed_delivery(RECOMMENDATION, other_secret))["error"] == (
        "no webhook-signature entry matches"
    )
    assert "the limit is 300 s" in verify(old)["error"]
    assert "missing webhook-id" in verify(unsigned)["error"]


def test_event_batches_respect_the_batch_size():
    events = [
        {"type": "track", "event": "Order Completed", "messageId": f"m{i}"} for i in range(1201)
    ]
    result = run_code_node(
        "04_event_forwarder.json",
        "Cut into batches",
        [{"json": {"body": {"batch": events[:1000]}}}, {"json": {"body": [*events[1000:], "x"]}}],
        {"PersonaPulse settings": [{"json": {"batch_size": 500}}]},
    )
    assert result["ok"], result
    assert [item["json"]["count"] for item in result["items"]] == [500, 500, 201]
    forwarded = [e["messageId"] for item in result["items"] for e in item["json"]["batch"]]
    assert forwarded == [e["messageId"] for e in events]


def test_review_path_pairs_real_classifications_with_their_reviews(client, auth):
    received = {
        "body": [
            {
                "source": "Trustpilot",
                "review_id": 17,
                "rating": 1,
                "text": "Delivery was late again and the box arrived damaged, terrible service.",
            },
            {
                "source": "google",
                "review_id": "g-2",
                "rating": 5,
                "text": "Lovely recipes, great value.",
            },
        ]
    }
    mapped = run_code_node(
        "01_review_alerts.json", "Map to PersonaPulse review", [{"json": received}]
    )
    assert mapped["ok"], mapped
    reviews = mapped["items"][0]["json"]["reviews"]
    assert [r["source"] for r in reviews] == ["trustpilot", "google"]

    answer = client.post("/v1/reviews", json={"reviews": reviews}, headers=auth)
    assert answer.status_code == 200, answer.get_json()

    split = run_code_node(
        "01_review_alerts.json",
        "One item per classification",
        [{"json": answer.get_json()}],
        {"Map to PersonaPulse review": mapped["items"]},
    )
    assert split["ok"], split
    late, lovely = (item["json"] for item in split["items"])
    assert late["sentiment_label"] == "negative" and late["pain_points"]
    assert late["rating"] == 1 and late["text"].startswith("Delivery")
    assert lovely["sentiment_label"] == "positive" and lovely["pain_point_labels"] == ""


def test_validator_checks_resource_locators(validator_ready, tmp_path):
    """n8n refuses to run a node whose resource locator fails its mode's pattern (found live)."""
    workflow = load("01_review_alerts.json")
    airtable = node_named(workflow, "Upsert review in Airtable")["parameters"]
    airtable["base"]["value"] = "REPLACE_WITH_AIRTABLE_BASE_ID"  # ids are letters and digits only
    slack = node_named(workflow, "Alert Slack #customer-voice")["parameters"]
    slack["channelId"]["mode"] = "channelName"  # Slack 2.7 has list, id, name, url
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(workflow))

    problems = validate([path])["problems"]

    assert sorted((p["code"], p["node"]) for p in problems) == [
        ("invalid_option_value", "Alert Slack #customer-voice"),
        ("invalid_option_value", "Upsert review in Airtable"),
    ]
    assert any("Not a valid Airtable Base ID" in p["message"] for p in problems)
