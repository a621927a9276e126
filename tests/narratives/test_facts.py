import copy

import pytest

from personapulse.narratives import FactSheet, build_fact_sheet

from .conftest import load


def _inputs():
    personas = load("personas.json")
    journeys = load("journeys.json")
    return {
        "persona": personas["personas"][1],  # p_1e75f8dd, coupon buyers
        "gate": personas["version"]["gate"],
        "pain_points": load("pain_points.json")["pain_points"],
        "paths": journeys["paths"],
        "dropoffs": journeys["dropoffs"],
        "total_users": journeys["persons"],
    }


def test_fact_ids_are_stable_and_cover_the_inputs(sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    ids = sheet.ids()
    for expected in (
        "persona",
        "size",
        "gate",
        "total_users",
        "conversion",
        "revenue",
        "trait.coupon_usage_share",
        "channel.paid",
        "pain.pricing",
        "motivation.price",
        "path.1",
        "trend.share",
    ):
        assert expected in ids
    assert len(ids) == len(set(ids))
    size = sheet.get("size")
    assert size.values == {"users": 148, "share": pytest.approx(148 / 600)}
    assert "24.7%" in size.statement


def test_only_rows_of_the_persona_are_used(sheet_by_id):
    browsers = sheet_by_id["p_4694236e"]
    assert browsers.ids("pain.") == []  # no review text is linked to them
    assert browsers.ids("dropoff.") == ["dropoff.1", "dropoff.2", "dropoff.3"]
    assert sheet_by_id["p_1e75f8dd"].ids("dropoff.") == []  # everyone there bought
    assert browsers.get("dropoff.2").values["last_step"] == "Cart Viewed"


def test_path_fact_keeps_pages_channels_and_steps(sheet_by_id):
    fact = sheet_by_id["p_1e75f8dd"].get("path.1")
    assert fact.values["pages"][0] == "/deals"
    assert "paid" in fact.values["channels"] and "email" in fact.values["channels"]
    assert "Checkout Started" in fact.terms and "/pricing" in fact.terms
    assert fact.values["users"] == 1


def test_transition_facts_are_the_most_frequent_edges(sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    assert sheet.ids("transition.") == ["transition.1", "transition.2", "transition.3"]
    counts = [sheet.get(i).values["count"] for i in sheet.ids("transition.")]
    assert counts == sorted(counts, reverse=True)
    first = sheet.get("transition.1")
    assert {first.values["source"], first.values["target"]} <= set(first.terms)


def test_trend_direction_and_change(sheet_by_id):
    trend = sheet_by_id["p_1e75f8dd"].get("trend.share").values
    assert trend["direction"] == "growing"
    assert trend["change_pp"] == pytest.approx((148 / 600 - 0.20) * 100)
    assert sheet_by_id["p_4e38c477"].get("trend.share").values["direction"] == "shrinking"
    assert sheet_by_id["p_4694236e"].get("trend.share") is None


def test_hash_is_deterministic_and_changes_with_the_data():
    inputs = _inputs()
    first = build_fact_sheet(**inputs)
    again = build_fact_sheet(**copy.deepcopy(inputs))
    assert first.hash == again.hash and len(first.hash) == 64
    changed = copy.deepcopy(inputs)
    changed["pain_points"][0]["count"] += 1
    assert build_fact_sheet(**changed).hash != first.hash
    assert build_fact_sheet(**inputs, previous_share=0.1).hash != first.hash


def test_inputs_are_not_mutated_and_round_trip():
    inputs = _inputs()
    snapshot = copy.deepcopy(inputs)
    sheet = build_fact_sheet(**inputs)
    assert inputs == snapshot
    again = FactSheet.from_dict(sheet.to_dict())
    assert again.hash == sheet.hash


def test_missing_persona_keys_are_named():
    inputs = _inputs()
    inputs["persona"] = {"persona_id": "p_x"}
    with pytest.raises(ValueError, match="size, share"):
        build_fact_sheet(**inputs)


def test_pain_facts_rank_by_share_and_keep_trend_counts(sheet_by_id):
    sheet = sheet_by_id["p_981c7e60"]
    assert sheet.ids("pain.")[0] == "pain.cancellation"  # 37 % of voices, tied on count
    assert len(sheet.ids("pain.")) == 5 and len(sheet.ids("motivation.")) == 3
    delivery = sheet_by_id["p_4e38c477"].get("pain.shipping_delivery").values
    assert (delivery["count_7d"], delivery["count_prev_7d"]) == (15, 0)
    assert delivery["examples"][0] == "The delivery window was missed again"


def test_negative_and_gate_facts(sheet_by_id):
    negative = sheet_by_id["p_981c7e60"].get("negative")
    assert 0.35 in negative.values["stated_shares"]
    assert sheet_by_id["p_4e38c477"].get("negative") is None
    assert sheet_by_id["p_4e38c477"].get("gate").values["reliable"] is True
