"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes.py``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from driftpilot.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from driftpilot.domain.config import ModelConfig
    from driftpilot.domain.reports import StepReports, WindowReports


# --- ReportRenderer (reports) ---
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
                     window_label: str, *, seed: int = 0, total_rows: int | None = None) -> StepReports:
        """Drift and data-quality reports (the drift task)."""
        ...

    def render_performance(self, config: ModelConfig, reference: pd.DataFrame, current: pd.DataFrame,
                           labelled: pd.DataFrame | None, out_dir: Path, window_label: str, *, seed: int = 0,
                           total_rows: int | None = None) -> StepReports:
        """The performance report of the labelled rows, or "insufficient labels" (the labels task)."""
        ...

    def window_reports(self, out_dir: Path, model_name: str, window_label: str) -> WindowReports:
        """What each step last recorded for the window."""
        ...


@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below as they are introduced.
    """

    settings: Settings
    reports: ReportRenderer  # Evidently drift/quality/performance pages (adapters/evidently)
