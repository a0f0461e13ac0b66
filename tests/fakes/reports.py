"""A ``ReportRenderer`` for use-case unit tests: records what it was asked, writes nothing.

The returned records say what a real renderer would have written (file names, no pages); the
Evidently drift share and performance it reports are set by the test; the deciding verdict is
the one the use case passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from driftpilot.domain.config import ModelConfig
from driftpilot.domain.reports import (
    INSUFFICIENT_LABELS,
    PERFORMANCE_OK,
    DecidingDrift,
    ReportMetric,
    ReportStep,
    StepReports,
)


@dataclass
class FakeReportRenderer:
    drift_share: float = 0.0
    performance: dict[str, float] | None = None  # None: "insufficient labels"
    calls: list[tuple[str, str, int, int]] = field(default_factory=list)  # (step, window, rows, labelled)
    records: dict[tuple[str, ReportStep], StepReports] = field(default_factory=dict)

    def check_config(self, config: ModelConfig) -> None:
        return None

    def render_drift(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame, out_dir: Path,
                     window_label: str, *, seed: int = 0, total_rows: int | None = None,
                     verdict: DecidingDrift | None = None) -> StepReports:
        self.calls.append(("drift", window_label, len(current), 0))
        record = StepReports(
            step=ReportStep.DRIFT, model_name=config.name, window_label=window_label,
            files={"drift_html": "drift.html", "quality_html": "quality.html"},
            metrics=(ReportMetric("drifted_columns_share", None, self.drift_share),),
            sampled=False, sample_rows=len(current), total_rows=total_rows or len(current),
            reference_rows=len(reference), verdict=verdict, evidently_drift_share=self.drift_share,
        )
        self.records[(window_label, ReportStep.DRIFT)] = record
        return record

    def render_performance(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame,
                           labelled: pd.DataFrame | None, out_dir: Path, window_label: str, *, seed: int = 0,
                           total_rows: int | None = None) -> StepReports:
        labelled_rows = 0 if labelled is None else len(labelled)
        self.calls.append(("performance", window_label, len(current), labelled_rows))
        ok = self.performance is not None
        record = StepReports(
            step=ReportStep.PERFORMANCE, model_name=config.name, window_label=window_label,
            files={"performance_html": "performance.html"} if ok else {},
            metrics=tuple(ReportMetric(k, None, v) for k, v in (self.performance or {}).items()),
            sampled=False, sample_rows=len(current), total_rows=total_rows or len(current),
            reference_rows=len(reference), performance=self.performance,
            performance_status=PERFORMANCE_OK if ok else INSUFFICIENT_LABELS, labelled_rows=labelled_rows,
        )
        self.records[(window_label, ReportStep.PERFORMANCE)] = record
        return record
