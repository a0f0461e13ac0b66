"""The bundled data and the replay split: no leakage, and the real drift lands in the replay."""

from __future__ import annotations

import pandas as pd

from driftpilot_demo import datasets

VICTORIA_SWITCH_ROW = 17_424


def test_elec2_training_period_precedes_every_replayed_row(elec2_config, elec2_demo) -> None:
    source = datasets.load_source(elec2_config, elec2_demo)
    train = datasets.training_period(elec2_demo, source)
    first_day = datasets.replay_rows(elec2_demo, source, 0)
    assert train["t"].max() < first_day["t"].min()
    assert len(first_day) == elec2_demo.source.rows_per_day


def test_elec2_victoria_switch_falls_inside_the_replay(elec2_config, elec2_demo) -> None:
    source = datasets.load_source(elec2_config, elec2_demo)
    train = datasets.training_period(elec2_demo, source)
    # Constant fill throughout training: the initial model cannot have learned from Victoria.
    assert train["vicprice"].nunique() == 1
    switch_day = (VICTORIA_SWITCH_ROW - elec2_demo.source.train_rows) // elec2_demo.source.rows_per_day
    assert 0 < switch_day < elec2_demo.replay.days
    before = datasets.replay_rows(elec2_demo, source, switch_day - 1)
    after = datasets.replay_rows(elec2_demo, source, switch_day)
    assert before["vicprice"].nunique() == 1
    assert after["vicprice"].nunique() > 100


def test_census_shuffle_is_seeded_and_stays_within_years(census_config, census_demo) -> None:
    a = datasets.load_source(census_config, census_demo, seed=11)
    b = datasets.load_source(census_config, census_demo, seed=11)
    c = datasets.load_source(census_config, census_demo, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["id"].equals(c["id"])
    assert a["year"].is_monotonic_increasing
    assert set(datasets.training_period(census_demo, a)["year"]) == {2015}
    assert datasets.available_days(census_demo, a) >= census_demo.replay.days


def test_categorical_features_become_strings(census_config, census_demo) -> None:
    source = datasets.load_source(census_config, census_demo)
    assert all(isinstance(v, str) for v in source["SCHL"].dropna().head(50))
