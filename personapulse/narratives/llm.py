"""LLM narrator over any OpenAI-compatible chat-completions endpoint.

The client is injected (``openai.OpenAI(base_url=..., api_key=..., timeout=..., max_retries=...)``)
so its timeout and retries are the client's own. Answers are structured output against
:data:`CARD_SCHEMA`, at temperature 0, and cached by the fact sheet's hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from personapulse.narratives.cards import PersonaCard
from personapulse.narratives.facts import FactSheet

PROMPT_VERSION = "2"

SYSTEM_PROMPT = """You write marketing persona cards from a fact sheet.
Rules:
- Convert each cluster into a persona: the fact sheet describes one cluster of real users.
- Do not invent new data. Only summarise patterns from the input.
- Map each pain point to a marketing opportunity (one strategy item per pain point, with its label in "pain_point").
- Cite fact ids for every sentence: each sentence lists in "cites" the ids of the facts it restates.
- Every number, percentage, channel, page path, journey step and pain-point label you write must appear in a fact you cite. Write figures as digits (never as words) and round percentages to whole numbers or one decimal.
- Use the persona's name exactly as given in the fact "persona". Never mention other personas.
- Quote customers only verbatim from the "examples" of a cited fact.
Answer with JSON matching the schema, nothing else."""

_SENTENCE = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "cites": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["text", "cites"],
    "additionalProperties": False,
}
_STRATEGY_ITEM = {
    "type": "object",
    "properties": {
        "pain_point": {"type": "string"},
        "text": {"type": "string"},
        "cites": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["pain_point", "text", "cites"],
    "additionalProperties": False,
}
CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "profile": {"type": "array", "items": _SENTENCE},
        "behaviours": {"type": "array", "items": _SENTENCE},
        "pain_points": {"type": "array", "items": _SENTENCE},
        "journey": {"type": "array", "items": _SENTENCE},
        "strategy": {"type": "array", "items": _STRATEGY_ITEM},
    },
    "required": ["name", "profile", "behaviours", "pain_points", "journey", "strategy"],
    "additionalProperties": False,
}


class LLMAnswerError(ValueError):
    """The model answered, but not with a card matching the schema."""


def _facts_prompt(sheet: FactSheet) -> str:
    facts = [{"id": f.id, "statement": f.statement, "values": f.values} for f in sheet.facts]
    return json.dumps(
        {"persona_id": sheet.persona_id, "name": sheet.name, "facts": facts},
        ensure_ascii=False,
        sort_keys=True,
    )


def _validate(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise LLMAnswerError("the answer is not a JSON object")
    missing = [key for key in CARD_SCHEMA["required"] if key not in answer]
    if missing:
        raise LLMAnswerError(f"the answer is missing {', '.join(missing)}")
    if not isinstance(answer["name"], str):
        raise LLMAnswerError("name is not a string")
    for section in CARD_SCHEMA["required"][1:]:
        items = answer[section]
        if not isinstance(items, list) or not all(
            isinstance(item, dict)
            and isinstance(item.get("text"), str)
            and isinstance(item.get("cites"), list)
            for item in items
        ):
            raise LLMAnswerError(f"{section} is not a list of {{text, cites}} objects")
    return answer


class LLMNarrator:
    """Narrates through an OpenAI-compatible chat-completions API.

    ``cache`` maps ``cache_key(sheet)`` (the sheet's hash + model + prompt version) to the
    model's parsed answer, so the same facts never cost a second request.
    """

    def __init__(
        self,
        client: Any,
        model: str,
        *,
        cache: MutableMapping[str, dict] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.cache = cache

    @property
    def backend(self) -> str:
        return f"llm:{self.model}"

    def cache_key(self, sheet: FactSheet) -> str:
        return f"{sheet.hash}:{self.model}:{PROMPT_VERSION}"

    def messages(self, sheet: FactSheet) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _facts_prompt(sheet)},
        ]

    def answer(self, sheet: FactSheet) -> dict[str, Any]:
        """The model's parsed answer for ``sheet`` (from the cache when present)."""
        key = self.cache_key(sheet)
        if self.cache is not None and key in self.cache:
            return self.cache[key]
        response = self.client.chat.completions.create(
            model=self.model,
            messages=self.messages(sheet),
            temperature=0,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "persona_card", "strict": True, "schema": CARD_SCHEMA},
            },
        )
        if not response.choices:
            raise LLMAnswerError("the answer has no choices")
        content = response.choices[0].message.content
        if not content:
            raise LLMAnswerError("the answer is empty (refusal or length limit)")
        try:
            parsed = json.loads(content)
        except json.JSONDecodeError as exc:
            raise LLMAnswerError(f"the answer is not JSON: {exc}") from exc
        answer = _validate(parsed)
        if self.cache is not None:
            self.cache[key] = answer
        return answer

    def narrate(self, sheet: FactSheet) -> PersonaCard:
        return PersonaCard.from_dict(
            self.answer(sheet),
            persona_id=sheet.persona_id,
            backend=self.backend,
            fact_sheet_hash=sheet.hash,
        )


def llm_client_from_settings(settings: Mapping[str, Any]) -> tuple[Any, str] | None:
    """``(openai.OpenAI client, model)`` from ``LLM_BASE_URL`` / ``LLM_MODEL`` / ``LLM_API_KEY`` /
    ``LLM_TIMEOUT`` (seconds, default 30) / ``LLM_MAX_RETRIES`` (default 2) in ``settings``
    (``load_settings()`` passes ``PERSONAPULSE_LLM_*`` through); None when no model is set."""
    model = settings.get("LLM_MODEL")
    if not model:
        return None
    import openai

    base_url = settings.get("LLM_BASE_URL") or None
    # Local OpenAI-compatible servers (vLLM, Ollama …) need no key, but the client requires one;
    # without a base URL the client falls back to OPENAI_API_KEY itself.
    api_key = settings.get("LLM_API_KEY") or ("unused" if base_url else None)
    retries = settings.get("LLM_MAX_RETRIES")
    timeout = settings.get("LLM_TIMEOUT")
    client = openai.OpenAI(
        base_url=base_url,
        api_key=api_key,
        timeout=float(timeout) if timeout not in (None, "") else 30.0,
        max_retries=int(retries) if retries not in (None, "") else 2,
    )
    return client, str(model)
