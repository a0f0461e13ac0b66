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

import dataclasses
import functools
import logging
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import (
    ClassSet,
    category_keys,
    model_classes,
)
from driftpilot.domain.config import ModelConfig, TaskType, WhenEmpty
from driftpilot.domain.contracts import (
    EVENT_TIME,
    LABEL,
    LABEL_SOURCE,
    LABEL_TIME,
    MODEL_VERSION,
    PREDICTION,
    PREDICTION_ID,
    SCORE,
    check_labels,
)
from driftpilot.domain.evidence import (
    COLUMN_STATISTICS,
    ColumnVerdict,
    DecisionRecord,
    MetricRow,
    PerformanceRecord,
    PerformanceStatus,
    RetrainState,
    WindowRecord,
    window_evidence,
)
from driftpilot.domain.labels import join_labels, known_as_of, screen_labels, unknown_id_count
from driftpilot.domain.lake_layout import (
    INFERENCE,
    LABEL_QUARANTINE,
    LABELS,
    METRICS,
    PART,
    QUARANTINE,
    REPORTS,
    VALIDATED,
    partition_key,
)
from driftpilot.domain.policy import Action, Decision, PerformanceEvidence, WindowEvidence, decide
from driftpilot.domain.reports import DecidingDrift, FeatureVerdict, share_text
from driftpilot.domain.validation_rules import raise_if_failed
from driftpilot.errors import (
    BaselineNotFound,
    CorruptFile,
    DriftpilotError,
    EmptyWindow,
    InsufficientData,
    SchemaViolation,
)
from driftpilot.ports import (
    CHALLENGER,
    CHAMPION,
    Baseline,
    EvidenceStore,
    Lake,
    MonitoringRun,
    Ports,
)
from driftpilot.settings import Settings

if TYPE_CHECKING:
    from driftpilot.domain.drift import DatasetDrift

log = logging.getLogger(__name__)


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


def report_key(window: Window) -> str:
    """The lake folder of a window's reports, ``decision.json`` and step summaries."""
    return partition_key(REPORTS, window.model, window.start.date())


def report_dir(settings: Settings, window: Window) -> Path:
    return settings.lake / report_key(window)


def validated_key(model: str, day: date) -> str:
    return f"{partition_key(VALIDATED, model, day)}/{PART}"


def validated_path(settings: Settings, model: str, day: date) -> Path:
    return settings.lake / validated_key(model, day)


def _now_iso(window: Window) -> str:
    return window.end.isoformat()


# --------------------------------------------------------------------------------------------
# 1. read + validate
# --------------------------------------------------------------------------------------------


def _quarantine_file(lake: Lake, kind: str, model: str, day: date, key: str, error: Exception) -> dict[str, Any]:
    """Copy an unreadable or contract-breaking file to quarantine with its reason; the original stays put."""
    source = PurePosixPath(key)
    target = PurePosixPath(partition_key(kind, model, day)) / "files" / f"{source.parent.name}-{source.name}"
    size = lake.copy(key, str(target))
    path = lake.path(key)
    lake.write_json(str(target.with_suffix(".reason.json")), {"source": str(path), "reason": str(error)})
    log.error("quarantined file %s: %s", path, error)
    return {"path": str(path), "quarantined_as": str(lake.path(str(target))), "reason": str(error), "bytes": size}


def _utc_times(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as UTC timestamps in this file's own terms: naive times are UTC, aware ones converted.

    Done per file, before files are concatenated: one writer's tz-aware times and another's naive
    ones would otherwise make an object column that fails the whole window.
    """
    if column in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[column]):
        times = frame[column]
        frame = frame.assign(**{column: times.dt.tz_localize("UTC") if times.dt.tz is None else times.dt.tz_convert("UTC")})
    return frame


HEAD_ROWS = 64  # rows of each file read up front: their dtypes are the file's schema


@dataclass(frozen=True, eq=False)
class ScannedFile:
    """One readable inference file as the scan saw it: its rows per version and its first rows."""

    key: str
    rows: int
    version_counts: Counter[str]  # canonical version key -> rows
    head: pd.DataFrame  # the first rows, times in UTC: the file's dtypes


@dataclass(frozen=True, eq=False)
class WindowFiles:
    """A window's readable inference files, what one pass over their ``model_version`` found,
    and the files that could not be read (quarantined)."""

    scanned: tuple[ScannedFile, ...]
    bad_files: tuple[dict[str, Any], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.scanned)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.scanned)

    @property
    def version_counts(self) -> dict[str, int]:
        """Canonical version key -> rows over every readable file, most rows first."""
        counts: Counter[str] = Counter()
        for f in self.scanned:
            counts.update(f.version_counts)
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    @property
    def heads(self) -> pd.DataFrame:
        """The first rows of every file: the window's dtypes."""
        heads = [f.head for f in self.scanned]
        frames = [h for h in heads if len(h)] or [h for h in heads if len(h.columns)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def batches(self, lake: Lake) -> Iterator[pd.DataFrame]:
        """Every row of the window, batch by batch (times in UTC, per file)."""
        for key in self.keys:
            for batch in lake.batches(key):
                yield _utc_times(batch, EVENT_TIME)

    def key_of(self, lake: Lake, error: CorruptFile) -> str | None:
        """The key of the window's file that ``error`` names (``None``: not one of these files)."""
        return next((key for key in self.keys if str(lake.path(key)) == error.path), None)

    def without(self, key: str, quarantined: dict[str, Any]) -> WindowFiles:
        """The same window with ``key`` moved to the quarantined files (its rows and versions gone)."""
        return WindowFiles(tuple(f for f in self.scanned if f.key != key), (*self.bad_files, quarantined))


def scan_window(ports: Ports, window: Window) -> WindowFiles:
    """Open the window's files: their dtypes (a few rows each) and their ``model_version`` column.

    This pass reads one column; the validation pass then reads every column once. A file that
    cannot be opened or decoded here is copied to quarantine with its reason and left out (one
    damaged past its head, in another column, shows up during validation: ``validate_step``).
    """
    lake = ports.lake
    scanned: list[ScannedFile] = []
    bad_files: list[dict[str, Any]] = []
    for day in window.days:
        for key in lake.files(INFERENCE, window.model, day):
            counts: Counter[str] = Counter()
            try:
                head = next(lake.batches(key, batch_rows=HEAD_ROWS))
                n = 0
                for batch in lake.batches(key, columns=[MODEL_VERSION]):
                    n += len(batch)
                    _count_versions(counts, batch)
            except CorruptFile as exc:
                bad_files.append(_quarantine_file(lake, QUARANTINE, window.model, window.start.date(), key, exc))
                continue
            scanned.append(ScannedFile(key, n, counts, _utc_times(head, EVENT_TIME)))
    return WindowFiles(tuple(scanned), tuple(bad_files))


def _set_aside(ports: Ports, window: Window, files: WindowFiles, error: CorruptFile) -> WindowFiles:
    """Quarantine the file that broke while validation read it; the window without it.

    The scan reads only each file's head and its ``model_version`` column, so damage elsewhere
    (a later row group of a feature column) surfaces inside the validator, which drops
    everything it had written for the attempt. The file is then copied to quarantine with its
    reason, like one the scan could not open, and the window is validated again from the other
    files' first row: no good batch is lost, and a re-run takes the same path to the same outputs.
    An error about a file that is not one of the window's is not this one's to handle.
    """
    key = files.key_of(ports.lake, error)
    if key is None:
        raise error
    record = _quarantine_file(ports.lake, QUARANTINE, window.model, window.start.date(), key, error)
    remaining = files.without(key, record)
    if remaining.rows == 0:
        raise CorruptFile(record["path"], RuntimeError(f"every file of window {window.label} is unreadable"))
    return remaining


@dataclass(frozen=True)
class ServingVersions:
    """Who served a window: rows per version, the serving version's baseline, versions without one."""

    rows: dict[str, int]  # version -> rows, most rows first
    serving: str  # the version with most rows among those that have a baseline
    baseline: Baseline  # the serving version's (loaded once, for validation)
    unknown: dict[str, str]  # version -> why its baseline could not be found


def serving_versions(counts: dict[str, int], ports: Ports, model: str) -> ServingVersions:
    """The versions named in the window's log (rows per canonical version key), checked against the registry.

    Rows of a version the registry does not know cannot be judged against any baseline; they are
    quarantined by validation with the reason. When no version of the window is known the window
    fails at once (``BaselineNotFound``) with what to do.
    """
    if not counts:
        champion = ports.registry.alias_version(model, CHAMPION)
        if champion is None:
            raise InsufficientData(f"model {model!r} has no champion and its log names no model_version")
        return ServingVersions({}, champion, ports.registry.load_baseline(model, champion), {})
    unknown: dict[str, str] = {}
    baselines: dict[str, Baseline] = {}
    for version in counts:
        try:
            baselines[version] = ports.registry.load_baseline(model, version)
        except BaselineNotFound as exc:
            unknown[version] = str(exc)
    known = [v for v in counts if v not in unknown]
    if not known:
        raise BaselineNotFound(
            f"{model}: the window's rows name model_version {sorted(unknown)}, and the registry has no "
            f"baseline for any of them ({'; '.join(unknown.values())}). Register the version with "
            f"driftpilot (`driftpilot bootstrap --model {model}` for the initial model, or the retraining "
            "DAG), or fix the model_version the serving code logs."
        )
    return ServingVersions(counts, known[0], baselines[known[0]], unknown)


def empty_window(config: ModelConfig, ports: Ports, window: Window, files: WindowFiles) -> DriftpilotError:
    """The error of a window without inference rows: ``EmptyWindow`` (fail) or ``InsufficientData``
    (skip), by ``window.when_empty``; the message names every partition folder that was looked in.

    A window without logs most often means the serving code stopped logging (or logs under
    another model name or day), so by default the run fails instead of skipping to a green run.
    """
    folders = [str(ports.lake.path(partition_key(INFERENCE, config.name, day))) for day in window.days]
    found = (f"{len(files.keys)} Parquet file(s) without rows" if files.keys
             else "no Parquet file")
    what = (f"no inference logs for {config.name} in window {window.label} "
            f"[{window.start:%Y-%m-%d %H:%M} .. {window.end:%Y-%m-%d %H:%M} UTC): {found} in {', '.join(folders)}")
    if config.when_empty is WhenEmpty.SKIP:
        return InsufficientData(f"{what}; skipped (window.when_empty: skip in {config.path})")
    return EmptyWindow(
        f"{what}. If the serving code should have logged, check that it writes model={config.name} and "
        f"partitions by the UTC day of event_time (driftpilot.serving.log_predictions does both), then "
        f"re-run this window; if the model had no traffic, set `window.when_empty: skip` in {config.path}"
    )


def validate_step(config: ModelConfig, ports: Ports, window: Window) -> dict[str, Any]:
    """Validate the window, streamed batch by batch; quarantine bad rows and files.

    Reads the window's files twice: once their ``model_version`` column (which baseline judges
    the window), once every column (validation; accepted rows are written as they pass).
    """
    lake = ports.lake
    files = scan_window(ports, window)
    bad_files = list(files.bad_files)
    if files.rows == 0 and not bad_files:
        raise empty_window(config, ports, window, files)
    if files.rows == 0:
        raise CorruptFile(bad_files[0]["path"], RuntimeError(f"every file of window {window.label} is unreadable"))
    out_dir = ports.lake.path(report_key(window))
    day = window.start.date()
    accepted_key = validated_key(config.name, day)
    key_columns = [PREDICTION_ID, MODEL_VERSION, *config.features.categorical, *config.segments]
    if config.task is not TaskType.REGRESSION:
        key_columns.append(PREDICTION)
    while True:  # once per file found damaged while validating (see _set_aside)
        versions = serving_versions(files.version_counts, ports, config.name)
        version, baseline = versions.serving, versions.baseline
        try:
            result = ports.validator.validate(
                config, baseline.profile, window.start, window.end, functools.partial(files.batches, lake),
                heads=files.heads, accepted_key=accepted_key, quarantine_dir=partition_key(QUARANTINE, config.name, day),
                docs_dir=partition_key(REPORTS, config.name, day), key_columns=key_columns,
                classes=_classes(config, baseline), pre_flag=_unknown_version_flags(versions),
                files_quarantined=files.bad_files,
            )
            break
        except CorruptFile as exc:
            files = _set_aside(ports, window, files, exc)
    bad_files = list(files.bad_files)
    # A failed window feeds neither performance nor retraining (the validator leaves no validated
    # file); its rows stay in the inference log and the quarantine, and a fixed re-run validates them again.
    target = lake.path(accepted_key)
    summary = {
        "window": window.label,
        "serving_version": version,
        "rows_by_version": versions.rows,
        "unregistered_versions": sorted(versions.unknown),
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "files_quarantined": bad_files,
        "report_dir": str(out_dir),
        "validated_path": str(target),
    }
    lake.write_json(f"{report_key(window)}/validation_summary.json", {**summary, "validation": result.to_summary()})
    rows = [
        MetricRow(config.name, version, window.label, "validation.rows_read", "", float(result.rows_read)),
        MetricRow(config.name, version, window.label, "validation.rows_quarantined", "", float(result.rows_quarantined)),
        MetricRow(config.name, version, window.label, "validation.quarantined_share", "", result.quarantined_share),
        MetricRow(config.name, version, window.label, "validation.files_quarantined", "", float(len(bad_files))),
        MetricRow(config.name, version, window.label, "validation.bytes_quarantined", "",
                  float(sum(int(f["bytes"]) for f in bad_files))),
    ]
    rows += [MetricRow(config.name, version, window.label, "validation.rows_by_version", v, float(n),
                       "no baseline: quarantined" if v in versions.unknown else "")
             for v, n in versions.rows.items()]
    ports.store.replace_window_metrics(config.name, window.label, "validation.", rows, _now_iso(window))
    if versions.unknown:
        log.warning("%s window %s: rows of model_version %s have no baseline and were quarantined",
                    config.name, window.label, sorted(versions.unknown))
    raise_if_failed(result)
    return summary


def _classes(config: ModelConfig, baseline: Baseline) -> ClassSet | None:
    """The classifier's classes (config, else baseline); ``None`` for a regression model."""
    if config.task is TaskType.REGRESSION:
        return None
    return model_classes(config.classes, config.target, baseline)


def _unknown_version_flags(versions: ServingVersions) -> Callable[[pd.DataFrame, int], list[tuple[str, np.ndarray]]] | None:
    """Per batch: rows whose ``model_version`` has no baseline, as (quarantine reason, row mask)."""
    if not versions.unknown:
        return None
    unknown = sorted(versions.unknown)

    def flags(batch: pd.DataFrame, offset: int) -> list[tuple[str, np.ndarray]]:
        keys = category_keys(batch[MODEL_VERSION]).reset_index(drop=True).to_numpy()
        return [(f"unregistered_model_version({MODEL_VERSION}={v}): no baseline in the registry", keys == v)
                for v in unknown]

    return flags


# --------------------------------------------------------------------------------------------
# 2. drift, quality, operations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WindowRead:
    """What one streamed pass over a validated window yields: statistics, a sample, counts."""

    rows: int
    several: bool  # more than one model version served the window
    stats: Any  # drift_stats.WindowStats of the serving version's rows (all rows if only one version)
    other_stats: dict[str, Any]  # other version -> its WindowStats (against its own baseline)
    other_rows: dict[str, int]
    sample: pd.DataFrame  # seeded sample (<= reports.evidently.max_rows) of the rows ``stats`` is about
    sampled: bool
    operations: Any  # operations.OperationsAccumulator of every accepted row


def read_validated_window(config: ModelConfig, ports: Ports, window: Window, version: str,
                          baseline: Baseline, baseline_of: Callable[[str], Baseline]) -> WindowRead:
    """One pass over the validated window: drift statistics per version, ops figures, a report sample.

    Memory is the statistics (reference grids, counts), one batch and the sample
    (``reports.evidently.max_rows`` rows, at most twice while it is unknown whether several versions
    served the window); never the window.
    """
    from driftpilot.domain import drift_stats, operations
    from driftpilot.domain.validation_rules import BottomKSample

    def columns_of(profile: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        predictions = profile.get("predictions", {})
        outputs = [c for c in (SCORE, PREDICTION) if c in predictions]
        numeric = [*config.features.numeric, *[c for c in outputs if predictions[c]["kind"] == "numeric"]]
        categorical = [*config.features.categorical, *[c for c in outputs if predictions[c]["kind"] == "categorical"]]
        return numeric, categorical

    def stats_of(batch: Any, profile: Mapping[str, Any]) -> Any:
        numeric, categorical = columns_of(profile)
        return drift_stats.accumulate([batch.select([*numeric, *categorical])], profile, numeric, categorical)

    profile = baseline.profile
    numeric, categorical = columns_of(profile)
    all_stats = drift_stats.empty_window(profile, numeric, categorical)
    serving_stats = all_stats
    other_stats: dict[str, Any] = {}
    other_rows: Counter[str] = Counter()
    seen: set[str] = set()
    max_rows = config.reports.evidently.max_rows
    sample_all, sample_serving = BottomKSample(max_rows, 0), BottomKSample(max_rows, 0)
    ops = operations.OperationsAccumulator(config)
    rows = 0
    for batch in ports.lake.record_batches(validated_key(config.name, window.start.date())):
        frame = batch.to_pandas()
        rows += len(frame)
        ops.add(frame)
        whole = stats_of(batch, profile)
        all_stats = drift_stats.merge(all_stats, whole)
        sample_all.add(frame)
        if MODEL_VERSION not in frame.columns:
            continue
        served_by = category_keys(frame[MODEL_VERSION]).to_numpy()
        present = {str(v) for v in pd.unique(served_by) if isinstance(v, str)}
        seen |= present
        if present == {version} and not pd.isna(served_by).any():
            serving_stats = drift_stats.merge(serving_stats, whole)
            sample_serving.add(frame)
            continue
        mine = served_by == version
        serving_stats = drift_stats.merge(serving_stats, stats_of(drift_stats.select_rows(batch, mine), profile))
        sample_serving.add(frame[mine])
        for other in sorted(present - {version}):
            theirs = served_by == other
            other_profile = baseline_of(other).profile
            o_numeric, o_categorical = columns_of(other_profile)
            previous = other_stats.get(other, drift_stats.empty_window(other_profile, o_numeric, o_categorical))
            other_stats[other] = drift_stats.merge(previous, stats_of(drift_stats.select_rows(batch, theirs), other_profile))
            other_rows[other] += int(theirs.sum())
    several = len(seen) > 1
    sample = sample_serving if several else sample_all
    return WindowRead(rows, several, serving_stats if several else all_stats, other_stats if several else {},
                      dict(other_rows), sample.frame(), sample.sampled, ops)


def drift_step(config: ModelConfig, ports: Ports, window: Window, version: str) -> dict[str, Any]:
    """Full-data drift verdicts, Evidently HTML/JSON reports and operational metrics.

    Reads the validated window once, batch by batch (``read_validated_window``); Evidently gets
    a seeded sample of at most ``reports.evidently.max_rows`` rows, the statistics every row.
    """
    from driftpilot.domain import drift
    out_dir = ports.lake.path(report_key(window))
    thresholds = drift.DriftThresholds(**config.drift.decision.thresholds(), drift_share=config.drift.share, seed=0)
    baselines: dict[str, Baseline] = {version: ports.registry.load_baseline(config.name, version)}

    def baseline_of(v: str) -> Baseline:
        if v not in baselines:
            baselines[v] = ports.registry.load_baseline(config.name, v)
        return baselines[v]

    def judge(stats: Any, of: Baseline) -> drift.DatasetDrift:
        return drift.score_window(of.profile, stats, importance=of.metadata.get("feature_importance"),
                                  thresholds=thresholds)

    # Each version's rows are judged against that version's own baseline; the window's verdict
    # (and its Evidently pages) is the serving version's. Other versions are reported beside it.
    baseline = baselines[version]
    read = read_validated_window(config, ports, window, version, baseline, baseline_of)
    mine = read.sample
    verdict = judge(read.stats, baseline)
    ports.lake.write_json(f"{report_key(window)}/drift_stats.json", verdict.to_dict())
    others: dict[str, drift.DatasetDrift] = {}
    if read.several:
        for other in sorted(read.other_stats):
            others[other] = judge(read.other_stats[other], baseline_of(other))
        ports.lake.write_json(f"{report_key(window)}/drift_stats_other_versions.json",
                              {v: d.to_dict() for v, d in others.items()})
    else:
        ports.lake.delete(f"{report_key(window)}/drift_stats_other_versions.json")  # left by an earlier run

    serving_rows = read.rows - sum(read.other_rows.values()) if read.several else read.rows
    bundle = ports.reports.render_drift(config, baseline.reference, mine, out_dir, window.label, seed=0,
                                       total_rows=serving_rows, verdict=deciding_drift(verdict, config.drift.share))

    rows: list[MetricRow] = []

    def add(metric: str, column: str, value: float | None, detail: str = "") -> None:
        rows.append(MetricRow(config.name, version, window.label, metric, column, value, detail))

    for other, other_verdict in others.items():
        add("drift.version_share", other, other_verdict.drift_share,
            f"rows of version {other} against its own baseline: {other_verdict.status.value}")
        add("drift.version_rows", other, float(other_verdict.rows))

    add("drift.share", "", verdict.drift_share, verdict.status.value)
    add("drift.weighted_share", "", verdict.weighted_drift_share)
    add("drift.health_score", "", None if verdict.health_score is None else float(verdict.health_score))
    add("drift.drifted_count", "", float(verdict.drifted))
    for col in (*verdict.columns, *verdict.predictions):
        add("drift.drifted", col.column, float(col.drifted), col.reason)
        for name in COLUMN_STATISTICS:
            value = getattr(col, name)
            if value is not None:
                add(f"drift.{name}", col.column, float(value))
    for row in bundle.metrics:
        add(f"evidently.{row.metric}", row.column or "", row.value,
            "" if row.drifted is None else f"drifted={row.drifted}")
    expected = _expected_rows(ports.store, config, window)
    for metric, column, value, detail in read.operations.metrics(expected, baseline.reference):
        add(metric, column, value, detail)

    now = _now_iso(window)
    ports.store.replace_window_metrics(config.name, window.label, "drift.", [r for r in rows if r.metric.startswith("drift.")], now)
    ports.store.replace_window_metrics(config.name, window.label, "evidently.", [r for r in rows if r.metric.startswith("evidently.")], now)
    ports.store.replace_window_metrics(config.name, window.label, "ops.", [r for r in rows if r.metric.startswith("ops.")], now)
    ports.store.put_window_evidence(_window_record(config, window, version, read.rows, verdict))
    _write_window_metrics(ports, config.name, window)
    return {
        "window": window.label,
        "rows": read.rows,
        "drift_share": verdict.drift_share,
        "health_score": verdict.health_score,
        "drifted_columns": list(verdict.ranking),
        "evidently_drift_share": bundle.evidently_drift_share,
        "report_dir": str(out_dir),
        "sampled": bundle.sampled or read.sampled,
    }


def deciding_drift(verdict: DatasetDrift, threshold: float) -> DecidingDrift:
    """The verdict the policy decides on (features only, as ``window_evidence`` keeps it), for the pages."""
    return DecidingDrift(drift_share=verdict.drift_share, threshold=threshold, rows=verdict.rows,
                         columns=tuple(FeatureVerdict(c.column, c.drifted, c.reason) for c in verdict.columns))


def _window_record(config: ModelConfig, window: Window, version: str, rows: int, verdict: DatasetDrift) -> WindowRecord:
    """The typed drift evidence of the window: what ``decide_step`` reads back (never the metric rows)."""
    columns = [ColumnVerdict(c.column, c.drifted, {name: getattr(c, name) for name in COLUMN_STATISTICS})
               for c in (*verdict.columns, *verdict.predictions)]
    evidence = window_evidence(window.label, rows, verdict.drift_share, columns, config.features.all)
    health = None if verdict.health_score is None else int(verdict.health_score)
    return WindowRecord(config.name, version, evidence, _now_iso(window), health)


def _expected_rows(store: EvidenceStore, config: ModelConfig, window: Window) -> int | None:
    """Median rows of the previous (up to) 7 windows: the volume a window is compared with."""
    since = (window.start.date() - timedelta(days=7 * config.window_days)).isoformat()
    earlier = [r.evidence.rows for r in store.window_evidence(config.name, since=since) if r.evidence.window < window.label]
    return int(statistics.median(earlier)) if earlier else None


def _write_window_metrics(ports: Ports, model: str, window: Window) -> None:
    frame = ports.store.read_metrics(model, since=window.label)
    frame = frame[frame["window"] == window.label]
    ports.lake.write_frame(f"{partition_key(METRICS, model, window.start.date())}/metrics.parquet",
                           frame.reset_index(drop=True))


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


@dataclass(frozen=True, eq=False)
class LabelRead:
    """Usable label rows known at ``as_of``, and what was set aside on the way, per arrival day."""

    labels: pd.DataFrame  # ``label`` as the class key (classifiers) or a float (regression)
    rows_read: dict[date, int]
    rows_quarantined: dict[date, int]
    files_quarantined: dict[date, list[dict[str, Any]]]


def label_classes(config: ModelConfig, ports: Ports, version: str | None) -> ClassSet | None:
    """The class set labels are screened with: the config's, else that of ``version``'s baseline.

    ``version`` is the window's serving version; a window without traffic uses the champion's.
    """
    if config.task is TaskType.REGRESSION:
        return None
    if config.classes:
        return ClassSet.of(config.classes, "config")
    if version is None:
        version = ports.registry.alias_version(config.name, CHAMPION)
        if version is None:
            raise InsufficientData(f"{config.name}: no champion yet, so no classes to check labels against")
    return _classes(config, ports.registry.load_baseline(config.name, version))


def read_labels(ports: Ports, config: ModelConfig, first: date, as_of: datetime,
                classes: ClassSet | None, *, record: bool = True) -> LabelRead:
    """Label rows that arrived from ``first`` up to ``as_of`` (arrival partitions), screened.

    Per arrival partition: a file that cannot be read or breaks the label contract is copied to
    ``label_quarantine/`` with its reason and the other files are used; rows that cannot be
    scored (missing label, unknown class, not a number) go to that partition's
    ``label_quarantine/.../part-0.parquet`` with ``quarantine_reason``. The quarantine of a
    partition is a function of its content, so re-runs rewrite the same files (and a fixed file
    leaves the quarantine). ``record=False`` (retraining, comparisons) reads with the same rules but
    writes nothing: the monitoring run owns the quarantine.
    """
    lake = ports.lake
    dates = [d for d in lake.dates(LABELS, config.name) if first <= d <= as_of.date()]
    accepted: list[pd.DataFrame] = []
    read: dict[date, int] = {}
    quarantined: dict[date, int] = {}
    bad_files: dict[date, list[dict[str, Any]]] = {}
    for day in dates:
        frames = []
        if record:
            lake.delete_folder(f"{partition_key(LABEL_QUARANTINE, config.name, day)}/files")
        for key in lake.files(LABELS, config.name, day):
            try:
                part = lake.read(key)
                check_labels(part, str(lake.path(key)), ids=False)
            except (CorruptFile, SchemaViolation) as exc:
                if record:
                    bad_files.setdefault(day, []).append(
                        _quarantine_file(lake, LABEL_QUARANTINE, config.name, day, key, exc))
                continue
            frames.append(_utc_times(part, LABEL_TIME))
        screened = screen_labels(pd.concat(frames, ignore_index=True) if frames else _no_labels(), classes)
        if record:
            _write_label_quarantine(lake, config.name, day, screened.quarantined)
        read[day] = screened.rows_read
        quarantined[day] = len(screened.quarantined)
        accepted.append(screened.accepted)
    frame = pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame()
    return LabelRead(known_as_of(frame, as_of) if not frame.empty else frame, read, quarantined, bad_files)


def _no_labels() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (PREDICTION_ID, LABEL, LABEL_SOURCE)}
                        | {LABEL_TIME: pd.Series(dtype="datetime64[us, UTC]")})


def _write_label_quarantine(lake: Lake, model: str, day: date, rows: pd.DataFrame) -> None:
    key = f"{partition_key(LABEL_QUARANTINE, model, day)}/{PART}"
    if rows.empty:
        lake.delete(key)
        return
    lake.write_frame(key, rows, mixed_types_as_text=True)


def _window_version(ports: Ports, config: ModelConfig, window: Window) -> str | None:
    """The version that served most of the window's validated rows (its ``model_version`` column, streamed)."""
    key = validated_key(config.name, window.start.date())
    if not ports.lake.exists(key):
        return None
    counts: Counter[str] = Counter()
    for batch in ports.lake.batches(key, columns=[MODEL_VERSION]):
        _count_versions(counts, batch)
    return _most_rows(counts)


def _count_versions(counts: Counter[str], batch: pd.DataFrame) -> None:
    """Add the batch's rows per canonical ``model_version`` key to ``counts`` (missing versions not counted)."""
    if MODEL_VERSION in batch.columns:
        counts.update({str(k): int(v) for k, v in category_keys(batch[MODEL_VERSION]).dropna().value_counts().items()})


def _most_rows(counts: Counter[str]) -> str | None:
    return max(counts.items(), key=lambda kv: kv[1])[0] if counts else None


def _label_keys(labels: pd.DataFrame) -> set[str]:
    """Canonical prediction ids of the label rows: the only ids the label step needs from the log."""
    if labels.empty:
        return set()
    return set(category_keys(labels[PREDICTION_ID]).dropna())


def _logged_label_ids(ports: Ports, config: ModelConfig, target: Window, label_ids: set[str]) -> set[str]:
    """The label ids that a prediction logged in ``target``'s days has (raw log, ``prediction_id`` only).

    Bounded by the labels, not the log: only ids that some label row names are kept.
    """
    found: set[str] = set()
    if not label_ids:
        return found
    wanted = pd.Index(sorted(label_ids))
    for day in target.days:
        for key in ports.lake.files(INFERENCE, config.name, day):
            try:
                for batch in ports.lake.batches(key, columns=[PREDICTION_ID]):
                    if PREDICTION_ID not in batch.columns:
                        break  # reported by validation; a broken file has no ids to match
                    ids = category_keys(batch[PREDICTION_ID]).dropna()
                    found.update(ids[ids.isin(wanted)])
            except CorruptFile:
                continue  # reported by validation
    return found


@dataclass(frozen=True, eq=False)
class LabelledWindow:
    """A validated window as the label step needs it, from one streamed pass."""

    rows: int
    version: str | None  # the version with most rows
    labelled: pd.DataFrame  # the rows whose prediction id has a label row (in window order)
    sample: pd.DataFrame  # a seeded sample of every row (<= reports.evidently.max_rows) for the reports


def read_labelled_window(ports: Ports, config: ModelConfig, target: Window, label_ids: set[str]) -> LabelledWindow:
    """Stream the validated window: keep the rows that labels name, a report sample and counts."""
    from driftpilot.domain.validation_rules import BottomKSample

    wanted = pd.Index(sorted(label_ids))
    counts: Counter[str] = Counter()
    kept: list[pd.DataFrame] = []
    sample = BottomKSample(config.reports.evidently.max_rows, 0)
    rows = 0
    for batch in ports.lake.batches(validated_key(config.name, target.start.date())):
        rows += len(batch)
        _count_versions(counts, batch)
        if len(wanted) and PREDICTION_ID in batch.columns:
            kept.append(batch[category_keys(batch[PREDICTION_ID]).isin(wanted).to_numpy()])
        sample.add(batch)
    labelled = pd.concat(kept, ignore_index=True) if kept else sample.frame().iloc[0:0]
    return LabelledWindow(rows, _most_rows(counts), labelled, sample.frame())


def performance_step(config: ModelConfig, ports: Ports, window: Window) -> dict[str, Any]:
    """Join matured labels for this and earlier windows and (re)compute their performance.

    Runs for every window, with or without traffic, so the last windows of a period get their
    matured performance. **Final figures are frozen at maturity**: a window's performance is
    computed from the labels known at ``window end + labels.maturity_hours`` and never changes
    after that; labels that arrive later are counted (``labels.late``) and kept in the lake, but
    do not move a figure that was reported as final. Before maturity the history holds coverage.
    """
    as_of = window.end
    targets = windows_to_recompute(config, window)
    classes = label_classes(config, ports, _window_version(ports, config, window))
    read = read_labels(ports, config, targets[0].start.date(), as_of, classes)
    labels = read.labels
    label_ids = _label_keys(labels)
    logged_ids: set[str] = set()
    results = []
    maturity = timedelta(hours=config.labels.maturity_hours)
    for target in targets:
        logged_ids |= _logged_label_ids(ports, config, target, label_ids)
        if not ports.lake.exists(validated_key(config.name, target.start.date())):
            continue
        known = ports.store.performance_versions(config.name, target.label)
        later = known[-1].as_of if known else None
        if later is not None and later > as_of.isoformat():
            continue  # a later run already saw more labels: a re-run of an old window keeps them
        window_rows = read_labelled_window(ports, config, target, label_ids)
        if window_rows.rows == 0 or window_rows.version is None:
            continue
        accepted, version = window_rows.labelled, window_rows.version
        frozen_at = min(as_of, target.end + maturity)
        joined = dataclasses.replace(join_labels(accepted, labels, frozen_at, target.end, config.labels.maturity_hours),
                                     predictions=window_rows.rows)
        late = 0
        if joined.mature and not labels.empty:
            after = labels[labels[LABEL_TIME] > pd.Timestamp(frozen_at)]
            late = join_labels(accepted, after, as_of, target.end, config.labels.maturity_hours).label_rows_seen
        rows = [
            MetricRow(config.name, version, target.label, "labels.coverage", "", joined.coverage),
            MetricRow(config.name, version, target.label, "labels.labelled", "", float(joined.labelled)),
            MetricRow(config.name, version, target.label, "labels.corrected", "", float(joined.corrected)),
            MetricRow(config.name, version, target.label, "labels.mature", "", float(joined.mature)),
            MetricRow(config.name, version, target.label, "labels.late", "", float(late),
                      "label rows that arrived after maturity: kept, not counted in the final figures"),
        ]
        status = "insufficient labels"
        state = PerformanceStatus.INSUFFICIENT
        metrics: dict[str, float] = {}
        if not joined.mature:
            status = f"labels maturing ({joined.coverage:.0%} so far)"
            state = PerformanceStatus.MATURING
        elif joined.labelled >= config.labels.min_labelled_rows:
            labelled = joined.joined.rename(columns={"label": config.target})
            metrics = ports.trainer.evaluate(config, labelled[config.target], labelled)
            status = "final"
            state = PerformanceStatus.FINAL
            rows += [MetricRow(config.name, version, target.label, f"perf.{k}", "", v) for k, v in metrics.items()]
            target_dir = ports.lake.path(report_key(target))
            newly_mature = target.end + maturity > window.start
            if newly_mature or not ports.lake.exists(f"{report_key(target)}/performance.html"):
                baseline = ports.registry.load_baseline(config.name, version)
                ports.reports.render_performance(config, baseline.reference, window_rows.sample, labelled, target_dir,
                                                 target.label, seed=0, total_rows=window_rows.rows)
        rows.append(MetricRow(config.name, version, target.label, "perf.status", "", None, status))
        ports.store.replace_window_metrics(config.name, target.label, "labels.", [r for r in rows if r.metric.startswith("labels.")], as_of.isoformat())
        ports.store.replace_window_metrics(config.name, target.label, "perf.", [r for r in rows if r.metric.startswith("perf.")], as_of.isoformat())
        ports.store.put_performance(PerformanceRecord(
            model=config.name, model_version=version, window=target.label, as_of=as_of.isoformat(), status=state,
            note=status, metrics=metrics, labelled=int(joined.labelled), coverage=float(joined.coverage),
            corrected=int(joined.corrected), mature=bool(joined.mature), late=int(late)))
        _write_window_metrics(ports, config.name, target)
        results.append({"window": target.label, "status": status, **joined.to_dict(), "late": late,
                        config.promotion.primary_metric: metrics.get(config.promotion.primary_metric)})
    arrivals = _arrivals(config, window, read, labels, logged_ids, as_of)
    ports.store.replace_window_metrics(config.name, window.label, "arrivals.", arrivals, as_of.isoformat())
    _write_window_metrics(ports, config.name, window)
    counts = {r.metric.removeprefix("arrivals."): r.value for r in arrivals}
    return {"window": window.label, "recomputed": results, "unknown_label_ids": counts["unknown_ids"],
            "labels_quarantined": counts["quarantined_rows"], "label_files_quarantined": counts["quarantined_files"]}


def _arrivals(config: ModelConfig, window: Window, read: LabelRead, labels: pd.DataFrame,
              logged_ids: set[str], as_of: datetime) -> list[MetricRow]:
    """Figures about the labels that *arrived* in this window (not about its predictions).

    Kept apart from ``labels.*`` (which describe a window's own predictions and are replaced
    when a later run recomputes it) so a recomputation never deletes them.
    """
    days = set(window.days)
    arrived_now = labels[labels[LABEL_TIME] >= pd.Timestamp(window.start)] if not labels.empty else labels
    unknown = unknown_id_count(arrived_now, logged_ids, as_of) if not arrived_now.empty else 0
    files = [f for d, found in read.files_quarantined.items() if d in days for f in found]

    def row(metric: str, value: float, detail: str = "") -> MetricRow:
        return MetricRow(config.name, "", window.label, f"arrivals.{metric}", "", value, detail)

    return [
        row("unknown_ids", float(unknown), "label ids arriving in this window with no logged prediction in the label horizon"),
        row("label_rows", float(sum(n for d, n in read.rows_read.items() if d in days))),
        row("quarantined_rows", float(sum(n for d, n in read.rows_quarantined.items() if d in days)),
            "label rows set aside (missing label, unknown class, not a number): label_quarantine/"),
        row("quarantined_files", float(len(files)), "; ".join(f"{f['path']}: {f['reason']}" for f in files)[:1000]),
    ]


# --------------------------------------------------------------------------------------------
# 4. decide
# --------------------------------------------------------------------------------------------


def decision_evidence(config: ModelConfig, store: EvidenceStore, window: Window, version: str,
                      reference: Callable[[str], float | None]) -> tuple[WindowEvidence, list[WindowEvidence],
                                                                          PerformanceEvidence | None]:
    """What the policy judges ``window`` on, **as of the window's end**: a re-run decides the same.

    The window's and earlier windows' drift evidence of ``version``, and the primary metric of
    the latest window already mature at this window's end (a later run may know more labels;
    the version of each window's performance read here is the one known at ``window.end``).
    ``reference(version)`` is the version's holdout value of the primary metric.
    """
    lookback = max(config.trigger.persistence_lookback, *(r.lookback for r in config.trigger.feature_rules), 1)
    since = (window.start.date() - timedelta(days=(lookback + 1) * config.window_days + 30)).isoformat()
    records = [r for r in store.window_evidence(config.name, since=since, until=window.label) if r.model_version == version]
    current = next((r.evidence for r in records if r.evidence.window == window.label), None)
    if current is None:
        raise InsufficientData(f"no drift metrics for window {window.label}: run the drift step first")
    earlier = [r.evidence for r in records if r.evidence.window < window.label]
    horizon = window.end - timedelta(hours=config.labels.maturity_hours) - timedelta(days=config.window_days)
    metric = config.promotion.primary_metric
    known = [p for p in store.performance(config.name, as_of=_now_iso(window), since=since, until=horizon.date().isoformat())
             if p.model_version == version and p.value(metric) is not None]
    performance = None
    if known:
        latest = known[-1]
        value, baseline = latest.value(metric), reference(version)
        rows = next((r.evidence.rows for r in records if r.evidence.window == latest.window), 0)
        if value is not None and baseline is not None:
            performance = PerformanceEvidence(window=latest.window, metric=metric, value=value, baseline=float(baseline),
                                              labelled=latest.scored_rows, rows=rows)
    return current, earlier, performance


def decide_window(config: ModelConfig, store: EvidenceStore, window: Window, version: str,
                  reference: Callable[[str], float | None]) -> tuple[Decision, WindowEvidence]:
    """The trigger policy's decision for ``window`` from the store's evidence as of the window's end,
    and the window's own evidence it judged (decision.json shows its per-feature verdicts)."""
    current, earlier, performance = decision_evidence(config, store, window, version, reference)
    retrains = [datetime.fromisoformat(t) for t in store.retrain_times(config.name, before=_now_iso(window))]
    return decide(current, earlier, performance, config.trigger, retrains, window.end), current


def decide_step(config: ModelConfig, ports: Ports, window: Window, version: str) -> dict[str, Any]:
    """Apply the trigger policy to this window's evidence; store, log and return the decision.

    The task log gets one readable line (action, window, version, drift share) and then each
    reason on its own line: "why did it retrain?" is answered where the operator already looks.
    """

    def reference(of_version: str) -> float | None:
        baseline = ports.registry.load_baseline(config.name, of_version)
        value = baseline.metadata.get("holdout_metrics", {}).get(config.promotion.primary_metric)
        return None if value is None else float(value)

    decision, current = decide_window(config, ports.store, window, version, reference)
    payload = _store_decision(config, ports, window, version, decision, current)
    log.info("%s window %s (v%s): %s, drift share %s (driftpilot, decides), %d reason(s):", config.name,
             window.label, version, decision.action.value.upper(), share_text(current.drift_share),
             len(decision.reasons))
    for reason in decision.reasons:
        log.info("  - %s", reason)
    return payload


def _drift_verdict(config: ModelConfig, current: WindowEvidence) -> dict[str, Any]:
    """decision.json's drift block: the deciding share (raw and as every page shows it) and per-feature verdicts."""
    features = [c for c in config.features.all if c in current.column_scores]
    return {
        "drift_share": current.drift_share,
        "drift_share_shown": share_text(current.drift_share),
        "threshold": config.drift.share,
        "drifted_columns": list(current.drifted_columns),
        "column_verdicts": {c: "drifted" if c in current.drifted_columns else "no drift" for c in features},
        "source": "driftpilot's statistics over every validated row (Evidently's figures are in drift.html)",
    }


def _store_decision(config: ModelConfig, ports: Ports, window: Window, version: str, decision: Decision,
                    current: WindowEvidence) -> dict[str, Any]:
    key = f"{config.name}:{window.label}:v{version}"
    payload = {
        "model": config.name,
        "window": window.label,
        "window_end": window.end.isoformat(),
        "model_version": version,
        **decision.to_dict(),
        "drift": _drift_verdict(config, current),
        "idempotency_key": key if decision.action is Action.RETRAIN else None,
    }
    ports.store.save_decision(DecisionRecord.of(config.name, window.label, version, decision, _now_iso(window)))
    out_dir = ports.lake.path(report_key(window))
    ports.lake.write_json(f"{report_key(window)}/decision.json", payload)
    payload["mlflow_run_id"] = _log_window_run(config, ports, window, version, decision, out_dir)
    return payload


def _log_window_run(config: ModelConfig, ports: Ports, window: Window, version: str,
                    decision: Decision, out_dir: Path) -> str:
    """The window as an MLflow run in the model's monitoring experiment: metrics + reports."""
    frame = ports.store.read_metrics(config.name, since=window.label)
    frame = frame[(frame["window"] == window.label) & frame["value"].notna()]
    metrics = {}
    for metric, column, value in zip(frame["metric"], frame["column"], frame["value"], strict=True):
        if metric.startswith("evidently."):
            continue  # the Evidently JSON is logged as an artifact; keep the run's metric list readable
        name = f"{metric}.{column}" if column else metric
        metrics[_mlflow_key(name)] = float(value)
    return ports.registry.log_monitoring_run(MonitoringRun(
        model_name=config.name,
        window=window.label,
        model_version=version,
        metrics=metrics,
        tags={"driftpilot.action": decision.action.value, "driftpilot.reasons": "; ".join(decision.reasons)[:4000]},
        artifacts_dir=out_dir,
    ))


def _mlflow_key(name: str) -> str:
    """MLflow metric keys allow letters, digits, '_', '-', '.', ' ', '/'."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)


RETRAIN_EVENT_KEYS = ("model", "window", "reason", "as_of", "idempotency_key")


def request_retrain(config: ModelConfig, ports: Ports, decision: dict[str, Any]) -> dict[str, Any]:
    """Put the retrain request in the outbox; ``emit`` says whether the Asset event must go out.

    First the request is recorded (``recorded``), then the DAG task emits the event, then the
    next task calls ``confirm_retrain_emitted``. A task that died after recording finds the key
    still ``recorded`` on retry and emits again; a key that went out (or ran) is not re-sent.
    """
    key = decision["idempotency_key"]
    reason = "; ".join(decision["reasons"])
    state = ports.store.record_retrain(config.name, key, decision["window"], decision["window_end"], reason)
    return {"model": config.name, "window": decision["window"], "reason": reason, "as_of": decision["window_end"],
            "idempotency_key": key, "state": state.value, "emit": state is RetrainState.RECORDED}


def confirm_retrain_emitted(config: ModelConfig, ports: Ports, request: dict[str, Any]) -> dict[str, Any]:
    """Mark the request ``emitted``: called only after the task that emitted its event succeeded."""
    marked = ports.store.mark_retrain_emitted(config.name, request["idempotency_key"])
    return {"idempotency_key": request["idempotency_key"], "marked": marked}


# --------------------------------------------------------------------------------------------
# 0. approvals recorded in the registry since the last run
# --------------------------------------------------------------------------------------------


def reconcile_step(config: ModelConfig, ports: Ports, window: Window) -> dict[str, Any]:
    """Act on approval tags set in the MLflow registry (promote approved, drop rejected challengers).

    Runs first in every monitoring run, so an approval given between two windows takes effect
    before the next window is judged, without a worker waiting for a person.
    """
    from driftpilot.usecases import promote as promotion
    moves = promotion.reconcile(ports, config.name, window.end.isoformat())
    return {
        "moves": [f"{m.alias}: {m.from_version} -> {m.to_version} ({m.reason})" for m in moves],
        "champion": ports.registry.alias_version(config.name, CHAMPION),
        "challenger": ports.registry.alias_version(config.name, CHALLENGER),
    }
