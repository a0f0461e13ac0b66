"""Pure parts of window validation: tolerances, rules, reasons, accounting (no Great Expectations)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters.gx_validation import (
    EXPECT_BETWEEN,
    EXPECT_EXIST,
    EXPECT_NOT_NULL,
    EXPECT_TYPE,
    EXPECT_UNIQUE,
    QUARANTINE_REASON,
    Rule,
    RuleAction,
    RuleRun,
    SchemaProblem,
    ValidationResult,
    allowed_null_share,
    build_rules,
    expected_range,
    failure_message,
    plausible_range,
    raise_if_failed,
    reasons_per_row,
    render_html,
    rows_to_quarantine,
    schema_problems,
    split_rows,
    write_quarantine,
)
from driftpilot.adapters.parquet_lake import read_parquet
from driftpilot.domain.config import ModelConfig, load_config
from driftpilot.errors import DataQualityFailure, SchemaViolation
from driftpilot.settings import INCLUDE_DIR

START = datetime(2026, 1, 5, tzinfo=UTC)
END = START + timedelta(days=1)


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return load_config(INCLUDE_DIR / "config" / "elec2.yaml")


def _numeric(low: float, high: float, missing: int = 0, count: int = 100) -> dict[str, Any]:
    return {"kind": "numeric", "low": low, "high": high, "count": count, "missing": missing}


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    return {
        "columns": {
            "period": _numeric(0.0, 1.0),
            "nswprice": _numeric(0.02, 0.33, missing=10, count=90),
            "nswdemand": _numeric(0.0, 0.67),
            "vicprice": _numeric(0.003467, 0.003467),
            "vicdemand": _numeric(0.4229, 0.4229),
            "transfer": _numeric(0.4149, 0.4149),
            "day_of_week": {"kind": "categorical", "count": 100, "missing": 0,
                            "frequencies": {str(d): 10 for d in range(1, 8)}},
        },
        "predictions": {"prediction": {"kind": "categorical", "frequencies": {"0": 60, "1": 40}}},
    }


def _log(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "prediction_id": [f"id-{i}" for i in range(n)],
        "event_time": pd.Timestamp(START) + pd.to_timedelta(np.arange(n), unit="h"),
        "model_name": "elec2_updown",
        "model_version": "1",
        "period": 0.5,
        "nswprice": 0.1,
        "nswdemand": 0.4,
        "vicprice": 0.003467,
        "vicdemand": 0.4229,
        "transfer": 0.4149,
        "day_of_week": "3",
        "prediction": 1,
        "score": 0.7,
    })


# --- tolerances ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("low", "high", "tolerance", "expected"),
    [
        (0.0, 1.0, 0.5, (-0.5, 1.5)),  # widened by tolerance x span
        (10.0, 20.0, 0.1, (9.0, 21.0)),
        (0.003467, 0.003467, 0.5, (0.003467 - 0.5, 0.003467 + 0.5)),  # constant: x max(|v|, 1)
        (-40.0, -40.0, 0.5, (-60.0, -20.0)),  # constant, |value| > 1
        (0.0, 1.0, 0.0, (0.0, 1.0)),
    ],
)
def test_expected_range(low: float, high: float, tolerance: float, expected: tuple[float, float]) -> None:
    assert expected_range(low, high, tolerance) == pytest.approx(expected)


def test_plausible_range_is_orders_of_magnitude_wide() -> None:
    assert plausible_range(0.0, 1.0) == pytest.approx((-10.0, 11.0))
    assert plausible_range(1000.0, 1010.0) == pytest.approx((1000.0 - 10_100.0, 1010.0 + 10_100.0))
    low, high = plausible_range(0.003467, 0.003467)
    assert low < 0 and high > 1.0  # Elec2's real Victoria prices (<= 1) stay plausible


@pytest.mark.parametrize(
    ("missing", "count", "max_failed", "expected"),
    [(0, 100, 0.2, 0.2), (10, 90, 0.2, 0.3), (0, 100, 0.0, 0.0), (90, 10, 0.2, 1.0)],
)
def test_allowed_null_share(missing: int, count: int, max_failed: float, expected: float) -> None:
    assert allowed_null_share({"missing": missing, "count": count}, max_failed) == pytest.approx(expected)
    assert allowed_null_share(None, max_failed) == pytest.approx(max_failed)


# --- rules -----------------------------------------------------------------------------------

def test_rules_derived_from_contract_and_profile(config: ModelConfig, profile: dict[str, Any]) -> None:
    rules = {r.rule_id: r for r in build_rules(config, profile, START, END)}
    assert len(rules) == len(build_rules(config, profile, START, END))  # ids are unique
    for column in ("prediction_id", "event_time", "model_name", "model_version", "prediction", "score"):
        assert rules[f"not_null:{column}"].mostly == 1.0
        assert rules[f"not_null:{column}"].action is RuleAction.QUARANTINE
    assert rules["not_null:period"].mostly == pytest.approx(0.8)
    assert rules["not_null:nswprice"].mostly == pytest.approx(0.7)  # reference had 10% missing
    assert rules["unique:prediction_id"].expectation == EXPECT_UNIQUE
    window = rules["window:event_time"].kwargs
    assert window["min_value"] == START and window["max_value"] == END and window["strict_max"]
    assert rules["plausible:score"].kwargs == {"min_value": 0.0, "max_value": 1.0}
    # vicprice is constant in the reference: its expected range only reports, never quarantines
    vic = rules["expected:vicprice"]
    assert vic.action is RuleAction.REPORT
    assert vic.kwargs["min_value"] == pytest.approx(0.003467 - 0.5)
    assert rules["plausible:vicprice"].action is RuleAction.QUARANTINE
    known = rules["known:day_of_week"]
    assert known.kwargs["value_set"] == [str(d) for d in range(1, 8)]
    assert known.mostly == pytest.approx(0.8)
    assert rules["known:prediction"].action is RuleAction.REPORT
    assert "plausible:latency_ms" not in rules


def test_rules_naive_window_is_utc_and_bounds_override(config: ModelConfig, profile: dict[str, Any]) -> None:
    naive = datetime(2026, 1, 5)
    rules = {r.rule_id: r for r in build_rules(
        config, profile, naive, naive + timedelta(days=1),
        plausible_bounds={"period": (0.0, 1.0), "nswprice": (0.0, None)}, optional_columns=["latency_ms"],
    )}
    assert rules["window:event_time"].kwargs["min_value"] == START
    assert rules["plausible:period"].kwargs == {"min_value": 0.0, "max_value": 1.0}
    assert rules["plausible:nswprice"].kwargs == {"min_value": 0.0}
    assert rules["plausible:latency_ms"].kwargs == {"min_value": 0.0}


def test_rule_label() -> None:
    rule = Rule("not_null:x", EXPECT_NOT_NULL, "x", {}, RuleAction.QUARANTINE)
    assert rule.label == "expect_column_values_to_not_be_null(x)"


# --- schema ----------------------------------------------------------------------------------

def test_schema_clean(config: ModelConfig) -> None:
    assert schema_problems(_log(), config) == []


def test_schema_renamed_column_names_the_new_name(config: ModelConfig) -> None:
    frame = _log().rename(columns={"vicprice": "vicprice_v2"})
    (problem,) = schema_problems(frame, config)
    assert problem.expectation == EXPECT_EXIST and problem.column == "vicprice"
    assert "column missing" in problem.reason and "vicprice_v2" in problem.reason


def test_schema_wrong_dtypes(config: ModelConfig) -> None:
    frame = _log()
    frame["nswprice"] = frame["nswprice"].map(lambda v: f"{v:.6g}")
    frame["event_time"] = frame["event_time"].astype(str)
    problems = {p.column: p for p in schema_problems(frame, config)}
    assert set(problems) == {"nswprice", "event_time"}
    assert problems["nswprice"].expectation == EXPECT_TYPE
    assert "6 of 6 values are strings" in problems["nswprice"].problem
    assert "expected a UTC timestamp" in problems["event_time"].problem


# --- accounting ------------------------------------------------------------------------------

def test_unique_keeps_first_occurrence() -> None:
    frame = pd.DataFrame({"prediction_id": ["a", "b", "a", "c", "a", "b"]})
    rule = Rule("unique:prediction_id", EXPECT_UNIQUE, "prediction_id", {}, RuleAction.QUARANTINE)
    run = RuleRun(success=False, evaluated=True, unexpected_count=5, unexpected_rows=[0, 1, 2, 4, 5])
    assert rows_to_quarantine(rule, run, frame).tolist() == [2, 4, 5]


@pytest.mark.parametrize(
    ("action", "success", "evaluated", "expected"),
    [
        (RuleAction.QUARANTINE, False, True, [1, 3]),
        (RuleAction.QUARANTINE, True, True, []),  # failures within the `mostly` allowance are kept
        (RuleAction.QUARANTINE, False, False, []),  # rule could not run
        (RuleAction.REPORT, False, True, []),  # drift signal: counted, kept
    ],
)
def test_rows_to_quarantine(action: RuleAction, success: bool, evaluated: bool, expected: list[int]) -> None:
    frame = pd.DataFrame({"x": [1.0, 99.0, 2.0, 98.0]})
    rule = Rule("r", EXPECT_BETWEEN, "x", {"max_value": 10.0}, action)
    run = RuleRun(success=success, evaluated=evaluated, unexpected_count=2, unexpected_rows=[3, 1])
    assert rows_to_quarantine(rule, run, frame).tolist() == expected


def test_reason_strings() -> None:
    flagged = [
        ("expect_column_values_to_not_be_null(nswprice)", np.array([0, 2])),
        ("expect_column_values_to_be_between(period)", np.array([2, 3])),
    ]
    assert reasons_per_row(5, [], flagged) == [
        "expect_column_values_to_not_be_null(nswprice)",
        "",
        "expect_column_values_to_not_be_null(nswprice); expect_column_values_to_be_between(period)",
        "expect_column_values_to_be_between(period)",
        "",
    ]
    schema = [SchemaProblem(EXPECT_EXIST, "vicprice", "column missing")]
    reasons = reasons_per_row(3, schema, flagged[:1])
    assert reasons[1] == "expect_column_to_exist(vicprice): column missing"
    assert reasons[0] == "expect_column_to_exist(vicprice): column missing; expect_column_values_to_not_be_null(nswprice)"


def test_split_rows_accounting() -> None:
    frame = pd.DataFrame({"x": range(5)}, index=[10, 11, 12, 13, 14])
    accepted, quarantined = split_rows(frame.reset_index(drop=True), ["", "bad", "", "", "worse"])
    assert accepted["x"].tolist() == [0, 2, 3]
    assert quarantined["x"].tolist() == [1, 4]
    assert quarantined[QUARANTINE_REASON].tolist() == ["bad", "worse"]
    assert len(accepted) + len(quarantined) == len(frame)


def test_failure_message() -> None:
    assert failure_message("m", START, 100, 20, 0.2, [], {"a(x)": 20}) == ""  # at the limit: passes
    message = failure_message("m", START, 100, 30, 0.2, [], {"a(x)": 25, "b(y)": 30})
    assert "30 of 100 rows (30.0%)" in message and "max_failed_row_share 0.2" in message
    assert message.index("b(y) 30 rows") < message.index("a(x) 25 rows")
    schema = [SchemaProblem(EXPECT_TYPE, "vicdemand", "dtype object, expected numeric")]
    message = failure_message("m", START, 10, 10, 1.0, schema, {})
    assert "breaks the inference-log schema" in message and "vicdemand" in message


# --- result, errors, outputs -----------------------------------------------------------------

def _result(quarantined_rows: int, failed: bool = False) -> ValidationResult:
    frame = _log(4)
    reasons = ["expect_column_values_to_be_between(period)"] * quarantined_rows + [""] * (4 - quarantined_rows)
    accepted, quarantined = split_rows(frame, reasons)
    return ValidationResult(
        model="elec2_updown", window_start=START, window_end=END, rows_read=4,
        rows_accepted=len(accepted), rows_quarantined=len(quarantined), accepted=accepted,
        quarantined=quarantined, expectations=(), schema_problems=(), max_failed_row_share=0.2,
        failed=failed, failure_message="boom <b>" if failed else "",
    )


def test_raise_if_failed() -> None:
    raise_if_failed(_result(0))
    with pytest.raises(DataQualityFailure, match="boom"):
        raise_if_failed(_result(2, failed=True))
    assert issubclass(DataQualityFailure, SchemaViolation)


def test_render_html_escapes() -> None:
    page = render_html(_result(2, failed=True))
    assert "boom &lt;b&gt;" in page and "<script" not in page and "http" not in page


def test_write_quarantine_is_idempotent(tmp_path: Path) -> None:
    day = date(2026, 1, 5)
    path = write_quarantine(_result(2), tmp_path, "elec2_updown", day)
    assert path == tmp_path / "quarantine" / "model=elec2_updown" / "date=2026-01-05" / "part-0.parquet"
    written = read_parquet(path)
    assert len(written) == 2 and set(written[QUARANTINE_REASON]) == {"expect_column_values_to_be_between(period)"}
    assert (path.parent / "summary.json").exists()
    assert write_quarantine(_result(0), tmp_path, "elec2_updown", day) is None
    assert not path.exists() and not path.parent.exists()


def test_module_does_not_import_great_expectations() -> None:
    code = "import sys, driftpilot.adapters.gx_validation; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_categories_the_model_saw_are_known_even_when_the_reference_sample_lacks_them(config: ModelConfig) -> None:
    """A retrained model's reference sample is its recent holdout: a day (or a season) it learned
    from may be absent there; its rows are valid data, not unseen categories to quarantine."""
    from driftpilot.domain.profile import build_profile

    reference = pd.DataFrame({"day_of_week": [1, 2, 3] * 10, "period": np.linspace(0, 1, 30)})
    seen = pd.DataFrame({"day_of_week": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0] * 5})  # another writer's dtype
    without = build_profile(reference, ("period",), ("day_of_week",))
    with_seen = build_profile(reference, ("period",), ("day_of_week",), seen=seen)
    assert "known" not in without["columns"]["day_of_week"]
    assert with_seen["columns"]["day_of_week"]["frequencies"] == without["columns"]["day_of_week"]["frequencies"]
    assert with_seen["columns"]["day_of_week"]["known"] == sorted(str(d) for d in range(1, 8))
    old = {r.rule_id: r for r in build_rules(config, without, START, END)}["known:day_of_week"]
    new = {r.rule_id: r for r in build_rules(config, with_seen, START, END)}["known:day_of_week"]
    assert old.kwargs["value_set"] == ["1", "2", "3"]  # a profile without `known`: the reference's
    assert new.kwargs["value_set"] == [str(d) for d in range(1, 8)]
