"""VADER's lexicon (read through NLTK from the vaderSentiment wheel) plus product-review terms,
and a fast rule-based scorer over it with contrast and negation scope.

The rule scorer is both a feature of the learned model (``sentiment.py``) and the clause-level
polarity used to decide whether a topic mention is a pain point or a motivation.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

from personapulse.nlp._text import (
    CONCESSIVE,
    CONTRAST_AFTER,
    NEGATION_WINDOW,
    is_negator,
)

# Valences on VADER's −4..+4 scale for words that matter in product / service reviews and that
# VADER lacks (or scores as neutral). Chosen from domain knowledge and the dev sets only.
DOMAIN_LEXICON: dict[str, float] = {
    # delivery and service
    "late": -1.5,
    "delayed": -1.5,
    "delay": -1.3,
    "delays": -1.3,
    "refund": -1.2,
    "refunds": -1.0,
    "overcharged": -2.3,
    "overpriced": -2.0,
    "pricey": -1.0,
    "ripoff": -2.6,
    "unanswered": -1.6,
    "unhelpful": -2.0,
    "rude": -2.0,
    "cancelled": -1.0,
    "canceled": -1.0,
    "unsubscribe": -1.0,
    "spam": -1.5,
    "hidden": -0.5,
    "scammed": -2.7,
    # breakage and defects
    "crashes": -2.0,
    "crashed": -2.0,
    "crashing": -2.0,
    "buggy": -2.0,
    "glitch": -1.6,
    "glitches": -1.6,
    "glitchy": -1.8,
    "laggy": -1.8,
    "freezes": -1.6,
    "freeze": -1.4,
    "froze": -1.5,
    "freezing": -1.2,
    "unusable": -2.5,
    "unresponsive": -1.8,
    "flimsy": -1.8,
    "junk": -2.2,
    "stale": -1.6,
    "spoiled": -2.0,
    "soggy": -1.5,
    "mushy": -1.2,
    "leaked": -1.5,
    "leaking": -1.5,
    "leaks": -1.3,
    "dented": -1.3,
    "cracked": -1.6,
    "malfunction": -2.0,
    "malfunctions": -2.0,
    "malfunctioned": -2.0,
    "disconnects": -1.5,
    "drains": -1.2,
    "returned": -1.0,
    "returning": -0.8,
    "mediocre": -1.5,
    "overheats": -1.8,
    "overheating": -1.8,
    "confusing": -1.5,
    "clunky": -1.6,
    "cumbersome": -1.5,
    "tedious": -1.5,
    "blurry": -1.5,
    "grainy": -1.2,
    "noisy": -1.0,
    "uncomfortable": -1.6,
    # praise VADER lacks
    "sturdy": 1.6,
    "durable": 1.6,
    "reliable": 1.7,
    "affordable": 1.5,
    "intuitive": 1.8,
    "seamless": 1.8,
    "tasty": 2.0,
    "flawless": 2.6,
    "flawlessly": 2.4,
    "crisp": 1.3,
    "fast": 0.8,
    "quick": 0.7,
    "quickly": 0.6,
    "promptly": 1.3,
    "works": 0.9,
    "worked": 0.7,
    "recommended": 1.5,
    "convenient": 1.6,
    "handy": 1.3,
    "bargain": 1.5,
    "lifesaver": 2.3,
}

# Valence a booster ("very", "extremely", "barely"…) adds to the following lexicon word, and the
# damping VADER applies to a negated word; both are VADER's published constants.
NEGATION_SCALAR = -0.74
EXCLAIM_BOOST = 0.292
COMPOUND_ALPHA = 15.0


@lru_cache(maxsize=1)
def load_vader_lexicon() -> tuple[dict[str, float], dict[str, float]]:
    """(lexicon, booster dict) of NLTK's VADER, reading ``vader_lexicon.txt`` from the
    vaderSentiment wheel (NLTK 3.10 only accepts a name found on ``nltk.data.path``)."""
    import nltk
    import vaderSentiment
    from nltk.sentiment.vader import SentimentIntensityAnalyzer, VaderConstants

    wheel_dir = os.path.dirname(vaderSentiment.__file__)
    if wheel_dir not in nltk.data.path:
        nltk.data.path.append(wheel_dir)
    analyzer = SentimentIntensityAnalyzer(lexicon_file="vader_lexicon.txt")
    return dict(analyzer.lexicon), dict(VaderConstants.BOOSTER_DICT)


@lru_cache(maxsize=1)
def nltk_vader():
    """NLTK's plain VADER analyser (the baseline), lexicon from the vaderSentiment wheel."""
    import nltk
    import vaderSentiment
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    wheel_dir = os.path.dirname(vaderSentiment.__file__)
    if wheel_dir not in nltk.data.path:
        nltk.data.path.append(wheel_dir)
    return SentimentIntensityAnalyzer(lexicon_file="vader_lexicon.txt")


@lru_cache(maxsize=1)
def review_lexicon() -> dict[str, float]:
    """VADER's lexicon with the domain terms merged in; apostrophe-less negator spellings added."""
    lexicon, _ = load_vader_lexicon()
    merged = {word: valence for word, valence in lexicon.items() if " " not in word}
    merged.update(DOMAIN_LEXICON)
    return merged


@lru_cache(maxsize=1)
def boosters() -> dict[str, float]:
    return load_vader_lexicon()[1]


_BOUNDARIES = frozenset({",", ".", ";", ":"})


def clause_weights(tokens: list[str]) -> list[float]:
    """Weight per token for contrast: after "but"/"however" ×1.5 and before ×0.5; a clause opened
    by "although"/"despite" ×0.5 and the rest of the sentence ×1.5."""
    n = len(tokens)
    weights = [1.0] * n
    for i, tok in enumerate(tokens):
        if tok in CONTRAST_AFTER and not (tok == "though" and i == 0):
            for j in range(i):
                weights[j] *= 0.5
            for j in range(i + 1, n):
                weights[j] *= 1.5
            break
        if tok in CONCESSIVE:
            # the concessive clause runs to the next boundary token (or the end)
            end = next((j for j in range(i + 1, n) if tokens[j] in _BOUNDARIES), n)
            for j in range(n):
                weights[j] *= 0.5 if i <= j < end else 1.5
            break
    return weights


def negated_flags(tokens: list[str]) -> list[bool]:
    """True for tokens within ``NEGATION_WINDOW`` words after a negator, stopping at punctuation
    and contrast words ("not bad, but slow": "bad" negated, "slow" not)."""
    flags = [False] * len(tokens)
    remaining = 0
    for i, tok in enumerate(tokens):
        if tok in _BOUNDARIES or tok in CONTRAST_AFTER or tok[0] in "!?":
            remaining = 0
            continue
        if is_negator(tok):
            remaining = NEGATION_WINDOW
            continue
        if remaining:
            flags[i] = True
            remaining -= 1
    return flags


def lexicon_scores(tokens: list[str]) -> tuple[float, float, float]:
    """(compound in [−1, 1], positive sum, negative sum) of a token list, VADER-style:
    boosters, negation flip (×−0.74), contrast weights, "!" emphasis."""
    lexicon = review_lexicon()
    booster = boosters()
    weights = clause_weights(tokens)
    negated = negated_flags(tokens)
    pos = neg = 0.0
    exclaims = 0
    prev = ""
    for i, tok in enumerate(tokens):
        valence = lexicon.get(tok)
        if valence is None:
            if tok[0] == "!":
                exclaims += len(tok)
            prev = tok
            continue
        boost = booster.get(prev)
        if boost is not None:
            valence += boost if valence > 0 else -boost
        if negated[i]:
            valence *= NEGATION_SCALAR
        valence *= weights[i]
        if valence > 0:
            pos += valence
        else:
            neg += valence
        prev = tok
    total = pos + neg
    if total and exclaims:
        emphasis = min(exclaims, 4) * EXCLAIM_BOOST
        total += emphasis if total > 0 else -emphasis
    compound = total / math.sqrt(total * total + COMPOUND_ALPHA) if total else 0.0
    return compound, pos, neg
