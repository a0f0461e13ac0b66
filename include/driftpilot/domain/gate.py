"""Promotion gate: champion vs challenger on the same out-of-time holdout. Pure.

The question is not "is the challenger's number higher" (on a few hundred rows it will be half
the time by luck) but "is it better by at least the margin we ask for, with confidence". Both
models are scored on the same rows, so the comparison is **paired**: each bootstrap resample
draws row indices once and evaluates both models on them; the confidence interval is the
percentile interval of the differences. The gate passes only when

* the lower bound of the improvement in the primary metric clears ``min_improvement``, and
* no guard metric regresses beyond its tolerance (e.g. ``brier: 0.02``), and
* no segment (``segments`` of the config, segments with at least ``MIN_SEGMENT_ROWS`` rows)
  regresses beyond ``segment_tolerance``: for a classifier its accuracy may not drop by more than
  the tolerance; for a regression model (primary metric ``rmse`` or ``mae``) its MAE may not rise
  by more than the tolerance *relative* to the champion's (0.1 = 10 %), because an absolute
  tolerance would mean something different for every target's unit.

Improvement is direction-aware: for lower-is-better metrics (rmse, mae, brier, log_loss) it is
``champion - challenger``.

Metrics by task: ``accuracy`` and ``macro_f1`` compare classes (multiclass classes arrive as
canonical keys, ``categories.category_key``; binary ones as 0/1), ``brier`` and ``log_loss`` need
the binary score, ``rmse`` and ``mae`` compare numbers. ``macro_f1`` is the unweighted mean of the
per-class F1 over the classes present in the truth or the predictions (scikit-learn's
``f1_score(average="macro")``), recomputed on every bootstrap resample from its confusion counts:
it is not a mean of per-row values, so it cannot be bootstrapped like accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import category_keys

LOWER_IS_BETTER = frozenset({"rmse", "mae", "brier", "log_loss"})
REGRESSION_METRICS = frozenset({"rmse", "mae"})
MIN_SEGMENT_ROWS = 30


@dataclass(frozen=True)
class GuardResult:
    name: str
    champion: float
    challenger: float
    tolerance: float
    passed: bool


@dataclass(frozen=True)
class GateResult:
    passed: bool
    metric: str
    champion: float
    challenger: float
    improvement: float
    ci_low: float
    ci_high: float
    confidence: float
    min_improvement: float
    rows: int
    guards: tuple[GuardResult, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["guards"] = [asdict(g) for g in self.guards]
        return out


def _per_row(metric: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None:
    """Metrics that are means of a per-row value: (truth, predicted, score) -> per-row values."""
    if metric == "accuracy":
        return lambda y, p, s: (y == p).astype(float)
    if metric == "brier":
        return lambda y, p, s: (s - y) ** 2
    if metric == "log_loss":
        return lambda y, p, s: -(y * np.log(np.clip(s, 1e-6, 1)) + (1 - y) * np.log(np.clip(1 - s, 1e-6, 1)))
    if metric == "mae":
        return lambda y, p, s: np.abs(y - p)
    if metric == "mse":
        return lambda y, p, s: (y - p) ** 2
    return None


def _macro_f1(truth: np.ndarray, predicted: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Macro-F1 of each resample (rows ``idx``, shape (samples, n)) from per-class counts.

    A class counts in a resample when it is in that resample's truth or predictions, as in
    scikit-learn; per class, F1 = 2 TP / (true + predicted).
    """
    total = np.zeros(idx.shape[0])
    present = np.zeros(idx.shape[0])
    for cls in np.unique(np.concatenate([truth, predicted])):
        is_true = truth == cls
        is_pred = predicted == cls
        tp = (is_true & is_pred)[idx].sum(axis=1)
        support = is_true[idx].sum(axis=1) + is_pred[idx].sum(axis=1)
        counted = support > 0
        total += np.where(counted, 2.0 * tp / np.maximum(support, 1), 0.0)
        present += counted
    return np.divide(total, present, out=np.zeros_like(total), where=present > 0)


def metric_value(metric: str, truth: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> float:
    if metric == "rmse":
        return float(np.sqrt(np.mean((truth - predicted) ** 2)))
    if metric == "macro_f1":
        return float(_macro_f1(truth, predicted, np.arange(len(truth))[None, :])[0])
    per_row = _per_row(metric)
    if per_row is None:
        raise ValueError(f"the gate cannot compute {metric!r}; use accuracy, brier, log_loss, macro_f1, mae or rmse")
    return float(np.mean(per_row(truth, predicted, score)))


def paired_bootstrap(
    metric: str,
    truth: np.ndarray,
    champion: tuple[np.ndarray, np.ndarray],
    challenger: tuple[np.ndarray, np.ndarray],
    samples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float, float]:
    """(improvement, ci_low, ci_high) of challenger over champion on the same rows."""
    n = len(truth)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(samples, n))
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    if metric == "rmse":
        se_champion = (truth - champion[0]) ** 2
        se_challenger = (truth - challenger[0]) ** 2
        diffs = sign * (np.sqrt(se_challenger[idx].mean(axis=1)) - np.sqrt(se_champion[idx].mean(axis=1)))
        point = sign * (np.sqrt(se_challenger.mean()) - np.sqrt(se_champion.mean()))
    elif metric == "macro_f1":
        diffs = _macro_f1(truth, challenger[0], idx) - _macro_f1(truth, champion[0], idx)
        point = metric_value(metric, truth, *challenger) - metric_value(metric, truth, *champion)
    else:
        per_row = _per_row(metric)
        if per_row is None:
            raise ValueError(f"the gate cannot bootstrap {metric!r}")
        delta = sign * (per_row(truth, *challenger) - per_row(truth, *champion))
        diffs = delta[idx].mean(axis=1)
        point = float(delta.mean())
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    return float(point), float(low), float(high)


def evaluate_gate(
    *,
    metric: str,
    truth: np.ndarray,
    champion: tuple[np.ndarray, np.ndarray],
    challenger: tuple[np.ndarray, np.ndarray],
    min_improvement: float,
    samples: int,
    confidence: float,
    guard_metrics: Mapping[str, float],
    segments: pd.DataFrame | None = None,
    segment_tolerance: float = 0.05,
    seed: int = 0,
) -> GateResult:
    """Compare two models' (prediction, score) arrays on the same labelled rows ``truth``.

    Binary: ``truth`` and predictions as 0/1 (positive class = 1), scores as P(1). Multiclass:
    ``truth`` and predictions as class keys (any comparable values; scores unused). Regression:
    predictions as numbers; the score arrays are ignored (pass the predictions).
    """
    if len(truth) == 0:
        raise ValueError("the gate needs at least one labelled holdout row")
    champion_value = metric_value(metric, truth, *champion)
    challenger_value = metric_value(metric, truth, *challenger)
    improvement, low, high = paired_bootstrap(metric, truth, champion, challenger, samples, confidence, seed)
    reasons = []
    passed = low > min_improvement
    level = f"{confidence:.0%}"
    reasons.append(
        f"{metric}: champion {champion_value:.4f}, challenger {challenger_value:.4f}; improvement {improvement:+.4f} "
        f"({level} CI {low:+.4f} .. {high:+.4f}) {'clears' if passed else 'does not clear'} the margin {min_improvement:+.4f}"
    )
    guards: list[GuardResult] = []
    for name, tolerance in sorted(guard_metrics.items()):
        ch = metric_value(name, truth, *champion)
        cand = metric_value(name, truth, *challenger)
        regression = (cand - ch) if name in LOWER_IS_BETTER else (ch - cand)
        ok = regression <= tolerance
        guards.append(GuardResult(name, ch, cand, tolerance, ok))
        if not ok:
            reasons.append(f"guard {name} regresses by {regression:.4f} (> {tolerance:.4f}): champion {ch:.4f}, challenger {cand:.4f}")
    if segments is not None:
        guards += _segment_guards(metric, truth, champion[0], challenger[0], segments, segment_tolerance, reasons)
    all_guards = all(g.passed for g in guards)
    return GateResult(
        passed=passed and all_guards,
        metric=metric,
        champion=champion_value,
        challenger=challenger_value,
        improvement=improvement,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        min_improvement=min_improvement,
        rows=len(truth),
        guards=tuple(guards),
        reasons=tuple(reasons),
    )


def _segment_guards(metric: str, truth: np.ndarray, champion: np.ndarray, challenger: np.ndarray,
                    segments: pd.DataFrame, tolerance: float, reasons: list[str]) -> list[GuardResult]:
    """One guard per segment value with enough rows: accuracy (classifiers) or relative MAE (regression)."""
    regression = metric in REGRESSION_METRICS
    guards: list[GuardResult] = []
    for column in segments.columns:
        values = category_keys(segments[column]).fillna("<missing>").to_numpy(dtype=object)
        for value in sorted(set(values)):
            mask = values == value
            if mask.sum() < MIN_SEGMENT_ROWS:
                continue
            if regression:
                ch = float(np.mean(np.abs(truth[mask] - champion[mask])))
                cand = float(np.mean(np.abs(truth[mask] - challenger[mask])))
                worse = (cand - ch) / ch if ch > 0 else (0.0 if cand == 0 else float("inf"))
                ok = worse <= tolerance
                guards.append(GuardResult(f"mae[{column}={value}]", ch, cand, tolerance, ok))
                if not ok:
                    reasons.append(f"segment {column}={value}: MAE rises {ch:.3f} -> {cand:.3f} "
                                   f"(+{worse:.1%} > {tolerance:.1%})")
                continue
            ch = float(np.mean(truth[mask] == champion[mask]))
            cand = float(np.mean(truth[mask] == challenger[mask]))
            ok = ch - cand <= tolerance
            guards.append(GuardResult(f"accuracy[{column}={value}]", ch, cand, tolerance, ok))
            if not ok:
                reasons.append(f"segment {column}={value}: accuracy drops {ch:.3f} -> {cand:.3f} (> {tolerance:.3f})")
    return guards


def comparison_markdown(result: GateResult, model: str, champion_version: str, challenger_label: str) -> str:
    """The comparison a reviewer reads before approving (logged as an artifact)."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [
        f"# {model}: champion v{champion_version} vs challenger {challenger_label}",
        "",
        f"Gate **{verdict}** on {result.rows} out-of-time holdout rows (paired bootstrap, "
        f"{result.confidence:.0%} CI).",
        "",
        "| metric | champion | challenger | improvement | CI low | CI high | margin |",
        "|---|---|---|---|---|---|---|",
        f"| {result.metric} (primary) | {result.champion:.4f} | {result.challenger:.4f} | {result.improvement:+.4f} "
        f"| {result.ci_low:+.4f} | {result.ci_high:+.4f} | {result.min_improvement:+.4f} |",
        "",
        "| guard | champion | challenger | tolerance | ok |",
        "|---|---|---|---|---|",
        *[f"| {g.name} | {g.champion:.4f} | {g.challenger:.4f} | {g.tolerance:.4f} | {'yes' if g.passed else 'NO'} |"
          for g in result.guards],
        "",
        "Reasons:",
        *[f"- {r}" for r in result.reasons],
        "",
    ]
    return "\n".join(lines)
