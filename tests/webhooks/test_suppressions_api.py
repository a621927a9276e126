"""/v1/suppressions, ``suppress`` on /v1/erasures, the ingest answer's ``suppressed``, and the CLI."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from personapulse.cli import main

EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "quiet-please",
    "messageId": "m-quiet-1",
    "timestamp": "2026-11-01T10:00:00Z",
}


def test_an_erasure_with_suppress_keeps_the_person_out_over_http(client, auth):
    assert client.post("/v1/events", json=EVENT, headers=auth).json["accepted"] == 1
    erased = client.post(
        "/v1/erasures", json={"person": "quiet-please", "suppress": True}, headers=auth
    )
    assert erased.status_code == 200, erased.json
    assert erased.json["found"] and erased.json["suppressed"] == 1
    assert client.get("/v1/erasures", headers=auth).json["erasures"][0]["suppressed"] == 1

    # The source sends again, and retries with the same Idempotency-Key: dropped both times.
    resent = {**EVENT, "messageId": "m-quiet-2"}
    retry = {**auth, "Idempotency-Key": "quiet-2"}
    for _ in range(2):
        answer = client.post("/v1/events", json=resent, headers=retry)
        assert answer.status_code == 200, answer.json
        assert (answer.json["accepted"], answer.json["suppressed"]) == (0, 1)
    assert client.get("/v1/users/quiet-please", headers=auth).status_code == 404

    # A batch of a suppressed item and an invalid one: nothing stored, but not "all rejected" (422).
    mixed = {"batch": [{**EVENT, "messageId": "m-quiet-4"}, {"type": "track", "userId": "x"}]}
    answer = client.post("/v1/events", json=mixed, headers=auth)
    assert answer.status_code == 200, answer.json
    assert (answer.json["accepted"], answer.json["suppressed"], answer.json["rejected"]) == (
        0,
        1,
        1,
    )

    # Without suppress the answer says so (null), and nothing is listed.
    plain = client.post("/v1/erasures", json={"person": "someone-else"}, headers=auth).json
    assert plain["suppressed"] is None
    listed = client.get("/v1/erasures", headers=auth).json["erasures"]
    assert [e["suppressed"] for e in listed] == [None, 1]


def test_suppress_check_list_and_lift(client, auth):
    assert client.post("/v1/events", json=EVENT, headers=auth).status_code == 200
    added = client.post("/v1/suppressions", json={"person": "quiet-please"}, headers=auth)
    assert added.status_code == 200 and added.json == {"added": 1}
    # Suppressed, not erased: what was stored stays.
    assert client.get("/v1/users/quiet-please", headers=auth).status_code == 200
    check = client.post("/v1/suppressions/check", json={"person": "quiet-please"}, headers=auth)
    assert check.json == {"suppressed": True}
    client.post("/v1/suppressions", json={"person": "noisy@example.com"}, headers=auth)

    listed = client.get("/v1/suppressions?limit=1", headers=auth)
    assert listed.status_code == 200
    (newest,) = listed.json["suppressions"]
    assert "quiet-please" not in listed.get_data(as_text=True)
    older = client.get(f"/v1/suppressions?before={newest['id']}", headers=auth).json
    assert [e["id"] for e in older["suppressions"]] == [newest["id"] - 1]

    lifted = client.post("/v1/suppressions/lift", json={"person": "quiet-please"}, headers=auth)
    assert lifted.json == {"lifted": 1}
    again = {**EVENT, "messageId": "m-quiet-3"}
    assert client.post("/v1/events", json=again, headers=auth).json["accepted"] == 1
    assert client.delete(f"/v1/suppressions/{newest['id']}", headers=auth).status_code == 204
    assert client.delete(f"/v1/suppressions/{newest['id']}", headers=auth).status_code == 404
    assert client.delete(f"/v1/suppressions/{2**64}", headers=auth).status_code == 404
    assert client.get("/v1/suppressions", headers=auth).json == {"suppressions": []}


def test_suppression_requests_are_validated_and_need_the_admin_scope(client, auth, make_key):
    for path, payload, field in (
        ("/v1/erasures", {"person": "x", "suppress": "yes"}, "suppress"),
        ("/v1/erasures", {"person": "x", "suppress": 1}, "suppress"),
        ("/v1/suppressions", {}, "person"),
        ("/v1/suppressions", {"person": " "}, "person"),
        ("/v1/suppressions/check", {"person": "x", "extra": 1}, "extra"),
        ("/v1/suppressions/lift", {"person": "x" * 321}, "person"),
    ):
        response = client.post(path, json=payload, headers=auth)
        assert response.status_code == 422, (path, payload)
        assert [f["field"] for f in response.json["error"]["fields"]] == [field]
    for query, field in (("limit=0", "limit"), ("limit=x", "limit"), ("before=-1", "before")):
        response = client.get(f"/v1/suppressions?{query}", headers=auth)
        assert response.status_code == 422, query
        assert [f["field"] for f in response.json["error"]["fields"]] == [field]
    reader = {"X-API-Key": make_key("ingest", "read")}
    assert client.get("/v1/suppressions", headers=reader).status_code == 403
    assert client.post("/v1/suppressions", json={"person": "x"}, headers=reader).status_code == 403
    assert client.delete("/v1/suppressions/1", headers=reader).status_code == 403
    assert client.post("/v1/suppressions", data="person=x", headers=auth).status_code == 415


def test_suppressions_are_in_the_openapi_document(client):
    document = client.get("/openapi.json").json
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/v1/suppressions"])
    (entry_id,) = paths["/v1/suppressions/{entry_id}"]["delete"]["parameters"]
    assert entry_id["schema"] == {"type": "integer"}
    erasure = document["components"]["schemas"]["ErasureRequest"]["properties"]
    assert erasure["suppress"]["type"] == "boolean"


def test_the_cli_suppresses_checks_lists_and_lifts(client, auth, database_url):
    assert client.post("/v1/events", json=EVENT, headers=auth).status_code == 200
    cli = ["--database-url", database_url]
    erased = CliRunner().invoke(main, [*cli, "erase", "quiet-please", "--suppress", "--yes"])
    assert erased.exit_code == 0, erased.output
    assert orjson.loads(erased.stdout)["suppressed"] == 1
    added = CliRunner().invoke(main, [*cli, "suppressions", "add", "anon:visitor-9"])
    assert orjson.loads(added.stdout) == {"person": "anon:visitor-9", "added": 1}

    check = CliRunner().invoke(main, [*cli, "suppressions", "check", "visitor-9"])
    assert (check.exit_code, check.stdout.strip()) == (0, "suppressed")
    listed = CliRunner().invoke(main, [*cli, "suppressions", "list"])
    assert len(listed.stdout.splitlines()) == 2 and "visitor-9" not in listed.stdout
    lifted = CliRunner().invoke(main, [*cli, "suppressions", "lift", "anon:visitor-9"])
    assert lifted.stdout.strip() == "anon:visitor-9: 1 lifted"
    check = CliRunner().invoke(main, [*cli, "suppressions", "check", "visitor-9"])
    assert (check.exit_code, check.stdout.strip()) == (1, "not suppressed")
    assert client.post("/v1/events", json=EVENT, headers=auth).json["suppressed"] == 1
