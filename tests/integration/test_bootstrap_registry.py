"""Train, register and load the champion through a real SQLite MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters import sklearn_training as training
from driftpilot.composition import build_ports
from driftpilot.domain.training_data import original_training_key, training_data_digest
from driftpilot.usecases.bootstrap import bootstrap_champion
from driftpilot_demo import datasets
from tests.bundled import bootstrap_from_bundled

pytestmark = pytest.mark.integration


def test_bootstrap_registers_a_champion_with_its_baseline(elec2_config, shared_settings, elec2_champion) -> None:
    client = registry.MlflowRegistry(shared_settings)
    assert client.alias_version(elec2_config.name, registry.CHAMPION) == elec2_champion.version
    assert elec2_champion.metrics["accuracy"] > 0.7  # a real model, better than the 57 % majority class

    baseline = registry.MlflowRegistry(shared_settings).champion_baseline(elec2_config.name)
    assert baseline.version == elec2_champion.version
    assert set(elec2_config.features.all) <= set(baseline.reference.columns)
    assert {"score", "prediction", "class"} <= set(baseline.reference.columns)
    assert set(baseline.profile["columns"]) == set(elec2_config.features.all)
    assert "score" in baseline.profile["predictions"]
    assert baseline.metadata["holdout_metrics"]["accuracy"] == pytest.approx(elec2_champion.metrics["accuracy"])
    # no leakage: the reference comes from the training period, before the replay
    assert baseline.reference["vicprice"].nunique() == 1
    importance = baseline.metadata["feature_importance"]
    assert set(importance) == set(elec2_config.features.all)
    # constant in training, so the model cannot use it; the price itself matters most
    assert importance["vicprice"] == 0.0
    assert max(importance, key=importance.get) == "nswprice"


def test_champion_loads_by_alias_and_scores_like_at_training(elec2_config, shared_settings, elec2_champion) -> None:
    model = registry.MlflowRegistry(shared_settings).load_model(elec2_config.name, elec2_champion.version)
    baseline = registry.MlflowRegistry(shared_settings).load_baseline(elec2_config.name, elec2_champion.version)
    rescored = training.predict(elec2_config, model, baseline.reference)
    pd.testing.assert_series_equal(rescored["score"], baseline.reference["score"], check_names=False)


def test_second_bootstrap_reuses_the_version(elec2_config, shared_settings, elec2_champion) -> None:
    client = registry.MlflowRegistry(shared_settings)
    before = len(client.client.search_model_versions(f"name='{elec2_config.name}'"))
    again = bootstrap_from_bundled(elec2_config, build_ports(shared_settings))
    assert not again.created
    assert again.version == elec2_champion.version
    assert len(client.client.search_model_versions(f"name='{elec2_config.name}'")) == before


def test_lost_alias_is_restored_on_rerun(elec2_config, shared_settings, elec2_champion) -> None:
    """A crash between registration and the alias move is finished by running again."""
    client = registry.MlflowRegistry(shared_settings)
    client.client.delete_registered_model_alias(elec2_config.name, registry.CHAMPION)
    again = bootstrap_from_bundled(elec2_config, build_ports(shared_settings))
    assert client.alias_version(elec2_config.name, registry.CHAMPION) == again.version


def test_the_training_data_is_recorded_in_the_lake_with_its_digest(
    elec2_config, elec2_demo, shared_settings, elec2_champion
) -> None:
    """Retraining reads back what the first champion learned from; the baseline names it."""
    from driftpilot.adapters.parquet_lake import read_parquet

    recorded = read_parquet(shared_settings.lake / original_training_key(elec2_config.name))
    period = datasets.training_period(elec2_demo, datasets.load_source(elec2_config, elec2_demo, seed=elec2_demo.replay.seed))
    assert list(recorded.columns) == [*elec2_config.features.all, elec2_config.target]
    pd.testing.assert_frame_equal(recorded, period[list(recorded.columns)])
    baseline = registry.MlflowRegistry(shared_settings).load_baseline(elec2_config.name, elec2_champion.version)
    assert baseline.metadata["training_data"] == {
        "key": original_training_key(elec2_config.name), "digest": training_data_digest(recorded), "rows": len(period),
    }


def test_bootstrap_without_data_reuses_the_recorded_training_set(elec2_config, shared_settings, elec2_champion) -> None:
    """A re-run (bootstrap DAG without a param, `driftpilot bootstrap --all`) finds the same version."""
    again = bootstrap_champion(elec2_config, build_ports(shared_settings))
    assert not again.created
    assert again.version == elec2_champion.version


def test_replay_scores_with_the_registered_champion(elec2_config, elec2_demo, shared_settings, elec2_champion) -> None:
    from driftpilot.adapters.parquet_lake import read_parquet
    from driftpilot_demo.traffic import replay_traffic

    summary = replay_traffic(elec2_config, shared_settings, range(0, 2))
    assert [d.model_version for d in summary.days if not d.skipped] in ([elec2_champion.version] * 2, [])
    log = read_parquet(shared_settings.lake / "inference" / f"model={elec2_config.name}" / "date=2026-01-01" / "part-0.parquet")
    model = registry.MlflowRegistry(shared_settings).load_model(elec2_config.name, elec2_champion.version)
    source = datasets.load_source(elec2_config, elec2_demo, seed=elec2_demo.replay.seed)
    expected = training.predict(elec2_config, model, datasets.replay_rows(elec2_demo, source, 0))
    assert log["score"].to_numpy() == pytest.approx(expected["score"].to_numpy())
