"""The real monitoring DAG, run with `dag.test()` against real MLflow, GX and Evidently.

One scenario: Elec2 days replayed and monitored (`elec2_monitored`, a `tests.isolation.World`: its
own lake, history and home, the session's registry and champion); each test starts from its own
copy of that state to re-run a window, watch late labels mature, or break the data, so the tests
run alone and in any order.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import parquet_lake as storage
from driftpilot.adapters import sqlite_store as history
from driftpilot.domain.labels import latest_labels
from driftpilot.usecases import monitor as monitoring

pytestmark = pytest.mark.e2e

DAYS = 6


@pytest.fixture(scope="module")
def template(elec2_monitored, elec2_config, dagbag):
    """Eight days replayed, the first six monitored (the session's `elec2_monitored`, never changed)."""
    world, runs = elec2_monitored
    assert len(runs) == DAYS
    return world, dagbag.dags[f"driftpilot_monitor__{elec2_config.name}"], runs


@pytest.fixture(scope="module")
def monitored(template):
    _, dag, runs = template
    return dag, runs


@pytest.fixture(autouse=True)
def shared_settings(template, tmp_path):
    """This test's own copy of the monitored state, active (the DAG tasks read it)."""
    with template[0].copy(tmp_path / "world").active() as settings:
        yield settings


def _metrics(settings, model, window_label):
    frame = history.read_metrics(monitoring.metrics_db(settings), model)
    frame = frame[frame["window"] == window_label]
    return frame.drop(columns=["computed_at"]).sort_values(["metric", "column"]).reset_index(drop=True)


def test_every_window_succeeds_and_is_decided(monitored, elec2_config, shared_settings) -> None:
    _, runs = monitored
    assert {label: str(run.state) for label, run in runs.items()} == {label: "success" for label in runs}
    for label in runs:
        out = storage.partition_dir(shared_settings.lake, storage.REPORTS, elec2_config.name, pd.Timestamp(label).date())
        decision = json.loads((out / "decision.json").read_text())
        assert decision["action"] in {"none", "alert", "retrain"}
        assert decision["reasons"], "a decision always says why"
        for name in ("drift.html", "drift.json", "quality.html", "validation.html", "drift_stats.json", "index.html"):
            assert (out / name).exists(), f"{label}: {name} missing"
        summary = json.loads((out / "validation_summary.json").read_text())
        assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_quarantined"]


def test_matured_window_has_the_true_accuracy(monitored, elec2_config, shared_settings) -> None:
    """Window 1 matured (96 h) by the run of window 5: its accuracy is the truth known at maturity.

    Final figures are frozen at ``window end + maturity_hours``: labels arriving later do not move them.
    """
    frame = _metrics(shared_settings, elec2_config.name, "2026-01-01").set_index(["metric", "column"])
    accuracy = frame.loc[("perf.accuracy", ""), "value"]
    log = storage.read_parquet(monitoring.validated_path(shared_settings, elec2_config.name, pd.Timestamp("2026-01-01").date()))
    labels = storage.read_partitions(
        storage.partition_dir(shared_settings.lake, storage.LABELS, elec2_config.name, d)
        for d in storage.list_partition_dates(shared_settings.lake, storage.LABELS, elec2_config.name)
    )
    matured_at = monitoring.window_for(elec2_config, "2026-01-01").end + timedelta(hours=elec2_config.labels.maturity_hours)
    known = latest_labels(labels[labels["label_time"] <= pd.Timestamp(matured_at)])
    joined = log.merge(known, on="prediction_id")
    assert accuracy == pytest.approx((joined["prediction"].astype(str) == joined["label"].astype(str)).mean())
    assert frame.loc[("perf.status", ""), "detail"] == "final"
    # the last window is still maturing: reported as coverage, never as a number
    latest = _metrics(shared_settings, elec2_config.name, "2026-01-06").set_index(["metric", "column"])
    assert ("perf.accuracy", "") not in latest.index
    assert latest.loc[("perf.status", ""), "detail"].startswith("labels maturing")


def test_rerunning_a_window_replaces_its_outputs(monitored, elec2_config, shared_settings) -> None:
    dag, _ = monitored
    window = monitoring.window_for(elec2_config, "2026-01-06")
    before = _metrics(shared_settings, elec2_config.name, window.label)
    report = monitoring.report_dir(shared_settings, window) / "drift.html"
    stamp = report.stat().st_mtime_ns
    rerun = dag.test(logical_date=window.end)
    assert str(rerun.state) == "success"
    after = _metrics(shared_settings, elec2_config.name, window.label)
    pd.testing.assert_frame_equal(before, after)
    assert report.stat().st_mtime_ns > stamp  # replaced, not appended next to
    client = registry.MlflowRegistry(shared_settings)
    experiment = client.client.get_experiment_by_name(f"driftpilot/{elec2_config.name}/monitoring")
    runs = client.client.search_runs([experiment.experiment_id], filter_string=f"tags.`driftpilot.window` = '{window.label}'")
    assert len(runs) == 1


def test_rerunning_an_old_window_keeps_later_label_figures(monitored, elec2_config, shared_settings) -> None:
    """Window 01-01 matured at the run of 01-05; re-running 01-03 (as of 01-04) must not undo that."""
    dag, _ = monitored
    before = _metrics(shared_settings, elec2_config.name, "2026-01-01")
    old = monitoring.window_for(elec2_config, "2026-01-03")
    decision_file = monitoring.report_dir(shared_settings, old) / "decision.json"
    decision = json.loads(decision_file.read_text())
    rerun = dag.test(logical_date=old.end)
    assert str(rerun.state) == "success"
    pd.testing.assert_frame_equal(before, _metrics(shared_settings, elec2_config.name, "2026-01-01"))
    # the same decision, although the history now knows how 01-01 .. 01-02 performed
    again = json.loads(decision_file.read_text())
    assert (again["action"], again["reasons"]) == (decision["action"], decision["reasons"])
    assert ("perf.accuracy", "") in set(zip(before["metric"], before["column"], strict=True))


def test_a_renamed_column_fails_the_run_and_quarantines_every_row(monitored, elec2_config, shared_settings) -> None:
    dag, _ = monitored
    day = pd.Timestamp("2026-01-07").date()
    path = storage.partition_dir(shared_settings.lake, storage.INFERENCE, elec2_config.name, day) / "part-0.parquet"
    broken = storage.read_parquet(path).rename(columns={"nswdemand": "nsw_demand"})
    storage.write_parquet_atomic(broken, path)
    window = monitoring.window_for(elec2_config, day)
    run = dag.test(logical_date=window.end)
    assert str(run.state) == "failed"
    quarantined = storage.read_parquet(
        storage.partition_dir(shared_settings.lake, storage.QUARANTINE, elec2_config.name, day) / "part-0.parquet"
    )
    assert len(quarantined) == len(broken)  # nothing lost
    assert quarantined["quarantine_reason"].str.contains("nswdemand").all()
    summary = json.loads((monitoring.report_dir(shared_settings, window) / "validation_summary.json").read_text())
    assert summary["rows_accepted"] == 0
    assert "nswdemand" in summary["validation"]["failure_message"]
    assert not monitoring.validated_path(shared_settings, elec2_config.name, day).exists()  # feeds nothing


def test_an_unreadable_file_is_quarantined_and_the_rest_is_monitored(monitored, elec2_config, shared_settings) -> None:
    dag, _ = monitored
    day = pd.Timestamp("2026-01-08").date()
    directory = storage.partition_dir(shared_settings.lake, storage.INFERENCE, elec2_config.name, day)
    (directory / "part-9.parquet").write_bytes(b"PAR1 truncated upload")
    window = monitoring.window_for(elec2_config, day)
    run = dag.test(logical_date=window.end)
    assert str(run.state) == "success"
    summary = json.loads((monitoring.report_dir(shared_settings, window) / "validation_summary.json").read_text())
    assert [f["path"] for f in summary["files_quarantined"]] == [str(directory / "part-9.parquet")]
    assert summary["rows_read"] == 336
    copies = list((storage.partition_dir(shared_settings.lake, storage.QUARANTINE, elec2_config.name, day) / "files").glob("*.parquet"))
    assert len(copies) == 1
    assert window.end - window.start == timedelta(days=1)
