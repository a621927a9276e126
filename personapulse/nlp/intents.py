"""Intent signals in the customer's side of tickets, chats and call transcripts.

Three intents, each found with the phrase that signals it:
- ``buying``: wants to buy more, upgrade, asks how to order or what a plan costs;
- ``hesitating``: asks for discounts or trials, compares, is not sure yet;
- ``churning``: wants to cancel, pause, close the account, get the money back, switch away.

A phrase preceded by a negator ("I don't want to cancel") does not count. Buying phrases win
over churning phrases they overlap ("switch to the annual plan" is an upgrade, not churn).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from personapulse.nlp._text import is_negator, tokenize

INTENTS = ("buying", "hesitating", "churning")

_PLAN = r"(?:premium|pro|plus|family|annual|yearly|business|team|bigger|larger|unlimited|paid)"

INTENT_CUES: dict[str, tuple[str, ...]] = {
    "buying": (
        r"how (?:do|can|would) (?:i|we) (?:upgrade|buy|order|subscribe|purchase|sign up|add)",
        r"(?:want|would like|wish|looking|interested|planning|ready|keen|going) to (?:upgrade|buy|order|purchase|subscribe|sign up|add (?:another|more|a second|extra))",
        r"interested in (?:the |your |a |an )?" + _PLAN,
        r"(?:upgrade|upgrading|switch|switching|move|moving|change|changing) (?:me )?to (?:the |a |an )?"
        + _PLAN,
        r"(?:can|could) (?:i|we) (?:upgrade|buy|order|add)",
        r"(?:do|can) you (?:ship|deliver) to",
        r"sign (?:me|us) up",
        r"place (?:an|another|a new) order",
        r"how much (?:is|does|would|for|are)",
        r"what(?:'s| is| are) the (?:price|cost|pricing)",
        r"do you (?:offer|have) (?:a |an )?" + _PLAN,
        r"add (?:a |an |another |more |extra )?(?:seats?|users?|boxes|box|meals?|servings?)",
        r"(?:buy|order) (?:more|another|again)",
    ),
    "hesitating": (
        r"(?:is|are) there (?:any |a |an )?(?:discounts?|coupons?|promo(?: codes?)?|deals?|offers?|free trial|trial)",
        r"(?:any|a|got a) (?:discounts?|coupons?|promo codes?)",
        r"(?:too|a bit|a little|bit) (?:expensive|pricey|much) for (?:me|us)",
        r"not (?:sure|convinced|certain) (?:if|whether|about|yet)",
        r"(?:still )?(?:thinking|think) (?:about it|it over|about whether)",
        r"on the fence",
        r"hesitant",
        r"(?:compare|comparing|difference between|better than|cheaper than)",
        r"can (?:i|we) (?:try|test) (?:it )?(?:first|before)",
        r"free trial",
        r"money[- ]back guarantee",
        r"what if (?:i|we) (?:don'?t|do not) like",
        r"(?:need|have) to (?:check|talk|discuss) (?:with|it)",
        r"maybe (?:later|next month)",
        r"can'?t decide",
    ),
    "churning": (
        r"cancel (?:my|the|our|this)? ?(?:subscription|account|plan|membership|order|service)",
        r"(?:want|going|need|trying|would like|wish|how do i|how can i|have|plan) to (?:cancel|unsubscribe|close|delete|stop|end|quit)",
        # a capitalised word after "switching to" is taken as a competitor's name
        r"(?:switch|switching|moving|move|changing|going over) (?:over )?to (?:another|a different|a competitor|a cheaper|(?-i:[A-Z]\w+))",
        r"(?:close|delete|deactivate) (?:my|our) account",
        r"unsubscrib(?:e|ing)",
        r"(?:pause|pausing|stop|stopping) (?:my|the|our) (?:subscription|deliveries|plan|membership|orders?)",
        r"(?:want|need|demand|give me) (?:a |my )?(?:refund|money back)",
        r"(?:this is|this was) (?:my|our) (?:last|final) (?:order|box)",
        r"(?:no longer|don'?t|do not) (?:need|want|use) (?:it|this|the service|your service|the app)",
        r"not (?:going to |gonna )?renew(?:ing)?",
        r"(?:leaving|left) (?:you|for)",
        r"done with (?:you|this|your)",
    ),
}


def _alternation(patterns: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(patterns, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(ordered) + r")(?![\w'])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: _alternation(cues) for name, cues in INTENT_CUES.items()}


def _negated(text: str, start: int) -> bool:
    before = tokenize(text[max(0, start - 40) : start])
    return any(is_negator(t) for t in before[-3:])


def detect_intents(text: str) -> list[dict]:
    """Intent signals in ``text``: dicts ``intent``, ``phrase``, ``start``, ``end`` in text order."""
    if not text:
        return []
    found: list[dict] = []
    taken: list[tuple[int, int]] = []
    for intent in INTENTS:
        for m in _compiled()[intent].finditer(text):
            if _negated(text, m.start()):
                continue
            if any(m.start() < b and a < m.end() for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(
                {"intent": intent, "phrase": m.group(), "start": m.start(), "end": m.end()}
            )
    return sorted(found, key=lambda d: d["start"])


# Speaker labels that mark the company's side in a transcript ("Agent: …", "Rep - …").
_AGENT_SPEAKERS = frozenset(
    {
        "agent",
        "rep",
        "representative",
        "support",
        "advisor",
        "adviser",
        "csr",
        "operator",
        "assistant",
        "bot",
        "staff",
        "seller",
        "sales",
        "salesperson",
        "host",
    }
)
_CUSTOMER_SPEAKERS = frozenset({"customer", "client", "user", "caller", "buyer", "visitor", "me"})
_SPEAKER_RE = re.compile(r"^\s*\[?([A-Za-z][\w .'-]{0,30}?)\]?\s*[:>\-]\s+(.*)$")


def customer_text(conversation: str | Iterable[Mapping] | None) -> str:
    """The customer's side of a conversation.

    - a list of messages ``{"role": "customer" | "agent", "text": …}``: customer messages joined by
      newlines;
    - a transcript string with speaker labels ("Agent: …", "Customer: …"): lines of non-agent
      speakers (unlabelled lines belong to the previous speaker);
    - any other string (the store's ``text`` column is already customer-only): unchanged.
    """
    if conversation is None:
        return ""
    if not isinstance(conversation, str):
        return "\n".join(
            str(m.get("text") or "")
            for m in conversation
            if str(m.get("role", "customer")).lower() not in _AGENT_SPEAKERS
        )
    lines = conversation.splitlines()
    labelled = [_SPEAKER_RE.match(line) for line in lines]
    speakers = {m.group(1).strip().lower() for m in labelled if m}
    if not speakers & (_AGENT_SPEAKERS | _CUSTOMER_SPEAKERS):
        return conversation
    kept: list[str] = []
    agent_speaking = False
    for line, m in zip(lines, labelled, strict=True):
        if m and m.group(1).strip().lower() in (_AGENT_SPEAKERS | _CUSTOMER_SPEAKERS):
            agent_speaking = m.group(1).strip().lower() in _AGENT_SPEAKERS
            if not agent_speaking:
                kept.append(m.group(2))
        elif not agent_speaking:
            kept.append(line)
    return "\n".join(kept)
