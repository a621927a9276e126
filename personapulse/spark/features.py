"""Per-user features on Spark: the single-machine definitions, computed per group of persons.

Each group of whole persons runs :func:`personapulse.features.build_user_features` in a grouped
pandas UDF; the few quantities that depend on everyone are computed once in Spark and fixed
for every group, so each person's row equals the single-machine row:

- ``now`` (recency and tenure anchor): the latest event overall;
- page sections: the sections holding enough of all page views (``FeatureConfig`` rules),
  passed as ``config.page_sections``;
- the feature-adoption denominator (distinct features anyone used): every group also gets
  one extra "reference" person who used each feature (and each track event) seen anywhere;
  that person's row is dropped.

Reviews, conversations and review classes are small next to events; they are shipped to every
group as pandas frames (the kernel keeps only its persons' rows).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from personapulse.features import FeatureConfig, build_user_features, slugify, top_page_sections
from personapulse.spark.session import to_pandas

REFERENCE_PERSON = "\x00personapulse:spark:reference"


def _global_page_sections(df, config: FeatureConfig, type_col: str, page_path_col: str):
    from pyspark.sql import functions as F

    if config.page_sections is not None:
        return tuple(config.page_sections)
    if type_col not in df.columns or page_path_col not in df.columns:
        return None
    paths = to_pandas(
        df.where(F.col(type_col).isin("page", "screen"))
        .groupBy(page_path_col)
        .agg(F.count(F.lit(1)).alias("count"))
    )
    if paths.empty:
        return None
    paths[page_path_col] = paths[page_path_col].where(paths[page_path_col].notna(), "/")
    paths["section"] = paths[page_path_col].map(
        lambda p: slugify(str(p).strip("/").split("/")[0] or "home")
    )
    return top_page_sections(paths.groupby("section")["count"].sum(), config=config)


def user_features(
    df,
    *,
    reviews: pd.DataFrame | None = None,
    conversations: pd.DataFrame | None = None,
    review_classes: pd.DataFrame | None = None,
    config: FeatureConfig | None = None,
    now: pd.Timestamp | None = None,
    buckets: int | None = None,
    with_population: bool = False,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    event_col: str = "event",
    type_col: str = "type",
    page_path_col: str = "page_path",
    feature_col: str = "feature",
):
    """Spark twin of :func:`personapulse.features.build_user_features`.

    Input: a Spark event DataFrame (``events_to_spark`` / ``read_events``); optional pandas
    ``reviews``, ``conversations``, ``review_classes`` as for the single-machine function.
    Output: a Spark DataFrame ``person_id`` + one double column per feature, in the
    single-machine column order (``.toPandas().set_index("person_id")`` gives its frame).
    ``with_population=True`` returns ``(features, population)``: the single-machine
    ``attrs["population"]`` dict (see :class:`personapulse.features.FeaturePopulation`).
    """
    from pyspark.sql import functions as F

    from personapulse.spark._kernel import per_person

    config = config or FeatureConfig()
    valid = df.where(F.col(person_col).isNotNull() & F.col(timestamp_col).isNotNull())
    if now is None:
        latest = valid.agg(F.max(F.unix_micros(F.col(timestamp_col)))).first()[0]
        now = pd.Timestamp(int(latest or 0), unit="us", tz="UTC")
    sections = _global_page_sections(valid, config, type_col, page_path_col)
    fixed = replace(config, page_sections=sections) if sections is not None else config

    # The reference person: one event per track-event name and per used feature seen anywhere.
    track_names: list[str] = []
    if type_col in df.columns:
        track_names = [
            r[0]
            for r in valid.where(F.col(type_col) == "track")
            .select(event_col)
            .where(F.col(event_col).isNotNull())
            .distinct()
            .collect()
        ]
    used_features: list[str] = []
    if feature_col in df.columns:
        used_features = [
            r[0]
            for r in valid.where(F.col(event_col) == config.feature_event)
            .select(feature_col)
            .where(F.col(feature_col).isNotNull())
            .distinct()
            .collect()
        ]
    columns = [c for c in df.columns if not c.startswith("_")]
    reference_rows = [{event_col: name, type_col: "track"} for name in sorted(track_names)] + [
        {event_col: config.feature_event, type_col: "track", feature_col: value}
        for value in sorted(used_features)
    ]
    if sections is not None:
        # One page view, so every group has the (fixed) page-section columns.
        reference_rows.append({event_col: None, type_col: "page", page_path_col: "/"})
    if not reference_rows:
        reference_rows = [{event_col: None}]

    def reference_frame(template: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(reference_rows).reindex(columns=template.columns)
        frame[person_col] = REFERENCE_PERSON
        frame[timestamp_col] = now
        return frame.astype(template.dtypes.to_dict(), errors="ignore")

    def features_of(frame: pd.DataFrame) -> pd.DataFrame:
        frame = pd.concat([reference_frame(frame), frame], ignore_index=True)
        return build_user_features(
            frame,
            reviews=reviews,
            conversations=conversations,
            review_classes=review_classes,
            config=fixed,
            now=now,
            person_col=person_col,
            timestamp_col=timestamp_col,
            event_col=event_col,
            type_col=type_col,
            page_path_col=page_path_col,
            feature_col=feature_col,
        )

    # The output columns: what the kernel produces for the reference person alone.
    template = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    template[timestamp_col] = pd.Series([], dtype="datetime64[ns, UTC]")
    if "revenue" in template.columns:
        template["revenue"] = template["revenue"].astype(float)
    reference = features_of(template)
    names = list(reference.columns)
    # The reference person alone sees every population part (now, sections, adoption
    # denominator, pain points from the shipped review classes), so its run records them.
    population = reference.attrs["population"]
    schema = ", ".join([f"`{person_col}` string"] + [f"`{name}` double" for name in names])

    def kernel(frame: pd.DataFrame) -> pd.DataFrame:
        table = features_of(frame).drop(index=REFERENCE_PERSON, errors="ignore")
        table = table.reindex(columns=names)
        out = table.reset_index(names=person_col)
        out[person_col] = out[person_col].astype(str)
        return out.astype({name: np.float64 for name in names})

    features = per_person(
        valid,
        kernel,
        schema,
        columns=columns,
        buckets=buckets,
        person_col=person_col,
        timestamp_col=timestamp_col,
    )
    return (features, population) if with_population else features
