"""Rule-based marketing recommendations, each tied to the facts that triggered it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from personapulse.narratives.facts import Fact, FactSheet, pct
from personapulse.narratives.template import OPPORTUNITIES

PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# Steps between the pricing page and a finished order: a drop-off here with pricing pain points
# says the price, not the product, stopped people.
PRICING_STEPS = ("/pricing", "/plans", "/cart", "/checkout", "Cart Viewed", "Checkout Started")
PRICE_SENSITIVE_TRAITS = ("coupon_usage_share", "count_coupon_applied", "page_deals")
MIN_PAIN_SHARE = 0.15  # a pain point raised by fewer of the persona's voices is not acted on
SPIKE_RATIO = 2.0
SPIKE_MIN_COUNT = 3
GROWTH_PP = 1.0  # percentage points of share between versions that count as growth / decline


@dataclass(frozen=True)
class Recommendation:
    """One action: ``id`` is stable across runs for the same rule, persona and evidence."""

    id: str
    rule: str
    persona_id: str
    persona_name: str
    priority: str
    title: str
    action: str
    evidence: tuple[str, ...]
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "persona_id": self.persona_id,
            "persona_name": self.persona_name,
            "priority": self.priority,
            "title": self.title,
            "action": self.action,
            "evidence": list(self.evidence),
            "rationale": self.rationale,
        }


def recommendation_id(rule: str, persona_id: str, evidence: tuple[str, ...]) -> str:
    digest = hashlib.sha256("|".join((rule, persona_id, *sorted(evidence))).encode()).hexdigest()
    return "rec_" + digest[:12]


def _make(
    sheet: FactSheet,
    rule: str,
    priority: str,
    title: str,
    action: str,
    evidence: list[str],
    rationale: str,
) -> Recommendation:
    ids = tuple(dict.fromkeys(evidence))
    return Recommendation(
        id=recommendation_id(rule, sheet.persona_id, ids),
        rule=rule,
        persona_id=sheet.persona_id,
        persona_name=sheet.name,
        priority=priority,
        title=title,
        action=action,
        evidence=ids,
        rationale=rationale,
    )


def _is_pricing_step(step: str) -> bool:
    return any(step == s or step.startswith(s + "/") for s in PRICING_STEPS)


def _spike(fact: Fact) -> tuple[int, int, int] | None:
    """(days, count in the window, count in the window before) of the first window that spiked."""
    v = fact.values
    for days in (7, 30):
        now, before = v.get(f"count_{days}d"), v.get(f"count_prev_{days}d")
        if now is None or before is None or now < SPIKE_MIN_COUNT:
            continue
        if now >= SPIKE_RATIO * max(before, 1):
            return days, now, before
    return None


def _rules(sheet: FactSheet) -> list[Recommendation]:
    facts = sheet.by_id
    out: list[Recommendation] = []
    pains = [f for f in sheet.facts if f.kind == "pain_point"]
    trend = facts.get("trend.share")
    change = trend.values["change_pp"] if trend is not None else 0.0

    pricing = facts.get("pain.pricing")
    pricing_drops = [
        f for f in sheet.facts if f.kind == "dropoff" and _is_pricing_step(f.values["last_step"])
    ]
    if pricing is not None and pricing_drops:
        steps = ", ".join(f.values["last_step"] for f in pricing_drops)
        out.append(
            _make(
                sheet,
                "pricing_page_clarity",
                "high",
                "Clarify the pricing page",
                "Show the cost per portion, what each plan includes and the delivery fee on the "
                "pricing and plan pages; A/B test the clearer version against the current one.",
                ["pain.pricing", *(f.id for f in pricing_drops)],
                f"{pct(pricing.values['share'])} raise pricing and non-buyers stop at {steps}.",
            )
        )

    price_evidence = [
        fid
        for fid in (
            "pain.pricing",
            "motivation.price",
            *(f"trait.{t}" for t in PRICE_SENSITIVE_TRAITS),
        )
        if fid in facts
        and (not fid.startswith("trait.") or facts[fid].values.get("direction") == "higher")
    ]
    if trend is not None and change >= GROWTH_PP and price_evidence:
        out.append(
            _make(
                sheet,
                "discount_campaign_test",
                "high",
                "Test a discount campaign for a growing price-sensitive persona",
                "Run a time-boxed discount or bundle offer to this persona with a hold-out group, "
                "and measure incremental orders, not redemptions.",
                ["trend.share", *price_evidence],
                f"Share grew by {change:.1f} percentage points and the persona responds to price.",
            )
        )

    shipping = facts.get("pain.shipping_delivery")
    spike = _spike(shipping) if shipping is not None else None
    if spike is not None:
        days, now, before = spike
        out.append(
            _make(
                sheet,
                "proactive_delivery_updates",
                "high",
                "Send proactive delivery updates",
                "Notify customers of delivery windows and delays before they ask, and credit "
                "late or incomplete boxes automatically.",
                ["pain.shipping_delivery"],
                f"Delivery complaints spiked: {now} in the last {days} days against {before} "
                f"in the {days} days before.",
            )
        )

    if "negative" in facts:
        paid = "channel.paid" in facts or "channel.paid_ads" in facts
        evidence = ["negative", *(c for c in ("channel.paid", "channel.paid_ads") if c in facts)]
        out.append(
            _make(
                sheet,
                "exclude_from_paid_audiences",
                "high" if paid else "medium",
                "Exclude from paid audiences",
                "Add this persona as an exclusion audience in ad platforms and keep it out of "
                "lookalike seeds.",
                evidence,
                "; ".join(facts["negative"].values["reasons"]),
            )
        )

    if trend is not None and change <= -GROWTH_PP and "negative" not in facts:
        out.append(
            _make(
                sheet,
                "win_back_declining_persona",
                "medium",
                "Win back a shrinking persona",
                "Find out with a short survey or interviews why this persona is shrinking, and "
                "run a win-back sequence for its lapsed members.",
                ["trend.share"],
                f"Share fell by {-change:.1f} percentage points since the previous version.",
            )
        )

    for fact in pains:
        label = fact.values["label"]
        if label == "pricing" and pricing_drops:
            continue  # already covered by the pricing-page rule
        if label == "shipping_delivery" and spike is not None:
            continue
        if fact.values["share"] < MIN_PAIN_SHARE or label not in OPPORTUNITIES:
            continue
        drops = [
            f.id
            for f in sheet.facts
            if f.kind == "dropoff" and label in f.values.get("pain_points", [])
        ]
        out.append(
            _make(
                sheet,
                f"pain_point.{label}",
                "medium" if fact.values["share"] >= 0.25 or drops else "low",
                f"Address {label.replace('_', ' ')}",
                OPPORTUNITIES[label][0].upper() + OPPORTUNITIES[label][1:] + ".",
                [fact.id, *drops],
                f"{pct(fact.values['share'])} of the persona's reviewers and contacts raise it.",
            )
        )
    return out


def recommend(sheets: list[FactSheet]) -> list[Recommendation]:
    """Recommendations for every persona, most urgent first.

    Input: the fact sheets of one persona version. Output: recommendations sorted by priority,
    then persona share, then rule; ``evidence`` lists the fact ids (of that persona's sheet)
    that triggered each one.
    """
    found: list[tuple[int, float, str, Recommendation]] = []
    for sheet in sheets:
        size = sheet.get("size")
        share = float(size.values.get("share") or 0.0) if size is not None else 0.0
        for rec in _rules(sheet):
            found.append((PRIORITY_ORDER[rec.priority], -share, rec.rule, rec))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found]
