"""The store's frames (docs/data-contract.md) built straight from demo payloads, no database.

The conversion reads the raw payloads exactly as the ingestion API receives them (it does not peek
at the simulator's state), so engine tests on these frames see what service tests see on the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from personapulse.demo.generator import DemoConfig, UserBundle, generate_users

EVENT_COLUMNS: tuple[str, ...] = (
    "person_id",
    "event_id",
    "type",
    "event",
    "timestamp",
    "session_id",
    "page_path",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "revenue",
    "source_format",
    "properties",
)
REVIEW_COLUMNS: tuple[str, ...] = (
    "review_id",
    "person_id",
    "source",
    "rating",
    "title",
    "text",
    "product",
    "created_at",
)
CONVERSATION_COLUMNS: tuple[str, ...] = (
    "conversation_id",
    "person_id",
    "source",
    "kind",
    "subject",
    "text",
    "created_at",
)
PROFILE_COLUMNS: tuple[str, ...] = ("person_id", "email", "traits", "first_seen", "last_seen")
ANSWER_COLUMNS: tuple[str, ...] = ("person_id", "archetype")


@dataclass(frozen=True)
class DemoFrames:
    """The five frames of a demo data set; ``answers`` is DataFrame[person_id, archetype]."""

    events: pd.DataFrame
    reviews: pd.DataFrame
    conversations: pd.DataFrame
    profiles: pd.DataFrame
    answers: pd.DataFrame


def _utc(values: list[str | None]) -> pd.Series:
    return pd.Series(
        pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601"),
    ).astype("datetime64[ns, UTC]")


def stitch_person_ids(events: list[dict]) -> list[str]:
    """person_id per Segment payload: userId, else the user an anonymousId was linked to (by an
    event carrying both ids, or an alias's previousId), else ``anon:<anonymousId>``."""
    linked: dict[str, str] = {}
    for payload in events:
        user_id = payload.get("userId")
        if user_id is None:
            continue
        anonymous_id = payload.get("anonymousId")
        if anonymous_id is not None:
            linked.setdefault(anonymous_id, user_id)
        previous_id = payload.get("previousId")
        if previous_id is not None:
            linked.setdefault(previous_id, user_id)
    out = []
    for payload in events:
        user_id = payload.get("userId")
        if user_id is None:
            anonymous_id = payload["anonymousId"]
            user_id = linked.get(anonymous_id, f"anon:{anonymous_id}")
        out.append(user_id)
    return out


def _event_name(payload: dict) -> str | None:
    kind = payload["type"]
    if kind == "track":
        return payload["event"]
    if kind == "page":
        return payload.get("name") or "Page Viewed"
    if kind == "screen":
        return payload.get("name") or "Screen Viewed"
    return None


def _event_rows(events: list[dict], columns: dict[str, list]) -> None:
    for payload, person_id in zip(events, stitch_person_ids(events), strict=True):
        context = payload.get("context") or {}
        page = context.get("page") or {}
        campaign = context.get("campaign") or {}
        if not campaign and page.get("url") and "?" in page["url"]:
            query = parse_qs(urlsplit(page["url"]).query)
            campaign = {
                "source": query.get("utm_source", [None])[0],
                "medium": query.get("utm_medium", [None])[0],
                "name": query.get("utm_campaign", [None])[0],
            }
        revenue = (payload.get("properties") or {}).get("revenue")
        path = page.get("path")
        columns["person_id"].append(person_id)
        columns["event_id"].append(payload["messageId"])
        columns["type"].append(payload["type"])
        columns["event"].append(_event_name(payload))
        columns["timestamp"].append(payload["timestamp"])
        columns["session_id"].append(None)
        columns["page_path"].append(path.split("?", 1)[0] if path else None)
        columns["referrer"].append(page.get("referrer"))
        columns["utm_source"].append(campaign.get("source"))
        columns["utm_medium"].append(campaign.get("medium"))
        columns["utm_campaign"].append(campaign.get("name"))
        columns["revenue"].append(np.nan if revenue is None else float(revenue))
        columns["source_format"].append("segment")
        columns["properties"].append(dict(payload.get("properties") or {}))


def _customer_text(conversation: dict) -> str:
    if conversation.get("messages"):
        return "\n".join(m["text"] for m in conversation["messages"] if m["role"] == "customer")
    lines = (conversation.get("transcript") or "").splitlines()
    return "\n".join(
        line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("customer:")
    )


def frames_from_bundles(bundles: Iterable[UserBundle]) -> DemoFrames:
    """Build the store's frames from UserBundles (see docs/data-contract.md for the columns).

    Events: one row per payload, ``person_id`` stitched, ``timestamp`` datetime64[ns, UTC],
    ``revenue`` float (NaN when none). Profiles: one row per identified user, first/last seen
    from their events. Answers: identified users only.
    """
    ev: dict[str, list] = {name: [] for name in EVENT_COLUMNS}
    rv: dict[str, list] = {name: [] for name in REVIEW_COLUMNS}
    cv: dict[str, list] = {name: [] for name in CONVERSATION_COLUMNS}
    pf: dict[str, list] = {name: [] for name in PROFILE_COLUMNS}
    answers: dict[str, list] = {name: [] for name in ANSWER_COLUMNS}
    for bundle in bundles:
        if bundle.events:
            _event_rows(bundle.events, ev)
        for review in bundle.reviews:
            rating = review.get("rating")
            rv["review_id"].append(review["review_id"])
            rv["person_id"].append(review.get("user_id"))
            rv["source"].append(review["source"])
            rv["rating"].append(np.nan if rating is None else float(rating))
            rv["title"].append(review.get("title"))
            rv["text"].append(review["text"])
            rv["product"].append(review.get("product"))
            rv["created_at"].append(review.get("created_at"))
        for conversation in bundle.conversations:
            cv["conversation_id"].append(conversation["conversation_id"])
            cv["person_id"].append(conversation.get("user_id"))
            cv["source"].append(conversation["source"])
            cv["kind"].append(conversation["kind"])
            cv["subject"].append(conversation.get("subject"))
            cv["text"].append(_customer_text(conversation))
            cv["created_at"].append(conversation.get("created_at"))
        if bundle.profile is not None:
            stamps = [e["timestamp"] for e in bundle.events]
            pf["person_id"].append(bundle.profile["user_id"])
            pf["email"].append(bundle.profile.get("email"))
            pf["traits"].append(dict(bundle.profile.get("traits") or {}))
            # ISO-8601 UTC strings with a fixed format sort chronologically.
            pf["first_seen"].append(min(stamps) if stamps else None)
            pf["last_seen"].append(max(stamps) if stamps else None)
        if bundle.identified and bundle.person_id is not None:
            answers["person_id"].append(bundle.person_id)
            answers["archetype"].append(bundle.archetype)

    events = pd.DataFrame(
        {k: v for k, v in ev.items() if k not in ("timestamp", "revenue", "properties")}
    )
    events["properties"] = pd.Series(ev["properties"], dtype=object)
    events["timestamp"] = _utc(ev["timestamp"])
    events["revenue"] = pd.Series(ev["revenue"], dtype="float64")
    events = events[list(EVENT_COLUMNS)]
    reviews = pd.DataFrame({k: v for k, v in rv.items() if k not in ("created_at", "rating")})
    reviews["rating"] = pd.Series(rv["rating"], dtype="float64")
    reviews["created_at"] = _utc(rv["created_at"])
    reviews = reviews[list(REVIEW_COLUMNS)]
    conversations = pd.DataFrame({k: v for k, v in cv.items() if k != "created_at"})
    conversations["created_at"] = _utc(cv["created_at"])
    conversations = conversations[list(CONVERSATION_COLUMNS)]
    profiles = pd.DataFrame({"person_id": pf["person_id"], "email": pf["email"]})
    profiles["traits"] = pd.Series(pf["traits"], dtype=object)
    profiles["first_seen"] = _utc(pf["first_seen"])
    profiles["last_seen"] = _utc(pf["last_seen"])
    return DemoFrames(
        events=events,
        reviews=reviews,
        conversations=conversations,
        profiles=profiles,
        answers=pd.DataFrame(answers, columns=list(ANSWER_COLUMNS)),
    )


def generate_frames(config: DemoConfig) -> DemoFrames:
    """Simulate ``config`` and return the store's frames as if the payloads had been ingested."""
    return frames_from_bundles(generate_users(config))
