"""Operational metrics of a window, straight from the inference log (no labels needed).

Volume against what the baseline expects, latency percentiles, the share of low-confidence
predictions, missing-value rates per feature and the prediction distribution. These catch the
incidents drift statistics are slow to show: a dead upstream (volume), a slow model server
(latency), a model that stopped being sure of itself (confidence).

The figures are accumulated batch by batch (``OperationsAccumulator``; ``merge`` combines two):
counts and sums are exact. Latency percentiles are exact (numpy's linear interpolation on every
value) while the window has at most ``EXACT_LATENCY_LIMIT`` latencies; beyond that the values go
to a fixed log-spaced histogram (``LATENCY_BINS`` bins per decade from 1 us to 1e7 ms, i.e. a
relative error under 0.12 % per percentile, plus exact zero/negative and overflow buckets), so
memory stays bounded whatever the window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftpilot.domain.categories import category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import LATENCY_MS, PREDICTION, SCORE

EXACT_LATENCY_LIMIT = 1_000_000  # 8 MB of float64 latencies kept verbatim
LATENCY_BINS = 1_000  # per decade
_LOW, _HIGH = -3, 7  # decades of milliseconds covered by the histogram
_EDGES = np.logspace(_LOW, _HIGH, (_HIGH - _LOW) * LATENCY_BINS + 1)
QUANTILES = (50, 95, 99)


@dataclass
class LatencyQuantiles:
    """Mergeable latency percentiles: exact values while few, then a log-spaced histogram."""

    values: list[np.ndarray] = field(default_factory=list)
    count: int = 0
    histogram: np.ndarray | None = None  # counts: [<= first edge, edge cells..., > last edge]

    def add(self, latency: np.ndarray) -> None:
        latency = latency[~np.isnan(latency)]
        self.count += latency.size
        if self.histogram is None:
            self.values.append(latency)
            if self.count > EXACT_LATENCY_LIMIT:
                self._to_histogram()
        else:
            self._bin(latency)

    def _to_histogram(self) -> None:
        self.histogram = np.zeros(len(_EDGES) + 1, dtype=np.int64)
        for chunk in self.values:
            self._bin(chunk)
        self.values = []

    def _bin(self, latency: np.ndarray) -> None:
        assert self.histogram is not None
        np.add.at(self.histogram, np.searchsorted(_EDGES, latency, side="left"), 1)

    def merge(self, other: LatencyQuantiles) -> LatencyQuantiles:
        out = LatencyQuantiles(values=[*self.values, *other.values], count=self.count + other.count)
        if self.histogram is not None or other.histogram is not None or out.count > EXACT_LATENCY_LIMIT:
            out._to_histogram()
            for h in (self.histogram, other.histogram):
                if h is not None:
                    assert out.histogram is not None
                    out.histogram += h
        return out

    def quantile(self, q: float) -> float | None:
        if self.count == 0:
            return None
        if self.histogram is None:
            return float(np.percentile(np.concatenate(self.values), q))
        rank = q / 100 * (self.count - 1)
        cumulative = np.cumsum(self.histogram)
        cell = int(np.searchsorted(cumulative, rank, side="right"))
        if cell == 0:
            return float(_EDGES[0])
        if cell >= len(_EDGES):
            return float(_EDGES[-1])
        low, high = _EDGES[cell - 1], _EDGES[cell]
        before = cumulative[cell - 1]
        inside = max(int(self.histogram[cell]), 1)
        return float(low * (high / low) ** ((rank - before + 1) / inside))  # geometric within the cell


@dataclass
class OperationsAccumulator:
    """Sufficient statistics of the operational metrics, added to batch by batch."""

    config: ModelConfig
    rows: int = 0
    present: dict[str, bool] = field(default_factory=dict)  # feature -> seen in the log
    missing: Counter[str] = field(default_factory=Counter)
    latency: LatencyQuantiles = field(default_factory=LatencyQuantiles)
    has_latency: bool = False
    has_score: bool = False
    low_confidence: int = 0
    score_sum: float = 0.0
    score_count: int = 0
    has_prediction: bool = False
    prediction_sum: float = 0.0
    prediction_count: int = 0
    prediction_counts: Counter[str] = field(default_factory=Counter)

    def add(self, batch: pd.DataFrame) -> None:
        config = self.config
        self.rows += len(batch)
        if LATENCY_MS in batch.columns:
            self.has_latency = True
            self.latency.add(pd.to_numeric(batch[LATENCY_MS], errors="coerce").to_numpy(dtype=float))
        for column in config.features.all:
            if column in batch.columns:
                self.present[column] = True
                self.missing[column] += int(batch[column].isna().sum())
        if config.task is TaskType.BINARY and SCORE in batch.columns:
            self.has_score = True
            score = pd.to_numeric(batch[SCORE], errors="coerce")
            self.low_confidence += int(((score - 0.5).abs() < config.quality.low_confidence_band).sum())
            self.score_sum += float(score.sum())
            self.score_count += int(score.notna().sum())
        if PREDICTION in batch.columns:
            self.has_prediction = True
            if config.task is TaskType.REGRESSION:
                prediction = pd.to_numeric(batch[PREDICTION], errors="coerce")
                self.prediction_sum += float(prediction.sum())
                self.prediction_count += int(prediction.notna().sum())
            else:
                self.prediction_counts.update({str(k): int(v) for k, v in
                                               category_keys(batch[PREDICTION]).value_counts().items()})

    def metrics(self, expected_rows: int | None,
                reference: pd.DataFrame | None = None) -> list[tuple[str, str, float | None, str]]:
        """(metric, column, value, detail) rows for the history; values are None when undefined."""
        config, n = self.config, self.rows
        rows: list[tuple[str, str, float | None, str]] = [("ops.rows", "", float(n), "")]
        if expected_rows:
            rows.append(("ops.volume_ratio", "", n / expected_rows, f"expected {expected_rows} rows per window"))
        if self.has_latency and n:
            for q in QUANTILES:
                rows.append((f"ops.latency_p{q}_ms", "", self.latency.quantile(q), ""))
        for column in config.features.all:
            if self.present.get(column) or (column in self.present):
                rows.append(("ops.missing_share", column, self.missing[column] / n if n else None, ""))
            else:
                rows.append(("ops.missing_share", column, 1.0, "column absent from the log"))
        if self.has_score and n:
            band = config.quality.low_confidence_band
            rows.append(("ops.low_confidence_share", "", self.low_confidence / n, f"|score - 0.5| < {band}"))
            rows.append(("ops.score_mean", "", self.score_sum / self.score_count if self.score_count else float("nan"), ""))
            if reference is not None and SCORE in reference.columns:
                rows.append(("ops.score_mean_reference", "", float(reference[SCORE].mean()), ""))
        if self.has_prediction and n:
            if config.task is TaskType.REGRESSION:
                mean = self.prediction_sum / self.prediction_count if self.prediction_count else float("nan")
                rows.append(("ops.prediction_mean", "", mean, ""))
            else:
                total = sum(self.prediction_counts.values())
                for label in sorted(self.prediction_counts):
                    rows.append(("ops.prediction_share", label, self.prediction_counts[label] / total, ""))
        return rows


def operational_metrics(
    config: ModelConfig, window: pd.DataFrame, expected_rows: int | None, reference: pd.DataFrame | None = None
) -> list[tuple[str, str, float | None, str]]:
    """(metric, column, value, detail) rows of an in-memory window (one batch)."""
    accumulator = OperationsAccumulator(config)
    accumulator.add(window)
    if window.empty:
        accumulator.present = {c: True for c in config.features.all if c in window.columns}
        accumulator.has_latency = LATENCY_MS in window.columns
    return accumulator.metrics(expected_rows, reference)

