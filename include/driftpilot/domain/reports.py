"""What the report renderer wrote for a window: typed records, no I/O.

Each monitoring step renders its own reports (drift and quality in the drift task, performance
in the labels task) and records what it wrote in a small manifest. The window's index page is
rendered from these records, never by re-parsing an earlier summary, so a re-run of one step
neither reads nor touches the other step's files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

INSUFFICIENT_LABELS = "insufficient labels"
PERFORMANCE_OK = "ok"


class ReportStep(StrEnum):
    """The monitoring step that renders (and owns) a set of report files."""

    DRIFT = "drift"  # drift.html/.json, quality.html/.json
    PERFORMANCE = "performance"  # performance.html/.json


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ReportMetric:
    """One flat, machine-readable result of a report (one ``evidently.*`` row of the history).

    Not ``evidence.MetricRow`` (a row of the metrics history, keyed by model, version and window):
    this is what one Evidently metric of one report says, before the monitoring step keys it.
    """

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

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReportMetric:
        value = raw.get("value")
        threshold = raw.get("threshold")
        drifted = raw.get("drifted")
        return cls(
            metric=str(raw["metric"]),
            column=None if raw.get("column") is None else str(raw["column"]),
            value=float("nan") if value is None else float(value),
            method=None if raw.get("method") is None else str(raw["method"]),
            threshold=None if threshold is None else float(threshold),
            drifted=None if drifted is None else bool(drifted),
        )


@dataclass(frozen=True)
class StepReports:
    """What one step rendered for one window (its manifest, ``<step>_manifest.json``).

    ``files`` maps kinds (``drift_html``, ``drift_json``, ``quality_html``, ``quality_json`` for
    the drift step; ``performance_html``, ``performance_json`` for the performance step) to file
    names in the window's report folder. The drift step fills ``drift_share`` (share of
    drift-tested columns that drifted in Evidently's report) and ``drifted_columns``; the
    performance step ``performance`` (``None`` exactly when ``performance_status`` is
    ``"insufficient labels"``) and ``labelled_rows``. ``sampled``/``sample_rows``/``total_rows``
    describe the current window; ``notes`` explain anything unusual.
    """

    step: ReportStep
    model_name: str
    window_label: str
    files: Mapping[str, str]
    metrics: tuple[ReportMetric, ...]
    sampled: bool
    sample_rows: int
    total_rows: int
    reference_rows: int
    notes: tuple[str, ...] = ()
    seconds: Mapping[str, float] = field(default_factory=dict)
    drift_share: float | None = None
    drifted_columns: tuple[str, ...] = ()
    performance: Mapping[str, float] | None = None
    performance_status: str = INSUFFICIENT_LABELS
    labelled_rows: int = 0

    def rows(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.metrics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "model_name": self.model_name,
            "window": self.window_label,
            "files": dict(sorted(self.files.items())),
            "metrics": self.rows(),
            "sampled": self.sampled,
            "sample_rows": self.sample_rows,
            "total_rows": self.total_rows,
            "reference_rows": self.reference_rows,
            "notes": list(self.notes),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "drift_share": self.drift_share,
            "drifted_columns": list(self.drifted_columns),
            "performance": None if self.performance is None else dict(self.performance),
            "performance_status": self.performance_status,
            "labelled_rows": self.labelled_rows,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepReports:
        """The record of ``to_dict``; raises ``KeyError``/``ValueError``/``TypeError`` when malformed."""
        performance = raw.get("performance")
        share = raw.get("drift_share")
        return cls(
            step=ReportStep(raw["step"]),
            model_name=str(raw["model_name"]),
            window_label=str(raw["window"]),
            files={str(k): str(v) for k, v in dict(raw["files"]).items()},
            metrics=tuple(ReportMetric.from_dict(r) for r in raw["metrics"]),
            sampled=bool(raw["sampled"]),
            sample_rows=int(raw["sample_rows"]),
            total_rows=int(raw["total_rows"]),
            reference_rows=int(raw["reference_rows"]),
            notes=tuple(str(n) for n in raw.get("notes", ())),
            seconds={str(k): float(v) for k, v in dict(raw.get("seconds", {})).items()},
            drift_share=None if share is None else float(share),
            drifted_columns=tuple(str(c) for c in raw.get("drifted_columns", ())),
            performance=None if performance is None else {str(k): float(v) for k, v in dict(performance).items()
                                                          if v is not None},
            performance_status=str(raw.get("performance_status", INSUFFICIENT_LABELS)),
            labelled_rows=int(raw.get("labelled_rows", 0)),
        )


@dataclass(frozen=True)
class WindowReports:
    """The window's reports as the index page shows them: what each step last recorded."""

    model_name: str
    window_label: str
    drift: StepReports | None
    performance: StepReports | None

    @property
    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for step in (self.drift, self.performance):
            if step is not None:
                out.update(step.files)
        return out

    @property
    def metrics(self) -> tuple[ReportMetric, ...]:
        return tuple(r for s in (self.drift, self.performance) if s is not None for r in s.metrics)

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``: both steps' facts and metric rows in one place."""
        drift, perf = self.drift, self.performance
        current = drift or perf
        performance = perf.performance if perf is not None else None
        return {
            "model_name": self.model_name,
            "window": self.window_label,
            "files": dict(sorted(self.files.items())),
            "drift_share": None if drift is None else drift.drift_share,
            "drifted_columns": [] if drift is None else list(drift.drifted_columns),
            "performance": dict(performance) if performance is not None else INSUFFICIENT_LABELS,
            "performance_status": perf.performance_status if perf is not None else INSUFFICIENT_LABELS,
            "sampled": bool(current and current.sampled),
            "sample_rows": current.sample_rows if current else 0,
            "total_rows": current.total_rows if current else 0,
            "reference_rows": current.reference_rows if current else 0,
            "labelled_rows": perf.labelled_rows if perf is not None else 0,
            "notes": [n for s in (drift, perf) if s is not None for n in s.notes],
            "seconds": {f"{s.step.value}.{k}": round(v, 3) for s in (drift, perf) if s is not None
                        for k, v in s.seconds.items()},
            "metrics": [r.to_dict() for r in self.metrics],
        }
