"""Rebuild tests/sample_data/shifts/ from a real demo store (not a test; run by hand).

    rm -f /tmp/dyn.sqlite* && PERSONAPULSE_DATABASE_URL=sqlite:////tmp/dyn.sqlite \
        .venv/bin/personapulse demo --users 600 --seed 5 --answers /tmp/dyn_answers.csv
    PERSONAPULSE_DATABASE_URL=sqlite:////tmp/dyn.sqlite .venv/bin/personapulse refresh
    .venv/bin/python tests/outbound/make_shift_fixtures.py

It copies the store, refits on the unchanged data with the stored version as the previous one
(default PersonaConfig, on the population the stored version was fitted on),
records the match distances, and writes trimmed personas of both versions, the classified
documents, the assignments, the hidden archetype answers and meta.json. The demo's
``now`` is the current hour, so the dates in the fixtures are those of the day it was run.
"""

import json
import sqlite3
from pathlib import Path

import orjson
import pandas as pd
from sqlalchemy import select

from personapulse.personas import PreviousVersion, fit_personas
from personapulse.services import personas as svc
from personapulse.services.reviews import classified_documents
from personapulse.store import Store

SOURCE, COPY, ANSWERS = "/tmp/dyn.sqlite", "/tmp/dyn2.sqlite", "/tmp/dyn_answers.csv"
OUT = Path(__file__).resolve().parents[1] / "sample_data" / "shifts"


def trim(persona: dict) -> dict:
    profile = persona["profile"]
    keep = ("persona_id", "version_id", "name", "label", "size", "share", "is_negative")
    return {k: persona[k] for k in keep} | {
        "profile": {k: profile[k] for k in ("persona_id", "size", "share", "label", "conversion")}
        | {"revenue": profile["revenue"], "traits": profile["traits"][:2]}
    }


def main() -> None:
    # a consistent copy (WAL included) over a clean target: stale -wal / -shm files of an earlier
    # run would otherwise be replayed onto the fresh copy
    for suffix in ("", "-wal", "-shm"):
        Path(COPY + suffix).unlink(missing_ok=True)
    with sqlite3.connect(SOURCE) as source, sqlite3.connect(COPY) as target:
        source.backup(target)
    engine = Store(f"sqlite:///{COPY}").engine
    v1, personas_v1 = svc.list_personas(engine)
    features = svc.compute_features(engine)
    if v1["provenance"].get("fitted_on") == "identified users":
        # refit the same population the stored version was fitted on
        features = features[~features.index.astype(str).str.startswith("anon:")]
    with engine.connect() as conn:
        row = conn.execute(
            select(svc.persona_versions).where(svc.persona_versions.c.id == v1["version_id"])
        ).one()
        centroids = {
            r.persona_id: orjson.loads(r.centroid)
            for r in conn.execute(select(svc.personas).where(svc.personas.c.version_id == row.id))
        }
    refit = fit_personas(
        features,
        config=svc.persona_config(None),
        previous=PreviousVersion(centroids=centroids, state=orjson.loads(row.model_state)),
    ).to_dict(include_assignments=False)
    # v2 in the GET /v1/personas shape, from the refit itself: the refresh job's own population
    # and wiring change independently of this fixture
    personas_v2 = [
        {
            "persona_id": p["persona_id"],
            "version_id": "v2",
            "name": p["label"],
            "label": p["label"],
            "size": p["size"],
            "share": p["share"],
            "is_negative": bool(p["negative"]["flag"]),
            "profile": p,
        }
        for p in sorted(refit["profiles"], key=lambda p: -p["size"])
    ]
    documents = classified_documents(engine)
    documents = documents.assign(
        pain_points=[
            [{"label": x["label"], "phrase": x["phrase"]} for x in pains]
            for pains in documents["pain_points"]
        ],
        created_at=documents["created_at"].map(lambda t: t.isoformat()),
    )[
        [
            "doc_id",
            "doc_kind",
            "person_id",
            "created_at",
            "sentiment_label",
            "sentiment_score",
            "pain_points",
        ]
    ]
    documents.to_json(OUT / "documents.json", orient="records", indent=0)
    svc.current_assignments(engine).sort_values("person_id").to_csv(
        OUT / "assignments.csv", index=False
    )
    pd.read_csv(ANSWERS).sort_values("person_id").to_csv(OUT / "answers.csv", index=False)
    latest = pd.to_datetime(documents["created_at"]).max()
    meta = {
        "source": "personapulse demo --users 600 --seed 5, personapulse refresh, then an "
        "unchanged refit: tests/outbound/make_shift_fixtures.py",
        "now": latest.ceil("h").isoformat(),
        "now_note": "the latest document's created_at rounded up to the hour (the demo writes "
        "documents up to its own now, the current hour)",
        "v2_match_distances": refit["match_distances"],
        "v2_appeared": refit["appeared"],
        "v2_vanished": refit["vanished"],
    }
    (OUT / "personas_v1.json").write_text(json.dumps([trim(p) for p in personas_v1], indent=1))
    (OUT / "personas_v2.json").write_text(json.dumps([trim(p) for p in personas_v2], indent=1))
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
