"""The bundled data and the replay split: no leakage, and the real drift lands in the replay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftpilot_demo import datasets

DATA = Path(__file__).resolve().parents[2] / "include" / "data"
VICTORIA_SWITCH_ROW = 17_424


def test_elec2_training_period_precedes_every_replayed_row(elec2_config) -> None:
    source = datasets.load_source(elec2_config, DATA)
    train = datasets.training_period(elec2_config, source)
    first_day = datasets.replay_rows(elec2_config, source, 0)
    assert train["t"].max() < first_day["t"].min()
    assert len(first_day) == elec2_config.source.rows_per_day


def test_elec2_victoria_switch_falls_inside_the_replay(elec2_config) -> None:
    source = datasets.load_source(elec2_config, DATA)
    train = datasets.training_period(elec2_config, source)
    # Constant fill throughout training: the initial model cannot have learned from Victoria.
    assert train["vicprice"].nunique() == 1
    switch_day = (VICTORIA_SWITCH_ROW - elec2_config.source.train_rows) // elec2_config.source.rows_per_day
    assert 0 < switch_day < elec2_config.replay.days
    before = datasets.replay_rows(elec2_config, source, switch_day - 1)
    after = datasets.replay_rows(elec2_config, source, switch_day)
    assert before["vicprice"].nunique() == 1
    assert after["vicprice"].nunique() > 100


def test_census_shuffle_is_seeded_and_stays_within_years(census_config) -> None:
    a = datasets.load_source(census_config, DATA, seed=11)
    b = datasets.load_source(census_config, DATA, seed=11)
    c = datasets.load_source(census_config, DATA, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["id"].equals(c["id"])
    assert a["year"].is_monotonic_increasing
    assert set(datasets.training_period(census_config, a)["year"]) == {2015}
    assert datasets.available_days(census_config, a) >= census_config.replay.days


def test_categorical_features_become_strings(census_config) -> None:
    source = datasets.load_source(census_config, DATA)
    assert all(isinstance(v, str) for v in source["SCHL"].dropna().head(50))
