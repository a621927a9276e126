"""A local stand-in for the part of Airtable's Web API that airtable_sync uses.

Records (list with pageSize/offset pagination and fields[]; create; update; upsert via
``performUpsert`` with the 10-record limit), the Meta API (list tables, create table, create
field, with the options Airtable requires per type), Bearer auth (401), token scopes (403),
unknown bases (404), 429 storms on demand and a request log with arrival times. Empty cells are
left out of responses, as Airtable does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

ALL_SCOPES = frozenset(
    {"data.records:read", "data.records:write", "schema.bases:read", "schema.bases:write"}
)
MAX_RECORDS_PER_REQUEST = 10
MAX_PAGE_SIZE = 100

# Options Airtable requires when a field of this type is created.
REQUIRED_OPTIONS = {
    "number": ("precision",),
    "percent": ("precision",),
    "checkbox": ("icon", "color"),
    "dateTime": ("dateFormat", "timeFormat", "timeZone"),
    "singleSelect": ("choices",),
    "multipleRecordLinks": ("linkedTableId",),
}
TEXT_TYPES = ("singleLineText", "multilineText")


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": kind, "message": message}}


class FakeAirtable:
    """State, rules and a threaded HTTP server on 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        *,
        token: str = "patGOOD",
        base_id: str = "appTEST",
        scopes: frozenset[str] = ALL_SCOPES,
    ) -> None:
        self.token = token
        self.scopes = set(scopes)
        self.bases: dict[str, dict[str, dict]] = {base_id: {}}
        self.base_id = base_id
        self.log: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._storm_after = 0
        self._storm_count = 0
        self._storm_every = 1
        self._storm_seen = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeAirtable:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def service_settings(self) -> dict[str, str]:
        """The service's Airtable settings pointing at this fake (quick retries after a 429)."""
        return {
            "AIRTABLE_TOKEN": self.token,
            "AIRTABLE_BASE_ID": self.base_id,
            "AIRTABLE_ENDPOINT_URL": self.url,
            "AIRTABLE_RETRY_WAIT_SECONDS": "0.01",
        }

    # --- test controls --------------------------------------------------------------------

    def rate_limit(self, count: int, *, after: int = 0, every: int = 1) -> None:
        """Answer 429 to ``count`` requests, starting once ``after`` more have been served.

        With ``every`` = n only every n-th request of the storm is refused, so the storm spreads
        over many different requests instead of bouncing one request ``count`` times.
        """
        with self._lock:
            self._storm_after = after
            self._storm_count = count
            self._storm_every = every
            self._storm_seen = 0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):014d}"

    def table(self, name: str, base_id: str | None = None) -> dict:
        tables = self.bases[base_id or self.base_id]
        for t in tables.values():
            if t["name"] == name or t["id"] == name:
                return t
        raise KeyError(name)

    def records(self, table_name: str) -> list[dict[str, Any]]:
        """The fields of every record in a table (a copy, empty cells left out)."""
        with self._lock:
            return [_visible(r["fields"]) for r in self.table(table_name)["records"].values()]

    def human_edit(self, table_name: str, key_field: str, key: str, **fields: Any) -> None:
        """What a person typing in the Airtable UI does: change cells of one record."""
        with self._lock:
            matches = [
                r
                for r in self.table(table_name)["records"].values()
                if r["fields"].get(key_field) == key
            ]
            assert len(matches) == 1, (table_name, key, len(matches))
            matches[0]["fields"].update(fields)

    def add_table(self, name: str, fields: list[dict[str, Any]]) -> dict:
        """Seed a table directly, bypassing validation (to build odd or partial bases)."""
        with self._lock:
            table = self._new_table(self.base_id, name, fields, validate=False)
            return table

    def requests_between(self, start: float, end: float) -> list[dict[str, Any]]:
        return [e for e in self.log if start <= e["t"] <= end]

    # --- request handling -----------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict]:
        arrived = time.monotonic()
        parsed = urlparse(raw_path)
        path = [unquote(p) for p in parsed.path.split("/") if p]
        query = parse_qs(parsed.query)
        payload: dict[str, Any] = {}
        if body:
            payload = json.loads(body)
        entry = {
            "t": arrived,
            "method": method,
            "path": unquote(parsed.path),
            "records": len(payload.get("records", [])) if isinstance(payload, dict) else 0,
            "fields": sorted(
                {name for r in payload.get("records", []) for name in r.get("fields", {})}
            ),
        }
        try:
            with self._lock:
                if self._storm_after > 0:
                    self._storm_after -= 1
                elif self._storm_count > 0:
                    self._storm_seen += 1
                    if self._storm_seen % self._storm_every == 0:
                        self._storm_count -= 1
                        raise ApiError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded")
                status, response = self._route(method, path, query, headers, payload)
        except ApiError as exc:
            status, response = exc.status, exc.body
        entry["status"] = status
        with self._lock:
            self.log.append(entry)
        return status, response

    def _route(
        self,
        method: str,
        path: list[str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        payload: dict[str, Any],
    ) -> tuple[int, dict]:
        if headers.get("authorization") != f"Bearer {self.token}":
            raise ApiError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if not path or path[0] != "v0":
            raise ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        path = path[1:]
        if path[:2] == ["meta", "bases"] and len(path) >= 4 and path[3] == "tables":
            base = self._base(path[2])
            if method == "GET" and len(path) == 4:
                self._need("schema.bases:read")
                return 200, {"tables": [_schema_of(t) for t in base.values()]}
            self._need("schema.bases:write")
            if method == "POST" and len(path) == 4:
                return 200, _schema_of(self._create_table(path[2], payload))
            if method == "POST" and len(path) == 6 and path[5] == "fields":
                table = self._table(path[2], path[4])
                return 200, self._create_field(path[2], table, payload)
            raise ApiError(404, "NOT_FOUND")
        if len(path) == 2:
            self._base(path[0])
            table = self._table(path[0], path[1])
            if method == "GET":
                self._need("data.records:read")
                return 200, self._list(table, query)
            self._need("data.records:write")
            if method == "POST":
                return 200, self._create_records(path[0], table, payload)
            if method == "PATCH":
                return 200, self._update_records(path[0], table, payload)
            if method == "DELETE":
                return 200, self._delete_records(table, query)
        raise ApiError(404, "NOT_FOUND")

    def _need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError(
                403,
                "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                "Invalid permissions, or the requested model was not found.",
            )

    def _base(self, base_id: str) -> dict[str, dict]:
        if base_id not in self.bases:
            raise ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        return self.bases[base_id]

    def _table(self, base_id: str, id_or_name: str) -> dict:
        try:
            return self.table(id_or_name, base_id)
        except KeyError:
            raise ApiError(
                404, "TABLE_NOT_FOUND", f"Could not find table {id_or_name} in the base"
            ) from None

    # --- Meta API -------------------------------------------------------------------------

    def _check_field_model(self, base_id: str, field: dict) -> None:
        ftype = field.get("type")
        if not field.get("name") or not isinstance(ftype, str):
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "a field needs a name and a type")
        options = field.get("options") or {}
        missing = [o for o in REQUIRED_OPTIONS.get(ftype, ()) if o not in options]
        if missing:
            raise ApiError(
                422, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE", f"{ftype} needs options {missing}"
            )
        if ftype == "multipleRecordLinks":
            self._table(base_id, options["linkedTableId"])

    def _new_table(self, base_id: str, name: str, fields: list[dict], *, validate: bool) -> dict:
        base = self._base(base_id)
        if any(t["name"] == name for t in base.values()):
            raise ApiError(422, "DUPLICATE_TABLE_NAME", f"table {name} exists")
        if validate:
            if not fields:
                raise ApiError(422, "INVALID_REQUEST_UNKNOWN", "a table needs fields")
            for f in fields:
                self._check_field_model(base_id, f)
        table = {"id": self.new_id("tbl"), "name": name, "fields": [], "records": {}}
        base[table["id"]] = table
        for f in fields:
            self._add_field(base_id, table, f)
        table["primaryFieldId"] = table["fields"][0]["id"] if table["fields"] else None
        return table

    def _create_table(self, base_id: str, payload: dict) -> dict:
        table = self._new_table(
            base_id, payload.get("name", ""), payload.get("fields", []), validate=True
        )
        table["description"] = payload.get("description")
        return table

    def _add_field(self, base_id: str, table: dict, field: dict) -> dict:
        if any(f["name"] == field["name"] for f in table["fields"]):
            raise ApiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f"field {field['name']} exists")
        stored = {
            "id": self.new_id("fld"),
            "name": field["name"],
            "type": field["type"],
            "options": json.loads(json.dumps(field.get("options") or {})),
        }
        table["fields"].append(stored)
        if field["type"] == "multipleRecordLinks" and "inverseLinkFieldId" not in stored["options"]:
            # Airtable adds the reciprocal link in the linked table, named after this table.
            target = self._table(base_id, stored["options"]["linkedTableId"])
            name = table["name"]
            while any(f["name"] == name for f in target["fields"]):
                name += " 2"
            inverse = {
                "id": self.new_id("fld"),
                "name": name,
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": table["id"], "inverseLinkFieldId": stored["id"]},
            }
            target["fields"].append(inverse)
            stored["options"]["inverseLinkFieldId"] = inverse["id"]
        return stored

    def _create_field(self, base_id: str, table: dict, payload: dict) -> dict:
        self._check_field_model(base_id, payload)
        stored = self._add_field(base_id, table, payload)
        return {k: v for k, v in stored.items() if k != "records"}

    # --- records --------------------------------------------------------------------------

    def _list(self, table: dict, query: dict[str, list[str]]) -> dict:
        names = {f["name"] for f in table["fields"]}
        wanted = query.get("fields[]")
        for name in wanted or []:
            if name not in names:
                raise ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')
        page_size = int(query.get("pageSize", [MAX_PAGE_SIZE])[0])
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ApiError(422, "INVALID_PAGE_SIZE", "pageSize must be 1..100")
        start = 0
        if "offset" in query:
            token = query["offset"][0]
            if not token.startswith("itr") or not token[3:].isdigit():
                raise ApiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "bad offset")
            start = int(token[3:])
        rows = list(table["records"].values())
        page = rows[start : start + page_size]
        out: dict[str, Any] = {
            "records": [
                {
                    "id": r["id"],
                    "createdTime": r["createdTime"],
                    "fields": {
                        k: v
                        for k, v in _visible(r["fields"]).items()
                        if wanted is None or k in wanted
                    },
                }
                for r in page
            ]
        }
        if start + page_size < len(rows):
            out["offset"] = f"itr{start + page_size}"
        return out

    def _check_batch(self, payload: dict) -> list[dict]:
        records = payload.get("records")
        if not isinstance(records, list) or not records:
            raise ApiError(422, "INVALID_RECORDS", "records must be a non-empty array")
        if len(records) > MAX_RECORDS_PER_REQUEST:
            raise ApiError(
                422, "INVALID_RECORDS", f"at most {MAX_RECORDS_PER_REQUEST} records per request"
            )
        return records

    def _clean_fields(self, base_id: str, table: dict, fields: dict, typecast: bool) -> dict:
        by_name = {f["name"]: f for f in table["fields"]}
        clean = {}
        for name, value in fields.items():
            spec = by_name.get(name)
            if spec is None:
                raise ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')
            clean[name] = self._check_value(base_id, spec, value, typecast)
        return clean

    def _check_value(self, base_id: str, spec: dict, value: Any, typecast: bool) -> Any:
        if value is None:
            return None
        ftype, name = spec["type"], spec["name"]
        bad = ApiError(422, "INVALID_VALUE_FOR_COLUMN", f'Field "{name}" cannot accept {value!r}')
        if ftype in TEXT_TYPES:
            if not isinstance(value, str):
                raise bad
        elif ftype in ("number", "percent"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad
        elif ftype == "checkbox":
            if not isinstance(value, bool):
                raise bad
        elif ftype == "dateTime":
            try:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise bad from None
        elif ftype == "singleSelect":
            choices = spec["options"].setdefault("choices", [])
            if value not in [c["name"] for c in choices]:
                if not typecast:
                    raise ApiError(
                        422,
                        "INVALID_MULTIPLE_CHOICE_OPTIONS",
                        f'Insufficient permissions to create new select option ""{value}""',
                    )
                choices.append({"id": self.new_id("sel"), "name": value})
        elif ftype == "multipleRecordLinks":
            target = self._table(base_id, spec["options"]["linkedTableId"])
            if not isinstance(value, list) or any(v not in target["records"] for v in value):
                raise ApiError(422, "ROW_DOES_NOT_EXIST", f"{value!r} not in {target['name']}")
        return value

    def _new_record(self, table: dict, fields: dict) -> dict:
        record = {
            "id": self.new_id("rec"),
            "createdTime": "2026-01-01T00:00:00.000Z",
            "fields": fields,
        }
        table["records"][record["id"]] = record
        return record

    def _create_records(self, base_id: str, table: dict, payload: dict) -> dict:
        records = self._check_batch(payload)
        typecast = bool(payload.get("typecast"))
        cleaned = [
            self._clean_fields(base_id, table, r.get("fields", {}), typecast) for r in records
        ]
        created = [self._new_record(table, fields) for fields in cleaned]
        return {"records": [_public(r) for r in created]}

    def _delete_records(self, table: dict, query: dict[str, list[str]]) -> dict:
        # DELETE /v0/{base}/{table}?records[]=rec…&records[]=rec… (at most 10; all or nothing).
        ids = query.get("records[]", [])
        if not ids or len(ids) > 10:
            raise ApiError(422, "INVALID_REQUEST_UNKNOWN", f"{len(ids)} records: 1 to 10 at once")
        missing = [i for i in ids if i not in table["records"]]
        if missing:
            raise ApiError(404, "NOT_FOUND", f"record {missing[0]} not found")
        for record_id in ids:
            del table["records"][record_id]
        return {"records": [{"id": record_id, "deleted": True} for record_id in ids]}

    def _update_records(self, base_id: str, table: dict, payload: dict) -> dict:
        records = self._check_batch(payload)
        typecast = bool(payload.get("typecast"))
        upsert = payload.get("performUpsert")
        # Validate the whole batch first: Airtable applies a batch entirely or not at all.
        cleaned = [
            self._clean_fields(base_id, table, r.get("fields", {}), typecast) for r in records
        ]
        targets: list[dict | None] = []
        if upsert is None:
            for r in records:
                if r.get("id") not in table["records"]:
                    raise ApiError(404, "NOT_FOUND", f"record {r.get('id')} not found")
                targets.append(table["records"][r["id"]])
        else:
            merge_on = upsert.get("fieldsToMergeOn") or []
            names = {f["name"] for f in table["fields"]}
            if not merge_on or any(m not in names for m in merge_on):
                raise ApiError(422, "INVALID_MERGE_FIELD", f"bad fieldsToMergeOn {merge_on}")
            seen = set()
            for fields in cleaned:
                if any(fields.get(m) in (None, "") for m in merge_on):
                    raise ApiError(422, "INVALID_RECORDS", "a record lacks a merge field")
                merge_key = tuple(fields[m] for m in merge_on)
                if merge_key in seen:
                    raise ApiError(422, "INVALID_RECORDS", f"{merge_key} twice in one request")
                seen.add(merge_key)
                matches = [
                    rec
                    for rec in table["records"].values()
                    if tuple(rec["fields"].get(m) for m in merge_on) == merge_key
                ]
                if len(matches) > 1:
                    raise ApiError(422, "INVALID_RECORDS", f"{merge_key} matches several records")
                targets.append(matches[0] if matches else None)
        out, created, updated = [], [], []
        for target, fields in zip(targets, cleaned, strict=True):
            if target is None:
                target = self._new_record(table, fields)
                created.append(target["id"])
            else:
                target["fields"].update(fields)
                updated.append(target["id"])
            out.append(_public(target))
        response: dict[str, Any] = {"records": out}
        if upsert is not None:
            response["createdRecords"] = created
            response["updatedRecords"] = updated
        return response


def _visible(fields: dict) -> dict:
    # 0 stays: only empty text, empty links, unchecked boxes and nulls are left out.
    return {k: v for k, v in fields.items() if not (v is None or v is False or v == "" or v == [])}


def _public(record: dict) -> dict:
    return {
        "id": record["id"],
        "createdTime": record["createdTime"],
        "fields": _visible(record["fields"]),
    }


def _schema_of(table: dict) -> dict:
    return {
        "id": table["id"],
        "name": table["name"],
        "description": table.get("description"),
        "primaryFieldId": table.get("primaryFieldId"),
        "fields": [dict(f) for f in table["fields"]],
        "views": [{"id": "viwGRID", "name": "Grid view", "type": "grid"}],
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAirtable

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.fake.handle(self.command, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return
