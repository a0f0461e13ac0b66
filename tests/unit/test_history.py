from __future__ import annotations

from datetime import date
from pathlib import Path

from driftpilot.adapters import sqlite_store as history
from driftpilot.adapters.sqlite_store import MetricRow


def rows(value: float) -> list[MetricRow]:
    return [
        MetricRow("m", "1", "2026-01-05", "drift_share", "", value),
        MetricRow("m", "1", "2026-01-05", "psi", "x", value * 2),
    ]


def test_rerun_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    history.upsert_metrics(db, rows(0.1), "t1")
    history.upsert_metrics(db, rows(0.4), "t2")
    frame = history.read_metrics(db, "m")
    assert len(frame) == 2
    assert frame.set_index("metric").loc["drift_share", "value"] == 0.4
    assert set(frame["computed_at"]) == {"t2"}


def test_replace_window_metrics_drops_stale_keys(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    history.upsert_metrics(db, [MetricRow("m", "1", "2026-01-05", "perf.accuracy", "", 0.7),
                                MetricRow("m", "1", "2026-01-05", "perf.f1", "", 0.6)], "t1")
    history.replace_window_metrics(db, "m", "2026-01-05", "perf.", [MetricRow("m", "1", "2026-01-05", "perf.accuracy", "", 0.8)], "t2")
    frame = history.read_metrics(db, "m")
    assert frame["metric"].tolist() == ["perf.accuracy"]
    assert frame["value"].tolist() == [0.8]


def test_trend_selects_a_range(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    history.upsert_metrics(db, [MetricRow("m", "1", f"2026-01-{d:02d}", "drift_share", "", d / 100) for d in range(1, 31)], "t")
    last_week = history.trend(db, "m", "drift_share", "", date(2026, 1, 30), 7)
    assert last_week["window"].tolist() == [f"2026-01-{d:02d}" for d in range(23, 31)]


def test_non_finite_values_are_stored_as_null(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    history.upsert_metrics(db, [MetricRow("m", "1", "w", "psi", "x", float("inf"), "no reference spread")], "t")
    frame = history.read_metrics(db, "m")
    assert frame["value"].isna().all()
    assert frame["detail"].tolist() == ["no reference spread"]


def test_decisions_and_retrain_keys(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    history.save_decision(db, "m", "2026-01-05", "1", "alert", ["a"], {"x": 1}, "t1")
    history.save_decision(db, "m", "2026-01-05", "1", "retrain", ["b"], {"x": 2}, "t2")
    decisions = history.read_decision_records(db, "m")
    assert [(d.action.value, d.reasons, dict(d.evidence), d.decided_at) for d in decisions] == [
        ("retrain", ("b",), {"x": 2}, "t2")]
    assert history.record_retrain(db, "m", "k1", "2026-01-05", "2026-01-06T00:00", "drift") == history.RECORDED
    history.mark_retrain_emitted(db, "m", "k1")
    assert history.record_retrain(db, "m", "k1", "2026-01-05", "2026-01-06T00:00", "other") == history.EMITTED
    assert history.read_retrains(db, "m")["reason"].tolist() == ["drift"]  # one row per key


def test_trend_command_prints_the_window_values(tmp_path: Path, monkeypatch, capsys) -> None:
    from driftpilot.cli import main

    monkeypatch.setenv("DRIFTPILOT_HOME", str(tmp_path))
    db = tmp_path / "metrics" / "history.sqlite"
    history.upsert_metrics(db, [MetricRow("m", "1", f"2026-01-{d:02d}", "drift.share", "", d / 10) for d in range(1, 6)], "t")
    assert main(["trend", "--model", "m", "--days", "2", "--until", "2026-01-05"]) == 0
    out = capsys.readouterr().out
    assert "2026-01-03" in out and "2026-01-02" not in out
    assert "3 window(s); mean 0.4000" in out
