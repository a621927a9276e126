import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personapulse.narratives import PersonaCard, Sentence, build_fact_sheet, check_card

from .answers import BLIND_SPOTS, CORRUPTIONS, faithful_answer


def _card(sheet, *sentences: Sentence, name=None, section="behaviours") -> PersonaCard:
    return PersonaCard(
        persona_id=sheet.persona_id, name=name or sheet.name, **{section: tuple(sentences)}
    )


def _kinds(card, sheet) -> set[str]:
    return {issue.kind for issue in check_card(card, sheet).issues}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("They are 30.3% of all users.", True),
        ("They are 30% of all users.", True),
        ("They are 30.33 percent of all users.", True),
        ("They are 31% of all users.", False),
        ("They are 30.8% of all users.", False),
        ("They are 182 users.", True),
        ("They are 183 users.", False),
        ("They are 0.30 of all users.", True),
        ("They are 1,820 users.", False),
    ],
)
def test_numbers_match_cited_facts_up_to_rounding(sheet_by_id, text, ok):
    sheet = sheet_by_id["p_4e38c477"]  # 182 of 600 users, share 0.30333
    card = _card(sheet, Sentence(text, ("size",)))
    assert check_card(card, sheet).passed is ok


def test_a_number_must_match_a_cited_fact_not_any_fact(sheet_by_id):
    sheet = sheet_by_id["p_4e38c477"]
    right = _card(sheet, Sentence("They are 182 of 600 users.", ("size", "total_users")))
    wrong = _card(sheet, Sentence("They are 182 of 600 users.", ("size",)))
    assert check_card(right, sheet).passed
    assert _kinds(wrong, sheet) == {"unsupported_number"}


def test_channels_pages_steps_and_labels(sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    ok = Sentence("Most sessions come from paid ads and email.", ("channel.paid", "channel.email"))
    assert check_card(_card(sheet, ok), sheet).passed
    tiktok = Sentence("Most sessions come from TikTok.", ("channel.paid",))
    assert _kinds(_card(sheet, tiktok), sheet) == {"unsupported_channel"}
    social = Sentence("Many arrive from social media.", ("channel.social",))
    assert check_card(_card(sheet, social), sheet).passed
    page = Sentence("The journey starts at /deals and goes to /pricing.", ("path.1",))
    assert check_card(_card(sheet, page, section="journey"), sheet).passed
    bad_page = Sentence("The journey starts at /gift-cards.", ("path.1",))
    assert _kinds(_card(sheet, bad_page, section="journey"), sheet) == {"unsupported_page"}
    step = Sentence("They stop after Checkout Started.", ("size",))
    assert _kinds(_card(sheet, step, section="journey"), sheet) == {"unsupported_step"}
    label = Sentence("They complain about cancellation.", ("pain.pricing",))
    assert _kinds(_card(sheet, label, section="pain_points"), sheet) == {"unsupported_label"}
    fine = Sentence("They complain about pricing.", ("pain.pricing",))
    assert check_card(_card(sheet, fine, section="pain_points"), sheet).passed


def test_citations_quotes_and_persona(sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    assert _kinds(_card(sheet, Sentence("They like deals.", ())), sheet) == {"no_citation"}
    assert _kinds(_card(sheet, Sentence("They like deals.", ("trait.nope",))), sheet) == {
        "unknown_fact"
    }
    quote = Sentence('One wrote "My weekly price went up".', ("pain.pricing",))
    assert check_card(_card(sheet, quote, section="pain_points"), sheet).passed
    invented = Sentence('One wrote "I hate the yellow boxes".', ("pain.pricing",))
    assert _kinds(_card(sheet, invented, section="pain_points"), sheet) == {"unsupported_quote"}
    # "4" is a substring of the size statement ("148 users, 24.7% …") but not a figure of it.
    partial = Sentence('They buy "4" boxes a week.', ("size",))
    assert _kinds(_card(sheet, partial), sheet) == {"unsupported_number"}
    from_statement = Sentence("They fire 'coupon applied' events.", ("trait.count_coupon_applied",))
    assert check_card(_card(sheet, from_statement), sheet).passed
    card = _card(sheet, Sentence("They like deals.", ("persona",)), name="Budget students")
    assert _kinds(card, sheet) == {"unknown_persona"}
    other = Sentence("Unlike p_4e38c477 they like deals.", ("persona",))
    assert _kinds(_card(sheet, other), sheet) == {"unknown_persona"}
    strategy = Sentence("Fix it.", ("pain.pricing",), pain_point="cancellation")
    assert _kinds(_card(sheet, strategy, section="strategy"), sheet) == {"unsupported_label"}
    assert _kinds(PersonaCard(persona_id=sheet.persona_id, name=sheet.name), sheet) == {
        "empty_card"
    }


def test_naming_another_persona_fails(sheets, sheet_by_id):
    sheet = sheet_by_id["p_1e75f8dd"]
    others = [s.name for s in sheets]
    unlike = Sentence("Unlike Power big-basket buyers, they wait for deals.", ("persona",))
    assert check_card(_card(sheet, unlike), sheet).passed  # no list of other personas given
    report = check_card(_card(sheet, unlike), sheet, other_personas=others)
    assert {i.kind for i in report.issues} == {"unknown_persona"}
    own = Sentence("Coupon messaging-led buyers wait for deals.", ("persona",))
    assert check_card(_card(sheet, own), sheet, other_personas=others).passed
    renamed = _card(sheet, own, name="Power big-basket buyers")
    assert not check_card(renamed, sheet, other_personas=others).passed


def test_faithful_answers_pass_and_every_corruption_is_caught(sheets):
    for sheet in sheets:
        answer = faithful_answer(sheet)
        card = PersonaCard.from_dict(answer, persona_id=sheet.persona_id, backend="llm:test")
        assert check_card(card, sheet).passed
        for kind, corrupt in CORRUPTIONS.items():
            try:
                bad = corrupt(answer, sheet, random.Random(0))
            except LookupError:
                continue  # e.g. no pain-point sentence to put an invented quote in
            report = check_card(PersonaCard.from_dict(bad, persona_id=sheet.persona_id), sheet)
            assert not report.passed, (sheet.persona_id, kind)


def test_known_blind_spots_pass_unnoticed(sheet_by_id):
    # Documented limits: spelled-out numbers and swapped roles of two cited figures.
    sheet = sheet_by_id["p_4e38c477"]
    answer = faithful_answer(sheet)
    for corrupt in BLIND_SPOTS.values():
        bad = corrupt(answer, sheet, random.Random(0))
        assert bad != answer
        assert check_card(PersonaCard.from_dict(bad, persona_id=sheet.persona_id), sheet).passed


@settings(max_examples=60, deadline=None)
@given(share=st.floats(min_value=0.001, max_value=0.999), decimals=st.sampled_from([0, 1]))
def test_rounded_shares_pass_and_shifted_ones_fail(share, decimals):
    sheet = build_fact_sheet(
        {"persona_id": "p_00000000", "name": "Testers", "size": 10, "share": share},
        gate=None,
        total_users=1000,
    )
    written = f"{share * 100:.{decimals}f}%"
    card = _card(sheet, Sentence(f"They are {written} of users.", ("size",)))
    assert check_card(card, sheet).passed
    shifted = f"{share * 100 + 2:.{decimals}f}%"
    bad = _card(sheet, Sentence(f"They are {shifted} of users.", ("size",)))
    assert _kinds(bad, sheet) == {"unsupported_number"}
