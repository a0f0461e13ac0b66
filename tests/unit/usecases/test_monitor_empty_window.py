"""A window without inference logs: the run fails naming the empty partition, or skips by config."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from driftpilot.domain.config import WhenEmpty, parse_config
from driftpilot.domain.lake_layout import INFERENCE, partition_key
from driftpilot.errors import ConfigError, EmptyWindow, InsufficientData
from driftpilot.usecases import monitor as monitoring

ROOT = Path(__file__).resolve().parents[3]


def _folder(ports, model: str, day: str) -> str:  # type: ignore[no-untyped-def]
    return re.escape(str(ports.lake.path(partition_key(INFERENCE, model, pd.Timestamp(day).date()))))


def test_an_empty_window_fails_by_default_naming_the_folder_and_what_to_do(elec2_config, ports) -> None:
    assert elec2_config.when_empty is WhenEmpty.FAIL
    window = monitoring.window_for(elec2_config, "2026-01-10")
    with pytest.raises(EmptyWindow, match=rf"no Parquet file in {_folder(ports, elec2_config.name, '2026-01-10')}\. "
                                          r".*log_predictions.*window.when_empty: skip"):
        monitoring.validate_step(elec2_config, ports, window)


def test_skip_makes_it_nothing_to_do_with_the_same_folder_named(elec2_config, ports) -> None:
    config = dataclasses.replace(elec2_config, when_empty=WhenEmpty.SKIP)
    with pytest.raises(InsufficientData, match=rf"{_folder(ports, config.name, '2026-01-10')}; skipped"):
        monitoring.validate_step(config, ports, monitoring.window_for(config, "2026-01-10"))


def test_every_day_of_a_longer_window_is_named(elec2_config, ports) -> None:
    config = dataclasses.replace(elec2_config, window_days=3)
    with pytest.raises(EmptyWindow) as failure:
        monitoring.validate_step(config, ports, monitoring.window_for(config, "2026-01-10"))
    for day in ("2026-01-10", "2026-01-11", "2026-01-12"):
        assert re.search(_folder(ports, config.name, day), str(failure.value))


def test_files_without_rows_are_an_empty_window_too(elec2_config, ports) -> None:
    key = f"{partition_key(INFERENCE, elec2_config.name, pd.Timestamp('2026-01-10').date())}/part-0.parquet"
    ports.lake.write_frame(key, pd.DataFrame({"prediction_id": pd.Series(dtype=str)}))
    with pytest.raises(EmptyWindow, match=r"1 Parquet file\(s\) without rows"):
        monitoring.validate_step(elec2_config, ports, monitoring.window_for(elec2_config, "2026-01-10"))


def _config(window: dict) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load((ROOT / "include" / "config" / "elec2.yaml").read_text())
    data["window"] = window
    return data


def test_the_config_key_is_read_and_checked() -> None:
    assert parse_config(_config({"days": 1, "when_empty": "skip"})).when_empty is WhenEmpty.SKIP
    with pytest.raises(ConfigError, match=r"window\.when_empty"):
        parse_config(_config({"when_empty": "ignore"}))
