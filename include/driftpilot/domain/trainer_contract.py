"""The contract between driftpilot and a trainer: what a trainer receives and what it must return.

A model's training code may be driftpilot's built-in scikit-learn recipes or the user's own
(``retraining.trainer`` in the config: ``sklearn``, ``package.module:callable``, or the name of an
entry point in the ``driftpilot.trainers`` group). Either way it is a callable that takes one
``TrainingData`` and returns a fitted model, so the built-in recipes are one trainer among others
and bootstrap and retraining call every trainer the same way.

``TrainingData`` is frozen and self-describing (feature lists, target, task, classes, seed, the
config's free ``params``), so a trainer needs no driftpilot import to use it: plain attribute access
on the object it is handed. Its frames are copies: a trainer that modifies them in place changes
nothing driftpilot scores or logs afterwards.

What comes back is checked here (``model_problem``) before anything is logged: an object without
``predict``, or a classifier without ``predict_proba``, is refused with a message that names the
trainer. A model the trainer logged to MLflow itself comes back as a ``ModelUri`` (``ports.py``)
and is checked once the registry has loaded it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from driftpilot.domain.categories import ClassSet
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import EVENT_TIME
from driftpilot.errors import InsufficientData

BUILTIN_TRAINER = "sklearn"  # the built-in recipes (``retraining.estimator`` + ``params``)
ENTRY_POINT_GROUP = "driftpilot.trainers"  # where a named trainer is looked up
ORIGIN = "_origin"  # column of ``TrainingData.train``: where each row came from

# Values of the ``_origin`` column, oldest source first (the order of the rows in ``train``).
ORIGINAL, EXTRA, PRODUCTION = "original", "extra", "production"

_CALLABLE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_ENTRY_POINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class TrainerRef:
    """A parsed ``retraining.trainer``: the built-in recipes, a ``module:callable`` or an entry point."""

    kind: str  # "builtin", "callable" or "entry_point"
    value: str  # as written in the config

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]

    @property
    def attribute(self) -> str:
        return self.value.partition(":")[2]


def parse_trainer_ref(value: str) -> TrainerRef:
    """``value`` as a trainer reference, or ``ValueError`` saying which forms are accepted.

    Only the syntax is checked here (the domain imports nothing): the trainer adapter imports it,
    at ``driftpilot check-config`` and when a model is trained.
    """
    if value == BUILTIN_TRAINER:
        return TrainerRef("builtin", value)
    if ":" in value:
        if not _CALLABLE_PATH.fullmatch(value):
            raise ValueError(f"{value!r} is not a `package.module:callable` path")
        return TrainerRef("callable", value)
    if not _ENTRY_POINT_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is neither `{BUILTIN_TRAINER}`, a `package.module:callable` path nor an "
                         f"entry point name of the `{ENTRY_POINT_GROUP}` group")
    return TrainerRef("entry_point", value)


@dataclass(frozen=True)
class TrainingData:
    """Everything a trainer gets: the rows to learn from, the holdout, and what they mean.

    ``train`` holds the feature columns, the target, the segment columns and ``_origin``
    (``original``: the data the first champion learned from, when
    ``retraining.include_original_training``; ``extra``: ``retraining.extra_training_data``;
    ``production``: labelled production rows of matured windows), in that order and in time order
    within each source. Every row has a label; classes are one type (``classes``).

    ``holdout`` (features, target, segments and ``event_time`` when the rows have one) is the
    out-of-time holdout the model will be judged on (the promotion gate compares
    champion and candidate on exactly these rows). It is handed over for inspection and logging:
    fitting or tuning on it makes the gate's comparison flatter the candidate.
    """

    model_name: str
    purpose: str  # "bootstrap" (the first champion), "retrain" (a candidate); "fit": sklearn_training.fit
    task: str  # "binary", "multiclass" or "regression"
    target: str
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    segments: tuple[str, ...]
    classes: tuple[Any, ...]  # the classifier's classes, typed as in ``train[target]``; () for regression
    positive_label: Any  # binary: the class whose probability is the score; else None
    seed: int
    params: Mapping[str, Any]  # ``retraining.params`` of the config, read-only
    train: pd.DataFrame
    holdout: pd.DataFrame

    @property
    def features(self) -> tuple[str, ...]:
        """Numeric then categorical feature names: the columns a model is fitted and scored on."""
        return self.numeric_features + self.categorical_features

    @property
    def X(self) -> pd.DataFrame:
        """The training rows' feature columns."""
        return self.train[list(self.features)]

    @property
    def y(self) -> pd.Series:
        """The training rows' target."""
        return self.train[self.target]


def build_training_data(config: ModelConfig, purpose: str, train: pd.DataFrame, holdout: pd.DataFrame) -> TrainingData:
    """The ``TrainingData`` of ``config`` for ``train`` and ``holdout`` (targets already typed).

    Refuses what no trainer may be handed: a row without a label (labels are never imputed) and,
    for a classifier, training rows of a single class.
    """
    unlabelled = int(train[config.target].isna().sum())
    if unlabelled:
        raise InsufficientData(f"{config.name}: {unlabelled} training rows have no label; drop them first")
    columns = [*config.features.all, config.target, *config.segments]
    classify = config.task is not TaskType.REGRESSION
    classes: tuple[Any, ...] = ()
    positive: Any = None
    if classify:
        if train[config.target].nunique() < 2:
            raise InsufficientData(f"{config.name}: training rows hold a single class; a classifier cannot be fitted")
        found = ClassSet.of(config.classes or pd.concat([train[config.target], holdout[config.target]]), "training rows")
        classes = tuple(found.typed(pd.Series(found.keys, dtype=object)).tolist())
        if config.task is TaskType.BINARY:
            try:
                positive = found.typed(pd.Series([config.positive_label], dtype=object)).tolist()[0]
            except ValueError:
                positive = config.positive_label  # scoring names the problem (positive label not a class)
    return TrainingData(
        model_name=config.name,
        purpose=purpose,
        task=config.task.value,
        target=config.target,
        numeric_features=tuple(config.features.numeric),
        categorical_features=tuple(config.features.categorical),
        segments=tuple(config.segments),
        classes=classes,
        positive_label=positive,
        seed=config.retraining.seed,
        params=MappingProxyType(dict(config.retraining.params)),
        train=train[_present(train, [*columns, ORIGIN])].copy(),
        holdout=holdout[_present(holdout, [*columns, EVENT_TIME])].copy(),
    )


def _present(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in dict.fromkeys(columns) if c in frame.columns]


def model_problem(model: Any, task: TaskType) -> str | None:
    """What makes ``model`` unusable for ``task`` (``None`` when it can be scored).

    Scoring needs ``predict``; a classifier's monitoring, metrics and gate need its class
    probabilities too (``score`` / ``score_<class>`` in the log contract), so ``predict_proba``.
    """
    if model is None:
        return "returned None instead of a model"
    if isinstance(model, str):
        return (f"returned the string {model[:200]!r}; return the model object, or wrap the URI of a model "
                "you logged to MLflow yourself as `driftpilot.ports.ModelUri(uri)`")
    if not callable(getattr(model, "predict", None)):
        return f"returned a {type(model).__name__} without a `predict` method"
    if task is not TaskType.REGRESSION and not callable(getattr(model, "predict_proba", None)):
        return (f"returned a {type(model).__name__} without `predict_proba`; a {task.value} model must give "
                "class probabilities (the score columns of the log contract)")
    return None
