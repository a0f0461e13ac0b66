"""Retrain trigger policy: a pure, replayable function from evidence to an action with reasons.

``decide`` reads no clock, no file and no registry: everything it needs is passed in (the current
window's evidence, the history of earlier windows, the label-confirmed performance, the times of
earlier retrains that ran, and ``now``). Given the same inputs it returns the same decision, so any past
decision can be replayed and explained.

Rules, in order:

1. **Minimum samples**: a window with fewer rows than ``min_samples`` is not judged on drift.
2. **Drift persistence**: a window is *drifted* when its drift share reaches ``drift_share``;
   drift is *persistent* when at least ``persistence_windows`` of the last
   ``persistence_lookback`` windows (the current one included) are drifted. Feature rules work
   the same way on one column's score ("PSI of income > 0.2 in 3 of the last 4 windows").
3. **Performance** (label-confirmed, from the latest *mature* window with enough labels): below
   the absolute ``performance_slo``, or worse than the baseline by more than
   ``max_performance_drop``.
4. Action: a performance breach asks for **retrain**; persistent drift asks for retrain when
   ``retrain_on_drift`` is set, else an **alert**; a drifted window or a fired feature rule alone
   is an alert; otherwise **none**.
5. Guards that turn a retrain into an alert: the **cooldown** since the last retrain, the
   **circuit breaker** (too many retrains in 30 days), and the optional **cost/benefit** rule
   (expected value of the lost accuracy over ``cost_horizon_windows`` windows must exceed
   ``retrain_cost``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from driftpilot.domain.config import TriggerPolicy
from driftpilot.domain.gate import LOWER_IS_BETTER
from driftpilot.domain.reports import share_text


class Action(StrEnum):
    NONE = "none"
    ALERT = "alert"
    RETRAIN = "retrain"


@dataclass(frozen=True)
class WindowEvidence:
    """What the drift side of monitoring found in one window."""

    window: str  # ISO date of the window start
    rows: int
    drift_share: float | None  # None: not judged (too few rows, or nothing to compare)
    drifted_columns: tuple[str, ...] = ()
    column_scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class PerformanceEvidence:
    """The primary metric of the latest mature window with enough labels, and its baseline."""

    window: str
    metric: str
    value: float
    baseline: float
    labelled: int
    rows: int


@dataclass(frozen=True)
class Decision:
    action: Action
    reasons: tuple[str, ...]
    evidence: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "reasons": list(self.reasons), "evidence": dict(self.evidence)}


def _is_drifted(evidence: WindowEvidence, policy: TriggerPolicy) -> bool:
    return (
        evidence.drift_share is not None
        and evidence.rows >= policy.min_samples
        and evidence.drift_share >= policy.drift_share
    )


def _recent(current: WindowEvidence, history: Sequence[WindowEvidence], lookback: int) -> list[WindowEvidence]:
    earlier = sorted((h for h in history if h.window < current.window), key=lambda h: h.window)
    return [*earlier[-(lookback - 1):], current] if lookback > 1 else [current]


def performance_shortfall(perf: PerformanceEvidence) -> float:
    """How much worse than the baseline (positive = worse), whatever the metric's direction."""
    if perf.metric in LOWER_IS_BETTER:
        return perf.value - perf.baseline
    return perf.baseline - perf.value


def decide(
    current: WindowEvidence,
    history: Sequence[WindowEvidence],
    performance: PerformanceEvidence | None,
    policy: TriggerPolicy,
    retrain_times: Sequence[datetime],
    now: datetime,
) -> Decision:
    """The action for ``current``, with reasons.

    ``retrain_times`` are the as-of times of earlier retrains that **ran** (trained a candidate;
    ``history.retrain_times``): the cooldown and the circuit breaker spend on work done, so a
    request that was lost, superseded or is still on its way must not be passed in.
    """
    reasons: list[str] = []
    evidence: dict[str, Any] = {"window": current.window, "rows": current.rows, "drift_share": current.drift_share}
    wants_retrain = False
    wants_alert = False

    # 1-2. drift, with minimum samples and persistence
    if current.rows < policy.min_samples:
        reasons.append(f"only {current.rows} rows (< min_samples {policy.min_samples}): drift not judged")
    else:
        recent = _recent(current, history, policy.persistence_lookback)
        drifted = [w.window for w in recent if _is_drifted(w, policy)]
        evidence["drifted_windows"] = drifted
        if _is_drifted(current, policy):
            share = current.drift_share or 0.0
            columns = ", ".join(current.drifted_columns[:5]) or "-"
            reasons.append(f"drift share {share_text(share)} >= {share_text(policy.drift_share)} (drifted: {columns})")
            wants_alert = True
        elif current.drift_share is None:
            reasons.append("drift not judged: no feature could be compared with the baseline")
        else:
            reasons.append(f"drift share {share_text(current.drift_share)} < {share_text(policy.drift_share)}")
        if len(drifted) >= policy.persistence_windows:
            reasons.append(
                f"drift persisted in {len(drifted)} of the last {len(recent)} windows "
                f"(rule: {policy.persistence_windows} of {policy.persistence_lookback})"
            )
            wants_alert = True
            wants_retrain = wants_retrain or policy.retrain_on_drift
        for rule in policy.feature_rules:
            window_set = _recent(current, history, rule.lookback)
            hits = [w.window for w in window_set
                    if w.column_scores.get(rule.column, {}).get(rule.metric, float("-inf")) > rule.threshold]
            if len(hits) >= rule.windows:
                reasons.append(
                    f"{rule.metric} of {rule.column} > {rule.threshold:g} in {len(hits)} of the last "
                    f"{len(window_set)} windows (rule: {rule.windows} of {rule.lookback})"
                )
                wants_alert = True
                wants_retrain = wants_retrain or policy.retrain_on_drift

    # 3. label-confirmed performance
    shortfall = 0.0
    if performance is None:
        reasons.append("no mature window with enough labels yet: performance not judged")
    else:
        shortfall = performance_shortfall(performance)
        evidence["performance"] = {
            "window": performance.window, "metric": performance.metric, "value": performance.value,
            "baseline": performance.baseline, "labelled": performance.labelled,
        }
        lower_better = performance.metric in LOWER_IS_BETTER
        slo = policy.performance_slo
        if slo is not None and (performance.value > slo if lower_better else performance.value < slo):
            reasons.append(
                f"{performance.metric} {performance.value:.3f} of window {performance.window} breaches the SLO {slo:.3f} "
                f"({performance.labelled} labels)"
            )
            wants_retrain = True
        if shortfall > policy.max_performance_drop:
            reasons.append(
                f"{performance.metric} {performance.value:.3f} of window {performance.window} is {shortfall:.3f} "
                f"worse than the baseline {performance.baseline:.3f} (allowed {policy.max_performance_drop:.3f})"
            )
            wants_retrain = True
        if not wants_retrain:
            reasons.append(
                f"{performance.metric} {performance.value:.3f} of window {performance.window} is within "
                f"{policy.max_performance_drop:.3f} of the baseline {performance.baseline:.3f}"
            )

    if not wants_retrain:
        action = Action.ALERT if wants_alert else Action.NONE
        return Decision(action, tuple(reasons), evidence)

    # 5. guards
    past = sorted(t for t in retrain_times if t <= now)
    if past and now - past[-1] < timedelta(days=policy.cooldown_days):
        until = past[-1] + timedelta(days=policy.cooldown_days)
        reasons.append(f"retrain held back: cooldown since the retrain of {past[-1]:%Y-%m-%d %H:%M} lasts until {until:%Y-%m-%d %H:%M}")
        return Decision(Action.ALERT, tuple(reasons), evidence)
    last_30 = [t for t in past if now - t < timedelta(days=30)]
    if len(last_30) >= policy.max_retrains_per_30_days:
        reasons.append(
            f"retrain held back: circuit breaker open ({len(last_30)} retrains in 30 days, "
            f"limit {policy.max_retrains_per_30_days}); a person should look at this model"
        )
        return Decision(Action.ALERT, tuple(reasons), evidence)
    if policy.cost_of_error is not None and policy.retrain_cost is not None:
        volume = performance.rows if performance is not None else current.rows
        expected_loss = max(shortfall, 0.0) * volume * policy.cost_of_error * policy.cost_horizon_windows
        evidence["expected_loss"] = expected_loss
        if expected_loss < policy.retrain_cost:
            reasons.append(
                f"retrain not worth it: expected loss {expected_loss:.2f} over {policy.cost_horizon_windows} windows "
                f"< retrain cost {policy.retrain_cost:.2f}"
            )
            return Decision(Action.ALERT, tuple(reasons), evidence)
        reasons.append(f"retrain pays off: expected loss {expected_loss:.2f} >= retrain cost {policy.retrain_cost:.2f}")
    return Decision(Action.RETRAIN, tuple(reasons), evidence)
