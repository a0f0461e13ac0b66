"""Initial training: the first champion of a model, with its baseline, from the user's training data.

The training data is the user's (a DataFrame or a Parquet file with the config's features, target
and segments, in time order); it is validated, recorded in the lake as the model's original
training set (``training/model=<m>/original.parquet``, which retraining reads back) and its digest
is logged with the baseline. Trains the config's trainer (``retraining.trainer``: the built-in
recipe or the user's code, ``usecases/training.py``) on the first part of it, evaluates it on the most
recent part (an out-of-time holdout), and keeps that holdout, scored by the model, as the
**reference sample**: it is what the model's inputs and outputs look like on data it was not fit
on, at the time it was built. Registers the version and points alias ``champion`` at it if the
model has no champion yet. Running it again with the same config and data finds the version by
its idempotency key and trains nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.domain.profile import build_profile
from driftpilot.domain.trainer_contract import build_training_data
from driftpilot.domain.training_data import (
    original_training_key,
    prepare_training_data,
    training_data_digest,
)
from driftpilot.errors import BaselineNotFound, ConfigError
from driftpilot.ports import CHAMPION, ModelRun, Ports, Trainer, WorkFiles
from driftpilot.usecases.training import train_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootstrapResult:
    model_name: str
    version: str
    created: bool
    champion: str
    metrics: dict[str, float]


def training_experiment(config: ModelConfig) -> str:
    return f"driftpilot/{config.name}/training"


def write_baseline(files: WorkFiles, config: ModelConfig, reference: pd.DataFrame, metadata: dict[str, Any],
                   directory: Path, seen: pd.DataFrame | None = None) -> Path:
    """Write reference.parquet, profile.json and metadata.json of a baseline into ``directory``.

    ``seen``: every row the model was trained and evaluated on, when driftpilot has them; their
    categories are the ones monitoring accepts as known (see ``domain.profile``).
    """
    pred_numeric: tuple[str, ...] = (SCORE,) if config.task is TaskType.BINARY else ()
    pred_numeric += (PREDICTION,) if config.task is TaskType.REGRESSION else ()
    pred_categorical = (PREDICTION,) if config.task is not TaskType.REGRESSION else ()
    profile = build_profile(
        reference,
        config.features.numeric,
        config.features.categorical,
        prediction_numeric=pred_numeric,
        prediction_categorical=pred_categorical,
        seen=seen,
    )
    files.write_frame(directory / "reference.parquet", reference)
    files.write_json(directory / "profile.json", profile)
    files.write_json(directory / "metadata.json", metadata)
    return directory


def reference_sample(config: ModelConfig, holdout: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """The holdout as scored by the model (features, target, segments, outputs), seeded and capped."""
    extra_segments = [c for c in config.segments if c not in config.features.all]
    reference = holdout[[*config.features.all, config.target, *extra_segments]].join(scored)
    if len(reference) > config.retraining.reference_rows:
        reference = reference.sample(n=config.retraining.reference_rows, random_state=config.retraining.seed)
        reference = reference.sort_index()
    return reference.reset_index(drop=True)


def baseline_metadata(trainer: Trainer, config: ModelConfig, model: Any, holdout: pd.DataFrame,
                      metrics: dict[str, float], extra: dict[str, Any]) -> dict[str, Any]:
    """metadata.json of a baseline: what the model is, how it did on its holdout, what it relies on."""
    return {
        "model_name": config.name,
        "task": config.task.value,
        "features": {"numeric": list(config.features.numeric), "categorical": list(config.features.categorical)},
        "target": config.target,
        "holdout_metrics": metrics,
        "classes": trainer.fitted_classes(model),
        "feature_importance": trainer.feature_importance(config, model, holdout),
        **extra,
    }


def trainer_params(config: ModelConfig) -> dict[str, Any]:
    """The run params that say which trainer fitted a model and with which settings."""
    recipe = config.retraining
    chosen = {"estimator": recipe.estimator} if recipe.builtin else {}
    return {"trainer": recipe.trainer, **chosen, **{f"param.{k}": v for k, v in recipe.params.items()},
            "seed": recipe.seed}


def load_training_data(config: ModelConfig, ports: Ports, training_data: pd.DataFrame | Path | None) -> pd.DataFrame:
    """The validated training data: the frame or Parquet file given, else the one recorded in the lake.

    ``None`` means "the original training set this model was bootstrapped with" (a re-run of the
    bootstrap DAG, ``bootstrap --all``); a model that has none yet must be given its data.
    """
    recorded_key = original_training_key(config.name)
    recorded = ports.lake.path(recorded_key)
    if training_data is None:
        if not ports.lake.exists(recorded_key):
            raise ConfigError(
                f"{config.name}: no training data given and none recorded at {recorded}; run "
                f"`driftpilot bootstrap --model {config.name} --training-data FILE.parquet` (the features, target and "
                "segments of the config, in time order) or trigger the bootstrap DAG with conf "
                '{"training_data": "/path/to/FILE.parquet"}'
            )
        return prepare_training_data(config, ports.lake.read(recorded_key), str(recorded))
    if isinstance(training_data, pd.DataFrame):
        return prepare_training_data(config, training_data, "training data")
    path = Path(training_data)
    if not ports.files.exists(path):
        raise ConfigError(f"{config.name}: training data file {path} does not exist; give a Parquet file")
    return prepare_training_data(config, ports.files.read_frame(path), str(path))


def bootstrap_champion(
    config: ModelConfig, ports: Ports, training_data: pd.DataFrame | Path | None = None
) -> BootstrapResult:
    """Train, register and (if the model has none) crown the first champion from ``training_data``.

    The original training set is recorded in the lake only once its version is registered (a
    failed fit or registration leaves the recorded file as it was), and never replaced with other
    data while the model has a champion: the file is what the champion's baseline digest names,
    and what retraining reads back.
    """
    registry, trainer = ports.registry, ports.trainer
    period = load_training_data(config, ports, training_data)
    digest = training_data_digest(period)
    data_key = original_training_key(config.name)
    key = f"bootstrap:{config.fingerprint}:{digest.removeprefix('sha256:')[:12]}"
    champion = registry.alias_version(config.name, CHAMPION)
    if champion is not None:
        _refuse_other_training_data(config, ports, champion, digest)
    existing = registry.find_version_by_key(config.name, key)
    metrics: dict[str, float] = {}
    if existing is not None:
        version = existing
        log.info("initial model of %s already registered as version %s", config.name, version.version)
    else:
        cut = int(len(period) * (1 - config.retraining.holdout_share))
        fit_rows, holdout = period.iloc[:cut], period.iloc[cut:].reset_index(drop=True)
        log.info("training %s on %d rows, holdout %d rows with trainer %s", config.name, len(fit_rows), len(holdout),
                 config.retraining.trainer)
        # The configured trainer (the built-in recipe or the user's), checked before anything is logged.
        typed = fit_rows.assign(**{config.target: trainer.training_target(config, fit_rows[config.target]).to_numpy()})
        trained = train_model(config, ports, build_training_data(config, "bootstrap", typed, holdout))
        model, scored = trained.scorer, trained.scored_holdout
        metrics = trainer.evaluate(config, holdout[config.target], scored)
        reference = reference_sample(config, holdout, scored)
        metadata = baseline_metadata(trainer, config, model, holdout, metrics, {
            "trainer": trained.trainer,
            **({"model_uri": trained.uri} if trained.uri else {}),
            "training_data": {"key": data_key, "digest": digest, "rows": len(period)},
            "training_rows": [0, cut],
            "holdout_rows": [cut, len(period)],
            "reason": "initial training on the first period",
            "fingerprint": config.fingerprint,
        })
        with ports.files.scratch("baseline-") as folder:
            baseline_dir = write_baseline(ports.files, config, reference, metadata, folder, seen=period)
            version = registry.log_and_register(config.name, ModelRun(
                experiment=training_experiment(config),
                model=trained.model,
                input_example=trainer.feature_frame(config, holdout.head(5)),
                params={
                    **trainer_params(config),
                    "training_data": data_key,
                    "training_data_digest": digest,
                    "train_rows": cut,
                    "holdout_rows": len(holdout),
                },
                metrics={f"holdout_{k}": v for k, v in metrics.items()},
                baseline_dir=baseline_dir,
                idempotency_key=key,
                run_name=f"{config.name}-initial",
                tags={"driftpilot.reason": "initial training", "driftpilot.fingerprint": config.fingerprint,
                      "driftpilot.training_data_digest": digest, "driftpilot.trainer": trained.trainer},
            ))
    # Recorded once the version exists, before it can become champion: retraining reads what the
    # initial model learned from. With a champion in place the file is already this data (checked
    # above) and is only written when missing.
    if champion is None or not ports.lake.exists(data_key):
        ports.lake.write_frame(data_key, period)
    if champion is None:
        registry.set_alias(config.name, CHAMPION, version.version)
        champion = version.version
        log.info("alias %s of %s -> version %s", CHAMPION, config.name, champion)
    return BootstrapResult(config.name, version.version, version.created, champion, metrics)


def _refuse_other_training_data(config: ModelConfig, ports: Ports, champion: str, digest: str) -> None:
    """``ConfigError`` when the model's champion learned from other data than ``digest``'s.

    Which data the champion learned from: the digest its baseline names (a bootstrapped
    champion), else that of the recorded original training set (a retrained champion, whose
    baseline does not name it). Neither known: nothing to protect.
    """
    key = original_training_key(config.name)
    try:
        named = ports.registry.load_baseline(config.name, champion).metadata.get("training_data", {}).get("digest")
    except BaselineNotFound:
        named = None
    theirs = named
    if theirs is None and ports.lake.exists(key):
        theirs = training_data_digest(load_training_data(config, ports, None))
    if theirs is None or theirs == digest:
        return
    path = ports.lake.path(key)
    raise ConfigError(
        f"{config.name}: its champion (version {champion}) was trained from other data (training data digest "
        f"{theirs}) than the data given ({digest}); the recorded original training set {path} stays the "
        "champion's, because retraining reads it back. To keep the champion, run bootstrap without "
        f"--training-data (`driftpilot bootstrap --model {config.name}`); to monitor a model trained on this "
        "data, give it a config with another `name`; to start this model over, delete its registered model "
        f"and {path} (locally: `make reset`)."
    )
