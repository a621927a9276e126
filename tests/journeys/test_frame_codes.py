"""Integer codes behind the journey functions equal pandas' own factorisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from personapulse.journeys import _frame

VALUES = [
    "u1",
    "u22",
    "u1",
    "",
    "exactly8",
    "a-person-id-longer-than-eight-bytes",
    "é-ü-ß",
    "u22",
    "exactly8",
    "x" * 70,  # longer than the word path handles
    "",
]


def _expected(values) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize(
    "series",
    [
        pd.Series(VALUES, dtype="str"),
        pd.Series(VALUES[:9], dtype="str"),
        pd.Series(["b", None, "a", "b", None], dtype="str"),
        pd.Series(VALUES, dtype="str").iloc[3:],  # sliced Arrow data
        pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([VALUES[:4], VALUES[4:]]))),
        pd.Series(VALUES, dtype=object),
        pd.Series([], dtype="str"),
    ],
)
def test_factorize_matches_pandas(series, many):
    codes, uniques = _frame.factorize(series, many=many)
    expected_codes, expected_uniques = _expected(series.to_numpy(dtype=object))
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(uniques) == list(expected_uniques)


def test_factorize_is_exact_when_byte_hashes_collide(monkeypatch):
    # Every string hashes alike: the check against each code's first row must notice.
    monkeypatch.setattr(_frame, "mix64", lambda values: np.zeros(len(values), dtype=np.uint64))
    series = pd.Series(VALUES[:9], dtype="str")
    codes, uniques = _frame.factorize(series, many=True)
    expected_codes, expected_uniques = _expected(VALUES[:9])
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(uniques) == list(expected_uniques)


def test_factorize_remembers_only_while_the_column_lives():
    series = pd.Series([f"p{i % 7}" for i in range(50)], dtype="str")
    first = _frame.factorize(series, many=True)
    assert _frame.factorize(series)[0] is first[0]  # same immutable Arrow data: reused
    assert not first[0].flags.writeable
    key = id(_frame._arrow_chunks(series.array))
    assert key in _frame._FACTORIZED
    del series, first
    import gc

    gc.collect()
    assert key not in _frame._FACTORIZED


def test_combine_hashes_numbers_pairs_by_first_appearance():
    first = np.array([5, 5, 7, 5, 7, 9], dtype=np.uint64)
    second = np.array([1, 1, 2, 1, 2, 3], dtype=np.uint64)
    np.testing.assert_array_equal(_frame.combine_hashes(first, second), [0, 0, 1, 0, 1, 2])
    # first collides for distinct pairs: the pair grouping decides.
    clash = np.array([1, 2, 1, 2, 3, 1], dtype=np.uint64)
    np.testing.assert_array_equal(_frame.combine_hashes(first, clash), [0, 1, 2, 1, 3, 4])
