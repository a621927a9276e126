"""From a snapshot of the service's JSON to the engine-owned Airtable fields, and the diff.

Pure functions, no network. Link fields are built as lists of *keys* (persona ids, version ids)
and swapped for Airtable record ids with :func:`resolve_links` once those records exist.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from airtable_sync import schema
from airtable_sync.schema import FieldSpec, TableSpec


@dataclass(frozen=True)
class DesiredRecord:
    """The engine-owned fields one Airtable record should hold, keyed on the table's key field."""

    key: str
    fields: dict[str, Any]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_text(value: Any) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return value or None
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str)


def _as_lines(value: Any) -> str | None:
    """A list of plain strings one per line (readable in a long-text cell); anything else JSON."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return "\n".join(value) or None
    return _as_text(value)


def _ms_to_iso(value: Any) -> str | None:
    if _is_missing(value):
        return None
    moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_value(spec: FieldSpec, value: Any) -> Any:
    """The value as the Airtable API takes it for a field of ``spec``'s type; None clears."""
    if _is_missing(value):
        return False if spec.type == "checkbox" else None
    match spec.type:
        case "number":
            precision = spec.precision or 0
            rounded = round(float(value), precision)
            return int(rounded) if precision == 0 else rounded
        case "percent":
            # Airtable stores the fraction; precision counts digits of the percentage.
            return round(float(value), (spec.precision or 0) + 2)
        case "checkbox":
            return bool(value)
        case "singleLineText" | "singleSelect":
            text = str(value)
            return text or None
        case "multilineText":
            return _as_text(value)
        case "dateTime":
            return value if isinstance(value, str) else _ms_to_iso(value)
        case "multipleRecordLinks":
            return list(value) if value else []
    return value


def normalise(spec: FieldSpec, value: Any) -> Any:
    """A comparable form: Airtable omits empty fields, returns 12 for 12.0, ISO dates with ms."""
    if _is_missing(value) or value == "" or value == []:
        return False if spec.type == "checkbox" else None
    match spec.type:
        case "number":
            return round(float(value), spec.precision or 0)
        case "percent":
            return round(float(value), (spec.precision or 0) + 2)
        case "checkbox":
            return bool(value)
        case "dateTime":
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return int(round(moment.timestamp() * 1000))
        case "multipleRecordLinks":
            return tuple(sorted(value))
    return value


def changed_fields(
    table: TableSpec, desired: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The desired fields whose normalised value differs from the record's current one."""
    return {
        name: value
        for name, value in desired.items()
        if normalise(table.field_by_name[name], value)
        != normalise(table.field_by_name[name], current.get(name))
    }


def resolve_links(
    table: TableSpec, fields: dict[str, Any], record_ids: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Swap link keys for record ids (``record_ids[target table][key]``); unknown keys drop out.

    A pain point of persona ``all`` (everyone, before personas exist) has no persona record to
    link to, so its link stays empty while its Persona ID text keeps the value.
    """
    out = dict(fields)
    for spec in table.fields:
        if spec.type == "multipleRecordLinks" and spec.name in out:
            ids = record_ids.get(spec.link_table or "", {})
            out[spec.name] = [ids[k] for k in out[spec.name] if k in ids]
    return out


def _record(table: TableSpec, key: str, raw: dict[str, Any]) -> DesiredRecord:
    fields = {table.key_field: key}
    for name, value in raw.items():
        fields[name] = format_value(table.field_by_name[name], value)
    return DesiredRecord(key=key, fields=fields)


def _keyed(records: list[DesiredRecord]) -> list[DesiredRecord]:
    # Airtable rejects an upsert batch naming one key twice; the later row wins, as in a dict.
    return list({r.key: r for r in records}.values())


def _persona_link(persona_id: Any) -> list[str]:
    return [] if _is_missing(persona_id) else [str(persona_id)]


def version_records(version: dict | None, versions: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.PERSONA_VERSIONS]
    current_id = (version or {}).get("version_id")
    merged = [*versions, *([version] if version else [])]
    out = []
    for v in merged:
        if _is_missing(v.get("version_id")):
            continue
        raw = {
            "Seq": v.get("seq"),
            "Status": v.get("status"),
            "Current": v.get("version_id") == current_id,
            "Reliable": v.get("reliable"),
            "K": v.get("k"),
            "Method": v.get("method"),
            "Created": v.get("created_ms"),
            "Gate": v.get("gate"),
            "Appeared": _as_lines(v.get("appeared")),
            "Vanished": _as_lines(v.get("vanished")),
        }
        out.append(_record(table, str(v["version_id"]), raw))
    return _keyed(out)


def persona_records(personas: list[dict], version: dict | None) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.PERSONAS]
    default_version = (version or {}).get("version_id")
    out = []
    for p in personas:
        version_id = p.get("version_id") or default_version
        raw = {
            "Name": p.get("name"),
            "Label": p.get("label"),
            "Size": p.get("size"),
            "Share": p.get("share"),
            "Is Negative": p.get("is_negative"),
            "Profile": p.get("profile"),
            "Version": [] if _is_missing(version_id) else [str(version_id)],
        }
        out.append(_record(table, str(p["persona_id"]), raw))
    return _keyed(out)


def pain_point_records(rows: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.PAIN_POINTS]
    out = []
    for r in rows:
        key = f"{r.get('persona_id')}|{r.get('kind')}|{r.get('label')}"
        raw = {
            "Persona": _persona_link(r.get("persona_id")),
            "Persona ID": r.get("persona_id"),
            "Kind": r.get("kind"),
            "Label": r.get("label"),
            "Count": r.get("count"),
            "Persons": r.get("persons"),
            "Share": r.get("share"),
            "Examples": _as_lines(r.get("examples")),
        }
        out.append(_record(table, key, raw))
    return _keyed(out)


def funnel_step_records(rows: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.FUNNEL_STEPS]
    out = []
    for r in rows:
        persona_id = r.get("persona_id")
        persona_id = "all" if _is_missing(persona_id) else persona_id
        raw = {
            "Persona": _persona_link(persona_id),
            "Persona ID": persona_id,
            "Step": r.get("step"),
            "Step Name": r.get("name"),
            "Count": r.get("count"),
            "Conversion From First": r.get("conversion_from_first"),
            "Dropoff Rate": r.get("dropoff_rate"),
        }
        out.append(_record(table, f"{persona_id}|{r.get('step')}", raw))
    return _keyed(out)


def recommendation_records(rows: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.RECOMMENDATIONS]
    out = []
    for r in rows:
        raw = {
            "Persona": _persona_link(r.get("persona_id")),
            "Persona ID": r.get("persona_id"),
            "Title": r.get("title"),
            "Action": r.get("action"),
            "Priority": r.get("priority"),
            "Evidence": r.get("evidence"),
        }
        out.append(_record(table, str(r["id"]), raw))
    return _keyed(out)


def shift_records(rows: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.SHIFTS]
    out = []
    for r in rows:
        raw = {
            "Persona": _persona_link(r.get("persona_id")),
            "Persona ID": r.get("persona_id"),
            "Kind": r.get("kind"),
            "Severity": r.get("severity"),
            "Detected": r.get("detected_ms"),
            "Evidence": r.get("evidence"),
        }
        out.append(_record(table, str(r["id"]), raw))
    return _keyed(out)


def shortlist_records(rows: list[dict]) -> list[DesiredRecord]:
    table = schema.TABLE_BY_NAME[schema.INTERVIEW_SHORTLIST]
    out = []
    for r in rows:
        raw = {
            "Persona": _persona_link(r.get("persona_id")),
            "Persona ID": r.get("persona_id"),
            "Person ID": r.get("person_id"),
            "Probability": r.get("probability"),
        }
        out.append(_record(table, f"{r.get('persona_id')}|{r.get('person_id')}", raw))
    return _keyed(out)
