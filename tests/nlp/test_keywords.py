from personapulse.nlp.keywords import extract_keywords, top_keyphrases


def test_keywords_are_content_phrases_without_opinion_words():
    kws = extract_keywords("Terrible customer service and the delivery window was ignored.")
    assert "customer service" in kws
    assert "delivery window" in kws
    assert all("terrible" not in k for k in kws)


def test_keywords_limit_and_empty():
    assert len(extract_keywords("apples pears plums figs dates kiwis", top_n=2)) == 2
    assert extract_keywords("") == []
    assert extract_keywords("the and of it") == []


def test_top_keyphrases_ranks_repeated_phrases():
    texts = [
        "the delivery window was missed",
        "delivery window ignored again",
        "missed delivery window, cold food",
        "recipes are nice",
    ]
    ranked = [p for p, _ in top_keyphrases(texts, top_n=3)]
    assert "delivery window" in ranked
    assert top_keyphrases(["one text"], min_docs=2) == []
