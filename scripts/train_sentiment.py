"""Train the shipped sentiment model on the DEV sets only, deterministically.

    .venv/bin/python scripts/train_sentiment.py            # writes personapulse/nlp/data/sentiment_model.json.gz
    .venv/bin/python scripts/train_sentiment.py --cv       # 5-fold cross-validated dev figures, no write

Dev sets (see /work/shared/eval/README.md): VADER tweets and movie snippets (target = human mean / 4),
UCI amazon / yelp / imdb sentences (target ±UCI_TARGET), Hu & Liu sentences with aspect labels
(target = clipped sum of signed strengths). The holdout sets (VADER amazon and NYT) are never read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from personapulse.nlp.datasets import (  # noqa: E402
    DEV_VADER_SETS,
    UCI_SETS,
    load_huliu,
    load_uci_set,
    load_vader_set,
)
from personapulse.nlp.sentiment import DEFAULT_MODEL_PATH, SentimentAnalyzer  # noqa: E402

UCI_TARGET = 0.5
ALPHA = 1.0
SEED = 0


def training_frame() -> pd.DataFrame:
    """Columns text, target, set, weight — dev sets only."""
    parts = []
    for name in DEV_VADER_SETS:
        d = load_vader_set(name)
        parts.append(pd.DataFrame({"text": d["text"], "target": d["mean"] / 4.0, "set": name}))
    for name in UCI_SETS:
        d = load_uci_set(name)
        target = np.where(d["label"] == 1, UCI_TARGET, -UCI_TARGET)
        parts.append(pd.DataFrame({"text": d["text"], "target": target, "set": "uci_" + name}))
    h = load_huliu()
    h = h[h["aspects"].str.len() > 0]
    signed = h["aspects"].apply(lambda a: sum(sign * strength for _, sign, strength in a))
    parts.append(
        pd.DataFrame(
            {"text": h["text"], "target": np.clip(signed / 4.0, -0.75, 0.75), "set": "huliu"}
        )
    )
    frame = pd.concat(parts, ignore_index=True)
    frame["weight"] = 1.0
    return frame


def _three_class(values: np.ndarray, band: float = 0.05) -> np.ndarray:
    return np.where(values > band, 1, np.where(values < -band, -1, 0))


def cross_validate(frame: pd.DataFrame, folds: int = 5, alpha: float = ALPHA) -> pd.DataFrame:
    """Out-of-fold predictions for every dev row; prints per-set r / F1 / accuracy."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(SEED)
    fold_of = rng.integers(0, folds, size=len(frame))
    oof = np.zeros(len(frame))
    for k in range(folds):
        train = fold_of != k
        model = SentimentAnalyzer(alpha=alpha).fit(
            frame.loc[train, "text"].tolist(), frame.loc[train, "target"].to_numpy()
        )
        oof[~train] = model.predict(frame.loc[~train, "text"].tolist())
    out = frame.assign(pred=oof)
    for name, g in out.groupby("set", sort=False):
        if name.startswith("uci_"):
            acc = float(((g["pred"] >= 0) == (g["target"] > 0)).mean())
            print(f"{name:22s} acc {acc:.3f}")
        else:
            r = float(np.corrcoef(g["pred"], g["target"])[0, 1])
            # the paper's band applies to the human mean on its own −4..4 scale
            human = g["target"].to_numpy() * (4.0 if name in DEV_VADER_SETS else 1.0)
            f1 = f1_score(
                _three_class(human),
                _three_class(g["pred"].to_numpy()),
                average="weighted",
            )
            print(f"{name:22s} r {r:.3f}  F1 {f1:.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cv", action="store_true", help="report 5-fold CV figures, write nothing")
    parser.add_argument("--alpha", type=float, default=ALPHA)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args(argv)
    frame = training_frame()
    print(f"{len(frame)} dev rows: {frame['set'].value_counts().to_dict()}")
    if args.cv:
        cross_validate(frame, alpha=args.alpha)
        return 0
    model = SentimentAnalyzer(alpha=args.alpha).fit(
        frame["text"].tolist(), frame["target"].to_numpy()
    )
    path = model.save(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(model.terms_)} terms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
