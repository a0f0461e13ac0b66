"""Operational metrics accumulate batch by batch: exact on small windows, bounded on large ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftpilot.domain.categories import category_keys
from driftpilot.domain.config import ModelConfig, TaskType, load_config
from driftpilot.domain.contracts import LATENCY_MS, PREDICTION, SCORE
from driftpilot.domain.operations import (
    EXACT_LATENCY_LIMIT,
    LatencyQuantiles,
    OperationsAccumulator,
    operational_metrics,
)
from driftpilot.settings import INCLUDE_DIR


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return load_config(INCLUDE_DIR / "config" / "elec2.yaml")


def _before(config: ModelConfig, window: pd.DataFrame, expected_rows: int | None,
            reference: pd.DataFrame | None) -> list[tuple[str, str, float | None, str]]:
    """The whole-frame implementation this module replaced (the oracle for small windows)."""
    rows: list[tuple[str, str, float | None, str]] = []
    n = len(window)
    rows.append(("ops.rows", "", float(n), ""))
    if expected_rows:
        rows.append(("ops.volume_ratio", "", n / expected_rows, f"expected {expected_rows} rows per window"))
    if LATENCY_MS in window.columns and n:
        latency = pd.to_numeric(window[LATENCY_MS], errors="coerce").dropna().to_numpy()
        for q in (50, 95, 99):
            rows.append((f"ops.latency_p{q}_ms", "", float(np.percentile(latency, q)) if latency.size else None, ""))
    for column in config.features.all:
        if column in window.columns:
            rows.append(("ops.missing_share", column, float(window[column].isna().mean()) if n else None, ""))
        else:
            rows.append(("ops.missing_share", column, 1.0, "column absent from the log"))
    if config.task is TaskType.BINARY and SCORE in window.columns and n:
        score = pd.to_numeric(window[SCORE], errors="coerce")
        band = config.quality.low_confidence_band
        rows.append(("ops.low_confidence_share", "", float(((score - 0.5).abs() < band).mean()), f"|score - 0.5| < {band}"))
        rows.append(("ops.score_mean", "", float(score.mean()), ""))
        if reference is not None and SCORE in reference.columns:
            rows.append(("ops.score_mean_reference", "", float(reference[SCORE].mean()), ""))
    if PREDICTION in window.columns and n:
        shares = category_keys(window[PREDICTION]).value_counts(normalize=True)
        for label, share in shares.sort_index().items():
            rows.append(("ops.prediction_share", str(label), float(share), ""))
    return rows


def _window(config: ModelConfig, n: int = 336) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.normal(size=n) for c in config.features.numeric})
    for c in config.features.categorical:
        frame[c] = rng.integers(1, 8, n).astype(str)
    frame.loc[frame.index[::7], config.features.numeric[0]] = np.nan
    frame[SCORE] = rng.uniform(0, 1, n)
    frame.loc[3, SCORE] = np.nan
    frame[PREDICTION] = (frame[SCORE] > 0.5).astype(int)
    frame[LATENCY_MS] = rng.lognormal(3, 0.4, n)
    return frame.drop(columns=[config.features.all[-1]])  # one feature absent from the log


def test_one_batch_is_exactly_the_whole_frame_figures(config: ModelConfig) -> None:
    window = _window(config)
    reference = pd.DataFrame({SCORE: [0.2, 0.4]})
    assert operational_metrics(config, window, 300, reference) == _before(config, window, 300, reference)
    empty = window.iloc[0:0]
    assert operational_metrics(config, empty, None) == _before(config, empty, None, None)


def test_batches_give_the_same_figures(config: ModelConfig) -> None:
    window = _window(config, 5_000)
    accumulator = OperationsAccumulator(config)
    for part in np.array_split(window, 9):
        accumulator.add(part)
    streamed = accumulator.metrics(4_000)
    whole = _before(config, window, 4_000, None)
    assert [(m, c, d) for m, c, _, d in streamed] == [(m, c, d) for m, c, _, d in whole]
    assert [v for *_, v, _ in streamed] == pytest.approx([v for *_, v, _ in whole], rel=1e-12)


def test_latency_quantiles_switch_to_a_bounded_histogram() -> None:
    rng = np.random.default_rng(2)
    values = rng.lognormal(3.0, 0.6, EXACT_LATENCY_LIMIT + 200_000)
    quantiles = LatencyQuantiles()
    for part in np.array_split(values, 12):
        quantiles.add(part)
    assert quantiles.histogram is not None and not quantiles.values  # memory no longer grows with rows
    for q in (50, 95, 99):
        assert quantiles.quantile(q) == pytest.approx(float(np.percentile(values, q)), rel=2e-3)
    small = LatencyQuantiles()
    small.add(values[:1000])
    merged = small.merge(LatencyQuantiles())
    assert merged.quantile(95) == float(np.percentile(values[:1000], 95))
