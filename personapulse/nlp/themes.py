"""Emergent themes: TF-IDF + NMF over (negative) texts, so that complaints the taxonomy lacks
surface with their own label (top terms) and example quotes."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from personapulse.nlp._text import STOP_WORDS
from personapulse.nlp.taxonomy import detect_pain_points

# a theme "is" a taxonomy label when at least this share of its texts carry that pain point
TAXONOMY_MATCH_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Theme:
    """``label``: its top terms joined by " / "; ``terms``: top terms, best first; ``size``: texts
    assigned to it; ``examples``: up to ``n_examples`` texts that load on it most;
    ``matches_taxonomy``: the pain-point label most of its texts carry, or None for a new theme."""

    label: str
    terms: list[str]
    size: int
    examples: list[str] = field(default_factory=list)
    matches_taxonomy: str | None = None


def _label(terms: list[str], n: int = 3) -> str:
    picked: list[str] = []
    for t in terms:
        # skip a word already inside a picked phrase and vice versa ("late" vs "late delivery")
        if any(t in p.split() or p in t.split() for p in picked):
            continue
        picked.append(t)
        if len(picked) == n:
            break
    return " / ".join(picked)


def discover_themes(
    texts: Sequence[str],
    *,
    n_themes: int = 8,
    min_docs: int = 3,
    n_terms: int = 8,
    n_examples: int = 3,
    random_state: int = 0,
) -> list[Theme]:
    """Themes of ``texts`` (pass the negative ones to find pain points), largest first.

    Each text goes to the NMF component it loads on most (texts with no weight go nowhere);
    themes with fewer than ``min_docs`` texts are dropped. Deterministic for a given
    ``random_state``.
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(docs) < max(min_docs, 2) or n_themes < 1:
        return []
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        stop_words=sorted(STOP_WORDS),
        min_df=2,
        max_df=0.9,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # empty vocabulary
        return []
    k = min(n_themes, matrix.shape[0], matrix.shape[1])
    if k < 1:
        return []
    nmf = NMF(n_components=k, init="nndsvd", max_iter=500, random_state=random_state)
    with warnings.catch_warnings():
        # an unconverged factorisation still ranks terms usefully; do not fail on it
        warnings.simplefilter("ignore", ConvergenceWarning)
        doc_topic = nmf.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    assigned = doc_topic.argmax(axis=1)
    has_weight = doc_topic.max(axis=1) > 0
    themes: list[Theme] = []
    for topic in range(k):
        members = np.flatnonzero((assigned == topic) & has_weight)
        if len(members) < min_docs:
            continue
        top_terms = [str(terms[i]) for i in np.argsort(-nmf.components_[topic])[:n_terms]]
        ranked = members[np.argsort(-doc_topic[members, topic], kind="stable")]
        labels = Counter()
        for i in members:
            labels.update({p["label"] for p in detect_pain_points(docs[i], context_score=-0.5)})
        match = None
        if labels:
            label, count = labels.most_common(1)[0]
            if count / len(members) >= TAXONOMY_MATCH_SHARE:
                match = label
        themes.append(
            Theme(
                label=_label(top_terms),
                terms=top_terms,
                size=int(len(members)),
                examples=[docs[i] for i in ranked[:n_examples]],
                matches_taxonomy=match,
            )
        )
    themes.sort(key=lambda t: (-t.size, t.label))
    return themes
