"""Metrics history: one row per (model, model_version, window, metric, column), upserted.

Re-running a window replaces its rows instead of adding to them, and a later recomputation of a
window's performance (labels matured) updates the same keys, so the history converges to the
true figures. Embedded default: a SQLite file under the driftpilot home
(``DRIFTPILOT_METRICS_DB`` to move it); the same rows are also written per window as Parquet in
the lake (``metrics/model=<m>/date=<window>/metrics.parquet``) for object-store deployments.

Dataset-level metrics use column ``""`` (SQLite treats NULLs as distinct in a unique key).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    window TEXT NOT NULL,
    metric TEXT NOT NULL,
    "column" TEXT NOT NULL DEFAULT '',
    value REAL,
    detail TEXT,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (model, model_version, window, metric, "column")
);
CREATE TABLE IF NOT EXISTS decisions (
    model TEXT NOT NULL,
    window TEXT NOT NULL,
    model_version TEXT NOT NULL,
    action TEXT NOT NULL,
    reasons TEXT NOT NULL,
    evidence TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (model, window)
);
CREATE TABLE IF NOT EXISTS promotions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_version TEXT,
    to_version TEXT,
    moved_by TEXT NOT NULL,
    moved_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retrains (
    model TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    window TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (model, idempotency_key)
);
"""


_UPSERT = """INSERT INTO metrics (model, model_version, window, metric, "column", value, detail, computed_at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
   ON CONFLICT (model, model_version, window, metric, "column")
   DO UPDATE SET value = excluded.value, detail = excluded.detail, computed_at = excluded.computed_at"""


@dataclass(frozen=True)
class MetricRow:
    model: str
    model_version: str
    window: str  # ISO date of the window start
    metric: str
    column: str
    value: float | None
    detail: str = ""


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.executescript(SCHEMA)
        yield connection
        connection.commit()
    finally:
        connection.close()


def upsert_metrics(path: Path, rows: Iterable[MetricRow], computed_at: str) -> int:
    """Insert or replace metric rows by their key; returns the number of rows written."""
    values = [
        (r.model, r.model_version, r.window, r.metric, r.column or "", _finite(r.value), r.detail, computed_at)
        for r in rows
    ]
    with connect(path) as db:
        db.executemany(_UPSERT, values)
    return len(values)


def replace_window_metrics(path: Path, model: str, window: str, prefix: str, rows: list[MetricRow], computed_at: str) -> int:
    """Replace every metric of ``window`` whose name starts with ``prefix`` by ``rows``.

    Used when a recomputation may drop a metric (e.g. a column no longer drifted-tested): stale
    keys of the same family must not survive next to the new ones.
    """
    values = [
        (r.model, r.model_version, r.window, r.metric, r.column or "", _finite(r.value), r.detail, computed_at)
        for r in rows
    ]
    with connect(path) as db:  # one transaction: a reader never sees the family half replaced
        db.execute("DELETE FROM metrics WHERE model = ? AND window = ? AND metric LIKE ?", (model, window, prefix + "%"))
        db.executemany(_UPSERT, values)
    return len(values)


def read_metrics(path: Path, model: str, since: str | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
    """Metric rows of ``model`` (optionally from window ``since`` on, and only some metrics)."""
    query = 'SELECT model, model_version, window, metric, "column", value, detail, computed_at FROM metrics WHERE model = ?'
    params: list[Any] = [model]
    if since:
        query += " AND window >= ?"
        params.append(since)
    if metrics:
        query += f" AND metric IN ({','.join('?' * len(metrics))})"
        params.extend(metrics)
    with connect(path) as db:
        return pd.read_sql_query(query + " ORDER BY window, metric, \"column\"", db, params=params)


def trend(path: Path, model: str, metric: str, column: str, until: date, days: int) -> pd.DataFrame:
    """One metric over the ``days`` days up to ``until`` (for 30/60/90-day trend views)."""
    since = (until - timedelta(days=days)).isoformat()
    frame = read_metrics(path, model, since=since, metrics=[metric])
    frame = frame[(frame["column"] == column) & (frame["window"] <= until.isoformat())]
    return frame[["window", "model_version", "value"]].reset_index(drop=True)


def save_decision(path: Path, model: str, window: str, model_version: str, action: str,
                  reasons: list[str], evidence: dict[str, Any], decided_at: str) -> None:
    with connect(path) as db:
        db.execute(
            """INSERT INTO decisions (model, window, model_version, action, reasons, evidence, decided_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (model, window) DO UPDATE SET model_version = excluded.model_version,
               action = excluded.action, reasons = excluded.reasons, evidence = excluded.evidence,
               decided_at = excluded.decided_at""",
            (model, window, model_version, action, json.dumps(reasons), json.dumps(evidence, default=str), decided_at),
        )


def read_decisions(path: Path, model: str) -> pd.DataFrame:
    with connect(path) as db:
        frame = pd.read_sql_query(
            "SELECT window, model_version, action, reasons, evidence, decided_at FROM decisions WHERE model = ? ORDER BY window",
            db, params=[model],
        )
    frame["reasons"] = frame["reasons"].map(json.loads)
    return frame


def record_retrain(path: Path, model: str, key: str, window: str, requested_at: str, reason: str) -> bool:
    """Remember a retrain request; False when the same idempotency key was recorded before."""
    with connect(path) as db:
        cursor = db.execute(
            "INSERT OR IGNORE INTO retrains (model, idempotency_key, window, requested_at, reason) VALUES (?, ?, ?, ?, ?)",
            (model, key, window, requested_at, reason),
        )
        return cursor.rowcount == 1


def retrain_times(path: Path, model: str, before: str | None = None) -> list[str]:
    """When retrains were requested (ISO timestamps), optionally only those before a time."""
    with connect(path) as db:
        rows = db.execute("SELECT requested_at FROM retrains WHERE model = ? ORDER BY requested_at", (model,)).fetchall()
    times = [r[0] for r in rows]
    return [t for t in times if before is None or t < before]


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def append_promotion(path: Path, model: str, alias: str, from_version: str | None, to_version: str | None,
                     by: str, at: str, reason: str) -> None:
    """Append one alias move to the promotion log (aliases themselves keep no history)."""
    with connect(path) as db:
        db.execute(
            "INSERT INTO promotions (model, alias, from_version, to_version, moved_by, moved_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (model, alias, from_version, to_version, by, at, reason),
        )


def read_promotions(path: Path, model: str) -> pd.DataFrame:
    with connect(path) as db:
        return pd.read_sql_query(
            "SELECT alias, from_version, to_version, moved_by, moved_at, reason FROM promotions WHERE model = ? ORDER BY seq",
            db, params=[model],
        )


def computed_at(path: Path, model: str, window: str, metric: str) -> str | None:
    """When ``metric`` of ``window`` was last computed (the as-of time of that run), if ever."""
    with connect(path) as db:
        row = db.execute("SELECT MAX(computed_at) FROM metrics WHERE model = ? AND window = ? AND metric = ?",
                         (model, window, metric)).fetchone()
    return row[0] if row and row[0] else None
