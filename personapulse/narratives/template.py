"""Deterministic, offline narrator: every sentence is a fact restated with its id."""

from __future__ import annotations

from typing import Protocol

from personapulse.narratives.cards import PersonaCard, Sentence
from personapulse.narratives.facts import Fact, FactSheet, pct
from personapulse.narratives.vocabulary import path_steps

JOURNEY_STEPS_SHOWN = 6

# Pain-point label -> marketing opportunity. Worded without channel names, page paths, numbers
# or other labels, so the sentence stays grounded in the pain-point fact it cites.
OPPORTUNITIES: dict[str, str] = {
    "pricing": "show the cost per portion and what each plan includes before checkout, and "
    "test an entry offer for cost-conscious visitors",
    "billing": "send clear charge notices ahead of each renewal and make refunds visible in "
    "the account",
    "onboarding": "shorten sign-up and guide the first order step by step",
    "usability": "fix the hardest screens first and run short usability sessions with these "
    "customers",
    "performance_bugs": "prioritise stability fixes and tell affected customers when they ship",
    "missing_features": "publish what is planned and invite these customers to try what is "
    "new first",
    "support": "add self-service answers and promise a response time for contacts",
    "shipping_delivery": "send proactive delivery updates and offer a credit when a box is "
    "late or incomplete",
    "trust_security": "explain how payment data is protected and show trust badges at checkout",
    "quality": "state a freshness guarantee and replace damaged items without questions",
    "account_access": "make log-in recovery one step and send a magic-link option",
    "cancellation": "offer pause and skip before cancel, and make the exit flow honest and short",
}
DEFAULT_OPPORTUNITY = "interview a few of these customers about it before changing anything"


class Narrator(Protocol):
    """Anything that turns a fact sheet into a card."""

    def narrate(self, sheet: FactSheet) -> PersonaCard: ...


def _say(text: str, *cites: str, pain_point: str | None = None) -> Sentence:
    return Sentence(text=text, cites=tuple(cites), pain_point=pain_point)


def _profile(sheet: FactSheet) -> list[Sentence]:
    facts = sheet.by_id
    out: list[Sentence] = []
    size, total = facts.get("size"), facts.get("total_users")
    if size is not None and total is not None:
        out.append(
            _say(
                f"{sheet.name} are {size.values['users']} users, "
                f"{pct(size.values['share'] or 0.0, 1)} of all {total.values['users']} users.",
                "persona",
                "size",
                "total_users",
            )
        )
    conversion, revenue = facts.get("conversion"), facts.get("revenue")
    if conversion is not None and revenue is not None:
        out.append(
            _say(
                f"{pct(conversion.values['conversion'])} of them bought at least once, "
                f"bringing {revenue.values['mean_per_user']:,.2f} in revenue per user and "
                f"{pct(revenue.values['share_of_total'])} of all revenue.",
                "conversion",
                "revenue",
            )
        )
    if (negative := facts.get("negative")) is not None:
        out.append(
            _say(
                "They are flagged as a persona not to target: "
                + "; ".join(negative.values["reasons"])
                + ".",
                "negative",
            )
        )
    if (trend := facts.get("trend.share")) is not None:
        v = trend.values
        out.append(
            _say(
                f"Their share went from {pct(v['previous_share'], 1)} to {pct(v['share'], 1)} "
                f"since the previous version ({v['change_pp']:+.1f} percentage points).",
                "trend.share",
            )
        )
    if (gate := facts.get("gate")) is not None and not gate.values["reliable"]:
        out.append(
            _say(
                "Treat this persona as provisional: the persona set failed the reliability "
                "gate (" + "; ".join(gate.values["reasons"]) + ").",
                "gate",
            )
        )
    return out


def _behaviours(sheet: FactSheet) -> list[Sentence]:
    out = [_say(fact.statement, fact.id) for fact in sheet.facts if fact.kind == "trait"]
    channels = [fact for fact in sheet.facts if fact.kind == "channel"]
    if channels:
        parts = [f"{f.values['channel']} ({pct(f.values['share'])})" for f in channels]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        out.append(_say(f"Their sessions come mostly from {listed}.", *(f.id for f in channels)))
    return out


def _pain_sentence(fact: Fact) -> Sentence:
    v = fact.values
    noun = "Pain point" if fact.kind == "pain_point" else "Motivation"
    text = (
        f"{noun} {v['label']}: raised by {v['persons']} people "
        f"({pct(v['share'])} of the persona's reviewers and contacts)"
    )
    if v["examples"]:
        text += f', e.g. "{v["examples"][0]}"'
    text += "."
    if fact.kind == "pain_point" and v.get("count_7d", 0) > v.get("count_prev_7d", 0):
        text += (
            f" Mentions rose to {v['count_7d']} in the last 7 days from {v['count_prev_7d']} "
            "in the 7 days before."
        )
    return _say(text, fact.id)


def _journey(sheet: FactSheet) -> list[Sentence]:
    out = []
    for fact in sheet.facts:
        if fact.kind == "path":
            v = fact.values
            steps = path_steps(v["path"])
            shown = " → ".join(steps[:JOURNEY_STEPS_SHOWN])
            if len(steps) > JOURNEY_STEPS_SHOWN:
                shown += " → …"
            rank = fact.id.split(".", 1)[1]
            if v["users"] <= 1:
                # Whole journeys rarely repeat exactly; a one-person "top path" is an example.
                lead = "An example journey" if rank == "1" else "Another example"
            else:
                lead = "The most common journey" if rank == "1" else "Another frequent journey"
            out.append(
                _say(
                    f"{lead} ({v['users']} {'user' if v['users'] == 1 else 'users'}, {pct(v['share'], 1)} of the persona) "
                    f"goes {shown}",
                    fact.id,
                )
            )
        elif fact.kind == "dropoff":
            v = fact.values
            text = (
                f"{v['count']} people who never bought ({pct(v['share'])} of the persona's "
                f"drop-offs) stopped last at {v['last_step']}"
            )
            if v["pain_points"]:
                text += "; they raised " + ", ".join(v["pain_points"])
            out.append(_say(text + ".", fact.id))
        elif fact.kind == "transition":
            v = fact.values
            out.append(
                _say(
                    f"A frequent move: {v['users']} people went from {v['source']} to "
                    f"{v['target']}.",
                    fact.id,
                )
            )
    return out


def _strategy(sheet: FactSheet) -> list[Sentence]:
    out = []
    for fact in sheet.facts:
        if fact.kind != "pain_point":
            continue
        label = fact.values["label"]
        opportunity = OPPORTUNITIES.get(label, DEFAULT_OPPORTUNITY)
        out.append(
            _say(
                f"{pct(fact.values['share'])} raise {label}: {opportunity}.",
                fact.id,
                pain_point=label,
            )
        )
    if "negative" in sheet.by_id:
        out.append(
            _say(
                "Leave this persona out of acquisition audiences and lookalike seeds; "
                "spend on retention only where the reasons above can be fixed.",
                "negative",
            )
        )
    return out


class TemplateNarrator:
    """Deterministic narrator (the default): restates facts, no network, no randomness."""

    backend = "template"

    def narrate(self, sheet: FactSheet) -> PersonaCard:
        return PersonaCard(
            persona_id=sheet.persona_id,
            name=sheet.name,
            profile=tuple(_profile(sheet)),
            behaviours=tuple(_behaviours(sheet)),
            pain_points=tuple(
                _pain_sentence(f) for f in sheet.facts if f.kind in ("pain_point", "motivation")
            ),
            journey=tuple(_journey(sheet)),
            strategy=tuple(_strategy(sheet)),
            backend=self.backend,
            fact_sheet_hash=sheet.hash,
        )
