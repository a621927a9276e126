"""Throughput of ``SentimentAnalyzer.score_many`` against the reference
``vaderSentiment.SentimentIntensityAnalyzer().polarity_scores`` on the same texts, in one process,
reported as a ratio (plus accuracy on those texts, so speed is not bought with quality).

    .venv/bin/python bench/bench_sentiment_speed.py [--repeats 3]

Texts: the VADER amazon + NYT snippets (8,898 texts; holdout sets, used here only to report).
Both analysers are loaded before timing; each is timed ``--repeats`` times, best run kept.
Also times ``classify_review`` on single reviews (the synchronous HTTP path).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402

from personapulse.nlp.classify import classify_review  # noqa: E402
from personapulse.nlp.datasets import HOLDOUT_VADER_SETS, load_vader_set  # noqa: E402
from personapulse.nlp.sentiment import SentimentAnalyzer  # noqa: E402


def _best_of(repeats: int, fn) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _three_class(v: np.ndarray) -> np.ndarray:
    return np.where(v > 0.05, 1, np.where(v < -0.05, -1, 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    frames = [load_vader_set(n) for n in HOLDOUT_VADER_SETS]
    texts = [t for f in frames for t in f["text"]]
    human = np.concatenate([f["mean"].to_numpy() for f in frames])

    reference = SentimentIntensityAnalyzer()
    ours = SentimentAnalyzer()
    ours.score("warm up: load the model")

    t_ref, ref_scores = _best_of(
        args.repeats, lambda: [reference.polarity_scores(t)["compound"] for t in texts]
    )
    t_ours, our_results = _best_of(args.repeats, lambda: ours.score_many(texts))
    ref_arr = np.asarray(ref_scores)
    our_arr = np.array([s.score for s in our_results])

    review = {
        "review_id": "r1",
        "text": "Love the recipes and the app is easy to use, but my box arrived late twice "
        "and support never answered my emails. Way too expensive for what you get.",
        "rating": 2,
    }
    t_single, _ = _best_of(200, lambda: classify_review(review, ours))

    n = len(texts)
    print(f"texts: {n}")
    print(
        f"vaderSentiment polarity_scores : {n / t_ref:9.0f} texts/s ({t_ref * 1e6 / n:.1f} µs/text)"
    )
    print(
        f"SentimentAnalyzer.score_many   : {n / t_ours:9.0f} texts/s ({t_ours * 1e6 / n:.1f} µs/text)"
    )
    print(f"speed ratio (ours / reference) : {t_ref / t_ours:.2f}x")
    for name, arr in (("vaderSentiment", ref_arr), ("PersonaPulse", our_arr)):
        r = float(np.corrcoef(human, arr)[0, 1])
        f1 = float(f1_score(_three_class(human), _three_class(arr), average="weighted"))
        print(f"accuracy on these texts, {name:14s}: r {r:.3f}  3-class F1 {f1:.3f}")
    print(f"classify_review, one review    : {t_single * 1e3:.2f} ms (best of 200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
