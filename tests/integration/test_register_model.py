"""Register a model trained outside driftpilot, on a real SQLite MLflow registry of its own.

The template world holds what a user brings: a scikit-learn pipeline trained in this file with
plain scikit-learn and registered with plain ``mlflow.sklearn.log_model(registered_model_name=...)``
(version 1 of ``elec2_updown``), a hand-written model object (``predict`` / ``predict_proba``)
logged through driftpilot's ``mlflow_models.log_model``, and a pyfunc saved to a folder. Each test
registers from a fresh copy of that world (its own copy of the MLflow database).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from driftpilot.adapters import mlflow_models
from driftpilot.adapters import sklearn_training as training
from driftpilot.adapters.mlflow_registry import MlflowRegistry
from driftpilot.cli import main as cli
from driftpilot.composition import build_ports
from driftpilot.errors import ConfigError, SchemaViolation
from driftpilot.ports import BASELINE_RUN_TAG, CHAMPION
from driftpilot.usecases.register import baseline_experiment, register_model
from tests.isolation import World

pytestmark = pytest.mark.integration

MODEL = "elec2_updown"
NUMERIC = ["period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


class HandWrittenModel:
    """A user's model that is not a scikit-learn estimator: a logistic curve on the price."""

    def __init__(self, centre: float) -> None:
        self.centre = centre
        self.classes_ = np.array([0, 1])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(frame["nswprice"].to_numpy(dtype=float) - self.centre) * 40))
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(frame)[:, 1] >= 0.5).astype(int)


class UserPyfunc(mlflow.pyfunc.PythonModel):
    """A user's own pyfunc: one probability column per class, named by the class (or not)."""

    def __init__(self, centre: float, named: bool = True) -> None:
        self.centre, self.named = centre, named

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        p = 1.0 / (1.0 + np.exp(-(model_input["nswprice"].to_numpy(dtype=float) - self.centre) * 40))
        scores = np.column_stack([1 - p, p])
        return pd.DataFrame(scores, columns=["0", "1"]) if self.named else scores


class RegressionPyfunc(mlflow.pyfunc.PythonModel):
    """Outputs one number per row: not the scores a binary task needs."""

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return model_input["nswprice"].to_numpy(dtype=float) * 10


def _user_pipeline(train: pd.DataFrame):  # type: ignore[no-untyped-def]
    """What a user trains: plain scikit-learn, nothing of driftpilot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["day_of_week"])])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))]).fit(
        train[[*NUMERIC, "day_of_week"]], train["class"].astype(int))


@pytest.fixture(scope="module")
def template(tmp_path_factory, elec2_config, elec2_demo):  # type: ignore[no-untyped-def]
    from driftpilot_demo import datasets

    world = World.create(tmp_path_factory.mktemp("register"))
    period = datasets.training_period(elec2_demo, datasets.load_source(elec2_config, elec2_demo,
                                                                       seed=elec2_demo.replay.seed))
    cut = int(len(period) * 0.8)
    train, holdout = period.iloc[:cut], period.iloc[cut:].reset_index(drop=True)
    files = world.base / "user"
    files.mkdir()
    holdout.to_parquet(files / "holdout.parquet")
    centre = float(train["nswprice"].median())
    with world.active() as settings:
        # the user's side: their tracking server, their experiment, their model
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
        mlflow.set_registry_uri(settings.mlflow_tracking_uri)
        client = MlflowClient(settings.mlflow_tracking_uri)
        experiment = client.create_experiment("user-training", artifact_location=(world.base / "user-art").as_uri())
        pipeline = _user_pipeline(train)
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_param("C", 1.0)
            mlflow.sklearn.log_model(pipeline, name="model", input_example=train[[*NUMERIC, "day_of_week"]].head(3),
                                     registered_model_name=MODEL)
        with mlflow.start_run(experiment_id=experiment) as other:
            object_uri = mlflow_models.log_model(HandWrittenModel(centre), train[list(elec2_config.features.all)].head(3))
        mlflow.pyfunc.save_model(str(files / "pyfunc"), python_model=UserPyfunc(centre))
        mlflow.pyfunc.save_model(str(files / "pyfunc-unnamed"), python_model=UserPyfunc(centre, named=False))
        mlflow.pyfunc.save_model(str(files / "regression"), python_model=RegressionPyfunc())
    return {"world": world, "user_run": run.info.run_id, "object_run": other.info.run_id, "object_uri": object_uri,
            "pipeline": pipeline, "holdout": holdout, "files": files}


@pytest.fixture
def world(template, tmp_path):  # type: ignore[no-untyped-def]
    copy = template["world"].copy(tmp_path / "world")
    with copy.active() as settings:
        yield {**template, "settings": settings, "ports": build_ports(settings)}


def _state(settings) -> tuple:  # type: ignore[no-untyped-def]
    """Everything a registration may write: versions with their tags, baseline runs, aliases."""
    client = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    versions = sorted((v.version, tuple(sorted((v.tags or {}).items())))
                      for v in client.search_model_versions(f"name='{MODEL}'"))
    experiment = client.get_experiment_by_name(f"driftpilot/{MODEL}/baselines")
    runs = [] if experiment is None else sorted(r.info.run_id for r in client.search_runs([experiment.experiment_id]))
    return versions, runs, dict(client.get_registered_model(MODEL).aliases)


def _user_run(settings, run_id: str) -> tuple:  # type: ignore[no-untyped-def]
    client = MlflowClient(settings.mlflow_tracking_uri)
    run = client.get_run(run_id)
    return dict(run.data.tags), dict(run.data.params), dict(run.data.metrics), sorted(
        a.path for a in client.list_artifacts(run_id))


def test_the_users_registered_version_becomes_the_monitored_one(world, elec2_config) -> None:
    settings, ports = world["settings"], world["ports"]
    holdout = world["holdout"]
    user_run_before = _user_run(settings, world["user_run"])

    result = register_model(elec2_config, ports, f"models:/{MODEL}/1", world["files"] / "holdout.parquet")

    assert (result.version, result.created, result.baseline_reused) == ("1", False, False)
    assert result.champion is None  # not asked
    registry = MlflowRegistry(settings)
    assert registry.version_tags(MODEL, "1")[BASELINE_RUN_TAG] == result.baseline_run
    assert registry.alias_version(MODEL, CHAMPION) is None
    # the user's run is exactly as it was: the baseline lives in driftpilot's own run
    assert _user_run(settings, world["user_run"]) == user_run_before
    baseline_run = MlflowClient(settings.mlflow_tracking_uri).get_run(result.baseline_run)
    assert baseline_run.info.experiment_id == MlflowClient(settings.mlflow_tracking_uri).get_experiment_by_name(
        baseline_experiment(elec2_config)).experiment_id

    baseline = registry.load_baseline(MODEL, "1")
    expected_score = world["pipeline"].predict_proba(holdout[[*NUMERIC, "day_of_week"]])[:, 1]
    expected_accuracy = float(((expected_score >= 0.5).astype(int) == holdout["class"].astype(int)).mean())
    assert baseline.metadata["holdout_metrics"]["accuracy"] == pytest.approx(expected_accuracy)
    assert result.metrics["accuracy"] == pytest.approx(expected_accuracy)
    assert {"score", "prediction", "class", *elec2_config.features.all} <= set(baseline.reference.columns)
    assert baseline.metadata["classes"] == ["0", "1"]
    assert baseline.metadata["model_uri"] == f"models:/{MODEL}/1"
    importance = baseline.metadata["feature_importance"]
    assert set(importance) == set(elec2_config.features.all)
    assert importance["vicprice"] == 0.0  # constant in this period: the model cannot use it
    assert max(importance, key=importance.get) == "nswprice"
    assert set(result.scored_columns) == {"score", "prediction"}

    # the gate's champion: load_model gives something the trainer scores like the user's pipeline
    model = registry.load_model(MODEL, "1")
    scored = training.predict(elec2_config, model, holdout)
    np.testing.assert_allclose(scored["score"].to_numpy(), expected_score)


def test_registering_again_writes_nothing_new(world, elec2_config) -> None:
    settings, ports = world["settings"], world["ports"]
    first = register_model(elec2_config, ports, f"models:/{MODEL}/1", world["files"] / "holdout.parquet")
    state = _state(settings)
    again = register_model(elec2_config, build_ports(settings), f"models:/{MODEL}/1",
                           world["files"] / "holdout.parquet")
    assert again.baseline_run == first.baseline_run and again.baseline_reused
    assert _state(settings) == state
    assert len(state[1]) == 1  # one baseline run


def test_champion_is_set_only_when_asked_and_logged(world, elec2_config) -> None:
    settings, ports = world["settings"], world["ports"]
    register_model(elec2_config, ports, f"models:/{MODEL}/1", world["files"] / "holdout.parquet")
    assert MlflowRegistry(settings).alias_version(MODEL, CHAMPION) is None
    code = cli(["register", "--model", MODEL, "--model-uri", f"models:/{MODEL}/1",
                "--reference", str(world["files"] / "holdout.parquet"), "--champion", "--by", "ana"])
    assert code == 0
    assert MlflowRegistry(settings).alias_version(MODEL, CHAMPION) == "1"
    log = ports.store.promotion_log(MODEL)
    assert [(m.alias, m.from_version, m.to_version, m.by) for m in log] == [(CHAMPION, None, "1", "ana")]
    assert len(_state(settings)[1]) == 1  # the CLI reused the baseline run


def test_a_hand_written_model_logged_by_driftpilot_is_registered_and_unwrapped(world, elec2_config) -> None:
    settings, ports = world["settings"], world["ports"]
    result = register_model(elec2_config, ports, world["object_uri"], world["files"] / "holdout.parquet",
                            champion=True)
    assert (result.version, result.created, result.champion) == ("2", True, "2")
    registry = MlflowRegistry(settings)
    model = registry.load_model(MODEL, "2")
    assert isinstance(model, HandWrittenModel)  # driftpilot's pyfunc wrapper is unwrapped
    baseline = registry.load_baseline(MODEL, "2")
    np.testing.assert_allclose(baseline.reference["score"].to_numpy(),
                               training.predict(elec2_config, model, baseline.reference)["score"].to_numpy())
    assert baseline.metadata["feature_importance"]["nswprice"] > 0
    assert {k: v for k, v in baseline.metadata["feature_importance"].items() if k != "nswprice"} == {
        c: 0.0 for c in elec2_config.features.all if c != "nswprice"}  # it reads the price only
    # the object's own run is untouched; the version points at driftpilot's baseline run
    assert "baseline" not in _user_run(settings, world["object_run"])[3]
    again = register_model(elec2_config, build_ports(settings), world["object_uri"],
                           world["files"] / "holdout.parquet")
    assert (again.version, again.created, again.baseline_run) == ("2", False, result.baseline_run)


def test_a_pyfunc_folder_is_copied_registered_and_scored_through_pyfunc(world, elec2_config, tmp_path) -> None:
    settings, ports = world["settings"], world["ports"]
    folder = tmp_path / "my-model"
    shutil.copytree(world["files"] / "pyfunc", folder)
    result = register_model(elec2_config, ports, str(folder), world["files"] / "holdout.parquet")
    assert result.created and result.champion is None
    shutil.rmtree(folder)  # the version does not depend on the user's folder
    model = MlflowRegistry(settings).load_model(MODEL, result.version)
    assert isinstance(model, mlflow_models.PyfuncModel)
    scored = training.predict(elec2_config, model, world["holdout"])
    assert [str(c) for c in model.classes_] == ["0", "1"]
    baseline = MlflowRegistry(settings).load_baseline(MODEL, result.version)
    np.testing.assert_allclose(scored["score"].to_numpy(), baseline.reference["score"].to_numpy())
    assert max(baseline.metadata["feature_importance"], key=baseline.metadata["feature_importance"].get) == "nswprice"


def test_a_model_retrained_into_the_same_folder_is_a_new_version(world, elec2_config, tmp_path) -> None:
    """The same path with another model in it: not "reused" (the old copy), a version of its own."""
    ports = world["ports"]
    folder = tmp_path / "my-model"
    shutil.copytree(world["files"] / "pyfunc", folder)
    first = register_model(elec2_config, ports, str(folder), world["files"] / "holdout.parquet")
    again = register_model(elec2_config, ports, str(folder), world["files"] / "holdout.parquet")
    assert again.version == first.version and again.baseline_reused
    shutil.rmtree(folder)
    mlflow.pyfunc.save_model(str(folder), python_model=UserPyfunc(0.9))  # the user re-trained into ./my-model
    other = register_model(elec2_config, ports, str(folder), world["files"] / "holdout.parquet")
    assert other.created and other.version != first.version and not other.baseline_reused


def test_outputs_in_the_reference_file_are_used_as_given(world, elec2_config, tmp_path) -> None:
    settings, ports = world["settings"], world["ports"]
    holdout = world["holdout"].copy()
    # what the user's serving system logged for these rows (here: a coarser copy of the model's scores)
    holdout["score"] = np.round(world["pipeline"].predict_proba(holdout[[*NUMERIC, "day_of_week"]])[:, 1], 1)
    holdout["prediction"] = (holdout["score"] >= 0.5).astype(int)
    path = tmp_path / "scored.parquet"
    holdout.to_parquet(path)
    result = register_model(elec2_config, ports, f"models:/{MODEL}/1", path)
    assert result.scored_columns == ()
    baseline = MlflowRegistry(settings).load_baseline(MODEL, "1")
    assert set(baseline.reference["score"].round(1)) == set(baseline.reference["score"])  # the given values


# ------------------------------------------------------------------------------------ bad input


def _bad_reference(world, tmp_path, drop: str) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / f"without-{drop}.parquet"
    world["holdout"].drop(columns=[drop]).to_parquet(path)
    return path


@pytest.mark.parametrize(("uri", "reference", "error", "words"), [
    (f"models:/{MODEL}/1", "without:nswdemand", SchemaViolation, ["nswdemand", "without-nswdemand.parquet"]),
    (f"models:/{MODEL}/1", "without:class", SchemaViolation, ["'class'", "without-class.parquet"]),
    (f"models:/{MODEL}/1", "missing", ConfigError, ["does not exist", "nothing.parquet"]),
    ("runs:/0123456789abcdef/model", "holdout", ConfigError, ["runs:/0123456789abcdef/model", "does not load"]),
    ("/nowhere/model", "holdout", ConfigError, ["/nowhere/model", "MLFLOW_TRACKING_URI"]),
    (f"models:/{MODEL}/9", "holdout", ConfigError, ["no version '9'", "MLFLOW_TRACKING_URI"]),
    (f"models:/{MODEL}@gold", "holdout", ConfigError, ["no alias 'gold'"]),
    ("models:/someone_else/1", "holdout", ConfigError, ["someone_else", "`name: someone_else`"]),
    ("files:regression", "holdout", SchemaViolation, ["not one score per class", "binary"]),
    ("files:pyfunc-unnamed", "holdout", ConfigError, ["classes_", "`classes"]),
])
def test_bad_input_is_refused_with_nothing_registered(world, elec2_config, tmp_path, uri, reference, error,
                                                      words) -> None:
    settings, ports = world["settings"], world["ports"]
    if uri.startswith("files:"):
        uri = str(world["files"] / uri.removeprefix("files:"))
    if reference.startswith("without:"):
        path = _bad_reference(world, tmp_path, reference.removeprefix("without:"))
    elif reference == "missing":
        path = tmp_path / "nothing.parquet"
    else:
        path = world["files"] / "holdout.parquet"
    before = _state(settings)
    with pytest.raises(error) as raised:
        register_model(elec2_config, ports, uri, path, champion=True)
    for word in words:
        assert word in str(raised.value)
    assert _state(settings) == before


def test_the_cli_prints_a_one_line_error_and_registers_nothing(world, tmp_path, capsys) -> None:
    before = _state(world["settings"])
    code = cli(["register", "--model", MODEL, "--model-uri", f"models:/{MODEL}/7",
                "--reference", str(world["files"] / "holdout.parquet")])
    assert code == 2
    assert "no version '7'" in capsys.readouterr().err
    assert _state(world["settings"]) == before


def test_an_object_without_predict_is_refused_before_anything_is_logged(world) -> None:
    with pytest.raises(ConfigError, match="no `predict`"):
        mlflow_models.log_model(object(), None)


def test_a_config_with_classes_scores_a_model_without_classes(world, elec2_config, tmp_path) -> None:
    """An unnamed score matrix is read in the order of the config's `classes`."""
    import dataclasses

    config = dataclasses.replace(elec2_config, classes=(0, 1))
    model = MlflowRegistry(world["settings"]).load_model_uri(str(world["files"] / "pyfunc-unnamed"))
    scored = training.predict(config, model, world["holdout"])
    named = MlflowRegistry(world["settings"]).load_model_uri(str(world["files"] / "pyfunc"))
    np.testing.assert_allclose(scored["score"].to_numpy(), training.predict(config, named, world["holdout"])["score"])


def test_a_model_uri_run_is_registered_as_is_not_copied(world, elec2_config) -> None:
    """What a trainer plug-in returns when it logged its model itself: ``log_model_run`` records the
    URI (no second copy of the model), ``register_run`` registers it, ``load_model`` loads it."""
    from driftpilot.ports import ModelRun, ModelUri

    settings = world["settings"]
    registry = MlflowRegistry(settings)
    uri = f"runs:/{world['user_run']}/model"
    run_id = registry.log_model_run(ModelRun(
        experiment=f"driftpilot/{MODEL}/training", model=ModelUri(uri), input_example=world["holdout"].head(3),
        params={}, metrics={}, baseline_dir=None, idempotency_key="trainer:test", run_name="by-uri", tags={}))
    assert registry.run_model_uri(run_id) == uri
    assert "model" not in _user_run(settings, run_id)[3]  # nothing logged under the driftpilot run
    version = registry.register_run(MODEL, run_id, "trainer:test", {})
    assert version.created
    model = registry.load_model(MODEL, version.version)
    np.testing.assert_allclose(model.predict_proba(world["holdout"][[*NUMERIC, "day_of_week"]]),
                               world["pipeline"].predict_proba(world["holdout"][[*NUMERIC, "day_of_week"]]))
