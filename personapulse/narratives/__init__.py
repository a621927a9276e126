"""Grounded persona narratives and marketing recommendations.

Facts in, cards out: :func:`build_fact_sheet` collects what the service measured about a persona,
a narrator (:class:`TemplateNarrator` offline, :class:`LLMNarrator` over an OpenAI-compatible API)
writes a :class:`PersonaCard` whose sentences cite fact ids, :func:`check_card` rejects any claim
the cited facts do not back, and :func:`recommend` turns facts into prioritised actions.
"""

from personapulse.narratives.cards import PersonaCard, Sentence
from personapulse.narratives.facts import Fact, FactSheet, build_fact_sheet
from personapulse.narratives.grounding import GroundingReport, Issue, check_card, narrate_grounded
from personapulse.narratives.llm import (
    CARD_SCHEMA,
    SYSTEM_PROMPT,
    LLMAnswerError,
    LLMNarrator,
    llm_client_from_settings,
)
from personapulse.narratives.recommend import Recommendation, recommend
from personapulse.narratives.template import OPPORTUNITIES, Narrator, TemplateNarrator

__all__ = [
    "CARD_SCHEMA",
    "OPPORTUNITIES",
    "SYSTEM_PROMPT",
    "Fact",
    "FactSheet",
    "GroundingReport",
    "Issue",
    "LLMAnswerError",
    "LLMNarrator",
    "Narrator",
    "PersonaCard",
    "Recommendation",
    "Sentence",
    "TemplateNarrator",
    "build_fact_sheet",
    "check_card",
    "llm_client_from_settings",
    "narrate_grounded",
    "recommend",
]
