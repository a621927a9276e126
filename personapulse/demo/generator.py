"""Streaming simulator of Brightcart users: Segment events, reviews, conversations, profiles.

Every user is simulated from its own ``random.Random`` seeded by ``(seed, index)``, so output is
deterministic, the first N users do not depend on how many follow, and memory stays constant.

Identity model (what the store must stitch):

* every simulated visitor starts anonymous (``anonymousId`` only) and browses for 0-3 sessions;
* most then sign up: a ``Signed Up`` track plus an ``identify`` carrying ``userId`` and
  ``anonymousId``; later events carry both, so the anonymous history stitches to the user;
* about 6 % of identified users also use a second device anonymously for one session, merged by
  an ``alias`` (``previousId`` = that device's anonymousId);
* some visitors never identify. They stay in the data as ``anon:<anonymousId>`` but get NO row in
  the answer file: with 1-3 short browsing sessions their archetype is not recoverable and a
  persona engine should not be scored on them (their bundle still carries the archetype that drove
  the simulation, with ``identified=False``).
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from personapulse.demo.archetypes import (
    CHANNELS,
    FEATURES,
    PAIN_SPIKE,
    ArchetypeSpec,
    planted_archetypes,
)
from personapulse.demo.text import (
    AGENT_MESSAGES,
    CHURN_LINES,
    CUSTOMER_MESSAGES,
    TICKET_SUBJECTS,
    compose_review,
)

SITE = "https://www.brightcart.example"
CURRENCY = "USD"
PLAN_PRICES: dict[str, float] = {
    "starter": 39.0,
    "classic": 59.0,
    "veggie": 55.0,
    "family": 89.0,
    "premium": 119.0,
}
PLAN_NAMES: dict[str, str] = {
    "starter": "Starter Box",
    "classic": "Classic Box",
    "veggie": "Veggie Box",
    "family": "Family Box",
    "premium": "Premium Box",
}
BLOG_SLUGS: tuple[str, ...] = (
    "how-to-meal-prep",
    "10-minute-dinners",
    "budget-weeknight-meals",
    "high-protein-week",
    "pantry-basics",
    "seasonal-vegetables",
    "knife-skills-101",
)
REVIEW_SOURCES: dict[str, float] = {
    "google": 0.3,
    "trustpilot": 0.3,
    "app_store": 0.12,
    "play_store": 0.12,
    "amazon": 0.08,
    "other": 0.08,
}
FIRST_NAMES: tuple[str, ...] = (
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Omar", "Lena", "Ravi", "Sofia", "Kenji",
    "Amara", "Lucas", "Chloe", "Mateo", "Priya", "Jonas", "Nora", "Diego", "Hana", "Felix",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Garcia", "Chen", "Müller", "Okafor", "Rossi", "Nguyen", "Silva", "Kowalski",
    "Haddad", "Jensen", "Patel", "Dubois", "Tanaka", "Novak", "Reyes", "Byrne", "Larsen",
)  # fmt: skip
CITIES: tuple[str, ...] = (
    "Austin", "Denver", "Chicago", "Seattle", "Boston", "Atlanta", "Portland", "Phoenix",
)  # fmt: skip

_PAGE_NAMES: dict[str, str] = {
    "/": "Home",
    "/pricing": "Pricing",
    "/recipes": "Recipes",
    "/search": "Search",
    "/cart": "Cart",
    "/checkout": "Checkout",
    "/account": "Account",
    "/help": "Help",
    "/deals": "Deals",
    "/signup": "Sign Up",
    "/onboarding": "Onboarding",
}
_LIBRARY = {"name": "analytics.js", "version": "5.2.1"}
_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_UNLINKED_REVIEW_EVERY = 40  # one review without a user per this many simulated users


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of a demo data set.

    ``now`` (aware, or naive meaning UTC) ends the ``days``-long window; it defaults to the current
    UTC time truncated to the hour. ``archetypes`` (4-6) plants the first k of ``ARCHETYPES``.
    ``users`` counts simulated visitors, identified or not.
    """

    users: int = 2000
    seed: int = 7
    archetypes: int = 5
    days: int = 90
    now: datetime | None = None

    def __post_init__(self) -> None:
        if self.users < 0:
            raise ValueError(f"users must be >= 0, got {self.users}")
        if self.days < 14:
            raise ValueError(f"days must be >= 14, got {self.days}")
        planted_archetypes(self.archetypes)  # validates the range

    def resolved_now(self) -> datetime:
        """The window's end as an aware UTC datetime."""
        if self.now is None:
            return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        if self.now.tzinfo is None:
            return self.now.replace(tzinfo=UTC)
        return self.now.astimezone(UTC)


@dataclass(slots=True)
class UserBundle:
    """Everything one simulated user (or one unlinked review) contributes.

    ``person_id`` is the id the store will stitch to (``userId`` or ``anon:<anonymousId>``; None
    for an unlinked review). ``archetype`` is the hidden truth (None for unlinked reviews);
    ``identified`` says whether the user ever signed up, i.e. whether it is in the answer file.
    """

    person_id: str | None
    archetype: str | None
    events: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    conversations: list[dict] = field(default_factory=list)
    profile: dict | None = None
    identified: bool = False


_DAY_PREFIX: dict[int, str] = {}


def iso_ms(epoch_ms: int) -> str:
    """ISO 8601 UTC timestamp with milliseconds and a ``Z`` suffix."""
    day, rest = divmod(epoch_ms, 86_400_000)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        if len(_DAY_PREFIX) < 100_000:
            _DAY_PREFIX[day] = prefix
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


class _Sampler:
    """Draws keys of a weight mapping proportionally to their weights (cumulative sums + bisect)."""

    __slots__ = ("keys", "cumulative", "total")

    def __init__(self, weights: dict[str, float]) -> None:
        self.keys = tuple(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect(self.cumulative, rng.random() * self.total)]


_REVIEW_SOURCE_SAMPLER = _Sampler(REVIEW_SOURCES)
_SPEC_SAMPLERS: dict[tuple[str, str], _Sampler] = {}


def _spec_sampler(spec: ArchetypeSpec, attribute: str) -> _Sampler:
    key = (spec.name, attribute)
    sampler = _SPEC_SAMPLERS.get(key)
    if sampler is None:
        sampler = _SPEC_SAMPLERS[key] = _Sampler(getattr(spec, attribute))
    return sampler


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _channel_touch(rng: random.Random, channel: str) -> tuple[str | None, dict | None]:
    """(referrer, context.campaign) of a session arriving through ``channel``."""
    choice = rng.choice
    if channel == "paid_search":
        return "https://www.google.com/", {
            "source": "google",
            "medium": "cpc",
            "name": choice(("brand_search", "meal_kit_generic", "recipe_box_offers")),
            "term": choice(("meal kit", "meal delivery", "brightcart", "recipe box")),
        }
    if channel == "organic_search":
        return choice(
            (
                "https://www.google.com/",
                "https://www.google.com/",
                "https://www.bing.com/",
                "https://duckduckgo.com/",
            )
        ), None
    if channel == "email":
        return None, {
            "source": "brightcart",
            "medium": "email",
            "name": choice(("weekly_menu", "new_recipes", "price_drop", "winback", "account_news")),
        }
    if channel == "paid_social":
        platform = choice(("facebook", "instagram", "tiktok", "youtube"))
        referrer = {
            "facebook": "https://l.facebook.com/",
            "instagram": "https://l.instagram.com/",
            "tiktok": "https://www.tiktok.com/",
            "youtube": "https://www.youtube.com/",
        }[platform]
        return referrer, {
            "source": platform,
            "medium": "paid_social",
            "name": choice(("first_box_50", "summer_menu", "weeknight_wins", "creator_recipes")),
            "content": choice(("video_a", "video_b", "carousel")),
        }
    if channel == "review_site":
        return choice(
            (
                "https://www.trustpilot.com/review/brightcart.example",
                "https://www.reddit.com/r/mealkits/",
                "https://www.tomsguide.com/best-picks/best-meal-kits",
            )
        ), None
    if channel == "referral":
        if rng.random() < 0.6:
            return None, {"source": "referral", "medium": "referral", "name": "refer_a_friend"}
        return choice(("https://www.budgetbytes.com/", "https://www.seriouseats.com/")), None
    if channel == "whatsapp":
        return choice(("https://wa.me/", "https://web.whatsapp.com/")), None
    if channel == "direct":
        return None, None
    return _SOCIAL_REFERRERS[channel], None


_SOCIAL_REFERRERS: dict[str, str] = {
    "tiktok": "https://www.tiktok.com/",
    "instagram": "https://l.instagram.com/",
    "youtube": "https://www.youtube.com/",
    "facebook": "https://l.facebook.com/",
    "linkedin": "https://www.linkedin.com/",
    "x": "https://t.co/",
}
_LANDINGS: dict[str, tuple[str, ...]] = {
    "paid_search": ("/", "/deals", "/plan", "/pricing"),
    "paid_social": ("/", "/deals", "/recipe", "/plan"),
    "organic_search": ("/", "/recipe", "/blog", "/pricing"),
    "email": ("/recipe", "/deals", "/account", "/"),
    "review_site": ("/", "/pricing"),
    "referral": ("/", "/deals"),
    "direct": ("/", "/account", "/recipes"),
}
_SOCIAL_LANDINGS = ("/recipe", "/blog", "/")


class _UserSim:
    """Simulates one user's journeys; builds the payload lists of a UserBundle."""

    def __init__(
        self, rng: random.Random, spec: ArchetypeSpec, now_ms: int, window_ms: int
    ) -> None:
        self.rng = rng
        self.spec = spec
        self.now_ms = now_ms
        self.window_start = now_ms - window_ms
        r = rng
        ln = r.lognormvariate
        self.spw = spec.sessions_per_week * ln(0.0, 0.2)
        self.extra_pages = spec.extra_pages * ln(0.0, 0.2)
        self.gap_ms = spec.event_gap_seconds * 1000.0 * ln(0.0, 0.2)
        self.bounce = _clip(spec.bounce + r.gauss(0.0, 0.05), 0.0, 0.9)
        self.coupon = _clip(spec.coupon + r.gauss(0.0, 0.08), 0.0, 0.95)
        self.pricing_dropoff = _clip(spec.pricing_dropoff + r.gauss(0.0, 0.05), 0.0, 0.9)
        self.checkout_dropoff = _clip(spec.checkout_dropoff + r.gauss(0.0, 0.05), 0.0, 0.9)
        self.aov = spec.order_value * ln(0.0, 0.18)
        self.intents = {k: v * ln(0.0, 0.2) for k, v in spec.intents.items()}
        self.intent_sampler = _Sampler(self.intents)
        self.channel_sampler = _Sampler({k: v * ln(0.0, 0.4) for k, v in spec.channels.items()})
        self.browse_sampler = _spec_sampler(spec, "browse")
        self.pain_sampler = _spec_sampler(spec, "pains")
        self.source_sampler = _spec_sampler(spec, "conversation_sources")
        n_features = int(_clip(round(r.gauss(spec.distinct_features, 0.6)), 0, len(FEATURES)))
        pool = dict(spec.feature_weights)
        for name in FEATURES:
            pool.setdefault(name, 0.15)
        self.features: list[str] = []
        while len(self.features) < n_features:
            pick = _weighted(r, pool)
            pool.pop(pick)
            self.features.append(pick)
        self.plan = _weighted(r, spec.plans)
        self.will_pause = r.random() < spec.pause
        self.will_cancel = r.random() < spec.cancel
        self.anon_id = _uuid(r)
        self.user_id: str | None = None
        self.device_anon: str | None = None  # second-device id while a session runs on it
        self.name = f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"
        self.events: list[dict] = []
        self.conversations: list[dict] = []
        self.orders = 0
        self.paused = False
        self.cancelled = False
        self.signup_ms: int | None = None
        self.email: str | None = None
        self.traits: dict = {}
        self.pause_at = now_ms
        self.cancel_at = now_ms
        self.tickets = 0
        self.t = 0
        self.session_end = 0

    # ---- low-level emitters -------------------------------------------------------------
    def _ids(self, payload: dict) -> dict:
        if self.device_anon is not None:
            payload["anonymousId"] = self.device_anon
        else:
            payload["anonymousId"] = self.anon_id
            if self.user_id is not None:
                payload["userId"] = self.user_id
        return payload

    def _tick(self) -> None:
        gap = 3000 + int(self.rng.expovariate(1.0) * self.gap_ms)
        self.t += gap if gap < 10 * _MINUTE else 10 * _MINUTE

    def page(self, path: str, first: bool = False, touch: tuple | None = None) -> None:
        if not first:
            self._tick()
        rng = self.rng
        if path == "/recipe":
            path = f"/recipes/r-{rng.randint(1000, 1399)}"
            name = "Recipe"
        elif path == "/blog":
            path = f"/blog/{rng.choice(BLOG_SLUGS)}"
            name = "Blog Post"
        elif path == "/plan":
            path = f"/plans/{self.plan}"
            name = "Plan"
        elif path.startswith("/plans/"):
            name = "Plan"
        else:
            name = _PAGE_NAMES[path]
        url = SITE + path
        page = {"path": path, "url": url, "title": f"{name} | Brightcart"}
        context: dict = {"library": _LIBRARY}
        if touch is not None:
            referrer, campaign = touch
            if campaign is not None:
                search = f"?utm_source={campaign['source']}&utm_medium={campaign['medium']}&utm_campaign={campaign['name']}"
                page["url"] = url + search
                page["search"] = search
                context["campaign"] = campaign
            if referrer is not None:
                page["referrer"] = referrer
        context["page"] = page
        self.events.append(
            self._ids(
                {
                    "type": "page",
                    "name": name,
                    "properties": dict(page),
                    "context": context,
                    "messageId": f"{rng.getrandbits(128):032x}",
                    "timestamp": iso_ms(self.t),
                }
            )
        )

    def track(self, event: str, properties: dict) -> None:
        self._tick()
        self.events.append(
            self._ids(
                {
                    "type": "track",
                    "event": event,
                    "properties": properties,
                    "context": {"library": _LIBRARY},
                    "messageId": f"{self.rng.getrandbits(128):032x}",
                    "timestamp": iso_ms(self.t),
                }
            )
        )

    def identify(self, traits: dict) -> None:
        self._tick()
        self.events.append(
            self._ids(
                {
                    "type": "identify",
                    "traits": traits,
                    "context": {"library": _LIBRARY},
                    "messageId": f"{self.rng.getrandbits(128):032x}",
                    "timestamp": iso_ms(self.t),
                }
            )
        )

    def alias(self, previous_id: str) -> None:
        self._tick()
        self.events.append(
            {
                "type": "alias",
                "userId": self.user_id,
                "previousId": previous_id,
                "anonymousId": previous_id,
                "context": {"library": _LIBRARY},
                "messageId": f"{self.rng.getrandbits(128):032x}",
                "timestamp": iso_ms(self.t),
            }
        )

    # ---- journeys -----------------------------------------------------------------------
    def pick_channel(self, first: bool) -> str:
        r = self.rng.random()
        if not first and r < self.spec.return_direct:
            # returning visitors type the address or click a newsletter once they know the shop
            if self.user_id is not None and r < self.spec.return_direct * 0.4:
                return "email"
            return "direct"
        return self.channel_sampler.draw(self.rng)

    def landing(self, channel: str) -> str:
        options = _LANDINGS.get(channel, _SOCIAL_LANDINGS)
        path = self.rng.choice(options)
        if path == "/account" and self.user_id is None:
            return "/"
        return path

    def browse(self, pages: int | None = None) -> None:
        if pages is None:
            pages = _poisson(self.rng, self.extra_pages)
        draw = self.browse_sampler.draw
        rng = self.rng
        for _ in range(pages):
            self.page(_BROWSE_PATHS[draw(rng)])

    def shop(self, coupon_boost: float = 0.0, first_order: bool = False) -> None:
        rng = self.rng
        returning = self.orders > 0
        if not first_order and (not returning or rng.random() < 0.3):
            self.page("/pricing")
            if rng.random() < self.pricing_dropoff:
                return
        plan = self.plan
        if not returning and rng.random() < 0.35:
            other = rng.choice(tuple(PLAN_PRICES))
            self.page(f"/plans/{other}")
            self.track("Product Viewed", _product(other))
        self.page("/plan")
        self.track("Product Viewed", _product(plan))
        self.track("Product Added", {**_product(plan), "quantity": 1})
        self.page("/cart")
        self.track("Cart Viewed", {"products": [{**_product(plan), "quantity": 1}]})
        if self.user_id is None or self.device_anon is not None:
            return  # must be signed in to order; anonymous carts are abandoned here
        order_id = f"ord_{rng.getrandbits(48):012x}"
        value = round(self.aov * rng.lognormvariate(0.0, 0.12), 2)
        self.track(
            "Checkout Started",
            {
                "order_id": order_id,
                "value": value,
                "currency": CURRENCY,
                "products": [_product(plan)],
            },
        )
        if not first_order and rng.random() < self.checkout_dropoff:
            return
        discount = 0.0
        coupon = None
        if rng.random() < self.coupon + coupon_boost:
            coupon = rng.choice(("WELCOME50", "SAVE20", "FRIEND15", "WEEKDEAL", "FREESHIP"))
            discount = round(value * rng.uniform(0.12, 0.4), 2)
            self.track(
                "Coupon Applied",
                {
                    "order_id": order_id,
                    "coupon_id": coupon,
                    "coupon_name": coupon,
                    "discount": discount,
                },
            )
        self.page("/checkout")
        revenue = round(value - discount, 2)
        props = {
            "order_id": order_id,
            "total": revenue,
            "revenue": revenue,
            "discount": discount,
            "currency": CURRENCY,
            "products": [{**_product(plan), "quantity": 1}],
        }
        if coupon is not None:
            props["coupon"] = coupon
        self.track("Order Completed", props)
        self.orders += 1

    def manage(self) -> None:
        rng = self.rng
        self.page("/account")
        if self.features:
            for _ in range(1 + _poisson(rng, 1.2)):
                self.track(
                    "Feature Used", {"feature": rng.choice(self.features), "platform": "web"}
                )

    def lifecycle_action(self) -> bool:
        """Pause or cancel when the user's time has come; True when the session was used."""
        t = self.t
        if self.will_pause and not self.paused and t >= self.pause_at:
            if self.tickets == 0 and self.rng.random() < self.spec.ticket_given_help:
                self.help(force_ticket=True)  # many complain before they pause
            self.page("/account")
            self.track(
                "Subscription Paused",
                {
                    "plan_id": self.plan,
                    "reason": self.rng.choice(_PAUSE_REASONS),
                    "weeks": self.rng.randint(1, 4),
                },
            )
            self.paused = True
            return True
        if self.will_cancel and not self.cancelled and t >= self.cancel_at:
            self.page("/account")
            self.track(
                "Subscription Cancelled",
                {"plan_id": self.plan, "reason": self.rng.choice(_CANCEL_REASONS)},
            )
            self.cancelled = True
            return True
        return False

    def help(self, theme: str | None = None, force_ticket: bool = False) -> None:
        rng = self.rng
        self.page("/help")
        if rng.random() < 0.4:
            self.page("/help")
        if self.user_id is None or (
            not force_ticket and rng.random() >= self.spec.ticket_given_help
        ):
            return
        self.tickets += 1
        theme = theme or self.pain_sampler.draw(rng)
        source = self.source_sampler.draw(rng)
        prefix = {"zendesk": "ZD", "intercom": "IC", "hubspot": "HS", "whatsapp": "WA"}[source]
        conversation_id = f"{prefix}-{rng.getrandbits(40):010x}"
        subject = rng.choice(TICKET_SUBJECTS[theme])
        self.track(
            "Support Ticket Opened",
            {"ticket_id": conversation_id, "subject": subject, "channel": source},
        )
        self.conversations.append(self._conversation(source, conversation_id, subject, theme))

    def _conversation(self, source: str, conversation_id: str, subject: str, theme: str) -> dict:
        rng = self.rng
        lines = list(rng.sample(CUSTOMER_MESSAGES[theme], k=rng.randint(1, 2)))
        if self.spec.cancel > 0.2 and rng.random() < 0.6:
            lines.append(rng.choice(CHURN_LINES))
        at = self.t
        base = {
            "source": source,
            "conversation_id": conversation_id,
            "user_id": self.user_id,
            "email": self.email,
            "created_at": iso_ms(at),
            "status": rng.choice(("open", "pending", "solved", "solved")),
        }
        if source == "hubspot" and rng.random() < 0.5:
            transcript = ["Agent: Hi, this is Brightcart support, how can I help?"]
            for line in lines:
                transcript.append(f"Customer: {line}")
                transcript.append(f"Agent: {rng.choice(AGENT_MESSAGES)}")
            return {
                **base,
                "kind": "call",
                "subject": f"Call: {subject}",
                "transcript": "\n".join(transcript),
            }
        messages = []
        for line in lines:
            at += rng.randint(1, 30) * _MINUTE
            messages.append(
                {"role": "customer", "text": line, "at": iso_ms(at), "author": self.name}
            )
            at += rng.randint(5, 240) * _MINUTE
            messages.append(
                {
                    "role": "agent",
                    "text": rng.choice(AGENT_MESSAGES),
                    "at": iso_ms(at),
                    "author": "Brightcart Support",
                }
            )
        kind = "ticket" if source in ("zendesk", "hubspot") else "chat"
        item = {**base, "kind": kind, "messages": messages}
        if kind == "ticket":
            item["subject"] = subject
        return item

    def signup(self, channel: str) -> None:
        rng = self.rng
        self.page("/signup")
        self.user_id = f"usr_{rng.getrandbits(56):014x}"
        first, last = self.name.split(" ", 1)
        local = f"{first}.{last}".lower().replace("ü", "ue")
        self.email = f"{local}{rng.randint(1, 999)}@{rng.choice(_MAIL_DOMAINS)}"
        self.signup_ms = self.t
        self.track(
            "Signed Up", {"method": rng.choice(("email", "google", "apple")), "plan_id": self.plan}
        )
        self.traits = {
            "email": self.email,
            "name": self.name,
            "first_name": first,
            "last_name": last,
            "city": rng.choice(CITIES),
            "household_size": rng.randint(1, 5),
            "marketing_opt_in": rng.random() < 0.6,
            "signup_channel": channel,
            "created_at": iso_ms(self.t),
        }
        self.identify(dict(self.traits))
        self.page("/onboarding")

    def session(self, kind: str) -> None:
        """One visit: a landing page carrying the channel, then intent-driven steps."""
        rng = self.rng
        first = kind == "first"
        channel = self.pick_channel(first)
        landing = self.landing(channel)
        self.page(landing, first=True, touch=_channel_touch(rng, channel))
        if kind == "signup":
            self.browse(_poisson(rng, self.extra_pages / 2))
            self.signup(channel)
            if rng.random() < self.spec.intents["help"] * 0.8:
                self.help("onboarding")  # stuck right after sign-up
            # people sign up to order their first box (welcome offer); later orders can drop off
            self.shop(first_order=True)
            return
        if kind == "return" and self.user_id is not None and self.lifecycle_action():
            return
        if rng.random() < self.bounce:
            return
        intent = self.intent_sampler.draw(rng)
        self.browse()
        if intent == "shop" and not self.cancelled:
            self.shop()
        elif intent == "deals":
            self.page("/deals")
            if rng.random() < 0.7 and not self.cancelled:
                self.shop(coupon_boost=0.15)
        elif intent == "manage" and self.user_id is not None:
            self.manage()
        elif intent == "help":
            self.help()
        elif self.user_id is None and intent in ("shop", "manage"):
            self.shop()

    def run(self, identifies: bool) -> None:
        rng = self.rng
        spec = self.spec
        now = self.now_ms
        if not identifies:
            n_sessions = rng.randint(1, 3)
            t = self.window_start + int(rng.random() * (now - self.window_start - 5 * _DAY))
            for index in range(n_sessions):
                self.t = t
                self.session("first" if index == 0 else "anon")
                t = self.t + _HOUR + int(rng.expovariate(1.0) * 2 * _DAY)
                if t > now - 8 * _HOUR:
                    break
            return
        window = now - self.window_start
        weeks = rng.uniform(*spec.active_weeks)
        span = int(min(weeks * _WEEK, window - _DAY))
        if spec.stops_early:
            start = self.window_start + int(rng.random() * 0.3 * window)
            end = min(start + span, now - 2 * _DAY)
        else:
            recency = rng.gammavariate(3.0, spec.recency_days / 3.0)
            end = now - int(recency * _DAY) - 2 * _HOUR
            end = max(end, self.window_start + 3 * _DAY)
            start = max(end - span, self.window_start + int(rng.random() * _DAY))
        self.pause_at = start + int(rng.uniform(0.45, 0.75) * (end - start))
        self.cancel_at = start + int(rng.uniform(0.8, 0.95) * (end - start))
        n_anon = rng.randint(*spec.anon_sessions)
        second_device_at = rng.randint(n_anon + 2, n_anon + 8) if rng.random() < 0.06 else -1
        mean_gap = _WEEK / max(self.spw, 0.1)
        t = start
        index = 0
        while True:
            self.t = t
            if index < n_anon:
                self.session("first" if index == 0 else "anon")
            elif index == n_anon:
                self.session("signup")
            elif index == second_device_at:
                self.device_anon = _uuid(rng)
                self.session("return")
                device = self.device_anon
                self.device_anon = None
                self.alias(device)
            else:
                self.session("return")
            if self.cancelled:
                break
            index += 1
            pre_signup = index <= n_anon
            # gamma(2) gaps: habitual visitors are more regular than a Poisson process
            gap = rng.gammavariate(2.0, 0.5) * (
                mean_gap if not pre_signup else min(mean_gap, 2 * _DAY)
            )
            t = self.t + 30 * _MINUTE + int(gap)
            if t > end and not pre_signup:
                break
            if t > now - 8 * _HOUR:
                # the sign-up must fit in the window: squeeze it in just before `now`
                if not pre_signup:
                    break
                t = max(self.t + 30 * _MINUTE, now - 8 * _HOUR)

    def reviews(self) -> list[dict]:
        if self.user_id is None or self.signup_ms is None:
            return []
        rng = self.rng
        spec = self.spec
        now = self.now_ms
        last = self.t
        out = []
        spike_from = now - int(PAIN_SPIKE["days"]) * _DAY  # type: ignore[call-overload]
        spiking = spec.name == PAIN_SPIKE["archetype"]
        if rng.random() < spec.review:
            created = self.signup_ms + int(
                rng.random() * max(min(last + 5 * _DAY, now) - self.signup_ms, 1)
            )
            force = (
                str(PAIN_SPIKE["theme"])
                if spiking and created >= spike_from and rng.random() < 0.85
                else None
            )
            out.append(self._review(created, force))
        if spiking and self.orders and last >= spike_from and rng.random() < 0.35:
            created = max(spike_from, self.signup_ms) + int(
                rng.random() * (now - max(spike_from, self.signup_ms))
            )
            force = str(PAIN_SPIKE["theme"]) if rng.random() < 0.85 else None
            out.append(self._review(created, force))
        return out

    def _review(self, created_ms: int, force_pain: str | None) -> dict:
        rng = self.rng
        pain_probability = 0.85 if self.spec.cancel > 0.2 else 0.55
        title, text, rating, _ = compose_review(
            rng,
            self.spec.motivations,
            self.spec.pains,
            force_pain=force_pain,
            pain_probability=pain_probability,
        )
        source = _REVIEW_SOURCE_SAMPLER.draw(rng)
        return {
            "source": source,
            "review_id": f"rev_{rng.getrandbits(48):012x}",
            "user_id": self.user_id,
            "email": self.email,
            "author": self.name,
            "title": title,
            "text": text,
            "rating": rating,
            "created_at": iso_ms(created_ms),
            "product": "Brightcart app" if source in ("app_store", "play_store") else "Brightcart",
            "language": "en",
        }

    def profile(self) -> dict:
        traits = dict(self.traits)
        traits["plan"] = self.plan
        traits["status"] = "cancelled" if self.cancelled else "paused" if self.paused else "active"
        return {"user_id": self.user_id, "email": self.email, "traits": traits}


_BROWSE_PATHS: dict[str, str] = {
    "recipes": "/recipes",
    "recipe": "/recipe",
    "search": "/search",
    "blog": "/blog",
    "home": "/",
    "pricing": "/pricing",
    "deals": "/deals",
    "help": "/help",
}
_PAUSE_REASONS = ("travelling", "too expensive", "too much food", "delivery problems", "other")
_CANCEL_REASONS = ("too expensive", "poor support", "delivery problems", "cooking less", "other")
_MAIL_DOMAINS = ("example.com", "mail.example", "inbox.example")


def _product(plan: str) -> dict:
    return {
        "product_id": plan,
        "sku": f"BOX-{plan.upper()}",
        "name": PLAN_NAMES[plan],
        "price": PLAN_PRICES[plan],
        "category": "meal-kit",
    }


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit = math.exp(-mean)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _archetype_for(rng: random.Random, specs: tuple[ArchetypeSpec, ...]) -> ArchetypeSpec:
    return rng.choices(specs, weights=[s.share for s in specs])[0]


def _simulate_user(config: DemoConfig, index: int, now_ms: int) -> UserBundle:
    rng = random.Random(f"{config.seed}:user:{index}")
    spec = _archetype_for(rng, planted_archetypes(config.archetypes))
    identifies = rng.random() >= spec.never_identify
    sim = _UserSim(rng, spec, now_ms, config.days * _DAY)
    sim.run(identifies)
    if sim.user_id is None:
        return UserBundle(
            person_id=f"anon:{sim.anon_id}",
            archetype=spec.name,
            events=sim.events,
            identified=False,
        )
    return UserBundle(
        person_id=sim.user_id,
        archetype=spec.name,
        events=sim.events,
        reviews=sim.reviews(),
        conversations=sim.conversations,
        profile=sim.profile(),
        identified=True,
    )


def _unlinked_review(config: DemoConfig, index: int, now_ms: int) -> UserBundle:
    rng = random.Random(f"{config.seed}:unlinked:{index}")
    from personapulse.demo.archetypes import MOTIVATIONS, PAIN_THEMES

    title, text, rating, _ = compose_review(
        rng, {m: 1.0 for m in MOTIVATIONS}, {p: 1.0 for p in PAIN_THEMES}
    )
    created = now_ms - int(rng.random() * (config.days * _DAY - _HOUR))
    source = _REVIEW_SOURCE_SAMPLER.draw(rng)
    review = {
        "source": source,
        "review_id": f"rev_{rng.getrandbits(48):012x}",
        "author": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[0]}.",
        "title": title,
        "text": text,
        "rating": rating,
        "created_at": iso_ms(created),
        "product": "Brightcart app" if source in ("app_store", "play_store") else "Brightcart",
        "language": "en",
    }
    return UserBundle(person_id=None, archetype=None, reviews=[review])


def generate_users(config: DemoConfig) -> Iterator[UserBundle]:
    """Stream one UserBundle per simulated user (plus bundles holding one unlinked review each).

    Constant memory: nothing is kept between users. Deterministic for a given config (pass
    ``now`` explicitly for reproducibility across hours).
    """
    now_ms = int(config.resolved_now().timestamp() * 1000)
    for index in range(config.users):
        yield _simulate_user(config, index, now_ms)
        if index % _UNLINKED_REVIEW_EVERY == _UNLINKED_REVIEW_EVERY - 1:
            yield _unlinked_review(config, index, now_ms)


def window_bounds(config: DemoConfig) -> tuple[datetime, datetime]:
    """(start, end) of the data window as aware UTC datetimes."""
    end = config.resolved_now()
    return end - timedelta(days=config.days), end


__all__ = [
    "CHANNELS",
    "DemoConfig",
    "UserBundle",
    "generate_users",
    "iso_ms",
    "window_bounds",
]
