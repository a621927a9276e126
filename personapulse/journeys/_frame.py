"""Shared helpers: column checks and the one sort every journey function relies on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

NS_PER_SECOND = 1_000_000_000


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, frame_name: str) -> None:
    """Raise ValueError naming every column of ``columns`` missing from ``frame``."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{frame_name} is missing required column(s): {', '.join(missing)}")


def timestamps_ns(values: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch as int64 (NaT becomes the int64 minimum)."""
    converted = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    return np.asarray(converted.array.asi8, dtype=np.int64)


_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True)) + r")",
    re.IGNORECASE,
)


def to_timedelta_ns(value: str | pd.Timedelta | None, *, name: str) -> int | None:
    """Parse "7d", "30m" / "30min", "2h", "1w", a Timedelta, or None (no limit) into ns.

    Our own unit table because pandas deprecates lower-case "d"; other strings go to
    pd.Timedelta.
    """
    if value is None:
        return None
    if isinstance(value, str):
        found = _DURATION.fullmatch(value.strip())
        if found:
            amount, unit = float(found.group(1)), found.group(2).lower()
            delta = pd.Timedelta(seconds=amount * _UNIT_SECONDS[unit])
        else:
            delta = pd.Timedelta(value)
    else:
        delta = pd.Timedelta(value)
    if pd.isna(delta) or delta < pd.Timedelta(0):
        raise ValueError(f"{name} must be a non-negative duration, got {value!r}")
    return int(delta.value)


def as_object_array(values: pd.Series | np.ndarray) -> np.ndarray:
    """Strings as an object array (a copy) with missing values replaced by ""."""
    array = np.array(values, dtype=object, copy=True)
    array[pd.isna(array)] = ""
    return array


@dataclass(frozen=True)
class PersonTimeOrder:
    """Events sorted by (person, timestamp), ties kept in input order.

    ``order`` indexes the input rows; every other array is in sorted order.
    ``person_first``/``person_end`` give each sorted row the bounds of its person's block.
    """

    order: np.ndarray
    person_codes: np.ndarray
    person_uniques: np.ndarray
    times: np.ndarray
    person_first: np.ndarray
    person_end: np.ndarray

    @property
    def size(self) -> int:
        return int(self.order.size)

    def time_group_start(self) -> np.ndarray:
        """For each sorted row, the first row of the same person with the same timestamp."""
        n = self.size
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (self.person_codes[1:] != self.person_codes[:-1]) | (
            self.times[1:] != self.times[:-1]
        )
        starts = np.where(new_group, np.arange(n, dtype=np.int64), 0)
        return np.maximum.accumulate(starts)


def ns_to_datetime(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 UTC nanoseconds to an aware DatetimeIndex (fast path, no parsing)."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")


def _stable_order(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Stable argsort by (codes, times) as one int64 key when that key is exact."""
    n = codes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = times - times.min()
    span = int(offsets.max())
    n_codes = int(codes.max()) + 1
    for quantum in (1, 1_000, 1_000_000, NS_PER_SECOND):
        # A coarser unit is exact only when every timestamp is a multiple of it.
        if quantum > 1 and np.any(offsets % quantum):
            break
        if (span // quantum + 1) * n_codes < 2**62:
            key = codes * (span // quantum + 1) + offsets // quantum
            return np.argsort(key, kind="stable").astype(np.int64, copy=False)
    return np.lexsort((times, codes)).astype(np.int64, copy=False)


def _permutation_inverse(positions: np.ndarray) -> np.ndarray:
    """Rows in the order given by ``positions``: O(n) scatter for a permutation, else a sort."""
    n = positions.size
    if n and positions.min() == 0 and positions.max() == n - 1:
        order = np.full(n, -1, dtype=np.int64)
        order[positions] = np.arange(n, dtype=np.int64)
        if order.min() >= 0:  # every slot filled, so positions was a permutation
            return order
    return np.argsort(positions, kind="stable").astype(np.int64, copy=False)


def _blocks(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sorted row, the first row and the end (exclusive) of its run of equal codes."""
    n = codes.size
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = codes[1:] != codes[:-1]
    block_starts = np.flatnonzero(new_block)
    block_sizes = np.diff(np.append(block_starts, n))
    return np.repeat(block_starts, block_sizes), np.repeat(block_starts + block_sizes, block_sizes)


def order_events(
    frame: pd.DataFrame,
    *,
    person_col: str = "person_id",
    timestamp_col: str = "timestamp",
    session_col: str = "session_key",
    event_order_col: str = "event_order",
    trust_sessions: bool = True,
    name: str = "events",
) -> PersonTimeOrder:
    """Sort once by (person, time); equal timestamps keep input order.

    Frames from :func:`sessionize` (``session_key`` and ``event_order`` columns) and frames
    already sorted are ordered without hashing person ids: person blocks are found by
    comparing ids only where the session changes.
    """
    person_ids = frame[person_col]
    times = timestamps_ns(frame[timestamp_col])
    if times.size and (times == np.iinfo(np.int64).min).any():
        raise ValueError(f"{name} has missing timestamps")
    n = times.size
    if trust_sessions and session_col in frame.columns and n:
        sessions = frame[session_col].to_numpy(dtype=np.int64)
        if event_order_col in frame.columns:
            order = _permutation_inverse(frame[event_order_col].to_numpy(dtype=np.int64))
        else:
            order = np.arange(n, dtype=np.int64)
        sorted_sessions = sessions[order]
        sorted_times = times[order]
        same_session = sorted_sessions[1:] == sorted_sessions[:-1]
        if not (
            np.all(sorted_sessions[1:] >= sorted_sessions[:-1])
            and np.all(sorted_times[1:][same_session] >= sorted_times[:-1][same_session])
        ):
            order = _stable_order(sessions - sessions.min(), times)
            sorted_sessions, sorted_times = sessions[order], times[order]
            same_session = sorted_sessions[1:] == sorted_sessions[:-1]
        session_starts = np.flatnonzero(np.r_[True, ~same_session])
        ids_at_starts = np.asarray(person_ids.take(order[session_starts]), dtype=object)
        new_person_at_start = np.r_[True, ids_at_starts[1:] != ids_at_starts[:-1]]
        session_person = np.cumsum(new_person_at_start) - 1
        sizes = np.diff(np.append(session_starts, n))
        codes = np.repeat(session_person, sizes).astype(np.int64)
        uniques = ids_at_starts[new_person_at_start]
        if pd.isna(uniques).any():
            raise ValueError(f"{name} has missing person ids")
        times = sorted_times
    else:
        if isinstance(person_ids.dtype, pd.CategoricalDtype):
            # Steps frames carry person ids as categoricals: their codes need no hashing.
            codes = person_ids.cat.codes.to_numpy()
            uniques = person_ids.cat.categories.to_numpy(dtype=object)
        else:
            codes, uniques = pd.factorize(person_ids.to_numpy(dtype=object), sort=False)
        codes = codes.astype(np.int64, copy=False)
        if n and codes.min() < 0:
            raise ValueError(f"{name} has missing person ids")
        uniques = np.asarray(uniques, dtype=object)
        same_person = codes[1:] == codes[:-1]
        already_sorted = (
            np.count_nonzero(~same_person) == max(uniques.size - 1, 0)
            and bool(np.all(codes[1:] >= codes[:-1]))
            and bool(np.all(times[1:][same_person] >= times[:-1][same_person]))
        )
        if already_sorted:
            order = np.arange(n, dtype=np.int64)
        else:
            order = _stable_order(codes, times)
            codes, times = codes[order], times[order]
    person_first, person_end = _blocks(codes)
    return PersonTimeOrder(
        order=order,
        person_codes=codes,
        person_uniques=np.asarray(uniques, dtype=object),
        times=times,
        person_first=person_first,
        person_end=person_end,
    )


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a uint64 array (wrapping arithmetic, vectorised)."""
    x = values.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def sequence_hashes(items: np.ndarray, group_starts: np.ndarray, *, seed: int) -> np.ndarray:
    """One 64-bit hash per contiguous group of ``items`` that depends on item order.

    Each (position, item) pair is mixed and the mixes are summed per group, so equal
    sequences get equal hashes; callers pair two seeds to make collisions (about 2**-128
    per pair of distinct sequences) negligible.
    """
    n = items.size
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    sizes = np.diff(np.append(group_starts, n))
    position = np.arange(n, dtype=np.int64) - np.repeat(group_starts, sizes)
    salted_position = mix64(position.astype(np.uint64) + np.uint64(seed))
    terms = mix64(items.astype(np.uint64) ^ salted_position)
    summed = np.add.reduceat(terms, group_starts)
    return mix64(summed ^ mix64(sizes.astype(np.uint64) + np.uint64(seed * 7 + 1)))


def combine_hashes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Single int64 id per (first, second) pair via factorisation of the pair."""
    frame = pd.DataFrame({"a": first.view(np.int64), "b": second.view(np.int64)})
    return frame.groupby(["a", "b"], sort=False).ngroup().to_numpy(dtype=np.int64)


def attach_personas(
    person_ids: pd.Series,
    assignments: pd.DataFrame | None,
    *,
    person_col: str,
    persona_col: str,
) -> pd.Series | None:
    """Persona of each person id (NaN when the person has no assignment), or None."""
    if assignments is None:
        return None
    require_columns(assignments, [person_col, persona_col], frame_name="assignments")
    if assignments[person_col].duplicated().any():
        raise ValueError("assignments must hold at most one persona per person")
    mapping = pd.Series(
        assignments[persona_col].to_numpy(dtype=object),
        index=assignments[person_col].to_numpy(dtype=object),
    )
    return pd.Series(person_ids.map(mapping).to_numpy(dtype=object), index=person_ids.index)
