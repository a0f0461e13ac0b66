"""Each replay scenario does what its documentation says, reproducibly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from driftpilot.domain.config import Scenario
from driftpilot_demo import datasets, replay, scenarios
from tests.fakes import ThresholdModel

DATA = Path(__file__).resolve().parents[2] / "include" / "data"


@pytest.fixture(scope="module")
def source(elec2_config) -> pd.DataFrame:
    return datasets.load_source(elec2_config, DATA)


def with_scenarios(config, *items: Scenario):
    return dataclasses.replace(config, replay=dataclasses.replace(config.replay, scenarios=items))


def day(config, source, n):
    return replay.build_day(config, source, n, "1", ThresholdModel("nswprice"))


def test_scenarios_are_active_only_in_their_days() -> None:
    items = [Scenario("nulls", 2, 4, {}), Scenario("volume_drop", 5, None, {})]
    assert [s.kind for _, s in scenarios.active(items, 1)] == []
    assert [s.kind for _, s in scenarios.active(items, 4)] == ["nulls"]
    assert [s.kind for _, s in scenarios.active(items, 50)] == ["volume_drop"]


def test_covariate_shift_moves_the_column_by_sigma(elec2_config, source) -> None:
    config = with_scenarios(elec2_config, Scenario("covariate_shift", 3, 3, {"column": "nswdemand", "shift_sigma": 2.0}))
    base, _ = day(elec2_config, source, 3)
    shifted, _ = day(config, source, 3)
    delta = shifted["nswdemand"] - base["nswdemand"]
    assert delta.std() < 1e-9
    assert delta.mean() == pytest.approx(2.0 * base["nswdemand"].std(), rel=1e-6)


def test_gradual_decay_grows_each_day(elec2_config, source) -> None:
    config = with_scenarios(elec2_config, Scenario("gradual_decay", 2, None, {"column": "nswdemand", "sigma_per_day": 0.5}))
    shifts = []
    for n in (2, 3, 4):
        base, _ = day(elec2_config, source, n)
        moved, _ = day(config, source, n)
        shifts.append((moved["nswdemand"] - base["nswdemand"]).mean() / base["nswdemand"].std())
    assert shifts == pytest.approx([0.5, 1.0, 1.5], rel=1e-6)


def test_concept_drift_flips_labels_of_the_segment_only(elec2_config, source) -> None:
    config = with_scenarios(
        elec2_config, Scenario("concept_drift", 0, None, {"segment_column": "day_of_week", "segment_value": "3"})
    )
    rows = datasets.replay_rows(config, source, 1)
    labels = scenarios.apply_to_labels(config, rows, 1, seed=7)
    segment = rows["day_of_week"] == "3"
    assert segment.any()
    assert (labels[segment] != rows.loc[segment, "class"]).all()
    assert (labels[~segment] == rows.loc[~segment, "class"]).all()
    base_log, _ = day(elec2_config, source, 1)
    drift_log, _ = day(config, source, 1)
    pd.testing.assert_frame_equal(base_log, drift_log)  # inputs and predictions unchanged


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        (Scenario("nulls", 0, None, {"column": "nswprice", "share": 0.3}),
         lambda log: 0.15 < log["nswprice"].isna().mean() < 0.45),
        (Scenario("unseen_category", 0, None, {"column": "day_of_week", "share": 0.2, "value": "Funday"}),
         lambda log: 0.08 < (log["day_of_week"] == "Funday").mean() < 0.35),
        (Scenario("renamed_column", 0, None, {"column": "nswdemand", "new_name": "nsw_demand"}),
         lambda log: "nswdemand" not in log.columns and "nsw_demand" in log.columns),
        (Scenario("wrong_dtype", 0, None, {"column": "period"}),
         lambda log: log["period"].map(type).eq(str).all()),
        (Scenario("volume_drop", 0, None, {"keep_share": 0.1}),
         lambda log: 10 < len(log) < 70),
    ],
)
def test_data_quality_incidents(elec2_config, source, scenario, check) -> None:
    config = with_scenarios(elec2_config, scenario)
    log, labels = day(config, source, 6)
    assert check(log)
    again, _ = day(config, source, 6)
    pd.testing.assert_frame_equal(log, again)  # reproducible by seed
    assert set(labels["prediction_id"]) <= set(log["prediction_id"])  # labels only for served rows
