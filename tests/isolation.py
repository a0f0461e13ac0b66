"""Own driftpilot state for a test module that changes a lake, a metrics history or a registry.

The DAG tasks, the CLI and the use cases all resolve their settings from the environment at call
time (`load_settings()`), so a module gets a world of its own by pointing `DRIFTPILOT_HOME`,
`DRIFTPILOT_LAKE`, `DRIFTPILOT_METRICS_DB`, `DRIFTPILOT_CONFIG_DIR` and, unless it shares the
session's registry, `MLFLOW_TRACKING_URI` / `DRIFTPILOT_MLFLOW_ARTIFACTS` at folders of its own.
The home is always its own: it holds the baseline cache (keyed by model and version, so two
registries must never share it) and the file alerts.

Use: a fixture builds a template world once (inside `with world.active():`), then every test
runs in its own copy, activated by an autouse fixture:

    @pytest.fixture(scope="module")
    def template(tmp_path_factory, session_settings):
        world = World.create(tmp_path_factory.mktemp("mine"), registry=session_settings)
        with world.active() as settings:
            ...  # replay, run DAGs
        return world

    @pytest.fixture(autouse=True)
    def shared_settings(template, tmp_path):  # the name the tests already use
        with template.copy(tmp_path / "world").active() as settings:
            yield settings

Only one world is active at a time (the environment is the process's); pytest-randomly
shuffles modules and the tests within each, but never interleaves two modules.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from driftpilot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "include" / "config"


@dataclass(frozen=True)
class World:
    """The folders and environment of one isolated driftpilot state."""

    base: Path
    env: Mapping[str, str]

    @classmethod
    def create(cls, base: Path, registry: Settings | None = None) -> World:
        """A fresh world under ``base`` with a copy of the bundled configs.

        ``registry``: share that registry (MLflow store and artifacts) instead of an own one, for
        modules that only read the champion and log monitoring runs, so they skip a bootstrap.
        """
        config_dir = base / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        for path in CONFIGS.glob("*.yaml"):
            shutil.copy(path, config_dir / path.name)
        if registry is None:
            tracking_uri = f"sqlite:///{base / 'mlflow' / 'mlflow.db'}"
            artifacts = base / "mlflow" / "artifacts"
        else:
            tracking_uri, artifacts = registry.mlflow_tracking_uri, registry.mlflow_artifacts
        env = {
            "DRIFTPILOT_HOME": str(base / "home"),
            "DRIFTPILOT_CONFIG_DIR": str(config_dir),
            "DRIFTPILOT_LAKE": str(base / "lake"),
            "DRIFTPILOT_METRICS_DB": str(base / "metrics" / "history.sqlite"),
            "MLFLOW_TRACKING_URI": tracking_uri,
            "DRIFTPILOT_MLFLOW_ARTIFACTS": str(artifacts),
        }
        return cls(base, env)

    @property
    def config_dir(self) -> Path:
        return Path(self.env["DRIFTPILOT_CONFIG_DIR"])

    @property
    def settings(self) -> Settings:
        """The settings every task resolves while this world is active."""
        with self.active() as settings:
            return settings

    @contextmanager
    def active(self) -> Iterator[Settings]:
        """This world's environment for the duration of the block.

        On the way out MLflow's process-wide tracking and registry URIs are pointed back at the
        store of the environment restored, so a later bare MLflow call never writes into this world.
        """
        import mlflow

        with pytest.MonkeyPatch.context() as env:
            for name, value in self.env.items():
                env.setenv(name, value)
            try:
                yield load_settings()
            finally:
                env.undo()
                restored = load_settings().mlflow_tracking_uri
                mlflow.set_tracking_uri(restored)
                mlflow.set_registry_uri(restored)

    def copy(self, base: Path, own_registry: bool = False) -> World:
        """A world under ``base`` that starts as this one is now: each test builds on its own copy.

        Copied: configs, home, lake, metrics history and the MLflow database if this world owns
        one (or ``own_registry``: a copy of the shared one, for a module that moves aliases), the
        SQLite files through SQLite's backup API. The MLflow artifacts are not copied: the
        database names them by absolute path and runs and models write under unique ids, so a
        copy reads its template's artifacts and adds its own beside them.
        """
        env = dict(self.env)
        for name in ("DRIFTPILOT_HOME", "DRIFTPILOT_CONFIG_DIR", "DRIFTPILOT_LAKE", "DRIFTPILOT_METRICS_DB"):
            source = Path(self.env[name])
            target = base / source.relative_to(self.base)
            if source.is_dir():
                shutil.copytree(source, target)
            elif source.exists():
                _copy_sqlite(source, target)
            env[name] = str(target)
        store = Path(self.env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
        if store.is_relative_to(self.base) or own_registry:
            target = base / "mlflow" / "mlflow.db"
            _copy_sqlite(store, target)
            env["MLFLOW_TRACKING_URI"] = f"sqlite:///{target}"
            env["DRIFTPILOT_MLFLOW_ARTIFACTS"] = str(base / "mlflow" / "artifacts")  # new experiments
        return World(base, env)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (a plain file copy could miss an unfinished journal)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
