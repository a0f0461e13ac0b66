"""Where bootstrap's training data comes from, and where retraining finds it again (no MLflow)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from driftpilot.adapters.parquet_lake import read_parquet, write_parquet_atomic
from driftpilot.domain.training_data import original_training_key
from driftpilot.errors import ConfigError, SchemaViolation
from driftpilot.ports import Ports
from driftpilot.usecases.bootstrap import load_training_data
from driftpilot.usecases.retrain import original_training
from tests.fakes import local_settings, ports_with
from tests.unit.test_training_data import frame


@pytest.fixture()
def ports(tmp_path: Path) -> Ports:
    return ports_with(local_settings(tmp_path))


def test_a_frame_is_validated_and_cut_to_the_training_columns(elec2_config, ports) -> None:
    loaded = load_training_data(elec2_config, ports, frame(elec2_config))
    assert "t" not in loaded.columns and len(loaded) == 200


def test_a_parquet_file_is_read_and_validated(elec2_config, ports, tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    frame(elec2_config).to_parquet(path)
    pd.testing.assert_frame_equal(load_training_data(elec2_config, ports, path),
                                  load_training_data(elec2_config, ports, frame(elec2_config)))
    frame(elec2_config).drop(columns=["vicprice"]).to_parquet(path)
    with pytest.raises(SchemaViolation, match=r"train\.parquet: training data has no column\(s\) \['vicprice'\]"):
        load_training_data(elec2_config, ports, path)


def test_a_missing_file_is_named(elec2_config, ports, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"training data file .*nope\.parquet does not exist"):
        load_training_data(elec2_config, ports, tmp_path / "nope.parquet")


def test_without_data_the_recorded_training_set_is_used(elec2_config, ports) -> None:
    with pytest.raises(ConfigError, match=r"no training data given and none recorded.*--training-data FILE\.parquet"):
        load_training_data(elec2_config, ports, None)
    recorded = load_training_data(elec2_config, ports, frame(elec2_config, seed=3))
    write_parquet_atomic(recorded, ports.settings.lake / original_training_key(elec2_config.name))
    pd.testing.assert_frame_equal(load_training_data(elec2_config, ports, None), recorded)


def test_retraining_reads_the_recorded_original_training_set(elec2_config, ports) -> None:
    with pytest.raises(ConfigError, match=r"include_original_training is true but .* no original training set.*"
                                          r"include_original_training: false"):
        original_training(elec2_config, ports)
    recorded = load_training_data(elec2_config, ports, frame(elec2_config))
    path = ports.settings.lake / original_training_key(elec2_config.name)
    write_parquet_atomic(recorded, path)
    pd.testing.assert_frame_equal(original_training(elec2_config, ports), read_parquet(path))
