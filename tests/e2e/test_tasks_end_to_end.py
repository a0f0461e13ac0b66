"""Multiclass (covertype) and regression (bike_sharing) through the whole loop, real DAGs.

For each task, in a world of its own (`tests.isolation.World`, own registry): the product's
bootstrap on the bundled data, a replay of the first days, the real monitoring DAG per window
(`dag.test()`), the real retraining DAG with a request, the reviewer's approval in the registry and
the next monitoring run, which promotes. Asserted on what a user reads: the task's metrics in the
metrics history (per-class recall and macro-F1, or RMSE / MAE / R²), Evidently's classification
or regression page, the gate's comparison on the task's metric in the right direction, and the
champion alias after promotion. About two minutes per task here: `make test-slow`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.composition import build_ports
from driftpilot.domain.config import load_config
from driftpilot.usecases import monitor as monitoring
from driftpilot.usecases import promote as promotion
from tests.bundled import bootstrap_from_bundled
from tests.isolation import World

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
MONITORED_DAYS = 6  # windows 2026-01-01 .. 2026-01-06; the older ones have matured labels by the end
AS_OF = "2026-01-07T00:00:00+00:00"

TASKS = {
    # model: (config file, primary metric, metrics the labels step must report, Evidently's metrics)
    "covertype": ("covertype.yaml", "macro_f1", {"accuracy", "macro_f1", "recall_2", "f1_2", "log_loss"},
                  {"Accuracy", "F1ByLabel", "RecallByLabel"}),
    "bike_sharing": ("bike_sharing.yaml", "rmse", {"rmse", "mae", "r2", "mape"}, {"RMSE", "MAE", "R2Score"}),
}


def window_metrics(settings, model: str) -> pd.DataFrame:
    with sqlite3.connect(monitoring.metrics_db(settings)) as db:
        return pd.read_sql_query("SELECT * FROM metrics WHERE model = ?", db, params=(model,))


def run_monitor(dagbag, config, day: int) -> str:
    window = monitoring.window_for(config, f"2026-01-{day + 1:02d}")
    return str(dagbag.dags[f"driftpilot_monitor__{config.name}"].test(logical_date=window.end).state)


@pytest.fixture(params=sorted(TASKS))
def model(request) -> str:
    return str(request.param)


def test_monitoring_retraining_gate_and_promotion(model: str, tmp_path: Path, airflow_db, dagbag) -> None:
    from driftpilot_demo.traffic import replay_traffic

    file, primary, expected_metrics, evidently_metrics = TASKS[model]
    world = World.create(tmp_path / "world")
    # A gate that passes whatever the sample (the direction is checked on the numbers below).
    data = yaml.safe_load((world.config_dir / file).read_text())
    data["promotion"].update(min_improvement=-1e9, guard_metrics={}, segment_tolerance=1e9)
    (world.config_dir / file).write_text(yaml.safe_dump(data))
    with world.active() as settings:
        config = load_config(world.config_dir / file)
        first = bootstrap_from_bundled(config, build_ports(settings))
        replay_traffic(config, settings, range(MONITORED_DAYS + 1))
        states = [run_monitor(dagbag, config, day) for day in range(MONITORED_DAYS)]
        assert states == ["success"] * MONITORED_DAYS

        # 1. monitoring: the task's metrics for every window whose labels matured
        metrics = window_metrics(settings, model)
        perf = metrics[metrics["metric"].str.startswith("perf.") & metrics["value"].notna()]
        mature = sorted(set(perf["window"]))
        assert mature and mature[0] == "2026-01-01"
        reported = {m.removeprefix("perf.") for m in perf[perf["window"] == mature[0]]["metric"]}
        assert expected_metrics <= reported, reported
        if model == "covertype":
            assert not {"brier", "rmse"} & reported
            recalls = perf[perf["metric"].str.startswith("perf.recall_")]["value"]
            assert ((recalls >= 0) & (recalls <= 1)).all()
        else:
            assert not {"accuracy", "brier"} & reported
            assert (perf[perf["metric"] == "perf.rmse"]["value"] >= perf[perf["metric"] == "perf.mae"]["value"].to_numpy()).all()
        report_dir = settings.lake / "reports" / f"model={model}" / f"date={mature[0]}"
        page = json.dumps(json.loads((report_dir / "performance.json").read_text()))
        rendered = set(re.findall(r"evidently:metric_v2:(\w+)", page))
        assert evidently_metrics <= rendered, rendered  # Evidently's task preset ran, not a placeholder
        assert (report_dir / "performance.html").stat().st_size > 10_000
        decision = json.loads((settings.lake / "reports" / f"model={model}" / "date=2026-01-06" / "decision.json").read_text())
        performance = decision["evidence"].get("performance")
        assert performance is not None and performance["metric"] == primary

        # 2. retraining on matured production labels, gate on the task's metric
        run = dagbag.dags[f"driftpilot_retrain__{model}"].test(run_conf={
            "reason": "test: performance", "window": "2026-01-06", "as_of": AS_OF, "idempotency_key": f"t-{model}",
            "await_decision": False})  # approved below, after the run
        assert str(run.state) == "success"
        [version] = registry.MlflowRegistry(settings).search_versions(model, registry.KEY_TAG, f"retrain:t-{model}")
        work = settings.home / "retrain" / model / f"t-{model}"
        gate = json.loads((work / "gate.json").read_text())
        assert gate["metric"] == primary and gate["passed"]
        lower_is_better = primary == "rmse"
        signed = gate["champion"] - gate["challenger"] if lower_is_better else gate["challenger"] - gate["champion"]
        assert gate["improvement"] == pytest.approx(signed, abs=1e-9)
        assert gate["ci_low"] <= gate["improvement"] <= gate["ci_high"]
        if model == "bike_sharing":
            assert any(g["name"].startswith("mae[workingday=") for g in gate["guards"])
        else:
            assert any(g["name"].startswith("accuracy[wilderness_area=") for g in gate["guards"])
        candidate = registry.MlflowRegistry(settings).load_baseline(model, version)
        assert primary in candidate.metadata["holdout_metrics"]

        # 3. approval in the registry; the next monitoring run promotes
        promotion.set_approval(build_ports(settings), model, version, promotion.APPROVED, "ana", "gate read")
        assert run_monitor(dagbag, config, MONITORED_DAYS) == "success"
        client = registry.MlflowRegistry(settings)
        assert client.alias_version(model, registry.CHAMPION) == version
        assert client.alias_version(model, registry.PREVIOUS) == first.version
