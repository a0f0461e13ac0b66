"""The user's training data: what bootstrap accepts, and how the lake keeps it for retraining.

A model's first champion is trained on data the user brings (a DataFrame or a Parquet file with
the config's features, target and segments). Bootstrap validates it here, keeps exactly the
columns the model and its monitoring use, and records it in the lake as the model's **original
training set** (``original_training_key``). Retraining with ``include_original_training`` reads
that file, so a retrained model learns from what the first champion learned from, never from a
dataset named somewhere else. Its digest (``training_data_digest``) is logged with the baseline
and is part of the bootstrap idempotency key: other data is another initial model.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from driftpilot.domain.categories import with_canonical_columns
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.errors import SchemaViolation

MIN_TRAINING_ROWS = 50  # fewer leave no meaningful fit / holdout split


def original_training_key(model: str) -> str:
    """Lake-relative key of the original training set of ``model``."""
    return f"training/model={model}/original.parquet"


def training_columns(config: ModelConfig) -> list[str]:
    """Features, then the target, then segments that are not features: what training needs."""
    extra_segments = [c for c in config.segments if c not in config.features.all]
    return [*config.features.all, config.target, *extra_segments]


def require_numeric_features(config: ModelConfig, frame: pd.DataFrame, where: str) -> None:
    """``SchemaViolation`` naming the numeric features of ``frame`` that hold non-numbers."""
    not_numeric = [c for c in config.features.numeric if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise SchemaViolation(
            f"{where}: numeric feature(s) {not_numeric} hold non-numbers "
            f"({', '.join(f'{c}: {frame[c].dtype}' for c in not_numeric)}); convert them or list them as categorical"
        )


def prepare_training_data(config: ModelConfig, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``frame`` checked against the config and cut to ``training_columns``, or ``SchemaViolation``.

    Checked: every needed column is there, numeric features are numbers, every row has a label,
    a classifier sees at least two classes, and there are at least ``MIN_TRAINING_ROWS`` rows.
    Categorical columns that mix Python types become canonical keys (Parquet cannot store the mix).
    """
    needed = training_columns(config)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaViolation(
            f"{where}: training data has no column(s) {missing} named in {config.path or 'the model config'} "
            f"(it has {sorted(map(str, frame.columns))}); add them or fix `features`/`target`/`segments`"
        )
    require_numeric_features(config, frame, where)
    if len(frame) < MIN_TRAINING_ROWS:
        raise SchemaViolation(f"{where}: training data has {len(frame)} row(s); at least {MIN_TRAINING_ROWS} are needed")
    unlabelled = int(frame[config.target].isna().sum())
    if unlabelled:
        raise SchemaViolation(
            f"{where}: {unlabelled} training row(s) have no `{config.target}`; drop them first "
            "(driftpilot never trains on imputed labels)"
        )
    if config.task is not TaskType.REGRESSION and frame[config.target].nunique() < 2:
        raise SchemaViolation(f"{where}: `{config.target}` holds a single class; a classifier needs at least two")
    out = frame[needed].reset_index(drop=True)
    return with_canonical_columns(out, [*config.features.categorical, *config.segments])


def training_data_digest(frame: pd.DataFrame) -> str:
    """``sha256:<hex>`` of the frame's columns and values (independent of the Parquet writer)."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"
