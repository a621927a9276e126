import json

import numpy as np
import pandas as pd
import pytest

from personapulse.personas import FeaturePreprocessor


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "revenue": rng.lognormal(3, 1.2, 500),  # heavy right tail
            "score": rng.normal(0, 1, 500),  # symmetric, can be negative
            "share": rng.uniform(0, 1, 500),
        }
    )


def test_log_chosen_for_skewed_non_negative_only(frame):
    pre = FeaturePreprocessor().fit(frame)
    assert pre.log_mask_.tolist() == [True, False, False]
    Z = pre.transform(frame)
    assert Z.shape == (500, 3)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-9)


def test_inverse_returns_plain_units_within_clip_bounds(frame):
    pre = FeaturePreprocessor().fit(frame)
    back = pre.inverse_transform(pre.transform(frame))
    clipped = np.clip(frame.to_numpy(), pre.clip_low_, pre.clip_high_)
    np.testing.assert_allclose(back, clipped, rtol=1e-9, atol=1e-9)
    assert (frame["revenue"] > pre.clip_high_[0]).sum() > 0  # winsorising did happen


def test_missing_values_and_columns_are_imputed_with_medians(frame):
    holes = frame.copy()
    holes.iloc[:10, 0] = np.nan
    pre = FeaturePreprocessor().fit(holes)
    assert pre.medians_[0] == pytest.approx(np.nanmedian(holes["revenue"]))
    one = pre.transform({"score": 0.3})  # dict, two features missing
    expected = pre.transform(
        pd.DataFrame({"revenue": [pre.medians_[0]], "score": [0.3], "share": [pre.medians_[2]]})
    )
    np.testing.assert_allclose(one, expected)
    assert holes["revenue"].isna().sum() == 10  # input untouched


def test_state_round_trip_through_json(frame):
    pre = FeaturePreprocessor(clip_quantiles=None).fit(frame)
    state = json.loads(json.dumps(pre.to_state()))
    restored = FeaturePreprocessor.from_state(state)
    np.testing.assert_allclose(restored.transform(frame), pre.transform(frame))


def test_constant_and_all_missing_columns_do_not_break(frame):
    odd = frame.assign(constant=1.0, empty=np.nan)
    Z = FeaturePreprocessor().fit_transform(odd)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[:, 3:], 0)
