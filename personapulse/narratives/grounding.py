"""Grounding check: every sentence of a card must be backed by the facts it cites.

Checked per sentence: it cites at least one fact, every cited id exists, and every number,
percentage, channel, page path, journey step, pain-point label, quote and persona id in the text
matches a cited fact (numbers up to the rounding of the written figure: 23.4 % and 0.234 are both
"23 %"). The card's name must be one of the persona's names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from personapulse.narratives.cards import PersonaCard, Sentence
from personapulse.narratives.facts import PP, SHARE, Fact, FactSheet
from personapulse.narratives.template import Narrator
from personapulse.narratives.vocabulary import (
    PAGE_PATH,
    all_labels,
    channel_supported,
    channels_in,
    labels_in,
    pages_in,
)

LABEL_SECTIONS = frozenset({"pain_points", "strategy"})

_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|(?<![\w])'([^']+)'(?![\w])")
_PERSONA_ID = re.compile(r"\bp_[0-9a-f]{8}\b")
_NUMBER = re.compile(
    r"(?<![\w.])[+\-−]?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?!\d)\s*(%|percent\b|per cent\b|percentage points?\b|pp\b)?",
    re.IGNORECASE,
)

# Figures written as words cannot be compared with the facts, so they are not allowed ("one" is
# left out: "one customer wrote" is how quotes are introduced).
_NUMBER_WORD = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?|half|twice|"
    r"thrice|double|triple)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Issue:
    """One unsupported claim: where it is, what kind, and what was wrong."""

    section: str
    index: int
    kind: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "index": self.index,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class GroundingReport:
    """Result of :func:`check_card`; ``passed`` only when there is no issue at all."""

    persona_id: str
    backend: str
    sentences: int
    grounded_sentences: int
    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.issues

    @property
    def grounded_share(self) -> float:
        return self.grounded_sentences / self.sentences if self.sentences else 0.0

    @property
    def reasons(self) -> list[str]:
        """Plain-language reasons, one per issue."""
        return [f"{i.section}[{i.index}] {i.kind}: {i.detail}" for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona_id": self.persona_id,
            "backend": self.backend,
            "passed": self.passed,
            "sentences": self.sentences,
            "grounded_sentences": self.grounded_sentences,
            "grounded_share": self.grounded_share,
            "issues": [issue.to_dict() for issue in self.issues],
            "reasons": self.reasons,
        }


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .,!?;:")


def _number_supported(written: float, decimals: int, unit_word: str, facts: list[Fact]) -> bool:
    tolerance = 0.5 * 10.0**-decimals + 1e-9
    percent = bool(unit_word)
    for fact in facts:
        for value, unit in fact.numbers():
            if percent:
                candidates = [value * 100] if unit == SHARE else [value] if unit == PP else []
            else:
                candidates = [value]
            if any(abs(abs(written) - abs(c)) <= tolerance for c in candidates):
                return True
    return False


def _strip_quotes(text: str, cited: list[Fact], names: tuple[str, ...]) -> tuple[str, list[str]]:
    """Remove verbatim quotes of cited examples / names; return the text and invented quotes."""
    allowed = {_norm(n) for n in names}
    for fact in cited:
        for key in ("examples", "label", "last_step", "path"):
            value = fact.values.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    allowed.add(_norm(item))
        allowed.update(_norm(term) for term in fact.terms)
    invented = []

    def replace(match: re.Match[str]) -> str:
        quoted = next(group for group in match.groups() if group is not None)
        wanted = _norm(quoted)
        if wanted in allowed:
            return " "
        if any(wanted in _norm(fact.statement) for fact in cited):
            # Words quoted from a statement (e.g. "'coupon applied' events") are not customer
            # quotes: keep them in the text so their figures and names are still checked.
            return " " + quoted + " "
        invented.append(quoted)
        return " "

    return _QUOTED.sub(replace, text), invented


def _sentence_issues(
    section: str,
    index: int,
    sentence: Sentence,
    sheet: FactSheet,
    labels: tuple[str, ...],
    steps: frozenset[str],
) -> list[Issue]:
    issues: list[Issue] = []

    def add(kind: str, detail: str) -> None:
        issues.append(Issue(section, index, kind, detail))

    if not sentence.text.strip():
        add("empty_sentence", "the sentence has no text")
    if not sentence.cites:
        add("no_citation", f"no fact id cited for {sentence.text[:80]!r}")
    known = sheet.by_id
    for fact_id in sentence.cites:
        if fact_id not in known:
            add("unknown_fact", f"cites {fact_id!r}, which is not in the fact sheet")
    cited = [known[f] for f in sentence.cites if f in known]
    terms = {term for fact in cited for term in fact.terms}

    text, invented = _strip_quotes(sentence.text, cited, sheet.names)
    for quote in invented:
        add("unsupported_quote", f"quote {quote!r} is not an example of a cited fact")
    for persona_id in _PERSONA_ID.findall(text):
        if persona_id != sheet.persona_id:
            add("unknown_persona", f"mentions persona {persona_id}, not {sheet.persona_id}")
    text = _PERSONA_ID.sub(" ", text)
    for page in pages_in(text):
        if page not in terms:
            add("unsupported_page", f"page {page} is not in the cited facts")
    text = PAGE_PATH.sub(" ", text)
    for step in steps:
        if step in text:
            if step not in terms:
                add("unsupported_step", f"step {step!r} is not in the cited facts")
            text = text.replace(step, " ")
    for channel in dict.fromkeys(channels_in(text)):
        if not channel_supported(channel, terms):
            add("unsupported_channel", f"channel {channel!r} is not in the cited facts")
    for label in dict.fromkeys(labels_in(text, labels, single_words=section in LABEL_SECTIONS)):
        if label not in terms:
            add("unsupported_label", f"pain point / motivation {label!r} is not a cited fact")
    if sentence.pain_point is not None and sentence.pain_point not in terms:
        add(
            "unsupported_label",
            f"strategy item maps {sentence.pain_point!r}, which no cited fact supports",
        )
    stated = " ".join(fact.statement.lower() for fact in cited)
    for word in _NUMBER_WORD.findall(text):
        if re.search(rf"\b{word.lower()}\b", stated):
            continue  # the service's own sentence uses the word
        add("spelled_out_number", f"{word!r}: figures must be written as digits to be checked")
    for match in _NUMBER.finditer(text):
        whole = match.group(1).replace(",", "")
        decimals = match.group(2) or ""
        written = float(f"{whole}.{decimals}" if decimals else whole)
        unit = (match.group(3) or "").lower()
        if not _number_supported(written, len(decimals), unit, cited):
            shown = match.group(0).strip()
            add("unsupported_number", f"{shown} matches no value of the cited facts")
    return issues


def check_card(
    card: PersonaCard, sheet: FactSheet, *, other_personas: Iterable[str] = ()
) -> GroundingReport:
    """Check every sentence of ``card`` against ``sheet``; see the module docstring for the rules.

    ``other_personas``: names of the version's other personas; a card that names one of them
    (as its name or in a sentence) fails as ``unknown_persona``.
    """
    issues: list[Issue] = []
    others = [
        name for name in dict.fromkeys(other_personas) if _norm(name) not in map(_norm, sheet.names)
    ]
    if card.persona_id and card.persona_id != sheet.persona_id:
        issues.append(
            Issue(
                "name",
                0,
                "unknown_persona",
                f"card is for {card.persona_id}, not {sheet.persona_id}",
            )
        )
    if _norm(card.name) not in {_norm(name) for name in sheet.names}:
        issues.append(
            Issue("name", 0, "unknown_persona", f"no persona is called {card.name!r} here")
        )
    labels = tuple(
        dict.fromkeys(
            (
                *all_labels(),
                *(
                    t
                    for f in sheet.facts
                    if f.kind in ("pain_point", "motivation")
                    for t in f.terms
                ),
            )
        )
    )
    steps = frozenset(
        term
        for fact in sheet.facts
        if fact.kind in ("path", "dropoff", "transition")
        for term in fact.terms
        if not term.startswith("/") and " " in term
    )
    sentences = list(card.sentences())
    if not sentences:
        issues.append(Issue("card", 0, "empty_card", "the card has no sentences"))
    grounded = 0
    counters: dict[str, int] = {}
    for section, sentence in sentences:
        index = counters.get(section, 0)
        counters[section] = index + 1
        found = _sentence_issues(section, index, sentence, sheet, labels, steps)
        lowered = sentence.text.lower()
        found += [
            Issue(section, index, "unknown_persona", f"mentions another persona, {name!r}")
            for name in others
            if re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered)
        ]
        issues += found
        grounded += not found
    return GroundingReport(
        persona_id=sheet.persona_id,
        backend=card.backend,
        sentences=len(sentences),
        grounded_sentences=grounded,
        issues=tuple(issues),
    )


def narrate_grounded(
    sheet: FactSheet,
    *,
    llm: Narrator | None,
    template: Narrator,
    other_personas: Iterable[str] = (),
) -> tuple[PersonaCard, GroundingReport, str]:
    """Narrate with the LLM when given, keep its card only when it is fully grounded.

    Returns ``(card, report, backend)``: ``backend`` is ``"llm"`` or ``"template"``; ``report``
    is the check of the LLM answer when an LLM was asked (so a rejection and its reasons can be
    stored and shown), else the check of the template card. An LLM error (timeout, HTTP error,
    malformed answer) counts as a rejection with kind ``llm_error``.
    """
    if llm is None:
        card = template.narrate(sheet)
        return card, check_card(card, sheet, other_personas=other_personas), "template"
    try:
        answer = llm.narrate(sheet)
    except Exception as exc:  # any failure of the remote model falls back, with the reason kept
        report = GroundingReport(
            persona_id=sheet.persona_id,
            backend=getattr(llm, "backend", "llm"),
            sentences=0,
            grounded_sentences=0,
            issues=(Issue("card", 0, "llm_error", f"{type(exc).__name__}: {exc}"),),
        )
        return template.narrate(sheet), report, "template"
    report = check_card(answer, sheet, other_personas=other_personas)
    if report.passed:
        return answer, report, "llm"
    return template.narrate(sheet), report, "template"
