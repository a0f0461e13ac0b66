"""An in-memory ``EvidenceStore`` for use-case unit tests: the same as-of semantics as the SQLite store.

It keeps typed records in dicts and lists; long-format metric rows are kept as a list and returned
as a DataFrame. Promotion integrity is kept as simply as it can be while staying honest (a bound
verdict never changes; the lock is a plain threading lock per name).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pandas as pd

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

_END = "\uffff"


class InMemoryEvidenceStore:
    def __init__(self) -> None:
        self.metrics: dict[tuple[str, str, str, str, str], tuple[MetricRow, str]] = {}
        self.windows: dict[tuple[str, str], WindowRecord] = {}
        self.performances: dict[tuple[str, str, str], PerformanceRecord] = {}  # (model, window, as_of)
        self.decision_log: dict[tuple[str, str], DecisionRecord] = {}
        self.outbox: dict[tuple[str, str], RetrainOutboxEntry] = {}
        self.deliveries: dict[tuple[str, str, str], AlertDelivery] = {}
        self.moves: list[AliasMove] = []
        self.verdicts: dict[tuple[str, str], GateVerdict] = {}
        self.outcomes: dict[tuple[str, str], VersionOutcome] = {}
        self._locks: dict[str, threading.Lock] = {}

    # long-format rows
    def upsert_metrics(self, rows: Iterable[MetricRow], computed_at: str) -> int:
        rows = list(rows)
        for r in rows:
            self.metrics[(r.model, r.model_version, r.window, r.metric, r.column)] = (r, computed_at)
        return len(rows)

    def replace_window_metrics(self, model: str, window: str, prefix: str, rows: list[MetricRow], computed_at: str) -> int:
        for key in [k for k in self.metrics if k[0] == model and k[2] == window and k[3].startswith(prefix)]:
            del self.metrics[key]
        return self.upsert_metrics(rows, computed_at)

    def read_metrics(self, model: str, since: str | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
        records = [{**dataclasses.asdict(r), "computed_at": at} for (m, *_), (r, at) in sorted(self.metrics.items())
                   if m == model and r.window >= (since or "") and (not metrics or r.metric in metrics)]
        columns = ["model", "model_version", "window", "metric", "column", "value", "detail", "computed_at"]
        return pd.DataFrame(records, columns=columns)

    def trend(self, model: str, metric: str, column: str, until: date, days: int) -> pd.DataFrame:
        frame = self.read_metrics(model, since=(until - timedelta(days=days)).isoformat(), metrics=[metric])
        frame = frame[(frame["column"] == column) & (frame["window"] <= until.isoformat())]
        return frame[["window", "model_version", "value"]].reset_index(drop=True)

    # evidence
    def put_window_evidence(self, record: WindowRecord) -> None:
        self.windows[(record.model, record.evidence.window)] = record

    def window_evidence(self, model: str, since: str | None = None, until: str | None = None) -> list[WindowRecord]:
        return [r for (m, w), r in sorted(self.windows.items()) if m == model and (since or "") <= w <= (until or _END)]

    def put_performance(self, record: PerformanceRecord) -> None:
        self.performances[(record.model, record.window, record.as_of)] = record

    def performance(self, model: str, as_of: str | None = None, since: str | None = None,
                    until: str | None = None) -> list[PerformanceRecord]:
        latest: dict[str, PerformanceRecord] = {}
        for (m, w, at), record in sorted(self.performances.items()):
            if m == model and (since or "") <= w <= (until or _END) and at <= (as_of or _END):
                latest[w] = record  # sorted by as-of within a window: the last one known wins
        return [latest[w] for w in sorted(latest)]

    def performance_versions(self, model: str, window: str) -> list[PerformanceRecord]:
        return [r for (m, w, _), r in sorted(self.performances.items()) if (m, w) == (model, window)]

    def save_decision(self, record: DecisionRecord) -> None:
        self.decision_log[(record.model, record.window)] = record

    def decisions(self, model: str) -> list[DecisionRecord]:
        return [r for (m, _), r in sorted(self.decision_log.items()) if m == model]

    # the outbox
    def record_retrain(self, model: str, key: str, window: str, requested_at: str, reason: str) -> RetrainState:
        entry = self.outbox.setdefault((model, key), RetrainOutboxEntry(model, key, window, requested_at, reason,
                                                                        RetrainState.RECORDED))
        return entry.state

    def mark_retrain_emitted(self, model: str, key: str) -> bool:
        entry = self.outbox.get((model, key))
        if entry is None or entry.state is not RetrainState.RECORDED:
            return False
        self.outbox[(model, key)] = dataclasses.replace(entry, state=RetrainState.EMITTED, emitted_at="now")
        return True

    def supersede_retrains(self, model: str, requests: Iterable[tuple[str, str, str, str]], by: str) -> list[str]:
        marked = []
        for key, window, requested_at, reason in requests:
            entry = self.outbox.setdefault((model, key), RetrainOutboxEntry(model, key, window, requested_at, reason,
                                                                            RetrainState.EMITTED))
            if entry.state is not RetrainState.RAN:
                self.outbox[(model, key)] = dataclasses.replace(entry, state=RetrainState.SUPERSEDED, superseded_by=by)
                marked.append(key)
        return marked

    def mark_retrain_ran(self, model: str, key: str, window: str, requested_at: str, reason: str) -> None:
        entry = self.outbox.get((model, key)) or RetrainOutboxEntry(model, key, window, requested_at, reason, RetrainState.RAN)
        self.outbox[(model, key)] = dataclasses.replace(entry, state=RetrainState.RAN, ran_at=entry.ran_at or "now")

    def retrain_requests(self, model: str) -> list[RetrainOutboxEntry]:
        return sorted((e for (m, _), e in self.outbox.items() if m == model), key=lambda e: (e.requested_at, e.idempotency_key))

    def retrain_times(self, model: str, before: str | None = None) -> list[str]:
        times = sorted(e.requested_at for e in self.retrain_requests(model) if e.state is RetrainState.RAN)
        return [t for t in times if before is None or t < before]

    # alert deliveries
    def alert_delivery_status(self, model: str, window: str, channel: str) -> str | None:
        found = self.deliveries.get((model, window, channel))
        return found.status if found else None

    def begin_alert_delivery(self, model: str, window: str, channel: str) -> None:
        found = self.deliveries.get((model, window, channel))
        attempts = found.attempts + 1 if found else 1
        self.deliveries[(model, window, channel)] = AlertDelivery(model, window, channel, "sending", attempts)

    def finish_alert_delivery(self, model: str, window: str, channel: str, status: str, detail: str) -> None:
        found = self.deliveries[(model, window, channel)]
        self.deliveries[(model, window, channel)] = dataclasses.replace(found, status=status, detail=detail)

    def alert_deliveries(self, model: str) -> list[AlertDelivery]:
        return [d for (m, *_), d in sorted(self.deliveries.items()) if m == model]

    # promotion log and integrity
    def append_promotion(self, move: AliasMove) -> None:
        self.moves.append(move)

    def promotion_log(self, model: str) -> list[AliasMove]:
        return [m for m in self.moves if m.model == model]

    def last_alias_target(self, model: str, alias: str) -> tuple[bool, str | None]:
        moved = [m for m in self.moves if m.model == model and m.alias == alias]
        return (False, None) if not moved else (True, moved[-1].to_version)

    def record_gate_verdict(self, model: str, run_id: str, passed: bool, digest: str, champion_version: str,
                            recorded_at: str) -> GateVerdict:
        current = self.verdicts.get((model, run_id))
        if current is None or current.version is None:
            current = GateVerdict(model, run_id, passed, digest, str(champion_version), recorded_at, None)
            self.verdicts[(model, run_id)] = current
        return current

    def bind_gate_verdict(self, model: str, run_id: str, version: str) -> GateVerdict:
        current = self.verdicts[(model, run_id)]
        if current.version is None:
            current = dataclasses.replace(current, version=str(version))
            self.verdicts[(model, run_id)] = current
        return current

    def gate_verdict_of_run(self, model: str, run_id: str) -> GateVerdict | None:
        return self.verdicts.get((model, run_id))

    def gate_verdict(self, model: str, version: str) -> GateVerdict | None:
        return next((v for (m, _), v in self.verdicts.items() if m == model and v.version == str(version)), None)

    def record_outcome(self, model: str, version: str, outcome: str, final: bool, detail: str, decided_at: str) -> None:
        self.outcomes[(model, str(version))] = VersionOutcome(outcome, final, detail, decided_at)

    def version_outcome(self, model: str, version: str) -> VersionOutcome | None:
        return self.outcomes.get((model, str(version)))

    @contextmanager
    def held_lock(self, name: str, holder: str, *, timeout: float = 120.0, ttl: float = 900.0,
                  poll: float = 0.1) -> Iterator[str]:
        lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=timeout):
            from driftpilot.errors import LockTimeout

            raise LockTimeout(f"lock {name!r} is held; waited {timeout:.0f} s")
        try:
            yield holder
        finally:
            lock.release()
