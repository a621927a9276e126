"""The suppression list: ids whose data ingestion drops, so an erased person stays erased.

An erasure deletes what the store holds; the sources (a website's tracking, a CRM's webhook) keep
sending. Segment answers this with "delete and suppress"; here an erasure asked with ``suppress``
adds every id of the person (user ids, former user ids, anonymous ids, emails) to this list, and
from its commit on every ingestion request drops the items that carry one of them: events by
``user_id``, ``anonymous_id``, ``previous_id`` or ``traits.email``; reviews, conversations and
profiles by ``user_id`` or ``email``. Emails match in any case, other ids exactly. The answer counts
the items dropped as ``suppressed``: they are neither stored nor rejected (the sender did nothing
wrong), and a retry drops them again.

The list keeps no id: each entry is a SHA-256 of the installation's key (a random value made with
the first entry, in ``store_settings``) and the id. An entry is lifted with :func:`lift`, when the
person comes back and agrees to be recorded again.

Each process keeps the list in memory and checks, in every ingestion write transaction, that it is
current (on SQLite, a change counter in memory the processes share; on PostgreSQL, one read of the
list's version token, which every change replaces), so an entry added by any process holds for
every request that commits after it. Change the list through this module (the API, the CLI): a
row written by hand is seen by running processes only after the next change made here.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from personapulse.store import now_ms
from personapulse.store.engine import (
    WriterGate,
    per_engine,
    read_connection,
    serialize,
    write_transaction,
)
from personapulse.store.schema import store_settings, suppressions
from personapulse.store.writes import insert_ignore

if TYPE_CHECKING:  # erasure imports this module
    from personapulse.services.erasure import Subject

KEY_SETTING = "suppression_key"
# Changes whenever the list does (a random token); processes compare it with their copy's.
VERSION_SETTING = "suppression_version"
ANON_PREFIX = "anon:"


def fingerprint(identifier: str, key: str) -> str:
    """The list's entry for ``identifier`` (an email is lower-cased first, as it is matched)."""
    if "@" in identifier:
        identifier = identifier.lower()
    return hashlib.sha256(f"{key}:{identifier}".encode()).hexdigest()


def identifiers_of(person: str) -> set[str]:
    """The ids one string given by an operator suppresses: itself (an ``anon:`` reference as the
    anonymous id it names)."""
    person = person.strip()
    if person.startswith(ANON_PREFIX) and len(person) > len(ANON_PREFIX):
        return {person[len(ANON_PREFIX) :]}
    return {person} if person else set()


def ids_to_list(subject: Subject, person: str) -> set[str]:
    """The ids suppressing ``person`` lists: every user id, anonymous id and email the store knows
    of them (``subject``), or, knowing none, the id given."""
    if subject.found:
        return subject.user_ids | subject.anonymous_ids | subject.emails
    return identifiers_of(person)


def _stored_key(conn: Connection) -> str | None:
    """The installation's hashing key; None until the first entry is added."""
    return conn.execute(
        select(store_settings.c.value).where(store_settings.c.name == KEY_SETTING)
    ).scalar()


def _key(conn: Connection) -> str:
    """The installation's hashing key, made on first use (two processes making it at once keep the
    first one committed)."""
    found = _stored_key(conn)
    if found is None:
        conn.execute(
            insert_ignore(conn, store_settings).values(
                name=KEY_SETTING, value=secrets.token_hex(16)
            )
        )
        found = _stored_key(conn)
    return found


def add(
    conn: Connection,
    identifiers: Iterable[str],
    *,
    created_by: str,
    erasure_id: str | None = None,
) -> int:
    """Add ``identifiers`` to the list inside the caller's write transaction; returns how many were
    new (an id already listed keeps its entry)."""
    key = _key(conn)
    entries = sorted({fingerprint(i, key) for i in identifiers if i})
    existing = set(
        conn.execute(
            select(suppressions.c.subject_hash).where(suppressions.c.subject_hash.in_(entries))
        ).scalars()
    )
    created = now_ms()
    rows = [
        {
            "subject_hash": entry,
            "erasure_id": erasure_id,
            "created_by": created_by,
            "created_ms": created,
        }
        for entry in entries
        if entry not in existing
    ]
    if rows:
        conn.execute(insert(suppressions), rows)
        _changed(conn)
    return len(rows)


def suppress_person(engine: Engine, person: str, *, created_by: str) -> int:
    """Suppress without erasing (a "do not track" request): every id the store knows of
    ``person``, or the id given when it knows none. Returns how many ids were newly listed."""
    from personapulse.services.erasure import find_subject

    if not person or not person.strip():
        raise ValueError("person must name an id or email")
    with write_transaction(engine) as conn:
        # PostgreSQL: the erasures' lock; they add entries too.
        serialize(conn, "ingest")
        return add(conn, ids_to_list(find_subject(conn, person), person), created_by=created_by)


def list_entries(engine: Engine, *, limit: int = 100, before_id: int | None = None) -> list[dict]:
    """The newest entries first (hashes, never ids); ``before_id`` pages on."""
    with read_connection(engine) as conn:
        query = select(suppressions).order_by(suppressions.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(suppressions.c.id < before_id)
        return [
            {
                "id": row["id"],
                "subject_hash": row["subject_hash"],
                "erasure_id": row["erasure_id"],
                "created_by": row["created_by"],
                "created_ms": row["created_ms"],
            }
            for row in conn.execute(query).mappings()
        ]


def is_suppressed(engine: Engine, identifier: str) -> bool:
    """Whether ``identifier`` is on the list (as ingestion would match it)."""
    with read_connection(engine) as conn:
        key = _stored_key(conn)
        if key is None:
            return False
        return (
            conn.execute(
                select(suppressions.c.id).where(
                    suppressions.c.subject_hash.in_(
                        [fingerprint(i, key) for i in identifiers_of(identifier)] or [""]
                    )
                )
            ).first()
            is not None
        )


def lift(engine: Engine, *, entry_id: int | None = None, identifier: str | None = None) -> int:
    """Remove entries by their id or by the person's id; returns how many were removed."""
    if (entry_id is None) == (identifier is None):
        raise ValueError("give an entry id or an identifier")
    with write_transaction(engine) as conn:
        if entry_id is not None:
            condition = suppressions.c.id == entry_id
        else:
            key = _stored_key(conn)
            if key is None:
                return 0
            condition = suppressions.c.subject_hash.in_(
                [fingerprint(i, key) for i in identifiers_of(identifier or "")] or [""]
            )
        lifted = conn.execute(delete(suppressions).where(condition)).rowcount
        if lifted:
            _changed(conn)
        return lifted


# Ids a Matcher remembers the answer for (ids recur: a user sends many events); cleared when full.
MATCHER_MEMORY = 100_000
_EVENT_ID_KEYS = ("user_id", "anonymous_id", "previous_id")
_RECORD_ID_KEYS = ("user_id", "email")


@dataclass(frozen=True)
class Matcher:
    """The list as one process holds it: tells which items carry a suppressed id."""

    key: str
    entries: frozenset[str]
    # id -> listed, for ids already hashed (this copy of the list only: a new copy starts empty).
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def listed(self, identifier: Any) -> bool:
        if not identifier or not isinstance(identifier, str):
            return False
        known = self._seen.get(identifier)
        if known is None:
            known = fingerprint(identifier, self.key) in self.entries
            if len(self._seen) >= MATCHER_MEMORY:
                self._seen.clear()
            self._seen[identifier] = known
        return known

    def drops(self, kind: str, item: dict[str, Any]) -> bool:
        listed = self.listed
        if kind != "events":
            return any(listed(item.get(name)) for name in _RECORD_ID_KEYS)
        if any(listed(item.get(name)) for name in _EVENT_ID_KEYS):
            return True
        traits = item.get("traits")
        return isinstance(traits, dict) and listed(traits.get("email"))

    def split(self, kind: str, items: Sequence[dict]) -> tuple[list[dict], int]:
        """``items`` without the suppressed ones, and how many those were."""
        kept = [item for item in items if not self.drops(kind, item)]
        return kept, len(items) - len(kept)


class _ProcessList:
    """This process's copy of the list, reloaded when the list's version token changed.

    On SQLite the writer gate counts the list's changes in memory every process shares, so a
    request reads the token only after a change (a read on every request cost 2.4 % of single-event
    throughput under gunicorn: one more statement while the gate is held). Elsewhere the token is
    read once per write transaction (the requests of one group commit share it).
    """

    def __init__(self, gate: WriterGate | None) -> None:
        self._gate = gate
        self._lock = threading.Lock()
        self._version: str | None = None
        self._matcher: Matcher | None = None
        self._change_count: int | None = None
        self._read_in: Any = None

    def current(self, conn: Connection) -> Matcher | None:
        change_count = None
        if self._gate is not None:
            # The caller holds the gate (ingestion writes through the group commit).
            change_count = self._gate.change_count("suppressions")
            if change_count == self._change_count:
                return self._matcher
        transaction = conn.get_transaction()
        # The list cannot change inside a transaction: changes wait for the write lock (the
        # ingest advisory lock on PostgreSQL).
        if transaction is not None and transaction is self._read_in:
            return self._matcher
        # Straight on the driver, one primary-key read.
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(f"SELECT value FROM store_settings WHERE name = '{VERSION_SETTING}'")
            row = cursor.fetchone()
        finally:
            cursor.close()
        version = None if row is None else row[0]  # None: nothing was ever listed
        with self._lock:
            if version == self._version:
                self._read_in, self._change_count = transaction, change_count
                return self._matcher
        entries = frozenset(conn.execute(select(suppressions.c.subject_hash)).scalars())
        matcher = Matcher(key=_key(conn), entries=entries) if entries else None
        with self._lock:
            self._version, self._matcher = version, matcher
            self._read_in, self._change_count = transaction, change_count
        return matcher


def _changed(conn: Connection) -> None:
    """Give the list a new version token (in the transaction that changed it), so every process
    reloads its copy at its next write."""
    token = secrets.token_hex(8)
    updated = conn.execute(
        update(store_settings).where(store_settings.c.name == VERSION_SETTING).values(value=token)
    ).rowcount
    if not updated:
        conn.execute(insert_ignore(conn, store_settings).values(name=VERSION_SETTING, value=token))
    gate = getattr(conn.engine, "info_writer_gate", None)
    if gate is not None:
        gate.count_change("suppressions")  # write_transaction holds the gate


def current_matcher(conn: Connection) -> Matcher | None:
    """The list as of ``conn``'s transaction, or None when it is empty."""
    engine = conn.engine
    return per_engine(
        engine,
        "info_suppression_list",
        lambda: _ProcessList(getattr(engine, "info_writer_gate", None)),
    ).current(conn)
