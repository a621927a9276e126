import gzip
import json
import math

import numpy as np
import pytest

from personapulse.nlp._text import tokenize
from personapulse.nlp.lexicon import lexicon_scores, negated_flags, nltk_vader
from personapulse.nlp.sentiment import Sentiment, SentimentAnalyzer, label_for


@pytest.fixture(scope="module")
def analyzer():
    return SentimentAnalyzer()


def test_clear_polarity(analyzer):
    assert analyzer.score("I absolutely love this, it is wonderful!").label == "positive"
    assert analyzer.score("Terrible product, a complete waste of money.").label == "negative"


def test_score_is_bounded_and_labelled_with_the_band(analyzer):
    for s in analyzer.score_many(["great great great!!!", "awful awful awful!!!", "", "ok"]):
        assert -1.0 <= s.score <= 1.0
        assert s.label == label_for(s.score)
    assert label_for(0.04) == "neutral" and label_for(0.06) == "positive"
    assert label_for(-0.06) == "negative"


def test_contrast_weights_the_clause_after_but(analyzer):
    good_then_late = analyzer.score("The food was good but the delivery was late.").score
    late_then_good = analyzer.score("The delivery was late but the food was good.").score
    assert late_then_good > 0
    assert good_then_late < late_then_good - 0.3


def test_although_clause_is_the_weaker_one(analyzer):
    assert analyzer.score("Although delivery was late, the food was delicious.").label == "positive"
    weights_tokens = tokenize("although it was cheap , it broke")
    compound, _, _ = lexicon_scores(weights_tokens)
    assert compound < 0


def test_negation_flips_and_has_a_scope(analyzer):
    assert analyzer.score("not good").score < 0 < analyzer.score("good").score
    assert analyzer.score("not bad").score > analyzer.score("bad").score
    flags = negated_flags(tokenize("not bad , but slow"))
    assert flags == [False, True, False, False, False]
    # scope ends after three words
    assert negated_flags(tokenize("never a b c d")) == [False, True, True, True, False]
    assert negated_flags(tokenize("didn't like it")) == [False, True, True]


def test_domain_terms_make_product_complaints_negative(analyzer):
    for text in [
        "The app crashes every time I open it.",
        "Overpriced for what you get.",
        "My order was late again and I want a refund.",
        "The handle broke after two days.",
    ]:
        assert analyzer.score(text).label == "negative", text
    assert lexicon_scores(tokenize("overpriced and buggy"))[0] < -0.5


def test_rating_is_blended(analyzer):
    text = "Great product"
    plain = analyzer.score(text)
    one_star = analyzer.score(text, rating=1)
    expected = (1 - analyzer.rating_weight) * plain.score + analyzer.rating_weight * -1.0
    assert one_star.score == pytest.approx(expected)
    assert one_star.score < plain.score
    assert one_star.details["rating_score"] == -1.0
    assert plain.details["rating_score"] is None
    five = analyzer.score("It is fine", rating=5)
    assert five.score > analyzer.score("It is fine").score
    nan_rating = analyzer.score_many([text], [float("nan")])[0]
    assert nan_rating.score == pytest.approx(plain.score)


def test_score_many_matches_score_and_checks_lengths(analyzer):
    texts = ["love it", "hate it", "meh", "not great, not terrible"]
    many = analyzer.score_many(texts, [5, None, 3, 2])
    singles = [analyzer.score(t, rating=r) for t, r in zip(texts, [5, None, 3, 2], strict=True)]
    assert [m.score for m in many] == pytest.approx([s.score for s in singles])
    assert all(isinstance(m, Sentiment) for m in many)
    with pytest.raises(ValueError):
        analyzer.score_many(texts, [1])


def test_batch_path_equals_per_text_path(analyzer):
    parts = [
        "The delivery was late",
        "but the food was great!!!",
        "I didn't like the app",
        "although support was helpful",
        "not bad at all :)",
        "never again ??",
        "VERY good, extremely fast",
        "it's okay; the price, however, is too high",
        "",
    ]
    texts = [f"{a} {b}" for a in parts for b in parts]  # 81 texts: the batch path is used
    batch_scores, batch_lex = analyzer._score_batch(texts)
    for text, s, lx in zip(texts, batch_scores, batch_lex, strict=True):
        ref_s, ref_lx = analyzer._text_score(text)
        assert s == pytest.approx(ref_s, abs=1e-12), text
        assert lx == pytest.approx(ref_lx, abs=1e-12), text


def test_fit_save_load_round_trip_without_pickle(tmp_path):
    texts = ["good", "great stuff", "very good", "bad", "awful stuff", "very bad"] * 3
    y = [0.5, 0.8, 0.7, -0.5, -0.8, -0.7] * 3
    model = SentimentAnalyzer(alpha=0.1, min_df=1)
    assert not hasattr(model, "coef_")  # nothing happens in __init__
    assert model.fit(texts, y) is model
    path = model.save(tmp_path / "m.json.gz")
    with gzip.open(path) as fh:
        payload = json.loads(fh.read())
    assert payload["format"] == "personapulse.sentiment/1"
    assert set(payload["terms"]) >= {"good", "bad", "very good"}
    loaded = SentimentAnalyzer(model_path=path, alpha=0.1, min_df=1)
    probe = ["good stuff", "bad stuff", "very"]
    assert loaded.predict(probe) == pytest.approx(model.predict(probe), abs=1e-5)
    assert loaded.predict(["good"])[0] > 0 > loaded.predict(["bad"])[0]


def test_loading_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "x.json.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'{"format": "other"}')
    with pytest.raises(ValueError):
        SentimentAnalyzer(model_path=path).score("hi")


def test_shipped_model_is_small_and_nltk_vader_loads_from_the_wheel():
    from personapulse.nlp.sentiment import DEFAULT_MODEL_PATH

    assert DEFAULT_MODEL_PATH.stat().st_size < 3_000_000
    compound = nltk_vader().polarity_scores("I love it")["compound"]
    assert compound > 0.5 and not math.isnan(compound)


def test_predict_returns_array(analyzer):
    out = analyzer.predict(["good", "bad"])
    assert isinstance(out, np.ndarray) and out.shape == (2,)
