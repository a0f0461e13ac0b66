"""MLflow adapter: tracking runs, the model registry (aliases, never stages) and baselines.

The only module that imports MLflow. ``MlflowRegistry(settings)`` implements the
``ModelRegistry`` port with ONE ``MlflowClient``, created on first use and kept, pointed at the
configured store by URI. MLflow's process-global ("fluent") state is touched only by
``_fluent()``, right before the calls that have no client form (``mlflow.start_run`` + logging a
model, ``mlflow.register_model``, loading a model), and only when it points elsewhere: a process
with one registry sets it once. Models move in and out through ``mlflow_models`` (any flavour:
scikit-learn natively, other objects as a pyfunc, a ``ModelUri`` registered as is).

A model version's **baseline** (reference sample + profile) is logged as artifacts of the run
that trained it, under ``baseline/``, so "the baseline of the version that served a window" is
always one registry look-up away. A version driftpilot did not train (``driftpilot register``)
gets a baseline run of its own in ``driftpilot/<model>/baselines``, named by the version tag
``driftpilot.baseline_run``, which is preferred over the training run: the user's own run is
never written to. Idempotency: every version created by driftpilot carries a
``driftpilot.idempotency_key`` tag; asking again with the same key returns the existing version
instead of registering a second one.

Search filters: MLflow's filter parser strips the quotes of a literal and does not unescape
anything inside, so a value is quoted with the quote character it does not contain
(``_literal``); a value that cannot be written exactly (both quote kinds, a backslash, a backtick
in a key) is left out of the server-side filter and matched exactly here instead. A name or tag
value containing ``'`` can therefore neither break a search nor widen it.

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
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftpilot.errors import BaselineNotFound, RegistryInconsistent
from driftpilot.ports import (
    BASELINE_RUN_TAG,
    KEY_TAG,
    RUN_ID_TAG,
    Baseline,
    BaselineRun,
    FittedModel,
    ModelRun,
    MonitoringRun,
    RegisteredVersion,
)
from driftpilot.ports import (
    CHALLENGER as CHALLENGER,
)
from driftpilot.ports import (
    CHAMPION as CHAMPION,
)
from driftpilot.ports import (
    PREVIOUS as PREVIOUS,
)
from driftpilot.settings import Settings, redact_uri

log = logging.getLogger(__name__)

MODEL_URI_TAG = "driftpilot.model_uri"
BASELINE_PATH = "baseline"
WINDOW_TAG = "driftpilot.window"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"  # mlflow.protos.databricks_pb2.ErrorCode name
__all__ = ["CHALLENGER", "CHAMPION", "KEY_TAG", "PREVIOUS", "Baseline", "MlflowRegistry", "RegisteredVersion"]


def is_not_found(exc: BaseException) -> bool:
    """True only for MLflow's "resource does not exist" error; every other error is real."""
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code == NOT_FOUND


def is_version_number(version: str) -> bool:
    """Whether ``version`` is spelled as an MLflow registry version: 1, 2, ... (no sign, no zeros first)."""
    return version.isascii() and version.isdigit() and not version.startswith("0")


def _literal(value: str) -> str | None:
    """``value`` as an MLflow filter string literal, or ``None`` when it cannot be written exactly.

    MLflow keeps everything between the outer quotes as is (``'o''brien'`` searches for
    ``o''brien``), and its tokenizer reads a backslash as an escape: so the literal uses the
    quote character the value does not contain, and a value with both, or a backslash, has none.
    """
    if "\\" in value:
        return None
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


def _tag_key(key: str) -> str | None:
    """A tag key as a backquoted filter identifier (``None`` when it contains a backtick)."""
    return None if "`" in key or "\\" in key else f"`{key}`"


def _tag_clauses(tags: Mapping[str, str], prefix: str, equals: str) -> tuple[list[str], bool]:
    """``<prefix>.`key`<equals>'value'`` per tag that can be written exactly, and whether all could."""
    clauses, exact = [], True
    for key, value in tags.items():
        k, v = _tag_key(key), _literal(value)
        if k is None or v is None:
            exact = False
        else:
            clauses.append(f"{prefix}.{k}{equals}{v}")
    return clauses, exact


def version_filter(model_name: str, tags: Mapping[str, str]) -> tuple[str, bool]:
    """The ``search_model_versions`` filter for a name and exact tag values, and whether it is exact.

    Conditions that cannot be written exactly are left out (the filter is then wider, never
    narrower): the caller matches the results itself when the second value is ``False``.
    """
    name = _literal(model_name)
    clauses, exact = _tag_clauses(tags, "tag", "=")
    if name is None:
        return " and ".join(clauses), False
    return " and ".join([f"name={name}", *clauses]), exact


def run_filter(tags: Mapping[str, str], finished: bool = False) -> tuple[str, bool]:
    """The ``search_runs`` filter for exact tag values (same rules as ``version_filter``)."""
    clauses, exact = _tag_clauses(tags, "tags", " = ")
    if finished:
        clauses.append("attributes.status = 'FINISHED'")
    return " and ".join(clauses), exact


class MlflowRegistry:
    """The ``ModelRegistry`` port on an MLflow tracking/registry store (one client, kept)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uri = settings.mlflow_tracking_uri
        self._client: Any = None

    def __repr__(self) -> str:
        return f"MlflowRegistry({redact_uri(self.uri)!r})"  # a repr is logged: no credentials

    @property
    def client(self) -> Any:
        """The one ``MlflowClient`` of this registry (quiet, no telemetry), created on first use."""
        if self._client is None:
            os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
            os.environ.setdefault("DO_NOT_TRACK", "true")
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            if self.uri.startswith("sqlite:///"):
                Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    def _fluent(self) -> Any:
        """MLflow's module API pointed at this registry; the one place that sets its global URIs.

        Only for the calls without a client form (see the module doc); set only when it points
        elsewhere (another registry of the same process, e.g. in tests), not reset per call.
        """
        import mlflow

        self.client  # noqa: B018 - the same environment and folders as the client
        if mlflow.get_tracking_uri() != self.uri:
            mlflow.set_tracking_uri(self.uri)
        if mlflow.get_registry_uri() != self.uri:
            mlflow.set_registry_uri(self.uri)
        return mlflow

    # ---------------------------------------------------------------- experiments and searches

    def ensure_experiment(self, name: str) -> str:
        """Experiment id of ``name``, created with an explicit artifact location if new."""
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = (self.settings.mlflow_artifacts / name.replace("/", "_")).resolve()
        location.mkdir(parents=True, exist_ok=True)
        return str(self.client.create_experiment(name, artifact_location=location.as_uri()))

    def _search_versions(self, model_name: str, tags: Mapping[str, str]) -> list[Any]:
        """Versions of ``model_name`` carrying exactly ``tags`` (MLflow ``ModelVersion`` objects)."""
        filter_string, exact = version_filter(model_name, tags)
        found = list(self.client.search_model_versions(filter_string))
        if exact:
            return found
        return [v for v in found if v.name == model_name
                and all((v.tags or {}).get(k) == value for k, value in tags.items())]

    def _search_runs(self, experiment_id: str, tags: Mapping[str, str], *, finished: bool = False,
                     max_results: int = 100) -> list[Any]:
        filter_string, exact = run_filter(tags, finished)
        runs = list(self.client.search_runs([experiment_id], filter_string=filter_string,
                                            max_results=max_results if exact else 50000))
        if exact:
            return runs
        matching = [r for r in runs if all(r.data.tags.get(k) == value for k, value in tags.items())]
        return matching[:max_results]

    def find_version_by_key(self, model_name: str, key: str) -> RegisteredVersion | None:
        """The model version tagged with idempotency ``key``, if one was registered before."""
        try:
            found = self._search_versions(model_name, {KEY_TAG: key})
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        if not found:
            return None
        return RegisteredVersion(model_name, str(found[0].version), str(found[0].run_id), created=False)

    def find_run_by_key(self, experiment: str, key: str) -> str | None:
        """A finished run of ``experiment`` tagged with idempotency ``key`` (its model is reusable)."""
        runs = self._search_runs(self.ensure_experiment(experiment), {KEY_TAG: key}, finished=True, max_results=1)
        return str(runs[0].info.run_id) if runs else None

    def search_versions(self, model_name: str, tag: str, value: str) -> list[str]:
        """Versions of ``model_name`` whose ``tag`` equals ``value``, oldest first."""
        return sorted((str(v.version) for v in self._search_versions(model_name, {tag: value})), key=int)

    # ---------------------------------------------------------------- aliases and tags

    def aliases(self, model_name: str) -> dict[str, str]:
        """Every alias of ``model_name`` (empty when the model is not registered)."""
        try:
            found = self.client.get_registered_model(model_name).aliases
        except Exception as exc:
            if is_not_found(exc):
                return {}
            raise
        return {str(k): str(v) for k, v in (found or {}).items()}

    def alias_version(self, model_name: str, alias: str) -> str | None:
        """The version an alias points to, or ``None`` when the alias (or the model) does not exist."""
        return self.aliases(model_name).get(alias)

    def _check_alias(self, model_name: str, alias: str, expected: str | None) -> None:
        """Read-after-write: raise when the registry does not hold what was just written."""
        found = self.alias_version(model_name, alias)
        if found != expected:
            raise RegistryInconsistent(
                f"alias {alias!r} of {model_name} reads {found!r} right after driftpilot set it to {expected!r}: "
                "something else is moving this model's aliases (a registry user, or a process outside driftpilot's "
                "promotion lock). Check the registry and `driftpilot promotions`, then run `driftpilot reconcile`."
            )

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version`` and read it back."""
        self.client.set_registered_model_alias(model_name, alias, str(version))
        self._check_alias(model_name, alias, str(version))

    def delete_alias(self, model_name: str, alias: str) -> None:
        """Remove ``alias`` (already gone is fine) and read back that it is gone."""
        try:
            self.client.delete_registered_model_alias(model_name, alias)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        self._check_alias(model_name, alias, None)

    def version_tags(self, model_name: str, version: str) -> dict[str, str]:
        return dict(self.client.get_model_version(model_name, str(version)).tags or {})

    def set_version_tags(self, model_name: str, version: str, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_model_version_tag(model_name, str(version), key, value)

    # ---------------------------------------------------------------- runs and versions

    def log_model_run(self, run: ModelRun) -> str:
        """Log ``run.model`` (and its baseline) in a new run tagged with its idempotency key; its run id.

        A finished run with the same key is reused: a retried task never logs a second model.
        """
        existing = self.find_run_by_key(run.experiment, run.idempotency_key)
        if existing is not None:
            log.info("reusing run %s (idempotency key %s)", existing, run.idempotency_key)
            return existing
        experiment_id = self.ensure_experiment(run.experiment)
        self._fluent()
        import mlflow

        from driftpilot.adapters import mlflow_models

        with mlflow.start_run(experiment_id=experiment_id, run_name=run.run_name,
                              tags={KEY_TAG: run.idempotency_key, **dict(run.tags)}) as active:
            mlflow.log_params({k: str(v)[:500] for k, v in run.params.items()})
            mlflow.log_metrics({k: float(v) for k, v in run.metrics.items()})
            if run.baseline_dir is not None:
                mlflow.log_artifacts(str(run.baseline_dir), artifact_path=BASELINE_PATH)
            for artifact_path, local in run.artifacts.items():
                mlflow.log_artifact(str(local), artifact_path=artifact_path)
            model_uri = mlflow_models.log_model(run.model, run.input_example)
            mlflow.set_tag(MODEL_URI_TAG, model_uri)
            return str(active.info.run_id)

    def run_model_uri(self, run_id: str) -> str:
        return str(self.client.get_run(run_id).data.tags.get(MODEL_URI_TAG) or f"runs:/{run_id}/model")

    def load_run_model(self, run_id: str) -> FittedModel:
        """The model a run logged (or the ``ModelUri`` it named), loaded by its flavours."""
        return self.load_model_uri(self.run_model_uri(run_id))

    def load_model_uri(self, uri: str) -> FittedModel:
        """Any MLflow model URI as a scorable object; ``ConfigError`` naming the URI when it does not load."""
        self._fluent()
        from driftpilot.adapters import mlflow_models

        return mlflow_models.load_model(uri)

    def log_run_artifacts(self, run_id: str, files: Mapping[str, Path], metrics: Mapping[str, float] | None = None,
                          tags: Mapping[str, str] | None = None) -> None:
        """Add artifacts / metrics / tags to a finished run (e.g. the gate's comparison)."""
        for artifact_path, local in files.items():
            self.client.log_artifact(run_id, str(local), artifact_path=artifact_path)
        for key, value in (metrics or {}).items():
            self.client.log_metric(run_id, key, float(value))
        for key, text in (tags or {}).items():
            self.client.set_tag(run_id, key, text)

    def read_run_artifact(self, run_id: str, artifact_path: str) -> bytes | None:
        """The bytes of one artifact file of a run; ``None`` when the run has no such file."""
        folder = artifact_path.rpartition("/")[0]
        try:
            listed = self.client.list_artifacts(run_id, folder or None)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        if not any(f.path == artifact_path and not f.is_dir for f in listed):
            return None
        with tempfile.TemporaryDirectory(prefix="artifact-") as tmp:
            local = self.client.download_artifacts(run_id, artifact_path, dst_path=tmp)
            return Path(local).read_bytes()

    def register_run(self, model_name: str, run_id: str, idempotency_key: str,
                     tags: Mapping[str, str]) -> RegisteredVersion:
        """Register the model of ``run_id`` as a new version, once per ``idempotency_key``."""
        existing = self.find_version_by_key(model_name, idempotency_key)
        if existing is not None:
            log.info("reusing %s version %s (idempotency key %s)", model_name, existing.version, idempotency_key)
            return RegisteredVersion(model_name, existing.version, run_id, created=False)
        uri = self.run_model_uri(run_id)
        version = self._fluent().register_model(uri, model_name, tags={KEY_TAG: idempotency_key, **dict(tags)})
        # register_model may not link the run when the source is a LoggedModel; record it ourselves.
        self.client.set_model_version_tag(model_name, version.version, RUN_ID_TAG, run_id)
        return RegisteredVersion(model_name, str(version.version), run_id, created=True)

    def log_and_register(self, model_name: str, run: ModelRun) -> RegisteredVersion:
        """Log ``run`` and its baseline in one run and register it as a new version.

        Re-running with the same idempotency key returns the version registered before.
        """
        existing = self.find_version_by_key(model_name, run.idempotency_key)
        if existing is not None:
            log.info("reusing %s version %s (idempotency key %s)", model_name, existing.version, run.idempotency_key)
            return existing
        run_id = self.log_model_run(run)
        return self.register_run(model_name, run_id, run.idempotency_key, run.tags)

    def find_version(self, model_name: str, version: str) -> RegisteredVersion | None:
        """The registered version ``version`` of ``model_name`` (``created=False``), ``None`` when absent."""
        if not is_version_number(str(version)):
            return None
        try:
            mv = self.client.get_model_version(model_name, str(version))
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return RegisteredVersion(model_name, str(mv.version), str(mv.run_id or ""), created=False)

    def log_baseline_run(self, run: BaselineRun) -> str:
        """A run holding only a baseline (and a copy of a model folder, if given), once per key.

        For a version driftpilot did not train: the baseline goes into driftpilot's own
        experiment, never into the user's run. ``run.model_uri`` is recorded as the run's model
        (``register_run`` registers it); ``run.model_dir`` is copied into the run as ``model/``
        and becomes that URI, so a version registered from a local folder does not depend on it.
        """
        existing = self.find_run_by_key(run.experiment, run.idempotency_key)
        if existing is not None:
            log.info("reusing baseline run %s (idempotency key %s)", existing, run.idempotency_key)
            return existing
        from mlflow.entities import RunStatus

        experiment_id = self.ensure_experiment(run.experiment)
        created = self.client.create_run(experiment_id, run_name=run.run_name,
                                         tags={KEY_TAG: run.idempotency_key, **dict(run.tags)})
        run_id = str(created.info.run_id)
        try:
            for key, value in run.params.items():
                self.client.log_param(run_id, key, str(value)[:500])
            for key, number in run.metrics.items():
                self.client.log_metric(run_id, key, float(number))
            self.client.log_artifacts(run_id, str(run.baseline_dir), artifact_path=BASELINE_PATH)
            model_uri = run.model_uri
            if run.model_dir is not None:
                self.client.log_artifacts(run_id, str(run.model_dir), artifact_path="model")
                model_uri = f"runs:/{run_id}/model"
            if model_uri:
                self.client.set_tag(run_id, MODEL_URI_TAG, model_uri)
        except BaseException:
            # Left FAILED: a retry does not reuse it (only finished runs are found by key).
            self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        self.client.set_terminated(run_id)
        return run_id

    def attach_baseline(self, model_name: str, version: str, run_id: str) -> None:
        """Make the baseline of ``run_id`` the one of ``version`` (the tag that makes it visible).

        The version's cached baseline (if this process read an earlier one) is dropped, so the next
        ``load_baseline`` downloads the new one.
        """
        self.client.set_model_version_tag(model_name, str(version), BASELINE_RUN_TAG, run_id)
        if is_version_number(str(version)):
            shutil.rmtree(self.settings.baseline_cache / model_name / str(version), ignore_errors=True)

    def version_run_id(self, model_name: str, version: str) -> str:
        """The run holding a version's baseline (its ``driftpilot.baseline_run``, else its training run).

        ``BaselineNotFound`` when the version is not registered."""
        try:
            mv = self.client.get_model_version(model_name, str(version))
        except Exception as exc:
            if is_not_found(exc):
                raise BaselineNotFound(
                    f"{model_name} version {version} is not registered in the MLflow registry of "
                    "MLFLOW_TRACKING_URI: register it with driftpilot (`driftpilot register --model "
                    f"{model_name} --model-uri models:/{model_name}/{version} --reference FILE.parquet` for a "
                    f"model trained elsewhere, `driftpilot bootstrap --model {model_name}` for driftpilot's "
                    "recipe, the retraining DAG for later ones), or point "
                    "MLFLOW_TRACKING_URI at the registry that holds it, or fix the `model_version` the serving "
                    "code logs."
                ) from exc
            raise
        tags = mv.tags or {}
        run_id = tags.get(BASELINE_RUN_TAG) or tags.get(RUN_ID_TAG) or mv.run_id
        if not run_id:
            raise BaselineNotFound(f"{model_name} version {version} has no training run to hold its baseline; "
                                   "re-register it with driftpilot so its baseline is logged")
        return str(run_id)

    def load_model(self, model_name: str, version: str) -> FittedModel:
        """Load a registered version by its flavours (natively when it can, else as a pyfunc)."""
        return self.load_model_uri(f"models:/{model_name}/{version}")

    # ---------------------------------------------------------------- baselines

    def load_baseline(self, model_name: str, version: str) -> Baseline:
        """Download (once, cached by version) and read the baseline of ``model_name`` ``version``."""
        version = str(version)
        if not is_version_number(version):
            # MLflow numbers versions 1, 2, ...: anything else ("v99", "1.0", "") names no version, and
            # must never become a path under the baseline cache either.
            raise BaselineNotFound(
                f"{model_name}: {version!r} is not an MLflow model version (versions are numbered 1, 2, ...): "
                "fix the `model_version` the serving code logs, or register the model with driftpilot"
            )
        cache = self.settings.baseline_cache / model_name / version
        if not (cache / "profile.json").exists():
            run_id = self.version_run_id(model_name, version)
            staging = cache.with_name(f".{version}.partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            # Absent (deterministic) is told apart from unreadable (transient, raised for a retry).
            try:
                listed = self.client.list_artifacts(run_id, BASELINE_PATH)
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
            self.client.download_artifacts(run_id, BASELINE_PATH, dst_path=str(staging))
            shutil.rmtree(cache, ignore_errors=True)
            (staging / BASELINE_PATH).rename(cache)
            shutil.rmtree(staging, ignore_errors=True)
        from driftpilot.adapters.parquet_lake import read_parquet
        from driftpilot.domain.profile import canonical_profile

        return Baseline(
            model_name=model_name,
            version=version,
            directory=cache,
            reference=read_parquet(cache / "reference.parquet"),
            profile=canonical_profile(json.loads((cache / "profile.json").read_text())),
            metadata=json.loads((cache / "metadata.json").read_text()),
        )

    def champion_baseline(self, model_name: str) -> Baseline:
        version = self.alias_version(model_name, CHAMPION)
        if version is None:
            raise BaselineNotFound(
                f"model {model_name!r} has no `{CHAMPION}` alias in {redact_uri(self.uri)}; "
                f"run `driftpilot bootstrap --model {model_name}` first"
            )
        return self.load_baseline(model_name, version)

    # ---------------------------------------------------------------- monitoring runs

    def log_monitoring_run(self, run: MonitoringRun) -> str:
        """Record one monitoring window as one MLflow run; a re-run of the window replaces it.

        MLflow appends every logged value to a metric's history, so logging a re-run into the same run
        would list each metric once per run (93 -> 186 -> 279 points). Instead the window's run is
        written anew, complete, and only then are the earlier runs of the window (found by tag)
        deleted with their artifacts: at any moment the window has at least one complete run, and
        after the call exactly one.
        """
        from mlflow.entities import Metric, RunStatus

        experiment_id = self.ensure_experiment(f"driftpilot/{run.model_name}/monitoring")
        earlier = self._search_runs(experiment_id, {WINDOW_TAG: run.window})
        tags = {WINDOW_TAG: run.window, "driftpilot.model_version": run.model_version, **dict(run.tags)}
        created = self.client.create_run(experiment_id, run_name=f"{run.model_name} {run.window}", tags=tags)
        run_id = str(created.info.run_id)
        try:
            finite = {k: float(v) for k, v in run.metrics.items()
                      if v is not None and v == v and abs(float(v)) != float("inf")}
            now = int(time.time() * 1000)
            metrics = [Metric(key, value, now, 0) for key, value in finite.items()]
            for start in range(0, len(metrics), 1000):  # MLflow's per-batch limit
                self.client.log_batch(run_id, metrics=metrics[start:start + 1000])
            if run.artifacts_dir is not None and run.artifacts_dir.exists():
                self.client.log_artifacts(run_id, str(run.artifacts_dir), artifact_path="reports")
        except BaseException:
            self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        self.client.set_terminated(run_id)
        for old in earlier:
            self._delete_run(old)
        return run_id

    def _delete_run(self, run: Any) -> None:
        """Delete a superseded run and its artifacts (a soft delete alone would keep every report)."""
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        try:
            get_artifact_repository(run.info.artifact_uri).delete_artifacts()
        except Exception as exc:  # an artifact store that cannot delete keeps the files; the run still goes
            log.warning("could not delete the artifacts of superseded run %s: %s", run.info.run_id, exc)
        self.client.delete_run(run.info.run_id)
