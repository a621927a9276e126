import numpy as np
import pytest

from personapulse.personas import match_personas, mint_persona_id

PREVIOUS = {
    "p_a": np.array([0.0, 0.0]),
    "p_b": np.array([5.0, 0.0]),
    "p_c": np.array([0.0, 5.0]),
}


def test_permuted_and_slightly_moved_centroids_keep_their_ids():
    current = np.array([[0.1, 5.2], [0.2, -0.1], [4.9, 0.3]])
    matching = match_personas(PREVIOUS, current)
    assert matching.mapping == {0: "p_c", 1: "p_a", 2: "p_b"}
    assert matching.appeared == [] and matching.vanished == []
    assert matching.distances[1] == pytest.approx(np.hypot(0.2, 0.1))


def test_appeared_and_vanished():
    current = np.array([[0.0, 0.1], [5.0, 0.1], [-6.0, -6.0], [9.0, 9.0]])
    matching = match_personas(PREVIOUS, current)
    assert matching.mapping == {0: "p_a", 1: "p_b"}
    assert matching.appeared == [2, 3]
    assert matching.vanished == ["p_c"]


def test_far_pair_is_not_the_same_persona_even_if_hungarian_pairs_it():
    current = np.array([[0.0, 0.0], [5.0, 0.0], [30.0, 30.0]])
    matching = match_personas(PREVIOUS, current, max_distance=3.0)
    assert 2 in matching.appeared and "p_c" in matching.vanished
    minted = match_personas(PREVIOUS, current, max_distance=3.0, mint=True, seed="s")
    assert minted.mapping[2].startswith("p_") and minted.mapping[2] not in PREVIOUS


def test_first_version_mints_everything():
    matching = match_personas({}, np.zeros((3, 4)), mint=True, seed=1)
    assert matching.appeared == [0, 1, 2]
    assert len(set(matching.mapping.values())) == 3


def test_mint_ids():
    assert mint_persona_id(seed=42) == mint_persona_id(seed=42)
    assert mint_persona_id(seed=42) != mint_persona_id(seed=43)
    taken = {mint_persona_id(seed=42)}
    assert mint_persona_id(seed=42, taken=taken) not in taken
    random_id = mint_persona_id()
    assert random_id.startswith("p_") and len(random_id) == 10


def test_dimension_mismatch_is_an_error():
    with pytest.raises(ValueError, match="dimensions"):
        match_personas(PREVIOUS, np.zeros((2, 3)))
