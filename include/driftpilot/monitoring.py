"""The monitoring use case, one function per DAG task: validate, labels, drift, decide.

Each step reads what the previous one left in the lake (never a DataFrame through XCom), writes
its outputs atomically under the window's partition, and returns a small dict. Re-running a step
for the same window replaces its outputs. Lake layout added here::

    validated/model=<m>/date=<window>/part-0.parquet     rows that passed validation
    quarantine/model=<m>/date=<window>/...               rows (and files) that did not, + reasons
    reports/model=<m>/date=<window>/                     HTML + JSON reports, decision.json
    metrics/model=<m>/date=<window>/metrics.parquet      the window's metric rows

All times are UTC and come from the window (the DAG's data interval), never from a clock: the
"as of" time of a run is the end of its window, which makes a backfill see exactly the labels a
scheduled run would have seen.
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from driftpilot import history, registry, storage
from driftpilot.config import ModelConfig
from driftpilot.contracts import MODEL_VERSION, PREDICTION, PREDICTION_ID, SCORE, check_labels
from driftpilot.errors import CorruptFile, InsufficientData
from driftpilot.history import MetricRow
from driftpilot.labels import join_labels, known_as_of, unknown_id_count
from driftpilot.policy import Action, Decision, PerformanceEvidence, WindowEvidence, decide
from driftpilot.settings import Settings

log = logging.getLogger(__name__)

VALIDATED = "validated"


@dataclass(frozen=True)
class Window:
    """A monitoring window ``[start, end)`` of one model, in UTC."""

    model: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return self.start.date().isoformat()

    @property
    def days(self) -> list[date]:
        n = max(1, math.ceil((self.end - self.start) / timedelta(days=1)))
        return [self.start.date() + timedelta(days=i) for i in range(n)]


def window_for(config: ModelConfig, start: datetime | date | str) -> Window:
    """The window of ``config`` that starts at ``start`` (a date, ISO string or datetime)."""
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.astimezone(UTC)
    return Window(config.name, start, start + timedelta(days=config.window_days))


def metrics_db(settings: Settings) -> Path:
    return settings.metrics_db


def report_dir(settings: Settings, window: Window) -> Path:
    return storage.partition_dir(settings.lake, storage.REPORTS, window.model, window.start.date())


def validated_path(settings: Settings, model: str, day: date) -> Path:
    return storage.partition_dir(settings.lake, VALIDATED, model, day) / "part-0.parquet"


def _now_iso(window: Window) -> str:
    return window.end.isoformat()


# --------------------------------------------------------------------------------------------
# 1. read + validate
# --------------------------------------------------------------------------------------------


def _quarantine_file(settings: Settings, window: Window, path: Path, error: CorruptFile) -> Path:
    """Copy an unreadable file to the quarantine area with its reason; the original stays put."""
    target_dir = storage.partition_dir(settings.lake, storage.QUARANTINE, window.model, window.start.date()) / "files"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{path.parent.name}-{path.name}"
    shutil.copyfile(path, target)
    storage.write_json_atomic({"source": str(path), "reason": str(error)}, target.with_suffix(".reason.json"))
    return target


def read_window(settings: Settings, window: Window) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """The window's inference-log rows, and the files that could not be read (quarantined)."""
    frames = []
    bad_files: list[dict[str, str]] = []
    for day in window.days:
        directory = storage.partition_dir(settings.lake, storage.INFERENCE, window.model, day)
        for path in storage.partition_files(directory):
            try:
                frames.append(storage.read_parquet(path))
            except CorruptFile as exc:
                copy = _quarantine_file(settings, window, path, exc)
                log.error("quarantined unreadable file %s: %s", path, exc)
                bad_files.append({"path": str(path), "quarantined_as": str(copy), "reason": str(exc)})
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, bad_files


def serving_version(frame: pd.DataFrame, settings: Settings, model: str) -> str:
    """The version that served most of the window (the champion if the log does not say)."""
    if MODEL_VERSION in frame.columns and frame[MODEL_VERSION].notna().any():
        return str(frame[MODEL_VERSION].astype(str).value_counts().idxmax())
    client = registry.connect(settings)
    version = registry.alias_version(client, model, registry.CHAMPION)
    if version is None:
        raise InsufficientData(f"model {model!r} has no champion and its log names no model_version")
    return version


def validate_step(config: ModelConfig, settings: Settings, window: Window) -> dict[str, Any]:
    """Validate the window with Great Expectations; quarantine bad rows and files."""
    from driftpilot import validation

    frame, bad_files = read_window(settings, window)
    if frame.empty and not bad_files:
        raise InsufficientData(
            f"no inference logs for {config.name} in window {window.label} "
            f"(looked in {storage.partition_dir(settings.lake, storage.INFERENCE, config.name, window.start.date())})"
        )
    if frame.empty:
        raise CorruptFile(bad_files[0]["path"], RuntimeError(f"every file of window {window.label} is unreadable"))
    version = serving_version(frame, settings, config.name)
    baseline = registry.load_baseline(settings, config.name, version)
    out_dir = report_dir(settings, window)
    result = validation.validate_window(frame, config, baseline.profile, window.start, window.end, out_dir)
    validation.write_quarantine(result, settings.lake, config.name, window.start.date())
    target = validated_path(settings, config.name, window.start.date())
    if result.failed:
        # A failed window feeds neither performance nor retraining; its rows stay in the
        # inference log and the quarantine, and a fixed re-run validates them again.
        target.unlink(missing_ok=True)
    else:
        storage.write_parquet_atomic(result.accepted, target)
    summary = {
        "window": window.label,
        "serving_version": version,
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "files_quarantined": bad_files,
        "report_dir": str(out_dir),
        "validated_path": str(target),
    }
    storage.write_json_atomic({**summary, "validation": result.to_summary()}, out_dir / "validation_summary.json")
    history.replace_window_metrics(
        metrics_db(settings), config.name, window.label, "validation.",
        [
            MetricRow(config.name, version, window.label, "validation.rows_read", "", float(result.rows_read)),
            MetricRow(config.name, version, window.label, "validation.rows_quarantined", "", float(result.rows_quarantined)),
            MetricRow(config.name, version, window.label, "validation.quarantined_share", "", result.quarantined_share),
            MetricRow(config.name, version, window.label, "validation.files_quarantined", "", float(len(bad_files))),
        ],
        _now_iso(window),
    )
    validation.raise_if_failed(result)
    return summary


# --------------------------------------------------------------------------------------------
# 2. drift, quality, operations
# --------------------------------------------------------------------------------------------


def drift_step(config: ModelConfig, settings: Settings, window: Window, version: str) -> dict[str, Any]:
    """Full-data drift verdicts, Evidently HTML/JSON reports and operational metrics."""
    from driftpilot import drift, drift_stats, operations, reports

    baseline = registry.load_baseline(settings, config.name, version)
    path = validated_path(settings, config.name, window.start.date())
    accepted = storage.read_parquet(path)
    out_dir = report_dir(settings, window)
    prediction_columns = [c for c in (SCORE, PREDICTION) if c in baseline.profile.get("predictions", {})]
    numeric = [*config.features.numeric, *[c for c in prediction_columns
                                           if baseline.profile["predictions"][c]["kind"] == "numeric"]]
    categorical = [*config.features.categorical, *[c for c in prediction_columns
                                                   if baseline.profile["predictions"][c]["kind"] == "categorical"]]
    stats = drift_stats.stats_from_parquet([path], baseline.profile, numeric, categorical)
    thresholds = drift.DriftThresholds(drift_share=config.drift.drift_share, seed=0)
    importance = baseline.metadata.get("feature_importance")
    verdict = drift.score_window(baseline.profile, stats, importance=importance, thresholds=thresholds)
    storage.write_json_atomic(verdict.to_dict(), out_dir / "drift_stats.json")

    bundle = reports.build_window_reports(
        config, baseline.reference, accepted, None, out_dir, window.label, seed=0, reuse=("performance",)
    )

    rows: list[MetricRow] = []

    def add(metric: str, column: str, value: float | None, detail: str = "") -> None:
        rows.append(MetricRow(config.name, version, window.label, metric, column, value, detail))

    add("drift.share", "", verdict.drift_share, verdict.status.value)
    add("drift.weighted_share", "", verdict.weighted_drift_share)
    add("drift.health_score", "", None if verdict.health_score is None else float(verdict.health_score))
    add("drift.drifted_count", "", float(verdict.drifted))
    for col in (*verdict.columns, *verdict.predictions):
        add("drift.drifted", col.column, float(col.drifted), col.reason)
        for name in ("ks", "wasserstein_norm", "psi", "jensen_shannon", "tvd", "p_value", "effect", "unseen_share"):
            value = getattr(col, name)
            if value is not None:
                add(f"drift.{name}", col.column, float(value))
    for row in bundle.metrics:
        add(f"evidently.{row.metric}", row.column or "", row.value,
            "" if row.drifted is None else f"drifted={row.drifted}")
    expected = _expected_rows(settings, config, window)
    for metric, column, value, detail in operations.operational_metrics(config, accepted, expected, baseline.reference):
        add(metric, column, value, detail)

    db = metrics_db(settings)
    now = _now_iso(window)
    history.replace_window_metrics(db, config.name, window.label, "drift.", [r for r in rows if r.metric.startswith("drift.")], now)
    history.replace_window_metrics(db, config.name, window.label, "evidently.", [r for r in rows if r.metric.startswith("evidently.")], now)
    history.replace_window_metrics(db, config.name, window.label, "ops.", [r for r in rows if r.metric.startswith("ops.")], now)
    _write_window_metrics(settings, config.name, window)
    return {
        "window": window.label,
        "rows": len(accepted),
        "drift_share": verdict.drift_share,
        "health_score": verdict.health_score,
        "drifted_columns": list(verdict.ranking),
        "evidently_drift_share": bundle.drift_share,
        "report_dir": str(out_dir),
        "sampled": bundle.sampled,
    }


def _expected_rows(settings: Settings, config: ModelConfig, window: Window) -> int | None:
    """Median rows of the previous (up to) 7 windows: the volume a window is compared with."""
    since = (window.start.date() - timedelta(days=7 * config.window_days)).isoformat()
    frame = history.read_metrics(metrics_db(settings), config.name, since=since, metrics=["ops.rows"])
    earlier = frame[frame["window"] < window.label]["value"].dropna()
    return int(earlier.median()) if len(earlier) else None


def _write_window_metrics(settings: Settings, model: str, window: Window) -> Path:
    frame = history.read_metrics(metrics_db(settings), model, since=window.label)
    frame = frame[frame["window"] == window.label]
    path = storage.partition_dir(settings.lake, storage.METRICS, model, window.start.date()) / "metrics.parquet"
    return storage.write_parquet_atomic(frame.reset_index(drop=True), path)


# --------------------------------------------------------------------------------------------
# 3. delayed labels and performance (this window and earlier ones whose labels matured)
# --------------------------------------------------------------------------------------------


def windows_to_recompute(config: ModelConfig, window: Window) -> list[Window]:
    """This window and the earlier ones whose labels may still have changed since the last run."""
    horizon_days = math.ceil(config.labels.maturity_hours / 24) + config.window_days
    first = window.start - timedelta(days=horizon_days)
    out = []
    start = first
    while start <= window.start:
        out.append(Window(config.name, start, start + timedelta(days=config.window_days)))
        start += timedelta(days=config.window_days)
    return out


def read_labels(settings: Settings, model: str, first: date, as_of: datetime) -> pd.DataFrame:
    """Label rows that arrived from ``first`` up to ``as_of`` (arrival partitions)."""
    dates = [d for d in storage.list_partition_dates(settings.lake, storage.LABELS, model) if first <= d <= as_of.date()]
    frame = storage.read_partitions(storage.partition_dir(settings.lake, storage.LABELS, model, d) for d in dates)
    if frame.empty:
        return frame
    check_labels(frame, f"labels of {model} arriving {dates[0]}..{dates[-1]}")
    return known_as_of(frame, as_of)


def performance_step(config: ModelConfig, settings: Settings, window: Window) -> dict[str, Any]:
    """Join matured labels for this and earlier windows and (re)compute their performance."""
    from driftpilot import reports, training

    as_of = window.end
    targets = windows_to_recompute(config, window)
    labels = read_labels(settings, config.name, targets[0].start.date(), as_of)
    db = metrics_db(settings)
    logged_ids: set[str] = set()
    results = []
    for target in targets:
        path = validated_path(settings, config.name, target.start.date())
        for day in target.days:
            inference_dir = storage.partition_dir(settings.lake, storage.INFERENCE, config.name, day)
            for file in storage.partition_files(inference_dir):
                try:
                    logged_ids.update(storage.read_parquet(file, columns=[PREDICTION_ID])[PREDICTION_ID])
                except (CorruptFile, KeyError):
                    continue  # reported by validation; a broken file has no ids to match
        if not path.exists():
            continue
        later = history.computed_at(db, config.name, target.label, "perf.status")
        if later is not None and later > as_of.isoformat():
            continue  # a later run already saw more labels: a re-run of an old window keeps them
        accepted = storage.read_parquet(path)
        if accepted.empty:
            continue
        version = str(accepted[MODEL_VERSION].astype(str).value_counts().idxmax())
        joined = join_labels(accepted, labels, as_of, target.end, config.labels.maturity_hours)
        rows = [
            MetricRow(config.name, version, target.label, "labels.coverage", "", joined.coverage),
            MetricRow(config.name, version, target.label, "labels.labelled", "", float(joined.labelled)),
            MetricRow(config.name, version, target.label, "labels.corrected", "", float(joined.corrected)),
            MetricRow(config.name, version, target.label, "labels.mature", "", float(joined.mature)),
        ]
        status = "insufficient labels"
        metrics: dict[str, float] = {}
        if not joined.mature:
            status = f"labels maturing ({joined.coverage:.0%} so far)"
        elif joined.labelled >= config.labels.min_labelled_rows:
            labelled = joined.joined.rename(columns={"label": config.target})
            metrics = training.evaluate(config, labelled[config.target], labelled)
            status = "final"
            rows += [MetricRow(config.name, version, target.label, f"perf.{k}", "", v) for k, v in metrics.items()]
            target_dir = report_dir(settings, target)
            newly_mature = target.end + timedelta(hours=config.labels.maturity_hours) > window.start
            if newly_mature or not (target_dir / "performance.html").exists():
                baseline = registry.load_baseline(settings, config.name, version)
                reports.build_window_reports(
                    config, baseline.reference, accepted, labelled, target_dir, target.label, seed=0,
                    reuse=("drift", "quality"),
                )
        rows.append(MetricRow(config.name, version, target.label, "perf.status", "", None, status))
        history.replace_window_metrics(db, config.name, target.label, "labels.", [r for r in rows if r.metric.startswith("labels.")], as_of.isoformat())
        history.replace_window_metrics(db, config.name, target.label, "perf.", [r for r in rows if r.metric.startswith("perf.")], as_of.isoformat())
        _write_window_metrics(settings, config.name, target)
        results.append({"window": target.label, "status": status, **joined.to_dict(),
                        config.promotion.primary_metric: metrics.get(config.promotion.primary_metric)})
    arrived_now = labels[labels["label_time"] >= pd.Timestamp(window.start)] if not labels.empty else labels
    unknown = unknown_id_count(arrived_now, logged_ids, as_of) if not arrived_now.empty else 0
    history.upsert_metrics(db, [MetricRow(config.name, "", window.label, "labels.unknown_ids", "", float(unknown),
                                          "label ids arriving in this window with no logged prediction in the label horizon")],
                           as_of.isoformat())
    return {"window": window.label, "recomputed": results, "unknown_label_ids": unknown}


# --------------------------------------------------------------------------------------------
# 4. decide
# --------------------------------------------------------------------------------------------


def _evidence_by_window(frame: pd.DataFrame, config: ModelConfig) -> list[WindowEvidence]:
    out = []
    for window_label, group in frame.groupby("window"):
        dataset = group[group["column"] == ""].set_index("metric")["value"]
        drifted = group[(group["metric"] == "drift.drifted") & (group["value"] == 1.0)]["column"]
        drifted = [c for c in drifted if c in config.features.all]
        scores: dict[str, dict[str, float]] = {}
        for _, row in group[group["column"] != ""].iterrows():
            if row["metric"].startswith("drift.") and row["value"] is not None and not pd.isna(row["value"]):
                scores.setdefault(row["column"], {})[row["metric"].removeprefix("drift.")] = float(row["value"])
        share = dataset.get("drift.share")
        rows = dataset.get("ops.rows")
        out.append(WindowEvidence(
            window=str(window_label),
            rows=int(rows) if rows is not None and not pd.isna(rows) else 0,
            drift_share=None if share is None or pd.isna(share) else float(share),
            drifted_columns=tuple(drifted),
            column_scores=scores,
        ))
    return out


def latest_performance(config: ModelConfig, settings: Settings, frame: pd.DataFrame, window: Window) -> PerformanceEvidence | None:
    """The primary metric of the latest mature window (up to this one) with enough labels."""
    metric = f"perf.{config.promotion.primary_metric}"
    # Only windows already mature at this window's end: a re-run of an old window must not use
    # performance that a later run learned (that would make decisions unreplayable).
    horizon = window.end - timedelta(hours=config.labels.maturity_hours) - timedelta(days=config.window_days)
    perf = frame[(frame["metric"] == metric) & (frame["window"] <= horizon.date().isoformat())].dropna(subset=["value"])
    if perf.empty:
        return None
    row = perf.sort_values("window").iloc[-1]
    counts = frame[(frame["metric"] == "perf.n") & (frame["window"] == row["window"])]["value"]
    volume = frame[(frame["metric"] == "ops.rows") & (frame["window"] == row["window"])]["value"]
    baseline = registry.load_baseline(settings, config.name, str(row["model_version"]))
    reference_value = baseline.metadata.get("holdout_metrics", {}).get(config.promotion.primary_metric)
    if reference_value is None:
        return None
    return PerformanceEvidence(
        window=str(row["window"]),
        metric=config.promotion.primary_metric,
        value=float(row["value"]),
        baseline=float(reference_value),
        labelled=int(counts.iloc[0]) if len(counts) else 0,
        rows=int(volume.iloc[0]) if len(volume) and not pd.isna(volume.iloc[0]) else 0,
    )


def decide_step(config: ModelConfig, settings: Settings, window: Window, version: str) -> dict[str, Any]:
    """Apply the trigger policy to this window's evidence; store and return the decision."""
    db = metrics_db(settings)
    lookback = max(config.trigger.persistence_lookback, *(r.lookback for r in config.trigger.feature_rules), 1)
    since = (window.start.date() - timedelta(days=(lookback + 1) * config.window_days + 30)).isoformat()
    frame = history.read_metrics(db, config.name, since=since)
    same_version = frame[(frame["model_version"] == version) & (frame["window"] <= window.label)]
    evidence = _evidence_by_window(same_version, config)
    current = next((e for e in evidence if e.window == window.label), None)
    if current is None:
        raise InsufficientData(f"no drift metrics for window {window.label}: run the drift step first")
    earlier = [e for e in evidence if e.window < window.label]
    performance = latest_performance(config, settings, same_version, window)
    retrains = [datetime.fromisoformat(t) for t in history.retrain_times(db, config.name, before=_now_iso(window))]
    decision = decide(current, earlier, performance, config.trigger, retrains, window.end)
    return _store_decision(config, settings, window, version, decision)


def _store_decision(config: ModelConfig, settings: Settings, window: Window, version: str, decision: Decision) -> dict[str, Any]:
    key = f"{config.name}:{window.label}:v{version}"
    payload = {
        "model": config.name,
        "window": window.label,
        "window_end": window.end.isoformat(),
        "model_version": version,
        **decision.to_dict(),
        "idempotency_key": key if decision.action is Action.RETRAIN else None,
    }
    history.save_decision(metrics_db(settings), config.name, window.label, version, decision.action.value,
                          list(decision.reasons), dict(decision.evidence), _now_iso(window))
    out_dir = report_dir(settings, window)
    storage.write_json_atomic(payload, out_dir / "decision.json")
    payload["mlflow_run_id"] = _log_window_run(config, settings, window, version, decision, out_dir)
    return payload


def _log_window_run(config: ModelConfig, settings: Settings, window: Window, version: str,
                    decision: Decision, out_dir: Path) -> str:
    """The window as an MLflow run in the model's monitoring experiment: metrics + reports."""
    frame = history.read_metrics(metrics_db(settings), config.name, since=window.label)
    frame = frame[(frame["window"] == window.label) & frame["value"].notna()]
    metrics = {}
    for metric, column, value in zip(frame["metric"], frame["column"], frame["value"], strict=True):
        if metric.startswith("evidently."):
            continue  # the Evidently JSON is logged as an artifact; keep the run's metric list readable
        name = f"{metric}.{column}" if column else metric
        metrics[_mlflow_key(name)] = float(value)
    return registry.log_monitoring_run(
        settings,
        model_name=config.name,
        window=window.label,
        model_version=version,
        metrics=metrics,
        tags={"driftpilot.action": decision.action.value, "driftpilot.reasons": "; ".join(decision.reasons)[:4000]},
        artifacts_dir=out_dir,
    )


def _mlflow_key(name: str) -> str:
    """MLflow metric keys allow letters, digits, '_', '-', '.', ' ', '/'."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)


RETRAIN_EVENT_KEYS = ("model", "window", "reason", "as_of", "idempotency_key")


def request_retrain(config: ModelConfig, settings: Settings, decision: dict[str, Any]) -> dict[str, Any]:
    """Put the retrain request in the outbox; ``emit`` says whether the Asset event must go out.

    First the request is recorded (``recorded``), then the DAG task emits the event, then the
    next task calls ``confirm_retrain_emitted``. A task that died after recording finds the key
    still ``recorded`` on retry and emits again; a key that went out (or ran) is not re-sent.
    """
    key = decision["idempotency_key"]
    reason = "; ".join(decision["reasons"])
    state = history.record_retrain(metrics_db(settings), config.name, key, decision["window"], decision["window_end"], reason)
    return {"model": config.name, "window": decision["window"], "reason": reason, "as_of": decision["window_end"],
            "idempotency_key": key, "state": state, "emit": state == history.RECORDED}


def confirm_retrain_emitted(config: ModelConfig, settings: Settings, request: dict[str, Any]) -> dict[str, Any]:
    """Mark the request ``emitted``: called only after the task that emitted its event succeeded."""
    marked = history.mark_retrain_emitted(metrics_db(settings), config.name, request["idempotency_key"])
    return {"idempotency_key": request["idempotency_key"], "marked": marked}


# --------------------------------------------------------------------------------------------
# 0. approvals recorded in the registry since the last run
# --------------------------------------------------------------------------------------------


def reconcile_step(config: ModelConfig, settings: Settings, window: Window) -> dict[str, Any]:
    """Act on approval tags set in the MLflow registry (promote approved, drop rejected challengers).

    Runs first in every monitoring run, so an approval given between two windows takes effect
    before the next window is judged, without a worker waiting for a person.
    """
    from driftpilot import promotion

    moves = promotion.reconcile(settings, metrics_db(settings), config.name, window.end.isoformat())
    client = registry.connect(settings)
    return {
        "moves": [f"{m.alias}: {m.from_version} -> {m.to_version} ({m.reason})" for m in moves],
        "champion": registry.alias_version(client, config.name, registry.CHAMPION),
        "challenger": registry.alias_version(client, config.name, registry.CHALLENGER),
    }
