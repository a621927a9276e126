"""Snapshots shaped like the service's JSON (GET /v1/personas and friends)."""

from __future__ import annotations

from airtable_sync import Snapshot

VERSION = {
    "version_id": "v-2",
    "seq": 2,
    "status": "active",
    "created_ms": 1_763_900_000_123,
    "k": 3,
    "method": "kmeans",
    "reliable": True,
    "gate": {"passed": True, "silhouette": 0.41},
    "appeared": ["p-deal"],
    "vanished": [],
    "provenance": {},
    "candidates": [],
    "job_id": "job-1",
}
OLD_VERSION = {**VERSION, "version_id": "v-1", "seq": 1, "status": "retired", "reliable": False}


def make_snapshot(*, shortlist_size: int = 6) -> Snapshot:
    personas = [
        {
            "persona_id": pid,
            "version_id": "v-2",
            "name": label,
            "label": label,
            "size": size,
            "share": share,
            "is_negative": pid == "p-churn",
            "human": {},
            "profile": {"orders_per_month": size / 100, "top_feature": "meal_planner"},
        }
        for pid, label, size, share in [
            ("p-family", "Family planners", 420, 0.42),
            ("p-deal", "Deal hunters", 380, 0.38),
            ("p-churn", "Lapsing cooks", 200, 0.2),
        ]
    ]
    persona_ids = [p["persona_id"] for p in personas]
    return Snapshot(
        personas=personas,
        version=VERSION,
        versions=[OLD_VERSION, VERSION],
        pain_points=[
            {
                "persona_id": "p-deal",
                "kind": "pain_point",
                "label": "price",
                "count": 31,
                "persons": 25,
                "share": 0.2631,
                "examples": ["too expensive for two", "coupon did not apply"],
            },
            {
                "persona_id": "all",
                "kind": "motivation",
                "label": "convenience",
                "count": 12,
                "persons": 11,
                "share": 0.11,
                "examples": [],
            },
        ],
        funnel_steps=[
            {
                "persona_id": None,
                "step": i,
                "name": name,
                "count": count,
                "conversion_from_first": count / 1000,
                "dropoff_rate": float("nan") if i == 0 else 0.25,
            }
            for i, (name, count) in enumerate([("Cart Viewed", 1000), ("Order Completed", 640)])
        ],
        recommendations=[
            {
                "id": "rec-1",
                "persona_id": "p-deal",
                "title": "Lead with the weekly deal",
                "action": "Show the deal banner on /pricing",
                "priority": "urgent",  # not a predefined choice: typecast adds it
                "evidence": {"pain_point": "price", "share": 0.26},
            }
        ],
        shifts=[
            {
                "id": "shift-1",
                "persona_id": "p-churn",
                "kind": "size",
                "severity": "high",
                "detected_ms": 1_763_900_100_000,
                "evidence": "grew from 12% to 20%",
            }
        ],
        interview_shortlist=[
            {
                "persona_id": persona_ids[i % 3],
                "person_id": f"user-{i:05d}",
                "probability": round(0.5 + (i % 50) / 100, 4),
            }
            for i in range(shortlist_size)
        ],
    )
