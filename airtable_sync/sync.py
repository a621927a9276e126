"""Bootstrap, push, pull and sync between PersonaPulse and an Airtable base."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import requests
from pyairtable import Api

from airtable_sync import records as rec
from airtable_sync import schema
from airtable_sync.schema import HUMAN_FIELDS, TABLES, TableSpec
from airtable_sync.transport import RateLimitedAdapter, RequestRateLimiter

DEFAULT_ENDPOINT = "https://api.airtable.com"


class AirtableSyncError(RuntimeError):
    """A request to Airtable failed for a reason other than configuration."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AirtableRateLimitError(AirtableSyncError):
    """Airtable kept answering 429 after every configured wait; rerun later, nothing is lost."""


class AirtableConfigError(AirtableSyncError):
    """The token, the base or the base's schema is wrong; the message says what to fix."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        table: str | None = None,
        field: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.table = table
        self.field = field
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class AirtableConfig:
    """Where and how to talk to Airtable.

    ``requests_per_second`` is Airtable's per-base limit (5); ``retry_wait_seconds`` is how long
    every request is held after a 429 (Airtable asks for 30 s); ``timeout`` is the connect and
    read timeout of each request, in seconds.
    """

    token: str
    base_id: str
    endpoint_url: str | None = None
    requests_per_second: float = 5.0
    retry_wait_seconds: float = 30.0
    timeout: float = 30.0
    max_rate_limit_retries: int = 10

    def __post_init__(self) -> None:
        if not self.token:
            raise AirtableConfigError("no Airtable token: set a personal access token")
        if not self.base_id:
            raise AirtableConfigError("no Airtable base id (it starts with 'app')")

    def __repr__(self) -> str:  # never print the token
        return f"AirtableConfig(base_id={self.base_id!r}, endpoint_url={self.endpoint_url!r})"


@dataclass
class Snapshot:
    """What to push: plain dicts exactly as the service's JSON API returns them.

    Every list may be empty; ``version`` is the current version (``GET /v1/personas``'s
    ``version``) or None before the first refresh.
    """

    personas: list[dict] = field(default_factory=list)
    version: dict | None = None
    versions: list[dict] = field(default_factory=list)
    pain_points: list[dict] = field(default_factory=list)
    funnel_steps: list[dict] = field(default_factory=list)
    recommendations: list[dict] = field(default_factory=list)
    shifts: list[dict] = field(default_factory=list)
    interview_shortlist: list[dict] = field(default_factory=list)

    def desired_records(self) -> dict[str, list[rec.DesiredRecord]]:
        """Engine-owned fields per table, in push order (link targets first)."""
        return {
            schema.PERSONA_VERSIONS: rec.version_records(self.version, self.versions),
            schema.PERSONAS: rec.persona_records(self.personas, self.version),
            schema.PAIN_POINTS: rec.pain_point_records(self.pain_points),
            schema.FUNNEL_STEPS: rec.funnel_step_records(self.funnel_steps),
            schema.RECOMMENDATIONS: rec.recommendation_records(self.recommendations),
            schema.SHIFTS: rec.shift_records(self.shifts),
            schema.INTERVIEW_SHORTLIST: rec.shortlist_records(self.interview_shortlist),
        }


@dataclass(frozen=True)
class HumanEdit:
    """The human-owned fields of one persona record as they are in Airtable now.

    Empty cells come back as None (False for ``do_not_target``), so a cleared note is
    distinguishable from one that was never pulled.
    """

    persona_id: str
    display_name: str | None = None
    owner: str | None = None
    interview_notes: str | None = None
    qualitative_insights: str | None = None
    do_not_target: bool = False
    record_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TableReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # records in Airtable that the snapshot no longer has (left in place)
    deleted: int = 0  # only by delete_matching (erasure requests)
    write_requests: int = 0


@dataclass
class SyncReport:
    """What a push or sync did. ``log`` has one entry per HTTP attempt, 429s included."""

    tables: dict[str, TableReport] = field(default_factory=dict)
    human_edits: list[HumanEdit] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    started_ms: int = 0
    finished_ms: int = 0

    @property
    def requests(self) -> int:
        return len(self.log)

    @property
    def write_requests(self) -> int:
        return sum(1 for e in self.log if e["action"] in ("upsert", "create", "update", "delete"))

    @property
    def rate_limited(self) -> int:
        return sum(1 for e in self.log if e["status"] == 429)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {name: asdict(t) for name, t in self.tables.items()},
            "human_edits": [h.to_dict() for h in self.human_edits],
            "requests": self.requests,
            "write_requests": self.write_requests,
            "rate_limited": self.rate_limited,
            "started_ms": self.started_ms,
            "finished_ms": self.finished_ms,
            "log": list(self.log),
        }


@dataclass
class _Current:
    """A table's records as read: key -> (record id, fields)."""

    by_key: dict[str, tuple[str, dict[str, Any]]]
    duplicates: int = 0


def _airtable_error(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "", response.text[:200]
    if isinstance(error, dict):
        return str(error.get("type", "")), str(error.get("message", ""))
    return str(error or ""), ""


class AirtableSync:
    """Keeps an Airtable base in step with PersonaPulse; see docs/airtable.md.

    Every request pyairtable makes goes through one :class:`RequestRateLimiter` (5 per second
    per base by default) and waits ``retry_wait_seconds`` after a 429. ``log`` receives one dict
    per HTTP attempt (table, action, records, status …); ``progress`` receives
    ``(table, records_written, records_to_write)`` after each write batch.
    """

    def __init__(
        self,
        config: AirtableConfig,
        *,
        api: Api | None = None,
        log: Callable[[dict], None] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.config = config
        self._log_callback = log
        self._progress = progress
        self._entries: list[dict] | None = None
        self._entries_lock = threading.Lock()
        self._busy = threading.Lock()
        self.limiter = RequestRateLimiter(config.requests_per_second)
        if api is None:
            api = Api(
                config.token,
                endpoint_url=config.endpoint_url or DEFAULT_ENDPOINT,
                timeout=(config.timeout, config.timeout),  # type: ignore[arg-type]
                retry_strategy=None,
            )
        self.api = api
        # Replaces pyairtable's own retrying adapter too: its resends would skip the limiter.
        adapter = RateLimitedAdapter(
            self.limiter,
            retry_wait_seconds=config.retry_wait_seconds,
            max_rate_limit_retries=config.max_rate_limit_retries,
            on_request=self._record_request,
        )
        api.session.mount("https://", adapter)
        api.session.mount("http://", adapter)
        self.base = api.base(config.base_id)

    def close(self) -> None:
        """Close the HTTP session's pooled connections."""
        self.api.session.close()

    def __enter__(self) -> AirtableSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------

    def _record_request(self, entry: dict) -> None:
        with self._entries_lock:
            if self._entries is not None:
                self._entries.append(entry)
        if self._log_callback is not None:
            self._log_callback(entry)

    @contextmanager
    def _collecting(self, report: SyncReport) -> Iterator[None]:
        # One operation at a time per instance: two syncs started together (a refresh and an
        # API call, say) run one after the other instead of interleaving their diffs.
        with self._busy:
            self._entries = report.log
            report.started_ms = int(time.time() * 1000)
            try:
                yield
            finally:
                report.finished_ms = int(time.time() * 1000)
                self._entries = None

    @contextmanager
    def _errors(self, doing: str, table: str | None = None) -> Iterator[None]:
        try:
            yield
        except requests.HTTPError as exc:
            if exc.response is None:
                raise AirtableSyncError(f"{doing}: {exc}") from exc
            raise self._translate(exc.response, doing, table) from exc
        except requests.RequestException as exc:
            raise AirtableSyncError(f"{doing}: could not reach Airtable: {exc}") from exc

    def _translate(
        self, response: requests.Response, doing: str, table: str | None
    ) -> AirtableSyncError:
        status = response.status_code
        kind, message = _airtable_error(response)
        detail = f"({status} {kind}{': ' + message if message else ''})"
        base = self.config.base_id
        request = response.request
        method = (request.method or "GET").upper() if request is not None else "GET"
        path = unquote(urlparse(request.url or "").path) if request is not None else ""
        is_meta = "/meta/" in path
        writing = method != "GET" and not path.endswith("/listRecords")
        if status == 401:
            return AirtableConfigError(
                f"{doing}: Airtable rejected the token {detail}; check that it is a valid "
                "personal access token and has not been revoked",
                status=status,
            )
        if status == 403:
            scope = ("schema.bases:" if is_meta else "data.records:") + (
                "write" if writing else "read"
            )
            # Airtable answers 403 for a missing table too, not only for a missing scope.
            missing_table = "" if is_meta else "; or the table is missing: run bootstrap"
            return AirtableConfigError(
                f"{doing}: the token lacks {scope} for base {base} {detail}; add the scope "
                f"(bootstrap needs schema.bases:read and schema.bases:write, sync needs "
                f"data.records:read and data.records:write) and give the token access to the "
                f"base{missing_table}",
                status=status,
                table=table,
            )
        if status == 404 or kind in ("NOT_FOUND", "MODEL_ID_NOT_FOUND", "TABLE_NOT_FOUND"):
            what = (
                f"table {table!r} in base {base}" if table and kind == "TABLE_NOT_FOUND" else None
            )
            what = what or f"base {base}"
            return AirtableConfigError(
                f"{doing}: Airtable does not know {what} {detail}; check the base id (it starts "
                "with 'app') and that the token may access it, then run bootstrap",
                status=status,
                table=table,
            )
        if status == 422 and kind == "UNKNOWN_FIELD_NAME":
            return AirtableConfigError(
                f"{doing}: table {table!r} lacks a field PersonaPulse writes {detail}; run "
                "bootstrap to add it",
                status=status,
                table=table,
            )
        if status == 429:
            return AirtableRateLimitError(
                f"{doing}: still rate limited after {self.config.max_rate_limit_retries} waits "
                f"of {self.config.retry_wait_seconds:g} s {detail}; rerun later: a rerun resumes "
                "where this one stopped",
                status=status,
            )
        return AirtableSyncError(f"{doing}: Airtable answered {detail}", status=status)

    # --- bootstrap ------------------------------------------------------------------------

    def _read_schema(self) -> list[dict]:
        with self._errors(f"reading the schema of base {self.config.base_id}"):
            data = self.api.request("GET", self.base.urls.tables)
        return list(data.get("tables", []))

    def bootstrap(self) -> dict:
        """Create missing tables and fields; a rerun creates nothing.

        Every existing field is checked before anything is created, so a wrongly typed field
        stops the bootstrap with no half-applied change. Returns ``{"base_id", "tables":
        {name: id}, "created_tables": [...], "created_fields": ["Table.Field", ...], "log"}``.
        """
        entries: list[dict] = []
        report = SyncReport(log=entries)
        with self._collecting(report):
            existing = {t["name"]: t for t in self._read_schema()}
            table_ids = {name: t["id"] for name, t in existing.items()}
            self._check_types(existing, table_ids)
            created_tables: list[str] = []
            created_fields: list[str] = []
            for spec in TABLES:
                if spec.name not in existing:
                    payload = {
                        "name": spec.name,
                        "description": spec.description,
                        "fields": [f.create_payload(table_ids) for f in spec.fields],
                    }
                    with self._errors(f"creating table {spec.name!r}", spec.name):
                        created = self.api.request("POST", self.base.urls.tables, json=payload)
                    table_ids[spec.name] = created["id"]
                    created_tables.append(spec.name)
                    continue
                have = {f["name"] for f in existing[spec.name].get("fields", [])}
                fields_url = self.base.urls.tables / table_ids[spec.name] / "fields"
                for f in spec.fields:
                    if f.name in have:
                        continue
                    with self._errors(f"adding field {f.name!r} to {spec.name!r}", spec.name):
                        self.api.request("POST", fields_url, json=f.create_payload(table_ids))
                    created_fields.append(f"{spec.name}.{f.name}")
        return {
            "base_id": self.config.base_id,
            "tables": {spec.name: table_ids[spec.name] for spec in TABLES},
            "created_tables": created_tables,
            "created_fields": created_fields,
            "log": entries,
        }

    @staticmethod
    def _check_types(existing: dict[str, dict], table_ids: dict[str, str]) -> None:
        for spec in TABLES:
            table = existing.get(spec.name)
            if table is None:
                continue
            actual_by_name = {f["name"]: f for f in table.get("fields", [])}
            for f in spec.fields:
                actual = actual_by_name.get(f.name)
                if actual is None:
                    continue
                if actual.get("type") != f.type:
                    raise AirtableConfigError(
                        f"table {spec.name!r}, field {f.name!r}: expected type {f.type}, found "
                        f"{actual.get('type')}; change the field's type in Airtable or rename it "
                        "so bootstrap can create the right one",
                        table=spec.name,
                        field=f.name,
                        expected=f.type,
                        actual=actual.get("type"),
                    )
                target = table_ids.get(f.link_table or "")
                linked = (actual.get("options") or {}).get("linkedTableId")
                if f.link_table and target and linked and linked != target:
                    raise AirtableConfigError(
                        f"table {spec.name!r}, field {f.name!r}: expected a link to "
                        f"{f.link_table!r} ({target}), found a link to {linked}",
                        table=spec.name,
                        field=f.name,
                        expected=f"multipleRecordLinks → {f.link_table}",
                        actual=f"multipleRecordLinks → {linked}",
                    )

    # --- reading --------------------------------------------------------------------------

    def _read(self, spec: TableSpec, field_names: list[str]) -> _Current:
        table = self.base.table(spec.name)
        with self._errors(f"reading {spec.name!r}", spec.name):
            rows = table.all(fields=field_names, page_size=100)
        current = _Current(by_key={})
        for row in rows:
            key = row.get("fields", {}).get(spec.key_field)
            if not key:
                continue  # a row a human added without a key: not ours
            if key in current.by_key:
                current.duplicates += 1  # upsert on a duplicated key fails in Airtable too
                continue
            current.by_key[str(key)] = (row["id"], row.get("fields", {}))
        return current

    def pull(self) -> list[HumanEdit]:
        """The human-owned persona fields as they are in Airtable, one per persona record."""
        report = SyncReport()
        with self._collecting(report):
            spec = schema.TABLE_BY_NAME[schema.PERSONAS]
            current = self._read(spec, [spec.key_field, *HUMAN_FIELDS])
        return _human_edits(current)

    def delete_matching(
        self, table_name: str, field_name: str, matches: Callable[[str], bool]
    ) -> SyncReport:
        """Delete the records of ``table_name`` whose ``field_name`` value ``matches``.

        For erasure requests: the push leaves records it no longer wants in place (a human may
        have added to them), so a person's records are removed here. Every record is read, keyed
        or not, duplicates included. Deletes in batches of 10, the most one request takes; the
        report counts them in ``tables[name].deleted``.
        """
        report = SyncReport()
        with self._collecting(report):
            spec = schema.TABLE_BY_NAME[table_name]
            table = self.base.table(spec.name)
            with self._errors(f"reading {spec.name!r}", spec.name):
                rows = table.all(fields=[field_name], page_size=100)
            doomed = [
                row["id"]
                for row in rows
                if isinstance(value := row.get("fields", {}).get(field_name), str)
                and matches(value)
            ]
            table_report = TableReport()
            size = self.api.MAX_RECORDS_PER_REQUEST
            for start in range(0, len(doomed), size):
                batch = doomed[start : start + size]
                with self._errors(f"deleting {len(batch)} records of {spec.name!r}", spec.name):
                    deleted = table.batch_delete(batch)
                table_report.deleted += sum(1 for row in deleted if row.get("deleted"))
                table_report.write_requests += 1
            report.tables[table_name] = table_report
        return report

    # --- pushing --------------------------------------------------------------------------

    def push(self, snapshot: Snapshot) -> SyncReport:
        """Upsert the snapshot's engine-owned fields; unchanged records are not written.

        Reads each table first and writes only records whose engine-owned fields differ, in
        batches of at most 10 (``performUpsert`` on the key field, so a rerun after a failure
        neither duplicates nor loses records). Human-owned fields are never sent.
        """
        report = SyncReport()
        with self._collecting(report):
            self._push(snapshot, report, prefetched={})
        return report

    def sync(self, snapshot: Snapshot) -> SyncReport:
        """Pull human edits, then push the snapshot; the report carries the edits."""
        report = SyncReport()
        with self._collecting(report):
            spec = schema.TABLE_BY_NAME[schema.PERSONAS]
            engine_names = [f.name for f in spec.owned_by("key", "engine")]
            # One read serves both halves: human fields for the pull, engine fields for the diff.
            personas = self._read(spec, [*engine_names, *HUMAN_FIELDS])
            report.human_edits = _human_edits(personas)
            self._push(snapshot, report, prefetched={schema.PERSONAS: personas})
        return report

    def _push(self, snapshot: Snapshot, report: SyncReport, prefetched: dict) -> None:
        record_ids: dict[str, dict[str, str]] = {}
        for table_name, desired in snapshot.desired_records().items():
            spec = schema.TABLE_BY_NAME[table_name]
            current = prefetched.get(table_name) or self._read(
                spec, [f.name for f in spec.owned_by("key", "engine")]
            )
            ids = {key: record_id for key, (record_id, _) in current.by_key.items()}
            writes = []
            table_report = TableReport()
            for record in desired:
                fields = rec.resolve_links(spec, record.fields, record_ids)
                existing = current.by_key.get(record.key)
                if existing is None:
                    writes.append(fields)
                    table_report.created += 1
                    continue
                changed = rec.changed_fields(spec, fields, existing[1])
                if changed:
                    writes.append({spec.key_field: record.key, **changed})
                    table_report.updated += 1
                else:
                    table_report.unchanged += 1
            wanted = {r.key for r in desired}
            table_report.stale = sum(1 for key in current.by_key if key not in wanted)
            report.tables[table_name] = table_report
            ids.update(self._write(spec, writes, table_report))
            record_ids[table_name] = ids

    def _write(
        self, spec: TableSpec, writes: list[dict], table_report: TableReport
    ) -> dict[str, str]:
        table = self.base.table(spec.name)
        written_ids: dict[str, str] = {}
        total = len(writes)
        if self._progress is not None:
            self._progress(spec.name, 0, total)
        size = self.api.MAX_RECORDS_PER_REQUEST
        for start in range(0, total, size):
            batch = writes[start : start + size]
            with self._errors(f"writing {len(batch)} records to {spec.name!r}", spec.name):
                result = table.batch_upsert(
                    [{"fields": fields} for fields in batch],
                    key_fields=[spec.key_field],
                    typecast=True,  # lets a new select option (a new priority, say) through
                )
            table_report.write_requests += 1
            for row in result["records"]:
                key = row.get("fields", {}).get(spec.key_field)
                if key:
                    written_ids[str(key)] = row["id"]
            if self._progress is not None:
                self._progress(spec.name, min(start + size, total), total)
        return written_ids


def _human_edits(current: _Current) -> list[HumanEdit]:
    edits = []
    for key, (record_id, fields) in current.by_key.items():
        values = {attr: fields.get(name) for name, attr in HUMAN_FIELDS.items()}
        values = {k: (v if v != "" else None) for k, v in values.items()}
        values["do_not_target"] = bool(values.get("do_not_target"))
        edits.append(HumanEdit(persona_id=key, record_id=record_id, **values))
    return edits
