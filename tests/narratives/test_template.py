from personapulse.narratives import PersonaCard, TemplateNarrator, check_card


def test_template_cards_pass_the_grounding_check_on_real_data(sheets):
    for sheet in sheets:
        card = TemplateNarrator().narrate(sheet)
        report = check_card(card, sheet)
        assert report.passed, report.reasons
        assert report.sentences >= 10
        assert all(sentence.cites for _, sentence in card.sentences())


def test_template_is_deterministic_and_maps_every_pain_point(sheet_by_id):
    sheet = sheet_by_id["p_981c7e60"]
    card = TemplateNarrator().narrate(sheet)
    assert card.to_dict() == TemplateNarrator().narrate(sheet).to_dict()
    mapped = [s.pain_point for s in card.strategy if s.pain_point]
    assert mapped == [f.values["label"] for f in sheet.facts if f.kind == "pain_point"]
    assert card.name == "Pausing lapsed buyers"
    assert card.fact_sheet_hash == sheet.hash


def test_card_markdown_and_dict_round_trip(sheet_by_id):
    card = TemplateNarrator().narrate(sheet_by_id["p_1e75f8dd"])
    markdown = card.to_markdown()
    assert markdown.startswith("# Coupon messaging-led buyers\n")
    assert "## Marketing strategy" in markdown
    assert "[pain.pricing]" in markdown
    assert "[" not in card.to_markdown(citations=False).split("\n", 2)[2].split("##")[0]
    again = PersonaCard.from_dict(card.to_dict())
    assert again == card
