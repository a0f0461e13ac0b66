"""The monitoring view's read side (`usecases.dashboard`) on a real SQLite store in `tmp_path`.

The history is the one the view's integration and browser tests use (`tests/view_data.py`): 20
windows, labels final for 17, a retrain, a promotion, a rollback, an alert, a hostile feature name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
from driftpilot.usecases import dashboard
from driftpilot_ui.view import csv_cell, table_csv
from tests import view_data
from tests.fakes.evidence import InMemoryEvidenceStore
from tests.fakes.registry import FakeRegistry

INFO = dashboard.ModelInfo(view_data.MODEL, "probe", "accuracy", 0.7)


@pytest.fixture
def store(tmp_path: Path) -> SqliteEvidenceStore:
    view_data.write_history(tmp_path / "config", tmp_path / "history.sqlite", tmp_path / "lake")
    return SqliteEvidenceStore(tmp_path / "history.sqlite")


class BrokenRegistry(FakeRegistry):
    def aliases(self, model_name: str) -> dict[str, str]:
        raise ConnectionError("tracking server down")


def test_overview_shows_versions_last_decision_health_and_alert(store: SqliteEvidenceStore) -> None:
    registry = FakeRegistry()
    registry.alias_table[view_data.MODEL] = {"champion": "1", "challenger": "3"}
    page = dashboard.overview([INFO, dashboard.ModelInfo("idle", "never ran", "accuracy", None)], store, registry)
    rows = {r[0]: dict(zip(page.table("models").columns, r, strict=True)) for r in page.table("models").rows}
    probe = rows[view_data.MODEL]
    assert (probe["champion"], probe["challenger"]) == ("1", "3")
    assert probe["last_window"] == view_data.FIRST.replace(day=20).isoformat()
    assert probe["action"] == "none" and view_data.HOSTILE_VALUE in probe["reasons"]
    assert probe["health"] == 100 - 3 * 19 and probe["windows"] == view_data.WINDOWS
    assert probe["last_alert"] == "2026-01-13 file: sent"
    assert rows["idle"]["last_window"] is None and rows["idle"]["windows"] == 0


def test_an_unreadable_registry_is_a_note_not_an_error() -> None:
    page = dashboard.overview([INFO], InMemoryEvidenceStore(), BrokenRegistry())
    (row,) = page.table("models").rows
    assert row[2] is None and "ConnectionError" in str(row[-1])


@pytest.mark.parametrize("days, expected", [(30, 20), (60, 20), (90, 20)])
def test_trends_have_one_point_per_window_and_end_at_the_newest(store: SqliteEvidenceStore, days: int,
                                                              expected: int) -> None:
    page = dashboard.trends(INFO, store, days)
    series = page.table("series")
    assert len(series.rows) == expected
    assert page.facts["to"] == "2026-01-20"
    column = dict(zip(series.columns, zip(*series.rows, strict=True), strict=True))
    performance = [v for v in column["performance"] if v is not None]
    assert len(performance) == view_data.FINAL_WINDOWS  # maturing windows have no point
    assert column["performance"][0] == pytest.approx(0.85)
    assert set(column["slo"]) == {0.7} and set(column["baseline"]) == {0.82}
    assert column["rows"][3] == 1030.0 and column["latency_p95_ms"][3] == 23.0
    assert column["version"][view_data.PROMOTED_ON] == "2"


def test_a_short_period_cuts_the_axis(store: SqliteEvidenceStore) -> None:
    # 30 days back from 2026-01-20 covers all 20 windows; a store with later windows would cut.
    later = SqliteEvidenceStore(store.path)
    page = dashboard.trends(INFO, later, 30)
    assert page.facts["from"] == "2025-12-22"
    with pytest.raises(ValueError, match="30, 60, 90"):
        dashboard.trends(INFO, store, 7)


def test_events_mark_retrain_promotion_and_rollback_on_the_axis(store: SqliteEvidenceStore) -> None:
    events = dashboard.trends(INFO, store, 30).table("events")
    kinds = [(r[1], r[2]) for r in events.rows]
    assert kinds == [("2026-01-10", "retrain"), ("2026-01-11", "promotion"), ("2026-01-16", "rollback")]


def test_top_features_rank_by_drifted_windows(store: SqliteEvidenceStore) -> None:
    top = dashboard.trends(INFO, store, 90).table("top_features")
    ranked = [(r[0], r[1]) for r in top.rows]
    assert ranked[0] == ("x1", 8)  # windows 12..19
    assert ranked[1] == (view_data.HOSTILE_FEATURE, 7)  # every third window of 20
    assert ranked[2][1] == 0


def test_window_page_has_decision_verdicts_and_reports(store: SqliteEvidenceStore) -> None:
    page = dashboard.window_page(INFO, store, "2026-01-10", ["drift.html", "drift_stats.json", "notes.md"])
    assert page.facts["action"] == "retrain" and page.facts["rows"] == 1090
    columns = {r[0]: r for r in page.table("columns").rows}
    assert set(columns) == set(view_data.FEATURES)
    assert columns[view_data.HOSTILE_FEATURE][1] is True and columns["x2"][1] is False
    assert [r[0] for r in page.table("reports").rows] == ["drift.html", "drift_stats.json"]
    assert any(r[4] == "accuracy" for r in page.table("performance").rows)
    with pytest.raises(dashboard.UnknownModel, match="no monitored window"):
        dashboard.window_page(INFO, store, "2030-01-01", [])


def test_feature_history_and_summaries(store: SqliteEvidenceStore) -> None:
    summaries = {"2026-01-02": {"count": 10, "mean": 0.4, "min": 0, "max": 1, "std": 0.1, "missing": 0}}
    page = dashboard.feature_history(INFO, store, "x1", 90, summaries.get)
    history = page.table("history")
    assert len(history.rows) == view_data.WINDOWS
    js = history.columns.index("jensen_shannon")
    assert history.rows[0][js] == pytest.approx(0.05) and history.rows[-1][js] == pytest.approx(0.24)
    assert page.table("summary").rows == (("2026-01-02", 10.0, 0.4, 0.0, 1.0, 0.1, 0.0, None),)
    assert dashboard.feature_history(INFO, store, "no such column", 90).table("history").rows == ()
    assert dashboard.feature_names(store, view_data.MODEL) == sorted(view_data.FEATURES)


def test_csv_is_the_table_and_never_a_formula() -> None:
    table = dashboard.Table("t", ("a", "b"), (("=1+1", -1.5), (None, "plain, \"quoted\"")))
    assert table_csv(table) == "a,b\n'=1+1,-1.5\n,\"plain, \"\"quoted\"\"\"\n"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell(3) == "3"
