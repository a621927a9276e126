"""Export the store's events to Parquet, the Spark engine's input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from personapulse.spark.session import ROW
from personapulse.store import read_connection
from personapulse.store.frames import load_events


def export_events(
    engine: Engine,
    path: str | Path,
    *,
    chunk_events: int = 2_000_000,
    properties: tuple[str, ...] = ("feature",),
) -> dict:
    """Write every unflagged event (identities stitched, as ``load_events`` reads them) to a
    directory of Parquet files, one per time window of about ``chunk_events`` events.

    Columns: the contract's event frame (``timestamp`` as UTC microseconds), the named event
    ``properties``, and ``_row``: the row's position in ``load_events(engine)`` order, so ties on
    (person, timestamp) keep the order the single-machine engine sees. Windows split on
    timestamps, so equal timestamps always land in the same file. Returns
    ``{"path", "events", "files"}``. An existing directory at ``path`` is replaced.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = Path(path)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with read_connection(engine) as conn:
        first, last, total = conn.exec_driver_sql(
            "SELECT MIN(ts_ms), MAX(ts_ms), COUNT(*) FROM events WHERE flags = 0"
        ).one()
    if not total:
        return {"path": str(target), "events": 0, "files": 0}
    n_chunks = max(1, -(-int(total) // chunk_events))
    edges = np.linspace(int(first), int(last) + 1, n_chunks + 1).astype(np.int64)
    files = events = 0
    for since, until in zip(edges[:-1], edges[1:], strict=True):
        if until <= since:
            continue
        frame = load_events(engine, since_ms=int(since), until_ms=int(until), properties=properties)
        if frame.empty:
            continue
        # Equal timestamps are always in the same window, and a window keeps the store's scan
        # order among them, so (person, timestamp, _row) orders rows exactly as load_events does.
        frame[ROW] = np.arange(events, events + len(frame), dtype=np.int64)
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False),
            target / f"part-{files:05d}.parquet",
            coerce_timestamps="us",  # Spark reads microsecond timestamps (the store keeps ms)
        )
        files += 1
        events += len(frame)
    return {"path": str(target), "events": events, "files": files}
