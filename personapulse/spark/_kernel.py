"""Run a single-machine kernel on groups of whole persons (grouped pandas UDFs).

Rows are hashed by person into ``buckets`` groups; each group arrives in a Python worker as a
pandas frame with the contract's ``timestamp`` (UTC), sorted by (person, timestamp, input
order), so the single-machine functions see exactly what they would see on one machine for
those persons. Used for per-person sequential logic (funnels, steps, path variants) and
features; what only needs window functions or aggregates is native Spark SQL (sessions,
transitions, the funnel's step table).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from personapulse.spark.session import ROW, quiet_pandas

BUCKET = "__bucket"
TS_US = "__ts_us"


def default_buckets(spark) -> int:
    return max(int(spark.sparkContext.defaultParallelism) * 4, 8)


def to_micros(values: pd.Series) -> pd.Series:
    """UTC timestamps as int64 microseconds (NaT → null)."""
    stamps = pd.to_datetime(values, utc=True)
    micros = stamps.astype("datetime64[us, UTC]").astype("int64")
    return pd.Series(
        pd.array(micros.where(stamps.notna(), None), dtype="Int64"), index=values.index
    )


def per_person(
    df,
    kernel: Callable[[pd.DataFrame], pd.DataFrame],
    schema: str,
    *,
    columns: list[str] | None = None,
    buckets: int | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    order_col: str | None = None,
    drop: tuple[str, ...] = ("event_order", "session_key", "session_index"),
    keep_bucket: bool = False,
):
    """``kernel`` applied to groups of whole persons; its outputs unioned (a Spark DataFrame).

    ``kernel`` receives a pandas event frame (``columns`` of ``df`` — all by default — sorted
    by person, time and input order — or by person and ``order_col`` — index 0..n-1) and returns
    a frame matching ``schema``. Columns in ``drop`` (Spark's own session columns, which are
    not the single-machine kind) are left out (``keep_bucket`` adds the group's number as
    ``__bucket``); kernels that need sessions rebuild them, which is
    exact because sessions never span persons.
    """
    from pyspark.sql import functions as F

    spark = df.sparkSession
    n = buckets or default_buckets(spark)
    wanted = [c for c in (columns or df.columns) if c not in (ROW, timestamp_col, *drop)]
    has_row = ROW in df.columns or order_col is not None
    selected = df.select(
        *[F.col(c) for c in wanted],
        F.unix_micros(F.col(timestamp_col)).alias(TS_US),
        (F.col(order_col or ROW) if has_row else F.monotonically_increasing_id()).alias(ROW),
        F.pmod(F.xxhash64(F.col(person_col)), F.lit(n)).alias(BUCKET),
    ).where(F.col(person_col).isNotNull())

    def run(frame: pd.DataFrame) -> pd.DataFrame:
        bucket = frame.pop(BUCKET)
        frame[timestamp_col] = pd.to_datetime(frame.pop(TS_US), unit="us", utc=True).astype(
            "datetime64[ns, UTC]"
        )
        frame = frame.sort_values([person_col, timestamp_col, ROW], kind="stable")
        frame = frame.drop(columns=[ROW]).reset_index(drop=True)
        if keep_bucket:
            frame[BUCKET] = bucket.iloc[0] if len(bucket) else 0
        return kernel(frame)

    with quiet_pandas():
        return selected.groupBy(BUCKET).applyInPandas(run, schema)
