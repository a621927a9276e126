"""Stream a demo data set to JSON Lines files plus the answer CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from personapulse.demo.generator import DemoConfig, generate_users

OUTPUT_FILES: dict[str, str] = {
    "events": "events.jsonl",
    "reviews": "reviews.jsonl",
    "conversations": "conversations.jsonl",
    "profiles": "profiles.jsonl",
    "answers": "answers.csv",
}


def write_jsonl(config: DemoConfig, out_dir: Path) -> dict[str, Path]:
    """Write events / reviews / conversations / profiles (one ingestion-API item per line) and
    answers.csv (person_id,archetype; identified users only) into ``out_dir``, streaming.

    Returns {"events", "reviews", "conversations", "profiles", "answers"} -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in OUTPUT_FILES.items()}
    newline = b"\n"
    with (
        paths["events"].open("wb") as events,
        paths["reviews"].open("wb") as reviews,
        paths["conversations"].open("wb") as conversations,
        paths["profiles"].open("wb") as profiles,
        paths["answers"].open("w", newline="", encoding="utf-8") as answers,
    ):
        answer_writer = csv.writer(answers)
        answer_writer.writerow(["person_id", "archetype"])
        for bundle in generate_users(config):
            if bundle.events:
                events.write(newline.join(orjson.dumps(e) for e in bundle.events) + newline)
            for review in bundle.reviews:
                reviews.write(orjson.dumps(review) + newline)
            for conversation in bundle.conversations:
                conversations.write(orjson.dumps(conversation) + newline)
            if bundle.profile is not None:
                profiles.write(orjson.dumps(bundle.profile) + newline)
            if bundle.identified and bundle.person_id is not None:
                answer_writer.writerow([bundle.person_id, bundle.archetype])
    return paths
