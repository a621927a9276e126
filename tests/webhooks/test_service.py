"""Health, OpenAPI, docs, data quality, jobs."""

from __future__ import annotations

import re

from personapulse.store import jobs as job_queue


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["schema"] is not None


def test_openapi_lists_every_route_with_schemas(app, client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)  # <int(max=…):id> too
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (
                f"{method} {path} is not in the OpenAPI document"
            )
    reviews = document["paths"]["/v1/reviews"]["post"]
    assert "422" in reviews["responses"] and "requestBody" in reviews
    assert "ReviewIn" in document["components"]["schemas"]


def test_docs_page(client):
    response = client.get("/docs")
    assert response.status_code == 200 and b"openapi.json" in response.data


def test_data_quality_names_garbage(client, auth):
    client.post(
        "/v1/events",
        json=[{"type": "track", "userId": "u", "event": "x", "messageId": "1"}],
        headers=auth,
    )
    client.post(
        "/v1/events",
        json=[{"type": "track", "userId": "u", "event": "x", "messageId": "1"}],
        headers=auth,
    )
    client.post(
        "/v1/events",
        json=[
            {
                "type": "page",
                "anonymousId": "a",
                "messageId": "2",
                "timestamp": "2026-01-01T00:00:00Z",
            }
        ],
        headers=auth,
    )
    client.post("/v1/reviews", json={"source": "google", "text": "meh"}, headers=auth)
    report = client.get("/v1/data-quality", headers=auth).json
    assert report["events"]["missing_timestamp"] == 1
    assert report["events"]["unknown_users"] == 1
    assert report["duplicates"]["events"] == 1
    assert report["reviews"] == {"total": 1, "unlinked": 1}
    assert any("not linked" in finding for finding in report["findings"])
    assert client.get("/v1/data-quality?days=0", headers=auth).status_code == 422


def test_data_quality_sources_disagree(client, auth):
    segment = [
        {
            "type": "track",
            "userId": f"u{i}",
            "event": "Order Completed",
            "messageId": f"s{i}",
            "timestamp": "2026-01-01T00:00:00Z",
            "properties": {"revenue": 10},
        }
        for i in range(5)
    ]
    mixpanel = [
        {
            "event": "Order Completed",
            "properties": {"distinct_id": f"u{i}", "time": 1767225600, "$insert_id": f"m{i}"},
        }
        for i in range(5)
    ]
    client.post("/v1/events", json=segment, headers=auth)
    client.post("/v1/events", json=mixpanel, headers=auth)
    report = client.get("/v1/data-quality", headers=auth).json
    fields = {(d["event"], d["field"]) for d in report["field_disagreements"]}
    assert ("Order Completed", "revenue") in fields


def test_job_status(client, auth, store):
    job = job_queue.enqueue(store.engine, "noop")
    response = client.get(f"/v1/jobs/{job['id']}", headers=auth)
    assert response.status_code == 200 and response.json["status"] == "queued"
    assert client.get("/v1/jobs/job_missing", headers=auth).status_code == 404
