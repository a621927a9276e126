"""Read the store into the engine's DataFrames (docs/data-contract.md), identities stitched."""

from __future__ import annotations

import orjson
import pandas as pd
from sqlalchemy import Engine, text

from personapulse.store import read_connection

EVENT_COLUMNS = [
    "person_id",
    "event_id",
    "type",
    "event",
    "timestamp",
    "session_id",
    "page_path",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "revenue",
    "source_format",
]

# One lookup resolves a person: the identities table holds already-resolved chains.
_PERSON_SQL = "COALESCE(iu.user_id, e.user_id, ia.user_id, 'anon:' || e.anonymous_id)"


def _frame(engine: Engine, sql: str, params: dict, columns: list[str]) -> pd.DataFrame:
    with read_connection(engine) as conn:
        result = conn.execute(text(sql), params)
        rows = result.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


# Nanosecond timestamps end in 2262; anything stored beyond (flagged garbage) reads as NaT.
_MAX_NS_MS = int(pd.Timestamp.max.value // 1_000_000)
_MIN_NS_MS = int(pd.Timestamp.min.value // 1_000_000) + 1


def _to_utc(ms: pd.Series) -> pd.Series:
    values = pd.to_numeric(ms, errors="coerce").astype("Float64")
    values = values.where((values >= _MIN_NS_MS) & (values <= _MAX_NS_MS))
    return pd.to_datetime(values.astype("Int64"), unit="ms", utc=True).astype("datetime64[ns, UTC]")


def _in_list(expression: str, values: list[str], params: dict) -> str:
    """``expression IN (:p0, :p1, …)`` with the values bound into ``params`` (empty: matches none)."""
    names = []
    for value in values:
        name = f"p{len(params)}"
        params[name] = value
        names.append(f":{name}")
    return f"{expression} IN ({', '.join(names) or 'NULL'})"


def _record_filters(
    alias: str, since_ms: int | None, person_ids: list[str] | None
) -> tuple[str, dict]:
    """WHERE clause of reviews / conversations: received since, and belonging to these people."""
    where, params = ["1=1"], {}
    if since_ms is not None:
        where.append(f"COALESCE({alias}.created_ms, {alias}.received_ms) >= :since")
        params["since"] = since_ms
    if person_ids is not None:
        where.append(_in_list(_person_for_record(alias), person_ids, params))
    return "WHERE " + " AND ".join(where), params


def _json_property(dialect: str, key: str) -> str:
    if not key.replace("_", "").isalnum():
        raise ValueError(f"property names are letters, digits and underscores: {key!r}")
    if dialect == "postgresql":
        return f"(e.properties::json ->> '{key}')"
    return f"json_extract(e.properties, '$.{key}')"


def load_events(
    engine: Engine,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    include_flagged: bool = False,
    person_ids: list[str] | None = None,
    properties: tuple[str, ...] = (),
) -> pd.DataFrame:
    """All stored events as the event frame, ordered by person and time.

    Garbage (missing, future or ancient timestamps) is left out unless ``include_flagged``.
    ``properties`` adds one column per named event property (e.g. ``feature``), read in SQL so the
    JSON of millions of events is never parsed in Python. ``person_ids`` limits the frame to people.
    """
    where = ["1=1"]
    params: dict = {}
    if not include_flagged:
        where.append("e.flags = 0")
    if since_ms is not None:
        where.append("e.ts_ms >= :since")
        params["since"] = since_ms
    if until_ms is not None:
        where.append("e.ts_ms < :until")
        params["until"] = until_ms
    if person_ids is not None:
        where.append(_in_list(_PERSON_SQL, person_ids, params))
    extra = "".join(
        f", {_json_property(engine.dialect.name, key)} AS prop_{key}" for key in properties
    )
    sql = f"""
        SELECT {_PERSON_SQL} AS person_id, e.event_id, e.type, e.event, e.ts_ms, e.session_id,
               e.page_path, e.referrer, e.utm_source, e.utm_medium, e.utm_campaign, e.revenue,
               e.source_format{extra}
        FROM events e
        LEFT JOIN identities iu ON iu.alias_id = e.user_id
        LEFT JOIN identities ia ON ia.alias_id = e.anonymous_id
        WHERE {" AND ".join(where)}
    """
    columns = [c if c != "timestamp" else "ts_ms" for c in EVENT_COLUMNS] + list(properties)
    frame = _frame(engine, sql, params, columns)
    frame["timestamp"] = _to_utc(frame.pop("ts_ms"))
    frame["revenue"] = pd.to_numeric(frame["revenue"], errors="coerce").astype("float64")
    frame = frame[EVENT_COLUMNS + list(properties)].sort_values(
        ["person_id", "timestamp"], kind="stable"
    )
    return frame.reset_index(drop=True)


def _person_for_record(alias: str) -> str:
    """A review or conversation belongs to its user (resolved), or to the user with its email."""
    return f"""COALESCE(iu.user_id, {alias}.user_id,
        (SELECT MIN(u.user_id) FROM users u WHERE {alias}.email IS NOT NULL AND u.email = {alias}.email))"""


def load_reviews(
    engine: Engine, *, since_ms: int | None = None, person_ids: list[str] | None = None
) -> pd.DataFrame:
    where, params = _record_filters("r", since_ms, person_ids)
    sql = f"""
        SELECT r.review_id, {_person_for_record("r")} AS person_id, r.source, r.rating, r.title,
               r.text, r.product, r.created_ms
        FROM reviews r LEFT JOIN identities iu ON iu.alias_id = r.user_id
        {where}
    """
    columns = [
        "review_id",
        "person_id",
        "source",
        "rating",
        "title",
        "text",
        "product",
        "created_ms",
    ]
    frame = _frame(engine, sql, params, columns)
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce").astype("float64")
    frame["created_at"] = _to_utc(frame.pop("created_ms"))
    return frame


def load_conversations(
    engine: Engine, *, since_ms: int | None = None, person_ids: list[str] | None = None
) -> pd.DataFrame:
    where, params = _record_filters("c", since_ms, person_ids)
    sql = f"""
        SELECT c.conversation_id, {_person_for_record("c")} AS person_id, c.source, c.kind,
               c.subject, c.customer_text, c.created_ms
        FROM conversations c LEFT JOIN identities iu ON iu.alias_id = c.user_id
        {where}
    """
    columns = ["conversation_id", "person_id", "source", "kind", "subject", "text", "created_ms"]
    frame = _frame(engine, sql, params, columns)
    frame["created_at"] = _to_utc(frame.pop("created_ms"))
    return frame


def load_profiles(engine: Engine) -> pd.DataFrame:
    sql = """
        SELECT COALESCE(iu.user_id, u.user_id) AS person_id, u.email, u.traits, u.first_seen_ms,
               u.updated_ms
        FROM users u LEFT JOIN identities iu ON iu.alias_id = u.user_id
    """
    columns = ["person_id", "email", "traits", "first_seen_ms", "updated_ms"]
    frame = _frame(engine, sql, {}, columns)
    frame["traits"] = [orjson.loads(t) if t else {} for t in frame["traits"]]
    frame["first_seen"] = _to_utc(frame.pop("first_seen_ms"))
    frame["last_seen"] = _to_utc(frame.pop("updated_ms"))
    return frame
