"""Evidently snapshot dicts -> typed metric rows. Pure (no Evidently import).

Metrics are found by identity (``config.type``, ``config.column``), never by position: the
order of a preset's metrics is not part of Evidently's API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from driftpilot.adapters.evidently.methods import is_drift
from driftpilot.domain.reports import ReportMetric

DRIFT_METRICS = frozenset({"value_drift", "drifted_columns_count", "drifted_columns_share"})

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


def parse_drift(snapshot: Mapping[str, Any], drift_share_threshold: float) -> list[ReportMetric]:
    """Rows of a DataDriftPreset snapshot dict: ``value_drift`` per column, then the counts.

    ``drifted`` is the column's test (FAIL = drift) when present, else the method's direction.
    """
    statuses = _test_status_by_metric(snapshot)
    rows: list[ReportMetric] = []
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
            rows.append(ReportMetric("value_drift", config.get("column"), value, method, threshold, drifted))
        elif kind == "DriftedColumnsCount":
            value_map = metric.get("value") or {}
            share = _as_float(value_map.get("share"))
            over = ("FAIL" in tests) if tests else (share >= drift_share_threshold if math.isfinite(share) else None)
            rows.append(ReportMetric("drifted_columns_count", None, _as_float(value_map.get("count"))))
            rows.append(ReportMetric("drifted_columns_share", None, share, None, drift_share_threshold, over))
    return rows


def parse_quality(snapshot: Mapping[str, Any]) -> list[ReportMetric]:
    """Rows of a data-summary snapshot: missing share/count and mean per column, dataset counts."""
    rows: list[ReportMetric] = []
    for metric in snapshot.get("metrics", []) or []:
        kind = _metric_type(metric)
        config = metric.get("config", {})
        value = metric.get("value")
        column = config.get("column")
        if kind == "MissingValueCount" and isinstance(value, Mapping):
            rows.append(ReportMetric("missing_value_share", column, _as_float(value.get("share"))))
            rows.append(ReportMetric("missing_value_count", column, _as_float(value.get("count"))))
        elif kind == "DatasetMissingValueCount" and isinstance(value, Mapping):
            rows.append(ReportMetric("missing_value_share", None, _as_float(value.get("share"))))
            rows.append(ReportMetric("missing_value_count", None, _as_float(value.get("count"))))
        elif kind == "MeanValue" and column is not None:
            rows.append(ReportMetric("mean", column, _as_float(value)))
        elif kind in DATASET_QUALITY_METRICS:
            rows.append(ReportMetric(DATASET_QUALITY_METRICS[kind], None, _as_float(value)))
        elif kind == "ColumnCount" and "column_type" not in config:
            rows.append(ReportMetric("column_count", None, _as_float(value)))
    return rows


def parse_performance(snapshot: Mapping[str, Any]) -> list[ReportMetric]:
    """Rows of a classification/regression snapshot (single-number metrics only).

    Mean/std metrics (MAE, MeanError, MAPE) give their mean; per-label dicts are skipped.
    """
    rows: list[ReportMetric] = []
    for metric in snapshot.get("metrics", []) or []:
        name = PERFORMANCE_METRICS.get(_metric_type(metric))
        if name is None:
            continue
        value = metric.get("value")
        if isinstance(value, Mapping):
            if "mean" not in value:
                continue
            value = value["mean"]
        rows.append(ReportMetric(name, None, _as_float(value)))
    return rows


def drift_outcome(rows: Sequence[ReportMetric], untestable: Sequence[str]) -> tuple[float, tuple[str, ...]]:
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
