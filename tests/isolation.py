"""Own driftpilot state for a test module that changes a lake, a metrics history or a registry.

The DAG tasks, the CLI and the use cases all resolve their settings from the environment at call
time (`load_settings()`), so a module gets a world of its own by pointing `DRIFTPILOT_HOME`,
`DRIFTPILOT_LAKE`, `DRIFTPILOT_METRICS_DB`, `DRIFTPILOT_CONFIG_DIR` and, unless it shares the
session's registry, `MLFLOW_TRACKING_URI` / `DRIFTPILOT_MLFLOW_ARTIFACTS` at folders of its own.
The home is always its own: it holds the baseline cache (keyed by model and version, so two
registries must never share it) and the file alerts.

Use:

    @pytest.fixture(scope="module")
    def world(tmp_path_factory, session_settings):
        return World.create(tmp_path_factory.mktemp("retrain"))     # or registry=session_settings

    @pytest.fixture(autouse=True)
    def _inside(world):
        with world.active():
            yield

A module fixture that builds state does so inside `with world.active():` as well. Only one world
is active at a time (the environment is the process's); pytest-randomly shuffles tests within a
module and modules among themselves, but never interleaves two modules, so an autouse activation
per test is enough.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    def active(self, **more: str) -> Iterator[Settings]:
        """This world's environment (plus ``more`` variables) for the duration of the block.

        On the way out MLflow's process-wide tracking URI is pointed back at the store of the
        environment restored, so a later direct MLflow call never writes into this world.
        """
        from driftpilot.adapters import mlflow_registry as registry

        with pytest.MonkeyPatch.context() as env:
            for name, value in {**self.env, **more}.items():
                env.setenv(name, value)
            try:
                yield load_settings()
            finally:
                env.undo()
                registry.connect(load_settings())

    def copy(self, base: Path) -> World:
        """A world under ``base`` that starts as this one is now: each test builds on its own copy.

        Copied: configs, home, lake, metrics history and (if this world owns one) the MLflow
        database, the SQLite files through SQLite's backup API. The MLflow artifacts are not
        copied: the database names them by absolute path, runs and models write under their own
        unique ids, so every copy reads the template's artifacts and adds its own beside them.
        """
        own_registry = self.env["MLFLOW_TRACKING_URI"].startswith(f"sqlite:///{self.base}")
        env = dict(self.env)
        for name in ("DRIFTPILOT_HOME", "DRIFTPILOT_CONFIG_DIR", "DRIFTPILOT_LAKE"):
            source, target = Path(self.env[name]), base / Path(self.env[name]).relative_to(self.base)
            if source.exists():
                shutil.copytree(source, target)
            env[name] = str(target)
        databases = {"DRIFTPILOT_METRICS_DB": Path(self.env["DRIFTPILOT_METRICS_DB"])}
        if own_registry:
            databases["MLFLOW_TRACKING_URI"] = Path(self.env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
        for name, source in databases.items():
            target = base / source.relative_to(self.base)
            if source.exists():
                _copy_sqlite(source, target)
            env[name] = f"sqlite:///{target}" if name == "MLFLOW_TRACKING_URI" else str(target)
        return World(base, env)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (a plain file copy could miss an unfinished journal)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def bootstrap(config: Any, settings: Settings) -> Any:
    """Train and register ``config``'s initial champion in ``settings``' registry (~15 s)."""
    from driftpilot.composition import build_ports
    from driftpilot.usecases.bootstrap import bootstrap_champion

    return bootstrap_champion(config, build_ports(settings))
