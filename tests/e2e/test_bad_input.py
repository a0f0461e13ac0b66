"""Bad input through the real monitoring DAG (real MLflow, GX, Evidently): what a user's writers do.

A model of its own (``elec2_badinput``: Elec2 with 24 h label maturity) is bootstrapped and fed
real replayed traffic, then the lake is edited the way real writers break it:

* window 2026-01-01: two inference files, one with naive and one with tz-aware ``event_time``;
  the prediction column written as float64 with one NaN; ``day_of_week`` as float64 with a NaN;
  20 rows served by a version the registry does not know; an unreadable file. Its labels: the
  true classes written as float ``0.0``/``1.0``, 36 labels ``"yes"``/``"no"``, a file that is not
  Parquet, a file breaking the label contract (naive ``label_time``), and 5 labels for ids that
  were never logged;
* window 2026-01-02: no traffic at all (its run must still mature 01-01);
* window 2026-01-03: normal traffic, plus 50 late corrections of 01-01 labels after maturity;
* window 2026-01-04: every row names an unregistered ``model_version``.

Every case asserts the outcome (metrics, a quarantine with its reason, or a failed task whose
message says what to do) and the row accounting ``read = accepted + quarantined``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import parquet_lake as storage
from driftpilot.adapters import sqlite_store as history
from driftpilot.composition import build_ports
from driftpilot.domain.labels import latest_labels
from driftpilot.errors import BaselineNotFound
from driftpilot.usecases import monitor as monitoring

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MODEL = "elec2_badinput"
UNKNOWN_VERSION = "v99"  # the example: not even a registry version number
YES_NO_ROWS = 36
GHOST_IDS = 5
LATE_CORRECTIONS = 50
V99_ROWS = 20


def _day(text: str):
    return pd.Timestamp(text).date()


def _partition(settings, kind: str, day: str) -> Path:
    return storage.partition_dir(settings.lake, kind, MODEL, _day(day))


def _config_text() -> str:
    text = (ROOT / "include" / "config" / "elec2.yaml").read_text()
    text = text.replace("name: elec2_updown", f"name: {MODEL}")
    return text.replace("maturity_hours: 96", "maturity_hours: 24")


def _load_dag(config_dir: Path):
    """The monitoring DAG of the test's own config, built by the real DAG file."""
    spec = importlib.util.spec_from_file_location("driftpilot_monitor_badinput", ROOT / "dags" / "driftpilot_monitor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, f"driftpilot_monitor__{MODEL}")


@pytest.fixture(scope="module")
def world(tmp_path_factory, shared_settings, airflow_db):
    """Bootstrap, replay and break the lake as the module docstring says; yields (dag, config, truth)."""
    from driftpilot.domain.config import load_config
    from driftpilot_demo.config import demo_spec
    from driftpilot_demo.traffic import replay_traffic
    from tests.bundled import bootstrap_from_bundled

    config_dir = tmp_path_factory.mktemp("badinput-config")
    (config_dir / f"{MODEL}.yaml").write_text(_config_text())
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DRIFTPILOT_CONFIG_DIR", str(config_dir))
        config = load_config(config_dir / f"{MODEL}.yaml")
        # The test model is Elec2 under another name: it plays elec2_updown's demo world.
        bootstrap_from_bundled(config, build_ports(shared_settings), "elec2_updown")
        replay_traffic(config, shared_settings, range(4), demo=demo_spec("elec2_updown"))
        truth = _break_the_lake(shared_settings)
        yield _load_dag(config_dir), config, truth


def _break_the_lake(settings) -> pd.DataFrame:
    labels_root = settings.lake / storage.LABELS / f"model={MODEL}"
    replayed = storage.read_partitions(p for p in sorted(labels_root.iterdir()))
    truth = latest_labels(replayed)[["prediction_id", "label"]]
    for directory in labels_root.iterdir():  # labels of this test are written below, by hand
        for file in directory.glob("*.parquet"):
            file.unlink()

    # ---- window 01-01: inference
    day1 = _partition(settings, storage.INFERENCE, "2026-01-01")
    original = storage.read_parquet(day1 / "part-0.parquet")
    first, second = original.iloc[:168].copy(), original.iloc[168:].copy()
    first["event_time"] = first["event_time"].dt.tz_convert("UTC").dt.tz_localize(None)  # naive
    first["prediction"] = first["prediction"].astype(float)
    first.loc[first.index[0], "prediction"] = np.nan
    second["day_of_week"] = second["day_of_week"].astype(float)
    second.loc[second.index[3], "day_of_week"] = np.nan
    second.loc[second.index[-V99_ROWS:], "model_version"] = UNKNOWN_VERSION
    storage.write_parquet_atomic(first, day1 / "part-0.parquet")
    storage.write_parquet_atomic(second, day1 / "part-1.parquet")
    (day1 / "part-2.parquet").write_bytes(b"not parquet at all")

    # ---- window 01-01: labels arriving on 01-01
    arrivals = _partition(settings, storage.LABELS, "2026-01-01")
    arrivals.mkdir(parents=True, exist_ok=True)
    end = pd.Timestamp("2026-01-02", tz="UTC") - pd.Timedelta(seconds=1)
    known = original.merge(truth, on="prediction_id")
    as_float = known.iloc[:-YES_NO_ROWS]
    storage.write_parquet_atomic(pd.DataFrame({
        "prediction_id": as_float["prediction_id"],
        "label": as_float["label"].astype(float),
        "label_time": (as_float["event_time"] + pd.Timedelta(minutes=30)).clip(upper=end),
        "source": "system",
    }), arrivals / "part-a.parquet")
    yes_no = known.iloc[-YES_NO_ROWS:]
    storage.write_parquet_atomic(pd.DataFrame({
        "prediction_id": yes_no["prediction_id"],
        "label": np.where(yes_no["label"].astype(int) == 1, "yes", "no"),
        "label_time": end,
        "source": "system",
    }), arrivals / "part-b.parquet")
    (arrivals / "part-c.parquet").write_bytes(b"PAR1 truncated")
    storage.write_parquet_atomic(pd.DataFrame({
        "prediction_id": as_float["prediction_id"].head(3),
        "label": [1, 0, 1],
        "label_time": pd.Timestamp("2026-01-01 12:00"),  # naive: breaks the label contract
        "source": "system",
    }), arrivals / "part-d.parquet")
    storage.write_parquet_atomic(pd.DataFrame({
        "prediction_id": [f"ghost-{i}" for i in range(GHOST_IDS)],
        "label": [1] * GHOST_IDS,
        "label_time": end,
        "source": "system",
    }), arrivals / "part-e.parquet")

    # ---- window 01-02: no traffic
    for file in _partition(settings, storage.INFERENCE, "2026-01-02").glob("*.parquet"):
        file.unlink()

    # ---- window 01-03: late corrections of 01-01 labels, after 01-01 matured (01-03 00:00)
    late_dir = _partition(settings, storage.LABELS, "2026-01-03")
    late_dir.mkdir(parents=True, exist_ok=True)
    late = as_float.head(LATE_CORRECTIONS)
    storage.write_parquet_atomic(pd.DataFrame({
        "prediction_id": late["prediction_id"],
        "label": 1 - late["label"].astype(int),
        "label_time": pd.Timestamp("2026-01-03 12:00", tz="UTC"),
        "source": "correction",
    }), late_dir / "part-late.parquet")

    # ---- window 01-04: an unregistered version only
    day4 = _partition(settings, storage.INFERENCE, "2026-01-04")
    frame = storage.read_parquet(day4 / "part-0.parquet")
    frame["model_version"] = "7"
    storage.write_parquet_atomic(frame, day4 / "part-0.parquet")
    return truth


@pytest.fixture(scope="module")
def runs(world, shared_settings):
    dag, config, _ = world
    out = {}
    for label in ("2026-01-01", "2026-01-02", "2026-01-03"):
        window = monitoring.window_for(config, label)
        out[label] = dag.test(logical_date=window.end)
    return out


def _metric(settings, window: str, metric: str, column: str = "") -> float | None:
    frame = history.read_metrics(monitoring.metrics_db(settings), MODEL)
    found = frame[(frame["window"] == window) & (frame["metric"] == metric) & (frame["column"] == column)]
    assert len(found) == 1, f"{metric}[{column}] of {window}: {len(found)} rows"
    value = found["value"].iloc[0]
    return None if pd.isna(value) else float(value)


def _summary(settings, config, window: str) -> dict:
    out = monitoring.report_dir(settings, monitoring.window_for(config, window))
    return json.loads((out / "validation_summary.json").read_text())


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_each_window_runs_and_accounts_for_every_row(runs, world, shared_settings) -> None:
    _, config, _ = world
    assert str(runs["2026-01-01"].state) == "success"  # tz-aware + naive files, float predictions
    assert str(runs["2026-01-03"].state) == "success"
    for window in ("2026-01-01", "2026-01-03"):
        summary = _summary(shared_settings, config, window)
        assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_quarantined"]


def test_float_labels_score_against_int_predictions(runs, world, shared_settings) -> None:
    """Labels 0.0/1.0 against predictions 1/0: the true accuracy, not 0.000 and a retrain."""
    _, _, truth = world
    expected, labelled = _accuracy_at_maturity(shared_settings, truth)
    accuracy = _metric(shared_settings, "2026-01-01", "perf.accuracy")
    assert accuracy == pytest.approx(expected)
    assert accuracy > 0.5
    assert _metric(shared_settings, "2026-01-01", "labels.labelled") == labelled


def _accuracy_at_maturity(settings, truth: pd.DataFrame) -> tuple[float, int]:
    """Accuracy of 01-01's accepted rows against the truth, computed here with plain pandas."""
    accepted = storage.read_parquet(monitoring.validated_path(settings, MODEL, _day("2026-01-01")))
    joined = accepted.merge(truth, on="prediction_id")
    # the 36 "yes"/"no" labels are quarantined, so they are not in the performance sample
    scored = joined[~joined["prediction_id"].isin(_yes_no_ids(settings))]
    return float((scored["prediction"].astype(float) == scored["label"].astype(float)).mean()), len(scored)


def _yes_no_ids(settings) -> set[str]:
    quarantined = storage.read_parquet(_partition(settings, storage.LABEL_QUARANTINE, "2026-01-01") / "part-0.parquet")
    return set(quarantined["prediction_id"])


def test_labels_that_are_no_class_are_quarantined_with_a_reason(runs, shared_settings) -> None:
    quarantined = storage.read_parquet(_partition(shared_settings, storage.LABEL_QUARANTINE, "2026-01-01") / "part-0.parquet")
    assert len(quarantined) == YES_NO_ROWS
    assert quarantined["quarantine_reason"].str.contains("is not a class of the model").all()
    assert set(quarantined["label"]) == {"yes", "no"}
    assert _metric(shared_settings, "2026-01-01", "arrivals.quarantined_rows") == YES_NO_ROWS
    # label accounting: rows read from the readable files = rows used + rows quarantined
    arrivals = _partition(shared_settings, storage.LABELS, "2026-01-01")
    readable = sum(len(storage.read_parquet(arrivals / f"part-{p}.parquet")) for p in "abe")
    assert _metric(shared_settings, "2026-01-01", "arrivals.label_rows") == readable


def test_broken_label_files_are_quarantined_and_the_rest_used(runs, shared_settings) -> None:
    files = _partition(shared_settings, storage.LABEL_QUARANTINE, "2026-01-01") / "files"
    reasons = {p.name: json.loads(p.read_text())["reason"] for p in files.glob("*.reason.json")}
    assert set(reasons) == {"date=2026-01-01-part-c.reason.json", "date=2026-01-01-part-d.reason.json"}
    assert "cannot read Parquet" in reasons["date=2026-01-01-part-c.reason.json"]
    assert "label_time must be a timezone-aware" in reasons["date=2026-01-01-part-d.reason.json"]
    assert _metric(shared_settings, "2026-01-01", "arrivals.quarantined_files") == 2
    assert _metric(shared_settings, "2026-01-01", "perf.accuracy") is not None  # the other files were used


def test_a_float_prediction_column_is_not_a_flood_of_unknown_classes(runs, world, shared_settings) -> None:
    _, config, _ = world
    summary = _summary(shared_settings, config, "2026-01-01")
    known = next(e for e in summary["validation"]["expectations"] if e["rule_id"] == "known:prediction")
    assert known["unexpected_count"] == 0
    assert _metric(shared_settings, "2026-01-01", "drift.tvd", "prediction") < 0.5  # was 1.0
    reasons = summary["validation"]["reason_counts"]
    assert reasons.get("expect_column_values_to_not_be_null(prediction)") == 1  # the NaN row, nothing else


def test_integer_codes_written_as_floats_are_the_same_categories(runs, shared_settings) -> None:
    assert _metric(shared_settings, "2026-01-01", "drift.unseen_share", "day_of_week") == 0.0


def test_rows_of_an_unregistered_version_are_quarantined_and_counted(runs, world, shared_settings) -> None:
    _, config, _ = world
    summary = _summary(shared_settings, config, "2026-01-01")
    assert summary["rows_by_version"][UNKNOWN_VERSION] == V99_ROWS
    assert summary["unregistered_versions"] == [UNKNOWN_VERSION]
    quarantined = storage.read_parquet(_partition(shared_settings, storage.QUARANTINE, "2026-01-01") / "part-0.parquet")
    unknown = quarantined[quarantined["model_version"] == UNKNOWN_VERSION]
    assert len(unknown) == V99_ROWS
    assert unknown["quarantine_reason"].str.contains("no baseline in the registry").all()
    assert _metric(shared_settings, "2026-01-01", "validation.rows_by_version", UNKNOWN_VERSION) == V99_ROWS


def test_an_unreadable_file_shows_in_the_report_and_the_summary(runs, world, shared_settings) -> None:
    _, config, _ = world
    summary = _summary(shared_settings, config, "2026-01-01")
    broken = str(_partition(shared_settings, storage.INFERENCE, "2026-01-01") / "part-2.parquet")
    assert [f["path"] for f in summary["validation"]["files_quarantined"]] == [broken]
    assert summary["validation"]["bytes_quarantined"] == len(b"not parquet at all")
    page = (monitoring.report_dir(shared_settings, monitoring.window_for(config, "2026-01-01")) / "validation.html").read_text()
    assert "part-2.parquet" in page
    assert "1 unreadable file(s)" in page
    assert _metric(shared_settings, "2026-01-01", "validation.bytes_quarantined") == len(b"not parquet at all")


def test_a_window_without_traffic_fails_naming_the_empty_partition_and_still_matures_earlier_windows(
        runs, world, shared_settings) -> None:
    _, config, _ = world
    run = runs["2026-01-02"]
    states = _states(run)
    assert str(run.state) == "failed"  # `window.when_empty: fail` (the default): a silent logger is noticed
    assert states["validate"] == "failed" and states["drift"] == "upstream_failed"
    validate = next(ti for ti in run.get_task_instances() if ti.task_id == "validate")
    assert validate.try_number == 1  # not retried: the partition stays empty
    empty = _partition(shared_settings, storage.INFERENCE, "2026-01-02")
    with pytest.raises(monitoring.EmptyWindow, match=rf"no Parquet file in {re.escape(str(empty))}.*window.when_empty: skip"):
        monitoring.validate_step(config, build_ports(shared_settings), monitoring.window_for(config, "2026-01-02"))
    assert states["labels"] == "success"
    frame = history.read_metrics(monitoring.metrics_db(shared_settings), MODEL)
    status = frame[(frame["window"] == "2026-01-01") & (frame["metric"] == "perf.status")]
    assert status["detail"].iloc[0] == "final"
    # matured by the 01-02 run (as of 01-03 00:00), not by a later one
    assert status["computed_at"].iloc[0] >= pd.Timestamp("2026-01-03", tz="UTC").isoformat()


def test_final_figures_are_frozen_and_late_labels_counted(runs, world, shared_settings) -> None:
    _, _, truth = world
    at_maturity, _ = _accuracy_at_maturity(shared_settings, truth)
    accepted = storage.read_parquet(monitoring.validated_path(shared_settings, MODEL, _day("2026-01-01")))
    # the 01-03 run saw 50 late corrections of 01-01 labels: counted, not folded into "final"
    assert _metric(shared_settings, "2026-01-01", "perf.accuracy") == pytest.approx(at_maturity)
    late = storage.read_parquet(_partition(shared_settings, storage.LABELS, "2026-01-03") / "part-late.parquet")
    late_for_accepted = late["prediction_id"].isin(accepted["prediction_id"]).sum()
    assert 0 < late_for_accepted <= LATE_CORRECTIONS  # (a late label of a quarantined row is not counted)
    assert _metric(shared_settings, "2026-01-01", "labels.late") == late_for_accepted


def test_unknown_label_ids_survive_recomputation(runs, shared_settings) -> None:
    # 01-01 was recomputed by the runs of 01-02 and 01-03; the arrivals of 01-01 stay
    assert _metric(shared_settings, "2026-01-01", "arrivals.unknown_ids") == GHOST_IDS


def test_a_rerun_replaces_the_windows_mlflow_run(runs, world, shared_settings) -> None:
    dag, config, _ = world
    window = monitoring.window_for(config, "2026-01-03")
    assert str(dag.test(logical_date=window.end).state) == "success"
    client = registry.MlflowRegistry(shared_settings)
    experiment = client.client.get_experiment_by_name(f"driftpilot/{MODEL}/monitoring")
    found = client.client.search_runs([experiment.experiment_id], filter_string=f"tags.`driftpilot.window` = '{window.label}'")
    assert len(found) == 1
    assert len(client.client.get_metric_history(found[0].info.run_id, "drift.share")) == 1


def test_an_unregistered_version_fails_at_once_saying_what_to_do(runs, world, shared_settings) -> None:
    dag, config, _ = world
    window = monitoring.window_for(config, "2026-01-04")
    run = dag.test(logical_date=window.end)
    assert str(run.state) == "failed"
    validate = next(ti for ti in run.get_task_instances() if ti.task_id == "validate")
    assert str(validate.state) == "failed"
    assert validate.try_number == 1  # not retried: a retry would fail the same way
    with pytest.raises(BaselineNotFound, match=r"model_version \['7'\].*driftpilot bootstrap"):
        monitoring.validate_step(config, build_ports(shared_settings), window)
    assert window.end - window.start == timedelta(days=1)
