"""Fact sheets: every number and name a persona card may use, each under a stable id.

A fact sheet is built only from what the service already computed (the persona payload of
``GET /v1/personas``, the pain-point rows of ``GET /v1/pain-points`` and the journey rows of
``GET /v1/journeys``). Narrators may only restate these facts; the grounding check
(:mod:`personapulse.narratives.grounding`) compares every sentence with the facts it cites.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from personapulse.narratives.vocabulary import (
    channel_key,
    channels_in,
    pages_in,
    path_channels,
    path_pages,
    path_steps,
)

MAX_TRAITS = 5
MAX_CHANNELS = 3
MAX_PATHS = 3
MAX_DROPOFFS = 3
MAX_TRANSITIONS = 3
MAX_PAIN_POINTS = 5
MAX_MOTIVATIONS = 3
MAX_EXAMPLES = 2
# A path statement lists at most this many steps; the values keep every page of the path.
PATH_STATEMENT_STEPS = 12

# Units decide how a number may be written: a "share" (0..1) is written as a percentage.
SHARE = "share"
COUNT = "count"
MONEY = "money"
NUMBER = "number"
PP = "percentage_points"

_PERCENT_IN_TEXT = re.compile(r"\d%")
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(%)?")


@dataclass(frozen=True)
class Fact:
    """One checkable statement.

    ``values`` maps a name to a number (unit in ``units``) or a string / list of strings;
    ``terms`` are the names (channels, page paths, steps, pain-point labels, persona names)
    a sentence citing this fact may mention.
    """

    id: str
    kind: str
    statement: str
    values: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    terms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "statement": self.statement,
            "values": self.values,
            "units": self.units,
            "terms": list(self.terms),
        }

    def numbers(self) -> list[tuple[float, str]]:
        """Every numeric value with its unit (lists of numbers flattened)."""
        found: list[tuple[float, str]] = []
        for name, value in self.values.items():
            unit = self.units.get(name, NUMBER)
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                if isinstance(item, bool) or not isinstance(item, int | float):
                    continue
                if math.isfinite(item):
                    found.append((float(item), unit))
        return found


@dataclass(frozen=True)
class FactSheet:
    """All facts about one persona; ``hash`` is the sha256 of the canonical JSON."""

    persona_id: str
    names: tuple[str, ...]
    facts: tuple[Fact, ...]

    @property
    def by_id(self) -> dict[str, Fact]:
        return {fact.id: fact for fact in self.facts}

    @property
    def name(self) -> str:
        return self.names[0]

    def ids(self, prefix: str = "") -> list[str]:
        return [fact.id for fact in self.facts if fact.id.startswith(prefix)]

    def get(self, fact_id: str) -> Fact | None:
        return self.by_id.get(fact_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona_id": self.persona_id,
            "names": list(self.names),
            "facts": [fact.to_dict() for fact in self.facts],
        }

    @property
    def hash(self) -> str:
        canonical = orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> FactSheet:
        facts = tuple(
            Fact(
                id=f["id"],
                kind=f["kind"],
                statement=f["statement"],
                values=dict(f.get("values", {})),
                units=dict(f.get("units", {})),
                terms=tuple(f.get("terms", ())),
            )
            for f in payload["facts"]
        )
        return cls(persona_id=payload["persona_id"], names=tuple(payload["names"]), facts=facts)


def pct(share: float, decimals: int = 0) -> str:
    """0.234 -> "23%" (the way every narrator writes shares)."""
    return f"{share * 100:.{decimals}f}%"


def _clean_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numbers_in_text(text: str) -> tuple[list[float], list[float]]:
    """Plain numbers and percentages (as shares) written in a service-made sentence."""
    plain: list[float] = []
    shares: list[float] = []
    for match in _NUMBER_IN_TEXT.finditer(text):
        number = float(match.group(1))
        if match.group(2):
            shares.append(number / 100)
        else:
            plain.append(number)
    return plain, shares


def _require(mapping: Mapping[str, Any], keys: Iterable[str], what: str) -> None:
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ValueError(f"{what} is missing {', '.join(missing)}")


def _persona_rows(rows: Iterable[Mapping[str, Any]] | None, persona_id: str) -> list[dict]:
    return [dict(row) for row in rows or () if row.get("persona_id") == persona_id]


def _persona_facts(persona: Mapping[str, Any], names: tuple[str, ...]) -> list[Fact]:
    profile = persona.get("profile") or {}
    facts = [
        Fact(
            id="persona",
            kind="identity",
            statement=f"The persona is called {names[0]!r} (id {persona['persona_id']}).",
            values={"persona_id": persona["persona_id"], "names": list(names)},
            terms=names,
        )
    ]
    share = _clean_float(persona.get("share"))
    size = int(persona.get("size") or 0)
    facts.append(
        Fact(
            id="size",
            kind="size",
            statement=f"{size} users, {pct(share or 0.0, 1)} of all users.",
            values={"users": size, "share": share},
            units={"users": COUNT, "share": SHARE},
        )
    )
    for trait in (profile.get("traits") or [])[:MAX_TRAITS]:
        text = str(trait.get("text") or trait["feature"])
        is_share = bool(_PERCENT_IN_TEXT.search(text))
        unit = SHARE if is_share else NUMBER
        values: dict[str, Any] = {
            "persona_value": _clean_float(trait.get("persona_value")),
            "overall_value": _clean_float(trait.get("overall_value")),
            "direction": trait.get("direction"),
        }
        units = {"persona_value": unit, "overall_value": unit}
        # The service's own sentence rounds (e.g. medians shown as means); keep its figures too.
        plain, shares = _numbers_in_text(text)
        if plain:
            values["stated"] = plain
            units["stated"] = NUMBER
        if shares:
            values["stated_shares"] = shares
            units["stated_shares"] = SHARE
        facts.append(
            Fact(
                id=f"trait.{trait['feature']}",
                kind="trait",
                statement=text[:1].upper() + text[1:] + ".",
                values=values,
                units=units,
            )
        )
    conversion = _clean_float(profile.get("conversion"))
    if conversion is not None:
        facts.append(
            Fact(
                id="conversion",
                kind="conversion",
                statement=f"{pct(conversion)} of the persona bought at least once.",
                values={"conversion": conversion},
                units={"conversion": SHARE},
            )
        )
    revenue = profile.get("revenue") or {}
    if revenue:
        mean = _clean_float(revenue.get("mean_per_user")) or 0.0
        total = _clean_float(revenue.get("total")) or 0.0
        share_of_total = _clean_float(revenue.get("share_of_total")) or 0.0
        facts.append(
            Fact(
                id="revenue",
                kind="revenue",
                statement=(
                    f"Revenue {mean:,.2f} per user, {total:,.2f} in total, "
                    f"{pct(share_of_total)} of all revenue."
                ),
                values={
                    "mean_per_user": mean,
                    "total": total,
                    "share_of_total": share_of_total,
                },
                units={"mean_per_user": MONEY, "total": MONEY, "share_of_total": SHARE},
            )
        )
    for channel in (profile.get("top_channels") or [])[:MAX_CHANNELS]:
        name = str(channel["name"])
        share_value = _clean_float(channel.get("share")) or 0.0
        facts.append(
            Fact(
                id=f"channel.{name}",
                kind="channel",
                statement=f"{pct(share_value)} of the persona's sessions come from {name}.",
                values={"channel": name, "share": share_value},
                units={"share": SHARE},
                terms=(channel_key(name),),
            )
        )
    negative = profile.get("negative") or {}
    if negative.get("flag"):
        reasons = [str(reason) for reason in negative.get("reasons") or []]
        plain: list[float] = []
        shares: list[float] = []
        for reason in reasons:
            more_plain, more_shares = _numbers_in_text(reason)
            plain += more_plain
            shares += more_shares
        facts.append(
            Fact(
                id="negative",
                kind="negative",
                statement="Flagged as a persona not to target: " + "; ".join(reasons) + ".",
                values={"reasons": reasons, "stated": plain, "stated_shares": shares},
                units={"stated": NUMBER, "stated_shares": SHARE},
            )
        )
    return facts


def _gate_fact(gate: Mapping[str, Any] | None) -> list[Fact]:
    if not gate:
        return []
    reliable = bool(gate.get("reliable"))
    reasons = [str(reason) for reason in gate.get("reasons") or []]
    statement = (
        "The persona set passed the reliability gate."
        if reliable
        else "The persona set failed the reliability gate: " + "; ".join(reasons) + "."
    )
    values: dict[str, Any] = {"reliable": reliable, "reasons": reasons}
    units: dict[str, str] = {}
    for key in ("entropy", "min_share", "stability"):
        number = _clean_float(gate.get(key))
        if number is not None:
            values[key] = number
            units[key] = SHARE if key == "min_share" else NUMBER
    return [Fact(id="gate", kind="gate", statement=statement, values=values, units=units)]


def _pain_facts(rows: list[dict]) -> list[Fact]:
    facts: list[Fact] = []
    for kind, prefix, limit in (
        ("pain_point", "pain", MAX_PAIN_POINTS),
        ("motivation", "motivation", MAX_MOTIVATIONS),
    ):
        chosen = sorted(
            (row for row in rows if row.get("kind") == kind),
            key=lambda row: (
                -(_clean_float(row.get("share")) or 0.0),
                -int(row.get("count") or 0),
                str(row["label"]),
            ),
        )[:limit]
        for row in chosen:
            label = str(row["label"])
            share = _clean_float(row.get("share")) or 0.0
            count = int(row.get("count") or 0)
            persons = int(row.get("persons") or 0)
            examples = [str(example) for example in (row.get("examples") or [])[:MAX_EXAMPLES]]
            values: dict[str, Any] = {
                "label": label,
                "count": count,
                "persons": persons,
                "share": share,
                "examples": examples,
            }
            units = {"count": COUNT, "persons": COUNT, "share": SHARE}
            if any(row.get(w) is not None for w in ("count_7d", "count_30d")):
                values["window_days"] = [7, 30]
                units["window_days"] = COUNT
            for window in ("count_7d", "count_prev_7d", "count_30d", "count_prev_30d"):
                if row.get(window) is not None:
                    values[window] = int(row[window])
                    units[window] = COUNT
            noun = "pain point" if kind == "pain_point" else "motivation"
            statement = (
                f"{noun.capitalize()} {label}: raised {count} times by {persons} people, "
                f"{pct(share)} of the persona's reviewers and contacts."
            )
            if "count_7d" in values and "count_prev_7d" in values:
                statement += (
                    f" {values['count_7d']} mentions in the last 7 days against "
                    f"{values['count_prev_7d']} in the 7 days before."
                )
            facts.append(
                Fact(
                    id=f"{prefix}.{label}",
                    kind=kind,
                    statement=statement,
                    values=values,
                    units=units,
                    terms=(label,),
                )
            )
    return facts


def _path_facts(rows: list[dict]) -> list[Fact]:
    facts = []
    for row in sorted(rows, key=lambda r: int(r["rank"]))[:MAX_PATHS]:
        path = str(row["path"])
        steps = path_steps(path)
        shown = " → ".join(steps[:PATH_STATEMENT_STEPS])
        if len(steps) > PATH_STATEMENT_STEPS:
            shown += " → …"
        users = int(row.get("users") or 0)
        share = _clean_float(row.get("share")) or 0.0
        values: dict[str, Any] = {
            "path": path,
            "users": users,
            "share": share,
            "pages": path_pages(path),
            "channels": path_channels(path),
            "repeats": [int(n) for n in re.findall(r"×(\d+)", path)],
        }
        units = {"users": COUNT, "share": SHARE, "repeats": COUNT}
        for key in ("sessions", "steps"):
            if row.get(key) is not None:
                values[key] = int(row[key])
                units[key] = COUNT
        facts.append(
            Fact(
                id=f"path.{int(row['rank'])}",
                kind="path",
                statement=(
                    f"Journey ranked {int(row['rank'])}: {users} users ({pct(share, 1)} of the "
                    f"persona) took {shown}"
                ),
                values=values,
                units=units,
                terms=tuple(dict.fromkeys(steps + values["channels"])),
            )
        )
    return facts


def _dropoff_facts(rows: list[dict]) -> list[Fact]:
    facts = []
    for row in sorted(rows, key=lambda r: int(r["rank"]))[:MAX_DROPOFFS]:
        step = str(row["last_step"])
        count = int(row.get("count") or 0)
        share = _clean_float(row.get("share")) or 0.0
        pains = [
            {"label": str(p["label"]), "count": int(p["count"])}
            for p in row.get("pain_points") or []
        ]
        values: dict[str, Any] = {
            "last_step": step,
            "count": count,
            "share": share,
            "pain_points": [p["label"] for p in pains],
            "pain_point_counts": [p["count"] for p in pains],
        }
        units = {"count": COUNT, "share": SHARE, "pain_point_counts": COUNT}
        for key in ("dropped", "total"):
            if row.get(key) is not None:
                values[key] = int(row[key])
                units[key] = COUNT
        statement = (
            f"{count} of the persona's non-buyers ({pct(share)} of its drop-offs) stopped "
            f"last at {step}."
        )
        if pains:
            statement += " Pain points they raised: " + ", ".join(values["pain_points"]) + "."
        facts.append(
            Fact(
                id=f"dropoff.{int(row['rank'])}",
                kind="dropoff",
                statement=statement,
                values=values,
                units=units,
                terms=(step, *values["pain_points"]),
            )
        )
    return facts


def _transition_facts(rows: list[dict]) -> list[Fact]:
    chosen = sorted(
        rows,
        key=lambda r: (-int(r.get("count") or 0), int(r.get("step_number") or 0), str(r["source"])),
    )[:MAX_TRANSITIONS]
    facts = []
    for rank, row in enumerate(chosen, start=1):
        source, target = str(row["source"]), str(row["target"])
        count, users = int(row.get("count") or 0), int(row.get("users") or 0)
        facts.append(
            Fact(
                id=f"transition.{rank}",
                kind="transition",
                statement=(
                    f"{users} people went from {source} to {target} ({count} times, "
                    f"as step {int(row['step_number'])} to the next)."
                ),
                values={
                    "source": source,
                    "target": target,
                    "count": count,
                    "users": users,
                    "step_number": int(row["step_number"]),
                },
                units={"count": COUNT, "users": COUNT, "step_number": COUNT},
                terms=(source, target),
            )
        )
    return facts


def _trend_fact(share: float | None, previous_share: float | None) -> list[Fact]:
    if previous_share is None or share is None:
        return []
    change_pp = (share - previous_share) * 100
    direction = "growing" if change_pp > 0 else "shrinking"
    if abs(change_pp) < 0.05:
        direction = "stable"
    return [
        Fact(
            id="trend.share",
            kind="trend",
            statement=(
                f"The persona's share went from {pct(previous_share, 1)} in the previous version "
                f"to {pct(share, 1)} ({change_pp:+.1f} percentage points, {direction})."
            ),
            values={
                "previous_share": previous_share,
                "share": share,
                "change_pp": round(change_pp, 6),
                "direction": direction,
            },
            units={"previous_share": SHARE, "share": SHARE, "change_pp": PP},
        )
    ]


def build_fact_sheet(
    persona: Mapping[str, Any],
    *,
    gate: Mapping[str, Any] | None,
    pain_points: Sequence[Mapping[str, Any]] = (),
    paths: Sequence[Mapping[str, Any]] = (),
    dropoffs: Sequence[Mapping[str, Any]] = (),
    transitions: Sequence[Mapping[str, Any]] = (),
    previous_share: float | None = None,
    total_users: int,
) -> FactSheet:
    """Collect the facts about one persona.

    Input: ``persona`` as one item of ``GET /v1/personas`` (``persona_id``, ``name``, ``label``,
    ``size``, ``share``, ``human``, ``profile`` …), the version's ``gate`` dict, and the rows of
    ``GET /v1/pain-points`` / ``GET /v1/journeys`` (``paths``, ``dropoffs`` and optionally
    ``transitions``, of which the 3 most frequent edges are kept); rows of other
    personas are ignored, so the full lists can be passed. ``previous_share`` is the same persona
    id's share in the previous version (None when new). Output: a :class:`FactSheet` whose fact
    ids are stable (``size``, ``trait.<feature>``, ``conversion``, ``revenue``,
    ``channel.<name>``, ``negative``, ``gate``, ``pain.<label>``, ``motivation.<label>``,
    ``path.<rank>``, ``dropoff.<rank>``, ``transition.<rank>``, ``trend.share``, ``total_users``).
    """
    _require(persona, ("persona_id", "size", "share"), "persona")
    persona_id = str(persona["persona_id"])
    human = persona.get("human") or {}
    names = tuple(
        dict.fromkeys(
            str(name)
            for name in (human.get("display_name"), persona.get("name"), persona.get("label"))
            if name
        )
    ) or (persona_id,)
    facts = _persona_facts(persona, names)
    facts += _gate_fact(gate)
    facts.append(
        Fact(
            id="total_users",
            kind="total",
            statement=f"{int(total_users)} users in this persona version.",
            values={"users": int(total_users)},
            units={"users": COUNT},
        )
    )
    facts += _pain_facts(_persona_rows(pain_points, persona_id))
    facts += _path_facts(_persona_rows(paths, persona_id))
    facts += _dropoff_facts(_persona_rows(dropoffs, persona_id))
    facts += _transition_facts(_persona_rows(transitions, persona_id))
    facts += _trend_fact(_clean_float(persona.get("share")), _clean_float(previous_share))
    return FactSheet(
        persona_id=persona_id, names=names, facts=tuple(_with_own_terms(f) for f in facts)
    )


def _with_own_terms(fact: Fact) -> Fact:
    # A fact's own statement is service output, so the channels and pages it names are supported.
    own = channels_in(fact.statement) + pages_in(fact.statement)
    terms = tuple(dict.fromkeys((*fact.terms, *own)))
    return Fact(fact.id, fact.kind, fact.statement, fact.values, fact.units, terms)
