"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes/``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from driftpilot.domain.evidence import (
    AlertDelivery,
    AliasMove,
    DecisionRecord,
    GateVerdict,
    MetricRow,
    PerformanceRecord,
    RetrainOutboxEntry,
    RetrainState,
    VersionOutcome,
    WindowRecord,
)
from driftpilot.settings import Settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from driftpilot.domain.categories import ClassSet
    from driftpilot.domain.config import ModelConfig
    from driftpilot.domain.reports import DecidingDrift, StepReports
    from driftpilot.domain.trainer_contract import TrainingData
    from driftpilot.domain.validation_rules import ValidationResult


# --- ModelRegistry ---
# Alias names and the tags driftpilot's registry contract relies on: part of the port, not of MLflow.
CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
KEY_TAG = "driftpilot.idempotency_key"  # every version/run driftpilot creates carries its idempotency key
RUN_ID_TAG = "driftpilot.run_id"  # the training run of a version (a LoggedModel source may not link it)
# The driftpilot run holding the baseline of a version driftpilot did not train (`register`);
# preferred over the training run, and written last, so a version has a baseline or none.
BASELINE_RUN_TAG = "driftpilot.baseline_run"

# A model as a Trainer returns it and the registry stores and loads it (opaque to use cases): a
# scikit-learn-compatible estimator, any object with ``predict`` (and ``predict_proba`` /
# ``classes_`` for classifiers), or a ``ModelUri`` of a model the trainer logged to MLflow itself.
FittedModel = Any


@dataclass(frozen=True)
class ModelUri:
    """A model that already lives in MLflow (``runs:/<id>/model``, ``models:/<name>/<version>``, a
    path holding an ``MLmodel`` file): the registry registers it as is instead of logging a copy."""

    uri: str


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
class BaselineRun:
    """A baseline of a model driftpilot did not train, as a run of its own, once per ``idempotency_key``.

    ``model_uri``: a model to register from this run (``runs:/...``, ``models:/m-...``);
    ``model_dir``: a local MLflow model folder copied into the run (then registered from there).
    """

    experiment: str
    baseline_dir: Path
    idempotency_key: str
    run_name: str
    tags: Mapping[str, str]
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    model_uri: str | None = None
    model_dir: Path | None = None


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

    def load_model(self, model_name: str, version: str) -> FittedModel:
        """A registered version, loaded by its flavours (scikit-learn natively, else a pyfunc)."""
        ...

    def load_run_model(self, run_id: str) -> FittedModel: ...

    def load_model_uri(self, uri: str) -> FittedModel:
        """Any model URI (``models:/``, ``runs:/``, a folder); ``ConfigError`` naming it when it does not load."""
        ...

    def find_version(self, model_name: str, version: str) -> RegisteredVersion | None:
        """The registered ``version`` of ``model_name``; ``None`` when there is no such version."""
        ...

    def log_baseline_run(self, run: BaselineRun) -> str:
        """Log a baseline-only run (reused when a finished run has the same key); its run id."""
        ...

    def attach_baseline(self, model_name: str, version: str, run_id: str) -> None:
        """Name ``run_id`` as the run holding the baseline of ``version`` (``BASELINE_RUN_TAG``)."""
        ...

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


# --- Trainer ---
class Trainer(Protocol):
    """Runs the config's trainer (``retraining.trainer``) and scores frames with any model.

    ``fit`` hands the trainer one ``TrainingData`` (``domain/trainer_contract.py``) and returns
    what it returned, unchecked (a model object or a ``ModelUri``): the use case checks it before
    anything is logged. A trainer that raises is a ``TrainerError`` naming it.
    """

    def check_config(self, config: ModelConfig) -> None:
        """Raise ``ConfigError`` (naming file and key) when the trainer does not import or the
        built-in recipe's estimator is unknown."""
        ...

    def fit(self, config: ModelConfig, data: TrainingData) -> FittedModel: ...

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


# --- AlertChannel ---
class AlertChannel(Protocol):
    """One place an alert goes (a file, a webhook, Slack or e-mail through an Airflow provider)."""

    def send(self, alert: Mapping[str, Any]) -> str:
        """Deliver ``alert``; returns a status that is safe to log (never a secret)."""
        ...


class Alerts(Protocol):
    """Sends an alert through the configured channels, once per (model, window, channel).

    Every channel is tried; then transient failures raise ``AlertDeliveryError`` (retried) and
    misconfigured channels raise ``ConfigError`` (not retried). ``provided`` holds channels the
    caller built (the DAG layer's Slack and e-mail notifiers), keyed by their spec.
    """

    def notify(self, channels: tuple[str, ...], alert: Mapping[str, Any],
               connection_url: Callable[[str], str] | None = None,
               provided: Mapping[str, AlertChannel] | None = None) -> list[dict[str, str]]: ...


# --- EvidenceStore ---
class EvidenceStore(Protocol):
    """Driftpilot's own memory: typed evidence records, and long-format metric rows for trends.

    Performance is versioned by as-of time: ``put_performance`` appends the version known at
    its ``as_of`` (the same as-of again replaces it), and ``performance(as_of=t)`` returns per
    window the latest version known at ``t``. Decisions read as of their window's end, so an old
    window re-run after later label arrivals decides exactly as it did the first time. Window
    evidence is replaced when its window is re-run. Times and windows are ISO strings.
    The gate verdicts, version outcomes and the lock are what promotion trusts (never the
    registry's editable tags).
    """

    # long-format metric rows: trends, MLflow metrics, the lake's metrics.parquet
    def upsert_metrics(self, rows: Iterable[MetricRow], computed_at: str) -> int: ...
    def replace_window_metrics(self, model: str, window: str, prefix: str, rows: list[MetricRow],
                               computed_at: str) -> int: ...
    def read_metrics(self, model: str, since: str | None = None, metrics: list[str] | None = None) -> pd.DataFrame: ...
    def trend(self, model: str, metric: str, column: str, until: date, days: int) -> pd.DataFrame: ...

    # evidence behind decisions
    def put_window_evidence(self, record: WindowRecord) -> None: ...
    def window_evidence(self, model: str, since: str | None = None, until: str | None = None) -> list[WindowRecord]: ...
    def put_performance(self, record: PerformanceRecord) -> None: ...
    def performance(self, model: str, as_of: str | None = None, since: str | None = None,
                    until: str | None = None) -> list[PerformanceRecord]: ...
    def performance_versions(self, model: str, window: str) -> list[PerformanceRecord]: ...
    def save_decision(self, record: DecisionRecord) -> None: ...
    def decisions(self, model: str) -> list[DecisionRecord]: ...

    # the retrain outbox: recorded -> emitted -> (superseded | ran); only `ran` counts
    def record_retrain(self, model: str, key: str, window: str, requested_at: str, reason: str) -> RetrainState: ...
    def mark_retrain_emitted(self, model: str, key: str) -> bool: ...
    def supersede_retrains(self, model: str, requests: Iterable[tuple[str, str, str, str]], by: str) -> list[str]: ...
    def mark_retrain_ran(self, model: str, key: str, window: str, requested_at: str, reason: str) -> None: ...
    def retrain_requests(self, model: str) -> list[RetrainOutboxEntry]: ...
    def retrain_times(self, model: str, before: str | None = None) -> list[str]: ...

    # alert deliveries (one per model, window and channel name)
    def alert_delivery_status(self, model: str, window: str, channel: str) -> str | None: ...
    def begin_alert_delivery(self, model: str, window: str, channel: str) -> None: ...
    def finish_alert_delivery(self, model: str, window: str, channel: str, status: str, detail: str) -> None: ...
    def alert_deliveries(self, model: str) -> list[AlertDelivery]: ...

    # the promotion log and promotion integrity
    def append_promotion(self, move: AliasMove) -> None: ...
    def promotion_log(self, model: str) -> list[AliasMove]: ...
    def last_alias_target(self, model: str, alias: str) -> tuple[bool, str | None]: ...
    def record_gate_verdict(self, model: str, run_id: str, passed: bool, digest: str, champion_version: str,
                            recorded_at: str) -> GateVerdict: ...
    def bind_gate_verdict(self, model: str, run_id: str, version: str) -> GateVerdict: ...
    def gate_verdict_of_run(self, model: str, run_id: str) -> GateVerdict | None: ...
    def gate_verdict(self, model: str, version: str) -> GateVerdict | None: ...
    def record_outcome(self, model: str, version: str, outcome: str, final: bool, detail: str,
                       decided_at: str) -> None: ...
    def version_outcome(self, model: str, version: str) -> VersionOutcome | None: ...
    def held_lock(self, name: str, holder: str, *, timeout: float = 120.0, ttl: float = 900.0,
                  poll: float = 0.1) -> AbstractContextManager[str]: ...


# --- ReportRenderer ---
class ReportRenderer(Protocol):
    """Human-readable reports of a window, each step writing its own files in ``out_dir``.

    ``current`` is the window's rows (or a bounded sample of ``total_rows`` rows), ``reference``
    the serving baseline's reference sample; the renderer bounds both, plans the columns and
    methods, and returns the typed record of what it wrote (also kept as the step's manifest).
    A step never touches the other step's files; the window's index is rendered from both records.
    """

    def check_config(self, config: ModelConfig) -> None:
        """Raise ``ConfigError`` (naming file and key) for report settings it cannot honour."""
        ...

    def render_drift(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame, out_dir: Path,
                     window_label: str, *, seed: int = 0, total_rows: int | None = None,
                     verdict: DecidingDrift | None = None) -> StepReports:
        """Drift and data-quality reports (the drift task); ``verdict`` (driftpilot's, which decides)
        is stated first on the pages, Evidently's own figures labelled as Evidently's."""
        ...

    def render_performance(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame,
                           labelled: pd.DataFrame | None, out_dir: Path, window_label: str, *, seed: int = 0,
                           total_rows: int | None = None) -> StepReports:
        """The performance report of the labelled rows, or "insufficient labels" (the labels task)."""
        ...


# --- Lake ---


class BatchWriter(Protocol):
    """One file written batch by batch, published atomically by ``close`` (``abort`` drops it)."""

    rows: int

    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> Any: ...
    def abort(self) -> None: ...


class Lake(Protocol):
    """The lake, addressed by lake-relative keys (``validated/model=m/date=2026-01-01/part-0.parquet``).

    Windows are read as batches (memory ~ one batch, whatever the window); every write is atomic.
    ``path`` exists for messages and for files copied whole (quarantined files); an object-store
    lake returns its URI.
    """

    def path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def files(self, kind: str, model: str, day: date) -> list[str]: ...
    def dates(self, kind: str, model: str) -> list[date]: ...
    def batches(self, key: str, columns: list[str] | None = None, batch_rows: int = ...) -> Iterator[pd.DataFrame]: ...
    def record_batches(self, key: str, columns: list[str] | None = None, batch_rows: int = ...) -> Iterator[Any]: ...
    def read(self, key: str, columns: list[str] | None = None) -> pd.DataFrame: ...
    def writer(self, key: str) -> BatchWriter: ...
    def write_frame(self, key: str, frame: pd.DataFrame, *, mixed_types_as_text: bool = False) -> None:
        """Write ``frame`` atomically; ``mixed_types_as_text`` keeps rows as a writer sent them
        (an object column of mixed types becomes text), for quarantined rows."""
        ...
    def write_json(self, key: str, payload: Any) -> None: ...
    def write_text(self, key: str, text: str) -> None: ...
    def read_json(self, key: str) -> Any: ...

    # whole files and folders: quarantined files copied in, partitions read together
    def read_partitions(self, kind: str, model: str, days: Iterable[date]) -> pd.DataFrame:
        """Every Parquet file of those partitions, concatenated (an empty frame when none)."""
        ...

    def copy(self, source: str, target: str) -> int:
        """Copy the file at ``source`` whole to ``target`` (atomically); the bytes copied."""
        ...

    def delete_folder(self, prefix: str) -> None:
        """Remove everything under the folder ``prefix`` (nothing when it does not exist)."""
        ...


# --- WorkFiles ---


class WorkFiles(Protocol):
    """Files outside the lake at local paths: a retraining work folder, a baseline folder for the
    registry, a user's training file. Every write is atomic (a reader sees the old file or the new).
    Use cases make temporary folders only through ``scratch``, never with ``tempfile`` themselves.
    """

    def scratch(self, prefix: str) -> AbstractContextManager[Path]:
        """A new, empty local folder, removed with its content on exit: files handed to another
        system whole (a baseline folder or a gate record logged to the registry)."""
        ...

    def exists(self, path: Path) -> bool: ...
    def read_frame(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
        """A Parquet file; a damaged file raises ``CorruptFile`` naming its path."""
        ...
    def write_frame(self, path: Path, frame: pd.DataFrame) -> None: ...
    def read_json(self, path: Path) -> Any: ...
    def write_json(self, path: Path, payload: Any) -> None: ...
    def write_text(self, path: Path, text: str) -> None: ...


# --- Validator ---


class Validator(Protocol):
    """Validates a window given as re-iterable batches; writes the validated and quarantine files.

    Quarantine decisions are taken on every row; ``heads`` (first rows of each file) carry the
    files' dtypes for the schema check. An error raised while iterating ``batches`` (a
    ``CorruptFile`` found past a file's head) propagates after the validator dropped everything
    it had written for the attempt, so the caller can set the file aside and validate again.
    """

    def validate(
        self,
        config: ModelConfig,
        profile: Mapping[str, Any],
        window_start: datetime,
        window_end: datetime,
        batches: Callable[[], Iterable[pd.DataFrame]],
        *,
        heads: pd.DataFrame,
        accepted_key: str,
        quarantine_dir: str,
        docs_dir: str,
        key_columns: Sequence[str],
        classes: ClassSet | None = None,
        pre_flag: Callable[[pd.DataFrame, int], Sequence[tuple[str, np.ndarray]]] | None = None,
        files_quarantined: Sequence[Mapping[str, Any]] = (),
    ) -> ValidationResult: ...


@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below.
    """

    settings: Settings
    registry: ModelRegistry  # models, versions, aliases, tags, runs, baselines
    trainer: Trainer  # run the config's trainer; predict / evaluate any model
    alerts: Alerts  # alert delivery through the configured channels
    store: EvidenceStore  # typed evidence, outbox, promotion log and lock
    reports: ReportRenderer  # Evidently drift/quality/performance pages
    lake: Lake  # the Parquet lake
    validator: Validator  # window validation, GX on a sample
    files: WorkFiles  # local files outside the lake: retraining work folder, baseline folders
