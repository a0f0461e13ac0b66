"""Data contracts: the columns of inference-log rows and label rows.

These are driftpilot's public interface (documented in the README). ``check_inference_log`` and
``check_labels`` enforce the *structural* contract: required columns present, ids present,
times as UTC timestamps (unique ids are checked by validation, which quarantines the repeats). Row-level quality (ranges, categories, nulls) is the job of validation with Great
Expectations, which quarantines rows instead of failing the window.
"""

from __future__ import annotations

import pandas as pd

from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.errors import SchemaViolation

PREDICTION_ID = "prediction_id"
EVENT_TIME = "event_time"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
PREDICTION = "prediction"
SCORE = "score"  # binary: probability of the positive class
LATENCY_MS = "latency_ms"

LABEL = "label"
LABEL_TIME = "label_time"
LABEL_SOURCE = "source"

LABEL_COLUMNS = (PREDICTION_ID, LABEL, LABEL_TIME, LABEL_SOURCE)


def score_columns(config: ModelConfig, classes: list[str] | None = None) -> list[str]:
    """Score columns for ``config.task``: ``score`` (binary), ``score_<class>`` (multiclass)."""
    if config.task is TaskType.BINARY:
        return [SCORE]
    if config.task is TaskType.MULTICLASS:
        return [f"{SCORE}_{c}" for c in (classes or [])]
    return []


def inference_log_columns(config: ModelConfig) -> list[str]:
    """Required columns of an inference-log row for ``config`` (optional: latency, segments)."""
    return [
        PREDICTION_ID,
        EVENT_TIME,
        MODEL_NAME,
        MODEL_VERSION,
        *config.features.all,
        PREDICTION,
        *score_columns(config),
    ]


def check_inference_log(frame: pd.DataFrame, config: ModelConfig, where: str) -> None:
    """Raise ``SchemaViolation`` naming ``where`` when ``frame`` breaks the structural contract."""
    missing = [c for c in inference_log_columns(config) if c not in frame.columns]
    if missing:
        raise SchemaViolation(
            f"{where}: inference log lacks required column(s) {missing}; "
            f"it has {sorted(map(str, frame.columns))}"
        )
    if frame[PREDICTION_ID].isna().any():
        raise SchemaViolation(f"{where}: {int(frame[PREDICTION_ID].isna().sum())} row(s) have no prediction_id")
    if not pd.api.types.is_datetime64_any_dtype(frame[EVENT_TIME]):
        raise SchemaViolation(f"{where}: event_time must be a UTC timestamp, got dtype {frame[EVENT_TIME].dtype}")


def check_labels(frame: pd.DataFrame, where: str, *, ids: bool = True) -> None:
    """Raise ``SchemaViolation`` when a label frame lacks a contract column or has no ids.

    ``ids=False`` checks the file's structure only (columns, ``label_time`` type): monitoring
    quarantines a row without an id on its own instead of the whole file.
    """
    missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaViolation(f"{where}: label rows lack column(s) {missing}; it has {sorted(map(str, frame.columns))}")
    if ids and frame[PREDICTION_ID].isna().any():
        raise SchemaViolation(f"{where}: {int(frame[PREDICTION_ID].isna().sum())} label row(s) have no prediction_id")
    dtype = frame[LABEL_TIME].dtype
    if not pd.api.types.is_datetime64_any_dtype(dtype) or getattr(dtype, "tz", None) is None:
        raise SchemaViolation(
            f"{where}: label_time must be a timezone-aware UTC timestamp, got dtype {dtype}; "
            "write it as timestamp[us, tz=UTC]"
        )
