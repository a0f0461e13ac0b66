"""Small fakes for unit tests (real components are used in integration tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class ThresholdModel:
    """A stand-in binary classifier: P(1) rises with the first numeric feature."""

    def __init__(self, column: str, classes: tuple[int, int] = (0, 1)) -> None:
        self.column = column
        self.classes_ = np.array(classes)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        x = pd.to_numeric(frame[self.column], errors="coerce").fillna(0.0).to_numpy()
        p = 1.0 / (1.0 + np.exp(-(x - 0.5) * 8))
        return np.column_stack([1 - p, p])


def local_settings(home):  # type: ignore[no-untyped-def]
    """Settings whose every location is under ``home`` (no MLflow is touched by the callers)."""
    from driftpilot.settings import Settings

    return Settings(home=home, lake=home / "lake", config_dir=home / "config",
                    mlflow_tracking_uri="sqlite:///unused.db", mlflow_artifacts=home / "mlflow",
                    metrics_db=home / "metrics" / "history.sqlite")


def ports_with(settings, **fakes):  # type: ignore[no-untyped-def]
    """The production bundle for ``settings`` with some ports replaced by fakes.

    Built from ``build_ports`` so a port added later gets its real (lazy) adapter, and a test
    names only the fakes it relies on.
    """
    import dataclasses

    from driftpilot.composition import build_ports

    return dataclasses.replace(build_ports(settings), **fakes)
