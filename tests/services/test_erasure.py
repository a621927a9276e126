"""Erasing one person: their rows go, their ids and words leave derived data, nobody else's do."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from sqlalchemy import String, Text, func, select

from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services import narratives, outbound
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo
from personapulse.services.erasure import (
    ERASED,
    Scrubber,
    erase_person,
    find_subject,
    list_erasures,
    subject_hash,
)
from personapulse.store import read_connection
from personapulse.store.people import resolve_person
from personapulse.store.schema import (
    events,
    metadata,
    persona_cards,
    personas,
    recommendations,
    reviews,
    shifts,
    users,
)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, database_url_for):
    """400 demo users, a persona version, cards, and a subscription to every outbound event."""
    from personapulse.store.keys import create_key
    from webhooks import create_app

    url = database_url_for(tmp_path_factory.mktemp("erasure"))
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    store = app.extensions["personapulse.store"]
    load_demo(store, DemoConfig(users=400, seed=11), load_settings())
    for event_type in ("review.classified", "user.persona_changed"):
        outbound.subscribe(
            store.engine, "https://hooks.example.com/in", event_type, api_key_id=None
        )
    persona_service.refresh(store, {"k_max": 6, "bootstrap": 3})
    narratives.generate(store.engine, dict(app.config))
    _, token = create_key(store.engine, "test")
    yield app, {"X-API-Key": token}
    store.dispose()


def _all_text(engine) -> str:
    """Every string stored in every table, one per line (for "is this id anywhere" checks)."""
    lines = []
    with read_connection(engine) as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if not columns:
                continue
            for row in conn.execute(select(*columns)):
                lines.extend(str(value) for value in row if value)
    return "\n".join(lines)


def _mentions(text: str, identifier: str) -> bool:
    return re.search(r"(?<![\w@.+-])" + re.escape(identifier) + r"(?![\w@-])", text) is not None


def _examples(value) -> list[str]:
    if isinstance(value, dict):
        found = [e for e in value.get("examples") or [] if isinstance(e, str)]
        return found + [e for v in value.values() for e in _examples(v)]
    if isinstance(value, list):
        return [e for v in value for e in _examples(v)]
    return []


def _quoted_author(engine) -> tuple[str, str]:
    """A user whose review words a persona card quotes, and that quote."""
    with read_connection(engine) as conn:
        examples = [
            example
            for facts in conn.execute(select(persona_cards.c.facts)).scalars()
            for example in _examples(orjson.loads(facts))
            if len(example.split()) >= 4
        ]
        for example in examples:
            author = conn.execute(
                select(reviews.c.user_id)
                .where(reviews.c.text.contains(example), reviews.c.user_id.is_not(None))
                .limit(1)
            ).scalar()
            if author is not None:
                return author, example
    raise AssertionError("no card quotes a review of a known user")


def _derived_text(engine) -> str:
    """The text of what was computed from many people: persona profiles, cards, evidence."""
    with read_connection(engine) as conn:
        return "\n".join(
            str(value)
            for table in (personas, persona_cards, recommendations, shifts)
            for row in conn.execute(select(table))
            for value in row
            if isinstance(value, str)
        )


def test_erasing_by_email_removes_the_person_everywhere_and_nobody_else(demo_app):
    app, _ = demo_app
    engine = app.extensions["personapulse.store"].engine
    user_id, quote = _quoted_author(engine)
    with read_connection(engine) as conn:
        subject = find_subject(conn, user_id)
        email = conn.execute(select(users.c.email).where(users.c.user_id == user_id)).scalar()
        total_events = conn.execute(select(func.count()).select_from(events)).scalar()
        own_events = conn.execute(
            select(func.count())
            .select_from(events)
            .where(
                events.c.user_id.in_(subject.user_ids)
                | events.c.anonymous_id.in_(subject.anonymous_ids)
            )
        ).scalar()
        someone_else = conn.execute(
            select(users.c.user_id).where(users.c.user_id != user_id).limit(1)
        ).scalar()
    assert email and subject.anonymous_ids and subject.review_ids and own_events > 0
    before = _all_text(engine)
    assert quote in before and _mentions(before, user_id)
    other_before = _row_counts_of(engine, someone_else)

    result = erase_person(engine, email.upper(), requested_by="test")

    assert result.found
    assert result.deleted["events"] == own_events
    assert result.deleted["reviews"] == len(subject.review_ids)
    assert result.deleted["users"] >= 1 and result.deleted["assignments"] >= 1
    assert result.scrubbed["persona_cards"] >= 1
    after = _all_text(engine)
    identifiers = subject.user_ids | subject.anonymous_ids | subject.review_ids | {email}
    assert not [i for i in identifiers if _mentions(after, i)]
    # The demo's customers share sentences, so others' reviews may still hold the same words;
    # derived data does not.
    derived = _derived_text(engine)
    assert quote not in derived and ERASED in derived
    assert resolve_person(engine, user_id) is None and resolve_person(engine, email) is None
    with read_connection(engine) as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == (
            total_events - own_events
        )
    # Another person's rows are all still there (a quote they share may be scrubbed: counted
    # rows, not text, are compared).
    assert _row_counts_of(engine, someone_else) == other_before


def _row_counts_of(engine, user_id: str) -> tuple[int, int]:
    with read_connection(engine) as conn:
        return (
            conn.execute(
                select(func.count()).select_from(events).where(events.c.user_id == user_id)
            ).scalar(),
            conn.execute(
                select(func.count()).select_from(reviews).where(reviews.c.user_id == user_id)
            ).scalar(),
        )


def test_the_shortlist_loses_the_person_and_only_them(demo_app):
    app, _ = demo_app
    engine = app.extensions["personapulse.store"].engine
    _, personas = persona_service.list_personas(engine)
    shortlisted = personas[0]["profile"]["interview_shortlist"]
    person = shortlisted[1]["person_id"]
    erase_person(engine, person, requested_by="test")
    _, personas = persona_service.list_personas(engine)
    left = personas[0]["profile"]["interview_shortlist"]
    assert [entry["person_id"] for entry in left] == [
        entry["person_id"] for entry in shortlisted if entry["person_id"] != person
    ]


def test_events_about_the_person_go_and_an_idempotent_replay_stays_a_replay(demo_app):
    app, auth = demo_app
    engine = app.extensions["personapulse.store"].engine
    client = app.test_client()
    review = {
        "review_id": "gdpr-1",
        "source": "trustpilot",
        "user_id": "gdpr-subject",
        "email": "Gdpr.Subject@example.com",
        "rating": 1,
        "text": "The courier lost my parcel twice and nobody answered my emails for weeks.",
    }
    other = {
        **review,
        "review_id": "gdpr-2",
        "user_id": "bystander",
        "email": None,
        "text": "Checkout kept failing on my phone so I ordered on the laptop instead.",
    }
    headers = {**auth, "Idempotency-Key": "review-gdpr-1"}
    first = client.post("/v1/reviews", json=review, headers=headers)
    assert first.status_code == 200 and first.json["classifications"]
    assert client.post("/v1/reviews", json=other, headers=auth).status_code == 200
    outbox_before = _count_payloads(engine, "gdpr-subject"), _count_payloads(engine, "bystander")
    assert outbox_before[0] >= 2 and outbox_before[1] >= 2  # emitted event + delivery each

    result = erase_person(engine, "gdpr-subject", requested_by="test")

    assert result.deleted["emitted_events"] == 1 and result.deleted["outbox"] == 1
    assert result.scrubbed["idempotency_keys"] == 1
    assert _count_payloads(engine, "gdpr-subject") == 0
    assert _count_payloads(engine, "bystander") == outbox_before[1]
    after = _all_text(engine)
    assert "parcel twice" not in after and other["text"] in after
    replay = client.post("/v1/reviews", json=review, headers=headers)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["accepted"] == 1 and replay.json["classifications"] == []
    with read_connection(engine) as conn:  # the replay answered; it stored nothing again
        stored = conn.execute(
            select(reviews.c.review_id).where(reviews.c.user_id == "gdpr-subject")
        )
        assert stored.all() == []


def _count_payloads(engine, user_id: str) -> int:
    needle = f'"user_id":"{user_id}"'
    with read_connection(engine) as conn:
        total = 0
        for table_name in ("emitted_events", "outbox"):
            table = metadata.tables[table_name]
            total += conn.execute(
                select(func.count()).select_from(table).where(table.c.payload.contains(needle))
            ).scalar()
    return total


def test_an_unknown_person_is_found_nowhere_and_recorded_without_the_id(demo_app):
    app, _ = demo_app
    engine = app.extensions["personapulse.store"].engine
    first = erase_person(engine, "never-seen-anyone", requested_by="test")
    assert not first.found and first.deleted == {} and first.scrubbed == {}
    records = {r["erasure_id"]: r for r in list_erasures(engine)}
    record = records[first.erasure_id]
    assert record["subject_hash"] == subject_hash("never-seen-anyone", record["salt"])
    assert "never-seen-anyone" not in orjson.dumps(list(records.values())).decode()
    with pytest.raises(ValueError):
        erase_person(engine, "  ", requested_by="test")


def test_scrubber_matches_whole_ids_emails_in_any_case_and_quotes_across_spacing():
    scrubber = Scrubber({"usr-17", "ann@example.com"}, {"the app keeps crashing"})
    assert scrubber.text("usr-17") == ERASED
    assert scrubber.text("usr-170 and my-usr-17 stay; usr-17 goes") == (
        "usr-170 and my-usr-17 stay; [erased] goes"
    )
    assert scrubber.text("mail ANN@Example.com now") == "mail [erased] now"
    assert scrubber.text('she wrote "The app  keeps\ncrashing" twice') == (
        'she wrote "[erased]" twice'
    )
    shortlist = [{"person_id": "usr-17", "p": 0.9}, {"person_id": "u2", "p": 0.8}]
    assert scrubber.json({"interview_shortlist": shortlist}) == {
        "interview_shortlist": [{"person_id": "u2", "p": 0.8}]
    }
    assert scrubber.json({"n": 3, "ok": True, "label": "price"}) == {
        "n": 3,
        "ok": True,
        "label": "price",
    }


def test_with_airtable_configured_a_job_removes_the_person_from_the_base(demo_app):
    from personapulse.services import airtable as airtable_service
    from personapulse.services.worker import run_one
    from personapulse.store.schema import jobs
    from tests.airtable_sync.fake_airtable import FakeAirtable

    app, _ = demo_app
    store = app.extensions["personapulse.store"]
    with FakeAirtable() as fake:
        settings = {**app.config, **fake.service_settings()}
        airtable_service.bootstrap(settings)
        airtable_service.sync(store, settings)
        shortlisted = [r["Person ID"] for r in fake.records("Interview Shortlist")]
        person = shortlisted[0]

        result = erase_person(store.engine, person, requested_by="test", settings=settings)

        assert result.airtable_job_id is not None
        with read_connection(store.engine) as conn:
            params = conn.execute(
                select(jobs.c.params).where(jobs.c.id == result.airtable_job_id)
            ).scalar()
        assert person not in params  # the job knows the person by salted hashes only
        finished = [run_one(store, settings) for _ in range(3)]
        job = next(j for j in finished if j and j["id"] == result.airtable_job_id)
        assert job["status"] == "succeeded", job["error"]
        assert job["result"]["records_deleted"] == shortlisted.count(person) >= 1
        left = [r["Person ID"] for r in fake.records("Interview Shortlist")]
        assert person not in left
        assert len(left) == len(shortlisted) - shortlisted.count(person)
    record = next(e for e in list_erasures(store.engine) if e["erasure_id"] == result.erasure_id)
    assert record["airtable_job_id"] == result.airtable_job_id


def test_short_or_numeric_ids_are_erased_only_as_whole_values():
    scrubber = Scrubber({"42", "u7"}, ())
    assert scrubber.text("42% of users; u7 segment") == "42% of users; u7 segment"
    assert scrubber.json([{"person_id": "42"}, {"person_id": "43"}, "u7"]) == [
        {"person_id": "43"},
        ERASED,
    ]


def test_a_review_id_or_an_email_on_a_review_leads_to_the_whole_person(demo_app):
    app, auth = demo_app
    engine = app.extensions["personapulse.store"].engine
    client = app.test_client()
    event = {"type": "track", "event": "Signed Up", "userId": "rv-author", "messageId": "rv-1"}
    assert client.post("/v1/events", json=event, headers=auth).status_code == 200
    signed = {
        "review_id": "rv-signed",
        "source": "google",
        "user_id": "rv-author",
        "email": "Author.Work@example.com",
        "rating": 2,
        "text": "The app logged me out every single morning this week.",
    }
    by_email_only = {
        **signed,
        "review_id": "rv-email-only",
        "user_id": None,
        "email": "author.work@example.com",
        "text": "Support closed my ticket without reading it at all.",
    }
    for review in (signed, by_email_only):
        assert client.post("/v1/reviews", json=review, headers=auth).status_code == 200

    # The users row has no email: the second review is found through the first one's email.
    result = erase_person(engine, "google:rv-signed", requested_by="test")

    assert result.deleted["events"] == 1 and result.deleted["reviews"] == 2
    assert resolve_person(engine, "rv-author") is None
    with read_connection(engine) as conn:
        left = conn.execute(
            select(func.count())
            .select_from(reviews)
            .where(reviews.c.review_id.in_(["google:rv-signed", "google:rv-email-only"]))
        ).scalar()
    assert left == 0


def test_a_prolific_reviewer_is_erased_in_queries_sqlite_accepts(demo_app):
    # 300 reviews make 600 search terms per column: one OR of them all is deeper than SQLite's
    # expression limit (1,000).
    app, auth = demo_app
    engine = app.extensions["personapulse.store"].engine
    reviews_sent = [
        {
            "review_id": f"prolific-{i}",
            "source": "app_store",
            "user_id": "prolific-reviewer",
            "rating": 1 + i % 5,
            "text": f"Review number {i}: the recipes are fine but the portions are small.",
        }
        for i in range(300)
    ]
    answer = app.test_client().post("/v1/reviews", json=reviews_sent, headers=auth)
    assert answer.status_code == 200 and answer.json["accepted"] == 300

    result = erase_person(engine, "prolific-reviewer", requested_by="test")

    assert result.deleted["reviews"] == 300 and result.deleted["review_classes"] == 300
    assert result.deleted["emitted_events"] == 300  # one review.classified each


def test_the_erased_words_leave_the_database_files(client, auth, store):
    """SQLite: the bytes themselves go, from the database file and from the write-ahead log."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's files; PostgreSQL keeps dead tuples until VACUUM (README)")
    from sqlalchemy import event

    # As a SQLite built without SECURE_DELETE (Debian's has it on) leaves deleted cells in place.
    event.listen(store.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA secure_delete=0"))
    store.engine.dispose()
    marker = "Zebracorn-7f3a parcel vanished"
    review = {
        "review_id": "bytes-1",
        "source": "trustpilot",
        "user_id": "bytes-subject",
        "rating": 1,
        "text": f"{marker} and the refund never came.",
    }
    assert client.post("/v1/reviews", json=review, headers=auth).status_code == 200
    path = Path(store.engine.url.database)

    def on_disk() -> int:
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.read_bytes().count(marker.encode()) for f in files if f.exists())

    assert on_disk() >= 1

    result = erase_person(store.engine, "bytes-subject", requested_by="test")

    assert result.found and result.deleted["reviews"] == 1
    assert result.wal_truncated is True
    assert on_disk() == 0
