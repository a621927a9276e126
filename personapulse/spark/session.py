"""SparkSession and event tables for the Spark engine (optional extra ``personapulse[spark]``).

Nothing here downloads anything: ``pyspark`` ships its own jars, local mode runs in one JVM on
this machine, and no Spark package (``spark.jars.packages``) is ever requested.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

# Columns of the contract's event frame (docs/data-contract.md) and their Spark types.
EVENT_TYPES = {
    "person_id": "string",
    "event_id": "string",
    "type": "string",
    "event": "string",
    "timestamp": "timestamp",
    "session_id": "string",
    "page_path": "string",
    "referrer": "string",
    "utm_source": "string",
    "utm_medium": "string",
    "utm_campaign": "string",
    "revenue": "double",
    "source_format": "string",
}
# Input order of the rows: equal timestamps keep it on both engines (the single-machine engine
# keeps input order with a stable sort; Spark has no row order, so it is carried as a column).
ROW = "_row"


def require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "the Spark engine needs pyspark: pip install 'personapulse[spark]'"
        ) from exc


def spark_session(
    master: str = "local[*]",
    *,
    app_name: str = "personapulse",
    shuffle_partitions: int | None = None,
    driver_memory: str | None = None,
    config: dict[str, Any] | None = None,
):
    """A SparkSession (reused when one is already running in this process).

    ``master``: ``local[N]`` / ``local[*]`` (one JVM here) or ``spark://host:7077``, ``yarn``,
    ``k8s://…`` (under ``spark-submit`` the submitted master wins). UTC session time zone,
    Arrow for pandas transfers, UI off; in local mode the driver binds to 127.0.0.1.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")
    )
    if master.startswith("local"):
        # Python workers run this interpreter (its packages), unless PYSPARK_PYTHON says otherwise.
        # (pyspark reads PYSPARK_PYTHON when the context starts; default "python3" from PATH).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
        cores = master[len("local[") : -1] if master.startswith("local[") else "1"
        n = (os.cpu_count() or 2) if cores in ("*", "") else int(cores.split(",")[0])
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions or 4 * n))
    elif shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def quiet_pandas():
    """pyspark 4.x on pandas 3 warns on every conversion (its own FutureWarning and pandas'
    deprecation of ``copy=``); these are pyspark's to fix, so they are silenced around the
    conversions this package makes (the test suite turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        warnings.filterwarnings("ignore", message="Cannot infer the eval type")
        yield


def to_pandas(df) -> pd.DataFrame:
    """``df.toPandas()`` without pyspark's pandas-3 warnings."""
    with quiet_pandas():
        return df.toPandas()


def _spark_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "timestamp"
    return "string"


def events_to_spark(spark, events: pd.DataFrame, *, timestamp_col: str = "timestamp"):
    """A pandas event frame as a Spark DataFrame with the input order in ``_row``.

    Contract columns get their contract types; other columns are typed from their pandas dtype
    (object → string). The frame is not modified.
    """
    frame = pd.DataFrame(index=range(len(events)))
    schema = []
    for column in events.columns:
        values = events[column].reset_index(drop=True)
        kind = EVENT_TYPES.get(column) or _spark_type(values)
        if column == timestamp_col or kind == "timestamp":
            stamps = pd.to_datetime(values, utc=True)
            micros = stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)
            frame[column] = pd.array(np.where(stamps.isna(), None, micros), dtype="Int64")
            schema.append(f"`{column}` bigint")
            continue
        if kind == "string":
            frame[column] = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
        elif kind == "double":
            frame[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            frame[column] = values
        schema.append(f"`{column}` {kind}")
    frame[ROW] = np.arange(len(events), dtype=np.int64)
    schema.append(f"`{ROW}` bigint")
    from pyspark.sql import functions as F

    with quiet_pandas():
        df = spark.createDataFrame(frame, schema=", ".join(schema))
    for column in events.columns:
        if (
            column == timestamp_col
            or (EVENT_TYPES.get(column) or _spark_type(events[column])) == "timestamp"
        ):
            df = df.withColumn(column, F.timestamp_micros(F.col(column)))
    return df


def read_events(spark, path: str):
    """Events exported by :func:`personapulse.spark.export.export_events` (Parquet)."""
    return spark.read.parquet(path)
