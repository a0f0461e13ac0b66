"""The typed records of what each report step wrote, the index rendered from them, and the port."""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import pandas as pd

from driftpilot.adapters.evidently import EvidentlyReports
from driftpilot.adapters.evidently.render import render_index
from driftpilot.adapters.evidently.renderer import manifest_name, read_manifest
from driftpilot.domain.config import parse_config
from driftpilot.domain.reports import ReportMetric, ReportStep, StepReports, WindowReports
from driftpilot.ports import ReportRenderer
from tests.fakes.reports import FakeReportRenderer

DRIFT = StepReports(
    step=ReportStep.DRIFT, model_name="m", window_label="2026-01-05",
    files={"drift_html": "drift.html", "drift_json": "drift.json", "quality_html": "quality.html"},
    metrics=(ReportMetric("value_drift", "x", float("nan"), None, 0.1, True), ReportMetric("mean", "x", 2.5)),
    sampled=True, sample_rows=150, total_rows=400, reference_rows=150, notes=("x: <b>gone</b>",),
    seconds={"total": 1.234}, drift_share=0.5, drifted_columns=("x",),
)
PERFORMANCE = StepReports(
    step=ReportStep.PERFORMANCE, model_name="m", window_label="2026-01-05",
    files={"performance_html": "perf ormance.html"}, metrics=(ReportMetric("accuracy", None, 0.8),),
    sampled=True, sample_rows=150, total_rows=400, reference_rows=150,
    performance={"accuracy": 0.8}, performance_status="ok", labelled_rows=120,
)


def test_a_manifest_reads_back_as_the_record_it_was(tmp_path: Path) -> None:
    (tmp_path / manifest_name(ReportStep.DRIFT)).write_text(json.dumps(DRIFT.to_dict()))
    back = read_manifest(tmp_path, ReportStep.DRIFT)
    assert back is not None
    assert math.isnan(back.metrics[0].value) and back.metrics[0].to_dict() == DRIFT.metrics[0].to_dict()
    assert back.metrics[1:] == DRIFT.metrics[1:]
    assert back.files == DRIFT.files and back.drifted_columns == ("x",) and back.sampled is True


def test_a_missing_or_broken_manifest_is_no_record(tmp_path: Path) -> None:
    assert read_manifest(tmp_path, ReportStep.PERFORMANCE) is None
    (tmp_path / manifest_name(ReportStep.PERFORMANCE)).write_text('{"step": "performance"}')
    assert read_manifest(tmp_path, ReportStep.PERFORMANCE) is None


def test_the_index_shows_what_each_step_recorded_and_escapes_it() -> None:
    both = render_index(WindowReports("m", "2026-01-05", DRIFT, PERFORMANCE))
    assert "Drift share: 0.50" in both and "accuracy 0.800" in both
    assert 'href="perf%20ormance.html"' in both
    assert "150 of the window's 400 rows" in both and "&lt;b&gt;gone&lt;/b&gt;" in both
    drift_only = render_index(WindowReports("m", "2026-01-05", DRIFT, None))
    assert "Model performance: insufficient labels" in drift_only
    performance_only = render_index(WindowReports("m", "2026-01-05", None, PERFORMANCE))
    assert "Data drift and quality: not rendered yet" in performance_only


def test_the_summary_joins_both_steps() -> None:
    summary = WindowReports("m", "2026-01-05", DRIFT, PERFORMANCE).summary()
    assert summary["performance"] == {"accuracy": 0.8} and summary["labelled_rows"] == 120
    assert summary["drift_share"] == 0.5 and summary["files"]["performance_html"] == "perf ormance.html"
    assert [r["metric"] for r in summary["metrics"]] == ["value_drift", "mean", "accuracy"]
    assert WindowReports("m", "w", DRIFT, None).summary()["performance"] == "insufficient labels"


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(getattr(cls, name)) for name in dir(cls)
            if not name.startswith("_") and callable(getattr(cls, name))}


def test_the_adapter_and_the_fake_have_the_ports_methods() -> None:
    port = _methods(ReportRenderer)
    for implementation in (EvidentlyReports, FakeReportRenderer):
        found = _methods(implementation)
        for name, signature in port.items():
            assert list(found[name].parameters) == list(signature.parameters), (implementation, name)


def test_the_fake_records_what_a_use_case_asked() -> None:
    config = parse_config({"name": "m", "task": "binary", "target": "y", "features": {"numeric": ["x"]},
                           "labels": {"maturity_hours": 1}})
    fake = FakeReportRenderer(drift_share=0.4)
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    fake.render_drift(config, frame, frame, Path("unused"), "w")
    fake.render_performance(config, frame, frame, None, Path("unused"), "w")
    drift, performance = fake.records[("w", ReportStep.DRIFT)], fake.records[("w", ReportStep.PERFORMANCE)]
    assert fake.calls == [("drift", "w", 2, 0), ("performance", "w", 2, 0)]
    assert drift.drift_share == 0.4
    assert performance.performance_status == "insufficient labels"
