"""Drift scores and sample-size-aware drift decisions, from a reference profile and window stats.

Why not a fixed threshold on a distance (``PSI > 0.2``, ``Wasserstein > 0.1``)? Every distance
computed from samples is biased upwards by noise, by an amount that shrinks with the sample
sizes: on a 200-row window a fixed threshold fires on identical distributions, on a 1M-row window
it may be too lax or flag shifts nobody cares about. driftpilot therefore decides per column with
two questions, both answered from the statistics alone (no raw rows, see ``driftpilot.drift_stats``):

1. **Is the change real?** Tests whose null distribution is known at the actual window size
   ``n`` and reference size ``m``:

   * numeric columns: three tests, each at a third of the column's level (Bonferroni): the
     two-sample Kolmogorov–Smirnov test on the fine grid; a chi-square test of present/missing;
     and an **out-of-range test** of the count ``k`` of window values below the reference minimum
     or above its maximum (the open outer bins). KS is nearly blind to a new tail: 5 % of the
     values just beyond the maximum move the CDF by 0.05, which 200 rows cannot tell from noise.
     The out-of-range test is exact and distribution-free: when window and reference rows are
     exchangeable, ``P(K >= k) = (k C(N-k-1, m-1) + C(N-k, m)) / C(N, m)`` with ``N = m + n``
     (``K`` is beta-binomial(n, 2, m - 1), see ``range_p_value``; conservative with ties). It is
     not a binomial at the one-draw rate ``2 / (m + 1)``: all window values share one random
     reference range, and that binomial rejects far above its level on large windows;
   * categorical columns: a chi-square test of homogeneity on categories + "unseen" + "missing".
     When an expected cell count is below 5 the p-value is simulated instead (multinomial draws
     from the reference proportions at sizes ``n`` and ``m``, seeded and cached per
     ``(n, reference counts)``). Both p-values only screen: the simulated one cannot go below
     ``1 / (samples + 1)``, above the level of a table wider than 100 columns, and takes the
     reference proportions for the truth; the asymptotic one is too small in the far tail when
     expected counts are 5-10. When the screen is significant (or cannot decide), an exact Monte
     Carlo permutation test of ``mc_resolution / level`` draws decides, unless an asymptotic
     p-value is below ``level / 1000`` (see ``chi_square_test``).

   The per-column level is ``family_alpha / number of columns`` (Bonferroni), so a stable window
   raises any alarm with probability at most ``family_alpha`` (1 % by default) whatever its size
   or width. The guarantee is over draws of reference and window; for one fixed reference the
   rate can differ a little (the bench measures it).
2. **Is it big enough to matter?** An effect-size floor per test: the KS / missing-rate tests
   need KS >= 0.05, or a Wasserstein distance >= 0.1 reference standard deviations, or a
   missing-rate change >= 0.02; the out-of-range test needs an **excess out-of-range share**
   ``k / n - 2 / (m + 1)`` >= 0.02 (the share beyond what chance puts outside the range of ``m``
   draws; the numeric counterpart of the unseen-category floor); categorical columns need a
   total-variation distance >= 0.05 or an unseen-category share >= 0.02. A 0.02-sigma shift on a
   million rows is real but is not drift anyone should act on.

A column drifts when one test answers yes to both: it is significant and its own floor is met
(``ColumnDrift.p_value`` is the smallest Bonferroni-adjusted p-value of the column). Its
**severity** grows with the effect ``e = max(KS, |missing-rate change|, min(1, W_norm / 2.5),
excess out-of-range share)`` (numeric; ``W_norm / 2.5`` is the KS a normal location shift of that
size would give) or ``e = TVD`` (categorical): low below 0.1, medium below 0.2, high from 0.2.

PSI, Jensen–Shannon (base 2, a distance in [0, 1]) and the raw / normalised Wasserstein distance
are reported for people used to them; PSI comes with its noise floor ``(B - 1)(1/n + 1/m)``, the
value two samples of one distribution reach on average. They do not decide.

Degenerate inputs have defined results, never NaN or a silent 0:

* empty window: status ``no_data``, not counted in the drift share (which is ``None`` when no
  column could be evaluated, and so is the health score);
* reference column with no rows (empty reference): status ``no_reference``, not counted either;
* constant reference column (Elec2's Victoria columns): its grid has one point, so every window
  value off the constant is out of range. The rule is the out-of-range test's: with ``k`` of the
  ``n`` present window values off the constant, the column drifts when
  ``range_p_value(k, n, m) < level / 3`` and ``k / n - 2 / (m + 1) >= 0.02`` (or when the KS /
  missing-rate tests fire). With a 5,000-row reference and 200 rows that is from 5 values off
  (2.5 %: the floor decides, in any table of up to 7,000 columns); one value off is never
  enough (its p-value is about ``2n / (m + n)``, 0.075 here). Wasserstein is normalised by the
  pooled standard deviation when the reference one is 0;
* all values missing on one side: KS and Wasserstein are ``None`` (no values to compare) and the
  decision rests on the missing-rate test, which sees a 100 % missing window as high drift;
* single reference category: the chi-square test runs on category / unseen / missing.

The dataset verdict (``DatasetDrift``): the drift share is drifted features / evaluated features
(predictions are reported apart and not counted); ``dataset_drift`` is share >= ``drift_share``.
Drifted columns are ranked by importance x effect. The **health score** is
``round(100 * (1 - sum(w_i * s_i) / sum(w_i)))`` over evaluated features with importance weights
``w_i`` and severity weights ``s_i`` (none 0, low 0.25, medium 0.5, high 1): 100 means no feature
drifted, 0 means every feature drifted with high severity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from driftpilot.domain.drift_stats import CategoricalStats, NumericStats, WindowStats
from driftpilot.domain.profile import cell_to_coarse_bin

PSEUDO_COUNT = 0.5  # added to every cell for PSI only (Jeffreys prior), so empty cells stay finite


class Severity(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


SEVERITY_WEIGHT = {Severity.NONE: 0.0, Severity.LOW: 0.25, Severity.MEDIUM: 0.5, Severity.HIGH: 1.0}


class ColumnStatus(StrEnum):
    STABLE = "stable"  # evaluated, no drift
    DRIFT = "drift"
    NO_DATA = "no_data"  # the window has no rows for this column
    NO_REFERENCE = "no_reference"  # the reference has no rows for this column


class DatasetStatus(StrEnum):
    NO_DATA = "no_data"  # no feature could be evaluated
    STABLE = "stable"  # no feature drifted
    COLUMN_DRIFT = "column_drift"  # some features drifted, share below the dataset threshold
    DATASET_DRIFT = "dataset_drift"  # drift share at or above the threshold


@dataclass(frozen=True)
class DriftThresholds:
    """The drift policy; defaults are the documented ones (see the module docstring)."""

    family_alpha: float = 0.01  # chance that a stable window raises any column alarm
    ks_floor: float = 0.05
    wasserstein_floor: float = 0.1  # in reference standard deviations
    missing_floor: float = 0.02  # absolute change of the missing rate
    tvd_floor: float = 0.05
    unseen_floor: float = 0.02  # share of window rows with a category unseen in the reference
    range_floor: float = 0.02  # excess share of window values outside the reference [min, max]
    drift_share: float = 0.3  # dataset drift when at least this share of features drifted
    medium_effect: float = 0.1
    high_effect: float = 0.2
    mc_samples: int = 10_000  # simulations for a chi-square p-value with small expected counts
    mc_resolution: float = 10.0  # the exact permutation stage reaches p = alpha / mc_resolution
    seed: int = 0


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift verdict and the statistics behind it (``None`` = not computable)."""

    column: str
    kind: str  # "numeric" | "categorical"
    status: ColumnStatus
    drifted: bool
    severity: Severity
    reason: str  # one sentence saying why, for alerts and reports
    window_rows: int
    reference_rows: int
    p_value: float | None = None
    alpha: float | None = None
    effect: float | None = None
    ks: float | None = None
    wasserstein: float | None = None
    wasserstein_norm: float | None = None
    exact: bool | None = None  # KS and Wasserstein equal the two-sample values on raw data
    psi: float | None = None
    psi_noise_floor: float | None = None
    jensen_shannon: float | None = None
    chi_square: float | None = None
    tvd: float | None = None
    missing_rate_reference: float | None = None
    missing_rate_window: float | None = None
    unseen_share: float | None = None
    out_of_range_share: float | None = None  # window values below the reference min or above its max
    out_of_range_p_value: float | None = None  # the out-of-range test, before the column's Bonferroni
    summary: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        out["severity"] = self.severity.value
        out["summary"] = dict(self.summary)
        return out


@dataclass(frozen=True)
class DatasetDrift:
    """The window's verdict over all features, plus prediction drift reported apart."""

    status: DatasetStatus
    dataset_drift: bool
    alarm: bool  # at least one feature drifted
    rows: int
    reference_rows: int
    evaluated: int  # features with data on both sides (the drift share's denominator)
    drifted: int
    drift_share: float | None
    weighted_drift_share: float | None  # importance-weighted
    health_score: int | None
    ranking: tuple[str, ...]  # drifted features, most important x largest effect first
    alpha_per_column: float
    columns: tuple[ColumnDrift, ...]
    predictions: tuple[ColumnDrift, ...] = ()
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    def column(self, name: str) -> ColumnDrift:
        for item in (*self.columns, *self.predictions):
            if item.column == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "dataset_drift": self.dataset_drift,
            "alarm": self.alarm,
            "rows": self.rows,
            "reference_rows": self.reference_rows,
            "evaluated": self.evaluated,
            "drifted": self.drifted,
            "drift_share": self.drift_share,
            "weighted_drift_share": self.weighted_drift_share,
            "health_score": self.health_score,
            "ranking": list(self.ranking),
            "alpha_per_column": self.alpha_per_column,
            "thresholds": asdict(self.thresholds),
            "columns": [c.to_dict() for c in self.columns],
            "predictions": [c.to_dict() for c in self.predictions],
        }


# --- distances ----------------------------------------------------------------------------------


def psi(reference: np.ndarray, window: np.ndarray) -> float:
    """Population stability index of two count vectors, with a 0.5 pseudo-count per cell."""
    p = (reference + PSEUDO_COUNT) / (reference.sum() + PSEUDO_COUNT * reference.size)
    q = (window + PSEUDO_COUNT) / (window.sum() + PSEUDO_COUNT * window.size)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(reference: np.ndarray, window: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) of two count vectors with positive totals."""
    p = reference / reference.sum()
    q = window / window.sum()
    mid = (p + q) / 2
    div = 0.5 * (_kl(p, mid) + _kl(q, mid))
    return float(math.sqrt(max(div, 0.0)))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def tvd(reference: np.ndarray, window: np.ndarray) -> float:
    """Total-variation distance of two count vectors with positive totals."""
    return float(0.5 * np.abs(reference / reference.sum() - window / window.sum()).sum())


def ks_statistic(reference_cells: np.ndarray, window_cells: np.ndarray) -> float:
    """Largest gap between the two empirical CDFs, read at every grid-cell boundary."""
    ref = np.cumsum(reference_cells) / reference_cells.sum()
    win = np.cumsum(window_cells) / window_cells.sum()
    return float(np.max(np.abs(ref - win)))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value with Stephens' small-sample correction.

    Conservative with ties and on a binned grid (both make the statistic smaller).
    """
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * statistic
    return float(min(1.0, max(0.0, special.kolmogorov(lam))))


def wasserstein(
    reference_support: np.ndarray,
    reference_weights: np.ndarray,
    window_support: np.ndarray,
    window_weights: np.ndarray,
) -> float:
    """First Wasserstein distance of two weighted point sets (the area between their CDFs)."""
    keep_r = reference_weights > 0
    keep_w = window_weights > 0
    return float(stats.wasserstein_distance(reference_support[keep_r], window_support[keep_w],
                                            reference_weights[keep_r], window_weights[keep_w]))


# --- tests --------------------------------------------------------------------------------------


def _pearson(reference: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Pearson chi-square of 2 x K tables (rows of ``reference`` / ``window`` may be stacked)."""
    m = reference.sum(axis=-1, keepdims=True)
    n = window.sum(axis=-1, keepdims=True)
    pooled = (reference + window) / (m + n)
    exp_r, exp_w = m * pooled, n * pooled
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pooled > 0, (reference - exp_r) ** 2 / exp_r + (window - exp_w) ** 2 / exp_w, 0.0)
    return np.asarray(terms.sum(axis=-1))


@lru_cache(maxsize=256)
def _null_chi_square(n: int, reference_counts: tuple[int, ...], samples: int, seed: int) -> np.ndarray:
    """Sorted chi-square statistics of ``samples`` tables drawn from the reference proportions."""
    ref = np.asarray(reference_counts, dtype=np.int64)
    m = int(ref.sum())
    rng = np.random.default_rng([seed, n, m, len(ref)])
    probs = ref / m
    sim_r = rng.multinomial(m, probs, size=samples).astype(float)
    sim_w = rng.multinomial(n, probs, size=samples).astype(float)
    return np.sort(_pearson(sim_r, sim_w))


REFINE_BELOW = 10  # fewer simulated statistics at or above the observed one: the screen cannot decide
REFINE_CHUNK = 20_000  # permutations per chunk of the exact stage (bounds its memory)
CLEAR_FACTOR = 1e-3  # an asymptotic p-value below alpha * this needs no exact confirmation


def _permutation_p_value(statistic: float, reference: np.ndarray, window: np.ndarray, samples: int,
                         alpha: float, seed: int) -> float:
    """Monte Carlo permutation p-value of the chi-square statistic, stopping once it is >= ``alpha``.

    Draws which of the pooled rows are the window's (multivariate hypergeometric on the pooled
    counts): under exchangeability of reference and window rows every split is equally likely,
    so ``(1 + exceedances) / (1 + draws)`` is a valid p-value at any level, with no
    approximation of the unknown proportions. Draws the smaller side (cost per draw is the
    number of cells either way).
    """
    pooled = (reference + window).astype(np.int64)
    m, n = int(reference.sum()), int(window.sum())
    side = min(m, n)
    rng = np.random.default_rng([seed, n, m, len(pooled), 1])
    stop = alpha * (1 + samples) - 1  # from this many exceedances on, p >= alpha for sure
    exceed = done = 0
    while done < samples:
        size = min(REFINE_CHUNK, samples - done)
        drawn = rng.multivariate_hypergeometric(pooled, side, size=size, method="marginals").astype(float)
        other = pooled - drawn
        sim = _pearson(drawn, other) if side == m else _pearson(other, drawn)
        exceed += int((sim >= statistic - 1e-9).sum())
        done += size
        if exceed >= stop:
            break
    return (1 + exceed) / (1 + done)


def chi_square_test(reference: np.ndarray, window: np.ndarray, samples: int = 10_000,
                    seed: int = 0, alpha: float | None = None,
                    resolution: float = 10.0) -> tuple[float, float]:
    """Chi-square test of homogeneity of two count vectors: ``(statistic, p_value)``.

    Asymptotic when every expected count is at least 5; otherwise the p-value is simulated
    from the reference proportions at the actual sizes (seeded, cached per ``(n, reference
    counts)``; cells the reference never saw, like unseen categories, are impossible under that
    null).

    Both are only screens when the level ``alpha`` is given:

    * the simulated p-value is never below ``1 / (samples + 1)``, above the per-column level of a
      table wider than ``family_alpha * samples`` = 100 columns (such a column could never
      drift), and it takes the reference proportions for the truth, which is not exact far in
      the tail. If it is significant, or cannot decide (fewer than ``REFINE_BELOW``
      exceedances), the p-value comes from an exact Monte Carlo permutation test of
      ``max(samples, ceil(resolution / alpha))`` draws (``_permutation_p_value``), which can
      reach ``alpha / resolution`` and keeps the level: a rejection rests on it alone;
    * with expected counts of 5-10 the asymptotic p-value is too small in the far tail: measured
      on Zipf-like categoricals (5,000 vs 200 rows) it falls below 1e-3 ... 1e-5 about 1.4-2.4
      times as often as it should. One in ``[alpha * CLEAR_FACTOR, alpha)`` is replaced by the
      permutation p-value; one below ``alpha * 1e-3`` stands (an error of that order cannot
      bring it up to the level).

    The permutation stage stops early once its p-value is certainly >= ``alpha``. Stable
    columns almost never reach it; its cost falls on columns that really differ.
    """
    statistic = float(_pearson(reference.astype(float), window.astype(float)))
    m, n = int(reference.sum()), int(window.sum())
    pooled = (reference + window) / (m + n)
    used = pooled > 0
    if used.sum() <= 1:
        return statistic, 1.0
    smallest = float(min(m, n) * pooled[used].min())
    draws = max(samples, math.ceil(resolution / alpha)) if alpha is not None else samples
    if smallest >= 5:
        asymptotic = float(stats.chi2.sf(statistic, int(used.sum()) - 1))
        if alpha is not None and alpha * CLEAR_FACTOR <= asymptotic < alpha:
            return statistic, _permutation_p_value(statistic, reference, window, draws, alpha, seed)
        return statistic, asymptotic
    null = _null_chi_square(n, tuple(int(c) for c in reference), samples, seed)
    exceed = null.size - int(np.searchsorted(null, statistic - 1e-9, side="left"))
    screened = (1 + exceed) / (1 + null.size)
    if alpha is not None and (exceed < REFINE_BELOW or screened < alpha):
        return statistic, _permutation_p_value(statistic, reference, window, draws, alpha, seed)
    return statistic, screened


def _log_comb(n: int, k: int) -> float:
    return float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def range_p_value(outside: int, n: int, m: int) -> float:
    """P(at least ``outside`` of ``n`` window values fall outside the range of ``m`` reference
    values) when window and reference rows are exchangeable (the null of every drift test here).

    Distribution-free and exact for continuous values: the pooled ranks are a uniformly random
    arrangement, and exactly ``t`` window ranks lie outside the reference's extreme ranks in
    ``(t + 1) * C(m + n - t - 2, m - 2)`` of the ``C(m + n, m)`` arrangements. Summing over
    ``t >= k`` (hockey-stick identity) gives, with ``N = m + n``::

        P(K >= k) = (k * C(N - k - 1, m - 1) + C(N - k, m)) / C(N, m)

    i.e. ``K`` is beta-binomial(n, 2, m - 1): the mass outside the range of ``m`` draws is
    Beta(2, m - 1). With ties (discrete values) a value strictly outside is outside in any
    tie-breaking, so the p-value is conservative. A plain binomial at the one-draw rate
    ``2 / (m + 1)`` would be wrong: every window value shares the same random reference range,
    so the counts are overdispersed and such a test rejects far above its level on large windows.
    Fewer than 2 reference values give no range to test (p = 1).
    """
    if outside <= 0 or m < 2:
        return 1.0
    if outside > n:
        return 0.0
    total = m + n
    log_all = _log_comb(total, m)
    tail = math.exp(_log_comb(total - outside, m) - log_all)
    tail += outside * math.exp(_log_comb(total - outside - 1, m - 1) - log_all)
    return float(min(1.0, max(0.0, tail)))


# --- per-column decisions -----------------------------------------------------------------------


def _severity(effect: float, thresholds: DriftThresholds) -> Severity:
    if effect >= thresholds.high_effect:
        return Severity.HIGH
    if effect >= thresholds.medium_effect:
        return Severity.MEDIUM
    return Severity.LOW


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _empty_side(base: dict[str, Any], n_rows: int, m_rows: int) -> ColumnDrift | None:
    """The defined result when either side has no rows (not counted in the drift share)."""
    if n_rows == 0:
        return ColumnDrift(status=ColumnStatus.NO_DATA, drifted=False, severity=Severity.NONE,
                           reason="the window has no rows", **base)
    if m_rows == 0:
        return ColumnDrift(status=ColumnStatus.NO_REFERENCE, drifted=False, severity=Severity.NONE,
                           reason="the reference has no rows for this column", **base)
    return None


def numeric_drift(column: str, reference: Mapping[str, Any], window: NumericStats, alpha: float,
                  thresholds: DriftThresholds) -> ColumnDrift:
    """Drift verdict of one numeric column (see the module docstring for the rules)."""
    m_present, m_missing = int(reference["count"]), int(reference["missing"])
    m_rows, n_rows = m_present + m_missing, window.rows
    base: dict[str, Any] = {"column": column, "kind": "numeric", "window_rows": n_rows,
                            "reference_rows": m_rows, "summary": window.summary()}
    empty = _empty_side(base, n_rows, m_rows)
    if empty is not None:
        return empty
    grid = reference["grid"]
    edges = np.asarray(grid["edges"], dtype=float)
    ref_cells = np.asarray(grid["counts"], dtype=float)
    win_cells = window.cell_counts.astype(float)

    miss_ref, miss_win = m_missing / m_rows, window.missing / n_rows
    compared = bool(m_present and window.count)
    tests = 3 if compared else 1  # missing rate, KS, out of range: Bonferroni within the column
    _, p_missing = chi_square_test(np.array([m_present, m_missing]), np.array([window.count, window.missing]),
                                   thresholds.mc_samples, thresholds.seed, alpha / tests,
                                   thresholds.mc_resolution)
    coarse_map = cell_to_coarse_bin(edges, list(reference["edges"]))
    n_coarse = len(reference["edges"]) + 3 if edges.size else 1
    ref_hist = np.append(np.bincount(coarse_map, weights=ref_cells, minlength=n_coarse), m_missing)
    win_hist = np.append(np.bincount(coarse_map, weights=win_cells, minlength=n_coarse), window.missing)
    out: dict[str, Any] = {
        "psi": psi(ref_hist, win_hist),
        "psi_noise_floor": (int((ref_hist + win_hist > 0).sum()) - 1) * (1 / n_rows + 1 / m_rows),
        "jensen_shannon": js_distance(ref_hist, win_hist),
        "missing_rate_reference": miss_ref,
        "missing_rate_window": miss_win,
    }
    p_main = p_missing
    p_range, excess = 1.0, 0.0
    ks = w_norm = None
    if compared:
        ks = ks_statistic(ref_cells, win_cells)
        p_main = min(p_missing, ks_p_value(ks, window.count, m_present))
        # The outer grid cells are (-inf, reference min) and (reference max, +inf).
        outside = int(win_cells[0] + win_cells[-1])
        share = outside / window.count
        p_range = range_p_value(outside, window.count, m_present)
        excess = share - 2 / (m_present + 1)  # minus the share expected by chance (see range_p_value)
        exact = bool(grid["exact"]) and window.sample is not None
        points = np.asarray(ref_cells[1::2])
        if exact:
            assert window.sample is not None
            w = wasserstein(edges, points, window.sample, np.ones(window.sample.size))
        else:
            ref_sums = np.asarray(grid["sums"], dtype=float)
            w = wasserstein(_cell_means(ref_sums, ref_cells), ref_cells,
                            _cell_means(window.cell_sums, win_cells), win_cells)
        scale = _scale(reference, window)
        w_norm = w / scale if scale > 0 else 0.0
        out.update(ks=ks, wasserstein=w, wasserstein_norm=w_norm, exact=exact,
                   out_of_range_share=share, out_of_range_p_value=p_range)
    effect = max(ks or 0.0, abs(miss_win - miss_ref), min(1.0, (w_norm or 0.0) / 2.5), excess)
    relevant = ((ks or 0.0) >= thresholds.ks_floor or (w_norm or 0.0) >= thresholds.wasserstein_floor
                or abs(miss_win - miss_ref) >= thresholds.missing_floor)
    evidence = [(min(1.0, tests * p_main), relevant)]
    if compared:
        evidence.append((min(1.0, tests * p_range), excess >= thresholds.range_floor))
        detail = (f"KS {_fmt(ks or 0.0)}, W {_fmt(w_norm or 0.0)} sd, out of range "
                  f"{_fmt(out['out_of_range_share'])}, ")
    else:
        detail = "no values to compare, "
    detail += f"missing {_fmt(miss_ref)} -> {_fmt(miss_win)}"
    return _decide(base, out, evidence, alpha, effect, detail, thresholds)


def _cell_means(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), 0.0)


def _scale(reference: Mapping[str, Any], window: NumericStats) -> float:
    """Reference standard deviation, or the pooled one when the reference is constant."""
    summary = reference.get("summary", {})
    constant = reference.get("low") == reference.get("high")  # float noise can make std ~1e-18
    ref_std = 0.0 if constant else float(summary.get("std", 0.0) or 0.0)
    if ref_std > 0:
        return ref_std
    m, n = int(reference["count"]), window.count
    ref_mean = float(summary.get("mean", 0.0))
    delta = window.mean - ref_mean
    m2 = ref_std**2 * max(m - 1, 0) + window.m2 + delta * delta * m * n / (m + n)
    return math.sqrt(m2 / (m + n - 1)) if m + n > 1 else 0.0


def categorical_drift(column: str, reference: Mapping[str, Any], window: CategoricalStats, alpha: float,
                      thresholds: DriftThresholds) -> ColumnDrift:
    """Drift verdict of one categorical column over categories + unseen + missing."""
    freqs = reference.get("frequencies", {})
    ref_counts = np.array([*[int(freqs[c]) for c in window.categories], 0, int(reference["missing"])], dtype=float)
    win_counts = np.array([*window.counts.tolist(), window.unseen, window.missing], dtype=float)
    m_rows, n_rows = int(ref_counts.sum()), window.rows
    base: dict[str, Any] = {"column": column, "kind": "categorical", "window_rows": n_rows,
                            "reference_rows": m_rows, "summary": window.summary()}
    empty = _empty_side(base, n_rows, m_rows)
    if empty is not None:
        return empty
    chi, p_value = chi_square_test(ref_counts, win_counts, thresholds.mc_samples, thresholds.seed, alpha,
                                   thresholds.mc_resolution)
    distance = tvd(ref_counts, win_counts)
    miss_ref, miss_win = ref_counts[-1] / m_rows, win_counts[-1] / n_rows
    unseen = window.unseen / n_rows
    out = {
        "psi": psi(ref_counts, win_counts),
        "psi_noise_floor": (int((ref_counts + win_counts > 0).sum()) - 1) * (1 / n_rows + 1 / m_rows),
        "jensen_shannon": js_distance(ref_counts, win_counts),
        "chi_square": chi,
        "tvd": distance,
        "missing_rate_reference": float(miss_ref),
        "missing_rate_window": float(miss_win),
        "unseen_share": unseen,
    }
    relevant = distance >= thresholds.tvd_floor or unseen >= thresholds.unseen_floor
    detail = f"TVD {_fmt(distance)}, unseen {_fmt(unseen)}, missing {_fmt(miss_ref)} -> {_fmt(miss_win)}"
    return _decide(base, out, [(p_value, relevant)], alpha, distance, detail, thresholds)


def _decide(base: dict[str, Any], out: dict[str, Any], evidence: list[tuple[float, bool]], alpha: float,
            effect: float, detail: str, thresholds: DriftThresholds) -> ColumnDrift:
    """Verdict from ``(Bonferroni-adjusted p-value, effect above that test's floor)`` pairs.

    A column drifts when one test is significant at ``alpha`` *and* its own effect clears its
    floor; the reported p-value is the smallest adjusted one.
    """
    p_value = min(p for p, _ in evidence)
    significant = p_value < alpha
    drifted = any(p < alpha and relevant for p, relevant in evidence)
    if drifted:
        reason = f"drift: {detail} (p={p_value:.2g} < alpha={alpha:.2g}, effect above the floor)"
    elif significant:
        reason = f"real but negligible change: {detail} (p={p_value:.2g}; effect below the floor)"
    else:
        reason = f"no significant change: {detail} (p={p_value:.2g} >= alpha={alpha:.2g})"
    return ColumnDrift(
        status=ColumnStatus.DRIFT if drifted else ColumnStatus.STABLE,
        drifted=drifted,
        severity=_severity(effect, thresholds) if drifted else Severity.NONE,
        reason=reason,
        p_value=p_value,
        alpha=alpha,
        effect=effect,
        **base,
        **out,
    )


# --- dataset verdict ----------------------------------------------------------------------------


def _column_verdict(name: str, reference: Mapping[str, Any], stats_: NumericStats | CategoricalStats,
                    alpha: float, thresholds: DriftThresholds) -> ColumnDrift:
    if isinstance(stats_, NumericStats):
        return numeric_drift(name, reference, stats_, alpha, thresholds)
    return categorical_drift(name, reference, stats_, alpha, thresholds)


def score_window(
    profile: Mapping[str, Any],
    window: WindowStats,
    importance: Mapping[str, float] | None = None,
    thresholds: DriftThresholds | None = None,
) -> DatasetDrift:
    """Compare window statistics with the reference profile: per-column and dataset verdicts.

    Columns of ``window`` found in ``profile["columns"]`` are features (counted in the drift
    share); those in ``profile["predictions"]`` are reported as prediction drift. ``importance``
    maps feature -> non-negative weight for the ranking, the weighted share and the health score;
    ``None`` weighs features equally, and features it does not list weigh 0 (all-zero weights fall
    back to equal weights).
    """
    policy = thresholds or DriftThresholds()
    features = [c for c in window.columns if c in profile.get("columns", {})]
    predictions = [c for c in window.columns if c in profile.get("predictions", {}) and c not in features]
    unknown = [c for c in window.columns if c not in features and c not in predictions]
    if unknown:
        raise KeyError(f"window columns {unknown} are not in the reference profile")
    alpha = policy.family_alpha / max(1, len(features) + len(predictions))
    cols = tuple(_column_verdict(c, profile["columns"][c], window.columns[c], alpha, policy) for c in features)
    preds = tuple(_column_verdict(c, profile["predictions"][c], window.columns[c], alpha, policy)
                  for c in predictions)

    weights = {c: 1.0 for c in features} if importance is None else \
        {c: max(0.0, float(importance.get(c, 0.0))) for c in features}
    evaluated = [c for c in cols if c.status in (ColumnStatus.STABLE, ColumnStatus.DRIFT)]
    if evaluated and sum(weights[c.column] for c in evaluated) <= 0:
        weights = {c: 1.0 for c in features}
    drifted = [c for c in evaluated if c.drifted]
    share = weighted = None
    health = None
    if evaluated:
        share = len(drifted) / len(evaluated)
        total = sum(weights[c.column] for c in evaluated)
        weighted = sum(weights[c.column] for c in drifted) / total
        penalty = sum(weights[c.column] * SEVERITY_WEIGHT[c.severity] for c in evaluated) / total
        health = round(100 * (1 - penalty))
    ranking = tuple(c.column for c in sorted(drifted, key=lambda c: (-weights[c.column] * (c.effect or 0.0),
                                                                        c.column)))
    dataset_drift = share is not None and share >= policy.drift_share and bool(drifted)
    if not evaluated:
        status = DatasetStatus.NO_DATA
    elif dataset_drift:
        status = DatasetStatus.DATASET_DRIFT
    elif drifted:
        status = DatasetStatus.COLUMN_DRIFT
    else:
        status = DatasetStatus.STABLE
    return DatasetDrift(
        status=status,
        dataset_drift=dataset_drift,
        alarm=bool(drifted),
        rows=window.rows,
        reference_rows=int(profile.get("rows", 0)),
        evaluated=len(evaluated),
        drifted=len(drifted),
        drift_share=share,
        weighted_drift_share=weighted,
        health_score=health,
        ranking=ranking,
        alpha_per_column=alpha,
        columns=cols,
        predictions=preds,
        thresholds=policy,
    )
