"""One call for the service: fit personas, keep their ids, profile and assign everyone."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from personapulse.features import EXPOSURE_TOTALS
from personapulse.personas.identity import Matching, match_personas
from personapulse.personas.model import GateResult, PersonaModel, _jsonable
from personapulse.personas.preprocess import FeaturePreprocessor
from personapulse.personas.profiles import build_profiles

__all__ = ["PersonaConfig", "PersonaFitResult", "PreviousVersion", "fit_personas"]


@dataclass(frozen=True)
class PersonaConfig:
    """Parameters of a persona fit (model, gate, identity matching, profiles)."""

    method: str = "auto"
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    covariance_types: tuple[str, ...] = ("diag", "full")
    n_init: int = 5
    max_starts: int = 20
    bic_margin: float = 2.0
    random_state: int | None = 0
    sample_size: int = 50_000
    selection_size: int = 10_000
    bootstrap: int = 10
    bootstrap_size: int = 10_000
    min_share: float = 0.05
    min_entropy: float = 0.8
    min_stability: float = 0.8
    replicate_tol: float = 1e-3
    reg_covar: float = 1e-3
    max_iter: int = 200
    cluster_exclude: tuple[str, ...] = EXPOSURE_TOTALS
    max_missing_share: float = 0.5
    reduce_dimensions: str | int | None = "parallel"
    log_transform: str | bool = "auto"
    skew_threshold: float = 1.0
    clip_quantiles: tuple[float, float] | None = (0.005, 0.995)
    match_max_distance: float | None = None
    top_traits: int = 5
    shortlist_size: int = 8

    def to_model(self) -> PersonaModel:
        return PersonaModel(
            method=self.method,
            k=self.k,
            k_min=self.k_min,
            k_max=self.k_max,
            covariance_types=tuple(self.covariance_types),
            n_init=self.n_init,
            max_starts=self.max_starts,
            bic_margin=self.bic_margin,
            random_state=self.random_state,
            sample_size=self.sample_size,
            selection_size=self.selection_size,
            bootstrap=self.bootstrap,
            bootstrap_size=self.bootstrap_size,
            min_share=self.min_share,
            min_entropy=self.min_entropy,
            min_stability=self.min_stability,
            replicate_tol=self.replicate_tol,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            cluster_exclude=tuple(self.cluster_exclude),
            max_missing_share=self.max_missing_share,
            reduce_dimensions=self.reduce_dimensions,
            preprocessor=FeaturePreprocessor(
                log_transform=self.log_transform,
                skew_threshold=self.skew_threshold,
                clip_quantiles=self.clip_quantiles,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class PreviousVersion:
    """The persona set being replaced: ids -> centroids in its own standardised space.

    With ``state`` (the previous ``PersonaModel.to_state()``) the old centroids are mapped to plain
    units and re-standardised with the new preprocessor, so matching survives a shift in the
    data's scale. Without it they must already be in the new space (same features, same order,
    or aligned by ``feature_names``).
    """

    centroids: Mapping[str, Any]
    state: Mapping[str, Any] | None = None
    feature_names: list[str] | None = None


@dataclass
class PersonaFitResult:
    """Everything a fit produced; ``to_dict()`` is JSON-serialisable."""

    model: PersonaModel
    state: dict[str, Any]
    candidates: pd.DataFrame
    gate: GateResult
    persona_ids: list[str]
    matching: Matching
    appeared: list[str]
    vanished: list[str]
    profiles: list[dict[str, Any]]
    assignments: pd.DataFrame
    proba: np.ndarray
    parameters: dict[str, Any]
    selection_reason: str = ""
    centroids: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self, *, include_assignments: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state,
            "candidates": self.candidates.to_dict(orient="records"),
            "gate": self.gate.to_dict(),
            "persona_ids": self.persona_ids,
            "centroids": self.centroids,
            "appeared": self.appeared,
            "vanished": self.vanished,
            "match_distances": {self.persona_ids[i]: d for i, d in self.matching.distances.items()},
            "profiles": self.profiles,
            "parameters": self.parameters,
            "selection_reason": self.selection_reason,
        }
        if include_assignments:
            out["assignments"] = {
                "person_id": self.assignments["person_id"].tolist(),
                "persona_id": self.assignments["persona_id"].tolist(),
                "probability": self.assignments["probability"].tolist(),
                "proba_columns": self.persona_ids,
                "proba": self.proba,
            }
        return _jsonable(out)


def _previous_in_current_space(
    previous: PreviousVersion, model: PersonaModel
) -> dict[str, np.ndarray]:
    names = [str(n) for n in model.feature_names_in_]
    ids = list(previous.centroids)
    if not ids:
        return {}
    old = np.vstack([np.asarray(previous.centroids[i], dtype=float) for i in ids])
    if previous.state is not None:
        old_model = PersonaModel.from_state(previous.state)
        plain = old_model.preprocessor_.inverse_transform(old)
        frame = pd.DataFrame(plain, columns=list(old_model.feature_names_in_))
        new = model.standardise(frame)
    elif previous.feature_names is not None:
        frame = pd.DataFrame(old, columns=list(previous.feature_names))
        # A feature the old version lacked sits at the new mean (0) rather than biasing the match.
        new = frame.reindex(columns=names).fillna(0.0).to_numpy(dtype=float)
    else:
        if old.shape[1] != len(names):
            raise ValueError(
                "previous centroids have a different number of features; pass state or "
                "feature_names"
            )
        new = old
    return dict(zip(ids, new, strict=True))


def fit_personas(
    features: pd.DataFrame,
    *,
    config: PersonaConfig | None = None,
    previous: PreviousVersion | None = None,
) -> PersonaFitResult:
    """Fit personas on a features frame and return the whole result.

    Input: ``features`` from ``build_user_features`` (index = person id, float columns), a
    ``PersonaConfig`` and optionally the ``PreviousVersion`` whose ids should carry over.
    Output: ``PersonaFitResult`` with the JSON model state, candidates table, gate, persona ids in
    component order (matched to previous ids by Hungarian matching, new ones minted
    deterministically from the random_state and centroids), appeared / vanished ids, profiles,
    and per-user assignments (person_id, persona_id, probability) plus the full (n, k) matrix.
    """
    config = config or PersonaConfig()
    if len(features) == 0:
        raise ValueError("features frame is empty")
    # One BLAS / OpenMP thread: the work is many mid-sized products, where threads on a shared
    # machine mostly contend (profiles at a million users: 3.0 s threaded, 0.8 s single).
    with threadpool_limits(limits=1):
        return _fit_personas(features, config, previous)


def _fit_personas(
    features: pd.DataFrame, config: PersonaConfig, previous: PreviousVersion | None
) -> PersonaFitResult:
    model = config.to_model().fit(features)
    previous_centroids = _previous_in_current_space(previous, model) if previous is not None else {}
    seed = None
    if config.random_state is not None:
        seed = hashlib.sha256(
            f"{config.random_state}".encode() + np.round(model.centroids_, 6).tobytes()
        ).hexdigest()
    matching = match_personas(
        previous_centroids,
        model.centroids_,
        max_distance=config.match_max_distance,
        mint=True,
        seed=seed,
    )
    persona_ids = [matching.mapping[j] for j in range(model.k_)]
    proba = model.proba_
    labels = model.labels_
    profiles = build_profiles(
        features,
        labels,
        proba,
        persona_ids=persona_ids,
        standardised=model.standardised_,
        top_traits=config.top_traits,
        shortlist_size=config.shortlist_size,
    )
    assignments = pd.DataFrame(
        {
            "person_id": features.index.to_numpy(),
            "persona_id": np.asarray(persona_ids, dtype=object)[labels],
            "probability": proba[np.arange(len(labels)), labels],
        }
    )
    return PersonaFitResult(
        model=model,
        state=model.to_state(),
        candidates=model.candidates_.copy(),
        gate=model.gate_,
        persona_ids=persona_ids,
        matching=matching,
        appeared=[persona_ids[j] for j in matching.appeared],
        vanished=list(matching.vanished),
        profiles=profiles,
        assignments=assignments,
        proba=proba,
        parameters=config.to_dict(),
        selection_reason=model.selection_reason_,
        centroids={pid: model.centroids_[j].tolist() for j, pid in enumerate(persona_ids)},
    )
