"""Spark engine (optional extra ``personapulse[spark]``): the heavy stages on Apache Spark.

Same features, sessions, steps, paths, transitions, funnels and personas as the single-machine
engine, on Spark DataFrames of events (Parquet or a table). See docs/spark.md.
"""

from personapulse.spark.export import export_events
from personapulse.spark.features import user_features
from personapulse.spark.journeys import (
    SparkFunnelResult,
    funnel,
    to_steps,
    top_paths,
    transitions,
)
from personapulse.spark.personas import assign_personas, refresh, store_features
from personapulse.spark.session import events_to_spark, read_events, spark_session
from personapulse.spark.sessions import sessionize

__all__ = [
    "SparkFunnelResult",
    "assign_personas",
    "events_to_spark",
    "export_events",
    "funnel",
    "read_events",
    "refresh",
    "sessionize",
    "spark_session",
    "store_features",
    "to_steps",
    "top_paths",
    "transitions",
    "user_features",
]
