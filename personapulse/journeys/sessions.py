"""Sessions and the channel each session came from.

``sessionize`` splits every person's events into sessions after a gap of inactivity;
``session_channels`` gives one row per session with the channel of its first event,
classified by an ordered list of data rules (``DEFAULT_CHANNEL_RULES``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from personapulse.journeys._frame import (
    NS_PER_SECOND,
    as_object_array,
    expand,
    factorize,
    ns_to_datetime,
    order_events,
    require_columns,
)

RULE_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer",
    "referrer_host",
    "page_path",
    "source_format",
)


@dataclass(frozen=True)
class ChannelRule:
    """A session gets ``channel`` when every regex in ``match`` finds a hit in its field.

    Fields (of the session's first event): utm_source, utm_medium, utm_campaign, referrer
    (full URL), referrer_host (lower-case, without "www."), page_path (the landing page),
    source_format. Missing values are the empty string, so ``"^$"`` matches "absent".
    Regexes are searched case-insensitively.
    """

    channel: str
    match: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.match) - set(RULE_FIELDS))
        if unknown:
            raise ValueError(f"unknown channel rule field(s) {unknown}; use {list(RULE_FIELDS)}")
        if not self.match:
            raise ValueError("a channel rule needs at least one field to match")
        for pattern in self.match.values():
            re.compile(pattern)


def _social(network: str, sources: str, hosts: str) -> tuple[ChannelRule, ChannelRule]:
    return (
        ChannelRule(
            f"social_{network}", {"utm_source": rf"^({sources})$"}, f"{network} by UTM source"
        ),
        ChannelRule(
            f"social_{network}", {"referrer_host": rf"(^|\.)({hosts})$"}, f"{network} referrer"
        ),
    )


# Order matters: the first matching rule wins, so paid beats the network it ran on and
# review pages on Google (Maps, Business Profile) beat Google search.
DEFAULT_CHANNEL_RULES: tuple[ChannelRule, ...] = (
    ChannelRule(
        "paid_ads",
        {
            "utm_medium": r"^(cpc|ppc|paid|paid[_-]?social|paidsocial|paid[_-]?search|display|cpm|cpv|banner|retargeting)$"
        },
        "paid medium",
    ),
    ChannelRule("email", {"utm_medium": r"^e[_-]?mail$"}, "email medium"),
    ChannelRule("email", {"utm_source": r"^(e[_-]?mail|newsletter)$"}, "email source"),
    ChannelRule(
        "email",
        {
            "referrer_host": r"^(mail\.google\.com|com\.google\.android\.gm|outlook\.(live|office)\.com|mail\.yahoo\.com|mail\.proton\.me)$"
        },
        "webmail referrer",
    ),
    ChannelRule(
        "review_sites",
        {
            "utm_source": r"^(trustpilot|g2|g2crowd|capterra|yelp|tripadvisor|google[_-]?reviews|gmb|google[_-]?business)$"
        },
        "review site by UTM source",
    ),
    ChannelRule(
        "review_sites",
        {
            "referrer_host": r"(^|\.)(trustpilot\.com|g2\.com|capterra\.[a-z.]+|yelp\.[a-z.]+|tripadvisor\.[a-z.]+)$"
        },
        "review site referrer",
    ),
    ChannelRule(
        "review_sites",
        {
            "referrer": r"^([a-z]+:)?//([a-z0-9-]+\.)*google\.[a-z.]+/maps|^([a-z]+:)?//search\.google\.com/local|^([a-z]+:)?//g\.page/"
        },
        "Google reviews (Maps, Business Profile)",
    ),
    ChannelRule("search", {"utm_medium": r"^organic$"}, "organic medium"),
    ChannelRule(
        "search",
        {"referrer_host": r"(^|\.)(google|bing|duckduckgo|yahoo|ecosia|baidu|yandex)\.[a-z.]+$"},
        "search engine referrer",
    ),
    *_social("tiktok", "tiktok", r"tiktok\.com"),
    *_social("instagram", "instagram|ig", r"instagram\.com"),
    *_social("youtube", "youtube|yt", r"youtube\.com|youtu\.be"),
    *_social("facebook", "facebook|fb|meta", r"facebook\.com|fb\.com|fb\.me"),
    *_social("linkedin", "linkedin", r"linkedin\.com|lnkd\.in"),
    *_social("x", "x|twitter", r"x\.com|twitter\.com|t\.co"),
    ChannelRule("whatsapp", {"utm_source": r"^whatsapp$"}, "WhatsApp by UTM source"),
    ChannelRule("whatsapp", {"referrer_host": r"(^|\.)(wa\.me|whatsapp\.com)$"}, "WhatsApp link"),
    ChannelRule(
        "messaging",
        {"utm_source": r"^(telegram|messenger|signal|wechat|line)$"},
        "messenger by UTM",
    ),
    ChannelRule(
        "messaging",
        {"referrer_host": r"(^|\.)(t\.me|telegram\.(org|me)|m\.me|messenger\.com)$"},
        "messenger link",
    ),
    ChannelRule("social_other", {"utm_medium": r"^(social|social[_-]network|social[_-]media|sm)$"}),
    ChannelRule("referral", {"utm_medium": r"^referral$"}, "referral medium"),
    ChannelRule("referral", {"referrer_host": r".+"}, "any other external referrer"),
    ChannelRule("other_campaign", {"utm_source": r".+"}, "tagged but unclassified campaign"),
    ChannelRule("other_campaign", {"utm_medium": r".+"}, "tagged but unclassified campaign"),
    ChannelRule("other_campaign", {"utm_campaign": r".+"}, "tagged but unclassified campaign"),
)

CHANNEL_LABELS: dict[str, str] = {
    "paid_ads": "Paid ads",
    "search": "Search",
    "email": "Email",
    "review_sites": "Review sites",
    "social_tiktok": "TikTok",
    "social_instagram": "Instagram",
    "social_youtube": "YouTube",
    "social_facebook": "Facebook",
    "social_linkedin": "LinkedIn",
    "social_x": "X",
    "social_other": "Social",
    "whatsapp": "WhatsApp",
    "messaging": "Messaging",
    "referral": "Referral",
    "other_campaign": "Campaign",
    "direct": "Direct",
}

_HOST_PATTERN = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//(?:[^@/?#]*@)?([^/:?#]+)", re.IGNORECASE)


def channel_label(channel: str) -> str:
    """Human label of a channel ("paid_ads" -> "Paid ads"); unknown channels as given."""
    return CHANNEL_LABELS.get(channel, channel)


def referrer_host(referrer: str | None) -> str:
    """Lower-case host of a referrer URL without a leading "www."; "" when none."""
    if not referrer:
        return ""
    text = str(referrer).strip()
    found = _HOST_PATTERN.match(text)
    host = found.group(1) if found else re.split(r"[/?#:]", text, maxsplit=1)[0]
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _coerce_rules(rules: Iterable[ChannelRule | Mapping]) -> list[ChannelRule]:
    coerced = []
    for rule in rules:
        if isinstance(rule, ChannelRule):
            coerced.append(rule)
        elif isinstance(rule, Mapping):
            coerced.append(
                ChannelRule(rule["channel"], dict(rule["match"]), rule.get("description", ""))
            )
        else:
            raise TypeError(f"a channel rule must be a ChannelRule or a dict, got {type(rule)!r}")
    return coerced


def sessionize(
    events: pd.DataFrame,
    *,
    gap_minutes: float = 30,
    split_on_source_session: bool = False,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_id_col: str = "session_id",
) -> pd.DataFrame:
    """Split each person's events into sessions.

    Input: an event frame (data contract) with at least ``person_col`` and ``timestamp_col``.
    Output: a copy of ``events`` (same rows, same order, same index) with three added
    int64 columns:

    - ``session_index``: 1, 2, … per person in time order;
    - ``session_key``: unique over the frame; increasing in (person, timestamp) order, so
      one person's sessions have consecutive keys;
    - ``event_order``: the row's position in (person, timestamp) order, equal timestamps
      in input order. Later functions use it to skip sorting and hashing person ids, so
      keep these columns together (row filters are fine; concatenating two sessionized
      frames is not — sessionize the union instead).

    A new session starts at a person's first event and whenever the time since the
    previous event of the same person is strictly greater than ``gap_minutes`` (a gap of
    exactly ``gap_minutes`` stays in the session). With ``split_on_source_session`` a
    change of the source's own non-missing ``session_id`` also starts a session.
    """
    required = [person_col, timestamp_col] + ([session_id_col] if split_on_source_session else [])
    require_columns(events, required, frame_name="events")
    if gap_minutes <= 0:
        raise ValueError("gap_minutes must be positive")
    ordering = order_events(
        events, person_col=person_col, timestamp_col=timestamp_col, trust_sessions=False
    )
    n = ordering.size
    gap_ns = int(round(gap_minutes * 60 * NS_PER_SECOND))
    new_session = np.ones(n, dtype=bool)
    if n > 1:
        same_person = ordering.person_codes[1:] == ordering.person_codes[:-1]
        new_session[1:] = ~same_person | (np.diff(ordering.times) > gap_ns)
        if split_on_source_session:
            source = as_object_array(events[session_id_col])[ordering.order]
            changed = (source[1:] != source[:-1]) & (source[1:] != "") & (source[:-1] != "")
            new_session[1:] |= same_person & changed
    sorted_key = np.cumsum(new_session, dtype=np.int64) - 1
    # Session number within the person = global key minus the key of the person's first row.
    sorted_index = sorted_key - sorted_key[ordering.person_first] + 1 if n else sorted_key
    # Scatter back to input row order: the frame is not reordered (copying every column
    # of a large frame costs more than later functions re-deriving the order from
    # event_order, which is a permutation and needs no hashing of person ids).
    session_key = np.empty(n, dtype=np.int64)
    session_index = np.empty(n, dtype=np.int64)
    event_order = np.empty(n, dtype=np.int64)
    session_key[ordering.order] = sorted_key
    session_index[ordering.order] = sorted_index
    event_order[ordering.order] = np.arange(n, dtype=np.int64)
    return events.assign(
        session_index=session_index, session_key=session_key, event_order=event_order
    )


def session_channels(
    events_with_sessions: pd.DataFrame,
    *,
    rules: Sequence[ChannelRule | Mapping] = DEFAULT_CHANNEL_RULES,
    internal_hosts: Iterable[str] = (),
    default_channel: str = "direct",
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_col: str = "session_key",
    session_index_col: str = "session_index",
    referrer_col: str = "referrer",
    utm_source_col: str = "utm_source",
    utm_medium_col: str = "utm_medium",
    utm_campaign_col: str = "utm_campaign",
    page_path_col: str = "page_path",
    source_format_col: str = "source_format",
) -> pd.DataFrame:
    """One row per session with the channel of its first event.

    Input: the output of :func:`sessionize` (needs person, timestamp, session key and index,
    referrer, utm_source, utm_medium; utm_campaign, page_path and source_format are used when
    present). ``internal_hosts`` (e.g. ``["brightcart.com"]``) are your own domains: a
    referrer on them or their subdomains counts as no referrer.

    Output columns: person_id, session_key, session_index, start, end, n_events, channel,
    landing_page, referrer_host, utm_source, utm_medium, utm_campaign — ordered by
    (person, start). The channel is the first rule of ``rules`` whose regexes all match,
    else ``default_channel``.
    """
    require_columns(
        events_with_sessions,
        [
            person_col,
            timestamp_col,
            session_col,
            session_index_col,
            referrer_col,
            utm_source_col,
            utm_medium_col,
        ],
        frame_name="events_with_sessions",
    )
    rule_list = _coerce_rules(rules)
    frame = events_with_sessions
    ordering = order_events(
        frame, person_col=person_col, timestamp_col=timestamp_col, session_col=session_col
    )
    session_keys = (
        ordering.sessions
        if ordering.sessions is not None
        else frame[session_col].to_numpy(dtype=np.int64)[ordering.order]
    )
    n = ordering.size
    starts_mask = np.ones(n, dtype=bool)
    starts_mask[1:] = session_keys[1:] != session_keys[:-1]
    first_rows = np.flatnonzero(starts_mask)
    last_rows = np.append(first_rows[1:], n)[: first_rows.size] - 1
    first_input_rows = ordering.order[first_rows]

    def first_values(column: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes and uniques of the column at each session's first row, missing as ""."""
        if column not in frame.columns:
            return np.zeros(first_rows.size, dtype=np.int64), np.array([""], dtype=object)
        values = frame[column]
        if isinstance(values.array, pd.arrays.ArrowStringArray):
            codes, uniques = factorize(values)  # whole column: cached, shared with later calls
            codes = codes[first_input_rows]
        else:
            codes, uniques = factorize(values.iloc[first_input_rows])
        uniques = np.asarray(uniques, dtype=object)
        empty = np.flatnonzero(uniques == "")
        if empty.size:
            codes = np.where(codes < 0, empty[0], codes)
        elif (codes < 0).any():
            uniques = np.append(uniques, "")
            codes = np.where(codes < 0, uniques.size - 1, codes)
        return codes.astype(np.int64, copy=False), uniques

    referrer_codes, referrer_uniques = first_values(referrer_col)
    internal = [host.lower().removeprefix("www.") for host in internal_hosts]
    used = np.zeros(referrer_uniques.size, dtype=bool)
    used[referrer_codes] = True
    unique_hosts = np.full(referrer_uniques.size, "", dtype=object)
    for i in np.flatnonzero(used):
        host = referrer_host(referrer_uniques[i])
        if any(host == own or host.endswith("." + own) for own in internal):
            host = ""
        unique_hosts[i] = host
    # Internal referrers are not a channel signal, so the full URL is blanked with the host.
    blank = unique_hosts == ""
    if blank.any():
        referrer_uniques = np.append(referrer_uniques, "")
        remap = np.where(blank, referrer_uniques.size - 1, np.arange(blank.size))
        referrer_codes = remap[referrer_codes]
        unique_hosts = np.append(unique_hosts, "")
    fields = {
        "utm_source": first_values(utm_source_col),
        "utm_medium": first_values(utm_medium_col),
        "utm_campaign": first_values(utm_campaign_col),
        "referrer": (referrer_codes, referrer_uniques),
        "referrer_host": (referrer_codes, unique_hosts),
        "page_path": first_values(page_path_col),
        "source_format": first_values(source_format_col),
    }
    channel_codes, channel_names = _classify_codes(
        fields, first_rows.size, rule_list, default_channel=default_channel
    )
    return pd.DataFrame(
        {
            person_col: expand(ordering.person_uniques, ordering.person_codes[first_rows]),
            session_col: session_keys[first_rows],
            session_index_col: frame[session_index_col].to_numpy(dtype=np.int64)[first_input_rows],
            "start": ns_to_datetime(ordering.times[first_rows]),
            "end": ns_to_datetime(ordering.times[last_rows]),
            "n_events": (last_rows - first_rows + 1).astype(np.int64),
            "channel": expand(channel_names, channel_codes),
            "landing_page": expand(*reversed(fields["page_path"])),
            "referrer_host": expand(unique_hosts, referrer_codes),
            "utm_source": expand(*reversed(fields["utm_source"])),
            "utm_medium": expand(*reversed(fields["utm_medium"])),
            "utm_campaign": expand(*reversed(fields["utm_campaign"])),
        }
    )


def _classify_codes(
    factorized: Mapping[str, tuple[np.ndarray, np.ndarray]],
    size: int,
    rules: Sequence[ChannelRule],
    *,
    default_channel: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Channel code per row and the channel names, from (codes, uniques) per field."""
    names = [default_channel]
    position = {default_channel: 0}
    channels = np.zeros(size, dtype=np.int64)
    unassigned = np.ones(size, dtype=bool)
    for rule in rules:
        matched = unassigned.copy()
        for name, pattern in rule.match.items():
            codes, uniques = factorized[name]
            regex = re.compile(pattern, re.IGNORECASE)
            hits = np.fromiter(
                (bool(regex.search(str(value))) for value in uniques),
                dtype=bool,
                count=len(uniques),
            )
            matched &= hits[codes] if len(uniques) else np.zeros(size, dtype=bool)
        if rule.channel not in position:
            position[rule.channel] = len(names)
            names.append(rule.channel)
        channels[matched] = position[rule.channel]
        unassigned &= ~matched
    return channels, np.asarray(names, dtype=object)


def classify_channels(
    fields: Mapping[str, np.ndarray],
    rules: Sequence[ChannelRule | Mapping],
    *,
    default_channel: str = "direct",
) -> np.ndarray:
    """Channel per row of ``fields`` (arrays of strings, "" for missing) by first matching rule.

    Regexes run once per distinct value of a field, not once per row.
    """
    rule_list = _coerce_rules(rules)
    size = len(next(iter(fields.values()))) if fields else 0
    factorized = {
        name: pd.factorize(np.asarray(values, dtype=object)) for name, values in fields.items()
    }
    codes, names = _classify_codes(factorized, size, rule_list, default_channel=default_channel)
    return names[codes]
