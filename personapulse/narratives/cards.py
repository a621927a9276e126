"""Persona cards: every sentence carries the fact ids it restates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SECTIONS = ("profile", "behaviours", "pain_points", "journey", "strategy")
SECTION_TITLES = {
    "profile": "Profile",
    "behaviours": "Behaviours",
    "pain_points": "Pain points",
    "journey": "Journey",
    "strategy": "Marketing strategy",
}


@dataclass(frozen=True)
class Sentence:
    """One sentence and the fact ids it cites; ``pain_point`` is set on strategy items."""

    text: str
    cites: tuple[str, ...]
    pain_point: str | None = None

    def to_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text, "cites": list(self.cites)}
        if self.pain_point is not None:
            payload["pain_point"] = self.pain_point
        return payload

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Sentence:
        cites = payload.get("cites") or ()
        if isinstance(cites, str):
            cites = (cites,)
        return cls(
            text=str(payload.get("text") or ""),
            cites=tuple(str(c) for c in cites),
            pain_point=payload.get("pain_point"),
        )


@dataclass(frozen=True)
class PersonaCard:
    """A persona narrative: name, profile paragraph, behaviours, pain points, journey, strategy.

    ``strategy`` sentences each map one pain point (``Sentence.pain_point``) to a marketing
    opportunity. ``backend`` says who wrote it (``template`` or ``llm:<model>``).
    """

    persona_id: str
    name: str
    profile: tuple[Sentence, ...] = ()
    behaviours: tuple[Sentence, ...] = ()
    pain_points: tuple[Sentence, ...] = ()
    journey: tuple[Sentence, ...] = ()
    strategy: tuple[Sentence, ...] = ()
    backend: str = "template"
    fact_sheet_hash: str | None = None

    def sentences(self) -> Iterator[tuple[str, Sentence]]:
        """(section, sentence) for every sentence in reading order."""
        for section in SECTIONS:
            for sentence in getattr(self, section):
                yield section, sentence

    def to_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"persona_id": self.persona_id, "name": self.name}
        for section in SECTIONS:
            payload[section] = [s.to_dict() for s in getattr(self, section)]
        payload["backend"] = self.backend
        payload["fact_sheet_hash"] = self.fact_sheet_hash
        return payload

    @classmethod
    def from_dict(
        cls,
        payload: Mapping[str, Any],
        *,
        persona_id: str | None = None,
        backend: str | None = None,
        fact_sheet_hash: str | None = None,
    ) -> PersonaCard:
        """Build a card from its dict (or from an LLM answer, which has no id / backend)."""
        sections = {
            section: tuple(Sentence.from_dict(s) for s in payload.get(section) or ())
            for section in SECTIONS
        }
        return cls(
            persona_id=persona_id or str(payload.get("persona_id") or ""),
            name=str(payload.get("name") or ""),
            backend=backend or str(payload.get("backend") or "template"),
            fact_sheet_hash=fact_sheet_hash or payload.get("fact_sheet_hash"),
            **sections,
        )

    def to_markdown(self, *, citations: bool = True) -> str:
        """Markdown card; with ``citations`` each sentence ends with its fact ids in brackets."""

        def line(sentence: Sentence) -> str:
            if not citations or not sentence.cites:
                return sentence.text
            return f"{sentence.text} [{', '.join(sentence.cites)}]"

        out = [f"# {self.name}", ""]
        if self.profile:
            out += [" ".join(line(s) for s in self.profile), ""]
        for section in SECTIONS[1:]:
            items = getattr(self, section)
            if not items:
                continue
            out += [f"## {SECTION_TITLES[section]}", ""]
            for sentence in items:
                prefix = f"**{sentence.pain_point}**: " if sentence.pain_point else ""
                out.append(f"- {prefix}{line(sentence)}")
            out.append("")
        out.append(f"_Written by {self.backend}; persona {self.persona_id}._")
        return "\n".join(out) + "\n"
