"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes/``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from driftpilot.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from driftpilot.domain.config import ModelConfig


# --- ModelRegistry (registry) ---
# Alias names and the tags driftpilot's registry contract relies on: part of the port, not of MLflow.
CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
KEY_TAG = "driftpilot.idempotency_key"  # every version/run driftpilot creates carries its idempotency key
RUN_ID_TAG = "driftpilot.run_id"  # the training run of a version (a LoggedModel source may not link it)

FittedModel = Any  # a model as the Trainer returns it and the registry stores it (opaque to use cases)


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    created: bool  # False when an existing version was reused (same idempotency key)


@dataclass(frozen=True)
class Baseline:
    """A model version's reference sample and profile, downloaded to a local folder."""

    model_name: str
    version: str
    directory: Path
    reference: pd.DataFrame
    profile: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ModelRun:
    """A trained model to log as one run, with its baseline, once per ``idempotency_key``."""

    experiment: str
    model: FittedModel
    input_example: pd.DataFrame
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    baseline_dir: Path | None
    idempotency_key: str
    run_name: str
    tags: Mapping[str, str]
    artifacts: Mapping[str, Path] = field(default_factory=dict)  # artifact folder -> local file


@dataclass(frozen=True)
class MonitoringRun:
    """One monitoring window as a run of the model's monitoring experiment (a re-run replaces it)."""

    model_name: str
    window: str
    model_version: str
    metrics: Mapping[str, float]
    tags: Mapping[str, str]
    artifacts_dir: Path | None


class ModelRegistry(Protocol):
    """Versions, aliases, tags, runs and baselines of the monitored models.

    Absent things read as ``None`` / empty; any other registry failure is raised, so a task is
    retried instead of acting on a registry it could not read. Alias writes are read back and
    raise ``RegistryInconsistent`` when the registry does not hold what was just written.
    """

    def find_version_by_key(self, model_name: str, key: str) -> RegisteredVersion | None:
        """The version registered with idempotency ``key`` (``created=False``), if any."""
        ...

    def find_run_by_key(self, experiment: str, key: str) -> str | None:
        """A finished run of ``experiment`` tagged with idempotency ``key``."""
        ...

    def log_model_run(self, run: ModelRun) -> str:
        """Log a model run (reused when a finished run has the same key); its run id."""
        ...

    def register_run(self, model_name: str, run_id: str, idempotency_key: str,
                     tags: Mapping[str, str]) -> RegisteredVersion:
        """Register the model of ``run_id`` as a new version, once per ``idempotency_key``."""
        ...

    def log_and_register(self, model_name: str, run: ModelRun) -> RegisteredVersion:
        """``log_model_run`` then ``register_run`` with the same key; the existing version if any."""
        ...

    def aliases(self, model_name: str) -> dict[str, str]: ...

    def alias_version(self, model_name: str, alias: str) -> str | None: ...

    def set_alias(self, model_name: str, alias: str, version: str) -> None: ...

    def delete_alias(self, model_name: str, alias: str) -> None: ...

    def version_tags(self, model_name: str, version: str) -> dict[str, str]: ...

    def set_version_tags(self, model_name: str, version: str, tags: Mapping[str, str]) -> None: ...

    def search_versions(self, model_name: str, tag: str, value: str) -> list[str]:
        """Versions of ``model_name`` whose ``tag`` equals ``value`` exactly, oldest first."""
        ...

    def load_model(self, model_name: str, version: str) -> FittedModel: ...

    def load_run_model(self, run_id: str) -> FittedModel: ...

    def load_baseline(self, model_name: str, version: str) -> Baseline:
        """The baseline of a version; ``BaselineNotFound`` when it has none (or is no version)."""
        ...

    def champion_baseline(self, model_name: str) -> Baseline: ...

    def log_run_artifacts(self, run_id: str, files: Mapping[str, Path],
                          metrics: Mapping[str, float] | None = None,
                          tags: Mapping[str, str] | None = None) -> None: ...

    def read_run_artifact(self, run_id: str, artifact_path: str) -> bytes | None:
        """The bytes of one artifact file of a run; ``None`` when the run has no such file."""
        ...

    def log_monitoring_run(self, run: MonitoringRun) -> str: ...


# --- Trainer (registry) ---
class Trainer(Protocol):
    """Fits a config's recipe and scores frames with the result (seeded, reproducible)."""

    def fit(self, config: ModelConfig, frame: pd.DataFrame) -> FittedModel: ...

    def predict(self, config: ModelConfig, model: FittedModel, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's outputs (prediction, and score for binary tasks), on ``frame``'s index."""
        ...

    def evaluate(self, config: ModelConfig, y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]: ...

    def training_target(self, config: ModelConfig, target: pd.Series) -> pd.Series:
        """The target as the model is fit on it (canonical class keys for classifiers)."""
        ...

    def feature_frame(self, config: ModelConfig, frame: pd.DataFrame) -> pd.DataFrame: ...

    def fitted_classes(self, model: FittedModel) -> list[str]: ...

    def feature_importance(self, config: ModelConfig, model: FittedModel, frame: pd.DataFrame) -> dict[str, float]: ...


# --- AlertChannel (registry) ---
class AlertChannel(Protocol):
    """One place an alert goes (a file, a webhook)."""

    def send(self, alert: Mapping[str, Any]) -> str:
        """Deliver ``alert``; returns a status that is safe to log (never a secret)."""
        ...


class Alerts(Protocol):
    """Sends an alert through the configured channels, once per (model, window, channel).

    Every channel is tried; then transient failures raise ``AlertDeliveryError`` (retried) and
    misconfigured channels raise ``ConfigError`` (not retried).
    """

    def notify(self, channels: tuple[str, ...], alert: Mapping[str, Any],
               connection_url: Callable[[str], str] | None = None) -> list[dict[str, str]]: ...


@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below as they are introduced.
    """

    settings: Settings
    registry: ModelRegistry  # models, versions, aliases, tags, runs, baselines (registry)
    trainer: Trainer  # fit / predict / evaluate a config's recipe (registry)
    alerts: Alerts  # alert delivery through the configured channels (registry)
