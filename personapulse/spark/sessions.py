"""Sessions in native Spark SQL (window functions), with the single-machine rules."""

from __future__ import annotations

from personapulse.spark.session import ROW


def sessionize(
    df,
    *,
    gap_minutes: float = 30,
    split_on_source_session: bool = False,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_id_col: str = "session_id",
):
    """Spark twin of :func:`personapulse.journeys.sessionize`.

    Input: a Spark event DataFrame (``events_to_spark`` / ``read_events``: ``_row`` keeps the
    input order; without it ties on time have no defined order). A session starts at a
    person's first event and when the time since their previous event is strictly greater than
    ``gap_minutes``; with ``split_on_source_session`` also when the source's ``session_id``
    changes between two non-missing (non-empty) values.

    Output: ``df`` plus bigint columns ``session_index`` (1, 2, … per person, as on one
    machine), ``event_order`` (the row's rank within its person, 1-based) and ``session_key``
    (the ``_row`` of the session's first event: unique, but, unlike on one machine, not
    consecutive per person — making it so would cost a global sort).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if gap_minutes <= 0:
        raise ValueError("gap_minutes must be positive")
    missing = [
        c
        for c in [person_col, timestamp_col] + ([session_id_col] if split_on_source_session else [])
        if c not in df.columns
    ]
    if missing:
        raise ValueError(f"events is missing required columns: {', '.join(missing)}")
    order = [F.col(timestamp_col)] + ([F.col(ROW)] if ROW in df.columns else [])
    by_person = Window.partitionBy(person_col).orderBy(*order)
    ts = F.unix_micros(F.col(timestamp_col))
    gap_us = int(round(gap_minutes * 60 * 1_000_000))
    previous = F.lag(ts).over(by_person)
    new = previous.isNull() | ((ts - previous) > F.lit(gap_us))
    if split_on_source_session:
        sid = F.col(session_id_col).cast("string")
        prev_sid = F.lag(sid).over(by_person)
        changed = (
            sid.isNotNull()
            & prev_sid.isNotNull()
            & (sid != F.lit(""))
            & (prev_sid != F.lit(""))
            & (sid != prev_sid)
        )
        new = new | changed
    running = by_person.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    out = (
        df.withColumn("__new", new.cast("bigint"))
        .withColumn("session_index", F.sum("__new").over(running))
        .withColumn("event_order", F.row_number().over(by_person).cast("bigint"))
        .drop("__new")
    )
    first_key = F.col(ROW) if ROW in df.columns else F.col("event_order")
    by_session = Window.partitionBy(person_col, "session_index").orderBy(*order)
    return out.withColumn("session_key", F.first(first_key).over(by_session).cast("bigint"))
