"""The fake Airtable keeps Airtable's rules, so the sync tests mean something."""

from __future__ import annotations

import requests

from tests.airtable_sync.fake_airtable import FakeAirtable


def _call(fake: FakeAirtable, method: str, path: str, token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token or fake.token}"}
    with requests.Session() as session:
        return session.request(method, fake.url + path, headers=headers, timeout=5, **kwargs)


def _items_table(fake: FakeAirtable) -> None:
    fake.add_table(
        "Items",
        [
            {"name": "Key", "type": "singleLineText"},
            {"name": "N", "type": "number", "options": {"precision": 0}},
        ],
    )


def test_more_than_ten_records_is_422_invalid_records(fake):
    _items_table(fake)
    records = [{"fields": {"Key": f"k{i}"}} for i in range(11)]

    response = _call(fake, "POST", "/v0/appTEST/Items", json={"records": records})

    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_RECORDS"
    assert fake.records("Items") == []


def test_upsert_creates_then_updates_on_the_merge_field(fake):
    _items_table(fake)
    body = {
        "records": [{"fields": {"Key": "a", "N": 1}}],
        "performUpsert": {"fieldsToMergeOn": ["Key"]},
    }
    first = _call(fake, "PATCH", "/v0/appTEST/Items", json=body).json()
    body["records"][0]["fields"]["N"] = 2
    second = _call(fake, "PATCH", "/v0/appTEST/Items", json=body).json()

    assert len(first["createdRecords"]) == 1 and first["updatedRecords"] == []
    assert second["updatedRecords"] == first["createdRecords"]
    assert fake.records("Items") == [{"Key": "a", "N": 2}]


def test_list_pages_with_offset(fake):
    _items_table(fake)
    table = fake.table("Items")
    for i in range(5):
        fake._new_record(table, {"Key": f"k{i}", "N": i})

    keys, offset, pages = [], None, 0
    while True:
        params = {"pageSize": 2, **({"offset": offset} if offset else {})}
        page = _call(fake, "GET", "/v0/appTEST/Items", params=params).json()
        keys += [r["fields"]["Key"] for r in page["records"]]
        pages += 1
        offset = page.get("offset")
        if not offset:
            break

    assert keys == [f"k{i}" for i in range(5)] and pages == 3
    assert page["records"][0]["fields"]["N"] == 4  # a 0 is a value, not an empty cell


def test_auth_scopes_unknown_base_and_rate_limit(fake):
    _items_table(fake)
    assert _call(fake, "GET", "/v0/appTEST/Items", token="patBAD").status_code == 401
    assert _call(fake, "GET", "/v0/appNOPE/Items").status_code == 404
    fake.scopes = {"data.records:read"}
    assert _call(fake, "GET", "/v0/meta/bases/appTEST/tables").status_code == 403
    fake.rate_limit(1)
    assert _call(fake, "GET", "/v0/appTEST/Items").status_code == 429
    assert _call(fake, "GET", "/v0/appTEST/Items").status_code == 200
    assert [e["status"] for e in fake.log] == [401, 404, 403, 429, 200]
