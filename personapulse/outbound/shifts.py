"""Shift detection: what changed between two persona versions, and inside personas lately.

Pure functions over plain persona dicts (the ``GET /v1/personas`` shape) and DataFrames; the
refresh job calls :func:`detect_shifts` after writing a new version and hands the result to the
hook outbox and :class:`personapulse.outbound.slack.SlackNotifier`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd
from scipy.stats import fisher_exact, norm

__all__ = ["SHIFT_KINDS", "Shift", "ShiftConfig", "detect_shifts", "two_proportion_z_test"]

SHIFT_KINDS = (
    "share_moved",
    "centroid_drift",
    "appeared",
    "vanished",
    "pain_point_spike",
    "conversion_change",
)
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True)
class ShiftConfig:
    """Thresholds of :func:`detect_shifts`.

    A version-to-version change must pass both its size threshold and its test (``alpha``), so a
    large relative move in a tiny persona and a tiny move in a huge one are both ignored.
    """

    #: share_moved: |current share − previous share| in proportion units (0.05 = 5 points).
    share_points: float = 0.05
    #: conversion_change: |Δ conversion| in proportion units.
    conversion_points: float = 0.05
    #: two-sided p-value limit of the two-proportion z-tests.
    alpha: float = 0.01
    #: centroid_drift: matching distance (standardised units, Euclidean) above which it is reported.
    drift_distance: float = 1.0
    #: pain_point_spike: the recent window and the baseline window right before it, in days.
    recent_days: int = 7
    baseline_days: int = 28
    #: pain_point_spike: one-sided Fisher exact p-value limit.
    spike_alpha: float = 0.01
    #: pain_point_spike: at least this many recent documents must mention the label.
    spike_min_count: int = 5
    #: pain_point_spike: the recent share must be at least this multiple of the baseline share.
    spike_min_lift: float = 1.5
    #: a change this many times its threshold (or a spike with p below ``critical_p``) is critical.
    critical_factor: float = 2.0
    critical_p: float = 1e-6


@dataclass(frozen=True)
class Shift:
    """One detected change. ``id`` is stable for the same kind, persona, label and window."""

    id: str
    kind: str
    persona_id: str
    label: str | None
    severity: Severity
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    detected_at: pd.Timestamp | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``detected_at`` as an ISO 8601 string."""
        out = asdict(self)
        out["detected_at"] = None if self.detected_at is None else self.detected_at.isoformat()
        out["evidence"] = _plain(self.evidence)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shift:
        """The inverse of :meth:`to_dict` (e.g. for shifts read back from the store)."""
        detected = data.get("detected_at")
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            persona_id=str(data["persona_id"]),
            label=data.get("label"),
            severity=data.get("severity", "info"),
            summary=str(data.get("summary", "")),
            evidence=dict(data.get("evidence") or {}),
            detected_at=None if detected is None else _utc(detected),
        )


def shift_id(kind: str, persona_id: str, label: str | None, window: str) -> str:
    """ "sh_" + 16 hex of sha256 over kind, persona, label and window."""
    key = "\x1f".join([kind, persona_id, label or "", window])
    return "sh_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of x1/n1 against x2/n2: (z, two-sided p-value).

    z is positive when the second proportion is higher. With no variance (both 0 % or both
    100 %) z is 0 and p is 1.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one observation")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 0.0, 1.0
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    return float(z), float(2 * norm.sf(abs(z)))


def detect_shifts(
    previous: list[dict] | None,
    current: list[dict],
    *,
    match_distances: Mapping[str, float] | None,
    appeared: Iterable[str],
    vanished: Iterable[str],
    documents: pd.DataFrame | None,
    assignments: pd.DataFrame | None,
    now: pd.Timestamp,
    config: ShiftConfig = ShiftConfig(),  # noqa: B008 - frozen, so a shared default is safe
) -> list[Shift]:
    """Shifts between two persona versions and pain-point spikes inside the current personas.

    Input:
    - ``previous`` / ``current``: persona dicts as ``GET /v1/personas`` returns them (keys
      ``persona_id``, ``name``, ``size``, ``share``, optional ``version_id``, ``profile`` with
      ``conversion``). ``previous`` None (first version) skips every version comparison.
    - ``match_distances``: persona id → matching distance of the refit (``PersonaFitResult.
      to_dict()["match_distances"]``); ``appeared`` / ``vanished``: ids from the same refit.
    - ``documents``: classified documents (``person_id``, ``created_at`` UTC, ``pain_points`` as
      lists of ``{label, ...}``); ``assignments``: (``person_id``, ``persona_id``). Either None
      skips pain-point spikes.
    - ``now``: the end of the recent window and the ``detected_at`` of every shift.

    Output: list of :class:`Shift`, ordered critical → warning → info, then by kind and persona.

    Tests: share and conversion use the pooled two-proportion z-test (two-sided; the two versions
    largely share users, so p is a guide, not an exact error rate). Spikes use a one-sided Fisher
    exact test of "documents mentioning the label" in the last ``recent_days`` against the
    ``baseline_days`` before, per persona, and also need ``spike_min_count`` mentions and a lift
    of ``spike_min_lift``.
    """
    now = _utc(now)
    shifts: list[Shift] = []
    if previous is not None:
        shifts += _version_shifts(
            previous, current, match_distances or {}, list(appeared), list(vanished), now, config
        )
    if documents is not None and assignments is not None:
        shifts += pain_point_spikes(documents, assignments, current, now=now, config=config)
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(
        shifts, key=lambda s: (order[s.severity], SHIFT_KINDS.index(s.kind), s.persona_id)
    )


def _version_shifts(
    previous: list[dict],
    current: list[dict],
    match_distances: Mapping[str, float],
    appeared: list[str],
    vanished: list[str],
    now: pd.Timestamp,
    config: ShiftConfig,
) -> list[Shift]:
    for personas in (previous, current):
        for persona in personas:
            missing = [k for k in ("persona_id", "size") if k not in persona]
            if missing:
                raise ValueError(f"persona dict is missing {', '.join(missing)}")
    before = {p["persona_id"]: p for p in previous}
    after = {p["persona_id"]: p for p in current}
    n_before = sum(int(p["size"]) for p in previous)
    n_after = sum(int(p["size"]) for p in current)
    window = f"{_version(previous, now)}->{_version(current, now)}"
    shifts: list[Shift] = []

    for persona_id in sorted(set(before) & set(after)):
        old, new = before[persona_id], after[persona_id]
        name = _name(new)
        shifts += _share_moved(persona_id, name, old, new, n_before, n_after, window, now, config)
        shifts += _conversion_change(persona_id, name, old, new, window, now, config)
        distance = match_distances.get(persona_id)
        if distance is not None and distance > config.drift_distance:
            critical = distance >= config.critical_factor * config.drift_distance
            shifts.append(
                Shift(
                    id=shift_id("centroid_drift", persona_id, None, window),
                    kind="centroid_drift",
                    persona_id=persona_id,
                    label=None,
                    severity="critical" if critical else "warning",
                    summary=(
                        f"{name} behave differently: their centre moved {distance:.2f} "
                        f"standardised units since the last version."
                    ),
                    evidence={
                        "distance": float(distance),
                        "threshold": config.drift_distance,
                        "window": window,
                    },
                    detected_at=now,
                )
            )

    for persona_id in appeared:
        persona = after.get(persona_id)
        if persona is None:
            continue
        share = _share(persona, n_after)
        shifts.append(
            Shift(
                id=shift_id("appeared", persona_id, None, window),
                kind="appeared",
                persona_id=persona_id,
                label=None,
                severity="info",
                summary=(
                    f"New persona: {_name(persona)} ({share:.1%} of users, "
                    f"{int(persona['size'])} people)."
                ),
                evidence={"size": int(persona["size"]), "share": share, "window": window},
                detected_at=now,
            )
        )
    for persona_id in vanished:
        persona = before.get(persona_id)
        if persona is None:
            continue
        share = _share(persona, n_before)
        shifts.append(
            Shift(
                id=shift_id("vanished", persona_id, None, window),
                kind="vanished",
                persona_id=persona_id,
                label=None,
                severity="warning",
                summary=(
                    f"Persona {_name(persona)} (was {share:.1%} of users) no longer appears "
                    f"in the new version."
                ),
                evidence={
                    "previous_size": int(persona["size"]),
                    "previous_share": share,
                    "window": window,
                },
                detected_at=now,
            )
        )
    return shifts


def _share_moved(persona_id, name, old, new, n_before, n_after, window, now, config):
    if n_before <= 0 or n_after <= 0:
        return []
    x1, x2 = int(old["size"]), int(new["size"])
    p1, p2 = x1 / n_before, x2 / n_after
    delta = p2 - p1
    if abs(delta) < config.share_points:
        return []
    z, p_value = two_proportion_z_test(x1, n_before, x2, n_after)
    if p_value >= config.alpha:
        return []
    critical = abs(delta) >= config.critical_factor * config.share_points
    verb = "grew" if delta > 0 else "shrank"
    return [
        Shift(
            id=shift_id("share_moved", persona_id, None, window),
            kind="share_moved",
            persona_id=persona_id,
            label=None,
            severity="critical" if critical else "warning",
            summary=(
                f"{name} {verb} from {p1:.1%} to {p2:.1%} of users ({delta * 100:+.1f} points)."
            ),
            evidence={
                "previous_share": p1,
                "current_share": p2,
                "delta_points": delta * 100,
                "previous_size": x1,
                "current_size": x2,
                "previous_users": n_before,
                "current_users": n_after,
                "test": "two-proportion z-test (pooled, two-sided)",
                "z": z,
                "p_value": p_value,
                "window": window,
            },
            detected_at=now,
        )
    ]


def _conversion_change(persona_id, name, old, new, window, now, config):
    c1 = (old.get("profile") or {}).get("conversion")
    c2 = (new.get("profile") or {}).get("conversion")
    n1, n2 = int(old["size"]), int(new["size"])
    if c1 is None or c2 is None or _nan(c1) or _nan(c2) or n1 <= 0 or n2 <= 0:
        return []
    delta = float(c2) - float(c1)
    if abs(delta) < config.conversion_points:
        return []
    # conversion is the share of the persona's users who ordered, so counts are recoverable
    x1, x2 = round(float(c1) * n1), round(float(c2) * n2)
    z, p_value = two_proportion_z_test(x1, n1, x2, n2)
    if p_value >= config.alpha:
        return []
    if delta > 0:
        severity: Severity = "info"
    else:
        critical = -delta >= config.critical_factor * config.conversion_points
        severity = "critical" if critical else "warning"
    verb = "rose" if delta > 0 else "fell"
    return [
        Shift(
            id=shift_id("conversion_change", persona_id, None, window),
            kind="conversion_change",
            persona_id=persona_id,
            label=None,
            severity=severity,
            summary=f"{name}: conversion {verb} from {float(c1):.1%} to {float(c2):.1%}.",
            evidence={
                "previous_conversion": float(c1),
                "current_conversion": float(c2),
                "delta_points": delta * 100,
                "previous_converted": x1,
                "previous_size": n1,
                "current_converted": x2,
                "current_size": n2,
                "test": "two-proportion z-test (pooled, two-sided)",
                "z": z,
                "p_value": p_value,
                "window": window,
            },
            detected_at=now,
        )
    ]


def pain_point_spikes(
    documents: pd.DataFrame,
    assignments: pd.DataFrame,
    personas: list[dict] | None = None,
    *,
    now: pd.Timestamp,
    config: ShiftConfig = ShiftConfig(),  # noqa: B008 - frozen
) -> list[Shift]:
    """Pain-point labels whose share of a persona's documents jumped in the recent window.

    Input: ``documents`` (``person_id``, ``created_at``, ``pain_points``), ``assignments``
    (``person_id``, ``persona_id``), optional persona dicts for names. A document counts once per
    label however many phrases carry it; documents without a person are ignored.
    Output: one ``pain_point_spike`` :class:`Shift` per (persona, label) that passes the test.
    """
    _require(documents, ("person_id", "created_at", "pain_points"), "documents")
    _require(assignments, ("person_id", "persona_id"), "assignments")
    now = _utc(now)
    recent_start = now - pd.Timedelta(days=config.recent_days)
    baseline_start = recent_start - pd.Timedelta(days=config.baseline_days)
    created = pd.to_datetime(documents["created_at"], utc=True)
    in_range = (created >= baseline_start) & (created <= now) & documents["person_id"].notna()
    frame = pd.DataFrame(
        {
            "person_id": documents.loc[in_range, "person_id"].to_numpy(),
            "recent": (created[in_range] >= recent_start).to_numpy(),
            "labels": [_labels(v) for v in documents.loc[in_range, "pain_points"]],
        }
    )
    frame = frame.merge(
        assignments[["person_id", "persona_id"]].drop_duplicates("person_id"),
        on="person_id",
        how="inner",
    )
    if frame.empty:
        return []
    totals = frame.groupby(["persona_id", "recent"]).size()
    mentions = (
        frame.explode("labels")
        .dropna(subset=["labels"])
        .groupby(["persona_id", "labels", "recent"])
        .size()
    )
    names = {p["persona_id"]: _name(p) for p in personas or []}
    window = f"{recent_start.date()}..{now.date()}"
    shifts = []
    for (persona_id, label), counts in mentions.groupby(level=[0, 1]):
        recent_hits = int(counts.get((persona_id, label, True), 0))
        base_hits = int(counts.get((persona_id, label, False), 0))
        recent_docs = int(totals.get((persona_id, True), 0))
        base_docs = int(totals.get((persona_id, False), 0))
        if recent_hits < config.spike_min_count or base_docs == 0:
            continue
        recent_share = recent_hits / recent_docs
        base_share = base_hits / base_docs
        if recent_share < config.spike_min_lift * base_share or recent_share <= base_share:
            continue
        _, p_value = fisher_exact(
            [[recent_hits, recent_docs - recent_hits], [base_hits, base_docs - base_hits]],
            alternative="greater",
        )
        if p_value >= config.spike_alpha:
            continue
        name = names.get(persona_id, persona_id)
        readable = str(label).replace("_", " ")
        shifts.append(
            Shift(
                id=shift_id("pain_point_spike", str(persona_id), str(label), window),
                kind="pain_point_spike",
                persona_id=str(persona_id),
                label=str(label),
                severity="critical" if p_value < config.critical_p else "warning",
                summary=(
                    f"{name}: {recent_share:.0%} of documents in the last {config.recent_days} "
                    f"days mention {readable}, against {base_share:.0%} in the "
                    f"{config.baseline_days} days before."
                ),
                evidence={
                    "recent_mentions": recent_hits,
                    "recent_documents": recent_docs,
                    "recent_share": recent_share,
                    "baseline_mentions": base_hits,
                    "baseline_documents": base_docs,
                    "baseline_share": base_share,
                    "lift": recent_share / base_share if base_share else None,
                    "test": "Fisher exact (one-sided, greater)",
                    "p_value": float(p_value),
                    "recent_start": recent_start.isoformat(),
                    "baseline_start": baseline_start.isoformat(),
                    "window": window,
                },
                detected_at=now,
            )
        )
    return shifts


# --- helpers ---------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing columns: {', '.join(missing)}")


def _utc(ts: Any) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    labels = {item.get("label") if isinstance(item, Mapping) else item for item in value}
    return sorted(str(label) for label in labels if label)


def _name(persona: Mapping[str, Any]) -> str:
    return str(persona.get("name") or persona.get("label") or persona["persona_id"])


def _share(persona: Mapping[str, Any], total: int) -> float:
    share = persona.get("share")
    if share is not None and not _nan(share):
        return float(share)
    return int(persona["size"]) / total if total else 0.0


def _version(personas: list[dict], now: pd.Timestamp) -> str:
    versions = {p.get("version_id") for p in personas} - {None}
    return ",".join(sorted(map(str, versions))) or str(now.date())


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any) -> Any:
    """Evidence with numpy scalars / timestamps made JSON-friendly and NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
