"""Replay determinism and delayed-label behaviour, with a fake model (no MLflow)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import parquet_lake as storage
from driftpilot_demo import datasets, replay
from driftpilot_demo.config import LabelDelay
from tests.fakes import ThresholdModel


@pytest.fixture(scope="module")
def source(elec2_config, elec2_demo) -> pd.DataFrame:
    return datasets.load_source(elec2_config, elec2_demo)


@pytest.fixture(scope="module")
def model() -> ThresholdModel:
    return ThresholdModel("nswprice")


def test_same_day_gives_identical_logs_and_labels(elec2_config, elec2_demo, source, model) -> None:
    log1, labels1 = replay.build_day(elec2_config, elec2_demo, source, 3, "1", model)
    log2, labels2 = replay.build_day(elec2_config, elec2_demo, source, 3, "1", model)
    pd.testing.assert_frame_equal(log1, log2)
    pd.testing.assert_frame_equal(labels1, labels2)


def test_different_days_and_seeds_differ(elec2_config, elec2_demo, source, model) -> None:
    _, labels_a = replay.build_day(elec2_config, elec2_demo, source, 3, "1", model)
    reseeded = dataclasses.replace(elec2_demo, replay=dataclasses.replace(elec2_demo.replay, seed=99))
    _, labels_b = replay.build_day(elec2_config, reseeded, source, 3, "1", model)
    assert not labels_a[replay.LABEL_TIME].equals(labels_b[replay.LABEL_TIME])


def test_inference_log_follows_the_contract(elec2_config, elec2_demo, source, model) -> None:
    from driftpilot.domain.contracts import check_inference_log

    log, _ = replay.build_day(elec2_config, elec2_demo, source, 0, "7", model)
    check_inference_log(log, elec2_config, "day 0")
    served = replay.simulated_date(elec2_demo, 0)
    assert log["prediction_id"].is_unique
    assert (log["event_time"].dt.date == served).all()
    assert log["event_time"].is_monotonic_increasing
    assert set(log["model_version"]) == {"7"}
    assert log["score"].between(0, 1).all()
    assert (log["latency_ms"] > 0).all()


def test_label_delays_respect_the_distribution_and_cap(elec2_config, elec2_demo, source, model) -> None:
    log, labels = replay.build_day(elec2_config, elec2_demo, source, 5, "1", model)
    spec = elec2_demo.replay.label_delay
    first = labels.sort_values("label_time").drop_duplicates("prediction_id", keep="first")
    merged = first.merge(log[["prediction_id", "event_time"]], on="prediction_id")
    delay_h = (merged["label_time"] - merged["event_time"]).dt.total_seconds() / 3600
    assert (delay_h >= 0).all()
    assert (delay_h <= spec.max_hours).all()
    # never-arriving share: 5 % configured, 336 rows -> expect roughly 17 missing
    missing_share = 1 - log["prediction_id"].isin(labels["prediction_id"]).mean()
    assert 0.01 < missing_share < 0.12
    assert abs(delay_h.median() - spec.mean_hours * np.log(2)) < spec.mean_hours * 0.5


def test_corrections_arrive_later_and_the_latest_label_is_the_truth(elec2_config, elec2_demo, source, model) -> None:
    heavy = dataclasses.replace(
        elec2_demo,
        replay=dataclasses.replace(
            elec2_demo.replay,
            label_delay=LabelDelay("exponential", 10, 48, never_share=0.0, correction_share=0.3, duplicate_share=0.2),
        ),
    )
    _log, labels = replay.build_day(elec2_config, heavy, source, 2, "1", model)
    truth = datasets.replay_rows(heavy, source, 2)[elec2_config.target].to_numpy()
    corrections = labels[labels["source"] == "correction"]
    assert len(corrections) > 50
    for pid, group in labels[labels["prediction_id"].isin(corrections["prediction_id"])].groupby("prediction_id"):
        group = group.sort_values("label_time")
        row = int(pid.rsplit("-", 1)[1])
        assert group["label"].iloc[0] != truth[row]
        assert group["label"].iloc[-1] == truth[row]
    assert labels["prediction_id"].duplicated().sum() > len(corrections)  # duplicates exist too
    latest = labels.sort_values("label_time").drop_duplicates("prediction_id", keep="last")
    rows = latest["prediction_id"].str.rsplit("-", n=1).str[1].astype(int)
    assert (latest["label"].to_numpy() == truth[rows.to_numpy()]).all()


def test_fixed_delay_distribution(elec2_config, elec2_demo, source, model) -> None:
    fixed = dataclasses.replace(
        elec2_demo,
        replay=dataclasses.replace(elec2_demo.replay, label_delay=LabelDelay("fixed", 6, 6, 0.0, 0.0, 0.0)),
    )
    log, labels = replay.build_day(elec2_config, fixed, source, 1, "1", model)
    merged = labels.merge(log[["prediction_id", "event_time"]], on="prediction_id")
    assert ((merged["label_time"] - merged["event_time"]) == timedelta(hours=6)).all()
    assert len(labels) == len(log)


def test_writing_a_day_twice_gives_the_same_files(elec2_config, elec2_demo, source, model, tmp_path: Path) -> None:
    log, labels = replay.build_day(elec2_config, elec2_demo, source, 4, "1", model)
    replay.write_day(elec2_config, elec2_demo, tmp_path, 4, log, labels)
    first = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    replay.write_day(elec2_config, elec2_demo, tmp_path, 4, log, labels)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet")) == first
    label_dirs = [tmp_path / "labels" / f"model={elec2_config.name}"]
    all_labels = storage.read_partitions(p for d in label_dirs for p in d.iterdir())
    assert len(all_labels) == len(labels)
    assert replay.day_is_written(elec2_config, elec2_demo, tmp_path, 4)


def test_replay_day_scores_with_the_current_champion_and_keeps_served_days(elec2_config, elec2_demo, source, tmp_path) -> None:
    champion = {"version": "1"}
    models = {"1": ThresholdModel("nswprice"), "2": ThresholdModel("nswdemand")}
    scorer = replay.ChampionScorer(lambda: champion["version"], models.__getitem__)
    first = replay.replay_day(elec2_config, elec2_demo, tmp_path, source, 0, scorer)
    champion["version"] = "2"  # a promotion happens between day 0 and day 1
    second = replay.replay_day(elec2_config, elec2_demo, tmp_path, source, 1, scorer)
    again = replay.replay_day(elec2_config, elec2_demo, tmp_path, source, 0, scorer)
    assert (first.model_version, second.model_version) == ("1", "2")
    assert again.skipped
    day0 = storage.read_parquet(tmp_path / "inference" / f"model={elec2_config.name}" / "date=2026-01-01" / "part-0.parquet")
    assert set(day0["model_version"]) == {"1"}
    rebuilt = replay.replay_day(elec2_config, elec2_demo, tmp_path, source, 0, scorer, rebuild=True)
    assert rebuilt.model_version == "2"
