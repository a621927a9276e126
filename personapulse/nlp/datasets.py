"""Readers for the external evaluation sets in ``/work/shared/eval`` (see its README).

Which sets are dev (train / tune) and which are holdout (report only) is fixed here in
``DEV_VADER_SETS`` / ``HOLDOUT_VADER_SETS``; the training script reads only dev sets.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pandas as pd

DEV_VADER_SETS = ("tweets", "movieReviewSnippets")
HOLDOUT_VADER_SETS = ("amazonReviewSnippets", "nytEditorialSnippets")
UCI_SETS = ("amazon_cells", "yelp", "imdb")
HULIU_PRODUCTS = (
    "Apex_AD2600_Progressive_scan_DVD player",
    "Canon_G3",
    "Creative_Labs_Nomad_Jukebox_Zen_Xtra_40GB",
    "Nikon_coolpix_4300",
    "Nokia_6610",
)


def eval_root() -> Path:
    """``$PERSONAPULSE_EVAL_DIR`` or ``/work/shared/eval``."""
    return Path(os.environ.get("PERSONAPULSE_EVAL_DIR", "/work/shared/eval"))


def load_vader_set(name: str, root: Path | None = None) -> pd.DataFrame:
    """VADER ICWSM 2014 ground truth: columns id, mean (human valence −4..4), text."""
    path = (root or eval_root()) / "vader_icwsm2014" / f"{name}_GroundTruth.txt"
    rows = []
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t", 2)
            if len(parts) == 3:
                rows.append((parts[0], float(parts[1]), parts[2]))
    return pd.DataFrame(rows, columns=["id", "mean", "text"])


def load_uci_set(name: str, root: Path | None = None) -> pd.DataFrame:
    """UCI sentiment sentences: columns text, label (1 positive, 0 negative)."""
    path = (root or eval_root()) / "uci_sentiment" / f"{name}_labelled.txt"
    rows = []
    with open(path, encoding="cp1252", errors="replace", newline="") as fh:
        for line in csv.reader(fh, delimiter="\n", quoting=csv.QUOTE_NONE):
            if not line:
                continue
            text, _, label = line[0].rpartition("\t")
            label = label.strip()
            if label in ("0", "1"):
                rows.append((text.strip(), int(label)))
    return pd.DataFrame(rows, columns=["text", "label"])


_ASPECT_RE = re.compile(r"([^,\[\]]+?)\s*\[([+-])(\d)\]((?:\[[a-z]+\])*)")


def load_huliu(root: Path | None = None) -> pd.DataFrame:
    """Hu & Liu 2004 review sentences (titles dropped): columns product, review (index within the
    product), text, aspects (list of (term, sign +1/−1, strength 1–3))."""
    folder = (root or eval_root()) / "huliu2004" / "product_reviews_1"
    rows = []
    for product in HULIU_PRODUCTS:
        review = -1
        with open(folder / f"{product}.txt", encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                line = raw.strip()
                if not line or line.startswith("*"):
                    continue
                if line.startswith("[t]"):
                    review += 1
                    continue
                if "##" in line:
                    tags, _, text = line.partition("##")
                else:
                    tags, text = "", line
                aspects = [
                    (m.group(1).strip(), 1 if m.group(2) == "+" else -1, int(m.group(3)))
                    for m in _ASPECT_RE.finditer(tags)
                ]
                rows.append((product, max(review, 0), text.strip(), aspects))
    return pd.DataFrame(rows, columns=["product", "review", "text", "aspects"])
