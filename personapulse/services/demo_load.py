"""Load the demo generator's users into the store through the same ingestion path as the API."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from personapulse.demo import DemoConfig, generate_users
from personapulse.services.ingestion import ingest, parse
from personapulse.store import Store

BATCH_EVENTS = 5_000
# Profiles and events first, so reviews and conversations find their users.
ORDER = ("profiles", "events", "reviews", "conversations")


def load_demo(
    store: Store,
    config: DemoConfig,
    settings: dict,
    *,
    answers_path: Path | None = None,
    on_user: Callable[[], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Generate and ingest; write the hidden archetypes to ``answers_path`` only. Returns counts."""
    pending: dict[str, list] = {kind: [] for kind in ORDER}
    totals = {kind: {"accepted": 0, "duplicate": 0, "rejected": 0} for kind in ORDER}

    def flush() -> None:
        for kind in ORDER:
            if not pending[kind]:
                continue
            received_at = datetime.now(UTC)
            parsed = parse(kind, pending[kind], received_at=received_at)
            outcome, _ = ingest(store, kind, parsed, settings=settings, received_at=received_at)
            for name in totals[kind]:
                totals[kind][name] += getattr(outcome, name)
            pending[kind] = []

    answer_file = answers_path.open("w", newline="") if answers_path else None
    try:
        writer = csv.writer(answer_file) if answer_file else None
        if writer:
            writer.writerow(["person_id", "archetype"])
        for bundle in generate_users(config):
            if bundle.archetype is not None:
                # Visitors who never sign up carry an archetype in the generator but are not part
                # of the answer file: they are scored against the personas, never fitted on.
                if writer and bundle.identified:
                    writer.writerow([bundle.person_id, bundle.archetype])
                if on_user:
                    on_user()
            if bundle.profile:
                pending["profiles"].append(bundle.profile)
            pending["events"].extend(bundle.events)
            pending["reviews"].extend(bundle.reviews)
            pending["conversations"].extend(bundle.conversations)
            if len(pending["events"]) >= BATCH_EVENTS:
                flush()
        flush()
    finally:
        if answer_file:
            answer_file.close()
    return totals
