"""Reference profiles: what a feature looked like when the model was trained.

A profile is computed once, at training time, from the reference sample and stored with the model
version (``baseline/profile.json``), so monitoring compares each window to it without rescanning
the reference. Numeric columns get bin edges with **open outer bins** (values below the reference
minimum or above its maximum are counted, never dropped), a missing-value count, summary
statistics, 101 quantiles and a **fine grid** (below). Categorical columns get their frequencies
and a missing count; categories unseen at training time are counted by monitoring in an "unseen"
bucket.

The fine grid (``grid``) is what makes driftpilot's KS and Wasserstein statistics trustworthy
without keeping the reference sample: up to ``GRID_SIZE`` edges (every distinct reference value
when there are at most that many, else reference quantiles) plus the coarse bin edges and the
reference min/max. Its cells alternate open intervals and single points::

    cell 0 = (-inf, g0), cell 1 = {g0}, cell 2 = (g0, g1), ..., cell 2k = (g_{k-1}, +inf)

so a value's cell is ``searchsorted(g, v, "left") + searchsorted(g, v, "right")``. Counts and value
sums per cell are stored for the reference and accumulated for each window
(``driftpilot.drift_stats``). When ``grid["exact"]`` is true the reference has no mass inside open
cells, so the KS statistic computed from cell counts equals the two-sample KS exactly; otherwise
it is a lower bound off by at most the largest reference cell mass (about ``1 / GRID_SIZE``).
The coarse histogram (``edges``/``bin_counts``) is a sum of grid cells because its edges are grid
edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import key_counts, legacy_profile_keys

# 2: numeric columns carry a fine ``grid`` for KS / Wasserstein; 3: categorical frequencies are
# keyed by ``categories.category_key`` (earlier profiles are re-keyed by ``canonical_profile``)
PROFILE_VERSION = 3
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)
GRID_SIZE = 1000  # max quantile edges of the fine grid (plus coarse edges, min and max)


def grid_edges(values: np.ndarray, coarse_edges: list[float], size: int = GRID_SIZE) -> tuple[np.ndarray, bool]:
    """Sorted fine-grid edges of non-missing ``values`` and whether they hold every distinct value.

    Always contains the minimum, the maximum and ``coarse_edges``, so the coarse histogram is a
    sum of grid cells and the outer open cells hold no reference mass.
    """
    if values.size == 0:
        return np.empty(0), True
    distinct = np.unique(values)
    exact = distinct.size <= size
    base = distinct if exact else np.quantile(values, np.linspace(0.0, 1.0, size))
    edges = np.unique(np.concatenate([base, np.asarray(coarse_edges, dtype=float), distinct[[0, -1]]]))
    return edges, exact


def grid_counts(sorted_values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts and value sums of already-sorted, NaN-free values in the ``2 * len(edges) + 1`` cells.

    Sorting once and locating the edges in the sorted values costs one sort per batch instead of
    two binary searches per value; the sums come from one cumulative sum.
    """
    left = np.searchsorted(sorted_values, edges, side="left")
    right = np.searchsorted(sorted_values, edges, side="right")
    bounds = np.empty(2 * edges.size + 2, dtype=np.int64)
    bounds[0] = 0
    bounds[1:-1:2] = left
    bounds[2:-1:2] = right
    bounds[-1] = sorted_values.size
    counts = np.diff(bounds)
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_values, dtype=float)])
    sums = np.diff(cumulative[bounds])
    return counts, sums


def cell_to_coarse_bin(grid: np.ndarray, coarse_edges: list[float]) -> np.ndarray:
    """For each grid cell, the index of the coarse bin (``assign_numeric_bins``) it belongs to.

    Point cell ``{g_i}`` maps to ``1 + #(coarse edges <= g_i)``; open cell ``(g_{i-1}, g_i)`` to the
    bin of ``g_{i-1}``; the outer cells to "below" (0) and "above" (last).
    """
    k = grid.size
    if k == 0:
        return np.zeros(1, dtype=np.int64)
    at_point = 1 + np.searchsorted(np.asarray(coarse_edges, dtype=float), grid, side="right")
    mapping = np.empty(2 * k + 1, dtype=np.int64)
    mapping[0] = 0
    mapping[1::2] = at_point
    mapping[2:-1:2] = at_point[:-1]
    mapping[-1] = len(coarse_edges) + 2
    return mapping


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
    finite = np.isfinite(raw)  # +-inf counts as missing, like NaN: it has no place on a grid
    missing = int((~finite).sum())
    values = raw[finite]
    if values.size == 0:
        return {"kind": "numeric", "count": 0, "missing": missing, "edges": [], "low": None,
                "high": None, "bin_counts": [], "summary": {}, "quantiles": [],
                "grid": {"edges": [], "counts": [0], "sums": [0.0], "exact": True}}
    low, high = float(values.min()), float(values.max())
    edges = numeric_bin_edges(values, n_bins)
    bins = assign_numeric_bins(values, low, high, edges)
    counts = np.bincount(bins, minlength=len(edges) + 3)
    fine, exact = grid_edges(values, edges)
    fine_counts, fine_sums = grid_counts(np.sort(values), fine)
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
        "grid": {
            "edges": [float(e) for e in fine],
            "counts": [int(c) for c in fine_counts],
            "sums": [float(v) for v in fine_sums],
            "exact": bool(exact),
        },
    }


def categorical_profile(series: pd.Series, seen: pd.Series | None = None) -> dict[str, Any]:
    """Frequencies by canonical key: ``1``, ``1.0`` and ``np.int64(1)`` are one category.

    ``seen``: the column as the model saw it (training and holdout rows). Its categories, with
    the reference's, are stored as ``known``: what validation accepts. The reference sample is a
    bounded, recent part of the holdout, so a category the model learned may be absent from it
    (a season, a rare code); such rows are valid data, and only the drift statistics, which
    compare with the reference's frequencies, should notice them.
    """
    frequencies = key_counts(series)
    entry: dict[str, Any] = {
        "kind": "categorical",
        "count": int(sum(frequencies.values())),
        "missing": int(len(series) - sum(frequencies.values())),
        "frequencies": frequencies,
    }
    if seen is not None:
        entry["known"] = sorted({*frequencies, *key_counts(seen)})
    return entry


def canonical_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    """``profile`` with categorical frequencies keyed canonically, whatever version wrote it.

    Profiles before version 3 keyed categories as ``str(value)`` (``'1.0'`` for an integer code
    in a column with a missing value); monitoring a window against them would call every value
    unseen. They are re-keyed here, once, when a baseline is loaded.
    """
    if int(profile.get("profile_version", 0)) >= PROFILE_VERSION:
        return dict(profile)
    out = dict(profile)
    for section in ("columns", "predictions"):
        entries = dict(profile.get(section, {}))
        for name, entry in entries.items():
            if isinstance(entry, Mapping) and entry.get("kind") == "categorical":
                entries[name] = {**entry, "frequencies": legacy_profile_keys(entry.get("frequencies", {}))}
        out[section] = entries
    out["profile_version"] = PROFILE_VERSION
    return out


def build_profile(
    frame: pd.DataFrame,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    prediction_numeric: tuple[str, ...] = (),
    prediction_categorical: tuple[str, ...] = (),
    n_bins: int = 10,
    seen: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Profile of every feature plus the serving-time prediction distribution of ``frame``.

    ``seen``: the rows the model was trained and evaluated on, when known; their categories are
    the ones validation accepts (``categorical_profile``).
    """
    columns: dict[str, Any] = {}
    for column in numeric:
        columns[column] = numeric_profile(frame[column], n_bins)
    for column in categorical:
        seen_column = seen[column] if seen is not None and column in seen.columns else None
        columns[column] = categorical_profile(frame[column], seen_column)
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
