"""Planted archetypes recovered by the whole pipeline: demo → store → features → personas.

For each seed: generate N users, ingest them through the service layer into a fresh SQLite store,
refresh personas with the defaults, and compare the assignments of identified users with the
answer file (adjusted Rand index), plus the chosen k against the planted count.

Usage: python bench/eval_demo_personas.py [--users 2000] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_dir  # noqa: E402
from personapulse.config import load_settings  # noqa: E402
from personapulse.demo import DemoConfig  # noqa: E402
from personapulse.services.demo_load import load_demo  # noqa: E402
from personapulse.services.personas import current_assignments, refresh  # noqa: E402
from personapulse.store import Store  # noqa: E402


def run(users: int, seed: int, archetypes: int) -> dict:
    workdir = scratch_dir("pp-demo-eval-")
    store = Store(f"sqlite:///{workdir / 'store.sqlite'}")
    store.migrate()
    settings = load_settings({"INCREMENTAL_UPDATES": False})
    answers_path = workdir / "answers.csv"
    load_demo(
        store,
        DemoConfig(users=users, seed=seed, archetypes=archetypes),
        settings,
        answers_path=answers_path,
    )
    started = time.perf_counter()
    summary = refresh(store, {}, settings=settings)
    seconds = time.perf_counter() - started
    merged = pd.read_csv(answers_path).merge(current_assignments(store.engine), on="person_id")
    return {
        "seed": seed,
        "planted_k": archetypes,
        "chosen_k": summary["k"],
        "ari": round(adjusted_rand_score(merged["archetype"], merged["persona_id"]), 3),
        "users_scored": len(merged),
        "reliable": summary["reliable"],
        "refresh_s": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--archetypes", type=int, default=5)
    args = parser.parse_args()
    rows = [run(args.users, seed, args.archetypes) for seed in args.seeds]
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
