"""A deliberately simple per-user aggregation, to check the planted archetypes are recoverable."""

from __future__ import annotations

import numpy as np
import pandas as pd

SESSION_GAP = pd.Timedelta(minutes=30)
#: Columns used for clustering: rates and shares (smoothed), not raw counts, so that users with
#: few sessions do not pile up on exact zeros that a Gaussian mixture would model as extra clusters.
FEATURE_COLUMNS = (
    "sessions_per_week",
    "session_minutes",
    "pages_per_session",
    "bounce_rate",
    "recency_days",
    "orders_per_week",
    "order_value",
    "coupon_rate",
    "deals_per_session",
    "paid_share",
    "direct_email_share",
    "feature_uses_per_week",
    "tickets_per_week",
    "pauses_cancels_per_week",
)


def user_features(events: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """events frame (with a ``properties`` column) -> one row per person_id: FEATURE_COLUMNS plus
    ``distinct_features`` and ``n_sessions`` (raw, not scaled). Sessions split at 30 minutes."""
    ev = events.sort_values(["person_id", "timestamp"], kind="stable").reset_index(drop=True)
    new_session = ev["person_id"].ne(ev["person_id"].shift()) | ev["timestamp"].diff().gt(
        SESSION_GAP
    )
    ev["session"] = new_session.cumsum()
    is_page = ev["type"].eq("page")
    ev["is_page"] = is_page.astype(int)
    first = ev.groupby("session").head(1)
    sessions = ev.groupby("session").agg(
        person_id=("person_id", "first"),
        start=("timestamp", "min"),
        end=("timestamp", "max"),
        pages=("is_page", "sum"),
        n=("type", "size"),
    )
    sessions["minutes"] = (sessions["end"] - sessions["start"]).dt.total_seconds() / 60
    sessions["bounce"] = sessions["n"].eq(1)
    # length and depth of engaged (non-bounce) visits, so they do not just echo the bounce rate
    engaged = sessions[~sessions["bounce"]].groupby("person_id")[["minutes", "pages"]].mean()
    medium = first.set_index("session")["utm_medium"]
    referrer = first.set_index("session")["referrer"]
    sessions["paid"] = medium.isin(["cpc", "paid_social"])
    sessions["direct_email"] = (medium.isna() & referrer.isna()) | medium.eq("email")
    per = sessions.groupby("person_id").agg(
        n_sessions=("n", "size"),
        first=("start", "min"),
        last=("end", "max"),
        bounces=("bounce", "sum"),
        paid=("paid", "sum"),
        direct_email=("direct_email", "sum"),
    )
    # smoothed shares (+0.5 / +1), so users with few sessions do not pile up on exact 0 or 1
    smoothed_sessions = per["n_sessions"] + 1
    per["bounce_rate"] = (per["bounces"] + 0.5) / smoothed_sessions
    per["paid_share"] = (per["paid"] + 0.5) / smoothed_sessions
    per["direct_email_share"] = (per["direct_email"] + 0.5) / smoothed_sessions
    engaged = engaged.reindex(per.index)
    per["session_minutes"] = engaged["minutes"].fillna(0.0)
    per["pages_per_session"] = engaged["pages"].fillna(1.0)
    weeks = ((per["last"] - per["first"]).dt.total_seconds() / 86400 / 7).clip(lower=1.0)
    per["sessions_per_week"] = per["n_sessions"] / weeks
    per["recency_days"] = (now - per["last"]).dt.total_seconds() / 86400
    track = ev[ev["type"].eq("track")]
    counts = pd.crosstab(track["person_id"], track["event"])
    counts = counts.reindex(per.index, fill_value=0)

    def count(name: str) -> pd.Series:
        return counts[name] if name in counts else pd.Series(0, index=per.index)

    per["orders_per_week"] = count("Order Completed") / weeks
    orders = ev[ev["event"].eq("Order Completed")]
    per["order_value"] = orders.groupby("person_id")["revenue"].mean().reindex(per.index)
    per["order_value"] = per["order_value"].fillna(0.0)
    per["coupon_rate"] = (count("Coupon Applied") + 0.5) / (count("Checkout Started") + 1)
    deals = ev[is_page & ev["page_path"].eq("/deals")].groupby("person_id").size()
    per["deals_per_session"] = (deals.reindex(per.index, fill_value=0) + 0.5) / smoothed_sessions
    features_used = ev[ev["event"].eq("Feature Used")]
    names = features_used["properties"].map(lambda p: p.get("feature"))
    distinct = names.groupby(features_used["person_id"]).nunique()
    per["distinct_features"] = distinct.reindex(per.index, fill_value=0)
    per["feature_uses_per_week"] = count("Feature Used") / weeks
    per["tickets_per_week"] = count("Support Ticket Opened") / weeks
    per["pauses_cancels_per_week"] = (
        count("Subscription Paused") + count("Subscription Cancelled")
    ) / weeks
    return per


def standardised(features: pd.DataFrame) -> np.ndarray:
    """log1p, then zero mean and unit variance per column of FEATURE_COLUMNS."""
    values = np.log1p(features[list(FEATURE_COLUMNS)].to_numpy(dtype=float))
    return (values - values.mean(axis=0)) / (values.std(axis=0) + 1e-9)
