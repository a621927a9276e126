"""Brightcart demo data: realistic journeys, reviews and tickets with hidden archetypes.

``personapulse demo --users N --seed S`` uses this package. The planted archetype of each user is
written only to the answer file (answers.csv / ``DemoFrames.answers``), never into the payloads.

* Answer file: one row per identified user (``person_id`` = userId). Visitors who never sign up
  (about 10 % of simulated users) stay in the events as ``anon:<anonymousId>`` with no answer row.
* Pain spike: in the last ``PAIN_SPIKE["days"]`` (7) days, ``power_user`` reviews mention a
  shipping / delivery problem in most reviews (versus about one in five before).
* Event frame: the contract's columns plus ``properties`` (dict), which the contract's column list
  lacks but ``Feature Used`` (``properties.feature``) needs.
"""

from personapulse.demo.archetypes import (
    ARCHETYPE_SPECS,
    ARCHETYPES,
    PAIN_SPIKE,
    ArchetypeSpec,
    planted_archetypes,
)
from personapulse.demo.frames import DemoFrames, frames_from_bundles, generate_frames
from personapulse.demo.generator import DemoConfig, UserBundle, generate_users, window_bounds
from personapulse.demo.writer import write_jsonl

__all__ = [
    "ARCHETYPES",
    "ARCHETYPE_SPECS",
    "PAIN_SPIKE",
    "ArchetypeSpec",
    "DemoConfig",
    "DemoFrames",
    "UserBundle",
    "frames_from_bundles",
    "generate_frames",
    "generate_users",
    "planted_archetypes",
    "window_bounds",
    "write_jsonl",
]
