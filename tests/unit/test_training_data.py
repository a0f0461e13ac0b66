"""The user's training data: validated against the config with errors that say what to fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftpilot.domain.training_data import (
    MIN_TRAINING_ROWS,
    original_training_key,
    prepare_training_data,
    training_columns,
    training_data_digest,
)
from driftpilot.errors import SchemaViolation


def frame(elec2_config, n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {c: rng.random(n) for c in elec2_config.features.numeric}
    data["day_of_week"] = rng.choice(["1", "2", "3"], n)
    data["class"] = rng.integers(0, 2, n)
    data["t"] = np.arange(n)  # a column the model does not use
    return pd.DataFrame(data)


def test_keeps_the_columns_training_needs_in_order(elec2_config) -> None:
    prepared = prepare_training_data(elec2_config, frame(elec2_config), "train.parquet")
    assert list(prepared.columns) == training_columns(elec2_config) == [*elec2_config.features.all, "class"]
    assert original_training_key("m") == "training/model=m/original.parquet"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["nswprice"]), r"train\.parquet: training data has no column\(s\) \['nswprice'\]"),
        (lambda f: f.assign(nswdemand="high"), r"numeric feature\(s\) \['nswdemand'\] hold non-numbers"),
        (lambda f: f.head(MIN_TRAINING_ROWS - 1), r"has 49 row\(s\); at least 50"),
        (lambda f: f.assign(**{"class": f["class"].where(f.index > 3)}), r"4 training row\(s\) have no `class`; drop them"),
        (lambda f: f.assign(**{"class": 1}), r"`class` holds a single class"),
    ],
)
def test_bad_training_data_names_the_problem(elec2_config, mutate, message: str) -> None:
    with pytest.raises(SchemaViolation, match=message):
        prepare_training_data(elec2_config, mutate(frame(elec2_config)), "train.parquet")


def test_mixed_category_types_become_one_key(elec2_config) -> None:
    data = frame(elec2_config).assign(day_of_week=[1, "1", 2.0, "3"] * 50)
    prepared = prepare_training_data(elec2_config, data, "t")
    assert set(prepared["day_of_week"]) == {"1", "2", "3"}


def test_digest_follows_the_content_not_the_index(elec2_config) -> None:
    a = prepare_training_data(elec2_config, frame(elec2_config), "t")
    shifted = a.set_axis(a.index + 100)
    assert training_data_digest(a) == training_data_digest(shifted)
    assert training_data_digest(a).startswith("sha256:")
    changed = a.assign(nswprice=a["nswprice"].where(a.index != 7, 0.123))
    assert training_data_digest(changed) != training_data_digest(a)
    assert training_data_digest(a.rename(columns={"period": "p"})) != training_data_digest(a)
