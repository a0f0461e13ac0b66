"""Trigger policy: table-driven, pure, replayable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from driftpilot.domain.config import FeatureRule, TriggerPolicy
from driftpilot.domain.policy import Action, PerformanceEvidence, WindowEvidence, decide

NOW = datetime(2026, 2, 1, tzinfo=UTC)
POLICY = TriggerPolicy(
    drift_share=0.3, persistence_windows=2, persistence_lookback=3, performance_slo=0.6,
    max_performance_drop=0.05, min_samples=100, cooldown_days=7, max_retrains_per_30_days=3,
)


def w(day: int, share: float | None, rows: int = 300, scores: dict | None = None) -> WindowEvidence:
    return WindowEvidence(f"2026-01-{day:02d}", rows, share, ("x",) if share and share >= 0.3 else (), scores or {})


def perf(value: float, baseline: float = 0.8, metric: str = "accuracy") -> PerformanceEvidence:
    return PerformanceEvidence("2026-01-20", metric, value, baseline, labelled=280, rows=300)


@pytest.mark.parametrize(
    ("current", "history", "performance", "policy", "retrains", "action", "reason"),
    [
        (w(25, 0.0), [w(24, 0.0)], perf(0.8), POLICY, [], Action.NONE, None),
        (w(25, 0.5), [w(24, 0.0), w(23, 0.0)], perf(0.8), POLICY, [], Action.ALERT, "drift share 0.50"),
        (w(25, 0.5), [w(24, 0.4), w(23, 0.0)], perf(0.8), POLICY, [], Action.ALERT, "persisted in 2 of the last 3"),
        (w(25, 0.5), [w(24, 0.4)], perf(0.8), dataclasses.replace(POLICY, retrain_on_drift=True), [],
         Action.RETRAIN, "persisted"),
        (w(25, 0.5, rows=20), [w(24, 0.9, rows=20)], None, POLICY, [], Action.NONE, "min_samples"),
        (w(25, 0.0), [], perf(0.70), POLICY, [], Action.RETRAIN, "worse than the baseline"),
        (w(25, 0.0), [], perf(0.77), POLICY, [], Action.NONE, None),
        (w(25, 0.0), [], perf(0.55, baseline=0.56), POLICY, [], Action.RETRAIN, "breaches the SLO"),
        (w(25, 0.0), [], perf(0.70), POLICY, [NOW - timedelta(days=2)], Action.ALERT, "cooldown"),
        (w(25, 0.0), [], perf(0.70), POLICY, [NOW - timedelta(days=8)], Action.RETRAIN, "worse than the baseline"),
        (w(25, 0.0), [], perf(0.70), dataclasses.replace(POLICY, cooldown_days=0),
         [NOW - timedelta(days=d) for d in (3, 10, 20)], Action.ALERT, "circuit breaker"),
        (w(25, 0.0), [], perf(0.45, baseline=0.30, metric="rmse"), POLICY, [], Action.RETRAIN, "worse than the baseline"),
        (w(25, 0.0), [], perf(0.70), dataclasses.replace(POLICY, cost_of_error=0.01, retrain_cost=100.0), [],
         Action.ALERT, "not worth it"),
        (w(25, 0.0), [], perf(0.70), dataclasses.replace(POLICY, cost_of_error=1.0, retrain_cost=100.0), [],
         Action.RETRAIN, "pays off"),
        (w(25, 0.0), [], None, POLICY, [], Action.NONE, "performance not judged"),
    ],
)
def test_decisions(current, history, performance, policy, retrains, action, reason) -> None:
    decision = decide(current, history, performance, policy, retrains, NOW)
    assert decision.action is action, decision.reasons
    if reason:
        assert any(reason in r for r in decision.reasons), decision.reasons


def test_feature_rule_with_persistence() -> None:
    rule = FeatureRule("income", "psi", 0.2, windows=3, lookback=4)
    policy = dataclasses.replace(POLICY, feature_rules=(rule,), drift_share=0.99)
    hist = [w(d, 0.1, scores={"income": {"psi": s}}) for d, s in [(21, 0.3), (22, 0.1), (23, 0.25)]]
    fired = decide(w(24, 0.1, scores={"income": {"psi": 0.4}}), hist, None, policy, [], NOW)
    quiet = decide(w(24, 0.1, scores={"income": {"psi": 0.1}}), hist, None, policy, [], NOW)
    assert fired.action is Action.ALERT
    assert any("psi of income > 0.2 in 3 of the last 4" in r for r in fired.reasons)
    assert quiet.action is Action.NONE


def test_same_inputs_same_decision() -> None:
    args = (w(25, 0.5), [w(24, 0.4)], perf(0.7), POLICY, [NOW - timedelta(days=9)], NOW)
    assert decide(*args) == decide(*args)
    assert decide(*args).to_dict()["action"] == "retrain"


def test_history_after_the_current_window_is_ignored() -> None:
    """Replaying an old window must not see windows that came after it."""
    future = [w(26, 0.9), w(27, 0.9)]
    assert decide(w(25, 0.0), future, None, POLICY, [], NOW).action is Action.NONE


def test_a_quiet_window_still_says_why() -> None:
    decision = decide(w(25, 0.1), [], perf(0.8), POLICY, [], NOW)
    assert decision.action is Action.NONE
    assert any("drift share 0.10 < 0.30" in r for r in decision.reasons)
    assert any("within 0.050 of the baseline" in r for r in decision.reasons)
