"""The SQLite evidence store: typed records, performance versioned by as-of, migration of old files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from driftpilot.adapters import sqlite_store as history
from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
from driftpilot.domain.evidence import (
    AliasMove,
    ColumnVerdict,
    DecisionRecord,
    MetricRow,
    PerformanceRecord,
    PerformanceStatus,
    RetrainState,
    WindowRecord,
    window_evidence,
)
from driftpilot.domain.policy import Action, Decision


def perf(window: str, as_of: str, accuracy: float | None, version: str = "1") -> PerformanceRecord:
    final = accuracy is not None
    return PerformanceRecord(
        model="m", model_version=version, window=window, as_of=as_of,
        status=PerformanceStatus.FINAL if final else PerformanceStatus.MATURING,
        note="final" if final else "labels maturing (40% so far)",
        metrics={"accuracy": accuracy, "n": 200.0} if final else {}, labelled=200 if final else 80,
        coverage=1.0 if final else 0.4, corrected=0, mature=final, late=0)


@pytest.fixture
def store(tmp_path: Path) -> SqliteEvidenceStore:
    return SqliteEvidenceStore(tmp_path / "metrics" / "history.sqlite")


def test_performance_reads_the_version_known_at_as_of(store) -> None:
    store.put_performance(perf("2026-01-01", "2026-01-02T00:00:00+00:00", None))
    store.put_performance(perf("2026-01-01", "2026-01-05T00:00:00+00:00", 0.8))
    store.put_performance(perf("2026-01-01", "2026-01-09T00:00:00+00:00", 0.6))  # late labels, a later run
    at = {p.as_of: p for p in store.performance_versions("m", "2026-01-01")}
    assert len(at) == 3  # appended, not overwritten
    [early] = store.performance("m", as_of="2026-01-04T00:00:00+00:00")
    assert early.status is PerformanceStatus.MATURING and early.value("accuracy") is None
    [mature] = store.performance("m", as_of="2026-01-05T00:00:00+00:00")  # as-of is inclusive
    assert (mature.value("accuracy"), mature.scored_rows) == (0.8, 200)
    [now] = store.performance("m")
    assert now.value("accuracy") == 0.6
    assert store.performance("m", as_of="2026-01-01T00:00:00+00:00") == []  # nothing known yet


def test_rewriting_the_same_as_of_is_idempotent(store) -> None:
    record = perf("2026-01-01", "2026-01-05T00:00:00+00:00", 0.8)
    store.put_performance(record)
    store.put_performance(record)
    assert store.performance_versions("m", "2026-01-01") == [record]
    fixed = perf("2026-01-01", "2026-01-05T00:00:00+00:00", 0.7)  # a retried run at the same as-of replaces it
    store.put_performance(fixed)
    assert store.performance_versions("m", "2026-01-01") == [fixed]


def test_performance_reads_by_window_range(store) -> None:
    for day in range(1, 5):
        store.put_performance(perf(f"2026-01-0{day}", f"2026-01-0{day + 4}T00:00:00+00:00", 0.8 + day / 100))
    windows = [p.window for p in store.performance("m", since="2026-01-02", until="2026-01-03")]
    assert windows == ["2026-01-02", "2026-01-03"]


def test_window_evidence_round_trips_and_is_replaced_by_a_rerun(store) -> None:
    columns = [ColumnVerdict("b", True, {"psi": float("inf"), "ks": 0.4}), ColumnVerdict("a", True, {"ks": 0.3}),
               ColumnVerdict("score", True, {"ks": 0.5}), ColumnVerdict("c", False, {"ks": None})]
    evidence = window_evidence("2026-01-01", 336, 0.66, columns, features=["a", "b", "c"])
    assert evidence.drifted_columns == ("a", "b")  # features only, by name
    assert evidence.column_scores["b"] == {"drifted": 1.0, "ks": 0.4}  # an infinite PSI compares with nothing
    store.put_window_evidence(WindowRecord("m", "1", evidence, "2026-01-02T00:00:00+00:00", 70))
    [back] = store.window_evidence("m")
    assert back == WindowRecord("m", "1", evidence, "2026-01-02T00:00:00+00:00", 70)
    rerun = window_evidence("2026-01-01", 336, 0.0, [], [])
    store.put_window_evidence(WindowRecord("m", "2", rerun, "2026-01-02T00:00:00+00:00"))
    assert [r.model_version for r in store.window_evidence("m")] == ["2"]  # one record per window
    assert store.window_evidence("m", since="2026-01-02") == []


def test_decisions_outbox_log_and_deliveries_are_typed(store) -> None:
    decision = Decision(Action.RETRAIN, ("a", "b"), {"window": "2026-01-01", "rows": 3})
    store.save_decision(DecisionRecord.of("m", "2026-01-01", "1", decision, "2026-01-02T00:00:00+00:00"))
    [record] = store.decisions("m")
    assert (record.action, record.reasons, dict(record.evidence)) == (Action.RETRAIN, ("a", "b"), dict(decision.evidence))
    assert store.record_retrain("m", "k", "2026-01-01", "2026-01-02T00:00:00+00:00", "r") is RetrainState.RECORDED
    assert store.mark_retrain_emitted("m", "k")
    [entry] = store.retrain_requests("m")
    assert (entry.state, entry.superseded_by, entry.ran_at) == (RetrainState.EMITTED, None, None)
    move = AliasMove("m", "champion", None, "2", "rita", "2026-01-03T00:00:00", "approved: ok")
    store.append_promotion(move)
    assert store.promotion_log("m") == [move]
    assert store.last_alias_target("m", "champion") == (True, "2")
    store.begin_alert_delivery("m", "2026-01-01", "file")
    store.finish_alert_delivery("m", "2026-01-01", "file", "sent", "ok")
    [delivery] = store.alert_deliveries("m")
    assert (delivery.status, delivery.attempts, delivery.detail) == ("sent", 1, "ok")


OLD_SCHEMA = history.SCHEMA  # the metric, decision, promotion and retrain tables of the previous version


def test_a_file_of_the_previous_version_keeps_working(tmp_path: Path) -> None:
    """Typed evidence is rebuilt once from the metric rows; nothing is dropped or rewritten."""
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as old:
        old.executescript(OLD_SCHEMA)
        rows = [("drift.share", "", 0.5, "drifted"), ("drift.health_score", "", 60.0, ""), ("ops.rows", "", 336.0, ""),
                ("drift.drifted", "x", 1.0, "why"), ("drift.ks", "x", 0.4, ""), ("drift.drifted", "prediction", 1.0, ""),
                ("drift.drifted", "y", 0.0, ""), ("drift.version_share", "2", 0.1, ""), ("perf.accuracy", "", 0.81, ""),
                ("perf.n", "", 250.0, ""), ("perf.status", "", None, "final"), ("labels.labelled", "", 250.0, ""),
                ("labels.coverage", "", 0.95, ""), ("labels.mature", "", 1.0, ""), ("labels.late", "", 3.0, "")]
        old.executemany("INSERT INTO metrics VALUES ('m', '1', '2026-01-01', ?, ?, ?, ?, '2026-01-05T00:00:00+00:00')", rows)
        old.execute("INSERT INTO decisions VALUES ('m', '2026-01-01', '1', 'alert', ?, '{}', 't')", (json.dumps(["r"]),))
    store = SqliteEvidenceStore(db)
    [record] = store.window_evidence("m")
    assert (record.model_version, record.health_score, record.computed_at) == ("1", 60, "2026-01-05T00:00:00+00:00")
    assert record.evidence.drifted_columns == ("x",)  # prediction columns are not features
    assert record.evidence.column_scores["x"] == {"drifted": 1.0, "ks": 0.4}
    assert "2" not in record.evidence.column_scores
    assert (record.evidence.rows, record.evidence.drift_share) == (336, 0.5)
    [performance] = store.performance("m", as_of="2026-01-05T00:00:00+00:00")
    assert (performance.status, performance.value("accuracy"), performance.scored_rows) == (PerformanceStatus.FINAL, 0.81, 250)
    assert (performance.labelled, performance.coverage, performance.mature, performance.late) == (250, 0.95, True, 3)
    assert [d.action for d in store.decisions("m")] == [Action.ALERT]
    assert len(store.read_metrics("m")) == len(rows)  # the long rows are kept as they were
    store.put_window_evidence(WindowRecord("m", "1", window_evidence("2026-01-01", 1, None, [], []), "t"))
    SqliteEvidenceStore(db).window_evidence("m")  # the backfill runs once: a later write is not overwritten
    assert store.window_evidence("m")[0].evidence.rows == 1


def test_the_store_keeps_writing_the_long_rows_for_trends(store) -> None:
    store.upsert_metrics([MetricRow("m", "1", "2026-01-01", "drift.share", "", 0.2)], "t")
    assert store.read_metrics("m")["value"].tolist() == [0.2]
