"""The "garbage in" report: what arrived, what was refused, what is stored but should not be trusted."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

import orjson
from sqlalchemy import Engine, text

from personapulse.store import now_ms, read_connection
from personapulse.store.schema import (
    FLAG_ANCIENT_TIMESTAMP,
    FLAG_FUTURE_TIMESTAMP,
    FLAG_MISSING_TIMESTAMP,
)
from personapulse.store.writes import MINUTE_MS

DAY_MS = 86_400_000
# Field-set comparisons read the newest ingest-log rows only: every batch and a sample of single-item
# requests (see writes.FIELD_SET_SAMPLE_SECONDS) carry field sets.
FIELD_SET_LOG_ROWS = 2_000
# A field "disagrees" between sources when its presence differs by more than this share.
DISAGREEMENT_GAP = 0.5


# One pass over the flagged events only: ``flags != 0`` is the condition of ix_events_flagged, so
# the counts read that index (clean events have no entry), not the events table.
FLAGGED_COUNTS_SQL = """
    SELECT SUM(CASE WHEN (flags & :missing) != 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN (flags & :future) != 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN (flags & :ancient) != 0 THEN 1 ELSE 0 END)
    FROM events WHERE flags != 0"""
FLAG_PARAMETERS = {
    "missing": FLAG_MISSING_TIMESTAMP,
    "future": FLAG_FUTURE_TIMESTAMP,
    "ancient": FLAG_ANCIENT_TIMESTAMP,
}


def _scalar(conn, sql: str, **params) -> int:
    return int(conn.execute(text(sql), params).scalar() or 0)


def _field_disagreements(rows) -> tuple[list[dict], list[dict]]:
    """Compare per event name which fields each source sends; also fields a source sends only sometimes."""
    totals: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for source, field_sets in rows:
        for event_name, counter in orjson.loads(field_sets).items():
            totals[(event_name, source)].update(counter)
    by_event: dict[str, dict[str, Counter]] = defaultdict(dict)
    for (event_name, source), counter in totals.items():
        by_event[event_name][source] = counter
    disagreements, inconsistent = [], []
    for event_name, sources in sorted(by_event.items()):
        fields = {f for counter in sources.values() for f in counter if f != "_n"}
        for field_name in sorted(fields):
            shares = {s: c[field_name] / c["_n"] for s, c in sources.items() if c["_n"]}
            if len(shares) > 1 and max(shares.values()) - min(shares.values()) > DISAGREEMENT_GAP:
                disagreements.append(
                    {
                        "event": event_name,
                        "field": field_name,
                        "presence": {s: round(v, 3) for s, v in shares.items()},
                    }
                )
            for source, share in shares.items():
                if 0.05 < share < 0.95 and sources[source]["_n"] >= 20:
                    inconsistent.append(
                        {
                            "source": source,
                            "event": event_name,
                            "field": field_name,
                            "presence": round(share, 3),
                        }
                    )
    return disagreements, inconsistent


def data_quality_report(engine: Engine, *, days: int = 30, at_ms: int | None = None) -> dict:
    """Counts of suspect data, per source and per day over the last ``days`` days."""
    at_ms = now_ms() if at_ms is None else at_ms
    since = at_ms - days * DAY_MS
    # Counts are kept per minute: the window starts with the minute that holds ``since``.
    since_minute = since - since % MINUTE_MS
    with read_connection(engine) as conn:
        events_total = _scalar(conn, "SELECT COUNT(*) FROM events")
        missing_ts, future_ts, ancient_ts = (
            int(count or 0)
            for count in conn.execute(text(FLAGGED_COUNTS_SQL), FLAG_PARAMETERS).one()
        )
        unknown_users = _scalar(
            conn,
            """SELECT COUNT(*) FROM events e
               WHERE e.user_id IS NULL
                 AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.alias_id = e.anonymous_id)""",
        )
        reviews_total = _scalar(conn, "SELECT COUNT(*) FROM reviews")
        reviews_unlinked = _scalar(
            conn,
            """SELECT COUNT(*) FROM reviews r WHERE r.user_id IS NULL
               AND (r.email IS NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.email = r.email))""",
        )
        conversations_total = _scalar(conn, "SELECT COUNT(*) FROM conversations")
        conversations_unlinked = _scalar(
            conn,
            """SELECT COUNT(*) FROM conversations c WHERE c.user_id IS NULL
               AND (c.email IS NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.email = c.email))""",
        )
        by_source = conn.execute(
            text(
                """SELECT kind, source, SUM(accepted), SUM(duplicate), SUM(rejected), SUM(flagged)
                   FROM ingest_counts WHERE bucket_ms >= :since GROUP BY kind, source
                   ORDER BY kind, source"""
            ),
            {"since": since_minute},
        ).all()
        over_time = conn.execute(
            text(
                """SELECT (bucket_ms / :day) AS day, kind, SUM(accepted), SUM(duplicate),
                          SUM(rejected), SUM(flagged)
                   FROM ingest_counts WHERE bucket_ms >= :since
                   GROUP BY day, kind ORDER BY day, kind"""
            ),
            {"since": since_minute, "day": DAY_MS},
        ).all()
        reasons_rows = conn.execute(
            text(
                """SELECT kind, reject_reasons FROM ingest_log
                   WHERE received_ms >= :since AND reject_reasons IS NOT NULL"""
            ),
            {"since": since},
        ).all()
        field_rows = conn.execute(
            text(
                """SELECT source, field_sets FROM ingest_log
                   WHERE kind = 'events' AND field_sets IS NOT NULL
                   ORDER BY id DESC LIMIT :n"""
            ),
            {"n": FIELD_SET_LOG_ROWS},
        ).all()

    reasons: dict[str, Counter] = defaultdict(Counter)
    for kind, blob in reasons_rows:
        reasons[kind].update(orjson.loads(blob))
    disagreements, inconsistent = _field_disagreements(field_rows)
    sources = [
        {
            "kind": k,
            "source": s,
            "accepted": int(a),
            "duplicate": int(d),
            "rejected": int(r),
            "flagged": int(f),
        }
        for k, s, a, d, r, f in by_source
    ]
    duplicates = Counter()
    rejected = Counter()
    for row in sources:
        duplicates[row["kind"]] += row["duplicate"]
        rejected[row["kind"]] += row["rejected"]

    findings = []
    if missing_ts:
        findings.append(
            f"{missing_ts} events arrived without a timestamp (stored with the receive time, left out of analytics)"
        )
    if future_ts:
        findings.append(
            f"{future_ts} events carry a timestamp in the future (left out of analytics)"
        )
    if ancient_ts:
        findings.append(
            f"{ancient_ts} events carry a timestamp before 2000 (left out of analytics)"
        )
    if unknown_users:
        findings.append(
            f"{unknown_users} events belong to visitors never identified (anonymous only)"
        )
    if reviews_unlinked:
        findings.append(f"{reviews_unlinked} of {reviews_total} reviews are not linked to a user")
    if conversations_unlinked:
        findings.append(
            f"{conversations_unlinked} of {conversations_total} conversations are not linked to a user"
        )
    for kind, count in duplicates.items():
        if count:
            findings.append(
                f"{count} duplicate {kind} were resent and stored once (last {days} days)"
            )
    for kind, count in rejected.items():
        if count:
            top = ", ".join(r for r, _ in reasons[kind].most_common(3))
            findings.append(f"{count} {kind} were rejected (last {days} days); most often: {top}")
    for row in disagreements[:10]:
        findings.append(
            f"sources disagree on '{row['field']}' for '{row['event']}': "
            + ", ".join(f"{s} {v:.0%}" for s, v in row["presence"].items())
        )

    return {
        "generated_at": datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(),
        "window_days": days,
        "events": {
            "total": events_total,
            "missing_timestamp": missing_ts,
            "future_timestamp": future_ts,
            "ancient_timestamp": ancient_ts,
            "unknown_users": unknown_users,
        },
        "reviews": {"total": reviews_total, "unlinked": reviews_unlinked},
        "conversations": {"total": conversations_total, "unlinked": conversations_unlinked},
        "duplicates": dict(duplicates),
        "rejected": {
            k: {"count": v, "top_reasons": dict(reasons[k].most_common(5))}
            for k, v in rejected.items()
        },
        "by_source": sources,
        "over_time": [
            {
                "day": datetime.fromtimestamp(int(day) * DAY_MS / 1000, UTC).date().isoformat(),
                "kind": k,
                "accepted": int(a),
                "duplicate": int(d),
                "rejected": int(r),
                "flagged": int(f),
            }
            for day, k, a, d, r, f in over_time
        ],
        "field_disagreements": disagreements,
        "inconsistent_fields": inconsistent[:50],
        "findings": findings,
    }
