"""Real journeys and funnels per persona: pure functions over event frames.

"Not what users say, but what users do": sessions and their channels, cleaned steps,
top journeys across sessions, transition graphs, funnels and drop-offs.
"""

from personapulse.journeys.dropoffs import dropoffs, with_pain_points
from personapulse.journeys.funnels import Exclusion, FunnelResult, FunnelStep, funnel
from personapulse.journeys.paths import after_dropoff, top_paths, transitions
from personapulse.journeys.sessions import (
    CHANNEL_LABELS,
    DEFAULT_CHANNEL_RULES,
    ChannelRule,
    channel_label,
    classify_channels,
    referrer_host,
    session_channels,
    sessionize,
)
from personapulse.journeys.steps import DEFAULT_CLEANING, clean_path, to_steps

__all__ = [
    "CHANNEL_LABELS",
    "DEFAULT_CHANNEL_RULES",
    "DEFAULT_CLEANING",
    "ChannelRule",
    "Exclusion",
    "FunnelResult",
    "FunnelStep",
    "after_dropoff",
    "channel_label",
    "classify_channels",
    "clean_path",
    "dropoffs",
    "funnel",
    "referrer_host",
    "session_channels",
    "sessionize",
    "to_steps",
    "top_paths",
    "transitions",
    "with_pain_points",
]
