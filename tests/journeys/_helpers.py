"""Small hand-made event frames for the journeys tests."""

from __future__ import annotations

import pandas as pd

BASE = pd.Timestamp("2026-03-02 09:00", tz="UTC")
COLUMNS = [
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


def at(minutes: float) -> pd.Timestamp:
    """BASE plus ``minutes``."""
    return BASE + pd.Timedelta(minutes=minutes)


def make_events(rows: list[dict]) -> pd.DataFrame:
    """Event frame of the data contract; each row needs person_id and minutes.

    A row with ``page`` becomes a page event on that path, a row with ``event`` a track
    event; other contract columns can be given directly.
    """
    records = []
    for i, row in enumerate(rows):
        row = dict(row)
        minutes = row.pop("minutes")
        page = row.pop("page", None)
        record = {
            "person_id": row.pop("person_id"),
            "event_id": f"e{i}",
            "type": "page" if page is not None else "track",
            "event": "Page Viewed" if page is not None else None,
            "timestamp": at(minutes),
            "session_id": None,
            "page_path": page,
            "referrer": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "revenue": float("nan"),
            "source_format": "segment",
        }
        record.update(row)
        records.append(record)
    frame = pd.DataFrame(records, columns=COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["revenue"] = frame["revenue"].astype(float)
    return frame


def track(person: str, minutes: float, event: str, **extra) -> dict:
    return {"person_id": person, "minutes": minutes, "event": event, **extra}


def page(person: str, minutes: float, path: str, **extra) -> dict:
    return {"person_id": person, "minutes": minutes, "page": path, **extra}
