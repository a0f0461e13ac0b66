"""The user's reference data: the labelled rows a registered model's baseline is built from.

``driftpilot register`` attaches a baseline to a model trained elsewhere. Its reference file is
the user's validation or holdout set, with the target; it may already hold the model's outputs
(``prediction``, ``score`` / ``score_<class>``), which are then used as given after the checks
here, and otherwise driftpilot scores it with the model. Checked before anything is written to
the registry, with messages that name the file and the config key to fix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from driftpilot.domain.categories import ClassSet, with_canonical_columns
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.domain.training_data import require_numeric_features, training_columns
from driftpilot.errors import SchemaViolation

MIN_REFERENCE_ROWS = 50  # fewer give no meaningful profile, metrics or importance


def output_columns_in(frame: pd.DataFrame) -> list[str]:
    """The model-output columns a frame holds (``prediction``, ``score``, ``score_<class>``)."""
    return [c for c in map(str, frame.columns) if c in (PREDICTION, SCORE) or c.startswith(f"{SCORE}_")]


def prepare_reference_data(config: ModelConfig, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``frame`` checked against the config: features, target, segments, then any output columns.

    Refused (``SchemaViolation`` naming ``where``): a missing feature, target or segment column,
    a numeric feature holding non-numbers, fewer than ``MIN_REFERENCE_ROWS`` rows, a row without a
    label (labels are never imputed), a label outside the config's declared ``classes``.
    """
    needed = training_columns(config)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaViolation(
            f"{where}: reference data has no column(s) {missing} named in {config.path or 'the model config'} "
            f"(`features` / `target` / `segments`; it has {sorted(map(str, frame.columns))}); the reference "
            "file is your validation or holdout set with the target: add them or fix the config"
        )
    require_numeric_features(config, frame, where)
    if len(frame) < MIN_REFERENCE_ROWS:
        raise SchemaViolation(f"{where}: reference data has {len(frame)} row(s); at least {MIN_REFERENCE_ROWS} "
                              "are needed for a baseline")
    unlabelled = int(frame[config.target].isna().sum())
    if unlabelled:
        raise SchemaViolation(
            f"{where}: {unlabelled} reference row(s) have no `{config.target}` (the target); drop them first "
            "(driftpilot never imputes labels)"
        )
    if config.task is not TaskType.REGRESSION and config.classes:
        declared = ClassSet.of(config.classes, "config")
        unknown = declared.unknown(frame[config.target])
        if unknown.any():
            shown = sorted({str(v) for v in frame.loc[unknown, config.target].head(20)})
            raise SchemaViolation(f"{where}: `{config.target}` holds {shown}, not among the config's `classes` "
                                  f"{list(declared.keys)}; fix the labels or the config's `classes`")
    outputs = [c for c in output_columns_in(frame) if c not in needed]
    out = frame[[*needed, *outputs]].reset_index(drop=True)
    return with_canonical_columns(out, [*config.features.categorical, *config.segments])


def check_outputs(config: ModelConfig, scored: pd.DataFrame, classes: Sequence[str], where: str) -> None:
    """Raise ``SchemaViolation`` when model outputs do not fit the task (given or computed).

    ``prediction`` present on every row (a number for regression, one of ``classes`` for a
    classifier when they are known); scores finite probabilities in [0, 1].
    """
    if PREDICTION not in scored.columns:
        raise SchemaViolation(f"{where}: no `{PREDICTION}` column among the model outputs {list(scored.columns)}")
    prediction = scored[PREDICTION]
    if prediction.isna().any():
        raise SchemaViolation(f"{where}: {int(prediction.isna().sum())} row(s) have no `{PREDICTION}`; "
                              "every reference row needs the model's output")
    if config.task is TaskType.REGRESSION:
        values = pd.to_numeric(prediction, errors="coerce")
        if values.isna().any() or not np.isfinite(values.to_numpy(dtype=float)).all():
            raise SchemaViolation(f"{where}: `{PREDICTION}` holds values that are not finite numbers; "
                                  "a regression model predicts one number per row")
        return
    if classes:
        known = ClassSet.of(classes, "model")
        unknown = known.unknown(prediction)
        if unknown.any():
            shown = sorted({str(v) for v in prediction[unknown].head(20)})
            raise SchemaViolation(f"{where}: `{PREDICTION}` holds {shown}, not among the classes {list(known.keys)}")
    score_cols = [c for c in scored.columns if c == SCORE or str(c).startswith(f"{SCORE}_")]
    if config.task is TaskType.BINARY and SCORE not in score_cols:
        raise SchemaViolation(f"{where}: a binary model needs a `{SCORE}` column (the positive class's probability)")
    for column in score_cols:
        values = pd.to_numeric(scored[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
            raise SchemaViolation(f"{where}: `{column}` holds values outside [0, 1] or missing; scores are "
                                  "class probabilities")
