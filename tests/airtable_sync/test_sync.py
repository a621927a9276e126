"""AirtableSync against the fake Airtable: bootstrap, push, pull, sync, 429s, rate, errors."""

from __future__ import annotations

import dataclasses
import math

import pytest

from airtable_sync import (
    HUMAN_FIELDS,
    TABLES,
    AirtableConfig,
    AirtableConfigError,
    AirtableRateLimitError,
    AirtableSync,
    HumanEdit,
)
from tests.airtable_sync.fake_airtable import ALL_SCOPES, FakeAirtable
from tests.airtable_sync.snapshots import make_snapshot

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def _writes(fake: FakeAirtable, since: int = 0) -> list[dict]:
    return [e for e in fake.log[since:] if e["method"] in WRITES]


def _contents(fake: FakeAirtable) -> dict[str, list[dict]]:
    """Every table's records with link record ids replaced by the linked records' keys.

    Record ids differ between two bases; keys do not, so two bases can be compared.
    """
    key_of: dict[str, str] = {}
    for spec in TABLES:
        for record_id, record in fake.table(spec.name)["records"].items():
            key_of[record_id] = record["fields"].get(spec.key_field)
    out = {}
    for spec in TABLES:
        rows = []
        for fields in fake.records(spec.name):
            rows.append(
                {
                    name: sorted(key_of[v] for v in value) if isinstance(value, list) else value
                    for name, value in fields.items()
                }
            )
        out[spec.name] = sorted(rows, key=lambda r: r[spec.key_field])
    return out


def _reference_contents(snapshot) -> dict[str, list[dict]]:
    """What a base holds after one undisturbed bootstrap and sync of ``snapshot``."""
    with FakeAirtable() as reference:
        config = AirtableConfig(
            reference.token, reference.base_id, endpoint_url=reference.url, requests_per_second=1e3
        )
        with AirtableSync(config) as clean:
            clean.bootstrap()
            clean.sync(snapshot)
        return _contents(reference)


def _assert_no_duplicate_keys(fake: FakeAirtable) -> None:
    for spec in TABLES:
        keys = [r[spec.key_field] for r in fake.records(spec.name)]
        assert len(keys) == len(set(keys)), spec.name


# --- bootstrap ---------------------------------------------------------------------------------


def test_first_bootstrap_creates_typed_tables_and_links(fake, make_sync):
    result = make_sync().bootstrap()

    assert result["created_tables"] == [spec.name for spec in TABLES]
    personas = fake.table("Personas")
    versions = fake.table("Persona Versions")
    by_name = {f["name"]: f for f in personas["fields"]}
    assert personas["primaryFieldId"] == by_name["Persona ID"]["id"]
    assert by_name["Share"]["type"] == "percent"
    assert by_name["Size"]["type"] == "number"
    assert by_name["Size"]["options"]["precision"] == 0
    assert by_name["Do Not Target"]["type"] == "checkbox"
    assert by_name["Interview Notes"]["type"] == "multilineText"
    assert by_name["Version"]["type"] == "multipleRecordLinks"
    assert by_name["Version"]["options"]["linkedTableId"] == versions["id"]
    for child in ("Pain Points", "Recommendations", "Shifts", "Interview Shortlist"):
        link = {f["name"]: f for f in fake.table(child)["fields"]}["Persona"]
        assert link["options"]["linkedTableId"] == personas["id"], child
    shifts = {f["name"]: f for f in fake.table("Shifts")["fields"]}
    assert shifts["Detected"]["type"] == "dateTime"
    assert shifts["Severity"]["type"] == "singleSelect"
    assert result["tables"]["Personas"] == personas["id"]


def test_bootstrap_rerun_creates_nothing(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    before = len(fake.log)

    again = sync.bootstrap()

    assert again["created_tables"] == [] and again["created_fields"] == []
    assert _writes(fake, before) == []
    assert [e["action"] for e in again["log"]] == ["read_schema"]


def test_bootstrap_extends_a_partial_base_and_keeps_its_records(fake, make_sync):
    fake.add_table(
        "Personas",
        [
            {"name": "Persona ID", "type": "singleLineText"},
            {"name": "Owner", "type": "singleLineText"},
            {"name": "Team notes", "type": "multilineText"},  # not ours: left alone
        ],
    )
    fake.add_table("Shifts", [{"name": "Shift ID", "type": "singleLineText"}])
    personas = fake.table("Personas")
    fake._new_record(personas, {"Persona ID": "p-deal", "Owner": "Ana"})

    result = make_sync().bootstrap()

    assert "Personas" not in result["created_tables"]
    assert "Shifts" not in result["created_tables"]
    assert "Pain Points" in result["created_tables"]
    assert "Personas.Share" in result["created_fields"]
    assert "Personas.Owner" not in result["created_fields"]
    assert "Shifts.Persona" in result["created_fields"]
    names = [f["name"] for f in fake.table("Personas")["fields"]]
    assert set(names) >= {f.name for f in TABLES[1].fields} | {"Team notes"}
    assert fake.records("Personas") == [{"Persona ID": "p-deal", "Owner": "Ana"}]
    assert make_sync().bootstrap()["created_fields"] == []


def test_wrong_field_type_names_table_field_and_types(fake, make_sync):
    fake.add_table(
        "Personas",
        [{"name": "Persona ID", "type": "singleLineText"}, {"name": "Share", "type": "number"}],
    )
    before = len(fake.log)

    with pytest.raises(AirtableConfigError) as info:
        make_sync().bootstrap()

    error = info.value
    assert (error.table, error.field, error.expected, error.actual) == (
        "Personas",
        "Share",
        "percent",
        "number",
    )
    assert "'Personas'" in str(error) and "'Share'" in str(error)
    assert "percent" in str(error) and "number" in str(error)
    assert _writes(fake, before) == []  # checked before anything was created


# --- push --------------------------------------------------------------------------------------


def test_push_writes_every_table_then_a_rerun_writes_nothing(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    snapshot = make_snapshot()

    first = sync.push(snapshot)
    before = len(fake.log)
    second = sync.push(snapshot)

    assert first.tables["Personas"].created == 3
    assert first.tables["Interview Shortlist"].created == 6
    assert all(e["records"] <= 10 for e in _writes(fake))
    assert _writes(fake, before) == []
    assert second.write_requests == 0
    assert all(t.created == t.updated == 0 for t in second.tables.values())
    assert second.tables["Personas"].unchanged == 3
    deal = next(r for r in _contents(fake)["Pain Points"] if r["Label"] == "price")
    assert deal["Persona"] == ["p-deal"] and deal["Share"] == pytest.approx(0.263)
    everyone = next(r for r in _contents(fake)["Pain Points"] if r["Persona ID"] == "all")
    assert "Persona" not in everyone  # no persona record called "all": the link stays empty
    recommendation = _contents(fake)["Recommendations"][0]
    assert recommendation["Priority"] == "urgent"
    assert recommendation["Persona"] == ["p-deal"]
    shift = _contents(fake)["Shifts"][0]
    assert shift["Detected"] == "2025-11-23T12:15:00.000Z"
    current = {
        r["Version ID"]: r.get("Current", False) for r in _contents(fake)["Persona Versions"]
    }
    assert current == {"v-1": False, "v-2": True}


def test_push_rewrites_only_the_records_whose_computed_fields_changed(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    sync.push(make_snapshot())
    changed = make_snapshot()
    changed.personas[1]["size"] = 381
    before = len(fake.log)

    report = sync.push(changed)

    writes = _writes(fake, before)
    assert len(writes) == 1
    assert writes[0]["path"].endswith("/Personas") and writes[0]["records"] == 1
    assert writes[0]["fields"] == ["Persona ID", "Size"]
    assert report.tables["Personas"].updated == 1
    assert report.tables["Personas"].unchanged == 2


def test_pagination_reads_every_page(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    snapshot = make_snapshot(shortlist_size=250)
    sync.push(snapshot)
    before = len(fake.log)

    report = sync.push(snapshot)

    reads = [e for e in fake.log[before:] if e["path"].endswith("/Interview Shortlist")]
    assert len(reads) == 3  # 100 + 100 + 50
    assert report.tables["Interview Shortlist"].unchanged == 250
    assert report.write_requests == 0


def test_engine_restores_a_computed_field_edited_in_airtable(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    sync.push(make_snapshot())
    fake.human_edit("Personas", "Persona ID", "p-deal", Label="Cheapskates", Size=1)

    report = sync.push(make_snapshot())

    deal = next(r for r in fake.records("Personas") if r["Persona ID"] == "p-deal")
    assert (deal["Label"], deal["Size"]) == ("Deal hunters", 380)
    assert report.tables["Personas"].updated == 1


def test_push_before_bootstrap_says_to_run_bootstrap(fake, make_sync):
    with pytest.raises(AirtableConfigError, match="bootstrap"):
        make_sync().push(make_snapshot())


def test_empty_snapshot_lists_push_nothing(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    snapshot = make_snapshot()
    snapshot = dataclasses.replace(
        snapshot, recommendations=[], shifts=[], pain_points=[], interview_shortlist=[]
    )

    report = sync.push(snapshot)

    assert report.tables["Shifts"].created == report.tables["Shifts"].write_requests == 0
    assert fake.records("Shifts") == []


# --- pull and ownership ------------------------------------------------------------------------


def test_human_edit_is_pulled_back_and_survives_the_next_push(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    sync.push(make_snapshot())
    fake.human_edit(
        "Personas",
        "Persona ID",
        "p-deal",
        **{
            "Display Name": "Bargain Bea",
            "Owner": "ana@brightcart.example",
            "Interview Notes": "Interview 1: waits for the Sunday coupon.\nInterview 2: same.",
            "Do Not Target": True,
        },
    )

    edits = {e.persona_id: e for e in sync.pull()}

    assert edits["p-deal"] == HumanEdit(
        persona_id="p-deal",
        display_name="Bargain Bea",
        owner="ana@brightcart.example",
        interview_notes="Interview 1: waits for the Sunday coupon.\nInterview 2: same.",
        qualitative_insights=None,
        do_not_target=True,
        record_id=edits["p-deal"].record_id,
    )
    assert edits["p-family"].display_name is None and edits["p-family"].do_not_target is False

    # The engine's next snapshot knows nothing of the edit and its label changed: the push
    # rewrites the computed fields only.
    changed = make_snapshot()
    changed.personas[1]["label"] = changed.personas[1]["name"] = "Deal seekers"
    before = len(fake.log)
    report = sync.sync(changed)

    deal = next(r for r in fake.records("Personas") if r["Persona ID"] == "p-deal")
    assert deal["Label"] == "Deal seekers"
    assert deal["Display Name"] == "Bargain Bea"
    assert deal["Owner"] == "ana@brightcart.example"
    assert deal["Do Not Target"] is True
    assert "Interview 2" in deal["Interview Notes"]
    written = {name for e in _writes(fake, before) for name in e["fields"]}
    assert written and not written & set(HUMAN_FIELDS)
    assert {e.persona_id: e.display_name for e in report.human_edits}["p-deal"] == "Bargain Bea"


def test_no_push_ever_sends_a_human_field(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    snapshot = make_snapshot()
    # Even when the service's JSON carries human values, they are not the push's to write.
    snapshot.personas[0]["display_name"] = "From the database"
    snapshot.personas[0]["human"] = {"owner": "someone"}
    sync.push(snapshot)
    fake.human_edit("Personas", "Persona ID", "p-family", Owner="Ana")
    snapshot.personas[0]["size"] = 1

    sync.sync(snapshot)

    assert not {name for e in _writes(fake) for name in e["fields"]} & set(HUMAN_FIELDS)
    family = next(r for r in fake.records("Personas") if r["Persona ID"] == "p-family")
    assert family["Owner"] == "Ana" and "Display Name" not in family


# --- rate limits -------------------------------------------------------------------------------


def test_a_429_storm_mid_sync_loses_and_duplicates_nothing(make_sync, fake):
    snapshot = make_snapshot(shortlist_size=60)
    expected = _reference_contents(snapshot)
    sync = make_sync()
    sync.bootstrap()
    # The Personas read, the Persona Versions read and upsert go through, then the
    # Personas upsert is answered 429 seven times in a row.
    fake.rate_limit(7, after=3)

    report = sync.sync(snapshot)

    assert report.rate_limited == 7
    assert _contents(fake) == expected
    _assert_no_duplicate_keys(fake)
    bounced = [e for e in report.log if e["status"] == 429]
    assert {(e["table"], e["action"]) for e in bounced} == {("Personas", "upsert")}
    assert [e["attempt"] for e in bounced] == list(range(7))
    # Six tables written once, the shortlist in six batches, plus the seven bounced resends.
    assert report.write_requests == 6 + 6 + 7


def test_a_429_storm_spread_over_reads_and_writes_loses_and_duplicates_nothing(make_sync, fake):
    snapshot = make_snapshot(shortlist_size=60)
    expected = _reference_contents(snapshot)
    sync = make_sync()
    sync.bootstrap()
    fake.rate_limit(10, after=1, every=2)  # every other request, ten times

    report = sync.sync(snapshot)

    assert _contents(fake) == expected
    _assert_no_duplicate_keys(fake)
    bounced = [e for e in report.log if e["status"] == 429]
    assert len(bounced) == 10
    assert {e["action"] for e in bounced} == {"list", "upsert"}
    assert len({e["table"] for e in bounced}) >= 4


def test_a_storm_outlasting_the_retries_fails_cleanly_and_a_rerun_completes(fake, make_sync):
    snapshot = make_snapshot(shortlist_size=60)
    sync = make_sync(max_rate_limit_retries=2)
    sync.bootstrap()
    fake.rate_limit(100, after=15)  # after two of the six shortlist batches

    with pytest.raises(AirtableRateLimitError, match="rerun"):
        sync.sync(snapshot)
    partial = len(fake.records("Interview Shortlist"))
    fake.rate_limit(0)
    report = sync.sync(snapshot)

    assert 0 < partial < 60
    assert report.tables["Interview Shortlist"].created == 60 - partial
    assert len(fake.records("Interview Shortlist")) == 60
    _assert_no_duplicate_keys(fake)


def test_a_429_holds_requests_for_the_configured_wait(fake, make_sync):
    sync = make_sync(retry_wait_seconds=0.3)
    sync.bootstrap()
    fake.rate_limit(1, after=2)
    before = len(fake.log)

    sync.push(make_snapshot())

    log = fake.log[before:]
    bounced = next(i for i, e in enumerate(log) if e["status"] == 429)
    assert log[bounced + 1]["t"] - log[bounced]["t"] >= 0.3
    assert log[bounced + 1]["path"] == log[bounced]["path"]


@pytest.mark.slow
def test_a_thousand_records_go_in_a_hundred_writes_at_five_requests_a_second(fake, make_sync):
    make_sync().bootstrap()
    progress: list[tuple[str, int, int]] = []
    sync = make_sync(requests_per_second=5.0, progress=lambda *args: progress.append(args))
    before = len(fake.log)

    report = sync.push(make_snapshot(shortlist_size=1000))

    log = fake.log[before:]
    shortlist_writes = [
        e for e in log if e["method"] == "PATCH" and e["path"].endswith("/Interview Shortlist")
    ]
    assert len(shortlist_writes) == math.ceil(1000 / 10)
    assert all(e["records"] == 10 for e in shortlist_writes)
    times = [e["t"] for e in log]
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 5
    assert len(fake.records("Interview Shortlist")) == 1000
    assert report.tables["Interview Shortlist"].write_requests == 100
    assert progress[-1] == ("Interview Shortlist", 1000, 1000)
    shortlist_progress = [p for p in progress if p[0] == "Interview Shortlist"]
    assert [p[1] for p in shortlist_progress] == list(range(0, 1001, 10))


# --- configuration errors ----------------------------------------------------------------------


def test_bad_token_is_a_config_error(fake, make_sync):
    sync = make_sync(token="patWRONG")
    for action in (sync.bootstrap, sync.pull, lambda: sync.push(make_snapshot())):
        with pytest.raises(AirtableConfigError, match="rejected the token") as info:
            action()
        assert info.value.status == 401


def test_missing_schema_write_scope_is_named(fake, make_sync):
    fake.scopes = set(ALL_SCOPES) - {"schema.bases:write"}

    with pytest.raises(AirtableConfigError, match="lacks schema.bases:write") as info:
        make_sync().bootstrap()
    assert info.value.status == 403


def test_missing_schema_read_and_record_write_scopes_are_named(fake, make_sync):
    make_sync().bootstrap()
    fake.scopes = {"data.records:read"}
    sync = make_sync()

    with pytest.raises(AirtableConfigError, match="lacks schema.bases:read"):
        sync.bootstrap()
    with pytest.raises(AirtableConfigError, match="lacks data.records:write"):
        sync.push(make_snapshot())
    assert len(sync.pull()) == 0  # reading is still allowed


def test_unknown_base_is_a_config_error(fake, make_sync):
    sync = make_sync(base_id="appNOSUCHBASE")
    with pytest.raises(AirtableConfigError, match="appNOSUCHBASE") as info:
        sync.bootstrap()
    assert info.value.status == 404
    with pytest.raises(AirtableConfigError, match="appNOSUCHBASE"):
        sync.push(make_snapshot())


def test_config_needs_a_token_and_a_base_and_hides_the_token():
    with pytest.raises(AirtableConfigError, match="token"):
        AirtableConfig(token="", base_id="appX")
    with pytest.raises(AirtableConfigError, match="base"):
        AirtableConfig(token="pat", base_id="")
    assert "patSECRET" not in repr(AirtableConfig(token="patSECRET", base_id="appX"))


# --- log ---------------------------------------------------------------------------------------


def test_every_request_is_logged_with_table_action_records_status(fake, make_sync):
    entries: list[dict] = []
    sync = make_sync(log=entries.append)
    sync.bootstrap()
    fake.rate_limit(1, after=1)

    report = sync.sync(make_snapshot())

    assert len(entries) == len(fake.log)
    assert report.log == entries[-len(report.log) :]
    assert len(report.log) == report.requests
    upserts = [e for e in report.log if e["action"] == "upsert" and e["status"] == 200]
    assert {e["table"] for e in upserts} == {spec.name for spec in TABLES}
    assert sum(e["records"] for e in upserts if e["table"] == "Interview Shortlist") == 6
    reads = [e for e in report.log if e["action"] == "list" and e["status"] == 200]
    assert len(reads) == len(TABLES)
    assert [e["status"] for e in report.log].count(429) == 1
    assert {"create_table"} <= {e["action"] for e in entries}
    assert all({"table", "action", "records", "status", "at_ms"} <= set(e) for e in entries)


def test_a_link_to_the_wrong_table_is_a_config_error(fake, make_sync):
    other = fake.add_table("Campaigns", [{"name": "Name", "type": "singleLineText"}])
    fake.add_table(
        "Personas",
        [
            {"name": "Persona ID", "type": "singleLineText"},
            {
                "name": "Version",
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": other["id"]},
            },
        ],
    )
    fake.add_table("Persona Versions", [{"name": "Version ID", "type": "singleLineText"}])

    with pytest.raises(AirtableConfigError, match="Persona Versions") as info:
        make_sync().bootstrap()
    assert (info.value.table, info.value.field) == ("Personas", "Version")


def test_a_caller_supplied_api_gets_the_limiter_and_the_429_handling(fake):
    from pyairtable import Api

    entries: list[dict] = []
    api = Api(fake.token, endpoint_url=fake.url)  # pyairtable's own urllib3 retry by default
    config = AirtableConfig(
        "unused", fake.base_id, requests_per_second=1e3, retry_wait_seconds=0.01
    )
    fake.rate_limit(2)

    with AirtableSync(config, api=api, log=entries.append) as sync:
        sync.bootstrap()

    # urllib3's retry would have resent silently; these attempts went through our adapter.
    assert [(e["status"], e["attempt"]) for e in entries[:3]] == [(429, 0), (429, 1), (200, 2)]
    assert len(entries) == len(fake.log)


def test_two_syncs_started_together_run_one_after_the_other(fake, make_sync):
    from concurrent.futures import ThreadPoolExecutor

    sync = make_sync()
    sync.bootstrap()
    snapshot = make_snapshot(shortlist_size=30)
    before = len(fake.log)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(sync.sync, [snapshot, snapshot]))

    _assert_no_duplicate_keys(fake)
    assert sorted(r.write_requests for r in reports) == [0, 9]  # 6 tables + 3 shortlist batches
    assert sum(len(r.log) for r in reports) == len(fake.log) - before
    first, second = sorted(reports, key=lambda r: r.started_ms)
    assert first.finished_ms <= second.started_ms


def test_delete_matching_removes_only_matching_records_ten_at_a_time(fake, make_sync):
    sync = make_sync()
    sync.bootstrap()
    sync.push(make_snapshot(shortlist_size=25))
    doomed = {f"user-{i:05d}" for i in range(0, 24, 2)}  # 12 of the 25
    # A record a person added by hand, without the key field, names one of them too.
    fake.table("Interview Shortlist")["records"]["recHandMade000001"] = {
        "id": "recHandMade000001",
        "createdTime": "2026-01-01T00:00:00.000Z",
        "fields": {"Person ID": "user-00000"},
    }
    before = len(fake.log)

    report = sync.delete_matching("Interview Shortlist", "Person ID", doomed.__contains__)

    deletes = [e for e in fake.log[before:] if e["method"] == "DELETE"]
    assert [e["status"] for e in deletes] == [200, 200]  # 10 + 3
    assert report.tables["Interview Shortlist"].deleted == 13
    assert report.tables["Interview Shortlist"].write_requests == 2
    left = {r["Person ID"] for r in fake.records("Interview Shortlist")}
    assert left == {f"user-{i:05d}" for i in range(25)} - doomed
    again = sync.delete_matching("Interview Shortlist", "Person ID", doomed.__contains__)
    assert again.tables["Interview Shortlist"].deleted == 0 and again.write_requests == 0
