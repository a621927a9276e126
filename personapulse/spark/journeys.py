"""Steps, paths, transitions and funnels on Spark, with the single-machine semantics.

- ``transitions`` and the funnel's step table (counts, conversions, drop-offs, mean and exact
  median time to convert) are native Spark SQL (window functions and aggregates).
- Per-person sequential logic — funnel matching (order modes, windows, exclusions, one event
  per step, equal timestamps in order), cleaned steps and journey variants — runs the
  single-machine kernels of ``personapulse.journeys`` in grouped pandas UDFs
  (``applyInPandas``) on groups of whole persons (see ``_kernel.per_person``). Their results
  are per person, so splitting by person changes nothing; the global parts (totals, shares,
  ranking) are aggregated in Spark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from personapulse.journeys import (
    DEFAULT_CHANNEL_RULES,
    DEFAULT_CLEANING,
    FunnelStep,
    session_channels,
)
from personapulse.journeys import (
    funnel as local_funnel,
)
from personapulse.journeys import (
    sessionize as local_sessionize,
)
from personapulse.journeys import (
    to_steps as local_to_steps,
)
from personapulse.journeys import (
    top_paths as local_top_paths,
)
from personapulse.journeys.funnels import step_row
from personapulse.spark._kernel import BUCKET, per_person, to_micros
from personapulse.spark.session import ROW, quiet_pandas, to_pandas

UNASSIGNED = "(unassigned)"
_KEY_STRIDE = 1 << 40  # session keys: bucket * stride + the bucket's own key


def _spark_assignments(spark, assignments, person_col: str, persona_col: str):
    if assignments is None:
        return None
    if isinstance(assignments, pd.DataFrame):
        frame = assignments[[person_col, persona_col]].astype(object)
        frame = frame.where(frame.notna(), None).map(lambda v: v if v is None else str(v))
        with quiet_pandas():
            return spark.createDataFrame(
                frame, schema=f"`{person_col}` string, `{persona_col}` string"
            )
    return assignments.select(person_col, persona_col)


def _with_channels(frame: pd.DataFrame, gap_minutes: float, rules, person_col, timestamp_col):
    events = local_sessionize(
        frame, gap_minutes=gap_minutes, person_col=person_col, timestamp_col=timestamp_col
    )
    for column in ("referrer", "utm_source", "utm_medium"):
        if column not in events.columns:
            events[column] = None
    channels = session_channels(
        events, rules=rules, person_col=person_col, timestamp_col=timestamp_col
    )
    lookup = pd.Series(
        channels["channel"].to_numpy(dtype=object), index=channels["session_key"].to_numpy()
    )
    events["channel"] = lookup.reindex(events["session_key"].to_numpy()).to_numpy(dtype=object)
    return events


def to_steps(
    df,
    *,
    sessions: bool = True,
    gap_minutes: float = 30,
    channel_rules: Sequence | None = None,
    buckets: int | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    **options: Any,
):
    """Spark twin of :func:`personapulse.journeys.to_steps` (``options``: its keyword arguments).

    With ``sessions=True`` the events are first sessionized (``gap_minutes``) and each session
    gets its channel (``channel_rules``), as ``sessionize`` + ``session_channels`` would, so
    the steps carry ``session_key, session_index, channel``. Output: a Spark DataFrame
    ``person_id, timestamp, step, step_index[, session_key, session_index, channel]``;
    ``session_key`` is unique over the output and consecutive within a person.
    """
    rules = DEFAULT_CHANNEL_RULES if channel_rules is None else channel_rules
    extra = ", session_key bigint, session_index bigint, channel string" if sessions else ""
    schema = (
        f"`{person_col}` string, `{timestamp_col}` bigint, step string, step_index bigint{extra}"
    )

    def kernel(frame: pd.DataFrame) -> pd.DataFrame:
        bucket = int(frame.pop(BUCKET).iloc[0]) if BUCKET in frame.columns else 0
        if sessions:
            frame = _with_channels(frame, gap_minutes, rules, person_col, timestamp_col)
        steps = local_to_steps(frame, person_col=person_col, timestamp_col=timestamp_col, **options)
        out = pd.DataFrame(
            {
                person_col: steps[person_col].astype(str).to_numpy(dtype=object),
                timestamp_col: to_micros(steps[timestamp_col]).to_numpy(),
                "step": steps["step"].astype(str).to_numpy(dtype=object),
                "step_index": steps["step_index"].to_numpy(dtype=np.int64),
            }
        )
        if sessions:
            out["session_key"] = (
                steps["session_key"].to_numpy(dtype=np.int64) + bucket * _KEY_STRIDE
            )
            out["session_index"] = steps["session_index"].to_numpy(dtype=np.int64)
            out["channel"] = steps["channel"].astype(object).to_numpy()
        return out

    from pyspark.sql import functions as F

    result = per_person(
        df,
        kernel,
        schema,
        buckets=buckets,
        person_col=person_col,
        timestamp_col=timestamp_col,
        keep_bucket=True,
    )
    return result.withColumn(timestamp_col, F.timestamp_micros(F.col(timestamp_col)))


def top_paths(
    steps,
    *,
    assignments=None,
    top: int | None = 10,
    across_sessions: bool = True,
    buckets: int | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Spark twin of :func:`personapulse.journeys.top_paths` over Spark steps (``to_steps``).

    Variants are rendered per group of persons by the single-machine kernel and summed in
    Spark: ``users``, ``count``, ``share``, ``sessions``, ``steps`` and the path text equal the
    single-machine ones. Ties (same users and count) rank by path text here, by first
    appearance on one machine. Output: a pandas frame with ``top_paths``' columns.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = steps.sparkSession
    persona_df = _spark_assignments(spark, assignments, person_col, persona_col)
    source = steps
    with_persona = persona_df is not None
    if with_persona:
        source = steps.join(persona_df, on=person_col, how="inner")
    head = f"`{persona_col}` string, " if with_persona else ""
    schema = f"{head}path string, users bigint, count bigint, sessions bigint, steps bigint"

    def kernel(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=[BUCKET], errors="ignore")
        local_assignments = None
        if with_persona:
            local_assignments = frame[[person_col, persona_col]].drop_duplicates(person_col)
            frame = frame.drop(columns=[persona_col])
        table = local_top_paths(
            frame,
            assignments=local_assignments,
            top=None,
            across_sessions=across_sessions,
            person_col=person_col,
            timestamp_col=timestamp_col,
            persona_col=persona_col,
        )
        cols = ([persona_col] if with_persona else []) + [
            "path",
            "users",
            "count",
            "sessions",
            "steps",
        ]
        return table[cols]

    variants = per_person(
        source,
        kernel,
        schema,
        buckets=buckets,
        person_col=person_col,
        timestamp_col=timestamp_col,
        order_col="step_index",
        drop=(),
    )
    group = [persona_col] if with_persona else []
    summed = variants.groupBy(*group, "path").agg(
        F.sum("users").alias("users"),
        F.sum("count").alias("count"),
        F.first("sessions").alias("sessions"),
        F.first("steps").alias("steps"),
    )
    totals = source.groupBy(*group).agg(F.countDistinct(person_col).alias("__total"))
    summed = summed.join(totals, on=group, how="inner") if group else summed.crossJoin(totals)
    ranking = Window.partitionBy(*group).orderBy(
        F.col("users").desc(), F.col("count").desc(), F.col("path").asc()
    )
    ranked = summed.withColumn("rank", F.row_number().over(ranking)).withColumn(
        "share", F.col("users") / F.col("__total")
    )
    if top is not None:
        ranked = ranked.where(F.col("rank") <= top)
    columns = group + ["rank", "path", "users", "count", "share", "sessions", "steps"]
    table = to_pandas(ranked.select(*columns))
    table = table.sort_values(group + ["rank"], kind="stable").reset_index(drop=True)
    for column in ("rank", "users", "count", "sessions", "steps"):
        table[column] = table[column].astype(np.int64)
    return table


def transitions(
    steps,
    *,
    assignments=None,
    top: int | None = 50,
    max_step: int | None = 10,
    by_session: bool = False,
    exit_label: str | None = None,
    person_col: str = "person_id",
    session_col: str = "session_key",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Spark twin of :func:`personapulse.journeys.transitions`, in native Spark SQL.

    Input: Spark steps (``to_steps``). Output: a pandas frame with the same columns, rows and
    order as on one machine ([persona_id], step_number, source, target, count, users).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = steps.sparkSession
    partition = [person_col] + ([session_col] if by_session else [])
    sequence = Window.partitionBy(*partition).orderBy("step_index")
    frame = steps.select(
        person_col,
        "step",
        "step_index",
        *([session_col] if by_session else []),
    )
    frame = frame.withColumn("step_number", F.row_number().over(sequence).cast("bigint"))
    frame = frame.withColumn("target", F.lead("step").over(sequence))
    if exit_label is None:
        frame = frame.where(F.col("target").isNotNull())
    else:
        frame = frame.withColumn("target", F.coalesce(F.col("target"), F.lit(exit_label)))
    if max_step is not None:
        frame = frame.where(F.col("step_number") <= max_step)
    frame = frame.withColumnRenamed("step", "source")
    group = ["step_number", "source", "target"]
    persona_df = _spark_assignments(spark, assignments, person_col, persona_col)
    if persona_df is not None:
        frame = frame.join(persona_df.where(F.col(persona_col).isNotNull()), person_col, "inner")
        group = [persona_col, *group]
    edges = frame.groupBy(*group).agg(
        F.count(F.lit(1)).alias("count"), F.countDistinct(person_col).alias("users")
    )
    personas = [persona_col] if persona_df is not None else []
    order = [F.col("count").desc(), F.col("step_number"), F.col("source"), F.col("target")]
    if top is not None:
        cut = Window.partitionBy(*personas).orderBy(*order) if personas else None
        if cut is not None:
            edges = edges.withColumn("__n", F.row_number().over(cut)).where(F.col("__n") <= top)
        else:
            edges = edges.orderBy(*order).limit(top)
    columns = personas + ["step_number", "source", "target", "count", "users"]
    table = to_pandas(edges.select(*columns))
    table = table.sort_values(
        personas + ["count", "step_number", "source", "target"],
        ascending=[True] * len(personas) + [False, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    for column in ("step_number", "count", "users"):
        table[column] = table[column].astype(np.int64)
    return table


@dataclass
class SparkFunnelResult:
    """Result of :func:`funnel` on Spark: the same tables as ``FunnelResult``.

    ``steps`` / ``breakdown`` are small pandas frames; ``persons`` stays a Spark DataFrame
    (person_id, steps_reached, step_<k>_time[, breakdown column]), since it can hold millions.
    """

    steps: pd.DataFrame
    breakdown: pd.DataFrame | None
    persons: Any
    step_names: list[str]
    order: str
    window_seconds: float | None
    exclusion_mode: str
    persons_entered: int
    persons_excluded: int
    breakdown_by: str | None = None

    def to_frame(self) -> pd.DataFrame:
        if self.breakdown is None:
            return self.steps.copy()
        overall = self.steps.assign(**{self.breakdown_by: "all"})
        return pd.concat([overall[self.breakdown.columns], self.breakdown], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {
                    k: (None if isinstance(v, float) and math.isnan(v) else _plain(v))
                    for k, v in row.items()
                }
                for row in frame.to_dict(orient="records")
            ]

        return {
            "steps": records(self.steps),
            "step_names": list(self.step_names),
            "order": self.order,
            "window_seconds": self.window_seconds,
            "exclusion_mode": self.exclusion_mode,
            "persons_entered": int(self.persons_entered),
            "persons_excluded": int(self.persons_excluded),
            "breakdown_by": self.breakdown_by,
            "breakdown": None
            if self.breakdown is None
            else {
                str(value): records(group.drop(columns=[self.breakdown_by]))
                for value, group in self.breakdown.groupby(self.breakdown_by, sort=False)
            },
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _step_aggregates(k_steps: int, person_col: str) -> list:
    """Per step: people reaching it, mean and exact median seconds from the previous step."""
    from pyspark.sql import functions as F

    entered = F.col(person_col).isNotNull()
    aggregates = [F.sum(entered.cast("bigint")).alias("entered")]
    for k in range(k_steps):
        reached = entered & (F.col("steps_reached") >= k + 1)
        aggregates.append(F.sum(reached.cast("bigint")).alias(f"c{k}"))
        if k:
            delta = (F.col(f"step_{k + 1}_time") - F.col(f"step_{k}_time")) / 1e6
            kept = F.when(reached, delta)
            aggregates.append(F.avg(kept).alias(f"a{k}"))
            aggregates.append(F.percentile(kept, F.lit(0.5)).alias(f"m{k}"))
    return aggregates


def _step_rows(row, k_steps: int, names: list[str]) -> list[dict]:
    """The single-machine step table's rows from one aggregate row."""
    counts = [int((row[f"c{k}"] if row is not None else 0) or 0) for k in range(k_steps)]
    out = []
    for k in range(k_steps):
        count, previous, first = counts[k], counts[k - 1] if k else counts[k], counts[0]
        average = median = math.nan
        if k and count:
            average, median = float(row[f"a{k}"]), float(row[f"m{k}"])
        out.append(step_row(k, names[k], count, previous, first, average, median))
    return out


def funnel(
    df,
    steps: Sequence[str | Mapping | FunnelStep],
    *,
    window: str | pd.Timedelta | None = "7d",
    step_windows: Sequence | Mapping | None = None,
    order: str = "ordered",
    exclusions: Sequence = (),
    exclusion_mode: str = "posthog",
    breakdown: str | None = None,
    assignments=None,
    gap_minutes: float = 30,
    channel_rules: Sequence | None = None,
    replacements: Sequence[tuple[str, str]] = DEFAULT_CLEANING,
    buckets: int | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    event_col: str = "event",
    page_path_col: str = "page_path",
    persona_col: str = "persona_id",
) -> SparkFunnelResult:
    """Spark twin of :func:`personapulse.journeys.funnel` (same parameters and semantics).

    Matching runs the single-machine kernel per group of persons (grouped pandas UDF);
    the step tables are aggregated in Spark SQL (exact median via ``percentile``).
    ``assignments``: a pandas or Spark frame (person_id, persona_id).
    """
    from pyspark.sql import functions as F

    options = dict(
        window=window,
        step_windows=step_windows,
        order=order,
        exclusions=exclusions,
        exclusion_mode=exclusion_mode,
        gap_minutes=gap_minutes,
        channel_rules=channel_rules,
        replacements=replacements,
        person_col=person_col,
        timestamp_col=timestamp_col,
        event_col=event_col,
        page_path_col=page_path_col,
    )
    if breakdown == "persona" and assignments is None:
        raise ValueError("breakdown='persona' needs assignments")
    # Validate every argument on the driver exactly as the single-machine engine does.
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in df.columns if c != ROW})
    empty[timestamp_col] = pd.Series([], dtype="datetime64[ns, UTC]")
    probe = local_funnel(
        empty, steps, breakdown="channel" if breakdown == "channel" else None, **options
    )
    names = probe.step_names
    k_steps = len(names)
    channel = breakdown == "channel"
    times = ", ".join(f"step_{k + 1}_time bigint" for k in range(k_steps))
    schema = (
        f"`{person_col}` string, steps_reached bigint, {times}, channel string, __excluded bigint"
    )

    def kernel(frame: pd.DataFrame) -> pd.DataFrame:
        result = local_funnel(frame, steps, breakdown="channel" if channel else None, **options)
        persons = result.persons
        out = pd.DataFrame(
            {
                person_col: persons[person_col].astype(str).to_numpy(dtype=object),
                "steps_reached": persons["steps_reached"].to_numpy(dtype=np.int64),
            }
        )
        for k in range(k_steps):
            out[f"step_{k + 1}_time"] = to_micros(persons[f"step_{k + 1}_time"]).to_numpy()
        out["channel"] = persons["channel"].astype(object).to_numpy() if channel else None
        out["__excluded"] = 0
        summary = {c: [None] for c in out.columns}
        summary["__excluded"] = [int(result.persons_excluded)]
        return pd.concat([out, pd.DataFrame(summary)], ignore_index=True)

    rows = per_person(
        df, kernel, schema, buckets=buckets, person_col=person_col, timestamp_col=timestamp_col
    )
    if not channel:
        rows = rows.drop("channel")
    group = None
    if breakdown == "persona":
        persona_df = _spark_assignments(df.sparkSession, assignments, person_col, persona_col)
        rows = rows.join(persona_df.dropDuplicates([person_col]), person_col, "left")
        rows = rows.withColumn(persona_col, F.coalesce(F.col(persona_col), F.lit(UNASSIGNED)))
        group = persona_col
    elif channel:
        group = "channel"
    if group is not None:
        rows = rows.cache()
    # One pass for the overall table, the people entered and the people excluded.
    totals = rows.agg(F.sum("__excluded").alias("excluded"), *_step_aggregates(k_steps, person_col))
    total = totals.first()
    overall = pd.DataFrame(_step_rows(total, k_steps, names))
    excluded = int(total["excluded"] or 0)
    entered = int(total["entered"] or 0)
    breakdown_frame = None
    if group is not None:
        people = rows.where(F.col(person_col).isNotNull())
        grouped = people.groupBy(group).agg(*_step_aggregates(k_steps, person_col)).collect()
        parts = [
            {group: row[group], **entry}
            for row in grouped
            for entry in _step_rows(row, k_steps, names)
        ]
        if parts:
            breakdown_frame = (
                pd.DataFrame(parts)
                .sort_values([group, "step"], kind="stable")
                .reset_index(drop=True)
            )
        rows.unpersist()
    persons = rows.where(F.col(person_col).isNotNull()).drop("__excluded")
    for k in range(k_steps):
        column = f"step_{k + 1}_time"
        persons = persons.withColumn(column, F.timestamp_micros(F.col(column)))
    return SparkFunnelResult(
        steps=overall,
        breakdown=breakdown_frame,
        persons=persons,
        step_names=names,
        order=order,
        window_seconds=probe.window_seconds,
        exclusion_mode=exclusion_mode,
        persons_entered=int(entered),
        persons_excluded=excluded,
        breakdown_by=group,
    )
