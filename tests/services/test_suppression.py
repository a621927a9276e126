"""The suppression list: a suppressed person's data is dropped on arrival, by any process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, Text, func, select

from personapulse.config import load_settings
from personapulse.services.erasure import erase_person
from personapulse.services.ingestion import ingest, parse
from personapulse.services.suppression import (
    fingerprint,
    is_suppressed,
    lift,
    list_entries,
    suppress_person,
)
from personapulse.store import Store, read_connection
from personapulse.store.schema import conversations, events, metadata, reviews, users

SETTINGS = load_settings()


def _event(message_id: str, **fields) -> dict:
    return {
        "type": "track",
        "event": "Recipe Viewed",
        "messageId": message_id,
        "timestamp": "2026-11-01T10:00:00Z",
        **fields,
    }


def _ingest(store: Store, kind: str, payload):
    received = datetime.now(UTC)
    outcome, _ = ingest(
        store,
        kind,
        parse(kind, payload, received_at=received),
        settings=SETTINGS,
        received_at=received,
    )
    return outcome


def _count(store: Store, table, condition=None) -> int:
    query = select(func.count()).select_from(table)
    if condition is not None:
        query = query.where(condition)
    with read_connection(store.engine) as conn:
        return conn.execute(query).scalar_one()


@pytest.fixture
def person(store):
    """u-ada: an anonymous visit identified later, an email, a review; and u-bo, someone else."""
    _ingest(
        store,
        "events",
        {
            "batch": [
                _event("m1", anonymousId="a-ada"),
                {
                    "type": "identify",
                    "messageId": "m2",
                    "anonymousId": "a-ada",
                    "userId": "u-ada",
                    "traits": {"email": "Ada@Example.com"},
                    "timestamp": "2026-11-01T10:01:00Z",
                },
                _event("m3", userId="u-bo"),
            ]
        },
    )
    _ingest(
        store,
        "reviews",
        {"text": "Too expensive for me", "rating": 2, "source": "google", "user_id": "u-ada"},
    )
    return "u-ada"


def test_an_erasure_with_suppress_drops_whatever_arrives_later_under_any_of_their_ids(
    store, person
):
    result = erase_person(store.engine, "ada@example.com", requested_by="test", suppress=True)
    assert result.found and result.suppressed == 3  # u-ada, a-ada, ada@example.com

    later = _ingest(
        store,
        "events",
        {
            "batch": [
                _event("n1", userId="u-ada"),
                _event("n2", anonymousId="a-ada"),
                {
                    "type": "identify",
                    "messageId": "n3",
                    "userId": "u-ada-new-account",
                    "traits": {"email": "ADA@example.COM"},
                    "timestamp": "2026-11-02T10:00:00Z",
                },
                {
                    "type": "alias",
                    "messageId": "n4",
                    "previousId": "u-ada",
                    "userId": "u-ada-2",
                    "timestamp": "2026-11-02T10:00:00Z",
                },
                _event("n5", userId="u-bo"),
            ]
        },
    )
    assert (later.accepted, later.suppressed, later.rejected) == (1, 4, 0)
    review = _ingest(
        store,
        "reviews",
        {
            "text": "Still too expensive",
            "rating": 1,
            "source": "trustpilot",
            "email": "ada@EXAMPLE.com",
        },
    )
    conversation = _ingest(
        store,
        "conversations",
        {
            "source": "zendesk",
            "user_id": "u-ada",
            "messages": [{"role": "customer", "text": "Please cancel"}],
        },
    )
    profile = _ingest(store, "profiles", {"user_id": "u-ada", "traits": {"plan": "pro"}})
    for outcome in (review, conversation, profile):
        assert (outcome.accepted, outcome.suppressed) == (0, 1)

    assert _count(store, events) == 2  # u-bo's two events
    ada = ("u-ada", "a-ada", "u-ada-new-account", "u-ada-2")
    assert _count(store, events, events.c.user_id.in_(ada) | events.c.anonymous_id.in_(ada)) == 0
    assert _count(store, users, users.c.user_id.in_(ada)) == 0
    assert _count(store, reviews) == _count(store, conversations) == 0

    # Lifted (the person came back and agreed): their user id is stored again, the email still not.
    assert lift(store.engine, identifier="u-ada") == 1
    again = _ingest(
        store, "events", _event("n6", userId="u-ada", traits={"email": "ada@example.com"})
    )
    assert (again.accepted, again.suppressed) == (0, 1)
    again = _ingest(store, "events", _event("n7", userId="u-ada"))
    assert (again.accepted, again.suppressed) == (1, 0)


def test_a_suppression_made_by_another_process_holds_for_the_next_write(store, database_url):
    other = Store(database_url)  # another gunicorn worker: its own engine and its own copy
    try:
        assert _ingest(other, "events", _event("o1", userId="u-cy")).accepted == 1  # list empty
        suppress_person(store.engine, "u-zed", created_by="test")
        # The other process now holds a list (of u-zed) …
        assert _ingest(other, "events", _event("o0", userId="u-zed")).suppressed == 1
        # … which goes stale when this one adds u-cy.
        assert suppress_person(store.engine, "u-cy", created_by="test") == 1
        after = _ingest(other, "events", _event("o2", userId="u-cy"))
        assert (after.accepted, after.suppressed) == (0, 1)
        # Suppressing keeps what was stored; only new data is dropped.
        assert _count(store, events, events.c.user_id == "u-cy") == 1

        assert lift(store.engine, entry_id=list_entries(store.engine)[0]["id"]) == 1  # u-cy's
        assert _ingest(other, "events", _event("o3", userId="u-cy")).accepted == 1
        assert _ingest(other, "events", _event("o4", userId="u-zed")).suppressed == 1
    finally:
        other.dispose()


def test_suppressing_lists_every_known_id_or_the_one_given_and_keeps_no_id(store, person):
    assert suppress_person(store.engine, "anon:a-ada", created_by="test") == 3
    assert suppress_person(store.engine, "u-ada", created_by="test") == 0  # already listed
    assert suppress_person(store.engine, "anon:never-seen", created_by="test") == 1
    assert is_suppressed(store.engine, "never-seen")
    assert is_suppressed(store.engine, "anon:never-seen")
    assert is_suppressed(store.engine, "ADA@example.com")
    assert not is_suppressed(store.engine, "u-bo")
    with pytest.raises(ValueError, match="person"):
        suppress_person(store.engine, "  ", created_by="test")

    entries = list_entries(store.engine)
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    assert [e["id"] for e in list_entries(store.engine, limit=2, before_id=entries[0]["id"])] == [
        e["id"] for e in entries[1:3]
    ]
    # The list and its key hold hashes and a random key: no id of anyone, in any column (ids with
    # a non-hex character: "ada" alone may well occur in a hex digest).
    with read_connection(store.engine) as conn:
        for name in ("suppressions", "store_settings"):
            table = metadata.tables[name]
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    values = conn.execute(select(column)).scalars().all()
                    assert not any(
                        i in (v or "")
                        for v in values
                        for i in ("u-ada", "a-ada", "example.com", "never-seen")
                    ), (name, column.name)


def test_emails_match_in_any_case_other_ids_exactly():
    key = "k"
    assert fingerprint("Ada@Example.com", key) == fingerprint("ada@example.com", key)
    assert fingerprint("User-1", key) != fingerprint("user-1", key)
    assert fingerprint("user-1", key) != fingerprint("user-1", "other key")
