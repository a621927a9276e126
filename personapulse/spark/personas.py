"""Personas with the Spark engine: features in Spark, the fit on the driver, assignment in parallel.

The persona fit itself already works on a sample (``PersonaConfig.sample_size``, 50,000 users
by default), so it runs on the driver with the single-machine engine; what grows with the data
— scanning events into per-user features and scoring every user against the fitted model — runs
in Spark.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from personapulse.features import FeatureConfig


def assign_personas(
    features, state: dict, persona_ids: list[str], *, person_col: str = "person_id"
):
    """Score every user of a Spark features frame (``user_features``) in parallel.

    ``state``: ``PersonaModel.to_state()`` (plain JSON, shipped to the workers);
    ``persona_ids``: the persona id of each model component, in component order.
    Output: a Spark DataFrame ``person_id, persona_id, probability, probabilities`` (JSON of
    persona id → probability), the same numbers as ``PersonaModel.predict_proba``.
    """
    from personapulse.personas import PersonaModel
    from personapulse.spark.session import quiet_pandas

    ids = np.asarray(persona_ids, dtype=object)

    def score(frames):
        model = PersonaModel.from_state(state)
        for frame in frames:
            if frame.empty:
                continue
            proba = model.predict_proba(frame.drop(columns=[person_col]))
            best = proba.argmax(axis=1)
            yield pd.DataFrame(
                {
                    person_col: frame[person_col].astype(str).to_numpy(dtype=object),
                    "persona_id": ids[best],
                    "probability": proba[np.arange(len(best)), best],
                    "probabilities": [
                        orjson.dumps(dict(zip(persona_ids, row.tolist(), strict=True))).decode()
                        for row in proba
                    ],
                }
            )

    schema = f"`{person_col}` string, persona_id string, probability double, probabilities string"
    with quiet_pandas():
        return features.mapInPandas(score, schema)


def store_features(spark, engine, events, *, buckets: int | None = None) -> pd.DataFrame:
    """The per-user features ``services.personas.compute_features`` computes, from Spark events.

    Reviews, conversations and classified documents are read from the store (they are small
    next to events); the events come from ``events`` (a Spark DataFrame, e.g. ``read_events``).
    """
    features, population = _spark_store_features(engine, events, buckets=buckets)
    return _collected(features, population)


def _collected(features, population: dict) -> pd.DataFrame:
    from personapulse.spark.session import to_pandas

    table = to_pandas(features).set_index("person_id").sort_index()
    table.attrs["population"] = population
    return table


def _spark_store_features(engine, events, *, buckets: int | None = None):
    """``store_features`` left in Spark: ``(Spark features frame, population dict)``."""
    from personapulse.services.reviews import classified_documents
    from personapulse.spark.features import user_features
    from personapulse.store.frames import load_conversations, load_reviews

    documents = classified_documents(engine)
    review_classes = documents[documents["doc_kind"] == "review"].rename(
        columns={"doc_id": "review_id"}
    )[["review_id", "person_id", "sentiment_score", "pain_points"]]
    return user_features(
        events,
        reviews=load_reviews(engine),
        conversations=load_conversations(engine),
        review_classes=review_classes,
        config=FeatureConfig(),
        buckets=buckets,
        with_population=True,
    )


def _executor_scoring(features):
    """A ``score_others`` for the store's refresh: the people the fit did not see are scored by
    ``assign_personas`` in Spark's executors; only their probabilities come back."""
    from personapulse.spark.session import quiet_pandas, to_pandas

    def score(state: dict, persona_ids: list[str], person_ids: pd.Index) -> np.ndarray:
        wanted = set(map(str, person_ids))
        with quiet_pandas():
            wanted_frame = features.sparkSession.createDataFrame(
                pd.DataFrame({"person_id": sorted(wanted)})
            )
        # Only the wanted people are scored and brought back (the fit already scored the rest).
        others = features.join(wanted_frame, "person_id", "left_semi")
        scored = to_pandas(
            assign_personas(others, state, persona_ids).select("person_id", "probabilities")
        ).set_index("person_id")
        missing = wanted.difference(scored.index)
        if missing:
            raise RuntimeError(
                f"Spark scored no row for {len(missing)} people, e.g. {min(missing)}"
            )
        rows = scored["probabilities"].reindex(list(map(str, person_ids)))
        return np.array(
            [[orjson.loads(row)[pid] for pid in persona_ids] for row in rows], dtype=float
        )

    return score


def refresh(
    store,
    params: dict[str, Any] | None = None,
    *,
    master: str = "local[*]",
    events_path: str | Path | None = None,
    settings: dict | None = None,
    buckets: int | None = None,
    spark=None,
) -> dict:
    """``personapulse refresh --engine spark``: the store's refresh with features from Spark.

    ``events_path``: Parquet events (``personapulse export-events``); by default the store's
    events are exported to a temporary directory first. The fit (on a sample), identity
    matching, profiles, narratives and the versioned write are the single-machine service's
    (``personapulse.services.personas.refresh``), so the service and its faces read the result
    unchanged; the people outside the fit are scored in Spark's executors (``assign_personas``).
    """
    from personapulse.services.personas import refresh as refresh_store
    from personapulse.spark.export import export_events
    from personapulse.spark.session import read_events, spark_session

    spark = spark or spark_session(master)
    with tempfile.TemporaryDirectory(prefix="personapulse-events-") as scratch:
        path = events_path
        if path is None:
            path = Path(scratch) / "events"
            export_events(store.engine, path)
        events = read_events(spark, str(path))
        spark_features, population = _spark_store_features(store.engine, events, buckets=buckets)
        # Kept: the fit reads the collected table, the executors score the rest from this one.
        spark_features = spark_features.cache()
        try:
            features = _collected(spark_features, population)
            if len(features) < 20:
                raise ValueError(
                    f"{len(features)} people have behavioural data; "
                    "at least 20 are needed to find personas"
                )
            summary = refresh_store(
                store,
                params,
                settings=settings,
                features=features,
                score_others=_executor_scoring(spark_features),
            )
        finally:
            spark_features.unpersist()
    summary["engine"] = "spark"
    return summary
