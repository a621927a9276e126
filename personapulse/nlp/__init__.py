"""Review and conversation intelligence: sentiment, pain points, motivations, keywords, themes,
intents, and their join to personas. Pure Python over strings and DataFrames (no HTTP, no DB)."""

from personapulse.nlp.classify import classify_conversations, classify_review, classify_reviews
from personapulse.nlp.intents import customer_text, detect_intents
from personapulse.nlp.keywords import extract_keywords, top_keyphrases
from personapulse.nlp.personas import pain_points_by_persona
from personapulse.nlp.sentiment import Sentiment, SentimentAnalyzer
from personapulse.nlp.taxonomy import (
    MOTIVATIONS,
    PAIN_POINTS,
    TAXONOMY,
    detect_aspects,
    detect_motivations,
    detect_pain_points,
)
from personapulse.nlp.themes import Theme, discover_themes

__all__ = [
    "MOTIVATIONS",
    "PAIN_POINTS",
    "TAXONOMY",
    "Sentiment",
    "SentimentAnalyzer",
    "Theme",
    "classify_conversations",
    "classify_review",
    "classify_reviews",
    "customer_text",
    "detect_aspects",
    "detect_intents",
    "detect_motivations",
    "detect_pain_points",
    "discover_themes",
    "extract_keywords",
    "pain_points_by_persona",
    "top_keyphrases",
]
