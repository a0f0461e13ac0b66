"""Known answers, degenerate inputs and decisions of driftpilot's drift statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps

from driftpilot.adapters.parquet_lake import stats_from_parquet  # moved: the lake reads Parquet
from driftpilot.domain.drift import (
    ColumnStatus,
    DatasetStatus,
    DriftThresholds,
    Severity,
    chi_square_test,
    js_distance,
    ks_p_value,
    psi,
    score_window,
)
from driftpilot.domain.drift_stats import (
    CategoricalStats,
    NumericStats,
    accumulate,
    stats_from_frame,
)
from driftpilot.domain.profile import assign_numeric_bins, build_profile, cell_to_coarse_bin


def _score(reference: pd.DataFrame, window: pd.DataFrame, numeric=(), categorical=(), **kw):
    profile = build_profile(reference, tuple(numeric), tuple(categorical))
    return score_window(profile, stats_from_frame(window, profile, numeric, categorical), **kw)


def _json_ok(result) -> None:
    json.dumps(result.to_dict(), allow_nan=False)  # no NaN / inf anywhere


# --- known answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_ks_and_wasserstein_match_scipy_exactly_on_small_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = np.round(rng.normal(0, 1, 300), 1)  # ties on purpose
    win = np.round(rng.normal(0.3, 1.4, 120), 2)  # values between and beyond reference values
    result = _score(pd.DataFrame({"x": ref}), pd.DataFrame({"x": win}), numeric=["x"]).column("x")
    assert result.exact is True
    assert result.ks == pytest.approx(sps.ks_2samp(ref, win).statistic, abs=1e-12)
    assert result.wasserstein == pytest.approx(sps.wasserstein_distance(ref, win), rel=1e-9, abs=1e-12)
    assert result.wasserstein_norm == pytest.approx(result.wasserstein / ref.std(ddof=1))


def test_binned_ks_is_close_on_a_large_continuous_reference() -> None:
    rng = np.random.default_rng(1)
    ref, win = rng.normal(0, 1, 20_000), rng.normal(0.2, 1, 20_000)
    result = _score(pd.DataFrame({"x": ref}), pd.DataFrame({"x": win}), numeric=["x"]).column("x")
    assert result.exact is False
    true_ks = sps.ks_2samp(ref, win).statistic
    assert true_ks - 0.002 <= result.ks <= true_ks + 1e-12  # a lower bound within ~1/grid size
    assert result.wasserstein == pytest.approx(sps.wasserstein_distance(ref, win), rel=0.02)


def test_coarse_histogram_is_a_sum_of_grid_cells() -> None:
    values = np.random.default_rng(2).gamma(2.0, size=3_000)
    col = build_profile(pd.DataFrame({"x": values}), ("x",), ())["columns"]["x"]
    mapping = cell_to_coarse_bin(np.asarray(col["grid"]["edges"]), col["edges"])
    coarse = np.bincount(mapping, weights=col["grid"]["counts"], minlength=len(col["bin_counts"]))
    assert coarse.tolist() == col["bin_counts"]
    probe = np.array([-5.0, values.min(), *col["edges"], values.max(), 99.0])
    stats = stats_from_frame(pd.DataFrame({"x": probe}), {"columns": {"x": col}}, ["x"], [])
    win = stats.columns["x"]
    assert isinstance(win, NumericStats)
    expected = np.bincount(assign_numeric_bins(probe, col["low"], col["high"], col["edges"]),
                           minlength=len(col["bin_counts"]))
    assert np.bincount(mapping, weights=win.cell_counts, minlength=len(expected)).tolist() == expected.tolist()


def test_distance_known_values() -> None:
    a = np.array([10.0, 0.0])
    b = np.array([0.0, 10.0])
    assert js_distance(a, a) == 0.0
    assert js_distance(a, b) == pytest.approx(1.0)
    assert psi(a, a) == pytest.approx(0.0)
    p = np.array([5000.0, 5000.0])
    q = np.array([2500.0, 7500.0])
    assert psi(p, q) == pytest.approx((0.75 - 0.5) * np.log(0.75 / 0.5) + (0.25 - 0.5) * np.log(0.25 / 0.5),
                                      rel=1e-3)


def test_ks_p_value_agrees_with_scipy_asymptotics() -> None:
    for d, n, m in [(0.1, 500, 500), (0.2, 200, 5000), (0.02, 100_000, 100_000)]:
        ours = ks_p_value(d, n, m)
        theirs = sps.kstwobign.sf(d * np.sqrt(n * m / (n + m)))
        assert ours == pytest.approx(theirs, rel=0.25, abs=1e-4)


def test_chi_square_simulates_small_counts_and_flags_impossible_cells() -> None:
    _, p_same = chi_square_test(np.array([4990, 10]), np.array([199, 1]))
    assert p_same > 0.1
    _, p_new = chi_square_test(np.array([5000, 0]), np.array([190, 10]))
    assert p_new < 1e-3


# --- stream reading -----------------------------------------------------------------------------


def test_parquet_stream_equals_frame(tmp_path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=10_000), "c": rng.choice(["a", "b", None, "z"], 10_000)})
    frame.loc[::7, "x"] = np.nan
    profile = build_profile(frame.iloc[:3000], ("x",), ("c",))
    paths = []
    for i, part in enumerate(np.array_split(frame, 3)):
        path = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), path)
        paths.append(path)
    streamed = stats_from_parquet(paths, profile, ["x"], ["c"], batch_rows=777)
    direct = stats_from_frame(frame, profile, ["x"], ["c"])
    assert streamed.rows == direct.rows == 10_000
    sx, dx = streamed.columns["x"], direct.columns["x"]
    assert isinstance(sx, NumericStats) and isinstance(dx, NumericStats)
    assert (sx.count, sx.missing) == (dx.count, dx.missing)
    assert np.array_equal(sx.cell_counts, dx.cell_counts)
    assert sx.mean == pytest.approx(np.nanmean(frame["x"]))
    assert sx.std == pytest.approx(np.nanstd(frame["x"], ddof=1))
    sc, dc = streamed.columns["c"], direct.columns["c"]
    assert isinstance(sc, CategoricalStats) and isinstance(dc, CategoricalStats)
    assert (sc.counts.tolist(), sc.unseen, sc.missing) == (dc.counts.tolist(), dc.unseen, dc.missing)


def test_integer_and_dictionary_columns() -> None:
    ref = pd.DataFrame({"day": np.arange(700) % 7, "cat": pd.Categorical(list("abc") * 100 + ["a"] * 400)})
    profile = build_profile(ref, ("day",), ("cat",))
    result = score_window(profile, stats_from_frame(ref, profile, ["day"], ["cat"]))
    assert result.status is DatasetStatus.STABLE
    assert result.column("day").ks == 0.0
    assert result.column("cat").tvd == 0.0


# --- degenerate inputs --------------------------------------------------------------------------


def test_constant_reference_that_varies_later_is_strong_drift() -> None:
    ref = pd.DataFrame({"vicprice": np.full(2000, 0.003467)})
    win = pd.DataFrame({"vicprice": np.random.default_rng(4).uniform(0.0, 0.01, 300)})
    result = _score(ref, win, numeric=["vicprice"])
    col = result.column("vicprice")
    assert col.drifted and col.severity is Severity.HIGH
    assert col.ks is not None and col.ks > 0.5
    assert col.wasserstein_norm is not None and np.isfinite(col.wasserstein_norm)
    _json_ok(result)


def test_constant_reference_and_same_constant_window_is_stable() -> None:
    ref = pd.DataFrame({"k": np.full(500, 2.5)})
    result = _score(ref, pd.DataFrame({"k": np.full(50, 2.5)}), numeric=["k"])
    col = result.column("k")
    assert col.status is ColumnStatus.STABLE and col.ks == 0.0 and col.wasserstein_norm == 0.0
    _json_ok(result)


def test_single_category() -> None:
    ref = pd.DataFrame({"c": ["only"] * 1000})
    same = _score(ref, pd.DataFrame({"c": ["only"] * 100}), categorical=["c"]).column("c")
    assert same.status is ColumnStatus.STABLE and same.tvd == 0.0
    other = _score(ref, pd.DataFrame({"c": ["only"] * 50 + ["new"] * 50}), categorical=["c"]).column("c")
    assert other.drifted and other.unseen_share == 0.5 and other.severity is Severity.HIGH


def test_unseen_categories_are_counted_and_can_drift() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"c": rng.choice(list("abc"), 5000)})
    win = pd.DataFrame({"c": np.concatenate([rng.choice(list("abc"), 180), ["x", "y"] * 10])})
    col = _score(ref, win, categorical=["c"]).column("c")
    assert col.unseen_share == pytest.approx(0.1)
    assert col.drifted
    assert col.summary["top_unseen"] == {"x": 10, "y": 10}


def test_all_missing_window_is_drift_on_the_missing_rate() -> None:
    ref = pd.DataFrame({"x": np.random.default_rng(6).normal(size=1000)})
    result = _score(ref, pd.DataFrame({"x": [np.nan] * 200}), numeric=["x"])
    col = result.column("x")
    assert col.ks is None and col.wasserstein is None
    assert col.missing_rate_window == 1.0 and col.drifted and col.severity is Severity.HIGH
    _json_ok(result)


def test_all_missing_reference_column() -> None:
    ref = pd.DataFrame({"x": [np.nan] * 100})
    result = _score(ref, pd.DataFrame({"x": np.arange(50.0)}), numeric=["x"])
    col = result.column("x")
    assert col.ks is None and col.drifted
    _json_ok(result)


def test_empty_window_is_no_data_not_zero_drift(tmp_path) -> None:
    ref = pd.DataFrame({"x": np.arange(100.0), "c": list("ab") * 50})
    profile = build_profile(ref, ("x",), ("c",))
    for stats in (
        stats_from_frame(ref.iloc[:0], profile, ["x"], ["c"]),
        stats_from_parquet([], profile, ["x"], ["c"]),
        accumulate([], profile, ["x"], ["c"]),
    ):
        result = score_window(profile, stats)
        assert result.status is DatasetStatus.NO_DATA
        assert result.drift_share is None and result.health_score is None and not result.alarm
        assert all(c.status is ColumnStatus.NO_DATA for c in result.columns)
        _json_ok(result)


def test_values_beyond_the_reference_range_are_counted() -> None:
    ref = pd.DataFrame({"x": np.linspace(0, 1, 500)})
    win = pd.DataFrame({"x": np.concatenate([np.full(100, -3.0), np.full(100, 7.0)])})
    profile = build_profile(ref, ("x",), ())
    stats = stats_from_frame(win, profile, ["x"], [])
    col = stats.columns["x"]
    assert isinstance(col, NumericStats)
    assert col.cell_counts[0] == 100 and col.cell_counts[-1] == 100
    result = score_window(profile, stats).column("x")
    assert result.ks == 0.5 and result.drifted and result.severity is Severity.HIGH


# --- decisions ----------------------------------------------------------------------------------


def _ten_features(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(shift if i < 2 else 0.0, 1.0, n) for i in range(8)}
    data["c0"] = rng.choice(list("abcde"), n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    data["c1"] = rng.choice(list("xyz"), n)
    return pd.DataFrame(data)


NUM = tuple(f"x{i}" for i in range(8))
CAT = ("c0", "c1")


def test_half_sigma_shift_at_200_rows_is_flagged_and_stable_windows_are_not() -> None:
    rng = np.random.default_rng(7)
    profile = build_profile(_ten_features(rng, 5000), NUM, CAT)
    detected = sum(
        score_window(profile, stats_from_frame(_ten_features(rng, 200, 0.5), profile, NUM, CAT)).alarm
        for _ in range(20)
    )
    false_alarms = sum(
        score_window(profile, stats_from_frame(_ten_features(rng, 200), profile, NUM, CAT)).alarm
        for _ in range(40)
    )
    assert detected >= 18
    assert false_alarms <= 1


def test_tiny_shift_on_a_huge_window_is_real_but_not_drift() -> None:
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 200_000)})
    win = pd.DataFrame({"x": rng.normal(0.02, 1, 1_000_000)})
    col = _score(ref, win, numeric=["x"]).column("x")
    assert not col.drifted and col.severity is Severity.NONE
    assert col.ks is not None and col.ks < 0.05


def test_identical_window_scores_zero() -> None:
    rng = np.random.default_rng(9)
    ref = _ten_features(rng, 3000)
    result = _score(ref, ref, NUM, CAT)
    assert result.status is DatasetStatus.STABLE and result.health_score == 100
    for col in result.columns:
        assert col.psi == pytest.approx(0.0, abs=1e-12)
        assert col.jensen_shannon == pytest.approx(0.0, abs=1e-7)
        assert (col.ks or 0.0) == pytest.approx(0.0, abs=1e-12)
        assert (col.tvd or 0.0) == pytest.approx(0.0, abs=1e-12)


def test_ranking_health_and_share_use_importance() -> None:
    rng = np.random.default_rng(10)
    ref = _ten_features(rng, 5000)
    win = _ten_features(rng, 2000)
    win["x0"] += 0.3  # smaller effect, important feature
    win["x1"] += 1.0  # larger effect, unimportant feature
    importance = {c: 1.0 for c in (*NUM, *CAT)} | {"x0": 10.0, "x1": 0.1}
    result = _score(ref, win, NUM, CAT, importance=importance)
    assert result.ranking == ("x0", "x1")
    assert result.drift_share == pytest.approx(2 / 10)
    assert result.weighted_drift_share == pytest.approx(10.1 / (8 * 1.0 + 10.0 + 0.1))
    assert result.status is DatasetStatus.COLUMN_DRIFT and not result.dataset_drift
    assert 0 <= (result.health_score or 0) < 100
    equal = _score(ref, win, NUM, CAT)
    assert equal.ranking == ("x1", "x0")
    strict = _score(ref, win, NUM, CAT, thresholds=DriftThresholds(drift_share=0.2))
    assert strict.status is DatasetStatus.DATASET_DRIFT


def test_predictions_are_reported_apart() -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(size=2000), "score": rng.uniform(size=2000)})
    profile = build_profile(ref, ("x",), (), prediction_numeric=("score",))
    win = ref.assign(score=rng.uniform(0.5, 1.0, 2000))
    result = score_window(profile, stats_from_frame(win, profile, ["x", "score"], []))
    assert [c.column for c in result.columns] == ["x"]
    assert result.predictions[0].drifted and result.drift_share == 0.0


def test_infinities_count_as_missing_not_as_nan_scores() -> None:
    ref = pd.DataFrame({"x": np.r_[np.arange(100.0), np.inf]})
    profile = build_profile(ref, ("x",), ())
    assert profile["columns"]["x"]["missing"] == 1
    win = pd.DataFrame({"x": np.r_[np.arange(50.0), -np.inf, np.nan]})
    stats = stats_from_frame(win, profile, ["x"], [])
    col = stats.columns["x"]
    assert isinstance(col, NumericStats) and (col.count, col.missing) == (50, 2)
    _json_ok(score_window(profile, stats))
