"""Personas engine: clustering with a statistical gate, stable identities, profiles, assignment.

Pure functions and estimators over DataFrames; no database, no HTTP. See docs/personas.md.
"""

from personapulse.personas.fit import (
    PersonaConfig,
    PersonaFitResult,
    PreviousVersion,
    fit_personas,
)
from personapulse.personas.identity import Matching, match_personas, mint_persona_id
from personapulse.personas.model import GateResult, PersonaModel, relative_entropy
from personapulse.personas.preprocess import FeaturePreprocessor
from personapulse.personas.profiles import build_profiles, default_label

__all__ = [
    "FeaturePreprocessor",
    "GateResult",
    "Matching",
    "PersonaConfig",
    "PersonaFitResult",
    "PersonaModel",
    "PreviousVersion",
    "build_profiles",
    "default_label",
    "fit_personas",
    "match_personas",
    "mint_persona_id",
    "relative_entropy",
]
