"""Streaming, exact, mergeable per-column statistics of a monitoring window.

A window can be far larger than memory allows as a DataFrame, so its statistics are accumulated
batch by batch from Arrow record batches (the lake reads only the needed columns
by the lake adapter, ``ParquetLake.record_batches``). Everything kept is a *sufficient statistic* on the reference
profile's own definitions, so the drift scores in ``driftpilot.domain.drift`` need no raw rows:

* numeric: counts and value sums on the profile's fine grid (open outer cells, so values beyond
  the reference range are counted, never dropped), a missing count, and streaming moments
  (count, mean, M2, min, max; Chan et al.'s pairwise update, so merging is exact up to float
  rounding); plus the raw values while the column holds at most ``EXACT_SAMPLE_LIMIT`` of them,
  which makes the Wasserstein distance exact on small windows;
* categorical: counts of each reference category, an "unseen" bucket (with the unseen names, up to
  ``UNSEEN_NAMES_LIMIT`` distinct ones) and a missing bucket.

``merge(a, b)`` combines two windows; counts add, so accumulating any split of the rows in any
batch sizes gives the same statistics as one pass (the property tests check this). Memory is
bounded by the grid size and the batch size, not the window size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftpilot.domain.categories import category_key
from driftpilot.domain.profile import grid_counts
from driftpilot.errors import SchemaViolation

EXACT_SAMPLE_LIMIT = 5_000  # numeric values kept verbatim per column (exact small-window path)
UNSEEN_NAMES_LIMIT = 1_000  # distinct unseen category names remembered (the count is always exact)
BATCH_ROWS = 65_536


@dataclass(frozen=True, eq=False)
class NumericStats:
    """Sufficient statistics of one numeric column of a window, on the reference grid."""

    count: int  # non-missing values
    missing: int  # nulls and NaNs
    mean: float
    m2: float  # sum of squared deviations from the mean
    minimum: float
    maximum: float
    cell_counts: np.ndarray  # int64, one per grid cell (2 * len(grid edges) + 1)
    cell_sums: np.ndarray  # float64, sum of the values in each cell
    sample: np.ndarray | None = None  # the values themselves while count <= EXACT_SAMPLE_LIMIT

    @property
    def rows(self) -> int:
        return self.count + self.missing

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); 0 with fewer than two values."""
        return float(np.sqrt(self.m2 / (self.count - 1))) if self.count > 1 else 0.0

    def summary(self) -> dict[str, Any]:
        empty = self.count == 0
        return {
            "count": self.count,
            "missing": self.missing,
            "mean": None if empty else self.mean,
            "std": None if empty else self.std,
            "min": None if empty else self.minimum,
            "max": None if empty else self.maximum,
        }


@dataclass(frozen=True, eq=False)
class CategoricalStats:
    """Counts of one categorical column of a window against the reference categories."""

    categories: tuple[str, ...]  # reference categories, in profile order
    counts: np.ndarray  # int64, one per reference category
    unseen: int
    missing: int
    unseen_names: Mapping[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.counts.sum()) + self.unseen + self.missing

    def summary(self) -> dict[str, Any]:
        top = sorted(self.unseen_names.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        return {
            "count": int(self.counts.sum()) + self.unseen,
            "missing": self.missing,
            "unseen": self.unseen,
            "top_unseen": dict(top),
        }


ColumnStats = NumericStats | CategoricalStats


@dataclass(frozen=True, eq=False)
class WindowStats:
    """Statistics of every monitored column of one window (rows = rows seen, all columns)."""

    rows: int
    columns: Mapping[str, ColumnStats]

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": {name: s.summary() for name, s in self.columns.items()}}


def _column_profile(profile: Mapping[str, Any], column: str) -> Mapping[str, Any]:
    for section in ("columns", "predictions"):
        if column in profile.get(section, {}):
            found: Mapping[str, Any] = profile[section][column]
            return found
    raise SchemaViolation(f"column {column!r} is not in the reference profile; profiled: "
                          f"{sorted(profile.get('columns', {}))}")


def _grid(col_profile: Mapping[str, Any], column: str) -> np.ndarray:
    if "grid" not in col_profile:
        raise SchemaViolation(
            f"the reference profile of {column!r} has no fine grid (profile_version < 2); "
            "rebuild the baseline profile with driftpilot.domain.profile.build_profile"
        )
    return np.asarray(col_profile["grid"]["edges"], dtype=float)


def empty_numeric(grid: np.ndarray) -> NumericStats:
    cells = 2 * grid.size + 1
    return NumericStats(0, 0, 0.0, 0.0, np.inf, -np.inf, np.zeros(cells, dtype=np.int64),
                        np.zeros(cells, dtype=float), np.empty(0))


def empty_categorical(categories: Sequence[str]) -> CategoricalStats:
    return CategoricalStats(tuple(categories), np.zeros(len(categories), dtype=np.int64), 0, 0, {})


def _as_float(array: pa.Array) -> np.ndarray:
    """Values as float64 with NaN for missing; text that is not a number counts as missing."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or pa.types.is_boolean(array.type):
        return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    coerced = pd.to_numeric(pd.Series(array.to_pandas()), errors="coerce")
    return np.asarray(coerced.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def numeric_batch(values: np.ndarray, grid: np.ndarray) -> NumericStats:
    """Statistics of one batch of float values (NaN or +-inf = missing) on ``grid``."""
    nan = ~np.isfinite(values)  # NaN, null and +-inf all count as missing
    missing = int(nan.sum())
    present = np.sort(values[~nan]) if missing else np.sort(values)
    n = int(present.size)
    counts, sums = grid_counts(present, grid)
    if n == 0:
        return NumericStats(0, missing, 0.0, 0.0, np.inf, -np.inf, counts, sums, np.empty(0))
    mean = float(present.mean())
    m2 = float(np.square(present - mean).sum())
    sample = present if n <= EXACT_SAMPLE_LIMIT else None
    return NumericStats(n, missing, mean, m2, float(present[0]), float(present[-1]), counts, sums, sample)


def merge_numeric(a: NumericStats, b: NumericStats) -> NumericStats:
    n = a.count + b.count
    if n == 0:
        mean, m2 = 0.0, 0.0
    else:
        delta = b.mean - a.mean
        mean = a.mean + delta * b.count / n
        m2 = a.m2 + b.m2 + delta * delta * a.count * b.count / n
    sample = None
    if a.sample is not None and b.sample is not None and n <= EXACT_SAMPLE_LIMIT:
        sample = np.sort(np.concatenate([a.sample, b.sample]))
    return NumericStats(n, a.missing + b.missing, mean, m2, min(a.minimum, b.minimum),
                        max(a.maximum, b.maximum), a.cell_counts + b.cell_counts,
                        a.cell_sums + b.cell_sums, sample)


def categorical_batch(array: pa.Array, categories: Sequence[str]) -> CategoricalStats:
    """Counts of one batch; values are compared by ``category_key``, like the profile does."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    missing = array.null_count
    if pa.types.is_floating(array.type):
        nan = int(pc.sum(pc.is_nan(array.drop_null())).as_py() or 0)
        missing += nan
        array = pc.filter(array, pc.invert(pc.is_nan(array)))
    tallies = pc.value_counts(array.drop_null())
    index = {c: i for i, c in enumerate(categories)}
    counts = np.zeros(len(categories), dtype=np.int64)
    unseen = 0
    names: dict[str, int] = {}
    for value, count in zip(tallies.field("values").to_pylist(), tallies.field("counts").to_pylist(), strict=True):
        key = category_key(value)
        if key is None:  # a value that is missing in another spelling (e.g. NaN in an object column)
            missing += count
            continue
        if key in index:
            counts[index[key]] += count
        else:
            unseen += count
            if key in names or len(names) < UNSEEN_NAMES_LIMIT:
                names[key] = names.get(key, 0) + count
    return CategoricalStats(tuple(categories), counts, unseen, missing, names)


def merge_categorical(a: CategoricalStats, b: CategoricalStats) -> CategoricalStats:
    if a.categories != b.categories:
        raise ValueError("cannot merge categorical statistics of different reference categories")
    names = dict(a.unseen_names)
    for key, count in b.unseen_names.items():
        if key in names or len(names) < UNSEEN_NAMES_LIMIT:
            names[key] = names.get(key, 0) + count
    return CategoricalStats(a.categories, a.counts + b.counts, a.unseen + b.unseen,
                            a.missing + b.missing, names)


def merge(a: WindowStats, b: WindowStats) -> WindowStats:
    """Statistics of the union of two windows' rows (same profile and columns)."""
    if set(a.columns) != set(b.columns):
        raise ValueError(f"cannot merge window statistics of different columns: {sorted(a.columns)} "
                         f"vs {sorted(b.columns)}")
    merged: dict[str, ColumnStats] = {}
    for name, left in a.columns.items():
        right = b.columns[name]
        if isinstance(left, NumericStats) and isinstance(right, NumericStats):
            merged[name] = merge_numeric(left, right)
        elif isinstance(left, CategoricalStats) and isinstance(right, CategoricalStats):
            merged[name] = merge_categorical(left, right)
        else:
            raise ValueError(f"column {name!r} is numeric in one window and categorical in the other")
    return WindowStats(a.rows + b.rows, merged)


def empty_window(profile: Mapping[str, Any], numeric: Sequence[str], categorical: Sequence[str]) -> WindowStats:
    """Statistics of a window with no rows (the identity of ``merge``)."""
    columns: dict[str, ColumnStats] = {}
    for name in numeric:
        columns[name] = empty_numeric(_grid(_column_profile(profile, name), name))
    for name in categorical:
        columns[name] = empty_categorical(list(_column_profile(profile, name).get("frequencies", {})))
    return WindowStats(0, columns)


def accumulate(
    batches: Iterable[pa.RecordBatch | pa.Table],
    profile: Mapping[str, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> WindowStats:
    """Stream ``batches`` into window statistics on the profile's grids and categories.

    Raises ``SchemaViolation`` when a batch lacks a column or the profile does not know it.
    A window without batches (or rows) gives empty statistics, which ``driftpilot.domain.drift``
    reports as "no data" rather than as "no drift".
    """
    grids = {name: _grid(_column_profile(profile, name), name) for name in numeric}
    cats = {name: list(_column_profile(profile, name).get("frequencies", {})) for name in categorical}
    total = empty_window(profile, numeric, categorical)
    for item in batches:
        for batch in item.to_batches() if isinstance(item, pa.Table) else [item]:
            absent = [c for c in (*numeric, *categorical) if batch.schema.get_field_index(c) < 0]
            if absent:
                raise SchemaViolation(f"window batch lacks column(s) {absent}; it has {batch.schema.names}")
            columns: dict[str, ColumnStats] = {}
            for name in numeric:
                columns[name] = numeric_batch(_as_float(batch.column(name)), grids[name])
            for name in categorical:
                columns[name] = categorical_batch(batch.column(name), cats[name])
            total = merge(total, WindowStats(batch.num_rows, columns))
    return total


def select_rows(batch: pa.RecordBatch, mask: np.ndarray) -> pa.RecordBatch:
    """The rows of ``batch`` where ``mask`` is true (e.g. one model version's rows)."""
    return batch.filter(pa.array(mask, type=pa.bool_()))


def stats_from_frame(
    frame: pd.DataFrame,
    profile: Mapping[str, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
    batch_rows: int = BATCH_ROWS,
) -> WindowStats:
    """Window statistics of an in-memory frame (small windows, tests)."""
    missing = [c for c in (*numeric, *categorical) if c not in frame.columns]
    if missing:
        raise SchemaViolation(f"frame has no column(s) {missing}; it has {sorted(map(str, frame.columns))}")
    table = pa.Table.from_pandas(frame[[*numeric, *categorical]], preserve_index=False)
    return accumulate(table.to_batches(max_chunksize=batch_rows), profile, numeric, categorical)
