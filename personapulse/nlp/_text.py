"""Tokenising, clause splitting and stop words shared by the NLP modules.

Everything here is pure Python over strings; nothing is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Words (inner apostrophe kept: "didn't"), numbers, emoticons, "!" / "?" runs and , . ; : as
# boundary tokens (they end a negation scope and a concessive clause).
TOKEN_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[:;=]-?[()dp]|!+|\?+|[,.;:]")

NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "neither",
        "nor",
        "nowhere",
        "without",
        "cannot",
        "cant",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wasnt",
        "werent",
        "arent",
        "wont",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "hasnt",
        "havent",
        "hadnt",
        "aint",
        "hardly",
        "barely",
        "rarely",
        "seldom",
        "lack",
        "lacks",
        "lacking",
    }
)

# "X but Y": Y carries the verdict.
CONTRAST_AFTER = frozenset({"but", "however", "yet", "nevertheless", "nonetheless", "though"})
# "Although X, Y" / "Y, although X": the clause the concessive word opens is the weaker one.
CONCESSIVE = frozenset({"although", "though", "despite", "while", "whilst", "albeit"})

# Negation scope ends at clause punctuation or a contrast word, or after this many tokens.
NEGATION_WINDOW = 3

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | {"im", "ive", "its", "dont", "didnt", "doesnt", "just"}


def is_negator(token: str) -> bool:
    """True for "not", "never", "didn't", "cannot" … (apostrophes in any form)."""
    return token in NEGATORS or token.endswith("n't") or token.endswith("n’t")


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: words, emoticons, "!"/"?" runs and the boundary marks , . ; :"""
    return TOKEN_RE.findall(text.lower())


# Sentence boundaries for pain-point attribution (taxonomy.py cuts sentences into clauses).
_SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a text with its character offsets (``text[start:end] == piece``)."""

    start: int
    end: int
    piece: str


def sentences(text: str) -> list[Span]:
    """Sentences of ``text`` (split on . ! ? and newlines) with their offsets."""
    return [
        Span(m.start(), m.end(), m.group())
        for m in _SENTENCE_RE.finditer(text)
        if m.group().strip()
    ]
