import numpy as np
import orjson
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from personapulse.features import build_user_features
from personapulse.personas import PersonaConfig, PreviousVersion, fit_personas

CONFIG = PersonaConfig(method="auto", covariance_types=("diag",), n_init=3, bootstrap=3, k_max=5)


@pytest.fixture(scope="module")
def planted(make_planted_events, planted_now):
    events, answers = make_planted_events(240, seed=5)
    features = build_user_features(events, now=planted_now)
    truth = answers.set_index("person_id").loc[features.index, "archetype"]
    return features, truth


@pytest.fixture(scope="module")
def first(planted):
    return fit_personas(planted[0], config=CONFIG)


def test_planted_archetypes_from_events(planted, first):
    features, truth = planted
    assert first.model.k_ == 3
    assert adjusted_rand_score(truth, first.model.labels_) >= 0.9
    assert first.gate.reliable, first.gate.reasons


def test_result_is_json_serialisable(first, planted):
    payload = orjson.loads(orjson.dumps(first.to_dict()))
    assert payload["persona_ids"] == first.persona_ids
    assert len(payload["assignments"]["person_id"]) == len(planted[0])
    assert np.array(payload["assignments"]["proba"]).shape == (len(planted[0]), first.model.k_)
    assert payload["gate"]["reliable"] is True
    assert {c["k"] for c in payload["candidates"]} == {2, 3, 4, 5}
    assert payload["appeared"] == first.persona_ids and payload["vanished"] == []
    assert "assignments" not in first.to_dict(include_assignments=False)


def test_assignments(first, planted):
    assignments = first.assignments
    assert list(assignments.columns) == ["person_id", "persona_id", "probability"]
    assert set(assignments["persona_id"]) == set(first.persona_ids)
    assert assignments["probability"].between(1 / first.model.k_, 1).all()


def test_refit_on_unchanged_data_keeps_every_id(first, planted):
    previous = PreviousVersion(centroids=first.centroids, state=first.state)
    # A different random_state permutes the component order; ids must follow the personas.
    again = fit_personas(
        planted[0],
        config=PersonaConfig(**{**CONFIG.__dict__, "random_state": 11}),
        previous=previous,
    )
    assert sorted(again.persona_ids) == sorted(first.persona_ids)
    assert again.appeared == [] and again.vanished == []
    before = first.assignments.set_index("person_id")["persona_id"]
    after = again.assignments.set_index("person_id")["persona_id"]
    assert (before == after.loc[before.index]).mean() >= 0.99


def test_previous_without_state_by_feature_names(first, planted):
    shuffled = list(reversed(first.state["feature_names"]))
    centroids = {pid: list(reversed(values)) for pid, values in first.centroids.items()}
    again = fit_personas(
        planted[0],
        config=CONFIG,
        previous=PreviousVersion(centroids=centroids, feature_names=shuffled),
    )
    assert again.persona_ids == first.persona_ids


def test_dropped_persona_vanishes_and_new_one_appears(first, planted):
    features, truth = planted
    drifters = truth[truth == "drifter"].index
    keep = features.drop(index=drifters)
    again = fit_personas(
        keep,
        config=PersonaConfig(**{**CONFIG.__dict__, "k": 2}),
        previous=PreviousVersion(centroids=first.centroids, state=first.state),
    )
    assert len(again.vanished) == 1 and again.appeared == []
    drifter_persona = first.assignments.set_index("person_id").loc[drifters, "persona_id"]
    assert again.vanished == [drifter_persona.mode()[0]]


def test_empty_features_rejected():
    with pytest.raises(ValueError, match="empty"):
        fit_personas(pd.DataFrame(), config=CONFIG)
