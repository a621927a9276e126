"""Top journeys (variants), transition graphs, and what people do after dropping off.

All functions take the steps frame of :func:`~personapulse.journeys.steps.to_steps`.

Path notation (``top_paths``, ``after_dropoff``):

- steps of a session are joined with `` → ``;
- when channels are known each session starts with its channel label and a colon
  (``Paid ads: / → /pricing``); a later session that came in direct is labelled
  ``return`` (the person came back on their own);
- sessions are separated by `` → leave → ``;
- N ≥ 2 consecutive identical sessions (same label, same steps) are written once with
  ``×N`` after the label: ``return ×2: /recipes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from personapulse.journeys._frame import (
    attach_personas,
    combine_hashes,
    factorize,
    order_events,
    require_columns,
    sequence_hashes,
)
from personapulse.journeys.sessions import channel_label

ARROW = " → "
LEAVE = " → leave → "
RETURN_LABEL = "return"


@dataclass(frozen=True)
class _Journeys:
    """Steps sorted by (person, time) as integer arrays."""

    persons: np.ndarray  # person code per row
    person_ids: np.ndarray  # person id per code
    codes: np.ndarray  # step code per row
    names: np.ndarray  # step name per code
    times: np.ndarray  # int64 ns per row
    session_starts: np.ndarray  # bool per row: first row of a session
    labels: np.ndarray | None  # int label code per row (channel, or return), None if unknown
    label_names: list[str]


def _prepare(
    steps: pd.DataFrame,
    *,
    sessions: pd.DataFrame | None,
    person_col: str,
    timestamp_col: str,
    session_col: str,
) -> _Journeys:
    require_columns(steps, [person_col, timestamp_col, "step"], frame_name="steps")
    ordering = order_events(
        steps,
        person_col=person_col,
        timestamp_col=timestamp_col,
        session_col=session_col,
        name="steps",
    )
    step_values = steps["step"]
    if isinstance(step_values.dtype, pd.CategoricalDtype):
        codes = step_values.cat.codes.to_numpy(dtype=np.int64)[ordering.order]
        names = np.asarray(step_values.cat.categories, dtype=object)
    else:
        raw, uniques = pd.factorize(step_values.to_numpy(dtype=object))
        codes = raw.astype(np.int64)[ordering.order]
        names = np.asarray(uniques, dtype=object)
    names = np.asarray([str(name) for name in names], dtype=object)  # once per distinct step
    n = ordering.size
    new_person = np.ones(n, dtype=bool)
    new_person[1:] = ordering.person_codes[1:] != ordering.person_codes[:-1]
    session_starts = new_person.copy()
    session_keys = None
    if session_col in steps.columns:
        session_keys = (
            ordering.sessions
            if ordering.sessions is not None and steps[session_col].dtype == np.int64
            else steps[session_col].to_numpy()[ordering.order]
        )
        session_starts[1:] |= session_keys[1:] != session_keys[:-1]
    # Channels are read once per session (not per row): object work stays small.
    session_first = np.flatnonzero(session_starts)
    channel_codes = None
    channel_uniques = np.zeros(0, dtype=object)
    if "channel" in steps.columns:
        channel_codes, channel_uniques = _codes_at(steps["channel"], ordering.order[session_first])
    elif sessions is not None and session_keys is not None:
        require_columns(sessions, [session_col, "channel"], frame_name="sessions")
        keys = pd.Index(sessions[session_col].to_numpy())
        if len(keys) == 0:
            channel_codes = np.full(session_first.size, -1, dtype=np.int64)
        elif keys.is_unique:
            position = keys.get_indexer(session_keys[session_first])
            channel_codes, channel_uniques = _codes_at(sessions["channel"], np.maximum(position, 0))
            channel_codes = np.where(position >= 0, channel_codes, -1)
        else:
            lookup = pd.Series(sessions["channel"].to_numpy(dtype=object), index=keys)
            channel_codes, channel_uniques = factorize(
                lookup.reindex(session_keys[session_first]).to_numpy(dtype=object)
            )
    labels = None
    label_names: list[str] = []
    if channel_codes is not None:
        # Missing channels are "direct"; labels numbered by first appearance of the channel.
        with_direct = np.append(np.asarray(channel_uniques, dtype=object), "direct")
        canonical, canonical_names = pd.factorize(with_direct)
        per_session = canonical[np.where(channel_codes < 0, with_direct.size - 1, channel_codes)]
        label_codes, first = pd.factorize(per_session)
        label_uniques = np.asarray(canonical_names, dtype=object)[first]
        label_names = [channel_label(str(value)) for value in label_uniques] + [RETURN_LABEL]
        is_direct = np.asarray(label_uniques == "direct", dtype=bool)
        returning = is_direct[label_codes] & ~new_person[session_first]
        session_labels = np.where(returning, len(label_names) - 1, label_codes).astype(np.int64)
        labels = np.repeat(session_labels, np.diff(np.append(session_first, n)))
    return _Journeys(
        persons=ordering.person_codes,
        person_ids=ordering.person_uniques,
        codes=codes,
        names=names,
        times=ordering.times,
        session_starts=session_starts,
        labels=labels,
        label_names=label_names,
    )


def _codes_at(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factorised ``values`` at ``rows`` (-1 for missing), the whole column when it is Arrow
    strings (cached), else only the rows."""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        codes, uniques = factorize(values)
        return codes[rows], uniques
    return factorize(values.to_numpy(dtype=object)[rows])


def _render_sessions(labelled_sessions: list[tuple[str | None, tuple[str, ...]]]) -> str:
    """Render [(label, steps), ...] in the module's path notation."""
    parts: list[str] = []
    i = 0
    while i < len(labelled_sessions):
        j = i
        while j + 1 < len(labelled_sessions) and labelled_sessions[j + 1] == labelled_sessions[i]:
            j += 1
        label, session_steps = labelled_sessions[i]
        repeat = j - i + 1
        body = ARROW.join(session_steps)
        if label is None:
            parts.append(body if repeat == 1 else f"{body} ×{repeat}")
        else:
            head = label if repeat == 1 else f"{label} ×{repeat}"
            parts.append(f"{head}: {body}" if body else head)
        i = j + 1
    return LEAVE.join(parts)


def _render_many(
    journeys: _Journeys,
    firsts: np.ndarray,
    stops: np.ndarray,
    label_first: np.ndarray | None = None,
) -> list[str]:
    """Render row ranges [first, stop) in path notation, in one pass.

    ``label_first[i]=False`` marks a mid-session continuation (no label on its first part).
    Rows are gathered with numpy once; Python only loops over the rendered sessions.
    """
    firsts = np.asarray(firsts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    if firsts.size == 0:
        return []
    lengths = stops - firsts
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    rows = np.repeat(firsts - offsets, lengths) + np.arange(int(lengths.sum()))
    names = journeys.names[journeys.codes[rows]].tolist()
    starts = journeys.session_starts[rows].copy()
    starts[offsets[lengths > 0]] = True
    segment_starts = np.flatnonzero(starts)
    segment_stops = np.append(segment_starts[1:], rows.size)
    labels = journeys.labels[rows[segment_starts]].tolist() if journeys.labels is not None else None
    first_segment = np.searchsorted(segment_starts, offsets)
    last_segment = np.searchsorted(segment_starts, offsets + lengths)
    seg_starts, seg_stops = segment_starts.tolist(), segment_stops.tolist()
    rendered = []
    for unit, (a, b) in enumerate(zip(first_segment.tolist(), last_segment.tolist(), strict=True)):
        sessions: list[tuple[str | None, tuple[str, ...]]] = []
        for segment in range(a, b):
            unlabelled = labels is None or (
                segment == a and label_first is not None and not label_first[unit]
            )
            label = None if unlabelled else journeys.label_names[labels[segment]]
            sessions.append((label, tuple(names[seg_starts[segment] : seg_stops[segment]])))
        rendered.append(_render_sessions(sessions))
    return rendered


def _persona_of_codes(
    journeys: _Journeys, assignments: pd.DataFrame | None, person_col: str, persona_col: str
) -> np.ndarray | None:
    personas = attach_personas(
        pd.Series(journeys.person_ids), assignments, person_col=person_col, persona_col=persona_col
    )
    return None if personas is None else personas.to_numpy(dtype=object)


def top_paths(
    steps: pd.DataFrame,
    *,
    sessions: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    top: int | None = 10,
    across_sessions: bool = True,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_col: str = "session_key",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Most common journeys (variants), per persona when ``assignments`` is given.

    Input: steps (from ``to_steps``); channels come from a ``channel`` column of ``steps``
    or from ``sessions`` (output of ``session_channels``) joined on ``session_col``.
    ``across_sessions=True``: a variant is a person's whole journey (all sessions with
    channels, "leave" and "return"); ``False``: a variant is one session.

    Output columns: [persona_id], rank, path, users (distinct persons with the variant),
    count (persons, or sessions when not across sessions), share (users / persons of the
    persona with at least one step), sessions (sessions in the variant), steps (steps in
    the variant). Persons without an assignment are left out when ``assignments`` is given.
    """
    journeys = _prepare(
        steps,
        sessions=sessions,
        person_col=person_col,
        timestamp_col=timestamp_col,
        session_col=session_col,
    )
    n = journeys.codes.size
    session_first = np.flatnonzero(journeys.session_starts)
    session_persons = journeys.persons[session_first]
    items = journeys.codes
    h1 = sequence_hashes(items, session_first, seed=1)
    h2 = sequence_hashes(items, session_first, seed=2)
    if journeys.labels is not None:
        label_items = journeys.labels[session_first].astype(np.uint64)
        h1 = h1 ^ (label_items * np.uint64(0x9E3779B97F4A7C15))
        h2 = h2 ^ (label_items * np.uint64(0xC2B2AE3D27D4EB4F))
    session_sizes = np.diff(np.append(session_first, n))
    if across_sessions:
        person_first_session = (
            np.flatnonzero(np.r_[True, session_persons[1:] != session_persons[:-1]])
            if session_first.size
            else session_first
        )
        token = combine_hashes(h1, h2)
        v1 = sequence_hashes(token, person_first_session, seed=3)
        v2 = sequence_hashes(token, person_first_session, seed=4)
        unit_persons = session_persons[person_first_session]
        unit_first_row = session_first[person_first_session]
        unit_stop_row = np.append(unit_first_row[1:], n)
        unit_sessions = np.diff(np.append(person_first_session, session_first.size))
    else:
        v1, v2 = h1, h2
        unit_persons = session_persons
        unit_first_row = session_first
        unit_stop_row = session_first + session_sizes
        unit_sessions = np.ones(session_first.size, dtype=np.int64)
    variant = combine_hashes(v1, v2) if unit_persons.size else np.zeros(0, dtype=np.int64)
    personas = _persona_of_codes(journeys, assignments, person_col, persona_col)
    frame = pd.DataFrame(
        {
            "person": unit_persons,
            "variant": variant,
            "unit": np.arange(unit_persons.size),
            "n_steps": unit_stop_row - unit_first_row,
            "n_sessions": unit_sessions,
        }
    )
    group_cols = ["variant"]
    if personas is not None:
        frame[persona_col] = personas[unit_persons]
        frame = frame[frame[persona_col].notna()]
        group_cols = [persona_col, "variant"]
    grouped = frame.groupby(group_cols, sort=False)
    summary = grouped.agg(
        users=("person", "nunique"),
        count=("unit", "size"),
        representative=("unit", "min"),
        sessions=("n_sessions", "first"),
        steps=("n_steps", "first"),
    ).reset_index()
    if personas is not None:
        totals = frame.groupby(persona_col, sort=False)["person"].nunique()
        summary["share"] = summary["users"] / summary[persona_col].map(totals).to_numpy(dtype=float)
    else:
        summary["share"] = summary["users"] / max(int(np.unique(frame["person"]).size), 1)
    sort_cols = ([persona_col] if personas is not None else []) + [
        "users",
        "count",
        "representative",
    ]
    ascending = ([True] if personas is not None else []) + [False, False, True]
    summary = summary.sort_values(sort_cols, ascending=ascending, kind="stable")
    if personas is not None:
        summary["rank"] = summary.groupby(persona_col, sort=False).cumcount() + 1
    else:
        summary["rank"] = np.arange(1, len(summary) + 1)
    if top is not None:
        summary = summary[summary["rank"] <= top]
    representatives = summary["representative"].to_numpy(dtype=np.int64)
    summary["path"] = _render_many(
        journeys, unit_first_row[representatives], unit_stop_row[representatives]
    )
    columns = ([persona_col] if personas is not None else []) + [
        "rank",
        "path",
        "users",
        "count",
        "share",
        "sessions",
        "steps",
    ]
    return summary[columns].reset_index(drop=True)


def _count_edges(
    numbers: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    persons: np.ndarray,
    personas: np.ndarray | None,
    *,
    n_codes: int,
    n_persons: int,
    persona_col: str,
) -> pd.DataFrame:
    """Transitions (count) and distinct persons (users) per [persona,] step_number, source,
    target; groups in order of first appearance, as a pandas group-by with sort=False."""
    group_cols = ["step_number", "source", "target"]
    persona_codes = np.zeros(persons.size, dtype=np.int64)
    persona_names = np.zeros(0, dtype=object)
    if personas is not None:
        codes, persona_names = pd.factorize(personas)
        persona_codes = codes[persons].astype(np.int64, copy=False)
        known = persona_codes >= 0
        numbers, sources, targets, persons, persona_codes = (
            numbers[known],
            sources[known],
            targets[known],
            persons[known],
            persona_codes[known],
        )
        group_cols = [persona_col, *group_cols]
    n_numbers = int(numbers.max()) + 1 if numbers.size else 1
    n_personas = max(len(persona_names), 1)
    if n_personas * n_numbers * n_codes * n_codes >= 2**62 or (numbers.size and numbers.min() < 0):
        frame = pd.DataFrame(
            {"step_number": numbers, "source": sources, "target": targets, "person": persons}
        )
        if personas is not None:
            frame.insert(0, persona_col, np.asarray(persona_names, dtype=object)[persona_codes])
        return (
            frame.groupby(group_cols, sort=False)
            .agg(count=("person", "size"), users=("person", "nunique"))
            .reset_index()
        )
    key = ((persona_codes * n_numbers + numbers) * n_codes + sources) * n_codes + targets
    unique_keys, first_index, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    if unique_keys.size * max(n_persons, 1) < 2**62:
        pairs = np.sort(inverse.astype(np.int64) * max(n_persons, 1) + persons)
        distinct = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
        users = np.bincount(distinct // max(n_persons, 1), minlength=unique_keys.size)
    else:
        users = (
            pd.DataFrame({"group": inverse, "person": persons})
            .groupby("group")["person"]
            .nunique()
            .reindex(np.arange(unique_keys.size))
            .to_numpy()
        )
    appearance = np.argsort(first_index, kind="stable")
    unique_keys, counts, users = unique_keys[appearance], counts[appearance], users[appearance]
    target = unique_keys % n_codes
    rest = unique_keys // n_codes
    source = rest % n_codes
    rest //= n_codes
    data = {
        "step_number": (rest % n_numbers).astype(numbers.dtype, copy=False),
        "source": source,
        "target": target,
        "count": counts.astype(np.int64),
        "users": users.astype(np.int64),
    }
    if personas is not None:
        data = {persona_col: np.asarray(persona_names, dtype=object)[rest // n_numbers], **data}
    return pd.DataFrame(data)


def transitions(
    steps: pd.DataFrame,
    *,
    assignments: pd.DataFrame | None = None,
    top: int | None = 50,
    max_step: int | None = 10,
    by_session: bool = False,
    exit_label: str | None = None,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_col: str = "session_key",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Transition graph as Sankey edges, per persona when ``assignments`` is given.

    A sequence is a person's journey (``by_session=False``) or one session. The edge
    (source, target, step_number=k) means the k-th step of a sequence was ``source`` and the
    (k+1)-th was ``target``; with ``exit_label`` the last step of each sequence also gets an
    edge to ``exit_label``. Only edges with k ≤ ``max_step`` are kept (None keeps all).

    Output columns: [persona_id], step_number, source, target, count (transitions),
    users (distinct persons), sorted by count descending and cut to ``top`` per persona.
    """
    journeys = _prepare(
        steps,
        sessions=None,
        person_col=person_col,
        timestamp_col=timestamp_col,
        session_col=session_col,
    )
    n = journeys.codes.size
    starts = (
        journeys.session_starts
        if by_session
        else np.r_[True, journeys.persons[1:] != journeys.persons[:-1]][:n]
    )
    seq_first = (
        np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        if n
        else np.zeros(0, dtype=np.int64)
    )
    position = np.arange(n) - seq_first + 1
    follows = np.zeros(n, dtype=bool)
    follows[:-1] = ~starts[1:] if n else follows[:-1]
    source_rows = np.flatnonzero(follows)
    names = list(journeys.names)
    exit_code = len(names)
    sources = journeys.codes[source_rows]
    targets = journeys.codes[source_rows + 1]
    numbers = position[source_rows]
    persons = journeys.persons[source_rows]
    if exit_label is not None and n:
        last_rows = np.flatnonzero(np.r_[starts[1:], True])
        sources = np.concatenate([sources, journeys.codes[last_rows]])
        targets = np.concatenate([targets, np.full(last_rows.size, exit_code)])
        numbers = np.concatenate([numbers, position[last_rows]])
        persons = np.concatenate([persons, journeys.persons[last_rows]])
    if max_step is not None:
        keep = numbers <= max_step
        numbers, sources, targets, persons = (
            numbers[keep],
            sources[keep],
            targets[keep],
            persons[keep],
        )
    personas = _persona_of_codes(journeys, assignments, person_col, persona_col)
    edges = _count_edges(
        numbers,
        sources.astype(np.int64, copy=False),
        targets.astype(np.int64, copy=False),
        persons,
        personas,
        n_codes=exit_code + 1,
        n_persons=journeys.person_ids.size,
        persona_col=persona_col,
    )
    labels = np.asarray([*names, exit_label], dtype=object)
    edges["source"] = labels[edges["source"].to_numpy()]
    edges["target"] = labels[edges["target"].to_numpy()]
    sort_cols = ([persona_col] if personas is not None else []) + [
        "count",
        "step_number",
        "source",
        "target",
    ]
    ascending = ([True] if personas is not None else []) + [False, True, True, True]
    edges = edges.sort_values(sort_cols, ascending=ascending, kind="stable")
    if top is not None:
        if personas is not None:
            edges = edges[edges.groupby(persona_col, sort=False).cumcount() < top]
        else:
            edges = edges.head(top)
    columns = ([persona_col] if personas is not None else []) + [
        "step_number",
        "source",
        "target",
        "count",
        "users",
    ]
    return edges[columns].reset_index(drop=True)


def _continuations(
    journeys: _Journeys,
    anchors: np.ndarray,
    horizon: int,
) -> tuple[np.ndarray, list[str]]:
    """For anchor rows, a key per distinct continuation and the rendered continuations."""
    n = journeys.codes.size
    person_stop = np.empty(n, dtype=np.int64)
    if n:
        new_person = np.r_[True, journeys.persons[1:] != journeys.persons[:-1]]
        firsts = np.flatnonzero(new_person)
        stops = np.append(firsts[1:], n)
        person_stop = np.repeat(stops, stops - firsts)
    columns = []
    for offset in range(1, horizon + 1):
        row = anchors + offset
        valid = row < person_stop[anchors]
        safe = np.where(valid, row, 0)
        columns.append(np.where(valid, journeys.codes[safe], -1))
        new_session = journeys.session_starts[safe] & valid
        label = (
            journeys.labels[safe]
            if journeys.labels is not None
            else np.zeros(safe.size, dtype=np.int64)
        )
        columns.append(np.where(new_session, label, -1))
    table = pd.DataFrame(np.column_stack(columns) if columns else np.zeros((anchors.size, 0)))
    keys = (
        table.groupby(list(table.columns), sort=False).ngroup().to_numpy()
        if columns
        else np.zeros(anchors.size, dtype=np.int64)
    )
    # One representative anchor per continuation key (keys are numbered by first appearance).
    _, representative = np.unique(keys, return_index=True)
    anchor_rows = anchors[representative]
    stop_rows = (
        np.minimum(anchor_rows + 1 + horizon, person_stop[anchor_rows]) if n else anchor_rows
    )
    has_more = stop_rows > anchor_rows + 1
    new_session = np.zeros(anchor_rows.size, dtype=bool)
    new_session[has_more] = journeys.session_starts[anchor_rows[has_more] + 1]
    texts = _render_many(
        journeys, anchor_rows[has_more] + 1, stop_rows[has_more], new_session[has_more]
    )
    rendered_list = np.full(anchor_rows.size, "(end)", dtype=object)
    rendered_list[has_more] = [
        ("leave → " + text) if leaving else text
        for text, leaving in zip(texts, new_session[has_more].tolist(), strict=True)
    ]
    rendered = dict(enumerate(rendered_list.tolist()))
    return keys, [rendered[i] for i in range(len(rendered))]


def after_dropoff(
    steps: pd.DataFrame,
    *,
    at: str | Iterable[str] | None = None,
    next_step: str | Iterable[str] | None = None,
    funnel_result=None,
    dropped_at_step: int | None = None,
    sessions: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    horizon: int = 3,
    top: int | None = 10,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_col: str = "session_key",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """What people do after they drop off.

    Either by step — people whose first ``at`` step is never followed by ``next_step``
    (with ``next_step=None``: everyone who reaches ``at``) — or by funnel — people whose
    furthest step in ``funnel_result`` (a :class:`FunnelResult`) is ``dropped_at_step``;
    their continuation starts after the last step event of the funnel attempt that counted.
    The continuation is the next ``horizon`` steps in path notation (with "leave" and the
    channel when a new session starts) or "(end)" when they did nothing more.

    Output columns: [persona_id], rank, continuation, users, share (of the persona's
    dropped-off people).
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    journeys = _prepare(
        steps,
        sessions=sessions,
        person_col=person_col,
        timestamp_col=timestamp_col,
        session_col=session_col,
    )
    n = journeys.codes.size
    rows = np.arange(n)
    if funnel_result is not None:
        if dropped_at_step is None:
            raise ValueError("dropped_at_step is required with funnel_result")
        persons = funnel_result.persons
        dropped = persons[persons["steps_reached"] == dropped_at_step]
        code_of = pd.Series(np.arange(journeys.person_ids.size), index=journeys.person_ids)
        dropped_codes = code_of.reindex(dropped[person_col].to_numpy()).to_numpy()
        known = ~pd.isna(dropped_codes)
        anchor_time = dropped[f"step_{dropped_at_step}_time"].to_numpy()[known]
        anchor_time = pd.to_datetime(anchor_time, utc=True).as_unit("ns").asi8
        dropped_codes = dropped_codes[known].astype(np.int64)
        # Last step row of the person at or before the anchor time.
        key_rows = pd.DataFrame({"person": journeys.persons, "time": journeys.times, "row": rows})
        targets = pd.DataFrame({"person": dropped_codes, "time": anchor_time}).sort_values(
            "time", kind="stable"
        )
        merged = pd.merge_asof(
            targets,
            key_rows.sort_values("time", kind="stable"),
            on="time",
            by="person",
            direction="backward",
        )
        anchors = merged["row"].dropna().to_numpy(dtype=np.int64)
    else:
        if at is None:
            raise ValueError("give at= (a step) or funnel_result= with dropped_at_step=")
        at_names = {at} if isinstance(at, str) else set(at)
        name_to_code = {str(name): i for i, name in enumerate(journeys.names)}
        at_mask = np.isin(journeys.codes, [name_to_code[x] for x in at_names if x in name_to_code])
        candidates = np.flatnonzero(at_mask)
        first_of_person = (
            candidates[
                np.r_[True, journeys.persons[candidates][1:] != journeys.persons[candidates][:-1]]
            ]
            if candidates.size
            else candidates
        )
        anchors = first_of_person
        if next_step is not None:
            next_names = {next_step} if isinstance(next_step, str) else set(next_step)
            next_mask = np.isin(
                journeys.codes, [name_to_code[x] for x in next_names if x in name_to_code]
            )
            # Last next_step row per person; dropped when it is not after the anchor.
            last_next = np.full(journeys.person_ids.size, -1, dtype=np.int64)
            next_rows = np.flatnonzero(next_mask)
            np.maximum.at(last_next, journeys.persons[next_rows], next_rows)
            anchors = anchors[last_next[journeys.persons[anchors]] <= anchors]
    keys, rendered = _continuations(journeys, anchors, horizon)
    frame = pd.DataFrame({"person": journeys.persons[anchors], "key": keys})
    group_cols = ["key"]
    personas = _persona_of_codes(journeys, assignments, person_col, persona_col)
    if personas is not None:
        frame[persona_col] = personas[frame["person"].to_numpy()]
        frame = frame[frame[persona_col].notna()]
        group_cols = [persona_col, "key"]
    summary = frame.groupby(group_cols, sort=False).agg(users=("person", "nunique")).reset_index()
    if personas is not None:
        totals = frame.groupby(persona_col, sort=False)["person"].nunique()
        summary["share"] = summary["users"] / summary[persona_col].map(totals).to_numpy(dtype=float)
        summary = summary.sort_values(
            [persona_col, "users", "key"], ascending=[True, False, True], kind="stable"
        )
        summary["rank"] = summary.groupby(persona_col, sort=False).cumcount() + 1
    else:
        summary["share"] = summary["users"] / max(int(frame["person"].nunique()), 1)
        summary = summary.sort_values(["users", "key"], ascending=[False, True], kind="stable")
        summary["rank"] = np.arange(1, len(summary) + 1)
    if top is not None:
        summary = summary[summary["rank"] <= top]
    summary["continuation"] = [rendered[int(k)] for k in summary["key"].to_numpy()]
    columns = ([persona_col] if personas is not None else []) + [
        "rank",
        "continuation",
        "users",
        "share",
    ]
    return summary[columns].reset_index(drop=True)
