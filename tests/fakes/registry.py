"""In-memory fakes of the ModelRegistry, Trainer and Alerts ports (behaviour, not mocks).

``FakeRegistry`` keeps versions, aliases, tags, runs (with their artifact files and models) and
baselines in dicts, with the semantics of the port: absent reads as ``None`` / empty, an
idempotency key registers once, alias writes are read back. ``moved_outside`` lets a test
play a registry user who moves an alias behind driftpilot's back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.errors import BaselineNotFound, RegistryInconsistent
from driftpilot.ports import (
    BASELINE_RUN_TAG,
    CHAMPION,
    KEY_TAG,
    RUN_ID_TAG,
    Baseline,
    BaselineRun,
    ModelRun,
    ModelUri,
    MonitoringRun,
    RegisteredVersion,
)


@dataclass
class FakeRun:
    run_id: str
    experiment: str
    tags: dict[str, str]
    model: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)  # "folder/file" -> bytes
    baseline: tuple[pd.DataFrame, dict[str, Any], dict[str, Any]] | None = None
    finished: bool = True


@dataclass
class FakeVersion:
    name: str
    version: str
    run_id: str
    tags: dict[str, str]


class FakeRegistry:
    """The ``ModelRegistry`` port in memory."""

    def __init__(self) -> None:
        self.runs: dict[str, FakeRun] = {}
        self.versions: dict[str, dict[str, FakeVersion]] = {}
        self.alias_table: dict[str, dict[str, str]] = {}
        self.monitoring: list[MonitoringRun] = []
        self.uri_models: dict[str, Any] = {}  # models users logged to MLflow themselves, by URI
        self.calls: list[str] = []  # the port methods called, in order (writes only)
        self._interfere: Callable[[str, str], None] | None = None

    # ------------------------------------------------------------------ test helpers
    def add_version(self, model_name: str, *, model: Any = None, tags: Mapping[str, str] | None = None,
                    key: str | None = None) -> str:
        """A version registered by someone (with a run of its own), as a test's starting point."""
        run_id = self.log_model_run(ModelRun(
            experiment=f"{model_name}/fake", model=model, input_example=pd.DataFrame(), params={}, metrics={},
            baseline_dir=None, idempotency_key=key or f"fake:{len(self.runs)}", run_name="fake", tags={}))
        return self.register_run(model_name, run_id, key or f"fake:{run_id}", dict(tags or {})).version

    def publish(self, uri: str, model: Any) -> ModelUri:
        """A model someone logged to MLflow at ``uri`` (a trainer returning a ``ModelUri`` of it)."""
        self.uri_models[uri] = model
        return ModelUri(uri)

    def moved_outside(self, interfere: Callable[[str, str], None]) -> None:
        """Call ``interfere(model, alias)`` right after every alias write (before the read-back)."""
        self._interfere = interfere

    # ------------------------------------------------------------------ searches
    def find_version_by_key(self, model_name: str, key: str) -> RegisteredVersion | None:
        for v in self.versions.get(model_name, {}).values():
            if v.tags.get(KEY_TAG) == key:
                return RegisteredVersion(model_name, v.version, v.run_id, created=False)
        return None

    def find_run_by_key(self, experiment: str, key: str) -> str | None:
        for run in self.runs.values():
            if run.experiment == experiment and run.finished and run.tags.get(KEY_TAG) == key:
                return run.run_id
        return None

    def search_versions(self, model_name: str, tag: str, value: str) -> list[str]:
        found = [v.version for v in self.versions.get(model_name, {}).values() if v.tags.get(tag) == value]
        return sorted(found, key=int)

    # ------------------------------------------------------------------ aliases and tags
    def aliases(self, model_name: str) -> dict[str, str]:
        return dict(self.alias_table.get(model_name, {}))

    def alias_version(self, model_name: str, alias: str) -> str | None:
        return self.aliases(model_name).get(alias)

    def _read_back(self, model_name: str, alias: str, expected: str | None) -> None:
        if self._interfere is not None:
            self._interfere(model_name, alias)
        found = self.alias_version(model_name, alias)
        if found != expected:
            raise RegistryInconsistent(f"alias {alias!r} of {model_name} reads {found!r} right after "
                                       f"driftpilot set it to {expected!r}")

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        if str(version) not in self.versions.get(model_name, {}):
            raise KeyError(f"{model_name} has no version {version}")  # MLflow refuses too
        self.calls.append(f"set_alias {alias}={version}")
        self.alias_table.setdefault(model_name, {})[alias] = str(version)
        self._read_back(model_name, alias, str(version))

    def delete_alias(self, model_name: str, alias: str) -> None:
        self.calls.append(f"delete_alias {alias}")
        self.alias_table.get(model_name, {}).pop(alias, None)
        self._read_back(model_name, alias, None)

    def version_tags(self, model_name: str, version: str) -> dict[str, str]:
        return dict(self.versions[model_name][str(version)].tags)

    def set_version_tags(self, model_name: str, version: str, tags: Mapping[str, str]) -> None:
        self.calls.append(f"set_version_tags v{version} {sorted(tags)}")
        self.versions[model_name][str(version)].tags.update(tags)

    # ------------------------------------------------------------------ runs and versions
    def log_model_run(self, run: ModelRun) -> str:
        existing = self.find_run_by_key(run.experiment, run.idempotency_key)
        if existing is not None:
            return existing
        run_id = f"run-{len(self.runs) + 1}"
        self.calls.append(f"log_model_run {run_id}")
        logged = FakeRun(run_id, run.experiment, {KEY_TAG: run.idempotency_key, **dict(run.tags)}, model=run.model,
                         metrics=dict(run.metrics))
        for folder, local in run.artifacts.items():
            logged.artifacts[f"{folder}/{Path(local).name}"] = Path(local).read_bytes()
        if run.baseline_dir is not None:
            d = Path(run.baseline_dir)
            logged.baseline = (pd.read_parquet(d / "reference.parquet"), json.loads((d / "profile.json").read_text()),
                               json.loads((d / "metadata.json").read_text()))
        self.runs[run_id] = logged
        return run_id

    def register_run(self, model_name: str, run_id: str, idempotency_key: str,
                     tags: Mapping[str, str]) -> RegisteredVersion:
        existing = self.find_version_by_key(model_name, idempotency_key)
        if existing is not None:
            return RegisteredVersion(model_name, existing.version, run_id, created=False)
        versions = self.versions.setdefault(model_name, {})
        version = str(max((int(v) for v in versions), default=0) + 1)
        self.calls.append(f"register_run v{version}")
        versions[version] = FakeVersion(model_name, version, run_id,
                                        {KEY_TAG: idempotency_key, **dict(tags), RUN_ID_TAG: run_id})
        return RegisteredVersion(model_name, version, run_id, created=True)

    def log_and_register(self, model_name: str, run: ModelRun) -> RegisteredVersion:
        existing = self.find_version_by_key(model_name, run.idempotency_key)
        if existing is not None:
            return existing
        run_id = self.log_model_run(run)
        return self.register_run(model_name, run_id, run.idempotency_key, run.tags)

    def load_model(self, model_name: str, version: str) -> Any:
        return self._loaded(self.runs[self.versions[model_name][str(version)].run_id].model)

    def load_run_model(self, run_id: str) -> Any:
        return self._loaded(self.runs[run_id].model)

    def _loaded(self, model: Any) -> Any:
        """A run that logged a ``ModelUri`` holds the user's model: loading it loads that URI."""
        return self.load_model_uri(model.uri) if isinstance(model, ModelUri) else model

    def load_model_uri(self, uri: str) -> Any:
        """A published URI, ``runs:/<id>/...`` of a fake run, or ``models:/<name>/<version>``; else
        ``ConfigError`` naming it, like the MLflow adapter."""
        from driftpilot.errors import ConfigError

        if uri in self.uri_models:
            return self.uri_models[uri]
        if uri.startswith("runs:/") and uri.split("/")[1] in self.runs:
            return self.runs[uri.split("/")[1]].model
        if uri.startswith("models:/") and uri.count("/") == 2:
            name, version = uri.removeprefix("models:/").split("/")
            if version in self.versions.get(name, {}):
                return self.load_model(name, version)
        raise ConfigError(f"model URI {uri!r} does not load (fake registry)")

    def find_version(self, model_name: str, version: str) -> RegisteredVersion | None:
        found = self.versions.get(model_name, {}).get(str(version))
        return None if found is None else RegisteredVersion(model_name, found.version, found.run_id, created=False)

    def log_baseline_run(self, run: BaselineRun) -> str:
        existing = self.find_run_by_key(run.experiment, run.idempotency_key)
        if existing is not None:
            return existing
        run_id = self.log_model_run(ModelRun(
            experiment=run.experiment, model=None, input_example=pd.DataFrame(), params=dict(run.params),
            metrics=dict(run.metrics), baseline_dir=run.baseline_dir, idempotency_key=run.idempotency_key,
            run_name=run.run_name, tags=dict(run.tags)))
        if run.model_uri is not None:
            self.runs[run_id].model = self.load_model_uri(run.model_uri)
        return run_id

    def attach_baseline(self, model_name: str, version: str, run_id: str) -> None:
        """The version's baseline is the run's from now on (``load_baseline`` follows the tag)."""
        self.calls.append(f"attach_baseline v{version} {run_id}")
        self.versions[model_name][str(version)].tags[BASELINE_RUN_TAG] = run_id

    def load_baseline(self, model_name: str, version: str) -> Baseline:
        found = self.versions.get(model_name, {}).get(str(version))
        run_id = None if found is None else found.tags.get(BASELINE_RUN_TAG, found.run_id)
        if run_id is None or self.runs[run_id].baseline is None:
            raise BaselineNotFound(f"{model_name} version {version}: no baseline (fake registry)")
        reference, profile, metadata = self.runs[run_id].baseline  # type: ignore[misc]
        return Baseline(model_name, str(version), Path("/nonexistent"), reference, profile, metadata)

    def champion_baseline(self, model_name: str) -> Baseline:
        version = self.alias_version(model_name, CHAMPION)
        if version is None:
            raise BaselineNotFound(f"model {model_name!r} has no `{CHAMPION}` alias (fake registry)")
        return self.load_baseline(model_name, version)

    def log_run_artifacts(self, run_id: str, files: Mapping[str, Path], metrics: Mapping[str, float] | None = None,
                          tags: Mapping[str, str] | None = None) -> None:
        run = self.runs[run_id]
        for folder, local in files.items():
            run.artifacts[f"{folder}/{Path(local).name}"] = Path(local).read_bytes()
        run.metrics.update({k: float(v) for k, v in (metrics or {}).items()})
        run.tags.update(tags or {})

    def read_run_artifact(self, run_id: str, artifact_path: str) -> bytes | None:
        run = self.runs.get(run_id)
        return None if run is None else run.artifacts.get(artifact_path)

    def log_monitoring_run(self, run: MonitoringRun) -> str:
        self.monitoring = [m for m in self.monitoring if m.window != run.window or m.model_name != run.model_name]
        self.monitoring.append(run)
        return f"monitoring-{run.model_name}-{run.window}"


class ConstantModel:
    """A fitted stand-in: predicts the class of a threshold on one column (P(1) rises with it)."""

    def __init__(self, column: str, threshold: float, classes: tuple[Any, Any] = (0, 1)) -> None:
        self.column, self.threshold = column, threshold
        self.classes_ = np.array(classes)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        x = pd.to_numeric(frame[self.column], errors="coerce").fillna(0.0).to_numpy()
        p = 1.0 / (1.0 + np.exp(-(x - self.threshold) * 8))
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.where(self.predict_proba(frame)[:, 1] >= 0.5, self.classes_[1], self.classes_[0])


class FakeTrainer:
    """The ``Trainer`` port without scikit-learn: "fitting" picks the first numeric feature's median.

    Scoring and metrics are the real ones' shape (prediction + score, accuracy and n), enough for
    use cases that train, score and compare; ``fits`` counts how often a model was trained.
    """

    def __init__(self) -> None:
        self.fits = 0

    def check_config(self, config: Any) -> None:
        return None

    def fit(self, config: Any, data: Any) -> ConstantModel:
        self.fits += 1
        column = config.features.numeric[0]
        return ConstantModel(column, float(pd.to_numeric(data.train[column]).median()))

    def predict(self, config: Any, model: Any, frame: pd.DataFrame) -> pd.DataFrame:
        from driftpilot.domain.contracts import PREDICTION, SCORE

        p = model.predict_proba(frame)[:, 1]
        return pd.DataFrame({SCORE: p, PREDICTION: np.where(p >= 0.5, model.classes_[1], model.classes_[0])},
                            index=frame.index)

    def evaluate(self, config: Any, y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
        from driftpilot.domain.categories import category_keys
        from driftpilot.domain.contracts import PREDICTION

        truth = category_keys(y_true).to_numpy(dtype=object)
        predicted = category_keys(scored[PREDICTION]).to_numpy(dtype=object)
        return {"accuracy": float((truth == predicted).mean()), "n": float(len(y_true))}

    def training_target(self, config: Any, target: pd.Series) -> pd.Series:
        return target

    def feature_frame(self, config: Any, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[list(config.features.all)]

    def fitted_classes(self, model: Any) -> list[str]:
        return [str(c) for c in model.classes_]

    def feature_importance(self, config: Any, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        return {c: (1.0 if c == model.column else 0.0) for c in config.features.all}


class FakeAlerts:
    """The ``Alerts`` port that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def notify(self, channels: tuple[str, ...], alert: Mapping[str, Any],
               connection_url: Callable[[str], str] | None = None,
               provided: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
        self.sent.append((tuple(channels), dict(alert)))
        return [{"channel": c, "status": "sent", "detail": "fake"} for c in channels]
