"""Classify reviews and conversations: sentiment, pain points, motivations, keywords (and intents
for conversations). One review takes well under a few milliseconds, so ``classify_review`` can run
inside an HTTP request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from personapulse.nlp.intents import customer_text, detect_intents
from personapulse.nlp.keywords import extract_keywords
from personapulse.nlp.sentiment import SentimentAnalyzer
from personapulse.nlp.taxonomy import detect_aspects

_SPAN_KEYS = ("label", "phrase", "start", "end", "context", "via")
_RESULT_COLS = ("sentiment_label", "sentiment_score", "pain_points", "motivations", "keywords")
PASSTHROUGH_REVIEW_COLS = ("person_id", "source", "product", "rating", "created_at")
PASSTHROUGH_CONVERSATION_COLS = ("person_id", "source", "kind", "created_at")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rating(value: Any) -> float | None:
    if _missing(value):
        return None
    try:
        rating = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(rating) else rating


def _split(aspects: list[dict]) -> tuple[list[dict], list[dict]]:
    pains = [{k: a[k] for k in _SPAN_KEYS} for a in aspects if a["kind"] == "pain_point"]
    motives = [{k: a[k] for k in _SPAN_KEYS} for a in aspects if a["kind"] == "motivation"]
    return pains, motives


def _classify_text(
    text: str, title: str | None, rating: float | None, analyzer: SentimentAnalyzer, top_n: int
) -> dict[str, Any]:
    # The title sways the sentiment ("Never again!") but spans are offsets into ``text``.
    scored = f"{title}. {text}" if title else text
    sentiment = analyzer.score(scored, rating=rating)
    pains, motives = _split(detect_aspects(text, context_score=sentiment.score))
    return {
        "sentiment_label": sentiment.label,
        "sentiment_score": round(sentiment.score, 4),
        "pain_points": pains,
        "motivations": motives,
        "keywords": extract_keywords(text, top_n=top_n),
    }


def classify_review(
    review: Mapping[str, Any], analyzer: SentimentAnalyzer, *, top_n_keywords: int = 5
) -> dict[str, Any]:
    """One review (the contract's review keys; ``text`` required) ->
    ``{review_id, sentiment_label, sentiment_score, pain_points, motivations, keywords}``.

    ``pain_points`` / ``motivations`` are lists of ``{label, phrase, start, end, context, via}``
    with ``text[start:end] == phrase``; ``context`` is the clause that carried the polarity.
    """
    text = review.get("text")
    if not isinstance(text, str):
        raise ValueError("review needs a 'text' string")
    title = review.get("title")
    out = {"review_id": review.get("review_id")}
    out.update(
        _classify_text(
            text,
            title if isinstance(title, str) and title.strip() else None,
            _rating(review.get("rating")),
            analyzer,
            top_n_keywords,
        )
    )
    return out


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")


def classify_reviews(
    reviews: pd.DataFrame,
    *,
    text_col: str = "text",
    rating_col: str = "rating",
    id_col: str = "review_id",
    title_col: str = "title",
    analyzer: SentimentAnalyzer | None = None,
    top_n_keywords: int = 5,
    passthrough: Sequence[str] = PASSTHROUGH_REVIEW_COLS,
) -> pd.DataFrame:
    """Reviews frame -> one row per review: ``review_id``, ``sentiment_label``,
    ``sentiment_score``, ``pain_points``, ``motivations``, ``keywords``, plus the ``passthrough``
    columns present (person_id, source, product, rating, created_at) and ``text`` for quotes.

    ``id_col`` and ``text_col`` are required; rating and title are used when present.
    """
    _require(reviews, [id_col, text_col])
    analyzer = analyzer or SentimentAnalyzer()
    texts = ["" if _missing(t) else str(t) for t in reviews[text_col]]
    titles = (
        [t if isinstance(t, str) and t.strip() else None for t in reviews[title_col]]
        if title_col in reviews.columns
        else [None] * len(texts)
    )
    ratings = (
        [_rating(r) for r in reviews[rating_col]]
        if rating_col in reviews.columns
        else [None] * len(texts)
    )
    sentiments = analyzer.score_many(
        [f"{ti}. {te}" if ti else te for ti, te in zip(titles, texts, strict=True)], ratings
    )
    rows = []
    for text, sentiment in zip(texts, sentiments, strict=True):
        pains, motives = _split(detect_aspects(text, context_score=sentiment.score))
        rows.append(
            {
                "sentiment_label": sentiment.label,
                "sentiment_score": round(sentiment.score, 4),
                "pain_points": pains,
                "motivations": motives,
                "keywords": extract_keywords(text, top_n=top_n_keywords),
            }
        )
    out = pd.DataFrame(rows, index=reviews.index, columns=list(_RESULT_COLS))
    out.insert(0, "review_id", reviews[id_col].to_numpy())
    for col in passthrough:
        if col in reviews.columns and col != id_col:
            out[col] = reviews[col].to_numpy()
    out["text"] = texts
    return out.reset_index(drop=True)


def classify_conversations(
    conversations: pd.DataFrame,
    *,
    text_col: str = "text",
    id_col: str = "conversation_id",
    subject_col: str = "subject",
    analyzer: SentimentAnalyzer | None = None,
    top_n_keywords: int = 5,
    passthrough: Sequence[str] = PASSTHROUGH_CONVERSATION_COLS,
) -> pd.DataFrame:
    """Conversations frame -> one row per conversation: ``conversation_id``, ``sentiment_label``,
    ``sentiment_score``, ``pain_points``, ``motivations``, ``keywords``, ``intents`` (list of
    ``{intent, phrase, start, end}``), the ``passthrough`` columns present and ``text``.

    Only the customer's side is classified (``customer_text``: agent lines of a labelled
    transcript are dropped; the store's ``text`` is already customer-only). The subject counts
    for sentiment and intents but spans are offsets into the customer text.
    """
    _require(conversations, [id_col, text_col])
    analyzer = analyzer or SentimentAnalyzer()
    texts = [customer_text(None if _missing(t) else t) for t in conversations[text_col]]
    subjects = (
        [s if isinstance(s, str) and s.strip() else None for s in conversations[subject_col]]
        if subject_col in conversations.columns
        else [None] * len(texts)
    )
    sentiments = analyzer.score_many(
        [f"{s}. {t}" if s else t for s, t in zip(subjects, texts, strict=True)]
    )
    rows = []
    for text, subject, sentiment in zip(texts, subjects, sentiments, strict=True):
        pains, motives = _split(detect_aspects(text, context_score=sentiment.score))
        intents = detect_intents(text)
        if subject:
            seen = {d["intent"] for d in intents}
            # subject intents have no span in ``text``: start / end are None
            intents += [
                {**d, "start": None, "end": None}
                for d in detect_intents(subject)
                if d["intent"] not in seen
            ]
        rows.append(
            {
                "sentiment_label": sentiment.label,
                "sentiment_score": round(sentiment.score, 4),
                "pain_points": pains,
                "motivations": motives,
                "keywords": extract_keywords(text, top_n=top_n_keywords),
                "intents": intents,
            }
        )
    out = pd.DataFrame(rows, index=conversations.index, columns=[*_RESULT_COLS, "intents"])
    out.insert(0, "conversation_id", conversations[id_col].to_numpy())
    for col in passthrough:
        if col in conversations.columns and col != id_col:
            out[col] = conversations[col].to_numpy()
    out["text"] = texts
    return out.reset_index(drop=True)
