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
