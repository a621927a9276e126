"""POST / GET /v1/erasures and ``personapulse erase``: validation, scopes, the audit record."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from personapulse.cli import main
from personapulse.services.erasure import subject_hash
from personapulse.store.people import resolve_person

EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "erase-me",
    "anonymousId": "anon-erase-me",
    "messageId": "m-erase-1",
    "timestamp": "2026-11-01T10:00:00Z",
}


def test_an_admin_erases_a_person_and_the_record_keeps_no_id(client, auth, store):
    assert client.post("/v1/events", json=EVENT, headers=auth).status_code == 200
    response = client.post("/v1/erasures", json={"person": "anon:anon-erase-me"}, headers=auth)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["found"] and body["deleted"]["events"] == 1 and body["deleted"]["identities"] == 1
    assert body["subject_hash"] == subject_hash("anon:anon-erase-me", body["salt"])
    assert body["airtable_job_id"] is None  # Airtable is not configured here
    assert resolve_person(store.engine, "erase-me") is None

    again = client.post("/v1/erasures", json={"person": "erase-me"}, headers=auth).json
    assert not again["found"] and again["deleted"] == {}
    listed = client.get("/v1/erasures", headers=auth)
    assert listed.status_code == 200
    assert [e["erasure_id"] for e in listed.json["erasures"]] == [
        again["erasure_id"],
        body["erasure_id"],
    ]
    assert "erase-me" not in listed.get_data(as_text=True)


def test_erasure_requests_are_validated_and_need_the_admin_scope(client, auth, make_key):
    for payload, field in (
        ({}, "person"),
        ({"person": "   "}, "person"),
        ({"person": "x", "why": 1}, "why"),
    ):
        response = client.post("/v1/erasures", json=payload, headers=auth)
        assert response.status_code == 422, payload
        assert [f["field"] for f in response.json["error"]["fields"]] == [field]
    reader = {"X-API-Key": make_key("ingest", "read")}
    assert client.post("/v1/erasures", json={"person": "x"}, headers=reader).status_code == 403
    assert client.get("/v1/erasures", headers=reader).status_code == 403
    assert client.post("/v1/erasures", data="person=x", headers=auth).status_code == 415


def test_erasure_records_page_on_from_the_last_id_of_the_previous_page(client, auth):
    ids = [
        client.post("/v1/erasures", json={"person": f"nobody-{n}"}, headers=auth).json["erasure_id"]
        for n in range(5)
    ]
    pages, before = [], None
    while True:
        query = {"limit": 2, **({"before": before} if before else {})}
        page = client.get("/v1/erasures", query_string=query, headers=auth)
        assert page.status_code == 200, page.json
        listed = [record["erasure_id"] for record in page.json["erasures"]]
        if not listed:
            break
        assert len(listed) <= 2
        pages.append(listed)
        before = listed[-1]
    assert [erasure for page in pages for erasure in page] == ids[::-1]  # newest first, each once
    assert len(pages) == 3

    for query, field in (({"before": "er_unknown"}, "before"), ({"limit": 0}, "limit")):
        refused = client.get("/v1/erasures", query_string=query, headers=auth)
        assert refused.status_code == 422, query
        assert [f["field"] for f in refused.json["error"]["fields"]] == [field]


def test_erasure_is_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/v1/erasures"])


def test_the_cli_erases_after_asking_one_json_line_per_person(client, auth, database_url, tmp_path):
    assert client.post("/v1/events", json=EVENT, headers=auth).status_code == 200
    other = {**EVENT, "userId": "erase-me-too", "anonymousId": None, "messageId": "m-erase-2"}
    assert client.post("/v1/events", json=other, headers=auth).status_code == 200
    cli = ["--database-url", database_url, "erase"]
    refused = CliRunner().invoke(main, [*cli, "erase-me"], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert CliRunner().invoke(main, [*cli, "--yes"]).exit_code == 2  # nobody named

    listed = tmp_path / "requests.txt"
    listed.write_text("erase-me-too\n\nnobody-at-all\n")
    result = CliRunner().invoke(main, [*cli, "erase-me", "--file", str(listed), "--yes"])

    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(line["person"], line["found"]) for line in lines] == [
        ("erase-me", True),
        ("erase-me-too", True),
        ("nobody-at-all", False),
    ]
    assert lines[0]["deleted"]["events"] == 1 and lines[0]["requested_by"] == "cli"
    assert "nothing stored of 'nobody-at-all'" in result.stderr
