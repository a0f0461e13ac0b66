"""Reference profiles: what a feature looked like when the model was trained.

A profile is computed once, at training time, from the reference sample and stored with the model
version (``baseline/profile.json``), so monitoring compares each window to it without rescanning
the reference. Numeric columns get bin edges with **open outer bins** (values below the reference
minimum or above its maximum are counted, never dropped), a missing-value count, summary
statistics and 101 quantiles (fine enough for a KS-type statistic). Categorical columns get their
frequencies and a missing count; categories unseen at training time are counted by monitoring in
an "unseen" bucket.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)


def numeric_bin_edges(values: np.ndarray, n_bins: int) -> list[float]:
    """Interior cut points strictly inside (min, max) at reference quantiles, deduplicated.

    A constant column has none: its bins are then "below", "equal to the constant", "above".
    """
    if values.size == 0:
        return []
    low, high = float(values.min()), float(values.max())
    quantiles = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    return sorted({float(q) for q in quantiles if low < q < high})


def assign_numeric_bins(values: np.ndarray, low: float, high: float, edges: list[float]) -> np.ndarray:
    """Bin index per value: 0 = below the reference range, last = above it, interior between.

    Interior bins are ``[low, e1), [e1, e2), ..., [ek, high]``. NaNs must be removed first.
    """
    inner = np.searchsorted(np.asarray(edges, dtype=float), values, side="right") + 1
    inner = np.where(values < low, 0, inner)
    return np.where(values > high, len(edges) + 2, inner)


def numeric_profile(series: pd.Series, n_bins: int = 10) -> dict[str, Any]:
    raw = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    missing = int(np.isnan(raw).sum())
    values = raw[~np.isnan(raw)]
    if values.size == 0:
        return {"kind": "numeric", "count": 0, "missing": missing, "edges": [], "low": None,
                "high": None, "bin_counts": [], "summary": {}, "quantiles": []}
    low, high = float(values.min()), float(values.max())
    edges = numeric_bin_edges(values, n_bins)
    bins = assign_numeric_bins(values, low, high, edges)
    counts = np.bincount(bins, minlength=len(edges) + 3)
    summary = {
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "min": low,
        "max": high,
        "p05": float(np.quantile(values, 0.05)),
        "p50": float(np.quantile(values, 0.5)),
        "p95": float(np.quantile(values, 0.95)),
    }
    return {
        "kind": "numeric",
        "count": int(values.size),
        "missing": missing,
        "low": low,
        "high": high,
        "edges": edges,
        "bin_counts": [int(c) for c in counts],
        "summary": summary,
        "quantiles": [float(q) for q in np.quantile(values, QUANTILE_LEVELS)],
    }


def categorical_profile(series: pd.Series) -> dict[str, Any]:
    missing = int(series.isna().sum())
    counts = series.dropna().astype(str).value_counts()
    return {
        "kind": "categorical",
        "count": int(counts.sum()),
        "missing": missing,
        "frequencies": {str(k): int(v) for k, v in counts.sort_index().items()},
    }


def build_profile(
    frame: pd.DataFrame,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    prediction_numeric: tuple[str, ...] = (),
    prediction_categorical: tuple[str, ...] = (),
    n_bins: int = 10,
) -> dict[str, Any]:
    """Profile of every feature plus the serving-time prediction distribution of ``frame``."""
    columns: dict[str, Any] = {}
    for column in numeric:
        columns[column] = numeric_profile(frame[column], n_bins)
    for column in categorical:
        columns[column] = categorical_profile(frame[column])
    predictions: dict[str, Any] = {}
    for column in prediction_numeric:
        predictions[column] = numeric_profile(frame[column], n_bins)
    for column in prediction_categorical:
        predictions[column] = categorical_profile(frame[column])
    return {
        "profile_version": PROFILE_VERSION,
        "rows": len(frame),
        "n_bins": n_bins,
        "columns": columns,
        "predictions": predictions,
    }
