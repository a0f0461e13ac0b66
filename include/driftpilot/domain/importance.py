"""Model-agnostic feature importance: how much a metric drops when one feature is shuffled.

A baseline records which features the model relies on, so that drifted columns are ranked by
what matters to it (``drift.score_window``). scikit-learn's ``permutation_importance`` needs an
estimator with ``fit``/``score``; a model registered from anywhere (an MLflow pyfunc, an object
with ``predict`` only) has neither. This needs only a way to score a frame and the task's metric:
the caller passes both, so the rule is the same whatever produced the model.

The permutation is seeded (one ``numpy`` generator per call, columns in the order given), so the
same model and rows give the same importances. Negative importances (the shuffle helped by
chance: noise) are clipped to 0, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

Predict = Callable[[pd.DataFrame], pd.DataFrame]  # rows -> the model's outputs (prediction, scores)
Metric = Callable[[pd.Series, pd.DataFrame], float]  # (target, outputs) -> one number


def permutation_importance(
    predict: Predict,
    metric: Metric,
    frame: pd.DataFrame,
    target: pd.Series,
    columns: Sequence[str],
    *,
    higher_is_better: bool = True,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, float]:
    """Mean drop of ``metric`` over ``repeats`` shuffles of each of ``columns`` (clipped at 0).

    ``frame`` holds the model's inputs (other columns are passed through untouched), ``target``
    the labels aligned with it. Shuffling a column breaks its link with the target and with the
    other columns while keeping its distribution; the loss of metric is what the model got from it.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if len(frame) != len(target):
        raise ValueError(f"frame has {len(frame)} rows but target has {len(target)}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the frame")
    if len(frame) == 0:
        return {c: 0.0 for c in columns}
    sign = 1.0 if higher_is_better else -1.0
    baseline = sign * float(metric(target, predict(frame)))
    rng = np.random.default_rng(seed)
    importances: dict[str, float] = {}
    for column in columns:
        drops = []
        for _ in range(repeats):
            shuffled = frame.copy()
            order = rng.permutation(len(frame))
            shuffled[column] = frame[column].to_numpy()[order]
            drops.append(baseline - sign * float(metric(target, predict(shuffled))))
        mean = float(np.mean(drops))
        importances[column] = mean if np.isfinite(mean) and mean > 0.0 else 0.0
    return importances
