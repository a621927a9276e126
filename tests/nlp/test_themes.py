from personapulse.nlp.themes import Theme, discover_themes

LATE = [
    "My delivery was late again, the courier came at midnight.",
    "Late delivery for the third week, courier never on time.",
    "The courier was late and the delivery window ignored.",
    "Delivery late again, courier did not call.",
    "Courier late, delivery arrived after dinner.",
    "Another late delivery, the courier is hopeless.",
]
# a complaint the taxonomy has no label for: a chemical smell from the cool packs
SMELL = [
    "The ice packs leak a chemical smell into the vegetables.",
    "Awful chemical smell from the ice packs on everything.",
    "Ice packs smell like chemicals, the vegetables smell too.",
    "The chemical smell of the ice packs ruins the fruit.",
    "Chemical smell again, the ice packs must be leaking.",
]


def test_planted_new_topic_surfaces_with_its_terms_and_no_taxonomy_match():
    themes = discover_themes(LATE + SMELL, n_themes=2, min_docs=3)
    assert len(themes) == 2
    assert all(isinstance(t, Theme) for t in themes)
    smell = next(t for t in themes if "smell" in " ".join(t.terms))
    late = next(t for t in themes if "courier" in " ".join(t.terms))
    assert smell.matches_taxonomy is None
    assert late.matches_taxonomy == "shipping_delivery"
    assert smell.size == len(SMELL) and late.size == len(LATE)
    assert set(smell.examples) <= set(SMELL) and len(smell.examples) == 3
    assert "smell" in smell.label or "chemical" in smell.label


def test_themes_are_deterministic_and_respect_min_docs():
    a = discover_themes(LATE + SMELL, n_themes=2, min_docs=3)
    b = discover_themes(LATE + SMELL, n_themes=2, min_docs=3)
    assert a == b
    assert discover_themes(LATE + SMELL, n_themes=2, min_docs=7) == []


def test_too_little_text_gives_no_themes():
    assert discover_themes([]) == []
    assert discover_themes(["just one"]) == []
    assert discover_themes(["a b", "c d", "e f"]) == []
