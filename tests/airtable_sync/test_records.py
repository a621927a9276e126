"""Snapshot rows to Airtable fields, value formatting and the change test."""

from __future__ import annotations

import math

from airtable_sync import records as rec
from airtable_sync import schema
from tests.airtable_sync.snapshots import make_snapshot

PERSONAS = schema.TABLE_BY_NAME[schema.PERSONAS]
SHIFTS = schema.TABLE_BY_NAME[schema.SHIFTS]
FUNNEL = schema.TABLE_BY_NAME[schema.FUNNEL_STEPS]


def _field(table: schema.TableSpec, name: str) -> schema.FieldSpec:
    return table.field_by_name[name]


def test_format_value_rounds_to_the_field_precision_and_clears_missing_values():
    assert rec.format_value(_field(PERSONAS, "Size"), 420.4) == 420
    assert isinstance(rec.format_value(_field(PERSONAS, "Size"), 420.0), int)
    assert rec.format_value(_field(PERSONAS, "Share"), 0.123456) == 0.123
    assert rec.format_value(_field(PERSONAS, "Share"), math.nan) is None
    assert rec.format_value(_field(PERSONAS, "Is Negative"), None) is False
    assert rec.format_value(_field(PERSONAS, "Label"), "") is None
    assert rec.format_value(_field(SHIFTS, "Detected"), 1_763_900_100_007) == (
        "2025-11-23T12:15:00.007Z"
    )
    assert rec.format_value(_field(PERSONAS, "Profile"), {"b": 1, "a": [2]}) == (
        '{\n  "a": [\n    2\n  ],\n  "b": 1\n}'
    )


def test_values_airtable_leaves_out_or_reformats_are_not_changes():
    desired = {
        "Persona ID": "p-1",
        "Size": 12,
        "Share": 0.5,
        "Is Negative": False,
        "Label": None,
        "Version": ["recB", "recA"],
    }
    # Airtable's answer: empty cells absent, 12.0 for 12, links in its own order.
    current = {"Persona ID": "p-1", "Size": 12.0, "Share": 0.5, "Version": ["recA", "recB"]}
    assert rec.changed_fields(PERSONAS, desired, current) == {}
    detected = {"Shift ID": "s", "Detected": "2025-11-23T12:15:00.000Z"}
    current_shift = {"Shift ID": "s", "Detected": "2025-11-23T12:15:00Z"}
    assert rec.changed_fields(SHIFTS, detected, current_shift) == {}


def test_changed_fields_returns_only_what_differs():
    desired = {"Persona ID": "p-1", "Size": 13, "Label": "A", "Is Negative": True}
    current = {"Persona ID": "p-1", "Size": 12, "Label": "A"}
    assert rec.changed_fields(PERSONAS, desired, current) == {"Size": 13, "Is Negative": True}
    assert rec.changed_fields(PERSONAS, {"Label": None}, {"Label": "typed by a human"}) == {
        "Label": None
    }


def test_resolve_links_swaps_keys_for_ids_and_drops_unknown_keys():
    fields = {"Persona ID": "x", "Version": ["v-1", "v-unknown"]}
    resolved = rec.resolve_links(PERSONAS, fields, {schema.PERSONA_VERSIONS: {"v-1": "recV1"}})
    assert resolved["Version"] == ["recV1"]
    assert fields["Version"] == ["v-1", "v-unknown"]  # input untouched


def test_snapshot_rows_get_stable_keys_and_engine_fields_only():
    desired = make_snapshot().desired_records()

    assert [r.key for r in desired[schema.PERSONA_VERSIONS]] == ["v-1", "v-2"]
    assert [r.key for r in desired[schema.FUNNEL_STEPS]] == ["all|0", "all|1"]
    assert desired[schema.FUNNEL_STEPS][0].fields["Dropoff Rate"] is None
    assert [r.key for r in desired[schema.PAIN_POINTS]] == [
        "p-deal|pain_point|price",
        "all|motivation|convenience",
    ]
    human = set(schema.HUMAN_FIELDS)
    for table_name, rows in desired.items():
        table = schema.TABLE_BY_NAME[table_name]
        for row in rows:
            assert row.fields[table.key_field] == row.key
            assert not set(row.fields) & human


def test_duplicate_keys_keep_the_last_row():
    rows = [
        {"persona_id": "p", "person_id": "u", "probability": 0.2},
        {"persona_id": "p", "person_id": "u", "probability": 0.9},
    ]
    records = rec.shortlist_records(rows)
    assert len(records) == 1 and records[0].fields["Probability"] == 0.9
