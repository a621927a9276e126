"""Airtable as the persona store: build the snapshot from the store, sync, keep human edits.

The ``airtable_sync`` package speaks to Airtable; this module decides what goes there and writes the
human-owned fields that come back (display name, owner, interview notes …) into ``persona_meta``,
where every later refit and narrative picks them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Engine, select, update

from airtable_sync import AirtableConfig, AirtableConfigError, AirtableSync, HumanEdit, Snapshot
from personapulse.services import journeys as journey_service
from personapulse.services.personas import (
    NoPersonas,
    current_assignments,
    list_personas,
    list_versions,
)
from personapulse.services.reviews import pain_points
from personapulse.services.worker import job_handler
from personapulse.store import Store, now_ms, read_connection, write_transaction
from personapulse.store.schema import persona_meta, shifts

SYNC_JOB = "airtable.sync"
# After an erasure (services/erasure.py): the person's records go from Airtable, then a push.
ERASE_JOB = "airtable.erase"
DEFAULT_FUNNEL = ["/pricing", "Product Added", "Checkout Started", "Order Completed"]


def is_configured(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("AIRTABLE_TOKEN") and settings.get("AIRTABLE_BASE_ID"))


def config_from_settings(settings: dict) -> AirtableConfig:
    token, base_id = settings.get("AIRTABLE_TOKEN"), settings.get("AIRTABLE_BASE_ID")
    if not is_configured(settings):
        raise AirtableConfigError(
            "Airtable is not configured: set PERSONAPULSE_AIRTABLE_TOKEN (a personal access token with "
            "data.records:read/write and schema.bases:read/write) and PERSONAPULSE_AIRTABLE_BASE_ID"
        )
    return AirtableConfig(
        token=token,
        base_id=base_id,
        endpoint_url=settings.get("AIRTABLE_ENDPOINT_URL") or None,
        retry_wait_seconds=float(settings.get("AIRTABLE_RETRY_WAIT_SECONDS") or 30.0),
    )


def build_snapshot(engine: Engine) -> Snapshot:
    """Everything computed that Airtable mirrors, as the JSON API shows it."""
    try:
        version, personas = list_personas(engine)
    except NoPersonas:
        return Snapshot()
    from personapulse.services.narratives import list_recommendations

    rows = journey_service.json_records(pain_points(engine, current_assignments(engine)))
    funnel = journey_service.run_funnel(
        engine, {"steps": DEFAULT_FUNNEL, "window": "14d", "breakdown": "persona"}
    )
    funnel_steps = [{"persona_id": None, **step} for step in funnel["steps"]]
    for persona_id, steps in (funnel.get("breakdown") or {}).items():
        funnel_steps += [{"persona_id": persona_id, **step} for step in steps]
    with read_connection(engine) as conn:
        shift_rows = conn.execute(
            select(shifts).order_by(shifts.c.detected_ms.desc()).limit(500)
        ).all()
    return Snapshot(
        personas=personas,
        version={k: v for k, v in version.items() if k != "candidates"},
        versions=list_versions(engine),
        pain_points=rows,
        funnel_steps=funnel_steps,
        recommendations=list_recommendations(engine),
        shifts=[
            {
                "id": r.id,
                "persona_id": r.persona_id,
                "kind": r.kind,
                "severity": r.severity,
                "summary": r.summary,
                "detected_ms": r.detected_ms,
                "evidence": orjson.loads(r.evidence),
            }
            for r in shift_rows
        ],
        interview_shortlist=[
            {"persona_id": p["persona_id"], **item}
            for p in personas
            for item in p["profile"].get("interview_shortlist", [])
        ],
    )


def apply_human_edits(engine: Engine, edits: list[HumanEdit]) -> int:
    """Human-owned fields win for what humans own; computed fields are never touched here."""
    changed = 0
    with write_transaction(engine) as conn:
        known = set(conn.execute(select(persona_meta.c.persona_id)).scalars())
        for edit in edits:
            if edit.persona_id not in known:
                continue
            result = conn.execute(
                update(persona_meta)
                .where(persona_meta.c.persona_id == edit.persona_id)
                .values(
                    display_name=edit.display_name,
                    owner=edit.owner,
                    interview_notes=edit.interview_notes,
                    qualitative_insights=edit.qualitative_insights,
                    do_not_target=bool(edit.do_not_target),
                    updated_ms=now_ms(),
                )
            )
            changed += result.rowcount
    return changed


def bootstrap(settings: dict) -> dict:
    with AirtableSync(config_from_settings(settings)) as client:
        return client.bootstrap()


def sync(store: Store, settings: dict, *, progress=None) -> dict[str, Any]:
    """Pull human edits into the store, then push the computed snapshot (with those edits applied)."""
    with AirtableSync(config_from_settings(settings), progress=progress) as client:
        edits = client.pull()
        applied = apply_human_edits(store.engine, edits)
        report = client.push(build_snapshot(store.engine))
    return {"human_edits_applied": applied, **report.to_dict()}


@job_handler(SYNC_JOB)
def _sync_job(store: Store, _params: dict, settings: dict) -> dict:
    return sync(store, settings)


def erase(store: Store, settings: dict, *, salt: str, person_hashes: list[str]) -> dict[str, Any]:
    """Delete the interview-shortlist records of an erased person, then push the scrubbed snapshot.

    The person is known here only by salted hashes of their ids (``erasure.subject_hash``), so the
    job's parameters hold no personal data. Human edits are not pulled: notes typed in Airtable are
    the operator's text, and pulling them would bring back what the erasure scrubbed locally.
    """
    from airtable_sync import schema as airtable_schema
    from personapulse.services.erasure import subject_hash

    wanted = set(person_hashes)
    with AirtableSync(config_from_settings(settings)) as client:
        removed = client.delete_matching(
            airtable_schema.INTERVIEW_SHORTLIST,
            "Person ID",
            lambda value: subject_hash(value, salt) in wanted,
        )
        pushed = client.push(build_snapshot(store.engine))
    return {
        "records_deleted": sum(t.deleted for t in removed.tables.values()),
        "push": pushed.to_dict(),
    }


@job_handler(ERASE_JOB)
def _erase_job(store: Store, params: dict, settings: dict) -> dict:
    return erase(store, settings, salt=params["salt"], person_hashes=params["person_hashes"])
