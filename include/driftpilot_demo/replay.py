"""Traffic replay: turn a real dataset's later periods into daily production traffic.

For simulated day ``d`` (calendar date ``replay.start_date + d`` of the demo file) the replay takes
the d-th chunk of ``source.rows_per_day`` rows after the training period, applies any active scenarios, and
scores the rows **with the version the registry serves as ``champion`` at that moment**, so a
promotion changes the predictions of later days. It writes:

* the inference-log partition ``inference/model=<m>/date=<day>/part-0.parquet``, one row per
  prediction, ``event_time`` spread evenly over the day;
* label rows partitioned by the day they *arrive*
  (``labels/model=<m>/date=<arrival>/part-<served day>.parquet``): each label arrives after a
  seeded delay, a share never arrives, some arrive first wrong and are corrected later
  (``source = correction``), some arrive twice.

Labels are written for their future arrival dates at once (the future of a replay is fixed by its
seed); monitoring only ever reads labels whose arrival is at or before the time it runs for.

Everything is a function of (dataset, config, demo settings, seed, day, champion version): re-running a day
gives the same bytes. Days already in the lake are kept (they were served by whoever was
champion then) unless ``rebuild`` is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.adapters import parquet_lake as storage
from driftpilot.adapters import sklearn_training as training
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import (
    EVENT_TIME,
    LABEL,
    LABEL_SOURCE,
    LABEL_TIME,
    LATENCY_MS,
    MODEL_NAME,
    MODEL_VERSION,
    PREDICTION_ID,
)
from driftpilot_demo import datasets, scenarios
from driftpilot_demo.config import DemoSpec, LabelDelay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayResult:
    day: int
    date: date
    rows: int
    label_rows: int
    model_version: str
    skipped: bool


def simulated_date(demo: DemoSpec, day: int) -> date:
    return date.fromisoformat(demo.replay.start_date) + timedelta(days=day)


def prediction_ids(model_name: str, served: date, n: int) -> list[str]:
    return [f"{model_name}-{served:%Y%m%d}-{i:05d}" for i in range(n)]


def event_times(served: date, n: int) -> pd.Series:
    """``n`` UTC timestamps spread evenly over the day (row order = time order)."""
    start = datetime(served.year, served.month, served.day, tzinfo=UTC)
    step = 86_400.0 / max(n, 1)
    offsets = pd.to_timedelta((np.arange(n) + 0.5) * step, unit="s").floor("ms")
    return pd.Series(pd.Timestamp(start) + offsets, name=EVENT_TIME)


def sample_delays_hours(spec: LabelDelay, n: int, rng: np.random.Generator) -> np.ndarray:
    """Label delays in hours, capped at ``max_hours``."""
    if spec.distribution == "fixed":
        delays = np.full(n, spec.mean_hours)
    elif spec.distribution == "uniform":
        low = max(0.0, 2 * spec.mean_hours - spec.max_hours)
        delays = rng.uniform(low, spec.max_hours, n)
    else:
        delays = rng.exponential(spec.mean_hours, n) if spec.mean_hours > 0 else np.zeros(n)
    return np.minimum(delays, spec.max_hours)


def _wrong_label(config: ModelConfig, truth: pd.Series, rng: np.random.Generator) -> pd.Series:
    if config.task is TaskType.REGRESSION:
        return truth * rng.uniform(0.5, 1.5, len(truth))
    classes = sorted(truth.dropna().unique().tolist(), key=str)
    if len(classes) < 2:
        return truth
    return truth.map(lambda v: classes[(classes.index(v) + 1) % len(classes)])


def make_labels(
    config: ModelConfig,
    demo: DemoSpec,
    ids: list[str],
    times: pd.Series,
    truth: pd.Series,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Label rows for one served day: delays, never-arriving labels, corrections, duplicates."""
    spec = demo.replay.label_delay
    n = len(ids)
    frame = pd.DataFrame({PREDICTION_ID: ids, EVENT_TIME: times.to_numpy(), LABEL: truth.to_numpy()})
    delays = sample_delays_hours(spec, n, rng)
    arrives = rng.random(n) >= spec.never_share
    corrected = arrives & (rng.random(n) < spec.correction_share)
    duplicated = arrives & (rng.random(n) < spec.duplicate_share)
    # A correction or repeat comes after the first label but still within max_hours, so a window
    # is final once max_hours have passed (ties are broken in favour of corrections by the join).
    later = delays + (spec.max_hours - delays) * rng.uniform(0.1, 1.0, n)

    def rows(mask: np.ndarray, hours: np.ndarray, labels: pd.Series, source: str) -> pd.DataFrame:
        part = frame.loc[mask, [PREDICTION_ID, EVENT_TIME]].copy()
        part[LABEL] = labels[mask].to_numpy()
        part[LABEL_TIME] = part[EVENT_TIME] + pd.to_timedelta(hours[mask], unit="h").floor("s")
        part[LABEL_SOURCE] = source
        return part

    truth_values = frame[LABEL]
    first_label = truth_values.where(~pd.Series(corrected), _wrong_label(config, truth_values, rng))
    parts = [
        rows(arrives, delays, first_label, "outcome"),
        rows(corrected, later, truth_values, "correction"),
        rows(duplicated, later, truth_values, "outcome"),
    ]
    labels = pd.concat(parts, ignore_index=True).drop(columns=[EVENT_TIME])
    return labels.sort_values([LABEL_TIME, PREDICTION_ID], kind="stable").reset_index(drop=True)


class ChampionScorer:
    """Scores rows with the version that is ``champion`` when asked; caches loaded versions."""

    def __init__(self, resolve_champion: Callable[[], str], load_version: Callable[[str], Any]) -> None:
        self._resolve = resolve_champion
        self._load = load_version
        self._models: dict[str, Any] = {}

    def current(self) -> tuple[str, Any]:
        version = self._resolve()
        if version not in self._models:
            self._models[version] = self._load(version)
        return version, self._models[version]


def build_day(
    config: ModelConfig, demo: DemoSpec, source: pd.DataFrame, day: int, version: str, model: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inference log and the label rows of simulated ``day`` (pure: no I/O)."""
    seed = demo.replay.seed
    served = simulated_date(demo, day)
    rows = datasets.replay_rows(demo, source, day)
    rows = scenarios.apply_to_inputs(config, demo, rows, day, seed)
    truth = scenarios.apply_to_labels(config, demo, rows, day, seed)
    rng = np.random.default_rng([seed, day])
    ids = prediction_ids(config.name, served, len(rows))
    times = event_times(served, len(rows))
    scored = training.predict(config, model, rows)
    log_frame = pd.DataFrame({PREDICTION_ID: ids, EVENT_TIME: times})
    log_frame[MODEL_NAME] = config.name
    log_frame[MODEL_VERSION] = str(version)
    extra_segments = [s for s in config.segments if s not in config.features.all]
    for column in [*config.features.all, *extra_segments]:
        log_frame[column] = rows[column].to_numpy()
    for column in scored.columns:
        log_frame[column] = scored[column].to_numpy()
    median = demo.replay.latency_ms_median
    log_frame[LATENCY_MS] = np.round(median * rng.lognormal(0.0, 0.35, len(rows)), 3)
    log_frame = scenarios.apply_to_log(config, demo, log_frame, day)
    labels = make_labels(config, demo, ids, times, truth, rng)
    return log_frame, labels


def _label_file(lake: Path, config: ModelConfig, arrival: date, served: date) -> Path:
    directory = storage.partition_dir(lake, storage.LABELS, config.name, arrival)
    return directory / f"part-{served.isoformat()}.parquet"


def write_day(
    config: ModelConfig, demo: DemoSpec, lake: Path, day: int, log_frame: pd.DataFrame, labels: pd.DataFrame
) -> None:
    served = simulated_date(demo, day)
    # A rebuilt day must not leave label files of its previous version behind.
    for stale in (lake / storage.LABELS / f"model={config.name}").glob(f"date=*/part-{served.isoformat()}.parquet"):
        stale.unlink()
    arrival_days = labels[LABEL_TIME].dt.date
    for arrival, part in labels.groupby(arrival_days, sort=True):
        storage.write_parquet_atomic(part.reset_index(drop=True), _label_file(lake, config, arrival, served))
    # The inference partition goes last: its presence marks the day as complete.
    path = storage.partition_dir(lake, storage.INFERENCE, config.name, served) / "part-0.parquet"
    storage.write_parquet_atomic(log_frame, path)


def day_is_written(config: ModelConfig, demo: DemoSpec, lake: Path, day: int) -> bool:
    served = simulated_date(demo, day)
    return (storage.partition_dir(lake, storage.INFERENCE, config.name, served) / "part-0.parquet").exists()


def replay_day(
    config: ModelConfig,
    demo: DemoSpec,
    lake: Path,
    source: pd.DataFrame,
    day: int,
    scorer: ChampionScorer,
    rebuild: bool = False,
) -> DayResult:
    served = simulated_date(demo, day)
    if not rebuild and day_is_written(config, demo, lake, day):
        return DayResult(day, served, 0, 0, "", skipped=True)
    version, model = scorer.current()
    log_frame, labels = build_day(config, demo, source, day, version, model)
    write_day(config, demo, lake, day, log_frame, labels)
    log.info("replayed %s day %d (%s): %d rows, %d label rows, champion v%s",
             config.name, day, served, len(log_frame), len(labels), version)
    return DayResult(day, served, len(log_frame), len(labels), version, skipped=False)
