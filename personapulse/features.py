"""Per-user behavioural features for persona clustering.

``build_user_features`` turns the store's event frame (plus, optionally, reviews, conversations and
review classes) into one row per person with one float column per feature. Everything is vectorised
(sorting, ``np.bincount`` and ``groupby``), so ten million events take seconds, not minutes.
Every feature is documented in ``docs/features.md``; ``FEATURE_UNITS`` gives the plain-language unit
used by persona profiles.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CHANNEL_GROUPS",
    "EXPOSURE_TOTALS",
    "FEATURE_UNITS",
    "FeatureConfig",
    "FeaturePopulation",
    "build_user_features",
    "classify_channels",
    "describe_feature",
    "slugify",
    "top_page_sections",
]

CHANNEL_GROUPS: tuple[str, ...] = (
    "paid",
    "search",
    "email",
    "social",
    "messaging",
    "review_site",
    "referral",
    "direct",
)

#: Totals that grow with how long someone has been around (tenure) as much as with how they
#: behave; each has a rate or share beside it. Profiles show them; the persona model keeps them
#: out of its clustering space (see docs/personas.md).
EXPOSURE_TOTALS: tuple[str, ...] = (
    "events",
    "active_days",
    "monetary_value",
    "orders",
    "cancellations",
    "pauses",
    "review_count",
    "count_*",
)

_NS_PER_DAY = 86_400 * 10**9
_NS_PER_MINUTE = 60 * 10**9

# (unit phrase, kind) per feature; kind drives formatting in profiles:
# "share" prints as a percentage, "count"/"rate"/"money"/"days"/"minutes"/"score" as numbers.
FEATURE_UNITS: dict[str, tuple[str, str]] = {
    "recency_days": ("days since last visit", "days"),
    "events": ("events", "count"),
    "active_days": ("active days", "count"),
    "monetary_value": ("in revenue", "money"),
    "orders": ("orders", "count"),
    "average_order_value": ("average order value", "money"),
    "sessions_per_week": ("sessions a week", "rate"),
    "session_minutes_median": ("minutes per session (median)", "minutes"),
    "bounce_rate": ("single-event sessions", "share"),
    "pages_per_session": ("pages per session", "rate"),
    "purchase_frequency": ("orders a week", "rate"),
    "conversion": ("bought at least once", "share"),
    "feature_adoption": ("of product features used", "share"),
    "feature_use_rate": ("feature uses per session", "rate"),
    "return_visit_rate": ("of later sessions on a new day", "share"),
    "support_ticket_rate": ("support tickets a week", "rate"),
    "coupon_usage_share": ("of orders with a coupon", "share"),
    "cancellations": ("cancellations", "count"),
    "pauses": ("pauses", "count"),
    "review_count": ("reviews written", "count"),
    "mean_rating": ("average star rating", "score"),
    "review_sentiment": ("review sentiment (-1..1)", "score"),
}


def slugify(text: str) -> str:
    """Lower-case ``text`` and join its alphanumeric runs with underscores ("Coupon Applied" -> "coupon_applied")."""
    return "_".join(re.findall(r"[a-z0-9]+", str(text).lower())) or "unknown"


def describe_feature(name: str) -> tuple[str, str]:
    """Return (unit phrase, kind) for a feature name, including the generated channel/pain/count columns."""
    if name in FEATURE_UNITS:
        return FEATURE_UNITS[name]
    if name.startswith("channel_"):
        return (f"of sessions from {name.removeprefix('channel_').replace('_', ' ')}", "share")
    if name.startswith("pain_"):
        return (f"of reviews about {name.removeprefix('pain_').replace('_', ' ')}", "share")
    if name.startswith("page_"):
        return (f"of page views on {name.removeprefix('page_').replace('_', ' ')}", "share")
    if name.startswith("count_"):
        return (f"'{name.removeprefix('count_').replace('_', ' ')}' events", "count")
    return (name.replace("_", " "), "score")


@dataclass(frozen=True)
class FeatureConfig:
    """What ``build_user_features`` computes.

    include / exclude take feature names or fnmatch patterns ("channel_*"); include=None keeps all.
    """

    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    custom_event_counts: tuple[str, ...] = ("Coupon Applied",)
    session_gap_minutes: float = 30.0
    min_tenure_weeks: float = 1.0
    order_event: str = "Order Completed"
    coupon_event: str = "Coupon Applied"
    feature_event: str = "Feature Used"
    feature_property: str = "feature"
    support_event: str = "Support Ticket Opened"
    cancel_event: str = "Subscription Cancelled"
    pause_event: str = "Subscription Paused"
    page_sections: tuple[str, ...] | None = None
    max_page_sections: int = 12
    min_page_section_share: float = 0.01


@dataclass(frozen=True)
class FeaturePopulation:
    """What one person's features depend on beyond their own records: the population's.

    A full run (everyone's events) decides these; ``build_user_features`` returns them in
    ``frame.attrs["population"]`` (as ``to_dict()``). Passing them back when scoring a few people
    gives each person the same row a full run would (real-time assignment, incremental rescoring).

    - ``now``: the recency and tenure anchor (the latest event of the full run);
    - ``page_sections``: the site sections that have a ``page_*`` column;
    - ``adoption_basis`` / ``adoption_denominator``: what feature adoption counts ("feature" values
      of the feature event, or distinct "track_event" names) and how many anyone used;
    - ``pain_points``: the pain points that have a ``pain_*`` column.
    """

    now: pd.Timestamp
    page_sections: tuple[str, ...] | None
    adoption_basis: str
    adoption_denominator: int
    pain_points: tuple[str, ...] | None

    def to_dict(self) -> dict:
        return {
            "now": self.now.isoformat(),
            "page_sections": None if self.page_sections is None else list(self.page_sections),
            "adoption_basis": self.adoption_basis,
            "adoption_denominator": self.adoption_denominator,
            "pain_points": None if self.pain_points is None else list(self.pain_points),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeaturePopulation:
        sections, pains = data.get("page_sections"), data.get("pain_points")
        return cls(
            now=pd.Timestamp(data["now"]),
            page_sections=None if sections is None else tuple(sections),
            adoption_basis=str(data["adoption_basis"]),
            adoption_denominator=int(data["adoption_denominator"]),
            pain_points=None if pains is None else tuple(pains),
        )


_PAID_MEDIUM = r"cpc|ppc|paid|cpm|cpv|display|banner|ads?$|affiliate|retargeting"
_EMAIL = r"e-?mail|newsletter|mailchimp|klaviyo|sendgrid|brevo|mailerlite"
_SOCIAL = (
    r"social|facebook|fb\.|instagram|twitter|\bx\.com|t\.co\b|linkedin|lnkd|tiktok|pinterest|"
    r"reddit|youtube|snapchat|threads\.net|mastodon"
)
_MESSAGING = r"whatsapp|wa\.me|telegram|t\.me|messenger|sms|signal|wechat|line\.me|viber"
_REVIEW = r"trustpilot|yelp|g2\.com|\bg2\b|capterra|reviews\.io|tripadvisor|sitejabber|feefo|review"
_SEARCH = r"organic|google\.|bing\.|duckduckgo|yahoo\.|baidu|yandex|ecosia|search|brave\.com"


def classify_channels(
    utm_source: pd.Series, utm_medium: pd.Series, referrer: pd.Series
) -> np.ndarray:
    """Map aligned utm_source / utm_medium / referrer Series to one of ``CHANNEL_GROUPS`` per row.

    A deliberately small rule set (first match wins): a paid medium; then email, social, messaging
    and review sites by medium, source or referrer; then search (organic medium or a search-engine
    referrer); then any other source or referrer is ``referral``; nothing at all is ``direct``.
    Returns an object ndarray of group names, same length as the inputs.
    """

    # Classify each distinct (source, medium, referrer) once, then map back: factorise the three
    # columns, combine their integer codes, and lower-case only the distinct values.
    parts = []
    key = np.zeros(len(utm_source), dtype=np.int64)
    for series in (utm_source, utm_medium, referrer):
        col_codes, vocabulary = pd.Series(series).reset_index(drop=True).factorize()
        vocabulary = np.append(np.asarray(vocabulary, dtype=object), "")  # code -1 -> ""
        col_codes = np.where(col_codes < 0, len(vocabulary) - 1, col_codes)
        key = key * len(vocabulary) + col_codes
        parts.append((col_codes, vocabulary))
    distinct_keys, first_row, row_codes = np.unique(key, return_index=True, return_inverse=True)

    def distinct_values(position: int) -> pd.Series:
        col_codes, vocabulary = parts[position]
        values = vocabulary[col_codes[first_row]]
        return pd.Series(values, dtype=object).fillna("").astype(str).str.lower()

    source_s, medium_s, ref_s = distinct_values(0), distinct_values(1), distinct_values(2)
    combined = medium_s + " " + source_s
    everything = combined + " " + ref_s

    def has(series: pd.Series, pattern: str) -> np.ndarray:
        return series.str.contains(pattern, regex=True).to_numpy(dtype=bool)

    conditions = [
        has(medium_s, _PAID_MEDIUM),
        has(everything, _EMAIL),
        has(everything, _SOCIAL),
        has(everything, _MESSAGING),
        has(everything, _REVIEW),
        has(everything, _SEARCH),
        (combined.str.strip() != "").to_numpy() | (ref_s != "").to_numpy(),
    ]
    choices = ["paid", "email", "social", "messaging", "review_site", "search", "referral"]
    groups = np.select(conditions, choices, default="direct").astype(object)
    return groups[row_codes]


def top_page_sections(views_per_section: pd.Series, *, config: FeatureConfig) -> tuple[str, ...]:
    """The sections that get a ``page_*`` column, from page views per section (index: section).

    At most ``config.max_page_sections``, each with at least ``min_page_section_share`` of all
    views; most viewed first, and sections tied on views by name, so every engine picks the same.
    """
    counts = views_per_section.astype(np.int64)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    share = counts / max(int(counts.sum()), 1)
    share = share[share >= config.min_page_section_share]
    return tuple(map(str, share.index[: config.max_page_sections]))


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame is missing required columns: {', '.join(missing)}")


def _to_ns(series: pd.Series) -> np.ndarray:
    """UTC timestamps (aware or naive) as int64 nanoseconds; NaT becomes the int64 minimum."""
    ts = pd.to_datetime(series, utc=True)
    return ts.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)


def _select(columns: list[str], config: FeatureConfig) -> list[str]:
    def matches(name: str, patterns: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    kept = [c for c in columns if config.include is None or matches(c, config.include)]
    return [c for c in kept if not matches(c, config.exclude)]


def build_user_features(
    events: pd.DataFrame,
    *,
    reviews: pd.DataFrame | None = None,
    conversations: pd.DataFrame | None = None,
    review_classes: pd.DataFrame | None = None,
    config: FeatureConfig | None = None,
    now: pd.Timestamp | None = None,
    population: FeaturePopulation | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    event_col: str = "event",
    type_col: str = "type",
    session_col: str = "session_id",
    revenue_col: str = "revenue",
    utm_source_col: str = "utm_source",
    utm_medium_col: str = "utm_medium",
    referrer_col: str = "referrer",
    page_path_col: str = "page_path",
    properties_col: str = "properties",
    feature_col: str = "feature",
) -> pd.DataFrame:
    """One row of behavioural features per person.

    Input: the contract's event frame (required: ``person_col``, ``timestamp_col``, ``event_col``;
    the others are used when present). Feature adoption reads the used feature from
    ``feature_col`` if that column exists, else from ``properties_col`` dicts; without either it
    falls back to distinct track-event names. Optional ``reviews`` (person_id, rating),
    ``conversations`` (person_id) and ``review_classes`` (review_id, person_id, sentiment_score,
    pain_points list) add review and support features. ``now`` (default: the latest event) anchors
    recency and tenure. Rows without a timestamp are ignored. ``population`` (from an earlier full
    run's ``attrs["population"]``) fixes what depends on everyone, so a few people scored alone get
    the rows a full run gives them; an explicit ``now`` or ``config.page_sections`` still wins.

    Output: DataFrame indexed by person id (people with at least one timestamped event), float64
    columns in a fixed order (see docs/features.md). Undefined values (e.g. sentiment for someone
    without a classified review) are NaN; the persona preprocessor imputes them.
    ``attrs["population"]`` holds the :class:`FeaturePopulation` this run used, as a dict.
    """
    config = config or FeatureConfig()
    _require(events, [person_col, timestamp_col, event_col], "events")

    ts_all = _to_ns(events[timestamp_col])
    valid = (ts_all != np.iinfo(np.int64).min) & events[person_col].notna().to_numpy()
    # Factorise whole columns in their original order (fast for Arrow-backed strings), then
    # reorder the integer codes; taking string columns row by row is what costs time at 10 M rows.
    person_codes, person_uniques = events[person_col].factorize()
    valid &= person_codes >= 0
    codes, uniques = pd.factorize(person_codes[valid])
    uniques = person_uniques.take(uniques)
    ts = ts_all[valid]
    n_people = len(uniques)
    order = np.lexsort((ts, codes))
    codes, ts = codes[order], ts[order]
    rows = np.flatnonzero(valid)[order]

    def column(name: str, at: np.ndarray | None = None) -> pd.Series | None:
        """Column ``name`` in sorted row order, or only at sorted positions ``at``."""
        if name not in events.columns:
            return None
        return events[name].iloc[rows if at is None else rows[at]].reset_index(drop=True)

    def coded(name: str) -> tuple[np.ndarray, pd.Index] | None:
        if name not in events.columns:
            return None
        col_codes, vocabulary = events[name].factorize()
        return col_codes[rows], pd.Index(vocabulary)

    n = len(codes)
    if now is None and population is not None:
        now = population.now
    now_ns = _to_ns(pd.Series([now]))[0] if now is not None else (ts.max() if n else 0)

    # Sessions: the source's session id when present, else a new session after a gap.
    new_person = np.ones(n, dtype=bool)
    new_person[1:] = codes[1:] != codes[:-1]
    gap = np.zeros(n, dtype=np.int64)
    gap[1:] = np.diff(ts)
    boundary = new_person | (gap > config.session_gap_minutes * _NS_PER_MINUTE)
    sid = coded(session_col)
    if sid is not None:
        sid_codes = sid[0]
        has_sid = sid_codes >= 0
        sid_changed = np.zeros(n, dtype=bool)
        sid_changed[1:] = sid_codes[1:] != sid_codes[:-1]
        boundary = np.where(has_sid, new_person | sid_changed, boundary)
    session_of_row = np.cumsum(boundary) - 1
    starts = np.flatnonzero(boundary)
    n_sessions = len(starts)
    ends = np.append(starts[1:], n) - 1
    session_person = codes[starts]
    session_events = np.diff(np.append(starts, n))

    def per_person(values: np.ndarray | None = None, index: np.ndarray = codes) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=n_people).astype(float)

    event_codes, event_vocabulary = coded(event_col)
    event_position = {name: i for i, name in enumerate(event_vocabulary)}

    def is_event(name: str) -> np.ndarray:
        return event_codes == event_position.get(name, -2)

    out: dict[str, np.ndarray] = {}
    first_ts = ts[new_person]
    last_idx = np.append(np.flatnonzero(new_person)[1:], n) - 1
    last_ts = ts[last_idx]
    tenure_weeks = np.maximum((now_ns - first_ts) / (7 * _NS_PER_DAY), config.min_tenure_weeks)

    out["recency_days"] = np.maximum(now_ns - last_ts, 0) / _NS_PER_DAY
    out["events"] = per_person()
    day = ts // _NS_PER_DAY
    new_day = new_person.copy()
    new_day[1:] |= day[1:] != day[:-1]
    out["active_days"] = per_person(index=codes[new_day])

    revenue_values = (
        pd.to_numeric(events[revenue_col], errors="coerce").fillna(0.0).to_numpy(dtype=float)[rows]
        if revenue_col in events.columns
        else np.zeros(n)
    )
    is_order = is_event(config.order_event)
    orders = per_person(is_order.astype(float))
    out["monetary_value"] = per_person(revenue_values)
    out["orders"] = orders
    order_revenue = per_person(np.where(is_order, revenue_values, 0.0))
    out["average_order_value"] = np.divide(
        order_revenue, orders, out=np.zeros(n_people), where=orders > 0
    )
    sessions = per_person(index=session_person)
    out["sessions_per_week"] = sessions / tenure_weeks
    duration_min = (ts[ends] - ts[starts]) / _NS_PER_MINUTE
    median_duration = (
        pd.Series(duration_min).groupby(session_person).median().reindex(range(n_people))
    )
    out["session_minutes_median"] = median_duration.to_numpy(dtype=float)
    out["bounce_rate"] = per_person((session_events == 1).astype(float), session_person) / sessions
    types = coded(type_col)
    if types is not None:
        type_codes, type_vocabulary = types
        is_page = np.isin(type_codes, np.flatnonzero(type_vocabulary.isin(["page", "screen"])))
        is_track = np.isin(type_codes, np.flatnonzero(type_vocabulary == "track"))
    else:
        is_page = np.zeros(n, dtype=bool)
        is_track = event_codes >= 0
    out["pages_per_session"] = per_person(is_page.astype(float)) / sessions
    out["purchase_frequency"] = orders / tenure_weeks
    out["conversion"] = (orders > 0).astype(float)

    # Feature adoption: distinct features used / distinct features anyone used.
    used = is_event(config.feature_event)
    feature_values: pd.Series | None = None
    used_at = np.flatnonzero(used)
    if feature_col in events.columns:
        feature_values = column(feature_col, used_at)
    elif properties_col in events.columns:
        props = column(properties_col, used_at)
        feature_values = props.map(
            lambda p: p.get(config.feature_property) if isinstance(p, dict) else None
        )
    if population is not None:
        adoption_basis = population.adoption_basis
    else:
        has_values = feature_values is not None and feature_values.notna().any()
        adoption_basis = "feature" if has_values else "track_event"
    if adoption_basis == "feature":
        values = None if feature_values is None else feature_values.to_numpy(dtype=object)
        pairs = pd.DataFrame({"p": codes[used], "f": values})  # no values: no pairs after dropna
    else:
        pairs = pd.DataFrame({"p": codes[is_track], "f": event_codes[is_track]})
        pairs = pairs[pairs["f"] >= 0]
    pairs = pairs.dropna().drop_duplicates()
    adoption_denominator = (
        population.adoption_denominator if population is not None else int(pairs["f"].nunique())
    )
    out["feature_adoption"] = per_person(index=pairs["p"].to_numpy(dtype=np.int64)) / max(
        adoption_denominator, 1
    )

    out["feature_use_rate"] = per_person(used.astype(float)) / sessions

    # Content mix: share of a person's page views per site section (first path segment).
    path_coded = coded(page_path_col)
    sections: list[str] | None = None
    if config.page_sections is not None:
        sections = [slugify(s) for s in config.page_sections]
    elif population is not None and population.page_sections is not None:
        sections = list(population.page_sections)
    if path_coded is None and sections is not None:
        # Nobody here has a page path: the fixed sections still get their (zero) columns.
        path_coded = (np.full(n, -1, dtype=np.int64), pd.Index([], dtype=object))
    if path_coded is not None and (is_page.any() or sections is not None):
        # Parse each distinct path once: there are far fewer paths than page views.
        path_codes = path_coded[0][is_page]
        distinct_paths = np.append(path_coded[1].to_numpy(dtype=object), "/")
        path_codes = np.where(path_codes < 0, len(distinct_paths) - 1, path_codes)
        distinct_sections = np.array(
            [slugify(str(p).strip("/").split("/")[0] or "home") for p in distinct_paths],
            dtype=object,
        )
        section_slug = distinct_sections[path_codes]
        if sections is None:
            sections = list(
                top_page_sections(pd.Series(section_slug).value_counts(), config=config)
            )
        page_codes = codes[is_page]
        page_views = per_person(index=page_codes)
        for name in sorted(set(sections)):
            out[f"page_{name}"] = np.divide(
                per_person((section_slug == name).astype(float), page_codes),
                page_views,
                out=np.zeros(n_people),
                where=page_views > 0,
            )

    # Channel mix: the landing event of each session decides its channel.
    def landing(name: str) -> pd.Series:
        col = column(name, starts)
        return col if col is not None else pd.Series([None] * n_sessions, dtype=object)

    channel = classify_channels(
        landing(utm_source_col), landing(utm_medium_col), landing(referrer_col)
    )
    for group in CHANNEL_GROUPS:
        out[f"channel_{group}"] = (
            per_person((channel == group).astype(float), session_person) / sessions
        )

    # Return visits: later sessions that start on a different day than the previous one.
    session_day = ts[starts] // _NS_PER_DAY
    later = np.zeros(n_sessions, dtype=bool)
    later[1:] = session_person[1:] == session_person[:-1]
    came_back = later.copy()
    came_back[1:] &= session_day[1:] != session_day[:-1]
    later_sessions = per_person(later.astype(float), session_person)
    out["return_visit_rate"] = np.divide(
        per_person(came_back.astype(float), session_person),
        later_sessions,
        out=np.zeros(n_people),
        where=later_sessions > 0,
    )

    # Support: events and conversations often describe the same ticket, so take the larger count.
    tickets = per_person(is_event(config.support_event).astype(float))
    if conversations is not None:
        _require(conversations, [person_col], "conversations")
        conv_codes = pd.Index(uniques).get_indexer(conversations[person_col])
        conv_codes = conv_codes[conv_codes >= 0]
        tickets = np.maximum(tickets, per_person(index=conv_codes))
    out["support_ticket_rate"] = tickets / tenure_weeks

    session_has_order = np.bincount(session_of_row, weights=is_order, minlength=n_sessions) > 0
    session_has_coupon = (
        np.bincount(session_of_row, weights=is_event(config.coupon_event), minlength=n_sessions) > 0
    )
    order_sessions = per_person(session_has_order.astype(float), session_person)
    out["coupon_usage_share"] = np.divide(
        per_person((session_has_order & session_has_coupon).astype(float), session_person),
        order_sessions,
        out=np.zeros(n_people),
        where=order_sessions > 0,
    )
    out["cancellations"] = per_person(is_event(config.cancel_event).astype(float))
    out["pauses"] = per_person(is_event(config.pause_event).astype(float))
    for name in config.custom_event_counts:
        out[f"count_{slugify(name)}"] = per_person(is_event(name).astype(float))

    person_index = pd.Index(uniques, name=person_col)
    pain_points: list[str] | None = None
    if reviews is not None:
        _require(reviews, [person_col], "reviews")
        linked = reviews[reviews[person_col].notna()]
        by_person = linked.groupby(person_col)
        out["review_count"] = by_person.size().reindex(person_index).fillna(0.0).to_numpy(float)
        if "rating" in linked.columns:
            ratings = pd.to_numeric(linked["rating"], errors="coerce")
            mean_rating = ratings.groupby(linked[person_col]).mean()
            out["mean_rating"] = mean_rating.reindex(person_index).to_numpy(dtype=float)
    if review_classes is not None:
        _require(review_classes, [person_col, "sentiment_score"], "review_classes")
        linked = review_classes[review_classes[person_col].notna()]
        sentiment = pd.to_numeric(linked["sentiment_score"], errors="coerce")
        out["review_sentiment"] = (
            sentiment.groupby(linked[person_col]).mean().reindex(person_index).to_numpy(float)
        )
        if "pain_points" in linked.columns:
            reviews_per_person = linked.groupby(person_col).size()
            exploded = (
                linked[[person_col, "pain_points"]]
                .assign(
                    pain_points=linked["pain_points"].map(_as_list), review=np.arange(len(linked))
                )
                .explode("pain_points")
                .dropna(subset=["pain_points"])
            )
            # A pain point named twice in one review counts once for that review.
            exploded = exploded.assign(
                pain=exploded["pain_points"].map(_pain_label)
            ).drop_duplicates(subset=["review", "pain"])
            counts = (
                exploded.groupby([person_col, "pain"]).size().unstack(fill_value=0)
                if len(exploded)
                else pd.DataFrame(index=pd.Index([], name=person_col))
            )
            shares = counts.div(reviews_per_person.reindex(counts.index), axis=0)
            if population is not None and population.pain_points is not None:
                pain_points = list(population.pain_points)
                shares = shares.reindex(columns=pain_points)
            else:
                pain_points = sorted(map(str, shares.columns))
            for pain in pain_points:
                col = shares[pain].reindex(person_index)
                # People with classified reviews but none about this pain point have share 0.
                col = col.where(
                    ~reviews_per_person.reindex(person_index).notna() | col.notna(), 0.0
                )
                out[f"pain_{pain}"] = col.to_numpy(dtype=float)

    frame = pd.DataFrame(out, index=person_index).astype(float)
    frame = frame[_select(list(frame.columns), config)]
    frame.attrs["population"] = FeaturePopulation(
        now=pd.Timestamp(int(now_ns), unit="ns", tz="UTC"),
        page_sections=None if sections is None else tuple(sorted(set(sections))),
        adoption_basis=adoption_basis,
        adoption_denominator=adoption_denominator,
        pain_points=None if pain_points is None else tuple(pain_points),
    ).to_dict()
    return frame


def _pain_label(pain: object) -> str:
    """A pain point is a label, or a classifier span {label, phrase, start, end, …}: keep the label."""
    return slugify(pain["label"] if isinstance(pain, dict) else str(pain))


def _as_list(value: object) -> list:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)  # type: ignore[arg-type]
