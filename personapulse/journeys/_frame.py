"""Shared helpers: column checks and the one sort every journey function relies on."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

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


# id(Arrow data) -> (weak reference to it, (codes, uniques)); an entry leaves with its data.
_FACTORIZED: dict[int, tuple[weakref.ref, tuple[np.ndarray, np.ndarray]]] = {}
_FACTORIZED_LOCK = threading.Lock()


def _cached_codes(chunked) -> tuple[np.ndarray, np.ndarray] | None:
    with _FACTORIZED_LOCK:
        entry = _FACTORIZED.get(id(chunked))
    if entry is not None and entry[0]() is chunked:
        return entry[1]
    return None


def _remember_codes(chunked, value: tuple[np.ndarray, np.ndarray]) -> None:
    key = id(chunked)
    with _FACTORIZED_LOCK:
        _FACTORIZED[key] = (weakref.ref(chunked), value)
    weakref.finalize(chunked, _forget_codes, key, weakref.ref(chunked))


def _forget_codes(key: int, ref: weakref.ref) -> None:
    with _FACTORIZED_LOCK:
        entry = _FACTORIZED.get(key)
        if entry is not None and entry[0]() is None:
            del _FACTORIZED[key]


def _arrow_chunks(array) -> object | None:
    """The immutable Arrow data behind an Arrow-backed string array (None otherwise)."""
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return None
    chunked = getattr(array, "_pa_array", None)
    if chunked is None:
        chunked = array.__arrow_array__()
    return chunked


def _combined(chunked):
    import pyarrow as pa

    if isinstance(chunked, pa.ChunkedArray):
        return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    return chunked


def _dictionary_codes(arrow) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def _string_words(arrow) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """Lengths and zero-padded little-endian 8-byte words of each string (no nulls), or None."""
    import pyarrow as pa

    if arrow.null_count or not (
        pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)
    ):
        return None
    n = len(arrow)
    _, offsets_buffer, data_buffer = arrow.buffers()
    offset_type = np.int32 if pa.types.is_string(arrow.type) else np.int64
    offsets = np.frombuffer(
        offsets_buffer, dtype=offset_type, count=n + 1, offset=arrow.offset * offset_type().itemsize
    ).astype(np.int64)
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if n else 0
    if longest > 64:
        return None
    end = int(offsets[-1])
    padded = np.zeros(end + 8, dtype=np.uint8)
    if data_buffer is not None and end:
        padded[:end] = np.frombuffer(data_buffer, dtype=np.uint8, count=end)
    windows = np.lib.stride_tricks.as_strided(padded, shape=(end + 1, 8), strides=(1, 1))
    words = []
    for start in range(0, max(longest, 1), 8):
        word = windows[np.minimum(offsets[:-1] + start, end)].view("<u8").ravel()
        words.append(word & _BYTE_MASKS[np.clip(lengths - start, 0, 8)])
    return lengths, words


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of the first occurrence of codes 0, 1, 2, … (codes numbered by first appearance)."""
    seen = np.empty(codes.size, dtype=np.int64)
    seen[0] = -1
    np.maximum.accumulate(codes[:-1], out=seen[1:])
    return np.flatnonzero(codes > seen)


def _factorize_many(arrow) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary codes of a high-cardinality string array (ids): an integer hash table over
    the strings' bytes, every row checked against its code's first row (exact: on any
    hash collision Arrow's string dictionary is used instead)."""
    parts = _string_words(arrow)
    if parts is None:
        return _dictionary_codes(arrow)
    lengths, words = parts
    hashed = mix64(lengths.astype(np.uint64))
    for word in words:
        hashed = mix64(hashed ^ word)
    codes, _ = pd.factorize(hashed, sort=False)
    codes = codes.astype(np.int64, copy=False)
    n = codes.size
    if n == 0:
        return codes, np.zeros(0, dtype=object)
    first_rows = _first_rows(codes)
    representative = first_rows[codes]
    exact = bool(np.array_equal(lengths, lengths[representative]))
    for word in words:
        exact = exact and bool(np.array_equal(word, word[representative]))
    if not exact:
        return _dictionary_codes(arrow)
    uniques = arrow.take(first_rows).to_numpy(zero_copy_only=False)
    return codes, np.asarray(uniques, dtype=object)


def factorize(
    values: pd.Series | np.ndarray, *, many: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of the values as Python objects: int64 codes in order of first
    appearance (-1 for missing) and the uniques as an object array.

    Arrow-backed string columns (pandas' default ``str`` dtype) are encoded from their Arrow
    buffers, so no Python string is made per row, and the result is remembered for as long
    as that immutable Arrow data lives (sessionize, to_steps and funnel read the same
    columns). ``many``: the column has many distinct values (person ids). Callers must not
    modify the returned arrays.
    """
    array = values.array if isinstance(values, pd.Series) else values
    chunked = _arrow_chunks(array)
    if chunked is not None:
        cached = _cached_codes(chunked)
        if cached is not None:
            return cached
        arrow = _combined(chunked)
        codes, uniques = _factorize_many(arrow) if many else _dictionary_codes(arrow)
        codes.flags.writeable = False
        uniques.flags.writeable = False
        _remember_codes(chunked, (codes, uniques))
        return codes, uniques
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


def expand(uniques: np.ndarray, codes: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """``uniques[codes]`` as the column pandas would infer from it, built without a Python
    object per row when that column holds strings (Arrow-backed ``str``)."""
    uniques = np.asarray(uniques, dtype=object)
    if uniques.size:
        inferred = pd.Series(uniques).array
        chunked = _arrow_chunks(inferred)
        if chunked is not None:
            import pyarrow as pa

            taken = _combined(chunked).take(pa.array(np.asarray(codes, dtype=np.int64)))
            return pd.arrays.ArrowStringArray(taken, dtype=inferred.dtype)
    return uniques[codes]


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
    sessions: np.ndarray | None = None  # int64 session keys in sorted order, when trusted

    @cached_property
    def _person_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        return _blocks(self.person_codes)

    @property
    def person_first(self) -> np.ndarray:
        return self._person_blocks[0]

    @property
    def person_end(self) -> np.ndarray:
        return self._person_blocks[1]

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
        if (span // quantum + 1) * n_codes >= 2**62:
            continue
        # The finest unit that fits; exact only when every timestamp is a multiple of it
        # (each unit divides the next, so no coarser unit can be exact otherwise).
        if quantum == 1 or not np.any(offsets % quantum):
            key = codes * (span // quantum + 1) + offsets // quantum
            return np.argsort(key, kind="stable").astype(np.int64, copy=False)
        break
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


def _persons_at(person_ids: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``rows`` (session starts in sorted order): whether each starts a new person, and
    the id of each new person. Compares codes or Arrow strings, not Python objects."""
    values = person_ids.array
    if isinstance(person_ids.dtype, pd.CategoricalDtype):
        codes = person_ids.cat.codes.to_numpy()[rows]
        new_person = np.r_[True, codes[1:] != codes[:-1]] if rows.size else np.zeros(0, bool)
        categories = person_ids.cat.categories.to_numpy(dtype=object)
        at_new = codes[new_person]
        uniques = np.where(at_new >= 0, categories[np.maximum(at_new, 0)], None)
        return new_person, np.asarray(uniques, dtype=object)
    chunked = _arrow_chunks(values)
    cached = _cached_codes(chunked) if chunked is not None else None
    if cached is not None and rows.size:
        codes = cached[0][rows]
        if codes.min() >= 0:
            new_person = np.r_[True, codes[1:] != codes[:-1]]
            return new_person, cached[1][codes[new_person]]
    if chunked is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        taken = _combined(chunked).take(pa.array(rows))
        if taken.null_count == 0 and rows.size:
            differs = pc.not_equal(taken.slice(1), taken.slice(0, rows.size - 1))
            new_person = np.r_[True, differs.to_numpy(zero_copy_only=False)]
            uniques = taken.filter(pa.array(new_person)).to_numpy(zero_copy_only=False)
            return new_person, np.asarray(uniques, dtype=object)
    ids = np.asarray(person_ids.take(rows), dtype=object)
    new_person = np.r_[True, ids[1:] != ids[:-1]] if rows.size else np.zeros(0, bool)
    return new_person, ids[new_person]


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
        if not bool(
            np.all(
                (sorted_sessions[1:] > sorted_sessions[:-1])
                | (same_session & (sorted_times[1:] >= sorted_times[:-1]))
            )
        ):
            order = _stable_order(sessions - sessions.min(), times)
            sorted_sessions, sorted_times = sessions[order], times[order]
            same_session = sorted_sessions[1:] == sorted_sessions[:-1]
        session_starts = np.flatnonzero(np.r_[True, ~same_session])
        new_person_at_start, uniques = _persons_at(person_ids, order[session_starts])
        session_person = np.cumsum(new_person_at_start) - 1
        sizes = np.diff(np.append(session_starts, n))
        codes = np.repeat(session_person, sizes).astype(np.int64)
        if pd.isna(uniques).any():
            raise ValueError(f"{name} has missing person ids")
        times = sorted_times
    else:
        sorted_sessions = None
        if isinstance(person_ids.dtype, pd.CategoricalDtype):
            # Steps frames carry person ids as categoricals: their codes need no hashing.
            codes = person_ids.cat.codes.to_numpy()
            uniques = person_ids.cat.categories.to_numpy(dtype=object)
        else:
            codes, uniques = factorize(person_ids, many=True)
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
    return PersonTimeOrder(
        order=order,
        person_codes=codes,
        person_uniques=np.asarray(uniques, dtype=object),
        times=times,
        sessions=sorted_sessions,
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
    # Positions are small: mix each distinct one once and look the rest up.
    salted = mix64(np.arange(int(sizes.max()), dtype=np.uint64) + np.uint64(seed))
    terms = mix64(items.astype(np.uint64) ^ salted[position])
    summed = np.add.reduceat(terms, group_starts)
    return mix64(summed ^ mix64(sizes.astype(np.uint64) + np.uint64(seed * 7 + 1)))


def combine_hashes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Single int64 id per (first, second) pair via factorisation of the pair."""
    codes, _ = pd.factorize(first, sort=False)
    codes = codes.astype(np.int64, copy=False)
    if codes.size and np.array_equal(second, second[_first_rows(codes)][codes]):
        return codes  # numbered by first appearance, as the pair grouping below
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
    fast = _arrow_lookup(person_ids, assignments[person_col], assignments[persona_col])
    if fast is not None:
        return fast
    if assignments[person_col].duplicated().any():
        raise ValueError("assignments must hold at most one persona per person")
    mapping = pd.Series(
        assignments[persona_col].to_numpy(dtype=object),
        index=assignments[person_col].to_numpy(dtype=object),
    )
    return pd.Series(person_ids.map(mapping).to_numpy(dtype=object), index=person_ids.index)


def _arrow_lookup(person_ids: pd.Series, keys: pd.Series, values: pd.Series) -> pd.Series | None:
    """The persona mapping of :func:`attach_personas` by an Arrow hash lookup, when person ids,
    assignment ids and personas are all strings (None otherwise: the caller maps in Python)."""
    key_chunks = _arrow_chunks(keys.array)
    if key_chunks is None or not isinstance(values.array, pd.arrays.ArrowStringArray):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    key_array = _combined(key_chunks)
    if key_array.null_count:
        return None
    if pc.count_distinct(key_array, mode="all").as_py() != len(key_array):
        raise ValueError("assignments must hold at most one persona per person")
    ids = person_ids.array
    id_chunks = _arrow_chunks(ids)
    if id_chunks is not None:
        id_array = _combined(id_chunks)
        if id_array.null_count:
            return None
        if id_array.type != key_array.type:
            id_array = id_array.cast(key_array.type)
    else:
        id_objects = np.asarray(ids, dtype=object)
        if not all(isinstance(value, str) for value in id_objects):
            return None
        id_array = pa.array(id_objects, type=key_array.type)
    position = pc.index_in(id_array, value_set=key_array).to_numpy(zero_copy_only=False)
    found = ~np.isnan(position)
    index = np.where(found, position, 0).astype(np.int64)
    personas = values.to_numpy(dtype=object)
    out = np.full(len(id_array), np.nan, dtype=object)
    if personas.size:
        out[found] = personas[index[found]]
    return pd.Series(out, index=person_ids.index)
