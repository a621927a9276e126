"""Sentiment of reviews, tickets and transcripts: a label and a score in [−1, 1].

The model is a ridge regression to the human valence over
- TF-IDF weighted word unigrams and bigrams, where words inside a negation scope are marked
  ("not good" → ``NOT_good``) and words are weighted by contrast ("…, but" clause ×1.5, the clause
  before ×0.5; an "although …" clause ×0.5),
- stacked with the rule-based scores of ``lexicon.lexicon_scores`` (VADER's lexicon plus product
  review terms, same contrast and negation rules), whose compound is also blended into the
  output (``lexicon_blend``).

It is trained only on the dev sets (``scripts/train_sentiment.py``) and shipped as gzipped JSON
(terms, idf, coefficients) in ``personapulse/nlp/data/``, so loading executes no code. Prediction
is pure Python dictionary look-ups per token, several times faster than ``vaderSentiment``.

When a star rating is known it is blended in: ``score = (1 − w)·text + w·(rating − 3) / 2``.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from personapulse.nlp._text import (
    CONCESSIVE,
    CONTRAST_AFTER,
    NEGATION_WINDOW,
    NEGATORS,
    TOKEN_RE,
    is_negator,
    tokenize,
)
from personapulse.nlp.lexicon import (
    COMPOUND_ALPHA,
    EXCLAIM_BOOST,
    NEGATION_SCALAR,
    boosters,
    clause_weights,
    lexicon_scores,
    negated_flags,
    review_lexicon,
)

DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "sentiment_model.json.gz"

# The VADER paper's neutral band, used for the three labels.
NEUTRAL_BAND = 0.05
LABELS = ("negative", "neutral", "positive")
_BOUNDARY = frozenset({",", ".", ";", ":"})
_CONTRAST_WORDS = CONTRAST_AFTER | CONCESSIVE
_SEPARATOR = "\x1e"  # ASCII record separator, between texts in a batch
_BATCH_TOKEN_RE = re.compile(TOKEN_RE.pattern + "|" + _SEPARATOR)
# from this many texts on, score_many uses the vectorised batch path
_BATCH_MIN = 16


@dataclass(frozen=True, slots=True)
class Sentiment:
    """``label`` in negative / neutral / positive, ``score`` in [−1, 1], ``details`` with the parts
    (text_score, lexicon_score, rating_score, rating_weight)."""

    label: str
    score: float
    details: dict[str, Any] = field(default_factory=dict)


def label_for(score: float, band: float = NEUTRAL_BAND) -> str:
    """positive above ``band``, negative below ``-band``, neutral in between."""
    if score > band:
        return "positive"
    if score < -band:
        return "negative"
    return "neutral"


def text_features(text: str) -> tuple[dict[str, float], tuple[float, float, float]]:
    """(weighted term counts, lexicon features) of one text.

    Terms are words and adjacent word pairs; negated words carry a ``NOT_`` prefix; each count is
    the token's contrast weight. Lexicon features are (compound, tanh(pos / 4), tanh(neg / 4)).
    """
    tokens = tokenize(text)
    if not tokens:
        return {}, (0.0, 0.0, 0.0)
    weights = clause_weights(tokens)
    negated = negated_flags(tokens)
    counts: dict[str, float] = {}
    prev = None
    prev_weight = 0.0
    for tok, weight, neg in zip(tokens, weights, negated, strict=True):
        if tok in _BOUNDARY:
            prev = None
            continue
        term = "NOT_" + tok if neg else tok
        counts[term] = counts.get(term, 0.0) + weight
        if prev is not None:
            bigram = prev + " " + term
            counts[bigram] = counts.get(bigram, 0.0) + 0.5 * (weight + prev_weight)
        prev, prev_weight = term, weight
    compound, pos, neg = lexicon_scores(tokens)
    return counts, (compound, math.tanh(pos / 4.0), math.tanh(neg / 4.0))


class SentimentAnalyzer:
    """Load once, reuse: ``SentimentAnalyzer().score("Great taste, but late delivery", rating=2)``.

    Parameters
    ----------
    model_path : where the fitted model is read from on first use (default: the shipped one).
    rating_weight : weight of the star rating in the blend when a rating is given.
    output_scale : the ridge output (fit to valence / 4, so shrunk towards 0) is multiplied by
        this and clipped to [−1, 1].
    lexicon_blend : weight of the rule-based lexicon compound in the text score,
        ``(1 − b)·model + b·lexicon``; it gives the contrast and negation rules a direct say.
        ``output_scale`` 2.0 and ``lexicon_blend`` 0.25 were chosen by 5-fold cross-validation on
        the dev sets, product-review sets (UCI amazon, Hu & Liu) deciding.
    alpha : ridge penalty (``fit`` only).
    min_df : minimum document frequency of a term (``fit`` only).

    ``fit(texts, y)`` learns ``terms_``, ``idf_``, ``coef_``, ``dense_coef_``, ``intercept_``;
    without ``fit`` the shipped model is loaded lazily on the first call to ``score``.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        rating_weight: float = 0.5,
        output_scale: float = 2.0,
        lexicon_blend: float = 0.25,
        alpha: float = 1.0,
        min_df: int = 2,
    ) -> None:
        self.model_path = model_path
        self.rating_weight = rating_weight
        self.output_scale = output_scale
        self.lexicon_blend = lexicon_blend
        self.alpha = alpha
        self.min_df = min_df

    # ------------------------------------------------------------------ fitting and persistence
    def fit(
        self,
        texts: Sequence[str],
        y: Sequence[float],
        sample_weight: Sequence[float] | None = None,
    ) -> SentimentAnalyzer:
        """Fit the ridge model to targets ``y`` in [−1, 1] (human valence / 4, or ±label)."""
        from scipy import sparse
        from sklearn.linear_model import Ridge

        features = [text_features(t) for t in texts]
        doc_freq: Counter[str] = Counter()
        for counts, _ in features:
            doc_freq.update(counts.keys())
        terms = sorted(t for t, df in doc_freq.items() if df >= self.min_df)
        index = {t: i for i, t in enumerate(terms)}
        n_docs = len(texts)
        idf = np.array([math.log((1 + n_docs) / (1 + doc_freq[t])) + 1.0 for t in terms])
        rows, cols, vals = [], [], []
        for r, (counts, _) in enumerate(features):
            for term, count in counts.items():
                j = index.get(term)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
                    vals.append(count * idf[j])
        tfidf = sparse.csr_matrix((vals, (rows, cols)), shape=(n_docs, len(terms)))
        norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        tfidf = sparse.diags(1.0 / norms) @ tfidf
        dense = np.array([lex for _, lex in features])
        design = sparse.hstack([tfidf, sparse.csr_matrix(dense)], format="csr")
        ridge = Ridge(alpha=self.alpha, solver="sparse_cg", tol=1e-6)
        ridge.fit(design, np.asarray(y, dtype=float), sample_weight=sample_weight)
        self.terms_ = terms
        self.idf_ = idf
        self.coef_ = ridge.coef_[: len(terms)].copy()
        self.dense_coef_ = ridge.coef_[len(terms) :].copy()
        self.intercept_ = float(ridge.intercept_)
        self._build_lookup()
        return self

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as gzipped JSON (no pickle); returns the path."""
        self._ensure_model()
        payload = {
            "format": "personapulse.sentiment/1",
            "terms": self.terms_,
            "idf": [round(float(v), 5) for v in self.idf_],
            "coef": [round(float(v), 6) for v in self.coef_],
            "dense_coef": [float(v) for v in self.dense_coef_],
            "intercept": self.intercept_,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        # mtime=0 so that retraining on the same data gives a byte-identical file
        with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            gz.write(raw)
        return path

    def _load(self) -> None:
        path = Path(self.model_path) if self.model_path is not None else DEFAULT_MODEL_PATH
        with gzip.open(path, "rb") as fh:
            payload = json.loads(fh.read().decode("utf-8"))
        if payload.get("format") != "personapulse.sentiment/1":
            raise ValueError(f"{path} is not a PersonaPulse sentiment model")
        self.terms_ = payload["terms"]
        self.idf_ = np.asarray(payload["idf"], dtype=float)
        self.coef_ = np.asarray(payload["coef"], dtype=float)
        self.dense_coef_ = np.asarray(payload["dense_coef"], dtype=float)
        self.intercept_ = float(payload["intercept"])
        self._build_lookup()

    def _build_lookup(self) -> None:
        import pandas as pd

        # term -> (idf, coef): one dict look-up per term on the per-text path
        self._lookup = {
            t: (float(i), float(c))
            for t, i, c in zip(self.terms_, self.idf_, self.coef_, strict=True)
        }
        # Word table for the batch path: every word with a role (model unigram, negated unigram,
        # lexicon valence, booster, negator, boundary, contrast), looked up for a whole batch at
        # once through a pandas Index (a C hash table). The last row stands for unknown words.
        lexicon, booster = review_lexicon(), boosters()
        term_id = {t: i for i, t in enumerate(self.terms_)}
        words = {t.removeprefix("NOT_") for t in self.terms_ if " " not in t}
        words |= lexicon.keys() | booster.keys() | NEGATORS | _BOUNDARY | _CONTRAST_WORDS
        words |= {"!", "?"}
        words = sorted(words) + [_SEPARATOR]
        self._sep_row = len(words) - 1
        # bigram "a b" -> its term id, keyed by id(a) * n_terms + id(b) (both are terms: a
        # bigram's document frequency is at most its words')
        n_terms = len(self.terms_)
        keys, ids = [], []
        for t, i in term_id.items():
            if " " in t:
                a, b = t.split(" ", 1)
                keys.append(term_id[a] * n_terms + term_id[b])
                ids.append(i)
        self._bigram_index = pd.Index(np.array(keys, dtype=np.int64))
        self._bigram_ids = np.array(ids + [-1], dtype=np.int64)
        self._term_index = pd.Index(self.terms_)
        self._word_index = pd.Index(words)
        n = len(words) + 1
        self._w_uni = np.full(n, -1, dtype=np.int64)
        self._w_not = np.full(n, -1, dtype=np.int64)
        self._w_valence = np.zeros(n)
        self._w_has_valence = np.zeros(n, dtype=bool)
        self._w_boost = np.zeros(n)
        self._w_negator = np.zeros(n, dtype=bool)
        self._w_reset = np.zeros(n, dtype=bool)
        self._w_contrast = np.zeros(n, dtype=bool)
        self._w_exclaim = np.zeros(n)
        for i, w in enumerate(words):
            self._w_uni[i] = term_id.get(w, -1)
            self._w_not[i] = term_id.get("NOT_" + w, -1)
            if w in lexicon:
                self._w_valence[i] = lexicon[w]
                self._w_has_valence[i] = True
            self._w_boost[i] = booster.get(w, 0.0)
            self._w_negator[i] = is_negator(w)
            self._w_reset[i] = w in _BOUNDARY or w in CONTRAST_AFTER or w[0] in "!?"
            self._w_contrast[i] = w in _CONTRAST_WORDS
            self._w_exclaim[i] = len(w) if w[0] == "!" else 0.0

    def _ensure_model(self) -> None:
        if not hasattr(self, "_lookup"):
            self._load()

    # ------------------------------------------------------------------ prediction
    def _score_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(text scores, lexicon compounds) of many texts at once.

        Same arithmetic as ``text_features`` + ``lexicon_scores`` + the TF-IDF dot product (a
        unit test checks they agree), but vectorised over all tokens of the batch: tokens are
        mapped to word-table rows with one hash look-up, negation scopes come from running
        maxima over token positions, TF-IDF rows are a sparse matrix. Only texts with a contrast
        word go through the per-text ``clause_weights``.
        """
        from scipy import sparse

        n_docs = len(texts)
        # one regex pass over the whole batch; a separator character (never inside a token)
        # marks where each text ends
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts).lower()
        all_tokens = _BATCH_TOKEN_RE.findall(joined)
        all_rows = self._word_index.get_indexer(all_tokens)
        is_sep = all_rows == self._sep_row
        keep = np.flatnonzero(~is_sep)
        n = len(keep)
        if n == 0:
            return self._combine(np.zeros(n_docs), np.zeros(n_docs), np.zeros(n_docs))
        doc = np.cumsum(is_sep)[keep]
        row = all_rows[keep]
        row[row < 0] = len(self._word_index)  # unknown-word row
        lengths = np.bincount(doc, minlength=n_docs)
        starts = np.cumsum(lengths) - lengths
        is_negator_tok = self._w_negator[row]
        is_reset = self._w_reset[row]
        exclaim = self._w_exclaim[row]
        unknown = np.flatnonzero(row == len(self._word_index))
        for i in unknown.tolist():  # words outside the table: "didn't", "!!!", "??"
            tok = all_tokens[keep[i]]
            is_negator_tok[i] = is_negator(tok)
            is_reset[i] = tok[0] in "!?"
            exclaim[i] = len(tok) if tok[0] == "!" else 0.0

        # contrast weights, per text, only where a contrast word occurs
        weight = np.ones(n)
        contrast_docs = np.unique(doc[self._w_contrast[row]])
        for d in contrast_docs.tolist():
            a = starts[d]
            weight[a : a + lengths[d]] = clause_weights(
                [all_tokens[j] for j in keep[a : a + lengths[d]].tolist()]
            )

        # negation scope: within NEGATION_WINDOW tokens after the last negator, no reset between
        pos = np.arange(n)
        twice = 2 * pos
        last_neg = np.maximum.accumulate(np.where(is_negator_tok, twice, -2))
        reset_mark = np.where(is_reset, twice, -2)
        reset_mark[starts[lengths > 0]] = np.maximum(
            reset_mark[starts[lengths > 0]], twice[starts[lengths > 0]] - 1
        )
        last_reset = np.maximum.accumulate(reset_mark)
        negated = (
            ~is_negator_tok
            & ~is_reset
            & (last_neg > last_reset)
            & (pos - last_neg // 2 <= NEGATION_WINDOW)
        )

        # TF-IDF terms: unigrams (negated form inside a scope) and adjacent-term bigrams
        term = np.where(negated, self._w_not[row], self._w_uni[row])
        has_term = term >= 0
        prev_ok = np.zeros(n, dtype=bool)
        prev_ok[1:] = has_term[:-1] & has_term[1:] & (doc[1:] == doc[:-1])
        # a bigram in the vocabulary implies both its words are (document frequency), and a
        # boundary between them would have no term, so adjacent term pairs are the candidates
        pair = np.flatnonzero(prev_ok)
        pair_keys = term[pair - 1] * len(self.terms_) + term[pair]
        # get_indexer gives -1 for a pair that is not a bigram term; _bigram_ids[-1] is -1
        bigram = self._bigram_ids[self._bigram_index.get_indexer(pair_keys)]
        found = bigram >= 0
        uni = np.flatnonzero(has_term)
        cols = np.concatenate([term[uni], bigram[found]])
        rows = np.concatenate([doc[uni], doc[pair[found]]])
        vals = (
            np.concatenate([weight[uni], 0.5 * (weight[pair[found]] + weight[pair[found] - 1])])
            * self.idf_[cols]
        )
        tfidf = sparse.csr_matrix((vals, (rows, cols)), shape=(n_docs, len(self.terms_)))
        tfidf.sum_duplicates()
        sq = np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel()
        dot = tfidf @ self.coef_
        norm = np.sqrt(sq)
        dot = np.divide(dot, norm, out=np.zeros(n_docs), where=norm > 0)

        # lexicon: booster of the previous token, negation flip, contrast weight
        valence = self._w_valence[row]
        has_valence = self._w_has_valence[row]
        prev_boost = np.zeros(n)
        prev_boost[1:] = self._w_boost[row[:-1]]
        prev_boost[starts[lengths > 0]] = 0.0
        valence = np.where(valence > 0, valence + prev_boost, valence - prev_boost)
        valence = np.where(negated, valence * NEGATION_SCALAR, valence) * weight
        valence = np.where(has_valence, valence, 0.0)
        pos_sum = np.bincount(doc, weights=np.maximum(valence, 0.0), minlength=n_docs)
        neg_sum = np.bincount(doc, weights=np.minimum(valence, 0.0), minlength=n_docs)
        exclaims = np.bincount(doc, weights=np.where(has_valence, 0.0, exclaim), minlength=n_docs)
        total = pos_sum + neg_sum
        emphasis = np.minimum(exclaims, 4) * EXCLAIM_BOOST
        total = np.where((total != 0) & (exclaims > 0), total + np.sign(total) * emphasis, total)
        compound = total / np.sqrt(total * total + COMPOUND_ALPHA)
        return self._combine(dot, compound, pos_sum, neg_sum)

    def _combine(
        self,
        dot: np.ndarray,
        compound: np.ndarray,
        pos_sum: np.ndarray | None = None,
        neg_sum: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        pos_sum = np.zeros_like(compound) if pos_sum is None else pos_sum
        neg_sum = np.zeros_like(compound) if neg_sum is None else neg_sum
        d = self.dense_coef_
        raw = (
            self.intercept_
            + dot
            + d[0] * compound
            + d[1] * np.tanh(pos_sum / 4.0)
            + d[2] * np.tanh(neg_sum / 4.0)
        )
        model = np.clip(raw * self.output_scale, -1.0, 1.0)
        b = self.lexicon_blend
        return (1.0 - b) * model + b * compound, compound

    def _finish(
        self, dot: float, sq: float, lex: tuple[float, float, float]
    ) -> tuple[float, float]:
        if sq:
            dot /= math.sqrt(sq)
        d = self.dense_coef_
        raw = self.intercept_ + dot + d[0] * lex[0] + d[1] * lex[1] + d[2] * lex[2]
        model = max(-1.0, min(1.0, raw * self.output_scale))
        b = self.lexicon_blend
        return (1.0 - b) * model + b * lex[0], lex[0]

    def _text_score(self, text: str) -> tuple[float, float]:
        """(text score, lexicon compound) of one text: ``text_features`` + dot product. Used for
        small batches, where the batch path's fixed cost would dominate."""
        counts, lex = text_features(text)
        dot = sq = 0.0
        for term, count in counts.items():
            hit = self._lookup.get(term)
            if hit is not None:
                w = count * hit[0]
                dot += w * hit[1]
                sq += w * w
        return self._finish(dot, sq, lex)

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        """Text-only scores in [−1, 1] (no rating blend), one per text."""
        self._ensure_model()
        return self._text_scores([t if isinstance(t, str) else "" for t in texts])[0]

    def _text_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if len(texts) >= _BATCH_MIN:
            return self._score_batch(texts)
        pairs = [self._text_score(t) for t in texts]
        return (
            np.array([p[0] for p in pairs], dtype=float).reshape(-1),
            np.array([p[1] for p in pairs], dtype=float).reshape(-1),
        )

    def score(self, text: str, *, rating: float | None = None) -> Sentiment:
        """Sentiment of one text, blended with a 1–5 star ``rating`` when given."""
        return self.score_many([text], None if rating is None else [rating])[0]

    def score_many(
        self,
        texts: Sequence[str],
        ratings: Sequence[float | None] | None = None,
    ) -> list[Sentiment]:
        """Sentiments of many texts; ``ratings`` (same length, None / NaN for unknown) is optional."""
        self._ensure_model()
        if ratings is not None and len(ratings) != len(texts):
            raise ValueError("ratings must have the same length as texts")
        text_scores, lexicon = self._text_scores([t if isinstance(t, str) else "" for t in texts])
        if ratings is None:
            rating_arr = np.full(len(texts), np.nan)
        else:
            rating_arr = np.array(
                [np.nan if r is None else float(r) for r in ratings], dtype=float
            ).reshape(-1)
        rating_scores = np.clip((rating_arr - 3.0) / 2.0, -1.0, 1.0)
        has_rating = ~np.isnan(rating_scores)
        w = self.rating_weight
        blended = np.where(
            has_rating, (1.0 - w) * text_scores + w * np.nan_to_num(rating_scores), text_scores
        )
        out = []
        for i in range(len(texts)):
            s = float(blended[i])
            out.append(
                Sentiment(
                    label_for(s),
                    s,
                    {
                        "text_score": float(text_scores[i]),
                        "lexicon_score": float(lexicon[i]),
                        "rating_score": float(rating_scores[i]) if has_rating[i] else None,
                        "rating_weight": w if has_rating[i] else 0.0,
                    },
                )
            )
        return out
