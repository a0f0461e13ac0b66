"""The trainer plug-in (``retraining.trainer``) on fakes: resolution, what it gets, what it returns.

The real ``PluginTrainer`` (importing the trainers of ``tests/trainers/``) and the in-memory
``FakeRegistry``: every failure must leave the registry untouched (no run, no version).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import sklearn_training
from driftpilot.adapters.parquet_lake import write_parquet_atomic
from driftpilot.adapters.trainer_plugins import PluginTrainer, resolve
from driftpilot.domain.config import DEFAULT_TRAINER, ModelConfig
from driftpilot.domain.trainer_contract import BUILTIN_TRAINER, ORIGIN, build_training_data
from driftpilot.errors import ConfigError, InsufficientData, TrainerError
from driftpilot.ports import KEY_TAG
from driftpilot.usecases import retrain
from driftpilot.usecases.bootstrap import bootstrap_champion
from tests.fakes import local_settings, ports_with
from tests.fakes.registry import FakeRegistry
from tests.trainers import kinds
from tests.trainers.acme_trainer import TRAINED_BY, fit_model
from tests.unit.usecases.test_retrain_registry import _frame

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


def _with(config: ModelConfig, **recipe) -> ModelConfig:  # type: ignore[no-untyped-def]
    return dataclasses.replace(config, retraining=dataclasses.replace(config.retraining, **recipe))


@pytest.fixture()
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture()
def ports(tmp_path: Path, registry: FakeRegistry):  # type: ignore[no-untyped-def]
    return ports_with(local_settings(tmp_path), registry=registry, trainer=PluginTrainer())


@pytest.fixture(autouse=True)
def _forget_received() -> None:
    kinds.RECEIVED.clear()


def _request(key: str = "elec2_updown:2026-02-27:v1") -> retrain.RetrainRequest:
    return retrain.RetrainRequest(model="elec2_updown", reason="drift", window="2026-02-27", as_of=AS_OF,
                                  idempotency_key=key)


def _work_folder(ports, request, train: pd.DataFrame | None = None) -> Path:  # type: ignore[no-untyped-def]
    out = retrain.work_dir(ports.settings, request)
    write_parquet_atomic((_frame(400, 1) if train is None else train).assign(**{ORIGIN: "production"}),
                         out / "train.parquet")
    write_parquet_atomic(_frame(120, 2), out / "holdout.parquet")
    ports.files.write_json(out / "training_set.json", {"rows": 520})
    return out


def _nothing_logged(registry: FakeRegistry) -> None:
    assert registry.runs == {} and registry.versions == {} and registry.calls == []


# ------------------------------------------------------------------ resolution


def test_the_default_trainer_is_the_builtin_recipe_and_keeps_its_fingerprint(elec2_config) -> None:
    assert DEFAULT_TRAINER == BUILTIN_TRAINER == elec2_config.retraining.trainer
    fn = resolve(elec2_config)
    assert fn.func is sklearn_training.train_recipe and fn.keywords == {"estimator": "hist_gradient_boosting"}  # type: ignore[attr-defined]
    assert elec2_config.fingerprint == _with(elec2_config, trainer="sklearn").fingerprint
    assert _with(elec2_config, trainer="tests.trainers.acme_trainer:fit_model").fingerprint != elec2_config.fingerprint


def test_a_module_callable_path_is_imported(elec2_config) -> None:
    assert resolve(_with(elec2_config, trainer="tests.trainers.acme_trainer:fit_model")) is fit_model
    assert resolve(_with(elec2_config, trainer="tests.trainers.kinds:DuckModel.predict")) is kinds.DuckModel.predict


def _dist(folder: Path, entry_points: str) -> Path:
    info = folder / "acme_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    return folder


def test_an_entry_point_name_is_looked_up_in_the_driftpilot_trainers_group(elec2_config, tmp_path: Path) -> None:
    path = [str(_dist(tmp_path / "site", "[driftpilot.trainers]\nacme = tests.trainers.acme_trainer:fit_model\n"
                      "broken = tests.trainers.nowhere:fit\n[other.group]\nelse = tests.trainers.kinds:duck\n"))]
    assert resolve(_with(elec2_config, trainer="acme"), path) is fit_model
    with pytest.raises(ConfigError, match=r"`retraining.trainer: else` is no entry point of the `driftpilot.trainers` "
                                          r"group \(known: acme, broken\)"):
        resolve(_with(elec2_config, trainer="else"), path)
    with pytest.raises(ConfigError, match=r"elec2\.yaml: `retraining.trainer: broken`: the entry point "
                                          r"'tests.trainers.nowhere:fit' does not load \(ModuleNotFoundError"):
        resolve(_with(elec2_config, trainer="broken"), path)


@pytest.mark.parametrize(("trainer", "message"), [
    ("acme_missing.train:fit_model", r"cannot import module 'acme_missing.train' \(ModuleNotFoundError.*install the package"),
    ("tests.trainers.acme_trainer:fit", r"module 'tests.trainers.acme_trainer' has no attribute 'fit'"),
    ("tests.trainers.kinds:NOT_CALLABLE", r"is a int, not a callable"),
])
def test_a_trainer_that_does_not_import_is_a_config_error_naming_the_key(elec2_config, ports, registry, trainer,
                                                                         message) -> None:
    config = _with(elec2_config, trainer=trainer)
    with pytest.raises(ConfigError, match=rf"elec2\.yaml: `retraining.trainer: {trainer}`.*{message}"):
        retrain.check_config(config, ports)  # what `driftpilot check-config` runs
    _work_folder(ports, _request())
    with pytest.raises(ConfigError, match=message):
        retrain.train_candidate_step(config, ports, _request())
    _nothing_logged(registry)


def test_an_unknown_builtin_estimator_is_caught_by_check_config_not_at_load(elec2_config, ports) -> None:
    config = _with(elec2_config, estimator="xgboost")  # loading accepts any name: the adapter owns the list
    with pytest.raises(ConfigError, match=r"elec2\.yaml: `retraining.estimator` must be one of "
                                          r"hist_gradient_boosting, logistic_regression, random_forest; got 'xgboost'"):
        retrain.check_config(config, ports)
    assert tuple(sklearn_training.ESTIMATORS) == ("hist_gradient_boosting", "logistic_regression", "random_forest")
    retrain.check_config(elec2_config, ports)  # the shipped config passes


# ------------------------------------------------------------------ what the trainer gets


def test_the_trainer_gets_a_frozen_self_describing_training_data(elec2_config, ports, registry) -> None:
    config = _with(elec2_config, trainer="tests.trainers.kinds:recording", params={"C": 0.5})
    out = _work_folder(ports, _request())
    result = retrain.train_candidate_step(config, ports, _request())
    (data,) = kinds.RECEIVED
    assert (data.model_name, data.purpose, data.task, data.target) == ("elec2_updown", "retrain", "binary", "class")
    assert data.numeric_features == config.features.numeric and data.categorical_features == ("day_of_week",)
    assert data.features == config.features.all and data.seed == 42 and data.classes == (0, 1)
    assert data.positive_label == 1 and dict(data.params) == {"C": 0.5}
    with pytest.raises(TypeError):
        data.params["C"] = 2  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.seed = 1  # type: ignore[misc]
    # The trainer emptied its copies (kinds.recording); driftpilot's holdout and metrics are untouched.
    holdout = pd.read_parquet(out / "holdout.parquet")
    assert result["holdout_metrics"]["n"] == len(holdout) == 120
    assert 0.6 < result["holdout_metrics"]["accuracy"] <= 1.0
    assert list(data.X.columns) == list(config.features.all)


def test_the_training_set_handed_over_holds_original_extra_and_production_rows(elec2_config, tmp_path) -> None:
    """training_set_step: the original set, the extra data, then matured production rows; holdout apart."""
    from tests.unit.usecases.lake_world import labelled_world

    extra = _frame(80, 9)
    extra_path = tmp_path / "extra" / "more.parquet"
    extra_path.parent.mkdir()
    extra.to_parquet(extra_path)
    config = dataclasses.replace(_with(elec2_config, trainer="tests.trainers.kinds:recording",
                                       extra_training_data=str(extra_path), min_labelled_rows=100), classes=(0, 1))
    ports, original = labelled_world(config, tmp_path, days=6, rows_per_day=50)
    summary = retrain.training_set_step(config, ports, _request())
    assert (summary["original_rows"], summary["extra_rows"]) == (len(original), 80)
    assert summary["extra_training_data"]["path"] == str(extra_path)
    assert summary["extra_training_data"]["digest"].startswith("sha256:")
    retrain.train_candidate_step(config, ports, _request())
    (data,) = kinds.RECEIVED
    assert len(data.train) == 0  # kinds.recording emptied its copy; the work file below is intact
    train = pd.read_parquet(Path(summary["work_dir"]) / "train.parquet")
    assert list(dict.fromkeys(train[ORIGIN])) == ["original", "extra", "production"]
    assert (train[ORIGIN] == "production").sum() == summary["production_rows"] > 0
    assert summary["holdout_rows"] == len(data.holdout) > 0
    assert data.holdout["event_time"].min() >= pd.Timestamp(summary["production_from"])
    assert set(data.holdout.columns) == {*config.features.all, config.target, "event_time"}


# ------------------------------------------------------------------ what the trainer returns


def test_a_scikit_learn_model_of_the_users_code_is_logged_and_tagged(elec2_config, ports, registry) -> None:
    config = _with(elec2_config, trainer="tests.trainers.acme_trainer:fit_model")
    _work_folder(ports, _request())
    result = retrain.train_candidate_step(config, ports, _request())
    run = registry.runs[result["run_id"]]
    assert getattr(run.model, "trained_by", None) == TRAINED_BY
    assert run.tags["driftpilot.trainer"] == "tests.trainers.acme_trainer:fit_model"
    assert run.tags[KEY_TAG] == f"candidate:{_request().idempotency_key}"
    assert run.baseline is not None and run.baseline[2]["trainer"] == "tests.trainers.acme_trainer:fit_model"
    assert run.baseline[2]["classes"] == ["0", "1"]


def test_the_builtin_recipe_is_one_trainer_among_others(elec2_config, ports, registry) -> None:
    _work_folder(ports, _request())
    result = retrain.train_candidate_step(elec2_config, ports, _request())
    run = registry.runs[result["run_id"]]
    assert type(run.model).__name__ == "Pipeline" and not hasattr(run.model, "trained_by")
    assert run.tags["driftpilot.trainer"] == "sklearn"
    expected = sklearn_training.fit(elec2_config, pd.read_parquet(retrain.work_dir(ports.settings, _request())
                                                                  / "train.parquet"))
    holdout = _frame(120, 2)
    np.testing.assert_allclose(run.model.predict_proba(sklearn_training.feature_frame(elec2_config, holdout)),
                               expected.predict_proba(sklearn_training.feature_frame(elec2_config, holdout)))


def test_a_model_uri_the_trainer_logged_itself_is_scored_through_the_registry(elec2_config, ports, registry) -> None:
    config = _with(elec2_config, trainer="tests.trainers.kinds:logs_its_own_model")
    user_model = fit_model(build_training_data(config, "retrain", _frame(300, 5), _frame(10, 6)))
    registry.publish(kinds.USER_MODEL_URI, user_model)
    _work_folder(ports, _request())
    result = retrain.train_candidate_step(config, ports, _request())
    run = registry.runs[result["run_id"]]
    assert run.model.uri == kinds.USER_MODEL_URI  # registered as is, not copied
    assert registry.load_run_model(result["run_id"]) is user_model
    assert run.baseline is not None and run.baseline[2]["model_uri"] == kinds.USER_MODEL_URI
    assert result["holdout_metrics"]["accuracy"] > 0.6


def test_any_object_with_predict_and_predict_proba_is_logged(elec2_config, ports, registry) -> None:
    config = _with(elec2_config, trainer="tests.trainers.kinds:duck")
    _work_folder(ports, _request())
    result = retrain.train_candidate_step(config, ports, _request())
    assert isinstance(registry.runs[result["run_id"]].model, kinds.DuckModel)


def test_any_object_with_predict_and_predict_proba_passes_the_checks(elec2_config, ports, registry) -> None:
    from driftpilot.usecases.training import train_model

    config = _with(elec2_config, trainer="tests.trainers.kinds:duck")
    holdout = _frame(120, 2)
    trained = train_model(config, ports, build_training_data(config, "retrain", _frame(400, 1), holdout))
    assert isinstance(trained.model, kinds.DuckModel) and trained.scorer is trained.model
    assert trained.scored_holdout.index.equals(holdout.index)
    assert set(trained.scored_holdout.columns) == {"prediction", "score"}
    _nothing_logged(registry)


@pytest.mark.parametrize(("trainer", "message"), [
    ("raises", r"`retraining.trainer: tests.trainers.kinds:raises` raised RuntimeError: out of memory while fitting"),
    ("no_predict", r"returned a _NoPredict without a `predict` method"),
    ("predict_only", r"returned a _PredictOnly without `predict_proba`; a binary model must give class probabilities"),
    ("returns_none", r"returned None instead of a model"),
    ("returns_a_string", r"returned the string 'runs:/user-run-1/model'; .*ModelUri\(uri\)"),
    ("cannot_score", r"cannot score the holdout \(ValueError: feature names seen at fit time differ\)"),
    ("logs_nowhere", r"returned ModelUri\('runs:/no-such-run/model'\), which does not load \(ConfigError: model URI 'runs:/no-such-run/model' does not load"),
])
def test_a_trainer_that_fails_or_returns_no_usable_model_logs_nothing(elec2_config, ports, registry, trainer,
                                                                     message) -> None:
    config = _with(elec2_config, trainer=f"tests.trainers.kinds:{trainer}")
    _work_folder(ports, _request())
    with pytest.raises(TrainerError, match=message) as info:
        retrain.train_candidate_step(config, ports, _request())
    assert f"tests.trainers.kinds:{trainer}" in str(info.value) and "elec2.yaml" in str(info.value)
    assert isinstance(info.value, ConfigError)  # fails the task at once: a retry would train again to fail
    if trainer == "raises":
        assert isinstance(info.value.__cause__, RuntimeError)
    _nothing_logged(registry)
    assert ports.store.retrain_requests(config.name) == []  # the request did not become `ran`


def test_training_rows_without_a_label_never_reach_a_trainer(elec2_config) -> None:
    train = _frame(50, 1)
    train.loc[3, "class"] = np.nan
    with pytest.raises(InsufficientData, match="1 training rows have no label"):
        build_training_data(elec2_config, "retrain", train, _frame(10, 2))
    with pytest.raises(InsufficientData, match="single class"):
        build_training_data(elec2_config, "retrain", _frame(50, 1).assign(**{"class": 1}), _frame(10, 2))


# ------------------------------------------------------------------ bootstrap


def test_bootstrap_trains_the_first_champion_with_the_configured_trainer(elec2_config, ports, registry) -> None:
    config = _with(elec2_config, trainer="tests.trainers.kinds:recording")
    result = bootstrap_champion(config, ports, _frame(300, 4))
    (data,) = kinds.RECEIVED
    assert data.purpose == "bootstrap" and len(data.holdout) == 60 and set(kinds.RECEIVED[0].classes) == {0, 1}
    run = registry.runs[registry.versions[config.name][result.version].run_id]
    assert getattr(run.model, "trained_by", None) == TRAINED_BY
    assert run.tags["driftpilot.trainer"] == "tests.trainers.kinds:recording"
    assert registry.alias_version(config.name, "champion") == result.version


def test_bootstrap_with_a_failing_trainer_registers_nothing(elec2_config, ports, registry) -> None:
    from driftpilot.domain.training_data import original_training_key

    config = _with(elec2_config, trainer="tests.trainers.kinds:predict_only")
    with pytest.raises(TrainerError, match="without `predict_proba`"):
        bootstrap_champion(config, ports, _frame(300, 4))
    _nothing_logged(registry)
    assert not ports.lake.exists(original_training_key(config.name))


# ------------------------------------------------------------------ check-config


def test_check_config_reads_the_extra_training_data_and_the_holdout_size(elec2_config, ports, tmp_path) -> None:
    missing = _with(elec2_config, extra_training_data=str(tmp_path / "nope.parquet"))
    with pytest.raises(ConfigError, match=r"elec2\.yaml: `retraining.extra_training_data` names .*nope\.parquet, "
                                          r"which does not exist"):
        retrain.check_config(missing, ports)
    path = tmp_path / "more.parquet"
    _frame(80, 3).drop(columns=["vicprice"]).to_parquet(path)
    with pytest.raises(Exception, match=r"more\.parquet \(retraining.extra_training_data\): training data has no "
                                        r"column\(s\) \['vicprice'\]"):
        retrain.check_config(_with(elec2_config, extra_training_data=str(path)), ports)
    _frame(80, 3).to_parquet(path)
    retrain.check_config(_with(elec2_config, extra_training_data=str(path)), ports)
    tiny = _with(elec2_config, min_labelled_rows=100, holdout_share=0.1)
    with pytest.raises(ConfigError, match=r"`retraining.min_labelled_rows` \(100\) with `retraining.holdout_share` "
                                          r"\(0.1\) lets a candidate be judged on 10 holdout row\(s\); the gate needs"):
        retrain.check_config(tiny, ports)


def test_the_cli_check_config_imports_the_trainer(tmp_path: Path, capsys) -> None:
    import yaml

    from driftpilot.cli import main

    root = Path(__file__).resolve().parents[3]
    raw = yaml.safe_load((root / "include" / "config" / "elec2.yaml").read_text())
    raw["retraining"].pop("estimator")
    raw["retraining"]["trainer"] = "acme_missing:fit_model"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["check-config", str(bad)]) == 2
    assert "bad.yaml: `retraining.trainer: acme_missing:fit_model`: cannot import module" in capsys.readouterr().err
    raw["retraining"]["trainer"] = "tests.trainers.acme_trainer:fit_model"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["check-config", str(bad)]) == 0


def test_a_regressor_that_leaves_predictions_missing_is_refused(elec2_config, ports, registry) -> None:
    from driftpilot.domain.config import TaskType

    config = dataclasses.replace(_with(elec2_config, trainer="tests.trainers.kinds:gappy_regressor"),
                                 task=TaskType.REGRESSION)
    _work_folder(ports, _request())
    with pytest.raises(TrainerError, match=r"left 18 of 120 holdout rows without a prediction; driftpilot never "
                                           r"fills predictions in"):
        retrain.train_candidate_step(config, ports, _request())
    _nothing_logged(registry)


def test_an_entry_point_that_no_installed_package_declares_is_named(elec2_config) -> None:
    with pytest.raises(ConfigError, match=r"`retraining.trainer: surely-not-installed` is no entry point of the "
                                          r"`driftpilot.trainers` group .*write `package.module:callable`"):
        resolve(_with(elec2_config, trainer="surely-not-installed"))


def test_extra_training_data_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    import yaml

    from driftpilot.domain.config import parse_config

    root = Path(__file__).resolve().parents[3]
    raw = yaml.safe_load((root / "include" / "config" / "elec2.yaml").read_text())
    raw["retraining"]["extra_training_data"] = "data/more.parquet"
    assert parse_config(raw, str(tmp_path / "elec2.yaml")).retraining.extra_training_data == \
        str(tmp_path / "data" / "more.parquet")
    raw["retraining"]["extra_training_data"] = "file:///srv/more.parquet"
    assert parse_config(raw, str(tmp_path / "elec2.yaml")).retraining.extra_training_data == "/srv/more.parquet"
    assert parse_config(raw, str(tmp_path / "elec2.yaml")).retraining.trainer == "sklearn"


def test_the_readme_retraining_block_is_a_valid_config(tmp_path: Path) -> None:
    """The YAML of README's "Retrain with your own code", in the shipped elec2 config, loads as written."""
    import yaml

    from driftpilot.domain.config import parse_config

    root = Path(__file__).resolve().parents[3]
    text = (root / "README.md").read_text().split("## Retrain with your own code", 1)[1]
    block = yaml.safe_load(text.split("```yaml", 1)[1].split("```", 1)[0])
    raw = yaml.safe_load((root / "include" / "config" / "elec2.yaml").read_text())
    raw["retraining"].pop("estimator")
    raw["retraining"].update(block["retraining"])
    recipe = parse_config(raw, str(tmp_path / "elec2.yaml")).retraining
    assert (recipe.trainer, dict(recipe.params)) == ("my_pkg.train:fit_model", {"C": 0.5})
    assert recipe.extra_training_data == "/data/curated_2025.parquet" and not recipe.builtin
