"""Operational metrics of a window, straight from the inference log (no labels needed).

Volume against what the baseline expects, latency percentiles, the share of low-confidence
predictions, missing-value rates per feature and the prediction distribution. These catch the
incidents drift statistics are slow to show: a dead upstream (volume), a slow model server
(latency), a model that stopped being sure of itself (confidence).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import category_keys
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import LATENCY_MS, PREDICTION, SCORE


def operational_metrics(
    config: ModelConfig, window: pd.DataFrame, expected_rows: int | None, reference: pd.DataFrame | None = None
) -> list[tuple[str, str, float | None, str]]:
    """(metric, column, value, detail) rows for the history; values are None when undefined."""
    rows: list[tuple[str, str, float | None, str]] = []
    n = len(window)
    rows.append(("ops.rows", "", float(n), ""))
    if expected_rows:
        rows.append(("ops.volume_ratio", "", n / expected_rows, f"expected {expected_rows} rows per window"))
    if LATENCY_MS in window.columns and n:
        latency = pd.to_numeric(window[LATENCY_MS], errors="coerce").dropna().to_numpy()
        for q in (50, 95, 99):
            value = float(np.percentile(latency, q)) if latency.size else None
            rows.append((f"ops.latency_p{q}_ms", "", value, ""))
    for column in config.features.all:
        if column in window.columns:
            share = float(window[column].isna().mean()) if n else None
            rows.append(("ops.missing_share", column, share, ""))
        else:
            rows.append(("ops.missing_share", column, 1.0, "column absent from the log"))
    if config.task is TaskType.BINARY and SCORE in window.columns and n:
        score = pd.to_numeric(window[SCORE], errors="coerce")
        band = config.quality.low_confidence_band
        rows.append(("ops.low_confidence_share", "", float(((score - 0.5).abs() < band).mean()),
                     f"|score - 0.5| < {band}"))
        rows.append(("ops.score_mean", "", float(score.mean()), ""))
        if reference is not None and SCORE in reference.columns:
            rows.append(("ops.score_mean_reference", "", float(reference[SCORE].mean()), ""))
    if PREDICTION in window.columns and n:
        if config.task is TaskType.REGRESSION:
            rows.append(("ops.prediction_mean", "", float(pd.to_numeric(window[PREDICTION], errors="coerce").mean()), ""))
        else:
            shares = category_keys(window[PREDICTION]).value_counts(normalize=True)
            for label, share in shares.sort_index().items():
                rows.append(("ops.prediction_share", str(label), float(share), ""))
    return rows


def summarize(rows: list[tuple[str, str, float | None, str]]) -> dict[str, Any]:
    """A small dict of the headline figures, for logs and the demo table."""
    out: dict[str, Any] = {}
    for metric, column, value, _ in rows:
        if not column:
            out[metric.removeprefix("ops.")] = value
    return out
