"""Names a card can mention: channels, page paths, journey steps, pain-point labels.

The grounding check scans text for these; facts list the ones they support (``Fact.terms``).
"""

from __future__ import annotations

import re
from functools import cache

from personapulse.nlp.taxonomy import MOTIVATIONS, PAIN_POINTS

PATH_SEPARATOR = " → "
LEAVE = "leave"

# Canonical channel key -> words a sentence may use for it (matched whole-word, case-insensitive).
CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {
    "paid": ("paid ads", "paid_ads", "paid search", "paid social", "paid"),
    "search": ("organic search", "search engines", "search"),
    "email": ("email", "e-mail", "newsletters", "newsletter"),
    "review_sites": ("review sites", "review site", "review_sites", "review_site", "trustpilot"),
    "tiktok": ("tiktok", "social_tiktok"),
    "instagram": ("instagram", "social_instagram"),
    "youtube": ("youtube", "social_youtube"),
    "facebook": ("facebook", "social_facebook"),
    "linkedin": ("linkedin", "social_linkedin"),
    "x": ("twitter", "social_x"),
    "whatsapp": ("whatsapp",),
    "messaging": ("messaging", "messenger", "telegram"),
    "social": ("social media", "social_other", "social"),
    "referral": ("referrals", "referral"),
    "direct": ("direct",),
    "campaign": ("other_campaign",),
}
SOCIAL_NETWORKS = frozenset({"tiktok", "instagram", "youtube", "facebook", "linkedin", "x"})

# Names the service uses (profile channel features, journey channel ids and display labels).
_CHANNEL_NAMES: dict[str, str] = {
    "paid": "paid",
    "paid_ads": "paid",
    "paid ads": "paid",
    "search": "search",
    "email": "email",
    "review_site": "review_sites",
    "review_sites": "review_sites",
    "review sites": "review_sites",
    "social": "social",
    "social_other": "social",
    "messaging": "messaging",
    "whatsapp": "whatsapp",
    "referral": "referral",
    "direct": "direct",
    "return": "direct",
    "other_campaign": "campaign",
    "campaign": "campaign",
    "tiktok": "tiktok",
    "instagram": "instagram",
    "youtube": "youtube",
    "facebook": "facebook",
    "linkedin": "linkedin",
    "x": "x",
}


def channel_key(name: str) -> str:
    """Canonical key of a channel name ("paid_ads", "Paid ads", "paid" -> "paid")."""
    lowered = name.strip().lower()
    lowered = re.sub(r"\s*×\d+$", "", lowered)
    if lowered.startswith("social_") and lowered[7:] in SOCIAL_NETWORKS:
        return lowered[7:]
    return _CHANNEL_NAMES.get(lowered, lowered)


def _segments(path: str) -> list[str]:
    return [segment.strip() for segment in path.split(PATH_SEPARATOR) if segment.strip()]


_LABELLED = re.compile(r"^([^/:][^:]*?):\s+(.+)$")


def _split_label(segment: str) -> tuple[str | None, str]:
    found = _LABELLED.match(segment)
    if found and not found.group(1).startswith("/"):
        return found.group(1), found.group(2)
    return None, segment


def path_steps(path: str) -> list[str]:
    """Steps of a path in the journeys notation, without channel labels and "leave"."""
    steps = []
    for segment in _segments(path):
        _, step = _split_label(segment)
        if step != LEAVE:
            steps.append(step)
    return steps


def path_pages(path: str) -> list[str]:
    """Distinct page paths of a journey, in order of appearance."""
    return list(dict.fromkeys(step for step in path_steps(path) if step.startswith("/")))


def path_channels(path: str) -> list[str]:
    """Distinct canonical channels that start the sessions of a journey."""
    channels = []
    for segment in _segments(path):
        label, _ = _split_label(segment)
        if label is not None:
            channels.append(channel_key(label))
    return list(dict.fromkeys(channels))


@cache
def _channel_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    alias_to_key = {alias: key for key, aliases in CHANNEL_ALIASES.items() for alias in aliases}
    ordered = sorted(alias_to_key, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w/])(" + "|".join(re.escape(alias) for alias in ordered) + r")(?![\w/])",
        re.IGNORECASE,
    )
    return pattern, alias_to_key


def channels_in(text: str) -> list[str]:
    """Canonical channels mentioned in a text."""
    pattern, alias_to_key = _channel_pattern()
    return [alias_to_key[m.group(1).lower()] for m in pattern.finditer(text)]


def channel_supported(channel: str, terms: set[str]) -> bool:
    """Is a mentioned channel backed by the channel terms of the cited facts?"""
    if channel in terms:
        return True
    # "social" summarises any social network; a named network needs its own fact.
    return channel == "social" and bool(terms & SOCIAL_NETWORKS)


PAGE_PATH = re.compile(r"(?<![\w/.:])/(?:[A-Za-z0-9_\-:.]+(?:/[A-Za-z0-9_\-:.]+)*)?")


def pages_in(text: str) -> list[str]:
    """Page paths written in a text ("/pricing", "/plans/starter", "/")."""
    return [m.group(0).rstrip(".,:") or "/" for m in PAGE_PATH.finditer(text)]


def all_labels() -> tuple[str, ...]:
    """Every pain-point and motivation label of the taxonomy."""
    return tuple(dict.fromkeys(c.label for c in (*PAIN_POINTS, *MOTIVATIONS)))


def _label_forms(label: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((label, label.replace("_", " "))))


@cache
def _label_pattern(labels: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    form_to_label = {form: label for label in labels for form in _label_forms(label)}
    ordered = sorted(form_to_label, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w])(" + "|".join(re.escape(form) for form in ordered) + r")(?![\w])",
        re.IGNORECASE,
    )
    return pattern, {form.lower(): label for form, label in form_to_label.items()}


def labels_in(text: str, labels: tuple[str, ...], *, single_words: bool) -> list[str]:
    """Pain-point / motivation labels mentioned in a text.

    Multi-word labels ("shipping_delivery", "missing features") are specific enough to count
    anywhere; single-word labels ("pricing", "quality") are ordinary words, so they are counted
    only where ``single_words`` is set (the pain-point and strategy sections).
    """
    if not labels:
        return []
    pattern, form_to_label = _label_pattern(tuple(sorted(labels)))
    found = []
    for match in pattern.finditer(text):
        label = form_to_label[match.group(1).lower()]
        if single_words or "_" in label:
            found.append(label)
    return found
