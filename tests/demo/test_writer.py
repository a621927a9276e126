from __future__ import annotations

import csv

import orjson

from personapulse.demo import DemoConfig, generate_users, write_jsonl

from .conftest import NOW


def test_write_jsonl_streams_every_payload(tmp_path):
    config = DemoConfig(users=120, seed=9, now=NOW)
    paths = write_jsonl(config, tmp_path / "out")
    assert set(paths) == {"events", "reviews", "conversations", "profiles", "answers"}
    bundles = list(generate_users(config))

    def lines(key: str) -> list[dict]:
        return [orjson.loads(line) for line in paths[key].read_bytes().splitlines()]

    assert lines("events") == [e for b in bundles for e in b.events]
    assert lines("reviews") == [r for b in bundles for r in b.reviews]
    assert lines("conversations") == [c for b in bundles for c in b.conversations]
    assert lines("profiles") == [b.profile for b in bundles if b.profile is not None]
    with paths["answers"].open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["person_id", "archetype"]
    assert rows[1:] == [[b.person_id, b.archetype] for b in bundles if b.identified]
