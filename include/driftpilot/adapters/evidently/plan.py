"""Which columns each Evidently report covers and which drift method each one gets. Pure.

Pinned methods: Evidently switches its defaults at 1,000 reference rows (p-values below,
distances above), so the methods and threshold always come from ``reports.evidently``. A numeric
column whose reference holds a single value gets ``jensenshannon`` instead of the std-normalised
``wasserstein`` (Evidently divides by ``max(std, 0.001)``: a meaningless magnitude); a column
entirely missing in the window or the reference cannot be drift-tested by Evidently (it raises),
so it is left out of the report and counted as drifted. Both are said in ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftpilot.adapters.evidently.methods import (
    CONSTANT_REFERENCE_METHOD,
    STD_NORMED_METHODS,
    check_method,
)
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import PREDICTION, SCORE


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns each report covers, with their type and pinned drift method."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    methods: Mapping[str, str]  # every drift-tested column -> method
    untestable: tuple[str, ...]  # entirely missing in current or reference: not given to Evidently
    notes: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @property
    def drift_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.untestable)

    def without(self, column: str) -> ColumnPlan:
        """The plan minus ``column`` in the plain column lists (the performance report declares
        the prediction in its task block instead)."""
        return ColumnPlan(
            numeric=tuple(c for c in self.numeric if c != column),
            categorical=tuple(c for c in self.categorical if c != column),
            methods=self.methods,
            untestable=self.untestable,
            notes=self.notes,
        )


def output_columns(config: ModelConfig, frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numeric, categorical) model-output columns present in ``frame``."""
    if config.task is TaskType.REGRESSION:
        return ((PREDICTION,) if PREDICTION in frame.columns else (), ())
    scores: tuple[str, ...]
    if config.task is TaskType.BINARY:
        scores = (SCORE,) if SCORE in frame.columns else ()
    else:
        scores = tuple(c for c in frame.columns if isinstance(c, str) and c.startswith(f"{SCORE}_"))
    return scores, ((PREDICTION,) if PREDICTION in frame.columns else ())


def is_constant(series: pd.Series) -> bool:
    """True when the non-missing values of ``series`` are a single value (up to float noise)."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return False
    low, high = float(values.min()), float(values.max())
    return bool(high - low <= 1e-12 * max(1.0, abs(low), abs(high)))


def plan_columns(config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame) -> ColumnPlan:
    """Pin a drift method for every feature and output column (see the module docstring)."""
    spec = config.reports.evidently
    out_num, out_cat = output_columns(config, current)
    out_num = tuple(c for c in out_num if c in reference.columns)
    out_cat = tuple(c for c in out_cat if c in reference.columns)
    numeric = tuple(config.features.numeric) + out_num
    categorical = tuple(config.features.categorical) + out_cat
    key = f"{config.path}: `reports.evidently"
    num_method = check_method(spec.num_method, f"{key}.num_method`")
    cat_method = check_method(spec.cat_method, f"{key}.cat_method`")
    methods: dict[str, str] = {}
    notes: list[str] = []
    untestable: list[str] = []
    for column in numeric + categorical:
        default = num_method if column in numeric else cat_method
        explicit = spec.per_column_method.get(column)
        method = check_method(explicit, f"{key}.per_column_method.{column}`") if explicit else default
        cur_empty = current[column].isna().all() if column in current.columns else True
        ref_empty = reference[column].isna().all() if column in reference.columns else True
        if cur_empty or ref_empty:
            where = "current window" if cur_empty else "reference"
            untestable.append(column)
            notes.append(f"{column}: every value is missing in the {where}; not drift-tested by Evidently, counted as drifted")
            continue
        if column in numeric and method in STD_NORMED_METHODS and not explicit and is_constant(reference[column]):
            notes.append(
                f"{column}: constant in the reference (std 0), so normed {method} is undefined "
                f"(Evidently divides by 0.001); pinned {CONSTANT_REFERENCE_METHOD} at threshold {spec.threshold}"
            )
            method = CONSTANT_REFERENCE_METHOD
        methods[column] = method
    return ColumnPlan(numeric, categorical, methods, tuple(untestable), tuple(notes))


def bounded_sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """``frame`` itself, or a seeded sample of ``max_rows`` rows kept in their original order."""
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=np.random.RandomState(seed)).sort_index(kind="stable")
