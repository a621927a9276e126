"""Pain points and motivations: a fixed taxonomy (documented in docs/taxonomy.md) matched per clause.

Each category has
- ``cues``: phrases that carry the polarity themselves ("overpriced", "never arrived",
  "saves me time"); they count unless a negator stands just before them ("not overpriced");
- ``topics``: neutral words naming the subject ("delivery", "price", "support"); they count only
  when their clause has the category's polarity (negative for a pain point, positive for a
  motivation): "delivery was late" is a pain point, "fast delivery" is not.

Clause polarity is the rule-based lexicon score (VADER lexicon + review terms, with negation and
contrast) of the clause; a clause with no sentiment word falls back to its sentence, then to the
document's overall score when that is clearly signed (|score| ≥ 0.3, e.g. a 1-star review).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from personapulse.nlp._text import Span, is_negator, sentences, tokenize
from personapulse.nlp.lexicon import lexicon_scores

Kind = Literal["pain_point", "motivation"]

CLAUSE_POLARITY_BAND = 0.05
CONTEXT_POLARITY_MIN = 0.3


@dataclass(frozen=True, slots=True)
class Category:
    label: str
    kind: Kind
    description: str
    cues: tuple[str, ...]
    topics: tuple[str, ...]


_N = r"(?:\d+|two|three|four|five|six|seven|several|a few|many)"

PAIN_POINTS: tuple[Category, ...] = (
    Category(
        "pricing",
        "pain_point",
        "Price level or price changes felt as too high / not worth it.",
        cues=(
            r"over ?priced",
            r"(?:too|very|so|way too|really|quite|bit) (?:pricey|costly|expensive)",
            r"not worth (?:it|the (?:money|price|cost))",
            r"rip[- ]?off",
            r"waste of money",
            r"price (?:hike|increase)s?",
            r"prices? (?:went|gone|going) up",
            r"raised (?:the|their|its) prices?",
            r"hidden (?:fees?|costs?|charges?)",
            r"costs? (?:way )?too much",
            r"can'?t afford",
        ),
        topics=(r"prices?", r"priced", r"pricing", r"costs?", r"fees?", r"expensive", r"pricey"),
    ),
    Category(
        "billing",
        "pain_point",
        "Charges, invoices, payments and refunds that went wrong.",
        cues=(
            r"(?:charged|billed) (?:me )?(?:twice|two times|double|again)",
            r"double[- ](?:charged|billed|charge)",
            r"over ?charged",
            r"unauthori[sz]ed (?:charges?|payments?)",
            r"(?:no |still waiting for (?:my |a |the )?|never (?:got|received) (?:my |a |the )?)refund",
            r"(?:can'?t|cannot|couldn'?t|won'?t) (?:get|give me) (?:a |my )?refund",
            r"(?:charged|billed) (?:me )?(?:after|even though) (?:i )?cancel\w*",
            r"payments? (?:failed|declined|error)",
            r"wrong (?:amount|charge|invoice)",
        ),
        topics=(
            r"bill(?:ed|ing)?",
            r"charges",
            r"invoices?",
            r"payments?",
            r"refund(?:s|ed)?",
            r"receipts?",
        ),
    ),
    Category(
        "onboarding",
        "pain_point",
        "Signing up, setting up and the first use.",
        cues=(
            r"(?:hard|difficult|impossible|confusing|complicated) to (?:set ?up|get started|sign ?up|register|install|activate)",
            r"(?:set ?up|setup|sign ?up|registration|onboarding|installation) (?:was|is) (?:a )?(?:pain|nightmare|confusing|complicated|long|tedious)",
            r"(?:couldn'?t|could not|can'?t|cannot|unable to) (?:sign ?up|register|activate|install|get started)",
            r"(?:activation|verification|confirmation) (?:email|code|link) never (?:arrived|came)",
        ),
        topics=(
            r"sign(?:ing)?[- ]?up",
            r"set[- ]?up",
            r"setting up",
            r"onboarding",
            r"getting started",
            r"registration",
            r"registering",
            r"installation",
            r"activation",
            r"first (?:order|box|delivery|week)",
        ),
    ),
    Category(
        "usability",
        "pain_point",
        "The app / website is hard to use or understand.",
        cues=(
            r"(?:hard|difficult|confusing|impossible|annoying|a pain|awkward|tricky) to (?:use|find|navigate|understand|read|figure out|operate|hold|get to)",
            r"(?:cumbersome|awkward|clunky|unintuitive)",
            r"not (?:very )?(?:user[- ]friendly|intuitive|easy to use)",
            r"(?:confusing|clunky|cumbersome|unintuitive|cluttered|messy) (?:interface|app|ui|menus?|layout|design|navigation|website|site|checkout)",
            r"too many (?:clicks|steps|screens|pop-?ups)",
            r"(?:can'?t|cannot|couldn'?t) (?:ever )?find (?:anything|the|where|how)",
        ),
        topics=(
            r"app",
            r"interface",
            r"ui",
            r"ux",
            r"website",
            r"site",
            r"navigation",
            r"menus?",
            r"layout",
            r"design",
            r"checkout",
            r"search",
            r"buttons?",
            r"screens?",
            r"controls?",
            r"remote",
        ),
    ),
    Category(
        "performance_bugs",
        "pain_point",
        "Crashes, errors, slowness, things that stop working.",
        cues=(
            r"(?:keeps?|kept) (?:crashing|freezing|failing|glitching|logging me out)",
            r"crash(?:es|ed|ing)?",
            r"buggy",
            r"glitch(?:y|es)?",
            r"error (?:message|code)s?",
            r"(?:doesn'?t|does not|won'?t|will not|didn'?t|did not|stopped|stops|quit|never) (?:work|load|open|sync|turn on|charge)(?:ing|s|ed)?",
            r"(?:very|too|so|painfully|really|extremely|super) slow",
            r"takes? (?:forever|ages) to (?:load|open|respond|start)",
            r"(?:froze|freezes|freezing|frozen screen)",
            r"lock(?:s|ed)? up",
            r"not loading",
            r"laggy",
            r"unresponsive",
            r"(?:broken|dead) (?:links?|pages?|app|feature|button)",
        ),
        topics=(
            r"bugs?",
            r"errors?",
            r"slow",
            r"loading",
            r"lag",
            r"updates?",
            r"performance",
            r"battery",
            r"sync(?:ing)?",
        ),
    ),
    Category(
        "missing_features",
        "pain_point",
        "A feature, option or integration customers ask for.",
        cues=(
            r"(?:no|lacks?|lacking|missing|without)(?: an?| the| any)? (?:option|way|feature|ability|setting|integration|support) (?:to|for)",
            r"(?:i )?wish (?:it|there|they|you|the app) (?:had|was|were|could|would|offered)",
            r"if only (?:it|there|they|you)",
            r"(?:doesn'?t|does not|can'?t|cannot|won'?t) (?:let|allow) (?:me|you|us|users)",
            r"please add",
            r"would (?:love|like) (?:to see|it if|an? option)",
            r"needs? (?:an?|more|better) (?:options?|features?|settings?|filters?)",
            r"no (?:dark mode|export|offline mode|api|search|filter)",
        ),
        topics=(
            r"features?",
            r"options?",
            r"integrations?",
            r"functionality",
            r"settings?",
        ),
    ),
    Category(
        "support",
        "pain_point",
        "Customer service: slow, absent or unhelpful answers.",
        cues=(
            r"(?:no|never got an?|never received an?|still no|without an?) (?:response|reply|answer|call ?back)",
            r"(?:nobody|no one|noone) (?:answers|answered|responded|replied|helped|called back|got back)",
            r"(?:on|put on) hold for",
            r"(?:rude|unhelpful|useless|clueless) (?:agents?|staff|support|reps?|service|representatives?)",
            r"(?:never|didn'?t|did not|won'?t|doesn'?t|does not) (?:respond(?:ed)?|repl(?:y|ied)|get back|got back|call(?:ed)? back|answer(?:ed)?)",
            r"ticket (?:is |was )?(?:still )?(?:open|unresolved|ignored)",
        ),
        topics=(
            r"support",
            r"customer service",
            r"customer care",
            r"service team",
            r"agents?",
            r"representatives?",
            r"reps?",
            r"help ?desk",
            r"staff",
            r"live chat",
            r"call cent(?:er|re)",
        ),
    ),
    Category(
        "shipping_delivery",
        "pain_point",
        "Late, lost, damaged or incomplete deliveries.",
        cues=(
            r"(?:arrived|came|delivered|showed up|got here) (?:\w+ )?(?:late|damaged|broken|crushed|warm|melted|open(?:ed)?|leaking|squashed|spoiled)",
            r"(?:late|delayed|lost|missing|wrong|damaged) (?:deliver(?:y|ies)|shipments?|packages?|parcels?|orders?|box(?:es)?|items?)",
            r"never (?:arrived|came|showed up|got delivered|delivered|received)",
            r"(?:still )?(?:waiting for (?:my|the) (?:order|delivery|package|box)|hasn'?t arrived|has not arrived)",
            r"took (?:forever|ages|(?:over |more than |almost )?" + _N + r" (?:days|weeks))",
            r"items? (?:were |was |are )?missing",
            r"missing (?:ingredients?|items?|products?)",
        ),
        topics=(
            r"deliver(?:y|ies|ed)?",
            r"ship(?:ping|ped|ment|ments)?",
            r"couriers?",
            r"packag(?:e|es|ing)",
            r"parcels?",
            r"arriv(?:e|ed|al)",
            r"drivers?",
            r"tracking",
            r"dispatch(?:ed)?",
        ),
    ),
    Category(
        "trust_security",
        "pain_point",
        "Scams, fraud, data misuse, misleading claims, hacked accounts.",
        cues=(
            r"scam(?:med|mers?)?",
            r"fraud(?:ulent)?",
            r"hacked",
            r"(?:sold|sell|selling|shared|sharing) my (?:data|information|info|email|details|number)",
            r"data (?:breach|leak)",
            r"phishing",
            r"spam(?:med|ming)?",
            r"(?:shady|sketchy|dodgy|dishonest|misleading|deceptive)",
            r"bait and switch",
            r"fake reviews?",
        ),
        topics=(r"privacy", r"security", r"personal (?:data|information|info)", r"trust"),
    ),
    Category(
        "quality",
        "pain_point",
        "The product itself: defects, breakage, poor build, food that is off.",
        cues=(
            r"(?:poor|low|bad|cheap|terrible|awful|horrible|inconsistent) quality",
            r"(?:broke|broken|fell apart|defective|faulty|flimsy|shoddy|damaged)",
            r"(?:stale|spoiled|rotten|mou?ldy|expired|soggy|bland|tasteless|inedible|undercooked|overcooked|burnt|wilted)",
            r"(?:tiny|small|smaller|skimpy) portions?",
            r"(?:poorly|cheaply) (?:made|built|designed|packed)",
            r"stopped working",
            r"(?:quit|died|failed|stopped working|broke) (?:after|within) (?:a|one|two|\d+|less than)",
            r"(?:has|have|had|having) (?:had )?(?:a )?(?:lot of |many |several |some )?(?:problems?|issues?|trouble|defects?)",
            r"(?:major|main|only|biggest|big|real|serious) (?:problem|issue|gripe|complaint|drawback|downside|flaw)s?",
            r"(?:too )?fragile",
            r"flawed",
            r"(?:huge |big |a )?disappointment",
            r"uncomfortable",
        ),
        topics=(
            r"quality",
            r"taste",
            r"flavou?rs?",
            r"freshness",
            r"ingredients?",
            r"materials?",
            r"build",
            r"portions?",
            r"picture",
            r"sound",
            r"screen",
            r"lens",
        ),
    ),
    Category(
        "account_access",
        "pain_point",
        "Logging in, passwords, locked or lost accounts.",
        cues=(
            r"(?:can'?t|cannot|couldn'?t|could not|unable to) (?:log ?in|login|sign in|access (?:my )?account|reset (?:my )?password)",
            r"locked out",
            r"(?:password reset|reset link|verification code|login link|2fa code) (?:doesn'?t|does not|never|didn'?t|did not) (?:work|arrive|come)",
            r"account (?:was |got |has been )?(?:locked|suspended|disabled|deleted|hacked)",
            r"(?:keeps?|kept) (?:logging|signing) me out",
        ),
        topics=(
            r"log ?in",
            r"login",
            r"sign(?:ing)? in",
            r"password",
            r"2fa",
            r"two[- ]factor",
            r"verification code",
        ),
    ),
    Category(
        "cancellation",
        "pain_point",
        "Subscriptions that are hard to pause, cancel or stop renewing.",
        cues=(
            r"(?:hard|difficult|impossible|no way|couldn'?t|can'?t|cannot|unable) to (?:cancel|unsubscribe|pause|stop (?:the|my) subscription)",
            r"(?:won'?t|wouldn'?t|didn'?t|did not) let me (?:cancel|unsubscribe|pause)",
            r"auto[- ]?renew(?:ed|al|s)? without",
            r"(?:keeps?|kept) (?:charging|billing) (?:me )?after",
        ),
        topics=(
            r"cancel(?:l?ation|l?ed|l?ing)?",
            r"unsubscrib(?:e|ing)",
            r"subscriptions?",
            r"auto[- ]?renew(?:al)?",
        ),
    ),
)

MOTIVATIONS: tuple[Category, ...] = (
    Category(
        "price",
        "motivation",
        "Good price, value for money, discounts.",
        cues=(
            r"(?:great|good|excellent|amazing|best|fair|reasonable|unbeatable|fantastic|decent) (?:prices?|value|deals?|bargain)",
            r"value for (?:the )?money",
            r"(?:so |very |really |quite )?affordable",
            r"worth (?:every penny|the money|the price|it)",
            r"(?:cheaper|less expensive) than",
            r"bang for (?:the|your|my) buck",
            r"saved? (?:me )?(?:money|\$\d+)",
        ),
        topics=(
            r"prices?",
            r"priced",
            r"costs?",
            r"value",
            r"deals?",
            r"discounts?",
            r"coupons?",
            r"cheap(?:er)?",
            r"budget",
            r"money",
        ),
    ),
    Category(
        "quality",
        "motivation",
        "The product is good: fresh, tasty, well made, durable.",
        cues=(
            r"(?:great|high|excellent|top|superb|amazing|good|premium) quality",
            r"(?:so |very |really |always |super )?(?:fresh|delicious|tasty|durable|sturdy)",
            r"well (?:made|built|designed|packed)",
            r"built to last",
        ),
        topics=(
            r"quality",
            r"freshness",
            r"ingredients?",
            r"taste",
            r"flavou?rs?",
            r"build",
            r"picture",
            r"sound",
        ),
    ),
    Category(
        "features",
        "motivation",
        "Specific features, options, variety and integrations.",
        cues=(
            r"(?:love|like|enjoy|great|useful|handy|best|favou?rite) (?:the )?(?:features?|options?|meal planner|recipes?|tracker|integrations?|functions?)",
            r"lots of (?:options|features|choices|variety|recipes)",
            r"(?:great|wide|good|huge|nice) (?:variety|selection|choice|range)",
        ),
        topics=(
            r"features?",
            r"options?",
            r"functions?",
            r"functionality",
            r"customi[sz](?:e|ation|able)",
            r"integrations?",
            r"meal planner",
            r"recipes?",
            r"tracker",
            r"variety",
        ),
    ),
    Category(
        "convenience",
        "motivation",
        "Easy, simple, flexible, delivered to the door.",
        cues=(
            r"(?:so |very |really |super )?(?:easy|simple|convenient|effortless) to (?:use|order|set ?up|cook|follow|cancel|pause|skip|navigate)",
            r"(?:no|without(?: the)? any|without(?: the)?) hassle",
            r"hassle[- ]free",
            r"(?:delivered|right|straight) to (?:my|your|the) (?:door|doorstep)",
            r"(?:fast|quick|speedy|prompt|on[- ]time) (?:delivery|shipping|service|response|support)",
            r"(?:so |very |really |super )?convenient",
            r"user[- ]friendly",
        ),
        topics=(
            r"convenien(?:t|ce)",
            r"easy",
            r"easier",
            r"simple",
            r"flexib(?:le|ility)",
            r"deliver(?:y|ies|ed)?",
            r"shipping",
        ),
    ),
    Category(
        "brand",
        "motivation",
        "Trust in and liking for the company, its values, loyalty.",
        cues=(
            r"(?:love|trust|believe in|support) (?:the|this|their|your) (?:brand|company|team|mission|values)",
            r"(?:great|amazing|ethical|responsible|trustworthy|honest) (?:brand|company)",
            r"(?:sustainable|eco[- ]friendly|recyclable|compostable) packaging",
            r"(?:loyal )?customer (?:for|since) (?:years|" + _N + r" years|\d{4})",
            r"recommend(?:ed)? (?:it |them |this )?to (?:everyone|friends|family|anyone)",
        ),
        topics=(
            r"brand",
            r"company",
            r"reputation",
            r"trust(?:ed|worthy)?",
            r"values",
            r"ethical",
            r"sustainab(?:le|ility)",
            r"eco[- ]friendly",
        ),
    ),
    Category(
        "health",
        "motivation",
        "Eating better, nutrition, diets, weight.",
        cues=(
            r"(?:eat|eating|eaten) (?:healthier|better|well|more vegetables)",
            r"(?:lost|losing) (?:\d+ )?(?:lbs|pounds|kg|kilos|weight)",
            r"(?:healthy|healthier|nutritious|balanced|wholesome) (?:meals?|food|options|recipes|choices|diet|eating)",
            r"help(?:s|ed)? me (?:eat|stay|lose|keep)",
        ),
        topics=(
            r"health(?:y|ier)?",
            r"nutrition(?:al)?",
            r"nutritious",
            r"calories",
            r"diet",
            r"protein",
            r"organic",
            r"vegan",
            r"vegetarian",
            r"gluten[- ]free",
            r"keto",
        ),
    ),
    Category(
        "time_saving",
        "motivation",
        "Saves time: quick meals, no planning or shopping.",
        cues=(
            r"saves? (?:me |us )?(?:a lot of |so much |tons of |lots of )?time",
            r"saved (?:me |us )?(?:a lot of |so much |tons of |lots of )?time",
            r"time[- ]?saver",
            r"time[- ]saving",
            r"(?:ready|done|cooked|on the table) in (?:under |about |less than )?\d+ minutes",
            r"(?:no more|less|don'?t have to (?:do )?(?:any )?(?:more )?)(?:meal planning|grocery shopping|shopping|planning)",
            r"(?:perfect|great|ideal) for (?:busy|weeknights?)",
        ),
        topics=(r"time", r"minutes", r"quick(?:ly)?", r"weeknights?", r"busy"),
    ),
)

TAXONOMY: tuple[Category, ...] = PAIN_POINTS + MOTIVATIONS


def _alternation(patterns: tuple[str, ...]) -> re.Pattern[str]:
    # longest first so that "customer service" wins over "service"
    ordered = sorted(patterns, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(ordered) + r")(?![\w'])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Category, re.Pattern[str], re.Pattern[str]], ...]:
    return tuple((c, _alternation(c.cues), _alternation(c.topics)) for c in TAXONOMY)


# Pieces a sentence is cut into for attribution: punctuation, contrast words and "and".
_PIECE_BREAK_RE = re.compile(
    r"[;,:()\u2013\u2014]|\s-\s|\b(?:but|however|although|though|yet|whereas|while|except|and|plus)\b",
    re.IGNORECASE,
)


def _pieces(sentence: Span) -> list[Span]:
    cuts = [0]
    for m in _PIECE_BREAK_RE.finditer(sentence.piece):
        cuts.append(m.start() if m.group()[0].isalpha() else m.end())
    cuts.append(len(sentence.piece))
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        raw = sentence.piece[a:b]
        stripped = raw.strip(" \t\r\n,;:()-.!?")
        if stripped:
            offset = raw.index(stripped)
            out.append(
                Span(
                    sentence.start + a + offset,
                    sentence.start + a + offset + len(stripped),
                    stripped,
                )
            )
    return out


def _negated_before(text: str, start: int) -> bool:
    """A negator among the three words right before ``start`` (within the same piece)."""
    before = tokenize(text[max(0, start - 40) : start])
    return any(is_negator(t) for t in before[-3:])


def _polarity(piece: str) -> float:
    return lexicon_scores(tokenize(piece))[0]


def detect_aspects(
    text: str,
    *,
    context_score: float | None = None,
    kinds: tuple[Kind, ...] = ("pain_point", "motivation"),
) -> list[dict]:
    """Pain points and motivations in ``text``.

    Returns one dict per (label, clause): ``label``, ``kind``, ``phrase`` (the matched words),
    ``start`` / ``end`` (offsets of ``phrase`` in ``text``), ``context`` (the clause) with
    ``context_start`` / ``context_end``, and ``via`` ("cue" or "topic"). ``context_score`` is the
    document's overall sentiment, used only for clauses and sentences without sentiment words.
    """
    if not text:
        return []
    found: list[dict] = []
    for sentence in sentences(text):
        sentence_polarity: float | None = None
        for piece in _pieces(sentence):
            hits: list[tuple[Category, re.Match[str], str]] = []
            for category, cue_re, _ in _compiled():
                if category.kind not in kinds:
                    continue
                for m in cue_re.finditer(piece.piece):
                    if not _negated_before(piece.piece, m.start()):
                        hits.append((category, m, "cue"))
                        break
            # Of overlapping cues keep the longest: "arrived damaged" is delivery, not quality.
            hits = [
                h
                for h in hits
                if not any(
                    o is not h
                    and o[1].start() <= h[1].start()
                    and h[1].end() <= o[1].end()
                    and (o[1].end() - o[1].start()) > (h[1].end() - h[1].start())
                    for o in hits
                )
            ]
            # A cue explains its clause's polarity, so topic words next to it are not attributed
            # ("the app keeps crashing" is performance_bugs, not usability).
            if not hits:
                piece_polarity = _polarity(piece.piece)
                for category, _, topic_re in _compiled():
                    if category.kind not in kinds:
                        continue
                    m = topic_re.search(piece.piece)
                    if m is None:
                        continue
                    polarity = piece_polarity
                    if abs(polarity) <= CLAUSE_POLARITY_BAND:
                        if sentence_polarity is None:
                            sentence_polarity = _polarity(sentence.piece)
                        polarity = sentence_polarity
                    if (
                        abs(polarity) <= CLAUSE_POLARITY_BAND
                        and context_score is not None
                        and abs(context_score) >= CONTEXT_POLARITY_MIN
                    ):
                        polarity = context_score
                    sign = -1.0 if category.kind == "pain_point" else 1.0
                    if polarity * sign > CLAUSE_POLARITY_BAND:
                        hits.append((category, m, "topic"))
            for category, match, via in hits:
                found.append(
                    {
                        "label": category.label,
                        "kind": category.kind,
                        "phrase": match.group(),
                        "start": piece.start + match.start(),
                        "end": piece.start + match.end(),
                        "context": piece.piece,
                        "context_start": piece.start,
                        "context_end": piece.end,
                        "via": via,
                    }
                )
    return found


def detect_pain_points(text: str, *, context_score: float | None = None) -> list[dict]:
    """Pain points in ``text`` (see ``detect_aspects`` for the dict shape)."""
    return detect_aspects(text, context_score=context_score, kinds=("pain_point",))


def detect_motivations(text: str, *, context_score: float | None = None) -> list[dict]:
    """Motivations in ``text`` (see ``detect_aspects`` for the dict shape)."""
    return detect_aspects(text, context_score=context_score, kinds=("motivation",))


def category(label: str, kind: Kind = "pain_point") -> Category:
    """The taxonomy entry named ``label`` of ``kind``."""
    for c in TAXONOMY:
        if c.label == label and c.kind == kind:
            return c
    raise KeyError(f"no {kind} named {label!r}")
