"""The metrics history as ``driftpilot trend`` reads it: which metric names exist, and one checked series.

A metric name that was never recorded answers with an error that lists the recorded ones, rather
than "no rows" (which reads as "nothing happened" when it means "you mistyped"). The catalogue is
what the store holds for the model, so it always matches what a trend can show, whatever steps
ran (``perf.*`` appears once labels matured, ``validation.*`` once a window was validated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from driftpilot.errors import DriftpilotError
from driftpilot.ports import EvidenceStore


class UnknownMetric(DriftpilotError):
    """``trend`` was asked for a metric (or a column of one) that the history never recorded."""


@dataclass(frozen=True)
class MetricName:
    """One recorded metric: its name and, for per-column metrics, the columns it was recorded for."""

    metric: str
    columns: tuple[str, ...]  # empty: a window-level metric (``--column`` not needed)

    @property
    def per_column(self) -> bool:
        return bool(self.columns)


def metric_catalog(store: EvidenceStore, model: str) -> list[MetricName]:
    """Every metric name recorded for ``model``, sorted, with the columns of per-column metrics."""
    frame = store.read_metrics(model)
    if frame.empty:
        return []
    out = []
    for metric, rows in frame.groupby("metric", sort=True):
        columns = sorted({str(c) for c in rows["column"].dropna() if str(c)})
        out.append(MetricName(str(metric), tuple(columns)))
    return out


def _names(catalog: list[MetricName]) -> str:
    return ", ".join(m.metric + (" (per column)" if m.per_column else "") for m in catalog)


def check_metric(catalog: list[MetricName], model: str, metric: str, column: str) -> MetricName:
    """The catalogue entry of ``metric``; ``UnknownMetric`` (one line, listing the known names) otherwise."""
    if not catalog:
        raise UnknownMetric(f"{model} has no metrics recorded yet: monitor a window first "
                            f"(`driftpilot monitor --model {model} --window YYYY-MM-DD`, or the monitoring DAG)")
    found = next((m for m in catalog if m.metric == metric), None)
    if found is None:
        raise UnknownMetric(f"unknown metric {metric!r} for {model}; recorded metrics: {_names(catalog)} "
                            f"(`driftpilot trend --model {model} --list` shows their columns)")
    if column and column not in found.columns:
        where = (f"its columns: {', '.join(found.columns)}" if found.per_column
                 else "it is a window-level metric: drop --column")
        raise UnknownMetric(f"{metric} has no column {column!r} for {model}; {where}")
    if not column and found.per_column:
        raise UnknownMetric(f"{metric} is recorded per column: add --column, one of {', '.join(found.columns)}")
    return found


def metric_trend(store: EvidenceStore, model: str, metric: str, column: str, until: date,
                 days: int) -> pd.DataFrame:
    """The checked series of one metric (``window``, ``model_version``, ``value``) over ``days`` days up to ``until``."""
    check_metric(metric_catalog(store, model), model, metric, column)
    return store.trend(model, metric, column, until, days)
