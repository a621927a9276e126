"""Stable persona identities across refits: Hungarian matching of centroids."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist

__all__ = ["Matching", "match_personas", "mint_persona_id"]


@dataclass
class Matching:
    """Result of matching current personas (by index) to previous persona ids.

    mapping: current component index -> persona id (matched previous ids, or freshly minted ones
    for appeared personas when ``match_personas`` was given ``mint``); appeared: current indices
    without a previous match; vanished: previous ids without a current match; distances: matched
    index -> centroid distance (standardised units).
    """

    mapping: dict[int, str]
    appeared: list[int] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    distances: dict[int, float] = field(default_factory=dict)


def mint_persona_id(seed: object = None, *, taken: Iterable[str] = ()) -> str:
    """A new persona id "p_" + 8 hex characters.

    With ``seed`` None the id is random (uuid4); with a seed it is deterministic (sha256 of the
    seed), so reruns with the same random_state produce the same ids. Ids in ``taken`` are avoided.
    """
    taken = set(taken)
    attempt = 0
    while True:
        if seed is None:
            digest = uuid.uuid4().hex
        else:
            digest = hashlib.sha256(f"{seed}:{attempt}".encode()).hexdigest()
        candidate = "p_" + digest[:8]
        if candidate not in taken:
            return candidate
        attempt += 1


def match_personas(
    previous: Mapping[str, np.ndarray],
    current: np.ndarray,
    *,
    max_distance: float | None = None,
    mint: bool = False,
    seed: object = None,
) -> Matching:
    """Match current centroids to previous persona ids by minimum total distance.

    Input: ``previous`` maps persona id -> centroid (d,), ``current`` is (k, d); both in the same
    standardised space. The Hungarian algorithm (scipy ``linear_sum_assignment``) pairs them on
    Euclidean distance; a pair further apart than ``max_distance`` is not the same persona. With
    ``max_distance`` None the limit is half the median distance between the previous centroids
    (a persona must stay closer to its old self than to halfway to a typical neighbour); with a
    single previous persona there is no limit.

    Output: ``Matching``. With ``mint`` True, appeared personas get new ids in ``mapping``
    (deterministic when ``seed`` is given); otherwise they are only listed in ``appeared``.
    """
    current = np.atleast_2d(np.asarray(current, dtype=float))
    ids = list(previous)
    if ids:
        old = np.vstack([np.asarray(previous[i], dtype=float) for i in ids])
        if old.shape[1] != current.shape[1]:
            raise ValueError(
                f"previous centroids have {old.shape[1]} dimensions, current {current.shape[1]}"
            )
    else:
        old = np.empty((0, current.shape[1]))
    if max_distance is None:
        max_distance = float(np.median(pdist(old)) / 2) if len(old) >= 2 else np.inf

    mapping: dict[int, str] = {}
    distances: dict[int, float] = {}
    if len(old) and len(current):
        cost = cdist(current, old)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] <= max_distance:
                mapping[int(r)] = ids[c]
                distances[int(r)] = float(cost[r, c])
    appeared = [i for i in range(len(current)) if i not in mapping]
    vanished = [i for i in ids if i not in set(mapping.values())]
    if mint:
        taken = set(ids)
        for position, index in enumerate(appeared):
            new_id = mint_persona_id(None if seed is None else f"{seed}:{position}", taken=taken)
            taken.add(new_id)
            mapping[index] = new_id
    return Matching(
        mapping=dict(sorted(mapping.items())),
        appeared=appeared,
        vanished=vanished,
        distances=distances,
    )
