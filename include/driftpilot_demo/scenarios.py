"""Scenario injection: documented, seeded changes applied on top of real replayed data.

Real data already drifts (Elec2's Victoria switch); scenarios add controlled incidents for tests
and demos. Each is active on simulated days ``start_day..end_day`` (inclusive; open-ended when
``end_day`` is omitted) and is reproducible: its random draws come from
``numpy.random.default_rng([replay seed, day, scenario index])``. Scenarios are listed in the demo
file's ``replay.scenarios`` (``driftpilot_demo.config``).

| kind | params | what happens | stage |
|---|---|---|---|
| ``covariate_shift`` | ``column``, ``shift_sigma`` (1.0) | numeric column moves by ``shift_sigma`` x its day std | inputs, before scoring |
| ``gradual_decay`` | ``column``, ``sigma_per_day`` (0.1) | like covariate_shift, growing each day since ``start_day`` | inputs, before scoring |
| ``concept_drift`` | ``segment_column``, ``segment_value``, ``flip_share`` (1.0) | labels of the segment flip (binary) or scale by 1.5 (regression): inputs unchanged, the relationship changes | labels |
| ``nulls`` | ``column``, ``share`` (0.3) | that share of the column becomes missing | inputs, before scoring |
| ``unseen_category`` | ``column``, ``share`` (0.2), ``value`` ("__unseen__") | categories never seen in training | inputs, before scoring |
| ``renamed_column`` | ``column``, ``new_name`` | the log writer renames a column (schema break) | log, after scoring |
| ``wrong_dtype`` | ``column`` | a numeric column is logged as strings | log, after scoring |
| ``volume_drop`` | ``keep_share`` (0.2) | only that share of the day's traffic arrives | inputs, before scoring |
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.errors import ConfigError
from driftpilot_demo.config import DemoSpec, Scenario

INPUT_KINDS = {"covariate_shift", "gradual_decay", "nulls", "unseen_category", "volume_drop"}
LABEL_KINDS = {"concept_drift"}
LOG_KINDS = {"renamed_column", "wrong_dtype"}


def active(scenarios: Iterable[Scenario], day: int) -> list[tuple[int, Scenario]]:
    """(index, scenario) pairs active on ``day``; the index seeds the scenario's draws."""
    return [
        (i, s)
        for i, s in enumerate(scenarios)
        if s.start_day <= day and (s.end_day is None or day <= s.end_day)
    ]


def _rng(seed: int, day: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, day, index, 1009])


def _column(demo: DemoSpec, scenario: Scenario, frame: pd.DataFrame) -> str:
    column = scenario.params.get("column")
    if column not in frame.columns:
        raise ConfigError(f"{demo.path}: scenario {scenario.kind} names column {column!r}, not in the data")
    return str(column)


def apply_to_inputs(config: ModelConfig, demo: DemoSpec, frame: pd.DataFrame, day: int, seed: int) -> pd.DataFrame:
    """Apply the input-stage scenarios active on ``day`` (before the model scores the rows)."""
    out = frame.copy()
    for index, scenario in active(demo.replay.scenarios, day):
        if scenario.kind not in INPUT_KINDS:
            continue
        rng = _rng(seed, day, index)
        params = scenario.params
        if scenario.kind == "volume_drop":
            keep = float(params.get("keep_share", 0.2))
            mask = rng.random(len(out)) < keep
            out = out[mask].reset_index(drop=True)
            continue
        column = _column(demo, scenario, out)
        if scenario.kind in ("covariate_shift", "gradual_decay"):
            values = pd.to_numeric(out[column], errors="coerce")
            std = float(values.std()) or 1.0
            if scenario.kind == "covariate_shift":
                sigma = float(params.get("shift_sigma", 1.0))
            else:
                sigma = float(params.get("sigma_per_day", 0.1)) * (day - scenario.start_day + 1)
            out[column] = values + sigma * std
        elif scenario.kind == "nulls":
            mask = rng.random(len(out)) < float(params.get("share", 0.3))
            out[column] = out[column].astype(object).where(~mask, None)
            if column in config.features.numeric:
                out[column] = pd.to_numeric(out[column], errors="coerce")
        elif scenario.kind == "unseen_category":
            mask = rng.random(len(out)) < float(params.get("share", 0.2))
            out[column] = out[column].astype(object).where(~mask, str(params.get("value", "__unseen__")))
    return out


def apply_to_labels(config: ModelConfig, demo: DemoSpec, frame: pd.DataFrame, day: int, seed: int) -> pd.Series:
    """The true labels of ``frame`` after label-stage scenarios (concept drift) on ``day``."""
    labels = frame[config.target].copy()
    for index, scenario in active(demo.replay.scenarios, day):
        if scenario.kind not in LABEL_KINDS:
            continue
        rng = _rng(seed, day, index)
        params = scenario.params
        segment_column = str(params.get("segment_column"))
        if segment_column not in frame.columns:
            raise ConfigError(f"{demo.path}: concept_drift names segment_column {segment_column!r}, not in the data")
        in_segment = frame[segment_column].astype(str) == str(params.get("segment_value"))
        flip = in_segment & (rng.random(len(frame)) < float(params.get("flip_share", 1.0)))
        if config.task is TaskType.BINARY:
            values = sorted(labels.dropna().unique().tolist(), key=str)
            if len(values) == 2:
                swap = {values[0]: values[1], values[1]: values[0]}
                labels = labels.where(~flip, labels.map(swap))
        elif config.task is TaskType.REGRESSION:
            labels = labels.where(~flip, labels * 1.5)
    return labels


def apply_to_log(config: ModelConfig, demo: DemoSpec, log_frame: pd.DataFrame, day: int) -> pd.DataFrame:
    """Apply log-stage incidents (the logging pipeline breaks, not the model's inputs)."""
    out = log_frame
    for _, scenario in active(demo.replay.scenarios, day):
        if scenario.kind not in LOG_KINDS:
            continue
        column = _column(demo, scenario, out)
        if scenario.kind == "renamed_column":
            out = out.rename(columns={column: str(scenario.params.get("new_name", f"{column}_v2"))})
        elif scenario.kind == "wrong_dtype":
            out = out.assign(**{column: out[column].map(lambda v: None if pd.isna(v) else f"{v:.6g}")})
    return out
