"""Evidently adapter: the human-readable drift, data-quality and performance reports of a window.

The only module that imports Evidently (0.7, new API: ``Report``, ``Dataset``, ``DataDefinition``,
presets). Evidently costs ~6 s to import, so every import is inside a function. driftpilot's own
drift statistics (exact, over every row) live elsewhere; this module renders what a person reads
and extracts a flat, machine-readable summary of what Evidently found.

For one monitoring window ``build_window_reports`` writes into ``out_dir``::

    drift.html / drift.json              DataDriftPreset over features, prediction and score
    quality.html / quality.json          data quality/summary over the same columns
    performance.html / performance.json  ClassificationPreset / RegressionPreset, only with labels
    summary.json                         the flat metric rows and the window's facts (below)
    index.html                           links, sample size, performance status

Choices worth knowing:

* **Explicit DataDefinition, always.** ``prediction_id`` is the id column and ``event_time`` the
  timestamp (the reference sample has neither, so it gets ``reference-<n>`` ids and times spread
  over the current window's span, used only for Evidently's time axes: Evidently refuses a column
  present in one dataset only, and empty times crash its regression error-over-time plot). Numeric/categorical columns come
  from the config; the prediction is categorical for classifiers and numeric for regression, the
  score numeric. The performance report adds the ``BinaryClassification`` / ``Regression`` block
  (target = the label column ``config.target``). Binary labels and predictions are mapped to 1
  (``config.positive_label``) / 0 so that ``1``, ``1.0`` and ``"1"`` are one class.
* **Pinned drift methods.** Evidently switches its defaults at 1,000 reference rows (p-values
  below, distances above), so the methods and the threshold always come from ``config.drift``.
  ``include_tests=True`` gives each column a pass/fail; ``drifted`` is read from that test, and
  falls back to the method's direction (p-value methods: ``value < threshold`` is drift;
  distances: ``value >= threshold``) when no test is present.
* **Constant reference columns.** Evidently's normed Wasserstein divides by
  ``max(std(reference), 0.001)``: a constant reference column (Elec2's Victoria columns) gives no
  NaN but a meaningless magnitude (WD/0.001, e.g. 120 for an ordinary shift) that would swamp any
  history chart. For a numeric column whose reference holds a single value and whose pinned method
  is std-normalised (``wasserstein``), this module pins ``jensenshannon`` (on Evidently's binned
  numeric data, bounded by ln 2) at the same threshold instead, and says so in ``notes``. Any
  change away from the constant is then reported as a bounded, comparable drift value; a window
  still at the constant gives 0.
* **Columns entirely missing** in the window (or in the reference) cannot be drift-tested by
  Evidently (it raises). They are left out of the Evidently report, recorded as a
  ``value_drift`` row with no value and ``drifted=True`` (a column that vanished has drifted),
  counted in ``drift_share`` and named in ``notes``.
* **Bounded size.** A frame longer than ``config.drift.max_report_rows`` is replaced by a seeded
  random sample of that many rows (kept in time order); the bundle, ``summary.json``, a banner at
  the top of every HTML report, the snapshot metadata/tags and ``index.html`` all say so.
* **Quality report, light by default.** Evidently's ``DataSummaryPreset`` builds a plotly figure
  for every statistic of every column (7 per numeric column) and costs 2-3 s per window whatever
  the row count; the default ``quality="light"`` selection (``DatasetStats``, missing values per
  column, mean with its histogram for numeric columns, category counts) gives the same missing
  value and mean rows in ~1 s. ``quality="summary"`` keeps the full preset.
* **Partial re-runs.** ``reuse=("drift", "quality")`` keeps those parts from an earlier run of the
  same window (same row counts) when only the performance report changed because labels matured.
* **Performance needs labels.** Without a labelled frame (or with fewer than
  ``config.labels.min_labelled_rows`` labelled rows, or a single class for a classifier) there is
  no performance report and the bundle says ``"insufficient labels"``, never a number.

* **Inert pages.** Evidently embeds the dashboard as JSON in an inline ``<script>``, where a
  category value or column name ``</script>...`` would end the script and inject markup. Each
  page goes through ``inert_evidently_html`` before it is written (``<``, ``>``, ``&`` in the
  embedded JSON become ``\\u003c``-style escapes); a page of an unknown layout is refused.
  ``index.html`` escapes every value and percent-encodes its links.

Every file is written through a temporary name and renamed into place; a re-run of a window
replaces its files and removes a performance report it no longer has labels for (unless
``reuse=("performance",)`` asks to keep it).
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import time
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from driftpilot.adapters.parquet_lake import write_json_atomic, write_text_atomic
from driftpilot.domain.categories import category_key, category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import EVENT_TIME, PREDICTION, PREDICTION_ID, SCORE
from driftpilot.errors import ConfigError, DriftpilotError

log = logging.getLogger(__name__)

INSUFFICIENT_LABELS = "insufficient labels"
PERFORMANCE_OK = "ok"
QUALITY_LIGHT = "light"
QUALITY_SUMMARY = "summary"
PARTS = ("drift", "quality", "performance")
DRIFT_METRICS = frozenset({"value_drift", "drifted_columns_count", "drifted_columns_share"})
REFERENCE_ID_PREFIX = "reference-"

# How each Evidently drift method reads: (kind, comparison that means drift).
# Taken from evidently/legacy/calculations/stattests/*.py (0.7.23).
DRIFT_METHODS: Mapping[str, tuple[str, str]] = {
    "wasserstein": ("distance", ">="),
    "psi": ("distance", ">="),
    "jensenshannon": ("distance", ">="),
    "kl_div": ("distance", ">="),
    "hellinger": ("distance", ">="),
    "ed": ("distance", ">"),
    "ks": ("p_value", "<="),
    "cramer_von_mises": ("p_value", "<="),
    "anderson": ("p_value", "<"),
    "chisquare": ("p_value", "<"),
    "z": ("p_value", "<"),
    "g_test": ("p_value", "<"),
    "fisher_exact": ("p_value", "<"),
    "mannw": ("p_value", "<"),
    "t_test": ("p_value", "<"),
    "es": ("p_value", "<"),
    "empirical_mmd": ("p_value", "<"),
    "TVD": ("p_value", "<"),
}
STD_NORMED_METHODS = frozenset({"wasserstein"})
CONSTANT_REFERENCE_METHOD = "jensenshannon"

# Evidently metric type -> our metric name (performance and quality rows).
_TYPE_PREFIX = "evidently:metric_v2:"
PERFORMANCE_METRICS: Mapping[str, str] = {
    "Accuracy": "accuracy",
    "Precision": "precision",
    "Recall": "recall",
    "F1Score": "f1",
    "RocAuc": "roc_auc",
    "LogLoss": "log_loss",
    "TPR": "tpr",
    "TNR": "tnr",
    "FPR": "fpr",
    "FNR": "fnr",
    "RMSE": "rmse",
    "MAE": "mae",
    "R2Score": "r2",
    "MeanError": "mean_error",
    "MAPE": "mape",
    "AbsMaxError": "abs_max_error",
}
DATASET_QUALITY_METRICS: Mapping[str, str] = {
    "RowCount": "row_count",
    "DuplicatedRowCount": "duplicated_row_count",
    "EmptyRowsCount": "empty_row_count",
    "EmptyColumnsCount": "empty_column_count",
    "ConstantColumnsCount": "constant_column_count",
    "AlmostConstantColumnsCount": "almost_constant_column_count",
}


def metric_part(metric: str) -> str:
    """Which report (``drift``, ``quality`` or ``performance``) a metric row comes from."""
    if metric in DRIFT_METRICS:
        return "drift"
    if metric in PERFORMANCE_METRICS.values():
        return "performance"
    return "quality"


@dataclass(frozen=True)
class MetricRow:
    """One flat, machine-readable result of a report (one row of the metrics history)."""

    metric: str
    column: str | None
    value: float
    method: str | None = None
    threshold: float | None = None
    drifted: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: a NaN value becomes ``None``."""
        return {
            "metric": self.metric,
            "column": self.column,
            "value": _finite_or_none(self.value),
            "method": self.method,
            "threshold": self.threshold,
            "drifted": self.drifted,
        }


@dataclass(frozen=True)
class ReportBundle:
    """What ``build_window_reports`` wrote and found for one window.

    ``paths`` maps ``drift_html, drift_json, quality_html, quality_json, summary, index`` (and
    ``performance_html, performance_json`` when labels allowed a performance report) to files.
    ``drift_share`` is the share of drift-tested columns (features, prediction, score) that
    drifted; ``performance`` is ``None`` exactly when ``performance_status`` is
    ``"insufficient labels"``. ``sampled``/``sample_rows``/``total_rows`` describe the current
    window; ``notes`` explains anything unusual (constant reference columns, empty columns,
    sampled reference); ``reused`` names the parts kept from an earlier run (``reuse=``).
    """

    model_name: str
    window_label: str
    out_dir: Path
    paths: Mapping[str, Path]
    metrics: tuple[MetricRow, ...]
    drift_share: float
    drifted_columns: tuple[str, ...]
    performance: Mapping[str, float] | None
    performance_status: str
    sampled: bool
    sample_rows: int
    total_rows: int
    reference_rows: int
    labelled_rows: int
    notes: tuple[str, ...]
    seconds: Mapping[str, float]
    reused: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.metrics]

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (file names relative to ``out_dir``)."""
        return {
            "model_name": self.model_name,
            "window": self.window_label,
            "files": {kind: path.name for kind, path in sorted(self.paths.items())},
            "drift_share": self.drift_share,
            "drifted_columns": list(self.drifted_columns),
            "performance": dict(self.performance) if self.performance is not None else INSUFFICIENT_LABELS,
            "performance_status": self.performance_status,
            "sampled": self.sampled,
            "sample_rows": self.sample_rows,
            "total_rows": self.total_rows,
            "reference_rows": self.reference_rows,
            "labelled_rows": self.labelled_rows,
            "notes": list(self.notes),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "reused": list(self.reused),
            "metrics": self.rows(),
        }


# --------------------------------------------------------------------------------------------
# Pure helpers (no Evidently): column plans, direction of drift, parsing snapshot dicts.
# --------------------------------------------------------------------------------------------


def is_drift(method: str, value: float, threshold: float) -> bool | None:
    """Whether ``value`` of drift ``method`` means drift at ``threshold`` (``None`` if unknown/NaN).

    p-value methods flag drift when the value is *below* the threshold, distances when it is at or
    above it.
    """
    if value is None or not math.isfinite(value):
        return None
    known = DRIFT_METHODS.get(method)
    if known is None:
        return None
    comparison = known[1]
    if comparison == ">=":
        return value >= threshold
    if comparison == ">":
        return value > threshold
    if comparison == "<=":
        return value <= threshold
    return value < threshold


def check_method(method: str, where: str) -> str:
    if method not in DRIFT_METHODS:
        raise ConfigError(f"{where}: unknown drift method {method!r}; use one of {', '.join(sorted(DRIFT_METHODS))}")
    return method


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
    spec = config.drift
    out_num, out_cat = output_columns(config, current)
    out_num = tuple(c for c in out_num if c in reference.columns)
    out_cat = tuple(c for c in out_cat if c in reference.columns)
    numeric = tuple(config.features.numeric) + out_num
    categorical = tuple(config.features.categorical) + out_cat
    num_method = check_method(spec.num_method, f"{config.path}: drift.num_method")
    cat_method = check_method(spec.cat_method, f"{config.path}: drift.cat_method")
    methods: dict[str, str] = {}
    notes: list[str] = []
    untestable: list[str] = []
    for column in numeric + categorical:
        default = num_method if column in numeric else cat_method
        explicit = spec.per_column_method.get(column)
        method = check_method(explicit, f"{config.path}: drift.per_column_method.{column}") if explicit else default
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


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _metric_type(metric: Mapping[str, Any]) -> str:
    raw = str(metric.get("config", {}).get("type", ""))
    return raw.removeprefix(_TYPE_PREFIX)


def _test_status_by_metric(snapshot: Mapping[str, Any]) -> dict[str, list[str]]:
    statuses: dict[str, list[str]] = {}
    for test in snapshot.get("tests", []) or []:
        metric_id = (test.get("metric_config") or {}).get("metric_id")
        if metric_id:
            statuses.setdefault(str(metric_id), []).append(str(test.get("status", "")))
    return statuses


def parse_drift(snapshot: Mapping[str, Any], drift_share_threshold: float) -> list[MetricRow]:
    """Rows of a DataDriftPreset snapshot dict: ``value_drift`` per column, then the counts.

    Metrics are found by ``config.type`` and ``config.column``, never by position. ``drifted`` is
    the column's test (FAIL = drift) when present, else the method's direction.
    """
    statuses = _test_status_by_metric(snapshot)
    rows: list[MetricRow] = []
    for metric in snapshot.get("metrics", []) or []:
        kind = _metric_type(metric)
        config = metric.get("config", {})
        tests = statuses.get(str(metric.get("id")), [])
        if kind == "ValueDrift":
            method = config.get("method")
            threshold = _finite_or_none(config.get("threshold"))
            value = _as_float(metric.get("value"))
            drifted: bool | None
            if not math.isfinite(value):
                drifted = None
            elif tests:
                drifted = "FAIL" in tests
            elif method is not None and threshold is not None:
                drifted = is_drift(str(method), value, threshold)
            else:
                drifted = None
            rows.append(MetricRow("value_drift", config.get("column"), value, method, threshold, drifted))
        elif kind == "DriftedColumnsCount":
            value_map = metric.get("value") or {}
            share = _as_float(value_map.get("share"))
            over = ("FAIL" in tests) if tests else (share >= drift_share_threshold if math.isfinite(share) else None)
            rows.append(MetricRow("drifted_columns_count", None, _as_float(value_map.get("count"))))
            rows.append(MetricRow("drifted_columns_share", None, share, None, drift_share_threshold, over))
    return rows


def parse_quality(snapshot: Mapping[str, Any]) -> list[MetricRow]:
    """Rows of a data-summary snapshot: missing share/count and mean per column, dataset counts."""
    rows: list[MetricRow] = []
    for metric in snapshot.get("metrics", []) or []:
        kind = _metric_type(metric)
        config = metric.get("config", {})
        value = metric.get("value")
        column = config.get("column")
        if kind == "MissingValueCount" and isinstance(value, Mapping):
            rows.append(MetricRow("missing_value_share", column, _as_float(value.get("share"))))
            rows.append(MetricRow("missing_value_count", column, _as_float(value.get("count"))))
        elif kind == "DatasetMissingValueCount" and isinstance(value, Mapping):
            rows.append(MetricRow("missing_value_share", None, _as_float(value.get("share"))))
            rows.append(MetricRow("missing_value_count", None, _as_float(value.get("count"))))
        elif kind == "MeanValue" and column is not None:
            rows.append(MetricRow("mean", column, _as_float(value)))
        elif kind in DATASET_QUALITY_METRICS:
            rows.append(MetricRow(DATASET_QUALITY_METRICS[kind], None, _as_float(value)))
        elif kind == "ColumnCount" and "column_type" not in config:
            rows.append(MetricRow("column_count", None, _as_float(value)))
    return rows


def parse_performance(snapshot: Mapping[str, Any]) -> list[MetricRow]:
    """Rows of a classification/regression snapshot (single-number metrics only).

    Mean/std metrics (MAE, MeanError, MAPE) give their mean; per-label dicts are skipped.
    """
    rows: list[MetricRow] = []
    for metric in snapshot.get("metrics", []) or []:
        name = PERFORMANCE_METRICS.get(_metric_type(metric))
        if name is None:
            continue
        value = metric.get("value")
        if isinstance(value, Mapping):
            if "mean" not in value:
                continue
            value = value["mean"]
        rows.append(MetricRow(name, None, _as_float(value)))
    return rows


def drift_outcome(rows: Sequence[MetricRow], untestable: Sequence[str]) -> tuple[float, tuple[str, ...]]:
    """(share of drift-tested columns that drifted, drifted columns); NaN results are left out."""
    judged = [r for r in rows if r.metric == "value_drift" and r.drifted is not None and r.column is not None]
    drifted = [str(r.column) for r in judged if r.drifted]
    columns = {str(r.column) for r in judged}
    for column in untestable:
        if column not in columns:
            columns.add(column)
            drifted.append(column)
    share = len(drifted) / len(columns) if columns else 0.0
    return share, tuple(drifted)


def json_safe(value: Any) -> Any:
    """Replace NaN/inf floats by ``None`` (strict JSON), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Frames as Evidently should see them.
# --------------------------------------------------------------------------------------------


def _positive_mask(values: pd.Series, positive: Any) -> pd.Series:
    """Which values are the positive class (``1``, ``1.0``, ``True`` and ``"1"`` compare equal)."""
    return category_keys(values) == category_key(positive)


def _prepare(
    config: ModelConfig,
    frame: pd.DataFrame,
    plan: ColumnPlan,
    *,
    is_reference: bool,
    with_target: bool,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """The id, time, planned columns (and target) of ``frame``, typed for Evidently.

    The reference sample has no ids or times of its own: it gets ``reference-<n>`` ids and times
    spread evenly over ``span`` (the current window's), used only for Evidently's time axes (empty
    times crash its regression error-over-time plot and count as missing values).
    """
    out = pd.DataFrame(index=frame.index)
    if is_reference or PREDICTION_ID not in frame.columns:
        out[PREDICTION_ID] = [f"{REFERENCE_ID_PREFIX}{i:06d}" for i in range(len(frame))]
    else:
        out[PREDICTION_ID] = frame[PREDICTION_ID].astype(str).to_numpy()
    if EVENT_TIME in frame.columns and not is_reference:
        out[EVENT_TIME] = pd.to_datetime(frame[EVENT_TIME], utc=True)
    elif span is not None:
        out[EVENT_TIME] = pd.date_range(span[0], span[1], periods=len(frame)) if len(frame) > 1 else span[0]
    else:
        out[EVENT_TIME] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    binary = config.task is TaskType.BINARY
    for column in plan.numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in plan.categorical:
        values = frame[column]
        if column == PREDICTION and binary:
            out[column] = _binary_codes(values, config.positive_label)
        else:
            out[column] = category_keys(values)
    if with_target:
        target = frame[config.target]
        if binary:
            out[config.target] = _binary_codes(target, config.positive_label)
        elif config.task is TaskType.REGRESSION:
            out[config.target] = pd.to_numeric(target, errors="coerce").astype(float)
        else:
            out[config.target] = category_keys(target)
    return out.reset_index(drop=True)


def _binary_codes(values: pd.Series, positive: Any) -> pd.Series:
    """1 for the positive class, 0 for the other; missing values stay missing (then as objects)."""
    codes = _positive_mask(values, positive).astype(int)
    if values.notna().all():
        return codes
    return codes.astype(object).where(values.notna(), None)


# --------------------------------------------------------------------------------------------
# Evidently calls (lazy imports).
# --------------------------------------------------------------------------------------------


def _definition(plan: ColumnPlan, columns: Sequence[str], task_block: Any | None = None,
                config: ModelConfig | None = None) -> Any:
    from evidently import DataDefinition

    numeric = [c for c in plan.numeric if c in columns]
    categorical = [c for c in plan.categorical if c in columns]
    kwargs: dict[str, Any] = {}
    if task_block is not None and config is not None:
        if config.task is TaskType.REGRESSION:
            kwargs["regression"] = [task_block]
        else:
            kwargs["classification"] = [task_block]
    return DataDefinition(
        id_column=PREDICTION_ID,
        timestamp=EVENT_TIME,
        numerical_columns=numeric,
        categorical_columns=categorical,
        **kwargs,
    )


def _run(report: Any, current: pd.DataFrame, reference: pd.DataFrame | None, definition: Any,
         ctx: _Context) -> Any:
    from evidently import Dataset

    cur = Dataset.from_pandas(current, data_definition=definition)
    ref = Dataset.from_pandas(reference, data_definition=definition) if reference is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return report.run(
            current_data=cur,
            reference_data=ref,
            timestamp=ctx.timestamp,
            metadata=dict(ctx.metadata),
            tags=list(ctx.tags),
        )


def _banner(title: str, lines: Sequence[str], warning: str | None) -> str:
    style = "font-family:sans-serif;padding:10px 16px;margin:0;border-bottom:1px solid #ccc;"
    parts = [f'<div id="driftpilot-banner" style="{style}background:#f4f6f8">',
             f"<strong>{html.escape(title)}</strong>"]
    parts += [f"<div>{html.escape(line)}</div>" for line in lines]
    if warning:
        parts.append(f'<div style="color:#9a3412;font-weight:bold">{html.escape(warning)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _with_banner(page: str, banner: str) -> str:
    match = re.search(r"<body[^>]*>", page)
    if match is None:
        return banner + page
    return page[: match.end()] + banner + page[match.end():]


class UnsafeReportPage(DriftpilotError):
    """Evidently's page does not have the layout ``inert_evidently_html`` knows how to make safe."""


# Evidently 0.7's page template (evidently/legacy/utils/dashboard.py, ``file_html_template``)
# embeds the whole dashboard in one inline script in <head>:
#     <script>
#         var <id> = {json};
#         var additional_graphs_<id> = {json};
#     </script>
# json.dumps leaves "<" and "/" alone, so a category value or column name "</script>..." ends the
# script block and the rest of the value is parsed as markup.
_DATA_BLOCK = re.compile(r"<script>\s*var (?P<id>[A-Za-z_][A-Za-z0-9_]*) = ")
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_safe_json(text: str) -> str:
    """JSON text that cannot end or alter the inline <script> it is embedded in.

    ``<``, ``>`` and ``&`` (and the JavaScript line separators) become ``\\uXXXX`` escapes. JSON
    has these characters only inside strings, where the escape means the same character, and a
    backslash is never followed by one of them, so the decoded value is unchanged while no
    ``</script``, ``<!--`` or ``<script`` (in any case) is left for the HTML parser to see.
    """
    return text.translate(_SCRIPT_SAFE)


def inert_evidently_html(page: str) -> str:
    """Evidently's standalone page with its embedded data made inert (``script_safe_json``).

    The two JSON values are found with a JSON decoder (not by searching for ``</script>``, which a
    hostile value may contain) and rewritten in place; the rest of the page, Evidently's own
    library included, is left byte for byte. A page of another layout raises ``UnsafeReportPage``
    rather than being written unsafe.
    """
    start = _DATA_BLOCK.search(page)
    if start is None:
        raise UnsafeReportPage(
            "Evidently's HTML has no embedded data block where driftpilot expects it (did the Evidently "
            "version change?); the report is not written because its data could not be made inert")
    decoder = json.JSONDecoder()
    try:
        _, info_end = decoder.raw_decode(page, start.end())
        graphs = re.compile(rf";\s*var additional_graphs_{start['id']} = ").match(page, info_end)
        if graphs is None:
            raise ValueError("no additional_graphs after the dashboard")
        _, graphs_end = decoder.raw_decode(page, graphs.end())
        if re.compile(r";\s*</script>").match(page, graphs_end) is None:
            raise ValueError("no </script> right after the data")
    except ValueError as exc:
        raise UnsafeReportPage(
            f"Evidently's embedded data block has an unexpected layout ({exc}); the report is not "
            "written because its data could not be made inert") from exc
    return "".join([
        page[: start.end()], script_safe_json(page[start.end():info_end]),
        page[info_end:graphs.end()], script_safe_json(page[graphs.end():graphs_end]),
        page[graphs_end:],
    ])


def _write_snapshot(snapshot: Any, html_path: Path, json_path: Path, banner: str) -> dict[str, Any]:
    data = json_safe(json.loads(snapshot.json()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = snapshot.get_html_str(as_iframe=False)
    # Inert first: the banner goes after the first <body>, which must be the page's own.
    write_text_atomic(_with_banner(inert_evidently_html(page), banner), html_path)
    write_json_atomic(data, json_path)
    return dict(data)


# --------------------------------------------------------------------------------------------
# The entry point.
# --------------------------------------------------------------------------------------------


def build_window_reports(
    config: ModelConfig,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    labelled_current: pd.DataFrame | None,
    out_dir: Path,
    window_label: str,
    seed: int,
    *,
    quality: str = QUALITY_LIGHT,
    reuse: Collection[str] = (),
) -> ReportBundle:
    """Render drift, quality and (with labels) performance reports of one window into ``out_dir``.

    ``reference`` is the baseline reference sample (features, ``config.target``, prediction,
    score); ``current`` the validated inference-log window; ``labelled_current`` the rows of
    ``current`` with matured labels in column ``config.target``, or ``None`` when too few.

    ``quality`` picks the data-quality report: ``"light"`` (default: dataset counts, missing values
    per column, mean + histogram of numeric columns, category counts; ~1 s) or ``"summary"``
    (Evidently's full ``DataSummaryPreset``; 2-3 s more per window, almost all of it plotly).

    ``reuse`` names parts (``"drift"``, ``"quality"``, ``"performance"``) whose outputs already in
    ``out_dir`` may be kept instead of rebuilt: e.g. recomputing performance once labels matured
    (``reuse=("drift", "quality")``), or re-running drift without losing an earlier performance
    report (``reuse=("performance",)``). A part is rebuilt anyway when ``out_dir`` has no
    ``summary.json`` for the same window, row counts and files.
    """
    unknown_parts = set(reuse) - set(PARTS)
    if unknown_parts:
        raise ValueError(f"reuse names unknown part(s) {sorted(unknown_parts)}; parts are {', '.join(PARTS)}")
    if quality not in (QUALITY_LIGHT, QUALITY_SUMMARY):
        raise ValueError(f"quality must be {QUALITY_LIGHT!r} or {QUALITY_SUMMARY!r}, got {quality!r}")
    if len(current) == 0:
        raise ValueError(f"window {window_label}: the current frame is empty; nothing to report")
    if len(reference) == 0:
        raise ValueError(f"window {window_label}: the reference sample is empty")

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    max_rows = config.drift.max_report_rows
    plan = plan_columns(config, reference, current)
    notes: list[str] = list(plan.notes)
    total_rows = len(current)
    current_s = bounded_sample(current, max_rows, seed)
    sampled = len(current_s) < total_rows
    reference_s = bounded_sample(reference, max_rows, seed)
    if len(reference_s) < len(reference):
        notes.append(f"reference sampled: {len(reference_s)} of {len(reference)} rows (seed {seed})")
    if sampled:
        notes.append(f"current window sampled: {len(current_s)} of {total_rows} rows (seed {seed})")
    previous = _previous_summary(out_dir, window_label, total_rows, len(reference_s)) if reuse else None
    reused = tuple(p for p in PARTS if p in reuse and previous is not None and _part_files_exist(out_dir, previous, p))

    cur = _prepare(config, current_s, plan, is_reference=False, with_target=False)
    span = _time_span(cur)
    ref = _prepare(config, reference_s, plan, is_reference=True, with_target=False, span=span)
    ctx = _Context(
        config=config,
        plan=plan,
        out_dir=out_dir,
        timestamp=None if span is None else span[1].to_pydatetime(),
        span=span,
        metadata={
            "model": config.name,
            "window": window_label,
            "sampled": str(sampled).lower(),
            "sample_rows": str(len(cur)),
            "total_rows": str(total_rows),
            "reference_rows": str(len(ref)),
            "seed": str(seed),
        },
        tags=("driftpilot", config.name, window_label, *(("sampled",) if sampled else ())),
        lines=(
            f"model {config.name} · window {window_label}",
            f"current rows {len(cur):,}{f' of {total_rows:,}' if sampled else ''} · reference rows {len(ref):,}",
        ),
        sample_line=(
            f"SAMPLED: this report was built from a seeded random sample of {len(cur):,} of the window's "
            f"{total_rows:,} rows (seed {seed}, drift.max_report_rows = {max_rows:,})."
            if sampled
            else None
        ),
    )
    paths: dict[str, Path] = {}
    rows: list[MetricRow] = []

    t0 = time.perf_counter()
    if previous is not None and "drift" in reused:
        rows.extend(_previous_rows(previous, "drift"))
        paths.update(_previous_paths(out_dir, previous, "drift"))
        drift_share = float(previous["drift_share"])
        drifted_columns = tuple(str(c) for c in previous["drifted_columns"])
    else:
        drift_rows = _drift_part(ctx, cur, ref, paths)
        drift_share, drifted_columns = drift_outcome(drift_rows, plan.untestable)
        rows.extend(drift_rows)
    seconds["drift"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if previous is not None and "quality" in reused:
        rows.extend(_previous_rows(previous, "quality"))
        paths.update(_previous_paths(out_dir, previous, "quality"))
    else:
        rows.extend(_quality_part(ctx, cur, ref, paths, quality))
    seconds["quality"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    performance: dict[str, float] | None = None
    status = INSUFFICIENT_LABELS
    labelled_rows = 0
    if previous is not None and "performance" in reused:
        rows.extend(_previous_rows(previous, "performance"))
        paths.update(_previous_paths(out_dir, previous, "performance"))
        if isinstance(previous.get("performance"), Mapping):
            performance = {str(k): float(v) for k, v in previous["performance"].items() if v is not None}
            status = PERFORMANCE_OK
        labelled_rows = int(previous.get("labelled_rows", 0))
    else:
        labelled = _usable_labels(config, labelled_current)
        if labelled is not None:
            labelled_rows = len(labelled)
            labelled_s = bounded_sample(labelled, max_rows, seed)
            warning = None
            if len(labelled_s) < len(labelled):
                warning = (f"SAMPLED: performance computed on a seeded sample of {len(labelled_s):,} of "
                           f"{len(labelled):,} labelled rows (seed {seed}).")
                notes.append(f"labelled rows sampled: {len(labelled_s)} of {len(labelled)} (seed {seed})")
            perf_rows = _performance_part(ctx, reference_s, labelled_s, paths, warning)
            rows.extend(perf_rows)
            performance = {r.metric: r.value for r in perf_rows}
            status = PERFORMANCE_OK
        else:
            _remove(out_dir, "performance")  # a re-run must not leave an outdated report behind
    seconds["performance"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started

    paths["summary"] = out_dir / "summary.json"
    paths["index"] = out_dir / "index.html"
    bundle = ReportBundle(
        model_name=config.name,
        window_label=window_label,
        out_dir=out_dir,
        paths=paths,
        metrics=tuple(rows),
        drift_share=drift_share,
        drifted_columns=drifted_columns,
        performance=performance,
        performance_status=status,
        sampled=sampled,
        sample_rows=len(cur),
        total_rows=total_rows,
        reference_rows=len(ref),
        labelled_rows=labelled_rows,
        notes=tuple(notes),
        seconds=seconds,
        reused=reused,
    )
    write_json_atomic(json_safe(bundle.summary()), paths["summary"])
    write_text_atomic(render_index(bundle), paths["index"])
    log.info(
        "reports of %s window %s: drift share %.2f (%d columns), performance %s, %d of %d rows, "
        "reused %s, %.1f s",
        config.name, window_label, drift_share, len(drifted_columns), status, len(cur), total_rows,
        ",".join(reused) or "nothing", seconds["total"],
    )
    return bundle


@dataclass(frozen=True)
class _Context:
    """What every part of one window's reports shares."""

    config: ModelConfig
    plan: ColumnPlan
    out_dir: Path
    timestamp: datetime | None
    span: tuple[pd.Timestamp, pd.Timestamp] | None
    metadata: Mapping[str, str]
    tags: tuple[str, ...]
    lines: tuple[str, ...]
    sample_line: str | None


def _drift_part(ctx: _Context, cur: pd.DataFrame, ref: pd.DataFrame, paths: dict[str, Path]) -> list[MetricRow]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    config, plan = ctx.config, ctx.plan
    rows: list[MetricRow] = []
    if plan.drift_columns:
        default_num, default_cat = config.drift.num_method, config.drift.cat_method
        per_column = {c: m for c, m in plan.methods.items() if m != (default_num if c in plan.numeric else default_cat)}
        report = Report(
            [
                DataDriftPreset(
                    columns=list(plan.drift_columns),
                    num_method=default_num,
                    cat_method=default_cat,
                    per_column_method=per_column or None,
                    threshold=config.drift.threshold,
                    drift_share=config.drift.drift_share,
                )
            ],
            include_tests=True,
        )
        columns = [PREDICTION_ID, EVENT_TIME, *plan.drift_columns]
        snapshot = _run(report, cur[columns], ref[columns], _definition(plan, columns), ctx)
        methods = ", ".join(f"{c}: {m}" for c, m in plan.methods.items())
        banner = _banner("driftpilot · data drift",
                         [*ctx.lines, f"methods (threshold {config.drift.threshold}): {methods}", *plan.notes],
                         ctx.sample_line)
        paths["drift_html"], paths["drift_json"] = ctx.out_dir / "drift.html", ctx.out_dir / "drift.json"
        rows = parse_drift(_write_snapshot(snapshot, paths["drift_html"], paths["drift_json"], banner),
                           config.drift.drift_share)
    else:
        _remove(ctx.out_dir, "drift")
    for column in plan.untestable:
        rows.append(MetricRow("value_drift", column, float("nan"), None, config.drift.threshold, True))
    return rows


def _quality_part(ctx: _Context, cur: pd.DataFrame, ref: pd.DataFrame, paths: dict[str, Path],
                  quality: str) -> list[MetricRow]:
    from evidently import Report

    plan = ctx.plan
    columns = [PREDICTION_ID, EVENT_TIME, *plan.columns]
    report = Report(_quality_metrics(plan, quality), include_tests=True)
    snapshot = _run(report, cur[columns], ref[columns], _definition(plan, columns), ctx)
    paths["quality_html"], paths["quality_json"] = ctx.out_dir / "quality.html", ctx.out_dir / "quality.json"
    banner = _banner(f"driftpilot · data quality ({quality})", ctx.lines, ctx.sample_line)
    return parse_quality(_write_snapshot(snapshot, paths["quality_html"], paths["quality_json"], banner))


def _remove(out_dir: Path, part: str) -> None:
    for suffix in ("html", "json"):
        (out_dir / f"{part}.{suffix}").unlink(missing_ok=True)


def _previous_summary(out_dir: Path, window_label: str, total_rows: int, reference_rows: int) -> dict[str, Any] | None:
    """The earlier ``summary.json`` of this window if it describes the same rows, else ``None``."""
    try:
        data = json.loads((out_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    same = (data.get("window") == window_label and data.get("total_rows") == total_rows
            and data.get("reference_rows") == reference_rows)
    return data if same else None


def _part_files_exist(out_dir: Path, previous: Mapping[str, Any], part: str) -> bool:
    files = previous.get("files") or {}
    names = [name for kind, name in files.items() if str(kind).startswith(f"{part}_")]
    if part == "performance" and not isinstance(previous.get("performance"), Mapping):
        return True  # "insufficient labels" had no files
    if part == "drift" and not names:
        return "drift_share" in previous  # every column untestable: no Evidently report
    return bool(names) and all((out_dir / str(name)).exists() for name in names)


def _previous_paths(out_dir: Path, previous: Mapping[str, Any], part: str) -> dict[str, Path]:
    files = previous.get("files") or {}
    return {str(kind): out_dir / str(name) for kind, name in files.items() if str(kind).startswith(f"{part}_")}


def _previous_rows(previous: Mapping[str, Any], part: str) -> list[MetricRow]:
    rows = []
    for raw in previous.get("metrics") or []:
        if metric_part(str(raw.get("metric"))) != part:
            continue
        value = raw.get("value")
        rows.append(MetricRow(
            metric=str(raw["metric"]),
            column=raw.get("column"),
            value=float("nan") if value is None else float(value),
            method=raw.get("method"),
            threshold=raw.get("threshold"),
            drifted=raw.get("drifted"),
        ))
    return rows


def _quality_metrics(plan: ColumnPlan, quality: str) -> list[Any]:
    from evidently.metrics import MeanValue, MissingValueCount, UniqueValueCount
    from evidently.presets import DatasetStats, DataSummaryPreset

    if quality == QUALITY_SUMMARY:
        return [DataSummaryPreset(columns=list(plan.columns))]
    return [
        DatasetStats(),
        *[MissingValueCount(column=c) for c in plan.columns],
        *[MeanValue(column=c) for c in plan.numeric],
        *[UniqueValueCount(column=c) for c in plan.categorical],
    ]


def _time_span(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    times = frame[EVENT_TIME].dropna()
    if times.empty:
        return None
    return pd.Timestamp(times.min()), pd.Timestamp(times.max())


def _usable_labels(config: ModelConfig, labelled: pd.DataFrame | None) -> pd.DataFrame | None:
    """The labelled rows if there are enough for an honest performance report, else ``None``."""
    if labelled is None or config.target not in labelled.columns:
        return None
    rows = labelled[labelled[config.target].notna()]
    if len(rows) < config.labels.min_labelled_rows:
        return None
    if config.task is not TaskType.REGRESSION and category_keys(rows[config.target]).nunique() < 2:
        return None
    return rows


def _performance_part(
    ctx: _Context,
    reference: pd.DataFrame,
    labelled: pd.DataFrame,
    paths: dict[str, Path],
    warning: str | None,
) -> list[MetricRow]:
    from evidently import BinaryClassification, MulticlassClassification, Regression, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    config, plan = ctx.config, ctx.plan
    target = config.target
    block: Any
    preset: Any
    if config.task is TaskType.REGRESSION:
        block = Regression(target=target, prediction=PREDICTION)
        preset = RegressionPreset()
    elif config.task is TaskType.BINARY:
        block = BinaryClassification(
            target=target,
            prediction_labels=PREDICTION,
            prediction_probas=SCORE if SCORE in plan.numeric else None,
            pos_label=1,  # labels and predictions are mapped to 1 (positive) / 0
        )
        preset = ClassificationPreset()
    else:
        block = MulticlassClassification(target=target, prediction_labels=PREDICTION)
        preset = ClassificationPreset()
    cur = _prepare(config, labelled, plan, is_reference=False, with_target=True)
    ref: pd.DataFrame | None = None
    if target in reference.columns and reference[target].notna().all():
        ref = _prepare(config, reference, plan, is_reference=True, with_target=True, span=ctx.span)
    # The prediction is declared by the task block; it stays out of the plain column lists.
    columns = [PREDICTION_ID, EVENT_TIME, *plan.columns, target]
    definition = _definition(_without(plan, PREDICTION), columns, block, config)
    report = Report([preset], include_tests=True)
    snapshot = _run(report, cur[columns], ref[columns] if ref is not None else None, definition, ctx)
    paths["performance_html"] = ctx.out_dir / "performance.html"
    paths["performance_json"] = ctx.out_dir / "performance.json"
    title = "driftpilot · model performance (" + ("reference vs current)" if ref is not None else "current only)")
    banner = _banner(title, [*ctx.lines, f"labelled rows {len(labelled):,}"], warning or ctx.sample_line)
    return parse_performance(_write_snapshot(snapshot, paths["performance_html"], paths["performance_json"], banner))


def _without(plan: ColumnPlan, column: str) -> ColumnPlan:
    return ColumnPlan(
        numeric=tuple(c for c in plan.numeric if c != column),
        categorical=tuple(c for c in plan.categorical if c != column),
        methods=plan.methods,
        untestable=plan.untestable,
        notes=plan.notes,
    )


def render_index(bundle: ReportBundle) -> str:
    """A small HTML page that links the window's reports and states sample size and labels."""
    esc = html.escape
    items = []
    for kind, label in (("drift_html", "Data drift"), ("quality_html", "Data summary / quality"),
                        ("performance_html", "Model performance")):
        if kind in bundle.paths:
            items.append(f'<li><a href="{esc(quote(bundle.paths[kind].name))}">{label}</a></li>')
    if "performance_html" not in bundle.paths:
        items.append(f"<li>Model performance: {INSUFFICIENT_LABELS} (no report for this window yet)</li>")
    sample = (
        f"<p><strong>Sampled:</strong> the reports were built from a seeded random sample of "
        f"{bundle.sample_rows:,} of the window's {bundle.total_rows:,} rows.</p>"
        if bundle.sampled
        else f"<p>Built from all {bundle.total_rows:,} rows of the window (not sampled).</p>"
    )
    perf = (
        ", ".join(f"{k} {v:.3f}" for k, v in bundle.performance.items())
        if bundle.performance is not None
        else INSUFFICIENT_LABELS
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in bundle.notes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(bundle.model_name)} · {esc(bundle.window_label)}</title></head>"
        "<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>"
        f"<h1>{esc(bundle.model_name)} · window {esc(bundle.window_label)}</h1>"
        f"{sample}"
        f"<p>Reference rows: {bundle.reference_rows:,}. Labelled rows: {bundle.labelled_rows:,}.</p>"
        f"<p>Drift share: {bundle.drift_share:.2f}; drifted columns: "
        f"{esc(', '.join(bundle.drifted_columns)) or 'none'}.</p>"
        f"<p>Performance: {esc(perf)}.</p>"
        f"<ul>{''.join(items)}</ul>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "<p><a href='summary.json'>summary.json</a> (machine-readable)</p></body></html>"
    )
