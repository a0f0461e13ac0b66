"""Trainers of every kind a user may write, good and bad, for the plug-in tests.

Each is named in a config as ``tests.trainers.kinds:<function>``. ``RECEIVED`` keeps the
``TrainingData`` each call was handed, so a test can check what driftpilot gave the trainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftpilot.ports import ModelUri
from tests.trainers.acme_trainer import fit_model

RECEIVED: list[Any] = []
USER_MODEL_URI = "runs:/user-run-1/model"  # where `logs_its_own_model` says it logged its model


def recording(data: Any) -> Any:
    """Keeps ``data``, then trains like acme; also tampers with its frames (which must not matter)."""
    RECEIVED.append(data)
    model = fit_model(data)
    data.train.drop(data.train.index, inplace=True)
    data.holdout.loc[:, data.target] = data.holdout[data.target].iloc[0]
    return model


class DuckModel:
    """Not scikit-learn: any object with ``predict`` and ``predict_proba`` (P(1) rises with one column)."""

    def __init__(self, column: str, threshold: float) -> None:
        self.column, self.threshold = column, threshold
        self.classes_ = np.array([0, 1])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        x = pd.to_numeric(frame[self.column], errors="coerce").fillna(0.0).to_numpy()
        p = 1.0 / (1.0 + np.exp(-(x - self.threshold) * 8))
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(frame)[:, 1] >= 0.5).astype(int)


def duck(data: Any) -> DuckModel:
    column = data.numeric_features[0]
    return DuckModel(column, float(data.train[column].median()))


def logs_its_own_model(data: Any) -> ModelUri:
    """A trainer that logged its model to MLflow itself and returns where."""
    RECEIVED.append(data)
    return ModelUri(USER_MODEL_URI)


def logs_nowhere(data: Any) -> ModelUri:
    return ModelUri("runs:/no-such-run/model")


class _PredictOnly:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(frame), dtype=int)


class _NoPredict:
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return np.tile([0.5, 0.5], (len(frame), 1))


class _Broken(DuckModel):
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        raise ValueError("feature names seen at fit time differ")


def predict_only(data: Any) -> _PredictOnly:
    return _PredictOnly()


def no_predict(data: Any) -> _NoPredict:
    return _NoPredict()


def returns_none(data: Any) -> None:
    return None


def returns_a_string(data: Any) -> str:
    return USER_MODEL_URI


def cannot_score(data: Any) -> _Broken:
    return _Broken(data.numeric_features[0], 0.5)


def raises(data: Any) -> Any:
    raise RuntimeError("out of memory while fitting")


NOT_CALLABLE = 42


class _Gappy:
    """A regressor that gives up on some rows (NaN), which driftpilot must not fill in."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.ones(len(frame))
        out[::7] = np.nan
        return out


def gappy_regressor(data: Any) -> _Gappy:
    return _Gappy()
