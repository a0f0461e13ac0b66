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
SHARE_DECIMALS = 2  # every page, log line, CLI line and reason shows a drift share with this many


def share_text(share: float | None) -> str:
    """A drift share as every surface shows it (``0.71``; ``-`` when not judged).

    One function, so the report browser, the window's index, the Evidently pages' banner, the
    logs, the CLI and the decision's reasons can never round the same share differently.
    """
    if share is None or not math.isfinite(share):
        return "-"
    return f"{share:.{SHARE_DECIMALS}f}"


@dataclass(frozen=True)
class FeatureVerdict:
    """driftpilot's verdict on one feature of a window (``domain.drift``, on every row): decides."""

    column: str
    drifted: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "drifted": self.drifted, "reason": self.reason}


@dataclass(frozen=True)
class DecidingDrift:
    """The drift verdict the trigger policy decides on, as the report pages state it.

    It comes from driftpilot's own statistics over every validated row (``domain.drift``), not
    from Evidently's report, which runs on a bounded sample with its own methods: the pages show
    this verdict first and label Evidently's figures as Evidently's, so one window never shows
    two unlabelled drift shares.
    """

    drift_share: float | None  # share of evaluated features that drifted; None: not judged
    threshold: float  # drift.share: the window is drifted at or above it
    rows: int
    columns: tuple[FeatureVerdict, ...]

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.drifted)

    def headline(self) -> str:
        """One line: ``driftpilot drift share 0.71 (5 of 7 features drifted: a, b, ...; threshold 0.30)``."""
        drifted = self.drifted_columns
        names = f": {', '.join(drifted)}" if drifted else ""
        return (f"driftpilot drift share {share_text(self.drift_share)} ({len(drifted)} of {len(self.columns)} "
                f"features drifted{names}; threshold {share_text(self.threshold)}, on all {self.rows:,} rows)")

    def to_dict(self) -> dict[str, Any]:
        return {"drift_share": self.drift_share, "threshold": self.threshold, "rows": self.rows,
                "drifted_columns": list(self.drifted_columns), "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DecidingDrift:
        share = raw.get("drift_share")
        return cls(drift_share=None if share is None else float(share), threshold=float(raw["threshold"]),
                   rows=int(raw["rows"]),
                   columns=tuple(FeatureVerdict(str(c["column"]), bool(c["drifted"]), str(c.get("reason", "")))
                                 for c in raw["columns"]))


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
    names in the window's report folder. The drift step fills ``verdict`` (driftpilot's deciding
    drift verdict, given by the monitoring step), ``evidently_drift_share`` (share of
    drift-tested columns that drifted in Evidently's report, on its sample) and
    ``evidently_drifted_columns``; the
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
    verdict: DecidingDrift | None = None
    evidently_drift_share: float | None = None
    evidently_drifted_columns: tuple[str, ...] = ()
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
            "verdict": None if self.verdict is None else self.verdict.to_dict(),
            "evidently_drift_share": self.evidently_drift_share,
            "evidently_drifted_columns": list(self.evidently_drifted_columns),
            "performance": None if self.performance is None else dict(self.performance),
            "performance_status": self.performance_status,
            "labelled_rows": self.labelled_rows,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepReports:
        """The record of ``to_dict``; raises ``KeyError``/``ValueError``/``TypeError`` when malformed."""
        performance = raw.get("performance")
        # Manifests written before the deciding verdict was recorded named Evidently's share "drift_share".
        share = raw.get("evidently_drift_share", raw.get("drift_share"))
        verdict = raw.get("verdict")
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
            verdict=None if verdict is None else DecidingDrift.from_dict(verdict),
            evidently_drift_share=None if share is None else float(share),
            evidently_drifted_columns=tuple(str(c) for c in raw.get("evidently_drifted_columns",
                                                                    raw.get("drifted_columns", ()))),
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
        verdict = drift.verdict if drift is not None else None
        return {
            "model_name": self.model_name,
            "window": self.window_label,
            "files": dict(sorted(self.files.items())),
            # driftpilot's deciding verdict (what decision.json and the policy use), then Evidently's own.
            "drift_share": verdict.drift_share if verdict is not None else None,
            "drifted_columns": list(verdict.drifted_columns) if verdict is not None else [],
            "column_verdicts": [c.to_dict() for c in verdict.columns] if verdict is not None else [],
            "evidently_drift_share": None if drift is None else drift.evidently_drift_share,
            "evidently_drifted_columns": [] if drift is None else list(drift.evidently_drifted_columns),
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
