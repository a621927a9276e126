import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from personapulse.personas import PersonaModel, relative_entropy
from personapulse.personas.model import gaussian_log_joint

FAST = dict(n_init=3, bootstrap=3, random_state=0, k_max=5)
CANDIDATE_COLUMNS = {
    "method",
    "covariance_type",
    "k",
    "bic",
    "aic",
    "log_likelihood",
    "replicated",
    "entropy",
    "min_share",
    "silhouette",
    "davies_bouldin",
    "selected",
}


@pytest.mark.parametrize("method", ["kmeans", "gmm", "auto"])
def test_recovers_planted_groups(blobs, method):
    features, truth = blobs
    model = PersonaModel(method=method, covariance_types=("diag",), **FAST).fit(features)
    assert model.k_ == 3
    assert adjusted_rand_score(truth, model.labels_) >= 0.95
    assert model.gate_.reliable, model.gate_.reasons
    assert model.gate_.stability >= 0.9
    assert set(model.candidates_.columns) >= CANDIDATE_COLUMNS
    assert model.candidates_["selected"].sum() == 1
    assert model.proba_.shape == (600, 3)
    np.testing.assert_allclose(model.proba_.sum(axis=1), 1)
    assert model.centroids_.shape == (3, 6)


def test_full_covariance_candidates_are_scored(blobs):
    features, _ = blobs
    model = PersonaModel(method="gmm", k=3, **FAST).fit(features)
    assert set(model.candidates_["covariance_type"]) == {"diag", "full"}
    assert model.candidates_["bic"].notna().all()


def test_gate_flags_structureless_data():
    rng = np.random.default_rng(3)
    noise = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    model = PersonaModel(method="gmm", k=6, covariance_types=("diag",), **FAST).fit(noise)
    assert not model.gate_.reliable
    assert model.gate_.reasons
    assert model.labels_.shape == (400,)  # still returned


def test_sample_fit_assigns_everyone(blobs):
    features, truth = blobs
    model = PersonaModel(
        method="auto",
        covariance_types=("diag",),
        sample_size=300,
        selection_size=150,
        batch_size=64,
        **FAST,
    ).fit(features)
    assert model.labels_.shape == (600,)
    assert model.candidates_["n_users"].eq(150).all()
    assert model.final_fit_["n_users"] == 300 and model.final_fit_["k"] == model.k_
    assert adjusted_rand_score(truth, model.labels_) >= 0.95


def test_state_is_plain_json_and_scores_identically(blobs):
    features, _ = blobs
    for method, cov in [("gmm", ("full",)), ("gmm", ("diag",)), ("kmeans", ("diag",))]:
        model = PersonaModel(method=method, k=3, covariance_types=cov, **FAST).fit(features)
        state = json.loads(json.dumps(model.to_state()))
        restored = PersonaModel.from_state(state)
        np.testing.assert_allclose(restored.predict_proba(features), model.proba_, atol=1e-10)
        one = features.iloc[7].to_dict()
        del one["f0"]  # a missing feature is imputed
        assert restored.predict_proba(one).shape == (1, 3)


def test_own_gaussian_density_matches_sklearn(blobs):
    features, _ = blobs
    X = np.log(features.to_numpy())
    for cov in ("full", "diag", "spherical"):
        gm = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
        joint = gaussian_log_joint(X, gm.weights_, gm.means_, gm.covariances_, cov)
        np.testing.assert_allclose(
            np.exp(joint - joint.max(axis=1, keepdims=True))
            / np.exp(joint - joint.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True),
            gm.predict_proba(X),
            atol=1e-8,
        )


def test_relative_entropy_bounds():
    assert relative_entropy(np.eye(3)[[0, 1, 2, 0]]) == pytest.approx(1.0)
    assert relative_entropy(np.full((5, 4), 0.25)) == pytest.approx(0.0)


def test_rejects_unknown_method(blobs):
    with pytest.raises(ValueError, match="method"):
        PersonaModel(method="dbscan").fit(blobs[0])
