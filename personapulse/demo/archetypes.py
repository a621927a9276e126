"""Hidden behavioural archetypes of the Brightcart demo.

Each archetype is a set of *means*; every user draws personal parameters around them (log-normal
multipliers), so segments overlap one column at a time but separate in combination. The archetype
name never reaches the ingested payloads, only the answer file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS: tuple[str, ...] = (
    "paid_search",
    "organic_search",
    "email",
    "paid_social",
    "tiktok",
    "instagram",
    "youtube",
    "facebook",
    "linkedin",
    "x",
    "whatsapp",
    "review_site",
    "referral",
    "direct",
)

FEATURES: tuple[str, ...] = (
    "meal_planner",
    "nutrition_tracker",
    "pantry_sync",
    "family_sharing",
    "recipe_import",
)

PAIN_THEMES: tuple[str, ...] = (
    "pricing",
    "billing",
    "onboarding",
    "usability",
    "performance_bugs",
    "missing_features",
    "support",
    "shipping_delivery",
    "trust_security",
)

MOTIVATIONS: tuple[str, ...] = ("price", "quality", "features", "convenience", "brand")


@dataclass(frozen=True)
class ArchetypeSpec:
    """Behavioural means of one archetype; per-user values are drawn around them."""

    name: str
    share: float
    sessions_per_week: float
    extra_pages: float  # Poisson mean of browsing pages added to a session
    event_gap_seconds: float  # mean pause between two events of a session
    bounce: float  # probability that a session is a single page view
    intents: dict[str, float]  # session intent weights: shop, deals, manage, help, browse
    pricing_dropoff: float
    checkout_dropoff: float
    order_value: float
    coupon: float
    distinct_features: float  # mean size of the user's personal feature set
    feature_weights: dict[str, float]
    ticket_given_help: float
    pause: float  # probability the user pauses the subscription at some point
    cancel: float
    recency_days: float  # mean days between the last activity and `now`
    active_weeks: tuple[float, float]  # range of the active span in weeks (None = until now)
    stops_early: bool  # active early in the window, silent since (churn)
    channels: dict[str, float]
    return_direct: float  # probability a return visit comes direct / by email rather than a channel
    anon_sessions: tuple[int, int]  # browsing sessions before sign-up
    never_identify: float
    review: float
    pains: dict[str, float]
    motivations: dict[str, float]
    plans: dict[str, float]
    browse: dict[str, float] = field(
        default_factory=lambda: {"recipes": 3, "recipe": 4, "search": 2, "blog": 1, "home": 1}
    )
    conversation_sources: dict[str, float] = field(
        default_factory=lambda: {"zendesk": 0.45, "intercom": 0.3, "hubspot": 0.25}
    )


def _spec(**kwargs: object) -> ArchetypeSpec:
    return ArchetypeSpec(**kwargs)  # type: ignore[arg-type]


_SPECS: tuple[ArchetypeSpec, ...] = (
    _spec(
        name="price_sensitive",
        share=0.28,
        sessions_per_week=2.2,
        extra_pages=2.0,
        event_gap_seconds=25.0,
        bounce=0.28,
        intents={"shop": 0.45, "deals": 0.35, "manage": 0.03, "help": 0.02, "browse": 0.15},
        pricing_dropoff=0.25,
        checkout_dropoff=0.35,
        order_value=34.0,
        coupon=0.85,
        distinct_features=0.1,
        feature_weights={"meal_planner": 3, "pantry_sync": 1, "recipe_import": 1},
        ticket_given_help=0.4,
        pause=0.02,
        cancel=0.01,
        recency_days=5.0,
        active_weeks=(4.0, 12.0),
        stops_early=False,
        channels={
            "paid_search": 3,
            "organic_search": 2,
            "email": 3,
            "paid_social": 2,
            "facebook": 2,
            "whatsapp": 1.5,
            "review_site": 1,
            "referral": 1.5,
            "tiktok": 0.5,
            "instagram": 0.5,
            "direct": 1,
        },
        return_direct=0.15,
        anon_sessions=(1, 3),
        never_identify=0.14,
        review=0.18,
        pains={"pricing": 5, "billing": 2, "shipping_delivery": 1, "trust_security": 0.5},
        motivations={"price": 5, "convenience": 1.5, "quality": 1},
        plans={"starter": 0.55, "classic": 0.3, "veggie": 0.15},
        browse={"deals": 4, "pricing": 3, "recipe": 2, "recipes": 1, "home": 1, "search": 1},
    ),
    _spec(
        name="feature_driven",
        share=0.18,
        sessions_per_week=2.2,
        extra_pages=3.5,
        event_gap_seconds=45.0,
        bounce=0.08,
        intents={"shop": 0.3, "deals": 0.02, "manage": 0.45, "help": 0.04, "browse": 0.19},
        pricing_dropoff=0.08,
        checkout_dropoff=0.08,
        order_value=72.0,
        coupon=0.04,
        distinct_features=3.6,
        feature_weights={
            "meal_planner": 3,
            "nutrition_tracker": 3,
            "recipe_import": 3,
            "pantry_sync": 2,
            "family_sharing": 1,
        },
        ticket_given_help=0.5,
        pause=0.02,
        cancel=0.01,
        recency_days=3.0,
        active_weeks=(5.0, 12.0),
        stops_early=False,
        channels={
            "organic_search": 3,
            "youtube": 3,
            "linkedin": 1.5,
            "x": 1.5,
            "review_site": 1.5,
            "email": 1,
            "paid_search": 1,
            "direct": 1.5,
        },
        return_direct=0.35,
        anon_sessions=(0, 3),
        never_identify=0.1,
        review=0.22,
        pains={"missing_features": 5, "performance_bugs": 3, "usability": 1, "pricing": 0.5},
        motivations={"features": 5, "quality": 2, "convenience": 1},
        plans={"classic": 0.45, "veggie": 0.25, "premium": 0.3},
    ),
    _spec(
        name="beginner_explorer",
        share=0.22,
        sessions_per_week=1.6,
        extra_pages=3.5,
        event_gap_seconds=95.0,
        bounce=0.35,
        intents={"shop": 0.25, "deals": 0.03, "manage": 0.15, "help": 0.3, "browse": 0.27},
        pricing_dropoff=0.3,
        checkout_dropoff=0.2,
        order_value=48.0,
        coupon=0.08,
        distinct_features=1.1,
        feature_weights={"meal_planner": 4, "nutrition_tracker": 1, "family_sharing": 1},
        ticket_given_help=0.7,
        pause=0.02,
        cancel=0.01,
        recency_days=9.0,
        active_weeks=(3.0, 10.0),
        stops_early=False,
        channels={
            "tiktok": 3,
            "instagram": 3,
            "youtube": 1.5,
            "facebook": 1,
            "paid_social": 2.5,
            "organic_search": 1.5,
            "referral": 1,
            "direct": 0.5,
        },
        return_direct=0.1,
        anon_sessions=(1, 3),
        never_identify=0.2,
        review=0.16,
        pains={"onboarding": 5, "usability": 4, "support": 1.5, "pricing": 0.5},
        motivations={"convenience": 4, "brand": 2, "quality": 1.5},
        plans={"starter": 0.45, "classic": 0.35, "veggie": 0.2},
        browse={"blog": 4, "help": 3, "recipes": 3, "recipe": 2, "home": 2, "pricing": 1},
    ),
    _spec(
        name="power_user",
        share=0.12,
        sessions_per_week=4.0,
        extra_pages=3.5,
        event_gap_seconds=18.0,
        bounce=0.04,
        intents={"shop": 0.5, "deals": 0.02, "manage": 0.35, "help": 0.02, "browse": 0.11},
        pricing_dropoff=0.02,
        checkout_dropoff=0.04,
        order_value=118.0,
        coupon=0.04,
        distinct_features=4.5,
        feature_weights={
            "meal_planner": 3,
            "pantry_sync": 3,
            "family_sharing": 3,
            "nutrition_tracker": 2,
            "recipe_import": 2,
        },
        ticket_given_help=0.5,
        pause=0.02,
        cancel=0.01,
        recency_days=1.0,
        active_weeks=(6.0, 12.5),
        stops_early=False,
        channels={"direct": 4, "email": 3, "organic_search": 1.5, "referral": 1, "paid_search": 1},
        return_direct=0.7,
        anon_sessions=(0, 1),
        never_identify=0.04,
        review=0.2,
        pains={"shipping_delivery": 2, "performance_bugs": 2, "missing_features": 2},
        motivations={"quality": 3, "convenience": 3, "features": 2},
        plans={"premium": 0.45, "family": 0.4, "classic": 0.15},
    ),
    _spec(
        name="churn_risk",
        share=0.2,
        sessions_per_week=2.2,
        extra_pages=1.2,
        event_gap_seconds=20.0,
        bounce=0.45,
        intents={"shop": 0.3, "deals": 0.03, "manage": 0.2, "help": 0.35, "browse": 0.12},
        pricing_dropoff=0.15,
        checkout_dropoff=0.2,
        order_value=58.0,
        coupon=0.08,
        distinct_features=0.2,
        feature_weights={"meal_planner": 3, "pantry_sync": 1, "family_sharing": 1},
        ticket_given_help=0.85,
        pause=0.85,
        cancel=0.5,
        recency_days=38.0,
        active_weeks=(3.0, 6.0),
        stops_early=True,
        channels={
            "email": 3,
            "direct": 2.5,
            "paid_search": 1.5,
            "facebook": 1,
            "review_site": 1,
            "organic_search": 1,
        },
        return_direct=0.55,
        anon_sessions=(0, 2),
        never_identify=0.05,
        review=0.3,
        pains={"support": 4, "billing": 3, "shipping_delivery": 2.5, "trust_security": 1.5},
        motivations={"brand": 1, "quality": 1, "convenience": 1},
        plans={"classic": 0.5, "family": 0.25, "starter": 0.25},
        conversation_sources={"zendesk": 0.35, "intercom": 0.2, "hubspot": 0.25, "whatsapp": 0.2},
    ),
    _spec(
        name="health_conscious",
        share=0.15,
        sessions_per_week=2.0,
        extra_pages=3.0,
        event_gap_seconds=55.0,
        bounce=0.15,
        intents={"shop": 0.4, "deals": 0.03, "manage": 0.3, "help": 0.03, "browse": 0.24},
        pricing_dropoff=0.1,
        checkout_dropoff=0.1,
        order_value=92.0,
        coupon=0.08,
        distinct_features=1.6,
        feature_weights={"nutrition_tracker": 6, "meal_planner": 2, "pantry_sync": 1},
        ticket_given_help=0.4,
        pause=0.02,
        cancel=0.01,
        recency_days=4.0,
        active_weeks=(4.0, 12.0),
        stops_early=False,
        channels={
            "instagram": 3,
            "youtube": 2.5,
            "organic_search": 2,
            "email": 1.5,
            "paid_social": 1.5,
            "whatsapp": 1,
            "direct": 1,
        },
        return_direct=0.3,
        anon_sessions=(0, 2),
        never_identify=0.1,
        review=0.2,
        pains={"shipping_delivery": 2, "missing_features": 2, "pricing": 1.5},
        motivations={"quality": 5, "features": 1.5, "brand": 2},
        plans={"veggie": 0.45, "premium": 0.35, "classic": 0.2},
        browse={"recipe": 5, "blog": 3, "recipes": 2, "search": 1},
    ),
)

#: All archetype names, in the order `DemoConfig.archetypes` takes them (the first k are planted).
ARCHETYPES: tuple[str, ...] = tuple(spec.name for spec in _SPECS)
ARCHETYPE_SPECS: dict[str, ArchetypeSpec] = {spec.name: spec for spec in _SPECS}

#: The planted pain-point spike: in the last `days` days of the window, this archetype's reviews
#: mention this theme far more often than before (about 0.85 of their reviews versus ~0.2).
PAIN_SPIKE: dict[str, object] = {
    "archetype": "power_user",
    "theme": "shipping_delivery",
    "days": 7,
}


def planted_archetypes(k: int) -> tuple[ArchetypeSpec, ...]:
    """The first ``k`` archetype specs (4 <= k <= 6)."""
    if not 4 <= k <= len(_SPECS):
        raise ValueError(f"archetypes must be between 4 and {len(_SPECS)}, got {k}")
    return _SPECS[:k]
