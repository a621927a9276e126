"""Write paths for ingested items: insert-or-ignore on stable ids, identities, the ingest log.

Every function takes a connection inside the caller's write transaction, so an ingestion request
stores its data, its identities, its idempotency record and its log row together or not at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from personapulse.store.schema import (
    EARLIEST_PLAUSIBLE_MS,
    FLAG_ANCIENT_TIMESTAMP,
    FLAG_FUTURE_TIMESTAMP,
    FLAG_MISSING_TIMESTAMP,
    conversations,
    events,
    identities,
    ingest_log,
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
    # Canonical ids of the items that were new, in input order (callers classify only these).
    new_ids: list[str] = field(default_factory=list)


def _insert_ignore(conn: Connection, table: Table):
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


def insert_events(
    conn: Connection,
    items: Sequence[dict],
    *,
    received_ms: int,
    future_tolerance_ms: int,
) -> WriteCounts:
    """Store canonical events (docs/data-contract.md); identities and profiles follow from them."""
    counts = WriteCounts()
    if not items:
        return counts
    ids = [item["event_id"] for item in items]
    already = _existing_ids(conn, events.c.event_id, ids)
    rows = []
    seen: set[str] = set()
    for item in items:
        event_id = item["event_id"]
        if event_id in already or event_id in seen:
            counts.duplicate += 1
            continue
        seen.add(event_id)
        flags = 0
        ts = _ms(item.get("timestamp"))
        if ts is None:
            ts = received_ms
            flags |= FLAG_MISSING_TIMESTAMP
        elif ts > received_ms + future_tolerance_ms:
            flags |= FLAG_FUTURE_TIMESTAMP
        elif ts < EARLIEST_PLAUSIBLE_MS:
            flags |= FLAG_ANCIENT_TIMESTAMP
        if flags:
            counts.flagged += 1
        properties = item.get("properties") or {}
        rows.append(
            {
                "event_id": event_id,
                "source_format": item["source_format"],
                "type": item["type"],
                "event": item.get("event"),
                "user_id": item.get("user_id"),
                "anonymous_id": item.get("anonymous_id"),
                "ts_ms": ts,
                "received_ms": received_ms,
                "flags": flags,
                "session_id": item.get("session_id"),
                "page_path": item.get("page_path"),
                "page_url": item.get("page_url"),
                "referrer": item.get("referrer"),
                "utm_source": item.get("utm_source"),
                "utm_medium": item.get("utm_medium"),
                "utm_campaign": item.get("utm_campaign"),
                "utm_term": item.get("utm_term"),
                "utm_content": item.get("utm_content"),
                "revenue": item.get("revenue"),
                "currency": item.get("currency"),
                "properties": _json(properties) if properties else None,
            }
        )
        counts.new_ids.append(event_id)
    if rows:
        # A concurrent request may have stored some of these ids since the check above; the
        # conflict clause keeps the first copy and rowcount tells how many were really new.
        result = conn.execute(_insert_ignore(conn, events), rows)
        inserted = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)
        counts.accepted = inserted
        counts.duplicate += len(rows) - inserted
    _stitch_identities(conn, items, received_ms)
    _upsert_users_from_events(conn, items, received_ms)
    return counts


def _canonical_user(conn: Connection, user_id: str) -> str:
    mapped = conn.execute(
        select(identities.c.user_id).where(identities.c.alias_id == user_id)
    ).scalar()
    return mapped or user_id


def _stitch_identities(conn: Connection, items: Iterable[dict], received_ms: int) -> None:
    """anonymousId → userId from any event carrying both; previousId → userId from alias.

    The first user an anonymous id is seen with keeps it (as Segment's identity resolution does);
    an alias merges the previous id, and everything already pointing at it, into the new user.
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
    if anonymous_links:
        conn.execute(
            _insert_ignore(conn, identities),
            [
                {"alias_id": anon, "user_id": user, "source": "anonymous", "created_ms": received_ms}
                for anon, user in anonymous_links.items()
            ],
        )
    for previous_id, user_id in aliases:
        canonical = _canonical_user(conn, user_id)
        if canonical == previous_id:
            continue
        conn.execute(
            _insert_ignore(conn, identities),
            {"alias_id": previous_id, "user_id": canonical, "source": "alias", "created_ms": received_ms},
        )
        conn.execute(
            update(identities).where(identities.c.user_id == previous_id).values(user_id=canonical)
        )


def _upsert_users_from_events(conn: Connection, items: Iterable[dict], received_ms: int) -> None:
    traits_by_user: dict[str, dict] = defaultdict(dict)
    first_seen: dict[str, int] = {}
    for item in items:
        user_id = item.get("user_id")
        if not user_id:
            continue
        ts = _ms(item.get("timestamp")) or received_ms
        first_seen[user_id] = min(first_seen.get(user_id, ts), ts)
        if item["type"] == "identify" and item.get("traits"):
            traits_by_user[user_id].update(item["traits"])
    if first_seen:
        upsert_users(conn, traits_by_user, first_seen=first_seen, received_ms=received_ms)


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
        conn.execute(_insert_ignore(conn, users), new_rows)
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
    for row in rows:
        key = row[id_column]
        if key in already or key in seen:
            counts.duplicate += 1
            continue
        seen.add(key)
        fresh.append(row)
    if fresh:
        result = conn.execute(_insert_ignore(conn, table), fresh)
        inserted = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(fresh)
        counts.accepted = inserted
        counts.duplicate += len(fresh) - inserted
        counts.new_ids = [row[id_column] for row in fresh]
    return counts


def insert_reviews(conn: Connection, items: Sequence[dict], *, received_ms: int) -> WriteCounts:
    rows = [
        {
            "review_id": item["review_id"],
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
            "conversation_id": item["conversation_id"],
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
    counts.new_ids = [uid for uid in traits if uid not in existing]
    return counts


def field_presence(items: Sequence[dict]) -> dict[str, dict[str, int]]:
    """Per event name: how many items carried each canonical field and property key (and ``_n``)."""
    presence: dict[str, Counter] = {}
    for item in items:
        name = item.get("event") or item.get("type") or "?"
        counter = presence.get(name)
        if counter is None:
            if len(presence) >= MAX_EVENT_NAMES_TRACKED:
                continue
            counter = presence[name] = Counter()
        counter["_n"] += 1
        for key in QUALITY_FIELDS:
            if item.get(key) is not None:
                counter[key] += 1
        for key in item.get("properties") or ():
            counter["properties." + key] += 1
    return {name: dict(counter) for name, counter in presence.items()}


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
) -> None:
    conn.execute(
        ingest_log.insert().values(
            kind=kind,
            source=source,
            received_ms=received_ms,
            accepted=counts.accepted,
            duplicate=counts.duplicate,
            rejected=rejected,
            flagged=counts.flagged,
            reject_reasons=_json(dict(reject_reasons.most_common(20))) if reject_reasons else None,
            field_sets=_json(field_sets) if field_sets else None,
        )
    )
