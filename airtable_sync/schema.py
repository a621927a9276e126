"""The Airtable base layout: tables, fields, their types and who owns each field.

Ownership settles conflicts: ``key`` and ``engine`` fields are written by a push and never read
back; ``human`` fields are read back by a pull and never written by a push. ``link`` fields are
engine-owned links to another table's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Owner = Literal["key", "engine", "human"]

_CHECKBOX = {"icon": "check", "color": "greenBright"}
_DATETIME = {
    "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
    "timeFormat": {"name": "24hour", "format": "HH:mm"},
    "timeZone": "utc",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field: its Airtable type, creation options and owner.

    ``link_table`` names the table a ``multipleRecordLinks`` field points at; its
    ``linkedTableId`` option is filled in at bootstrap, once that table's id is known.
    """

    name: str
    type: str
    owner: Owner = "engine"
    options: dict[str, Any] | None = None
    link_table: str | None = None
    description: str | None = None

    def create_payload(self, table_ids: dict[str, str]) -> dict[str, Any]:
        """The Meta API field model used to create this field."""
        payload: dict[str, Any] = {"name": self.name, "type": self.type}
        options = dict(self.options or {})
        if self.link_table is not None:
            options["linkedTableId"] = table_ids[self.link_table]
        if options:
            payload["options"] = options
        if self.description:
            payload["description"] = self.description
        return payload

    @property
    def precision(self) -> int | None:
        return (self.options or {}).get("precision")


@dataclass(frozen=True)
class TableSpec:
    """One table; the first field is the primary field and the upsert key."""

    name: str
    fields: tuple[FieldSpec, ...]
    description: str = ""
    field_by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_by_name", {f.name: f for f in self.fields})

    @property
    def key_field(self) -> str:
        return self.fields[0].name

    def owned_by(self, *owners: Owner) -> list[FieldSpec]:
        return [f for f in self.fields if f.owner in owners]


def _text(name: str, owner: Owner = "engine") -> FieldSpec:
    return FieldSpec(name, "singleLineText", owner)


def _long_text(name: str, owner: Owner = "engine") -> FieldSpec:
    return FieldSpec(name, "multilineText", owner)


def _number(name: str, precision: int = 0) -> FieldSpec:
    return FieldSpec(name, "number", options={"precision": precision})


def _percent(name: str, precision: int = 1) -> FieldSpec:
    return FieldSpec(name, "percent", options={"precision": precision})


def _checkbox(name: str, owner: Owner = "engine") -> FieldSpec:
    return FieldSpec(name, "checkbox", owner, options=dict(_CHECKBOX))


def _datetime(name: str) -> FieldSpec:
    return FieldSpec(name, "dateTime", options=dict(_DATETIME))


def _select(name: str, *choices: str) -> FieldSpec:
    # Unknown values still land: pushes send typecast=true, which adds the option.
    return FieldSpec(name, "singleSelect", options={"choices": [{"name": c} for c in choices]})


def _link(name: str, table: str) -> FieldSpec:
    return FieldSpec(name, "multipleRecordLinks", link_table=table)


PERSONAS = "Personas"
PERSONA_VERSIONS = "Persona Versions"
PAIN_POINTS = "Pain Points"
FUNNEL_STEPS = "Funnel Steps"
RECOMMENDATIONS = "Recommendations"
SHIFTS = "Shifts"
INTERVIEW_SHORTLIST = "Interview Shortlist"

# Human-owned persona fields and the HumanEdit attribute each one fills.
HUMAN_FIELDS: dict[str, str] = {
    "Display Name": "display_name",
    "Owner": "owner",
    "Interview Notes": "interview_notes",
    "Qualitative Insights": "qualitative_insights",
    "Do Not Target": "do_not_target",
}

# Creation order matters: a link field needs its target table to exist.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        PERSONA_VERSIONS,
        (
            _text("Version ID", "key"),
            _number("Seq"),
            _select("Status", "active", "candidate", "retired"),
            _checkbox("Current"),
            _checkbox("Reliable"),
            _number("K"),
            _text("Method"),
            _datetime("Created"),
            _long_text("Gate"),
            _long_text("Appeared"),
            _long_text("Vanished"),
        ),
        "Persona model versions, one per refresh. Written by PersonaPulse.",
    ),
    TableSpec(
        PERSONAS,
        (
            _text("Persona ID", "key"),
            _text("Name"),
            _text("Label"),
            _number("Size"),
            _percent("Share"),
            _checkbox("Is Negative"),
            _long_text("Profile"),
            _link("Version", PERSONA_VERSIONS),
            _text("Display Name", "human"),
            _text("Owner", "human"),
            _long_text("Interview Notes", "human"),
            _long_text("Qualitative Insights", "human"),
            _checkbox("Do Not Target", "human"),
        ),
        "Personas. Display Name, Owner, Interview Notes, Qualitative Insights and Do Not Target "
        "are yours; every other field is overwritten by PersonaPulse.",
    ),
    TableSpec(
        PAIN_POINTS,
        (
            _text("Pain Point ID", "key"),
            _link("Persona", PERSONAS),
            _text("Persona ID"),
            _select("Kind", "pain_point", "motivation"),
            _text("Label"),
            _number("Count"),
            _number("Persons"),
            _percent("Share"),
            _long_text("Examples"),
        ),
        "Pain points and motivations per persona. Written by PersonaPulse.",
    ),
    TableSpec(
        FUNNEL_STEPS,
        (
            _text("Funnel Step ID", "key"),
            _link("Persona", PERSONAS),
            _text("Persona ID"),
            _number("Step"),
            _text("Step Name"),
            _number("Count"),
            _percent("Conversion From First"),
            _percent("Dropoff Rate"),
        ),
        "Funnel steps per persona (Persona ID 'all' for everyone). Written by PersonaPulse.",
    ),
    TableSpec(
        RECOMMENDATIONS,
        (
            _text("Recommendation ID", "key"),
            _link("Persona", PERSONAS),
            _text("Persona ID"),
            _text("Title"),
            _long_text("Action"),
            _select("Priority", "high", "medium", "low"),
            _long_text("Evidence"),
        ),
        "Recommendations per persona. Written by PersonaPulse.",
    ),
    TableSpec(
        SHIFTS,
        (
            _text("Shift ID", "key"),
            _link("Persona", PERSONAS),
            _text("Persona ID"),
            _select("Kind", "size", "behaviour", "sentiment"),
            _select("Severity", "high", "medium", "low"),
            _datetime("Detected"),
            _long_text("Evidence"),
        ),
        "Detected persona shifts. Written by PersonaPulse.",
    ),
    TableSpec(
        INTERVIEW_SHORTLIST,
        (
            _text("Shortlist ID", "key"),
            _link("Persona", PERSONAS),
            _text("Persona ID"),
            _text("Person ID"),
            _percent("Probability"),
        ),
        "People who fit a persona best: who to interview. Written by PersonaPulse.",
    ),
)

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
