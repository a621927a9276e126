"""Funnels over event frames: ordered, strict and any-order, with windows and exclusions.

Semantics (see docs/journeys.md for the full description):

- An *attempt* starts at every event matching step 1 (any step in ``order="any"``). Each
  later step is the first matching event at or after the previous step's timestamp
  (equal timestamps count as in order) that the attempt has not used yet, so one event
  satisfies at most one step. ``window`` bounds the time from step 1 to every step,
  ``step_windows`` the time from the previous step.
- ``strict``: only events already used by the attempt may lie between two steps.
- A person's result is the attempt that reaches the furthest step (earliest such attempt).
- Exclusions, PostHog mode: a person whose counted attempt has an excluded event between
  the two steps it is attached to (inclusive of equal timestamps, both steps reached) is
  removed from the funnel. Mixpanel mode: such an attempt only counts up to its
  ``from_step``; another, clean attempt of the same person can count further.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from personapulse.journeys._frame import (
    NS_PER_SECOND,
    attach_personas,
    factorize,
    ns_to_datetime,
    order_events,
    require_columns,
    to_timedelta_ns,
)
from personapulse.journeys.sessions import DEFAULT_CHANNEL_RULES, session_channels, sessionize
from personapulse.journeys.steps import DEFAULT_CLEANING, clean_path

UNASSIGNED = "(unassigned)"


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: an event name, a page path (exact or regex), and property filters.

    ``where`` maps a column of the event frame to a value (equality), a list / tuple / set
    (membership) or a callable taking the column and returning a boolean mask. A plain
    string step is an event name, or a page path when it starts with "/".
    """

    event: str | None = None
    page_path: str | None = None
    page_path_regex: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    within: str | pd.Timedelta | None = None

    def __post_init__(self) -> None:
        if (
            self.event is None
            and self.page_path is None
            and self.page_path_regex is None
            and not self.where
        ):
            raise ValueError(
                "a funnel step needs an event, a page_path, a page_path_regex or a where filter"
            )

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        base = self.event or self.page_path or self.page_path_regex or "where"
        if self.where:
            filters = ", ".join(
                f"{key}={value!r}" for key, value in self.where.items() if not callable(value)
            )
            return f"{base} [{filters}]" if filters else base
        return base


@dataclass(frozen=True)
class Exclusion:
    """An excluded step attached to funnel steps ``from_step`` → ``to_step`` (1-based)."""

    step: FunnelStep
    from_step: int = 1
    to_step: int | None = None


def as_step(step: str | Mapping | FunnelStep) -> FunnelStep:
    """Coerce "Order Completed", "/pricing", a dict of FunnelStep fields, or a FunnelStep."""
    if isinstance(step, FunnelStep):
        return step
    if isinstance(step, str):
        return FunnelStep(page_path=step) if step.startswith("/") else FunnelStep(event=step)
    if isinstance(step, Mapping):
        return FunnelStep(**step)
    raise TypeError(f"cannot use {step!r} as a funnel step")


def as_exclusion(item: str | Mapping | FunnelStep | Exclusion, n_steps: int) -> Exclusion:
    """Coerce an exclusion; a dict may hold step fields plus from_step / to_step."""
    if isinstance(item, Exclusion):
        exclusion = item
    elif isinstance(item, Mapping) and ("from_step" in item or "to_step" in item or "step" in item):
        # {"step": <step>, "from_step": …} (the HTTP shape) or the step's fields inline.
        fields = (
            item["step"]
            if "step" in item
            else {k: v for k, v in item.items() if k not in ("from_step", "to_step")}
        )
        exclusion = Exclusion(as_step(fields), item.get("from_step", 1), item.get("to_step"))
    else:
        exclusion = Exclusion(as_step(item))
    to_step = n_steps if exclusion.to_step is None else exclusion.to_step
    if not 1 <= exclusion.from_step < to_step <= n_steps:
        raise ValueError(f"exclusion steps must satisfy 1 <= from_step < to_step <= {n_steps}")
    return Exclusion(exclusion.step, exclusion.from_step, to_step)


class _Columns:
    """Factorised columns of the sorted events so every step mask is a code lookup."""

    def __init__(
        self,
        events: pd.DataFrame,
        order: np.ndarray,
        *,
        page_path_col: str,
        replacements: Sequence[tuple[str, str]],
    ) -> None:
        self.events = events
        self.order = order
        self.page_path_col = page_path_col
        self.replacements = replacements
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._codes:
            if column not in self.events.columns:
                raise ValueError(f"events is missing column {column!r} used by a funnel step")
            codes, uniques = factorize(self.events[column])
            codes = codes[self.order]
            if column == self.page_path_col and self.replacements:
                # Steps match cleaned paths, so "/recipes/:id" matches /recipes/123.
                uniques = [clean_path(str(value), self.replacements) for value in uniques]
            self._codes[column] = (codes, np.asarray(uniques, dtype=object))
        return self._codes[column]

    def lookup(self, column: str, accept: Callable[[Any], bool]) -> np.ndarray:
        codes, uniques = self.codes(column)
        hits = np.fromiter(
            (bool(accept(value)) for value in uniques), dtype=bool, count=uniques.size
        )
        return np.append(hits, False)[codes]  # code -1 (missing) never matches

    def mask(self, step: FunnelStep, event_col: str, page_path_col: str) -> np.ndarray:
        result = np.ones(self.order.size, dtype=bool)
        if step.event is not None:
            result &= self.lookup(event_col, lambda value: value == step.event)
        if step.page_path is not None:
            result &= self.lookup(page_path_col, lambda value: value == step.page_path)
        if step.page_path_regex is not None:
            regex = re.compile(step.page_path_regex)
            result &= self.lookup(
                page_path_col, lambda value: regex.fullmatch(str(value)) is not None
            )
        for column, expected in step.where.items():
            if callable(expected):
                if column not in self.events.columns:
                    raise ValueError(f"events is missing column {column!r} used by a funnel step")
                selected = np.asarray(expected(self.events[column]), dtype=bool)[self.order]
                result &= selected
            elif isinstance(expected, list | tuple | set | frozenset):
                allowed = set(expected)
                result &= self.lookup(column, lambda value, allowed=allowed: value in allowed)
            else:
                result &= self.lookup(column, lambda value, expected=expected: value == expected)
        return result


@dataclass
class FunnelResult:
    """Result of :func:`funnel`.

    ``steps``: one row per step (overall). ``breakdown``: the same per breakdown value
    (column named after the breakdown), or None. ``persons``: one row per person who
    entered the funnel and was not excluded: person_id, steps_reached, step_<k>_time, and
    the breakdown column when there is one.
    """

    steps: pd.DataFrame
    breakdown: pd.DataFrame | None
    persons: pd.DataFrame
    step_names: list[str]
    order: str
    window_seconds: float | None
    exclusion_mode: str
    persons_excluded: int
    breakdown_by: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """Overall rows (breakdown value "all") followed by the breakdown rows."""
        if self.breakdown is None:
            return self.steps.copy()
        assert self.breakdown_by is not None
        overall = self.steps.assign(**{self.breakdown_by: "all"})
        return pd.concat([overall[self.breakdown.columns], self.breakdown], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN becomes None)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            rows = frame.to_dict(orient="records")
            return [{key: _jsonable(value) for key, value in row.items()} for row in rows]

        payload: dict[str, Any] = {
            "steps": records(self.steps),
            "step_names": list(self.step_names),
            "order": self.order,
            "window_seconds": self.window_seconds,
            "exclusion_mode": self.exclusion_mode,
            "persons_entered": int(len(self.persons)),
            "persons_excluded": int(self.persons_excluded),
            "breakdown_by": self.breakdown_by,
            "breakdown": None,
        }
        if self.breakdown is not None:
            assert self.breakdown_by is not None
            payload["breakdown"] = {
                str(value): records(group.drop(columns=[self.breakdown_by]))
                for value, group in self.breakdown.groupby(self.breakdown_by, sort=False)
            }
        return payload


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(float(value)) else float(value)
    return value


def _step_windows_ns(
    step_windows: Sequence | Mapping | None, funnel_steps: list[FunnelStep]
) -> list[int | None]:
    """Per step (index 0..K-1), the max time from the previous step; index 0 is None."""
    k = len(funnel_steps)
    windows: list[int | None] = [None] + [
        to_timedelta_ns(step.within, name="within") for step in funnel_steps[1:]
    ]
    if step_windows is None:
        return windows
    if isinstance(step_windows, Mapping):
        items = step_windows.items()
    else:
        if len(step_windows) != k - 1:
            raise ValueError(
                f"step_windows needs {k - 1} entries (steps 2..{k}), got {len(step_windows)}"
            )
        items = zip(range(2, k + 1), step_windows, strict=True)
    for number, value in items:
        if not 2 <= int(number) <= k:
            raise ValueError(f"step_windows keys are step numbers 2..{k}, got {number}")
        windows[int(number) - 1] = to_timedelta_ns(value, name="step_windows")
    return windows


def _first_unused(
    positions: np.ndarray, low: np.ndarray, chosen: np.ndarray, rows: np.ndarray, used_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """First entry of ``positions`` at or after ``low`` not already chosen by the attempt."""
    index = np.searchsorted(positions, low, side="left")
    for _ in range(used_steps):
        valid = index < positions.size
        candidate = (
            positions[np.minimum(index, max(positions.size - 1, 0))] if positions.size else low
        )
        used = np.zeros(index.size, dtype=bool)
        for j in range(used_steps):
            used |= chosen[rows, j] == candidate
        index = index + (used & valid)
    valid = index < positions.size
    candidate = np.where(
        valid,
        positions[np.minimum(index, max(positions.size - 1, 0))] if positions.size else -1,
        -1,
    )
    return candidate, valid


def _ordered_attempts(
    masks: list[np.ndarray],
    times: np.ndarray,
    tie_start: np.ndarray,
    person_end: np.ndarray,
    *,
    strict: bool,
    window_ns: int | None,
    step_windows: list[int | None],
) -> np.ndarray:
    """Chosen event position per (attempt, step); -1 from the first step not reached."""
    starts = np.flatnonzero(masks[0])
    k_steps = len(masks)
    chosen = np.full((starts.size, k_steps), -1, dtype=np.int64)
    chosen[:, 0] = starts
    alive = np.arange(starts.size)
    for k in range(1, k_steps):
        if alive.size == 0:
            break
        previous = chosen[alive, k - 1]
        candidate, valid = _first_unused(
            np.flatnonzero(masks[k]), tie_start[previous], chosen, alive, k
        )
        safe = np.where(valid, candidate, 0)
        valid &= safe < person_end[previous]
        if window_ns is not None:
            valid &= times[safe] - times[chosen[alive, 0]] <= window_ns
        if step_windows[k] is not None:
            valid &= times[safe] - times[previous] <= step_windows[k]
        if strict:
            # Only events the attempt already used may sit between the two steps.
            low = np.minimum(previous, safe)
            high = np.maximum(previous, safe)
            inside_used = np.zeros(alive.size, dtype=np.int64)
            for j in range(k):
                used = chosen[alive, j]
                inside_used += (used > low) & (used < high)
            valid &= (high - low - 1 - inside_used) == 0
        chosen[alive[valid], k] = safe[valid]
        alive = alive[valid]
    return chosen


def _any_order_attempts(
    masks: list[np.ndarray],
    times: np.ndarray,
    tie_start: np.ndarray,
    person_end: np.ndarray,
    *,
    window_ns: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per attempt (one per step event) the sorted times at which 1..K steps were done."""
    any_mask = np.logical_or.reduce(masks)
    starts = np.flatnonzero(any_mask)
    firsts = np.full((starts.size, len(masks)), np.iinfo(np.int64).max, dtype=np.int64)
    low = tie_start[starts]
    for k, mask in enumerate(masks):
        positions = np.flatnonzero(mask)
        index = np.searchsorted(positions, low, side="left")
        valid = index < positions.size
        candidate = (
            positions[np.minimum(index, max(positions.size - 1, 0))] if positions.size else low
        )
        valid &= candidate < person_end[starts]
        if window_ns is not None:
            valid &= times[candidate] - times[starts] <= window_ns
        firsts[valid, k] = times[candidate[valid]]
    firsts.sort(axis=1)
    return starts, firsts


def _excluded_between(
    exclusion_positions: np.ndarray,
    exclusion_mask: np.ndarray,
    chosen_rows: np.ndarray,
    from_index: int,
    to_index: int,
    tie_start: np.ndarray,
    tie_stop: np.ndarray,
) -> np.ndarray:
    """Whether an exclusion event (not a step event of the attempt) lies in [t_from, t_to]."""
    low = tie_start[chosen_rows[:, from_index]]
    high = tie_stop[chosen_rows[:, to_index]]
    count = np.searchsorted(exclusion_positions, high, side="left") - np.searchsorted(
        exclusion_positions, low, side="left"
    )
    for j in range(chosen_rows.shape[1]):
        used = chosen_rows[:, j]
        valid = used >= 0
        safe = np.where(valid, used, 0)
        count -= valid & exclusion_mask[safe] & (safe >= low) & (safe < high)
    return count > 0


def _best_per_person(persons: np.ndarray, reached: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of each person's attempt with the most steps (the earliest one on ties)."""
    order = np.lexsort((starts, -reached, persons))
    first = (
        np.r_[True, persons[order][1:] != persons[order][:-1]]
        if order.size
        else np.zeros(0, dtype=bool)
    )
    return order[first]


def _step_table(reached: np.ndarray, step_times: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Counts, conversions, drop-offs and time to convert per step."""
    k_steps = len(names)
    counts = np.array([(reached >= k + 1).sum() for k in range(k_steps)], dtype=np.int64)
    rows = []
    for k in range(k_steps):
        count = int(counts[k])
        previous = int(counts[k - 1]) if k else count
        first = int(counts[0])
        average = median = math.nan
        if k:
            done = reached >= k + 1
            deltas = (step_times[done, k] - step_times[done, k - 1]) / NS_PER_SECOND
            if deltas.size:
                average = float(np.mean(deltas))
                median = float(np.median(deltas))
        rows.append(step_row(k, names[k], count, previous, first, average, median))
    return pd.DataFrame(rows)


def step_row(
    k: int, name: str, count: int, previous: int, first: int, average: float, median: float
) -> dict:
    """One row of a funnel's step table (shared by every engine, so their columns agree)."""
    return {
        "step": k + 1,
        "name": name,
        "count": count,
        "conversion_from_previous": count / previous if previous else math.nan,
        "conversion_from_first": count / first if first else math.nan,
        "dropoff": previous - count,
        "dropoff_rate": (previous - count) / previous if previous else math.nan,
        "avg_time_to_convert_s": average,
        "median_time_to_convert_s": median,
    }


def funnel(
    events: pd.DataFrame,
    steps: Sequence[str | Mapping | FunnelStep],
    *,
    window: str | pd.Timedelta | None = "7d",
    step_windows: Sequence | Mapping | None = None,
    order: Literal["ordered", "strict", "any"] = "ordered",
    exclusions: Sequence[str | Mapping | FunnelStep | Exclusion] = (),
    exclusion_mode: Literal["posthog", "mixpanel"] = "posthog",
    breakdown: Literal["persona", "channel"] | None = None,
    assignments: pd.DataFrame | None = None,
    gap_minutes: float = 30,
    channel_rules: Sequence | None = None,
    replacements: Sequence[tuple[str, str]] = DEFAULT_CLEANING,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    event_col: str = "event",
    page_path_col: str = "page_path",
    persona_col: str = "persona_id",
) -> FunnelResult:
    """Conversion funnel over an event frame.

    Input: an event frame (data contract); ``steps``: two or more steps (event names,
    "/paths", dicts of :class:`FunnelStep` fields, or FunnelSteps); ``window``: maximum time
    from step 1 to each step (None: unlimited); ``step_windows``: per-step maximum time from
    the previous step, a list for steps 2..K or a {step_number: window} dict.
    ``breakdown="persona"`` needs ``assignments`` (person_id, persona_id; people without one
    are "(unassigned)"); ``breakdown="channel"`` uses the channel of the session holding the
    person's step-1 event (a ``channel`` column of ``events`` if present, else sessions with
    ``gap_minutes`` and the channel rules). Page paths are cleaned with ``replacements``
    (see :func:`to_steps`; pass ``()`` to match raw paths) before ``page_path`` /
    ``page_path_regex`` (a full match) are compared.

    Output: a :class:`FunnelResult` (per-step DataFrame, breakdown, per-person rows, dict).
    """
    if order not in ("ordered", "strict", "any"):
        raise ValueError(f"order must be 'ordered', 'strict' or 'any', got {order!r}")
    if exclusion_mode not in ("posthog", "mixpanel"):
        raise ValueError(f"exclusion_mode must be 'posthog' or 'mixpanel', got {exclusion_mode!r}")
    if breakdown not in (None, "persona", "channel"):
        raise ValueError(f"breakdown must be None, 'persona' or 'channel', got {breakdown!r}")
    if breakdown == "persona" and assignments is None:
        raise ValueError("breakdown='persona' needs assignments")
    funnel_steps = [as_step(step) for step in steps]
    if len(funnel_steps) < 2:
        raise ValueError("a funnel needs at least two steps")
    exclusion_list = [as_exclusion(item, len(funnel_steps)) for item in exclusions]
    window_ns = to_timedelta_ns(window, name="window")
    windows = _step_windows_ns(step_windows, funnel_steps)
    if order == "any" and (exclusion_list or any(w is not None for w in windows)):
        raise ValueError("order='any' supports neither exclusions nor per-step windows")
    require_columns(events, [person_col, timestamp_col], frame_name="events")

    ordering = order_events(events, person_col=person_col, timestamp_col=timestamp_col)
    columns = _Columns(
        events, ordering.order, page_path_col=page_path_col, replacements=list(replacements)
    )
    masks = [columns.mask(step, event_col, page_path_col) for step in funnel_steps]
    times = ordering.times
    tie_start = ordering.time_group_start()
    n = ordering.size
    tie_stop = np.empty(n, dtype=np.int64)
    if n:
        group_first = np.flatnonzero(np.r_[True, tie_start[1:] != tie_start[:-1]])
        group_stop = np.append(group_first[1:], n)
        tie_stop = np.repeat(group_stop, group_stop - group_first)
    k_steps = len(funnel_steps)

    if order == "any":
        if n and (np.sum(masks, axis=0) > 1).any():
            raise ValueError("order='any' needs steps that no single event matches twice")
        starts, sorted_times = _any_order_attempts(
            masks, times, tie_start, ordering.person_end, window_ns=window_ns
        )
        never = np.iinfo(np.int64).max
        reached = (sorted_times != never).sum(axis=1)
        step_times = np.where(sorted_times == never, -1, sorted_times)
        entry_positions = starts
        attempt_persons = ordering.person_codes[starts]
        best = _best_per_person(attempt_persons, reached, starts)
        excluded = np.zeros(best.size, dtype=bool)
    else:
        chosen = _ordered_attempts(
            masks,
            times,
            tie_start,
            ordering.person_end,
            strict=order == "strict",
            window_ns=window_ns,
            step_windows=windows,
        )
        reached = (chosen >= 0).sum(axis=1)
        violations = []
        for exclusion in exclusion_list:
            mask = columns.mask(exclusion.step, event_col, page_path_col)
            positions = np.flatnonzero(mask)
            assert exclusion.to_step is not None
            hit = np.zeros(chosen.shape[0], dtype=bool)
            complete = reached >= exclusion.to_step
            hit[complete] = _excluded_between(
                positions,
                mask,
                chosen[complete],
                exclusion.from_step - 1,
                exclusion.to_step - 1,
                tie_start,
                tie_stop,
            )
            violations.append((exclusion.from_step, hit))
        if exclusion_mode == "mixpanel":
            for from_step, hit in violations:
                reached = np.where(hit, np.minimum(reached, from_step), reached)
        attempt_persons = (
            ordering.person_codes[chosen[:, 0]] if chosen.size else np.zeros(0, dtype=np.int64)
        )
        best = _best_per_person(attempt_persons, reached, chosen[:, 0])
        excluded = np.zeros(best.size, dtype=bool)
        if exclusion_mode == "posthog":
            for _, hit in violations:
                excluded |= hit[best]
        safe = np.where(chosen >= 0, chosen, 0)
        step_times = np.where(np.arange(k_steps)[None, :] < reached[:, None], times[safe], -1)
        entry_positions = chosen[:, 0]

    keep = best[~excluded]
    person_codes = attempt_persons[keep]
    person_reached = reached[keep]
    person_times = step_times[keep]
    names = [step.label for step in funnel_steps]
    persons = pd.DataFrame(
        {person_col: ordering.person_uniques[person_codes], "steps_reached": person_reached}
    )
    for k in range(k_steps):
        column = np.where(person_times[:, k] >= 0, person_times[:, k], np.iinfo(np.int64).min)
        persons[f"step_{k + 1}_time"] = ns_to_datetime(column)

    breakdown_col = None
    breakdown_values = None
    if breakdown == "persona":
        breakdown_col = persona_col
        personas = attach_personas(
            persons[person_col], assignments, person_col=person_col, persona_col=persona_col
        )
        assert personas is not None
        breakdown_values = personas.where(personas.notna(), UNASSIGNED).to_numpy(dtype=object)
    elif breakdown == "channel":
        breakdown_col = "channel"
        entry = ordering.order[entry_positions[keep]]
        breakdown_values = _entry_channels(
            events,
            entry,
            gap_minutes=gap_minutes,
            channel_rules=channel_rules,
            person_col=person_col,
            timestamp_col=timestamp_col,
        )
    if breakdown_col is not None:
        persons[breakdown_col] = breakdown_values

    overall = _step_table(person_reached, person_times, names)
    breakdown_frame = None
    if breakdown_col is not None:
        parts = []
        values = persons[breakdown_col].to_numpy(dtype=object)
        for value in pd.unique(values):
            selected = values == value
            table = _step_table(person_reached[selected], person_times[selected], names)
            table.insert(0, breakdown_col, value)
            parts.append(table)
        breakdown_frame = (
            pd.concat(parts, ignore_index=True)
            .sort_values([breakdown_col, "step"], kind="stable")
            .reset_index(drop=True)
            if parts
            else None
        )
    return FunnelResult(
        steps=overall,
        breakdown=breakdown_frame,
        persons=persons,
        step_names=names,
        order=order,
        window_seconds=None if window_ns is None else window_ns / NS_PER_SECOND,
        exclusion_mode=exclusion_mode,
        persons_excluded=int(excluded.sum()),
        breakdown_by=breakdown_col,
    )


def _entry_channels(
    events: pd.DataFrame,
    entry_rows: np.ndarray,
    *,
    gap_minutes: float,
    channel_rules: Sequence | None,
    person_col: str,
    timestamp_col: str,
) -> np.ndarray:
    """Channel of the session holding each entry row (positions into ``events``)."""
    if "channel" in events.columns:
        return events["channel"].to_numpy(dtype=object)[entry_rows]
    optional = (
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "page_path",
        "source_format",
    )
    rules = DEFAULT_CHANNEL_RULES if channel_rules is None else channel_rules
    if {"session_key", "session_index"} <= set(events.columns):
        # Already sessionized: keep the caller's sessions.
        channels = session_channels(
            events.assign(
                **{
                    c: None
                    for c in ("referrer", "utm_source", "utm_medium")
                    if c not in events.columns
                }
            ),
            rules=rules,
            person_col=person_col,
            timestamp_col=timestamp_col,
        )
        channel_of_session = pd.Series(
            channels["channel"].to_numpy(dtype=object), index=channels["session_key"].to_numpy()
        )
        keys = events["session_key"].to_numpy(dtype=np.int64)[entry_rows]
        return channel_of_session.reindex(keys).to_numpy(dtype=object)
    wanted = [person_col, timestamp_col] + [c for c in optional if c in events.columns]
    slim = events[wanted].reset_index(drop=True)
    with_sessions = sessionize(
        slim, gap_minutes=gap_minutes, person_col=person_col, timestamp_col=timestamp_col
    )
    for column in ("referrer", "utm_source", "utm_medium"):
        if column not in with_sessions.columns:
            with_sessions[column] = None
    channels = session_channels(
        with_sessions,
        rules=rules,
        person_col=person_col,
        timestamp_col=timestamp_col,
    )
    channel_of_session = pd.Series(
        channels["channel"].to_numpy(dtype=object), index=channels["session_key"].to_numpy()
    )
    # sessionize keeps the original (reset) index, so positions map back through it.
    session_of_row = pd.Series(
        with_sessions["session_key"].to_numpy(), index=with_sessions.index.to_numpy()
    )
    return channel_of_session.reindex(session_of_row.reindex(entry_rows).to_numpy()).to_numpy(
        dtype=object
    )
