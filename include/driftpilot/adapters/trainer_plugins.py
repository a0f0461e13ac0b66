"""The ``Trainer`` port: the config's trainer fits, scikit-learn scores.

``retraining.trainer`` names the callable that fits a model from a ``TrainingData``
(``domain/trainer_contract.py``):

- ``sklearn`` (the default): the built-in recipes (``sklearn_training.train_recipe`` with
  ``retraining.estimator``);
- ``package.module:callable``: imported from the workers' environment;
- any other name: the entry point of that name in the ``driftpilot.trainers`` group
  (``importlib.metadata``), so an installed package can offer trainers by name
  (``[project.entry-points."driftpilot.trainers"] acme = "acme.train:fit_model"``).

A trainer that does not import, or is not callable, is a ``ConfigError`` naming the config file
and key (``check_config`` is what ``driftpilot check-config`` runs); a trainer that raises is a
``TrainerError`` naming it, with the original exception chained. What it returns is checked by
the use case (``usecases/training.py``) before anything is logged.

Scoring, metrics and importance are the scikit-learn adapter's (``SklearnTrainer``), whatever
trainer fitted the model.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Callable, Sequence
from typing import Any

from driftpilot.adapters import sklearn_training
from driftpilot.adapters.sklearn_training import SklearnTrainer
from driftpilot.domain.config import ModelConfig
from driftpilot.domain.trainer_contract import (
    ENTRY_POINT_GROUP,
    TrainerRef,
    TrainingData,
    parse_trainer_ref,
)
from driftpilot.errors import ConfigError, TrainerError

TrainerFn = Callable[[TrainingData], Any]
KEY = "retraining.trainer"


class PluginTrainer(SklearnTrainer):
    """Fits with the config's trainer; scores with scikit-learn (``SklearnTrainer``).

    ``entry_point_path`` limits the entry-point lookup to distributions found on those folders
    (tests point it at a folder holding a ``*.dist-info``); ``None`` searches ``sys.path``, as
    Python does for installed packages.
    """

    def __init__(self, entry_point_path: Sequence[str] | None = None) -> None:
        self._entry_point_path = list(entry_point_path) if entry_point_path is not None else None

    def check_config(self, config: ModelConfig) -> None:
        """Import the trainer (``ConfigError`` naming the key when it does not) and check the recipe."""
        resolve(config, self._entry_point_path)
        sklearn_training.check_config(config)

    def fit(self, config: ModelConfig, data: TrainingData) -> Any:
        trainer = resolve(config, self._entry_point_path)
        try:
            return trainer(data)
        except Exception as exc:
            raise TrainerError(
                f"{config.path}: the trainer `{KEY}: {config.retraining.trainer}` raised "
                f"{type(exc).__name__}: {exc} (while training the {data.purpose} model of {config.name}); "
                "nothing was logged or registered — fix the trainer and run again"
            ) from exc


def resolve(config: ModelConfig, entry_point_path: Sequence[str] | None = None) -> TrainerFn:
    """The callable ``retraining.trainer`` names, or ``ConfigError`` naming the file and key."""
    name = config.retraining.trainer
    try:
        ref = parse_trainer_ref(name)
    except ValueError as exc:
        raise ConfigError(f"{config.path}: `{KEY}` {exc}") from None
    if ref.kind == "builtin":
        sklearn_training.check_config(config)
        return functools.partial(sklearn_training.train_recipe, estimator=config.retraining.estimator)
    found = _import_callable(config, ref) if ref.kind == "callable" else _entry_point(config, ref, entry_point_path)
    if not callable(found):
        raise ConfigError(f"{config.path}: `{KEY}: {name}` is a {type(found).__name__}, not a callable; name a "
                          "function (or class) that takes one TrainingData and returns a fitted model")
    return found


def _import_callable(config: ModelConfig, ref: TrainerRef) -> Any:
    try:
        module = importlib.import_module(ref.module)
    except Exception as exc:  # ModuleNotFoundError, or the module's own import failing
        raise ConfigError(
            f"{config.path}: `{KEY}: {ref.value}`: cannot import module {ref.module!r} "
            f"({type(exc).__name__}: {exc}); install the package that provides it where driftpilot runs "
            "(the Airflow workers' environment) or fix the path"
        ) from exc
    target: Any = module
    for part in ref.attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"{config.path}: `{KEY}: {ref.value}`: module {ref.module!r} has no attribute "
                              f"{ref.attribute!r}; check the name after the colon")
        target = getattr(target, part)
    return target


def _entry_point(config: ModelConfig, ref: TrainerRef, path: Sequence[str] | None) -> Any:
    points = _group(path)
    matches = [p for p in points if p.name == ref.value]
    if not matches:
        known = ", ".join(sorted({p.name for p in points})) or "none installed"
        raise ConfigError(
            f"{config.path}: `{KEY}: {ref.value}` is no entry point of the `{ENTRY_POINT_GROUP}` group "
            f"(known: {known}); install the package that declares it, or write `package.module:callable`"
        )
    point = matches[0]
    try:
        return point.load()
    except Exception as exc:
        raise ConfigError(
            f"{config.path}: `{KEY}: {ref.value}`: the entry point {point.value!r} does not load "
            f"({type(exc).__name__}: {exc}); reinstall the package that declares it or fix its entry point"
        ) from exc


def _group(path: Sequence[str] | None) -> list[importlib.metadata.EntryPoint]:
    if path is None:
        return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    return [point for dist in importlib.metadata.distributions(path=list(path))
            for point in dist.entry_points if point.group == ENTRY_POINT_GROUP]
