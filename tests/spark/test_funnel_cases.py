"""The funnel's shared table of reference cases (tests/journeys/test_funnels_reference.py) run on
both engines: the naive per-person reading of the rules decides, each engine must agree.

On Spark each configuration runs once over the six random logs together (persons prefixed by
seed, so they stay distinct): a Spark job costs seconds, a person's funnel never looks at
another person, and the reference is computed on the same combined log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personapulse.journeys import Exclusion, FunnelStep
from personapulse.journeys import funnel as local_funnel
from tests.journeys.test_funnels_reference import (
    CONFIGS,
    STEPS,
    random_events,
    reference,
    reference_any_order,
)

pytestmark = [pytest.mark.spark]


@pytest.fixture(scope="module")
def combined(spark):
    from personapulse.spark import events_to_spark

    frames = [
        random_events(seed).assign(person_id=lambda f, s=seed: f"s{s}:" + f["person_id"])
        for seed in range(6)
    ]
    frame = pd.concat(frames, ignore_index=True)
    sdf = events_to_spark(spark, frame).cache()
    yield frame, sdf
    sdf.unpersist()


def _run(engine, frame, sdf, **kwargs):
    if engine == "local":
        return local_funnel(frame, **kwargs)
    from personapulse.spark import funnel

    return funnel(sdf, buckets=2, **kwargs)


@pytest.mark.parametrize("engine", ["local", "spark"])
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: f"{c['order']}-{c['mode']}-{len(c['exclusions'])}x"
)
def test_funnel_matches_the_reference_on_each_engine(engine, config, combined):
    frame, sdf = combined
    expected_counts, expected_excluded, expected_avg = reference(frame, **config)
    result = _run(
        engine,
        frame,
        sdf,
        steps=[FunnelStep(event=name) for name in STEPS],
        order=config["order"],
        window=None if config["window_min"] is None else pd.Timedelta(minutes=config["window_min"]),
        step_windows=[
            None if w is None else pd.Timedelta(minutes=w) for w in config["step_windows_min"]
        ],
        exclusions=[Exclusion(FunnelStep(event=x), a, b) for x, a, b in config["exclusions"]],
        exclusion_mode=config["mode"],
    )
    assert result.steps["count"].tolist() == expected_counts
    assert result.persons_excluded == expected_excluded
    np.testing.assert_allclose(
        result.steps["avg_time_to_convert_s"].to_numpy(dtype=float), expected_avg
    )


@pytest.mark.parametrize("engine", ["local", "spark"])
@pytest.mark.parametrize("window_min", [None, 6])
def test_any_order_matches_the_reference_on_each_engine(engine, window_min, combined):
    frame, sdf = combined
    expected_counts, expected_avg = reference_any_order(frame, window_min)
    result = _run(
        engine,
        frame,
        sdf,
        steps=STEPS,
        order="any",
        window=None if window_min is None else pd.Timedelta(minutes=window_min),
    )
    assert result.steps["count"].tolist() == expected_counts
    np.testing.assert_allclose(
        result.steps["avg_time_to_convert_s"].to_numpy(dtype=float), expected_avg
    )
