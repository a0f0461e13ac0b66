"""The recorded original training set is always the champion's: written once registered, never replaced.

Bootstrap on the in-memory registry and trainer fakes, with the real lake on ``tmp_path``. The
file ``training/model=<m>/original.parquet`` is what retraining reads back and what the champion's
baseline digest names, so another bootstrap (other data, a failed fit, a failed registration)
must leave it alone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from driftpilot.domain.training_data import (
    original_training_key,
    prepare_training_data,
    training_data_digest,
)
from driftpilot.errors import ConfigError
from driftpilot.ports import CHAMPION, ModelRun, Ports, RegisteredVersion
from driftpilot.usecases.bootstrap import bootstrap_champion
from tests.fakes.registry import FakeRegistry, FakeTrainer
from tests.unit.test_training_data import frame


class FailingFit(FakeTrainer):
    """A trainer whose fit breaks (bad hyper-parameters, out of memory...)."""

    def fit(self, config: Any, frame: pd.DataFrame) -> Any:
        raise RuntimeError("fit failed")


class FailingRegistration(FakeRegistry):
    """A registry that goes away between training and registration."""

    def log_and_register(self, model_name: str, run: ModelRun) -> RegisteredVersion:
        raise ConnectionError("registry unavailable")


def _recorded(ports: Ports, config) -> bytes:  # type: ignore[no-untyped-def]
    return ports.lake.path(original_training_key(config.name)).read_bytes()


def _digest(config, data: pd.DataFrame) -> str:  # type: ignore[no-untyped-def]
    return training_data_digest(prepare_training_data(config, data, "t"))


@pytest.fixture()
def crowned(elec2_config, ports, registry):  # type: ignore[no-untyped-def]
    """Version 1 bootstrapped from data A and champion; returns A."""
    data = frame(elec2_config, seed=0)
    result = bootstrap_champion(elec2_config, ports, data)
    assert (result.version, result.champion, result.created) == ("1", "1", True)
    return data


def test_the_recorded_set_is_the_one_the_champions_baseline_names(elec2_config, ports, registry, crowned) -> None:
    recorded = ports.lake.read(original_training_key(elec2_config.name))
    named = registry.load_baseline(elec2_config.name, "1").metadata["training_data"]["digest"]
    assert training_data_digest(recorded) == named == _digest(elec2_config, crowned)


def test_a_second_bootstrap_with_other_data_is_refused_and_changes_nothing(
        elec2_config, ports, registry, trainer, crowned) -> None:
    before = _recorded(ports, elec2_config)
    with pytest.raises(ConfigError, match=r"champion \(version 1\) was trained from other data.*"
                                          r"run bootstrap without --training-data.*another `name`"):
        bootstrap_champion(elec2_config, ports, frame(elec2_config, seed=5))
    assert _recorded(ports, elec2_config) == before
    assert list(registry.versions[elec2_config.name]) == ["1"] and trainer.fits == 1  # refused before training


def test_a_fit_that_fails_leaves_the_recorded_set_alone(elec2_config, ports, registry, crowned) -> None:
    """The champion alias was lost (a crash, a registry user): nothing protects the file but the write order."""
    import dataclasses

    before = _recorded(ports, elec2_config)
    registry.delete_alias(elec2_config.name, CHAMPION)
    failing = dataclasses.replace(ports, trainer=FailingFit())
    with pytest.raises(RuntimeError, match="fit failed"):
        bootstrap_champion(elec2_config, failing, frame(elec2_config, seed=5))
    assert _recorded(ports, elec2_config) == before


def test_nothing_is_recorded_before_the_version_is_registered(elec2_config, ports) -> None:
    import dataclasses

    with pytest.raises(ConnectionError):
        bootstrap_champion(elec2_config, dataclasses.replace(ports, registry=FailingRegistration()),
                           frame(elec2_config))
    assert not ports.lake.exists(original_training_key(elec2_config.name))
    with pytest.raises(RuntimeError, match="fit failed"):
        bootstrap_champion(elec2_config, dataclasses.replace(ports, trainer=FailingFit()), frame(elec2_config))
    assert not ports.lake.exists(original_training_key(elec2_config.name))


def test_reruns_with_the_same_data_reuse_the_version_and_keep_the_file(
        elec2_config, ports, registry, trainer, crowned) -> None:
    path = ports.lake.path(original_training_key(elec2_config.name))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    for data in (crowned, None):  # the same frame again; the recorded set (bootstrap DAG without conf)
        again = bootstrap_champion(elec2_config, ports, data)
        assert (again.version, again.created, again.champion) == ("1", False, "1")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before and trainer.fits == 1


def test_a_missing_file_is_written_again_for_the_champions_own_data(elec2_config, ports, crowned) -> None:
    """A lake started afresh next to an existing registry gets the champion's set back, and only that."""
    ports.lake.delete(original_training_key(elec2_config.name))
    with pytest.raises(ConfigError, match="trained from other data"):
        bootstrap_champion(elec2_config, ports, frame(elec2_config, seed=5))
    assert not ports.lake.exists(original_training_key(elec2_config.name))
    assert not bootstrap_champion(elec2_config, ports, crowned).created
    recorded = ports.lake.read(original_training_key(elec2_config.name))
    assert training_data_digest(recorded) == _digest(elec2_config, crowned)


def test_a_retrained_champion_keeps_the_recorded_set_too(elec2_config, ports, registry, crowned) -> None:
    """A champion whose baseline names no original set (a retrained one): the recorded file is the reference."""
    before = _recorded(ports, elec2_config)
    retrained = registry.add_version(elec2_config.name, key="retrain:m:2026-01-14:v1")
    registry.set_alias(elec2_config.name, CHAMPION, retrained)
    with pytest.raises(ConfigError, match=rf"champion \(version {retrained}\) was trained from other data"):
        bootstrap_champion(elec2_config, ports, frame(elec2_config, seed=5))
    assert _recorded(ports, elec2_config) == before
    assert bootstrap_champion(elec2_config, ports, crowned).champion == retrained  # same data: fine
