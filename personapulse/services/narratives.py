"""Persona cards and recommendations in the store: generated after each refresh, served from there.

Cards are written by the template narrator, or by an LLM when ``PERSONAPULSE_LLM_MODEL`` is set; every
LLM answer goes through the grounding check and falls back to the template when it claims anything
the facts do not back (the rejection is stored and served with the card).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, select

from personapulse.narratives import (
    FactSheet,
    LLMNarrator,
    PersonaCard,
    TemplateNarrator,
    build_fact_sheet,
    llm_client_from_settings,
    narrate_grounded,
    recommend,
)
from personapulse.services import journeys as journey_service
from personapulse.services.personas import NoPersonas, current_assignments, list_personas
from personapulse.services.reviews import pain_points
from personapulse.store import now_ms, read_connection, serialize, write_transaction
from personapulse.store.schema import llm_cache, persona_cards, persona_versions, recommendations

log = logging.getLogger(__name__)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


class StoreCache(MutableMapping[str, dict]):
    """LLM answers cached by fact-sheet hash in the store, shared by every worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __getitem__(self, key: str) -> dict:
        with read_connection(self.engine) as conn:
            row = conn.execute(select(llm_cache.c.answer).where(llm_cache.c.key == key)).scalar()
        if row is None:
            raise KeyError(key)
        return orjson.loads(row)

    def __setitem__(self, key: str, value: dict) -> None:
        with write_transaction(self.engine) as conn:
            serialize(conn, f"llm_cache:{key}")
            conn.execute(delete(llm_cache).where(llm_cache.c.key == key))
            conn.execute(
                insert(llm_cache).values(key=key, answer=_dumps(value), created_ms=now_ms())
            )

    def __delitem__(self, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(llm_cache).where(llm_cache.c.key == key))

    def __iter__(self) -> Iterator[str]:
        with read_connection(self.engine) as conn:
            return iter(conn.execute(select(llm_cache.c.key)).scalars().all())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _previous_shares(engine: Engine, version: dict) -> dict[str, float]:
    previous_id = version["provenance"].get("previous_version")
    if not previous_id:
        return {}
    try:
        _, previous = list_personas(engine, previous_id)
    except NoPersonas:
        return {}
    return {p["persona_id"]: p["share"] for p in previous}


def fact_sheets(engine: Engine) -> tuple[dict, list[dict], list[FactSheet]]:
    """The current version, its personas and one fact sheet each (everything the engine measured)."""
    version, personas = list_personas(engine)
    pain_table = pain_points(engine, current_assignments(engine))
    pains = journey_service.json_records(pain_table)
    journeys = journey_service.journeys(engine, pains=pain_table)
    previous = _previous_shares(engine, version)
    sheets = [
        build_fact_sheet(
            persona,
            gate=version["gate"],
            pain_points=pains,
            paths=journeys["paths"],
            dropoffs=journeys["dropoffs"],
            transitions=journeys["transitions"],
            previous_share=previous.get(persona["persona_id"]),
            total_users=journeys["persons"],
        )
        for persona in personas
    ]
    return version, personas, sheets


def generate(engine: Engine, settings: dict) -> dict:
    """Write cards and recommendations for the current version; emit new recommendations."""
    from personapulse.services.outbound import emit

    version, personas, sheets = fact_sheets(engine)
    found = llm_client_from_settings(settings)
    llm = LLMNarrator(*found, cache=StoreCache(engine)) if found else None
    names = [p["name"] for p in personas]
    rows = []
    backends: dict[str, int] = {}
    for persona, sheet in zip(personas, sheets, strict=True):
        card, report, backend = narrate_grounded(
            sheet,
            llm=llm,
            template=TemplateNarrator(),
            other_personas=[n for n in names if n != persona["name"]],
        )
        backends[backend] = backends.get(backend, 0) + 1
        rows.append(
            {
                "version_id": version["version_id"],
                "persona_id": persona["persona_id"],
                "backend": backend,
                "card": _dumps(card.to_dict()),
                "facts": _dumps(sheet.to_dict()),
                "grounding": _dumps(report.to_dict()),
                "rejection": _dumps(report.to_dict())
                if llm is not None and backend != "llm"
                else None,
                "created_ms": now_ms(),
            }
        )
    found_recommendations = recommend(sheets)
    with write_transaction(engine) as conn:
        serialize(conn, f"narratives:{version['version_id']}")
        previous_ids = set(
            conn.execute(
                select(recommendations.c.id)
                .join(persona_versions, persona_versions.c.id == recommendations.c.version_id)
                .where(persona_versions.c.id != version["version_id"])
            ).scalars()
        )
        conn.execute(
            delete(persona_cards).where(persona_cards.c.version_id == version["version_id"])
        )
        conn.execute(
            delete(recommendations).where(recommendations.c.version_id == version["version_id"])
        )
        if rows:
            conn.execute(insert(persona_cards), rows)
        for recommendation in found_recommendations:
            data = recommendation.to_dict()
            conn.execute(
                insert(recommendations).values(
                    id=data["id"],
                    version_id=version["version_id"],
                    persona_id=data.get("persona_id"),
                    kind=data["rule"],
                    title=data["title"],
                    action=data["action"],
                    priority=data["priority"],
                    evidence=_dumps(data),
                    created_ms=now_ms(),
                )
            )
            if data["id"] not in previous_ids:
                emit(
                    conn,
                    "recommendation.created",
                    {**data, "recommendation_id": data["id"], "version_id": version["version_id"]},
                )
    return {"cards": len(rows), "backends": backends, "recommendations": len(found_recommendations)}


def get_card(engine: Engine, persona_id: str, settings: dict) -> dict | None:
    """The stored card of a persona in the current version (written now if the refresh left none)."""
    version, personas = list_personas(engine)
    if persona_id not in {p["persona_id"] for p in personas}:
        return None
    row = _card_row(engine, version["version_id"], persona_id)
    if row is None:
        generate(engine, settings)
        row = _card_row(engine, version["version_id"], persona_id)
    return {
        "persona_id": persona_id,
        "version_id": version["version_id"],
        "backend": row.backend,
        "card": orjson.loads(row.card),
        "grounding": orjson.loads(row.grounding),
        "rejection": orjson.loads(row.rejection) if row.rejection else None,
        "facts": orjson.loads(row.facts),
    }


def _card_row(engine: Engine, version_id: str, persona_id: str):
    with read_connection(engine) as conn:
        return conn.execute(
            select(persona_cards).where(
                persona_cards.c.version_id == version_id, persona_cards.c.persona_id == persona_id
            )
        ).first()


def card_markdown(card: dict) -> str:
    return PersonaCard.from_dict(card["card"]).to_markdown()


def list_recommendations(engine: Engine, *, persona_id: str | None = None) -> list[dict]:
    version, _ = list_personas(engine)
    query = select(recommendations).where(recommendations.c.version_id == version["version_id"])
    if persona_id:
        query = query.where(recommendations.c.persona_id == persona_id)
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    order = {"high": 0, "medium": 1, "low": 2}
    out = [orjson.loads(r.evidence) | {"version_id": r.version_id} for r in rows]
    return sorted(out, key=lambda r: (order.get(r["priority"], 3), r["id"]))


def report_markdown(engine: Engine, settings: dict) -> str:
    """Every persona's card, one Markdown document."""
    version, personas = list_personas(engine)
    parts = [
        f"# Personas — version {version['version_id']}",
        "",
        f"{version['k']} personas; reliability gate: {'passed' if version['reliable'] else 'NOT passed: ' + '; '.join(version['gate'].get('reasons', []))}.",
        "",
    ]
    for persona in personas:
        card = get_card(engine, persona["persona_id"], settings)
        parts += [card_markdown(card), ""]
    recs = list_recommendations(engine)
    if recs:
        parts += ["## Recommendations", ""]
        parts += [f"- **{r['title']}** ({r['priority']}): {r['action']}" for r in recs]
    return "\n".join(parts) + "\n"
