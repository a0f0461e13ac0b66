"""Promotion gate with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftpilot.composition import build_ports
from driftpilot.domain.gate import (
    comparison_markdown,
    evaluate_gate,
    metric_value,
    paired_bootstrap,
)


def test_metric_values_known_answers() -> None:
    y = np.array([1, 0, 1, 1])
    p = np.array([1, 0, 0, 1])
    s = np.array([0.9, 0.2, 0.4, 0.6])
    assert metric_value("accuracy", y, p, s) == 0.75
    assert metric_value("brier", y, p, s) == pytest.approx((0.01 + 0.04 + 0.36 + 0.16) / 4)
    assert metric_value("rmse", np.array([1.0, 3.0]), np.array([2.0, 1.0]), np.zeros(2)) == pytest.approx(np.sqrt(2.5))


def test_identical_models_have_a_zero_width_interval_at_zero() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    p = rng.integers(0, 2, 500)
    s = rng.random(500)
    point, low, high = paired_bootstrap("accuracy", y, (p, s), (p, s), 200, 0.95, seed=0)
    assert (point, low, high) == (0.0, 0.0, 0.0)


def test_paired_interval_contains_the_true_difference_and_is_seeded() -> None:
    # champion right on 70 % of rows, challenger right on the same rows plus 10 % more
    n = 1000
    y = np.ones(n, dtype=int)
    champion = (np.r_[np.ones(700), np.zeros(300)].astype(int), np.full(n, 0.6))
    challenger = (np.r_[np.ones(800), np.zeros(200)].astype(int), np.full(n, 0.6))
    point, low, high = paired_bootstrap("accuracy", y, champion, challenger, 1000, 0.95, seed=3)
    assert point == pytest.approx(0.1)
    assert low < 0.1 < high
    # the paired difference is a Bernoulli(0.1) mean: sd = sqrt(.1*.9/1000) ~ 0.0095
    assert high - low == pytest.approx(2 * 1.96 * np.sqrt(0.09 / n), rel=0.2)
    assert paired_bootstrap("accuracy", y, champion, challenger, 1000, 0.95, seed=3) == (point, low, high)


def test_gate_passes_a_clear_improvement_and_refuses_noise() -> None:
    n = 1000
    y = np.ones(n, dtype=int)
    champion = (np.r_[np.ones(700), np.zeros(300)].astype(int), np.full(n, 0.6))
    better = (np.r_[np.ones(800), np.zeros(200)].astype(int), np.full(n, 0.6))
    noisy = (np.r_[np.ones(698), np.zeros(5), np.ones(5), np.zeros(292)].astype(int), np.full(n, 0.6))
    kwargs = dict(metric="accuracy", truth=y, champion=champion, min_improvement=0.0, samples=500,
                  confidence=0.95, guard_metrics={})
    assert evaluate_gate(challenger=better, **kwargs).passed
    refused = evaluate_gate(challenger=noisy, **kwargs)
    assert not refused.passed
    assert "does not clear the margin" in refused.reasons[0]
    assert not evaluate_gate(challenger=better, **{**kwargs, "min_improvement": 0.2}).passed


def test_guard_and_segment_regressions_fail_the_gate() -> None:
    y = np.r_[np.ones(500), np.zeros(500)].astype(int)
    champion = (y.copy(), np.where(y == 1, 0.8, 0.2))
    flipped = y.copy()
    flipped[:60] = 0  # 60 errors, all in segment "a" (the first 100 rows); calibrated scores elsewhere
    challenger = (flipped, np.where(flipped == 1, 0.99, 0.01))
    segments = pd.DataFrame({"region": np.r_[np.full(100, "a"), np.full(900, "b")]})
    result = evaluate_gate(metric="accuracy", truth=y, champion=champion, challenger=challenger,
                           min_improvement=-1.0, samples=200, confidence=0.95,
                           guard_metrics={"brier": 0.01}, segments=segments, segment_tolerance=0.05)
    assert not result.passed
    failed = {g.name for g in result.guards if not g.passed}
    assert failed == {"brier", "accuracy[region=a]"}
    text = comparison_markdown(result, "m", "1", "v2")
    assert "Gate **FAILED**" in text and "accuracy[region=a]" in text


def test_lower_is_better_metrics_count_improvement_the_right_way() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0] * 50)
    champion = (y + 1.0, y + 1.0)
    challenger = (y + 0.5, y + 0.5)
    result = evaluate_gate(metric="rmse", truth=y, champion=champion, challenger=challenger,
                           min_improvement=0.1, samples=200, confidence=0.95, guard_metrics={"mae": 0.0})
    assert result.improvement == pytest.approx(0.5)
    assert result.passed


def test_retrain_request_times_are_utc() -> None:
    from datetime import UTC, datetime

    from driftpilot.usecases.retrain import RetrainRequest

    base = {"model": "m", "reason": "r", "window": "w", "idempotency_key": "k"}
    naive = RetrainRequest.from_dict({**base, "as_of": "2026-01-07"})
    shifted = RetrainRequest.from_dict({**base, "as_of": "2026-01-07T02:00:00+02:00"})
    assert naive.as_of == datetime(2026, 1, 7, tzinfo=UTC)
    assert shifted.as_of == naive.as_of and shifted.as_of.tzinfo == UTC


def test_failed_candidate_is_not_registered_unless_configured(elec2_config, tmp_path) -> None:
    import dataclasses
    from pathlib import Path

    from driftpilot.adapters import sqlite_store as history
    from driftpilot.settings import load_settings
    from driftpilot.usecases.retrain import RetrainRequest, register_step

    strict = dataclasses.replace(
        elec2_config, promotion=dataclasses.replace(elec2_config.promotion, register_failed_candidates=False))
    request = RetrainRequest.from_dict({"model": strict.name, "reason": "r", "window": "w",
                                        "as_of": "2026-01-07", "idempotency_key": "k"})
    # the evaluate step's verdict, as kept in driftpilot's store (register reads it there)
    db = tmp_path / "history.sqlite"
    history.record_gate_verdict(db, strict.name, "run-id", False, "digest", "1", "2026-01-07T00:00:00")
    evaluation = {"passed": False, "reasons": ["accuracy: ... does not clear the margin +0.0000"]}
    # returns before touching the registry: no MLflow store is needed (and none is created)
    settings = dataclasses.replace(load_settings(), mlflow_tracking_uri="sqlite:////nonexistent/dir/mlflow.db",
                                   metrics_db=db)
    result = register_step(strict, build_ports(settings), request, "run-id", evaluation)
    assert result["registered"] is False
    assert "does not clear the margin" in result["why"]
    assert not Path("/nonexistent/dir").exists()


# --- ranking and positive-class metrics, and the dummy baseline -------------------------------------------------


def _tied_scores(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, hard predictions and scores rounded to one decimal, so many scores tie."""
    y = rng.integers(0, 2, n)
    s = np.round(np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1), 1)
    return y, (s >= 0.5).astype(int), s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_and_f1_metrics_equal_scikit_learn_ties_included(seed: int) -> None:
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    y, p, s = _tied_scores(np.random.default_rng(seed), 400)
    assert metric_value("roc_auc", y, p, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert metric_value("pr_auc", y, p, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert metric_value("f1", y, p, s) == pytest.approx(f1_score(y, p), abs=1e-12)


def test_a_resample_is_scored_as_scikit_learn_scores_the_same_rows() -> None:
    """The bootstrap's weighted metrics are the metrics of the resampled rows (weights = multiplicities)."""
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    from driftpilot.domain.gate import _WEIGHTED, _resample_weights

    rng = np.random.default_rng(7)
    y, p, s = _tied_scores(rng, 150)
    idx = rng.integers(0, 150, size=(5, 150))
    weights = _resample_weights(idx, 150)
    for metric, reference in (("roc_auc", lambda r: roc_auc_score(y[r], s[r])),
                              ("pr_auc", lambda r: average_precision_score(y[r], s[r])),
                              ("f1", lambda r: f1_score(y[r], p[r]))):
        got = _WEIGHTED[metric](y, p, s, weights)
        assert got == pytest.approx([reference(row) for row in idx], abs=1e-12), metric


def test_an_auc_gate_passes_a_better_ranking_and_its_interval_is_seeded() -> None:
    rng = np.random.default_rng(5)
    n = 800
    y = rng.integers(0, 2, n)
    weak = np.clip(0.15 * y + rng.random(n) * 0.85, 0, 1)
    strong = np.clip(0.5 * y + rng.random(n) * 0.5, 0, 1)
    kwargs = dict(metric="roc_auc", truth=y, champion=((weak > 0.5).astype(int), weak), min_improvement=0.01,
                  samples=300, confidence=0.95, guard_metrics={"pr_auc": 0.0})
    result = evaluate_gate(challenger=((strong > 0.5).astype(int), strong), **kwargs)
    assert result.passed and result.challenger > result.champion
    assert result.ci_low < result.improvement < result.ci_high
    assert evaluate_gate(challenger=((strong > 0.5).astype(int), strong), **kwargs) == result
    assert not evaluate_gate(challenger=((weak > 0.5).astype(int), weak), **kwargs).passed


def test_an_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        metric_value("roc_auc", np.ones(10, dtype=int), np.ones(10, dtype=int), np.linspace(0, 1, 10))


def test_the_dummy_baselines_are_fitted_on_the_training_target() -> None:
    from driftpilot.domain.gate import dummy_baseline

    binary = dummy_baseline("binary", np.array([0, 0, 0, 1]), 3)
    assert binary.prediction.tolist() == [0, 0, 0] and binary.score.tolist() == [0.25] * 3
    multiclass = dummy_baseline("multiclass", np.array(["b", "a", "b"], dtype=object), 2)
    assert multiclass.prediction.tolist() == ["b", "b"]
    regression = dummy_baseline("regression", np.array([1.0, 2.0, 6.0]), 2)
    assert regression.prediction.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="empty"):
        dummy_baseline("binary", np.array([], dtype=int), 3)


def test_a_challenger_that_loses_to_always_negative_fails_however_much_it_beats_the_champion() -> None:
    """The held-out shape: positives vanish; accuracy rises for a model that rarely says positive."""
    from driftpilot.domain.gate import dummy_baseline

    n = 1000
    y = np.r_[np.ones(40), np.zeros(960)].astype(int)  # 4 % positives in the holdout
    champion = np.r_[np.ones(40), np.ones(200), np.zeros(760)].astype(int)   # accuracy 0.80
    challenger = np.r_[np.zeros(40), np.ones(50), np.zeros(910)].astype(int)  # accuracy 0.91, finds no positive
    dummy = dummy_baseline("binary", np.r_[np.ones(10), np.zeros(90)].astype(int), n)  # always negative: 0.96
    kwargs = dict(metric="accuracy", truth=y, champion=(champion, champion.astype(float)), min_improvement=0.0,
                  samples=300, confidence=0.95, guard_metrics={})
    without = evaluate_gate(challenger=(challenger, challenger.astype(float)), **kwargs)
    assert without.passed  # the old verdict: better than the champion with confidence
    result = evaluate_gate(challenger=(challenger, challenger.astype(float)), dummy=dummy, **kwargs)
    assert not result.passed
    assert result.dummy == pytest.approx(0.96) and "does not beat the dummy baseline" in " ".join(result.reasons)
    text = comparison_markdown(result, "m", "1", "v2")
    assert "Dummy baseline (majority class, class prior as score)" in text and "0.9600" in text
    assert result.to_dict()["dummy"] == pytest.approx(0.96)


def test_lower_is_better_metrics_compare_with_the_dummy_the_right_way_round() -> None:
    from driftpilot.domain.gate import dummy_baseline

    truth = np.array([1.0, 2.0, 3.0, 4.0] * 50)
    dummy = dummy_baseline("regression", truth, len(truth))  # mean 2.5: MAE 1.0
    good = truth + 0.1
    bad = truth[::-1].copy()
    kwargs = dict(metric="mae", truth=truth, champion=(bad, bad), min_improvement=0.0, samples=200,
                  confidence=0.95, guard_metrics={}, dummy=dummy)
    assert evaluate_gate(challenger=(good, good), **kwargs).passed
    worse_than_mean = truth + 1.5
    assert not evaluate_gate(challenger=(worse_than_mean, worse_than_mean), **kwargs).passed
