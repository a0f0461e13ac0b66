"""Multiclass and regression metrics: evaluation, the gate's macro-F1 and regression segments, and
the config's task checks. Known answers, checked against scikit-learn where it has the metric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score, log_loss

from driftpilot.adapters.sklearn_training import evaluate
from driftpilot.domain import policy
from driftpilot.domain.config import (
    GATE_METRICS,
    TASK_GATE_METRICS,
    TaskType,
    load_config,
    parse_config,
)
from driftpilot.domain.gate import LOWER_IS_BETTER, evaluate_gate, metric_value, paired_bootstrap
from driftpilot.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "include" / "config"


@pytest.fixture()
def multiclass():
    return load_config(CONFIGS / "covertype.yaml")


@pytest.fixture()
def regression():
    return load_config(CONFIGS / "bike_sharing.yaml")


def test_multiclass_evaluate_reports_macro_f1_per_class_scores_and_log_loss(multiclass) -> None:
    truth = pd.Series([1, 1, 2, 2, 3, 3, 3, 1.0])  # 1.0 is class 1
    scored = pd.DataFrame({"prediction": ["1", "2", "2", "2", "3", "1", "3", "1"]})
    proba = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1],
                      [0.1, 0.1, 0.8], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6], [0.6, 0.3, 0.1]])
    for i, cls in enumerate(["1", "2", "3"]):
        scored[f"score_{cls}"] = proba[:, i]
    metrics = evaluate(multiclass, truth, scored)
    keys = ["1", "1", "2", "2", "3", "3", "3", "1"]
    assert metrics["accuracy"] == pytest.approx(6 / 8)
    assert metrics["macro_f1"] == pytest.approx(f1_score(keys, list(scored["prediction"]), average="macro"))
    assert metrics["recall_1"] == pytest.approx(2 / 3)
    assert metrics["recall_2"] == pytest.approx(1.0)
    assert metrics["recall_3"] == pytest.approx(2 / 3)
    assert metrics["f1_2"] == pytest.approx(2 * 2 / (2 + 3))
    assert "recall_4" not in metrics  # no row of class 4: its recall is undefined, not 0
    assert metrics["log_loss"] == pytest.approx(log_loss(keys, proba, labels=["1", "2", "3"]))


def test_multiclass_log_loss_needs_a_score_for_every_labelled_class(multiclass) -> None:
    scored = pd.DataFrame({"prediction": [1, 2, 4], "score_1": [0.9, 0.1, 0.5], "score_2": [0.1, 0.9, 0.5]})
    metrics = evaluate(multiclass, pd.Series([1, 2, 4]), scored)
    assert "log_loss" not in metrics  # class 4 has no score column: a log loss would be made up
    assert metrics["accuracy"] == 1.0


def test_regression_evaluate_rmse_mae_r2_and_mape_only_when_defined(regression) -> None:
    truth = pd.Series([10.0, 20.0, 30.0, 40.0])
    scored = pd.DataFrame({"prediction": [12.0, 18.0, 33.0, 40.0]})
    metrics = evaluate(regression, truth, scored)
    assert metrics["rmse"] == pytest.approx(np.sqrt((4 + 4 + 9 + 0) / 4))
    assert metrics["mae"] == pytest.approx(7 / 4)
    assert metrics["r2"] == pytest.approx(1 - 17 / 500)
    assert metrics["mape"] == pytest.approx((0.2 + 0.1 + 0.1 + 0) / 4)
    with_zero = evaluate(regression, pd.Series([0.0, 20.0]), pd.DataFrame({"prediction": [1.0, 20.0]}))
    assert "mape" not in with_zero  # a true 0 makes the percentage error infinite


def test_macro_f1_of_the_gate_equals_scikit_learn_and_bootstraps_paired() -> None:
    rng = np.random.default_rng(4)
    truth = rng.choice(np.array(["1", "2", "3", "7"], dtype=object), 600, p=[0.5, 0.3, 0.15, 0.05])
    champion = np.where(rng.random(600) < 0.7, truth, "2").astype(object)
    challenger = np.where(rng.random(600) < 0.85, truth, "2").astype(object)
    zeros = np.zeros(600)
    assert metric_value("macro_f1", truth, champion, zeros) == pytest.approx(f1_score(truth, champion, average="macro"))
    point, low, high = paired_bootstrap("macro_f1", truth, (champion, zeros), (challenger, zeros), 300, 0.95, seed=1)
    expected = f1_score(truth, challenger, average="macro") - f1_score(truth, champion, average="macro")
    assert point == pytest.approx(expected)
    assert 0 < low < point < high
    same = paired_bootstrap("macro_f1", truth, (champion, zeros), (champion, zeros), 100, 0.95, seed=1)
    assert same == (0.0, 0.0, 0.0)
    result = evaluate_gate(metric="macro_f1", truth=truth, champion=(champion, zeros), challenger=(challenger, zeros),
                           min_improvement=0.0, samples=300, confidence=0.95, guard_metrics={"accuracy": 0.0})
    assert result.passed and "macro_f1" not in LOWER_IS_BETTER
    worse = evaluate_gate(metric="macro_f1", truth=truth, champion=(challenger, zeros), challenger=(champion, zeros),
                          min_improvement=0.0, samples=300, confidence=0.95, guard_metrics={})
    assert not worse.passed and worse.improvement < 0


def test_regression_segment_guard_is_a_relative_mae_rise() -> None:
    truth = np.arange(200, dtype=float)
    champion = truth + 2.0
    challenger = truth + 1.0  # better everywhere ...
    challenger[:50] = truth[:50] + 2.4  # ... except segment "a", where MAE rises 2.0 -> 2.4 (+20 %)
    segments = pd.DataFrame({"day": np.r_[np.full(50, "a"), np.full(150, "b")]})
    kwargs = dict(metric="rmse", truth=truth, champion=(champion, champion), challenger=(challenger, challenger),
                  min_improvement=0.0, samples=200, confidence=0.95, guard_metrics={}, segments=segments)
    strict = evaluate_gate(**kwargs, segment_tolerance=0.1)
    assert not strict.passed
    assert {g.name for g in strict.guards if not g.passed} == {"mae[day=a]"}
    assert any("MAE rises 2.000 -> 2.400" in r for r in strict.reasons)
    assert evaluate_gate(**kwargs, segment_tolerance=0.25).passed


def test_error_metrics_trigger_when_they_rise() -> None:
    worse = policy.PerformanceEvidence(window="2026-01-05", metric="rmse", value=120.0, baseline=60.0,
                                       labelled=288, rows=288)
    better = policy.PerformanceEvidence(window="2026-01-05", metric="rmse", value=50.0, baseline=60.0,
                                        labelled=288, rows=288)
    assert policy.performance_shortfall(worse) == pytest.approx(60.0)
    assert policy.performance_shortfall(better) == pytest.approx(-10.0)
    f1 = policy.PerformanceEvidence(window="w", metric="macro_f1", value=0.4, baseline=0.7, labelled=1, rows=1)
    assert policy.performance_shortfall(f1) == pytest.approx(0.3)


def test_every_task_metric_is_a_gate_metric_and_the_bundled_configs_use_their_task() -> None:
    assert set().union(*TASK_GATE_METRICS.values()) == set(GATE_METRICS)
    assert set(TASK_GATE_METRICS) == {t.value for t in TaskType}
    for name, task, metric in (("covertype", "multiclass", "macro_f1"), ("bike_sharing", "regression", "rmse")):
        config = load_config(CONFIGS / f"{name}.yaml")
        assert (config.task.value, config.promotion.primary_metric) == (task, metric)


@pytest.mark.parametrize(("file", "change", "message"), [
    ("bike_sharing.yaml", {"primary_metric": "accuracy"}, r"`promotion.primary_metric` is 'accuracy', which does not apply to a regression"),
    ("bike_sharing.yaml", {"guard_metrics": {"brier": 0.1}}, r"`promotion.guard_metrics` names \['brier'\].*regression"),
    ("covertype.yaml", {"primary_metric": "rmse"}, r"does not apply to a multiclass model; use one of accuracy, macro_f1"),
    ("covertype.yaml", {"guard_metrics": {"log_loss": 0.1}}, r"names \['log_loss'\], which do not apply to a multiclass"),
])
def test_gate_metrics_that_do_not_fit_the_task_are_refused(file: str, change: dict, message: str) -> None:
    data = yaml.safe_load((CONFIGS / file).read_text())
    data["promotion"].update(change)
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(data, file)
    assert file in str(info.value)


def test_a_class_metric_slo_on_an_error_scale_is_refused() -> None:
    data = yaml.safe_load((CONFIGS / "covertype.yaml").read_text())
    data["trigger"]["performance_slo"] = 110
    with pytest.raises(ConfigError, match=r"`trigger.performance_slo` is 110.*'macro_f1' lies between 0 and 1"):
        parse_config(data, "covertype.yaml")


def test_every_binary_gate_metric_is_measured_on_labelled_windows_so_the_policy_can_watch_it() -> None:
    """``primary_metric`` is also what the policy watches: a gate metric the evaluation never
    produced would leave the performance trigger silently blind."""
    from sklearn.metrics import average_precision_score

    binary = load_config(CONFIGS / "elec2.yaml")  # positive_label 1
    truth = pd.Series([1, 0, 1, 0, 1])
    scored = pd.DataFrame({"prediction": [1, 0, 0, 0, 1], "score": [0.9, 0.2, 0.4, 0.6, 0.7]})
    metrics = evaluate(binary, truth, scored)
    assert set(TASK_GATE_METRICS["binary"]) <= set(metrics)
    assert metrics["pr_auc"] == pytest.approx(average_precision_score(truth, scored["score"]))
