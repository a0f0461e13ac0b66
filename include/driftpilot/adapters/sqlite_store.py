"""The evidence store on SQLite: typed evidence records, and the long-format metrics history.

``SqliteEvidenceStore`` implements ``driftpilot.ports.EvidenceStore``: window evidence,
performance evidence (versioned by as-of time), decisions, the retrain outbox, the promotion log,
gate verdicts, version outcomes, alert deliveries and the promotion lock, as the typed records of
``driftpilot.domain.evidence``. The module-level functions below are its implementation (each
opens the file, works in one transaction, closes it) and stay importable for scripts and tests.

Metrics history: one row per (model, model_version, window, metric, column), upserted.

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
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.domain.evidence import (
    COLUMN_STATISTICS,
    DRIFTED,
    AlertDelivery,
    AliasMove,
    DecisionRecord,
    GateVerdict,
    MetricRow,
    PerformanceRecord,
    PerformanceStatus,
    RetrainOutboxEntry,
    RetrainState,
    VersionOutcome,
    WindowRecord,
    finite,
)
from driftpilot.domain.policy import Action, WindowEvidence

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


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.executescript(SCHEMA)
        _migrate_outbox(connection)
        _migrate_evidence(connection)
        yield connection
        connection.commit()
    finally:
        connection.close()


def upsert_metrics(path: Path, rows: Iterable[MetricRow], computed_at: str) -> int:
    """Insert or replace metric rows by their key; returns the number of rows written."""
    values = [
        (r.model, r.model_version, r.window, r.metric, r.column or "", finite(r.value), r.detail, computed_at)
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
        (r.model, r.model_version, r.window, r.metric, r.column or "", finite(r.value), r.detail, computed_at)
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


# --------------------------------------------------------------------------------------------
# Retrain requests: an outbox. States, in order:
#   recorded    the monitoring DAG decided to retrain (row written before the Asset event)
#   emitted     the Asset event went out (marked by the task after the emitting one, or by the
#               retraining DAG on receipt): a retry re-emits every key still `recorded`
#   superseded  queued with a newer request for the same retraining run (`superseded_by`)
#   ran         the retraining DAG trained a candidate for it: only these count for the
#               cooldown and the 30-day budget (a request that never ran cost nothing)
# Rows written before the outbox existed have no state column; the guarded migration gives them
# `emitted` (the old code emitted right after recording), so they are kept and not re-emitted.
# --------------------------------------------------------------------------------------------

RECORDED, EMITTED, SUPERSEDED, RAN = (RetrainState.RECORDED.value, RetrainState.EMITTED.value,
                                     RetrainState.SUPERSEDED.value, RetrainState.RAN.value)
COUNTED_RETRAIN_STATES = (RAN,)

_RETRAIN_COLUMNS = {
    "state": f"TEXT NOT NULL DEFAULT '{EMITTED}'",
    "emitted_at": "TEXT",
    "superseded_by": "TEXT",
    "ran_at": "TEXT",
}
_ALERT_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_deliveries (
    model TEXT NOT NULL,
    window TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, window, channel)
);
"""
# Audit stamps come from the store's own clock; no decision ever reads them.
_STAMP = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def _migrate_outbox(db: sqlite3.Connection) -> None:
    """Additive, idempotent migration: new columns on `retrains`, the `alert_deliveries` table."""
    db.executescript(_ALERT_SCHEMA)
    present = {row[1] for row in db.execute("PRAGMA table_info(retrains)")}
    for name, declaration in _RETRAIN_COLUMNS.items():
        if name not in present:
            try:
                db.execute(f"ALTER TABLE retrains ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as exc:  # another process added it a moment ago
                if "duplicate column" not in str(exc):
                    raise


def record_retrain(path: Path, model: str, key: str, window: str, requested_at: str, reason: str) -> str:
    """Put a retrain request in the outbox (state ``recorded``) once per key; returns its state now.

    ``recorded`` means "emit it" (a first attempt, or a retry after a crash before the emission
    was confirmed); any later state means the request already went out.
    """
    with connect(path) as db:
        db.execute(
            "INSERT OR IGNORE INTO retrains (model, idempotency_key, window, requested_at, reason, state) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (model, key, window, requested_at, reason, RECORDED),
        )
        return str(db.execute("SELECT state FROM retrains WHERE model = ? AND idempotency_key = ?",
                              (model, key)).fetchone()[0])


def mark_retrain_emitted(path: Path, model: str, key: str) -> bool:
    """``recorded`` -> ``emitted``; False when the key was not waiting for emission."""
    with connect(path) as db:
        cursor = db.execute(
            f"UPDATE retrains SET state = ?, emitted_at = {_STAMP} WHERE model = ? AND idempotency_key = ? AND state = ?",
            (EMITTED, model, key, RECORDED),
        )
        return cursor.rowcount == 1


def supersede_retrains(path: Path, model: str, requests: Iterable[tuple[str, str, str, str]], by: str) -> list[str]:
    """Mark queued requests ``(key, window, requested_at, reason)`` as superseded by request ``by``.

    A key the store does not know (an event from elsewhere) is recorded as superseded too, so no
    queued request disappears without a trace; a request that already ran keeps ``ran``.
    Returns the keys marked.
    """
    marked = []
    with connect(path) as db:
        for key, window, requested_at, reason in requests:
            db.execute(
                "INSERT OR IGNORE INTO retrains (model, idempotency_key, window, requested_at, reason, state) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (model, key, window, requested_at, reason, EMITTED),
            )
            cursor = db.execute(
                "UPDATE retrains SET state = ?, superseded_by = ?, emitted_at = COALESCE(emitted_at, "
                f"{_STAMP}) WHERE model = ? AND idempotency_key = ? AND state != ?",
                (SUPERSEDED, by, model, key, RAN),
            )
            if cursor.rowcount:
                marked.append(key)
    return marked


def mark_retrain_ran(path: Path, model: str, key: str, window: str, requested_at: str, reason: str) -> None:
    """The retraining DAG trained a candidate for ``key`` (manual requests are recorded here too)."""
    with connect(path) as db:
        db.execute(
            "INSERT OR IGNORE INTO retrains (model, idempotency_key, window, requested_at, reason, state) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (model, key, window, requested_at, reason, RAN),
        )
        db.execute(
            f"UPDATE retrains SET state = ?, ran_at = COALESCE(ran_at, {_STAMP}), "
            f"emitted_at = COALESCE(emitted_at, {_STAMP}) WHERE model = ? AND idempotency_key = ?",
            (RAN, model, key),
        )


def read_retrains(path: Path, model: str) -> pd.DataFrame:
    """The outbox of ``model``: every request with its state (for people and tests)."""
    with connect(path) as db:
        return pd.read_sql_query(
            "SELECT idempotency_key, window, requested_at, reason, state, emitted_at, superseded_by, ran_at "
            "FROM retrains WHERE model = ? ORDER BY requested_at, idempotency_key",
            db, params=[model],
        )


def retrain_times(path: Path, model: str, before: str | None = None) -> list[str]:
    """When the retrains that ran were requested (ISO as-of times), optionally only those before a time.

    Only state ``ran`` counts: a request that was recorded, emitted or superseded but never
    trained a candidate must not hold back the next one (cooldown) or use up the budget.
    """
    marks = ",".join("?" * len(COUNTED_RETRAIN_STATES))
    with connect(path) as db:
        rows = db.execute(
            f"SELECT requested_at FROM retrains WHERE model = ? AND state IN ({marks}) ORDER BY requested_at",
            (model, *COUNTED_RETRAIN_STATES),
        ).fetchall()
    times = [r[0] for r in rows]
    return [t for t in times if before is None or t < before]


# --------------------------------------------------------------------------------------------
# Alert deliveries: one row per (model, window, channel); the channel is its config name, never
# a URL. `sending` before an attempt, `sent` after a 2xx, `failed` with a safe detail otherwise.
# --------------------------------------------------------------------------------------------


def alert_delivery_status(path: Path, model: str, window: str, channel: str) -> str | None:
    with connect(path) as db:
        row = db.execute("SELECT status FROM alert_deliveries WHERE model = ? AND window = ? AND channel = ?",
                         (model, window, channel)).fetchone()
    return row[0] if row else None


def begin_alert_delivery(path: Path, model: str, window: str, channel: str) -> None:
    with connect(path) as db:
        db.execute(
            f"""INSERT INTO alert_deliveries (model, window, channel, status, attempts, updated_at)
               VALUES (?, ?, ?, 'sending', 1, {_STAMP})
               ON CONFLICT (model, window, channel) DO UPDATE SET status = 'sending',
               attempts = attempts + 1, updated_at = excluded.updated_at""",
            (model, window, channel),
        )


def finish_alert_delivery(path: Path, model: str, window: str, channel: str, status: str, detail: str) -> None:
    with connect(path) as db:
        db.execute(
            f"UPDATE alert_deliveries SET status = ?, detail = ?, updated_at = {_STAMP} "
            "WHERE model = ? AND window = ? AND channel = ?",
            (status, detail, model, window, channel),
        )


def read_alert_deliveries(path: Path, model: str) -> pd.DataFrame:
    with connect(path) as db:
        return pd.read_sql_query(
            "SELECT window, channel, status, attempts, detail, updated_at FROM alert_deliveries "
            "WHERE model = ? ORDER BY window, channel",
            db, params=[model],
        )


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


# --------------------------------------------------------------------------------------------
# Promotion integrity: gate verdicts, what driftpilot did to each version, the promotion lock.
#
# The registry's tags are editable by every registry user, so they cannot be the authority for
# "this version passed the gate" or "driftpilot already acted on this version". These tables
# are: a verdict is written by the retraining DAG's evaluate step (with the SHA-256 digest of the
# gate record it logged to the candidate run) and bound to the version by its register step.
# --------------------------------------------------------------------------------------------

INTEGRITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS gate_verdicts (
    model TEXT NOT NULL,
    run_id TEXT NOT NULL,
    passed INTEGER NOT NULL,
    digest TEXT NOT NULL,
    champion_version TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    version TEXT,
    PRIMARY KEY (model, run_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS gate_verdicts_by_version ON gate_verdicts (model, version);
CREATE TABLE IF NOT EXISTS version_outcomes (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    outcome TEXT NOT NULL,
    final INTEGER NOT NULL,
    detail TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (model, version)
);
CREATE TABLE IF NOT EXISTS locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


@contextmanager
def _integrity(path: Path) -> Iterator[sqlite3.Connection]:
    with connect(path) as db:
        db.executescript(INTEGRITY_SCHEMA)
        yield db


_VERDICT_COLUMNS = "model, run_id, passed, digest, champion_version, recorded_at, version"


def _verdict(row: tuple[Any, ...] | None) -> GateVerdict | None:
    if row is None:
        return None
    return GateVerdict(str(row[0]), str(row[1]), bool(row[2]), str(row[3]), str(row[4]), str(row[5]),
                       None if row[6] is None else str(row[6]))


def record_gate_verdict(path: Path, model: str, run_id: str, passed: bool, digest: str,
                        champion_version: str, recorded_at: str) -> GateVerdict:
    """Store the gate verdict of a candidate run; once bound to a version it never changes.

    Before registration a re-evaluation (a step retried after a crash) replaces the verdict,
    because the gate record on the run was replaced too; afterwards the first binding stands.
    """
    with _integrity(path) as db:
        db.execute(
            f"""INSERT INTO gate_verdicts ({_VERDICT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)
                ON CONFLICT (model, run_id) DO UPDATE SET passed = excluded.passed, digest = excluded.digest,
                champion_version = excluded.champion_version, recorded_at = excluded.recorded_at
                WHERE gate_verdicts.version IS NULL""",
            (model, run_id, int(passed), digest, champion_version, recorded_at),
        )
        row = db.execute(f"SELECT {_VERDICT_COLUMNS} FROM gate_verdicts WHERE model = ? AND run_id = ?",
                         (model, run_id)).fetchone()
    verdict = _verdict(row)
    assert verdict is not None
    return verdict


def bind_gate_verdict(path: Path, model: str, run_id: str, version: str) -> GateVerdict:
    """Tie the verdict of ``run_id`` to the version registered from it (idempotent)."""
    from driftpilot.errors import DriftpilotError

    with _integrity(path) as db:
        db.execute("UPDATE gate_verdicts SET version = ? WHERE model = ? AND run_id = ? AND version IS NULL",
                   (str(version), model, run_id))
        row = db.execute(f"SELECT {_VERDICT_COLUMNS} FROM gate_verdicts WHERE model = ? AND run_id = ?",
                         (model, run_id)).fetchone()
    verdict = _verdict(row)
    if verdict is None:
        raise DriftpilotError(f"{model}: no gate verdict recorded for run {run_id}; run the evaluate step first")
    if verdict.version != str(version):
        raise DriftpilotError(f"{model}: the gate verdict of run {run_id} belongs to version {verdict.version}, "
                              f"not {version}; a run is registered once (same idempotency key)")
    return verdict


def gate_verdict_of_run(path: Path, model: str, run_id: str) -> GateVerdict | None:
    """The gate verdict the evaluate step recorded for a candidate run."""
    with _integrity(path) as db:
        row = db.execute(f"SELECT {_VERDICT_COLUMNS} FROM gate_verdicts WHERE model = ? AND run_id = ?",
                         (model, run_id)).fetchone()
    return _verdict(row)


def gate_verdict(path: Path, model: str, version: str) -> GateVerdict | None:
    """The gate verdict driftpilot recorded for ``version``, if the retraining DAG registered it."""
    with _integrity(path) as db:
        row = db.execute(f"SELECT {_VERDICT_COLUMNS} FROM gate_verdicts WHERE model = ? AND version = ?",
                         (model, str(version))).fetchone()
    return _verdict(row)


def record_outcome(path: Path, model: str, version: str, outcome: str, final: bool, detail: str,
                   decided_at: str) -> None:
    """Remember what driftpilot did to a version (replaces a previous, non-final outcome)."""
    with _integrity(path) as db:
        db.execute(
            """INSERT INTO version_outcomes (model, version, outcome, final, detail, decided_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (model, version) DO UPDATE SET outcome = excluded.outcome, final = excluded.final,
               detail = excluded.detail, decided_at = excluded.decided_at""",
            (model, str(version), outcome, int(final), detail, decided_at),
        )


def version_outcome(path: Path, model: str, version: str) -> VersionOutcome | None:
    with _integrity(path) as db:
        row = db.execute("SELECT outcome, final, detail, decided_at FROM version_outcomes WHERE model = ? AND version = ?",
                         (model, str(version))).fetchone()
    return None if row is None else VersionOutcome(str(row[0]), bool(row[1]), str(row[2]), str(row[3]))


def last_alias_target(path: Path, model: str, alias: str) -> tuple[bool, str | None]:
    """(whether driftpilot ever moved ``alias``, the version it last moved it to)."""
    with _integrity(path) as db:
        row = db.execute("SELECT to_version FROM promotions WHERE model = ? AND alias = ? ORDER BY seq DESC LIMIT 1",
                         (model, alias)).fetchone()
    return (False, None) if row is None else (True, None if row[0] is None else str(row[0]))


def _holder_is_gone(host: str, pid: int) -> bool:
    """True when the lock's holder was a process on this machine that no longer runs."""
    import os
    import socket

    if host != socket.gethostname():
        return False  # another machine: only the expiry can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def held_lock(path: Path, name: str, holder: str, *, timeout: float = 120.0, ttl: float = 900.0,
              poll: float = 0.1) -> Iterator[str]:
    """Hold the named lock (a row of ``locks``, taken under ``BEGIN IMMEDIATE``) while the block runs.

    Works across threads and processes sharing the SQLite file. A holder that died leaves a row
    that is taken over at once when it was a process on this machine, else when it expires after
    ``ttl`` seconds. Waiting longer than ``timeout`` raises ``LockTimeout`` naming the holder.
    """
    import os
    import socket
    import time
    import uuid
    from datetime import UTC, datetime

    from driftpilot.errors import LockTimeout

    token = f"{holder} (pid {os.getpid()}, {uuid.uuid4().hex[:8]})"
    host, pid = socket.gethostname(), os.getpid()
    deadline = time.monotonic() + timeout
    while True:
        with _integrity(path) as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT holder, acquired_at, expires_at, host, pid FROM locks WHERE name = ?",
                             (name,)).fetchone()
            now = time.time()
            free = row is None or float(row[2]) < now or _holder_is_gone(str(row[3]), int(row[4]))
            if free:
                db.execute(
                    "INSERT OR REPLACE INTO locks (name, holder, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, token, host, pid, datetime.fromtimestamp(now, UTC).isoformat(), now + ttl))
        if free:
            break
        if time.monotonic() >= deadline:
            assert row is not None
            expires = datetime.fromtimestamp(float(row[2]), UTC).isoformat()
            raise LockTimeout(
                f"lock {name!r} is held by {row[0]} on {row[3]} since {row[1]}; waited {timeout:.0f} s. Let it "
                f"finish and try again; if that process is stuck, stop it (the lock is taken over once it is gone) "
                f"or wait until the lock expires at {expires}"
            )
        time.sleep(poll)
    try:
        yield token
    finally:
        with _integrity(path) as db:
            db.execute("DELETE FROM locks WHERE name = ? AND holder = ?", (name, token))


# --------------------------------------------------------------------------------------------
# Typed evidence: the drift side of each window (replaced on a re-run: same rows, same figures)
# and the performance of each window, one version per as-of time (appended; re-writing the same
# as-of time replaces that version, so a retried run is idempotent). Decisions read both "as of"
# their window's end.
# --------------------------------------------------------------------------------------------

EVIDENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS window_evidence (
    model TEXT NOT NULL,
    window TEXT NOT NULL,
    model_version TEXT NOT NULL,
    rows INTEGER NOT NULL,
    drift_share REAL,
    drifted_columns TEXT NOT NULL,
    column_scores TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    health_score INTEGER,
    PRIMARY KEY (model, window)
);
CREATE TABLE IF NOT EXISTS performance_evidence (
    model TEXT NOT NULL,
    window TEXT NOT NULL,
    as_of TEXT NOT NULL,
    model_version TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    metrics TEXT NOT NULL,
    labelled INTEGER NOT NULL,
    coverage REAL NOT NULL,
    corrected INTEGER NOT NULL,
    mature INTEGER NOT NULL,
    late INTEGER NOT NULL,
    PRIMARY KEY (model, window, as_of)
);
CREATE TABLE IF NOT EXISTS store_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
"""
_BACKFILL = "typed-evidence-from-metric-rows"


def _migrate_evidence(db: sqlite3.Connection) -> None:
    """Additive, idempotent: the typed evidence tables, filled once from a previous version's metric rows.

    A store written before typed evidence existed keeps working: each window's drift evidence
    and its last performance figures are rebuilt from the long rows it has (the one place that
    still reads metric names, and only to migrate), stamped with the as-of time they were
    computed at. Runs once per file, under a write lock, so two processes never both fill it.
    """
    db.executescript(EVIDENCE_SCHEMA)
    if db.execute("SELECT 1 FROM store_migrations WHERE name = ?", (_BACKFILL,)).fetchone():
        return
    db.execute("BEGIN IMMEDIATE")
    if db.execute("SELECT 1 FROM store_migrations WHERE name = ?", (_BACKFILL,)).fetchone():
        db.commit()
        return
    rows = db.execute(
        "SELECT model, model_version, window, metric, \"column\", value, detail, computed_at FROM metrics "
        "WHERE metric LIKE 'drift.%' OR metric = 'ops.rows' OR metric LIKE 'perf.%' OR metric LIKE 'labels.%' "
        "ORDER BY model, window, metric, \"column\"").fetchall()
    windows: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in rows:
        windows.setdefault((str(row[0]), str(row[2])), []).append(row)
    for (model, window), group in windows.items():
        _backfill_window(db, model, window, group)
    db.execute(f"INSERT OR IGNORE INTO store_migrations (name, applied_at) VALUES (?, {_STAMP})", (_BACKFILL,))
    db.commit()


def _backfill_window(db: sqlite3.Connection, model: str, window: str, group: list[tuple[Any, ...]]) -> None:
    dataset = {(r[3], str(r[1])): r for r in group if r[4] == ""}
    drift = [r for r in group if str(r[3]).startswith("drift.") and r[4] != ""]
    share = next((r for (m, _), r in dataset.items() if m == "drift.share"), None)
    if share is not None:
        version = str(share[1])
        scores: dict[str, dict[str, float]] = {}
        for r in drift:
            name = str(r[3]).removeprefix("drift.")
            if str(r[1]) == version and r[5] is not None and (name in COLUMN_STATISTICS or name == DRIFTED):
                scores.setdefault(str(r[4]), {})[name] = float(r[5])
        drifted = sorted(c for c, s in scores.items() if s.get(DRIFTED) == 1.0 and c not in (SCORE, PREDICTION))
        volume = dataset.get(("ops.rows", version))
        rows = int(volume[5]) if volume is not None and volume[5] is not None else 0
        health = dataset.get(("drift.health_score", version))
        db.execute("INSERT OR IGNORE INTO window_evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (model, window, version, rows, share[5], json.dumps(drifted), json.dumps(scores), share[7],
                    None if health is None or health[5] is None else int(health[5])))
    status = next((r for (m, _), r in dataset.items() if m == "perf.status"), None)
    if status is None:
        return
    version = str(status[1])

    def value(metric: str) -> float:
        found = dataset.get((metric, version))
        return float(found[5]) if found is not None and found[5] is not None else 0.0

    metrics = {str(m).removeprefix("perf."): float(r[5]) for (m, v), r in dataset.items()
               if str(m).startswith("perf.") and m != "perf.status" and v == version and r[5] is not None}
    note = str(status[6] or "")
    state = (PerformanceStatus.FINAL if note == "final" else
             PerformanceStatus.MATURING if note.startswith("labels maturing") else PerformanceStatus.INSUFFICIENT)
    db.execute("INSERT OR IGNORE INTO performance_evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (model, window, status[7], version, state.value, note, json.dumps(metrics), int(value("labels.labelled")),
                value("labels.coverage"), int(value("labels.corrected")), int(value("labels.mature")),
                int(value("labels.late"))))


def put_window_evidence(path: Path, record: WindowRecord) -> None:
    e = record.evidence
    with connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO window_evidence (model, window, model_version, rows, drift_share, drifted_columns, "
            "column_scores, computed_at, health_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.model, e.window, record.model_version, int(e.rows), finite(e.drift_share),
             json.dumps(list(e.drifted_columns)), json.dumps({c: dict(s) for c, s in e.column_scores.items()}),
             record.computed_at, record.health_score))


def read_window_evidence(path: Path, model: str, since: str | None = None, until: str | None = None) -> list[WindowRecord]:
    """Drift evidence of ``model``'s windows from ``since`` to ``until`` (ISO window dates, inclusive)."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT window, model_version, rows, drift_share, drifted_columns, column_scores, computed_at, health_score "
            "FROM window_evidence WHERE model = ? AND window >= ? AND window <= ? ORDER BY window",
            (model, since or "", until or "\uffff")).fetchall()
    return [WindowRecord(model, str(r[1]), WindowEvidence(
        window=str(r[0]), rows=int(r[2]), drift_share=None if r[3] is None else float(r[3]),
        drifted_columns=tuple(json.loads(r[4])), column_scores=json.loads(r[5])), str(r[6]),
        None if r[7] is None else int(r[7])) for r in rows]


_PERFORMANCE_COLUMNS = "model, window, as_of, model_version, status, note, metrics, labelled, coverage, corrected, mature, late"


def _performance(row: tuple[Any, ...]) -> PerformanceRecord:
    return PerformanceRecord(
        model=str(row[0]), window=str(row[1]), as_of=str(row[2]), model_version=str(row[3]),
        status=PerformanceStatus(row[4]), note=str(row[5]), metrics=json.loads(row[6]), labelled=int(row[7]),
        coverage=float(row[8]), corrected=int(row[9]), mature=bool(row[10]), late=int(row[11]))


def put_performance(path: Path, record: PerformanceRecord) -> None:
    """Append the version of a window's performance known at ``record.as_of`` (same as-of: replaced)."""
    metrics = {k: v for k, v in ((k, finite(v)) for k, v in record.metrics.items()) if v is not None}
    with connect(path) as db:
        db.execute(
            f"INSERT OR REPLACE INTO performance_evidence ({_PERFORMANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.model, record.window, record.as_of, record.model_version, record.status.value, record.note,
             json.dumps(metrics, sort_keys=True), int(record.labelled), float(finite(record.coverage) or 0.0),
             int(record.corrected), int(record.mature), int(record.late)))


def read_performance(path: Path, model: str, as_of: str | None = None, since: str | None = None,
                     until: str | None = None) -> list[PerformanceRecord]:
    """Per window (``since``..``until``), the latest performance version known at ``as_of`` (None: now)."""
    horizon = as_of or "\uffff"
    with connect(path) as db:
        rows = db.execute(
            f"SELECT {_PERFORMANCE_COLUMNS} FROM performance_evidence p WHERE model = ? AND window >= ? AND window <= ? "
            "AND as_of = (SELECT MAX(as_of) FROM performance_evidence q WHERE q.model = p.model AND q.window = p.window "
            "AND q.as_of <= ?) ORDER BY window",
            (model, since or "", until or "\uffff", horizon)).fetchall()
    return [_performance(r) for r in rows]


def performance_versions(path: Path, model: str, window: str) -> list[PerformanceRecord]:
    """Every stored version of one window's performance, oldest as-of first."""
    with connect(path) as db:
        rows = db.execute(f"SELECT {_PERFORMANCE_COLUMNS} FROM performance_evidence WHERE model = ? AND window = ? "
                          "ORDER BY as_of", (model, window)).fetchall()
    return [_performance(r) for r in rows]


def read_decision_records(path: Path, model: str) -> list[DecisionRecord]:
    with connect(path) as db:
        rows = db.execute("SELECT window, model_version, action, reasons, evidence, decided_at FROM decisions "
                          "WHERE model = ? ORDER BY window", (model,)).fetchall()
    return [DecisionRecord(model, str(r[0]), str(r[1]), Action(r[2]), tuple(json.loads(r[3])), json.loads(r[4]), str(r[5]))
            for r in rows]


class SqliteEvidenceStore:
    """``EvidenceStore`` on one SQLite file (``Settings.metrics_db``); safe across threads and processes.

    Holds only the path: each call opens the file, works in one transaction and closes it, so a
    store can be built once per task and shared, and an Airflow worker keeps no open handle.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # long-format metric rows (trends, MLflow, reports)
    def upsert_metrics(self, rows: Iterable[MetricRow], computed_at: str) -> int:
        return upsert_metrics(self.path, rows, computed_at)

    def replace_window_metrics(self, model: str, window: str, prefix: str, rows: list[MetricRow], computed_at: str) -> int:
        return replace_window_metrics(self.path, model, window, prefix, rows, computed_at)

    def read_metrics(self, model: str, since: str | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
        return read_metrics(self.path, model, since, metrics)

    def trend(self, model: str, metric: str, column: str, until: date, days: int) -> pd.DataFrame:
        return trend(self.path, model, metric, column, until, days)

    # window and performance evidence
    def put_window_evidence(self, record: WindowRecord) -> None:
        put_window_evidence(self.path, record)

    def window_evidence(self, model: str, since: str | None = None, until: str | None = None) -> list[WindowRecord]:
        return read_window_evidence(self.path, model, since, until)

    def put_performance(self, record: PerformanceRecord) -> None:
        put_performance(self.path, record)

    def performance(self, model: str, as_of: str | None = None, since: str | None = None,
                    until: str | None = None) -> list[PerformanceRecord]:
        return read_performance(self.path, model, as_of, since, until)

    def performance_versions(self, model: str, window: str) -> list[PerformanceRecord]:
        return performance_versions(self.path, model, window)

    # decisions
    def save_decision(self, record: DecisionRecord) -> None:
        save_decision(self.path, record.model, record.window, record.model_version, record.action.value,
                      list(record.reasons), dict(record.evidence), record.decided_at)

    def decisions(self, model: str) -> list[DecisionRecord]:
        return read_decision_records(self.path, model)

    # the retrain outbox
    def record_retrain(self, model: str, key: str, window: str, requested_at: str, reason: str) -> RetrainState:
        return RetrainState(record_retrain(self.path, model, key, window, requested_at, reason))

    def mark_retrain_emitted(self, model: str, key: str) -> bool:
        return mark_retrain_emitted(self.path, model, key)

    def supersede_retrains(self, model: str, requests: Iterable[tuple[str, str, str, str]], by: str) -> list[str]:
        return supersede_retrains(self.path, model, requests, by)

    def mark_retrain_ran(self, model: str, key: str, window: str, requested_at: str, reason: str) -> None:
        mark_retrain_ran(self.path, model, key, window, requested_at, reason)

    def retrain_requests(self, model: str) -> list[RetrainOutboxEntry]:
        frame = read_retrains(self.path, model)
        return [RetrainOutboxEntry(model, r["idempotency_key"], r["window"], r["requested_at"], r["reason"],
                                   RetrainState(r["state"]), r["emitted_at"], r["superseded_by"], r["ran_at"])
                for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]

    def retrain_times(self, model: str, before: str | None = None) -> list[str]:
        return retrain_times(self.path, model, before)

    # alert deliveries
    def alert_delivery_status(self, model: str, window: str, channel: str) -> str | None:
        return alert_delivery_status(self.path, model, window, channel)

    def begin_alert_delivery(self, model: str, window: str, channel: str) -> None:
        begin_alert_delivery(self.path, model, window, channel)

    def finish_alert_delivery(self, model: str, window: str, channel: str, status: str, detail: str) -> None:
        finish_alert_delivery(self.path, model, window, channel, status, detail)

    def alert_deliveries(self, model: str) -> list[AlertDelivery]:
        return [AlertDelivery(model, r["window"], r["channel"], r["status"], int(r["attempts"]), r["detail"], r["updated_at"])
                for r in read_alert_deliveries(self.path, model).to_dict("records")]

    # the promotion log and promotion integrity
    def append_promotion(self, move: AliasMove) -> None:
        append_promotion(self.path, move.model, move.alias, move.from_version, move.to_version, move.by, move.at, move.reason)

    def promotion_log(self, model: str) -> list[AliasMove]:
        frame = read_promotions(self.path, model)
        return [AliasMove(model, r["alias"], r["from_version"], r["to_version"], r["moved_by"], r["moved_at"], r["reason"])
                for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]

    def last_alias_target(self, model: str, alias: str) -> tuple[bool, str | None]:
        return last_alias_target(self.path, model, alias)

    def record_gate_verdict(self, model: str, run_id: str, passed: bool, digest: str, champion_version: str,
                            recorded_at: str) -> GateVerdict:
        return record_gate_verdict(self.path, model, run_id, passed, digest, champion_version, recorded_at)

    def bind_gate_verdict(self, model: str, run_id: str, version: str) -> GateVerdict:
        return bind_gate_verdict(self.path, model, run_id, version)

    def gate_verdict_of_run(self, model: str, run_id: str) -> GateVerdict | None:
        return gate_verdict_of_run(self.path, model, run_id)

    def gate_verdict(self, model: str, version: str) -> GateVerdict | None:
        return gate_verdict(self.path, model, version)

    def record_outcome(self, model: str, version: str, outcome: str, final: bool, detail: str, decided_at: str) -> None:
        record_outcome(self.path, model, version, outcome, final, detail, decided_at)

    def version_outcome(self, model: str, version: str) -> VersionOutcome | None:
        return version_outcome(self.path, model, version)

    def held_lock(self, name: str, holder: str, *, timeout: float = 120.0, ttl: float = 900.0,
                  poll: float = 0.1) -> AbstractContextManager[str]:
        return held_lock(self.path, name, holder, timeout=timeout, ttl=ttl, poll=poll)
