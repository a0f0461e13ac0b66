from __future__ import annotations

import numpy as np
import pandas as pd

from driftpilot.domain.profile import (
    assign_numeric_bins,
    build_profile,
    categorical_profile,
    numeric_profile,
)


def test_out_of_range_values_land_in_open_outer_bins() -> None:
    edges = [2.0, 4.0]
    bins = assign_numeric_bins(np.array([-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 9.0]), 1.0, 5.0, edges)
    assert bins.tolist() == [0, 1, 2, 2, 3, 3, 4]


def test_constant_reference_column_has_below_equal_above_bins() -> None:
    profile = numeric_profile(pd.Series([0.3] * 10))
    assert profile["edges"] == []
    assert profile["bin_counts"] == [0, 10, 0]
    bins = assign_numeric_bins(np.array([0.1, 0.3, 0.9]), profile["low"], profile["high"], profile["edges"])
    assert bins.tolist() == [0, 1, 2]


def test_missing_values_are_counted_not_dropped() -> None:
    num = numeric_profile(pd.Series([1.0, None, 3.0, np.nan]))
    cat = categorical_profile(pd.Series(["a", None, "b", "a"]))
    assert (num["count"], num["missing"]) == (2, 2)
    assert cat["missing"] == 1
    assert cat["frequencies"] == {"a": 2, "b": 1}


def test_profile_covers_features_and_predictions() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["u", "v"], 500),
                          "score": rng.random(500), "prediction": rng.integers(0, 2, 500)})
    profile = build_profile(frame, ("x",), ("c",), ("score",), ("prediction",))
    assert set(profile["columns"]) == {"x", "c"}
    assert set(profile["predictions"]) == {"score", "prediction"}
    assert sum(profile["columns"]["x"]["bin_counts"]) == 500
    assert len(profile["columns"]["x"]["quantiles"]) == 101
