"""Oracle: directly-follows counts and variants against pm4py on the same log.

pm4py is AGPL: it is imported here (tests) and in bench/ only, never in personapulse/.
"""

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from personapulse.journeys import to_steps, top_paths, transitions


def random_log(seed: int, persons: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    base = pd.Timestamp("2026-01-01", tz="UTC")
    for person in range(persons):
        length = int(rng.integers(1, 8))
        # distinct timestamps: pm4py orders ties by its own rules
        offsets = np.sort(rng.choice(10_000, size=length, replace=False))
        for offset in offsets:
            rows.append(
                {
                    "person_id": f"p{person}",
                    "type": "track",
                    "event": str(rng.choice(["A", "B", "C", "D"])),
                    "timestamp": base + pd.Timedelta(minutes=int(offset)),
                }
            )
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def pm4py():
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pm4py as module
        except Exception as error:  # pragma: no cover - depends on the environment
            pytest.skip(f"pm4py is not importable: {error}")
    return module


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_directly_follows_and_variants_match_pm4py(pm4py, seed):
    events = random_log(seed)
    steps = to_steps(events, source="event", collapse_repeats=False)
    # pm4py reads cases in row order, so it gets the log sorted (as format_dataframe does).
    log = pd.DataFrame(
        {
            "case:concept:name": events["person_id"],
            "concept:name": events["event"],
            "time:timestamp": events["timestamp"],
        }
    ).sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_dfg, _, _ = pm4py.discover_dfg(log)
        expected_variants = pm4py.get_variants(log)

    edges = transitions(steps, top=None, max_step=None)
    ours_dfg = edges.groupby(["source", "target"])["count"].sum().to_dict()
    assert ours_dfg == {key: int(value) for key, value in expected_dfg.items()}

    variants = top_paths(steps, top=None)
    ours_variants = dict(zip(variants["path"], variants["users"], strict=True))
    theirs = {
        " → ".join(variant): (len(value) if isinstance(value, list) else int(value))
        for variant, value in expected_variants.items()
    }
    assert ours_variants == theirs
