"""The real service under gunicorn (2 workers) on loopback: demo data in over HTTP, read back."""

from __future__ import annotations

import http.client
import json
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from personapulse.demo import DemoConfig, generate_users

pytestmark = pytest.mark.e2e


def _post(service, path: str, body) -> requests.Response:
    return requests.post(
        f"{service.base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=60,
    )


def test_demo_data_over_http_is_read_back(live_service):
    bundles = list(generate_users(DemoConfig(users=120, seed=3)))
    profiles = [b.profile for b in bundles if b.profile]
    events = [e for b in bundles for e in b.events]
    reviews = [r for b in bundles for r in b.reviews]
    conversations = [c for b in bundles for c in b.conversations]

    assert _post(live_service, "/v1/profiles", {"profiles": profiles}).json()["accepted"] == len(
        profiles
    )
    # Several concurrent batches: both gunicorn workers write to SQLite at once.
    chunks = [events[i : i + 500] for i in range(0, len(events), 500)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda chunk: _post(live_service, "/v1/events", {"batch": chunk}), chunks)
        )
    assert all(a.status_code == 200 for a in answers), [
        a.text for a in answers if a.status_code != 200
    ]
    assert sum(a.json()["accepted"] for a in answers) == len({e["messageId"] for e in events})
    assert _post(live_service, "/v1/reviews", reviews).json()["rejected"] == 0
    assert _post(live_service, "/v1/conversations", conversations).json()["rejected"] == 0

    # Resending everything stores nothing new.
    replay = _post(live_service, "/v1/events", {"batch": events[:1000]}).json()
    assert replay["accepted"] == 0 and replay["duplicate"] == 1000

    headers = {"X-API-Key": live_service.token}
    report = requests.get(
        f"{live_service.base_url}/v1/data-quality", headers=headers, timeout=30
    ).json()
    assert report["events"]["total"] == len({e["messageId"] for e in events})
    assert report["reviews"]["total"] == len(reviews)
    assert report["conversations"]["total"] == len(conversations)

    known = next(b for b in bundles if b.profile and b.events)
    person = requests.get(
        f"{live_service.base_url}/v1/users/{known.profile['email']}", headers=headers, timeout=30
    ).json()
    assert person["person_id"] == known.person_id
    mine = [e for e in known.events]
    assert person["events"] == len({e["messageId"] for e in mine})
    assert person["ids"]["anonymous_ids"], (
        "the anonymous part of the journey is stitched to the user"
    )


def test_openapi_and_errors_through_gunicorn(live_service):
    assert (
        requests.get(f"{live_service.base_url}/openapi.json", timeout=10).json()["openapi"]
        == "3.1.0"
    )
    response = requests.post(f"{live_service.base_url}/v1/events", json={}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# Linux's struct tcp_info (kernel 4.6 on): tcpi_data_segs_in, the segments received carrying data.
TCP_INFO_DATA_SEGS_IN = 152


def _data_segments_received(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < TCP_INFO_DATA_SEGS_IN + 4:
        pytest.skip("this kernel's TCP_INFO has no tcpi_data_segs_in")
    return struct.unpack_from("I", info, TCP_INFO_DATA_SEGS_IN)[0]


@pytest.mark.parametrize(
    ("token", "status"), [(True, 200), (False, 401)], ids=["accepted", "refused"]
)
def test_a_json_answer_reaches_the_client_in_one_segment(live_service, token, status):
    # gunicorn alone sends the head, then the body: two segments (TCP_NODELAY) for ~150 bytes.
    address = urlsplit(live_service.base_url)
    body = b'{"type":"track","event":"Segment Counted","userId":"seg-1","messageId":"seg-1"}'
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-API-Key"] = live_service.token
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.connect()
        before = _data_segments_received(connection.sock)
        connection.request("POST", "/v1/events", body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())  # the whole body, as many segments as it took
        after = _data_segments_received(connection.sock)
    finally:
        connection.close()
    assert response.status == status and answer
    assert after - before == 1
