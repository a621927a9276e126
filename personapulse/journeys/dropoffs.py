"""Where each persona leaves, joined with the pain points its people raise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from personapulse.journeys._frame import attach_personas, require_columns
from personapulse.journeys.sessions import sessionize
from personapulse.journeys.steps import DEFAULT_CLEANING, to_steps


def dropoffs(
    events: pd.DataFrame,
    *,
    assignments: pd.DataFrame,
    conversion: str | Iterable[str] = "Order Completed",
    level: Literal["journey", "session"] = "journey",
    source: Literal["auto", "page_path", "event"] = "auto",
    replacements: Sequence[tuple[str, str]] | Sequence[Mapping] = DEFAULT_CLEANING,
    gap_minutes: float = 30,
    top: int | None = 10,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Most common last steps of journeys (or sessions) that did not convert, per persona.

    Input: an event frame and assignments (person_id, persona_id). Steps are named as in
    :func:`to_steps` with ``source`` and ``replacements``. ``level="journey"``: a person who
    never did a ``conversion`` step is a drop-off at their last step; ``"session"``: every
    session without a conversion step is a drop-off at its last step (sessions from
    :func:`sessionize` with ``gap_minutes`` unless ``events`` has ``session_key``).

    Output columns: persona_id, rank, last_step, count (people or sessions), share (of the
    persona's non-converting people or sessions), dropped (that total), total (all people
    or sessions of the persona). People without an assignment are left out.
    """
    if level not in ("journey", "session"):
        raise ValueError(f"level must be 'journey' or 'session', got {level!r}")
    require_columns(events, [person_col, timestamp_col], frame_name="events")
    require_columns(assignments, [person_col, persona_col], frame_name="assignments")
    frame = events
    if level == "session" and "session_key" not in frame.columns:
        frame = sessionize(
            frame, gap_minutes=gap_minutes, person_col=person_col, timestamp_col=timestamp_col
        )
    steps = to_steps(
        frame,
        source=source,
        replacements=replacements,
        person_col=person_col,
        timestamp_col=timestamp_col,
    )
    conversions = {conversion} if isinstance(conversion, str) else set(conversion)
    unit_col = person_col if level == "journey" else "session_key"
    units = steps[unit_col].to_numpy()
    step_names = steps["step"].astype(object).to_numpy()
    converted_unit = (
        pd.Series(np.isin(step_names, list(conversions))).groupby(units, sort=False).any()
    )
    last = steps.groupby(unit_col, sort=False).tail(1)
    table = pd.DataFrame(
        {
            "unit": last[unit_col].to_numpy(),
            "last_step": last["step"].astype(object).to_numpy(),
            persona_col: attach_personas(
                last[person_col], assignments, person_col=person_col, persona_col=persona_col
            ).to_numpy(dtype=object),
        }
    )
    table = table[table[persona_col].notna()]
    table["converted"] = converted_unit.reindex(table["unit"].to_numpy()).to_numpy(dtype=bool)
    totals = table.groupby(persona_col, sort=False).size()
    dropped = table[~table["converted"]]
    dropped_totals = dropped.groupby(persona_col, sort=False).size()
    summary = (
        dropped.groupby([persona_col, "last_step"], sort=False).size().rename("count").reset_index()
    )
    summary["dropped"] = summary[persona_col].map(dropped_totals).to_numpy(dtype=np.int64)
    summary["total"] = summary[persona_col].map(totals).to_numpy(dtype=np.int64)
    summary["share"] = summary["count"] / summary["dropped"]
    summary = summary.sort_values(
        [persona_col, "count", "last_step"], ascending=[True, False, True], kind="stable"
    )
    summary["rank"] = summary.groupby(persona_col, sort=False).cumcount() + 1
    if top is not None:
        summary = summary[summary["rank"] <= top]
    columns = [persona_col, "rank", "last_step", "count", "share", "dropped", "total"]
    return summary[columns].reset_index(drop=True)


def with_pain_points(
    dropoffs_df: pd.DataFrame,
    pain_points_df: pd.DataFrame,
    *,
    top: int = 3,
    persona_col: str = "persona_id",
    label_col: str = "label",
    count_col: str = "count",
) -> pd.DataFrame:
    """Attach each persona's most raised pain points to its drop-off rows.

    Input: the output of :func:`dropoffs` and a pain points frame (persona_id, label, count).
    Output: a copy of ``dropoffs_df`` with ``pain_points`` (a list of {"label", "count"}
    dicts, most raised first, at most ``top``; empty when the persona has none) and
    ``top_pain_point`` (the first label, or None).
    """
    require_columns(dropoffs_df, [persona_col], frame_name="dropoffs_df")
    require_columns(
        pain_points_df, [persona_col, label_col, count_col], frame_name="pain_points_df"
    )
    ranked = pain_points_df.sort_values(
        [persona_col, count_col, label_col], ascending=[True, False, True], kind="stable"
    )
    ranked = ranked[ranked.groupby(persona_col, sort=False).cumcount() < top]
    by_persona: dict[object, list[dict[str, object]]] = {}
    for persona, label, count in zip(
        ranked[persona_col].to_numpy(dtype=object),
        ranked[label_col].to_numpy(dtype=object),
        ranked[count_col].to_numpy(),
        strict=True,
    ):
        by_persona.setdefault(persona, []).append({"label": label, "count": int(count)})
    lists = [
        list(by_persona.get(persona, []))
        for persona in dropoffs_df[persona_col].to_numpy(dtype=object)
    ]
    return dropoffs_df.assign(
        pain_points=pd.Series(lists, index=dropoffs_df.index, dtype=object),
        top_pain_point=pd.Series(
            [items[0]["label"] if items else None for items in lists],
            index=dropoffs_df.index,
            dtype=object,
        ),
    )
