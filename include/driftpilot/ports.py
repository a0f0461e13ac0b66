"""The seams a user's world plugs into: ``typing.Protocol`` ports, and the bundle use cases take.

Use cases (``driftpilot.usecases``) talk to these ports only; ``driftpilot.composition`` builds
the implementations from the deployment settings, and unit tests pass fakes
(``tests/fakes.py``). Each port has one implementation per third-party library in
``driftpilot.adapters``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

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
    import pandas as pd


# --- EvidenceStore (evidence) ---
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



@dataclass(frozen=True)
class Ports:
    """Everything a use case may reach outside the pure domain, built once per task.

    ``settings`` stays for the values that are deployment facts (paths, limits); the I/O goes
    through the ports below as they are introduced.
    """

    settings: Settings
    store: EvidenceStore  # typed evidence, outbox, promotion log and lock (evidence)
