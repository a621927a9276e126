"""Shift detection on real demo personas (tests/sample_data/shifts, see its meta.json)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact

from personapulse.outbound.shifts import (
    Shift,
    ShiftConfig,
    detect_shifts,
    pain_point_spikes,
    two_proportion_z_test,
)

DATA = Path(__file__).resolve().parents[1] / "sample_data" / "shifts"


@pytest.fixture(scope="module")
def demo():
    documents = pd.DataFrame(json.loads((DATA / "documents.json").read_text()))
    documents["created_at"] = pd.to_datetime(documents["created_at"], utc=True)
    meta = json.loads((DATA / "meta.json").read_text())
    return {
        "v1": json.loads((DATA / "personas_v1.json").read_text()),
        "v2": json.loads((DATA / "personas_v2.json").read_text()),
        "documents": documents,
        "assignments": pd.read_csv(DATA / "assignments.csv"),
        "answers": pd.read_csv(DATA / "answers.csv"),
        "meta": meta,
        "now": pd.Timestamp(meta["now"]),
    }


def _versions_only(previous, current, *, distances=None, appeared=(), vanished=(), config=None):
    return detect_shifts(
        previous,
        current,
        match_distances=distances or {},
        appeared=list(appeared),
        vanished=list(vanished),
        documents=None,
        assignments=None,
        now=pd.Timestamp("2026-11-23T14:00Z"),
        config=config or ShiftConfig(),
    )


def _power_user_persona(demo) -> str:
    merged = demo["assignments"].merge(demo["answers"], on="person_id")
    power = merged[merged["archetype"] == "power_user"]
    return power["persona_id"].value_counts().index[0]


def test_unchanged_refit_has_no_version_shifts(demo):
    meta = demo["meta"]
    assert meta["v2_appeared"] == [] and meta["v2_vanished"] == []
    shifts = _versions_only(demo["v1"], demo["v2"], distances=meta["v2_match_distances"])
    assert shifts == []


def test_planted_shipping_spike_is_the_only_shift_on_demo_data(demo):
    meta = demo["meta"]
    shifts = detect_shifts(
        demo["v1"],
        demo["v2"],
        match_distances=meta["v2_match_distances"],
        appeared=[],
        vanished=[],
        documents=demo["documents"],
        assignments=demo["assignments"],
        now=demo["now"],
    )
    assert [(s.kind, s.persona_id, s.label) for s in shifts] == [
        ("pain_point_spike", _power_user_persona(demo), "shipping_delivery")
    ]
    evidence = shifts[0].evidence
    assert evidence["p_value"] < 0.01
    assert evidence["recent_mentions"] >= ShiftConfig().spike_min_count
    assert "Power" in shifts[0].summary and "shipping delivery" in shifts[0].summary


def test_spike_counts_match_an_independent_count(demo):
    now = demo["now"]
    persona = _power_user_persona(demo)
    assignments = demo["assignments"]
    members = set(assignments.loc[assignments["persona_id"] == persona, "person_id"])
    counts: Counter = Counter()
    for row in demo["documents"].itertuples():
        if row.person_id not in members or row.created_at > now:
            continue
        age = now - row.created_at
        window = (
            "recent"
            if age <= pd.Timedelta(days=7)
            else ("base" if age <= pd.Timedelta(days=35) else None)
        )
        if window is None:
            continue
        counts[window, "docs"] += 1
        if any(p["label"] == "shipping_delivery" for p in row.pain_points):
            counts[window, "hits"] += 1
    (spike,) = pain_point_spikes(demo["documents"], demo["assignments"], demo["v2"], now=now)
    ev = spike.evidence
    assert (ev["recent_mentions"], ev["recent_documents"]) == (
        counts["recent", "hits"],
        counts["recent", "docs"],
    )
    assert (ev["baseline_mentions"], ev["baseline_documents"]) == (
        counts["base", "hits"],
        counts["base", "docs"],
    )
    table = [
        [counts["recent", "hits"], counts["recent", "docs"] - counts["recent", "hits"]],
        [counts["base", "hits"], counts["base", "docs"] - counts["base", "hits"]],
    ]
    assert ev["p_value"] == pytest.approx(fisher_exact(table, alternative="greater")[1])


def test_no_spike_before_it_was_planted(demo):
    # Two weeks earlier the planted spike lies in the future: nothing should fire.
    shifts = pain_point_spikes(
        demo["documents"], demo["assignments"], now=demo["now"] - pd.Timedelta(days=14)
    )
    assert shifts == []


def test_minimum_count_and_alpha_gate_the_spike(demo):
    args = (demo["documents"], demo["assignments"])
    assert pain_point_spikes(*args, now=demo["now"], config=ShiftConfig(spike_min_count=40)) == []
    assert pain_point_spikes(*args, now=demo["now"], config=ShiftConfig(spike_alpha=1e-9)) == []


def _resized(personas, persona_id, new_size):
    out = copy.deepcopy(personas)
    for persona in out:
        if persona["persona_id"] == persona_id:
            persona["size"] = new_size
    total = sum(p["size"] for p in out)
    for persona in out:
        persona["share"] = persona["size"] / total
    return out


def test_share_moved_reports_the_z_test(demo):
    v1 = demo["v1"]
    largest = max(v1, key=lambda p: p["size"])
    # +60 % members: share moves from ~30 % to ~41 %
    v2 = _resized(v1, largest["persona_id"], int(largest["size"] * 1.6))
    shifts = [s for s in _versions_only(v1, v2) if s.kind == "share_moved"]
    moved = {s.persona_id: s for s in shifts}
    assert largest["persona_id"] in moved
    ev = moved[largest["persona_id"]].evidence
    n1 = sum(p["size"] for p in v1)
    n2 = sum(p["size"] for p in v2)
    x1, x2 = largest["size"], int(largest["size"] * 1.6)
    chi2, p_value, _, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert ev["p_value"] == pytest.approx(p_value)
    assert ev["z"] ** 2 == pytest.approx(chi2)
    assert ev["delta_points"] == pytest.approx((x2 / n2 - x1 / n1) * 100)
    assert moved[largest["persona_id"]].severity == "critical"  # > 10 points
    assert "grew" in moved[largest["persona_id"]].summary


def test_small_share_move_is_not_a_shift(demo):
    v1 = demo["v1"]
    largest = max(v1, key=lambda p: p["size"])
    v2 = _resized(v1, largest["persona_id"], largest["size"] + 10)  # ~ +1 point
    assert [s for s in _versions_only(v1, v2) if s.kind == "share_moved"] == []


def test_large_share_move_in_tiny_sample_is_not_significant():
    previous = [{"persona_id": "a", "size": 3}, {"persona_id": "b", "size": 7}]
    current = [{"persona_id": "a", "size": 5}, {"persona_id": "b", "size": 5}]
    assert _versions_only(previous, current) == []  # 20 points, but p ~ .36


def test_conversion_change(demo):
    v1 = demo["v1"]
    target = max(v1, key=lambda p: p["size"])  # conversion 1.0 in the demo
    assert target["profile"]["conversion"] >= 0.25
    v2 = copy.deepcopy(v1)
    for persona in v2:
        if persona["persona_id"] == target["persona_id"]:
            persona["profile"]["conversion"] = target["profile"]["conversion"] - 0.25
    (shift,) = _versions_only(v1, v2)
    assert shift.kind == "conversion_change" and shift.persona_id == target["persona_id"]
    assert shift.severity == "critical" and "fell" in shift.summary
    n = target["size"]
    x1 = round(target["profile"]["conversion"] * n)
    x2 = round((target["profile"]["conversion"] - 0.25) * n)
    _, p_value, _, _ = chi2_contingency([[x1, n - x1], [x2, n - x2]], correction=False)
    assert shift.evidence["p_value"] == pytest.approx(p_value)


def test_drift_appeared_vanished(demo):
    v1 = demo["v1"]
    gone, kept = v1[-1], v1[:-1]
    newcomer = copy.deepcopy(gone) | {"persona_id": "p_newone00", "name": "Night owls"}
    v2 = [*copy.deepcopy(kept), newcomer]
    distances = {p["persona_id"]: 0.1 for p in kept}
    distances[kept[0]["persona_id"]] = 1.5
    shifts = _versions_only(
        v1, v2, distances=distances, appeared=["p_newone00"], vanished=[gone["persona_id"]]
    )
    kinds = {(s.kind, s.persona_id): s for s in shifts}
    assert set(kinds) == {
        ("centroid_drift", kept[0]["persona_id"]),
        ("appeared", "p_newone00"),
        ("vanished", gone["persona_id"]),
    }
    assert kinds["centroid_drift", kept[0]["persona_id"]].evidence["distance"] == 1.5
    assert kinds["appeared", "p_newone00"].severity == "info"
    assert "Night owls" in kinds["appeared", "p_newone00"].summary


def test_first_version_has_no_version_shifts(demo):
    assert _versions_only(None, demo["v1"], appeared=[p["persona_id"] for p in demo["v1"]]) == []


def test_ids_are_stable_and_to_dict_is_json(demo):
    def run():
        return pain_point_spikes(
            demo["documents"], demo["assignments"], demo["v2"], now=demo["now"]
        )

    first, second = run(), run()
    assert [s.id for s in first] == [s.id for s in second]
    later = pain_point_spikes(
        demo["documents"],
        demo["assignments"],
        demo["v2"],
        now=demo["now"] + pd.Timedelta(hours=1),
    )
    assert [s.id for s in later] == [s.id for s in first]  # same day, same window
    payload = json.loads(json.dumps([s.to_dict() for s in first]))
    assert payload[0]["kind"] == "pain_point_spike"
    assert payload[0]["detected_at"].startswith("2026-")
    assert isinstance(first[0], Shift)


def test_inputs_not_mutated_and_columns_checked(demo):
    documents = demo["documents"].copy(deep=True)
    pain_point_spikes(documents, demo["assignments"], now=demo["now"])
    pd.testing.assert_frame_equal(documents, demo["documents"])
    with pytest.raises(ValueError, match="pain_points"):
        pain_point_spikes(
            documents.drop(columns="pain_points"), demo["assignments"], now=demo["now"]
        )
    with pytest.raises(ValueError, match="persona_id"):
        pain_point_spikes(documents, demo["assignments"][["person_id"]], now=demo["now"])


def test_two_proportion_z_test_against_chi_square():
    z, p_value = two_proportion_z_test(45, 100, 60, 100)
    chi2, p_chi, _, _ = chi2_contingency([[45, 55], [60, 40]], correction=False)
    assert z > 0 and z**2 == pytest.approx(chi2) and p_value == pytest.approx(p_chi)
    assert two_proportion_z_test(0, 10, 0, 20) == (0.0, 1.0)


def test_from_dict_round_trip(demo):
    (spike,) = pain_point_spikes(
        demo["documents"], demo["assignments"], demo["v2"], now=demo["now"]
    )
    assert Shift.from_dict(json.loads(json.dumps(spike.to_dict()))) == spike
