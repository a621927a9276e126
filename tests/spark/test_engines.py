"""The Spark engine against the single-machine engine on a demo store (counts exact, ARI ≥ .95).

One demo store of 400 visitors (~50,000 events, five planted archetypes, anonymous visitors,
ties, coupons, exclusions to hit) is exported to Parquet and read by Spark; every stage is run on
both engines and compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from personapulse import journeys as local
from personapulse.config import load_settings
from personapulse.demo import DemoConfig
from personapulse.services import personas as persona_service
from personapulse.services.demo_load import load_demo
from personapulse.spark.session import quiet_pandas, to_pandas
from personapulse.store.frames import load_events

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, spark):
    from personapulse.spark import export_events, read_events
    from webhooks import create_app

    path = tmp_path_factory.mktemp("spark-demo")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path / 'demo.sqlite'}"})
    store = app.extensions["personapulse.store"]
    load_demo(store, DemoConfig(users=400, seed=5), load_settings())
    exported = export_events(store.engine, path / "events", chunk_events=20_000)
    assert exported["files"] >= 2  # several time windows: the chunked export is exercised
    events = load_events(store.engine, properties=("feature",))
    assert exported["events"] == len(events) > 40_000
    sdf = read_events(spark, str(path / "events")).cache()
    yield store, events, sdf
    sdf.unpersist()
    store.dispose()


def test_sessions_match(demo):
    from personapulse.spark import sessionize

    _, events, sdf = demo
    for split in (False, True):
        expected = local.sessionize(events, split_on_source_session=split)
        got = (
            to_pandas(
                sessionize(sdf, split_on_source_session=split).select(
                    "event_id", "_row", "session_index", "session_key"
                )
            )
            .set_index("event_id")
            .reindex(expected["event_id"])
        )
        assert got["_row"].is_unique and got["_row"].notna().all()
        assert (got["session_index"].to_numpy() == expected["session_index"].to_numpy()).all()
        # Same partition of rows into sessions (keys differ in kind, not in grouping).
        pairs = pd.DataFrame(
            {"a": expected["session_key"].to_numpy(), "b": got["session_key"].to_numpy()}
        ).drop_duplicates()
        assert pairs["a"].is_unique and pairs["b"].is_unique
        assert len(pairs) == expected["session_key"].nunique()


def test_features_match(demo, spark):
    from personapulse.spark import store_features

    store, _, sdf = demo
    expected = persona_service.compute_features(store.engine).sort_index()
    got = store_features(spark, store.engine, sdf)
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)
    assert np.array_equal(np.isnan(got.to_numpy()), np.isnan(expected.to_numpy()))
    # What real-time assignment later needs from the fit is recorded the same way too.
    assert got.attrs["population"] == expected.attrs["population"]


def test_personas_ari_and_parallel_assignment(demo, spark):
    from personapulse.personas import PersonaConfig, fit_personas
    from personapulse.spark import assign_personas, store_features

    store, _, sdf = demo
    config = PersonaConfig(k_max=6, bootstrap=2, random_state=0)
    expected = persona_service.compute_features(store.engine).sort_index()
    got = store_features(spark, store.engine, sdf)
    local_fit = fit_personas(expected, config=config)
    spark_fit = fit_personas(got, config=config)
    a = local_fit.assignments.set_index("person_id")["persona_id"]
    b = spark_fit.assignments.set_index("person_id")["persona_id"].reindex(a.index)
    assert adjusted_rand_score(a, b) >= 0.95

    with quiet_pandas():
        features_df = spark.createDataFrame(got.reset_index())
    scored = (
        to_pandas(assign_personas(features_df, spark_fit.state, spark_fit.persona_ids))
        .set_index("person_id")
        .reindex(got.index)
    )
    proba = spark_fit.model.predict_proba(got)
    assert (
        scored["persona_id"].to_numpy() == np.asarray(spark_fit.persona_ids)[proba.argmax(1)]
    ).all()
    np.testing.assert_allclose(scored["probability"].to_numpy(), proba.max(axis=1), rtol=1e-9)


def _local_steps(events):
    with_sessions = local.sessionize(events)
    channels = local.session_channels(with_sessions).set_index("session_key")["channel"]
    with_sessions["channel"] = channels.reindex(with_sessions["session_key"]).to_numpy()
    return local.to_steps(with_sessions)


def test_steps_transitions_and_paths_match(demo):
    from personapulse.spark import to_steps, top_paths, transitions

    store, events, sdf = demo
    expected_steps = _local_steps(events)
    steps = to_steps(sdf).cache()
    got_steps = to_pandas(steps).sort_values(["person_id", "step_index"]).reset_index(drop=True)
    want = (
        expected_steps.assign(
            person_id=expected_steps["person_id"].astype(str),
            step=expected_steps["step"].astype(str),
        )
        .sort_values(["person_id", "step_index"])
        .reset_index(drop=True)
    )
    assert got_steps["step"].tolist() == want["step"].tolist()
    assert got_steps["session_index"].tolist() == want["session_index"].tolist()
    assert got_steps["channel"].tolist() == want["channel"].astype(object).tolist()

    assignments = persona_service.compute_features(store.engine).index.to_frame(index=False)
    assignments["persona_id"] = np.where(np.arange(len(assignments)) % 3 == 0, "pa", "pb")
    for kwargs in (
        {"top": None, "max_step": None},
        {"top": 25, "max_step": 6, "by_session": True, "exit_label": "(exit)"},
        {"top": 10, "assignments": assignments},
    ):
        expected = local.transitions(expected_steps, **kwargs)
        got = transitions(steps, **kwargs)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)

    for kwargs in (
        {"across_sessions": True},
        {"across_sessions": False, "assignments": assignments},
    ):
        expected = local.top_paths(expected_steps, top=None, **kwargs)
        got = top_paths(steps, top=None, **kwargs)
        keys = [c for c in ("persona_id", "path") if c in expected.columns]
        cols = keys + ["users", "count", "share", "sessions", "steps"]
        pd.testing.assert_frame_equal(
            got[cols].sort_values(keys).reset_index(drop=True),
            expected[cols].sort_values(keys).reset_index(drop=True),
            check_dtype=False,
        )
        # Ranks agree wherever (users, count) is not tied.
        merged = got.merge(expected, on=keys, suffixes=("_s", "_l"))
        untied = ~merged.duplicated(keys[:-1] + ["users_l", "count_l"], keep=False)
        assert (merged.loc[untied, "rank_s"] == merged.loc[untied, "rank_l"]).all()
    steps.unpersist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": "7d", "exclusions": ["Coupon Applied"], "breakdown": "persona"},
        {"window": "2h", "step_windows": [None, "30m", None], "exclusion_mode": "mixpanel",
         "exclusions": [{"page_path": "/pricing", "from_step": 2, "to_step": 4}], "breakdown": "channel"},
        {"window": "1d", "order": "strict"},
        {"window": None, "order": "any"},
    ],
    ids=["ordered-posthog-persona", "ordered-mixpanel-channel", "strict", "any"],
)  # fmt: skip
def test_funnels_match(demo, kwargs):
    from personapulse.spark import funnel

    store, events, sdf = demo
    assignments = None
    if kwargs.get("breakdown") == "persona":
        people = persona_service.compute_features(store.engine).index.to_frame(index=False)
        people = people.iloc[: len(people) * 2 // 3]  # a third stays (unassigned)
        people["persona_id"] = np.where(np.arange(len(people)) % 2 == 0, "pa", "pb")
        assignments = people
    steps = ["/", "/recipes/:id", "Checkout Started", "Order Completed"]
    if kwargs.get("order") == "strict":
        # Strict order needs consecutive events: the commonest pair of consecutive track events.
        # (events is in (person, time) order; "strict" counts page views as interruptions.)
        following = events.groupby("person_id")["event"].shift(-1)
        both = (events["type"] == "track") & (
            events.groupby("person_id")["type"].shift(-1) == "track"
        )
        pairs = pd.Series(list(zip(events["event"][both], following[both], strict=True)))
        pairs = pairs[[a != b and isinstance(b, str) for a, b in pairs]]
        steps = list(pairs.value_counts().index[0])
    expected = local.funnel(events, steps, assignments=assignments, **kwargs)
    got = funnel(sdf, steps, assignments=assignments, **kwargs)
    assert expected.steps["count"].iloc[-1] > 0  # the funnel converts somebody
    pd.testing.assert_frame_equal(got.steps, expected.steps, check_dtype=False)
    assert got.persons_excluded == expected.persons_excluded
    assert got.persons_entered == len(expected.persons)
    if expected.breakdown is not None:
        pd.testing.assert_frame_equal(got.breakdown, expected.breakdown, check_dtype=False)
    got_dict, expected_dict = got.to_dict(), expected.to_dict()
    assert got_dict.keys() == expected_dict.keys()
    persons = to_pandas(got.persons).set_index("person_id").sort_index()
    want = expected.persons.set_index("person_id").sort_index()
    assert (persons["steps_reached"] == want["steps_reached"]).all()


def test_refresh_with_the_spark_engine_writes_the_same_personas(demo, tmp_path):
    """`personapulse refresh --engine spark` (export → Spark features → fit → store) against the
    single-machine refresh of the same store: a new current version, everyone assigned, the same
    partition of people (ARI ≥ .95)."""
    from click.testing import CliRunner
    from sqlalchemy import text

    from personapulse.cli import main

    store, _, _ = demo
    params = ["--k-max", "6", "--seed", "0"]
    local_summary = persona_service.refresh(store, {"k_max": 6, "random_state": 0})
    url = str(store.engine.url)
    result = CliRunner().invoke(
        main,
        ["--database-url", url, "refresh", "--engine", "spark", "--master", "local[2]", *params],
    )
    assert result.exit_code == 0, result.output
    assert "persona version" in result.output
    with store.engine.connect() as conn:
        current = conn.execute(
            text("SELECT id FROM persona_versions WHERE status = 'current'")
        ).scalar_one()
        assert current != local_summary["version_id"]

        def assigned(version):
            rows = conn.execute(
                text("SELECT person_id, persona_id FROM assignments WHERE version_id = :v"),
                {"v": version},
            ).fetchall()
            return pd.Series({r.person_id: r.persona_id for r in rows})

        a, b = assigned(local_summary["version_id"]), assigned(current)
    assert len(b) == len(a) == local_summary["users"]
    assert adjusted_rand_score(a.sort_index(), b.reindex(a.sort_index().index)) >= 0.95
    # Visitors outside the fit (anonymous ones) were scored in Spark's executors: their stored
    # personas are the fitted model's most likely ones for their (equal) single-machine features.
    version, model, persona_ids = persona_service._model_for(store.engine)
    assert version["version_id"] == current
    features = persona_service.compute_features(store.engine)
    visitors = features.index[features.index.str.startswith("anon:")]
    assert len(visitors) > 0
    expected = np.asarray(persona_ids)[model.predict_proba(features.loc[visitors]).argmax(axis=1)]
    assert (b.reindex(visitors).to_numpy() == expected).all()
