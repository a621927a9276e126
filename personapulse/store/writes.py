"""Write paths for ingested items: insert-or-ignore on stable ids, identities, the ingest counts.

Every function takes a connection inside the caller's write transaction, so an ingestion request
stores its data, its identities, its idempotency record and its counts together or not at all.
"""

from __future__ import annotations

import functools
import math
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from personapulse.store.engine import per_engine
from personapulse.store.schema import (
    EARLIEST_PLAUSIBLE_MS,
    FLAG_ANCIENT_TIMESTAMP,
    FLAG_FUTURE_TIMESTAMP,
    FLAG_MISSING_TIMESTAMP,
    conversations,
    dirty_people,
    identities,
    reviews,
    users,
)

# Canonical fields whose presence the data-quality report compares between sources.
QUALITY_FIELDS = (
    "user_id",
    "anonymous_id",
    "session_id",
    "page_path",
    "referrer",
    "utm_source",
    "utm_medium",
    "revenue",
)
MAX_EVENT_NAMES_TRACKED = 200


@dataclass
class WriteCounts:
    accepted: int = 0
    duplicate: int = 0
    flagged: int = 0
    # Positions (in the input sequence) of the items that were new; callers classify only these.
    new_positions: list[int] = field(default_factory=list)


def insert_ignore(conn: Connection, table: Table):
    """INSERT … ON CONFLICT DO NOTHING for the connection's dialect."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str).decode()


def _existing_ids(conn: Connection, column, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    # Chunked to stay under SQLite's bound-parameter limit.
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found


EVENT_COLUMNS = (
    "event_id",
    "source_format",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "ts_ms",
    "received_ms",
    "flags",
    "session_id",
    "page_path",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "revenue",
    "currency",
    "properties",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Canonical keys copied as they are (one C-level itemgetter call per event), then the computed columns.
_EVENT_FIELDS = tuple(
    name for name in EVENT_COLUMNS if name not in ("ts_ms", "received_ms", "flags", "properties")
)
_event_fields = itemgetter(*_EVENT_FIELDS)
_EVENT_INSERT_COLUMNS = (*_EVENT_FIELDS, "ts_ms", "received_ms", "flags", "properties")


def _executemany(conn: Connection, sql: str, rows: list[tuple]) -> int:
    """Run ``sql`` (qmark placeholders) for many rows on the driver; return the rows affected.

    Goes straight to the driver's executemany: SQLAlchemy's per-row parameter processing costs more
    than SQLite's insert itself at 10,000 rows a request.
    """
    driver = conn.connection.dbapi_connection
    if isinstance(driver, sqlite3.Connection):
        # The connection's own executemany: its cursor is made and dropped in C.
        affected = driver.executemany(sql, rows).rowcount
    else:
        cursor = driver.cursor()
        try:
            cursor.executemany(sql.replace("?", "%s"), rows)
            affected = cursor.rowcount
        finally:
            cursor.close()
    return affected if affected is not None and affected >= 0 else len(rows)


def _bulk_insert_ignore(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]
) -> int:
    """Insert many rows, skipping those whose key is already stored; return how many were new.

    Columns that are NULL in every row are left out of the statement: Python's sqlite3 binds each
    None through its adapter lookup, which costs more than binding a string (~0.3 µs; a third of an
    event row's insert). No column of the schema has a server default, so a column left out is NULL
    as if bound (``tests/store/test_writes.py`` checks the migrated schema).
    """
    if not rows:
        return 0
    columns, rows = _without_null_columns(columns, rows)
    return _executemany(conn, _insert_ignore_sql(table, tuple(columns)), rows)


@functools.lru_cache(maxsize=256)
def _insert_ignore_sql(table: str, columns: tuple[str, ...]) -> str:
    # A handful of column sets recur (which fields senders fill): built once, not per request.
    placeholders = ", ".join("?" * len(columns))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"
    )


def _without_null_columns(
    columns: Sequence[str], rows: list[tuple]
) -> tuple[Sequence[str], list[tuple]]:
    """``columns`` and ``rows`` without the columns that are None in every row."""
    first, count = rows[0], len(rows)
    if count == 1:  # a single event, the commonest request: one pass over its values
        kept = [index for index, value in enumerate(first) if value is not None]
    else:
        kept = [
            index
            for index, value in enumerate(first)
            if value is not None or list(map(itemgetter(index), rows)).count(None) != count
        ]
    if not kept or len(kept) == len(columns):
        return columns, rows  # nothing to leave out (or nothing left: the insert says why)
    if len(kept) == 1:  # itemgetter of one index gives the value, not a 1-tuple
        (index,) = kept
        return [columns[index]], [(row[index],) for row in rows]
    pick = itemgetter(*kept)
    return [columns[index] for index in kept], [pick(row) for row in rows]


@dataclass
class PreparedEvents:
    """Canonical events turned into rows and identity links, ready for one write transaction.

    Built by :func:`prepare_events` before the write lock is taken, so a large batch holds the
    lock only for the inserts themselves.
    """

    rows: list[tuple]
    # Positions (in the input) of the items not repeated within the batch, in row order.
    positions: list[int]
    repeated_in_batch: int
    flagged: int
    first_seen: dict[str, int]
    anonymous_links: dict[str, str]
    aliases: list[tuple[str, str]]
    traits: dict[str, dict]


def prepare_events(
    items: Sequence[dict], *, received_ms: int, future_tolerance_ms: int
) -> PreparedEvents:
    """Rows for the events table (``_EVENT_INSERT_COLUMNS`` order) and what follows from the items.

    Pure: reads ``items`` (canonical events, docs/data-contract.md) and touches no database.
    """
    rows: list[tuple] = []
    append_row = rows.append
    positions: list[int] = []
    append_position = positions.append
    seen: set[str] = set()
    first_seen: dict[str, int] = {}
    repeated = flagged = 0
    dumps = orjson.dumps
    for position, item in enumerate(items):
        event_id = item["event_id"]
        if event_id in seen:
            repeated += 1
            continue
        seen.add(event_id)
        flags = 0
        timestamp = item.get("timestamp")
        if timestamp is None:
            ts = received_ms
            flags = FLAG_MISSING_TIMESTAMP
        else:
            # (timestamp - epoch) // 1 ms, in integer arithmetic (twice as fast).
            delta = timestamp - _EPOCH
            ts = delta.days * 86_400_000 + delta.seconds * 1_000 + delta.microseconds // 1_000
            if ts > received_ms + future_tolerance_ms:
                flags = FLAG_FUTURE_TIMESTAMP
            elif ts < EARLIEST_PLAUSIBLE_MS:
                flags = FLAG_ANCIENT_TIMESTAMP
        if flags:
            flagged += 1
        user_id = item.get("user_id")
        if user_id:
            known = first_seen.get(user_id)
            if known is None or ts < known:
                first_seen[user_id] = ts
        try:
            fields = _event_fields(item)
        except KeyError:  # a parser that leaves optional keys out
            fields = tuple(item.get(name) for name in _EVENT_FIELDS)
        properties = item.get("properties")
        append_row(
            fields
            + (
                ts,
                received_ms,
                flags,
                dumps(properties, default=str).decode() if properties else None,
            )
        )
        append_position(position)
    anonymous_links, aliases = _identity_links(items)
    # Traits ride on identify calls, and on any event of sources that attach user properties
    # (Amplitude, GA4, Segment's context.traits).
    traits: dict[str, dict] = defaultdict(dict)
    for item in items:
        if item.get("user_id") and item.get("traits"):
            traits[item["user_id"]].update(item["traits"])
    return PreparedEvents(
        rows=rows,
        positions=positions,
        repeated_in_batch=repeated,
        flagged=flagged,
        first_seen=first_seen,
        anonymous_links=anonymous_links,
        aliases=aliases,
        traits=dict(traits),
    )


def store_events(conn: Connection, prepared: PreparedEvents, *, received_ms: int) -> WriteCounts:
    """Insert prepared events, their identities and their users, inside the caller's transaction.

    ``new_positions`` lists the items not repeated within the batch; an event stored by an earlier
    request is counted as duplicate but may still be listed (checking each id first halves the speed).
    """
    counts = WriteCounts(flagged=prepared.flagged, new_positions=list(prepared.positions))
    inserted = _bulk_insert_ignore(conn, "events", _EVENT_INSERT_COLUMNS, prepared.rows)
    counts.accepted = inserted
    counts.duplicate = prepared.repeated_in_batch + len(prepared.rows) - inserted
    _store_identities(conn, prepared.anonymous_links, prepared.aliases, received_ms)
    _record_users_seen(conn, prepared.first_seen, received_ms)
    if prepared.traits:
        upsert_users(conn, prepared.traits, received_ms=received_ms)
    return counts


def _record_users_seen(conn: Connection, first_seen: dict[str, int], received_ms: int) -> None:
    """Every user id that sends events has a users row; first_seen only ever moves earlier.

    One upsert (SQLite >= 3.24 and PostgreSQL both speak ``ON CONFLICT … DO UPDATE … WHERE``).
    """
    if not first_seen:
        return
    _executemany(
        conn,
        "INSERT INTO users (user_id, first_seen_ms, updated_ms) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET first_seen_ms = excluded.first_seen_ms"
        " WHERE users.first_seen_ms IS NULL OR users.first_seen_ms > excluded.first_seen_ms",
        [(user_id, ts, received_ms) for user_id, ts in first_seen.items()],
    )


def mark_dirty(conn: Connection, people: Sequence[str], marked_ms: int) -> None:
    """Mark people for rescoring, only while personas exist (before, the first refresh scores all).

    A person marked again keeps one row whose ``version`` moves on, so the rescoring job, which
    clears only the versions it read, never drops a change that committed while it ran.
    """
    _executemany(
        conn,
        "INSERT INTO dirty_people (person_ref, marked_ms, version)"
        " SELECT CAST(? AS VARCHAR(320)), CAST(? AS BIGINT), 1"
        " WHERE EXISTS (SELECT 1 FROM persona_versions WHERE status = 'current')"
        " ON CONFLICT (person_ref) DO UPDATE SET version = dirty_people.version + 1",
        [(person, marked_ms) for person in people],
    )


def take_dirty(conn: Connection, limit: int) -> list[tuple[str, int]]:
    """The oldest marks, as (person_ref, version)."""
    return [
        (row[0], row[1])
        for row in conn.execute(
            select(dirty_people.c.person_ref, dirty_people.c.version)
            .order_by(dirty_people.c.marked_ms, dirty_people.c.person_ref)
            .limit(limit)
        )
    ]


def clear_dirty(conn: Connection, marks: Sequence[tuple[str, int]]) -> None:
    """Clear the marks that were rescored; a person marked again since keeps their mark."""
    if marks:
        _executemany(
            conn,
            "DELETE FROM dirty_people WHERE person_ref = ? AND version = ?",
            [(person, version) for person, version in marks],
        )


def _canonical_user(conn: Connection, user_id: str) -> str:
    mapped = conn.execute(
        select(identities.c.user_id).where(identities.c.alias_id == user_id)
    ).scalar()
    return mapped or user_id


def _identity_links(items: Iterable[dict]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """anonymousId → userId from any event carrying both; (previousId, userId) from alias calls.

    The first user an anonymous id is seen with keeps it (as Segment's identity resolution does).
    """
    anonymous_links: dict[str, str] = {}
    aliases: list[tuple[str, str]] = []
    for item in items:
        user_id = item.get("user_id")
        if not user_id:
            continue
        if item["type"] == "alias" and item.get("previous_id"):
            aliases.append((item["previous_id"], user_id))
        anonymous_id = item.get("anonymous_id")
        if anonymous_id and anonymous_id not in anonymous_links:
            anonymous_links[anonymous_id] = user_id
    return anonymous_links, aliases


def _store_identities(
    conn: Connection,
    anonymous_links: dict[str, str],
    aliases: list[tuple[str, str]],
    received_ms: int,
) -> None:
    """Store the links; an alias merges the previous id, and everything already pointing at it,
    into the new user."""
    if anonymous_links:
        _bulk_insert_ignore(
            conn,
            "identities",
            ("alias_id", "user_id", "source", "created_ms"),
            [(anon, user, "anonymous", received_ms) for anon, user in anonymous_links.items()],
        )
    for previous_id, user_id in aliases:
        canonical = _canonical_user(conn, user_id)
        if canonical == previous_id:
            continue
        conn.execute(
            insert_ignore(conn, identities),
            {
                "alias_id": previous_id,
                "user_id": canonical,
                "source": "alias",
                "created_ms": received_ms,
            },
        )
        conn.execute(
            update(identities).where(identities.c.user_id == previous_id).values(user_id=canonical)
        )


def upsert_users(
    conn: Connection,
    traits_by_user: dict[str, dict],
    *,
    received_ms: int,
    first_seen: dict[str, int] | None = None,
    emails: dict[str, str] | None = None,
) -> None:
    """Create users or merge new traits into theirs (later values win per trait)."""
    first_seen = first_seen or {}
    emails = emails or {}
    user_ids = sorted(set(traits_by_user) | set(first_seen) | set(emails))
    existing = {}
    for start in range(0, len(user_ids), 900):
        chunk = user_ids[start : start + 900]
        for row in conn.execute(select(users).where(users.c.user_id.in_(chunk))):
            existing[row.user_id] = row
    new_rows, changed = [], []
    for user_id in user_ids:
        traits = traits_by_user.get(user_id) or {}
        email = emails.get(user_id) or traits.get("email")
        row = existing.get(user_id)
        if row is None:
            new_rows.append(
                {
                    "user_id": user_id,
                    "email": email,
                    "traits": _json(traits),
                    "first_seen_ms": first_seen.get(user_id),
                    "updated_ms": received_ms,
                }
            )
            continue
        merged = orjson.loads(row.traits) if row.traits else {}
        before = dict(merged)
        merged.update(traits)
        seen = first_seen.get(user_id)
        known = [x for x in (row.first_seen_ms, seen) if x is not None]
        earliest = min(known) if known else None
        if merged != before or (email and email != row.email) or earliest != row.first_seen_ms:
            changed.append(
                {
                    "b_user_id": user_id,
                    "email": email or row.email,
                    "traits": _json(merged),
                    "first_seen_ms": earliest,
                    "updated_ms": received_ms,
                }
            )
    if new_rows:
        conn.execute(insert_ignore(conn, users), new_rows)
    if changed:
        conn.execute(
            update(users)
            .where(users.c.user_id == bindparam("b_user_id"))
            .values(
                email=bindparam("email"),
                traits=bindparam("traits"),
                first_seen_ms=bindparam("first_seen_ms"),
                updated_ms=bindparam("updated_ms"),
            ),
            changed,
        )


def _insert_records(
    conn: Connection, table: Table, id_column: str, rows: list[dict]
) -> WriteCounts:
    counts = WriteCounts()
    if not rows:
        return counts
    already = _existing_ids(conn, table.c[id_column], [r[id_column] for r in rows])
    fresh, seen = [], set()
    for position, row in enumerate(rows):
        key = row[id_column]
        if key in already or key in seen:
            counts.duplicate += 1
            continue
        seen.add(key)
        fresh.append(row)
        counts.new_positions.append(position)
    if fresh:
        result = conn.execute(insert_ignore(conn, table), fresh)
        inserted = (
            result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(fresh)
        )
        counts.accepted = inserted
        counts.duplicate += len(fresh) - inserted
    return counts


def stored_record_id(source: str, record_id: str) -> str:
    """Sources number their records independently: Zendesk ticket 123 is not HubSpot ticket 123.

    Content-hash ids (``h:…``) already include the source.
    """
    return record_id if record_id.startswith("h:") else f"{source}:{record_id}"


def insert_reviews(conn: Connection, items: Sequence[dict], *, received_ms: int) -> WriteCounts:
    rows = [
        {
            "review_id": stored_record_id(item["source"], item["review_id"]),
            "source": item["source"],
            "external_id": item.get("external_id"),
            "user_id": item.get("user_id"),
            "email": item.get("email"),
            "author": item.get("author"),
            "rating": item.get("rating"),
            "title": item.get("title"),
            "text": item["text"],
            "product": item.get("product"),
            "language": item.get("language"),
            "created_ms": _ms(item.get("created_at")),
            "received_ms": received_ms,
        }
        for item in items
    ]
    return _insert_records(conn, reviews, "review_id", rows)


def insert_conversations(
    conn: Connection, items: Sequence[dict], *, received_ms: int
) -> WriteCounts:
    rows = [
        {
            "conversation_id": stored_record_id(item["source"], item["conversation_id"]),
            "source": item["source"],
            "kind": item["kind"],
            "user_id": item.get("user_id"),
            "email": item.get("email"),
            "contact_id": item.get("contact_id"),
            "subject": item.get("subject"),
            "status": item.get("status"),
            "messages": _json(item.get("messages") or []),
            "customer_text": item.get("customer_text") or "",
            "created_ms": _ms(item.get("created_at")),
            "received_ms": received_ms,
        }
        for item in items
    ]
    return _insert_records(conn, conversations, "conversation_id", rows)


def upsert_profiles(conn: Connection, items: Sequence[dict], *, received_ms: int) -> WriteCounts:
    """Profiles are state, not history: a resend merges the same traits again and changes nothing."""
    traits: dict[str, dict] = defaultdict(dict)
    emails: dict[str, str] = {}
    for item in items:
        traits[item["user_id"]].update(item.get("traits") or {})
        if item.get("email"):
            emails[item["user_id"]] = item["email"]
    existing = _existing_ids(conn, users.c.user_id, list(traits))
    upsert_users(conn, traits, emails=emails, received_ms=received_ms)
    counts = WriteCounts(accepted=len(items))
    counts.new_positions = [i for i, item in enumerate(items) if item["user_id"] not in existing]
    return counts


FIELD_PRESENCE_SAMPLE = 1_000


def field_presence(items: Sequence[dict]) -> dict[str, dict[str, int]]:
    """Per event name: how many items carried each canonical field and property key (and ``_n``).

    A large batch is read at an even stride: the report compares shares, which a sample keeps.
    """
    # Plain dicts, not Counters: this runs once per request, and a single event is the common case.
    presence: dict[str, dict[str, int]] = {}
    stride = max(1, len(items) // FIELD_PRESENCE_SAMPLE)
    for item in items[::stride]:
        name = item.get("event") or item.get("type") or "?"
        counter = presence.get(name)
        if counter is None:
            if len(presence) >= MAX_EVENT_NAMES_TRACKED:
                continue
            counter = presence[name] = {"_n": 0}
        get = counter.get
        counter["_n"] += 1
        for key in QUALITY_FIELDS:
            if item.get(key) is not None:
                counter[key] = get(key, 0) + 1
        for key in item.get("properties") or ():
            key = "properties." + key
            counter[key] = get(key, 0) + 1
    return presence


MINUTE_MS = 60_000
# A single-item request logs its field sets (or, when its item was rejected, its reasons) at most once
# in this many seconds per process, kind and source (batches always do), standing for the requests
# since the last one logged: the log then grows with time, not with requests (a sender whose every
# request is refused included), and the report still weighs each source by its traffic.
FIELD_SET_SAMPLE_SECONDS = 10.0


class _RequestSampler:
    """Which single-item requests are logged (a process's own count; see above)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._since_logged: dict[tuple[str, str, str], tuple[float, int]] = {}

    def weight(self, what: str, kind: str, source: str) -> int:
        """How many single-item requests this one's ``what`` (field sets, reject reasons) stands
        for; 0: not logged."""
        key = (what, kind, source)
        now = self._clock()
        with self._lock:
            logged_at, skipped = self._since_logged.get(key, (-math.inf, 0))
            if now - logged_at < FIELD_SET_SAMPLE_SECONDS:
                self._since_logged[key] = (logged_at, skipped + 1)
                return 0
            self._since_logged[key] = (now, 0)
            return skipped + 1


# The clock new samplers read (tests move their own).
_sampler_clock: Callable[[], float] = time.monotonic


def _sampler(conn: Connection) -> _RequestSampler:
    """This process's sampler for ``conn``'s database."""
    return per_engine(conn.engine, "info_ingest_sampler", lambda: _RequestSampler(_sampler_clock))


def _scaled(field_sets: dict[str, dict[str, int]], factor: int) -> dict[str, dict[str, int]]:
    if factor == 1:
        return field_sets
    return {
        name: {key: count * factor for key, count in counter.items()}
        for name, counter in field_sets.items()
    }


def log_ingest(
    conn: Connection,
    *,
    kind: str,
    source: str,
    received_ms: int,
    counts: WriteCounts,
    rejected: int,
    reject_reasons: Counter | None = None,
    field_sets: dict | None = None,
    item_count: int = 1,
) -> None:
    """Count the request in its minute (``ingest_counts``); log it in ``ingest_log`` when it was a
    batch with rejected items or field sets, or a single-item request due for a sample (see
    FIELD_SET_SAMPLE_SECONDS). ``item_count`` counts the request's valid items, ``rejected`` the
    others."""
    _executemany(
        conn,
        "INSERT INTO ingest_counts (bucket_ms, kind, source, requests, accepted, duplicate, rejected,"
        " flagged) VALUES (?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT (bucket_ms, kind, source) DO UPDATE SET"
        " requests = ingest_counts.requests + 1,"
        " accepted = ingest_counts.accepted + excluded.accepted,"
        " duplicate = ingest_counts.duplicate + excluded.duplicate,"
        " rejected = ingest_counts.rejected + excluded.rejected,"
        " flagged = ingest_counts.flagged + excluded.flagged",
        [
            (
                received_ms - received_ms % MINUTE_MS,
                kind,
                source,
                counts.accepted,
                counts.duplicate,
                rejected,
                counts.flagged,
            )
        ],
    )
    if item_count + rejected == 1:
        sampler = _sampler(conn)
        if field_sets:
            weight = sampler.weight("field_sets", kind, source)
            field_sets = _scaled(field_sets, weight) if weight else None
        if reject_reasons:
            weight = sampler.weight("reject_reasons", kind, source)
            reject_reasons = (
                Counter({reason: n * weight for reason, n in reject_reasons.items()})
                if weight
                else None
            )
    if not (reject_reasons or field_sets):
        return
    _executemany(
        conn,
        "INSERT INTO ingest_log (kind, source, received_ms, accepted, duplicate, rejected, flagged,"
        " reject_reasons, field_sets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                kind,
                source,
                received_ms,
                counts.accepted,
                counts.duplicate,
                rejected,
                counts.flagged,
                _json(dict(reject_reasons.most_common(20))) if reject_reasons else None,
                _json(field_sets) if field_sets else None,
            )
        ],
    )
