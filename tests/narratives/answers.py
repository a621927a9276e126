"""LLM-style answers for tests and the grounding benchmark.

``faithful_answer`` words the facts differently from the template narrator (other phrasing, other
rounding, other sentence split) but invents nothing. ``CORRUPTIONS`` turn a faithful answer into
one with a single kind of unsupported claim; each is programmatic and deterministic given ``seed``.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable

from personapulse.narratives import OPPORTUNITIES, FactSheet
from personapulse.narratives.facts import pct
from personapulse.narratives.vocabulary import all_labels, path_steps

SECTIONS = ("profile", "behaviours", "pain_points", "journey", "strategy")


def _s(text: str, *cites: str) -> dict:
    return {"text": text, "cites": list(cites)}


def faithful_answer(sheet: FactSheet) -> dict:
    """A grounded card in the LLM answer shape (``CARD_SCHEMA``)."""
    f = sheet.by_id
    profile = [
        _s(
            f"With {f['size'].values['users']} members out of {f['total_users'].values['users']} "
            f"users, {sheet.name} make up about {pct(f['size'].values['share'])} of the base.",
            "persona",
            "size",
            "total_users",
        )
    ]
    if "conversion" in f and "revenue" in f:
        profile.append(
            _s(
                f"Conversion stands at {pct(f['conversion'].values['conversion'])} and the average "
                f"member brings in {f['revenue'].values['mean_per_user']:,.0f} in revenue.",
                "conversion",
                "revenue",
            )
        )
    if "negative" in f:
        profile.append(
            _s(
                f"Marketing should not chase them ({f['negative'].values['reasons'][0]}).",
                "negative",
            )
        )
    if "trend.share" in f:
        v = f["trend.share"].values
        profile.append(
            _s(
                f"The group is {v['direction']}: {pct(v['previous_share'])} of users last time, "
                f"{pct(v['share'])} now.",
                "trend.share",
            )
        )
    behaviours = [
        _s(f"Compared with everyone else: {fact.statement}", fact.id)
        for fact in sheet.facts
        if fact.kind == "trait"
    ]
    behaviours += [
        _s(
            f"{pct(fact.values['share'])} of their sessions start on {fact.values['channel']}.",
            fact.id,
        )
        for fact in sheet.facts
        if fact.kind == "channel"
    ]
    pain_points = []
    for fact in sheet.facts:
        v = fact.values
        if fact.kind == "pain_point":
            text = f"{pct(v['share'])} of their reviewers and contacts complain about {v['label']}"
            if v["examples"]:
                text += f" (“{v['examples'][-1]}”)"
            pain_points.append(_s(text + ".", fact.id))
        elif fact.kind == "motivation":
            pain_points.append(
                _s(f"They value {v['label']}: {v['persons']} people said so.", fact.id)
            )
    journey = []
    for fact in sheet.facts:
        v = fact.values
        if fact.kind == "path" and fact.id == "path.1":
            steps = path_steps(v["path"])
            text = (
                f"A typical journey begins at {steps[0]} and continues to {steps[1]}."
                if len(steps) > 1
                else f"A typical journey is a single visit to {steps[0]}."
            )
            journey.append(_s(text, fact.id))
        elif fact.kind == "dropoff":
            journey.append(
                _s(
                    f"Of those who never bought, {pct(v['share'])} left last at {v['last_step']}.",
                    fact.id,
                )
            )
    strategy = [
        {
            "pain_point": fact.values["label"],
            "text": f"Turn {fact.values['label']} into an opportunity: "
            f"{OPPORTUNITIES.get(fact.values['label'], 'interview these customers first')}.",
            "cites": [fact.id],
        }
        for fact in sheet.facts
        if fact.kind == "pain_point"
    ]
    return {
        "name": sheet.name,
        "profile": profile,
        "behaviours": behaviours,
        "pain_points": pain_points,
        "journey": journey,
        "strategy": strategy,
    }


_NUM = re.compile(r"(?<![\w.,/])(\d+(?:,\d{3})*(?:\.\d+)?)(\s*%)?")


def _sentences(answer: dict, rng: random.Random, *, where: Callable[[str, dict], bool]):
    found = [
        (section, i, item)
        for section in SECTIONS
        for i, item in enumerate(answer[section])
        if where(section, item)
    ]
    if not found:
        raise LookupError("no sentence to corrupt")
    return rng.choice(found)


def _strip_quotes(text: str) -> str:
    return re.sub(r"“[^”]*”|\"[^\"]*\"", "", text)


def invented_number(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(
        out,
        rng,
        where=lambda s, it: any(not m.group(2) for m in _NUM.finditer(_strip_quotes(it["text"]))),
    )
    matches = [m for m in _NUM.finditer(item["text"]) if not m.group(2)]
    m = rng.choice(matches)
    value = float(m.group(1).replace(",", ""))
    new = f"{value * 3 + 17:,.0f}"
    item["text"] = item["text"][: m.start(1)] + new + item["text"][m.end(1) :]
    return out


def wrong_percentage(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: "%" in _strip_quotes(it["text"]))
    matches = [m for m in _NUM.finditer(item["text"]) if m.group(2)]
    m = rng.choice(matches)
    value = float(m.group(1).replace(",", ""))
    shifted = value + rng.choice([-1, 1]) * rng.randint(6, 15)
    new = f"{abs(shifted):.0f}"
    item["text"] = item["text"][: m.start(1)] + new + item["text"][m.end(1) :]
    return out


def invented_channel(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    known = {t for fact in sheet.facts for t in fact.terms}
    choices = [
        c
        for c in ("TikTok", "WhatsApp", "LinkedIn", "YouTube", "review sites")
        if c.lower().replace(" ", "_") not in known and c.lower() not in known
    ]
    section, _, item = _sentences(
        out, rng, where=lambda s, it: s in ("behaviours", "journey", "profile")
    )
    item["text"] = item["text"].rstrip(".") + f", mostly arriving from {rng.choice(choices)}."
    return out


def invented_page(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: s in ("journey", "behaviours"))
    page = rng.choice(["/gift-cards", "/loyalty", "/compare", "/referral-program"])
    item["text"] = item["text"].rstrip(".") + f" after opening {page}."
    return out


def missing_citation(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: True)
    item["cites"] = []
    return out


def unknown_fact_id(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: True)
    item["cites"] = [rng.choice(["trait.lifetime_value", "survey.nps", "path.9", "pain.delivery"])]
    return out


def wrong_citation(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    """A real fact id, but not the one the sentence restates."""
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: s == "behaviours" and "%" in it["text"])
    item["cites"] = ["gate"]
    return out


def unknown_persona(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    out["name"] = rng.choice(
        ["Luxury gourmet families", "Weekend party planners", "Budget students", "Fitness fans"]
    )
    return out


def invented_pain_point(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    present = {f.values["label"] for f in sheet.facts if f.kind in ("pain_point", "motivation")}
    absent = [label for label in all_labels() if label not in present and "_" in label] or [
        label for label in all_labels() if label not in present
    ]
    label = rng.choice(absent)
    cites = out["strategy"][0]["cites"] if out["strategy"] else ["size"]
    out["strategy"].append(
        {
            "pain_point": label,
            "text": f"Many of them also raise {label}: {OPPORTUNITIES.get(label, 'fix it')}.",
            "cites": list(cites),
        }
    )
    return out


def invented_quote(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: s == "pain_points")
    item["text"] = item["text"].rstrip(".") + ', one customer wrote "worst box I ever ordered".'
    return out


def borrowed_number(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    """A real figure of the persona, but from a fact the sentence does not cite (a mix-up)."""
    out = copy.deepcopy(answer)
    _, _, item = _sentences(out, rng, where=lambda s, it: "%" in _strip_quotes(it["text"]))
    cited = set(item["cites"])
    own = {
        round(v * 100) for f in sheet.facts if f.id in cited for v, u in f.numbers() if u == "share"
    }
    borrowed = sorted(
        {
            round(v * 100)
            for f in sheet.facts
            if f.id not in cited
            for v, u in f.numbers()
            if u == "share" and 0 < v < 1
        }
        - own
    )
    if not borrowed:
        raise LookupError("no figure to borrow")
    m = rng.choice([m for m in _NUM.finditer(item["text"]) if m.group(2)])
    item["text"] = item["text"][: m.start(1)] + str(rng.choice(borrowed)) + item["text"][m.end(1) :]
    return out


def invented_qualitative_claim(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    """Known blind spot: a claim with no number, name or label in it."""
    out = copy.deepcopy(answer)
    out["profile"][0]["text"] += " " + rng.choice(
        [
            "Most of them are parents with young children.",
            "They tend to live in big cities.",
            "They are loyal fans of the brand's newsletter tone.",
        ]
    )
    return out


def spelled_out_number(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    """A figure written in words (the checker refuses spelled-out figures)."""
    out = copy.deepcopy(answer)
    out["profile"][0]["text"] = out["profile"][0]["text"].rstrip(".") + (
        f", and {rng.choice(['three hundred', 'nine thousand', 'forty'])} of them order twice a week."
    )
    return out


def swapped_values(answer: dict, sheet: FactSheet, rng: random.Random) -> dict:
    """Known blind spot: both figures belong to the cited fact, only their roles are swapped."""
    out = copy.deepcopy(answer)
    _, _, item = _sentences(
        out, rng, where=lambda s, it: s == "behaviours" and " against " in it["text"]
    )
    text = item["text"]
    numbers = list(_NUM.finditer(text))
    first, second = numbers[0], numbers[1]
    item["text"] = (
        text[: first.start()]
        + second.group(0)
        + text[first.end() : second.start()]
        + first.group(0)
        + text[second.end() :]
    )
    return out


CORRUPTIONS: dict[str, Callable[[dict, FactSheet, random.Random], dict]] = {
    "invented_number": invented_number,
    "wrong_percentage": wrong_percentage,
    "invented_channel": invented_channel,
    "invented_page": invented_page,
    "invented_pain_point": invented_pain_point,
    "invented_quote": invented_quote,
    "missing_citation": missing_citation,
    "unknown_fact_id": unknown_fact_id,
    "wrong_citation": wrong_citation,
    "borrowed_number": borrowed_number,
    "spelled_out_number": spelled_out_number,
    "unknown_persona": unknown_persona,
}
# Corruptions the checker is known not to catch, measured separately in the benchmark.
BLIND_SPOTS: dict[str, Callable[[dict, FactSheet, random.Random], dict]] = {
    "swapped_values": swapped_values,
    "invented_qualitative_claim": invented_qualitative_claim,
}
