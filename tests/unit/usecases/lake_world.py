"""A small lake for the retraining training-set tests: validated days, their labels, an original set.

Written through the real ``ParquetLake`` the way monitoring and bootstrap leave it (validated
partitions per served day, labels per arrival day, ``training/model=<m>/original.parquet``).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from driftpilot.domain.config import ModelConfig
from driftpilot.domain.lake_layout import LABELS, VALIDATED
from driftpilot.domain.training_data import original_training_key, prepare_training_data
from driftpilot.ports import Ports
from tests.fakes import local_settings, ports_with
from tests.fakes.registry import FakeRegistry


def _rows(config: ModelConfig, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.normal(0.5, 0.2, rows) for c in config.features.numeric})
    for column in config.features.categorical:
        frame[column] = rng.integers(1, 8, rows).astype(str)
    first = config.features.numeric[0]
    frame[config.target] = (frame[first] + rng.normal(0, 0.05, rows) > 0.5).astype(int)
    return frame


def labelled_world(config: ModelConfig, home: Path, *, days: int, rows_per_day: int,
                   first: date = date(2026, 2, 15)) -> tuple[Ports, pd.DataFrame]:
    """Ports on ``home`` (real lake, fake registry, the production trainer) and the original set."""
    from driftpilot.adapters.trainer_plugins import PluginTrainer

    ports = ports_with(local_settings(home), registry=FakeRegistry(), trainer=PluginTrainer())
    original = prepare_training_data(config, _rows(config, 200, 0), "original")
    ports.lake.write_frame(original_training_key(config.name), original)
    for i in range(days):
        day = first + timedelta(days=i)
        served = _rows(config, rows_per_day, 100 + i)
        start = pd.Timestamp(day, tz="UTC")
        served["prediction_id"] = [f"{day}-{n}" for n in range(rows_per_day)]
        served["event_time"] = start + pd.to_timedelta(np.arange(rows_per_day) * (86_400 // rows_per_day), unit="s")
        served["model_name"], served["model_version"] = config.name, "1"
        served["prediction"], served["score"] = 1, 0.6
        labels = pd.DataFrame({"prediction_id": served["prediction_id"], "label": served[config.target],
                               "label_time": served["event_time"] + pd.Timedelta(hours=1), "source": "outcome"})
        ports.lake.write_frame(f"{VALIDATED}/model={config.name}/date={day}/part-0.parquet",
                               served.drop(columns=[config.target]))
        ports.lake.write_frame(f"{LABELS}/model={config.name}/date={day}/part-{day}.parquet", labels)
    return ports, original
