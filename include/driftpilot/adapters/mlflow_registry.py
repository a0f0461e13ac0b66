"""MLflow adapter: tracking runs, the model registry (aliases, never stages) and baselines.

The only module that imports MLflow. A model version's **baseline** (reference sample + profile)
is logged as artifacts of the run that trained it, under ``baseline/``, so "the baseline of the
version that served a window" is always one registry look-up away. Idempotency: every version
created by driftpilot carries a ``driftpilot.idempotency_key`` tag; asking again with the same
key returns the existing version instead of registering a second one.

Only "not found" means absent: an ``MlflowException`` whose ``error_code`` is
``RESOURCE_DOES_NOT_EXIST`` reads as "no such model / version / alias"; any other error (server
down, 500, timeout, bad request) is raised, so Airflow retries the task instead of driftpilot
acting on a registry it could not read (resetting ``champion``, losing ``previous``, registering a
duplicate version).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from driftpilot.errors import BaselineNotFound, RegistryInconsistent
from driftpilot.settings import Settings

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
KEY_TAG = "driftpilot.idempotency_key"
MODEL_URI_TAG = "driftpilot.model_uri"
BASELINE_PATH = "baseline"


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


def connect(settings: Settings) -> Any:
    """Point MLflow at the configured store and return a client (quiet, no telemetry)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if settings.mlflow_tracking_uri.startswith("sqlite:///"):
        Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)


def ensure_experiment(settings: Settings, name: str) -> str:
    """Experiment id of ``name``, created with an explicit artifact location if new."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    location = (settings.mlflow_artifacts / name.replace("/", "_")).resolve()
    location.mkdir(parents=True, exist_ok=True)
    return str(mlflow.create_experiment(name, artifact_location=location.as_uri()))


NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"  # mlflow.protos.databricks_pb2.ErrorCode name


def is_not_found(exc: BaseException) -> bool:
    """True only for MLflow's "resource does not exist" error; every other error is real."""
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code == NOT_FOUND


def find_version_by_key(client: Any, model_name: str, key: str) -> Any | None:
    """The model version tagged with idempotency ``key``, if one was registered before."""
    try:
        found = client.search_model_versions(f"name='{model_name}' and tag.`{KEY_TAG}`='{key}'")
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return found[0] if found else None


def aliases(client: Any, model_name: str) -> dict[str, str]:
    """Every alias of ``model_name`` (empty when the model is not registered)."""
    try:
        found = client.get_registered_model(model_name).aliases
    except Exception as exc:
        if is_not_found(exc):
            return {}
        raise
    return {str(k): str(v) for k, v in (found or {}).items()}


def alias_version(client: Any, model_name: str, alias: str) -> str | None:
    """The version an alias points to, or ``None`` when the alias (or the model) does not exist."""
    return aliases(client, model_name).get(alias)


def _check_alias(client: Any, model_name: str, alias: str, expected: str | None) -> None:
    """Read-after-write: raise when the registry does not hold what was just written."""
    found = alias_version(client, model_name, alias)
    if found != expected:
        raise RegistryInconsistent(
            f"alias {alias!r} of {model_name} reads {found!r} right after driftpilot set it to {expected!r}: "
            "something else is moving this model's aliases (a registry user, or a process outside driftpilot's "
            "promotion lock). Check the registry and `driftpilot promotions`, then run `driftpilot reconcile`."
        )


def set_alias(client: Any, model_name: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` and read it back."""
    client.set_registered_model_alias(model_name, alias, str(version))
    _check_alias(client, model_name, alias, str(version))


def _skops_trusted_types(model: Any) -> list[str]:
    """Types skops must trust to load ``model``: the model is ours, built by this process."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def find_run_by_key(settings: Settings, experiment: str, key: str) -> str | None:
    """A finished run of ``experiment`` tagged with idempotency ``key`` (its model is reusable)."""
    client = connect(settings)
    experiment_id = ensure_experiment(settings, experiment)
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'", max_results=1
    )
    return str(runs[0].info.run_id) if runs else None


def log_model_run(
    settings: Settings,
    *,
    experiment: str,
    model: Any,
    input_example: pd.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    baseline_dir: Path | None,
    idempotency_key: str,
    run_name: str,
    tags: Mapping[str, str],
    artifacts: Mapping[str, Path] | None = None,
) -> str:
    """Log ``model`` (and its baseline) in a new run tagged with ``idempotency_key``; its run id.

    A finished run with the same key is reused: a retried task never logs a second model.
    """
    import mlflow
    import mlflow.sklearn

    existing = find_run_by_key(settings, experiment, idempotency_key)
    if existing is not None:
        log.info("reusing run %s (idempotency key %s)", existing, idempotency_key)
        return existing
    experiment_id = ensure_experiment(settings, experiment)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name,
                          tags={KEY_TAG: idempotency_key, **dict(tags)}) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        if baseline_dir is not None:
            mlflow.log_artifacts(str(baseline_dir), artifact_path=BASELINE_PATH)
        for artifact_path, local in (artifacts or {}).items():
            mlflow.log_artifact(str(local), artifact_path=artifact_path)
        mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=input_example,
            skops_trusted_types=_skops_trusted_types(model),
        )
        logged = mlflow.last_logged_model()
        model_uri = logged.model_uri if logged is not None else f"runs:/{run.info.run_id}/model"
        mlflow.set_tag(MODEL_URI_TAG, model_uri)
        return str(run.info.run_id)


def run_model_uri(settings: Settings, run_id: str) -> str:
    client = connect(settings)
    return str(client.get_run(run_id).data.tags.get(MODEL_URI_TAG) or f"runs:/{run_id}/model")


def load_run_model(settings: Settings, run_id: str) -> Any:
    import mlflow.sklearn

    return mlflow.sklearn.load_model(run_model_uri(settings, run_id))


def log_run_artifacts(settings: Settings, run_id: str, files: Mapping[str, Path],
                      metrics: Mapping[str, float] | None = None, tags: Mapping[str, str] | None = None) -> None:
    """Add artifacts / metrics / tags to a finished run (e.g. the gate's comparison)."""
    client = connect(settings)
    for artifact_path, local in files.items():
        client.log_artifact(run_id, str(local), artifact_path=artifact_path)
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, float(value))
    for key, text in (tags or {}).items():
        client.set_tag(run_id, key, text)


def read_run_artifact(settings: Settings, run_id: str, artifact_path: str) -> bytes | None:
    """The bytes of one artifact file of a run; ``None`` when the run has no such file."""
    import tempfile

    import mlflow.artifacts

    client = connect(settings)
    folder = artifact_path.rpartition("/")[0]
    try:
        listed = client.list_artifacts(run_id, folder or None)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    if not any(f.path == artifact_path and not f.is_dir for f in listed):
        return None
    with tempfile.TemporaryDirectory(prefix="artifact-") as tmp:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path, dst_path=tmp,
                                                    tracking_uri=settings.mlflow_tracking_uri)
        return Path(local).read_bytes()


def register_run(settings: Settings, model_name: str, run_id: str, idempotency_key: str,
                 tags: Mapping[str, str]) -> RegisteredVersion:
    """Register the model of ``run_id`` as a new version, once per ``idempotency_key``."""
    import mlflow

    client = connect(settings)
    existing = find_version_by_key(client, model_name, idempotency_key)
    if existing is not None:
        log.info("reusing %s version %s (idempotency key %s)", model_name, existing.version, idempotency_key)
        return RegisteredVersion(model_name, str(existing.version), run_id, created=False)
    version = mlflow.register_model(
        run_model_uri(settings, run_id), model_name, tags={KEY_TAG: idempotency_key, **dict(tags)}
    )
    # register_model may not link the run when the source is a LoggedModel; record it ourselves.
    client.set_model_version_tag(model_name, version.version, "driftpilot.run_id", run_id)
    return RegisteredVersion(model_name, str(version.version), run_id, created=True)


def log_and_register(
    settings: Settings,
    *,
    experiment: str,
    model_name: str,
    model: Any,
    input_example: pd.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    baseline_dir: Path,
    idempotency_key: str,
    run_name: str,
    tags: Mapping[str, str],
) -> RegisteredVersion:
    """Log ``model`` and its baseline in one run and register it as a new version.

    Re-running with the same ``idempotency_key`` returns the version registered before.
    """
    client = connect(settings)
    existing = find_version_by_key(client, model_name, idempotency_key)
    if existing is not None:
        log.info("reusing %s version %s (idempotency key %s)", model_name, existing.version, idempotency_key)
        return RegisteredVersion(model_name, str(existing.version), str(existing.run_id), created=False)
    run_id = log_model_run(
        settings, experiment=experiment, model=model, input_example=input_example, params=params,
        metrics=metrics, baseline_dir=baseline_dir, idempotency_key=idempotency_key, run_name=run_name, tags=tags,
    )
    return register_run(settings, model_name, run_id, idempotency_key, tags)


def version_tags(settings: Settings, model_name: str, version: str) -> dict[str, str]:
    client = connect(settings)
    return dict(client.get_model_version(model_name, str(version)).tags or {})


def set_version_tags(settings: Settings, model_name: str, version: str, tags: Mapping[str, str]) -> None:
    client = connect(settings)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, str(version), key, value)


def search_versions(settings: Settings, model_name: str, tag: str, value: str) -> list[str]:
    """Versions of ``model_name`` whose ``tag`` equals ``value``, oldest first."""
    client = connect(settings)
    found = client.search_model_versions(f"name='{model_name}' and tag.`{tag}`='{value}'")
    return sorted((str(v.version) for v in found), key=int)


def delete_alias(settings: Settings, model_name: str, alias: str) -> None:
    """Remove ``alias`` (already gone is fine) and read back that it is gone."""
    client = connect(settings)
    try:
        client.delete_registered_model_alias(model_name, alias)
    except Exception as exc:
        if not is_not_found(exc):
            raise
    _check_alias(client, model_name, alias, None)


def version_run_id(client: Any, model_name: str, version: str) -> str:
    """The training run of a registered version; ``BaselineNotFound`` when it is not registered."""
    try:
        mv = client.get_model_version(model_name, str(version))
    except Exception as exc:
        if is_not_found(exc):
            raise BaselineNotFound(
                f"{model_name} version {version} is not registered in the MLflow registry of "
                "MLFLOW_TRACKING_URI: register it with driftpilot (`driftpilot bootstrap --model "
                f"{model_name}` for the initial model, the retraining DAG for later ones), or point "
                "MLFLOW_TRACKING_URI at the registry that holds it, or fix the `model_version` the serving "
                "code logs."
            ) from exc
        raise
    run_id = (mv.tags or {}).get("driftpilot.run_id") or mv.run_id
    if not run_id:
        raise BaselineNotFound(f"{model_name} version {version} has no training run to hold its baseline; "
                               "re-register it with driftpilot so its baseline is logged")
    return str(run_id)


def load_model(settings: Settings, model_name: str, version: str) -> Any:
    """Load a registered version as a scikit-learn pipeline."""
    import mlflow.sklearn

    connect(settings)
    return mlflow.sklearn.load_model(f"models:/{model_name}/{version}")


def is_version_number(version: str) -> bool:
    """Whether ``version`` is spelled as an MLflow registry version: 1, 2, ... (no sign, no zeros first)."""
    return version.isascii() and version.isdigit() and not version.startswith("0")


def load_baseline(settings: Settings, model_name: str, version: str) -> Baseline:
    """Download (once, cached by version) and read the baseline of ``model_name`` ``version``."""
    import mlflow.artifacts

    version = str(version)
    if not is_version_number(version):
        # MLflow numbers versions 1, 2, ...: anything else ("v99", "1.0", "") names no version, and
        # must never become a path under the baseline cache either.
        raise BaselineNotFound(
            f"{model_name}: {version!r} is not an MLflow model version (versions are numbered 1, 2, ...): "
            "fix the `model_version` the serving code logs, or register the model with driftpilot"
        )
    cache = settings.baseline_cache / model_name / version
    if not (cache / "profile.json").exists():
        client = connect(settings)
        run_id = version_run_id(client, model_name, version)
        staging = cache.with_name(f".{version}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        # Absent (deterministic) is told apart from unreadable (transient, raised for a retry).
        try:
            listed = client.list_artifacts(run_id, BASELINE_PATH)
        except Exception as exc:
            if is_not_found(exc):
                listed = []
            else:
                raise
        if not listed:
            raise BaselineNotFound(
                f"{model_name} version {version}: no baseline artifacts under run {run_id}/{BASELINE_PATH}. "
                "Re-register the version with driftpilot so its baseline is logged."
            )
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=BASELINE_PATH, dst_path=str(staging),
                                            tracking_uri=settings.mlflow_tracking_uri)
        shutil.rmtree(cache, ignore_errors=True)
        (staging / BASELINE_PATH).rename(cache)
        shutil.rmtree(staging, ignore_errors=True)
    from driftpilot.adapters.parquet_lake import read_parquet
    from driftpilot.domain.profile import canonical_profile

    return Baseline(
        model_name=model_name,
        version=str(version),
        directory=cache,
        reference=read_parquet(cache / "reference.parquet"),
        profile=canonical_profile(json.loads((cache / "profile.json").read_text())),
        metadata=json.loads((cache / "metadata.json").read_text()),
    )


def champion_baseline(settings: Settings, model_name: str) -> Baseline:
    client = connect(settings)
    version = alias_version(client, model_name, CHAMPION)
    if version is None:
        raise BaselineNotFound(
            f"model {model_name!r} has no `{CHAMPION}` alias in {settings.mlflow_tracking_uri}; "
            f"run `driftpilot bootstrap --model {model_name}` first"
        )
    return load_baseline(settings, model_name, version)


WINDOW_TAG = "driftpilot.window"


def log_monitoring_run(
    settings: Settings,
    *,
    model_name: str,
    window: str,
    model_version: str,
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts_dir: Path | None,
) -> str:
    """Record one monitoring window as one MLflow run; a re-run of the window replaces it.

    MLflow appends every logged value to a metric's history, so logging a re-run into the same run
    would list each metric once per run (93 -> 186 -> 279 points). Instead the window's run is
    written anew, complete, and only then are the earlier runs of the window (found by tag)
    deleted with their artifacts: at any moment the window has at least one complete run, and
    after the call exactly one.
    """
    import mlflow

    client = connect(settings)
    experiment_id = ensure_experiment(settings, f"driftpilot/{model_name}/monitoring")
    earlier = client.search_runs(
        [experiment_id], filter_string=f"tags.`{WINDOW_TAG}` = '{window}'", max_results=100
    )
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{model_name} {window}") as run:
        mlflow.set_tags({WINDOW_TAG: window, "driftpilot.model_version": model_version, **dict(tags)})
        finite = {k: float(v) for k, v in metrics.items() if v is not None and v == v and abs(float(v)) != float("inf")}
        if finite:
            mlflow.log_metrics(finite, step=0)
        if artifacts_dir is not None and artifacts_dir.exists():
            mlflow.log_artifacts(str(artifacts_dir), artifact_path="reports")
        run_id = str(run.info.run_id)
    for old in earlier:
        _delete_run(client, old)
    return run_id


def _delete_run(client: Any, run: Any) -> None:
    """Delete a superseded run and its artifacts (a soft delete alone would keep every report)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    try:
        get_artifact_repository(run.info.artifact_uri).delete_artifacts()
    except Exception as exc:  # an artifact store that cannot delete keeps the files; the run still goes
        log.warning("could not delete the artifacts of superseded run %s: %s", run.info.run_id, exc)
    client.delete_run(run.info.run_id)
