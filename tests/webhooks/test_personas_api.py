"""Personas, assignments, pain points, journeys and funnels over a small demo store."""

from __future__ import annotations

import pytest

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services.demo_load import load_demo
from personapulse.services.worker import run_one


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, database_url_for):
    """One store with 400 demo users and a first persona version, shared by this module."""
    from personapulse.services import personas as persona_service
    from personapulse.store.keys import create_key
    from webhooks import create_app

    url = database_url_for(tmp_path_factory.mktemp("demo"))
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    store = app.extensions["personapulse.store"]
    load_demo(store, DemoConfig(users=400, seed=11), load_settings())
    persona_service.refresh(store, {"k_max": 6, "bootstrap": 3})
    _, token = create_key(store.engine, "test")
    yield app, {"X-API-Key": token}
    store.dispose()


def test_personas_listed_with_gate_and_profiles(demo_app):
    app, auth = demo_app
    body = app.test_client().get("/v1/personas", headers=auth).json
    version = body["version"]
    assert version["version_id"] == "v1" and version["status"] == "current"
    assert {"reliable", "reasons", "entropy", "min_share", "stability", "replicated"} <= set(
        version["gate"]
    )
    assert len(body["personas"]) == version["k"] >= 2
    assert sum(p["size"] for p in body["personas"]) == version["provenance"]["users_fitted"]
    first = body["personas"][0]
    assert first["profile"]["traits"] and 5 <= len(first["profile"]["interview_shortlist"]) <= 10
    one = app.test_client().get(f"/v1/personas/{first['persona_id']}", headers=auth).json
    assert one["persona_id"] == first["persona_id"] and one["size"] == first["size"]


def test_candidates_table_reports_every_metric(demo_app):
    app, auth = demo_app
    version = app.test_client().get("/v1/personas/versions/v1", headers=auth).json["version"]
    metrics = set(version["candidates"][0])
    assert {
        "bic",
        "aic",
        "log_likelihood",
        "entropy",
        "min_share",
        "silhouette",
        "davies_bouldin",
    } <= metrics


def test_refresh_is_a_job_that_keeps_ids_on_unchanged_data(demo_app):
    app, auth = demo_app
    client = app.test_client()
    before = {p["persona_id"] for p in client.get("/v1/personas", headers=auth).json["personas"]}
    queued = client.post("/v1/personas/refresh", json={"k_max": 6}, headers=auth)
    assert queued.status_code == 202 and queued.headers["Location"].endswith(queued.json["job_id"])
    store = app.extensions["personapulse.store"]
    job = run_one(store, dict(app.config))
    assert job["status"] == "succeeded", job["error"]
    status = client.get(queued.json["status_url"], headers=auth).json
    assert status["status"] == "succeeded" and status["result"]["version_id"] == "v2"
    after = client.get("/v1/personas", headers=auth).json
    assert after["version"]["version_id"] == "v2"
    assert {p["persona_id"] for p in after["personas"]} == before
    versions = client.get("/v1/personas/versions", headers=auth).json["versions"]
    assert [v["status"] for v in versions] == ["current", "superseded"]


def test_refresh_request_is_validated(demo_app):
    app, auth = demo_app
    response = app.test_client().post(
        "/v1/personas/refresh", json={"k": 1, "colour": "red"}, headers=auth
    )
    assert response.status_code == 422
    assert {f["field"] for f in response.json["error"]["fields"]} == {"k", "colour"}


def test_assignments_paged_and_csv(demo_app):
    app, auth = demo_app
    client = app.test_client()
    first = client.get("/v1/assignments?limit=50", headers=auth).json
    assert len(first["assignments"]) == 50 and first["next_cursor"]
    second = client.get(f"/v1/assignments?limit=50&after={first['next_cursor']}", headers=auth).json
    assert first["assignments"][-1]["user_id"] < second["assignments"][0]["user_id"]
    csv_text = client.get("/v1/assignments?limit=5&format=csv", headers=auth).get_data(as_text=True)
    assert (
        csv_text.splitlines()[0] == "user_id,persona_id,probability"
        and len(csv_text.splitlines()) == 6
    )


def test_real_time_assignment_matches_stored(demo_app):
    """Scored alone, a person gets the features the fit gave them, hence the same persona and
    probabilities; checked for the first 40 people over HTTP and everyone by batch rescoring."""
    from personapulse.services import personas as persona_service

    app, auth = demo_app
    client = app.test_client()
    rows = client.get("/v1/assignments?limit=40", headers=auth).json["assignments"]
    first = rows[0]
    stored = client.get(f"/v1/users/{first['user_id']}/persona", headers=auth).json
    assert stored["persona_id"] == first["persona_id"]
    for row in rows:
        live = client.post("/v1/personas/assign", json={"user_id": row["user_id"]}, headers=auth)
        assert live.json["persona_id"] == row["persona_id"], row["user_id"]
        assert sum(live.json["probabilities"].values()) == pytest.approx(1, abs=1e-3)
        for persona_id, probability in row["probabilities"].items():
            assert live.json["probabilities"][persona_id] == pytest.approx(probability, abs=1e-3)
    store = app.extensions["personapulse.store"]
    everyone = [
        row["user_id"]
        for row in client.get("/v1/assignments?limit=1000", headers=auth).json["assignments"]
    ]
    result = persona_service.update_users(store, everyone)
    assert result["rescored"] == len(everyone) and result["changed"] == 0


def test_assignment_by_features_and_errors(demo_app):
    app, auth = demo_app
    client = app.test_client()
    scored = client.post(
        "/v1/personas/assign", json={"features": {"recency_days": 2.0}}, headers=auth
    )
    assert scored.status_code == 200 and scored.json["source"] == "features"
    unknown = client.post("/v1/personas/assign", json={"features": {"shoe_size": 9}}, headers=auth)
    assert (
        unknown.status_code == 422 and "shoe_size" in unknown.json["error"]["fields"][0]["reason"]
    )
    both = client.post("/v1/personas/assign", json={"user_id": "x", "features": {}}, headers=auth)
    assert both.status_code == 422
    nobody = client.post("/v1/personas/assign", json={"user_id": "nobody@nowhere"}, headers=auth)
    assert nobody.status_code == 404


def test_pain_points_per_persona(demo_app):
    app, auth = demo_app
    rows = app.test_client().get("/v1/pain-points", headers=auth).json["pain_points"]
    assert rows, "demo reviews carry pain points"
    personas = {
        p["persona_id"]
        for p in app.test_client().get("/v1/personas", headers=auth).json["personas"]
    }
    assert {r["persona_id"] for r in rows} <= personas
    assert all(r["count"] >= r["persons"] >= 1 and r["examples"] for r in rows)
    one = next(iter(personas))
    filtered = (
        app.test_client().get(f"/v1/pain-points?persona={one}", headers=auth).json["pain_points"]
    )
    assert {r["persona_id"] for r in filtered} <= {one}


def test_journeys_and_funnel_by_persona(demo_app):
    app, auth = demo_app
    client = app.test_client()
    journeys = client.get("/v1/journeys?top=5", headers=auth).json
    assert journeys["paths"] and journeys["transitions"] and journeys["dropoffs"]
    funnel = client.post(
        "/v1/funnels",
        json={
            "steps": ["/pricing", "Checkout Started", "Order Completed"],
            "window": "14d",
            "breakdown": "persona",
        },
        headers=auth,
    ).json
    assert "steps" in funnel, funnel
    counts = [step["count"] for step in funnel["steps"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    per_persona = sum(rows[0]["count"] for rows in funnel["breakdown"].values())
    assert per_persona == counts[0]


def test_no_personas_yet_is_a_clear_404(client, auth):
    response = client.get("/v1/personas", headers=auth)
    assert response.status_code == 404 and response.json["error"]["code"] == "no_personas"


def test_cards_grounded_and_markdown(demo_app):
    app, auth = demo_app
    client = app.test_client()
    personas = client.get("/v1/personas", headers=auth).json["personas"]
    card = client.get(f"/v1/personas/{personas[0]['persona_id']}/card", headers=auth).json
    assert card["backend"] == "template" and card["grounding"]["passed"]
    assert card["card"]["profile"] and card["card"]["strategy"] is not None
    markdown = client.get(f"/v1/personas/{personas[0]['persona_id']}/card?format=md", headers=auth)
    assert markdown.mimetype == "text/markdown" and personas[0]["name"] in markdown.get_data(
        as_text=True
    )
    assert client.get("/v1/personas/p_nothere/card", headers=auth).status_code == 404


def test_recommendations_carry_evidence(demo_app):
    app, auth = demo_app
    found = app.test_client().get("/v1/recommendations", headers=auth).json["recommendations"]
    assert found and all(
        r["evidence"] and r["priority"] in ("high", "medium", "low") for r in found
    )


def test_shifts_listed(demo_app):
    app, auth = demo_app
    response = app.test_client().get("/v1/shifts", headers=auth)
    assert response.status_code == 200 and isinstance(response.json["shifts"], list)
    assert app.test_client().get("/v1/shifts?limit=0", headers=auth).status_code == 422


def test_airtable_sync_unconfigured_is_409(demo_app):
    app, auth = demo_app
    response = app.test_client().post("/v1/airtable/sync", headers=auth)
    assert response.status_code == 409 and response.json["error"]["code"] == "not_configured"
