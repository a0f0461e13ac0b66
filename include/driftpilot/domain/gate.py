"""Promotion gate: champion vs challenger on the same out-of-time holdout. Pure.

The question is not "is the challenger's number higher" (on a few hundred rows it will be half
the time by luck) but "is it better by at least the margin we ask for, with confidence". Both
models are scored on the same rows, so the comparison is **paired**: each bootstrap resample
draws row indices once and evaluates both models on them; the confidence interval is the
percentile interval of the differences. The gate passes only when

* the lower bound of the improvement in the primary metric clears ``min_improvement``, and
* no guard metric regresses beyond its tolerance (e.g. ``brier: 0.02``), and
* no segment's accuracy (``segments`` of the config, segments with at least
  ``MIN_SEGMENT_ROWS`` rows) drops by more than ``segment_tolerance``.

Improvement is direction-aware: for lower-is-better metrics (rmse, mae, brier, log_loss) it is
``champion - challenger``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftpilot.domain.categories import category_keys

LOWER_IS_BETTER = frozenset({"rmse", "mae", "brier", "log_loss"})
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


def metric_value(metric: str, truth: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> float:
    if metric == "rmse":
        return float(np.sqrt(np.mean((truth - predicted) ** 2)))
    per_row = _per_row(metric)
    if per_row is None:
        raise ValueError(f"the gate cannot compute {metric!r}; use accuracy, brier, log_loss, mae or rmse")
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

    Classification: ``truth`` and predictions as 0/1 (positive class = 1), scores as P(1).
    Regression: predictions as numbers; the score arrays are ignored (pass the predictions).
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
    if segments is not None and metric != "rmse":
        for column in segments.columns:
            values = category_keys(segments[column]).fillna("<missing>").to_numpy(dtype=object)
            for value in sorted(set(values)):
                mask = values == value
                if mask.sum() < MIN_SEGMENT_ROWS:
                    continue
                ch = float(np.mean(truth[mask] == champion[0][mask]))
                cand = float(np.mean(truth[mask] == challenger[0][mask]))
                ok = ch - cand <= segment_tolerance
                guards.append(GuardResult(f"accuracy[{column}={value}]", ch, cand, segment_tolerance, ok))
                if not ok:
                    reasons.append(f"segment {column}={value}: accuracy drops {ch:.3f} -> {cand:.3f} (> {segment_tolerance:.3f})")
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
