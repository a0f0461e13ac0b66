"""README, "Monitor your own model", followed step by step by a user who has their own model.

The user trains a model with plain scikit-learn (no driftpilot code), logs and registers it in
MLflow the way anyone does, registers it with driftpilot (`driftpilot register`), logs a week of
traffic and delayed labels from their serving code (`driftpilot.serving`), monitors each window
(`driftpilot monitor`), retrains with their own training code (`retraining.trainer`, a small
package in the test tree) and approves the candidate. The promoted version must be the one their
trainer produced, and the gate must have compared it with *their* model on the same holdout.
Real MLflow (SQLite), GX, Evidently and scikit-learn throughout; the commands run in-process
through the CLI's ``main`` with the arguments the README gives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from driftpilot import cli
from driftpilot.adapters.mlflow_registry import CHAMPION, MlflowRegistry
from driftpilot.composition import build_ports
from driftpilot.serving import log_labels, log_predictions
from tests.isolation import ROOT, World

pytestmark = pytest.mark.e2e

MODEL = "acme_prices"
TRAINER = "tests.trainers.acme_trainer:fit_model"
NUMERIC = ["period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]
DAYS = [datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=i) for i in range(7)]
ROWS_PER_DAY = 336


def _user_data() -> pd.DataFrame:
    """The user's own history (here: the Elec2 file, as if it were theirs), in time order."""
    data = pd.read_parquet(ROOT / "include" / "driftpilot_demo" / "data" / "elec2.parquet")
    return data.sort_values("t", kind="stable").reset_index(drop=True)


def _user_model(train: pd.DataFrame):
    """What a user might have in production: a plain scikit-learn pipeline on two of the inputs."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = Pipeline([("inputs", ColumnTransformer([("scale", StandardScaler(), ["period", "nswdemand"])])),
                      ("model", LogisticRegression(max_iter=1000))])
    return model.fit(train[[*NUMERIC, "day_of_week"]], train["class"])


def _config(world: World, extra_training: str) -> None:
    """The user's model config: their model, its policy and their trainer; nothing about a demo."""
    config = {
        "name": MODEL, "task": "binary", "target": "class", "positive_label": 1,
        "features": {"numeric": NUMERIC, "categorical": ["day_of_week"]},
        "segments": ["day_of_week"],
        "window": {"days": 1, "start": DAYS[0].date().isoformat()},
        "labels": {"maturity_hours": 24, "min_labelled_rows": 100},
        "retraining": {"trainer": TRAINER, "params": {"C": 1.0}, "seed": 7, "holdout_share": 0.3,
                       "include_original_training": False, "extra_training_data": extra_training,
                       "min_labelled_rows": 500, "training_days": 14},
        "promotion": {"primary_metric": "accuracy", "min_improvement": 0.0, "bootstrap_samples": 300},
        "approval": "registry",
        "alert_channels": ["file"],
    }
    (world.config_dir / f"{MODEL}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def _traffic(model, rows: pd.DataFrame, day: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One day of the user's serving: predictions as their code logs them, and later outcomes."""
    times = day + pd.to_timedelta(np.arange(len(rows)) * (86_400 / len(rows)), unit="s")
    inputs = rows[[*NUMERIC, "day_of_week"]].reset_index(drop=True)
    score = model.predict_proba(inputs)[:, list(model.classes_).index(1)]
    ids = [f"{day:%Y%m%d}-{i:05d}" for i in range(len(rows))]
    predictions = inputs.assign(prediction_id=ids, event_time=times, model_version="1",
                                prediction=(score >= 0.5).astype(int), score=score,
                                latency_ms=12.5)
    labels = pd.DataFrame({"prediction_id": ids, "label": rows["class"].to_numpy(),
                           "label_time": times + pd.Timedelta(hours=6)})
    return predictions, labels


def test_a_users_own_model_is_monitored_retrained_by_their_code_and_promoted_after_approval(tmp_path, capsys):
    import mlflow
    import mlflow.sklearn

    world = World.create(tmp_path / "world")
    data = _user_data()
    train, reference = data.iloc[:6000], data.iloc[6000:8000]
    served = data.iloc[20_000:20_000 + len(DAYS) * ROWS_PER_DAY].reset_index(drop=True)
    train.to_parquet(tmp_path / "train.parquet", index=False)
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    _config(world, str(tmp_path / "train.parquet"))
    with world.active() as settings:
        # 1. the user's model, logged and registered the way anyone does with MLflow
        model = _user_model(train)
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)  # the user's own tracking server (a fresh
        mlflow.set_registry_uri(settings.mlflow_tracking_uri)  # process would need only the first line)
        mlflow.set_experiment(experiment_id=mlflow.create_experiment(
            "acme-training", artifact_location=(tmp_path / "acme-artifacts").as_uri()))
        with mlflow.start_run():
            mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL)

        # 2. driftpilot register: the baseline from the user's reference set, champion = their v1
        assert cli.main(["register", "--model", MODEL, "--model-uri", f"models:/{MODEL}/1",
                         "--reference", str(tmp_path / "reference.parquet"), "--champion"]) == 0
        registry = MlflowRegistry(settings)
        assert registry.alias_version(MODEL, CHAMPION) == "1"
        baseline = registry.load_baseline(MODEL, "1")
        assert set(baseline.metadata["holdout_metrics"]) >= {"accuracy", "roc_auc"}

        # 3. a week of traffic and (6 h later) labels, logged by the serving code
        for i, day in enumerate(DAYS):
            predictions, labels = _traffic(model, served.iloc[i * ROWS_PER_DAY:(i + 1) * ROWS_PER_DAY], day)
            assert log_predictions(settings.lake, MODEL, predictions, config=world.config_dir / f"{MODEL}.yaml").rows
            assert log_labels(settings.lake, MODEL, labels, source="outcome").rows == len(labels)

        # 4. each window monitored from the shell
        for day in DAYS:
            assert cli.main(["monitor", "--model", MODEL, "--window", f"{day:%Y-%m-%d}", "--no-alert"]) == 0
        ports = build_ports(settings)
        evidence = ports.store.window_evidence(MODEL)
        assert [w.evidence.window for w in evidence] == [f"{d:%Y-%m-%d}" for d in DAYS]
        assert all(w.model_version == "1" and w.evidence.rows == ROWS_PER_DAY for w in evidence)

        # 5. retrain now, with the user's trainer, on labels known a few days later
        as_of = "2026-03-12T00:00:00+00:00"  # as the README's step 5 gives it: the week's labels are known
        assert datetime.fromisoformat(as_of) > DAYS[-1] + timedelta(days=1, hours=24 + 6)
        capsys.readouterr()
        assert cli.main(["retrain", "--model", MODEL, "--reason", "a week of traffic", "--as-of", as_of]) == 0
        out = capsys.readouterr().out
        candidates = [v for v in registry.search_versions(MODEL, "driftpilot.trainer", TRAINER)]
        assert candidates == ["2"], out
        verdict = ports.store.gate_verdict(MODEL, "2")
        assert verdict is not None and verdict.passed, out
        assert verdict.champion_version == "1"  # the gate compared it with the user's own model

        # 6. a reviewer approves; the approval is acted on
        assert cli.main(["approve", "--model", MODEL, "--version", "2", "--note", "beats v1 on the same week",
                         "--by", "rita"]) == 0
        assert cli.main(["reconcile", "--model", MODEL]) == 0
        assert registry.alias_version(MODEL, CHAMPION) == "2"
        promoted = registry.load_model(MODEL, "2")
        assert getattr(promoted, "trained_by", None) == "acme_trainer"
        assert registry.version_tags(MODEL, "2")["driftpilot.trainer"] == TRAINER
        [move] = [m for m in ports.store.promotion_log(MODEL) if m.alias == CHAMPION and m.to_version == "2"]
        assert move.from_version == "1"
