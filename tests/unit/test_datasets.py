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


def _product_and_demo(name: str):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from driftpilot.domain.config import load_config
    from driftpilot_demo.config import demo_spec

    root = Path(__file__).resolve().parents[2]
    return load_config(root / "include" / "config" / f"{name}.yaml"), demo_spec(name)


def test_covertype_slice_is_the_documented_one_and_its_class_mix_shifts_in_the_replay() -> None:
    config, demo = _product_and_demo("covertype")
    source = datasets.load_source(config, demo)
    assert len(source) == 60_000 and source["t"].tolist() == list(range(220_000, 280_000))  # SOURCES.md
    assert set(source["cover_type"]) == {1, 2, 3, 4, 5, 6, 7} == set(config.classes)
    train = datasets.training_period(demo, source)
    assert train["t"].max() < datasets.replay_rows(demo, source, 0)["t"].min()
    assert datasets.available_days(demo, source) >= demo.replay.days
    late = pd.concat([datasets.replay_rows(demo, source, d) for d in range(20, 30)])
    ponderosa = (train["cover_type"] == 3).mean(), (late["cover_type"] == 3).mean()
    assert ponderosa[1] > 2 * ponderosa[0]  # ponderosa pine grows along the stream (9 % -> over 18 %)


def test_bike_sharing_trains_on_2011_and_replays_2012() -> None:
    config, demo = _product_and_demo("bike_sharing")
    source = datasets.load_source(config, demo)
    train = datasets.training_period(demo, source)
    assert set(train["timestamp"].dt.year) == {2011}
    replayed = pd.concat([datasets.replay_rows(demo, source, d) for d in range(demo.replay.days)])
    assert set(replayed["timestamp"].dt.year) == {2012}
    assert replayed["cnt"].mean() > 1.4 * train["cnt"].mean()  # demand grew: the drift the demo shows
    assert {"casual", "registered"}.isdisjoint(config.features.all)  # they sum to the target
