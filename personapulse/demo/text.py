"""Phrase banks for demo reviews and support conversations.

Texts combine motivations (what people like) with pain points (what hurts), with varied wording,
negation ("isn't", "never") and contrast ("..., but ..."), so NLP downstream has real work to do.
No phrase names an archetype.
"""

from __future__ import annotations

import random

MOTIVATION_PHRASES: dict[str, tuple[str, ...]] = {
    "price": (
        "the weekly price is fair for what you get",
        "the first-box discount is what got me to try it",
        "it works out cheaper than buying the same ingredients myself",
        "the deals page saves me real money",
        "the value per portion is hard to beat",
        "the coupons make it affordable for a student budget",
    ),
    "quality": (
        "the recipes are great",
        "the ingredients are always fresh",
        "the produce arrives crisp and well packed",
        "the meat is better than at my supermarket",
        "every dish we cooked tasted like a restaurant meal",
        "the organic vegetables are excellent",
    ),
    "features": (
        "the meal planner is brilliant",
        "the nutrition tracker is genuinely useful",
        "pantry sync means I never buy things twice",
        "importing my own recipes works really well",
        "sharing the plan with my partner is handy",
        "the macros per recipe are spot on",
    ),
    "convenience": (
        "it saves me an hour every week",
        "I no longer have to think about what to cook",
        "ordering takes two minutes",
        "the delivery slots fit around my work",
        "the app makes weekly planning easy",
        "the step-by-step cards make cooking simple",
    ),
    "brand": (
        "I like that they care about sustainable sourcing",
        "a friend recommended them and now I see why",
        "the packaging is mostly recyclable",
        "it feels like a company that listens",
        "their recipe videos are fun to follow",
    ),
}

PAIN_PHRASES: dict[str, tuple[str, ...]] = {
    "pricing": (
        "it is getting too expensive",
        "prices went up twice since I joined",
        "without a coupon it isn't worth it",
        "the delivery fee makes small boxes pricey",
        "the premium plan costs far too much",
        "it is not cheap anymore",
    ),
    "billing": (
        "I was charged after I paused",
        "the invoice showed a double charge",
        "my refund took three weeks",
        "they billed the wrong card",
        "I never got a receipt for my last order",
    ),
    "onboarding": (
        "signing up was confusing",
        "I could not figure out how to pick my first meals",
        "the setup asked far too many questions",
        "getting started wasn't straightforward",
        "the welcome emails did not explain anything",
    ),
    "usability": (
        "the app is hard to navigate",
        "I can never find the skip-a-week button",
        "the menu is cluttered",
        "changing my delivery day is buried in settings",
        "the app isn't intuitive at all",
    ),
    "performance_bugs": (
        "the app crashes when I open the planner",
        "checkout keeps timing out",
        "the pages load slowly",
        "pantry sync breaks every few days",
        "the app logs me out constantly",
    ),
    "missing_features": (
        "there is no way to export my meal plan",
        "I wish I could set calorie targets",
        "there is no calendar integration",
        "I cannot filter recipes by cooking equipment",
        "the planner doesn't support more than one diet",
    ),
    "support": (
        "support took days to answer",
        "the agent just pasted a template",
        "nobody followed up on my ticket",
        "I was passed between three agents",
        "customer service never resolves anything",
    ),
    "shipping_delivery": (
        "delivery is always late",
        "my box arrived warm",
        "the courier left the box in the rain",
        "items were missing from the box",
        "the delivery window was missed again",
        "the shipment didn't arrive on time",
    ),
    "trust_security": (
        "I got a suspicious email right after signing up",
        "they kept my card on file after I cancelled",
        "the privacy settings are unclear",
        "I am not sure my data is safe with them",
    ),
}

PAIN_TITLES: dict[str, tuple[str, ...]] = {
    "pricing": ("Too pricey", "Not worth the money", "Price hikes"),
    "billing": ("Billing mess", "Charged twice", "Refund problems"),
    "onboarding": ("Confusing start", "Hard to get started"),
    "usability": ("Clunky app", "Hard to use"),
    "performance_bugs": ("Buggy app", "Keeps crashing"),
    "missing_features": ("Missing basics", "Needs more features"),
    "support": ("Terrible support", "No help from support"),
    "shipping_delivery": ("Late deliveries", "Delivery problems", "Box arrived late"),
    "trust_security": ("Privacy concerns", "Not trustworthy"),
}

MOTIVATION_TITLES: dict[str, tuple[str, ...]] = {
    "price": ("Great value", "Good deal"),
    "quality": ("Great recipes", "Fresh and tasty"),
    "features": ("Love the planner", "Smart features"),
    "convenience": ("Saves me time", "So convenient"),
    "brand": ("Feels good to support", "Lovely company"),
}

_CONTRAST_TEMPLATES: tuple[str, ...] = (
    "{m}, but {p}.",
    "{M}. However, {p}.",
    "Although {m}, {p}.",
    "{P}. Still, {m}.",
    "{M}, though {p}.",
    "{M} - shame that {p}.",
)
_POSITIVE_TEMPLATES: tuple[str, ...] = (
    "{M}.",
    "Honestly, {m}.",
    "{M}, and {m2}.",
    "Can't complain: {m}.",
)
_NEGATIVE_TEMPLATES: tuple[str, ...] = (
    "{P}.",
    "{P}, and {p2}.",
    "Not happy: {p}.",
    "{P}. I wouldn't recommend it right now.",
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=list(weights.values()))[0]


def compose_review(
    rng: random.Random,
    motivations: dict[str, float],
    pains: dict[str, float],
    *,
    force_pain: str | None = None,
    pain_probability: float = 0.6,
) -> tuple[str, str, float, list[str]]:
    """Write one review: returns (title, text, rating 1-5, pain themes mentioned)."""
    has_pain = force_pain is not None or rng.random() < pain_probability
    has_motivation = rng.random() < 0.75 or not has_pain
    pain = force_pain or (_pick(rng, pains) if has_pain else None)
    motivation = _pick(rng, motivations) if has_motivation else None
    m = rng.choice(MOTIVATION_PHRASES[motivation]) if motivation else ""
    p = rng.choice(PAIN_PHRASES[pain]) if pain else ""
    mentioned = [pain] if pain else []
    if pain and motivation:
        text = rng.choice(_CONTRAST_TEMPLATES)
    elif pain:
        text = rng.choice(_NEGATIVE_TEMPLATES)
    else:
        text = rng.choice(_POSITIVE_TEMPLATES)
    second_pain = _pick(rng, pains)
    second_motivation = _pick(rng, motivations)
    if "{p2}" in text and second_pain != pain:
        mentioned.append(second_pain)
    text = text.format(
        m=m,
        M=_cap(m),
        p=p,
        P=_cap(p),
        m2=rng.choice(MOTIVATION_PHRASES[second_motivation]),
        p2=rng.choice(PAIN_PHRASES[second_pain]),
    )
    # Sentiment drives the stars, with noise so rating and text disagree now and then.
    score = 4.3 - 1.6 * len(mentioned) + (0.3 if motivation else 0.0) + rng.gauss(0.0, 0.6)
    rating = float(min(5, max(1, round(score))))
    if pain and (motivation is None or rating <= 3):
        title = rng.choice(PAIN_TITLES[pain])
    else:
        title = rng.choice(MOTIVATION_TITLES[motivation or "quality"])
    return title, text, rating, mentioned


TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "pricing": ("Question about my price", "Why did my price change?"),
    "billing": ("Charged twice", "Refund request", "Wrong card charged"),
    "onboarding": ("How do I choose my meals?", "Help getting started", "Can't finish sign up"),
    "usability": ("Can't find skip a week", "How do I change delivery day?"),
    "performance_bugs": ("App keeps crashing", "Checkout error"),
    "missing_features": ("Feature request: export plan", "Calorie targets?"),
    "support": ("Still waiting for an answer", "Escalation: no reply"),
    "shipping_delivery": ("Box arrived late", "Missing items", "Delivery not received"),
    "trust_security": ("Delete my card details", "Suspicious email"),
}

CUSTOMER_MESSAGES: dict[str, tuple[str, ...]] = {
    "pricing": (
        "My weekly price went up and nobody told me.",
        "Is there any discount if I stay on the plan?",
        "The delivery fee is too high for a two-person box.",
    ),
    "billing": (
        "I was charged twice for the same box.",
        "I paused last week but you still took the payment.",
        "Where is my refund? It has been three weeks.",
    ),
    "onboarding": (
        "I'm new to this, how do I pick my first meals?",
        "The sign up form keeps asking for things I don't understand.",
        "I don't know where to start with the recipes.",
    ),
    "usability": (
        "I can't find where to skip next week.",
        "How do I change my delivery day? The settings are confusing.",
        "The app menu is really hard to use.",
    ),
    "performance_bugs": (
        "The app crashes every time I open the planner.",
        "Checkout fails with an error after I enter my card.",
        "Pantry sync stopped working again.",
    ),
    "missing_features": (
        "Can I export my meal plan to my calendar?",
        "Is there a way to set calorie targets per day?",
        "Please add a filter for recipes without an oven.",
    ),
    "support": (
        "I opened a ticket five days ago and nobody answered.",
        "This is the third time I'm explaining the same problem.",
        "I want to speak to someone who can actually fix this.",
    ),
    "shipping_delivery": (
        "My box arrived four hours late and the meat was warm.",
        "Two items were missing from this week's delivery.",
        "The courier left the box outside in the rain.",
    ),
    "trust_security": (
        "Please delete my card details, I don't want them stored.",
        "I got a strange email asking for my password, was that you?",
        "Who can see my address and order history?",
    ),
}

AGENT_MESSAGES: tuple[str, ...] = (
    "Thanks for reaching out, I'm sorry about this.",
    "I've looked into your account and applied a fix.",
    "I have passed this on to the right team.",
    "Could you send me your order number, please?",
    "I've added a credit to your account for the trouble.",
    "Here is a help article that walks you through it.",
)

CHURN_LINES: tuple[str, ...] = (
    "Honestly I'm thinking about cancelling.",
    "If this happens again I'll cancel my subscription.",
    "I'd like to pause my subscription for now.",
)
