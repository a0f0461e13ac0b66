"""Statistical invariants of driftpilot's drift statistics, checked with hypothesis."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftpilot.domain.drift import js_distance, psi, score_window, tvd
from driftpilot.domain.drift_stats import CategoricalStats, NumericStats, WindowStats, accumulate
from driftpilot.domain.profile import build_profile

FAST = settings(max_examples=40, deadline=None)

floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe_float = st.one_of(floats, st.none())
category = st.one_of(st.sampled_from(["a", "b", "c", "new", "other"]), st.none())
counts = st.lists(st.integers(0, 1000), min_size=2, max_size=12)


def _frame(xs: list[float | None], cs: list[str | None]) -> pd.DataFrame:
    size = min(len(xs), len(cs))
    return pd.DataFrame({"x": pd.array(xs[:size], dtype="Float64").astype(float),
                         "c": pd.Series(cs[:size], dtype=object)})


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _same(a: WindowStats, b: WindowStats) -> None:
    assert a.rows == b.rows
    ax, bx = a.columns["x"], b.columns["x"]
    assert isinstance(ax, NumericStats) and isinstance(bx, NumericStats)
    assert (ax.count, ax.missing) == (bx.count, bx.missing)
    assert np.array_equal(ax.cell_counts, bx.cell_counts)
    assert np.allclose(ax.cell_sums, bx.cell_sums, rtol=1e-9, atol=1e-6)
    if ax.count:
        assert (ax.minimum, ax.maximum) == (bx.minimum, bx.maximum)
        assert ax.mean == pytest.approx(bx.mean, rel=1e-9, abs=1e-6)
        assert ax.m2 == pytest.approx(bx.m2, rel=1e-6, abs=1e-3)
    assert (ax.sample is None) == (bx.sample is None)
    if ax.sample is not None and bx.sample is not None:
        assert np.array_equal(np.sort(ax.sample), np.sort(bx.sample))
    ac, bc = a.columns["c"], b.columns["c"]
    assert isinstance(ac, CategoricalStats) and isinstance(bc, CategoricalStats)
    assert (ac.counts.tolist(), ac.unseen, ac.missing) == (bc.counts.tolist(), bc.unseen, bc.missing)
    assert dict(ac.unseen_names) == dict(bc.unseen_names)


reference_rows = st.lists(st.tuples(maybe_float, st.sampled_from(["a", "b", "c", None])), min_size=1, max_size=60)
window_rows = st.lists(st.tuples(maybe_float, category), min_size=0, max_size=80)


def _profile(rows: list[tuple[float | None, str | None]]) -> dict:
    ref = _frame([r[0] for r in rows], [r[1] for r in rows])
    return build_profile(ref, ("x",), ("c",))


@FAST
@given(reference_rows, window_rows, st.lists(st.integers(1, 80), max_size=6))
def test_streaming_equals_one_shot_for_any_split(ref_rows, win_rows, cuts) -> None:
    profile = _profile(ref_rows)
    frame = _frame([r[0] for r in win_rows], [r[1] for r in win_rows])
    whole = accumulate([_table(frame)], profile, ["x"], ["c"])
    bounds = sorted({0, len(frame), *(c for c in cuts if c < len(frame))})
    parts = [_table(frame.iloc[a:b]) for a, b in itertools.pairwise(bounds)]
    _same(accumulate(parts, profile, ["x"], ["c"]), whole)


@FAST
@given(reference_rows, window_rows, st.randoms(use_true_random=False))
def test_permutation_invariance(ref_rows, win_rows, rnd) -> None:
    profile = _profile(ref_rows)
    frame = _frame([r[0] for r in win_rows], [r[1] for r in win_rows])
    shuffled = frame.iloc[rnd.sample(range(len(frame)), len(frame))]
    a = score_window(profile, accumulate([_table(frame)], profile, ["x"], ["c"])).to_dict()
    b = score_window(profile, accumulate([_table(shuffled)], profile, ["x"], ["c"])).to_dict()
    for col_a, col_b in zip(a["columns"], b["columns"], strict=True):
        for key in ("drifted", "severity", "status"):
            assert col_a[key] == col_b[key]
        for key in ("ks", "tvd", "psi", "chi_square"):
            if col_a[key] is None or col_b[key] is None:
                assert col_a[key] is col_b[key] is None
            else:
                assert col_a[key] == pytest.approx(col_b[key], rel=1e-9, abs=1e-12)
        if col_a["wasserstein"] is not None:
            assert col_a["wasserstein"] == pytest.approx(col_b["wasserstein"], rel=1e-6, abs=1e-9)


@FAST
@given(reference_rows)
def test_identical_window_has_no_drift(ref_rows) -> None:
    profile = _profile(ref_rows)
    frame = _frame([r[0] for r in ref_rows], [r[1] for r in ref_rows])
    result = score_window(profile, accumulate([_table(frame)], profile, ["x"], ["c"]))
    assert not result.alarm
    for col in result.columns:
        assert col.psi == pytest.approx(0.0, abs=1e-9)
        assert (col.ks or 0.0) == pytest.approx(0.0, abs=1e-12)
        assert (col.wasserstein or 0.0) == pytest.approx(0.0, abs=1e-6 * (1 + abs(col.summary.get("mean") or 0)))
        assert (col.tvd or 0.0) == 0.0


@FAST
@given(reference_rows, window_rows)
def test_scores_are_finite_non_negative_and_bounded(ref_rows, win_rows) -> None:
    profile = _profile(ref_rows)
    frame = _frame([r[0] for r in win_rows], [r[1] for r in win_rows])
    result = score_window(profile, accumulate([_table(frame)], profile, ["x"], ["c"]))
    for col in result.columns:
        for key in ("psi", "jensen_shannon", "ks", "wasserstein", "wasserstein_norm", "tvd", "chi_square"):
            value = getattr(col, key)
            if value is not None:
                assert np.isfinite(value) and value >= -1e-12, (key, value)
        for key in ("jensen_shannon", "ks", "tvd", "p_value"):
            value = getattr(col, key)
            if value is not None:
                assert value <= 1 + 1e-12
    if result.health_score is not None:
        assert 0 <= result.health_score <= 100
    if result.drift_share is not None:
        assert 0 <= result.drift_share <= 1


@FAST
@given(reference_rows, st.lists(floats, max_size=40), st.lists(st.sampled_from(["zz", "yy", "a"]), max_size=40))
def test_out_of_range_and_unseen_are_counted(ref_rows, xs, cs) -> None:
    profile = _profile(ref_rows)
    col = profile["columns"]["x"]
    frame = pd.DataFrame({"x": pd.Series(xs, dtype=float), "c": pd.Series(["a"] * len(xs), dtype=object)})
    stats = accumulate([_table(frame)], profile, ["x"], ["c"]).columns["x"]
    assert isinstance(stats, NumericStats)
    assert int(stats.cell_counts.sum()) == len(xs)
    if col["count"]:
        assert stats.cell_counts[0] == sum(v < col["low"] for v in xs)
        assert stats.cell_counts[-1] == sum(v > col["high"] for v in xs)
    cats = pd.DataFrame({"x": np.zeros(len(cs)), "c": pd.Series(cs, dtype=object)})
    cstats = accumulate([_table(cats)], profile, ["x"], ["c"]).columns["c"]
    assert isinstance(cstats, CategoricalStats)
    known = set(profile["columns"]["c"]["frequencies"])
    assert cstats.unseen == sum(c not in known for c in cs)
    assert int(cstats.counts.sum()) + cstats.unseen == len(cs)


@FAST
@given(counts, counts)
def test_distances_non_negative_and_zero_on_identity(a, b) -> None:
    size = min(len(a), len(b))
    p, q = np.array(a[:size], dtype=float) + 1, np.array(b[:size], dtype=float) + 1
    assert psi(p, q) >= 0 and js_distance(p, q) >= 0 and tvd(p, q) >= 0
    assert psi(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_distance(p, 3 * p) == pytest.approx(0.0, abs=1e-7)
    assert 0 <= js_distance(p, q) <= 1 + 1e-12
