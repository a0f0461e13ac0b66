"""Each replay scenario does what its documentation says, reproducibly."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from driftpilot_demo import datasets, replay, scenarios
from driftpilot_demo.config import Scenario
from tests.fakes import ThresholdModel


@pytest.fixture(scope="module")
def source(elec2_config, elec2_demo) -> pd.DataFrame:
    return datasets.load_source(elec2_config, elec2_demo)


def with_scenarios(demo, *items: Scenario):
    return dataclasses.replace(demo, replay=dataclasses.replace(demo.replay, scenarios=items))


def day(config, demo, source, n):
    return replay.build_day(config, demo, source, n, "1", ThresholdModel("nswprice"))


def test_scenarios_are_active_only_in_their_days() -> None:
    items = [Scenario("nulls", 2, 4, {}), Scenario("volume_drop", 5, None, {})]
    assert [s.kind for _, s in scenarios.active(items, 1)] == []
    assert [s.kind for _, s in scenarios.active(items, 4)] == ["nulls"]
    assert [s.kind for _, s in scenarios.active(items, 50)] == ["volume_drop"]


def test_covariate_shift_moves_the_column_by_sigma(elec2_config, elec2_demo, source) -> None:
    demo = with_scenarios(elec2_demo, Scenario("covariate_shift", 3, 3, {"column": "nswdemand", "shift_sigma": 2.0}))
    base, _ = day(elec2_config, elec2_demo, source, 3)
    shifted, _ = day(elec2_config, demo, source, 3)
    delta = shifted["nswdemand"] - base["nswdemand"]
    assert delta.std() < 1e-9
    assert delta.mean() == pytest.approx(2.0 * base["nswdemand"].std(), rel=1e-6)


def test_gradual_decay_grows_each_day(elec2_config, elec2_demo, source) -> None:
    demo = with_scenarios(elec2_demo, Scenario("gradual_decay", 2, None, {"column": "nswdemand", "sigma_per_day": 0.5}))
    shifts = []
    for n in (2, 3, 4):
        base, _ = day(elec2_config, elec2_demo, source, n)
        moved, _ = day(elec2_config, demo, source, n)
        shifts.append((moved["nswdemand"] - base["nswdemand"]).mean() / base["nswdemand"].std())
    assert shifts == pytest.approx([0.5, 1.0, 1.5], rel=1e-6)


def test_concept_drift_flips_labels_of_the_segment_only(elec2_config, elec2_demo, source) -> None:
    demo = with_scenarios(
        elec2_demo, Scenario("concept_drift", 0, None, {"segment_column": "day_of_week", "segment_value": "3"})
    )
    rows = datasets.replay_rows(demo, source, 1)
    labels = scenarios.apply_to_labels(elec2_config, demo, rows, 1, seed=7)
    segment = rows["day_of_week"] == "3"
    assert segment.any()
    assert (labels[segment] != rows.loc[segment, "class"]).all()
    assert (labels[~segment] == rows.loc[~segment, "class"]).all()
    base_log, _ = day(elec2_config, elec2_demo, source, 1)
    drift_log, _ = day(elec2_config, demo, source, 1)
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
def test_data_quality_incidents(elec2_config, elec2_demo, source, scenario, check) -> None:
    demo = with_scenarios(elec2_demo, scenario)
    log, labels = day(elec2_config, demo, source, 6)
    assert check(log)
    again, _ = day(elec2_config, demo, source, 6)
    pd.testing.assert_frame_equal(log, again)  # reproducible by seed
    assert set(labels["prediction_id"]) <= set(log["prediction_id"])  # labels only for served rows
