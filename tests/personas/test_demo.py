"""Planted archetypes of the Brightcart demo, recovered from honest behavioural features.

The demo plants 5 archetypes among identified users (visitors who never sign up, ``anon:…``, have
no archetype and are scored afterwards, as the service does). The brief's goal: the automatically
chosen k equals the planted count, the adjusted Rand index against the answer file is ≥ 0.9, and
the persona set passes the statistical gate. Nothing in the engine reads the answers.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from personapulse.features import build_user_features
from personapulse.personas import PersonaModel

demo = pytest.importorskip("personapulse.demo")

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module", params=[1, 2])
def demo_users(request):
    frames = demo.generate_frames(demo.DemoConfig(users=2000, seed=request.param, now=NOW))
    features = build_user_features(
        frames.events, reviews=frames.reviews, conversations=frames.conversations
    )
    features = features[~features.index.astype(str).str.startswith("anon:")]
    answers = frames.answers.set_index("person_id")["archetype"]
    return features, answers


def test_auto_finds_the_planted_archetypes(demo_users):
    features, answers = demo_users
    # Default model (k chosen in 2..8 over k-means and diag / full mixtures); fewer bootstrap
    # refits than the service's 10 to keep the test short.
    model = PersonaModel(bootstrap=3, random_state=0).fit(features)
    labels = pd.Series(model.labels_, index=features.index)
    identified = features.index.intersection(answers.index)
    assert model.k_ == answers.nunique() == 5, model.selection_reason_
    assert adjusted_rand_score(answers[identified], labels[identified]) >= 0.9
    assert model.gate_.reliable, model.gate_.reasons
    assert model.gate_.entropy >= 0.8 and model.gate_.min_share >= 0.05
    assert model.gate_.replicated and model.gate_.stability >= 0.8
