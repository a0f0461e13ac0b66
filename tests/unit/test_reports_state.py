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
from driftpilot.domain.reports import (
    DecidingDrift,
    FeatureVerdict,
    ReportMetric,
    ReportStep,
    StepReports,
    WindowReports,
    share_text,
)
from driftpilot.ports import ReportRenderer
from tests.fakes.reports import FakeReportRenderer

DRIFT = StepReports(
    step=ReportStep.DRIFT, model_name="m", window_label="2026-01-05",
    files={"drift_html": "drift.html", "drift_json": "drift.json", "quality_html": "quality.html"},
    metrics=(ReportMetric("value_drift", "x", float("nan"), None, 0.1, True), ReportMetric("mean", "x", 2.5)),
    sampled=True, sample_rows=150, total_rows=400, reference_rows=150, notes=("x: <b>gone</b>",),
    seconds={"total": 1.234}, evidently_drift_share=0.5, evidently_drifted_columns=("x",),
    verdict=DecidingDrift(drift_share=2 / 3, threshold=0.3, rows=400,
                          columns=(FeatureVerdict("x", True, "x: <b>shifted</b>"), FeatureVerdict("y", False, "stable"),
                                   FeatureVerdict("z", True, "z: shifted"))),
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
    assert back.files == DRIFT.files and back.evidently_drifted_columns == ("x",) and back.sampled is True
    assert back.verdict == DRIFT.verdict


def test_a_manifest_of_before_the_deciding_verdict_reads_its_share_as_evidentlys(tmp_path: Path) -> None:
    old = DRIFT.to_dict()
    del old["verdict"]
    old["drift_share"], old["drifted_columns"] = old.pop("evidently_drift_share"), old.pop("evidently_drifted_columns")
    (tmp_path / manifest_name(ReportStep.DRIFT)).write_text(json.dumps(old))
    back = read_manifest(tmp_path, ReportStep.DRIFT)
    assert back is not None and back.verdict is None
    assert (back.evidently_drift_share, back.evidently_drifted_columns) == (0.5, ("x",))


def test_a_missing_or_broken_manifest_is_no_record(tmp_path: Path) -> None:
    assert read_manifest(tmp_path, ReportStep.PERFORMANCE) is None
    (tmp_path / manifest_name(ReportStep.PERFORMANCE)).write_text('{"step": "performance"}')
    assert read_manifest(tmp_path, ReportStep.PERFORMANCE) is None


def test_the_index_shows_what_each_step_recorded_and_escapes_it() -> None:
    both = render_index(WindowReports("m", "2026-01-05", DRIFT, PERFORMANCE))
    # driftpilot's share decides and comes first; Evidently's is there, labelled as Evidently's.
    assert "Drift share (driftpilot, decides): 0.67" in both and "Evidently's drift share: 0.50" in both
    assert "drifted features: x, z" in both and "x: &lt;b&gt;shifted&lt;/b&gt;" in both
    assert "accuracy 0.800" in both
    assert 'href="perf%20ormance.html"' in both
    assert "150 of the window's 400 rows" in both and "&lt;b&gt;gone&lt;/b&gt;" in both
    drift_only = render_index(WindowReports("m", "2026-01-05", DRIFT, None))
    assert "Model performance: insufficient labels" in drift_only
    performance_only = render_index(WindowReports("m", "2026-01-05", None, PERFORMANCE))
    assert "Data drift and quality: not rendered yet" in performance_only


def test_the_summary_joins_both_steps() -> None:
    summary = WindowReports("m", "2026-01-05", DRIFT, PERFORMANCE).summary()
    assert summary["performance"] == {"accuracy": 0.8} and summary["labelled_rows"] == 120
    assert summary["drift_share"] == 2 / 3 and summary["drifted_columns"] == ["x", "z"]
    assert summary["evidently_drift_share"] == 0.5 and summary["files"]["performance_html"] == "perf ormance.html"
    assert [c["drifted"] for c in summary["column_verdicts"]] == [True, False, True]
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
    assert drift.evidently_drift_share == 0.4 and drift.verdict is None
    assert performance.performance_status == "insufficient labels"


def test_a_share_reads_the_same_everywhere() -> None:
    assert (share_text(5 / 9), share_text(0.7142857), share_text(None), share_text(float("nan"))) == ("0.56", "0.71", "-", "-")
