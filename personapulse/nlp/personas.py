"""Pain points and motivations per persona: classified reviews / conversations joined to the
persona assignments."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

RESULT_COLUMNS = (
    "persona_id",
    "kind",
    "label",
    "count",
    "persons",
    "share",
    "examples",
    "count_7d",
    "count_prev_7d",
    "count_30d",
    "count_prev_30d",
)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns: {', '.join(missing)}")


def _utc(value: pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")


def pain_points_by_persona(
    classified: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    since: pd.Timestamp | str | None = None,
    now: pd.Timestamp | str | None = None,
    person_col: str = "person_id",
    persona_col: str = "persona_id",
    time_col: str = "created_at",
    kinds: Sequence[str] = ("pain_point", "motivation"),
    max_examples: int = 3,
) -> pd.DataFrame:
    """Count pain points and motivations per persona.

    Input: ``classified`` is the output of ``classify_reviews`` / ``classify_conversations``
    (columns ``person_id``, ``created_at``, ``pain_points``, ``motivations``); ``assignments`` has
    ``person_id``, ``persona_id`` (one persona per person; later rows win). Rows without a person
    or a persona, and rows before ``since``, are left out.

    Output, one row per (persona_id, kind, label), sorted by persona then count descending:
    - ``count``: documents (reviews / conversations) mentioning the label;
    - ``persons``: distinct people mentioning it;
    - ``share``: ``persons`` / people of the persona with at least one classified document in the
      window — the share of the persona's *reviewed users*, not of all its members;
    - ``examples``: up to ``max_examples`` distinct quotes (the clause that triggered the label),
      newest first;
    - ``count_7d`` / ``count_prev_7d`` and ``count_30d`` / ``count_prev_30d``: documents in the
      last 7 (30) days before ``now`` and in the 7 (30) days before that. ``now`` defaults to the
      newest ``created_at`` in the data, so results do not depend on the wall clock.
    """
    _require(classified, [person_col, "pain_points", "motivations"], "classified")
    _require(assignments, [person_col, persona_col], "assignments")
    column_of = {"pain_point": "pain_points", "motivation": "motivations"}
    unknown = [k for k in kinds if k not in column_of]
    if unknown:
        raise ValueError(f"unknown kinds: {unknown}")

    docs = classified[classified[person_col].notna()].copy()
    has_time = time_col in docs.columns
    if has_time:
        docs["_t"] = pd.to_datetime(docs[time_col], utc=True)
        if since is not None:
            docs = docs[docs["_t"] >= _utc(since)]
    elif since is not None:
        raise ValueError(f"since needs a {time_col!r} column")
    persona_of = assignments.drop_duplicates(person_col, keep="last").set_index(person_col)[
        persona_col
    ]
    docs["_persona"] = docs[person_col].map(persona_of)
    docs = docs[docs["_persona"].notna()]
    docs["_doc"] = range(len(docs))
    if docs.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))

    reviewed = docs.groupby("_persona")[person_col].nunique()
    mentions = []
    for kind in kinds:
        col = column_of[kind]
        for doc, person, persona, spans, t in zip(
            docs["_doc"],
            docs[person_col],
            docs["_persona"],
            docs[col],
            docs["_t"] if has_time else [pd.NaT] * len(docs),
            strict=True,
        ):
            if not isinstance(spans, list):
                continue
            for span in spans:
                quote = span.get("context") or span.get("phrase")
                mentions.append((persona, kind, span["label"], doc, person, t, quote))
    if not mentions:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    m = pd.DataFrame(
        mentions, columns=["persona_id", "kind", "label", "doc", "person", "t", "quote"]
    )

    latest = docs["_t"].max() if has_time else pd.NaT
    ref = latest if now is None else _utc(now)

    rows = []
    for (persona, kind, label), g in m.groupby(["persona_id", "kind", "label"], sort=True):
        per_doc = g.drop_duplicates("doc")
        quotes = (
            per_doc.sort_values("t", ascending=False, na_position="last")["quote"]
            .drop_duplicates()
            .head(max_examples)
            .tolist()
        )
        row = {
            "persona_id": persona,
            "kind": kind,
            "label": label,
            "count": len(per_doc),
            "persons": per_doc["person"].nunique(),
            "share": per_doc["person"].nunique() / reviewed[persona],
            "examples": quotes,
        }
        for days in (7, 30):
            if pd.isna(ref):
                row[f"count_{days}d"] = row[f"count_prev_{days}d"] = 0
                continue
            age = ref - per_doc["t"]
            window = pd.Timedelta(days=days)
            row[f"count_{days}d"] = int(((age >= pd.Timedelta(0)) & (age < window)).sum())
            row[f"count_prev_{days}d"] = int(((age >= window) & (age < 2 * window)).sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return out.sort_values(
        ["persona_id", "count", "kind", "label"], ascending=[True, False, True, True]
    ).reset_index(drop=True)
