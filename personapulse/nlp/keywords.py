"""Keywords and key phrases without downloaded models.

- ``extract_keywords(text)``: RAKE-like phrases of one text (runs of content words between stop
  words and punctuation, scored by word degree / frequency), pure sentiment words dropped.
- ``top_keyphrases(texts)``: phrases of a corpus ranked by summed TF-IDF (1–3-grams, stop words
  removed, phrases in at least ``min_docs`` texts).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from personapulse.nlp._text import STOP_WORDS
from personapulse.nlp.lexicon import review_lexicon

_WORD_RE = re.compile(r"[a-z][a-z0-9'’-]*[a-z0-9]|[a-z]|[.,;:!?()\"]|\n")
MAX_PHRASE_WORDS = 3
# a word this strongly valenced is an opinion, not a topic ("great", "terrible")
_OPINION_VALENCE = 1.0


def _candidates(text: str) -> list[list[str]]:
    phrases: list[list[str]] = []
    current: list[str] = []
    for tok in _WORD_RE.findall(text.lower()):
        tok = tok.replace("’", "'")
        if not tok[0].isalpha() or tok in STOP_WORDS or "'" in tok:
            if current:
                phrases.append(current)
            current = []
            continue
        current.append(tok)
    if current:
        phrases.append(current)
    out = []
    for phrase in phrases:
        # long runs are cut into pieces of at most MAX_PHRASE_WORDS words
        for i in range(0, len(phrase), MAX_PHRASE_WORDS):
            out.append(phrase[i : i + MAX_PHRASE_WORDS])
    return out


def extract_keywords(text: str, *, top_n: int = 5) -> list[str]:
    """Up to ``top_n`` key phrases of ``text``, best first (lower-cased)."""
    if not text:
        return []
    lexicon = review_lexicon()
    phrases = []
    for phrase in _candidates(text):
        content = [w for w in phrase if abs(lexicon.get(w, 0.0)) < _OPINION_VALENCE]
        # trim opinion words at the edges: "terrible customer service" -> "customer service"
        while phrase and abs(lexicon.get(phrase[0], 0.0)) >= _OPINION_VALENCE:
            phrase = phrase[1:]
        while phrase and abs(lexicon.get(phrase[-1], 0.0)) >= _OPINION_VALENCE:
            phrase = phrase[:-1]
        if not content or not phrase:
            continue
        if len(phrase) == 1 and len(phrase[0]) < 3:
            continue
        phrases.append(phrase)
    freq: dict[str, int] = defaultdict(int)
    degree: dict[str, int] = defaultdict(int)
    for phrase in phrases:
        for w in phrase:
            freq[w] += 1
            degree[w] += len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        key = " ".join(phrase)
        score = sum(degree[w] / freq[w] for w in phrase)
        scored[key] = max(scored.get(key, 0.0), score)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ranked[:top_n]]


def top_keyphrases(
    texts: Sequence[str], *, top_n: int = 20, min_docs: int = 2
) -> list[tuple[str, float]]:
    """(phrase, summed TF-IDF weight) of the ``top_n`` phrases of a corpus, best first."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(docs) < max(min_docs, 1):
        return []
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 3),
        stop_words=sorted(STOP_WORDS),
        min_df=min_docs,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # nothing left after stop words / min_df
        return []
    weights = matrix.sum(axis=0).A1
    terms = vectorizer.get_feature_names_out()
    order = sorted(range(len(terms)), key=lambda i: (-weights[i], terms[i]))
    return [(str(terms[i]), float(weights[i])) for i in order[:top_n]]
