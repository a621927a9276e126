"""Reading the store into frames: stitching, and loading only some people's records."""

from __future__ import annotations

from personapulse.store.frames import load_conversations, load_reviews


def test_records_of_some_people_only(client, auth, store):
    client.post(
        "/v1/profiles",
        json=[{"user_id": "u1", "email": "one@example.com"}, {"user_id": "u2"}],
        headers=auth,
    )
    client.post(
        "/v1/reviews",
        json=[
            {"source": "google", "review_id": "a", "user_id": "u1", "text": "Good."},
            {"source": "google", "review_id": "b", "email": "one@example.com", "text": "Late."},
            {"source": "google", "review_id": "c", "user_id": "u2", "text": "Fine."},
        ],
        headers=auth,
    )
    client.post(
        "/v1/conversations",
        json={
            "source": "zendesk",
            "conversation_id": "t1",
            "user_id": "u2",
            "messages": [{"role": "customer", "text": "Hi"}],
        },
        headers=auth,
    )
    mine = load_reviews(store.engine, person_ids=["u1"])
    assert sorted(mine["review_id"]) == ["google:a", "google:b"], "linked by user id and by email"
    assert load_reviews(store.engine, person_ids=[]).empty
    assert len(load_reviews(store.engine)) == 3
    assert load_conversations(store.engine, person_ids=["u1"]).empty
    assert load_conversations(store.engine, person_ids=["u2"])["conversation_id"].tolist() == [
        "zendesk:t1"
    ]
