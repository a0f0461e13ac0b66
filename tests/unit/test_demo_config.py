"""The demo's own settings (dataset, replay, label delays, scenarios): validated like the product's.

Moved from test_config.py when ``source:``/``replay:``/``scenarios`` left the product's model
config; every check it made on them is here.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from driftpilot.domain.config import load_all_configs
from driftpilot.errors import ConfigError
from driftpilot_demo.config import (
    DEMO_DIR,
    SCENARIO_KINDS,
    demo_spec,
    load_all_demos,
    load_demo,
)

ROOT = Path(__file__).resolve().parents[2]
ELEC2_DEMO = DEMO_DIR / "configs" / "elec2_updown.yaml"


@pytest.fixture()
def raw() -> dict:
    return yaml.safe_load(ELEC2_DEMO.read_text())


def write(tmp_path: Path, data: dict, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_demo_file_plays_a_product_model() -> None:
    demos = load_all_demos()
    products = load_all_configs(ROOT / "include" / "config")
    assert {"elec2_updown", "census_employment"} <= set(demos)
    assert set(demos) <= set(products)
    elec2 = demos["elec2_updown"]
    assert (elec2.source.dataset, elec2.source.train_rows, elec2.source.rows_per_day) == ("elec2", 13392, 336)
    assert (elec2.replay.start_date, elec2.replay.days, elec2.replay.seed) == ("2026-01-01", 30, 7)
    assert elec2.replay.label_delay.mean_hours == 30
    census = demos["census_employment"]
    assert (census.source.shuffle_within, census.replay.seed) == ("year", 11)
    assert census.replay.label_delay.distribution == "uniform"


def test_the_replay_starts_on_the_first_window_of_the_dags() -> None:
    products = load_all_configs(ROOT / "include" / "config")
    for name, demo in load_all_demos().items():
        assert demo.replay.start_date == products[name].window_start, name


def test_a_model_without_demo_settings_is_named() -> None:
    with pytest.raises(ConfigError, match=r"model 'my_model' has no demo settings.*--training-data"):
        demo_spec("my_model")


def test_negative_delay_is_rejected_with_its_key(tmp_path: Path, raw: dict) -> None:
    raw["replay"]["label_delay"]["mean_hours"] = -3
    with pytest.raises(ConfigError, match=r"`replay\.label_delay\.mean_hours` must be >= 0"):
        load_demo(write(tmp_path, raw))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["replay"].update(start_date="yesterday"), "ISO date"),
        (lambda d: d["replay"]["label_delay"].update(mean_hours=100, max_hours=10), "must be >= mean_hours"),
        (lambda d: d["replay"].update(scenarios=[{"kind": "meteor", "start_day": 1}]), "kind` must be one of"),
        (lambda d: d["replay"].update(scenarios=[{"kind": "nulls", "start_day": 4, "end_day": 2}]), "end_day"),
        (lambda d: d["source"].update(rows_per_day="many"), "`source.rows_per_day` must be a number"),
        (lambda d: d["source"].update(train_rows=10), "`source.train_rows` must be >= 50"),
        (lambda d: d["replay"].update(sed=3), "`replay.sed` is not a known setting"),
        (lambda d: d.pop("model"), "`model` is required but missing"),
    ],
)
def test_invalid_demo_settings_name_the_problem(tmp_path: Path, raw: dict, mutate, message: str) -> None:
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_demo(write(tmp_path, data))
    assert "demo.yaml" in str(info.value)


def test_scenarios_parse_with_their_days(tmp_path: Path, raw: dict) -> None:
    raw["replay"]["scenarios"] = [
        {"kind": "nulls", "start_day": 2, "end_day": 4, "params": {"column": "nswprice"}},
        {"kind": "volume_drop", "start_day": 5},
    ]
    demo = load_demo(write(tmp_path, raw))
    assert [(s.kind, s.start_day, s.end_day) for s in demo.replay.scenarios] == [("nulls", 2, 4), ("volume_drop", 5, None)]
    assert demo.replay.scenarios[0].params == {"column": "nswprice"}
    assert {s.kind for s in demo.replay.scenarios} <= set(SCENARIO_KINDS)


def test_two_demo_files_for_one_model_are_an_error(tmp_path: Path, raw: dict) -> None:
    write(tmp_path, raw, "a.yaml")
    write(tmp_path, raw, "b.yaml")
    with pytest.raises(ConfigError, match=r"b\.yaml: model 'elec2_updown' already has demo settings"):
        load_all_demos(tmp_path)
