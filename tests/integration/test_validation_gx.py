"""Window validation with real Great Expectations over replayed Elec2 days and each scenario."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftpilot.adapters import sklearn_training as training
from driftpilot.adapters.gx_validation import (
    QUARANTINE_REASON,
    ValidationResult,
    raise_if_failed,
    validate_window,
    write_quarantine,
)
from driftpilot.adapters.parquet_lake import read_parquet
from driftpilot.domain.config import ModelConfig, load_config
from driftpilot.domain.contracts import PREDICTION, SCORE
from driftpilot.domain.profile import build_profile
from driftpilot.errors import DataQualityFailure
from driftpilot.settings import INCLUDE_DIR
from driftpilot_demo import datasets, replay
from driftpilot_demo.config import DemoSpec, Scenario, demo_spec

pytestmark = pytest.mark.integration


class FakeModel:
    """Enough of a classifier for ``training.predict``: a fixed logistic score of nswprice."""

    classes_ = np.array([0, 1])

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        price = np.nan_to_num(features["nswprice"].to_numpy(dtype=float), nan=0.05)
        positive = 1.0 / (1.0 + np.exp(-(price * 20.0 - 1.0)))
        return np.column_stack([1.0 - positive, positive])


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return load_config(INCLUDE_DIR / "config" / "elec2.yaml")


DEMO = demo_spec("elec2_updown")


@pytest.fixture(scope="module")
def source(config: ModelConfig) -> pd.DataFrame:
    return datasets.load_source(config, DEMO, seed=DEMO.replay.seed)


@pytest.fixture(scope="module")
def profile(config: ModelConfig, source: pd.DataFrame) -> dict[str, Any]:
    period = datasets.training_period(DEMO, source)
    reference = period.iloc[int(len(period) * 0.8):].reset_index(drop=True)
    reference = reference.join(training.predict(config, FakeModel(), reference))
    return build_profile(reference, config.features.numeric, config.features.categorical, (SCORE,), (PREDICTION,))


def _with(*scenarios: Scenario) -> DemoSpec:
    return dataclasses.replace(DEMO, replay=dataclasses.replace(DEMO.replay, scenarios=scenarios))


def _day(
    config: ModelConfig, source: pd.DataFrame, day: int, demo: DemoSpec = DEMO
) -> tuple[pd.DataFrame, datetime, datetime]:
    frame, _ = replay.build_day(config, demo, source, day, "1", FakeModel())
    served = replay.simulated_date(demo, day)
    start = datetime(served.year, served.month, served.day, tzinfo=UTC)
    return frame, start, start + timedelta(days=config.window_days)


def _validate(frame: pd.DataFrame, config: ModelConfig, profile: dict[str, Any], start: datetime,
              end: datetime, docs: Path | None = None) -> ValidationResult:
    result = validate_window(frame, config, profile, start, end, docs)
    assert result.rows_read == len(frame)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    assert len(result.accepted) == result.rows_accepted
    assert len(result.quarantined) == result.rows_quarantined
    if result.rows_quarantined:
        assert result.quarantined[QUARANTINE_REASON].str.len().min() > 0
    return result


def test_clean_day_passes_and_writes_docs(
    config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any], tmp_path: Path
) -> None:
    frame, start, end = _day(config, source, 0)
    result = _validate(frame, config, profile, start, end, tmp_path / "reports")
    assert result.rows_quarantined == 0 and not result.failed and result.failure_message == ""
    raise_if_failed(result)
    page = (tmp_path / "reports" / "validation.html").read_text()
    assert "elec2_updown" in page and "336 rows read" in page
    document = json.loads((tmp_path / "reports" / "validation.json").read_text())
    assert document["summary"]["rows_accepted"] == 336
    assert document["great_expectations"]["results"]
    outcomes = {e.rule_id: e for e in result.expectations}
    assert outcomes["plausible:score"].evaluated and outcomes["plausible:score"].success


def test_real_victoria_values_are_drift_not_bad_rows(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    # Days 12-29: real Victoria prices/demand/transfer after a constant reference (and 6,048 rows).
    frames = [_day(config, source, day) for day in range(12, 30)]
    frame = pd.concat([f for f, _, _ in frames], ignore_index=True)
    result = _validate(frame, config, profile, frames[0][1], frames[-1][2])
    assert result.rows_quarantined == 0 and not result.failed
    outcomes = {e.rule_id: e for e in result.expectations}
    assert outcomes["plausible:vicprice"].success
    reported = [e for e in result.expectations if e.action == "report" and e.unexpected_count]
    assert reported, "values outside the widened reference range are reported as drift signals"
    assert result.notes


def test_nulls_above_allowance_quarantine_and_fail(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    demo = _with(Scenario("nulls", 0, None, {"column": "nswprice", "share": 0.3}))
    frame, start, end = _day(config, source, 1, demo)
    nulls = int(frame["nswprice"].isna().sum())
    result = _validate(frame, config, profile, start, end)
    assert result.rows_quarantined == nulls > 0
    assert set(result.quarantined[QUARANTINE_REASON]) == {"expect_column_values_to_not_be_null(nswprice)"}
    assert result.failed and "expect_column_values_to_not_be_null(nswprice)" in result.failure_message
    with pytest.raises(DataQualityFailure, match=f"{nulls} of 336 rows"):
        raise_if_failed(result)


def test_few_nulls_are_kept_and_reported(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    demo = _with(Scenario("nulls", 0, None, {"column": "nswprice", "share": 0.05}))
    frame, start, end = _day(config, source, 1, demo)
    result = _validate(frame, config, profile, start, end)
    assert result.rows_quarantined == 0 and not result.failed
    assert any("not_null:nswprice" in note for note in result.notes)


def test_unseen_category_flood_is_quarantined(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    demo = _with(Scenario("unseen_category", 0, None, {"column": "day_of_week", "share": 0.5}))
    frame, start, end = _day(config, source, 2, demo)
    unseen = int((frame["day_of_week"] == "__unseen__").sum())
    result = _validate(frame, config, profile, start, end)
    assert result.rows_quarantined == unseen
    assert set(result.quarantined[QUARANTINE_REASON]) == {"expect_column_values_to_be_in_set(day_of_week)"}
    assert result.failed


def test_few_unseen_categories_are_drift(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    demo = _with(Scenario("unseen_category", 0, None, {"column": "day_of_week", "share": 0.05}))
    frame, start, end = _day(config, source, 2, demo)
    result = _validate(frame, config, profile, start, end)
    assert result.rows_quarantined == 0
    known = {e.rule_id: e for e in result.expectations}["known:day_of_week"]
    assert known.success and known.unexpected_count == int((frame["day_of_week"] == "__unseen__").sum()) > 0


@pytest.mark.parametrize(
    ("scenario", "column", "words"),
    [
        (Scenario("renamed_column", 0, None, {"column": "vicprice", "new_name": "vic_price"}),
         "vicprice", ["expect_column_to_exist(vicprice)", "vic_price"]),
        (Scenario("wrong_dtype", 0, None, {"column": "nswdemand"}),
         "nswdemand", ["expect_column_values_to_be_in_type_list(nswdemand)", "expected numeric"]),
    ],
)
def test_schema_break_quarantines_the_whole_window(
    config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any], tmp_path: Path,
    scenario: Scenario, column: str, words: list[str],
) -> None:
    demo = _with(scenario)
    frame, start, end = _day(config, source, 3, demo)
    result = _validate(frame, config, profile, start, end, tmp_path)
    assert result.rows_quarantined == 336 and result.rows_accepted == 0 and result.failed
    for word in words:
        assert word in result.quarantined[QUARANTINE_REASON].iloc[0]
        assert word in result.failure_message
    skipped = [e for e in result.expectations if not e.evaluated]
    assert skipped and all(e.column == column for e in skipped)
    path = write_quarantine(result, tmp_path / "lake", config.name, start.date())
    assert path is not None and len(read_parquet(path)) == 336


def test_duplicate_ids_keep_first(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    frame, start, end = _day(config, source, 4)
    repeats = frame.iloc[[5, 6, 7]].copy()
    repeats["score"] = 0.123  # the repeat differs: the first row still wins
    frame = pd.concat([frame, repeats, frame.iloc[[5]]], ignore_index=True)
    result = _validate(frame, config, profile, start, end)
    assert result.rows_quarantined == 4 and not result.failed
    assert result.accepted["prediction_id"].is_unique and len(result.accepted) == 336
    assert set(result.quarantined[QUARANTINE_REASON]) == {"expect_column_values_to_be_unique(prediction_id)"}
    first = result.accepted.set_index("prediction_id").loc[frame["prediction_id"].iloc[5], "score"]
    assert first != 0.123


def test_out_of_window_and_impossible_values(
    config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any], tmp_path: Path
) -> None:
    frame, start, end = _day(config, source, 5)
    frame.loc[[0, 1], "event_time"] = frame.loc[[0, 1], "event_time"] + pd.Timedelta(days=1)
    frame.loc[2, "event_time"] = pd.Timestamp(start) - pd.Timedelta(seconds=1)
    frame.loc[3, "event_time"] = pd.Timestamp(end)  # the end is exclusive
    frame.loc[10, "period"] = 1e9
    frame.loc[10, "nswprice"] = np.nan
    frame.loc[11, "transfer"] = np.inf
    frame.loc[12, "score"] = 1.5
    result = _validate(frame, config, profile, start, end)
    reasons = dict(zip(result.quarantined["prediction_id"], result.quarantined[QUARANTINE_REASON], strict=True))
    ids = frame["prediction_id"]
    for row in (0, 1, 2, 3):
        assert reasons[ids[row]] == "expect_column_values_to_be_between(event_time)"
    # a single null nswprice is within the allowance: the row goes for its period only
    assert reasons[ids[10]] == "expect_column_values_to_be_between(period)"
    assert reasons[ids[11]] == "expect_column_values_to_be_between(transfer)"
    assert reasons[ids[12]] == "expect_column_values_to_be_between(score)"
    assert result.rows_quarantined == 7 and not result.failed
    assert result.reason_counts["expect_column_values_to_be_between(event_time)"] == 4

    lake = tmp_path / "lake"
    path = write_quarantine(result, lake, config.name, start.date())
    assert path is not None and set(read_parquet(path)["prediction_id"]) == set(reasons)
    clean, _, _ = _day(config, source, 5)
    assert write_quarantine(_validate(clean, config, profile, start, end), lake, config.name, start.date()) is None
    assert not path.exists()


def test_volume_drop_passes(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    demo = _with(Scenario("volume_drop", 0, None, {"keep_share": 0.2}))
    frame, start, end = _day(config, source, 6, demo)
    result = _validate(frame, config, profile, start, end)
    assert 0 < result.rows_read < 120 and result.rows_quarantined == 0 and not result.failed


def test_empty_window(config: ModelConfig, source: pd.DataFrame, profile: dict[str, Any]) -> None:
    frame, start, end = _day(config, source, 7)
    result = _validate(frame.iloc[:0], config, profile, start, end)
    assert result.rows_read == 0 and not result.failed
