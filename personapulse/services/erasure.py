"""Erase one person: every row the store holds of them, and their ids and words in derived data.

A data subject's deletion request (GDPR art. 17, CCPA): given any id of a person (user id, former
user id, anonymous id, ``anon:<id>``, email, review or conversation id), one write transaction

- deletes their **data**: events (under any of their user and anonymous ids), identity links, user
  rows, reviews and conversations (by user id or email) with their classes;
- deletes what was **computed per person**: persona assignments of every version, journey counters,
  the rescoring queue;
- **scrubs derived text** of their ids and words: persona profiles (the interview shortlist loses
  their entry), persona cards, shift and recommendation evidence, persona notes, jobs, the ingest
  log, Idempotency-Key answers. Emitted events and queued deliveries about the person (their
  ``review.classified``, ``user.persona_changed``) are deleted, other events scrubbed; cached LLM
  answers that quote them are dropped. Scrubbed strings read :data:`ERASED`.

A quote is recognised as the person's when a string of derived data (at least
:data:`MIN_QUOTE_WORDS` words) is found, case and spacing aside, inside one of their review or
conversation texts; the same words written by someone else are scrubbed too (over-erasing a quote in
a card costs nothing that the next refresh does not rebuild).

The erasure itself is recorded in ``erasures`` without the person's ids: a salted SHA-256 of the id
asked for, so an operator can later show that a given id was erased (:func:`subject_hash`).
Airtable keeps its own copy of the interview shortlist and evidence: when Airtable is configured, a
job (``airtable.erase``) deletes the person's records there, found by the same salted hashes, and
pushes the scrubbed data.

On SQLite the deleted rows' bytes are zeroed in their pages (``secure_delete``) and the WAL, which
still holds the pages as they were, is checkpointed and emptied afterwards
(:func:`~personapulse.store.engine.truncate_wal`). PostgreSQL keeps dead row versions until VACUUM
reuses their space.

Not covered: data outside this store (the sources themselves, logs already shipped elsewhere).
Data sent after the erasure is stored again unless the erasure was asked with ``suppress``: then the
person's ids go on the suppression list (services/suppression.py) and ingestion drops their data.
Aggregates stay as they were computed (persona sizes and shares, centroids, the fitted model's
means): they hold no one's rows, and the next refresh computes them without the person.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, and_, delete, func, insert, or_, select, update

from personapulse.services import suppression
from personapulse.store import now_ms
from personapulse.store.engine import (
    read_connection,
    serialize,
    truncate_wal,
    write_transaction,
)
from personapulse.store.schema import (
    assignments,
    conversation_classes,
    conversations,
    dirty_people,
    emitted_events,
    erasures,
    events,
    idempotency_keys,
    identities,
    ingest_log,
    jobs,
    journey_people,
    journey_step_counts,
    journey_transitions,
    llm_cache,
    outbox,
    persona_cards,
    persona_meta,
    persona_versions,
    personas,
    recommendations,
    review_classes,
    reviews,
    shifts,
    slack_outbox,
    users,
)

ERASED = "[erased]"
# Shorter strings (a pain-point label, "too slow") are too common to say whose words they are.
MIN_QUOTE_WORDS = 3
ANON_PREFIX = "anon:"


@dataclass
class Subject:
    """Everything that identifies one person in the store, and the texts they wrote."""

    user_ids: set[str] = field(default_factory=set)
    anonymous_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)  # lower-cased
    # Each email as it was written somewhere (the SQL pre-filter of derived text is case-sensitive).
    email_spellings: set[str] = field(default_factory=set)
    review_ids: set[str] = field(default_factory=set)
    conversation_ids: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.user_ids or self.anonymous_ids or self.review_ids or self.conversation_ids)

    @property
    def person_refs(self) -> set[str]:
        """How per-person tables name them: user id, ``anon:<id>``, or email (rescoring queue)."""
        return self.user_ids | {ANON_PREFIX + a for a in self.anonymous_ids} | self.emails

    @property
    def identifiers(self) -> set[str]:
        return (
            self.person_refs
            | self.anonymous_ids
            | self.review_ids
            | self.conversation_ids
            | self.email_spellings
        )


def subject_hash(person: str, salt: str) -> str:
    """The hash an erasure record keeps of the id it was asked for (salted, so not a lookup key)."""
    return hashlib.sha256(f"{salt}:{person.strip()}".encode()).hexdigest()


def find_subject(conn: Connection, person: str) -> Subject:
    """Every id, record and text of the person ``person`` names (any of their ids or their email).

    Reads only; an unknown ``person`` gives an empty Subject.
    """
    subject = Subject()
    given = person.strip()
    if given.startswith(ANON_PREFIX):
        given = given[len(ANON_PREFIX) :]
    if not given:
        return subject
    canonical = conn.execute(
        select(identities.c.user_id).where(identities.c.alias_id == given)
    ).scalar()
    if canonical is None:
        canonical = conn.execute(
            select(users.c.user_id)
            .where(or_(users.c.user_id == given, func.lower(users.c.email) == given.lower()))
            .order_by(users.c.user_id)
            .limit(1)
        ).scalar()
    if canonical is not None:
        subject.user_ids.add(canonical)
        for alias_id, source in conn.execute(
            select(identities.c.alias_id, identities.c.source).where(
                identities.c.user_id == canonical
            )
        ):
            (subject.anonymous_ids if source == "anonymous" else subject.user_ids).add(alias_id)
    elif conn.execute(select(events.c.id).where(events.c.anonymous_id == given).limit(1)).first():
        subject.anonymous_ids.add(given)
    elif any(
        conn.execute(select(table.c.user_id).where(table.c.user_id == given).limit(1)).first()
        for table in (events, reviews, conversations)
    ):
        subject.user_ids.add(given)  # a user id with no users row (reviews alone make none)
    if "@" in given:
        subject.email_spellings.add(given)
    if subject.user_ids:
        subject.email_spellings |= set(
            conn.execute(
                select(users.c.email).where(
                    users.c.user_id.in_(subject.user_ids), users.c.email.is_not(None)
                )
            ).scalars()
        )
    subject.emails = {email.lower() for email in subject.email_spellings}
    if not (subject.user_ids or subject.emails):
        # Asked for by a review or conversation id (as stored, "source:id"): its author is the
        # person, when it names one.
        for table, key in (
            (reviews, reviews.c.review_id),
            (conversations, conversations.c.conversation_id),
        ):
            author = conn.execute(
                select(table.c.user_id, table.c.email).where(key == given)
            ).first()
            if author is not None and (author.user_id or author.email):
                return find_subject(conn, author.user_id or author.email)
    # Records found by one email can carry another (a review sent with a work address): a second
    # pass takes in the records of the emails the first one found.
    for _ in range(2):
        known = set(subject.emails)
        _collect_records(conn, subject, given)
        if subject.emails == known:
            break
    return subject


def _collect_records(conn: Connection, subject: Subject, given: str) -> None:
    """Reviews and conversations by the person's user ids or emails, or by their own id."""
    subject.review_ids.clear()
    subject.conversation_ids.clear()
    subject.texts.clear()
    for table, key, text_columns in (
        (reviews, reviews.c.review_id, ("title", "text")),
        (conversations, conversations.c.conversation_id, ("customer_text", "messages")),
    ):
        rows = conn.execute(
            select(table).where(
                or_(
                    table.c.user_id.in_(subject.user_ids or {""}),
                    func.lower(table.c.email).in_(subject.emails or {""}),
                    key == given,  # asked for by the record's own id
                )
            )
        ).mappings()
        ids = subject.review_ids if table is reviews else subject.conversation_ids
        for row in rows:
            ids.add(row[key.name])
            if row["email"]:
                subject.email_spellings.add(row["email"])
                subject.emails.add(row["email"].lower())
            for column in text_columns:
                value = row[column]
                if not value:
                    continue
                if column == "messages":
                    subject.texts.extend(
                        str(message.get("text") or "")
                        for message in orjson.loads(value)
                        if isinstance(message, dict)
                    )
                else:
                    subject.texts.append(value)


# --- scrubbing ---------------------------------------------------------------------------------


def distinctive(identifier: str) -> bool:
    """Whether an id can be recognised inside free text: "42" or "u7" could be anything there
    (a count, a label), so such ids are matched only as whole JSON string values."""
    return len(identifier) >= 4 and not identifier.isdigit()


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


class Scrubber:
    """Replaces a person's ids and quotes in strings and JSON values."""

    def __init__(self, identifiers: Iterable[str], quotes: Iterable[str]) -> None:
        self.identifiers = {i for i in identifiers if i}
        self._lowered = {i.lower() for i in self.identifiers if "@" in i}
        ids = sorted(filter(distinctive, self.identifiers), key=len, reverse=True)
        # An id inside free text counts only as a whole token: "u1" is not in "u12" or "menu1".
        # Emails in any case; other ids as written.
        alternatives = [f"(?i:{re.escape(i)})" if "@" in i else re.escape(i) for i in ids]
        self._id_pattern = (
            re.compile(r"(?<![\w@.+-])(?:" + "|".join(alternatives) + r")(?![\w@-])")
            if ids
            else None
        )
        quote_list = sorted({q.strip() for q in quotes if q.strip()}, key=len, reverse=True)
        self.quotes = quote_list
        self._quote_pattern = (
            re.compile(
                "|".join(r"\s+".join(map(re.escape, q.split())) for q in quote_list), re.IGNORECASE
            )
            if quote_list
            else None
        )

    def is_identifier(self, value: Any) -> bool:
        return isinstance(value, str) and (
            value in self.identifiers or (value.lower() in self._lowered)
        )

    def text(self, value: str) -> str:
        if self.is_identifier(value):
            return ERASED
        if self._quote_pattern is not None:
            value = self._quote_pattern.sub(ERASED, value)
        if self._id_pattern is not None:
            value = self._id_pattern.sub(ERASED, value)
        return value

    def json(self, value: Any) -> Any:
        """``value`` scrubbed: strings as :meth:`text`; list entries about the person dropped."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value if not self.about_person(item)]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value

    def about_person(self, value: Any) -> bool:
        """A record naming the person directly (a shortlist entry, a classification, …)."""
        return isinstance(value, dict) and any(self.is_identifier(v) for v in value.values())


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _loads(text: str | None) -> Any:
    """A column's JSON value; text that is not JSON comes back as it is."""
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _scrubbed_column(scrubber: Scrubber, raw: str | None) -> str | None:
    """``raw`` (JSON, or plain text) with the person scrubbed; None when nothing changed."""
    if not raw:
        return None
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        cleaned_text = scrubber.text(raw)
        return cleaned_text if cleaned_text != raw else None
    cleaned = scrubber.json(parsed)
    return orjson.dumps(cleaned).decode() if cleaned != parsed else None


def quotes_of(subject: Subject, candidates: Iterable[str]) -> set[str]:
    """The candidate strings that are the person's words (found inside one of their texts)."""
    texts = [_norm(t) for t in subject.texts if t]
    if not texts:
        return set()
    found = set()
    for candidate in candidates:
        normalised = _norm(candidate)
        if len(normalised.split()) >= MIN_QUOTE_WORDS and any(normalised in t for t in texts):
            found.add(candidate)
    return found


# Derived data scrubbed in place: (table, key columns, JSON columns, text columns).
_SCRUBBED: tuple[tuple[Table, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (personas, ("version_id", "persona_id"), ("profile",), ("label",)),
    (persona_cards, ("version_id", "persona_id"), ("card", "facts", "grounding"), ("rejection",)),
    (recommendations, ("id", "version_id"), ("evidence",), ("title", "action")),
    (shifts, ("id",), ("evidence",), ("summary", "label")),
    (persona_meta, ("persona_id",), (), ("interview_notes", "qualitative_insights")),
    (persona_versions, ("id",), ("provenance",), ()),
    (slack_outbox, ("id",), ("payload",), ()),
    (jobs, ("id",), ("params", "result"), ("error",)),
    (ingest_log, ("id",), ("reject_reasons",), ()),
)
# Where quotes of the person can be (derived from several people's texts); searched for candidates.
_QUOTE_SOURCES = (personas, persona_cards, recommendations, shifts, slack_outbox)


def _instr(conn: Connection):
    # PostgreSQL spells instr() strpos(); SQLite has no strpos.
    return func.strpos if conn.dialect.name == "postgresql" else func.instr


# Terms per query: SQLite refuses an expression tree deeper than 1,000 (a long OR chain is one).
_TERMS_PER_QUERY = 200


def _matching_rows(conn: Connection, table: Table, columns: Iterable[str], needles: set[str]):
    """The rows of ``table`` holding one of ``needles`` in one of ``columns`` (each row once)."""
    instr = _instr(conn)
    terms = [instr(table.c[column], needle) > 0 for column in columns for needle in sorted(needles)]
    key = [table.c[c.name] for c in table.primary_key.columns]
    found: dict[tuple, Any] = {}
    for start in range(0, len(terms), _TERMS_PER_QUERY):
        condition = or_(*terms[start : start + _TERMS_PER_QUERY])
        for row in conn.execute(select(table).where(condition)).mappings():
            found.setdefault(tuple(row[c.name] for c in key), row)
    return list(found.values())


def _needles(scrubber: Scrubber) -> set[str]:
    """Substrings a row must hold to be worth scrubbing (a pre-filter; the Python pass decides):
    each id as a JSON string (``"42"``), each distinctive id as it is, each quote's first words
    (a copy may differ in spacing further on)."""
    needles = {orjson.dumps(i).decode() for i in scrubber.identifiers}
    needles |= set(filter(distinctive, scrubber.identifiers))
    for quote in scrubber.quotes:
        needles.add(" ".join(quote.split()[:MIN_QUOTE_WORDS]))
    return {n for n in needles if n}


def _quote_candidates(conn: Connection) -> Iterable[str]:
    for table, _, json_columns, text_columns in _SCRUBBED:
        if table not in _QUOTE_SOURCES:
            continue
        columns = [table.c[c] for c in (*json_columns, *text_columns)]
        for row in conn.execute(select(*columns)):
            for value in row:
                yield from _strings(_loads(value))
    for (payload,) in conn.execute(
        select(emitted_events.c.payload).where(emitted_events.c.event_type != "review.classified")
    ):
        yield from _strings(_loads(payload))


def _scrub_table(
    conn: Connection,
    table: Table,
    keys: tuple[str, ...],
    json_columns: tuple[str, ...],
    text_columns: tuple[str, ...],
    scrubber: Scrubber,
    needles: set[str],
) -> int:
    changed_rows = 0
    for row in _matching_rows(conn, table, (*json_columns, *text_columns), needles):
        values = {}
        for column in json_columns:
            cleaned = _scrubbed_column(scrubber, row[column])
            if cleaned is not None:
                values[column] = cleaned
        for column in text_columns:
            if row[column]:
                scrubbed = scrubber.text(row[column])
                if scrubbed != row[column]:
                    values[column] = scrubbed
        if values:
            conn.execute(
                update(table).where(*(table.c[k] == row[k] for k in keys)).values(**values)
            )
            changed_rows += 1
    return changed_rows


def _events_about(conn: Connection, table: Table, scrubber: Scrubber, needles: set[str]):
    """Emitted events / deliveries: those naming the person in their data go, others are scrubbed.

    Another person's ``review.classified`` carries that person's own text: only ids are scrubbed
    there, never quotes (the same words may be theirs too).
    """
    ids_only = Scrubber(scrubber.identifiers, ())
    deleted = scrubbed = 0
    for row in _matching_rows(conn, table, ("payload",), needles):
        payload = _loads(row["payload"])
        data = payload.get("data") if isinstance(payload, dict) else None
        if scrubber.about_person(data) or scrubber.about_person(payload):
            conn.execute(delete(table).where(table.c.id == row["id"]))
            deleted += 1
            continue
        own_words = isinstance(payload, dict) and payload.get("type") == "review.classified"
        cleaned = (ids_only if own_words else scrubber).json(payload)
        if cleaned != payload:
            conn.execute(
                update(table)
                .where(table.c.id == row["id"])
                .values(payload=orjson.dumps(cleaned).decode())
            )
            scrubbed += 1
    return deleted, scrubbed


# --- the erasure -------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    erasure_id: str
    found: bool
    subject_hash: str
    salt: str
    deleted: dict[str, int]
    scrubbed: dict[str, int]
    requested_by: str
    finished_ms: int
    # Ids added to the suppression list (erasures asked with ``suppress``); None: not asked.
    suppressed: int | None = None
    airtable_job_id: str | None = None
    # SQLite: whether the WAL (the pages as they were before) was emptied; None on PostgreSQL.
    wal_truncated: bool | None = None
    person_hashes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The answer: every field but the hashes the Airtable job gets."""
        return {k: v for k, v in asdict(self).items() if k != "person_hashes"}


@contextlib.contextmanager
def _zeroing_deletes(conn: Connection) -> Iterator[None]:
    """SQLite: deleted rows' bytes are zeroed in their pages, not left in free space (some builds
    do so by default, others not); the setting is put back, as the pool keeps the connection."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    before = driver.execute("PRAGMA secure_delete").fetchone()[0]
    driver.execute("PRAGMA secure_delete=1")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA secure_delete={int(before)}")


def _delete(conn: Connection, table: Table, condition) -> int:
    return conn.execute(delete(table).where(condition)).rowcount or 0


def erase_person(
    engine: Engine,
    person: str,
    *,
    requested_by: str,
    settings: Mapping[str, Any] | None = None,
    suppress: bool = False,
) -> ErasureResult:
    """Erase ``person`` (any of their ids or their email) in one write transaction; see the module.

    Asking again for an erased (or never known) person finds nothing and changes nothing; each
    request is recorded in ``erasures``. With Airtable configured in ``settings``, an
    ``airtable.erase`` job is queued for a person found (its id is in the result). With
    ``suppress``, every id of the person (a person not found: the id given) goes on the suppression
    list in the same transaction, so ingestion drops their data from then on.
    """
    if not person or not person.strip():
        raise ValueError("person must name an id or email")
    salt = secrets.token_hex(16)
    # Time first (nanoseconds), so ids order like the requests even within one millisecond.
    erasure_id = f"er_{time.time_ns():016x}{secrets.token_hex(4)}"
    deleted: dict[str, int] = {}
    scrubbed: dict[str, int] = {}
    with write_transaction(engine) as conn, _zeroing_deletes(conn):
        # PostgreSQL: no ingestion request writes between the search and the deletes.
        serialize(conn, "ingest")
        subject = find_subject(conn, person)
        person_hashes = sorted(subject_hash(ref, salt) for ref in subject.person_refs)
        if subject.found:
            user_ids, anonymous_ids = subject.user_ids or {""}, subject.anonymous_ids or {""}
            refs = subject.person_refs
            deleted["events"] = _delete(
                conn,
                events,
                or_(events.c.user_id.in_(user_ids), events.c.anonymous_id.in_(anonymous_ids)),
            )
            deleted["identities"] = _delete(
                conn,
                identities,
                or_(
                    identities.c.user_id.in_(user_ids),
                    identities.c.alias_id.in_(subject.user_ids | subject.anonymous_ids),
                ),
            )
            deleted["users"] = _delete(conn, users, users.c.user_id.in_(user_ids))
            review_ids = subject.review_ids or {""}
            conversation_ids = subject.conversation_ids or {""}
            deleted["review_classes"] = _delete(
                conn, review_classes, review_classes.c.review_id.in_(review_ids)
            )
            deleted["reviews"] = _delete(conn, reviews, reviews.c.review_id.in_(review_ids))
            deleted["conversation_classes"] = _delete(
                conn,
                conversation_classes,
                conversation_classes.c.conversation_id.in_(conversation_ids),
            )
            deleted["conversations"] = _delete(
                conn, conversations, conversations.c.conversation_id.in_(conversation_ids)
            )
            deleted["assignments"] = _delete(conn, assignments, assignments.c.person_id.in_(refs))
            deleted["dirty_people"] = _delete(
                conn, dirty_people, dirty_people.c.person_ref.in_(refs)
            )
            for table in (journey_people, journey_step_counts, journey_transitions):
                deleted[str(table.name)] = _delete(conn, table, table.c.person_id.in_(refs))

            scrubber = Scrubber(subject.identifiers, quotes_of(subject, _quote_candidates(conn)))
            needles = _needles(scrubber)
            for table, keys, json_columns, text_columns in _SCRUBBED:
                scrubbed[str(table.name)] = _scrub_table(
                    conn, table, keys, json_columns, text_columns, scrubber, needles
                )
            # Idempotency-Key answers name reviews and conversations only (by id).
            records = Scrubber(subject.review_ids | subject.conversation_ids, ())
            scrubbed["idempotency_keys"] = _scrub_table(
                conn,
                idempotency_keys,
                ("api_key_id", "key"),
                ("response_body",),
                (),
                records,
                _needles(records),
            )
            for table in (emitted_events, outbox):
                deleted[str(table.name)], scrubbed[str(table.name)] = _events_about(
                    conn, table, scrubber, needles
                )
            deleted["llm_cache"] = sum(
                _delete(conn, llm_cache, llm_cache.c.key == row["key"])
                for row in _matching_rows(conn, llm_cache, ("answer",), needles)
                if _scrubbed_column(scrubber, row["answer"]) is not None
            )
        suppressed = None
        if suppress:
            suppressed = suppression.add(
                conn,
                suppression.ids_to_list(subject, person),
                created_by=requested_by,
                erasure_id=erasure_id,
            )
        finished = now_ms()
        result = ErasureResult(
            erasure_id=erasure_id,
            found=subject.found,
            subject_hash=subject_hash(person, salt),
            salt=salt,
            deleted=deleted,
            scrubbed=scrubbed,
            requested_by=requested_by,
            finished_ms=finished,
            suppressed=suppressed,
            person_hashes=person_hashes,
        )
        counts: dict[str, Any] = {"deleted": deleted, "scrubbed": scrubbed}
        if suppressed is not None:
            counts["suppressed"] = suppressed
        conn.execute(
            insert(erasures).values(
                id=erasure_id,
                subject_hash=result.subject_hash,
                salt=salt,
                found=subject.found,
                requested_by=requested_by,
                counts=orjson.dumps(counts).decode(),
                created_ms=finished,
            )
        )
    if subject.found:
        result.wal_truncated = truncate_wal(engine)
        if settings is not None:
            result.airtable_job_id = _queue_airtable_erase(engine, settings, result)
    return result


def _queue_airtable_erase(
    engine: Engine, settings: Mapping[str, Any], result: ErasureResult
) -> str | None:
    from personapulse.services import airtable
    from personapulse.store import broker

    if not airtable.is_configured(settings):
        return None
    job = broker.enqueue(
        engine,
        airtable.ERASE_JOB,
        {"salt": result.salt, "person_hashes": result.person_hashes},
    )
    with write_transaction(engine) as conn:
        conn.execute(
            update(erasures)
            .where(erasures.c.id == result.erasure_id)
            .values(airtable_job_id=job["id"])
        )
    return job["id"]


class UnknownErasure(LookupError):
    """``before`` names no erasure record."""


def list_erasures(
    engine: Engine, *, limit: int = 100, before: str | None = None
) -> list[dict[str, Any]]:
    """The newest erasure records first (no personal data: the subject is a salted hash).

    ``before`` (an erasure id, the last of the previous page) pages on: the records listed after it
    in this order. Raises UnknownErasure when no record has that id.
    """
    with read_connection(engine) as conn:
        query = (
            select(erasures)
            .order_by(erasures.c.created_ms.desc(), erasures.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            anchor = conn.execute(
                select(erasures.c.created_ms).where(erasures.c.id == before)
            ).scalar()
            if anchor is None:
                raise UnknownErasure(before)
            query = query.where(
                or_(
                    erasures.c.created_ms < anchor,
                    and_(erasures.c.created_ms == anchor, erasures.c.id < before),
                )
            )
        rows = conn.execute(query).mappings()
        return [
            {
                "erasure_id": row["id"],
                "subject_hash": row["subject_hash"],
                "salt": row["salt"],
                "found": bool(row["found"]),
                "requested_by": row["requested_by"],
                "airtable_job_id": row["airtable_job_id"],
                "created_ms": row["created_ms"],
                "suppressed": None,  # erasures not asked to suppress (and those before 0011)
                **orjson.loads(row["counts"]),
            }
            for row in rows
        ]
