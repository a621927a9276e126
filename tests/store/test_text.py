"""Text the backends disagree on: U+0000 is refused alike on SQLite and PostgreSQL (which cannot
store it), never a 500; a backslash before "u0000" is ordinary text."""

from __future__ import annotations

import pytest

from personapulse.store.frames import load_events

EVENT = {"type": "track", "userId": "u1", "messageId": "m1", "timestamp": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/events", [EVENT | {"event": "Nul\u0000Event"}]),
        ("/v1/events", [EVENT | {"event": "Ok", "properties": {"feature": "a\u0000b"}}]),
        ("/v1/reviews", [{"source": "google", "review_id": "n\u00001", "text": "fine"}]),
        ("/v1/profiles", [{"user_id": "p1", "traits": {"k\u0000": "v"}}]),
    ],
)
def test_a_nul_character_is_refused_on_every_backend(client, auth, path, body):
    response = client.post(path, json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"][0]["field"] == "body"


def test_a_nul_byte_in_csv_is_refused(client, auth):
    csv = "event_id,user_id,event,timestamp\ne1,u1,Sign\x00up,2026-01-01T00:00:00Z\n"
    response = client.post(
        "/v1/events", data=csv.encode(), headers=auth | {"Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.json


def test_an_escaped_backslash_before_u0000_is_plain_text(client, auth, store):
    body = [EVENT | {"event": "path\\u0000end", "properties": {"feature": "x\\u0000"}}]
    response = client.post("/v1/events", json=body, headers=auth)
    assert response.status_code == 200 and response.json["accepted"] == 1
    frame = load_events(store.engine, properties=("feature",))
    assert frame["event"].tolist() == ["path\\u0000end"]
    assert frame["feature"].tolist() == ["x\\u0000"]


@pytest.mark.parametrize("url", ["/v1/users/a%00b", "/v1/users/a?x=%00"])
def test_a_nul_character_in_the_url_is_refused(client, auth, url):
    response = client.get(url, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"][0]["field"] in ("path", "query")
