"""The register DAG on a user's own model, then a monitoring window served by that version.

A scikit-learn pipeline trained here with plain scikit-learn and registered with plain MLflow is
registered with driftpilot by the real ``driftpilot_register__elec2_updown`` DAG (``dag.test()``
with Params); a day of traffic scored by that version is then monitored by the real monitoring DAG,
against the baseline the register DAG attached (no bootstrap, no driftpilot recipe anywhere).
"""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from driftpilot.adapters.mlflow_registry import MlflowRegistry
from driftpilot.composition import build_ports
from driftpilot.ports import BASELINE_RUN_TAG, CHAMPION
from driftpilot.usecases import monitor as monitoring
from tests.isolation import World

pytestmark = pytest.mark.e2e

MODEL = "elec2_updown"
NUMERIC = ["period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


@pytest.fixture(scope="module")
def user_world(tmp_path_factory, elec2_config, elec2_demo, airflow_db):  # type: ignore[no-untyped-def]
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from driftpilot_demo import datasets

    world = World.create(tmp_path_factory.mktemp("register-dag"))
    period = datasets.training_period(elec2_demo, datasets.load_source(elec2_config, elec2_demo,
                                                                       seed=elec2_demo.replay.seed))
    cut = int(len(period) * 0.8)
    reference = world.base / "holdout.parquet"
    period.iloc[cut:].to_parquet(reference)
    train = period.iloc[:cut]
    pipeline = Pipeline([
        ("pre", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["day_of_week"])],
                                  remainder="passthrough")),
        ("clf", HistGradientBoostingClassifier(random_state=0, max_iter=50)),
    ]).fit(train[[*NUMERIC, "day_of_week"]], train["class"].astype(int))
    with world.active() as settings:
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
        mlflow.set_registry_uri(settings.mlflow_tracking_uri)
        experiment = MlflowClient(settings.mlflow_tracking_uri).create_experiment(
            "user", artifact_location=(world.base / "user-artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment):
            mlflow.sklearn.log_model(pipeline, name="model", input_example=train[[*NUMERIC, "day_of_week"]].head(3),
                                     registered_model_name=MODEL, serialization_format="cloudpickle")
    return world, reference


def test_register_dag_then_monitoring_uses_the_registered_baseline(user_world, dagbag, elec2_config, tmp_path) -> None:
    from driftpilot_demo.traffic import replay_traffic

    world, reference = user_world
    with world.copy(tmp_path / "world").active() as settings:
        register = dagbag.dags[f"driftpilot_register__{MODEL}"]
        bad = register.test(run_conf={"model_uri": f"models:/{MODEL}/1", "reference": str(tmp_path / "none.parquet")})
        assert str(bad.state) == "failed"
        registry = MlflowRegistry(settings)
        assert BASELINE_RUN_TAG not in registry.version_tags(MODEL, "1")

        run = register.test(run_conf={"model_uri": f"models:/{MODEL}/1", "reference": str(reference),
                                      "champion": True})
        assert str(run.state) == "success"
        assert registry.alias_version(MODEL, CHAMPION) == "1"
        baseline = registry.load_baseline(MODEL, "1")
        assert baseline.metadata["model_uri"] == f"models:/{MODEL}/1"
        assert baseline.metadata["holdout_metrics"]["accuracy"] > 0.7  # the user's model, a real one

        summary = replay_traffic(elec2_config, settings, range(1))  # scored by the user's version
        assert [d.model_version for d in summary.days if not d.skipped] == ["1"]
        window = monitoring.window_for(elec2_config, "2026-01-01")
        monitored = dagbag.dags[f"driftpilot_monitor__{MODEL}"].test(logical_date=window.end)
        assert str(monitored.state) == "success"
        evidence = build_ports(settings).store.window_evidence(MODEL)
        assert [(e.evidence.window, e.model_version) for e in evidence] == [(window.label, "1")]
