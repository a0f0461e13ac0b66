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
canonical keys, ``categories.category_key``; binary ones as 0/1), ``f1`` is the positive class's
F1, ``brier`` and ``log_loss`` need the binary score, ``roc_auc`` and ``pr_auc`` (average
precision) rank rows by it, ``rmse`` and ``mae`` compare numbers. ``macro_f1`` is the unweighted
mean of the per-class F1 over the classes present in the truth or the predictions (scikit-learn's
``f1_score(average="macro")``), recomputed on every bootstrap resample from its confusion counts:
it is not a mean of per-row values, so it cannot be bootstrapped like accuracy. ``f1``,
``roc_auc`` and ``pr_auc`` are not either: each resample is a vector of row multiplicities, and
the metric is computed with those weights (scikit-learn's ``sample_weight``; ties in the score
count half in the AUC and form one threshold in the average precision, as there).

A **dummy baseline** (the training set's majority class and class prior, or its mean) is scored
on the same holdout: a challenger that does not beat it on the primary metric fails the gate,
whatever its improvement over the champion, because a model that loses to a constant has not
learned the task (an accuracy gate on a rare positive class would otherwise pass a model that
never predicts it).
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
# Resamples are weighted in blocks of at most this many cells (resamples x rows) to bound memory.
_WEIGHT_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class DummyBaseline:
    """A constant model fitted on the training set, scored beside champion and challenger."""

    name: str
    prediction: np.ndarray
    score: np.ndarray


def dummy_baseline(task: str, train_target: np.ndarray, rows: int) -> DummyBaseline:
    """The constant a model must beat: majority class (and the class prior as score), or the mean.

    ``train_target`` is in the gate's encoding (binary 0/1, multiclass class keys, regression
    numbers) and comes from the training set, never the holdout, so the baseline knows nothing
    of the rows it is scored on. Ties between classes go to the smallest key, for a stable answer.
    """
    if len(train_target) == 0:
        raise ValueError("the dummy baseline needs the training set's target; it is empty")
    if task == "regression":
        mean = float(np.mean(train_target.astype(float)))
        return DummyBaseline("training mean", np.full(rows, mean), np.full(rows, mean))
    values, counts = np.unique(train_target, return_counts=True)
    majority = values[int(np.argmax(counts))]
    prediction = np.full(rows, majority, dtype=train_target.dtype)
    if task == "binary":
        prior = float(np.mean(train_target == 1))
        return DummyBaseline("majority class, class prior as score", prediction.astype(int), np.full(rows, prior))
    return DummyBaseline("majority class", prediction, np.zeros(rows))


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
    dummy: float | None = None  # the dummy baseline's primary metric on the same holdout
    dummy_name: str = ""

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


def _score_groups(score: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """(row order, start of each run of equal scores in that order): ties form one threshold."""
    order = np.argsort(-score if descending else score, kind="mergesort")
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else np.zeros(0, dtype=int)
    return order, starts


def _weighted_roc_auc(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of each weight row: P(score of a positive > score of a negative), ties counted half."""
    order, starts = _score_groups(score, descending=False)
    positive = truth[order] == 1
    w = weights[:, order]
    pos = np.add.reduceat(w * positive, starts, axis=1)
    neg = np.add.reduceat(w * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    return np.divide(wins, pairs, out=np.full(len(pairs), np.nan), where=pairs > 0)


def _weighted_average_precision(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray,
                                weights: np.ndarray) -> np.ndarray:
    """Average precision (PR AUC) of each weight row: the sum over thresholds of recall gained x precision."""
    order, starts = _score_groups(score, descending=True)
    positive = truth[order] == 1
    w = weights[:, order]
    pos = np.add.reduceat(w * positive, starts, axis=1)
    seen = np.cumsum(np.add.reduceat(w, starts, axis=1), axis=1)
    precision = np.divide(np.cumsum(pos, axis=1), seen, out=np.zeros_like(seen, dtype=float), where=seen > 0)
    total = pos.sum(axis=1)
    return np.divide((pos * precision).sum(axis=1), total, out=np.full(len(total), np.nan), where=total > 0)


def _weighted_f1(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """F1 of the positive class of each weight row (0 when there is no positive in truth or predictions)."""
    is_true, is_pred = truth == 1, predicted == 1
    tp = weights @ (is_true & is_pred)
    support = weights @ is_true + weights @ is_pred
    return np.divide(2.0 * tp, support, out=np.zeros(len(support)), where=support > 0)


_WEIGHTED: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "f1": _weighted_f1,
    "roc_auc": _weighted_roc_auc,
    "pr_auc": _weighted_average_precision,
}


def _resample_weights(idx: np.ndarray, n: int) -> np.ndarray:
    """Row multiplicities of each resample (rows of ``idx``): shape (resamples, n)."""
    offsets = (np.arange(idx.shape[0])[:, None] * n + idx).ravel()
    return np.bincount(offsets, minlength=idx.shape[0] * n).reshape(idx.shape[0], n).astype(float)


def _weighted_resamples(metric: str, truth: np.ndarray, model: tuple[np.ndarray, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """The weighted metric of each resample, in blocks that keep the weight matrix small."""
    compute = _WEIGHTED[metric]
    block = max(1, _WEIGHT_BLOCK_CELLS // max(1, len(truth)))
    return np.concatenate([compute(truth, model[0], model[1], _resample_weights(idx[i:i + block], len(truth)))
                           for i in range(0, idx.shape[0], block)])


def metric_value(metric: str, truth: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> float:
    if metric == "rmse":
        return float(np.sqrt(np.mean((truth - predicted) ** 2)))
    if metric == "macro_f1":
        return float(_macro_f1(truth, predicted, np.arange(len(truth))[None, :])[0])
    if metric in _WEIGHTED:
        value = float(_WEIGHTED[metric](truth, predicted, score, np.ones((1, len(truth))))[0])
        if np.isnan(value):
            raise ValueError(f"{metric} needs both classes among the labelled holdout rows; this holdout has one. "
                             f"Widen the holdout (retraining.holdout_days) or gate on another metric")
        return value
    per_row = _per_row(metric)
    if per_row is None:
        raise ValueError(f"the gate cannot compute {metric!r}; use accuracy, brier, f1, log_loss, macro_f1, "
                         f"mae, pr_auc, rmse or roc_auc")
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
    elif metric in _WEIGHTED:
        # a resample with one class has no AUC: it is left out of the interval, not counted as 0
        diffs = _weighted_resamples(metric, truth, challenger, idx) - _weighted_resamples(metric, truth, champion, idx)
        diffs = diffs[~np.isnan(diffs)]
        point = metric_value(metric, truth, *challenger) - metric_value(metric, truth, *champion)
        if len(diffs) == 0:
            raise ValueError(f"no bootstrap resample of the holdout holds both classes: {metric} cannot be compared")
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
    dummy: DummyBaseline | None = None,
) -> GateResult:
    """Compare two models' (prediction, score) arrays on the same labelled rows ``truth``.

    Binary: ``truth`` and predictions as 0/1 (positive class = 1), scores as P(1). Multiclass:
    ``truth`` and predictions as class keys (any comparable values; scores unused). Regression:
    predictions as numbers; the score arrays are ignored (pass the predictions). ``dummy``, when
    given, must be beaten by the challenger on the primary metric.
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
    dummy_value = None
    if dummy is not None:
        dummy_value = metric_value(metric, truth, dummy.prediction, dummy.score)
        margin = (dummy_value - challenger_value) if metric in LOWER_IS_BETTER else (challenger_value - dummy_value)
        if margin <= 0:
            passed = False
            reasons.append(f"{metric}: the challenger ({challenger_value:.4f}) does not beat the dummy baseline "
                           f"({dummy.name}: {dummy_value:.4f}); a model must do better than a constant")
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
        dummy=dummy_value,
        dummy_name=dummy.name if dummy is not None else "",
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
        *([f"Dummy baseline ({result.dummy_name}) on the same rows: {result.metric} {result.dummy:.4f}.", ""]
          if result.dummy is not None else []),
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
