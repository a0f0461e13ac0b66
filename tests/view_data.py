"""Demo-like monitoring history for the view's tests, written through the real SQLite store in seconds.

``write_history`` records what a month of monitoring leaves behind for one model (window evidence,
decisions, metric rows, label-confirmed performance, a retrain that ran, a promotion, a rollback,
an alert, each window's ``drift_stats.json`` and a report page), with a hostile feature name, a
hostile category value in the decision reasons and a hostile reviewer note. The view reads it like
the output of the monitoring DAG: the same store tables, the same lake files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from driftpilot.adapters.sqlite_store import SqliteEvidenceStore
from driftpilot.domain.evidence import (
    AliasMove,
    ColumnVerdict,
    DecisionRecord,
    MetricRow,
    PerformanceRecord,
    PerformanceStatus,
    WindowRecord,
    window_evidence,
)
from driftpilot.domain.policy import Action

MODEL = "view_probe"
HOSTILE_FEATURE = "seg</script><img src=x onerror=alert(3)>"
HOSTILE_VALUE = "\"><img src=x onerror=document.title='pwned'><div id=dp-injected>x</div>"
HOSTILE_NOTE = "<script>alert(5)</script>=HYPERLINK(\"http://evil\")"
FEATURES = ("x1", "x2", HOSTILE_FEATURE)
WINDOWS = 20
FINAL_WINDOWS = 17  # the last three windows still wait for their labels
FIRST = date(2026, 1, 1)
PROMOTED_ON = 10  # index of the window whose day sees the promotion 1 -> 2
ROLLED_BACK_ON = 15
RETRAINED_ON = 9


@dataclass(frozen=True)
class History:
    model: str
    windows: tuple[str, ...]
    final_windows: tuple[str, ...]


def config_yaml() -> dict[str, object]:
    return {
        "name": MODEL,
        "description": "view probe <b>model</b> & co",
        "task": "binary",
        "target": "y",
        "features": {"numeric": ["x1", "x2"], "categorical": [HOSTILE_FEATURE]},
        "labels": {"maturity_hours": 24, "min_labelled_rows": 50},
        "drift": {"share": 0.3},
        "trigger": {"performance_slo": 0.7},
    }


def write_history(config_dir: Path, metrics_db: Path, lake: Path) -> History:
    """Write the probe model's config, store records and report files; return what was written."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / f"{MODEL}.yaml").write_text(yaml.safe_dump(config_yaml(), sort_keys=False))
    metrics_db.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteEvidenceStore(metrics_db)
    windows = [(FIRST + timedelta(days=i)).isoformat() for i in range(WINDOWS)]
    for i, window in enumerate(windows):
        end = (FIRST + timedelta(days=i + 1)).isoformat() + "T00:00:00+00:00"
        version = "2" if PROMOTED_ON <= i < ROLLED_BACK_ON else "1"
        drifted_hostile = i % 3 == 0
        stats = {
            "x1": {"jensen_shannon": 0.05 + 0.01 * i, "psi": 0.1, "ks": 0.02},
            "x2": {"jensen_shannon": 0.02, "psi": 0.01, "ks": 0.01},
            HOSTILE_FEATURE: {"jensen_shannon": 0.3 if drifted_hostile else 0.01, "tvd": 0.2, "unseen_share": 0.0},
        }
        verdicts = [ColumnVerdict(c, (c == HOSTILE_FEATURE and drifted_hostile) or (c == "x1" and i >= 12), stats[c])
                    for c in FEATURES]
        share = sum(v.drifted for v in verdicts) / len(verdicts)
        evidence = window_evidence(window, 1000 + 10 * i, share, verdicts, FEATURES)
        store.put_window_evidence(WindowRecord(MODEL, version, evidence, end, health_score=100 - 3 * i))
        rows = [
            MetricRow(MODEL, version, window, "drift.share", "", share),
            MetricRow(MODEL, version, window, "ops.rows", "", float(1000 + 10 * i)),
            MetricRow(MODEL, version, window, "ops.latency_p95_ms", "", 20.0 + i),
            MetricRow(MODEL, version, window, "validation.quarantined_share", "", 0.01 * (i % 4)),
        ]
        for v in verdicts:
            rows.append(MetricRow(MODEL, version, window, "drift.drifted", v.column, float(v.drifted)))
            rows += [MetricRow(MODEL, version, window, f"drift.{k}", v.column, s) for k, s in v.statistics.items()]
        store.upsert_metrics(rows, end)
        action = Action.RETRAIN if i == RETRAINED_ON else Action.ALERT if drifted_hostile else Action.NONE
        reasons = (f"drift share {share:.2f}", f"unseen category {HOSTILE_VALUE} in {HOSTILE_FEATURE}")
        perf_evidence = {"window": window, "metric": "accuracy", "value": 0.8, "baseline": 0.82, "labelled": 900}
        store.save_decision(DecisionRecord(MODEL, window, version, action, reasons,
                                           {"drift_share": share, "performance": perf_evidence}, end))
        if i < FINAL_WINDOWS:
            store.put_performance(PerformanceRecord(
                MODEL, version, window, end, PerformanceStatus.FINAL, "final",
                {"accuracy": 0.85 - 0.01 * i, "n": 900.0}, 900, 0.9, 0, True, 0))
        folder = lake / "reports" / f"model={MODEL}" / f"date={window}"
        folder.mkdir(parents=True, exist_ok=True)
        columns = [{"column": c, "summary": {"count": 1000, "mean": 0.5 + 0.01 * i, "min": 0.0, "max": 1.0 + 0.02 * i,
                                              "std": 0.2, "missing": 0}} for c in ("x1", "x2")]
        columns.append({"column": HOSTILE_FEATURE, "summary": {"count": 1000, "missing": 0, "unseen": 3}})
        (folder / "drift_stats.json").write_text(json.dumps({"columns": columns, "predictions": []}))
        (folder / "drift.html").write_text("<html><body>drift page of the probe</body></html>")
    day = FIRST + timedelta(days=RETRAINED_ON)
    store.record_retrain(MODEL, "key-1", windows[RETRAINED_ON], day.isoformat() + "T01:00:00+00:00", "drift")
    store.mark_retrain_ran(MODEL, "key-1", windows[RETRAINED_ON], day.isoformat() + "T01:00:00+00:00", "drift")
    store.append_promotion(AliasMove(MODEL, "champion", "1", "2", "reviewer", windows[PROMOTED_ON] + "T06:00:00+00:00",
                                     f"approved: {HOSTILE_NOTE}"))
    store.append_promotion(AliasMove(MODEL, "champion", "2", "1", "oncall", windows[ROLLED_BACK_ON] + "T06:00:00+00:00",
                                     "rollback: accuracy fell"))
    store.begin_alert_delivery(MODEL, windows[12], "file")
    store.finish_alert_delivery(MODEL, windows[12], "file", "sent", "")
    return History(MODEL, tuple(windows), tuple(windows[:FINAL_WINDOWS]))
