"""Fit a model with the config's trainer and make sure driftpilot can log and score it.

Bootstrap (the first champion) and retraining (a candidate) both call ``train_model``: the same
trainer plug-in, the same checks, in the same order, all before the first registry write:

1. the trainer runs on a ``TrainingData`` (``ports.trainer.fit``; a trainer that raises is a
   ``TrainerError`` naming it);
2. a ``ModelUri`` (a model the trainer logged to MLflow itself) is loaded through the registry
   port, so it is scored like any other model;
3. the model must have ``predict`` (and ``predict_proba`` for a classifier);
4. it scores the holdout; a model that cannot, or that leaves a prediction missing, is refused
   (predictions are never imputed).

Whatever fails, nothing has been logged or registered yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from driftpilot.domain.config import ModelConfig
from driftpilot.domain.contracts import PREDICTION
from driftpilot.domain.trainer_contract import TrainingData, model_problem
from driftpilot.errors import TrainerError
from driftpilot.ports import FittedModel, ModelUri, Ports


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model, checked: what to log, what scores frames, and its holdout predictions."""

    model: FittedModel  # what the registry logs: the object, or the trainer's ModelUri
    scorer: FittedModel  # what scores frames: the object itself, or the model loaded from the URI
    scored_holdout: pd.DataFrame  # ``ports.trainer.predict`` of the holdout
    trainer: str  # ``retraining.trainer`` as configured

    @property
    def uri(self) -> str | None:
        return self.model.uri if isinstance(self.model, ModelUri) else None


def trainer_label(config: ModelConfig) -> str:
    return f"`retraining.trainer: {config.retraining.trainer}` ({config.path or config.name})"


def train_model(config: ModelConfig, ports: Ports, data: TrainingData) -> TrainedModel:
    """Run the configured trainer on ``data`` and check what it returned (see the module doc)."""
    model = ports.trainer.fit(config, data)
    scorer = model
    if isinstance(model, ModelUri):
        try:
            scorer = ports.registry.load_model_uri(model.uri)
        except Exception as exc:
            raise TrainerError(
                f"the trainer {trainer_label(config)} returned ModelUri({model.uri!r}), which does not load "
                f"({type(exc).__name__}: {exc}); check that the run or version exists on the tracking server "
                "driftpilot uses (MLFLOW_TRACKING_URI) and holds an MLflow model"
            ) from exc
    problem = model_problem(scorer, config.task)
    if problem:
        raise TrainerError(f"the trainer {trainer_label(config)} {problem}; nothing was logged or registered")
    try:
        scored = ports.trainer.predict(config, scorer, data.holdout)
    except Exception as exc:
        raise TrainerError(
            f"the model returned by the trainer {trainer_label(config)} cannot score the holdout "
            f"({type(exc).__name__}: {exc}); it must accept a frame of the config's features "
            f"{list(data.features)}; nothing was logged or registered"
        ) from exc
    missing = int(scored[PREDICTION].isna().sum()) if PREDICTION in scored.columns else len(scored)
    if missing or len(scored) != len(data.holdout):
        raise TrainerError(
            f"the model returned by the trainer {trainer_label(config)} left {missing or len(data.holdout)} of "
            f"{len(data.holdout)} holdout rows without a prediction; driftpilot never fills predictions in"
        )
    return TrainedModel(model=model, scorer=scorer, scored_holdout=scored, trainer=config.retraining.trainer)
