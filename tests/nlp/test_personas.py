import pandas as pd
import pytest

from personapulse.nlp.personas import pain_points_by_persona


def _span(label, context):
    return {"label": label, "phrase": context.split()[0], "start": 0, "end": 1, "context": context}


@pytest.fixture
def classified():
    t = pd.Timestamp("2026-03-31", tz="UTC")
    rows = [
        # person, days before t, pain points, motivations
        ("u1", 1, [_span("shipping_delivery", "delivery was late")], []),
        ("u1", 3, [_span("shipping_delivery", "box came late again")], []),
        ("u2", 10, [_span("shipping_delivery", "late courier")], [_span("price", "great value")]),
        ("u3", 20, [_span("pricing", "too expensive")], []),
        ("u4", 2, [_span("shipping_delivery", "never arrived")], []),
        ("u5", 40, [_span("shipping_delivery", "late late late")], []),
        (None, 1, [_span("pricing", "overpriced")], []),  # not linked to a person
        ("u9", 1, [_span("pricing", "pricey")], []),  # person without a persona
    ]
    return pd.DataFrame(
        {
            "review_id": [f"r{i}" for i in range(len(rows))],
            "person_id": [r[0] for r in rows],
            "created_at": [t - pd.Timedelta(days=r[1]) for r in rows],
            "pain_points": [r[2] for r in rows],
            "motivations": [r[3] for r in rows],
        }
    )


@pytest.fixture
def assignments():
    return pd.DataFrame(
        {
            "person_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
            "persona_id": ["busy", "busy", "busy", "saver", "saver", "saver"],
        }
    )


def test_counts_share_examples_and_trend(classified, assignments):
    before = classified.copy()
    out = pain_points_by_persona(classified, assignments)
    pd.testing.assert_frame_equal(classified, before)
    busy = out[(out.persona_id == "busy") & (out.label == "shipping_delivery")].iloc[0]
    assert busy["kind"] == "pain_point"
    assert busy["count"] == 3  # three reviews
    assert busy["persons"] == 2  # by u1 and u2
    assert busy["share"] == pytest.approx(2 / 3)  # of u1, u2, u3 (busy people who reviewed)
    assert busy["examples"] == ["delivery was late", "box came late again", "late courier"]
    assert (busy["count_7d"], busy["count_prev_7d"]) == (2, 1)
    assert (busy["count_30d"], busy["count_prev_30d"]) == (3, 0)
    saver = out[(out.persona_id == "saver") & (out.label == "shipping_delivery")].iloc[0]
    assert saver["count"] == 2 and saver["share"] == pytest.approx(1.0)
    assert (saver["count_30d"], saver["count_prev_30d"]) == (1, 1)
    motivation = out[(out.kind == "motivation")].iloc[0]
    assert (motivation["persona_id"], motivation["label"]) == ("busy", "price")
    # unlinked reviews and people without a persona are left out
    assert set(out["persona_id"]) == {"busy", "saver"}
    assert out[out.label == "pricing"]["count"].sum() == 1


def test_since_and_kinds_and_max_examples(classified, assignments):
    out = pain_points_by_persona(
        classified, assignments, since="2026-03-25", kinds=("pain_point",), max_examples=1
    )
    busy = out[(out.persona_id == "busy") & (out.label == "shipping_delivery")].iloc[0]
    assert busy["count"] == 2 and busy["share"] == pytest.approx(1.0)  # only u1 reviewed since
    assert busy["examples"] == ["delivery was late"]
    assert set(out["kind"]) == {"pain_point"}


def test_explicit_now_moves_the_windows(classified, assignments):
    out = pain_points_by_persona(classified, assignments, now="2026-04-30")
    busy = out[(out.persona_id == "busy") & (out.label == "shipping_delivery")].iloc[0]
    assert busy["count_7d"] == 0 and busy["count_prev_30d"] == 3


def test_errors_and_empty(classified, assignments):
    with pytest.raises(ValueError, match="persona_id"):
        pain_points_by_persona(classified, assignments.drop(columns="persona_id"))
    with pytest.raises(ValueError, match="pain_points"):
        pain_points_by_persona(classified.drop(columns="pain_points"), assignments)
    with pytest.raises(ValueError, match="kinds"):
        pain_points_by_persona(classified, assignments, kinds=("nope",))
    empty = pain_points_by_persona(classified, assignments.iloc[0:0])
    assert empty.empty and "share" in empty.columns
