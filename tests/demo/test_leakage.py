"""The planted archetype must reach only the answer file, never the ingested payloads."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson

from personapulse.demo import ARCHETYPES


def _strings(value, path: str = ""):
    """Yield (key path, leaf value) for every leaf of a JSON-like value; keys are leaves too."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.<key>", key
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, f"{path}[]")
    else:
        yield path, value


def _payloads(bundle):
    for event in bundle.events:
        yield "event", event
    for review in bundle.reviews:
        yield "review", review
    for conversation in bundle.conversations:
        yield "conversation", conversation
    if bundle.profile is not None:
        yield "profile", bundle.profile


def test_no_archetype_name_in_any_string(bundles):
    forbidden = set()
    for name in ARCHETYPES:
        forbidden |= {name, name.replace("_", " "), name.replace("_", "-"), name.replace("_", "")}
    forbidden |= {"archetype", "persona", "segment"}
    checked = 0
    for bundle in bundles:
        # keys and values alike, exactly as they would be POSTed
        text = orjson.dumps([payload for _, payload in _payloads(bundle)]).decode().lower()
        checked += len(text)
        hits = [word for word in forbidden if word in text]
        assert not hits, (bundle.person_id, hits)
    assert checked > 5_000_000


def test_no_field_maps_one_to_one_to_the_archetype(bundles):
    """For every categorical field, predicting a user's archetype from their most common value
    of it ("<absent>" when they never send it; majority archetype per value) must be far from
    perfect. Behaviour (which events a user sends) is allowed to differ; labels are not."""
    identified = [b for b in bundles if b.identified][:300]
    values: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    distinct: dict[str, set] = defaultdict(set)
    for bundle in identified:
        for kind, payload in _payloads(bundle):
            for path, leaf in _strings(payload, kind):
                if isinstance(leaf, str | bool | int) and not isinstance(leaf, float):
                    values[path][bundle.person_id][leaf] += 1
                    if len(distinct[path]) <= 200:
                        distinct[path].add(leaf)
    archetype = {b.person_id: b.archetype for b in identified}
    assessed = 0
    for path, per_user in values.items():
        if not 2 <= len(distinct[path]) <= 200 or len(per_user) < 20:
            continue  # ids, timestamps and free text are unique per user; constants say nothing
        assessed += 1
        mode = {
            user: per_user[user].most_common(1)[0][0] if user in per_user else "<absent>"
            for user in archetype
        }
        by_value: dict[object, Counter] = defaultdict(Counter)
        for user, value in mode.items():
            by_value[value][archetype[user]] += 1
        correct = sum(counter.most_common(1)[0][1] for counter in by_value.values())
        accuracy = correct / len(mode)
        assert accuracy < 0.75, (path, accuracy)
    assert assessed >= 20
