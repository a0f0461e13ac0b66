"""Real datasets behind the demo models: load, order and split into training period and replay.

A dataset named in a config's ``source.dataset`` is either a bundled file in ``include/data``
(``elec2``, ``us_census_ma_employment``, ``bike_sharing_hourly``; see ``include/data/SOURCES.md``)
or a path to your own Parquet file. Rows are put in ``source.order_by`` order; the first
``train_rows`` are the training period and the rest become replayed production days, so the
initial model never sees a row the replay will serve (no leakage).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from driftpilot.adapters.parquet_lake import read_parquet
from driftpilot.domain.config import ModelConfig, check_columns
from driftpilot.errors import ConfigError


def dataset_path(config: ModelConfig, data_dir: Path) -> Path:
    name = config.source.dataset
    candidate = Path(name)
    if candidate.suffix == ".parquet":
        return candidate if candidate.is_absolute() else data_dir / candidate
    return data_dir / f"{name}.parquet"


def load_source(config: ModelConfig, data_dir: Path, seed: int = 0) -> pd.DataFrame:
    """The dataset of ``config`` in replay order, with categorical features as strings."""
    path = dataset_path(config, data_dir)
    if not path.exists():
        raise ConfigError(f"{config.path}: source.dataset {config.source.dataset!r} not found at {path}")
    frame = read_parquet(path)
    check_columns(config, list(frame.columns), f"dataset {path}")
    missing_order = [c for c in config.source.order_by if c not in frame.columns]
    if missing_order:
        raise ConfigError(f"{config.path}: source.order_by names missing column(s) {missing_order} of {path}")
    frame = frame.sort_values(list(config.source.order_by), kind="stable").reset_index(drop=True)
    if config.source.shuffle_within:
        group = config.source.shuffle_within
        if group not in frame.columns:
            raise ConfigError(f"{config.path}: source.shuffle_within names missing column {group!r}")
        rng = np.random.default_rng(seed)
        keys = rng.random(len(frame))
        frame = (
            frame.assign(_shuffle=keys)
            .sort_values([group, "_shuffle"], kind="stable")
            .drop(columns="_shuffle")
            .reset_index(drop=True)
        )
    for column in config.features.categorical:
        frame[column] = _as_category_strings(frame[column])
    if config.source.train_rows >= len(frame):
        raise ConfigError(
            f"{config.path}: source.train_rows ({config.source.train_rows}) leaves no rows to replay "
            f"({len(frame)} rows in {path})"
        )
    return frame


def _as_category_strings(series: pd.Series) -> pd.Series:
    """Categorical values as plain strings (``1`` and ``"1"`` must be one category), NaN kept."""
    values = series.astype(object)
    mask = values.notna()
    out = pd.Series(np.full(len(values), None, dtype=object), index=series.index)
    out[mask] = values[mask].map(str)
    return out


def training_period(config: ModelConfig, source: pd.DataFrame) -> pd.DataFrame:
    return source.iloc[: config.source.train_rows].reset_index(drop=True)


def replay_rows(config: ModelConfig, source: pd.DataFrame, day: int) -> pd.DataFrame:
    """Rows of simulated day ``day`` (0-based): the day-th chunk after the training period."""
    start = config.source.train_rows + day * config.source.rows_per_day
    if start >= len(source):
        raise ConfigError(
            f"{config.path}: the dataset has rows for {available_days(config, source)} replay days; "
            f"day {day} is beyond it (lower replay.days)"
        )
    return source.iloc[start : start + config.source.rows_per_day].reset_index(drop=True)


def available_days(config: ModelConfig, source: pd.DataFrame) -> int:
    return (len(source) - config.source.train_rows) // config.source.rows_per_day
