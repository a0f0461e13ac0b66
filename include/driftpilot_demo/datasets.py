"""Real datasets behind the demo models: load, order and split into training period and replay.

A dataset named in a demo file's ``source.dataset`` is either a bundled file in
``include/driftpilot_demo/data`` (``elec2``, ``us_census_ma_employment``, ``bike_sharing_hourly``,
``covertype``; see ``data/SOURCES.md``) or a path to a Parquet file. Rows are put in ``source.order_by`` order; the first
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
from driftpilot_demo.config import DemoSpec


def dataset_path(demo: DemoSpec) -> Path:
    name = demo.source.dataset
    candidate = Path(name)
    if candidate.suffix == ".parquet":
        return candidate if candidate.is_absolute() else demo.data_dir / candidate
    return demo.data_dir / f"{name}.parquet"


def load_source(config: ModelConfig, demo: DemoSpec, seed: int = 0) -> pd.DataFrame:
    """The dataset of ``demo`` in replay order, checked against ``config``, categoricals as strings."""
    path = dataset_path(demo)
    if not path.exists():
        raise ConfigError(f"{demo.path}: source.dataset {demo.source.dataset!r} not found at {path}")
    frame = read_parquet(path)
    check_columns(config, list(frame.columns), f"dataset {path}")
    missing_order = [c for c in demo.source.order_by if c not in frame.columns]
    if missing_order:
        raise ConfigError(f"{demo.path}: source.order_by names missing column(s) {missing_order} of {path}")
    frame = frame.sort_values(list(demo.source.order_by), kind="stable").reset_index(drop=True)
    if demo.source.shuffle_within:
        group = demo.source.shuffle_within
        if group not in frame.columns:
            raise ConfigError(f"{demo.path}: source.shuffle_within names missing column {group!r}")
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
    if demo.source.train_rows >= len(frame):
        raise ConfigError(
            f"{demo.path}: source.train_rows ({demo.source.train_rows}) leaves no rows to replay "
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


def training_period(demo: DemoSpec, source: pd.DataFrame) -> pd.DataFrame:
    return source.iloc[: demo.source.train_rows].reset_index(drop=True)


def replay_rows(demo: DemoSpec, source: pd.DataFrame, day: int) -> pd.DataFrame:
    """Rows of simulated day ``day`` (0-based): the day-th chunk after the training period."""
    start = demo.source.train_rows + day * demo.source.rows_per_day
    if start >= len(source):
        raise ConfigError(
            f"{demo.path}: the dataset has rows for {available_days(demo, source)} replay days; "
            f"day {day} is beyond it (lower replay.days)"
        )
    return source.iloc[start : start + demo.source.rows_per_day].reset_index(drop=True)


def available_days(demo: DemoSpec, source: pd.DataFrame) -> int:
    return (len(source) - demo.source.train_rows) // demo.source.rows_per_day
