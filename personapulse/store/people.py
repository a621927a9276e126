"""One person as the store knows them: profile, stitched ids, activity counts."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, and_, func, or_, select

from personapulse.store import read_connection
from personapulse.store.schema import conversations, events, identities, reviews, users


def resolve_person(engine: Engine, any_id: str) -> str | None:
    """The canonical user id for a user id, former id, anonymous id or email; None if unknown.

    ``anon:<anonymous id>`` (how never-identified visitors appear in personas) resolves too.
    """
    if any_id.startswith("anon:"):
        any_id = any_id[len("anon:") :]
    with read_connection(engine) as conn:
        mapped = conn.execute(
            select(identities.c.user_id).where(identities.c.alias_id == any_id)
        ).scalar()
        if mapped is not None:
            return mapped
        known = conn.execute(
            select(users.c.user_id)
            .where(or_(users.c.user_id == any_id, users.c.email == any_id))
            .order_by(users.c.user_id)
            .limit(1)
        ).scalar()
        if known is not None:
            return known
        seen = conn.execute(
            select(events.c.id).where(events.c.anonymous_id == any_id).limit(1)
        ).scalar()
    return f"anon:{any_id}" if seen is not None else None


def person_summary(engine: Engine, person_id: str) -> dict | None:
    """Profile, linked ids and activity counts of ``person_id`` (as resolve_person returns it)."""
    with read_connection(engine) as conn:
        if person_id.startswith("anon:"):
            user_ids: list[str] = []
            anonymous_ids = [person_id[len("anon:") :]]
            profile = None
            belongs = and_(events.c.anonymous_id == anonymous_ids[0], events.c.user_id.is_(None))
        else:
            row = conn.execute(select(users).where(users.c.user_id == person_id)).first()
            aliases = conn.execute(
                select(identities.c.alias_id, identities.c.source)
                .where(identities.c.user_id == person_id)
                .order_by(identities.c.alias_id)
            ).all()
            user_ids = [person_id] + [a.alias_id for a in aliases if a.source == "alias"]
            anonymous_ids = [a.alias_id for a in aliases if a.source == "anonymous"]
            profile = (
                None
                if row is None
                else {"email": row.email, "traits": orjson.loads(row.traits) if row.traits else {}}
            )
            belongs = or_(events.c.user_id.in_(user_ids), events.c.anonymous_id.in_(anonymous_ids))
        stats = conn.execute(
            select(
                func.count().label("n"),
                func.min(events.c.ts_ms).label("first_ms"),
                func.max(events.c.ts_ms).label("last_ms"),
                func.coalesce(func.sum(events.c.revenue), 0).label("revenue"),
            ).where(belongs, events.c.flags == 0)
        ).one()
        review_count = conn.execute(
            select(func.count()).select_from(reviews).where(reviews.c.user_id.in_(user_ids))
        ).scalar()
        conversation_count = conn.execute(
            select(func.count())
            .select_from(conversations)
            .where(conversations.c.user_id.in_(user_ids))
        ).scalar()
    if stats.n == 0 and profile is None:
        return None
    return {
        "person_id": person_id,
        "profile": profile,
        "ids": {"user_ids": user_ids, "anonymous_ids": anonymous_ids},
        "events": int(stats.n),
        "first_seen_ms": stats.first_ms,
        "last_seen_ms": stats.last_ms,
        "revenue": float(stats.revenue or 0.0),
        "reviews": int(review_count or 0),
        "conversations": int(conversation_count or 0),
    }
