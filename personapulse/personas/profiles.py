"""Persona profiles a marketer can read: what sets each persona apart, in plain units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from personapulse.features import describe_feature

__all__ = ["build_profiles", "default_label"]

# (word when the persona is high on the feature, word when low); None = not label-worthy.
_TRAIT_WORDS: dict[str, tuple[str | None, str | None]] = {
    "sessions_per_week": ("frequent", "occasional"),
    "active_days": ("regular", "rare"),
    "events": ("active", "quiet"),
    "recency_days": ("lapsed", "recent"),
    "monetary_value": ("high-spend", "low-spend"),
    "orders": ("repeat", None),
    "average_order_value": ("big-basket", "small-basket"),
    "purchase_frequency": ("frequent-order", None),
    "coupon_usage_share": ("coupon", "full-price"),
    "count_coupon_applied": ("coupon", None),
    "feature_adoption": ("power", "light"),
    "support_ticket_rate": ("support-heavy", "self-sufficient"),
    "bounce_rate": ("bouncing", "engaged"),
    "pages_per_session": ("deep-browsing", "quick"),
    "session_minutes_median": ("long-session", "short-session"),
    "return_visit_rate": ("returning", "one-visit"),
    "conversion": (None, None),
    "cancellations": ("cancelling", None),
    "pauses": ("pausing", None),
    "review_sentiment": ("happy", "unhappy"),
    "mean_rating": ("happy", "unhappy"),
}


def _trait_word(feature: str, direction: int) -> str | None:
    if feature in _TRAIT_WORDS:
        return _TRAIT_WORDS[feature][0 if direction > 0 else 1]
    if direction > 0 and feature.startswith("channel_"):
        return feature.removeprefix("channel_").replace("_", "-") + "-led"
    if direction > 0 and feature.startswith("pain_"):
        return feature.removeprefix("pain_").replace("_", "-") + "-frustrated"
    return None


def default_label(traits: Sequence[dict[str, Any]], conversion: float | None) -> str:
    """A short name from the top traits, e.g. "Frequent coupon buyers" (humans may rename it)."""
    words: list[str] = []
    for trait in traits:
        word = _trait_word(trait["feature"], 1 if trait["effect_size"] > 0 else -1)
        if word and word not in words:
            words.append(word)
        if len(words) == 2:
            break
    if conversion is None or not np.isfinite(conversion):
        noun = "users"
    else:
        noun = "buyers" if conversion >= 0.5 else "browsers"
    label = " ".join([*words, noun])
    return label[0].upper() + label[1:]


def _format_value(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    if kind == "share":
        return f"{value:.0%}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _phrase(feature: str, inside: float, overall: float) -> str:
    unit, kind = describe_feature(feature)
    return f"{_format_value(inside, kind)} {unit} against {_format_value(overall, kind)} overall"


def build_profiles(
    features: pd.DataFrame,
    labels: np.ndarray,
    proba: np.ndarray,
    *,
    persona_ids: Sequence[str] | None = None,
    standardised: np.ndarray | None = None,
    top_traits: int = 5,
    min_effect_size: float = 0.2,
    shortlist_size: int = 8,
    low_value_ratio: float = 0.5,
    high_cost_ratio: float = 2.0,
    churn_ratio: float = 2.0,
) -> list[dict[str, Any]]:
    """One profile dict per persona (component order).

    Input: ``features`` (n users × d, plain units, index = person id), ``labels`` (n,) hard persona
    index, ``proba`` (n, k), optional ``persona_ids`` (k,) and ``standardised`` (n, d) features in
    the model space (used for effect sizes and the interview shortlist; z-scores of ``features``
    otherwise).

    Each profile: persona_id, index, label (default name), size, share, traits (top features by
    |effect size| = Cohen's d of persona vs the rest in standardised space, each with the persona's
    and overall value in plain units and a sentence), conversion, revenue (mean per user, total,
    share of all revenue), top_channels, top_pain_points (when pain_* features exist),
    interview_shortlist (person ids nearest the persona centre with their probability), negative
    ({flag, reasons}: low value, high cost, churn).
    """
    labels = np.asarray(labels)
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape
    if len(features) != n or len(labels) != n:
        raise ValueError("features, labels and proba must have the same number of rows")
    values = features.to_numpy(dtype=float)
    if standardised is None:
        filled = np.where(np.isfinite(values), values, np.nanmedian(values, axis=0))
        sd = filled.std(axis=0)
        standardised = (filled - filled.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    standardised = np.asarray(standardised, dtype=float)
    columns = list(features.columns)
    ids = list(persona_ids) if persona_ids is not None else [f"persona_{j}" for j in range(k)]
    person_ids = features.index.to_numpy()

    def column(name: str) -> np.ndarray | None:
        return values[:, columns.index(name)] if name in columns else None

    revenue = column("monetary_value")
    conversion = column("conversion")
    tickets = column("support_ticket_rate")
    cancels = column("cancellations")
    recency = column("recency_days")
    total_revenue = float(np.nansum(revenue)) if revenue is not None else None

    # Per-persona sums and sums of squares in one pass each (a k × n one-hot product) instead of
    # copying every persona's rows: at a million users the copies dominated.
    one_hot = np.zeros((k, n))
    one_hot[labels, np.arange(n)] = 1.0
    group_sum = one_hot @ standardised
    group_sq = one_hot @ standardised**2
    total_sum, total_sq = standardised.sum(axis=0), (standardised**2).sum(axis=0)

    profiles = []
    for j in range(k):
        members = labels == j
        size = int(members.sum())
        profile: dict[str, Any] = {
            "persona_id": ids[j],
            "index": j,
            "size": size,
            "share": size / n if n else 0.0,
        }
        rest = ~members
        traits = []
        if size and rest.any():
            n_rest = n - size
            mean_in = group_sum[j] / size
            mean_out = (total_sum - group_sum[j]) / n_rest
            var_in = np.maximum(group_sq[j] / size - mean_in**2, 0.0)
            var_out = np.maximum((total_sq - group_sq[j]) / n_rest - mean_out**2, 0.0)
            pooled = np.sqrt(((size - 1) * var_in + (rest.sum() - 1) * var_out) / max(n - 2, 1))
            # Floor the pooled SD (standardised units) so a perfectly separating feature ranks
            # first instead of dividing by zero.
            effect = (mean_in - mean_out) / np.maximum(pooled, 0.1)
            for c in np.argsort(-np.abs(effect)):
                if abs(effect[c]) < min_effect_size or len(traits) >= top_traits:
                    break
                name = columns[c]
                _, kind = describe_feature(name)
                inside, overall = values[members, c], values[:, c]
                statistic = "mean" if kind in ("share", "rate", "score") else "median"
                v_in, v_all = (
                    (np.nanmedian(inside), np.nanmedian(overall))
                    if statistic == "median"
                    else (np.nanmean(inside), np.nanmean(overall))
                )
                if statistic == "median" and np.isclose(v_in, v_all):
                    statistic, v_in, v_all = "mean", np.nanmean(inside), np.nanmean(overall)
                traits.append(
                    {
                        "feature": name,
                        "effect_size": float(effect[c]),
                        "direction": "higher" if effect[c] > 0 else "lower",
                        "statistic": statistic,
                        "persona_value": float(v_in),
                        "overall_value": float(v_all),
                        "text": _phrase(name, float(v_in), float(v_all)),
                    }
                )
        profile["traits"] = traits
        conv_in = (
            float(np.nanmean(conversion[members])) if conversion is not None and size else None
        )
        profile["conversion"] = conv_in
        profile["label"] = default_label(traits, conv_in)
        if revenue is not None and size:
            persona_revenue = float(np.nansum(revenue[members]))
            profile["revenue"] = {
                "mean_per_user": persona_revenue / size,
                "total": persona_revenue,
                "share_of_total": persona_revenue / total_revenue if total_revenue else 0.0,
            }
        else:
            profile["revenue"] = None

        profile["top_channels"] = _top_shares(values, columns, members, "channel_")
        profile["top_pain_points"] = _top_shares(values, columns, members, "pain_")

        shortlist = []
        if size:
            member_rows = np.flatnonzero(members)
            centre = standardised[member_rows].mean(axis=0)
            distance = np.linalg.norm(standardised[member_rows] - centre, axis=1)
            for row in member_rows[np.argsort(distance, kind="stable")[:shortlist_size]]:
                shortlist.append(
                    {
                        "person_id": _plain(person_ids[row]),
                        "probability": float(proba[row, j]),
                        "distance": float(np.linalg.norm(standardised[row] - centre)),
                    }
                )
        profile["interview_shortlist"] = shortlist

        reasons = []
        if size and revenue is not None and conversion is not None:
            rev_in, rev_all = np.nanmean(revenue[members]), np.nanmean(revenue)
            conv_all = np.nanmean(conversion)
            if rev_in < low_value_ratio * rev_all and conv_in < low_value_ratio * conv_all:
                reasons.append(
                    f"low value: {_format_value(rev_in, 'money')} revenue per user against "
                    f"{_format_value(rev_all, 'money')} overall, {conv_in:.0%} bought against "
                    f"{conv_all:.0%}"
                )
        if size and tickets is not None and revenue is not None:
            t_in, t_all = np.nanmean(tickets[members]), np.nanmean(tickets)
            if (
                t_all > 0
                and t_in >= high_cost_ratio * t_all
                and np.nanmean(revenue[members]) <= np.nanmean(revenue)
            ):
                reasons.append(
                    f"high cost: {t_in:.2f} support tickets a week against {t_all:.2f} overall "
                    "with below-average revenue"
                )
        if size and cancels is not None:
            c_in, c_all = np.mean(cancels[members] > 0), np.mean(cancels > 0)
            if c_in > 0 and c_in >= churn_ratio * c_all:
                reasons.append(f"churn: {c_in:.0%} cancelled against {c_all:.0%} overall")
            elif recency is not None:
                r_in, r_all = np.nanmedian(recency[members]), np.nanmedian(recency)
                if r_all > 0 and r_in >= churn_ratio * r_all:
                    reasons.append(
                        f"churn: last seen {r_in:.0f} days ago (median) against {r_all:.0f} overall"
                    )
        profile["negative"] = {"flag": bool(reasons), "reasons": reasons}
        profiles.append(profile)

    _dedupe_labels(profiles)
    return profiles


def _top_shares(
    values: np.ndarray, columns: list[str], members: np.ndarray, prefix: str, limit: int = 3
) -> list[dict[str, Any]]:
    names = [c for c in columns if c.startswith(prefix)]
    if not names or not members.any():
        return []
    means = {}
    for c in names:
        column = values[members, columns.index(c)]
        column = column[~np.isnan(column)]
        # A persona none of whose members has the value (e.g. no reviews) ranks nothing for it.
        means[c] = float(column.mean()) if column.size else 0.0
    ranked = sorted((c for c in names if means[c] > 0), key=lambda c: -means[c])
    return [{"name": c.removeprefix(prefix), "share": means[c]} for c in ranked[:limit]]


def _dedupe_labels(profiles: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for profile in profiles:
        label = profile["label"]
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            profile["label"] = f"{label} ({seen[label]})"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
