"""Typed evidence records: what monitoring, retraining and promotion write down and read back.

The evidence store (``driftpilot.ports.EvidenceStore``) keeps these records, so no use case, the
CLI or the demo ever rebuilds a fact by parsing metric names out of long rows (those rows stay,
for trends, MLflow and reports).

Facts that change when late labels arrive are **versioned by their as-of time**: a window's
performance is appended once per as-of time (the time the labels it was computed from were
known), and a reader asks for the version known ``as_of`` some time. A decision reads its
evidence as of its window's end, so re-running an old window after later label arrivals returns
exactly the decision of its first run. Facts that only depend on the window's own rows (its drift
evidence) are replaced when the window is re-run: the same rows give the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from driftpilot.domain.policy import Action, Decision, WindowEvidence

# The per-column statistics a window's evidence keeps (what feature rules may test, and more).
COLUMN_STATISTICS = ("ks", "wasserstein_norm", "psi", "jensen_shannon", "tvd", "p_value", "effect", "unseen_share")
DRIFTED = "drifted"  # the per-column score that says 1.0 (drifted) or 0.0


def finite(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or infinite (nothing to compare)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class MetricRow:
    """One long-format metric row (trends, MLflow, reports): never read back to make a decision."""

    model: str
    model_version: str
    window: str  # ISO date of the window start
    metric: str
    column: str
    value: float | None
    detail: str = ""


@dataclass(frozen=True)
class ColumnVerdict:
    """The part of one column's drift verdict the evidence keeps (see ``domain.drift.ColumnDrift``)."""

    column: str
    drifted: bool
    statistics: Mapping[str, float | None]


@dataclass(frozen=True)
class WindowRecord:
    """The drift side of one window as the drift step found it, for the version that served it."""

    model: str
    model_version: str  # the serving version (the one whose baseline judged the window)
    evidence: WindowEvidence
    computed_at: str  # the as-of time of the run that wrote it (the window's end)
    health_score: int | None = None  # 0-100, for people (reports, the demo's table); no rule reads it


def window_evidence(window: str, rows: int, drift_share: float | None, columns: Iterable[ColumnVerdict],
                    features: Iterable[str]) -> WindowEvidence:
    """The policy's view of a window: drifted *features* (sorted by name) and every column's scores.

    Scores keep finite values only (an infinite PSI says "no reference spread", not "large"), and
    each column also scores ``drifted`` (1.0 or 0.0), exactly what the trigger policy compares.
    """
    wanted = set(features)
    columns = list(columns)
    scores: dict[str, dict[str, float]] = {}
    for col in columns:
        values = {DRIFTED: 1.0 if col.drifted else 0.0}
        values |= {k: v for k, v in ((k, finite(v)) for k, v in col.statistics.items()) if v is not None}
        scores[col.column] = values
    drifted = tuple(sorted(c.column for c in columns if c.drifted and c.column in wanted))
    return WindowEvidence(window=window, rows=int(rows), drift_share=finite(drift_share),
                          drifted_columns=drifted, column_scores=scores)


class PerformanceStatus(StrEnum):
    FINAL = "final"  # mature, enough labels: figures frozen at maturity
    MATURING = "maturing"  # before maturity: coverage only
    INSUFFICIENT = "insufficient"  # mature, too few labels to score


@dataclass(frozen=True)
class PerformanceRecord:
    """One version of a window's label-confirmed performance, as known at ``as_of``."""

    model: str
    model_version: str
    window: str
    as_of: str  # ISO time the labels behind these figures were known (the computing run's as-of)
    status: PerformanceStatus
    note: str  # the status for people: "final", "labels maturing (40% so far)", "insufficient labels"
    metrics: Mapping[str, float]  # metric -> value; empty unless final
    labelled: int  # predictions with a label
    coverage: float
    corrected: int
    mature: bool
    late: int  # label rows that arrived after maturity (kept, not counted)

    @property
    def scored_rows(self) -> int:
        """Rows the metrics were computed on (``n`` of the evaluation)."""
        return int(self.metrics.get("n", 0))

    def value(self, metric: str) -> float | None:
        return finite(self.metrics.get(metric))


@dataclass(frozen=True)
class DecisionRecord:
    """A stored decision of one window."""

    model: str
    window: str
    model_version: str
    action: Action
    reasons: tuple[str, ...]
    evidence: Mapping[str, Any]
    decided_at: str

    @classmethod
    def of(cls, model: str, window: str, model_version: str, decision: Decision, decided_at: str) -> DecisionRecord:
        return cls(model, window, model_version, decision.action, tuple(decision.reasons), dict(decision.evidence),
                   decided_at)


class RetrainState(StrEnum):
    """States of a retrain request in the outbox, in order (see ``adapters.sqlite_store``)."""

    RECORDED = "recorded"
    EMITTED = "emitted"
    SUPERSEDED = "superseded"
    RAN = "ran"


@dataclass(frozen=True)
class RetrainOutboxEntry:
    """A retrain request as the outbox keeps it."""

    model: str
    idempotency_key: str
    window: str
    requested_at: str
    reason: str
    state: RetrainState
    emitted_at: str | None = None
    superseded_by: str | None = None
    ran_at: str | None = None


@dataclass(frozen=True)
class AliasMove:
    """One entry of the promotion log: an alias moved (or, with alias ``refused``, a refusal)."""

    model: str
    alias: str
    from_version: str | None
    to_version: str | None
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class GateVerdict:
    model: str
    run_id: str
    passed: bool
    digest: str  # SHA-256 of the gate record logged to the candidate run
    champion_version: str
    recorded_at: str
    version: str | None


@dataclass(frozen=True)
class VersionOutcome:
    outcome: str
    final: bool  # a final outcome means "never act on this version again"
    detail: str
    decided_at: str


@dataclass(frozen=True)
class AlertDelivery:
    """One alert channel's delivery for one window (the channel is its config name, never a URL)."""

    model: str
    window: str
    channel: str
    status: str  # sending | sent | failed
    attempts: int
    detail: str = ""
    updated_at: str = field(default="")
