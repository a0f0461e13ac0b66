"""Deployment settings: where state lives. Read lazily from ``DRIFTPILOT_*`` env vars.

Everything local lives under one home folder (default ``<project>/.driftpilot``) so that deleting
it starts over. Each location has a production counterpart reached by configuration only:
``MLFLOW_TRACKING_URI`` for a tracking server, ``DRIFTPILOT_LAKE`` for another lake root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent
PROJECT_DIR = INCLUDE_DIR.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    lake: Path
    config_dir: Path
    mlflow_tracking_uri: str
    mlflow_artifacts: Path
    metrics_db: Path  # the metrics history (SQLite): metrics, decisions, retrains, promotions

    @property
    def baseline_cache(self) -> Path:
        return self.home / "cache" / "baselines"


def load_settings() -> Settings:
    """Resolve the settings from the environment at call time (never at import time)."""
    home = Path(os.environ.get("DRIFTPILOT_HOME", PROJECT_DIR / ".driftpilot")).resolve()
    lake = Path(os.environ.get("DRIFTPILOT_LAKE", home / "lake"))
    config_dir = Path(os.environ.get("DRIFTPILOT_CONFIG_DIR", INCLUDE_DIR / "config"))
    mlflow_dir = home / "mlflow"
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{mlflow_dir / 'mlflow.db'}"
    artifacts = Path(os.environ.get("DRIFTPILOT_MLFLOW_ARTIFACTS", mlflow_dir / "artifacts"))
    metrics_db = Path(os.environ.get("DRIFTPILOT_METRICS_DB", home / "metrics" / "history.sqlite"))
    return Settings(
        metrics_db=metrics_db,
        home=home,
        lake=lake,
        config_dir=config_dir,
        mlflow_tracking_uri=tracking_uri,
        mlflow_artifacts=artifacts,
    )
